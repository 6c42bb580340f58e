#include "ingest.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>

#include <polarway/runtime.hpp>

#include "process_stats.hpp"
#include "serve.hpp"
#include "ticks/decoder.hpp"
#include "ticks/stream_monitor.hpp"
#include "ticks/utf8.hpp"
#include "ticks/ws_handshake.hpp"
#include "ws_session.hpp"

namespace ticks::app {

namespace pw = polarway;
using namespace std::chrono_literals;

// ---------------------------------------------------------------------------------------------
// Flags

std::string ingest_usage() {
  return "usage: polarway-ingest (--connect URL ... | --listen ADDR) [options]\n"
         "  --connect URL            a feed to read, ws://host:port/stream?streams=... (repeatable)\n"
         "  --listen ADDR            also accept feeds that connect to us (e.g. 127.0.0.1:9500)\n"
         "  --channel-capacity N     ticks buffered between connections and sink, in batches of up\n"
         "                           to 256 (rounded up to whole batches; default 8192)\n"
         "  --duration S             stop after S seconds (decimals allowed; default: no limit)\n"
         "  --expect N               stop once N ticks have been written\n"
         "  --once                   one session per --connect URL (no reconnect once it ends);\n"
         "                           the run ends when all have ended (unless --listen)\n"
         "  --json-summary FILE      also write the JSON summary to FILE\n"
         "  --out DIR                write the ticks as Parquet under DIR\n"
         "                           (DIR/<stream>/symbol=<S>/date=<YYYY-MM-DD>/part-<n>.parquet; new\n"
         "                           part files are added to what DIR holds); without it the ticks\n"
         "                           are only counted\n" +
         parquet_flags_usage(27, std::to_string(ingest_default_max_open_files)) +
         "  --sink-delay-us N        make the sink slow: N microseconds per tick\n"
         "  --max-message-size N     largest WebSocket message accepted, bytes (default 1048576)\n"
         "  --handshake-timeout S    deadline for a WebSocket handshake (default 5)\n"
         "  --idle-timeout S         close a connection silent for S seconds (default: never)\n"
         "  --connect-timeout S      deadline for a TCP connect (default 5)\n"
         "  --backoff-initial S      first reconnect delay (default 0.1)\n"
         "  --backoff-max S          reconnect delay cap (default 5)\n"
         "  --stats-interval S       live stats period (default 0.25 on a terminal, else 5)\n"
         "  --quiet                  no live stats\n"
         "  --seed N                 seed for the back-off jitter (default: from the clock)\n"
         "  --max-connections N      accepted feeds at once (default 1024)\n"
         "  --workers N              runtime worker threads (default: POLARWAY_WORKERS, else one\n"
         "                           per core)\n"
         "  --busy-poll-us N         an idle worker polls N microseconds before it sleeps: lower\n"
         "                           latency for a busy core (default 0; at most 1000000)\n";
}

pw::result<ingest_config, cli_error> parse_ingest_args(std::span<const char* const> args) {
  ingest_config c;
  arg_reader r(args);
  for (;;) {
    auto f = r.next_flag();
    if (!f) return pw::err(f.error());
    if (!*f) break;
    const std::string_view flag = **f;
    pw::result<void, cli_error> step = pw::ok();
    if (flag == "--connect") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        auto u = ws_url::parse(v);
        if (!u) return pw::err(cli_error{"--connect: '" + std::string(v) + "': " + u.error()});
        if (c.connect.size() >= 1024) return pw::err(cli_error{"--connect: at most 1024 feeds"});
        c.connect.push_back(std::move(*u));
        return pw::ok();
      });
    } else if (flag == "--listen") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (auto a = pw::net::socket_addr::parse(v); !a)
          return pw::err(cli_error{"--listen: '" + std::string(v) + "' is not an address like 127.0.0.1:9500 (" +
                                   a.error().message() + ")"});
        c.listen = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--channel-capacity") {
      step = r.uint_into(c.channel_capacity, 1, 1u << 24);
    } else if (flag == "--duration") {
      step = r.seconds_into(c.duration_ms, 7 * 24 * 3600, false);
    } else if (flag == "--expect") {
      step = r.uint_into(c.expect, 1, std::uint64_t{1} << 62);
    } else if (flag == "--once") {
      step = r.no_value();
      c.once = true;
    } else if (flag == "--quiet") {
      step = r.no_value();
      c.quiet = true;
    } else if (flag == "--json-summary") {
      step = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--json-summary: needs a file name"});
        c.json_summary = std::string(v);
        return pw::ok();
      });
    } else if (flag == "--sink-delay-us") {
      step = r.uint_into(c.sink_delay_us, 0, 10'000'000);
    } else if (flag == "--max-message-size") {
      step = r.uint_into(c.max_message_size, 64, 64u << 20);
    } else if (flag == "--handshake-timeout") {
      step = r.seconds_into(c.handshake_timeout_ms, 3600, false);
    } else if (flag == "--idle-timeout") {
      step = r.seconds_into(c.idle_timeout_ms, 24 * 3600, false);
    } else if (flag == "--connect-timeout") {
      step = r.seconds_into(c.connect_timeout_ms, 3600, false);
    } else if (flag == "--backoff-initial") {
      step = r.seconds_into(c.backoff_initial_ms, 3600, false);
    } else if (flag == "--backoff-max") {
      step = r.seconds_into(c.backoff_max_ms, 24 * 3600, false);
    } else if (flag == "--stats-interval") {
      step = r.seconds_into(c.stats_interval_ms, 3600, false);
    } else if (flag == "--seed") {
      step = r.uint_into(c.seed, 0, UINT64_MAX);
    } else if (flag == "--max-connections") {
      step = r.uint_into(c.max_connections, 1, 100000);
    } else if (flag == "--workers") {
      step = r.uint_into(c.workers, 1, pw::runtime_options::max_workers);
    } else if (flag == "--busy-poll-us") {
      step = r.uint_into(c.busy_poll_us, 0, static_cast<std::uint64_t>(pw::runtime_options::max_busy_poll.count()));
    } else if (auto p = parse_parquet_flag(flag, r, c.parquet); !p) {
      return pw::err(p.error());
    } else if (!*p) {
      return pw::err(unknown_flag(flag));
    }
    if (!step) return pw::err(step.error());
  }
  if (c.connect.empty() && c.listen.empty()) return pw::err(cli_error{"give at least one --connect URL or --listen ADDR"});
  if (c.parquet.dir.empty() && !c.parquet.first_flag.empty())
    return pw::err(cli_error{c.parquet.first_flag + ": only with --out DIR (Parquet output)"});
  if (c.backoff_initial_ms > c.backoff_max_ms)
    return pw::err(cli_error{"--backoff-initial: larger than --backoff-max"});
  return c;
}

