#include "ticks/stream_set.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "ticks/rate_limiter.hpp"
#include "ticks/stream_shards.hpp"

using namespace ticks;
using names = std::vector<std::string>;

TEST_CASE("stream names: syntax") {
  CHECK(!stream_name_problem("btcusdt@trade"));
  CHECK(!stream_name_problem("btcusdt@depth@100ms"));
  CHECK(!stream_name_problem("1000shibusdt@kline_1m"));
  for (const char* bad : {"", "btcusdt", "@trade", "btcusdt@", "BTCUSDT@trade", "btc usdt@trade", "btc\x01@trade",
                          "abcdefghijklmnopqrstu@trade", "btcusdt@trade!", "btcusdt@aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    CHECK_MESSAGE(stream_name_problem(bad), bad);
  CHECK(stream_kind("btcusdt@aggTrade") == message_kind::agg_trade);
  CHECK(!stream_kind("btcusdt@depth"));
}

TEST_CASE("streams file: comments, blanks, CRLF; the result is a set") {
  auto s = parse_streams_file("# majors\nethusdt@trade\r\n\n  btcusdt@aggTrade  # the big one\n\t\nbtcusdt@bookTicker");
  REQUIRE(s);
  CHECK(*s == names{"btcusdt@aggTrade", "btcusdt@bookTicker", "ethusdt@trade"});
  CHECK(parse_streams_file("")->empty());
  CHECK(parse_streams_file("# nothing\n\n")->empty());
}

TEST_CASE("streams file: hostile lines are refused with their line number") {
  struct bad {
    const char* text;
    std::size_t line;
    const char* mentions;
  };
  for (const bad& b : std::vector<bad>{
           {"btcusdt@trade\nBTCUSDT@trade\n", 2, "lowercase"},
           {"btcusdt@trade\n\n# c\nbtcusdt@depth\n", 4, "trade, aggTrade and bookTicker"},
           {"btcusdt@trade\nethusdt@trade\nbtcusdt@trade\n", 3, "repeats line 1"},
           {"btcusdt@trade ethusdt@trade\n", 1, "one stream per line"},
           {"btcusdt\n", 1, "no '@'"},
           {"a@trade\n\xff\xfe@trade\n", 2, "\\xff\\xfe"},
       }) {
    auto r = parse_streams_file(b.text);
    REQUIRE_MESSAGE(!r, b.text);
    CHECK_MESSAGE(r.error().line == b.line, b.text);
    CHECK_MESSAGE(r.error().message().find(b.mentions) != std::string::npos, r.error().message());
    CHECK(r.error().message().starts_with("line " + std::to_string(b.line) + ": "));
  }
  std::string embedded_nul("a@trade\nb@tr\0de\n", 16);
  auto r = parse_streams_file(embedded_nul);
  REQUIRE(!r);
  CHECK(r.error().line == 2);
  std::string huge;
  for (std::size_t i = 0; i <= max_streams_in_file; ++i) huge += "s" + std::to_string(i) + "@trade\n";
  auto h = parse_streams_file(huge);
  REQUIRE(!h);
  CHECK(h.error().line == max_streams_in_file + 1);
}

TEST_CASE("diff of two sets") {
  const auto d = diff_streams({"a@trade", "b@trade", "c@trade"}, {"b@trade", "c@trade", "d@trade", "e@trade"});
  CHECK(d.added == names{"d@trade", "e@trade"});
  CHECK(d.removed == names{"a@trade"});
  CHECK(diff_streams({"a@trade"}, {"a@trade"}).empty());
  CHECK(make_stream_set({"b@trade", "a@trade", "b@trade"}) == names{"a@trade", "b@trade"});
}

namespace {
names numbered(std::size_t from, std::size_t to) {
  names n;
  for (std::size_t i = from; i < to; ++i) n.push_back("s" + std::to_string(i) + "@trade");
  return make_stream_set(std::move(n));
}
names joined(const names& a, const names& b) {
  names n = a;
  n.insert(n.end(), b.begin(), b.end());
  return make_stream_set(std::move(n));
}
}  // namespace

TEST_CASE("shards: 1,500 streams over two connections of at most 1024") {
  stream_shards shards;
  const auto changes = shards.assign(numbered(0, 1500));
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].opened);
  CHECK(changes[1].opened);
  CHECK(changes[0].subscribe.size() == 1024);
  CHECK(changes[1].subscribe.size() == 476);
  REQUIRE(shards.shards().size() == 2);
  CHECK(joined(shards.shards()[0].streams, shards.shards()[1].streams) == numbered(0, 1500));
  CHECK(shards.assign(numbered(0, 1500)).empty());  // nothing changed, nothing to do
}

