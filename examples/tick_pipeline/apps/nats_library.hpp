// ticks::app: nats.c's library lifetime. nats.c's threads may still run a callback of a
// connection just destroyed, with the closure it was given: such closures are kept here, and
// released only by close_nats_library(), after nats_CloseAndWait has seen every one of those
// threads end.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <polarway/result.hpp>

namespace ticks::app {

/// Keeps `closure` alive until close_nats_library().
void retire_with_nats_library(std::shared_ptr<void> closure);

/// Tears nats.c down and waits for its threads, at most `timeout`, then releases the retired
/// closures (kept, if the wait timed out). Call it once every connection is destroyed, from a
/// thread that is not nats.c's; the library opens again on its next use.
polarway::result<void, std::string> close_nats_library(std::chrono::milliseconds timeout);

}  // namespace ticks::app
