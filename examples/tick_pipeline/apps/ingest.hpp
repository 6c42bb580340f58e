// ticks::app::ingest_engine: the ingest side of the tick pipeline (polarway-ingest, the demo).
//
//   connection tasks (ingest_sessions.hpp: one per --connect URL, each reconnecting with
//   capped, jittered exponential back-off; plus one per accepted feed with --listen, accepted
//   by serve())
//     socket -> ws_session (pongs and close echoes written before the next read)
//     -> ticks::decoder -> stream_monitor -> batch of up to batch_max ticks
//     -> co_await tx.send(batch)           bounded mpsc: back-pressure reaches the sockets
//   sink task
//     rx.recv() -> tick_sink::write(batch); at the end tick_sink::flush()
//
// Decoder: one per connection task (each owns one reusable simdjson parser, so decoding
// allocates nothing in the steady state; a task may run on any worker, so "one per worker"
// would need a per-worker slot the public API does not offer).
//
// Binary messages: decoded as JSON like text ones (some feeds send JSON in binary frames) and
// counted separately; if they are not JSON they become decode errors like any other.
//
// Stopping: `stop` (a cancellation token) is cancelled by a signal, --duration, --expect, or,
// without --listen, when every client connection has finished for good. Each read of a
// connection task (ws_session::read_more) is a pw::race of the read, the token and the idle
// timeout, with the read listed first: bytes that arrived as the stop came are still decoded
// and sent, and a read that received nothing is cancelled safely. The connection then closes
// its WebSocket with 1001 and ends; the --listen accept loop waits for its sessions to end. A task waiting in tx.send() finishes that send first (the sink keeps
// draining): sends are never raced, so every tick counted in was sent, and the sink, which
// runs until every sender is gone, writes exactly the ticks that came in. Then the sink is
// flushed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include <polarway/net/socket_addr.hpp>
#include <polarway/net/tls_config.hpp>
#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "cli.hpp"
#include "committed_ids.hpp"
#include "jetstream_publisher.hpp"
#include "parquet_output.hpp"
#include "sequencing_stage.hpp"
#include "stream_tick_counts.hpp"
#include "tick_publisher.hpp"
#include "tick_sink.hpp"
#include "ticks/arrow_ipc.hpp"
#include "ticks/ws_connection.hpp"
#include "ws_url.hpp"

