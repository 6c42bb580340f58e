// pw::interval: ticks at a fixed period. The first tick completes at once; later ticks are
// `period` apart from the first, whatever the time spent between them (as Tokio's default,
// MissedTickBehavior::Burst: a tick that was missed fires immediately, and the schedule is
// kept).
#pragma once

#include <chrono>

#include "polarway/detail/panic.hpp"
#include "polarway/task.hpp"
#include "polarway/time/sleep.hpp"

namespace polarway {

class interval {
 public:
  /// A period of zero or less is a programming error and aborts with a message.
  template <class Rep, class Period>
  explicit interval(std::chrono::duration<Rep, Period> period)
      : period_(std::chrono::duration_cast<steady_clock::duration>(period)), next_(steady_clock::now()) {
    if (period_ <= steady_clock::duration::zero()) detail::panic("pw::interval", "the period must be positive");
  }

  /// Waits for the next tick; gives the time it was scheduled for.
  task<steady_clock::time_point> tick() {
    const steady_clock::time_point at = next_;
    next_ += period_;
    co_await sleep_until(at);
    co_return at;
  }

  steady_clock::duration period() const noexcept { return period_; }

 private:
  steady_clock::duration period_;
  steady_clock::time_point next_;
};

}  // namespace polarway
