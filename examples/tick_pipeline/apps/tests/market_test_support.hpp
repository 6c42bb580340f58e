// Reading a market feed in the socket tests: a WebSocket client (ws_test_client.hpp) that
// decodes every message it receives, and how its connection ended (the close code, or an
// abrupt reset), and a feed served for the length of a test body. A message's market index comes from its event time: the generator stamps
// message i with start_time_ms + i.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "feed_server.hpp"
#include "ticks/decoder.hpp"
#include "ticks/feed_generator.hpp"
#include "ws_test_client.hpp"

namespace ticks::app::test {

struct received {
  std::vector<ticks::tick> ticks;
  std::uint16_t close_code = 0;  // 0: no close frame
  bool reset = false;            // the stream ended with ECONNRESET
  bool eof = false;              // the stream ended without a close frame or a reset
};

inline std::uint64_t market_index(const ticks::tick& t) {
  const std::int64_t e = std::visit(
      [](const auto& v) -> std::int64_t {
        if constexpr (requires { v.event_time_ms + 0; }) return v.event_time_ms;
        return 0;
      },
      t);
  return static_cast<std::uint64_t>(e - ticks::feed_options{}.start_time_ms);
}

/// The per-symbol id a tick carries: trade id, aggTrade id, or bookTicker update id.
inline std::int64_t id_of(const ticks::tick& t) {
  if (const auto* tr = std::get_if<ticks::trade>(&t)) return tr->trade_id;
  if (const auto* a = std::get_if<ticks::agg_trade>(&t)) return a->agg_trade_id;
  return std::get<ticks::book_ticker>(t).update_id;
}

/// Reads `target` until the feed ends the connection, or until `max` messages if max != 0
/// (then closes with 1000 itself and waits for the echo).
inline pw::task<pw::result<received, std::string>> read_messages(pw::net::socket_addr addr, std::string target,
                                                                 std::size_t max) {
  auto c = co_await ws_connect(addr, target);
  if (!c) co_return pw::err(c.error());
  decoder d({.format = target.starts_with("/stream") ? stream_format::combined : stream_format::raw});
  received out;
  const pw::cancellation_token never;
  for (;;) {
    for (;;) {
      auto ev = c->session.next_event();
      if (!ev) co_return pw::err(std::string("websocket error"));
      if (!*ev) break;
      if ((*ev)->kind == ws::event_kind::close) {
        out.close_code = (*ev)->code;
        (void)co_await c->session.flush();
        co_return out;
      }
      if ((*ev)->kind != ws::event_kind::text) continue;
      auto m = d.decode((*ev)->text());
      if (!m) co_return pw::err("decode: " + m.error().message());
      out.ticks.push_back(m->tick);
      if (max != 0 && out.ticks.size() == max) {
        (void)co_await c->session.close(ws::close_code::normal);
        (void)co_await c->read_close();
        co_return out;
      }
    }
    const input_wait in = co_await c->session.read_more(never, 0, 64 * 1024);
    if (in.end == input_end::data) continue;
    if (in.end == input_end::read_error) {
      out.reset = in.io && in.io->text.find("reset") != std::string::npos;
      if (!out.reset) co_return pw::err("read: " + in.io->text);
    } else {
      out.eof = true;
    }
    co_return out;
  }
}

inline pw::task<pw::result<received, std::string>> read_stream(pw::net::socket_addr addr, std::string target) {
  co_return co_await read_messages(addr, std::move(target), 0);
}

inline pw::task<pw::result<received, std::string>> read_some(pw::net::socket_addr addr, std::string target,
                                                              std::size_t n) {
  co_return co_await read_messages(addr, std::move(target), n);
}

/// Serves `fc` while `body(feed_server&)` (-> pw::task<void>) runs, then stops the feed, waits
/// for it and calls `after(feed_server&)` (what holds once every connection has ended).
template <class Body, class After>
pw::task<void> with_feed(feed_config fc, Body body, After after) {
  auto feed = feed_server::create(fc);
  REQUIRE(feed);
  pw::cancellation_token stop;
  auto serving = pw::spawn((*feed)->run(stop));
  co_await body(**feed);
  stop.cancel();
  auto joined = co_await std::move(serving);
  CHECK(joined.is_ok());
  after(**feed);
}

template <class Body>
pw::task<void> with_feed(feed_config fc, Body body) {
  co_await with_feed(std::move(fc), std::move(body), [](feed_server&) {});
}

}  // namespace ticks::app::test
