// ticks::app::feed_server: the feed simulator behind polarway-feed (and the demo). It serves
// Binance-format market data over WebSocket, as the exchange does, to any number of clients:
//
//   /stream?streams=btcusdt@trade/ethusdt@aggTrade   combined streams ({"stream":..,"data":..})
//   /ws/btcusdt@trade                                  a raw stream (several: /ws/a@trade/b@trade)
//   /                                                  every configured symbol, --kind, raw
//   /stream, /ws                                       no stream yet (combined, raw): the client
//                                                      subscribes with control messages
//
// Binance's session rules hold on every connection. The client may change its streams live
// with control messages (ticks/control_message.hpp): SUBSCRIBE and UNSUBSCRIBE are answered
// {"result":null,"id":..} and LIST_SUBSCRIPTIONS with the connection's streams; a stream of an
// unknown symbol or kind, a malformed request, or a change that would take the connection past
// 1024 streams gets an error reply and changes nothing (a URL naming more than 1024 streams is
// refused with 400). A client may send at most 5 messages a second (pings, pongs, control
// messages, anything: ticks::rate_limiter, burst 5, timed when the bytes were read); one that
// sends more is counted (rate_limited), logged (at most ten lines a second) and closed with
// 1008. With ping_every_ms the feed pings each client at that period; a client that has not
// answered a ping with a pong within pong_timeout_ms is counted (pong_timeouts) and closed
// with 1008. A replayed feed answers control messages and keeps the set, but serves its file
// whatever the set.
//
// Flat out (no rate), each connection gets its own deterministic generators
// (ticks::feed_generator, one per kind requested, all seeded with --seed, interleaved round
// robin; a stream subset of a kind is filtered out of that kind's generator), replayed from
// message 0, or the lines of a recorded JSON-lines file (--replay, served verbatim whatever
// the path asks for). It sends `count` messages (0: until stopped or the client leaves), then
// closes with 1000 and waits (bounded) for the client's close. Messages are framed by the codec
// and written in batches of up to batch_bytes per write_all, so flat out costs one syscall per
// few hundred messages.
//
// With a rate and generated data the feed is a market (market.hpp): each kind's sequence
// advances at `rate` messages per second from the moment the first WebSocket client is
// admitted, and is the same for everybody. A connection joins every kind it asks for at the
// current market index and is sent each message as it falls due (a subset of a kind's symbols
// sees those symbols' messages of that kind's market); `count` is the market's length, and a
// connection that has sent everything up to it closes with 1000. A client that reconnects
// misses what the market produced meanwhile, as on the exchange. (A replay with a rate is paced
// per connection from its own start.) What is due is sent at every tick of a pacing thread
// (every pace_us, 100 µs by default): the runtime's timers have millisecond resolution, and a
// millisecond's worth of messages in one write is a burst that an exchange's stream does not
// have. The thread ticks only while a paced connection is open; with none it sleeps until one
// subscribes.
//
// polarway-replay serves a recording (tick_recording.hpp) the same way: each connection gets its
// own tick_merge of the streams it asks for (which must be in the recording; / is every one of
// them, raw), written by the same encoder as generated messages (ticks/tick_json.hpp), from the
// start of the recording's range to its end, then close 1000. Flat out by default; with a
// speed, a row is due (its time - the first row's time) / speed after the first was sent, at
// the pacing thread's ticks; a connection whose next row is further off than a timer is worth
// (long_wait_ns in feed_server.cpp) waits on a timer (and client input) instead, unsubscribed
// from the pacing thread meanwhile, as one with no stream does. A SUBSCRIBE adds a stream from the replay's current event time on.
// A file that fails while it is read ends that connection with 1011 and is logged.
//
// The same listener serves the REST history (rest_history.hpp): a request whose head has no
// Upgrade field goes to it instead of the WebSocket handshake (one accept loop, one head read),
// over TLS too with --tls-cert; requests on a kept-alive connection are answered in order.
//
// With disconnect_every N (--disconnect-every), a connection that has sent N messages waits
// (bounded) until the peer has acknowledged every byte, then is reset: SO_LINGER {1, 0} and
// close, so the client reads all N messages and then ECONNRESET, with no close frame, as when a
// network path breaks. Such a client misses what the market produces until it reconnects.
// With session_max_ms (--session-max-s), each WebSocket connection is closed with 1001 that
// long after it began, whatever it is doing, as the exchange ends every connection at 24 h.
// With stall_ms (--stall-ms), every stall_every messages a connection sends nothing for that
// long, answers nothing, then goes on; on a market it goes on at the market's head, so its
// client sees a gap in the ids without a disconnect (or, with an idle timeout shorter than the
// stall, drops the connection).
//
// The totals of every tick sent (feed_totals, over all connections) are kept so that a test or
// the demo can compare them with what the ingest side received; on a market, market_totals()
// adds what the market produced of each kind used, so that a test can compare an ingest's
// output with the whole market. Client input is read by a
// small reader task per connection and fed to the codec between batches: pings get their
// pong, a client close ends the stream. Connections are accepted by serve() (serve.hpp), which
// refuses those beyond max_connections. With --tls-cert / --tls-key the feed serves wss://:
// every accepted connection first completes a TLS handshake (pw::net::tls_stream::accept,
// within handshake_timeout_ms), then runs the same WebSocket session code over the TLS stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <polarway/net/socket_addr.hpp>
#include <polarway/net/tls_config.hpp>
#include <polarway/net/tcp_listener.hpp>
#include <polarway/result.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/task.hpp>

#include "cli.hpp"
#include "market.hpp"
#include "ticks/feed_generator.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

class tick_recording;

