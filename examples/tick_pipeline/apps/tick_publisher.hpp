// ticks::app::tick_publisher: polarway-ingest's --publish feed. Subscribers connect over a Unix
// socket or TCP, send one request line (ticks/subscription_request.hpp: a kind, optional
// symbols, a policy) and receive the decoded ticks they asked for as an Arrow IPC stream
// (ticks/arrow_ipc.hpp), readable by pyarrow, Polars, DuckDB or Arrow JS as it is.
//
// The stream a subscriber receives:
//   refused request    a schema without fields whose metadata "polarway.error" says why, then
//                      end-of-stream, then the connection closes
//   accepted           the kind's schema (metadata "polarway.kind", "polarway.heartbeat_ms"),
//                      then record batches: data (rows > 0, no metadata), and empty batches whose
//                      message metadata is "polarway.heartbeat" (unix ns; sent whenever nothing
//                      else was for heartbeat_ms), "polarway.lagged" (batches dropped, lossy
//                      only) or "polarway.closed" (why the stream ends, then end-of-stream)
//
// Data path: the pipeline's sink task calls publish() with each batch a connection decoded
// from one read; it is stamped with the time (recv_time), shared (one copy, whatever the number
// of subscribers) and queued to every subscriber. Each subscriber has a task of its own that
// takes what is queued, keeps its kind and symbols, encodes it and writes it: a batch is written
// as soon as it is published when the subscriber keeps up (never held to fill a size); on a Unix
// socket, while the subscriber has not read the previous message yet (SIOCOUTQ), the batch
// waits for the next one or a millisecond and they go out together, so a reader that falls
// behind gets fewer, larger messages, each of at most max_rows_per_message rows.
//
// Policies, each subscriber independently:
//   block  its queue holds queue_batches batches; when it is full, publish() waits, so the
//          sink task waits and back-pressure reaches the feed: nothing is lost anywhere. A
//          block subscriber that takes nothing for stall_timeout_ms is cut off (its stream
//          ends without a closing message; it sees the connection close), so one that never
//          reads holds the pipeline for at most that long.
//   lossy  publish() never waits for it: all lossy subscribers read one ring of queue_batches
//          batches (a pw::broadcast channel), and one that falls more than that behind loses
//          the oldest batches, is told how many in-band, and goes on with the oldest kept.
// A subscriber that goes away (a failed write) is dropped; the others do not notice.
//
// Shutdown: close() stops accepting and tells every subscriber that nothing more comes; each
// writes what it still has, a closing message and end-of-stream. shutdown() waits for that at
// most drain_timeout_ms, then cuts the rest. The Unix socket file is removed at destruction.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "tick_sink.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

struct publish_options {
  std::string address;                 // unix:PATH or tcp:HOST:PORT
  std::size_t queue_batches = 1024;    // per block subscriber; the lossy ring's size
  std::uint64_t stall_timeout_ms = 5000;
  std::uint64_t heartbeat_ms = 100;
  std::uint64_t request_timeout_ms = 5000;  // to send the request line
  std::size_t max_subscribers = 64;         // more are refused
  std::uint64_t drain_timeout_ms = 2000;
  std::size_t max_rows_per_message = 16384;  // a message encodes in well under a millisecond
  std::size_t wait_for = 0;  // --publish-wait: subscribers to wait for before reading feeds
};

/// What the publisher did so far (any thread).
struct publisher_counters {
  // Subscribers now (registered and not yet ended); publish() skips all work when there are none.
  std::atomic<std::uint64_t> active{0};
  std::atomic<std::uint64_t> subscribed{0};       // requests accepted
  std::atomic<std::uint64_t> refused{0};          // bad or missing requests, over the limit, stopping
  std::atomic<std::uint64_t> stalled{0};          // block subscribers cut off for taking nothing
  std::atomic<std::uint64_t> gone{0};             // subscribers whose connection failed
  std::atomic<std::uint64_t> lagged_batches{0};   // batches lossy subscribers lost, summed
  std::atomic<std::uint64_t> ticks_sent{0};       // rows written, summed over subscribers
  std::atomic<std::uint64_t> messages_sent{0};    // data messages
  std::atomic<std::uint64_t> heartbeats{0};
  std::atomic<std::uint64_t> unrepresentable{0};  // ticks a decimal128(18, 8) cannot hold, not sent
};

