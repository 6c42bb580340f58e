#include "feed_server.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include <polarway/fs/file.hpp>
#include <polarway/net/tls_stream.hpp>
#include <polarway/runtime.hpp>

#include "market.hpp"
#include "process_stats.hpp"
#include "rate_limited_log.hpp"
#include "rest_history.hpp"
#include "serve.hpp"
#include "tick_recording.hpp"
#include "ticks/control_message.hpp"
#include "ticks/rate_limiter.hpp"
#include "ticks/rest_request.hpp"
#include "ticks/stream_set.hpp"
#include "ticks/tick_json.hpp"
#include "ticks/utf8.hpp"
#include "ticks/ws_connection.hpp"
#include "ticks/ws_handshake.hpp"
#include "ws_session.hpp"

namespace ticks::app {

namespace pw = polarway;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Flags

std::string feed_usage() {
  return "usage: polarway-feed [options]\n"
         "  --listen ADDR            address to serve on (default 127.0.0.1:9443)\n"
         "  --metrics ADDR           serve GET /metrics (Prometheus text format) on ADDR while running\n"
         "  --flight-recorder N      each worker keeps its last N scheduler events, served as a\n"
         "                           Perfetto trace at GET /debug/trace with --metrics and written\n"
         "                           to a file on SIGUSR1 (default: off; at most 16777216)\n"
         "  --symbols N              symbols to simulate, 1..10000 (default 10)\n"
         "  --kind K                 trade | aggTrade | bookTicker: kind served at / (default trade)\n"
         "  --rate N[/s]             the market's messages per second of each kind, 0 = flat out (default 0).\n"
         "                           With a rate the feed is a market: its clock starts when the first\n"
         "                           WebSocket client is admitted, message i of a kind is due at i/N s and\n"
         "                           is the same for everybody; a connection joins at the current message\n"
         "                           and sees what is due from then on (a reconnect misses what came\n"
         "                           meanwhile). Flat out, every connection gets its own replay from 0.\n"
         "                           (--replay with a rate: each connection paced from its own start.)\n"
         "  --pace-us N              with --rate, send what is due every N microseconds,\n"
         "                           10..100000 (default 100)\n"
         "  --count N                flat out: messages per connection; with --rate: the market's length\n"
         "                           per kind. Connections that reach it close with 1000; 0 = unlimited\n"
         "                           (default 0)\n"
         "  --seed N                 generator seed (default 1)\n"
         "  --replay FILE            serve the lines of a JSON-lines file instead (verbatim, in a loop\n"
         "                           up to --count, else once); every line must be UTF-8\n"
         "  --with-send-time         add \"pw_ts\" (send time, ns since the epoch) to every message\n"
         "  --handshake-timeout S    seconds a client has to finish its upgrade request (default 5)\n"
         "  --batch-bytes N          bytes of frames per write, 1024..16777216 (default 65536)\n"
         "  --max-connections N      concurrent connections, 1..100000 (default 1024)\n"
         "  --ping-every S           ping every client every S seconds, 0 = never (default 20, as\n"
         "                           Binance)\n"
         "  --pong-timeout S         close a client that has not answered a ping within S seconds\n"
         "                           (default 60, as Binance)\n"
         "  --quiet                  no log lines\n"
         "  --tls-cert FILE          serve wss://: PEM certificate chain (leaf first); needs --tls-key\n"
         "  --tls-key FILE           the certificate's PEM private key; the TLS handshake shares\n"
         "                           --handshake-timeout with the WebSocket one\n"
         "  --api-key K              the X-MBX-APIKEY that historicalTrades requires (default: any\n"
         "                           non-empty key)\n"
         "  --disconnect-every N     reset each connection (TCP RST, no close frame) once it has sent N\n"
         "                           messages and the client has them all; 0 = never (default 0)\n"
         "  --stall-ms MS            go silent for MS milliseconds on each connection every\n"
         "                           --stall-every messages (default 50000): nothing sent, no pong;\n"
         "                           on a market, what it produced meanwhile is skipped\n"
         "  --session-max-s S        close each connection with 1001 S seconds after it began, as\n"
         "                           Binance does at 24 hours (decimals allowed; default: never)\n"
         "paths: /stream?streams=btcusdt@trade/ethusdt@aggTrade, /ws/btcusdt@trade, / for all, or\n"
         "       /stream, /ws for none yet; at most 1024 streams per connection\n"
         "control messages: SUBSCRIBE, UNSUBSCRIBE, LIST_SUBSCRIPTIONS (Binance's JSON); a client\n"
         "sending more than 5 messages a second (pongs and control messages included) is closed\n"
         "REST (same listener, with --rate; plain GET requests, keep-alive, Binance's format and errors):\n"
         "  /api/v3/aggTrades?symbol=BTCUSDT&fromId=N[&limit=1..1000]         the aggTrade market's history\n"
         "  /api/v3/historicalTrades?symbol=BTCUSDT&fromId=N[&limit=1..1000]  the trade market's; needs\n"
         "                                                                    X-MBX-APIKEY\n"
         "  only messages the market has produced; values identical to the stream's\n"
         "  --rest-limit N           answer at most N REST requests a second, the rest 429 with\n"
         "                           Retry-After (Binance's rate limit; default: no limit)\n";
}

pw::result<feed_config, cli_error> parse_feed_args(std::span<const char* const> args) {
  feed_config c;
  bool stall_every_given = false;
  arg_reader r(args);
  for (;;) {
    auto f = r.next_flag();
    if (!f) return pw::err(f.error());
    if (!*f) break;
    const std::string_view flag = **f;
    pw::result<void, cli_error> step = pw::ok();
    if (flag == "--listen") {
      step = r.address_into(c.listen, "127.0.0.1:9443");
    } else if (flag == "--metrics") {
      step = r.address_into(c.metrics_listen, "127.0.0.1:9465");
    } else if (flag == "--flight-recorder") {
      step = r.uint_into(c.flight_recorder, 1, pw::runtime_options::max_flight_recorder);
    } else if (flag == "--symbols") {
      step = r.uint_into(c.symbols, 1, feed_generator::max_symbols);
    } else if (flag == "--kind") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        auto k = parse_message_kind(v);
        if (!k) return pw::err(cli_error{"--kind: '" + std::string(v) + "' is not trade, aggTrade or bookTicker"});
        c.kind = *k;
        return pw::ok();
      });
    } else if (flag == "--rate") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        auto n = parse_rate(flag, v);
        if (!n) return pw::err(n.error());
        c.rate = *n;
        return pw::ok();
      });
    } else if (flag == "--pace-us") {
      step = r.uint_into(c.pace_us, 10, 100'000);
    } else if (flag == "--count") {
      step = r.uint_into(c.count, 0, std::uint64_t{1} << 62);
    } else if (flag == "--seed") {
      step = r.uint_into(c.seed, 0, UINT64_MAX);
    } else if (flag == "--replay") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--replay: needs a file name"});
        c.replay = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--with-send-time") {
      step = r.no_value();
      c.with_send_time = true;
    } else if (flag == "--quiet") {
      step = r.no_value();
      c.quiet = true;
    } else if (flag == "--handshake-timeout") {
      step = r.seconds_into(c.handshake_timeout_ms, 3600, false);
    } else if (flag == "--batch-bytes") {
      step = r.uint_into(c.batch_bytes, 1024, 16u << 20);
    } else if (flag == "--max-connections") {
      step = r.uint_into(c.max_connections, 1, 100000);
    } else if (flag == "--api-key") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--api-key: needs a key"});
        for (const char ch : v)
          if (static_cast<unsigned char>(ch) <= 0x20 || static_cast<unsigned char>(ch) >= 0x7F)
            return pw::err(cli_error{"--api-key: only visible ASCII characters"});
        c.api_key = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--rest-limit") {
      step = r.uint_into(c.rest_limit_per_s, 1, 1'000'000);
    } else if (flag == "--disconnect-every") {
      step = r.uint_into(c.disconnect_every, 0, std::uint64_t{1} << 62);
    } else if (flag == "--stall-ms") {
      step = r.uint_into(c.stall_ms, 1, 3'600'000);
    } else if (flag == "--stall-every") {
      step = r.uint_into(c.stall_every, 1, std::uint64_t{1} << 62);
      stall_every_given = true;
    } else if (flag == "--ping-every") {
      step = r.seconds_into(c.ping_every_ms, 3600, true);
    } else if (flag == "--pong-timeout") {
      step = r.seconds_into(c.pong_timeout_ms, 3600, false);
    } else if (flag == "--session-max-s") {
      step = r.seconds_into(c.session_max_ms, 7 * 86400, false);
    } else if (flag == "--tls-cert" || flag == "--tls-key") {
      std::string& into = flag == "--tls-cert" ? c.tls_cert : c.tls_key;
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{std::string(flag) + ": needs a file name"});
        into = std::string(v);
        return pw::ok();
      });
    } else {
      return pw::err(unknown_flag(flag));
    }
    if (!step) return pw::err(step.error());
  }
  if (stall_every_given && c.stall_ms == 0) return pw::err(cli_error{"--stall-every: only with --stall-ms"});
  if (c.tls_cert.empty() != c.tls_key.empty())
    return pw::err(cli_error{c.tls_cert.empty() ? "--tls-key: needs --tls-cert" : "--tls-cert: needs --tls-key"});
  return c;
}

