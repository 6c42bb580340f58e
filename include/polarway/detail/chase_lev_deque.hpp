// A Chase-Lev work-stealing deque of pointers. The owning worker pushes and takes at the bottom
// (LIFO: a task's freshly spawned children run first, so fork-join trees are walked depth-first
// and stay small); other workers steal at the top (FIFO: they take the oldest entry, which in a
// fork-join tree is the biggest piece of work).
//
// Memory orders: the algorithm of Lê, Pop, Cohen and Zappa Nardelli, "Correct and Efficient
// Work-Stealing for Weak Memory Models" (PPoPP 2013), with its seq_cst fences expressed as
// seq_cst operations on the indices: relaxed slot accesses, a release store of `bottom` in
// push, a seq_cst store of `bottom` then a seq_cst load of `top` in take, seq_cst loads of `top`
// then `bottom` in steal, and a seq_cst CAS on `top` for the last element. All of take's and
// steal's index accesses are then in the single total order of seq_cst operations, which is
// what the last-element race needs: if the owner's load of `top` misses a thief's CAS, that
// thief's load of `bottom` comes after the owner's store and sees the item gone, or the owner
// sees t == b and races the thief through the CAS. Why operations and not fences:
// - On x86 a seq_cst store is one locked exchange and a seq_cst load a plain load, so take
//   costs what it did with g++'s fence and a steal no longer needs a locked instruction before
//   its CAS.
// - clang 14 compiles a seq_cst fence to mfence, slower than a locked instruction: with fences,
//   a clang build ran 2-worker workloads 30-150% slower than a g++ build (yield_many 28 against
//   12 ns per yield).
// - ThreadSanitizer does not model fences; it checks this form as it is.
//
// Indices are signed 64-bit and only grow: they never wrap in practice (2^63 pushes). The ring
// grows by doubling, up to a maximum, when a push finds it full: the owner copies the live
// entries into the new ring and publishes it (release) before any push that needs it, so a
// thief that sees such an entry's `bottom` sees the new ring too. A thief may still be reading
// the old ring, so retired rings are kept until the deque dies; together they are smaller than
// the current one. Past the maximum, push() reports a full deque, and the scheduler moves half
// of it to the global inject queue (take_oldest), which bounds each worker's memory.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "polarway/detail/panic.hpp"

namespace polarway::detail {

template <class T>
class chase_lev_deque {
  static_assert(std::is_pointer_v<T>, "the deque holds pointers");

 public:
  /// Both capacities must be powers of two, `max_capacity` at least `capacity`; the ring
  /// starts at `capacity` and doubles up to `max_capacity` (by default it does not grow).
  explicit chase_lev_deque(std::size_t capacity, std::size_t max_capacity = 0)
      : max_capacity_(max_capacity ? max_capacity : capacity) {
    if (!power_of_two(capacity) || !power_of_two(max_capacity_) || max_capacity_ < capacity)
      panic("chase_lev_deque: capacities must be powers of two, the maximum at least the initial one");
    owned_ = std::make_unique<ring>(capacity);
    ring_.store(owned_.get(), std::memory_order_relaxed);
  }

  /// The current ring's size (the owner's view).
  std::size_t capacity() const noexcept { return ring_.load(std::memory_order_relaxed)->capacity(); }

  /// Owner only. False when the deque is full at its maximum capacity (nothing was pushed).
  bool push(T item) noexcept { return push_noting_empty(item) != push_result::full; }

  enum class push_result : std::uint8_t { full, pushed, pushed_onto_empty };

  /// push() that also says whether the deque looked empty before (what a scheduler needs to
  /// decide whether to wake a thief), from the same reads of the indices: every spawn pushes,
  /// and reading them again costs it a few instructions more.
  push_result push_noting_empty(T item) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    ring& r = owner_ring();
    if (b - t > r.mask) [[unlikely]]
      return push_when_full(item, t, b);
    r.at(b).store(item, std::memory_order_relaxed);
    publish_bottom(b + 1);
    return b > t ? push_result::pushed : push_result::pushed_onto_empty;
  }

