// One file-system call, awaited: on io_uring it is submitted to the worker's ring; on epoll
// (which cannot wait for regular files), or on a kernel whose io_uring lacks the operation
// (renameat and unlinkat came in Linux 5.11, mkdirat in 5.15), it runs on the runtime's
// blocking pool. Either way the task resumes with the call's result (>= 0) or -errno, and an
// aborted task is destroyed only once the call has finished.
#pragma once

#include <cerrno>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

/// `prep(sqe)` prepares the io_uring form, whose opcode is `opcode`; `call()` is the blocking
/// form (>= 0 or -errno).
template <class Prep, class Call>
task<int> file_call(io_uring_op opcode, Prep prep, Call call) {
  reactor& r = current_reactor("file operation");
  if (r.kind() == backend_kind::io_uring && r.uring().supports(opcode)) co_return co_await uring_op(prep);
  co_return co_await blocking_call(call);
}

/// errno as a negative result, for blocking forms.
inline int neg_errno(long rc) noexcept { return rc >= 0 ? static_cast<int>(rc) : -errno; }

}  // namespace polarway::detail
