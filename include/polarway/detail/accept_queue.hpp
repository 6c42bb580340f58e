// detail::accept_queue: the io_uring accept engine of every listening stream socket (TCP and
// Unix alike). One multishot accept is armed on the ring of the worker that first awaits
// accept(): the kernel keeps posting accepted connections, which go straight to a waiting task
// or into a short queue. When the queue reaches `backlog_cap` the multishot is cancelled, and
// re-armed once tasks have drained the queue, so nothing queues without bound. A kernel
// without multishot accept (before Linux 5.19) gets one single-shot accept per connection
// instead, re-armed while tasks wait.
//
// Waiting tasks sit on the library's one intrusive waiter list (sync/detail/wait_list.hpp),
// under the queue's lock, with its rule: the queue unlinks a waiter and wakes its task under
// the lock, and an awaiter destroyed while still linked (its task was aborted) unlinks itself
// under the same lock, in O(1). A connection handed to a waiter whose task is aborted before it
// runs goes back to the front of the queue, so an aborted accept takes no connection with it:
// accept is cancel-safe, and can lose a race (against a stop token, say) without losing a
// connection. The queue is shared by the listener and the operation in flight, and freed when
// both are done with it: a listener may outlive the runtime's shutdown() (its multishot accept
// is cancelled when the workers stop), but, like every I/O object, not the runtime object.
#pragma once

#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <utility>

#include "polarway/detail/context.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/uring_driver.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway::detail {

class accept_queue : public uring_target {
 public:
  static constexpr std::size_t backlog_cap = 1024;

  explicit accept_queue(int listen_fd) noexcept : uring_target{&on_cqe}, listen_fd_(listen_fd) {}

  /// A task waiting for a connection: the queue fills `fd` (or `error`) and wakes `cell`. Its
  /// fields are guarded by the queue's lock while it is linked.
  struct waiter : wait_link<waiter> {
    task_cell* cell = nullptr;
    int fd = -1;
    int error = 0;
  };

  /// Takes a queued connection (>= 0), or -errno for a queued error, or -EAGAIN if none: then
  /// arms the accept on `ring` if needed, and links `w` (under the same lock).
  int take_or_wait(waiter* w, uring_driver& ring) {
    std::lock_guard lock(mu_);
    if (!ready_.empty()) {
      const int fd = ready_.front();
      ready_.pop_front();
      return fd;
    }
    if (pending_error_) return -std::exchange(pending_error_, 0);
    if (!armed_ && !closing_) arm(ring);
    waiters_.push_back(w);
    return -EAGAIN;
  }

  /// Unlinks a waiter that is being destroyed before it was served.
  void forget(waiter* w) {
    std::lock_guard lock(mu_);
    if (w->linked) waiters_.remove(w);
  }

  /// A connection handed to a waiter that was aborted before it ran goes back to the front of
  /// the queue, for the next accept().
  void give_back(int fd) {
    std::lock_guard lock(mu_);
    if (closing_)
      ::close(fd);
    else
      ready_.push_front(fd);
  }

