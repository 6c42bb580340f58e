// What the tests of the wake-up policy share: the runtime's count of parks ended by another
// thread's wake-up, and a busy wait that keeps a worker from suspending, long enough for an idle
// worker to park meanwhile.
#pragma once

#include <chrono>
#include <cstdint>

#include "polarway/runtime.hpp"

namespace pw_test {

/// Sum over the workers of runtime_metrics' notified_wakeups.
inline std::uint64_t notified_wakeups(polarway::runtime& rt) {
  std::uint64_t n = 0;
  for (const auto& w : rt.metrics().workers) n += w.notified_wakeups;
  return n;
}

/// Spins for `d` without suspending.
inline void busy_for(std::chrono::microseconds d) {
  const auto until = std::chrono::steady_clock::now() + d;
  while (std::chrono::steady_clock::now() < until) {
  }
}

}  // namespace pw_test
