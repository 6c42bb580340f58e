#include "ticks/rest_decoder.hpp"

#include <simdjson.h>

#include <utility>

#include "json_fields.hpp"
#include "ticks/byte_buffer.hpp"
#include "ticks/bytes.hpp"

namespace ticks {

namespace pw = polarway;

std::string rest_decode_error::message() const {
  std::string text = "REST answer";
  if (row) text += ", row " + std::to_string(*row);
  return text + ": " + error.message();
}

namespace {

using namespace json_fields;

constexpr field_table<8> agg_trade_row{{"a", "p", "q", "f", "l", "T", "m", "M"}, 0x7F};
constexpr field_table<7> trade_row{{"id", "price", "qty", "quoteQty", "time", "isBuyerMaker", "isBestMatch"}, 0x37};
constexpr field_table<2> error_body{{"code", "msg"}, 0x3};

fault parse_agg_trade_row(od::object& obj, agg_trade& t) {
  fault f = for_each_field(obj, agg_trade_row, [&](int i, od::value& v) -> fault {
    switch (i) {
      case 0:
        return read(v, t.agg_trade_id);
      case 1:
        return read(v, t.price);
      case 2:
        return read(v, t.quantity);
      case 3:
        return read(v, t.first_trade_id);
      case 4:
        return read(v, t.last_trade_id);
      case 5:
        return read(v, t.trade_time_ms);
      case 6:
        return read(v, t.buyer_is_maker);
      case 7:
        return check_bool(v);
    }
    return {};
  });
  if (!f.failed() && t.last_trade_id < t.first_trade_id) return fault::schema(schema_problem::bad_value, "l");
  t.event_time_ms = t.trade_time_ms;
  return f;
}

fault parse_trade_row(od::object& obj, trade& t) {
  return for_each_field(obj, trade_row, [&](int i, od::value& v) -> fault {
    switch (i) {
      case 0:
        return read(v, t.trade_id);
      case 1:
        return read(v, t.price);
      case 2:
        return read(v, t.quantity);
      case 3: {
        std::string_view quote;  // price * qty, not kept: checked for its type only
        return read(v, quote);
      }
      case 4:
        return read(v, t.trade_time_ms);
      case 5:
        return read(v, t.buyer_is_maker);
      case 6:
        return check_bool(v);
    }
    return {};
  });
}

}  // namespace

struct rest_decoder::impl {
  explicit impl(std::size_t max_body) : max_body_size(max_body), parser(max_body), scratch(simdjson::SIMDJSON_PADDING) {}

  std::size_t max_body_size;
  od::parser parser;
  byte_buffer scratch;

  // The body, copied behind simdjson's padding.
  simdjson::padded_string_view padded(std::string_view body) {
    scratch.clear();
    (void)scratch.prepare(body.size());
    scratch.append(as_bytes(body));
    return simdjson::padded_string_view(reinterpret_cast<const char*>(scratch.data()), body.size(), scratch.capacity());
  }
};

rest_decoder::rest_decoder(std::size_t max_body_size) : impl_(std::make_unique<impl>(max_body_size)) {}
rest_decoder::rest_decoder(rest_decoder&&) noexcept = default;
rest_decoder& rest_decoder::operator=(rest_decoder&&) noexcept = default;
rest_decoder::~rest_decoder() = default;

pw::result<void, rest_decode_error> rest_decoder::decode(std::string_view body, message_kind kind,
                                                         const ticks::symbol& symbol, std::size_t max_rows,
                                                         std::vector<tick>& out) {
  decode_context context;
  context.kind = kind;
  const std::size_t before = out.size();
  const auto fail = [&](const fault& f, pw::option<std::size_t> row) {
    out.resize(before);
    return pw::err(rest_decode_error{to_error(f, context), row});
  };
  if (body.size() > impl_->max_body_size) {
    out.resize(before);
    decode_error e;
    e.code = decode_errc::too_large;
    e.kind = kind;
    return pw::err(rest_decode_error{e, pw::none});
  }
  if (kind == message_kind::book_ticker) return fail(fault::schema(schema_problem::unknown_kind), pw::none);

  od::document doc;
  if (auto e = impl_->parser.iterate(impl_->padded(body)).get(doc)) return fail(fault::from_json(e), pw::none);
  od::array rows;
  if (auto e = doc.get_array().get(rows)) {
    od::json_type t;
    if (e == simdjson::INCORRECT_TYPE && doc.type().get(t) == simdjson::SUCCESS)
      return fail(fault::schema(schema_problem::not_an_array), pw::none);
    return fail(fault::from_json(e == simdjson::INCORRECT_TYPE ? simdjson::TAPE_ERROR : e), pw::none);
  }
  std::size_t row = 0;
  for (auto item : rows) {
    od::value v;
    if (auto e = item.get(v)) return fail(fault::from_json(e), row);
    if (row == max_rows) {
      decode_error e;
      e.code = decode_errc::too_large;
      e.kind = kind;
      out.resize(before);
      return pw::err(rest_decode_error{e, row});
    }
    od::object obj;
    if (auto e = v.get_object().get(obj)) {
      if (e == simdjson::INCORRECT_TYPE) return fail(fault::schema(schema_problem::not_an_object), row);
      return fail(fault::from_json(e), row);
    }
    fault f;
    if (kind == message_kind::agg_trade) {
      agg_trade t;
      t.symbol = symbol;
      f = parse_agg_trade_row(obj, t);
      if (!f.failed()) out.emplace_back(t);
    } else {
      trade t;
      t.symbol = symbol;
      f = parse_trade_row(obj, t);
      t.event_time_ms = t.trade_time_ms;
      if (!f.failed()) out.emplace_back(t);
    }
    if (f.failed()) return fail(f, row);
    ++row;
  }
  if (!fully_consumed(doc)) return fail(fault::from_json(simdjson::TRAILING_CONTENT), pw::none);
  return {};
}

pw::option<binance_error> rest_decoder::decode_error_body(std::string_view body) {
  if (body.size() > impl_->max_body_size) return pw::none;
  od::document doc;
  if (impl_->parser.iterate(impl_->padded(body)).get(doc)) return pw::none;
  od::object obj;
  if (doc.get_object().get(obj)) return pw::none;
  binance_error out;
  const fault f = for_each_field(obj, error_body, [&](int i, od::value& v) -> fault {
    if (i == 0) {
      if (auto e = v.get_int64().get(out.code)) return typed(v, e);  // negative, unlike an id
      return {};
    }
    std::string_view msg;
    if (fault g = read(v, msg); g.failed()) return g;
    out.msg.assign(msg.substr(0, binance_error::max_msg));
    return {};
  });
  if (f.failed() || !fully_consumed(doc)) return pw::none;
  return out;
}

}  // namespace ticks
