// pw::sleep / pw::sleep_until: suspend the calling task until a deadline. The timer lives on
// the current worker's timer wheel; the task is never woken before the deadline (deadlines
// round up to the wheel's millisecond). Cancel-safe: a task aborted while sleeping unlinks its
// timer.
#pragma once

#include <chrono>
#include <coroutine>

#include "polarway/detail/scheduler.hpp"
#include "polarway/detail/timer_queue.hpp"

namespace polarway {

using steady_clock = std::chrono::steady_clock;

namespace detail {

class sleep_awaiter {
 public:
  explicit sleep_awaiter(clock::time_point deadline) noexcept : deadline_(deadline) {}
  /// When the sleep ends (pw::race arms a timer of its own for a raced sleep).
  clock::time_point deadline() const noexcept { return deadline_; }
  /// Movable until awaited (e.g. into pw::timeout); the timer is armed only in await_suspend.
  sleep_awaiter(sleep_awaiter&& other) noexcept : deadline_(other.deadline_) {}
  sleep_awaiter& operator=(sleep_awaiter&&) = delete;
  ~sleep_awaiter() {
    if (queue_) queue_->remove(&entry_);  // aborted while sleeping (no-op if it fired)
  }

  bool await_ready() const noexcept { return clock::now() >= deadline_ && coop_consume(); }

  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> caller) {
    task_cell* self = current_task_or_panic("pw::sleep", wait_kind::timer, caller);
    entry_.cell = self;
    entry_.deadline = wheel_ms_ceil(deadline_);
    timer_queue& q = tls_context.current_worker->timers;
    if (q.insert(&entry_)) {
      queue_ = &q;
      return true;
    }
    // Already due in wheel time; suspend only to give up an exhausted budget.
    if (coop_consume()) return false;
    self->transition_to_notified();
    return true;
  }

  void await_resume() const noexcept {}

 private:
  clock::time_point deadline_;
  timer_entry entry_;
  timer_queue* queue_ = nullptr;
};

}  // namespace detail

/// Suspends the calling task until `deadline` (never wakes before it).
inline detail::sleep_awaiter sleep_until(steady_clock::time_point deadline) noexcept {
  return detail::sleep_awaiter(deadline);
}

/// Suspends the calling task for at least `d`.
template <class Rep, class Period>
detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
  return detail::sleep_awaiter(steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(d));
}

}  // namespace polarway
