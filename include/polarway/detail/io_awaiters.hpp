// The awaiters that put a task to sleep on a kernel operation:
//   uring_op(prep)   submits one SQE on the current worker's ring; resumes with cqe->res
//   blocking_call(f) runs f() on the runtime's blocking pool; resumes with what f returned
// uring_op resumes with a result >= 0 or -errno. Both are the task's cancel_hook while in
// flight, so an aborted task is destroyed only after the kernel (or the pool) has answered.
#pragma once

#include <coroutine>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

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
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> caller) noexcept {
    cell_ = current_task_or_panic("io_uring operation", wait_kind::io, caller);
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

/// Runs `f()` on the runtime's blocking pool and resumes with what it returned (void, a value,
/// or, for file operations, a result >= 0 or -errno). The value waits in the awaiter, that is in
/// the task's frame, which outlives the call (an aborted task is destroyed only once a running
/// call has returned). With exceptions on, an exception escaping `f` is caught on the pool's
/// thread and rethrown here, in the task, so that it panics the task rather than the process.
template <class F>
class blocking_call {
 public:
  using value_type = std::invoke_result_t<F&>;
  static_assert(!std::is_reference_v<value_type>, "a blocking call must return a value, not a reference");

  explicit blocking_call(F f) noexcept(std::is_nothrow_move_constructible_v<F>) : f_(std::move(f)) {}
  blocking_call(const blocking_call&) = delete;
  blocking_call& operator=(const blocking_call&) = delete;

  bool await_ready() const noexcept { return false; }
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> caller) {
    cell_ = current_task_or_panic("blocking call", wait_kind::blocking, caller);
    job_.run = &invoke;
    job_.ctx = this;
    cell_->sched()->pool().submit(&job_, cell_);
  }
  value_type await_resume() {
    (void)job_.op.take_result(cell_);
#if defined(__cpp_exceptions)
    if (exception_) std::rethrow_exception(exception_);
#endif
    if constexpr (!std::is_void_v<value_type>) return std::move(*value_);
  }

 private:
  // On the pool's thread. Returns 0: a call that ran completed with a value, which a soft
  // cancellation (pw::race) then keeps (io_op::completed_with_value).
  static int invoke(void* self) noexcept {
    auto* call = static_cast<blocking_call*>(self);
#if defined(__cpp_exceptions)
    try {
      call->run();
    } catch (...) {
      call->exception_ = std::current_exception();
    }
#else
    call->run();
#endif
    return 0;
  }
  void run() {
    if constexpr (std::is_void_v<value_type>) f_();
    else value_.emplace(f_());
  }

  F f_;
  [[no_unique_address]] std::conditional_t<std::is_void_v<value_type>, std::monostate, std::optional<value_type>> value_;
#if defined(__cpp_exceptions)
  std::exception_ptr exception_;
#endif
  blocking_pool::job job_;
  task_cell* cell_ = nullptr;
};

}  // namespace polarway::detail