/// The totals of publisher_counters, as the JSON summary and the /metrics page name them: the
/// summary's key, the metric (polarway_publish_<metric>_total) and its help text.
struct publisher_total {
  const char* key;
  const char* metric;
  std::atomic<std::uint64_t> publisher_counters::*value;
  const char* help;
};
inline constexpr publisher_total publisher_totals[] = {
    {"subscribed", "subscribed", &publisher_counters::subscribed, "Subscription requests accepted."},
    {"refused", "refused", &publisher_counters::refused,
     "Subscribers refused: a bad or missing request, too many, or stopping."},
    {"stalled", "stalled", &publisher_counters::stalled,
     "Block subscribers cut off for taking nothing for --publish-stall."},
    {"gone", "gone", &publisher_counters::gone, "Subscribers whose connection failed."},
    {"lagged_batches", "lagged_batches", &publisher_counters::lagged_batches,
     "Batches lossy subscribers lost, summed over them."},
    {"ticks_sent", "ticks_sent", &publisher_counters::ticks_sent, "Ticks written to subscribers, summed over them."},
    {"messages_sent", "messages_sent", &publisher_counters::messages_sent,
     "Record batch messages with ticks written to subscribers."},
    {"heartbeats", "heartbeats", &publisher_counters::heartbeats, "Heartbeats written to idle subscribers."},
    {"unrepresentable", "unrepresentable_ticks", &publisher_counters::unrepresentable,
     "Ticks a decimal128(18, 8) cannot hold, not published."},
};

class tick_publisher {
 public:
  /// Binds `options.address` (call inside the runtime). A Unix socket path whose file exists
  /// but that nobody accepts on (left by a killed run) is replaced; one in use is an error.
  static polarway::result<std::unique_ptr<tick_publisher>, std::string> bind(publish_options options);
  ~tick_publisher();
  tick_publisher(const tick_publisher&) = delete;
  tick_publisher& operator=(const tick_publisher&) = delete;

  /// Where subscribers connect: "unix:PATH" or "tcp:HOST:PORT" with the port bound.
  const std::string& address() const noexcept;
  /// Accepts and serves subscribers until close(), then waits for every subscriber task.
  polarway::task<void> run();
  /// Queues a batch to every subscriber (from one task at a time: the pipeline's sink task).
  /// Waits while a block subscriber's queue is full (at most stall_timeout_ms per subscriber).
  polarway::task<void> publish(std::span<const tick> batch);
  /// Waits until at least `n` subscribers are subscribed (or `stop` is cancelled; false then),
  /// so that a run can start only once its subscribers will see every tick.
  polarway::task<bool> wait_for_subscribers(std::size_t n, polarway::cancellation_token stop);
  /// No more batches: subscribers finish their stream.
  void close();
  /// close(), then waits for the subscribers to finish, cutting those still going after
  /// drain_timeout_ms. run() ends soon after.
  polarway::task<void> shutdown();

  const publisher_counters& counters() const noexcept;

  struct state;

 private:
  explicit tick_publisher(std::shared_ptr<state> s) noexcept;
  std::shared_ptr<state> state_;
};

/// A tick_sink that publishes each batch, then hands it to `downstream` (if any).
class publishing_sink final : public tick_sink {
 public:
  publishing_sink(tick_publisher& publisher, tick_sink* downstream) noexcept
      : publisher_(publisher), downstream_(downstream) {}
  polarway::task<polarway::result<void>> write(std::span<const ticks::tick> batch) override;
  polarway::task<polarway::result<void>> flush() override;

 private:
  tick_publisher& publisher_;
  tick_sink* downstream_;
};

}  // namespace ticks::app
