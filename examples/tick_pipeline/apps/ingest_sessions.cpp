#include "ingest_sessions.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <string>

#include <polarway/net/tls_stream.hpp>
#include <polarway/runtime.hpp>

#include "process_stats.hpp"
#include "reconnect_backoff.hpp"
#include "serve.hpp"
#include "ticks/control_message.hpp"
#include "ticks/decoder.hpp"
#include "ticks/rate_limiter.hpp"
#include "ticks/stream_set.hpp"
#include "ticks/stream_shards.hpp"
#include "ticks/stream_monitor.hpp"
#include "ticks/utf8.hpp"
#include "ticks/ws_handshake.hpp"
#include "ws_session.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

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
pw::task<bool> send_pending(session_ctx& ctx, pending_ticks& p, std::uint64_t& sent,
                            std::optional<stream_tick_counts::writer>& received) {
  const std::size_t n = p.ticks.size();
  if (n == 0) co_return true;
  if (received) received->add(p.ticks);
  const bool delivered = (co_await ctx.tx.send(std::move(p.ticks))).is_ok();
  p.fresh();
  if (delivered) sent += n;
  else ctx.c->dropped_at_stop.fetch_add(n, std::memory_order_relaxed);
  co_return delivered;
}

// One session's side of the control protocol, for a client loop with a subscription (see
// ingest_sessions.hpp): what the server has confirmed, the one request in flight, the pacing.
class control_session {
 public:
  control_session(subscription& sub, session_ctx& ctx, const std::string& peer) : sub_(sub), ctx_(ctx), peer_(peer) {}

  /// Queues the next request if one is due and the pacing allows it. Returns how long until
  /// it may be sent when it has to wait, else zero (nothing to send, or a reply awaited).
  std::chrono::nanoseconds step(ws::connection& conn, std::int64_t now) {
    std::uint64_t generation;
    {
      std::lock_guard lock(sub_.mu);
      generation = sub_.generation;
    }
    if (generation != generation_) {
      generation_ = generation;
      refused_.clear();
      work_ = true;
    }
    if (pending_ || !work_) return std::chrono::nanoseconds(0);
    control::request req;
    {
      std::lock_guard lock(sub_.mu);
      stream_diff d = diff_streams(confirmed_, sub_.wanted);
      std::erase_if(d.added, [&](const std::string& s) { return std::binary_search(refused_.begin(), refused_.end(), s); });
      if (!d.removed.empty()) req = {control::method::unsubscribe, std::move(d.removed), {}};
      else if (!d.added.empty()) req = {control::method::subscribe, std::move(d.added), {}};
      else if (verify_) req = {control::method::list_subscriptions, {}, {}};
      else {
        work_ = false;
        return std::chrono::nanoseconds(0);
      }
    }
    if (req.params.size() > control::max_params) req.params.resize(control::max_params);
    const std::int64_t at = limiter_.next_free_ns(now);
    if (at > now) return std::chrono::nanoseconds(at - now);
    limiter_.charge(now);
    req.id = control::request_id::of(next_id_++);
    if (!conn.send_text(control::encode(req))) return std::chrono::nanoseconds(0);
    ctx_.c->control_requests.fetch_add(1, std::memory_order_relaxed);
    if (req.what == control::method::list_subscriptions) verify_ = false;
    pending_ = std::move(req);
    return std::chrono::nanoseconds(0);
  }

  /// The codec answered a ping: the pong counts against the server's limit too.
  void on_ping(std::int64_t now) noexcept { limiter_.charge(now); }

