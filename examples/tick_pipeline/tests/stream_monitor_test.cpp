#include "ticks/stream_monitor.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ticks;

namespace {
decode_error schema_missing_p() {
  decode_error e;
  e.code = decode_errc::schema_error;
  e.problem = schema_problem::missing;
  e.field = "p";
  e.kind = message_kind::trade;
  return e;
}
constexpr std::int64_t ms = 1'000'000;
}  // namespace

TEST_CASE("errors are counted per stream and logs are rate-limited") {
  std::vector<std::string> lines;
  stream_monitor m({.max_lines_per_second = 3}, [&](std::string_view l) { lines.emplace_back(l); });
  for (int i = 0; i < 10; ++i) m.record_error("btcusdt@trade", schema_missing_p(), i * ms);
  CHECK(lines.size() == 3);
  CHECK(lines[0].find("btcusdt@trade") != std::string::npos);
  CHECK(lines[0].find("field \"p\": missing") != std::string::npos);
  CHECK(lines[0].find("first message of this stream failed") != std::string::npos);
  auto c = m.counters("btcusdt@trade").value();
  CHECK(c.errors == 10);
  CHECK(c.schema_errors == 10);
  CHECK(c.suppressed_lines == 7);

  // Another stream has its own budget.
  m.record_error("ethusdt@trade", schema_missing_p(), 5 * ms);
  CHECK(lines.size() == 4);

  // A new window reports what the old one suppressed, then logs again.
  m.record_error("btcusdt@trade", schema_missing_p(), 1500 * ms);
  REQUIRE(lines.size() == 6);
  CHECK(lines[4].find("7 more decode errors suppressed") != std::string::npos);

  // flush() reports suppressed counts of ended windows without waiting for another error.
  for (int i = 0; i < 5; ++i) m.record_error("btcusdt@trade", schema_missing_p(), 1600 * ms);
  const auto before = lines.size();
  m.flush(1700 * ms);
  CHECK(lines.size() == before);  // window still open
  m.flush(2600 * ms);
  CHECK(lines.size() == before + 1);
  CHECK(lines.back().find("3 more decode errors suppressed") != std::string::npos);
}

TEST_CASE("a stream with only errors is flagged; one good tick clears it") {
  stream_monitor m({}, [](std::string_view) {});
  m.record_error("a@trade", schema_missing_p(), 0);
  m.record_error("b@trade", schema_missing_p(), 0);
  m.record_ok("b@trade");
  m.record_ok("c@trade");
  CHECK(m.counters("a@trade")->only_errors());
  CHECK_FALSE(m.counters("b@trade")->only_errors());
  CHECK(m.streams_with_only_errors() == std::vector<std::string>{"a@trade"});
  CHECK(m.counters("nope").is_none());
  const auto t = m.totals();
  CHECK(t.decoded == 2);
  CHECK(t.errors == 2);
}

TEST_CASE("record() keys by the message's stream when the wrapper named one") {
  stream_monitor m({}, [](std::string_view) {});
  decoder d({.format = stream_format::combined});
  m.record("conn-1",
           d.decode(R"({"stream":"bnbbtc@trade","data":{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1",)"
                    R"("q":"1","T":1,"m":true}})"),
           0);
  m.record("conn-1", d.decode(R"({"stream":"ethbtc@trade","data":{}})"), 0);
  m.record("conn-1", d.decode("not json"), 0);
  CHECK(m.counters("bnbbtc@trade")->decoded == 1);
  CHECK(m.counters("ethbtc@trade")->errors == 1);
  CHECK(m.counters("conn-1")->errors == 1);
}

TEST_CASE("the number of tracked streams is bounded") {
  stream_monitor m({.max_streams = 4}, [](std::string_view) {});
  for (int i = 0; i < 100; ++i) m.record_ok("s" + std::to_string(i));
  CHECK(m.counters("s3").is_some());
  CHECK(m.counters("s50").is_none());
  CHECK(m.counters("(other streams)")->decoded == 96);
}

TEST_CASE("lookups through the stream cache count every stream exactly") {
  // More names than the cache has slots, so they collide; names that differ only in their
  // last byte, or only in length; long names; the empty name; and, past max_streams, names
  // that share the overflow entry. Recorded round-robin many times, each count must be exact.
  std::vector<std::string> names;
  for (int i = 0; i < 300; ++i) names.push_back("sym" + std::to_string(i) + "usdt@trade");
  names.push_back("btcusdt@tradf");
  names.push_back("btcusdt@trad");
  names.push_back(std::string(40, 'x') + "@aggTrade");
  names.push_back(std::string(40, 'x') + "@aggTradf");
  names.push_back("");
  stream_monitor m({.max_streams = 280}, [](std::string_view) {});
  for (int round = 0; round < 7; ++round)
    for (std::size_t i = 0; i < names.size(); ++i) {
      // The first 280 names (in first-seen order) are tracked; every later one overflows.
      for (std::size_t k = 0; k <= i % 3; ++k) m.record_ok(names[i]);
    }
  std::uint64_t overflow = 0;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::uint64_t expected = 7 * (i % 3 + 1);
    if (i < 280) {
      CAPTURE(names[i]);
      REQUIRE(m.counters(names[i]).is_some());
      CHECK(m.counters(names[i])->decoded == expected);
    } else {
      CHECK(m.counters(names[i]).is_none());
      overflow += expected;
    }
  }
  CHECK(m.counters("(other streams)")->decoded == overflow);
  CHECK(m.totals().decoded == overflow + [&] {
    std::uint64_t tracked = 0;
    for (std::size_t i = 0; i < 280; ++i) tracked += 7 * (i % 3 + 1);
    return tracked;
  }());
}