  /// The listener goes away: stop the accept (on its own ring) and drop the listener's reference.
  void close() {
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      if (armed_) {
        if (armed_on_->owned_by_caller())
          armed_on_->cancel_now(uring_driver::target_key(this));
        else
          armed_on_->post_cancel(uring_driver::target_key(this), nullptr, nullptr, nullptr);
      }
    }
    release();
  }

 private:
  ~accept_queue() {
    for (int fd : ready_) ::close(fd);
  }

  void release() noexcept {
    if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }

  static void on_cqe(uring_target* self, int res, std::uint32_t flags) noexcept {
    static_cast<accept_queue*>(self)->deliver(res, flags);
  }

  void deliver(int res, std::uint32_t flags) noexcept {
    const bool more = (flags & IORING_CQE_F_MORE) != 0;
    {
      std::lock_guard lock(mu_);
      if (res >= 0) {
        if (closing_)
          ::close(res);
        else if (waiter* w = waiters_.pop_front())
          serve(w, res, 0);
        else
          ready_.push_back(res);
        if (more && !closing_ && ready_.size() >= backlog_cap) armed_on_->cancel_now(uring_driver::target_key(this));
      } else if (res != -ECANCELED && !closing_) {
        // A real accept error (EMFILE, ENFILE, ...): give it to a waiter, or keep it for the next.
        if (waiter* w = waiters_.pop_front())
          serve(w, -1, -res);
        else
          pending_error_ = -res;
      }
      if (!more) armed_ = false;
      // The accept ended (a single-shot one after its connection; a multishot one cancelled,
      // or on an error): re-arm for the waiters still here.
      if (!more && !closing_ && !waiters_.empty()) arm(*armed_on_);
    }
    if (!more) release();
  }

  // Under mu_: one accept on `ring` for this queue, holding a reference until its last CQE.
  // Multishot where the kernel has it (Linux 5.19); before, one connection per operation,
  // re-armed by deliver() while tasks wait (and connections wait in the kernel's backlog).
  void arm(uring_driver& ring) {
    armed_ = true;
    armed_on_ = &ring;
    refs_.fetch_add(1, std::memory_order_relaxed);
    ring.submit_target(this, [fd = listen_fd_, multishot = ring.has_multishot_accept()](io_uring_sqe* sqe) {
      if (multishot)
        io_uring_prep_multishot_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      else
        io_uring_prep_accept(sqe, fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    });
  }

  // Under mu_, which forget() takes: the waiter's frame is alive while it is linked.
  static void serve(waiter* w, int fd, int error) noexcept {
    w->fd = fd;
    w->error = error;
    wake(w->cell);
  }

  const int listen_fd_;
  std::mutex mu_;
  std::deque<int> ready_;
  int pending_error_ = 0;
  wait_list<waiter> waiters_;
  bool armed_ = false;
  bool closing_ = false;
  uring_driver* armed_on_ = nullptr;
  std::atomic<int> refs_{1};  // the listener's
};

/// `co_await accept_awaiter(queue, ring, what)`: the next connection from `queue` (arming the
/// accept on `ring` if needed), as a descriptor >= 0 or -errno. Movable until awaited, so that
/// it can be raced; destroyed while waiting, it leaves the queue, and destroyed after being
/// served but before it resumed, it gives the connection back.
class accept_awaiter {
 public:
  accept_awaiter(accept_queue* q, uring_driver* ring, const char* what) noexcept : q_(q), ring_(ring), what_(what) {}
  accept_awaiter(accept_awaiter&& other) noexcept : q_(other.q_), ring_(other.ring_), what_(other.what_) {
    check_awaiter_movable(other.awaited_, what_);
  }
  accept_awaiter(const accept_awaiter&) = delete;
  accept_awaiter& operator=(const accept_awaiter&) = delete;
  ~accept_awaiter() {
    if (!awaited_) return;
    q_->forget(&w_);
    if (!taken_ && w_.fd >= 0) q_->give_back(w_.fd);  // served, then aborted: keep the connection
  }

  bool await_ready() const noexcept { return false; }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) {
    w_.cell = current_task_or_panic(what_, wait_kind::io, caller);
    awaited_ = true;
    const int r = q_->take_or_wait(&w_, *ring_);
    if (r == -EAGAIN) return true;
    if (r >= 0)
      w_.fd = r;
    else
      w_.error = -r;
    if (coop_consume()) return false;
    w_.cell->transition_to_notified();  // ready, but out of budget: yield first
    return true;
  }

  int await_resume() noexcept {
    taken_ = true;
    return w_.fd >= 0 ? w_.fd : -w_.error;
  }

 private:
  accept_queue* q_;
  uring_driver* ring_;
  const char* what_;
  accept_queue::waiter w_{};
  bool awaited_ = false;
  bool taken_ = false;  // await_resume handed the connection to the task
};

}  // namespace polarway::detail
