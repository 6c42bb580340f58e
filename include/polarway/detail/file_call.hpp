// One file-system call, awaited: on io_uring it is submitted to the worker's ring; on epoll
// (which cannot wait for regular files) it runs on the runtime's blocking pool. Either way the
// task resumes with the call's result (>= 0) or -errno, and an aborted task is destroyed only
// once the call has finished.
#pragma once

#include <cerrno>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

/// `prep(sqe)` prepares the io_uring form; `call()` is the blocking form (>= 0 or -errno).
template <class Prep, class Call>
task<int> file_call(Prep prep, Call call) {
  if (current_reactor("file operation").kind() == backend_kind::io_uring) co_return co_await uring_op(prep);
  co_return co_await blocking_call(call);
}

/// errno as a negative result, for blocking forms.
inline int neg_errno(long rc) noexcept { return rc >= 0 ? static_cast<int>(rc) : -errno; }

}  // namespace polarway::detail