// ---------------------------------------------------------------------------------------------
// Shared state

namespace {

// Connection-level events (connect failures, protocol errors) can come at any rate from a
// hostile or broken peer: at most `per_second` lines a second, the rest counted and summarised.
class log_limiter {
 public:
  void line(const std::string& text) {
    std::lock_guard lock(mu_);
    const std::int64_t now = monotonic_ns();
    if (now - window_start_ >= 1'000'000'000) {
      if (suppressed_ > 0) std::fprintf(stderr, "polarway-ingest: (%llu more lines suppressed)\n", static_cast<unsigned long long>(suppressed_));
      window_start_ = now;
      lines_ = 0;
      suppressed_ = 0;
    }
    if (lines_ < per_second) {
      ++lines_;
      std::fprintf(stderr, "polarway-ingest: %s\n", text.c_str());
    } else {
      ++suppressed_;
    }
  }

 private:
  static constexpr int per_second = 10;
  std::mutex mu_;
  std::int64_t window_start_ = 0;
  int lines_ = 0;
  std::uint64_t suppressed_ = 0;
};

std::uint64_t splitmix(std::uint64_t& s) noexcept {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// How the messages of a request target are framed: /stream... is combined; /ws/<one stream>
// is raw of that stream's kind; anything else raw, kind inferred per message.
decoder_options decoder_for(std::string_view target, std::size_t max_message_size) {
  decoder_options o;
  o.max_message_size = max_message_size;
  if (target.starts_with("/stream")) {
    o.format = stream_format::combined;
  } else if (target.starts_with("/ws/") && target.find('/', 4) == std::string_view::npos) {
    const auto at = target.rfind('@');
    if (at != std::string_view::npos) o.kind = parse_message_kind(target.substr(at + 1));
  }
  return o;
}

std::string label_for(std::string_view target) {
  if (target.starts_with("/ws/")) return std::string(target.substr(4));
  return std::string(target);
}

}  // namespace

struct ingest_engine::impl {
  ingest_engine& engine;
  pw::option<pw::net::tcp_listener> listener;
  log_limiter log;
  std::atomic<std::uint64_t> seed{0};
};

namespace {

using tick_batch = std::vector<ticks::tick>;
using tick_tx = pw::mpsc::sender<tick_batch>;

struct session_ctx {
  ingest_engine::impl* e;
  ingest_counters* c;
  const ingest_config* cfg;
  tick_tx tx;
  std::size_t batch_max;  // ticks per channel message
  pw::cancellation_token stop;
};

// The ticks a session decoded and has not sent yet.
struct pending_ticks {
  explicit pending_ticks(std::size_t batch_max) : max(batch_max) { fresh(); }
  void fresh() {
    ticks = tick_batch();
    ticks.reserve(max);
  }
  bool full() const noexcept { return ticks.size() >= max; }
  std::size_t max;
  tick_batch ticks;
};

// Sends the pending ticks as one message; it waits while the channel is full (back-pressure).
// False if the sink closed the channel: those ticks can no longer be delivered, and are
// counted as dropped.
pw::task<bool> send_pending(session_ctx& ctx, pending_ticks& p, std::uint64_t& sent) {
  const std::size_t n = p.ticks.size();
  if (n == 0) co_return true;
  const bool delivered = (co_await ctx.tx.send(std::move(p.ticks))).is_ok();
  p.fresh();
  if (delivered) sent += n;
  else ctx.c->dropped_at_stop.fetch_add(n, std::memory_order_relaxed);
  co_return delivered;
}

enum class session_end : std::uint8_t { peer_closed, protocol_error, eof, io_error, stopped, idle, channel_closed };

void count_ws_error(ingest_counters& c, const ws::ws_error& e) {
  c.ws_errors[static_cast<std::size_t>(e.what)].fetch_add(1, std::memory_order_relaxed);
}

void count_close(ingest_counters& c, std::uint16_t code) {
  const std::size_t i = code == ws::close_code::normal ? 0 : code == ws::close_code::going_away ? 1 : code == ws::close_code::no_status ? 3 : 2;
  c.close_codes_received[i].fetch_add(1, std::memory_order_relaxed);
}

using ingest_session = ws_session<pw::net::tcp_stream>;

// The message loop of one established WebSocket, either side.
pw::task<session_end> run_messages(ingest_session& session, decoder& dec, stream_monitor& monitor,
                                   const std::string& label, session_ctx& ctx, const std::string& peer,
                                   std::uint64_t& ticks) {
  ws::connection& conn = session.connection();
  ingest_counters& c = *ctx.c;
  std::uint64_t local_in = 0;
  std::uint64_t local_messages = 0;
  pending_ticks pending(ctx.batch_max);
  decoded msg;  // reused: decode_into spares a fresh one per message
  const auto publish = [&] {
    if (local_in) c.ticks_in.fetch_add(local_in, std::memory_order_relaxed);
    if (local_messages) c.messages.fetch_add(local_messages, std::memory_order_relaxed);
    ticks += local_in;
    local_in = local_messages = 0;
  };
  const auto close_and_go = [&](std::uint16_t code, session_end why) -> pw::task<session_end> {
    (void)co_await session.close(code);
    co_return why;
  };

  for (;;) {
    // 1. Every complete message in the buffer, decoded into batches. Sending may wait: that is
    // the back-pressure.
    for (;;) {
      auto ev = session.next_event();
      if (!ev) {
        // What came before the bad frame is delivered.
        (void)co_await send_pending(ctx, pending, local_in);
        publish();
        count_ws_error(c, ev.error());
        ctx.e->log.line(peer + ": " + ev.error().message());
        (void)co_await session.flush();  // the close frame with the matching code
        co_return session_end::protocol_error;
      }
      if (!*ev) break;
      const ws::event& e = **ev;
      switch (e.kind) {
        case ws::event_kind::binary:
          c.binary_messages.fetch_add(1, std::memory_order_relaxed);
          [[fallthrough]];
        case ws::event_kind::text: {
          ++local_messages;
          auto r = dec.decode_into(e.text(), e.padding, msg);
          if (!r && e.kind == ws::event_kind::text && r.error().code != decode_errc::schema_error &&
              !is_valid_utf8(e.text())) {
            // The connection leaves UTF-8 to simdjson (check_text_utf8 off), which checks every
            // byte before it parses: a message that got as far as a schema error is valid. Any
            // other failure may be bad UTF-8, which must end the connection (RFC 6455, 1007);
            // the next poll() reports it.
            conn.fail_invalid_utf8();
            break;
          }
          if (!r) {
            switch (r.error().code) {
              case decode_errc::malformed_json: c.malformed_json.fetch_add(1, std::memory_order_relaxed); break;
              case decode_errc::schema_error: c.schema_errors.fetch_add(1, std::memory_order_relaxed); break;
              case decode_errc::too_large: c.too_large.fetch_add(1, std::memory_order_relaxed); break;
            }
            monitor.record_error(r.error().stream.empty() ? std::string_view(label) : r.error().stream.view(), r.error(),
                                 monotonic_ns());
            break;
          }
          monitor.record_ok(msg.stream.empty() ? std::string_view(label) : msg.stream.view());
          pending.ticks.push_back(msg.tick);
          if (pending.full() && !(co_await send_pending(ctx, pending, local_in))) {
            // The sink failed and closed the channel: nothing more can be delivered.
            publish();
            co_return co_await close_and_go(ws::close_code::going_away, session_end::channel_closed);
          }
          break;
        }
        case ws::event_kind::ping:
          c.pings.fetch_add(1, std::memory_order_relaxed);  // the pong is already in output()
          break;
        case ws::event_kind::pong:
          break;
        case ws::event_kind::close:
          count_close(c, e.code);
          break;
      }
    }
    if (!(co_await send_pending(ctx, pending, local_in))) {
      publish();
      co_return co_await close_and_go(ws::close_code::going_away, session_end::channel_closed);
    }
    publish();
    // 2. Pongs and close echoes go out, then more input, unless the connection is closed or
    // the run stops or the peer stays silent too long first. Up to 256 KiB at a time: when the
    // feed is ahead, each read then carries about a thousand messages, and the reads, wake-ups
    // and loop turns per tick shrink. A connection's input buffer stays within
    // max_buffered_input.
    const input_wait in = co_await session.read_more(ctx.stop, ctx.cfg->idle_timeout_ms, 256 * 1024);
    switch (in.end) {
      case input_end::data:
        break;
      case input_end::closed:
        co_return session_end::peer_closed;
      case input_end::stopped:
        co_return co_await close_and_go(ws::close_code::going_away, session_end::stopped);
      case input_end::idle:
        c.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        ctx.e->log.line(peer + ": idle for " + std::to_string(ctx.cfg->idle_timeout_ms) + " ms, closing");
        co_return co_await close_and_go(ws::close_code::going_away, session_end::idle);
      case input_end::write_error:
      case input_end::read_error:
        c.connection_errors.fetch_add(1, std::memory_order_relaxed);
        ctx.e->log.line(peer + (in.end == input_end::read_error ? ": read: " : ": write: ") + in.io->message());
        co_return session_end::io_error;
      case input_end::eof:
        c.connection_errors.fetch_add(1, std::memory_order_relaxed);
        ctx.e->log.line(peer + ": connection closed without a WebSocket close");
        co_return session_end::eof;
      case input_end::overflow:
        count_ws_error(c, *in.ws);
        co_return session_end::protocol_error;
    }
  }
}

// Text messages are checked for UTF-8 by simdjson as part of decoding (see run_messages), not
// a second time by the connection: that second pass was 4% of ingest's CPU.
ws::connection_options session_options(const ingest_config& cfg) {
  return ws::connection_options{.max_message_size = cfg.max_message_size, .check_text_utf8 = false};
}

stream_monitor make_monitor(session_ctx& ctx) {
  ingest_engine::impl* e = ctx.e;
  return stream_monitor({}, [e](std::string_view line) { e->log.line(std::string(line)); });
}

// One feed we connect to, for the whole run: connect, handshake, messages; on failure or loss,
// back off (exponential, capped, equal jitter) and reconnect, until stopped (or, with --once,
// until one session has ended).
pw::task<void> client_loop(ws_url url, session_ctx ctx) {
  ingest_counters& c = *ctx.c;
  const ingest_config& cfg = *ctx.cfg;
  std::uint64_t rng = ctx.e->seed.fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed);
  std::uint64_t backoff_ms = cfg.backoff_initial_ms;
  decoder dec(decoder_for(url.target, cfg.max_message_size));
  stream_monitor monitor = make_monitor(ctx);
  const std::string label = label_for(url.target);
  const std::string peer = "ws://" + url.host_header + url.target;
  bool first_attempt = true;

