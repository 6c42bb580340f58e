// The umbrella header: everything public in polarway is reachable from here.
//   #include <polarway/runtime.hpp>
//   namespace pw = polarway;
#pragma once

#include "polarway/error.hpp"
#include "polarway/fs/file.hpp"
#include "polarway/fs/path_ops.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/net/tcp_listener.hpp"
#include "polarway/net/tcp_stream.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_all.hpp"
#include "polarway/runtime/join_error.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/detail/reactor.hpp"
#include "polarway/runtime/runtime.hpp"
#include "polarway/runtime/yield_now.hpp"
#include "polarway/task.hpp"
#include "polarway/time/interval.hpp"
#include "polarway/time/sleep.hpp"
#include "polarway/time/timeout.hpp"
