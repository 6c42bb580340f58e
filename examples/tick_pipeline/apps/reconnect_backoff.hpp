// The delays between one feed's connection attempts: a step that doubles after each failed
// attempt up to a cap and returns to the initial step once a session has delivered, each
// delay drawn with equal jitter from [step/2, step] (half fixed, half random, so that clients
// dropped together do not reconnect together). The random draws come from a seed, so a test
// can repeat them.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace ticks::app {

class reconnect_backoff {
 public:
  /// Requires initial_ms <= max_ms (the ingest's CLI refuses anything else).
  reconnect_backoff(std::uint64_t initial_ms, std::uint64_t max_ms, std::uint64_t seed) noexcept
      : initial_ms_(initial_ms), max_ms_(max_ms), step_ms_(initial_ms), rng_(seed) {}

  /// The current step: the largest delay next_delay() may return next ("retrying in about N ms").
  std::uint64_t step_ms() const noexcept { return step_ms_; }

  /// The delay before the next attempt; doubles the step (up to the cap) for the one after.
  std::chrono::milliseconds next_delay() noexcept {
    const std::uint64_t half = step_ms_ / 2;
    const std::uint64_t delay = step_ms_ - half + (half ? next_random() % (half + 1) : 0);
    step_ms_ = std::min(max_ms_, step_ms_ * 2);
    return std::chrono::milliseconds(delay);
  }

  /// A session delivered ticks: the next failure starts over from the initial step.
  void reset() noexcept { step_ms_ = initial_ms_; }

 private:
  // splitmix64: a full-period 64-bit generator, enough to spread reconnects.
  std::uint64_t next_random() noexcept {
    std::uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

  std::uint64_t initial_ms_;
  std::uint64_t max_ms_;
  std::uint64_t step_ms_;
  std::uint64_t rng_;
};

}  // namespace ticks::app
