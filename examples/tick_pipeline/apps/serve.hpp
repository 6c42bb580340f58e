// ticks::app::serve: the accept loop of every server in the pipeline (polarway-feed, and
// polarway-ingest with --listen).
//
// It accepts until `stop` is cancelled and runs handler(stream) for each connection as a task
// of one join_set. At most `limit` connections run at once: a semaphore holds one permit per
// running handler, and a connection accepted while none is free is refused (closed at once and
// reported through on_refused) rather than queued, so an overloaded server sheds load instead
// of holding sockets it does not serve.
//
// Stopping: the accept is raced against the token with the accept listed first, so a
// connection accepted as the stop came is still handed to its handler, which sees the stop and
// closes properly. serve() then waits for every handler: handlers watch the same token, so they
// end promptly, and no handler outlives the listener or the semaphore.
#pragma once

#include <chrono>
#include <concepts>
#include <cstddef>
#include <functional>
#include <utility>

#include <polarway/error.hpp>
#include <polarway/runtime/race.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/sync/join_set.hpp>
#include <polarway/sync/semaphore.hpp>
#include <polarway/task.hpp>
#include <polarway/time/sleep.hpp>

namespace ticks::app {

/// What serve() reports besides running handlers. Either may be empty.
struct serve_events {
  /// accept() failed (e.g. out of descriptors); serve() pauses for accept_error_pause and goes on.
  std::function<void(const polarway::error&)> on_accept_error;
  /// A connection was refused because `limit` handlers were running.
  std::function<void()> on_refused;
};

/// How long serve() waits after a failed accept before the next one, so that a persistent error
/// (no descriptors left) does not make it spin.
inline constexpr std::chrono::milliseconds accept_error_pause{10};

namespace detail {

// Runs one handler; the permit is given back when the task ends, whatever way it ends.
template <class Handler, class Stream>
polarway::task<void> run_handler(Handler handler, Stream stream, polarway::semaphore_permit permit) {
  co_await handler(std::move(stream));
  permit.reset();
}

}  // namespace detail

/// Accepts on `listener` until `stop` is cancelled, running at most `limit` handlers at once,
/// then waits for every handler to end. `handler` is copied into each connection's task and
/// called with the accepted stream: `polarway::task<void> handler(Stream)`.
template <class Listener, class Handler>
polarway::task<void> serve(Listener& listener, polarway::cancellation_token stop, std::size_t limit, Handler handler,
                           serve_events events = {}) {
  polarway::semaphore slots(limit);
  // Declared after the semaphore, so destroyed first: no permit outlives it.
  polarway::join_set<void> handlers;
  while (!stop.is_cancelled()) {
    auto r = co_await polarway::race(listener.accept(), stop.cancelled());
    if (r.index() == 1) break;
    auto& s = r.template get<0>();
    while (handlers.try_join_next()) {
    }
    if (!s) {
      if (events.on_accept_error) events.on_accept_error(s.error());
      co_await polarway::sleep(accept_error_pause);
      continue;
    }
    auto permit = slots.try_acquire();
    if (!permit) {
      if (events.on_refused) events.on_refused();
      continue;  // dropping the stream closes it
    }
    handlers.spawn(detail::run_handler(handler, std::move(*s), std::move(*permit)));
  }
  while (co_await handlers.join_next()) {
  }
}

}  // namespace ticks::app