  while (!ctx.stop.is_cancelled()) {
    if (!first_attempt) {
      // Equal jitter: half the delay fixed, half random, so reconnecting clients spread out.
      const std::uint64_t half = backoff_ms / 2;
      const std::uint64_t delay = backoff_ms - half + (half ? splitmix(rng) % (half + 1) : 0);
      (void)co_await pw::race(ctx.stop.cancelled(), pw::sleep(std::chrono::milliseconds(delay)));
      backoff_ms = std::min(cfg.backoff_max_ms, backoff_ms * 2);
      if (ctx.stop.is_cancelled()) break;
      c.reconnects.fetch_add(1, std::memory_order_relaxed);
    }
    first_attempt = false;

    auto s = co_await pw::timeout(std::chrono::milliseconds(cfg.connect_timeout_ms),
                                  pw::net::tcp_stream::connect(url.connect_addr));
    if (!s || !*s) {
      c.connect_failures.fetch_add(1, std::memory_order_relaxed);
      ctx.e->log.line(peer + ": connect: " + (s ? s->error().message() : std::string("timed out")) + "; retrying in about " +
                      std::to_string(backoff_ms) + " ms");
      continue;
    }
    pw::net::tcp_stream sock = std::move(s->value());
    (void)sock.set_nodelay(true);
    auto hs = ws::client_handshake::create(url.host_header, url.target);
    if (!hs) {
      c.handshake_failures.fetch_add(1, std::memory_order_relaxed);
      ctx.e->log.line(peer + ": " + hs.error().message());
      break;  // our own request is invalid: retrying cannot help
    }
    // Created outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
    auto connecting = connect_ws(std::move(sock), std::move(*hs), std::chrono::milliseconds(cfg.handshake_timeout_ms),
                                 session_options(cfg));
    auto session = co_await std::move(connecting);
    if (!session) {
      (session.error().what == handshake_failure::kind::timed_out ? c.handshake_timeouts : c.handshake_failures)
          .fetch_add(1, std::memory_order_relaxed);
      ctx.e->log.line(peer + ": handshake: " + session.error().message());
      continue;
    }
    c.sessions.fetch_add(1, std::memory_order_relaxed);
    std::uint64_t ticks = 0;
    const session_end end = co_await run_messages(*session, dec, monitor, label, ctx, peer, ticks);
    (void)co_await session->transport().shutdown();
    if (ticks > 0) backoff_ms = cfg.backoff_initial_ms;  // it worked for a while: start over
    if (end == session_end::channel_closed || end == session_end::stopped) break;
    if (cfg.once) break;
  }
  monitor.flush(monotonic_ns());
}

// A feed that connected to us (--listen).
pw::task<void> server_session(pw::net::tcp_stream s, session_ctx ctx) {
  ingest_counters& c = *ctx.c;
  const ingest_config& cfg = *ctx.cfg;
  std::string peer = "feed " + (s.peer_addr() ? s.peer_addr()->to_string() : std::string("?"));
  (void)s.set_nodelay(true);
  // Any target is accepted: it only selects how messages are decoded.
  auto admit = [](std::string_view) -> pw::result<bool, ws_refusal> { return true; };
  // Created outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
  auto accepting = accept_ws(std::move(s), std::chrono::milliseconds(cfg.handshake_timeout_ms), session_options(cfg), admit);
  auto accepted = co_await std::move(accepting);
  if (!accepted) {
    const bool timed_out = accepted.error().what == handshake_failure::kind::timed_out;
    (timed_out ? c.handshake_timeouts : c.handshake_failures).fetch_add(1, std::memory_order_relaxed);
    ctx.e->log.line(peer + ": handshake" + (timed_out ? std::string(" timed out") : ": " + accepted.error().message()));
    co_return;
  }
  ingest_session& session = accepted->session;
  c.sessions.fetch_add(1, std::memory_order_relaxed);
  decoder dec(decoder_for(accepted->target, cfg.max_message_size));
  stream_monitor monitor = make_monitor(ctx);
  const std::string label = label_for(accepted->target);
  peer += accepted->target;
  std::uint64_t ticks = 0;
  (void)co_await run_messages(session, dec, monitor, label, ctx, peer, ticks);
  (void)co_await session.transport().shutdown();
  monitor.flush(monotonic_ns());
}

pw::task<void> accept_feeds(pw::net::tcp_listener& l, session_ctx ctx) {
  ingest_engine::impl* e = ctx.e;
  ingest_counters* c = ctx.c;
  const std::size_t limit = ctx.cfg->max_connections;
  // Named locals, not temporaries in the co_await (see feed_server::run).
  auto handler = [ctx](pw::net::tcp_stream s) { return server_session(std::move(s), ctx); };
  serve_events events;
  events.on_accept_error = [e](const pw::error& err) { e->log.line("accept: " + err.message()); };
  events.on_refused = [c] { c->rejected_connections.fetch_add(1, std::memory_order_relaxed); };
  auto loop = serve(l, ctx.stop, limit, std::move(handler), std::move(events));
  co_await loop;
}

// The sink task: writes each batch as it comes until every sender is gone, then flushes.
pw::task<pw::result<void>> sink_loop(pw::mpsc::receiver<tick_batch> rx, tick_sink& sink,
                                     std::atomic<std::uint64_t>& out, std::uint64_t expect,
                                     pw::cancellation_token stop) {
  while (auto batch = co_await rx.recv()) {
    if (auto w = co_await sink.write(*batch); !w) {
      rx.close();  // senders fail from now on and stop
      co_return pw::err(w.error());
    }
    const std::uint64_t total = out.fetch_add(batch->size(), std::memory_order_relaxed) + batch->size();
    if (expect != 0 && total >= expect && !stop.is_cancelled()) stop.cancel();
  }
  co_return co_await sink.flush();
}

pw::task<void> live_stats(const ingest_counters& c, const std::atomic<std::uint64_t>& out, pw::cancellation_token done,
                          std::uint64_t interval_ms, bool tty) {
  std::uint64_t prev = 0;
  std::int64_t prev_t = monotonic_ns();
  bool printed = false;
  while (!done.is_cancelled()) {
    (void)co_await pw::race(done.cancelled(), pw::sleep(std::chrono::milliseconds(interval_ms)));
    const std::int64_t now = monotonic_ns();
    const std::uint64_t o = out.load(std::memory_order_relaxed);
    const double rate = static_cast<double>(o - prev) / (static_cast<double>(now - prev_t) * 1e-9);
    prev = o;
    prev_t = now;
    char line[256];
    std::snprintf(line, sizeof line, "in %llu  out %llu  %.2fM ticks/s  errors %llu  sessions %llu  rss %llu MiB",
                  static_cast<unsigned long long>(c.ticks_in.load()), static_cast<unsigned long long>(o), rate / 1e6,
                  static_cast<unsigned long long>(c.decode_errors() + c.ws_error_total()),
                  static_cast<unsigned long long>(c.sessions.load()),
                  static_cast<unsigned long long>(current_rss_kib() / 1024));
    if (tty) std::fprintf(stderr, "\r\x1b[2K%s", line);
    else std::fprintf(stderr, "polarway-ingest: %s\n", line);
    printed = true;
  }
  if (tty && printed) std::fprintf(stderr, "\n");
}

}  // namespace

