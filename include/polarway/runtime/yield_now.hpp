// pw::yield_now(): lets the other tasks on this worker run before the caller continues. The
// task goes to the back of its worker's deferred queue, behind everything already waiting.
#pragma once

#include "polarway/detail/yield.hpp"

namespace polarway {

/// `co_await pw::yield_now();` reschedules the calling task behind the others on its worker.
inline detail::yield_awaiter yield_now() noexcept { return {}; }

}  // namespace polarway
