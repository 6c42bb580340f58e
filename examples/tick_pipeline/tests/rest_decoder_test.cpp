#include "ticks/rest_decoder.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ticks;

namespace {

const symbol btc = symbol::parse("BTCUSDT").value();

price px(std::string_view s) { return parse_decimal<price::scale>(s).value(); }

// The error of decoding `body` as `kind`, which must fail.
rest_decode_error failure(std::string_view body, message_kind kind = message_kind::agg_trade, std::size_t max_rows = 1000) {
  rest_decoder d;
  std::vector<tick> out{tick{book_ticker{}}};
  auto r = d.decode(body, kind, btc, max_rows, out);
  REQUIRE(r.is_err());
  CHECK(out.size() == 1);  // untouched on error
  return r.error();
}

constexpr std::string_view agg_rows =
    R"([{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,"T":1498793709153,"m":true,"M":true},)"
    R"( {"a":26130,"p":"0.01633103","q":"1","f":27782,"l":27790,"T":1498793709154,"m":false,"M":true}])";
constexpr std::string_view trade_rows =
    R"([{"id":28457,"price":"4.00000100","qty":"12.00000000","quoteQty":"48.000012","time":1499865549590,)"
    R"("isBuyerMaker":true,"isBestMatch":true}])";

}  // namespace

TEST_CASE("aggTrades rows become agg_trade ticks: the request's symbol, T as the event time") {
  rest_decoder d;
  std::vector<tick> out;
  REQUIRE(d.decode(agg_rows, message_kind::agg_trade, btc, 1000, out).is_ok());
  REQUIRE(out.size() == 2);
  const auto& a = std::get<agg_trade>(out[0]);
  CHECK(a.symbol == btc);
  CHECK(a.agg_trade_id == 26129);
  CHECK(a.price == px("0.01633102"));
  CHECK(a.quantity == px("4.70443515"));
  CHECK(a.first_trade_id == 27781);
  CHECK(a.last_trade_id == 27781);
  CHECK(a.trade_time_ms == 1498793709153);
  CHECK(a.event_time_ms == 1498793709153);
  CHECK(a.buyer_is_maker);
  CHECK(a.sent_ns.is_none());
  const auto& b = std::get<agg_trade>(out[1]);
  CHECK(b.agg_trade_id == 26130);
  CHECK(b.quantity == px("1"));
  CHECK_FALSE(b.buyer_is_maker);
}

TEST_CASE("historicalTrades rows become trade ticks; quoteQty and isBestMatch are optional") {
  rest_decoder d;
  std::vector<tick> out;
  REQUIRE(d.decode(trade_rows, message_kind::trade, btc, 1000, out).is_ok());
  REQUIRE(d.decode(R"([{"time":5,"id":1,"qty":"2","price":"3","isBuyerMaker":false,"extra":[1,{"x":2}]}])",
                   message_kind::trade, btc, 1000, out)
              .is_ok());
  REQUIRE(out.size() == 2);
  const auto& t = std::get<trade>(out[0]);
  CHECK(t.trade_id == 28457);
  CHECK(t.price == px("4.000001"));
  CHECK(t.quantity == px("12"));
  CHECK(t.trade_time_ms == 1499865549590);
  CHECK(t.event_time_ms == 1499865549590);
  CHECK(t.buyer_is_maker);
  const auto& u = std::get<trade>(out[1]);
  CHECK(u.trade_id == 1);
  CHECK(u.event_time_ms == 5);
}

TEST_CASE("an empty array is no rows; whitespace around the body is fine") {
  rest_decoder d;
  std::vector<tick> out;
  CHECK(d.decode(" [ ] \n", message_kind::agg_trade, btc, 1000, out).is_ok());
  CHECK(out.empty());
}

