// pw::io::async_fd: waits until a file descriptor that something else owns is ready, so that a
// C library with its own sockets (libcurl's multi-socket API, nats.c's event-loop hooks, a
// device, a pipe) can be driven by the runtime's reactor instead of a thread of its own. It
// never reads, writes or closes the descriptor: it only reports readiness, and the owner does
// the I/O, as with Tokio's AsyncFd.
//
// Readiness is level-triggered, with poll(2)'s meaning: readable() completes as soon as a
// read would not block (data, end of stream, a pending error or a hang-up all count), at once
// if that is already so; writable() likewise for a write. Each wait checks the descriptor
// first (one non-blocking poll), so a wait that follows a partial read never misses data that is
// already there. Both waits are cancel-safe (pw::race and pw::timeout may cancel them; nothing
// is consumed), and one task may wait for reading while another waits for writing.
//
// The descriptor must stay open while the async_fd exists (close it after destroying the
// async_fd: on the epoll backend the registration is removed at destruction), and no wait may
// be pending when the async_fd is destroyed or moved from. Waits must run on the runtime.
#pragma once

#include <fcntl.h>
#include <poll.h>

#include <cerrno>

#include "polarway/detail/socket.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::io {

class async_fd {
 public:
  async_fd() noexcept = default;
  async_fd(async_fd&&) noexcept = default;
  async_fd& operator=(async_fd&& o) noexcept {
    if (this != &o) {
      (void)fd_.release();
      fd_ = std::move(o.fd_);
    }
    return *this;
  }
  ~async_fd() { (void)fd_.release(); }

  /// Watches `fd`, which stays the caller's; bad_file_descriptor if it is not an open one.
  static result<async_fd> watch(int fd) {
    if (fd < 0 || ::fcntl(fd, F_GETFD) < 0) return err(error(std::errc::bad_file_descriptor, "async_fd::watch"));
    return async_fd(fd);
  }

  /// Completes when a read would not block (or at once if one would not now).
  task<result<void>> readable() { return wait(detail::io_direction::read, POLLIN, "async_fd::readable"); }
  /// Completes when a write would not block (or at once if one would not now).
  task<result<void>> writable() { return wait(detail::io_direction::write, POLLOUT, "async_fd::writable"); }

  /// The watched descriptor (-1 for a default-constructed or moved-from async_fd).
  int native_handle() const noexcept { return fd_.get(); }

 private:
  explicit async_fd(int fd) noexcept : fd_(fd) {}

  task<result<void>> wait(detail::io_direction dir, short events, const char* what) {
    const int fd = fd_.get();
    if (fd < 0) co_return err(error(std::errc::bad_file_descriptor, what));
    // POLLERR and POLLHUP are reported whatever was asked for, and count as ready: the owner's
    // next call sees the error or the end. POLLNVAL means the owner closed the descriptor.
    auto ready = co_await detail::socket_call(
        fd_, dir,
        [fd, events] {
          pollfd p{fd, events, 0};
          const int n = ::poll(&p, 1, 0);
          if (n < 0) return -errno;
          if (n == 0) return -EAGAIN;
          return (p.revents & POLLNVAL) ? -EBADF : 0;
        },
        detail::poll_then_retry{}, what);
    if (!ready) co_return err(ready.error());
    co_return ok();
  }

  detail::socket_fd fd_;
};

}  // namespace polarway::io