  /// Owner only: pushes `n` items, published with one store of `bottom` (a fork-join parent
  /// queues its children so). False when they do not all fit in the current ring: nothing was
  /// pushed, and push() one by one (which grows the ring or reports it full) is the way on.
  bool push_all(T const* items, std::size_t n) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    const std::int64_t t = top_.load(std::memory_order_acquire);
    ring& r = owner_ring();
    if (b - t + static_cast<std::int64_t>(n) > r.mask + 1) return false;
    for (std::size_t i = 0; i < n; ++i)
      r.at(b + static_cast<std::int64_t>(i)).store(items[i], std::memory_order_relaxed);
    publish_bottom(b + static_cast<std::int64_t>(n));
    return true;
  }

  /// Owner only. The most recently pushed item, or nullptr.
  T take() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    bottom_.store(b, std::memory_order_seq_cst);
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    if (t > b) {  // empty
      bottom_.store(b + 1, std::memory_order_relaxed);
      return nullptr;
    }
    T item = owner_ring().at(b).load(std::memory_order_relaxed);
    if (t == b) {
      // The last item: race the thieves for it through top.
      if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) item = nullptr;
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return item;
  }

  /// take() for an owner that no other thread steals from (a runtime of one worker): the same
  /// result without the seq_cst store (a locked exchange on x86), since nobody can race it for
  /// the last item. The top index still advances past the last item, as top_index() promises.
  T take_unshared() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    const std::int64_t t = top_.load(std::memory_order_relaxed);
    if (t > b) return nullptr;
    T item = owner_ring().at(b).load(std::memory_order_relaxed);
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
    std::int64_t t = top_.load(std::memory_order_seq_cst);
    const std::int64_t b = bottom_.load(std::memory_order_seq_cst);  // acquire: the slots below it
    if (t >= b) return {nullptr, steal_status::empty};
    // Read after `bottom`: a ring at least as new as the one holding index t. (A ring newer
    // still may lack it, if t was taken meanwhile; the compare-exchange then fails.)
    T item = ring_.load(std::memory_order_acquire)->at(t).load(std::memory_order_relaxed);
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst, std::memory_order_relaxed))
      return {nullptr, steal_status::lost_race};
    return {item, steal_status::success};
  }

  /// Owner only: removes up to `max` of the oldest items with one compare-exchange on top (thieves
  /// race for the same items), and passes them to `sink`, oldest first. Returns how many. The
  /// slots are read after the claim, which is safe because only the owner writes slots.
  template <class Sink>
  std::size_t take_oldest(std::size_t max, Sink&& sink) noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    std::int64_t t = top_.load(std::memory_order_acquire);
    std::int64_t n = 0;
    do {
      n = std::min(b - t, static_cast<std::int64_t>(max));
      if (n <= 0) return 0;
    } while (!top_.compare_exchange_weak(t, t + n, std::memory_order_seq_cst, std::memory_order_acquire));
    ring& r = owner_ring();
    for (std::int64_t i = 0; i < n; ++i) sink(r.at(t + i).load(std::memory_order_relaxed));
    return static_cast<std::size_t>(n);
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
  struct ring {
    explicit ring(std::size_t capacity)
        : mask(static_cast<std::int64_t>(capacity) - 1), slots(new std::atomic<T>[capacity]) {}
    std::atomic<T>& at(std::int64_t i) noexcept { return slots[static_cast<std::size_t>(i & mask)]; }
    std::size_t capacity() const noexcept { return static_cast<std::size_t>(mask + 1); }
    const std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

  static bool power_of_two(std::size_t n) noexcept { return n != 0 && (n & (n - 1)) == 0; }

  // Makes the slots written below `b` visible to thieves that read `bottom` (push, push_all).
  void publish_bottom(std::int64_t b) noexcept { bottom_.store(b, std::memory_order_release); }

  // The owner is the only writer of ring_, so its own relaxed load sees its latest ring.
  ring& owner_ring() noexcept { return *ring_.load(std::memory_order_relaxed); }

  // Owner only: push() on a full ring, [t, b) being the live entries. Grows the ring to twice
  // its size, unless it is at its maximum. Out of line: inlined, the allocation and the copy
  // loop made every push save registers and spill (a spawn saved six).
  [[gnu::noinline]] push_result push_when_full(T item, std::int64_t t, std::int64_t b) {
    ring& old = owner_ring();
    if (old.capacity() >= max_capacity_) return push_result::full;
    auto bigger = std::make_unique<ring>(old.capacity() * 2);
    for (std::int64_t i = t; i < b; ++i)
      bigger->at(i).store(old.at(i).load(std::memory_order_relaxed), std::memory_order_relaxed);
    ring& r = *bigger;
    retired_.push_back(std::exchange(owned_, std::move(bigger)));
    ring_.store(&r, std::memory_order_release);
    r.at(b).store(item, std::memory_order_relaxed);
    publish_bottom(b + 1);
    return push_result::pushed;  // it was full, so not empty
  }

  // top_ and bottom_ on their own cache lines: thieves hammer top_, the owner bottom_.
  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::atomic<ring*> ring_{nullptr};
  const std::size_t max_capacity_;
  std::unique_ptr<ring> owned_;                 // the ring in use
  std::vector<std::unique_ptr<ring>> retired_;  // outgrown; a thief may still read them
};

}  // namespace polarway::detail
