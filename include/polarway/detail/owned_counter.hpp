// owned_counter: a statistics counter that one thread writes (a worker counting its own
// events) and any thread may read (a metrics snapshot). The owner's increment is a relaxed load
// and store, not a locked read-modify-write: no other thread writes, so no increment is lost,
// and on x86-64 it costs what a plain `++` does. A reader sees some recent value; counters read
// one after another are not a consistent cut of the owner's state, which is all a metrics
// snapshot promises.
#pragma once

#include <atomic>
#include <cstdint>

namespace polarway::detail {

class owned_counter {
 public:
  /// Owner thread only.
  void add(std::uint64_t n = 1) noexcept { value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  /// Any thread.
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace polarway::detail