struct feed_config {
  std::string program = "polarway-feed";  // the server's log lines begin with it
  std::string listen = "127.0.0.1:9443";
  std::string metrics_listen;  // --metrics ADDR: for the program, not the server
  std::uint64_t flight_recorder = 0;  // --flight-recorder N: for the program's runtime (0: off)
  std::size_t symbols = 10;
  message_kind kind = message_kind::trade;
  std::uint64_t rate = 0;       // the market's messages per second of each kind; 0 = flat out
  std::uint64_t pace_us = 100;  // with a rate: how often what is due is sent
  std::uint64_t count = 0;      // flat out: messages per connection; with a rate: the market's
                                // length; then close 1000. 0 = unlimited
  std::uint64_t seed = 1;
  std::string replay;  // a JSON-lines file to serve instead of generated data
  double speed = 0;     // a recording: its pace times this; 0 = flat out
  bool with_send_time = false;
  std::uint64_t handshake_timeout_ms = 5000;
  std::size_t batch_bytes = 64 * 1024;
  std::uint64_t max_connections = 1024;
  std::uint64_t ping_every_ms = 20'000;    // 0: never ping
  std::uint64_t pong_timeout_ms = 60'000;  // a ping unanswered this long drops the client
  bool quiet = false;
  // wss://: both set, or neither. Every accepted connection then runs the TLS handshake
  // (within handshake_timeout_ms) before the WebSocket one.
  std::string tls_cert;  // PEM certificate chain, leaf first
  std::string tls_key;   // PEM private key
  std::string api_key;   // REST historicalTrades: the X-MBX-APIKEY required; empty: any non-empty
  std::uint64_t rest_limit_per_s = 0;  // REST requests answered per second, more get 429; 0: no limit
  // Resets every connection (TCP RST, no close frame) once it has sent this many messages, after
  // the peer has acknowledged them; 0: never. Over ws:// and wss:// alike.
  std::uint64_t disconnect_every = 0;
  // Ends every WebSocket connection this long after its handshake, with close 1001 (going
  // away), as Binance ends each of its connections at 24 hours; 0: never.
  std::uint64_t session_max_ms = 0;
  // Every stall_every messages a connection goes silent for stall_ms (--stall-ms), then goes on;
  // on a market it skips what the market produced meanwhile. 0: never.
  std::uint64_t stall_ms = 0;
  std::uint64_t stall_every = 50'000;
};

/// Parses polarway-feed's flags (argv without argv[0]).
polarway::result<feed_config, cli_error> parse_feed_args(std::span<const char* const> args);
std::string feed_usage();

/// The TLS server configuration of --tls-cert / --tls-key (none without them), or why the files
/// cannot be used, naming the file. polarway-feed checks this before starting (status 2).
polarway::result<polarway::option<polarway::net::tls_config>, std::string> load_feed_tls(const feed_config& c);

struct feed_counters {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> messages{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::uint64_t> rejected{0};  // bad handshakes, unknown streams, too many connections
  std::atomic<std::uint64_t> handshake_timeouts{0};
  std::atomic<std::uint64_t> completed{0};  // connections that sent `count` and closed with 1000
  std::atomic<std::uint64_t> tls_handshake_failures{0};  // with TLS: clients that failed or stalled it
  std::atomic<std::uint64_t> rest_requests{0};  // REST requests answered (errors included)
  std::atomic<std::uint64_t> rest_rate_limited{0};  // of which answered 429 (--rest-limit)
  std::atomic<std::uint64_t> control_requests{0};  // control messages answered (errors included)
  std::atomic<std::uint64_t> control_errors{0};    // of which answered with an error
  std::atomic<std::uint64_t> rate_limited{0};      // clients closed for sending more than 5 messages/s
  std::atomic<std::uint64_t> pong_timeouts{0};     // clients closed for not answering a ping in time
  std::atomic<std::uint64_t> sessions_expired{0};  // connections closed at --session-max-s
  std::atomic<std::uint64_t> resets{0};            // connections reset after --disconnect-every messages
  std::atomic<std::uint64_t> stalls{0};            // silences of --stall-ms
};

/// Binance's session rules, as the feed enforces them.
inline constexpr std::uint64_t max_incoming_per_second = 5;
inline constexpr std::size_t max_streams_per_connection = 1024;

class feed_server {
 public:
  /// Loads the replay file (if any) and binds the listener. With `recording`, serves its rows
  /// instead of generated data (config.replay and config.rate must be unset). Call inside the
  /// runtime.
  static polarway::result<std::unique_ptr<feed_server>, std::string> create(
      feed_config config, std::shared_ptr<const tick_recording> recording = nullptr);
  ~feed_server();

  polarway::net::socket_addr local_addr() const;
  /// Serves until `stop` is cancelled, then closes every connection (1001) and returns when
  /// they are all gone.
  polarway::task<void> run(polarway::cancellation_token stop);

  const feed_counters& counters() const noexcept { return counters_; }
  /// What every connection sent so far, summed (generated data and recordings; a JSON-lines
  /// replay has no totals).
  feed_totals totals() const;
  const feed_config& config() const noexcept { return config_; }
  /// With a rate (generated data): what the market produced of each kind a client used, up to
  /// now or to the end of run(); empty otherwise.
  std::vector<market_report> market_totals() const;

  struct shared;

 private:
  feed_server() = default;
  feed_config config_;
  polarway::option<polarway::net::tcp_listener> listener_;
  std::shared_ptr<shared> shared_;
  feed_counters counters_;
  std::jthread pacer_;  // with a rate or a speed: ticks shared_->pace every pace_us while a
                        // connection is paced; stopped and joined first
};

}  // namespace ticks::app
