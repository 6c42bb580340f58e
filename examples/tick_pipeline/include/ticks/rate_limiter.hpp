// ticks::rate_limiter: a token bucket over messages, sans-I/O (the caller passes the time), for
// the WebSocket session rule "at most N incoming messages per second per connection". The feed
// simulator enforces it on what a client sends; the ingest paces what it sends itself (control
// requests, and pongs, which count too) with a stricter bucket, so that it stays under the
// exchange's limit whatever the exchange's exact window.
//
// Kept as a theoretical arrival time (the generic cell rate algorithm, equivalent to a token
// bucket of `burst` tokens refilled at `per_second`), in integer nanoseconds: no floating point,
// no drift. Invariant: over any span of t seconds, the messages admitted or charged number at
// most burst + per_second * t, plus those charged while the bucket was already empty (charge()
// records a message that went out regardless, such as a pong the codec queued itself; it delays
// the next admission by as much as it overdrew).
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>

namespace ticks {

class rate_limiter {
 public:
  /// `per_second` messages a second (>= 1), up to `burst` (>= 1) at once.
  rate_limiter(std::uint64_t per_second, std::uint64_t burst) noexcept
      : interval_ns_(static_cast<std::int64_t>(1'000'000'000 / std::max<std::uint64_t>(per_second, 1))),
        tolerance_ns_(interval_ns_ * static_cast<std::int64_t>(std::max<std::uint64_t>(burst, 1) - 1)) {}

  /// Admits one message at `now_ns` (a monotonic clock) if the bucket has a token, taking it.
  bool try_acquire(std::int64_t now_ns) noexcept {
    if (now_ns < next_free_ns(now_ns)) return false;
    charge(now_ns);
    return true;
  }

  /// Records a message sent at `now_ns` whether or not a token was free.
  void charge(std::int64_t now_ns) noexcept { tat_ns_ = std::max(tat_ns_, now_ns) + interval_ns_; }

  /// The earliest time, at or after `now_ns`, at which try_acquire() succeeds.
  std::int64_t next_free_ns(std::int64_t now_ns) const noexcept {
    return std::max(now_ns, tat_ns_ - tolerance_ns_);
  }

 private:
  std::int64_t interval_ns_;
  std::int64_t tolerance_ns_;
  std::int64_t tat_ns_ = std::numeric_limits<std::int64_t>::min() / 2;  // no message yet
};

}  // namespace ticks
