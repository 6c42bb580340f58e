#include "ticks/decoder.hpp"

#include <simdjson.h>

#include <bit>
#include <cstring>
#include <type_traits>
#include <utility>

#include "ticks/byte_buffer.hpp"
#include "ticks/bytes.hpp"
#include "json_fields.hpp"

#if SIMDJSON_EXCEPTIONS
#error "the codec uses simdjson's error-code API only: build with SIMDJSON_EXCEPTIONS=0"
#endif

static_assert(ticks::decoder::required_padding >= simdjson::SIMDJSON_PADDING);

namespace ticks {

namespace pw = polarway;
namespace od = simdjson::ondemand;

std::string_view to_string(decode_errc e) noexcept {
  switch (e) {
    case decode_errc::malformed_json:
      return "malformed JSON";
    case decode_errc::schema_error:
      return "schema error";
    case decode_errc::too_large:
      return "message too large";
  }
  return "unknown decode error";
}

std::string_view to_string(schema_problem p) noexcept {
  switch (p) {
    case schema_problem::none:
      return "";
    case schema_problem::not_an_object:
      return "not an object";
    case schema_problem::missing:
      return "missing";
    case schema_problem::wrong_type:
      return "wrong type";
    case schema_problem::bad_value:
      return "bad value";
    case schema_problem::duplicate:
      return "duplicate";
    case schema_problem::bad_decimal:
      return "bad decimal";
    case schema_problem::bad_symbol:
      return "bad symbol";
    case schema_problem::unknown_kind:
      return "unknown message kind";
    case schema_problem::kind_mismatch:
      return "message kind does not match the stream";
    case schema_problem::stream_mismatch:
      return "symbol does not match the stream";
    case schema_problem::not_an_array:
      return "not an array";
  }
  return "";
}

std::string decode_error::message() const {
  std::string text = "decode: ";
  text += to_string(code);
  if (kind) {
    text += " in ";
    text += to_string(*kind);
  }
  if (!stream.empty()) {
    text += " on stream ";
    text += stream.view();
  }
  if (code == decode_errc::malformed_json) {
    text += ": ";
    text += simdjson::error_message(static_cast<simdjson::error_code>(json_error));
    return text;
  }
  if (*field) {
    text += ": field \"";
    text += field;
    text += '"';
  }
  if (problem != schema_problem::none) {
    text += ": ";
    text += to_string(problem);
    if (problem == schema_problem::bad_decimal) {
      text += " (";
      text += to_string(decimal);
      text += ')';
    } else if (problem == schema_problem::bad_symbol) {
      text += " (";
      text += to_string(symbol);
      text += ')';
    }
  }
  return text;
}
namespace {

using namespace json_fields;

constexpr field_table<10> trade_fields{{"e", "E", "s", "t", "p", "q", "T", "m", "M", "pw_ts"}, 0xFF};
constexpr field_table<12> agg_trade_fields{{"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M", "pw_ts"}, 0x3FF};
constexpr field_table<9> book_ticker_fields{{"u", "s", "b", "B", "a", "A", "e", "E", "pw_ts"}, 0x3F};

// The tick of kind T to fill in: the one `out` already holds if it is of that kind (a reused
// decoded), with its optional fields reset, else a new one. A successful parse assigns every
// required field, so nothing of the previous message survives; emplace() would zero the whole
// tick first, a rep stos on every message. A field added to a tick must be reset here if it is
// optional.
template <class T>
T& fresh(ticks::tick& out) noexcept {
  if (!std::holds_alternative<T>(out)) out = T{};
  T& t = *std::get_if<T>(&out);
  t.sent_ns = pw::none;
  if constexpr (std::is_same_v<T, book_ticker>) t.event_time_ms = pw::none;
  return t;
}

fault parse_trade(od::object& obj, ticks::tick& out) {
  trade& t = fresh<trade>(out);
  return for_each_field(obj, trade_fields, [&](int i, od::value& v) -> fault {
    switch (i) {
      case 0:
        return expect_kind(v, message_kind::trade);
      case 1:
        return read(v, t.event_time_ms);
      case 2:
        return read(v, t.symbol);
      case 3:
        return read(v, t.trade_id);
      case 4:
        return read(v, t.price);
      case 5:
        return read(v, t.quantity);
      case 6:
        return read(v, t.trade_time_ms);
      case 7:
        return read(v, t.buyer_is_maker);
      case 8:
        return check_bool(v);
      case 9:
        return read(v, t.sent_ns);
    }
    return {};
  });
}

fault parse_agg_trade(od::object& obj, ticks::tick& out) {
  agg_trade& t = fresh<agg_trade>(out);
  fault f = for_each_field(obj, agg_trade_fields, [&](int i, od::value& v) -> fault {
    switch (i) {
      case 0:
        return expect_kind(v, message_kind::agg_trade);
      case 1:
        return read(v, t.event_time_ms);
      case 2:
        return read(v, t.symbol);
      case 3:
        return read(v, t.agg_trade_id);
      case 4:
        return read(v, t.price);
      case 5:
        return read(v, t.quantity);
      case 6:
        return read(v, t.first_trade_id);
      case 7:
        return read(v, t.last_trade_id);
      case 8:
        return read(v, t.trade_time_ms);
      case 9:
        return read(v, t.buyer_is_maker);
      case 10:
        return check_bool(v);
      case 11:
        return read(v, t.sent_ns);
    }
    return {};
  });
  if (!f.failed() && t.last_trade_id < t.first_trade_id) return fault::schema(schema_problem::bad_value, "l");
  return f;
}

fault parse_book_ticker(od::object& obj, ticks::tick& out) {
  book_ticker& t = fresh<book_ticker>(out);
  return for_each_field(obj, book_ticker_fields, [&](int i, od::value& v) -> fault {
    switch (i) {
      case 0:
        return read(v, t.update_id);
      case 1:
        return read(v, t.symbol);
      case 2:
        return read(v, t.bid_price);
      case 3:
        return read(v, t.bid_quantity);
      case 4:
        return read(v, t.ask_price);
      case 5:
        return read(v, t.ask_quantity);
      case 6:
        return expect_kind(v, message_kind::book_ticker);
      case 7:
        return read(v, t.event_time_ms);
      case 8:
        return read(v, t.sent_ns);
    }
    return {};
  });
}

fault parse_kind(od::object& obj, message_kind kind, ticks::tick& out) {
  switch (kind) {
    case message_kind::trade:
      return parse_trade(obj, out);
    case message_kind::agg_trade:
      return parse_agg_trade(obj, out);
    case message_kind::book_ticker:
      return parse_book_ticker(obj, out);
  }
  return fault::schema(schema_problem::unknown_kind);
}

fault parse_data(od::value& v, message_kind kind, ticks::tick& out) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) {
    if (e == simdjson::INCORRECT_TYPE) return fault::schema(schema_problem::not_an_object, "data");
    return fault::from_json(e, "data");
  }
  return parse_kind(obj, kind, out);
}

