#include "ticks/feed_generator.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "ticks/decoder.hpp"

using namespace ticks;

TEST_CASE("the same seed gives the same feed; another seed does not") {
  auto a = feed_generator::create({.seed = 7, .symbols = 5}).value();
  auto b = feed_generator::create({.seed = 7, .symbols = 5}).value();
  auto c = feed_generator::create({.seed = 8, .symbols = 5}).value();
  bool differs = false;
  for (int i = 0; i < 200; ++i) {
    const std::string x(a.next());
    CHECK(x == b.next());
    differs |= x != c.next();
  }
  CHECK(differs);
  CHECK(a.totals() == b.totals());
}

TEST_CASE("every generated message decodes back to the tick it encodes, and the totals match") {
  for (auto kind : {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker}) {
    for (bool combined : {false, true}) {
      for (bool sent : {false, true}) {
        CAPTURE(to_string(kind));
        CAPTURE(combined);
        auto g = feed_generator::create(
                     {.seed = 42, .symbols = 12, .kind = kind, .combined = combined, .with_sent_ns = sent})
                     .value();
        decoder d({.format = combined ? stream_format::combined : stream_format::raw,
                   .kind = combined ? polarway::option<message_kind>() : polarway::option<message_kind>(kind)});
        feed_totals seen;
        for (int i = 0; i < 2000; ++i) {
          const auto json = std::string(g.next(1'700'000'000'000'000'000 + i));
          auto r = d.decode(json);
          REQUIRE_MESSAGE(r.is_ok(), r.error().message() << " in " << json);
          CHECK(r->tick == g.last());
          if (combined) CHECK(r->stream.view().ends_with(std::string("@") + std::string(to_string(kind))));
          const auto sent_ns = std::visit([](const auto& t) { return t.sent_ns; }, r->tick);
          CHECK(sent_ns.is_some() == sent);
          seen.add(r->tick);
        }
        CHECK(seen == g.totals());
        CHECK(seen.count == 2000);
      }
    }
  }
}

TEST_CASE("names, targets and limits") {
  auto g = feed_generator::create({.symbols = 10, .kind = message_kind::agg_trade, .combined = true}).value();
  CHECK(g.symbols()[0].view() == "BTCUSDT");
  CHECK(g.symbols()[9].view() == "X9USDT");
  CHECK(g.stream_name(0) == "btcusdt@aggTrade");
  CHECK(g.target().starts_with("/stream?streams=btcusdt@aggTrade/ethusdt@aggTrade/"));
  auto raw = feed_generator::create({.symbols = 1}).value();
  CHECK(raw.target() == "/ws/btcusdt@trade");
  CHECK(feed_generator::create({.symbols = 0}).is_err());
  CHECK(feed_generator::create({.symbols = 10001}).is_err());
  auto big = feed_generator::create({.symbols = 10000}).value();
  CHECK(big.symbols().back().size() <= symbol::max_size);
}
