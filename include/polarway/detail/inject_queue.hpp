// The runtime's global FIFO of tasks: spawns and wake-ups that come from threads outside the
// runtime, and the overflow of a worker whose deque is full. An intrusive list under a mutex:
// it is off the hot path (workers look at it every few dozen ticks or when they run dry), and
// a lock makes batch moves in both directions trivial. `len_` lets idle checks skip the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

class inject_queue {
 public:
  void push(task_cell* cell) noexcept { push_batch(cell, cell, 1); }

  /// Appends the chain first..last (linked through `next`) of n cells.
  void push_batch(task_cell* first, task_cell* last, std::size_t n) noexcept {
    last->next = nullptr;
    std::lock_guard lock(mu_);
    if (tail_) tail_->next = first;
    else head_ = first;
    tail_ = last;
    len_.store(len_.load(std::memory_order_relaxed) + n, std::memory_order_release);
  }

  task_cell* pop() noexcept {
    task_cell* first = nullptr;
    pop_batch(1, [&](task_cell* c) { first = c; });
    return first;
  }

  /// Pops up to max cells in FIFO order, calling sink(cell) for each under the lock.
  template <class Sink>
  std::size_t pop_batch(std::size_t max, Sink&& sink) noexcept {
    if (looks_empty()) return 0;
    std::lock_guard lock(mu_);
    std::size_t n = 0;
    while (head_ && n < max) {
      task_cell* c = head_;
      head_ = c->next;
      c->next = nullptr;
      sink(c);
      ++n;
    }
    if (!head_) tail_ = nullptr;
    len_.store(len_.load(std::memory_order_relaxed) - n, std::memory_order_release);
    return n;
  }

  bool looks_empty() const noexcept { return len_.load(std::memory_order_acquire) == 0; }
  std::size_t len() const noexcept { return len_.load(std::memory_order_acquire); }

 private:
  std::mutex mu_;
  task_cell* head_ = nullptr;
  task_cell* tail_ = nullptr;
  std::atomic<std::size_t> len_{0};
};

}  // namespace polarway::detail