  void on_reply(const control::reply& r) {
    ingest_counters& c = *ctx_.c;
    c.control_replies.fetch_add(1, std::memory_order_relaxed);
    if (!pending_ || !(r.id == pending_->id)) {
      ctx_.log->line(peer_ + ": a control reply that answers no request of ours");
      return;
    }
    control::request req = std::move(*pending_);
    pending_.reset();
    work_ = true;
    switch (r.what) {
      case control::reply::kind::error:
        c.control_errors.fetch_add(1, std::memory_order_relaxed);
        ctx_.log->line(peer_ + ": " + std::string(control::to_string(req.what)) + " refused: code " +
                       std::to_string(r.error_code) + ", " + r.error_msg);
        if (req.what == control::method::subscribe) {
          refused_.insert(refused_.end(), req.params.begin(), req.params.end());
          refused_ = make_stream_set(std::move(refused_));
        }
        break;
      case control::reply::kind::done:
        if (req.what == control::method::subscribe) {
          confirmed_.insert(confirmed_.end(), req.params.begin(), req.params.end());
          confirmed_ = make_stream_set(std::move(confirmed_));
        } else {
          std::erase_if(confirmed_, [&](const std::string& s) {
            return std::binary_search(req.params.begin(), req.params.end(), s);
          });
        }
        verify_ = true;
        break;
      case control::reply::kind::list: {
        std::vector<std::string> server = make_stream_set(r.streams);
        if (server == confirmed_) {
          c.lists_verified.fetch_add(1, std::memory_order_relaxed);
        } else {
          // The server's view wins: the next step subscribes or unsubscribes the difference.
          c.lists_mismatched.fetch_add(1, std::memory_order_relaxed);
          ctx_.log->line(peer_ + ": LIST_SUBSCRIPTIONS: the server has " + std::to_string(server.size()) +
                         " streams, " + std::to_string(confirmed_.size()) + " expected");
          confirmed_ = std::move(server);
        }
        break;
      }
    }
  }

 private:
  subscription& sub_;
  session_ctx& ctx_;
  const std::string& peer_;
  std::vector<std::string> confirmed_;  // what the server said yes to, on this connection
  std::vector<std::string> refused_;    // what it said no to, since the wanted set last changed
  std::optional<control::request> pending_;
  std::uint64_t generation_ = UINT64_MAX;
  std::uint64_t next_id_ = 1;
  bool work_ = true;     // something may be due: the wanted set changed or a reply came
  bool verify_ = false;  // a change was confirmed since the last LIST_SUBSCRIPTIONS
  rate_limiter limiter_{4, 1};
};

enum class session_end : std::uint8_t { peer_closed, protocol_error, eof, io_error, stopped, idle, channel_closed };

void count_ws_error(ingest_counters& c, const ws::ws_error& e) {
  c.ws_errors[static_cast<std::size_t>(e.what)].fetch_add(1, std::memory_order_relaxed);
}

void count_close(ingest_counters& c, std::uint16_t code) {
  const std::size_t i = code == ws::close_code::normal ? 0 : code == ws::close_code::going_away ? 1 : code == ws::close_code::no_status ? 3 : 2;
  c.close_codes_received[i].fetch_add(1, std::memory_order_relaxed);
}

