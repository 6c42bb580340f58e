// pw::net::tcp_stream: a connected TCP socket. connect() takes a host name too, and tries each
// of its addresses in turn. Reads and writes are awaited; read() returns 0
// at end of stream; read_exact()/write_all() loop over short transfers. Every kernel error is a
// pw::error carrying its errno and the operation's name ("tcp_stream::read"). Cancel-safety:
// read and write are cancel-safe (an aborted read consumed nothing; an aborted write may have
// sent a prefix, as with any socket write); read_exact and write_all are not (a prefix may be
// consumed or sent). One task may read while another writes; two concurrent readers (or
// writers) on one stream are not supported.
#pragma once

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <span>
#include <vector>

#include "polarway/detail/socket.hpp"
#include "polarway/error.hpp"
#include "polarway/net/lookup_host.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

class tcp_listener;

class tcp_stream {
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

  static task<result<tcp_stream>> connect(socket_addr addr) {
    constexpr const char* what = "tcp_stream::connect";
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) co_return err(error::from_errno(errno, what));
    tcp_stream s(detail::socket_fd{fd});
    auto& reactor = detail::current_reactor(what);
    if (reactor.kind() == backend_kind::io_uring) {
      const int res = co_await detail::uring_op(
          [&](io_uring_sqe* sqe) { io_uring_prep_connect(sqe, fd, addr.native(), addr.native_len()); });
      if (res < 0) co_return err(error::from_errno(-res, what));
      co_return s;
    }
    auto r = s.fd_.readiness_record();
    if (!r) co_return err(r.error());
    const std::uint64_t seen = (*r)->seq(detail::io_direction::write);
    if (::connect(fd, addr.native(), addr.native_len()) < 0) {
      if (errno != EINPROGRESS) co_return err(error::from_errno(errno, what));
      co_await (*r)->wait(detail::io_direction::write, seen);
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) co_return err(error::from_errno(errno, what));
      if (so_error != 0) co_return err(error::from_errno(so_error, what));
    }
    co_return s;
  }

  /// Reads at most buf.size() bytes; 0 means the peer closed its side.
  task<result<std::size_t>> read(std::span<std::byte> buf) {
    const int fd = fd_.get();
    return detail::socket_call(
        fd_, detail::io_direction::read,
        [fd, buf] {
          const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
          return n >= 0 ? static_cast<int>(n) : -errno;
        },
        [fd, buf](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); }, "tcp_stream::read");
  }

  /// Writes at most buf.size() bytes; returns how many were sent.
  task<result<std::size_t>> write(std::span<const std::byte> buf) {
    const int fd = fd_.get();
    return detail::socket_call(
        fd_, detail::io_direction::write,
        [fd, buf] {
          const ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
          return n >= 0 ? static_cast<int>(n) : -errno;
        },
        [fd, buf](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, buf.data(), buf.size(), MSG_NOSIGNAL); },
        "tcp_stream::write");
  }

  /// Fills `buf` completely; unexpected_eof if the stream ends first.
  task<result<void>> read_exact(std::span<std::byte> buf) {
    while (!buf.empty()) {
      auto n = co_await read(buf);
      if (!n) co_return err(n.error());
      if (*n == 0) co_return err(error(errc::unexpected_eof, "tcp_stream::read_exact"));
      buf = buf.subspan(*n);
    }
    co_return ok();
  }

  /// Sends all of `buf`.
  task<result<void>> write_all(std::span<const std::byte> buf) {
    while (!buf.empty()) {
      auto n = co_await write(buf);
      if (!n) co_return err(n.error());
      if (*n == 0) co_return err(error(errc::write_zero, "tcp_stream::write_all"));
      buf = buf.subspan(*n);
    }
    co_return ok();
  }

  /// Shuts down the writing half (the peer reads end of stream); reading still works.
  task<result<void>> shutdown() {
    if (::shutdown(fd_.get(), SHUT_WR) < 0) co_return err(error::from_errno(errno, "tcp_stream::shutdown"));
    co_return ok();
  }

  /// TCP_NODELAY: send small writes at once instead of coalescing them.
  result<void> set_nodelay(bool on) {
    const int v = on ? 1 : 0;
    if (::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &v, sizeof v) < 0)
      return err(error::from_errno(errno, "tcp_stream::set_nodelay"));
    return ok();
  }

  result<socket_addr> peer_addr() const { return name(::getpeername, "tcp_stream::peer_addr"); }
  result<socket_addr> local_addr() const { return name(::getsockname, "tcp_stream::local_addr"); }

  /// The file descriptor (still owned by the stream).
  int native_handle() const noexcept { return fd_.get(); }
  bool is_open() const noexcept { return fd_.valid(); }
  /// Closes the socket now (the destructor does it otherwise).
  void close() noexcept { fd_.close(); }

 private:
  friend class tcp_listener;
  explicit tcp_stream(detail::socket_fd fd) noexcept : fd_(std::move(fd)) {}

  static task<result<tcp_stream>> connect_resolved(task<result<std::vector<socket_addr>>> lookup) {
    auto addrs = co_await std::move(lookup);
    if (!addrs) co_return err(addrs.error());
    co_return co_await connect_each(std::move(*addrs));
  }

  static task<result<tcp_stream>> connect_each(std::vector<socket_addr> addrs) {
    error last(errc::invalid_input, "tcp_stream::connect: no address to connect to");
    for (const socket_addr& addr : addrs) {
      auto s = co_await connect(addr);
      if (s) co_return std::move(*s);
      last = s.error();
    }
    co_return err(last);
  }

  template <class Fn>
  result<socket_addr> name(Fn fn, const char* what) const {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    if (fn(fd_.get(), reinterpret_cast<sockaddr*>(&ss), &len) < 0) return err(error::from_errno(errno, what));
    return socket_addr::from_native(reinterpret_cast<sockaddr*>(&ss), len);
  }

  detail::socket_fd fd_;
};

}  // namespace polarway::net