TEST_CASE("shards: a stream stays where it is; new ones fill existing connections first") {
  stream_shards shards(4);
  (void)shards.assign(numbered(0, 10));  // 4 + 4 + 2
  REQUIRE(shards.shards().size() == 3);
  const names first = shards.shards()[0].streams, second = shards.shards()[1].streams;
  // Drop one stream of the first connection, add three: the first gets one back, the third two.
  names wanted = numbered(0, 10);
  std::erase(wanted, first[0]);
  wanted = joined(wanted, numbered(100, 103));
  const auto changes = shards.assign(wanted);
  REQUIRE(shards.shards().size() == 3);
  CHECK(shards.shards()[1].streams == second);
  for (const auto& s : first)
    if (s != first[0]) CHECK(std::binary_search(shards.shards()[0].streams.begin(), shards.shards()[0].streams.end(), s));
  CHECK(shards.shards()[0].streams.size() == 4);
  CHECK(shards.shards()[2].streams.size() == 4);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0].unsubscribe == names{first[0]});
  CHECK(changes[0].subscribe.size() == 1);
  CHECK(changes[1].subscribe.size() == 2);
  CHECK(!changes[0].opened);
  CHECK(!changes[1].opened);
}

TEST_CASE("shards: a connection left empty is closed; ids are not reused") {
  stream_shards shards(4);
  (void)shards.assign(numbered(0, 8));
  REQUIRE(shards.shards().size() == 2);
  const names second = shards.shards()[1].streams;
  names wanted = numbered(0, 8);
  for (const auto& s : shards.shards()[0].streams) std::erase(wanted, s);
  const auto changes = shards.assign(wanted);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].id == 1);
  CHECK(changes[0].closed);
  CHECK(changes[0].unsubscribe.size() == 4);
  REQUIRE(shards.shards().size() == 1);
  CHECK(shards.shards()[0].id == 2);
  CHECK(shards.shards()[0].streams == second);
  const auto more = shards.assign(joined(wanted, numbered(50, 54)));  // id 2 is full: a new one
  REQUIRE(more.size() == 1);
  CHECK(more[0].id == 3);
  CHECK(more[0].opened);
  CHECK(shards.assign({}).size() == 2);
  CHECK(shards.shards().empty());
}

TEST_CASE("shards: an emptied connection is refilled rather than closed and another opened") {
  stream_shards shards(2);
  (void)shards.assign(numbered(0, 2));
  const auto changes = shards.assign(numbered(10, 12));
  REQUIRE(changes.size() == 1);
  CHECK(!changes[0].closed);
  CHECK(!changes[0].opened);
  CHECK(changes[0].unsubscribe == numbered(0, 2));
  CHECK(changes[0].subscribe == numbered(10, 12));
}

TEST_CASE("rate limiter: 5 a second, burst 5") {
  constexpr std::int64_t ms = 1'000'000;
  rate_limiter lim(5, 5);
  for (int i = 0; i < 5; ++i) CHECK(lim.try_acquire(0));
  CHECK(!lim.try_acquire(0));  // the sixth within the same instant
  CHECK(lim.next_free_ns(0) == 200 * ms);
  CHECK(!lim.try_acquire(199 * ms));
  CHECK(lim.try_acquire(200 * ms));
  CHECK(!lim.try_acquire(300 * ms));
  // At a steady 5 a second nothing is refused, however long.
  rate_limiter steady(5, 5);
  for (int i = 0; i < 100; ++i) CHECK(steady.try_acquire(i * 200 * ms));
  // After a quiet second the whole burst is back.
  for (int i = 0; i < 5; ++i) CHECK(steady.try_acquire(100 * 200 * ms + 1000 * ms));
  CHECK(!steady.try_acquire(100 * 200 * ms + 1000 * ms));
}

TEST_CASE("rate limiter: a charged message delays the next admission") {
  constexpr std::int64_t ms = 1'000'000;
  rate_limiter lim(4, 1);
  CHECK(lim.try_acquire(0));
  lim.charge(10 * ms);  // a pong that went out anyway
  CHECK(lim.next_free_ns(10 * ms) == 500 * ms);
  CHECK(!lim.try_acquire(499 * ms));
  CHECK(lim.try_acquire(500 * ms));
  // Any window of one second holds at most 5 of these messages: 1 + 4 per second.
  rate_limiter pacer(4, 1);
  std::vector<std::int64_t> sent;
  for (std::int64_t t = 0; t < 5000 * ms; t += ms)
    if (pacer.try_acquire(t)) sent.push_back(t);
  for (std::size_t i = 0; i + 5 < sent.size(); ++i) CHECK(sent[i + 5] - sent[i] > 1000 * ms);
}
