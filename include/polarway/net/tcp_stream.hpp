// pw::net::tcp_stream: a connected TCP socket. Reads and writes are awaited; read() returns 0
// at end of stream; read_exact()/write_all() loop over short transfers. Every kernel error is a
// pw::error carrying its errno and the operation's name ("tcp_stream::read"). Reading, writing
// and shutdown are the one stream implementation shared with unix_stream
// (detail/stream_socket.hpp); this header adds TCP's addresses and options. Cancel-safety:
// read and write are cancel-safe; read_exact and write_all are not (a prefix may be consumed
// or sent). One task may read while another writes; two concurrent readers (or writers) on one
// stream are not supported.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <string_view>

#include "polarway/detail/socket_name.hpp"
#include "polarway/detail/stream_listener.hpp"
#include "polarway/detail/stream_socket.hpp"
#include "polarway/error.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

class tcp_listener;

class tcp_stream : public detail::stream_socket<tcp_stream> {
 public:
  tcp_stream() noexcept = default;

  /// Connects to `addr` ("127.0.0.1:9000", "[::1]:80", "localhost:9000").
  static task<result<tcp_stream>> connect(std::string_view addr) {
    auto parsed = socket_addr::parse(addr);
    if (!parsed) co_return err(parsed.error());
    co_return co_await connect(*parsed);
  }

  static task<result<tcp_stream>> connect(socket_addr addr) { return connect_to(addr); }

  /// TCP_NODELAY: send small writes at once instead of coalescing them.
  result<void> set_nodelay(bool on) {
    const int v = on ? 1 : 0;
    if (::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
      return err(error::from_errno(errno, "tcp_stream::set_nodelay"));
    return ok();
  }

  result<socket_addr> peer_addr() const {
    return detail::query_name(fd_.get(), ::getpeername, socket_addr::from_native, "tcp_stream::peer_addr");
  }
  result<socket_addr> local_addr() const {
    return detail::query_name(fd_.get(), ::getsockname, socket_addr::from_native, "tcp_stream::local_addr");
  }

 private:
  friend class detail::stream_socket<tcp_stream>;
  friend class detail::stream_listener<tcp_listener, tcp_stream>;
  static constexpr detail::stream_op_names op_names{
      .connect = "tcp_stream::connect",
      .read = "tcp_stream::read",
      .write = "tcp_stream::write",
      .read_exact = "tcp_stream::read_exact",
      .write_all = "tcp_stream::write_all",
      .shutdown = "tcp_stream::shutdown",
  };

  explicit tcp_stream(detail::socket_fd fd) noexcept : stream_socket(std::move(fd)) {}
};

}  // namespace polarway::net
