// tick_json: every kind written raw and combined, with and without "pw_ts", and a bookTicker
// with and without "E", decodes (ticks::decoder) back to the same tick and stream; the exact
// text of a trade; the longest message fits tick_message_capacity.
#include <doctest/doctest.h>

#include <array>
#include <string>
#include <string_view>

#include "ticks/decoder.hpp"
#include "ticks/tick_json.hpp"

namespace {

ticks::symbol sym(std::string_view s) { return ticks::symbol::parse(s).value(); }

std::string write(const ticks::tick& t, std::string_view stream, polarway::option<std::int64_t> sent) {
  std::array<char, ticks::tick_message_capacity> buf{};
  const char* end = ticks::write_tick_message(buf.data(), t, stream, sent);
  REQUIRE(static_cast<std::size_t>(end - buf.data()) <= buf.size());
  return std::string(buf.data(), static_cast<std::size_t>(end - buf.data()));
}

}  // namespace

TEST_CASE("a trade is written in Binance's order and format") {
  const ticks::tick t = ticks::trade{.symbol = sym("BTCUSDT"),
                                     .event_time_ms = 1672515782136,
                                     .trade_id = 12345,
                                     .price = ticks::price::from_raw(1'650'012'000'000),
                                     .quantity = ticks::price::from_raw(100'000),
                                     .trade_time_ms = 1672515782134,
                                     .buyer_is_maker = true,
                                     .sent_ns = polarway::none};
  CHECK(write(t, "", polarway::none) ==
        R"({"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"16500.12000000","q":"0.00100000","T":1672515782134,"m":true,"M":true})");
  CHECK(write(t, "btcusdt@trade", 7) ==
        R"({"stream":"btcusdt@trade","data":{"e":"trade","E":1672515782136,"s":"BTCUSDT","t":12345,"p":"16500.12000000","q":"0.00100000","T":1672515782134,"m":true,"M":true,"pw_ts":7}})");
}

TEST_CASE("every kind decodes back to the tick written, raw and combined") {
  const ticks::tick ticks_written[] = {
      ticks::trade{.symbol = sym("ETHUSDT"), .event_time_ms = 1, .trade_id = 3, .price = ticks::price::from_raw(1),
                   .quantity = ticks::price::from_raw(999'999'999'999'999'999), .trade_time_ms = 0,
                   .buyer_is_maker = false, .sent_ns = polarway::none},
      ticks::agg_trade{.symbol = sym("X1ZZUSDT"), .event_time_ms = 253'402'300'799'999, .agg_trade_id = 9,
                       .price = ticks::price::from_raw(123'456'789), .quantity = ticks::price::from_raw(5),
                       .first_trade_id = 10, .last_trade_id = 14, .trade_time_ms = 253'402'300'799'998,
                       .buyer_is_maker = true, .sent_ns = polarway::none},
      ticks::book_ticker{.symbol = sym("BNBBTC"), .update_id = 400900217, .bid_price = ticks::price::from_raw(10),
                         .bid_quantity = ticks::price::from_raw(20), .ask_price = ticks::price::from_raw(30),
                         .ask_quantity = ticks::price::from_raw(40), .event_time_ms = polarway::none,
                         .sent_ns = polarway::none},
      ticks::book_ticker{.symbol = sym("BNBBTC"), .update_id = 400900218, .bid_price = ticks::price::from_raw(11),
                         .bid_quantity = ticks::price::from_raw(21), .ask_price = ticks::price::from_raw(31),
                         .ask_quantity = ticks::price::from_raw(41), .event_time_ms = 1732233600000,
                         .sent_ns = polarway::none},
  };
  for (const ticks::tick& written : ticks_written) {
    for (const bool combined : {false, true}) {
      for (const bool with_sent : {false, true}) {
        CAPTURE(combined);
        CAPTURE(with_sent);
        ticks::tick expected = written;
        const polarway::option<std::int64_t> sent = with_sent ? polarway::option<std::int64_t>(1733443200123456789) : polarway::none;
        std::visit([&](auto& v) { v.sent_ns = sent; }, expected);
        const std::string lower = std::string(ticks::symbol_of(written).view());
        std::string stream;
        for (char c : lower) stream += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
        stream += "@" + std::string(ticks::to_string(ticks::kind_of(written)));
        const std::string text = write(written, combined ? std::string_view(stream) : std::string_view(), sent);
        CAPTURE(text);
        ticks::decoder d(ticks::decoder_options{.format = combined ? ticks::stream_format::combined : ticks::stream_format::raw});
        auto got = d.decode(text);
        REQUIRE_MESSAGE(got, (got ? std::string() : got.error().message()));
        CHECK(got->tick == expected);
        if (combined) CHECK(got->stream.view() == stream);
      }
    }
  }
}