// simdjson 3.0's document has no at_end(): past the last token, current_location() reports

char ascii_lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// "btcusdt@trade" names the symbol in lowercase; the message's "s" must be the same symbol.
bool stream_matches_symbol(std::string_view stream_symbol, const symbol& s) noexcept {
  const auto sym = s.view();
  if (stream_symbol.size() != sym.size()) return false;
  for (std::size_t i = 0; i < sym.size(); ++i)
    if (ascii_lower(stream_symbol[i]) != ascii_lower(sym[i])) return false;
  return true;
}

}  // namespace

struct decoder::impl {
  explicit impl(const decoder_options& o)
      : options(o), parser(o.max_message_size), scratch(simdjson::SIMDJSON_PADDING) {}

  decoder_options options;
  od::parser parser;
  byte_buffer scratch;  // padded copy, for callers that cannot give padding

  pw::result<void, decode_error> decode(simdjson::padded_string_view json, decoded& out);
  // Both fill `context` (kind, stream) as they learn it, for the error.
  fault decode_raw(od::document& doc, od::object& root, decode_context& context, ticks::tick& out);
  fault decode_combined(od::document& doc, od::object& root, decode_context& context, decoded& out);
};

pw::result<void, decode_error> decoder::impl::decode(simdjson::padded_string_view json, decoded& out) {
  decode_context context;
  if (options.format == stream_format::raw) context.kind = options.kind;
  const auto fail = [&](const fault& f) { return pw::err(to_error(f, context)); };

  od::document doc;
  if (auto e = parser.iterate(json).get(doc)) return fail(fault::from_json(e));
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    if (e == simdjson::INCORRECT_TYPE) return fail(fault::schema(schema_problem::not_an_object));
    return fail(fault::from_json(e));
  }
  if (options.format == stream_format::raw && !out.stream.empty()) out.stream = {};
  const fault f = options.format == stream_format::combined ? decode_combined(doc, root, context, out)
                                                            : decode_raw(doc, root, context, out.tick);
  if (f.failed()) return fail(f);
  return {};
}