pw::result<pw::option<pw::net::tls_config>, std::string> load_feed_tls(const feed_config& c) {
  if (c.tls_cert.empty()) return pw::option<pw::net::tls_config>(pw::none);
  auto tls = pw::net::tls_config::server(c.tls_cert, c.tls_key);
  tls.handshake_timeout(std::chrono::milliseconds(c.handshake_timeout_ms));
  if (auto st = tls.status(); !st) return pw::err("--tls-cert / --tls-key: " + st.error().message());
  return pw::option<pw::net::tls_config>(std::move(tls));
}

// ---------------------------------------------------------------------------------------------
// What one connection sends

struct feed_server::shared {
  explicit shared(feed_config c)
      : config(std::move(c)), rules_log(config.program.c_str()), rest_limit(config.rest_limit_per_s) {}

  feed_config config;
  feed_counters* counters = nullptr;
  std::vector<std::string> replay_lines;
  std::map<std::string, std::size_t, std::less<>> symbol_index;  // "btcusdt" -> generator index
  std::mutex totals_mu;
  feed_totals totals;
  pw::notify pace;  // with a rate: the pacing thread's tick, for every connection
  // Connections waiting on `pace`. The pacing thread ticks only while there is one: an idle
  // feed sleeps in `subscribed` instead of waking every pace_us for nobody.
  std::mutex pace_mu;
  std::condition_variable_any subscribed;
  std::size_t subscribers = 0;  // guarded by pace_mu
  pw::option<pw::net::tls_config> tls;  // --tls-cert: every connection is TLS first
  pw::option<rest_history> rest;       // the REST history (of the market, if any)
  std::shared_ptr<const tick_recording> recording;  // polarway-replay: the part files served
  std::unique_ptr<app::market> market;  // --rate with generated data: the market connections join
  log_limiter rules_log;  // clients breaking the session rules
  rest_rate_limit rest_limit;  // --rest-limit

  void log(const std::string& line) const {
    if (!config.quiet) std::fprintf(stderr, "%s: %s\n", config.program.c_str(), line.c_str());
  }
};

namespace {

// Counts a paced connection as subscribed to the pacing thread for its lifetime.
class pace_subscription {
 public:
  explicit pace_subscription(feed_server::shared& sh) : sh_(sh) {
    {
      std::lock_guard lock(sh_.pace_mu);
      ++sh_.subscribers;
    }
    sh_.subscribed.notify_all();
  }
  ~pace_subscription() {
    std::lock_guard lock(sh_.pace_mu);
    --sh_.subscribers;
  }
  pace_subscription(const pace_subscription&) = delete;
  pace_subscription& operator=(const pace_subscription&) = delete;

 private:
  feed_server::shared& sh_;
};

void merge(feed_totals& into, const feed_totals& t) noexcept {
  into.count += t.count;
  into.price_sum += t.price_sum;
  into.quantity_sum += t.quantity_sum;
}

// The messages of one connection: generated (one generator per kind requested), the lines of
// a JSON-lines file, or a recording's rows (a tick_merge of the connection's streams).
class message_source {
 public:
  struct kind_stream {
    feed_generator gen;
    std::vector<symbol> wanted;  // empty: every symbol of the generator
  };

  static message_source replay(const std::vector<std::string>& lines, bool with_send_time) {
    message_source m;
    m.replay_ = &lines;
    m.with_send_time_ = with_send_time;
    return m;
  }
  static message_source recorded(std::shared_ptr<const tick_recording> recording, std::vector<std::string> names,
                                 bool combined, bool with_send_time) {
    message_source m;
    m.merge_ = std::make_unique<tick_merge>(std::move(recording), names);
    m.names_ = std::move(names);
    m.combined_ = combined;
    m.with_send_time_ = with_send_time;
    m.buffer_ = std::make_unique<std::array<char, tick_message_capacity>>();
    return m;
  }
  static message_source generated(std::vector<kind_stream> streams, std::vector<std::string> names, bool combined) {
    message_source m;
    m.streams_ = std::move(streams);
    m.names_ = std::move(names);
    m.combined_ = combined;
    return m;
  }

