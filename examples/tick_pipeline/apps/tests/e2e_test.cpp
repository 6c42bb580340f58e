// End to end over real loopback sockets, on one runtime: the feed simulator serves, the ingest
// engine reads (WebSocket + decode + bounded channel + counting sink), and the sink's
// feed_totals must equal what the feed sent: nothing lost, duplicated or altered. Also: mixed
// kinds and raw streams, a tiny channel with a slow sink (back-pressure), reconnect after
// connect failures, and --expect stopping early with received == written.
#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include <polarway/runtime.hpp>

#include "counting_sink.hpp"
#include "feed_server.hpp"
#include "ingest.hpp"

namespace pw = polarway;
namespace app = ticks::app;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__) || defined(POLARWAY_TEST_SANITIZED)
constexpr std::uint64_t scale = 20;
#else
constexpr std::uint64_t scale = 1;
#endif

struct run_result {
  app::ingest_report report;
  ticks::feed_totals sent;
  std::uint64_t decode_errors = 0;
  std::uint64_t ws_errors = 0;
  std::uint64_t normal_closes = 0;
  std::uint64_t completed = 0;
};

// Serves `feed`, points an engine with `ic` at the given targets, runs it to the end.
run_result run_pipeline(app::feed_config fc, app::ingest_config ic, const std::vector<std::string>& targets,
                        app::counting_sink& sink) {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  return rt.block_on([](app::feed_config fc, app::ingest_config ic, std::vector<std::string> targets,
                        app::counting_sink& sink) -> pw::task<run_result> {
    fc.listen = "127.0.0.1:0";
    fc.quiet = true;
    auto feed = app::feed_server::create(fc);
    REQUIRE(feed);
    pw::cancellation_token feed_stop;
    auto serving = pw::spawn((*feed)->run(feed_stop));
    for (const auto& t : targets)
      ic.connect.push_back(app::ws_url::parse("ws://" + (*feed)->local_addr().to_string() + t).value());
    ic.quiet = true;
    app::ingest_engine engine(ic, sink);
    pw::cancellation_token stop;
    run_result r;
    r.report = co_await engine.run(stop);
    feed_stop.cancel();
    CHECK((co_await serving).is_ok());
    r.sent = (*feed)->totals();
    r.decode_errors = engine.counters().decode_errors();
    r.ws_errors = engine.counters().ws_error_total();
    r.normal_closes = engine.counters().close_codes_received[0].load();
    r.completed = (*feed)->counters().completed.load();
    co_return r;
  }(fc, ic, targets, sink));
}

std::string all_streams(std::size_t symbols, ticks::message_kind kind) {
  return ticks::feed_generator::create(ticks::feed_options{.symbols = symbols, .kind = kind, .combined = true})->target();
}

}  // namespace

TEST_CASE("e2e: 200,000 trades over 10 symbols on 3 connections arrive exactly once") {
  const std::uint64_t per = 200'000 / 3 / scale;
  app::feed_config fc;
  fc.symbols = 10;
  fc.count = per;
  fc.with_send_time = true;
  app::ingest_config ic;
  ic.once = true;
  const std::string t = all_streams(10, ticks::message_kind::trade);
  app::counting_sink sink;
  const run_result r = run_pipeline(fc, ic, {t, t, t}, sink);
  CHECK(r.report.ticks_in == 3 * per);
  CHECK(r.report.ticks_out == 3 * per);
  CHECK(sink.written() == 3 * per);
  CHECK(sink.totals() == r.sent);
  CHECK(sink.totals().count == 3 * per);
  CHECK(sink.per_kind()[0] == 3 * per);
  CHECK(sink.latency().count() == 3 * per);
  CHECK(sink.flushes() == 1);
  CHECK(r.decode_errors == 0);
  CHECK(r.ws_errors == 0);
  CHECK(r.normal_closes == 3);
  CHECK(r.completed == 3);
  CHECK(!r.report.sink_error);
}

TEST_CASE("e2e: mixed kinds on a combined stream, raw streams, a subset of symbols") {
  const std::uint64_t per = 30'000 / scale;
  app::feed_config fc;
  fc.symbols = 10;
  fc.count = per;
  app::ingest_config ic;
  ic.once = true;
  app::counting_sink sink;
  const run_result r = run_pipeline(
      fc, ic,
      {"/stream?streams=btcusdt@trade/ethusdt@aggTrade/bnbusdt@bookTicker/x9usdt@trade", "/ws/solusdt@bookTicker",
       "/ws/xrpusdt@aggTrade", "/"},
      sink);
  CHECK(r.report.ticks_in == 4 * per);
  CHECK(r.report.ticks_out == 4 * per);
  CHECK(sink.totals() == r.sent);
  CHECK(r.decode_errors == 0);
  // The combined connection rotates trade, aggTrade, bookTicker; "/" is all trades.
  CHECK(sink.per_kind()[0] + sink.per_kind()[1] + sink.per_kind()[2] == 4 * per);
  CHECK(sink.per_kind()[2] >= per);
  CHECK(sink.per_kind()[1] >= per);
}

