// pw::notify: wakes tasks without passing data, with Tokio's semantics.
//
//   notify_one()      wakes the longest-waiting task; if none waits, stores one permit (at most
//                     one: repeated calls do not accumulate), which the next notified() consumes
//                     at once.
//   notify_waiters()  wakes every task waiting at that moment, including futures created by
//                     notified() before the call but not yet awaited; stores no permit.
//
// Waiters queue FIFO under a spin lock; each waiter's state is guarded by it while queued.
// notify_waiters() bumps a generation counter, which a notified() future records when it is
// created: a future whose generation is stale completes at once.
//
// Cancel safety: `co_await n.notified()` is cancel-safe, and a notification is never lost: a
// task aborted after notify_one() picked it, but before it ran, passes the notification on to
// the next waiter (or stores it as the permit), as Tokio does.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstdint>
#include <mutex>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/context.hpp"
#include "polarway/detail/spin_lock.hpp"
#include "polarway/sync/detail/wait_list.hpp"

namespace polarway {

class notify {
  struct waiter : detail::wait_link<waiter> {
    enum status : std::uint8_t { idle, queued, notified_one, notified_all, done };
    detail::task_cell* cell = nullptr;
    status state = idle;
  };

 public:
  notify() noexcept = default;
  notify(const notify&) = delete;
  notify& operator=(const notify&) = delete;
  ~notify() = default;  // no task may still wait on it

  class notified_awaiter {
   public:
    notified_awaiter(notify& n, std::uint64_t generation) noexcept : n_(n), generation_(generation) {}
    /// Movable until awaited (see check_awaiter_movable).
    notified_awaiter(notified_awaiter&& other) noexcept : n_(other.n_), generation_(other.generation_) {
      detail::check_awaiter_movable(other.registered_ || other.node_.state != waiter::idle, "notify::notified");
    }
    notified_awaiter(const notified_awaiter&) = delete;
    notified_awaiter& operator=(const notified_awaiter&) = delete;
    ~notified_awaiter() {
      if (registered_) {
        // Aborted while waiting: leave the queue, or pass on a notify_one() we were given but
        // did not get to see.
        std::lock_guard lock(n_.lock_);
        if (node_.linked)
          n_.waiters_.remove(&node_);
        else if (node_.state == waiter::notified_one)
          n_.notify_one_locked();
      } else if (node_.state == waiter::notified_one) {
        // Consumed the permit, then aborted in the cooperative yield: give it back.
        n_.notify_one();
      }
    }

    bool await_ready() const noexcept { return false; }

    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> caller) noexcept {
      detail::task_cell* self = detail::current_task_or_panic("notify::notified", wait_kind::lock, caller);
      std::lock_guard lock(n_.lock_);
      if (n_.permit_) {
        n_.permit_ = false;
        node_.state = waiter::notified_one;
      } else if (n_.generation_.load(std::memory_order_relaxed) != generation_) {
        node_.state = waiter::notified_all;
      } else {
        node_.cell = self;
        node_.state = waiter::queued;
        n_.waiters_.push_back(&node_);
        registered_ = true;
        return true;
      }
      if (detail::coop_consume()) return false;
      self->transition_to_notified();  // out of budget: yield once, the notification is ours
      return true;
    }

    void await_resume() noexcept {
      registered_ = false;
      node_.state = waiter::done;
    }

   private:
    notify& n_;
    std::uint64_t generation_;
    waiter node_;
    bool registered_ = false;  // queued and suspended; only this task writes it
  };

  /// A future that completes at the next notify_one() (or at once if a permit is stored), or at
  /// the next notify_waiters() called after this future was created.
  notified_awaiter notified() noexcept { return notified_awaiter(*this, generation_.load(std::memory_order_acquire)); }

  /// Wakes the longest-waiting task, or stores a permit for the next notified() if none waits.
  void notify_one() noexcept {
    std::lock_guard lock(lock_);
    notify_one_locked();
  }

  /// Wakes every task waiting now; stores no permit.
  void notify_waiters() noexcept {
    std::lock_guard lock(lock_);
    generation_.fetch_add(1, std::memory_order_release);
    while (waiter* w = waiters_.pop_front()) {
      w->state = waiter::notified_all;
      detail::wake(w->cell);
    }
  }

 private:
  void notify_one_locked() noexcept {
    if (waiter* w = waiters_.pop_front()) {
      w->state = waiter::notified_one;
      detail::wake(w->cell);
    } else {
      permit_ = true;
    }
  }

  detail::spin_lock lock_;
  detail::wait_list<waiter> waiters_;
  bool permit_ = false;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace polarway