// The message loop of one established WebSocket, either side, over TCP or TLS.
template <class Transport>
pw::task<session_end> run_messages(ws_session<Transport>& session, decoder& dec, stream_monitor& monitor,
                                   const std::string& label, session_ctx& ctx, const std::string& peer,
                                   std::uint64_t& ticks, control_session* control = nullptr) {
  ws::connection& conn = session.connection();
  ingest_counters& c = *ctx.c;
  std::uint64_t local_in = 0;
  std::uint64_t local_messages = 0;
  pending_ticks pending(ctx.batch_max);
  std::optional<stream_tick_counts::writer> received;
  if (ctx.streams) received.emplace(*ctx.streams, stream_tick_counts::column::received);
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
        (void)co_await send_pending(ctx, pending, local_in, received);
        publish();
        count_ws_error(c, ev.error());
        ctx.log->line(peer + ": " + ev.error().message());
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
          if (!r && control && r.error().is_schema_error()) {
            // Not a tick: perhaps the answer to one of our control messages.
            if (auto reply = control::parse_reply(e.text())) {
              control->on_reply(*reply);
              break;
            }
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
          if (pending.full() && !(co_await send_pending(ctx, pending, local_in, received))) {
            // The sink failed and closed the channel: nothing more can be delivered.
            publish();
            co_return co_await close_and_go(ws::close_code::going_away, session_end::channel_closed);
          }
          break;
        }
        case ws::event_kind::ping:
          c.pings.fetch_add(1, std::memory_order_relaxed);  // the pong is already in output()
          if (control) control->on_ping(monotonic_ns());
          break;
        case ws::event_kind::pong:
          break;
        case ws::event_kind::close:
          count_close(c, e.code);
          break;
      }
    }
    if (!(co_await send_pending(ctx, pending, local_in, received))) {
      publish();
      co_return co_await close_and_go(ws::close_code::going_away, session_end::channel_closed);
    }
    publish();
    // 2. Pongs and close echoes go out, then more input, unless the connection is closed or
    // the run stops or the peer stays silent too long first. Up to 256 KiB at a time: when the
    // feed is ahead, each read then carries about a thousand messages, and the reads, wake-ups
    // and loop turns per tick shrink. A connection's input buffer stays within
    // max_buffered_input.
    input_wait in{input_end::data, pw::none, pw::none};
    if (control) {
      const auto wait = control->step(conn, monotonic_ns());
      in = co_await session.read_more_or_wake(ctx.stop, ctx.cfg->idle_timeout_ms, 256 * 1024, ctx.sub->changed, wait);
    } else {
      in = co_await session.read_more(ctx.stop, ctx.cfg->idle_timeout_ms, 256 * 1024);
    }
    switch (in.end) {
      case input_end::data:
      case input_end::woken:
        break;
      case input_end::closed:
        co_return session_end::peer_closed;
      case input_end::stopped:
        co_return co_await close_and_go(ws::close_code::going_away, session_end::stopped);
      case input_end::idle:
        c.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
        ctx.log->line(peer + ": idle for " + std::to_string(ctx.cfg->idle_timeout_ms) + " ms, closing");
        co_return co_await close_and_go(ws::close_code::going_away, session_end::idle);
      case input_end::write_error:
      case input_end::read_error:
        c.connection_errors.fetch_add(1, std::memory_order_relaxed);
        ctx.log->line(peer + (in.end == input_end::read_error ? ": read: " : ": write: ") + in.io->message());
        co_return session_end::io_error;
      case input_end::eof:
        c.connection_errors.fetch_add(1, std::memory_order_relaxed);
        ctx.log->line(peer + ": connection closed without a WebSocket close");
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
  log_limiter* log = ctx.log;
  return stream_monitor({}, [log](std::string_view line) { log->line(std::string(line)); });
}

}  // namespace

