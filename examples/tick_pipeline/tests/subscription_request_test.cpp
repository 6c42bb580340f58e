// subscription_request: every field and its default, formatting round-trips, and each way a
// hostile or mistaken request line is refused with a message that says what is wrong.
#include <doctest/doctest.h>

#include <string>

#include "ticks/subscription_request.hpp"

namespace {

std::string refusal(std::string_view line) {
  auto r = ticks::parse_subscription_request(line);
  REQUIRE_FALSE(r);
  return r.error().text;
}

}  // namespace

TEST_CASE("a minimal request takes every symbol with the block policy") {
  auto r = ticks::parse_subscription_request("polarway-ticks/1 kind=aggTrade");
  REQUIRE(r);
  CHECK(r->kind == ticks::message_kind::agg_trade);
  CHECK(r->symbols.empty());
  CHECK(r->policy == ticks::delivery_policy::block);
  CHECK(r->wants(ticks::symbol::parse("ANYTHING").value()));
}

TEST_CASE("symbols are sorted and deduplicated, and only they are wanted") {
  auto r = ticks::parse_subscription_request("polarway-ticks/1 policy=lossy symbols=ETHUSDT,BTCUSDT,ETHUSDT kind=bookTicker\r");
  REQUIRE(r);
  CHECK(r->kind == ticks::message_kind::book_ticker);
  CHECK(r->policy == ticks::delivery_policy::lossy);
  REQUIRE(r->symbols.size() == 2);
  CHECK(r->symbols[0].view() == "BTCUSDT");
  CHECK(r->symbols[1].view() == "ETHUSDT");
  CHECK(r->wants(ticks::symbol::parse("ETHUSDT").value()));
  CHECK_FALSE(r->wants(ticks::symbol::parse("BNBUSDT").value()));
  CHECK(ticks::format_subscription_request(*r) == "polarway-ticks/1 kind=bookTicker symbols=BTCUSDT,ETHUSDT policy=lossy\n");
  auto again = ticks::parse_subscription_request("polarway-ticks/1 kind=bookTicker symbols=BTCUSDT,ETHUSDT policy=lossy");
  REQUIRE(again);
  CHECK(again->symbols == r->symbols);
}

TEST_CASE("bad requests are refused, saying why") {
  CHECK(refusal("") .find("does not start with polarway-ticks/1") != std::string::npos);
  CHECK(refusal("GET / HTTP/1.1").find("does not start with polarway-ticks/1") != std::string::npos);
  CHECK(refusal("polarway-ticks/2 kind=trade").find("does not start") != std::string::npos);
  CHECK(refusal("polarway-ticks/1").find("names no kind") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=depth").find("unknown kind depth") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade kind=trade").find("kind given twice") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade policy=fast").find("unknown policy fast") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade policy=block policy=lossy").find("policy given twice") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade colour=red").find("unknown key colour") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade =x").find("expected key=value") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade symbols").find("expected key=value") != std::string::npos);
  CHECK(refusal("polarway-ticks/1  kind=trade").find("empty word") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade ").find("empty word") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade symbols=").find("bad symbol") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade symbols=BTC,,ETH").find("bad symbol") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade symbols=btcusdt").find("bad symbol btcusdt") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=trade symbols=../../ETC").find("bad symbol") != std::string::npos);
  CHECK(refusal(std::string("polarway-ticks/1 kind=trade\0x", 29)).find("\\x00") != std::string::npos);
  CHECK(refusal("polarway-ticks/1 kind=tr\xff" "de").find("\\xff") != std::string::npos);
}

TEST_CASE("length and symbol-count limits") {
  std::string many = "polarway-ticks/1 kind=trade symbols=";
  for (int i = 0; i < 257; ++i) many += i ? ",A" : "A";  // counted as given, before duplicates go
  CHECK(refusal(many).find("more than 256 symbols") != std::string::npos);
  const std::string long_line = "polarway-ticks/1 kind=trade symbols=" + std::string(1100, 'A');
  CHECK(refusal(long_line).find("longer than 1024 bytes") != std::string::npos);
}
