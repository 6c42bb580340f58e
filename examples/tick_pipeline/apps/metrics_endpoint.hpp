// ticks::app::serve_metrics: the HTTP side of --metrics ADDR. On its own listener, through the
// pipeline's one accept loop (serve.hpp) and its one request-head reader (accept_ws, which
// hands a plain GET to us): GET /metrics is answered 200 with the metrics page in the
// Prometheus text format, GET /debug/tasks with the task dump as plain text, GET /debug/trace
// with the flight recorder's trace as JSON (when the program keeps one); any other path
// 404; a request that is not a valid GET (another method, a body, a malformed head) 400; a
// WebSocket upgrade 404; a head not complete within 5 s 408. One request per connection
// (Connection: close), at most 16 connections at once.
//
// The pages are rendered on the worker that serves the request, so they must not block: the
// metrics page reads counters (relaxed atomics and runtime::metrics()) and formats text, tens
// of microseconds; a task dump's time grows with the number of live tasks (docs/benchmarks.md).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include <polarway/net/tcp_listener.hpp>
#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

namespace ticks::app {

/// What the listener serves; an empty page is answered 404.
struct http_pages {
  std::function<std::string()> metrics{};  // GET /metrics: the Prometheus text format
  std::function<std::string()> tasks{};    // GET /debug/tasks: plain text
  std::function<std::string()> trace{};    // GET /debug/trace: the flight recorder's JSON trace
};

/// Serves until `stop` is cancelled, then waits for the connections being served.
polarway::task<void> serve_metrics(polarway::net::tcp_listener& listener, polarway::cancellation_token stop,
                                   http_pages pages);

/// A program's --metrics ADDR: the listener and the serving task, for as long as the program's
/// run lasts. stop() must have completed before it is destroyed: the serving task uses the
/// listener it owns.
class metrics_server {
 public:
  /// Binds `addr` (call inside the runtime), tells stderr "<program>: metrics on
  /// http://ADDR/metrics" (the port the kernel chose, for port 0), and serves the pages until
  /// stop(). The error names the address and why it could not be bound.
  static polarway::result<std::unique_ptr<metrics_server>, std::string> start(std::string_view program,
                                                                             const std::string& addr,
                                                                             http_pages pages);
  ~metrics_server();

  /// Stops serving and waits for the connections being served.
  polarway::task<void> stop();

  struct state;

 private:
  explicit metrics_server(std::unique_ptr<state> s) noexcept;
  std::unique_ptr<state> state_;
};

/// The whole HTTP response to one request head (exposed for tests): 200 with the page asked
/// for, else the error response described above.
std::string metrics_response(std::string_view request_head, const http_pages& pages);

}  // namespace ticks::app
