// Binance's session rules in polarway-feed, over real loopback sockets: control messages
// answered (and the stream set changing live), the 1024-stream bound on the URL and on
// SUBSCRIBE, a client sending more than 5 messages a second closed with 1008, a client that
// ignores pings dropped.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "feed_server.hpp"
#include "ticks/control_message.hpp"
#include "ticks/stream_set.hpp"
#include "ws_test_client.hpp"

namespace pw = polarway;
namespace app = ticks::app;
namespace control = ticks::control;
using app::test::ws_client;
using namespace std::chrono_literals;

namespace {

std::vector<std::string> stream_names(std::size_t symbols, ticks::message_kind kind) {
  auto gen = ticks::feed_generator::create(ticks::feed_options{.symbols = symbols, .kind = kind});
  std::vector<std::string> names;
  for (std::size_t i = 0; i < symbols; ++i) names.push_back(gen->stream_name(i));
  return names;
}

// Runs `body(feed)` against a feed serving `fc` on a loopback port, then stops the feed.
using feed_body = std::function<pw::task<void>(app::feed_server&)>;

void with_feed(app::feed_config fc, feed_body body) {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([](app::feed_config fc, feed_body body) -> pw::task<void> {
    fc.listen = "127.0.0.1:0";
    fc.quiet = true;
    auto feed = app::feed_server::create(fc);
    REQUIRE(feed);
    pw::cancellation_token stop;
    auto serving = pw::spawn((*feed)->run(stop));
    auto running = body(**feed);
    co_await std::move(running);
    stop.cancel();
    auto served = co_await serving;
    CHECK(served.is_ok());
  }(fc, body));
}

// The next control reply the feed sends (ticks in between are skipped), or "" if the
// connection ends or stays silent for 10 s first.
pw::task<std::string> next_reply(ws_client& c) {
  const pw::cancellation_token never;
  for (;;) {
    for (;;) {
      auto ev = c.session.next_event();
      if (!ev || !*ev) break;
      if ((*ev)->kind == ticks::ws::event_kind::close) co_return std::string();
      if ((*ev)->kind == ticks::ws::event_kind::text && control::is_control_reply((*ev)->text()))
        co_return std::string((*ev)->text());
    }
    const app::input_wait in = co_await c.session.read_more(never, 10'000, 64 * 1024);
    if (in.end != app::input_end::data) co_return std::string();
  }
}

pw::task<control::reply> ask(ws_client& c, const std::string& request) {
  auto sending = c.send_text(request);
  auto sent = co_await std::move(sending);
  CHECK(sent.is_ok());
  auto replying = next_reply(c);
  const std::string text = co_await std::move(replying);
  auto r = control::parse_reply(text);
  const bool parsed = r.is_ok();
  CHECK(parsed);
  if (!parsed) {
    std::fprintf(stderr, "no reply to %s: '%s'\n", request.c_str(), text.c_str());
    co_return control::reply{control::reply::kind::error, {}, {}, -1, "no reply"};
  }
  co_return std::move(*r);
}

app::feed_config quiet_feed() {
  app::feed_config fc;
  fc.symbols = 20;
  fc.rate = 2000;
  fc.ping_every_ms = 0;
  return fc;
}

}  // namespace

TEST_CASE("feed: SUBSCRIBE, LIST_SUBSCRIPTIONS, UNSUBSCRIBE and bad requests are answered") {
  with_feed(quiet_feed(), [](app::feed_server& feed) -> pw::task<void> {
    const auto trades = stream_names(20, ticks::message_kind::trade);
    const auto aggs = stream_names(20, ticks::message_kind::agg_trade);
    auto connecting = app::test::ws_connect(feed.local_addr(), "/stream");
    auto c = co_await std::move(connecting);
    REQUIRE(c);
    // Five requests: within the burst of five a second.
    const std::string req_sub = control::encode({control::method::subscribe, {trades[3], aggs[5]}, control::request_id::of(1)});
    auto sub = co_await ask(*c, req_sub);
    CHECK(sub.what == control::reply::kind::done);
    CHECK(sub.id == control::request_id::of(1));
    const std::string req_list = R"({"method":"LIST_SUBSCRIPTIONS","id":"two"})";
    auto list = co_await ask(*c, req_list);
    CHECK(list.what == control::reply::kind::list);
    CHECK(list.id == control::request_id::of(std::string("two")));
    CHECK(list.streams == ticks::make_stream_set({trades[3], aggs[5]}));
    const std::string req_unsub = control::encode({control::method::unsubscribe, {trades[3]}, control::request_id::of(3)});
    auto unsub = co_await ask(*c, req_unsub);
    CHECK(unsub.what == control::reply::kind::done);
    const std::string req_unknown = R"({"method":"SUBSCRIBE","params":["nosuchsym@trade","btcusdt@depth"],"id":4})";
    auto unknown = co_await ask(*c, req_unknown);
    CHECK(unknown.what == control::reply::kind::error);
    CHECK(unknown.error_code == 2);
    CHECK(unknown.id == control::request_id::of(4));
    CHECK(unknown.error_msg.find("unknown symbol") != std::string::npos);
    const std::string req_garbage = R"({"method":"SUBSCRIBE",)";
    auto garbage = co_await ask(*c, req_garbage);
    CHECK(garbage.what == control::reply::kind::error);
    CHECK(garbage.error_code == 3);
    CHECK(garbage.id == control::request_id{});
    CHECK(feed.counters().control_requests.load() == 5);
    CHECK(feed.counters().control_errors.load() == 2);
    CHECK(feed.counters().rate_limited.load() == 0);
  });
}

TEST_CASE("feed: an unknown kind is an error reply, and the set is unchanged") {
  with_feed(quiet_feed(), [](app::feed_server& feed) -> pw::task<void> {
    const auto trades = stream_names(20, ticks::message_kind::trade);
    auto connecting = app::test::ws_connect(feed.local_addr(), "/stream?streams=" + trades[0]);
    auto c = co_await std::move(connecting);
    REQUIRE(c);
    const std::string sym = trades[1].substr(0, trades[1].find('@'));
    const std::string req_bad = R"({"method":"SUBSCRIBE","params":[")" + trades[1] + R"(",")" + sym + R"(@depth"],"id":1})";
    auto bad = co_await ask(*c, req_bad);
    CHECK(bad.what == control::reply::kind::error);
    CHECK(bad.error_msg.find("unknown stream kind") != std::string::npos);
    const std::string req_list = R"({"method":"LIST_SUBSCRIPTIONS","id":2})";
    auto list = co_await ask(*c, req_list);
    CHECK(list.streams == std::vector<std::string>{trades[0]});
  });
}

TEST_CASE("feed: more than 1024 streams on a connection is refused, by URL or by SUBSCRIBE") {
  app::feed_config fc = quiet_feed();
  fc.symbols = 1100;
  with_feed(fc, [](app::feed_server& feed) -> pw::task<void> {
    // As a set: the generator's symbol 997 is XRPUSDT again.
    const auto trades = ticks::make_stream_set(stream_names(1100, ticks::message_kind::trade));
    REQUIRE(trades.size() > 1025);
    std::string target = "/stream?streams=";
    for (std::size_t i = 0; i < 1025; ++i) target += (i ? "/" : "") + trades[i];
    auto refusing = app::test::ws_connect(feed.local_addr(), target);
    auto refused = co_await std::move(refusing);
    CHECK(!refused);
    CHECK(feed.counters().rejected.load() == 1);

    auto connecting = app::test::ws_connect(feed.local_addr(), "/stream");
    auto c = co_await std::move(connecting);
    REQUIRE(c);
    const std::vector<std::string> first(trades.begin(), trades.begin() + 1024);
    const std::string req_full = control::encode({control::method::subscribe, first, control::request_id::of(1)});
    auto full = co_await ask(*c, req_full);
    CHECK(full.what == control::reply::kind::done);
    const std::string req_over = control::encode({control::method::subscribe, {trades[1024]}, control::request_id::of(2)});
    auto over = co_await ask(*c, req_over);
    CHECK(over.what == control::reply::kind::error);
    CHECK(over.error_msg.find("1024") != std::string::npos);
    const std::string req_list = R"({"method":"LIST_SUBSCRIPTIONS","id":3})";
    auto list = co_await ask(*c, req_list);
    CHECK(list.streams == ticks::make_stream_set(first));
  });
}

TEST_CASE("feed: a client sending 6 messages within a second is closed with 1008") {
  with_feed(quiet_feed(), [](app::feed_server& feed) -> pw::task<void> {
    auto connecting = app::test::ws_connect(feed.local_addr(), "/stream");
    auto c = co_await std::move(connecting);
    REQUIRE(c);
    for (int i = 0; i < 6; ++i) REQUIRE(c->conn().send_text(R"({"method":"LIST_SUBSCRIPTIONS","id":)" + std::to_string(i) + "}"));
    auto flushing = c->session.flush();  // all six in one write: they arrive together
    auto flushed = co_await std::move(flushing);
    REQUIRE(flushed);
    auto closing = c->read_close();
    const std::uint16_t code = co_await std::move(closing);
    CHECK(code == ticks::ws::close_code::policy_violation);
    CHECK(feed.counters().rate_limited.load() == 1);
    CHECK(feed.counters().control_requests.load() == 5);  // the sixth was not answered
  });
}

TEST_CASE("feed: pings count too; five of them are within the limit") {
  with_feed(quiet_feed(), [](app::feed_server& feed) -> pw::task<void> {
    auto connecting = app::test::ws_connect(feed.local_addr(), "/stream");
    auto c = co_await std::move(connecting);
    REQUIRE(c);
    for (int i = 0; i < 4; ++i) REQUIRE(c->conn().send_ping());
    auto flushing = c->session.flush();
    auto flushed = co_await std::move(flushing);
    REQUIRE(flushed);
    const std::string req_list = R"({"method":"LIST_SUBSCRIPTIONS","id":1})";
    auto list = co_await ask(*c, req_list);  // the fifth
    CHECK(list.what == control::reply::kind::list);
    REQUIRE(c->conn().send_ping());  // the sixth
    auto flushing_again = c->session.flush();
    auto flushed_again = co_await std::move(flushing_again);
    REQUIRE(flushed_again);
    auto closing = c->read_close();
    const std::uint16_t code = co_await std::move(closing);
    CHECK(code == ticks::ws::close_code::policy_violation);
    CHECK(feed.counters().rate_limited.load() == 1);
  });
}

TEST_CASE("feed: a client that ignores pings is dropped after the pong timeout") {
  app::feed_config fc = quiet_feed();
  fc.ping_every_ms = 100;
  fc.pong_timeout_ms = 300;
  with_feed(fc, [](app::feed_server& feed) -> pw::task<void> {
    auto connecting = app::test::ws_connect(feed.local_addr(), "/stream");
    auto c = co_await std::move(connecting);
    REQUIRE(c);
    // Reads the raw bytes and never answers: the codec that would pong is bypassed.
    auto reading = app::test::read_to_end(c->session.transport());
    const std::string all = co_await std::move(reading);
    CHECK(all.find("\x89\x00", 0, 2) != std::string::npos);          // a ping came
    CHECK(all.find("\x88\x02\x03\xf0", 0, 4) != std::string::npos);  // then the close, 1008
    CHECK(feed.counters().pong_timeouts.load() == 1);
  });
}
