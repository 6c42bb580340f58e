// wait_cancelled(token): `co_await token.cancelled()` as a task, so that it can go inside
// pw::timeout (which needs a movable awaitable; cancellation_token's awaiter is not movable).
// `co_await pw::timeout(d, wait_cancelled(stop))` is "sleep d, or less if stopped".
#pragma once

#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

namespace ticks::app {

inline polarway::task<void> wait_cancelled(polarway::cancellation_token token) { co_await token.cancelled(); }

}  // namespace ticks::app
