// detail::stream_socket<Stream>: the one implementation of a connected stream socket, whatever
// its address family. tcp_stream and unix_stream derive from it and add only what belongs to
// their family (the address types, TCP_NODELAY); connecting, reading, writing, the loops over
// short transfers and shutdown are written once, here, on detail/socket.hpp's try-then-wait
// socket calls. Errors carry the derived type's operation names ("unix_stream::read"), which
// it lists in a `static constexpr stream_op_names op_names`.
//
// Cancel-safety: read and write are cancel-safe (an aborted read consumed nothing; an aborted
// write may have sent a prefix, as with any socket write); read_exact and write_all are not (a
// prefix may be consumed or sent). One task may read while another writes; two concurrent
// readers (or writers) on one stream are not supported.
#pragma once

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/socket.hpp"
#include "polarway/detail/transfer_all.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

/// The names a stream type's operations give their errors (string literals).
struct stream_op_names {
  const char* connect;
  const char* read;
  const char* write;
  const char* read_exact;
  const char* write_all;
  const char* shutdown;
};

template <class Stream>
class stream_socket {
 public:
  /// Reads at most buf.size() bytes; 0 means the peer closed its side.
  task<result<std::size_t>> read(std::span<std::byte> buf) {
    const int fd = fd_.get();
    return socket_call(
        fd_, io_direction::read,
        [fd, buf] {
          const ssize_t n = ::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
          return n >= 0 ? static_cast<int>(n) : -errno;
        },
        [fd, buf](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), 0); }, names().read);
  }

  /// Writes at most buf.size() bytes; returns how many were sent.
  task<result<std::size_t>> write(std::span<const std::byte> buf) {
    const int fd = fd_.get();
    return socket_call(
        fd_, io_direction::write,
        [fd, buf] {
          const ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
          return n >= 0 ? static_cast<int>(n) : -errno;
        },
        [fd, buf](io_uring_sqe* sqe) { io_uring_prep_send(sqe, fd, buf.data(), buf.size(), MSG_NOSIGNAL); },
        names().write);
  }

  /// Fills `buf` completely; unexpected_eof if the stream ends first.
  task<result<void>> read_exact(std::span<std::byte> buf) {
    return transfer_all(this, &stream_socket::read, buf, [] { return error(errc::unexpected_eof, names().read_exact); });
  }

  /// Sends all of `buf`; write_zero if the socket accepts no bytes.
  task<result<void>> write_all(std::span<const std::byte> buf) {
    return transfer_all(this, &stream_socket::write, buf, [] { return error(errc::write_zero, names().write_all); });
  }

  /// Shuts down the writing half (the peer reads end of stream); reading still works.
  task<result<void>> shutdown() {
    if (::shutdown(fd_.get(), SHUT_WR) < 0) co_return err(error::from_errno(errno, names().shutdown));
    co_return ok();
  }

  /// The file descriptor (still owned by the stream).
  int native_handle() const noexcept { return fd_.get(); }
  bool is_open() const noexcept { return fd_.valid(); }
  /// Closes the socket now (the destructor does it otherwise).
  void close() noexcept { fd_.close(); }

 protected:
  stream_socket() noexcept = default;
  explicit stream_socket(socket_fd fd) noexcept : fd_(std::move(fd)) {}

  /// Connects a new socket to `addr` (a value with family(), native() and native_len(), kept
  /// in this frame while the kernel reads it).
  template <class Address>
  static task<result<Stream>> connect_to(Address addr) {
    const char* what = names().connect;
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) co_return err(error::from_errno(errno, what));
    Stream s(socket_fd{fd});
    auto& reactor = current_reactor(what);
    if (reactor.kind() == backend_kind::io_uring) {
      const int res = co_await uring_op(
          [&](io_uring_sqe* sqe) { io_uring_prep_connect(sqe, fd, addr.native(), addr.native_len()); });
      if (res < 0) co_return err(error::from_errno(-res, what));
      co_return s;
    }
    auto r = s.fd_.readiness_record();
    if (!r) co_return err(r.error());
    const std::uint64_t seen = (*r)->seq(io_direction::write);
    if (::connect(fd, addr.native(), addr.native_len()) < 0) {
      // EINPROGRESS: a TCP handshake under way. Anything else is final, EAGAIN included (a
      // Unix listener whose backlog is full, as io_uring reports it too).
      if (errno != EINPROGRESS) co_return err(error::from_errno(errno, what));
      co_await (*r)->wait(io_direction::write, seen);
      int so_error = 0;
      socklen_t len = sizeof so_error;
      if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) < 0) co_return err(error::from_errno(errno, what));
      if (so_error != 0) co_return err(error::from_errno(so_error, what));
    }
    co_return s;
  }

  socket_fd fd_;

 private:
  static constexpr const stream_op_names& names() noexcept { return Stream::op_names; }
};

}  // namespace polarway::detail