  bool is_replay() const noexcept { return replay_ != nullptr; }
  /// A recording's rows: merge() holds them.
  bool is_recorded() const noexcept { return merge_ != nullptr; }
  tick_merge& merge() noexcept { return *merge_; }
  /// Generated or recorded, but subscribed to nothing: there is nothing to send until a
  /// SUBSCRIBE.
  bool idle() const noexcept { return merge_ ? names_.empty() : replay_ == nullptr && streams_.empty(); }
  bool combined() const noexcept { return combined_; }
  /// The connection's streams (sorted), as LIST_SUBSCRIPTIONS reports them.
  const std::vector<std::string>& names() const noexcept { return names_; }
  /// Serves `names` from now on (a JSON-lines replay keeps serving its file; only the set
  /// changes).
  void replace(std::vector<kind_stream> streams, std::vector<std::string> names) {
    if (merge_) {
      merge_->set_streams(names);
    } else if (!replay_) {
      streams_ = std::move(streams);
      rr_ = 0;
    }
    names_ = std::move(names);
  }
  std::size_t replay_size() const noexcept { return replay_ ? replay_->size() : 0; }

  /// The next message (valid until the next call), adding its tick to `totals` if generated.
  /// `now_ns` is its send time, when messages carry one: the time of the batch it is written in.
  std::string_view next(feed_totals& totals, std::int64_t now_ns) {
    if (replay_) {
      const std::string& line = (*replay_)[pos_++ % replay_->size()];
      if (!with_send_time_) return line;
      return with_pw_ts(line, now_ns);
    }
    kind_stream& k = streams_[rr_];
    rr_ = (rr_ + 1) % streams_.size();
    for (;;) {
      const std::string_view msg = k.gen.next(now_ns);
      if (!k.wanted.empty() &&
          std::find(k.wanted.begin(), k.wanted.end(), symbol_of(k.gen.last())) == k.wanted.end())
        continue;  // a symbol this connection did not ask for
      totals.add(k.gen.last());
      return msg;
    }
  }

  /// A recording's next row as a message (valid until the next call), adding its tick to
  /// `totals`. Only when merge().ready().
  std::string_view next_recorded(feed_totals& totals, std::int64_t now_ns) {
    const ticks::tick& t = merge_->front();
    const std::string_view stream = combined_ ? merge_->front_stream() : std::string_view();
    const pw::option<std::int64_t> sent = with_send_time_ ? pw::option<std::int64_t>(now_ns) : pw::none;
    char* const end = write_tick_message(buffer_->data(), t, stream, sent);
    totals.add(t);
    merge_->pop();
    return std::string_view(buffer_->data(), static_cast<std::size_t>(end - buffer_->data()));
  }

  /// On a market: the next message of a kind whose generator is behind `head` (round robin
  /// over the kinds, skipping symbols not asked for), adding its tick to `totals`; none once
  /// every kind has reached `head`.
  pw::option<std::string_view> next_due(std::uint64_t head, feed_totals& totals, std::int64_t now_ns) {
    for (std::size_t tried = 0; tried < streams_.size(); ++tried) {
      kind_stream& k = streams_[rr_];
      rr_ = (rr_ + 1) % streams_.size();
      while (k.gen.produced() < head) {
        const std::string_view msg = k.gen.next(now_ns);
        if (!k.wanted.empty() &&
            std::find(k.wanted.begin(), k.wanted.end(), symbol_of(k.gen.last())) == k.wanted.end())
          continue;
        totals.add(k.gen.last());
        return msg;
      }
    }
    return pw::none;
  }
  /// On a market: the index every kind has reached.
  std::uint64_t market_position() const noexcept {
    std::uint64_t at = UINT64_MAX;
    for (const auto& k : streams_) at = std::min(at, k.gen.produced());
    return at;
  }
  /// On a market: moves every kind on to message `index` (what came meanwhile is not sent).
  void jump_to(app::market& m, std::uint64_t index) {
    for (auto& k : streams_)
      if (k.gen.produced() < index) m.seek(k.gen, index);
  }

 private:
  // A recorded message with ,"pw_ts":N added to the innermost object (the "data" object of a
  // combined message, whose closing brace is the second to last).
  std::string_view with_pw_ts(const std::string& line, std::int64_t now) {
    scratch_ = line;
    std::size_t at = scratch_.rfind('}');
    if (at != std::string::npos && scratch_.starts_with("{\"stream\"") && at > 0) at = scratch_.rfind('}', at - 1);
    if (at == std::string::npos) return line;
    scratch_.insert(at, ",\"pw_ts\":" + std::to_string(now));
    return scratch_;
  }

