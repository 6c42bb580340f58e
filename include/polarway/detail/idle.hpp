// Which workers are awake, which are searching for work, and which are parked. The rules (as in
// Tokio's scheduler): a worker that runs dry becomes a searcher only while fewer than half the
// workers search, so stealing does not turn into a stampede; a thread that makes work available
// wakes a parked worker only if nobody is searching already; the last searcher to park checks
// every queue once more. Together these give "no lost wake-ups" without waking everybody.
//
// Dekker-style ordering: the producer publishes work, then (seq_cst) reads this state; a
// parking worker updates this state (seq_cst), then reads the queues. One of them sees the
// other.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "polarway/detail/sanitizers.hpp"

namespace polarway::detail {

class idle_state {
 public:
  explicit idle_state(std::size_t workers) : workers_(static_cast<std::uint32_t>(workers)), state_(pack(0, workers_)) {
    sleepers_.reserve(workers);
  }

  /// A worker with nothing to do asks to search. False when half the workers already do.
  bool transition_to_searching() noexcept {
    const std::uint32_t s = state_.load(std::memory_order_seq_cst);
    if (2 * searching(s) >= workers_) return false;
    state_.fetch_add(1, std::memory_order_seq_cst);
    return true;
  }

  /// A searcher found work. True if it was the last searcher (it should wake another worker,
  /// since there may be more work where it found this).
  bool transition_from_searching() noexcept { return searching(state_.fetch_sub(1, std::memory_order_seq_cst)) == 1; }

  /// A worker goes to sleep. True if it was the last searcher: it must re-check the queues.
  bool transition_to_parked(std::size_t index, bool is_searching) {
    std::lock_guard lock(mu_);
    const std::uint32_t dec = unparked_one + (is_searching ? 1 : 0);
    const std::uint32_t prev = state_.fetch_sub(dec, std::memory_order_seq_cst);
    sleepers_.push_back(index);
    return is_searching && searching(prev) == 1;
  }

  /// Called after publishing work. Returns the index of a parked worker the caller must
  /// unpark, or `none` if a searcher (or nobody parked) will take care of it.
  std::size_t worker_to_notify() {
#if POLARWAY_TSAN
    // An RMW orders the publication of the work before this read just as the fence does.
    if (!should_notify(state_.fetch_add(0, std::memory_order_seq_cst))) return none;
#else
    full_fence();
    if (!should_notify(state_.load(std::memory_order_seq_cst))) return none;
#endif
    std::lock_guard lock(mu_);
    if (!should_notify(state_.load(std::memory_order_seq_cst)) || sleepers_.empty()) return none;
    // The woken worker starts as a searcher; count it now so that concurrent producers do not
    // wake a second one for the same work.
    state_.fetch_add(unparked_one + 1, std::memory_order_seq_cst);
    const std::size_t index = sleepers_.back();
    sleepers_.pop_back();
    return index;
  }

  /// A parked worker returns from its wait. If it is still on the sleeper list it woke on its
  /// own (I/O, a timer): take it off and count it awake, and return true. False means a
  /// notifier took it off and already counted it as a searcher.
  bool unpark_self(std::size_t index) {
    std::lock_guard lock(mu_);
    auto it = std::find(sleepers_.begin(), sleepers_.end(), index);
    if (it == sleepers_.end()) return false;
    sleepers_.erase(it);
    state_.fetch_add(unparked_one, std::memory_order_seq_cst);
    return true;
  }

  static constexpr std::size_t none = ~std::size_t{0};

 private:
  // A seq_cst fence. On x86 it is the locked no-op g++ emits for one; clang 14 emits mfence,
  // which is slower, and a 2-worker runtime passes here on every push onto an empty deque.
  static void full_fence() noexcept {
#if defined(__x86_64__)
    asm volatile("lock orq $0, (%%rsp)" ::: "memory", "cc");
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
  }

  static constexpr std::uint32_t unparked_one = 1u << 16;
  static constexpr std::uint32_t pack(std::uint32_t searching, std::uint32_t unparked) {
    return searching | (unparked << 16);
  }
  static std::uint32_t searching(std::uint32_t s) noexcept { return s & 0xffff; }
  static std::uint32_t unparked(std::uint32_t s) noexcept { return s >> 16; }
  bool should_notify(std::uint32_t s) const noexcept { return searching(s) == 0 && unparked(s) < workers_; }

  const std::uint32_t workers_;
  std::atomic<std::uint32_t> state_;
  std::mutex mu_;
  std::vector<std::size_t> sleepers_;
};

}  // namespace polarway::detail
