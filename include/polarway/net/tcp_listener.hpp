// pw::net::tcp_listener: a listening TCP socket. Binding, listening and accepting are the one
// listener implementation shared with unix_listener (detail/stream_listener.hpp); on io_uring
// accepting is one multishot accept per listener (detail/accept_queue.hpp), on epoll accept4
// retried on readiness. accept() is cancel-safe: a task aborted while waiting takes no
// connection with it; a connection accepted after that stays queued for the next accept(). A
// listener may outlive the runtime's shutdown(), but, like every I/O object, not the runtime
// object itself.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <string_view>

#include "polarway/detail/socket_name.hpp"
#include "polarway/detail/stream_listener.hpp"
#include "polarway/detail/stream_socket.hpp"
#include "polarway/error.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/net/tcp_stream.hpp"
#include "polarway/result.hpp"

namespace polarway::net {

class tcp_listener : public detail::stream_listener<tcp_listener, tcp_stream> {
 public:
  tcp_listener() noexcept = default;

  /// Binds and listens on `addr` ("127.0.0.1:0" picks a free port).
  static result<tcp_listener> bind(std::string_view addr) {
    auto parsed = socket_addr::parse(addr);
    if (!parsed) return err(parsed.error());
    return bind(*parsed);
  }

  static result<tcp_listener> bind(const socket_addr& addr) { return bind_to(addr); }

  /// The address the listener is bound to (with the port the kernel chose for port 0).
  result<socket_addr> local_addr() const {
    return detail::query_name(fd_.get(), ::getsockname, socket_addr::from_native, "tcp_listener::local_addr");
  }

 private:
  friend class detail::stream_listener<tcp_listener, tcp_stream>;
  static constexpr detail::listener_op_names op_names{
      .bind = "tcp_listener::bind",
      .listen = "tcp_listener::listen",
      .accept = "tcp_listener::accept",
  };
};

}  // namespace polarway::net
