// owned_counter: a statistics counter that one thread writes (a worker counting its own
// events) and any thread may read (a metrics snapshot). The owner's increment is not a locked
// read-modify-write: no other thread writes, so no increment is lost. A reader sees some recent
// value; counters read one after another are not a consistent cut of the owner's state, which is
// all a metrics snapshot promises.
//
// On x86-64 the increment is one `add` to memory, what a plain `++` compiles to. Written as a
// relaxed load and store of the atomic, it takes three instructions: compilers do not merge
// atomic accesses. The `add` stores the whole aligned 8-byte value at once, so a reader's
// relaxed load sees the old value or the new one. Under TSan, and elsewhere, it is the load and
// store, which the tools can see.
#pragma once

#include <atomic>
#include <cstdint>

#include "polarway/detail/sanitizers.hpp"

namespace polarway::detail {

class owned_counter {
 public:
  /// Owner thread only.
  void add(std::uint64_t n = 1) noexcept {
#if defined(__x86_64__) && !POLARWAY_TSAN
    static_assert(sizeof(value_) == sizeof(std::uint64_t) && std::atomic<std::uint64_t>::is_always_lock_free);
    asm volatile("addq %1, %0" : "+m"(*reinterpret_cast<std::uint64_t*>(&value_)) : "er"(n));
#else
    value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
#endif
  }
  /// Any thread.
  std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> value_{0};
};

}  // namespace polarway::detail
