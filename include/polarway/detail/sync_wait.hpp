// A synchronous driver for tasks that never wait on the runtime (no I/O, no timers, no
// channels): it runs the task on the calling thread and returns its value. Tests of task<T>
// itself use it; everything else uses runtime::block_on.
#pragma once

#include <coroutine>
#include <utility>

#include "polarway/detail/panic.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

template <class T>
decltype(auto) sync_wait(task<T>&& t) {
  auto awaiter = std::move(t).operator co_await();
  if (!awaiter.await_ready()) {
    awaiter.await_suspend(std::noop_coroutine()).resume();
    if (!t.done()) panic("sync_wait: the task suspended on something only a runtime can resume");
  }
  if constexpr (std::is_void_v<T>) {
    awaiter.await_resume();
  } else if constexpr (std::is_reference_v<T>) {
    return awaiter.await_resume();
  } else {
    T value = awaiter.await_resume();
    return value;
  }
}

}  // namespace polarway::detail