namespace {

// How one connection attempt of a client loop ended.
struct attempt {
  enum class outcome : std::uint8_t { retry, ended, give_up } what;  // give_up: our request is invalid
  session_end end = session_end::eof;
  std::uint64_t ticks = 0;
};

// The WebSocket handshake and the message loop over an established transport.
template <class Transport>
pw::task<attempt> run_client_session(Transport stream, const ws_url& url, session_ctx& ctx, decoder& dec,
                                     stream_monitor& monitor, const std::string& label, const std::string& peer) {
  ingest_counters& c = *ctx.c;
  const ingest_config& cfg = *ctx.cfg;
  auto hs = ws::client_handshake::create(url.host_header, url.target);
  if (!hs) {
    c.handshake_failures.fetch_add(1, std::memory_order_relaxed);
    ctx.log->line(peer + ": " + hs.error().message());
    co_return attempt{attempt::outcome::give_up};
  }
  // Created outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
  auto connecting = connect_ws(std::move(stream), std::move(*hs), std::chrono::milliseconds(cfg.handshake_timeout_ms),
                               session_options(cfg));
  auto session = co_await std::move(connecting);
  if (!session) {
    (session.error().what == handshake_failure::kind::timed_out ? c.handshake_timeouts : c.handshake_failures)
        .fetch_add(1, std::memory_order_relaxed);
    ctx.log->line(peer + ": handshake: " + session.error().message());
    co_return attempt{attempt::outcome::retry};
  }
  c.sessions.fetch_add(1, std::memory_order_relaxed);
  if (ctx.established) ctx.established->store(true, std::memory_order_relaxed);
  attempt a{attempt::outcome::ended};
  std::optional<control_session> control;
  if (ctx.sub) control.emplace(*ctx.sub, ctx, peer);
  a.end = co_await run_messages(*session, dec, monitor, label, ctx, peer, a.ticks, control ? &*control : nullptr);
  (void)co_await session->transport().shutdown();
  co_return a;
}

std::string retrying_in(std::uint64_t backoff_ms) { return "; retrying in about " + std::to_string(backoff_ms) + " ms"; }

// One attempt over TCP (ws://).
pw::task<attempt> attempt_plain(const ws_url& url, session_ctx& ctx, decoder& dec, stream_monitor& monitor,
                                const std::string& label, const std::string& peer, std::uint64_t backoff_ms) {
  auto s = co_await pw::timeout(std::chrono::milliseconds(ctx.cfg->connect_timeout_ms),
                                pw::net::tcp_stream::connect(url.connect_addr));
  if (!s || !*s) {
    ctx.c->connect_failures.fetch_add(1, std::memory_order_relaxed);
    ctx.log->line(peer + ": connect: " + (s ? s->error().message() : std::string("timed out")) + retrying_in(backoff_ms));
    co_return attempt{attempt::outcome::retry};
  }
  pw::net::tcp_stream sock = std::move(s->value());
  (void)sock.set_nodelay(true);
  co_return co_await run_client_session(std::move(sock), url, ctx, dec, monitor, label, peer);
}

// One attempt over TLS (wss://): TCP connect, then the TLS handshake, whose deadline is the
// config's (--handshake-timeout), then the WebSocket handshake inside TLS. A TCP failure counts
// as a connect failure; anything the TLS layer refused counts as a TLS failure.
pw::task<attempt> attempt_tls(const ws_url& url, session_ctx& ctx, decoder& dec, stream_monitor& monitor,
                              const std::string& label, const std::string& peer, std::uint64_t backoff_ms) {
  ingest_counters& c = *ctx.c;
  const std::uint64_t deadline_ms = ctx.cfg->connect_timeout_ms + ctx.cfg->handshake_timeout_ms;
  auto s = co_await pw::timeout(std::chrono::milliseconds(deadline_ms), pw::net::tls_stream::connect(url.connect_addr, *ctx.tls));
  if (!s) {
    c.connect_failures.fetch_add(1, std::memory_order_relaxed);
    ctx.log->line(peer + ": connect: timed out" + retrying_in(backoff_ms));
    co_return attempt{attempt::outcome::retry};
  }
  if (!*s) {
    const pw::net::tls_error& e = s->error();
    if (e.which() == pw::net::tls_error::kind::io) {
      c.connect_failures.fetch_add(1, std::memory_order_relaxed);
      ctx.log->line(peer + ": connect: " + e.message() + retrying_in(backoff_ms));
    } else {
      c.tls_failures.fetch_add(1, std::memory_order_relaxed);
      c.last_tls_error.set(peer + ": " + e.message());
      ctx.log->line(peer + ": TLS: " + e.message() + retrying_in(backoff_ms) + " (never without TLS)");
    }
    co_return attempt{attempt::outcome::retry};
  }
  co_return co_await run_client_session(std::move(s->value()), url, ctx, dec, monitor, label, peer);
}

}  // namespace

