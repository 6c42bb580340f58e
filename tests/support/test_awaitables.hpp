// Small awaitables for scheduler tests, built on the runtime's internal waker API the way the
// sync primitives are: a task that suspends forever, a one-waiter event, and an operation that
// is always ready but respects the cooperative budget.
#pragma once

#include <atomic>
#include <coroutine>
#include <mutex>

#include "polarway/detail/scheduler.hpp"

namespace pw_test {

namespace detail = polarway::detail;

// Suspends and never registers anywhere: only abort or shutdown ends the task.
struct suspend_forever {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const noexcept {
    (void)detail::current_task_or_panic("suspend_forever", polarway::wait_kind::signal, h);
  }
  void await_resume() const noexcept {}
};

// One waiter, set once; waking under the lock that the waiter's destructor takes, as every
// waiter list in the library does.
class event {
 public:
  void set() {
    std::lock_guard lock(mu_);
    set_ = true;
    if (waiter_) detail::wake(std::exchange(waiter_, nullptr));
  }
  void reset() {
    std::lock_guard lock(mu_);
    set_ = false;
  }
  struct awaiter {
    event& e;
    bool await_ready() {
      std::lock_guard lock(e.mu_);
      return e.set_;
    }
    bool await_suspend(std::coroutine_handle<> h) {
      detail::task_cell* self = detail::current_task_or_panic("event", polarway::wait_kind::signal, h);
      std::lock_guard lock(e.mu_);
      if (e.set_) return false;
      e.waiter_ = registered = self;
      return true;
    }
    void await_resume() { registered = nullptr; }
    ~awaiter() {  // cancelled while waiting: unlink
      std::lock_guard lock(e.mu_);
      if (registered && e.waiter_ == registered) e.waiter_ = nullptr;
    }
    detail::task_cell* registered = nullptr;
  };
  awaiter wait() { return awaiter{*this}; }

 private:
  std::mutex mu_;
  bool set_ = false;
  detail::task_cell* waiter_ = nullptr;
};

// Always ready, but like a channel that always has data it charges the cooperative budget and
// makes the task yield when the budget is spent.
struct ready_op {
  bool await_ready() const noexcept { return detail::coop_consume(); }
  void await_suspend(std::coroutine_handle<> h) const noexcept {
    detail::task_cell* self = detail::current_task_or_panic("ready_op", polarway::wait_kind::io, h);
    self->transition_to_notified();
  }
  void await_resume() const noexcept {}
};

}  // namespace pw_test