namespace ticks::app {

struct ingest_config {
  std::vector<ws_url> connect;
  std::string listen;  // empty: no server side
  std::size_t channel_capacity = 8192;
  std::uint64_t duration_ms = 0;  // 0: no limit
  std::uint64_t expect = 0;       // stop once the sink has written this many ticks; 0: no limit
  std::string json_summary;       // also write the summary here
  std::uint64_t sink_delay_us = 0;
  std::size_t max_message_size = std::size_t{1} << 20;
  std::uint64_t handshake_timeout_ms = 5000;
  std::uint64_t idle_timeout_ms = 0;  // 0: none. Otherwise a silent connection is closed (1001)
  std::uint64_t connect_timeout_ms = 5000;
  std::uint64_t backoff_initial_ms = 100;
  std::uint64_t backoff_max_ms = 5000;
  bool once = false;                    // one session per URL: no reconnect after it ends
  std::uint64_t stats_interval_ms = 0;  // 0: 250 ms on a terminal, 5 s otherwise
  bool quiet = false;                   // no live line or periodic stats
  // Ticks per channel message: a connection sends what it decoded from one read in batches of
  // up to this many (fewer if channel_capacity is smaller), and the sink writes each batch as
  // it comes. One channel operation per batch instead of per tick: the send's cache misses on
  // the ring were 17% of ingest's CPU at flat out.
  std::size_t batch_max = 256;
  std::uint64_t max_connections = 1024;  // accepted feeds at once
  std::uint64_t seed = 0;                // back-off jitter; 0 = from the clock
  // The runtime's options: for the program, not the engine.
  std::uint64_t workers = 0;       // runtime_options::workers (0: POLARWAY_WORKERS, else one per core)
  std::uint64_t busy_poll_us = 0;  // runtime_options::busy_poll
  std::uint64_t flight_recorder = 0;  // runtime_options::flight_recorder (0: off)
  parquet_output_config parquet;         // --out and its knobs: for the program, not the engine
  std::string metrics_listen;            // --metrics ADDR: for the program, not the engine
  publish_options publish;               // --publish ADDR and its knobs: for the program, not the engine
  // --publish nats://... and the --nats-* knobs: for the program, not the engine. bus.servers
  // empty: no bus. bus_source names this ingest in every Nats-Msg-Id; empty: the first
  // --connect URL's host:port, else "listen-" and the --listen address.
  bus_options bus;
  std::string bus_source;
  arrow_ipc::body_compression bus_compression = arrow_ipc::body_compression::none;  // merged messages' bodies
  std::string tls_ca;  // wss://: trust exactly this PEM file's CAs; empty: the system trust store
  // With a streams file, the one --connect URL is a base (/stream or /ws, no streams): the
  // file's streams are sharded over connections of at most 1024 to it and subscribed with
  // SUBSCRIBE; SIGHUP re-reads the file (see ingest_sessions.hpp).
  std::string streams_file;
  // --backfill: trade and aggTrade streams are put in id order and their gaps fetched over REST
  // (sequencing_stage.hpp); off, ticks go to the sink as they come.
  bool backfill = false;
  std::string rest_url;      // empty: default_rest_url() of the first --connect URL
  std::string api_key_file;  // its first line is the X-MBX-APIKEY for historicalTrades
  bool allow_gaps = false;   // exit 0 even when gaps were left unfilled
  // --rotate-before (needs --backfill, whose sequencing drops what two connections both
  // deliver): each --connect session is joined by a replacement rotate_before_ms before
  // session_max_ms (how long the server keeps a connection) runs out, and hands over to it.
  std::uint64_t rotate_before_ms = 0;  // 0: no rotation
  std::uint64_t session_max_ms = 24 * 3600 * 1000;
  // --backfill with --out: what the output already held when the run began, so each of its
  // streams resumes after its last committed id; with --publish nats://, after the last id the
  // bus holds from this source (bus_resume.hpp). Read by the program, not a flag.
  committed_ids resume;
};

/// The streams a --streams-file names, or why it cannot be used (naming the file and line).
polarway::result<std::vector<std::string>, std::string> read_streams_file(const std::string& path);

/// polarway-ingest's --max-open-files default: it cannot know how many partitions a feed
/// interleaves (a few dozen subscriptions is typical); the flag raises it.
inline constexpr std::size_t ingest_default_max_open_files = 64;

polarway::result<ingest_config, cli_error> parse_ingest_args(std::span<const char* const> args);
std::string ingest_usage();

/// The TLS client configuration for the wss:// URLs (none if there are none): the system
/// trust store or --tls-ca, with the handshake deadline of --handshake-timeout; or why the CA
/// file cannot be used, naming it. polarway-ingest checks it before starting (status 2).
polarway::result<polarway::option<polarway::net::tls_config>, std::string> load_ingest_tls(const ingest_config& c);

/// The most recent TLS failure's message, for the summary (any thread).
class last_error_text {
 public:
  void set(std::string text) {
    std::lock_guard lock(mu_);
    text_ = std::move(text);
  }
  std::string get() const {
    std::lock_guard lock(mu_);
    return text_;
  }

