// io_counts: what a reactor backend has done so far, for runtime metrics. Both backends fill
// the same three numbers with their own meaning: on io_uring, SQEs queued, CQEs handed out and
// io_uring_enter calls; on epoll, descriptors registered, readiness events handed out and
// epoll_wait calls. The counters behind them are owned_counters of the worker's thread.
#pragma once

#include <cstdint>

#include "polarway/detail/owned_counter.hpp"

namespace polarway::detail {

struct io_counts {
  std::uint64_t submissions = 0;
  std::uint64_t completions = 0;
  std::uint64_t kernel_entries = 0;
};

}  // namespace polarway::detail