  const std::vector<std::string>* replay_ = nullptr;
  bool with_send_time_ = false;
  std::size_t pos_ = 0;
  std::vector<kind_stream> streams_;
  std::size_t rr_ = 0;
  std::vector<std::string> names_;
  bool combined_ = false;
  std::string scratch_;
  std::unique_ptr<tick_merge> merge_;
  std::unique_ptr<std::array<char, tick_message_capacity>> buffer_;  // next_recorded's message
};

// Why a stream cannot be served: none if it can, else the reason, for a 404 or an error reply.
pw::option<std::string> unknown_stream(const feed_server::shared& sh, std::string_view one) {
  const auto at = one.find('@');
  if (at == std::string_view::npos) return "stream '" + std::string(one) + "' has no @kind";
  if (!parse_message_kind(one.substr(at + 1))) return "unknown stream kind in '" + std::string(one) + "'";
  if (sh.recording) {
    if (sh.recording->has_stream(one)) return pw::none;
    return "stream '" + std::string(one) + "' is not in the recording";
  }
  if (sh.symbol_index.find(one.substr(0, at)) == sh.symbol_index.end())
    return "unknown symbol in '" + std::string(one) + "' (the feed simulates " + std::to_string(sh.config.symbols) +
           " symbols)";
  return pw::none;
}

// The generators for `names` (each servable: see unknown_stream), one per kind in order of
// first appearance, each filtering the symbols asked for. With a market they join it at its
// current head (a subscription made later starts later, as on the exchange); without one each
// starts the seed's sequence from the beginning.
pw::result<std::vector<message_source::kind_stream>, std::string> generators_for(const feed_server::shared& sh,
                                                                                const std::vector<std::string>& names,
                                                                                bool combined) {
  const feed_config& c = sh.config;
  std::vector<std::pair<message_kind, std::vector<std::size_t>>> by_kind;
  for (const std::string& one : names) {
    const auto at = one.find('@');
    const message_kind k = *parse_message_kind(std::string_view(one).substr(at + 1));
    const std::size_t i = sh.symbol_index.find(std::string_view(one).substr(0, at))->second;
    auto it = std::find_if(by_kind.begin(), by_kind.end(), [&](const auto& p) { return p.first == k; });
    if (it == by_kind.end()) it = by_kind.insert(by_kind.end(), {k, {}});
    if (std::find(it->second.begin(), it->second.end(), i) == it->second.end()) it->second.push_back(i);
  }
  std::vector<message_source::kind_stream> streams;
  if (sh.market) {
    // Every kind's market has every symbol; the connection joins each at the current head.
    const std::int64_t now = monotonic_ns();
    sh.market->start(now);
    const std::uint64_t head = sh.market->head(now);
    for (auto& [kind, indices] : by_kind) {
      message_source::kind_stream ks{sh.market->generator_at(kind, head, combined, c.with_send_time), {}};
      if (indices.size() != c.symbols)
        for (std::size_t i : indices) ks.wanted.push_back(ks.gen.symbols()[i]);
      streams.push_back(std::move(ks));
    }
    return streams;
  }
  for (auto& [kind, indices] : by_kind) {
    const std::size_t n = *std::max_element(indices.begin(), indices.end()) + 1;
    auto gen = feed_generator::create(feed_options{
        .seed = c.seed, .symbols = n, .kind = kind, .combined = combined, .with_sent_ns = c.with_send_time});
    if (!gen) return pw::err("generator: " + gen.error().message());
    message_source::kind_stream ks{std::move(*gen), {}};
    if (indices.size() != n)
      for (std::size_t i : indices) ks.wanted.push_back(ks.gen.symbols()[i]);
    streams.push_back(std::move(ks));
  }
  return streams;
}

// Turns a request target into the connection's message source.
pw::result<message_source, ws_refusal> plan_for(const feed_server::shared& sh, std::string_view target) {
  const feed_config& c = sh.config;
  // A replay serves its file whatever the path asks for; control messages still change its set.
  if (!sh.replay_lines.empty()) return message_source::replay(sh.replay_lines, c.with_send_time);
  bool combined = true;
  bool all = false;
  std::string_view list;
  if (target == "/" || target.empty()) {
    combined = false;  // raw: a client that asked for no stream gets no wrapper either
    all = true;
  } else if (target == "/stream" || target == "/ws") {
    combined = target == "/stream";  // nothing yet: the client subscribes
  } else if (target.starts_with("/stream?streams=")) {
    list = target.substr(16);
    if (list.empty()) return pw::err(ws_refusal{400, "empty streams= list"});
  } else if (target.starts_with("/ws/")) {
    combined = false;
    list = target.substr(4);
    if (list.empty()) return pw::err(ws_refusal{400, "no stream after /ws/"});
  } else {
    return pw::err(ws_refusal{404, "unknown path (use /stream?streams=a@trade/b@trade, /ws/a@trade, /stream or /ws)"});
  }

  // The streams asked for, in the order asked (the kinds' round robin follows it).
  std::vector<std::string> ordered;
  if (all && sh.recording) {
    ordered = sh.recording->streams();
    if (ordered.size() > max_streams_per_connection)
      return pw::err(ws_refusal{400, "the recording has " + std::to_string(ordered.size()) + " streams, more than " +
                                         std::to_string(max_streams_per_connection) +
                                         " a connection carries: ask for them by name"});
  } else if (all) {
    for (const auto& [name, index] : sh.symbol_index) ordered.push_back(name + "@" + std::string(to_string(c.kind)));
  }
  while (!list.empty()) {
    const auto slash = list.find('/');
    const std::string_view one = list.substr(0, slash);
    list = slash == std::string_view::npos ? std::string_view() : list.substr(slash + 1);
    if (ordered.size() == max_streams_per_connection)
      return pw::err(ws_refusal{400, "more than " + std::to_string(max_streams_per_connection) + " streams"});
    if (auto why = unknown_stream(sh, one)) return pw::err(ws_refusal{one.find('@') == std::string_view::npos ? 400 : 404, *why});
    ordered.emplace_back(one);
  }
  std::vector<std::string> names = make_stream_set(ordered);
  if (sh.recording) return message_source::recorded(sh.recording, std::move(names), combined, c.with_send_time);
  auto gens = generators_for(sh, ordered, combined);
  if (!gens) return pw::err(ws_refusal{500, gens.error()});
  return message_source::generated(std::move(*gens), std::move(names), combined);
}

// Client input as read, with the time it was read: the message rate is judged by arrival, not
// by when the sending task got round to looking.
struct input_chunk {
  std::int64_t read_ns = 0;
  std::vector<std::byte> bytes;
};

// Reads client bytes and passes them on, so that the sending task can look at them between
// batches without ever blocking on a read. Ends at end of stream or error (dropping `tx`).
// Over TLS this is the stream's one reading task beside the one writing task.
template <class Transport>
pw::task<void> pump_input(Transport& s, pw::mpsc::sender<input_chunk> tx) {
  for (;;) {
    std::vector<std::byte> buf(4096);
    auto n = co_await s.read(buf);
    if (!n || *n == 0) co_return;
    buf.resize(*n);
    // A named local, not a temporary in the co_await: g++ 12 destroys those twice.
    input_chunk chunk{monotonic_ns(), std::move(buf)};
    auto sending = tx.send(std::move(chunk));
    if (!(co_await std::move(sending))) co_return;
  }
}

// One connection's session rules: the incoming message budget, the ping / pong deadline, and
// the answers to control messages, which change the connection's streams.
class session_rules {
 public:
  enum class verdict : std::uint8_t { ok, too_fast };

  session_rules(feed_server::shared& sh, message_source& src, const std::string& peer, std::int64_t now)
      : sh_(sh), src_(src), peer_(peer), incoming_(max_incoming_per_second, max_incoming_per_second) {
    if (sh.config.ping_every_ms) next_ping_ns_ = now + ms(sh.config.ping_every_ms);
    if (sh.config.session_max_ms) session_end_ns_ = now + ms(sh.config.session_max_ms);
  }

  /// One event from the client, read at `read_ns`; replies are queued on `conn`. False when
  /// the client broke the message rate (it is counted and logged).
  bool on_event(ws::connection& conn, const ws::event& ev, std::int64_t read_ns) {
    if (!incoming_.try_acquire(read_ns)) {
      sh_.counters->rate_limited.fetch_add(1, std::memory_order_relaxed);
      if (!sh_.config.quiet)
        sh_.rules_log.line(peer_ + ": more than " + std::to_string(max_incoming_per_second) +
                           " messages in a second, closing (1008)");
      return false;
    }
    if (ev.kind == ws::event_kind::pong) ping_sent_ns_.reset();
    if (ev.kind == ws::event_kind::text || ev.kind == ws::event_kind::binary) answer(conn, ev.text());
    return true;
  }

  /// Pings when one is due. False when the last ping went unanswered past the deadline (the
  /// client is counted and logged).
  bool keepalive(ws::connection& conn, std::int64_t now) {
    const feed_config& c = sh_.config;
    if (ping_sent_ns_ && now - *ping_sent_ns_ >= ms(c.pong_timeout_ms)) {
      sh_.counters->pong_timeouts.fetch_add(1, std::memory_order_relaxed);
      if (!c.quiet)
        sh_.rules_log.line(peer_ + ": no pong within " + std::to_string(c.pong_timeout_ms) + " ms, closing (1008)");
      return false;
    }
    if (c.ping_every_ms && now >= next_ping_ns_) {
      if (conn.send_ping() && !ping_sent_ns_) ping_sent_ns_ = now;
      next_ping_ns_ = now + ms(c.ping_every_ms);
    }
    return true;
  }