namespace {

// Waits the back-off's next delay before a reconnect; false if the run stopped meanwhile, else
// the reconnect is counted.
pw::task<bool> back_off(session_ctx& ctx, reconnect_backoff& backoff) {
  (void)co_await pw::race(ctx.stop.cancelled(), pw::sleep(backoff.next_delay()));
  if (ctx.stop.is_cancelled()) co_return false;
  ctx.c->reconnects.fetch_add(1, std::memory_order_relaxed);
  co_return true;
}

pw::task<attempt> attempt_once(const ws_url& url, session_ctx& ctx, decoder& dec, stream_monitor& monitor,
                               const std::string& label, const std::string& peer, std::uint64_t backoff_ms) {
  // Named locals, not temporaries in the co_await (g++ 12, see above).
  auto trying = url.tls ? attempt_tls(url, ctx, dec, monitor, label, peer, backoff_ms)
                        : attempt_plain(url, ctx, dec, monitor, label, peer, backoff_ms);
  co_return co_await std::move(trying);
}

// One connection of a rotating client loop: its own decoder, stream monitor and stop token,
// and whether its WebSocket session is up.
struct lane {
  lane(const ws_url& url, session_ctx& ctx) : dec(decoder_for(url.target, ctx.cfg->max_message_size)), monitor(make_monitor(ctx)) {}
  decoder dec;
  stream_monitor monitor;
  pw::cancellation_token stop;
  std::atomic<bool> established{false};
  std::chrono::steady_clock::time_point began;
};

struct lane_end {
  int lane;
  attempt a;
};

pw::task<void> run_lane(const ws_url& url, session_ctx ctx, lane& l, const std::string& label, const std::string& peer,
                        std::uint64_t backoff_ms, int which, pw::mpsc::sender<lane_end> done) {
  auto trying = attempt_once(url, ctx, l.dec, l.monitor, label, peer, backoff_ms);
  const attempt a = co_await std::move(trying);
  (void)co_await done.send(lane_end{which, a});  // never waits: two lanes, capacity two
}

// --rotate-before: the session carrying the streams (`cur`) is joined by a replacement on the
// other lane at session_max - rotate_before after it began, and from then on both deliver,
// the sequencing stage dropping every id the second time it comes. The old one ends when the
// server closes it (all it sent read first) or, if the server keeps it longer than
// session_max, when we close it at session_max, provided the replacement is up by then. Its
// end hands the streams to the replacement with no reconnect and no back-off. A replacement
// that fails is retried with the usual back-off while the old session lasts; an old session
// that ends with no replacement is followed by an ordinary reconnect.
pw::task<void> rotating_client_loop(const ws_url& url, session_ctx& ctx, const std::string& label,
                                    const std::string& peer, reconnect_backoff& backoff) {
  using clock = std::chrono::steady_clock;
  ingest_counters& c = *ctx.c;
  const ingest_config& cfg = *ctx.cfg;
  const auto rotate_after = std::chrono::milliseconds(cfg.session_max_ms - cfg.rotate_before_ms);
  const auto retire_after = std::chrono::milliseconds(cfg.session_max_ms);
  lane lanes[2]{{url, ctx}, {url, ctx}};
  // Not a structured binding: clang 14 cannot capture one in the lambda below.
  auto done = pw::mpsc::channel<lane_end>(2);
  pw::mpsc::sender<lane_end>& done_tx = done.first;
  pw::mpsc::receiver<lane_end>& done_rx = done.second;
  pw::join_set<void> sessions;
  int cur = -1;   // the lane carrying the streams; -1: none
  int repl = -1;  // its replacement, once started
  bool first_attempt = true;
  clock::time_point replace_not_before{};  // a failed replacement's back-off
  const auto start = [&](int which) {
    lane& l = lanes[which];
    l.stop = ctx.stop.child_token();
    l.established.store(false, std::memory_order_relaxed);
    l.began = clock::now();
    session_ctx lane_ctx = ctx;
    lane_ctx.stop = l.stop;
    lane_ctx.established = &l.established;
    sessions.spawn(run_lane(url, std::move(lane_ctx), l, label, peer, backoff.step_ms(), which, done_tx));
  };

  while (!ctx.stop.is_cancelled()) {
    if (cur < 0) {
      if (!first_attempt && !(co_await back_off(ctx, backoff))) break;
      first_attempt = false;
      cur = 0;
      start(cur);
    }
    const lane& now_carrying = lanes[cur];
    const bool may_retire = repl >= 0 && lanes[repl].established.load(std::memory_order_relaxed);
    clock::time_point deadline = clock::time_point::max();
    if (repl < 0) deadline = std::max(now_carrying.began + rotate_after, replace_not_before);
    else if (may_retire) deadline = now_carrying.began + retire_after;
    // A replacement still connecting when the old session is due to retire is looked at again
    // every 100 ms: once it is up, the old session may be retired.
    else deadline = std::max(now_carrying.began + retire_after, clock::now() + std::chrono::milliseconds(100));
    auto waiting = pw::race(done_rx.recv(), pw::sleep_until(deadline), ctx.stop.cancelled());
    auto r = co_await std::move(waiting);
    if (!r.completed<0>()) {
      if (r.completed<2>()) break;
      if (repl < 0) {
        repl = 1 - cur;
        start(repl);
      } else if (may_retire && !lanes[cur].stop.is_cancelled()) {
        lanes[cur].stop.cancel();  // its end comes through done_rx
      }
      continue;
    }
    // A session's end is handled even when the stop came at the same time: it was taken out
    // of the channel.
    const lane_end e = *pw::get<0>(std::move(r));
    // Its task is done once it has sent: joined here, so a long run of reconnects does not pile
    // up finished entries in the set.
    (void)co_await sessions.join_next();
    if (e.lane == repl) {  // the replacement ended before it took over
      repl = -1;
      if (e.a.what == attempt::outcome::give_up) break;
      if (e.a.end == session_end::channel_closed) break;
      replace_not_before = clock::now() + backoff.next_delay();
      continue;
    }
    if (e.a.what == attempt::outcome::give_up || e.a.end == session_end::channel_closed) break;
    if (e.a.ticks > 0) backoff.reset();  // it worked for a while: start over
    if (repl >= 0) {
      c.rotations.fetch_add(1, std::memory_order_relaxed);
      cur = repl;
      repl = -1;
    } else {
      cur = -1;
    }
  }
  for (lane& l : lanes) l.stop.cancel();
  while (co_await sessions.join_next()) {
  }
  for (lane& l : lanes) l.monitor.flush(monotonic_ns());
}

}  // namespace

