// The umbrella header: everything public in polarway is reachable from here.
//   #include <polarway/runtime.hpp>
//   namespace pw = polarway;
#pragma once

#include "polarway/error.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_all.hpp"
#include "polarway/runtime/join_error.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/runtime/runtime.hpp"
#include "polarway/runtime/yield_now.hpp"
#include "polarway/task.hpp"
