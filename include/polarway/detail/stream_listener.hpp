// detail::stream_listener<Listener, Stream>: the one implementation of a listening stream
// socket, whatever its address family. tcp_listener and unix_listener derive from it and add
// only their address types; binding, listening and accepting are written once, here. On
// io_uring, accept() awaits the listener's accept_queue (one multishot accept, see
// accept_queue.hpp); on epoll, accept4 is retried on readiness. Either way accept() is
// cancel-safe: a task aborted while waiting (a lost race, say) takes no connection with it.
// Errors carry the derived type's operation names, which it lists in a
// `static constexpr listener_op_names op_names`.
#pragma once

#include <liburing.h>
#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include "polarway/detail/accept_queue.hpp"
#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/socket.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

/// The names a listener type's operations give their errors (string literals).
struct listener_op_names {
  const char* bind;
  const char* listen;
  const char* accept;
};

template <class Listener, class Stream>
class stream_listener {
 public:
  stream_listener(stream_listener&& o) noexcept : fd_(std::move(o.fd_)), queue_(std::exchange(o.queue_, nullptr)) {}
  stream_listener& operator=(stream_listener&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::move(o.fd_);
      queue_ = std::exchange(o.queue_, nullptr);
    }
    return *this;
  }
  ~stream_listener() { reset(); }

  /// Waits for the next connection.
  task<result<Stream>> accept() {
    const char* what = Listener::op_names.accept;
    auto& reactor = current_reactor(what);
    if (reactor.kind() == backend_kind::io_uring) {
      if (!queue_) queue_ = new accept_queue(fd_.get());
      accept_awaiter accepted(queue_, &reactor.uring(), what);
      const int fd = co_await accepted;
      if (fd < 0) co_return err(error::from_errno(-fd, what));
      co_return Stream(socket_fd(fd));
    }
    auto accepted = co_await socket_call(
        fd_, io_direction::read,
        [fd = fd_.get()] {
          const int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
          return c >= 0 ? c : -errno;
        },
        [](io_uring_sqe*) {}, what);
    if (!accepted) co_return err(accepted.error());
    co_return Stream(socket_fd(static_cast<int>(*accepted)));
  }

  /// The file descriptor (still owned by the listener).
  int native_handle() const noexcept { return fd_.get(); }

 protected:
  stream_listener() noexcept = default;

  /// A new socket bound to `addr` (a value with family(), native() and native_len()) and
  /// listening. TCP listeners set SO_REUSEADDR, so that a restarted server can bind its port
  /// while old connections linger in TIME_WAIT.
  template <class Address>
  static result<Listener> bind_to(const Address& addr) {
    const int fd = ::socket(addr.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return err(error::from_errno(errno, Listener::op_names.bind));
    Listener l;
    l.fd_ = socket_fd(fd);
    if (addr.family() != AF_UNIX) {
      const int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    }
    if (::bind(fd, addr.native(), addr.native_len()) < 0) return err(error::from_errno(errno, Listener::op_names.bind));
    if (::listen(fd, 1024) < 0) return err(error::from_errno(errno, Listener::op_names.listen));
    return l;
  }

  socket_fd fd_;

 private:
  void reset() noexcept {
    if (queue_) std::exchange(queue_, nullptr)->close();
    fd_.close();
  }

  accept_queue* queue_ = nullptr;
};

}  // namespace polarway::detail
