// pw::yield_now(): lets the other tasks on this worker run before the caller continues. The
// task goes to the back of its worker's deferred queue, behind everything already waiting.
#pragma once

#include <coroutine>

#include "polarway/detail/scheduler.hpp"

namespace polarway {

namespace detail {
struct yield_awaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> caller) const noexcept {
    task_cell* self = current_task_or_panic("pw::yield_now");
    self->resume_point = caller;
    self->transition_to_notified();  // running, so this only marks it; the worker requeues it
  }
  void await_resume() const noexcept {}
};
}  // namespace detail

/// `co_await pw::yield_now();` reschedules the calling task behind the others on its worker.
inline detail::yield_awaiter yield_now() noexcept { return {}; }

}  // namespace polarway
