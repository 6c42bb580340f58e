// pw::spawn_blocking(f): runs f() on the runtime's blocking pool, a thread that may block (a
// blocking system call, getaddrinfo, a C library doing its own I/O, a long computation), and
// gives a join_handle for what f returns. Workers never run f, so blocking there stalls no task.
//
// The pool (runtime_options::max_blocking_threads, thread_keep_alive) starts threads on demand up
// to its cap; beyond that, calls wait in FIFO order. It is the same pool that runs the file
// operations the reactor cannot wait for.
//
// The handle is a task's: `co_await h` gives pw::result<R, pw::join_error>, and abort(),
// detach() and is_finished() behave as for pw::spawn, with one difference that comes from
// threads: f cannot be interrupted. So, as in Tokio:
//   - abort() before f has started (the call still waits for a thread) means f never runs, and
//     the handle reports join_error::cancelled();
//   - abort() once f is running has no effect: f runs to its end and the handle gives its value.
// At shutdown the runtime cancels the calls that have not started and waits for the running
// ones to return (a call that never returns keeps shutdown waiting, as a task that never
// suspends does).
//
// f runs on another thread: whatever it captures must be safe to use there. With exceptions on,
// an exception escaping f panics its task (the handle reports join_error::panicked()); with
// -fno-exceptions, f reports failure through its return value (a pw::result, say).
//
// With g++ 12, name the handle before awaiting it when f captures something that owns memory:
// `co_await pw::spawn_blocking([s = std::move(s)] {...})` destroys the closure twice (a g++ 12
// bug with temporaries in co_await expressions; docs/design.md, "Compiler bugs").
#pragma once

#include <type_traits>
#include <utility>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/scheduler.hpp"
#include "polarway/runtime/join_handle.hpp"
#include "polarway/runtime/spawn_site.hpp"
#include "polarway/task.hpp"

namespace polarway {

namespace detail {

/// What spawn_blocking(f) gives: f's return type.
template <class F>
using blocking_result_t = typename blocking_call<std::decay_t<F>>::value_type;

// The task behind a spawn_blocking handle: one wait for the pool.
template <class F>
task<blocking_result_t<F>> run_blocking(F f) {
  co_return co_await blocking_call<F>(std::move(f));
}

// Spawns the task on `sched`. It is cancelled softly: an abort that finds the call already run
// lets the task finish with its value (see io_op::completed_with_value), so a call that was
// running when it was aborted still delivers its value.
template <class F>
join_handle<blocking_result_t<F>> spawn_blocking_on(scheduler& sched, F f, spawn_site site) {
  return make_join_handle<blocking_result_t<F>>(
      sched.spawn_cell(run_blocking<F>(std::move(f)), task_cell::join_interest | task_cell::soft_cancel, 1, site));
}

}  // namespace detail

/// Runs `f()` on the blocking pool of the runtime running the calling task (call it from inside
/// a task; from outside, use runtime::spawn_blocking). See the top of this header for abort and
/// shutdown.
template <class F>
  requires std::is_invocable_v<std::decay_t<F>&> && std::is_move_constructible_v<std::decay_t<F>>
join_handle<detail::blocking_result_t<F>> spawn_blocking(F&& f, spawn_site site = spawn_site::here()) {
  detail::worker* w = detail::tls_context.current_worker;
  if (!w) [[unlikely]]
    detail::panic("pw::spawn_blocking", "called outside a polarway runtime (use runtime::spawn_blocking)");
  return detail::spawn_blocking_on(*w->sched, std::decay_t<F>(std::forward<F>(f)), site);
}

}  // namespace polarway