TEST_CASE("hostile bodies are typed errors naming the row and field") {
  auto e = failure("");
  CHECK(e.error.code == decode_errc::malformed_json);
  CHECK(failure("[{\"a\":1,").error.code == decode_errc::malformed_json);
  CHECK(failure("@@@").error.code == decode_errc::malformed_json);

  e = failure(R"({"a":1})");
  CHECK(e.error.problem == schema_problem::not_an_array);
  CHECK(e.row.is_none());
  CHECK(e.message().find("not an array") != std::string::npos);

  e = failure(R"([{"a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}, 7])");
  CHECK(e.error.problem == schema_problem::not_an_object);
  CHECK(e.row == polarway::option<std::size_t>(1));
  CHECK(e.message().find("row 1") != std::string::npos);

  e = failure(R"([{"a":1,"p":"1","q":"1","f":1,"l":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::missing);
  CHECK(std::string_view(e.error.field) == "T");

  e = failure(R"([{"a":-1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::bad_value);
  CHECK(std::string_view(e.error.field) == "a");

  e = failure(R"([{"a":1,"p":"1","q":"1","f":5,"l":4,"T":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::bad_value);
  CHECK(std::string_view(e.error.field) == "l");

  e = failure(R"([{"a":1,"p":1.5,"q":"1","f":1,"l":1,"T":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::wrong_type);

  e = failure(R"([{"a":1,"p":"0.000000001","q":"1","f":1,"l":1,"T":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::bad_decimal);
  CHECK(e.error.decimal == decimal_errc::too_many_fraction_digits);

  e = failure(R"([{"a":1,"a":2,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::duplicate);

  e = failure(R"([{"a":99999999999999999999,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}])");
  CHECK(e.error.problem == schema_problem::bad_value);

  e = failure(R"([] [])");
  CHECK(e.error.code == decode_errc::malformed_json);

  // The stream's field names are not the REST ones: a trade stream row is missing "id".
  e = failure(R"([{"t":1,"p":"1","q":"1","T":1,"m":true}])", message_kind::trade);
  CHECK(e.error.problem == schema_problem::missing);
  CHECK(std::string_view(e.error.field) == "id");

  e = failure(R"([{"id":1,"price":"1","qty":"1","quoteQty":5,"time":1,"isBuyerMaker":true}])", message_kind::trade);
  CHECK(e.error.problem == schema_problem::wrong_type);
  CHECK(std::string_view(e.error.field) == "quoteQty");

  CHECK(failure("[]", message_kind::book_ticker).error.problem == schema_problem::unknown_kind);
}

TEST_CASE("more rows than asked for, or a body above the size limit, is too_large") {
  auto e = failure(agg_rows, message_kind::agg_trade, 1);
  CHECK(e.error.code == decode_errc::too_large);
  CHECK(e.row == polarway::option<std::size_t>(1));

  rest_decoder small(16);
  std::vector<tick> out;
  auto r = small.decode(agg_rows, message_kind::agg_trade, btc, 1000, out);
  REQUIRE(r.is_err());
  CHECK(r.error().error.code == decode_errc::too_large);
}

TEST_CASE("a partial failure leaves what the vector held before") {
  rest_decoder d;
  std::vector<tick> out;
  REQUIRE(d.decode(agg_rows, message_kind::agg_trade, btc, 1000, out).is_ok());
  auto r = d.decode(R"([{"a":1,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}, {"a":2}])", message_kind::agg_trade, btc,
                    1000, out);
  REQUIRE(r.is_err());
  CHECK(out.size() == 2);
}

TEST_CASE("Binance error bodies") {
  rest_decoder d;
  auto e = d.decode_error_body(R"({"code":-1121,"msg":"Invalid symbol."})");
  REQUIRE(e);
  CHECK(e->code == -1121);
  CHECK(e->msg == "Invalid symbol.");
  CHECK(d.decode_error_body(R"({"msg":"x"})").is_none());
  CHECK(d.decode_error_body(R"({"code":"x","msg":"x"})").is_none());
  CHECK(d.decode_error_body("<html>502 Bad Gateway</html>").is_none());
  CHECK(d.decode_error_body("").is_none());
  CHECK(d.decode_error_body(R"({"code":1,"msg":"a"} x)").is_none());
  const std::string long_msg = R"({"code":-1003,"msg":")" + std::string(5000, 'w') + "\"}";
  auto l = d.decode_error_body(long_msg);
  REQUIRE(l);
  CHECK(l->msg.size() == binance_error::max_msg);
}
