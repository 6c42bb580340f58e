// Puts an idle worker thread to sleep and wakes it, without lost wake-ups: an unpark() that
// comes before park() makes that park() return at once. Built on C++20 atomic wait/notify,
// which is a futex on Linux.
#pragma once

#include <atomic>
#include <cstdint>

namespace polarway::detail {

class parker {
 public:
  /// Sleeps until unpark() is called (or returns at once if it already was).
  void park() noexcept {
    if (state_.exchange(empty, std::memory_order_acquire) == notified) return;
    std::uint32_t expected = empty;
    if (!state_.compare_exchange_strong(expected, parked, std::memory_order_acquire)) {
      state_.store(empty, std::memory_order_relaxed);  // notified in between
      return;
    }
    while (state_.load(std::memory_order_acquire) == parked) state_.wait(parked, std::memory_order_acquire);
    state_.store(empty, std::memory_order_relaxed);
  }

  /// Wakes the parked thread, or makes its next park() return immediately.
  void unpark() noexcept {
    if (state_.exchange(notified, std::memory_order_release) == parked) state_.notify_one();
  }

 private:
  static constexpr std::uint32_t empty = 0, parked = 1, notified = 2;
  std::atomic<std::uint32_t> state_{empty};
};

}  // namespace polarway::detail