  /// Whether the connection has lived its --session-max-s (then it is counted and logged: the
  /// caller closes it).
  bool session_over(std::int64_t now) {
    if (now < session_end_ns_) return false;
    sh_.counters->sessions_expired.fetch_add(1, std::memory_order_relaxed);
    if (!sh_.config.quiet)
      sh_.rules_log.line(peer_ + ": session reached --session-max-s, closing (1001)");
    return true;
  }

  /// When keepalive() or session_over() next has something to do (INT64_MAX: never).
  std::int64_t next_deadline_ns() const noexcept {
    std::int64_t t = std::min(sh_.config.ping_every_ms ? next_ping_ns_ : INT64_MAX, session_end_ns_);
    if (ping_sent_ns_) t = std::min(t, *ping_sent_ns_ + ms(sh_.config.pong_timeout_ms));
    return t;
  }

  /// Whether the streams changed since the last call (the pacing starts over then).
  bool take_changed() noexcept { return std::exchange(changed_, false); }

 private:
  static std::int64_t ms(std::uint64_t v) noexcept { return static_cast<std::int64_t>(v) * 1'000'000; }

  void answer(ws::connection& conn, std::string_view text) {
    feed_counters& counters = *sh_.counters;
    counters.control_requests.fetch_add(1, std::memory_order_relaxed);
    auto req = control::parse_request(text);
    std::string reply;
    if (!req) {
      reply = control::encode_error(req.error());
    } else if (req->what == control::method::list_subscriptions) {
      reply = control::encode_list(src_.names(), req->id);
    } else {
      auto changed = change(*req);
      reply = changed ? control::encode_done(req->id) : control::encode_error(changed.error());
    }
    if (reply.starts_with("{\"error\"")) counters.control_errors.fetch_add(1, std::memory_order_relaxed);
    (void)conn.send_text(reply);
  }

  pw::result<void, control::control_error> change(const control::request& req) {
    const auto refuse = [&](std::string why) {
      return pw::err(control::control_error{control::error_code::invalid_request, "Invalid request: " + why, req.id});
    };
    std::vector<std::string> names = src_.names();
    if (req.what == control::method::subscribe) {
      for (const std::string& one : req.params)
        if (auto why = unknown_stream(sh_, one)) return refuse(*why);
      names.insert(names.end(), req.params.begin(), req.params.end());
      names = make_stream_set(std::move(names));
      if (names.size() > max_streams_per_connection)
        return refuse("a connection carries at most " + std::to_string(max_streams_per_connection) + " streams");
    } else {
      std::erase_if(names, [&](const std::string& n) {
        return std::find(req.params.begin(), req.params.end(), n) != req.params.end();
      });
    }
    if (names == src_.names()) return pw::ok();
    std::vector<message_source::kind_stream> gens;
    if (!src_.is_replay() && !src_.is_recorded()) {
      auto g = generators_for(sh_, names, src_.combined());
      if (!g) return refuse(g.error());
      gens = std::move(*g);
    }
    src_.replace(std::move(gens), std::move(names));
    changed_ = true;
    return pw::ok();
  }

