#include "ticks/decoder.hpp"

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace pw = polarway;
using namespace ticks;

namespace {

using fields = std::vector<std::pair<std::string, std::string>>;  // key, raw JSON value

std::string to_json(const fields& f) {
  std::string s = "{";
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (i) s += ',';
    s += '"' + f[i].first + "\":" + f[i].second;
  }
  return s + "}";
}

const fields trade_msg = {{"e", R"("trade")"},    {"E", "1672515782136"}, {"s", R"("BNBBTC")"},
                          {"t", "12345"},         {"p", R"("0.001")"},    {"q", R"("100")"},
                          {"T", "1672515782136"}, {"m", "true"},          {"M", "true"}};
const fields agg_msg = {{"e", R"("aggTrade")"}, {"E", "123456789"}, {"s", R"("BNBBTC")"}, {"a", "12345"},
                        {"p", R"("0.001")"},    {"q", R"("100")"},  {"f", "100"},         {"l", "105"},
                        {"T", "123456785"},     {"m", "true"},      {"M", "true"}};
const fields book_msg = {{"u", "400900217"},        {"s", R"("BNBUSDT")"},     {"b", R"("25.35190000")"},
                         {"B", R"("31.21000000")"}, {"a", R"("25.36520000")"}, {"A", R"("40.66000000")"}};

struct kind_case {
  message_kind kind;
  const fields* msg;
  std::vector<std::string> required;
  std::vector<std::string> decimals;
};
const std::vector<kind_case> kinds = {
    {message_kind::trade, &trade_msg, {"e", "E", "s", "t", "p", "q", "T", "m"}, {"p", "q"}},
    {message_kind::agg_trade, &agg_msg, {"e", "E", "s", "a", "p", "q", "f", "l", "T", "m"}, {"p", "q"}},
    {message_kind::book_ticker, &book_msg, {"u", "s", "b", "B", "a", "A"}, {"b", "B", "a", "A"}},
};

pw::result<decoded, decode_error> decode(std::string_view json, decoder_options o = {}) {
  decoder d(o);
  return d.decode(json);
}

decode_error fails(std::string_view json, decoder_options o = {}) {
  auto r = decode(json, o);
  REQUIRE(r.is_err());
  return r.error();
}

fields without(fields f, const std::string& key) {
  std::erase_if(f, [&](const auto& kv) { return kv.first == key; });
  return f;
}
fields with(fields f, const std::string& key, const std::string& value) {
  for (auto& kv : f)
    if (kv.first == key) {
      kv.second = value;
      return f;
    }
  f.emplace_back(key, value);
  return f;
}
fields renamed(fields f, const std::string& key, const std::string& to) {
  for (auto& kv : f)
    if (kv.first == key) kv.first = to;
  return f;
}

std::string combined(std::string_view stream, const std::string& data) {
  return R"({"stream":")" + std::string(stream) + R"(","data":)" + data + "}";
}

}  // namespace

