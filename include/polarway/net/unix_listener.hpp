// pw::net::unix_listener: a listening Unix-domain stream socket, the same listener as
// tcp_listener over another address family (detail/stream_listener.hpp: one multishot accept
// on io_uring, accept4 on readiness on epoll; accept() is cancel-safe). bind() takes a
// filesystem path, or a Linux abstract name when it starts with a NUL byte
// (std::string_view("\0name", 5); see detail/unix_address.hpp for the rules: a path is at most
// 107 bytes, longer is filename_too_long). Binding a path creates the socket file, and neither
// the listener nor its destruction removes it, as with Tokio and the standard libraries: a file
// left by an earlier run makes bind() fail with address_in_use, so remove a stale one first
// (std::filesystem::remove, or co_await pw::fs::remove). An abstract name leaves no file.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "polarway/detail/socket_name.hpp"
#include "polarway/detail/stream_listener.hpp"
#include "polarway/detail/unix_address.hpp"
#include "polarway/net/unix_stream.hpp"
#include "polarway/result.hpp"

namespace polarway::net {

class unix_listener : public detail::stream_listener<unix_listener, unix_stream> {
 public:
  unix_listener() noexcept = default;

  /// Binds and listens on `path` (a filesystem path that must not exist yet, or an abstract
  /// name starting with '\0').
  static result<unix_listener> bind(std::string_view path) {
    auto addr = detail::unix_address::from_name(path, op_names.bind);
    if (!addr) return err(addr.error());
    return bind_to(*addr);
  }

  /// The name the listener is bound to, as bind() took it (an abstract name with its '\0').
  result<std::string> local_path() const {
    return detail::query_name(fd_.get(), ::getsockname, detail::unix_address::name_of, "unix_listener::local_path");
  }

 private:
  friend class detail::stream_listener<unix_listener, unix_stream>;
  static constexpr detail::listener_op_names op_names{
      .bind = "unix_listener::bind",
      .listen = "unix_listener::listen",
      .accept = "unix_listener::accept",
  };
};

}  // namespace polarway::net