// One feed we connect to, for the whole run: connect, handshake, messages; on failure or loss,
// back off (exponential, capped, equal jitter) and reconnect, until stopped (or, with --once,
// until one session has ended). With --rotate-before, rotating_client_loop.
pw::task<void> client_loop(ws_url url, session_ctx ctx) {
  ingest_counters& c = *ctx.c;
  const ingest_config& cfg = *ctx.cfg;
  reconnect_backoff backoff(cfg.backoff_initial_ms, cfg.backoff_max_ms,
                            ctx.seed->fetch_add(0x9e3779b97f4a7c15ull, std::memory_order_relaxed));
  const std::string label = label_for(url.target);
  const std::string peer = url.to_string();
  if (url.tls && ctx.tls == nullptr) {
    c.tls_failures.fetch_add(1, std::memory_order_relaxed);
    c.last_tls_error.set(peer + ": no TLS configuration");
    ctx.log->line(peer + ": no TLS configuration (the CA file could not be loaded)");
    co_return;
  }
  if (cfg.rotate_before_ms != 0) {
    co_await rotating_client_loop(url, ctx, label, peer, backoff);
    co_return;
  }
  decoder dec(decoder_for(url.target, cfg.max_message_size));
  stream_monitor monitor = make_monitor(ctx);
  bool first_attempt = true;

  while (!ctx.stop.is_cancelled()) {
    if (!first_attempt && !(co_await back_off(ctx, backoff))) break;
    first_attempt = false;

    auto trying = attempt_once(url, ctx, dec, monitor, label, peer, backoff.step_ms());
    const attempt a = co_await std::move(trying);
    if (a.what == attempt::outcome::give_up) break;
    if (a.what == attempt::outcome::retry) continue;
    if (a.ticks > 0) backoff.reset();  // it worked for a while: start over
    if (a.end == session_end::channel_closed || a.end == session_end::stopped) break;
    if (cfg.once) break;
  }
  monitor.flush(monotonic_ns());
}