TEST_CASE("trade decodes exactly") {
  auto r = decode(to_json(trade_msg), {.kind = message_kind::trade});
  REQUIRE(r.is_ok());
  const auto& t = std::get<trade>(r->tick);
  CHECK(t.symbol.view() == "BNBBTC");
  CHECK(t.event_time_ms == 1672515782136);
  CHECK(t.trade_id == 12345);
  CHECK(t.price.raw == 100'000);
  CHECK(t.quantity.raw == 10'000'000'000);
  CHECK(t.trade_time_ms == 1672515782136);
  CHECK(t.buyer_is_maker);
  CHECK(t.sent_ns.is_none());
  CHECK(r->stream.empty());
}

TEST_CASE("aggTrade decodes exactly") {
  auto r = decode(to_json(agg_msg), {.kind = message_kind::agg_trade});
  REQUIRE(r.is_ok());
  const auto& a = std::get<agg_trade>(r->tick);
  CHECK(a.agg_trade_id == 12345);
  CHECK(a.first_trade_id == 100);
  CHECK(a.last_trade_id == 105);
  CHECK(a.trade_time_ms == 123456785);
  CHECK(a.price == price::from_raw(100'000));
}

TEST_CASE("bookTicker decodes exactly; E and e are optional") {
  auto r = decode(to_json(book_msg), {.kind = message_kind::book_ticker});
  REQUIRE(r.is_ok());
  const auto& b = std::get<book_ticker>(r->tick);
  CHECK(b.update_id == 400900217);
  CHECK(b.symbol.view() == "BNBUSDT");
  CHECK(b.bid_price.raw == 2'535'190'000);
  CHECK(b.bid_quantity.raw == 3'121'000'000);
  CHECK(b.ask_price.raw == 2'536'520'000);
  CHECK(b.ask_quantity.raw == 4'066'000'000);
  CHECK(b.event_time_ms.is_none());

  auto with_e = decode(to_json(with(with(book_msg, "e", R"("bookTicker")"), "E", "1700000000000")));
  REQUIRE(with_e.is_ok());
  CHECK(std::get<book_ticker>(with_e->tick).event_time_ms == pw::option<std::int64_t>(1700000000000));
  CHECK(fails(to_json(with(book_msg, "e", R"("trade")")), {.kind = message_kind::book_ticker}).problem ==
        schema_problem::kind_mismatch);
}

TEST_CASE("the kind is inferred from \"e\" when the stream does not say") {
  CHECK(kind_of(decode(to_json(trade_msg)).value().tick) == message_kind::trade);
  CHECK(kind_of(decode(to_json(agg_msg)).value().tick) == message_kind::agg_trade);
  CHECK(kind_of(decode(to_json(book_msg)).value().tick) == message_kind::book_ticker);
  auto e = fails(to_json(with(trade_msg, "e", R"("depthUpdate")")));
  CHECK(e.problem == schema_problem::unknown_kind);
  CHECK(std::string_view(e.field) == "e");
}

TEST_CASE("pw_ts is optional and exact") {
  for (const auto& k : kinds) {
    auto r = decode(to_json(with(*k.msg, "pw_ts", "1700000000123456789")), {.kind = k.kind});
    REQUIRE(r.is_ok());
    const auto sent = std::visit([](const auto& t) { return t.sent_ns; }, r->tick);
    CHECK(sent == pw::option<std::int64_t>(1700000000123456789));
    CHECK(decode(to_json(with(*k.msg, "pw_ts", R"("123")")), {.kind = k.kind}).error().problem ==
          schema_problem::wrong_type);
  }
}

TEST_CASE("every required field: missing, renamed, mistyped -> a schema error naming it") {
  for (const auto& k : kinds) {
    CAPTURE(to_string(k.kind));
    for (const auto& key : k.required) {
      CAPTURE(key);
      for (const bool infer : {false, true}) {
        // Inference reads "e" first, so a broken "e" cannot be inferred from; skip that combination.
        if (infer && key == "e") continue;
        const decoder_options o = infer ? decoder_options{} : decoder_options{.kind = k.kind};
        auto missing = fails(to_json(without(*k.msg, key)), o);
        CHECK(missing.code == decode_errc::schema_error);
        CHECK(missing.problem == schema_problem::missing);
        CHECK(std::string_view(missing.field) == key);
        CHECK(missing.kind == pw::option<message_kind>(k.kind));

        auto ren = fails(to_json(renamed(*k.msg, key, key + "_renamed")), o);
        CHECK(ren.problem == schema_problem::missing);
        CHECK(std::string_view(ren.field) == key);
      }
      // The wrong JSON type: a number where a string belongs and vice versa; booleans as strings.
      std::string wrong = "\"1\"";
      for (const auto& kv : *k.msg)
        if (kv.first == key) wrong = kv.second.front() == '"' ? "1" : (kv.second == "true" ? "\"true\"" : "\"1\"");
      auto typed = fails(to_json(with(*k.msg, key, wrong)), {.kind = k.kind});
      CHECK(typed.code == decode_errc::schema_error);
      CHECK((typed.problem == schema_problem::wrong_type ||
             (key == "e" && typed.problem == schema_problem::kind_mismatch)));
      CHECK(std::string_view(typed.field) == key);
      CHECK(fails(to_json(with(*k.msg, key, "null")), {.kind = k.kind}).problem == schema_problem::wrong_type);
      CHECK(fails(to_json(with(*k.msg, key, "{}")), {.kind = k.kind}).problem == schema_problem::wrong_type);
    }
  }
}

TEST_CASE("bad decimals and symbols are schema errors that say why") {
  for (const auto& k : kinds) {
    for (const auto& key : k.decimals) {
      const auto bad = [&](std::string_view v) {
        return fails(to_json(with(*k.msg, key, '"' + std::string(v) + '"')), {.kind = k.kind});
      };
      const std::pair<std::string_view, decimal_errc> cases[] = {
          {"", decimal_errc::empty},
          {"1.123456789", decimal_errc::too_many_fraction_digits},
          {"abc", decimal_errc::invalid_character},
          {"1e5", decimal_errc::invalid_character},
          {"-1.0", decimal_errc::negative},
          {"1000000000000", decimal_errc::overflow},
          {".5", decimal_errc::missing_digits},
      };
      for (const auto& [text, why] : cases) {
        auto e = bad(text);
        CHECK(e.problem == schema_problem::bad_decimal);
        CHECK(e.decimal == why);
        CHECK(std::string_view(e.field) == key);
      }
      // Trailing zeros beyond the scale are exact, so they are fine.
      CHECK(decode(to_json(with(*k.msg, key, R"("1.0000000000")")), {.kind = k.kind}).is_ok());
    }
    auto sym = fails(to_json(with(*k.msg, "s", R"("../etc")")), {.kind = k.kind});
    CHECK(sym.problem == schema_problem::bad_symbol);
    CHECK(sym.symbol == symbol_errc::invalid_character);
    CHECK(fails(to_json(with(*k.msg, "s", R"("ABCDEFGHIJKLMNOPQRSTUVWXYZ")")), {.kind = k.kind}).symbol ==
          symbol_errc::too_long);
  }
}

TEST_CASE("integers: negative, fractional and out-of-range values are refused") {
  CHECK(fails(to_json(with(trade_msg, "t", "-5")), {.kind = message_kind::trade}).problem == schema_problem::bad_value);
  CHECK(fails(to_json(with(trade_msg, "t", "1.5")), {.kind = message_kind::trade}).problem ==
        schema_problem::bad_value);
  CHECK(fails(to_json(with(trade_msg, "t", "1e3")), {.kind = message_kind::trade}).problem ==
        schema_problem::bad_value);
  CHECK(fails(to_json(with(trade_msg, "t", "99999999999999999999")), {.kind = message_kind::trade}).problem ==
        schema_problem::bad_value);
  CHECK(fails(to_json(with(agg_msg, "l", "99")), {.kind = message_kind::agg_trade}).problem ==
        schema_problem::bad_value);
}

TEST_CASE("integers of every length read exactly, up to INT64_MAX and not beyond") {
  // The integer reader takes 8 characters at a time: every length from 1 to 19 digits, every
  // digit in every position, and what follows the digits (',', '}', spaces) all matter.
  std::string digits;
  for (int n = 1; n <= 19; ++n) {
    digits += static_cast<char>('0' + (n * 7) % 10);
    if (digits[0] == '0') digits[0] = '9';
    CAPTURE(digits);
    const std::int64_t want = std::stoll(digits);
    auto r = decode(to_json(with(trade_msg, "t", digits)), {.kind = message_kind::trade});
    REQUIRE(r.is_ok());
    CHECK(std::get<trade>(r->tick).trade_id == want);
    auto spaced = decode(R"({"e":"trade","E":1,"s":"BNBBTC","t":)" + digits +
                             R"( ,"p":"1","q":"1","T":1,"m":true})",
                         {.kind = message_kind::trade});
    REQUIRE(spaced.is_ok());
    CHECK(std::get<trade>(spaced->tick).trade_id == want);
    auto at_end = decode(R"({"e":"trade","E":1,"s":"BNBBTC","p":"1","q":"1","T":1,"m":true,"t":)" + digits + "}",
                         {.kind = message_kind::trade});
    REQUIRE(at_end.is_ok());
    CHECK(std::get<trade>(at_end->tick).trade_id == want);
  }
  CHECK(std::get<trade>(decode(to_json(with(trade_msg, "t", "0")), {.kind = message_kind::trade})->tick).trade_id == 0);
  const auto largest = decode(to_json(with(trade_msg, "t", "9223372036854775807")), {.kind = message_kind::trade});
  CHECK(std::get<trade>(largest->tick).trade_id == INT64_MAX);
  for (std::string_view bad : {"9223372036854775808", "18446744073709551615", "18446744073709551616",
                               "123456789012345678901234", "12345678.5", "1234567890123456E2", "-1"}) {
    CAPTURE(bad);
    CHECK(fails(to_json(with(trade_msg, "t", std::string(bad))), {.kind = message_kind::trade}).problem ==
          schema_problem::bad_value);
  }
  // JSON has no leading zeros: that is not a number at all.
  for (std::string_view bad : {"01", "00", "0123456789"}) {
    CAPTURE(bad);
    CHECK(fails(to_json(with(trade_msg, "t", std::string(bad))), {.kind = message_kind::trade}).code ==
          decode_errc::malformed_json);
  }
}

TEST_CASE("duplicates, kind mismatches and unknown extra fields") {
  auto dup = fails(R"({"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","p":"2","q":"1","T":1,"m":true})",
                   {.kind = message_kind::trade});
  CHECK(dup.problem == schema_problem::duplicate);
  CHECK(std::string_view(dup.field) == "p");
  CHECK(fails(to_json(agg_msg), {.kind = message_kind::trade}).problem == schema_problem::kind_mismatch);
  // Fields we do not know are skipped (the exchange may add some): old trade payloads had b/a.
  CHECK(decode(to_json(with(with(trade_msg, "b", "88"), "a", "50")), {.kind = message_kind::trade}).is_ok());
  CHECK(decode(to_json(with(trade_msg, "x", R"({"nested":[1,2,{"k":"v"}]})")), {.kind = message_kind::trade}).is_ok());
}

TEST_CASE("keys are compared after unescaping: an escaped key is the same key") {
  // "\u0070" is "p": keys are read in place unless they contain a backslash.
  auto r = decode(to_json(renamed(trade_msg, "p", "\\u0070")), {.kind = message_kind::trade});
  REQUIRE(r.is_ok());
  CHECK(std::get<trade>(r->tick).price.raw == 100'000);
  auto c = decode(R"({"str\u0065am":"bnbbtc@trade","data":)" + to_json(trade_msg) + "}",
                  {.format = stream_format::combined});
  REQUIRE(c.is_ok());
  CHECK(c->stream.view() == "bnbbtc@trade");
  // A key that only starts like a known one is another key.
  auto longer = fails(to_json(renamed(trade_msg, "p", "p\\n")), {.kind = message_kind::trade});
  CHECK(longer.problem == schema_problem::missing);
  CHECK(std::string_view(longer.field) == "p");
}

TEST_CASE("malformed JSON is its own error code") {
  for (std::string_view bad :
       {"", "{", R"({"e":"trade")", R"({"e":})", R"({"e":"trade","E":})", R"({"e":"trade"} {"e":"trade"})",
        R"({"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","q":"1","T":1,"m":true} {})",
        R"({"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","q":"1","T":1,"m":true}x)"}) {
    CAPTURE(bad);
    auto e = fails(bad, {.kind = message_kind::trade});
    CHECK(e.code == decode_errc::malformed_json);
    CHECK(e.message().find("malformed JSON") != std::string::npos);
  }
  CHECK(fails("[1,2]").problem == schema_problem::not_an_object);
  CHECK(fails("42").problem == schema_problem::not_an_object);
  CHECK(fails(std::string(2 << 20, ' ')).code == decode_errc::too_large);
}

TEST_CASE("combined streams: the wrapper names the stream and the kind") {
  const decoder_options o{.format = stream_format::combined};
  for (const auto& k : kinds) {
    const std::string stream =
        std::string(k.kind == message_kind::book_ticker ? "bnbusdt" : "bnbbtc") + "@" + std::string(to_string(k.kind));
    auto r = decode(combined(stream, to_json(*k.msg)), o);
    REQUIRE(r.is_ok());
    CHECK(kind_of(r->tick) == k.kind);
    CHECK(r->stream.view() == stream);
    // "data" before "stream" works too.
    auto swapped = decode(R"({"data":)" + to_json(*k.msg) + R"(,"stream":")" + stream + R"("})", o);
    REQUIRE(swapped.is_ok());
    CHECK(swapped->tick == r->tick);
    // Errors inside carry the stream.
    auto e = fails(combined(stream, to_json(without(*k.msg, "s"))), o);
    CHECK(e.stream.view() == stream);
    CHECK(e.message().find(stream) != std::string::npos);
    CHECK(e.message().find("field \"s\"") != std::string::npos);
  }
  CHECK(decode(combined("bnbbtc@trade", to_json(with(trade_msg, "pw_ts", "5"))), o).is_ok());
}

TEST_CASE("combined streams: wrapper errors") {
  const decoder_options o{.format = stream_format::combined};
  CHECK(std::string_view(fails(R"({"data":{}})", o).field) == "stream");
  CHECK(fails(R"({"data":{}})", o).problem == schema_problem::missing);
  CHECK(std::string_view(fails(R"({"stream":"bnbbtc@trade"})", o).field) == "data");
  CHECK(fails(R"({"stream":"bnbbtc@depth","data":{}})", o).problem == schema_problem::unknown_kind);
  CHECK(fails(R"({"stream":"bnbbtc","data":{}})", o).problem == schema_problem::unknown_kind);
  CHECK(fails(R"({"stream":5,"data":{}})", o).problem == schema_problem::wrong_type);
  CHECK(fails(R"({"stream":"bnbbtc@trade","data":[1]})", o).problem == schema_problem::not_an_object);
  CHECK(fails(combined("ethbtc@trade", to_json(trade_msg)), o).problem == schema_problem::stream_mismatch);
  CHECK(fails(combined("bnbbtc@aggTrade", to_json(trade_msg)), o).problem == schema_problem::kind_mismatch);
  CHECK(fails(R"({"stream":"a@trade","stream":"a@trade","data":{}})", o).problem == schema_problem::duplicate);
  // A raw message on a combined connection is a schema error, not a silent drop.
  CHECK(fails(to_json(trade_msg), o).problem == schema_problem::missing);
}

TEST_CASE("input with and without padding decodes the same; the parser is reused") {
  decoder d({.kind = message_kind::trade});
  const std::string json = to_json(trade_msg);
  std::string padded = json + std::string(64, '\0');
  for (int i = 0; i < 3; ++i) {
    auto a = d.decode(json);                                              // copied into the decoder's padded buffer
    auto b = d.decode(std::string_view(padded.data(), json.size()), 64);  // in place
    REQUIRE(a.is_ok());
    REQUIRE(b.is_ok());
    CHECK(a->tick == b->tick);
  }
  // A failure does not poison the next decode.
  CHECK(d.decode("{").is_err());
  CHECK(d.decode(json).is_ok());
}

TEST_CASE("decode_into a reused decoded leaves nothing of the previous message") {
  // The optional fields (pw_ts; E of bookTicker) present in one message and absent from the
  // next, streams of different lengths, failures in between, and kinds changing under one
  // raw decoder: each result must equal what a fresh decode() gives.
  const std::vector<std::string> raw_messages = {
      to_json(with(trade_msg, "pw_ts", "1700000000000000001")),
      to_json(trade_msg),
      "{\"e\":",
      to_json(with(book_msg, "E", "1672515782136")),
      to_json(book_msg),
      to_json(with(agg_msg, "pw_ts", "5")),
      to_json(without(trade_msg, "p")),
      to_json(agg_msg),
      to_json(with(with(book_msg, "E", "7"), "pw_ts", "8")),
      to_json(book_msg),
  };
  const std::vector<std::string> combined_messages = {
      combined("bnbbtc@trade", to_json(with(trade_msg, "pw_ts", "9"))),
      combined("bnbbtc@trade", to_json(with(trade_msg, "s", R"("BNB")"))),  // stream mismatch
      combined("bnb@trade", to_json(with(trade_msg, "s", R"("BNB")"))),
      combined("bnbbtc@aggTrade", to_json(agg_msg)),
      R"({"data":{},"stream":"x@trade"})",  // data first, then an error
      combined("bnbusdt@bookTicker", to_json(book_msg)),
      combined("bnb@trade", to_json(with(trade_msg, "s", R"("BNB")"))),
  };
  for (const auto& [options, messages] : {std::pair{decoder_options{}, &raw_messages},
                                          std::pair{decoder_options{.format = stream_format::combined}, &combined_messages}}) {
    decoder reused(options);
    decoder fresh(options);
    decoded out;
    int ok = 0;
    for (const std::string& json : *messages) {
      CAPTURE(json);
      auto a = reused.decode_into(json, 0, out);
      auto b = fresh.decode(json);
      REQUIRE(a.is_ok() == b.is_ok());
      if (!b) {
        CHECK(a.error().message() == b.error().message());
        continue;
      }
      ++ok;
      CHECK(out.tick == b->tick);
      CHECK(out.stream == b->stream);
    }
    CHECK(ok >= 4);
  }
}
