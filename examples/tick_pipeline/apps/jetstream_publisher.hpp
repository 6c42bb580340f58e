// ticks::app::jetstream_publisher: publishes messages to a NATS JetStream stream through the
// official C client (nats.c, Debian's libnats-dev), with a bounded window of unacknowledged
// publishes and nothing dropped.
//
// Threads: nats.c keeps its connection on threads of its own (reading, flushing, delivering
// acknowledgements). Blocking calls (connecting, the stream's lookup and creation) run on the
// runtime's blocking pool; a publish is handed to nats.c from a task (js_PublishMsgAsync only
// copies into the connection's buffer); acknowledgements come back on nats.c's thread and reach
// the tasks through a pw::semaphore (the window) and two pw::notify (failed publishes, and a
// subject's next message released by an acknowledgement), all safe to signal from any thread.
//
// Guarantees:
//   - Every message carries a Nats-Msg-Id header, so that a re-send within the stream's
//     duplicate window is stored once: a publish whose acknowledgement failed or timed out is
//     re-sent, with the same id, after a back-off, until the server acknowledges it.
//   - At most `window` publishes await their acknowledgement: publish() waits for a slot, so a
//     slow or unreachable bus pushes back on the caller; nothing queues without bound.
//   - An acknowledgement that does not come within ack_timeout_ms counts as a failure (re-sent),
//     so a message lost in a reconnect is not waited for forever.
//   - connect() retries an unreachable bus with back-off, logging each failure, until it answers
//     or the stop token fires. An existing stream must have the subjects, replicas, storage and
//     duplicate window asked for: a mismatch is refused with what differs; a missing stream is
//     created.
//
//   - A subject's messages are stored in the order they were published: one of them at a time
//     is out (sent, or failed and waiting for its re-send); the next waits in the publisher,
//     holding its window slot, until the server has acknowledged it. So if a message is stored,
//     every earlier one of its subject is, which is what a restarted ingest resumes from.
//     Subjects proceed independently: the window is shared, the order is per subject.
//   - With a merge function, the messages waiting behind a subject's message are sent as one
//     when it is acknowledged (as many as merge, up to merge_max_bytes): the busier the bus, the
//     larger its messages. Each keeps its window slot until it is merged; a merged message has
//     the id the merge function gives it, and is re-sent as any other.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

namespace ticks::app {

struct bus_options {
  std::string servers;                      // nats://HOST:PORT[,nats://HOST:PORT...]
  std::string stream = "TICKS";             // the JetStream stream
  std::string subjects = "ticks.>";         // the stream's one subject filter
  std::int64_t replicas = 3;                // the stream's replicas (1..5)
  std::uint64_t duplicate_window_ms = 120'000;
  std::size_t window = 256;                 // publishes awaiting their acknowledgement, at most
  std::uint64_t ack_timeout_ms = 5000;      // then the publish is re-sent
  std::uint64_t connect_timeout_ms = 2000;  // one connection attempt
  std::uint64_t retry_initial_ms = 100;     // back-off between attempts and re-sends
  std::uint64_t retry_max_ms = 5000;
  std::size_t merge_max_bytes = 512 * 1024;  // a merged payload at most (under NATS's 1 MiB max_payload)
};

/// Parses a --publish nats:// value, a comma-separated list of nats://HOST:PORT, into its
/// servers in the order given. The error says which element is wrong.
polarway::result<std::vector<std::string>, std::string> parse_nats_servers(std::string_view servers);
/// A JetStream stream or consumer name as the programs accept it: 1 to 255 letters, digits,
/// '-' and '_'.
polarway::result<void, std::string> check_jetstream_name(std::string_view name);

/// What the publisher did; any thread may read it.
struct bus_counters {
  std::atomic<std::uint64_t> published{0};     // messages handed to publish(), once each
  std::atomic<std::uint64_t> merged{0};        // of those, folded into an earlier one of their subject
  std::atomic<std::uint64_t> acknowledged{0};  // acknowledged by the stream (duplicates included)
  std::atomic<std::uint64_t> duplicates{0};    // acknowledged as already stored (a re-send)
  std::atomic<std::uint64_t> resent{0};        // re-sends after a failed or late acknowledgement
  std::atomic<std::uint64_t> payload_bytes{0};
  std::atomic<std::uint64_t> connect_attempts{0};
};

/// The last message the stream holds on one subject: its sequence and its Nats-Msg-Id (empty if
/// it has none).
struct last_stored_message {
  std::string subject;
  std::uint64_t seq = 0;
  std::string msg_id;
};

class jetstream_publisher {
 public:
  using log_fn = std::function<void(const std::string&)>;
  /// Folds `later` (the next message of the same subject, neither sent yet) into the message
  /// `id` / `payload`: on true they are the one message that replaces both; on false they are
  /// as they were, and the two are sent one after the other. Called on a runtime worker.
  using merge_fn = std::function<bool(std::string& id, std::vector<std::byte>& payload, std::string_view later_id,
                                      std::span<const std::byte> later)>;
  /// Rewrites the payload of a message that merge_fn folded from several, once, before it is
  /// sent (its id stays). Called on a runtime worker.
  using compact_fn = std::function<void(std::vector<std::byte>& payload)>;

  /// Connects to `options.servers` (retrying until it answers or `stop` fires: the error is then
  /// "stopped"), then checks or creates the stream. Without `merge`, every publish is sent as
  /// its own message; with `compact`, a merged message is rewritten by it.
  static polarway::task<polarway::result<std::unique_ptr<jetstream_publisher>, std::string>> connect(
      bus_options options, polarway::cancellation_token stop, log_fn log, merge_fn merge = {},
      compact_fn compact = {});

  jetstream_publisher(const jetstream_publisher&) = delete;
  jetstream_publisher& operator=(const jetstream_publisher&) = delete;
  /// Drops what is still unacknowledged: call drain() first to keep it.
  ~jetstream_publisher();

  /// Publishes `payload` on `subject` with `msg_id` as its Nats-Msg-Id: waits while the window
  /// is full. An error means the message was not handed over (the connection is closed for
  /// good, or the subject is invalid); a handed-over message is re-sent until acknowledged.
  polarway::task<polarway::result<void, std::string>> publish(std::string_view subject, std::string_view msg_id,
                                                              std::span<const std::byte> payload);

  /// Waits until every message published so far is acknowledged, at most `deadline`: the
  /// error names how many are not.
  polarway::task<polarway::result<void, std::string>> drain(std::chrono::milliseconds deadline);

  /// For each subject of the stream that matches `filter`, its last message (the stream's
  /// subject list, then one request per subject; blocking work, run on the blocking pool). A
  /// cluster between leaders is waited for, with the connection's back-off, until `stop` fires.
  polarway::task<polarway::result<std::vector<last_stored_message>, std::string>> last_messages(
      std::string filter, polarway::cancellation_token stop);

  const bus_counters& counters() const noexcept;
  const bus_options& options() const noexcept;

  struct state;

 private:
  explicit jetstream_publisher(std::shared_ptr<state> st) noexcept;
  std::shared_ptr<state> state_;
};

}  // namespace ticks::app
