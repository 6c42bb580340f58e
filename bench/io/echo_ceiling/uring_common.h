// What the two io_uring echo programs share: the ring (one thread submits and reaps), taking an
// SQE when the submission queue may be full, and the loop that submits, waits and dispatches
// completions until every client is done.
#pragma once

#include <liburing.h>

#include <cerrno>

#include "common.h"

inline io_uring ring;

// SINGLE_ISSUER + DEFER_TASKRUN: completion work runs only when we wait, instead of
// interrupting the loop with task-work IPIs.
inline void init_ring() {
  io_uring_params params{};
  params.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int r = io_uring_queue_init_params(512, &ring, &params);
  if (r < 0) fail_errno("io_uring_queue_init_params", -r);
}

inline io_uring_sqe* get_sqe() {
  io_uring_sqe* sqe = io_uring_get_sqe(&ring);
  if (sqe) return sqe;
  int r = io_uring_submit(&ring);  // SQ full: flush and retry
  if (r < 0) fail_errno("io_uring_submit", -r);
  sqe = io_uring_get_sqe(&ring);
  if (!sqe) fail_msg("no SQE free after io_uring_submit");
  return sqe;
}

// Submits what is queued, waits for at least one completion, hands each to `on_completion`,
// until `running()` turns false.
template <class Running, class OnCompletion>
void run_ring(Running running, OnCompletion on_completion) {
  while (running()) {
    int r = io_uring_submit_and_wait(&ring, 1);
    if (r < 0 && r != -EINTR) fail_errno("io_uring_submit_and_wait", -r);
    unsigned head, seen = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring, head, cqe) {
      seen++;
      on_completion(cqe);
    }
    io_uring_cq_advance(&ring, seen);
  }
  io_uring_queue_exit(&ring);
}
