// A non-blocking socket descriptor and the two ways of waiting on it. A socket operation
// first tries its syscall (MSG_DONTWAIT): data that is already there costs no kernel round
// trip. Only when the call would block does the task wait: on io_uring by submitting the same
// operation to the worker's ring (asking the kernel to wait for readiness before trying, since
// we just saw it fail), on epoll by waiting for the socket's next readiness event.
// On io_uring a read skips the syscall when the socket is probably empty: the ring's last
// receive on it said nothing more was queued (no IORING_CQE_F_SOCK_NONEMPTY). A
// request-response peer thus costs one submission per read, not a failing recv(2) plus a
// submission.
// A ready operation charges the cooperative budget, so a socket that always has data cannot
// starve the other tasks on the worker.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <type_traits>
#include <utility>

#include "polarway/detail/epoll_driver.hpp"
#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/yield.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

class socket_fd {
 public:
  socket_fd() noexcept = default;
  explicit socket_fd(int fd) noexcept : fd_(fd) {}
  socket_fd(socket_fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)), reg_(std::move(o.reg_)) {}
  socket_fd& operator=(socket_fd&& o) noexcept {
    if (this != &o) {
      close();
      fd_ = std::exchange(o.fd_, -1);
      reg_ = std::move(o.reg_);
    }
    return *this;
  }
  ~socket_fd() { close(); }

  int get() const noexcept { return fd_; }
  bool valid() const noexcept { return fd_ >= 0; }

  /// Whether the next read should skip its syscall attempt (io_uring only; see above).
  bool read_probably_empty() const noexcept { return read_probably_empty_; }
  void set_read_probably_empty(bool v) noexcept { read_probably_empty_ = v; }

  void close() noexcept {
    if (fd_ < 0) return;
    if (reg_) reg_->owner->deregister(fd_, std::move(reg_));
    ::close(fd_);
    fd_ = -1;
  }

  /// Gives the descriptor back without closing it: unregistered from epoll, still open, no
  /// longer this object's (for a descriptor someone else owns, as io::async_fd watches).
  int release() noexcept {
    if (fd_ < 0) return -1;
    if (reg_) reg_->owner->deregister(fd_, std::move(reg_));
    return std::exchange(fd_, -1);
  }

  /// The readiness record, registering the fd with the current worker's epoll on first use.
  result<readiness*> readiness_record() {
    if (!reg_) {
      auto r = current_reactor("socket").epoll().register_fd(fd_);
      if (!r) return err(r.error());
      reg_ = std::move(*r);
    }
    return reg_.get();
  }

 private:
  int fd_ = -1;
  bool read_probably_empty_ = false;
  std::unique_ptr<readiness> reg_;
};

// socket_call's `prep` for a call that must never run in the ring: on io_uring it waits with a
// poll for readiness, then makes the syscall again (as on epoll).
struct poll_then_retry {};

// One syscall on a socket, retried until it does not block. `attempt()` returns >= 0 or -errno
// (without blocking); `prep(sqe)` prepares the same call for io_uring, a recv or send (whose
// ioprio takes IORING_RECVSEND_POLL_FIRST), or is poll_then_retry.
template <class Attempt, class Prep>
task<result<std::size_t>> socket_call(socket_fd& s, io_direction dir, Attempt attempt, Prep prep, const char* what) {
  // Charge the budget before the attempt, never after it: a task aborted while yielding here
  // has consumed nothing (a yield after a successful recv would lose the bytes on abort).
  if (!coop_consume()) co_await yield_awaiter{};
  for (;;) {
    reactor& io = current_reactor(what);
    const bool use_ring = io.kind() == backend_kind::io_uring;
    std::uint64_t seen = 0;
    readiness* r = nullptr;
    if (!use_ring) {
      auto rr = s.readiness_record();
      if (!rr) co_return err(rr.error());
      r = *rr;
      seen = r->seq(dir);
    }
    const bool reading = dir == io_direction::read;
    constexpr bool call_in_ring = !std::is_same_v<Prep, poll_then_retry>;
    if (!(call_in_ring && use_ring && reading && s.read_probably_empty())) {
      const int res = attempt();
      if (res >= 0) {
        if (reading) s.set_read_probably_empty(false);
        co_return static_cast<std::size_t>(res);
      }
      if (res == -EINTR) continue;
      if (res != -EAGAIN && res != -EWOULDBLOCK) co_return err(error::from_errno(-res, what));
    }
    if constexpr (!call_in_ring) {
      if (use_ring) {
        const int fd = s.get();
        const auto events = reading ? POLLIN : POLLOUT;
        const int polled = co_await uring_op([fd, events](io_uring_sqe* sqe) { io_uring_prep_poll_add(sqe, fd, events); });
        if (polled < 0 && polled != -EINTR && polled != -EAGAIN) co_return err(error::from_errno(-polled, what));
        continue;
      }
    } else if (use_ring) {
      // We only get here when the call would block: have the kernel wait for readiness instead
      // of failing the same call once more.
      const bool poll_first = io.uring().has_poll_first();
      auto op = uring_op([&prep, poll_first](io_uring_sqe* sqe) {
        prep(sqe);
        if (poll_first) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
      });
      const int res = co_await op;
      if (reading) s.set_read_probably_empty(!(op.cqe_flags() & IORING_CQE_F_SOCK_NONEMPTY));
      if (res >= 0) co_return static_cast<std::size_t>(res);
      if (res == -EINTR || res == -EAGAIN) continue;
      co_return err(error::from_errno(-res, what));
    }
    co_await r->wait(dir, seen);
  }
}

}  // namespace polarway::detail
