// detail::yield_awaiter: suspends the running task and has its worker requeue it behind the
// tasks already waiting (pw::yield_now() hands it out). It needs only the waker API: the task
// is marked notified while it runs, and the worker requeues a task that suspends notified.
// It lives with the building blocks so that the machinery (a socket call that ran out of
// cooperative budget) can yield without reaching up into runtime/.
#pragma once

#include <coroutine>

#include "polarway/detail/context.hpp"

namespace polarway::detail {

struct yield_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  void await_suspend(std::coroutine_handle<Promise> caller) const noexcept {
    task_cell* self = current_task_or_panic("pw::yield_now", wait_kind::none, caller);
    self->transition_to_notified();  // running, so this only marks it; the worker requeues it
  }
  void await_resume() const noexcept {}
};

}  // namespace polarway::detail
