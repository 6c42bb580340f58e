// What the current thread is doing for polarway: the worker it is (if any), the task it is
// running (if any), and that task's cooperative budget. Awaiters use it to find the task they
// suspend; spawn uses it to find the runtime. With task_cell.hpp's wake() it is the whole
// waker API of the sync primitives: they include this header, never the scheduler or the
// reactor (tests/layering_test.cpp holds them to it).
#pragma once

#include <coroutine>

#include "polarway/detail/owned_counter.hpp"
#include "polarway/detail/panic.hpp"
#include "polarway/detail/task_cell.hpp"

namespace polarway::detail {

struct worker;

/// What the current thread is doing for polarway: the worker it is (if any) and the task it
/// is running (if any), plus the cooperative budget of that task's current run.
struct thread_context {
  worker* current_worker = nullptr;
  task_cell* current_task = nullptr;
  int budget = 0;
  // The current run began without the notified -> running transition (scheduler::run_task),
  // which current_task_or_panic() makes the first time it is called in the run.
  bool run_unmarked = false;
  // The worker's count of runs cut short by the budget (worker_counters::forced_yields).
  owned_counter* forced_yields = nullptr;
};
inline thread_local thread_context tls_context;

/// The cell of the task running on this thread, which the awaiter `caller` is about to
/// suspend on something of `kind`; panics outside a task with `what`. Every awaiter that
/// suspends the task gets its cell here, and nowhere else: this is where the cell learns where
/// to resume the task (`caller`, whose promise type a task dump needs) and what it waits on,
/// and where a run that began unmarked becomes `running` (see scheduler::run_task), before the
/// awaiter can register the task anywhere it may be woken from. An awaiter that then finds it
/// need not suspend after all leaves a resume point that the next suspension replaces.
template <class Promise>
inline task_cell* current_task_or_panic(const char* what, wait_kind kind,
                                        std::coroutine_handle<Promise> caller) noexcept {
  thread_context& ctx = tls_context;
  task_cell* cell = ctx.current_task;
  if (!cell) [[unlikely]]
    panic(what, "must be awaited inside a task running on a polarway runtime");
  cell->suspend_at(caller, kind);
  if (ctx.run_unmarked) {
    ctx.run_unmarked = false;
    cell->mark_running();
  }
  return cell;
}

/// Operations a task performs per run before a ready operation makes it yield anyway.
inline constexpr int coop_budget = 128;

/// Cooperative scheduling: an operation that could complete without suspending calls this
/// first; false means the task has used its budget and the operation should suspend and
/// reschedule the task, so that one task that always finds ready work cannot starve the others
/// on its worker.
inline bool coop_consume() noexcept {
  thread_context& ctx = tls_context;
  if (!ctx.current_task) return true;
  if (--ctx.budget > 0) [[likely]]
    return true;
  if (ctx.forced_yields) ctx.forced_yields->add();
  return false;
}

}  // namespace polarway::detail