ingest_engine::ingest_engine(ingest_config config, tick_sink& sink)
    : config_(std::move(config)), sink_(sink), impl_(new impl{*this, pw::none, {}, {}}) {
  impl_->seed.store(config_.seed != 0 ? config_.seed : static_cast<std::uint64_t>(monotonic_ns()));
}

ingest_engine::~ingest_engine() = default;

pw::result<pw::option<pw::net::socket_addr>> ingest_engine::bind() {
  if (config_.listen.empty()) return pw::option<pw::net::socket_addr>(pw::none);
  auto l = pw::net::tcp_listener::bind(config_.listen);
  if (!l) return pw::err(l.error());
  auto addr = l->local_addr();
  if (!addr) return pw::err(addr.error());
  impl_->listener = std::move(*l);
  return pw::option<pw::net::socket_addr>(*addr);
}

pw::task<ingest_report> ingest_engine::run(pw::cancellation_token stop) {
  const std::int64_t start = monotonic_ns();
  // channel_capacity counts ticks; the channel holds batches of up to batch_max of them.
  const std::size_t batch_max = std::max<std::size_t>(1, std::min(config_.batch_max, config_.channel_capacity));
  auto [tx, rx] = pw::mpsc::channel<tick_batch>((config_.channel_capacity + batch_max - 1) / batch_max);
  auto sink = pw::spawn(sink_loop(std::move(rx), sink_, ticks_out_, config_.expect, stop));

  pw::cancellation_token done;
  pw::option<pw::join_handle<void>> stats;
  if (!config_.quiet) {
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    const std::uint64_t every = config_.stats_interval_ms ? config_.stats_interval_ms : tty ? 250 : 5000;
    stats = pw::spawn(live_stats(counters_, ticks_out_, done, every, tty));
  }
  pw::option<pw::join_handle<void>> timer;
  if (config_.duration_ms != 0) {
    timer = pw::spawn([](pw::cancellation_token stop, std::uint64_t ms) -> pw::task<void> {
      auto r = co_await pw::race(stop.cancelled(), pw::sleep(std::chrono::milliseconds(ms)));
      if (r.index() == 1) stop.cancel();
    }(stop, config_.duration_ms));
  }

  {
    pw::join_set<void> feeds;
    {
      // The connection tasks hold the only senders once this scope ends, so the sink sees the
      // end of the channel exactly when the last of them is gone.
      session_ctx ctx{impl_.get(), &counters_, &config_, std::move(tx), batch_max, stop};
      for (const ws_url& u : config_.connect) feeds.spawn(client_loop(u, ctx));
      if (impl_->listener) feeds.spawn(accept_feeds(*impl_->listener, ctx));
    }
    while (co_await feeds.join_next()) {
    }
  }
  if (!stop.is_cancelled()) stop.cancel();  // every --once feed is done

  ingest_report report;
  auto sunk = co_await sink;
  if (sunk.is_ok() && !sunk->is_ok()) report.sink_error = sunk->error();
  done.cancel();
  if (stats) (void)co_await *stats;
  if (timer) (void)co_await *timer;
  report.ticks_in = counters_.ticks_in.load();
  report.ticks_out = ticks_out_.load();
  report.elapsed_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
  co_return report;
}

}  // namespace ticks::app
