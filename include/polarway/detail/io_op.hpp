// One kernel operation in flight on behalf of a suspended task: an io_uring submission, or a
// call run on the runtime's blocking pool. It lives in the awaiter, that is in
// the task's coroutine frame, and it is the frame's cancel_hook while in flight: the frame is
// destroyed only once the operation has completed (rule 5: no buffer in a frame is written
// after it is freed).
//
// The completing thread wakes the task. It holds a reference on the task's cell from
// submission to that wake, because the task may be destroyed (aborted) on another worker the
// moment `done` becomes visible.
#pragma once

#include <atomic>
#include <cstdint>

#include "polarway/detail/panic.hpp"
#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

class io_op : public cancel_hook {
 public:
  /// How the owner of an operation cancels it. `request` runs on whichever worker picked up
  /// the aborted task; it must not block.
  struct canceller {
    /// Starts cancelling `op`; returns true if the op is already done or was withdrawn (then
    /// it must have called finish_withdrawn) and false if a completion will follow.
    bool (*request)(void* owner, io_op* op) noexcept;
    void* owner;
  };

  /// Binds the op to the current task and its canceller, before it is submitted.
  void arm(task_cell* cell, canceller c) noexcept {
    cell_ = cell;
    canceller_ = c;
    cell->ref();
    cell->cancel_on = this;
  }

  /// The kernel's (or the pool's) answer; wakes the task. Any thread, once per op.
  void complete(int result, std::uint32_t flags = 0) noexcept {
    task_cell* cell = cell_;  // read before `done`: the frame may be gone right after
    result_ = result;
    flags_ = flags;
    done_.store(true, std::memory_order_release);
    wake(cell);
    cell->unref();
  }

  /// For a canceller that withdrew the op before it ran: completes it with -ECANCELED,
  /// without waking the task (the worker asking is about to destroy it).
  void finish_withdrawn() noexcept {
    task_cell* cell = cell_;
    result_ = -125;  // ECANCELED
    done_.store(true, std::memory_order_release);
    cell->unref();
  }

  bool request_cancel() noexcept override {
    if (!cancel_sent_) {
      if (done_.load(std::memory_order_acquire)) return true;  // completed, no request in flight
      cancel_sent_ = true;
      if (canceller_.request(canceller_.owner, this)) return true;
    }
    // A request posted to the owner must be settled too, even if the op completed meanwhile:
    // until then the owner may still act on this op's address.
    return done_.load(std::memory_order_acquire) && cancel_settled_.load(std::memory_order_acquire);
  }

  bool completed_with_value() const noexcept override {
    return done_.load(std::memory_order_acquire) && cancel_settled_.load(std::memory_order_acquire) && result_ >= 0;
  }

  /// The owner processed a cancellation request (so it will not touch the op again for it).
  void settle_cancel() noexcept { cancel_settled_.store(true, std::memory_order_release); }

  /// On resumption: the task is no longer suspended on this op.
  int take_result(task_cell* cell) noexcept {
    cell->cancel_on = nullptr;
    return result_;
  }

  bool done() const noexcept { return done_.load(std::memory_order_acquire); }
  int result() const noexcept { return result_; }
  std::uint32_t flags() const noexcept { return flags_; }
  task_cell* cell() const noexcept { return cell_; }

  io_op() = default;
  io_op(const io_op&) = delete;
  io_op& operator=(const io_op&) = delete;
  ~io_op() {
    if (cell_ && !done_.load(std::memory_order_acquire)) [[unlikely]]
      panic("io_op", "destroyed while the kernel may still write to it");
  }

 private:
  task_cell* cell_ = nullptr;
  canceller canceller_{};
  int result_ = 0;
  std::uint32_t flags_ = 0;
  std::atomic<bool> done_{false};
  std::atomic<bool> cancel_settled_{true};
  bool cancel_sent_ = false;

 public:
  /// For cancellers whose answer comes later: marks that a settle_cancel() is pending.
  void expect_settle() noexcept { cancel_settled_.store(false, std::memory_order_relaxed); }
};

}  // namespace polarway::detail