 private:
  mutable std::mutex mu_;
  std::string text_;
};

/// Every counter the summary reports; updated by the connection tasks (relaxed atomics).
struct ingest_counters {
  static constexpr std::size_t violations = static_cast<std::size_t>(ws::violation::other) + 1;
  backfill_counters backfill;  // --backfill
  std::atomic<std::uint64_t> ticks_in{0};
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> binary_messages{0};
  std::atomic<std::uint64_t> pings{0};
  std::atomic<std::uint64_t> sessions{0};  // WebSocket sessions established (both directions)
  std::atomic<std::uint64_t> reconnects{0};
  std::atomic<std::uint64_t> rotations{0};  // --rotate-before: replacements that took over
  std::atomic<std::uint64_t> connect_failures{0};
  std::atomic<std::uint64_t> handshake_failures{0};
  std::atomic<std::uint64_t> handshake_timeouts{0};
  // wss:// connections whose TLS handshake failed (certificate verify, protocol, deadline):
  // retried with the usual back-off, never in the clear. The last one's message is kept.
  std::atomic<std::uint64_t> tls_failures{0};
  last_error_text last_tls_error;
  std::atomic<std::uint64_t> idle_timeouts{0};
  std::atomic<std::uint64_t> connection_errors{0};  // read/write errors, end of stream without close
  std::atomic<std::uint64_t> rejected_connections{0};
  std::atomic<std::uint64_t> malformed_json{0};
  std::atomic<std::uint64_t> schema_errors{0};
  std::atomic<std::uint64_t> too_large{0};
  std::atomic<std::uint64_t> dropped_at_stop{0};  // decoded, but the channel was closed (sink failed)
  // --streams-file: control messages sent, their replies (not decode errors), error replies,
  // LIST_SUBSCRIPTIONS answers that matched what we subscribed and those that did not, and
  // SIGHUP reloads done or refused (a bad file keeps the old set).
  std::atomic<std::uint64_t> control_requests{0};
  std::atomic<std::uint64_t> control_replies{0};
  std::atomic<std::uint64_t> control_errors{0};
  std::atomic<std::uint64_t> lists_verified{0};
  std::atomic<std::uint64_t> lists_mismatched{0};
  std::atomic<std::uint64_t> reloads{0};
  std::atomic<std::uint64_t> reload_failures{0};
  std::array<std::atomic<std::uint64_t>, violations> ws_errors{};
  std::array<std::atomic<std::uint64_t>, 4> close_codes_received{};  // 1000, 1001, other, none

  std::uint64_t decode_errors() const noexcept {
    return malformed_json.load() + schema_errors.load() + too_large.load();
  }
  std::uint64_t ws_error_total() const noexcept {
    std::uint64_t n = 0;
    for (const auto& e : ws_errors) n += e.load();
    return n;
  }
};

struct ingest_report {
  std::uint64_t ticks_in = 0;
  std::uint64_t ticks_out = 0;
  double elapsed_s = 0;
  bool stopped_by_signal = false;
  polarway::option<polarway::error> sink_error;
};

/// What the sink must have written: every tick received, plus those backfilled, minus the
/// duplicates the sequencing stage dropped (both zero without --backfill).
inline std::uint64_t expected_ticks_out(const ingest_counters& c, const ingest_report& r) noexcept {
  return r.ticks_in + c.backfill.ticks_backfilled.load() - c.backfill.duplicates_dropped.load();
}

class ingest_engine {
 public:
  /// With `streams`, each session counts the ticks it receives per stream there.
  ingest_engine(ingest_config config, tick_sink& sink, stream_tick_counts* streams = nullptr);
  ~ingest_engine();
  ingest_engine(const ingest_engine&) = delete;
  ingest_engine& operator=(const ingest_engine&) = delete;

  /// Binds --listen (if configured); call inside the runtime, before run(). Returns the
  /// address bound (port 0 becomes a real port).
  polarway::result<polarway::option<polarway::net::socket_addr>> bind();
  /// Runs the pipeline until it stops (see the header comment) and the sink is flushed.
  polarway::task<ingest_report> run(polarway::cancellation_token stop);
  /// Ticks the sink has written so far (any thread).
  std::uint64_t ticks_out() const noexcept { return ticks_out_.load(std::memory_order_relaxed); }

  const ingest_counters& counters() const noexcept { return counters_; }

  /// A channel of the running pipeline and how full it is, in batches (of up to batch_max ticks).
  struct channel_fill {
    const char* name;  // "decoded": connections to the sink (or, with --backfill, to the sequencing
                       // stage); "sequenced": the sequencing stage to the sink
    std::size_t batches = 0;
    std::size_t capacity = 0;
  };
  /// The channels of the run going on now, none before it starts or after it ends (any thread).
  std::vector<channel_fill> channels() const;
  const ingest_config& config() const noexcept { return config_; }

  struct impl;

 private:
  ingest_config config_;
  tick_sink& sink_;
  stream_tick_counts* streams_;
  ingest_counters counters_;
  std::atomic<std::uint64_t> ticks_out_{0};
  std::unique_ptr<impl> impl_;
};

}  // namespace ticks::app
