// pw::net::tcp_stream: a connected TCP socket. connect() takes a host name too, and tries each
// of its addresses in turn. Reads and writes are awaited; read() returns 0
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
#include <span>
#include <string_view>
#include <vector>

#include "polarway/detail/socket_name.hpp"
#include "polarway/detail/stream_listener.hpp"
#include "polarway/detail/stream_socket.hpp"
#include "polarway/error.hpp"
#include "polarway/net/lookup_host.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

class tcp_listener;

class tcp_stream : public detail::stream_socket<tcp_stream> {
 public:
  tcp_stream() noexcept = default;

  /// Connects to "host:port" ("127.0.0.1:9000", "[::1]:80", "localhost:9000",
  /// "example.com:443"): resolves it with lookup_host, then tries each address in turn, as
  /// Tokio does. The error is lookup_host's, or the last address's if none accepts. The text
  /// is checked and copied when connect is called.
  static task<result<tcp_stream>> connect(std::string_view host_and_port) {
    return connect_resolved(lookup_host(host_and_port));
  }

  /// Tries each of `addrs` in order and keeps the first connection; the last error if all fail
  /// (invalid_input if there are none). The addresses are copied when connect is called.
  static task<result<tcp_stream>> connect(std::span<const socket_addr> addrs) {
    return connect_each(std::vector<socket_addr>(addrs.begin(), addrs.end()));
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

  static task<result<tcp_stream>> connect_resolved(task<result<std::vector<socket_addr>>> lookup) {
    auto addrs = co_await std::move(lookup);
    if (!addrs) co_return err(addrs.error());
    co_return co_await connect_each(std::move(*addrs));
  }

  static task<result<tcp_stream>> connect_each(std::vector<socket_addr> addrs) {
    error last(errc::invalid_input, "tcp_stream::connect: no address to connect to");
    for (const socket_addr& addr : addrs) {
      auto s = co_await connect_to(addr);
      if (s) co_return std::move(*s);
      last = s.error();
    }
    co_return err(last);
  }
};

}  // namespace polarway::net
