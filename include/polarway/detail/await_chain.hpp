// The chain of coroutines a suspended task is in, read for a task dump: from the coroutine the
// task is suspended in (its cell's resume point) through each one's awaiter (the continuation
// in a task's promise) up to the task's own coroutine. Each is given as the address of its
// resume function, the first word of a coroutine frame in the ABI that g++ and clang share.
// A frame's promise is read only where tagged_handle says it is a pw::task's, whose layout is
// known; another coroutine type ends the chain there, as its awaiter cannot be found.
// The caller must hold the task still (task_cell::begin_inspection).
#pragma once

#include <coroutine>
#include <cstddef>
#include <vector>

#include "polarway/detail/task_cell.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

/// The address of the code that resumes the coroutine whose frame is at `frame`.
inline const void* resume_function_of(const void* frame) noexcept { return *static_cast<const void* const*>(frame); }

/// Appends the coroutines `cell` is suspended in to `out`, innermost first, at most
/// `max_frames`. True if the chain reached the task's own coroutine.
inline bool read_await_chain(const task_cell& cell, std::vector<const void*>& out, std::size_t max_frames) {
  const void* const root = cell.root().address();
  tagged_handle at = cell.innermost_coroutine();
  for (std::size_t n = 0; at && n < max_frames; ++n) {
    const void* const frame = at.handle().address();
    out.push_back(resume_function_of(frame));
    if (frame == root) return true;
    if (!at.is_task()) return false;
    at = std::coroutine_handle<task_promise_base>::from_address(const_cast<void*>(frame)).promise().awaiting_coroutine();
  }
  return false;
}

}  // namespace polarway::detail
