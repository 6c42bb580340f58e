// The feed as a market (polarway-feed --rate), over real loopback sockets: every message a
// connection receives is the market's message of that index (checked against a local
// generator of the same seed), ids count up per symbol, connections opened at different times
// agree on every message they share, a later connection or a reconnect starts later (a gap),
// a subset sees only its symbols, and the market's totals are those of its whole sequence.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "feed_server.hpp"
#include "market_test_support.hpp"
#include "ticks/decoder.hpp"
#include "ticks/feed_generator.hpp"

namespace pw = polarway;
namespace app = ticks::app;
namespace ws = ticks::ws;
using namespace std::chrono_literals;
using app::test::received;

namespace {

constexpr std::uint64_t seed = 11;
constexpr std::size_t symbols = 5;

app::feed_config market_config(std::uint64_t rate, std::uint64_t count) {
  app::feed_config fc;
  fc.listen = "127.0.0.1:0";
  fc.quiet = true;
  fc.symbols = symbols;
  fc.seed = seed;
  fc.rate = rate;
  fc.count = count;
  fc.pace_us = 500;
  return fc;
}

// Every received tick is the market's message at its index (from its event time): walked
// with a local generator of the same seed per kind, since a connection's indices only grow.
void check_against_market(const received& r) {
  std::map<int, ticks::feed_generator> market;
  for (const ticks::tick& t : r.ticks) {
    const auto kind = ticks::kind_of(t);
    auto it = market.find(static_cast<int>(kind));
    if (it == market.end())
      it = market.emplace(static_cast<int>(kind),
                          ticks::feed_generator::create({.seed = seed, .symbols = symbols, .kind = kind}).value())
               .first;
    const std::uint64_t i = app::test::market_index(t);
    REQUIRE(it->second.produced() <= i);
    while (it->second.produced() <= i) it->second.skip();
    CHECK(t == it->second.last());
  }
}

// Ids per symbol and kind, in order of arrival, must count up by one.
void check_sequential_ids(const received& r) {
  std::map<std::pair<int, std::string>, std::int64_t> next;
  for (const ticks::tick& t : r.ticks) {
    const auto key = std::pair{static_cast<int>(ticks::kind_of(t)), std::string(ticks::symbol_of(t).view())};
    const std::int64_t id = app::test::id_of(t);
    if (auto it = next.find(key); it != next.end()) CHECK(id == it->second);
    next[key] = id + 1;
  }
}

}  // namespace

TEST_CASE("market: the first client sees the whole market, ids per symbol in order, market totals match") {
  const std::uint64_t count = 3000;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(market_config(30'000, count), [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    auto all = co_await app::test::read_stream(addr, "/stream?streams=btcusdt@trade/ethusdt@trade/bnbusdt@trade/"
                                                     "solusdt@trade/xrpusdt@trade/btcusdt@aggTrade/ethusdt@aggTrade/"
                                                     "bnbusdt@aggTrade/solusdt@aggTrade/xrpusdt@aggTrade");
    REQUIRE(all);
    CHECK(all->close_code == ws::close_code::normal);
    CHECK(all->ticks.size() == 2 * count);  // it started the market: it sees every message
    check_against_market(*all);
    check_sequential_ids(*all);
    const auto m = feed.market_totals();
    REQUIRE(m.size() == 2);
    for (const auto& k : m) {
      auto g = ticks::feed_generator::create({.seed = seed, .symbols = symbols, .kind = k.kind}).value();
      for (std::uint64_t i = 0; i < count; ++i) g.skip();
      CHECK(k.totals == g.totals());
    }
  }, [](app::feed_server& feed) { CHECK(feed.counters().completed.load() == 1); }));
}

TEST_CASE("market: a later connection joins in progress and agrees on every message it shares") {
  // An endless market: however late a loaded sanitizer build admits the later connection, it
  // joins a market still running, past the second snapshot (2^16 messages), so that it
  // fast-forwards from one. Each connection reads a fixed number of messages and closes.
  static constexpr std::size_t first_wants = 20'000;  // of btcusdt: a fifth of the market's messages
  static constexpr std::size_t later_wants = 2'000;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(market_config(100'000, 0), [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    auto first_reading = pw::spawn(app::test::read_some(addr, "/ws/btcusdt@aggTrade", first_wants));
    // The market starts with the first connection; 0.8 s later it is past message 70,000.
    while (feed.counters().connections.load() == 0) co_await pw::sleep(1ms);
    co_await pw::sleep(800ms);
    auto later = co_await app::test::read_some(addr, "/ws/btcusdt@aggTrade", later_wants);
    auto first = co_await std::move(first_reading);
    REQUIRE(first.is_ok());
    REQUIRE(*first);
    REQUIRE(later);
    REQUIRE((*first)->ticks.size() == first_wants);
    REQUIRE(later->ticks.size() == later_wants);
    // Without exceptions a failed REQUIRE does not leave the coroutine.
    if ((*first)->ticks.size() != first_wants || later->ticks.size() != later_wants) co_return;
    CHECK(app::test::market_index((*first)->ticks.front()) < symbols);
    CHECK(app::test::market_index(later->ticks.front()) > 70'000);
    // Both are the market's messages at their indices, so they agree wherever they overlap;
    // where they do (when the later one was admitted within the first one's reading), check
    // that directly too.
    check_against_market(**first);
    check_against_market(*later);
    check_sequential_ids(**first);
    check_sequential_ids(*later);
    std::map<std::int64_t, ticks::tick> by_id;
    for (const auto& t : (*first)->ticks) by_id.emplace(app::test::id_of(t), t);
    for (const auto& t : later->ticks)
      if (auto it = by_id.find(app::test::id_of(t)); it != by_id.end()) CHECK(it->second == t);
  }));
}

TEST_CASE("market: a client that reconnects after a pause misses what the market produced meanwhile") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(market_config(2'000, 0), [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    auto a = co_await app::test::read_some(addr, "/ws/ethusdt@trade", 5);
    REQUIRE(a);
    REQUIRE(a->ticks.size() == 5);
    // 100 ms away at 2,000/s: the market moves on by at least 200 messages meanwhile.
    co_await pw::sleep(100ms);
    auto b = co_await app::test::read_some(addr, "/ws/ethusdt@trade", 5);
    REQUIRE(b);
    REQUIRE(b->ticks.size() == 5);
    const std::uint64_t last_seen = app::test::market_index(a->ticks.back());
    const std::uint64_t first_again = app::test::market_index(b->ticks.front());
    CHECK(first_again >= last_seen + 200);
    CHECK(app::test::id_of(b->ticks.front()) > app::test::id_of(a->ticks.back()) + 1);
  }));
}
