// ticks::app: connecting to the NATS bus, shared by its publisher (jetstream_publisher) and its
// consumer (jetstream_consumer): one blocking attempt at a connection, the words for nats.c's
// failures, and the one loop that retries a blocking attempt with back-off until it is ready,
// fails for good, or the stop token fires.
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "jetstream_publisher.hpp"

namespace ticks::app {

/// nats.c's text for `s`, with the calling thread's detail when nats.c left one.
std::string nats_failure(natsStatus s);
/// A JetStream API failure: the client's status and the server's error code when it sent one.
std::string js_failure(natsStatus s, jsErrCode code);
/// Whether a JetStream API call failed only for now: no answer in time, no server listening yet,
/// or a cluster between leaders (a server killed or paused) that asks to be tried again.
bool jetstream_unavailable_for_now(natsStatus s, jsErrCode code) noexcept;

/// One connection attempt to `o.servers` (blocking: run it on the blocking pool), trying each
/// server in the order given. Once connected, nats.c reconnects by itself for ever, and leaves a
/// server that has not answered two pings a second apart.
polarway::result<natsConnection*, std::string> open_nats_connection(const bus_options& o, const char* client_name);

/// What one blocking attempt came to.
struct bus_attempt {
  enum class outcome { ready, retry, fail } what;
  std::string why;  // for retry and fail
};

/// Runs `attempt` on the blocking pool until it is ready (ok) or fails (its why), waiting a
/// back-off between tries and logging each retried failure; `stop` ends the waiting with an
/// error naming the last failure. Counts the attempts in `attempts`.
polarway::task<polarway::result<void, std::string>> retry_bus_attempts(std::function<bus_attempt()> attempt,
                                                                       const bus_options& o,
                                                                       polarway::cancellation_token stop,
                                                                       const jetstream_publisher::log_fn& log,
                                                                       std::atomic<std::uint64_t>& attempts);

}  // namespace ticks::app
