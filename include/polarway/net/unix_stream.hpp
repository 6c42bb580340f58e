// pw::net::unix_stream: a connected Unix-domain stream socket, the same stream as tcp_stream
// over another address family: read() returns 0 at end of stream, read_exact()/write_all()
// loop over short transfers, every kernel error is a pw::error with its errno and the
// operation's name ("unix_stream::read"), with the same cancel-safety (detail/stream_socket.hpp
// is the one implementation). A name is a filesystem path, or a Linux abstract name when it
// starts with a NUL byte: std::string_view("\0name", 5) (see detail/unix_address.hpp for the
// rules). Connecting to a path where nothing exists gives no_such_file_or_directory, to a socket
// file nobody listens on connection_refused, and to a listener whose backlog is full
// resource_unavailable_try_again (EAGAIN), on both backends.
#pragma once

#include <sys/socket.h>

#include <string>
#include <string_view>

#include "polarway/detail/socket_name.hpp"
#include "polarway/detail/stream_listener.hpp"
#include "polarway/detail/stream_socket.hpp"
#include "polarway/detail/unix_address.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

class unix_listener;

class unix_stream : public detail::stream_socket<unix_stream> {
 public:
  unix_stream() noexcept = default;

  /// Connects to the listener at `path` (a filesystem path, or an abstract name starting with '\0').
  static task<result<unix_stream>> connect(std::string_view path) {
    auto addr = detail::unix_address::from_name(path, op_names.connect);
    if (!addr) co_return err(addr.error());
    co_return co_await connect_to(*addr);
  }

  /// The peer's name: the listener's path or abstract name.
  result<std::string> peer_path() const {
    return detail::query_name(fd_.get(), ::getpeername, detail::unix_address::name_of, "unix_stream::peer_path");
  }
  /// This end's name; "" for a connecting socket, which is unnamed.
  result<std::string> local_path() const {
    return detail::query_name(fd_.get(), ::getsockname, detail::unix_address::name_of, "unix_stream::local_path");
  }

 private:
  friend class detail::stream_socket<unix_stream>;
  friend class detail::stream_listener<unix_listener, unix_stream>;
  static constexpr detail::stream_op_names op_names{
      .connect = "unix_stream::connect",
      .read = "unix_stream::read",
      .write = "unix_stream::write",
      .read_exact = "unix_stream::read_exact",
      .write_all = "unix_stream::write_all",
      .shutdown = "unix_stream::shutdown",
  };

  explicit unix_stream(detail::socket_fd fd) noexcept : stream_socket(std::move(fd)) {}
};

}  // namespace polarway::net
