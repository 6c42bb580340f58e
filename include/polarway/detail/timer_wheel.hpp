// A hierarchical timer wheel with millisecond resolution: six levels of 64 slots each, level l
// slots spanning 64^l ms, so it covers about 2,200 years. Inserting and removing a timer is
// O(1); advancing time touches only the slots that expire, and a timer is moved down a level
// at most five times before it fires, so 100,000 pending timers cost memory, not time.
//
// Timers are intrusive nodes (they live in the awaiting coroutine's frame). The wheel is not
// thread-safe by itself: each worker owns one and guards it with a lock, because a task that
// sleeps on worker A may be destroyed (aborted) on worker B.
//
// A timer never fires early: deadlines are rounded up to the next millisecond and a timer
// fires only once the wheel's time has reached it.
#pragma once

#include <array>
#include <bit>
#include <cstdint>

#include "polarway/option.hpp"

namespace polarway::detail {

struct timer_node {
  std::uint64_t deadline = 0;  // in wheel milliseconds
  timer_node* prev = nullptr;
  timer_node* next = nullptr;
  std::uint8_t level = 0;
  std::uint8_t slot = 0;
  bool linked = false;
};

class timer_wheel {
 public:
  static constexpr unsigned levels = 6;
  static constexpr unsigned slots = 64;
  static constexpr std::uint64_t max_deadline_offset = (std::uint64_t{1} << (6 * levels)) - 1;

  /// Current wheel time (ms); deadlines at or before it are due.
  std::uint64_t elapsed() const noexcept { return elapsed_; }
  std::size_t size() const noexcept { return size_; }

  /// Adds a timer. False (and nothing is added) if its deadline is not in the future.
  bool insert(timer_node* n) noexcept {
    if (n->deadline <= elapsed_) return false;
    if (n->deadline - elapsed_ > max_deadline_offset) n->deadline = elapsed_ + max_deadline_offset;
    link(n);
    ++size_;
    return true;
  }

  /// Removes a timer that is still pending (no-op if it fired or was never added).
  void remove(timer_node* n) noexcept {
    if (!n->linked) return;
    unlink(n);
    --size_;
  }

  /// The earliest time (ms) at which advance() has something to do, if any timer is pending.
  option<std::uint64_t> next_expiration() const noexcept {
    return next_slot().map([](const expiration& e) { return e.when; });
  }

  /// Moves time to `now` (ms), calling fire(node) for every timer whose deadline has come. A
  /// fired node is unlinked before fire() sees it.
  template <class Fire>
  void advance(std::uint64_t now, Fire&& fire) noexcept {
    for (option<expiration> next = next_slot(); next && next->when <= now; next = next_slot()) {
      // Take the whole slot; fire its due timers and re-insert the others (one level lower,
      // now that the wheel's time has reached the slot).
      timer_node* list = heads_[next->level][next->slot];
      heads_[next->level][next->slot] = nullptr;
      occupied_[next->level] &= ~(std::uint64_t{1} << next->slot);
      elapsed_ = next->when;
      while (list) {
        timer_node* n = list;
        list = n->next;
        n->linked = false;
        n->prev = n->next = nullptr;
        if (n->deadline <= now) {
          --size_;
          fire(n);
        } else {
          link(n);
        }
      }
    }
    if (now > elapsed_) elapsed_ = now;
  }

 private:
  struct expiration {
    std::uint64_t when;  // the slot's start: every timer in it is due at or after this
    unsigned level;
    unsigned slot;
  };

  // Level 0 holds the current 64 ms window, level 1 the current 4,096 ms window beyond it, and
  // so on, so the first occupied slot of the lowest non-empty level is the earliest. A timer's
  // slot at its level always lies after the wheel's current position there.
  option<expiration> next_slot() const noexcept {
    for (unsigned level = 0; level < levels; ++level) {
      const unsigned shift = 6 * level;
      const unsigned pos = static_cast<unsigned>((elapsed_ >> shift) & (slots - 1));
      const std::uint64_t rotated = std::rotr(occupied_[level], static_cast<int>(pos));
      if (rotated == 0) continue;
      const unsigned slot = (pos + static_cast<unsigned>(std::countr_zero(rotated))) & (slots - 1);
      const std::uint64_t level_range = std::uint64_t{1} << (shift + 6);
      const std::uint64_t base = elapsed_ & ~(level_range - 1);
      return expiration{base + (std::uint64_t{slot} << shift), level, slot};
    }
    return none;
  }

  static unsigned level_for(std::uint64_t elapsed, std::uint64_t when) noexcept {
    const std::uint64_t significant = (elapsed ^ when) | (slots - 1);
    const unsigned level = (63u - static_cast<unsigned>(std::countl_zero(significant))) / 6;
    return level < levels ? level : levels - 1;
  }
  static unsigned slot_for(std::uint64_t when, unsigned level) noexcept {
    return static_cast<unsigned>((when >> (6 * level)) & (slots - 1));
  }

  void link(timer_node* n) noexcept {
    const unsigned level = level_for(elapsed_, n->deadline);
    const unsigned slot = slot_for(n->deadline, level);
    n->level = static_cast<std::uint8_t>(level);
    n->slot = static_cast<std::uint8_t>(slot);
    n->prev = nullptr;
    n->next = heads_[level][slot];
    if (n->next) n->next->prev = n;
    heads_[level][slot] = n;
    occupied_[level] |= std::uint64_t{1} << slot;
    n->linked = true;
  }

  void unlink(timer_node* n) noexcept {
    if (n->prev) n->prev->next = n->next;
    else heads_[n->level][n->slot] = n->next;
    if (n->next) n->next->prev = n->prev;
    if (!heads_[n->level][n->slot]) occupied_[n->level] &= ~(std::uint64_t{1} << n->slot);
    n->prev = n->next = nullptr;
    n->linked = false;
  }

  std::uint64_t elapsed_ = 0;
  std::size_t size_ = 0;
  std::array<std::uint64_t, levels> occupied_{};
  std::array<std::array<timer_node*, slots>, levels> heads_{};
};

}  // namespace polarway::detail