TEST_CASE("e2e: back-pressure: channel of 4, a slow sink, nothing lost") {
  const std::uint64_t per = 5'000 / scale;
  app::feed_config fc;
  fc.symbols = 3;
  fc.count = per;
  app::ingest_config ic;
  ic.once = true;
  ic.channel_capacity = 4;
  ic.batch_max = 2;
  const std::string t = all_streams(3, ticks::message_kind::trade);
  app::counting_sink sink(/*delay_us_per_tick=*/100);  // 2 connections x 5,000 ticks: about 1 s
  const run_result r = run_pipeline(fc, ic, {t, t}, sink);
  CHECK(r.report.ticks_in == 2 * per);
  CHECK(r.report.ticks_out == 2 * per);
  CHECK(sink.totals() == r.sent);
}

TEST_CASE("e2e: a paced feed keeps to its rate and delivers every tick") {
  // A market of 600 ticks at 2,000/s, sent every 200 us: 0.3 s at that rate. The feed may fall
  // behind its schedule (a slow machine), never ahead of it, so the lower bound on the time
  // cannot fail for a feed that paces, and does fail for one that sends flat out. Of the 2
  // connections, the first starts the market and gets all of it; the second joins it in
  // progress, so it may miss its first few ticks; both get every tick from there to the end.
  const std::uint64_t per = 600;
  app::feed_config fc;
  fc.symbols = 4;
  fc.count = per;
  fc.rate = 2'000;
  fc.pace_us = 200;
  fc.with_send_time = true;
  app::ingest_config ic;
  ic.once = true;
  const std::string t = all_streams(4, ticks::message_kind::trade);
  app::counting_sink sink;
  const auto start = std::chrono::steady_clock::now();
  const run_result r = run_pipeline(fc, ic, {t, t}, sink);
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(r.report.ticks_out >= per);
  CHECK(r.report.ticks_out <= 2 * per);
  CHECK(sink.totals() == r.sent);
  CHECK(r.completed == 2);
  // The last tick is due at (per - 1) / rate = 0.2995 s after the market's start.
  CHECK(took >= 299ms);
}

TEST_CASE("e2e: --expect stops early; received == written") {
  app::feed_config fc;
  fc.symbols = 5;
  fc.count = 0;  // unlimited: only --expect ends the run
  app::ingest_config ic;
  ic.expect = 10'000 / scale;
  const std::string t = all_streams(5, ticks::message_kind::trade);
  app::counting_sink sink;
  const run_result r = run_pipeline(fc, ic, {t, t}, sink);
  CHECK(r.report.ticks_out >= ic.expect);
  CHECK(r.report.ticks_in == r.report.ticks_out);
  CHECK(sink.written() == r.report.ticks_out);
  CHECK(r.decode_errors == 0);
}

TEST_CASE("e2e: the client reconnects with back-off until the feed is up") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  app::counting_sink sink;
  const auto r = rt.block_on([](app::counting_sink& sink) -> pw::task<std::pair<app::ingest_report, std::uint64_t>> {
    // Find a free port, release it, and point the client at it before anything listens there.
    std::string addr;
    {
      auto probe = pw::net::tcp_listener::bind("127.0.0.1:0");
      REQUIRE(probe);
      addr = probe->local_addr()->to_string();
    }
    app::ingest_config ic;
    ic.once = true;
    ic.quiet = true;
    ic.backoff_initial_ms = 10;
    ic.backoff_max_ms = 40;
    ic.connect.push_back(app::ws_url::parse("ws://" + addr + "/ws/btcusdt@trade").value());
    app::ingest_engine engine(ic, sink);
    pw::cancellation_token stop;
    auto running = pw::spawn(engine.run(stop));
    // Wait (bounded) until the client has failed twice, then start the feed on that port.
    auto failed = co_await pw::timeout(10s, [](const app::ingest_engine& e) -> pw::task<void> {
      while (e.counters().connect_failures.load() < 2) co_await pw::sleep(2ms);
    }(engine));
    CHECK(failed.is_ok());
    app::feed_config fc;
    fc.listen = addr;
    fc.count = 1000;
    fc.quiet = true;
    auto feed = app::feed_server::create(fc);
    REQUIRE(feed);
    pw::cancellation_token feed_stop;
    auto serving = pw::spawn((*feed)->run(feed_stop));
    auto rep = co_await running;
    feed_stop.cancel();
    CHECK((co_await serving).is_ok());
    REQUIRE(rep.is_ok());
    co_return std::pair{*rep, engine.counters().reconnects.load()};
  }(sink));
  CHECK(r.first.ticks_out == 1000);
  CHECK(r.first.ticks_in == 1000);
  CHECK(r.second >= 2);
}