fault decoder::impl::decode_raw(od::document& doc, od::object& root, decode_context& context, ticks::tick& out) {
  message_kind kind = message_kind::book_ticker;
  if (options.kind) {
    kind = *options.kind;
  } else {
    // Trade and aggTrade say what they are in "e"; spot bookTicker has no "e" at all.
    od::value e_value;
    const auto found = root.find_field_unordered("e").get(e_value);
    if (found == simdjson::SUCCESS) {
      std::string_view name;
      if (fault f = read(e_value, name); f.failed()) {
        f.field = "e";
        return f;
      }
      const auto k = parse_message_kind(name);
      if (!k) return fault::schema(schema_problem::unknown_kind, "e");
      kind = *k;
    } else if (found != simdjson::NO_SUCH_FIELD) {
      return fault::from_json(found, "e");
    }
    context.kind = kind;
    bool ignored;
    if (auto e = root.reset().get(ignored)) return fault::from_json(e);
  }
  const fault f = parse_kind(root, kind, out);
  // `{...} {...}`: the first object may lack fields, but the real problem is the second one.
  if (!fully_consumed(doc) && (!f.failed() || f.problem == schema_problem::missing))
    return fault::from_json(simdjson::TRAILING_CONTENT);
  return f;
}

fault decoder::impl::decode_combined(od::document& doc, od::object& root, decode_context& context, decoded& out) {
  bool have_stream = false, have_data = false, data_first = false;
  message_kind kind = message_kind::trade;

  // Binance sends "stream" before "data", so one pass suffices; another order costs a rewind.
  for (auto item : root) {
    if (auto e = item.error()) return fault::from_json(e);
    od::field& field = item.value_unsafe();
    std::string_view key;
    if (auto e = key_of(field, key)) return fault::from_json(e);
    if (key == "stream") {
      if (have_stream) return fault::schema(schema_problem::duplicate, "stream");
      have_stream = true;
      std::string_view stream;
      if (fault f = read(field.value(), stream); f.failed()) {
        f.field = "stream";
        return f;
      }
      // Copied now: the parser's string buffer is reused after a rewind (below).
      out.stream.assign(stream);
      context.stream = out.stream.view();
      const auto at = stream.find('@');
      const auto k =
          at == std::string_view::npos ? pw::option<message_kind>() : parse_message_kind(stream.substr(at + 1));
      if (!k) return fault::schema(schema_problem::unknown_kind, "stream");
      kind = *k;
      context.kind = kind;
    } else if (key == "data") {
      if (have_data) return fault::schema(schema_problem::duplicate, "data");
      have_data = true;
      if (!have_stream) {
        data_first = true;
        continue;  // skipped now, decoded after the rewind below
      }
      if (fault f = parse_data(field.value(), kind, out.tick); f.failed()) return f;
    }
  }
  if (!have_stream) return fault::schema(schema_problem::missing, "stream");
  if (!have_data) return fault::schema(schema_problem::missing, "data");
  if (!fully_consumed(doc)) return fault::from_json(simdjson::TRAILING_CONTENT);
  if (data_first) {
    doc.rewind();
    od::object again;
    if (auto e = doc.get_object().get(again)) return fault::from_json(e);
    od::value data;
    if (auto e = again.find_field_unordered("data").get(data)) return fault::from_json(e, "data");
    if (fault f = parse_data(data, kind, out.tick); f.failed()) return f;
  }
  if (!stream_matches_symbol(context.stream.substr(0, context.stream.find('@')), symbol_of(out.tick)))
    return fault::schema(schema_problem::stream_mismatch, "s");
  return {};
}

decoder::decoder(decoder_options options) : impl_(std::make_unique<impl>(options)) {}
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;
decoder::~decoder() = default;

const decoder_options& decoder::options() const noexcept { return impl_->options; }

pw::result<decoded, decode_error> decoder::decode(std::string_view json, std::size_t padding) {
  decoded out;
  if (auto r = decode_into(json, padding, out); !r) return pw::err(std::move(r.error()));
  return out;
}

pw::result<void, decode_error> decoder::decode_into(std::string_view json, std::size_t padding, decoded& out) {
  auto& d = *impl_;
  if (json.size() > d.options.max_message_size) {
    decode_error e;
    e.code = decode_errc::too_large;
    return pw::err(e);
  }
  if (padding >= simdjson::SIMDJSON_PADDING)
    return d.decode(simdjson::padded_string_view(json.data(), json.size(), json.size() + padding), out);
  d.scratch.clear();
  (void)d.scratch.prepare(json.size());  // allocates even for "", so the padding exists
  d.scratch.append(as_bytes(json));
  const auto* p = reinterpret_cast<const char*>(d.scratch.data());
  return d.decode(simdjson::padded_string_view(p, json.size(), d.scratch.capacity()), out);
}

}  // namespace ticks
