// pw::timeout(d, awaitable): awaits `awaitable`, or gives up after `d` with an error whose code
// is pw::errc::timed_out. The awaitable runs as a child task (the structured fan-out of
// join_all with one child) raced against a timer; when the timer wins, the child is aborted
// through the normal cancellation protocol, so an I/O operation in flight is cancelled in the
// kernel and its buffers stay alive until the kernel has answered, and the caller resumes
// only after that. If the operation finishes first, its value is returned even if the timer
// fires in the same instant: the child is cancelled softly, so an operation that has already
// completed (bytes received, a connection accepted) is never thrown away.
#pragma once

#include <chrono>
#include <coroutine>
#include <type_traits>
#include <utility>

#include "polarway/detail/scheduler.hpp"
#include "polarway/detail/timer_queue.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/join_all.hpp"
#include "polarway/task.hpp"
#include "polarway/time/sleep.hpp"

namespace polarway {

namespace detail {

// The awaiter an awaitable turns into (its operator co_await, or itself).
template <class A>
auto awaiter_of() {
  if constexpr (requires { std::declval<A>().operator co_await(); })
    return std::type_identity<decltype(std::declval<A>().operator co_await())>{};
  else
    return std::type_identity<std::remove_cvref_t<A>>{};
}

// What `co_await a` yields, as a value type: T for T or T&& (the value is moved out), T& for T&.
template <class A>
using awaitable_result_t = std::conditional_t<
    std::is_rvalue_reference_v<decltype(std::declval<typename decltype(awaiter_of<A>())::type&>().await_resume())>,
    std::remove_cvref_t<decltype(std::declval<typename decltype(awaiter_of<A>())::type&>().await_resume())>,
    decltype(std::declval<typename decltype(awaiter_of<A>())::type&>().await_resume())>;

// Runs any awaitable inside a task of its own, so that it can be aborted as a unit.
template <class A>
task<awaitable_result_t<A>> run_as_task(A awaitable) {
  co_return co_await std::move(awaitable);
}

template <class T>
class timeout_awaiter : fork_group {
 public:
  timeout_awaiter(clock::time_point deadline, task<T> child) noexcept : deadline_(deadline), child_(std::move(child)) {}
  /// Movable until awaited (so a timeout can wrap another one); nothing is armed before.
  timeout_awaiter(timeout_awaiter&& other) noexcept : deadline_(other.deadline_), child_(std::move(other.child_)) {}
  timeout_awaiter& operator=(timeout_awaiter&&) = delete;
  ~timeout_awaiter() {
    if (queue_) queue_->remove(&timer_);
    release_children(&cell_, 1);
  }

  bool await_ready() const noexcept { return false; }

  bool await_suspend(std::coroutine_handle<> caller) {
    bind_parent("pw::timeout");
    cell_ = fork(child_, task_cell::soft_cancel);  // a read that completed as the timer fired keeps its bytes
    timer_.cell = cell_;
    timer_.fire = [](timer_entry* e) noexcept { e->cell->sched()->abort(e->cell); };
    timer_.deadline = wheel_ms_ceil(deadline_);
    timer_queue& q = tls_context.current_worker->timers;
    if (q.insert(&timer_))
      queue_ = &q;
    else
      parent_->sched()->abort(cell_);  // the deadline has already passed
    return start(caller, &cell_, 1);
  }

  result<T, error> await_resume() {
    finish_wait();
    if (queue_) {
      queue_->remove(&timer_);
      queue_ = nullptr;
    }
#if defined(__cpp_exceptions)
    if (cell_->outcome() == task_outcome::panicked) std::rethrow_exception(cell_->exception());
#endif
    auto r = take_outcome<T>(cell_);
    if (!r) return err(error(errc::timed_out, "pw::timeout"));
    if constexpr (std::is_void_v<T>)
      return ok();
    else
      return result<T, error>(std::in_place, std::move(*r));
  }

 private:
  clock::time_point deadline_;
  task<T> child_;
  task_cell* cell_ = nullptr;
  timer_entry timer_;
  timer_queue* queue_ = nullptr;
};

template <class A>
auto make_timeout(clock::time_point deadline, A&& awaitable) {
  using R = awaitable_result_t<A>;
  if constexpr (std::is_same_v<std::remove_cvref_t<A>, task<R>>)
    return timeout_awaiter<R>(deadline, std::forward<A>(awaitable));
  else
    return timeout_awaiter<R>(deadline, run_as_task(std::forward<A>(awaitable)));
}

}  // namespace detail

/// Awaits `awaitable` for at most `d`: its value, or an error with code pw::errc::timed_out.
/// The awaitable (a task, an I/O operation, a channel receive...) is cancelled safely when the
/// time runs out. Must be awaited inside a task running on a runtime.
template <class Rep, class Period, class A>
auto timeout(std::chrono::duration<Rep, Period> d, A&& awaitable) {
  return detail::make_timeout(steady_clock::now() + std::chrono::duration_cast<steady_clock::duration>(d),
                              std::forward<A>(awaitable));
}

/// Like timeout, with an absolute deadline.
template <class A>
auto timeout_at(steady_clock::time_point deadline, A&& awaitable) {
  return detail::make_timeout(deadline, std::forward<A>(awaitable));
}

}  // namespace polarway
