// A fixed-capacity Chase-Lev work-stealing deque of pointers. The owning worker pushes and
// takes at the bottom (LIFO: a task's freshly spawned children run first, so fork-join trees
// are walked depth-first and stay small); other workers steal at the top (FIFO: they take the
// oldest entry, which in a fork-join tree is the biggest piece of work).
//
// Memory orders follow Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient Work-Stealing
// for Weak Memory Models" (PPoPP 2013): relaxed slot accesses, a release fence before
// publishing `bottom` in push, and seq_cst fences between the bottom/top accesses of take and
// steal. ThreadSanitizer does not model fences, so under TSan the same synchronization is
// expressed with release stores and seq_cst loads/stores on the indices instead; that is
// equally correct (and stronger), so TSan checks the algorithm rather than being silenced.
//
// Indices are signed 64-bit and only grow: they never wrap in practice (2^63 pushes). The ring
// does not grow: push() reports a full deque, and the scheduler then moves half of it to the
// global inject queue (steal_batch), which bounds each worker's memory.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/sanitizers.hpp"

namespace polarway::detail {

template <class T>
class chase_lev_deque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers");

 public:
  /// capacity must be a power of two.
  explicit chase_lev_deque(std::size_t capacity)
      : mask_(static_cast<std::int64_t>(capacity) - 1), slots_(new std::atomic<T>[capacity]) {
    if (capacity == 0 || (capacity & (capacity - 1)) != 0) panic("chase_lev_deque: capacity must be a power of two");
  }

  std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask_ + 1); }

  /// Owner only. False when the deque is full (nothing was pushed).
  bool push(T item) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    if (b - t > mask_) return false;
    slot(b).store(item, std::memory_order_relaxed);
#if POLARWAY_TSAN
    bottom_.store(b + 1, std::memory_order_release);
#else
    std::atomic_thread_fence(std::memory_order_release);
    bottom_.store(b + 1, std::memory_order_relaxed);
#endif
    return true;
  }

  /// Owner only. The most recently pushed item, or nullptr.
  T take() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
#if POLARWAY_TSAN
    bottom_.store(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
#else
    bottom_.store(b, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_relaxed);
#endif
    if (t > b) {  // empty
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    T item = slot(b).load(std::memory_order_relaxed);
    if (t == b) {
      // The last item: race the thieves for it through top.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) item = nullptr;
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  /// take() for an owner that no other thread steals from (a runtime of one worker): the same
  /// result without the fence, since nobody can race it for the last item. The top index still
  /// advances past the last item, as top_index() promises.
  T take_unshared() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) return nullptr;
    T item = slot(b).load(std::memory_order_relaxed);
    if (t == b)
      top_.store(t + 1, std::memory_order_relaxed);
    else
      bottom_.store(b, std::memory_order_relaxed);
    return item;
  }

  enum class steal_status { success, empty, lost_race };
  struct steal_result {
    T item;
    steal_status status;
  };

  /// Any thread. The oldest item; `lost_race` when another thief or the owner got it first
  /// (the caller may retry).
  steal_result steal() noexcept {
#if POLARWAY_TSAN
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);
#else
    std::int64_t t = top_.load(std::memory_order_acquire);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
#endif
    if (t >= b) return {nullptr, steal_status::empty};
    T item = slot(t).load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
      return {nullptr, steal_status::lost_race};
    return {item, steal_status::success};
  }

  /// A snapshot of the number of items; exact only when nobody else is touching the deque.
  std::int64_t size_hint() const noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    return b > t ? b - t : 0;
  }
  bool looks_empty() const noexcept { return size_hint() == 0; }

  /// The index of the oldest item (the next one a steal would take). Unchanged for as long as
  /// that item stays in the deque: every removal from the top, including the owner's take of
  /// the last item, advances it.
  std::int64_t top_index() const noexcept { return top_.load(std::memory_order_acquire); }

 private:
  std::atomic<T>& slot(std::int64_t i) noexcept { return slots_[static_cast<std::size_t>(i & mask_)]; }

  // top_ and bottom_ on their own cache lines: thieves hammer top_, the owner bottom_.
  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) const std::int64_t mask_;
  std::unique_ptr<std::atomic<T>[]> slots_;
};

}  // namespace polarway::detail
