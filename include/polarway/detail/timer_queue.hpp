// A worker's timers: the timer wheel behind a lock (a task that sleeps on one worker may be
// destroyed on another), and the clock conversions. Wheel time is whole milliseconds since a
// process-wide epoch on the steady clock; a deadline is rounded up to the next millisecond so
// that a timer never fires early.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>

#include "polarway/detail/task_cell.hpp"
#include "polarway/detail/timer_wheel.hpp"

namespace polarway::detail {

using clock = std::chrono::steady_clock;

inline clock::time_point clock_epoch() noexcept {
  static const clock::time_point epoch = clock::now();
  return epoch;
}

/// Wheel milliseconds at or after `t` (rounded up).
inline std::uint64_t wheel_ms_ceil(clock::time_point t) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - clock_epoch()).count();
  return ns <= 0 ? 0 : static_cast<std::uint64_t>((ns + 999'999) / 1'000'000);
}

/// Wheel milliseconds that have fully passed at `t` (rounded down).
inline std::uint64_t wheel_ms_floor(clock::time_point t) noexcept {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t - clock_epoch()).count();
  return ns <= 0 ? 0 : static_cast<std::uint64_t>(ns / 1'000'000);
}

/// A timer owned by an awaiter: what to do when it fires (by default, wake `cell`). `fire`
/// runs on the worker, under the timer lock.
struct timer_entry : timer_node {
  task_cell* cell = nullptr;
  void (*fire)(timer_entry*) noexcept = [](timer_entry* e) noexcept { wake(e->cell); };
};

class timer_queue {
 public:
  /// Adds a timer; false if its deadline has already passed in wheel time.
  bool insert(timer_entry* e) {
    std::lock_guard lock(mu_);
    return wheel_.insert(e);
  }

  /// Timers waiting to fire (any thread).
  std::size_t pending() {
    std::lock_guard lock(mu_);
    return wheel_.size();
  }

  /// Removes a timer that has not fired (no-op otherwise).
  void remove(timer_entry* e) {
    std::lock_guard lock(mu_);
    wheel_.remove(e);
  }

  /// Fires every timer due at `now`: wakes its task while holding the lock that remove() takes,
  /// so an awaiter being destroyed on another worker is either unlinked first or woken whole.
  void fire_due(clock::time_point now) {
    const std::uint64_t now_ms = wheel_ms_floor(now);
    std::lock_guard lock(mu_);
    if (wheel_.size() == 0) {
      wheel_.advance(now_ms, [](timer_node*) {});
      return;
    }
    wheel_.advance(now_ms, [](timer_node* n) {
      auto* e = static_cast<timer_entry*>(n);
      e->fire(e);
    });
  }

  /// Nanoseconds from `now` until the next timer is due, or -1 if none is pending.
  std::int64_t ns_until_next(clock::time_point now) {
    std::lock_guard lock(mu_);
    const option<std::uint64_t> next = wheel_.next_expiration();
    if (!next) return -1;
    const auto due = clock_epoch() + std::chrono::milliseconds(*next);
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(due - now).count();
    return ns > 0 ? ns : 0;
  }

 private:
  std::mutex mu_;
  timer_wheel wheel_;
};

}  // namespace polarway::detail