pw::task<void> streams_file_loop(ws_url base, std::vector<std::string> initial, pw::signal::listener& hup,
                                 session_ctx ctx) {
  stream_shards shards;
  std::map<std::uint64_t, std::shared_ptr<subscription>> subs;
  pw::join_set<void> loops;
  const auto apply = [&](const std::vector<std::string>& wanted) {
    for (const shard_change& change : shards.assign(wanted)) {
      if (change.closed) {
        subs[change.id]->stop.cancel();
        subs.erase(change.id);
        continue;
      }
      const auto& all = shards.shards();
      const auto it = std::find_if(all.begin(), all.end(), [&](const stream_shard& s) { return s.id == change.id; });
      if (change.opened) {
        auto sub = std::make_shared<subscription>();
        sub->stop = ctx.stop.child_token();
        sub->set(it->streams);
        session_ctx shard_ctx = ctx;
        shard_ctx.stop = sub->stop;
        shard_ctx.sub = sub;
        subs.emplace(change.id, sub);
        loops.spawn(client_loop(base, std::move(shard_ctx)));
      } else {
        subs[change.id]->set(it->streams);
      }
    }
    ctx.log->line(std::to_string(wanted.size()) + " streams over " + std::to_string(shards.shards().size()) +
                  " connections from " + ctx.cfg->streams_file);
  };
  apply(initial);
  for (;;) {
    auto waiting = pw::race(ctx.stop.cancelled(), hup.recv());
    auto r = co_await std::move(waiting);
    if (r.index() == 0) break;
    auto set = read_streams_file(ctx.cfg->streams_file);
    if (!set) {
      ctx.c->reload_failures.fetch_add(1, std::memory_order_relaxed);
      ctx.log->line("SIGHUP: " + set.error() + "; keeping the " + std::to_string(initial.size()) + " streams");
      continue;
    }
    ctx.c->reloads.fetch_add(1, std::memory_order_relaxed);
    initial = std::move(*set);
    apply(initial);
  }
  while (co_await loops.join_next()) {
  }
}

namespace {

// A feed that connected to us (--listen).
pw::task<void> server_session(pw::net::tcp_stream s, session_ctx ctx) {
  ingest_counters& c = *ctx.c;
  const ingest_config& cfg = *ctx.cfg;
  std::string peer = "feed " + (s.peer_addr() ? s.peer_addr()->to_string() : std::string("?"));
  (void)s.set_nodelay(true);
  // Any target is accepted: it only selects how messages are decoded.
  auto admit = [](std::string_view) -> pw::result<bool, ws_refusal> { return true; };
  // Counted before accept_ws writes the failure's response: a feed that has read it finds it counted.
  auto failed = [&c](const handshake_failure& f) {
    (f.what == handshake_failure::kind::timed_out ? c.handshake_timeouts : c.handshake_failures)
        .fetch_add(1, std::memory_order_relaxed);
  };
  // Created outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
  auto accepting = accept_ws(std::move(s), std::chrono::milliseconds(cfg.handshake_timeout_ms), session_options(cfg),
                             admit, nullptr, failed);
  auto accepted = co_await std::move(accepting);
  if (!accepted) {
    const bool timed_out = accepted.error().what == handshake_failure::kind::timed_out;
    ctx.log->line(peer + ": handshake" + (timed_out ? std::string(" timed out") : ": " + accepted.error().message()));
    co_return;
  }
  ws_session<pw::net::tcp_stream>& session = accepted->session;
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

}  // namespace

pw::task<void> accept_feeds(pw::net::tcp_listener& l, session_ctx ctx) {
  log_limiter* log = ctx.log;
  ingest_counters* c = ctx.c;
  const std::size_t limit = ctx.cfg->max_connections;
  // Named locals, not temporaries in the co_await (see feed_server::run).
  auto handler = [ctx](pw::net::tcp_stream s) { return server_session(std::move(s), ctx); };
  serve_events events;
  events.on_accept_error = [log](const pw::error& err) { log->line("accept: " + err.message()); };
  events.on_refused = [c] { c->rejected_connections.fetch_add(1, std::memory_order_relaxed); };
  auto loop = serve(l, ctx.stop, limit, std::move(handler), std::move(events));
  co_await loop;
}

}  // namespace ticks::app
