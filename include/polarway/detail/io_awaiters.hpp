// The awaiters that put a task to sleep on a kernel operation:
//   uring_op(prep)   submits one SQE on the current worker's ring; resumes with cqe->res
//   blocking_call(f) runs f() on the runtime's blocking pool; resumes with its result
// Both resume with a result >= 0 or -errno, and both are the task's cancel_hook while in
// flight, so an aborted task is destroyed only after the kernel (or the pool) has answered.
#pragma once

#include <coroutine>
#include <utility>

#include "polarway/detail/blocking_pool.hpp"
#include "polarway/detail/io_op.hpp"
#include "polarway/detail/scheduler.hpp"

namespace polarway::detail {

/// The reactor of the worker running the current task.
inline reactor& current_reactor(const char* what) noexcept {
  worker* w = tls_context.current_worker;
  if (!w) [[unlikely]]
    panic(what, "must run inside a task on a polarway runtime");
  return *w->io;
}

template <class Prep>
class uring_op {
 public:
  explicit uring_op(Prep prep) noexcept : prep_(std::move(prep)) {}
  uring_op(const uring_op&) = delete;
  uring_op& operator=(const uring_op&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) noexcept {
    cell_ = current_task_or_panic("io_uring operation");
    cell_->resume_point = caller;
    current_reactor("io_uring operation").uring().submit(&op_, cell_, prep_);
  }
  int await_resume() noexcept { return op_.take_result(cell_); }
  /// The CQE's flags (IORING_CQE_F_*), once resumed.
  std::uint32_t cqe_flags() const noexcept { return op_.flags(); }

 private:
  Prep prep_;
  io_op op_;
  task_cell* cell_ = nullptr;
};

template <class F>
class blocking_call {
 public:
  explicit blocking_call(F f) noexcept : f_(std::move(f)) {}
  blocking_call(const blocking_call&) = delete;
  blocking_call& operator=(const blocking_call&) = delete;

  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) {
    cell_ = current_task_or_panic("blocking call");
    cell_->resume_point = caller;
    job_.run = [](void* self) noexcept { return static_cast<blocking_call*>(self)->f_(); };
    job_.ctx = this;
    cell_->sched()->pool().submit(&job_, cell_);
  }
  int await_resume() noexcept { return job_.op.take_result(cell_); }

 private:
  F f_;
  blocking_pool::job job_;
  task_cell* cell_ = nullptr;
};

}  // namespace polarway::detail
