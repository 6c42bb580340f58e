// ticks::app::http_client: HTTP(S) GETs over libcurl's multi-socket interface, driven by the
// polarway runtime (no thread of curl's own): one driver task owns the multi handle, and
// several requests are in flight on it at once, sharing its connection cache.
//
//   get(request) --mpsc--> driver task: curl_easy per request, curl_multi_add_handle
//   curl's socket callback -> a watcher task per socket: pw::io::async_fd readable()/writable()
//     -> (fd, readiness) --mpsc--> driver: curl_multi_socket_action(fd, ...)
//   curl's timer callback  -> the driver's deadline (pw::sleep_until in its wait)
//   a finished transfer    -> its response (or rest_error) through the request's oneshot
//
// Invariants: only the driver task calls into curl, so the multi handle is never used
// concurrently. A socket curl wants watched has exactly one watcher task at a time; when curl
// changes its interest or removes it, the old watcher is aborted and awaited before the next
// starts or the socket goes. curl's close-socket callback is deferred for a watched socket: the
// watcher is stopped and its async_fd destroyed first, then the descriptor is closed, so no wait
// is ever pending on a closed (or reused) descriptor. A readiness report that arrives after its
// watcher was replaced is ignored (each carries its watcher's generation); readiness is
// level-triggered, so the new watcher sees it again.
//
// Bounds: a response body is cut at max_body_bytes (a larger Content-Length is refused before
// any byte is buffered, a longer body stops the transfer): kind too_large. Every transfer has a
// connect and a total deadline, so a server that stalls costs a timeout, never a hang; redirects
// are not followed; only http and https are allowed. HTTPS verifies the peer and host name
// against the system trust store, or against exactly the CAs of ca_file when given.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "rest_error.hpp"

namespace ticks::app {

struct http_client_options {
  std::string ca_file;                        // empty: the system trust store
  std::uint64_t connect_timeout_ms = 5000;
  std::uint64_t total_timeout_ms = 30000;     // the whole exchange, body included
  std::size_t max_body_bytes = std::size_t{8} << 20;
  std::size_t max_in_flight = 16;             // requests on the multi handle at once; others queue
};

struct http_request {
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
};

struct http_response {
  long status = 0;
  std::string body;
  polarway::option<std::uint64_t> retry_after_s;  // Retry-After, when given in seconds
};

class http_client {
 public:
  /// Starts the driver task; call inside the runtime. A transport error when curl cannot be
  /// initialised.
  static polarway::result<http_client, rest_error> start(http_client_options options);

  http_client(http_client&&) noexcept;
  http_client& operator=(http_client&&) noexcept;
  /// Abandons what is still in flight (the driver is aborted; its transfers end with it).
  ~http_client();

  /// One GET. Cancel-safe: if the caller stops waiting, the transfer still ends within its
  /// deadlines and its answer is dropped.
  polarway::task<polarway::result<http_response, rest_error>> get(http_request request);

  /// Takes no new requests, lets those in flight finish, and ends the driver.
  polarway::task<void> shutdown();

  struct shared;

 private:
  explicit http_client(std::unique_ptr<shared> s) noexcept;
  std::unique_ptr<shared> shared_;
};

}  // namespace ticks::app