  feed_server::shared& sh_;
  message_source& src_;
  const std::string& peer_;
  rate_limiter incoming_;
  std::int64_t next_ping_ns_ = 0;
  std::int64_t session_end_ns_ = INT64_MAX;
  std::optional<std::int64_t> ping_sent_ns_;  // the oldest unanswered ping
  bool changed_ = false;
};

template <class Transport>
peer_state absorb_chunk(ws_session<Transport>& session, const input_chunk& chunk, session_rules& rules) {
  ws::connection& conn = session.connection();
  return session.absorb(chunk.bytes, [&](const ws::event& ev) { return rules.on_event(conn, ev, chunk.read_ns); });
}

// Hands whatever the client sent so far to the session; pongs and close echoes land in its
// output, the other events go to the session's rules.
template <class Transport>
peer_state absorb_input(ws_session<Transport>& session, pw::mpsc::receiver<input_chunk>& rx, session_rules& rules) {
  for (;;) {
    auto chunk = rx.try_recv();
    if (!chunk) return chunk.error() == pw::mpsc::try_recv_error::disconnected ? peer_state::gone : peer_state::open;
    if (const peer_state st = absorb_chunk(session, *chunk, rules); st != peer_state::open) return st;
  }
}

template <class Transport>
pw::task<pw::result<void, transport_failure>> write_output(ws_session<Transport>& session, feed_counters& counters) {
  auto n = co_await session.flush();
  if (!n) co_return pw::err(n.error());
  counters.bytes.fetch_add(*n, std::memory_order_relaxed);
  co_return pw::ok();
}

// After our close frame: wait for the client's, so that it reads everything before we go.
template <class Transport>
pw::task<void> await_close(ws_session<Transport>& session, pw::mpsc::receiver<input_chunk>& rx) {
  const ws::connection& conn = session.connection();
  while (!conn.close_received() && !conn.is_closed()) {
    auto chunk = co_await rx.recv();
    if (!chunk || session.absorb(chunk->bytes) == peer_state::gone) co_return;
  }
}

// Nothing to send until `wake_at_ns` (INT64_MAX: until the client subscribes): waits for client
// input, the next ping or pong deadline, that time, or the stop (an hour at most), and absorbs
// what came.
template <class Transport>
pw::task<peer_state> await_input(ws_session<Transport>& session, pw::mpsc::receiver<input_chunk>& rx,
                                 session_rules& rules, const pw::cancellation_token& stop, std::int64_t wake_at_ns) {
  constexpr std::int64_t hour_ns = std::int64_t{3600} * 1'000'000'000;
  const std::int64_t deadline = std::min(rules.next_deadline_ns(), wake_at_ns);
  const std::int64_t now = monotonic_ns();
  const std::int64_t wait_ns = deadline - now > hour_ns ? hour_ns : deadline - now;
  auto waiting = pw::race(rx.recv(), stop.cancelled(), pw::sleep(std::chrono::nanoseconds(std::max<std::int64_t>(wait_ns, 0))));
  auto r = co_await std::move(waiting);
  if (r.index() != 0) co_return peer_state::open;
  auto& chunk = r.template get<0>();
  if (!chunk) co_return peer_state::gone;
  co_return absorb_chunk(session, *chunk, rules);
}

// What ended a connection's stream of messages.
enum class stream_end : std::uint8_t {
  closed,  // closed (or left): nothing more to do
  reset,   // sent --disconnect-every messages: the caller resets the connection
};

template <class Transport>
pw::task<stream_end> stream_messages(ws_session<Transport>& session, message_source& src,
                               pw::mpsc::receiver<input_chunk>& rx, feed_server::shared& sh,
                               pw::cancellation_token stop, const std::string& peer) {
  ws::connection& conn = session.connection();
  const feed_config& c = sh.config;
  feed_counters& counters = *sh.counters;
  app::market* const on_market = src.is_replay() ? nullptr : sh.market.get();
  feed_totals totals;
  std::uint64_t limit = on_market ? 0 : c.count;
  if (limit == 0 && src.is_replay()) limit = src.replay_size();
  std::uint64_t sent = 0;
  std::int64_t start = monotonic_ns();
  std::uint64_t paced = 0;  // sent since `start`, for the rate
  session_rules rules(sh, src, peer, start);
  bool peer_left = false;
  bool reached_end = false;
  std::uint16_t close_with = ws::close_code::normal;
  pw::option<pace_subscription> paced_by;
  if (c.rate != 0 || (src.is_recorded() && c.speed > 0)) paced_by.emplace(sh);
  // A paced recording: the row at recorded time T is due `(T - origin_ms) / speed` after
  // origin_ns, the first row's time and when it was sent.
  std::int64_t origin_ms = INT64_MIN;
  std::int64_t origin_ns = 0;
  constexpr std::int64_t long_wait_ns = 2'000'000;  // a paced recording's gap worth a timer
  constexpr std::uint64_t batches_per_turn = 8;
  std::uint64_t batches = 0;
  const std::uint64_t reset_at = c.disconnect_every;  // 0: never
  bool reset_due = false;
  std::uint64_t stall_at = c.stall_ms != 0 ? c.stall_every : 0;  // 0: never

  while (limit == 0 || sent < limit) {
    if (stop.is_cancelled()) {
      close_with = ws::close_code::going_away;
      break;
    }
    const peer_state ps = absorb_input(session, rx, rules);
    if (ps == peer_state::refused || !rules.keepalive(conn, monotonic_ns())) {
      close_with = ws::close_code::policy_violation;
      break;
    }
    if (ps != peer_state::open) {
      peer_left = ps == peer_state::gone;
      if (!peer_left) (void)co_await write_output(session, counters);  // our close echo
      break;
    }
    if (rules.session_over(monotonic_ns())) {
      close_with = ws::close_code::going_away;
      break;
    }
    if (rules.take_changed() || src.idle()) {
      start = monotonic_ns();  // a new set of streams: the rate counts from now
      paced = 0;
    }
    // Nothing to send for a while: no stream subscribed (until the client subscribes), or a
    // paced recording's next row is further off than long_wait_ns. Such a connection waits for
    // the client, its deadlines or that row, not for every tick of the pacing thread.
    std::int64_t wait_until_ns = src.idle() ? INT64_MAX : INT64_MIN;  // INT64_MIN: no wait
    std::int64_t due_ms = INT64_MAX;  // a recording: rows up to this recorded time are due
    if (!src.idle() && src.is_recorded()) {
      tick_merge& merge = src.merge();
      if (!merge.ready() && !merge.done()) {
        // Reading the next row group: what is written so far goes out first.
        if (conn.wants_write() && !(co_await write_output(session, counters))) {
          peer_left = true;
          break;
        }
        auto filled = co_await merge.refill();
        if (!filled) {
          sh.log(peer + ": " + filled.error());
          close_with = ws::close_code::internal_error;
          break;
        }
      }
      if (merge.done()) {
        reached_end = true;
        break;
      }
      if (c.speed > 0) {
        const std::int64_t now = monotonic_ns();
        if (origin_ms == INT64_MIN) {
          origin_ms = merge.front_time_ms();
          origin_ns = now;
        }
        due_ms = origin_ms + static_cast<std::int64_t>(static_cast<double>(now - origin_ns) * 1e-6 * c.speed);
        // When the next row is due; past an hour, an hour (the wait is capped there anyway).
        const double ahead_ns = static_cast<double>(merge.front_time_ms() - origin_ms) * 1e6 / c.speed -
                                static_cast<double>(now - origin_ns);
        if (ahead_ns > static_cast<double>(long_wait_ns))
          wait_until_ns = now + static_cast<std::int64_t>(std::min(ahead_ns, 3.6e12)) - long_wait_ns / 2;
      }
    }
    if (wait_until_ns != INT64_MIN) {
      if (conn.wants_write() && !(co_await write_output(session, counters))) {
        peer_left = true;
        break;
      }
      // The pacing thread need not tick for this connection meanwhile.
      const bool was_paced = paced_by.is_some();
      paced_by.reset();
      const peer_state st = co_await await_input(session, rx, rules, stop, wait_until_ns);
      if (was_paced) paced_by.emplace(sh);
      if (st == peer_state::refused) {
        close_with = ws::close_code::policy_violation;
        break;
      }
      if (st != peer_state::open) {
        peer_left = st == peer_state::gone;
        if (!peer_left) (void)co_await write_output(session, counters);
        break;
      }
      continue;
    }
    std::uint64_t due = src.is_recorded() && src.merge().front_time_ms() > due_ms ? 0 : UINT64_MAX;
    std::uint64_t head = 0;
    if (on_market) {
      if (on_market->ended(src.market_position())) {
        reached_end = true;
        break;
      }
      head = on_market->head(monotonic_ns());
      due = src.market_position() < head ? UINT64_MAX : 0;
    } else if (c.rate != 0) {
      const auto elapsed = static_cast<std::uint64_t>(monotonic_ns() - start);
      const std::uint64_t target = static_cast<std::uint64_t>(static_cast<double>(c.rate) * 1e-9 * static_cast<double>(elapsed));
      due = target > paced ? target - paced : 0;
    }
    if (due == 0) {
      if (conn.wants_write() && !(co_await write_output(session, counters))) {
        peer_left = true;
        break;
      }
      co_await sh.pace.notified();
      continue;
    }
    if (limit != 0) due = std::min(due, limit - sent);
    if (reset_at != 0) due = std::min(due, reset_at - sent);
    if (stall_at != 0) due = std::min(due, stall_at - sent);
    std::uint64_t n = 0;
    // One clock read per batch: its messages go out in the same write (a read per message cost
    // more than formatting the timestamp).
    const std::int64_t now = c.with_send_time ? realtime_ns() : 0;
    if (on_market) {
      while (n < due && conn.output().size() < c.batch_bytes) {
        const auto msg = src.next_due(head, totals, now);
        if (!msg || !conn.send_text(*msg)) break;
        ++n;
      }
    } else if (src.is_recorded()) {
      tick_merge& merge = src.merge();
      while (n < due && conn.output().size() < c.batch_bytes && merge.ready() && merge.front_time_ms() <= due_ms) {
        if (!conn.send_text(src.next_recorded(totals, now))) break;
        ++n;
      }
    } else {
      while (n < due && conn.output().size() < c.batch_bytes) {
        if (!conn.send_text(src.next(totals, now))) break;
        ++n;
      }
    }
    sent += n;
    paced += n;
    if (!(co_await write_output(session, counters))) {
      peer_left = true;
      break;
    }
    counters.messages.fetch_add(n, std::memory_order_relaxed);
    // The runtime's budget counts writes, not what went into them: a batch is hundreds of
    // messages formatted, so a client that keeps up would otherwise hold the worker for
    // milliseconds. Other connections get it every batches_per_turn batches.
    if (++batches % batches_per_turn == 0) co_await pw::yield_now();
    if (reset_at != 0 && sent == reset_at) {
      reset_due = true;
      break;
    }
    if (stall_at != 0 && sent == stall_at) {
      // Silent: no message, no pong (the client's input waits in rx); on a market this
      // connection then skips what came meanwhile, a gap in its ids with no disconnect.
      counters.stalls.fetch_add(1, std::memory_order_relaxed);
      (void)co_await pw::race(stop.cancelled(), pw::sleep(std::chrono::milliseconds(c.stall_ms)));
      if (on_market) src.jump_to(*on_market, on_market->head(monotonic_ns()));
      stall_at = sent + c.stall_every;
    }
  }
  if (limit != 0 && sent == limit) reached_end = true;

  if (!reset_due && !peer_left && !conn.close_sent()) {
    (void)conn.close(close_with);
    if (co_await write_output(session, counters)) {
      // Bounded: a client that never answers our close does not keep the connection.
      (void)co_await pw::timeout(2s, await_close(session, rx));
      (void)co_await write_output(session, counters);
      if (close_with == ws::close_code::normal && reached_end)
        counters.completed.fetch_add(1, std::memory_order_relaxed);
    }
  }
  {
    std::lock_guard lock(sh.totals_mu);
    merge(sh.totals, totals);
  }
  co_return reset_due ? stream_end::reset : stream_end::closed;
}

// Waits (bounded, or until `stop`) until the peer has acknowledged every byte written on `fd`:
// a reset discards what is still queued, and the client is to read everything sent first.
pw::task<void> await_acknowledged(int fd, pw::cancellation_token stop) {
  constexpr int polls = 2000;  // 1 ms apart
  for (int i = 0; i < polls && !stop.is_cancelled(); ++i) {
    int queued = 0;
    if (::ioctl(fd, SIOCOUTQ, &queued) < 0 || queued == 0) co_return;
    co_await pw::sleep(1ms);
  }
}

// An abrupt end: SO_LINGER {1, 0} makes close() send RST instead of FIN (the peer's next read
// fails with ECONNRESET) and drop anything unsent. Over TLS too: no close_notify, no close frame.
template <class Transport>
void reset_connection(Transport& s) {
  const ::linger abort_on_close{.l_onoff = 1, .l_linger = 0};
  (void)::setsockopt(s.native_handle(), SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  s.close();
}

// The next request head on a kept-alive REST connection, from the bytes already read
// (`pending`) and then the stream: the head and the bytes past it, or none when the stream
// ends, fails, or sends anything but a plain request (hs then holds the error response, if any).
template <class Transport>
pw::task<pw::option<std::pair<std::string, std::vector<std::byte>>>> next_plain_request(
    Transport& s, std::vector<std::byte> pending, ws::server_handshake& hs) {
  using found = std::pair<std::string, std::vector<std::byte>>;
  if (!pending.empty()) {
    const byte_view got(pending.data(), pending.size());
    auto p = hs.feed(got);
    if (!p && !hs.plain_request().empty()) {
      const auto rest = got.subspan(hs.plain_request_consumed());
      co_return found{std::string(hs.plain_request()), std::vector<std::byte>(rest.begin(), rest.end())};
    }
    if (!p || p->done) co_return pw::none;
  }
  auto r = co_await detail::read_handshake_head(s, hs);
  if (!r && r.error().what == handshake_failure::kind::plain)
    co_return found{std::string(hs.plain_request()), std::move(r.error().after_plain)};
  co_return pw::none;
}

// A plain HTTP connection: REST history requests answered in order (pipelined ones too) while
// the client keeps the connection alive, each next head within the handshake deadline.
template <class Transport>
pw::task<void> serve_rest(Transport s, std::string head, std::vector<std::byte> pending,
                          std::shared_ptr<feed_server::shared> sh) {
  const auto deadline = std::chrono::milliseconds(sh->config.handshake_timeout_ms);
  for (;;) {
    auto request = parse_rest_request(head);
    auto refused = sh->rest_limit.admit(monotonic_ns());
    if (refused) sh->counters->rest_rate_limited.fetch_add(1, std::memory_order_relaxed);
    const rest_reply reply = refused   ? std::move(*refused)
                             : request ? sh->rest->answer(*request, monotonic_ns())
                                       : rest_history::reject(request.error());
    const bool keep_alive = request && request->keep_alive;
    sh->counters->rest_requests.fetch_add(1, std::memory_order_relaxed);
    const std::string response = http_json_response(reply, keep_alive);
    if (!(co_await s.write_all(as_bytes(response))) || !keep_alive) break;
    ws::server_handshake hs;
    auto next = co_await pw::timeout(deadline, next_plain_request(s, std::move(pending), hs));
    if (!next || !*next) {
      if (next && !hs.done() && !hs.response().empty()) (void)co_await s.write_all(as_bytes(hs.response()));
      break;
    }
    head = std::move((*next)->first);
    pending = std::move((*next)->second);
  }
  (void)co_await s.shutdown();
}

template <class Transport>
pw::task<void> serve_ws(Transport s, std::shared_ptr<feed_server::shared> sh, pw::cancellation_token stop) {
  feed_counters& counters = *sh->counters;
  // The request's target becomes the connection's message source, or its refusal.
  auto admit = [&sh](std::string_view target) -> pw::result<message_source, ws_refusal> {
    auto src = plan_for(*sh, target);
    if (!src) sh->log("refused " + std::string(target) + ": " + src.error().reason);
    return src;
  };
  // Every failed handshake is counted before accept_ws writes its response: a client that has
  // read the response finds it counted.
  auto failed = [&counters](const handshake_failure& f) {
    (f.what == handshake_failure::kind::timed_out ? counters.handshake_timeouts : counters.rejected)
        .fetch_add(1, std::memory_order_relaxed);
  };
  // Every message is valid UTF-8 already: generated ASCII, or replay lines checked at load.
  // Checking each again cost 7% of the feed's CPU, which the benchmark's ingest shares cores with.
  const ws::connection_options options{.check_sent_utf8 = false};
  // Created outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
  // A request without an Upgrade field is a REST request: the same listener serves both.
  auto plain = [sh](Transport t, std::string head, std::vector<std::byte> after) {
    return serve_rest(std::move(t), std::move(head), std::move(after), sh);
  };
  auto accepting =
      accept_ws(std::move(s), std::chrono::milliseconds(sh->config.handshake_timeout_ms), options, admit, plain, failed);
  auto accepted = co_await std::move(accepting);
  if (!accepted) co_return;  // served as REST, or counted by `failed`
  ws_session<Transport>& session = accepted->session;
  counters.connections.fetch_add(1, std::memory_order_relaxed);

  auto [tx, rx] = pw::mpsc::channel<input_chunk>(8);
  auto reader = pw::spawn(pump_input(session.transport(), std::move(tx)));
  const std::string peer = "client " + accepted->target;
  const stream_end end = co_await stream_messages(session, accepted->admission, rx, *sh, stop, peer);
  if (end == stream_end::reset) {
    co_await await_acknowledged(session.transport().native_handle(), stop);
    // The reader borrows the stream: it must be gone before the stream is closed.
    reader.abort();
    (void)co_await reader;
    reset_connection(session.transport());
    counters.resets.fetch_add(1, std::memory_order_relaxed);
    co_return;
  }
  (void)co_await session.transport().shutdown();
  // The reader borrows the stream: it must be gone before the stream is.
  reader.abort();
  (void)co_await reader;
}

// One accepted TCP connection: the WebSocket session on it, or, with TLS, on the TLS stream
// its handshake (bounded by the config's deadline) made. A client that fails or stalls the TLS
// handshake ends only its own connection and is counted; nothing is sent to it in the clear.
pw::task<void> serve_connection(pw::net::tcp_stream s, std::shared_ptr<feed_server::shared> sh,
                                pw::cancellation_token stop) {
  (void)s.set_nodelay(true);
  if (!sh->tls) {
    co_await serve_ws(std::move(s), std::move(sh), std::move(stop));
    co_return;
  }
  // Raced against the stop, so that a stalled handshake does not hold up the end of the run.
  auto handshake = pw::net::tls_stream::accept(std::move(s), *sh->tls);
  auto r = co_await pw::race(std::move(handshake), stop.cancelled());
  if (r.index() != 0) co_return;
  auto& tls = r.template get<0>();
  if (!tls) {
    sh->counters->tls_handshake_failures.fetch_add(1, std::memory_order_relaxed);
    sh->log("TLS: " + tls.error().message());
    co_return;
  }
  co_await serve_ws(std::move(*tls), std::move(sh), std::move(stop));
}

}  // namespace

feed_server::~feed_server() = default;

pw::result<std::unique_ptr<feed_server>, std::string> feed_server::create(
    feed_config config, std::shared_ptr<const tick_recording> recording) {
  if (recording && (!config.replay.empty() || config.rate != 0))
    return pw::err(std::string("a recording is served on its own: no --replay file, no --rate"));
  std::unique_ptr<feed_server> fs(new feed_server());
  fs->config_ = config;
  fs->shared_ = std::make_shared<shared>(config);
  shared& sh = *fs->shared_;
  sh.counters = &fs->counters_;
  sh.recording = std::move(recording);
  auto names = feed_generator::create(feed_options{.symbols = config.symbols});
  if (!names) return pw::err("generator: " + names.error().message());
  for (std::size_t i = 0; i < config.symbols; ++i) {
    std::string n = names->stream_name(i);
    sh.symbol_index.emplace(n.substr(0, n.find('@')), i);
  }
  auto tls = load_feed_tls(config);
  if (!tls) return pw::err(tls.error());
  sh.tls = *tls;
  if (!config.replay.empty()) {
    // Read once at startup (before serving), bounded: a replay file lives in memory.
    constexpr std::size_t max_replay_bytes = std::size_t{1} << 30;
    std::FILE* f = std::fopen(config.replay.c_str(), "rbe");
    if (!f) return pw::err("--replay " + config.replay + ": cannot open");
    std::string data;
    char buf[65536];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
      data.append(buf, n);
      if (data.size() > max_replay_bytes) {
        std::fclose(f);
        return pw::err("--replay " + config.replay + ": larger than 1 GiB");
      }
    }
    std::fclose(f);
    std::string_view rest = data;
    std::size_t line_number = 1;
    while (!rest.empty()) {
      const auto nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      // Checked here, once, so that connections can send without checking every message.
      if (!ticks::is_valid_utf8(line))
        return pw::err("--replay " + config.replay + ": line " + std::to_string(line_number) + " is not valid UTF-8");
      ++line_number;
      if (!line.empty()) sh.replay_lines.emplace_back(line);
    }
    if (sh.replay_lines.empty()) return pw::err("--replay " + config.replay + ": no lines");
  }
  if (config.rate != 0 && config.replay.empty())
    sh.market = std::make_unique<app::market>(config.seed, config.symbols, config.rate, config.count);
  sh.rest.emplace(sh.market.get(), names->symbols(), config.api_key);
  auto l = pw::net::tcp_listener::bind(config.listen);
  if (!l) return pw::err("cannot listen on " + config.listen + ": " + l.error().message());
  fs->listener_ = std::move(*l);
  if (config.rate != 0 || (sh.recording && config.speed > 0)) {
    // A plain thread: it only sleeps to absolute deadlines (no drift) and wakes the connections
    // that wait for the next tick. If it falls behind, it ticks at once rather than in a burst.
    // With no connection subscribed it sleeps until one is (or until it is stopped).
    fs->pacer_ = std::jthread([sh = fs->shared_, step = std::chrono::microseconds(config.pace_us)](std::stop_token st) {
      ::prctl(PR_SET_TIMERSLACK, 1UL);  // the default 50 us of slack would stretch a 100 us step by half
      auto next = std::chrono::steady_clock::now();
      while (!st.stop_requested()) {
        {
          std::unique_lock lock(sh->pace_mu);
          if (sh->subscribers == 0) {
            if (!sh->subscribed.wait(lock, st, [&] { return sh->subscribers != 0; })) break;
            next = std::chrono::steady_clock::now();
          }
        }
        next = std::max(next + step, std::chrono::steady_clock::now());
        std::this_thread::sleep_until(next);
        sh->pace.notify_waiters();
      }
    });
  }
  return fs;
}

pw::net::socket_addr feed_server::local_addr() const { return listener_->local_addr().unwrap(); }

feed_totals feed_server::totals() const {
  std::lock_guard lock(shared_->totals_mu);
  return shared_->totals;
}

pw::task<void> feed_server::run(pw::cancellation_token stop) {
  std::shared_ptr<shared> sh = shared_;
  // Named locals, not temporaries in the co_await: g++ 12 destroys temporaries with
  // non-trivial destructors twice when they appear in a co_await expression.
  auto handler = [sh, stop](pw::net::tcp_stream s) { return serve_connection(std::move(s), sh, stop); };
  serve_events events;
  events.on_accept_error = [sh](const pw::error& e) { sh->log("accept: " + e.message()); };
  events.on_refused = [sh] { sh->counters->rejected.fetch_add(1, std::memory_order_relaxed); };
  auto loop = serve(*listener_, stop, config_.max_connections, std::move(handler), std::move(events));
  co_await loop;
  if (sh->market) sh->market->stop(monotonic_ns());
}

std::vector<market_report> feed_server::market_totals() const {
  if (!shared_->market) return {};
  return shared_->market->report(monotonic_ns());
}

}  // namespace ticks::app
