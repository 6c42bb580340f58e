#include "ticks/decoder.hpp"

#include <simdjson.h>

#include "ticks/byte_buffer.hpp"
#include "ticks/bytes.hpp"

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

// Early return on error for result-returning helpers (the codec's only macro).
#define TICKS_TRY(lhs, expr)                                 \
  do {                                                       \
    auto ticks_try_r_ = (expr);                              \
    if (!ticks_try_r_) return pw::err(ticks_try_r_.error()); \
    lhs = *ticks_try_r_;                                     \
  } while (0)

namespace {

// Builds errors stamped with what is known so far (kind, stream), and reads typed values,
// mapping simdjson's codes onto schema problems: INCORRECT_TYPE means the JSON is fine but the
// field has the wrong type; other codes mean the JSON itself is broken.
struct reader {
  decode_error context;

  decode_error schema(schema_problem p, const char* field) const {
    decode_error e = context;
    e.code = decode_errc::schema_error;
    e.problem = p;
    e.field = field;
    return e;
  }
  decode_error json(simdjson::error_code code, const char* field = "") const {
    if (code == simdjson::INCORRECT_TYPE) return schema(schema_problem::wrong_type, field);
    if (code == simdjson::NUMBER_OUT_OF_RANGE) return schema(schema_problem::bad_value, field);
    decode_error e = context;
    e.code = decode_errc::malformed_json;
    e.field = field;
    e.json_error = static_cast<int>(code);
    return e;
  }

  // INCORRECT_TYPE is ambiguous in On Demand: the value may be of another JSON type (a schema
  // error) or not valid JSON at all (`{"e":}`). Asking for its type tells them apart; this
  // runs on the error path only.
  decode_error typed(od::value& v, simdjson::error_code e, const char* field) const {
    if (e != simdjson::INCORRECT_TYPE) return json(e, field);
    od::json_type t;
    if (auto te = v.type().get(t)) return json(te, field);
    return schema(schema_problem::wrong_type, field);
  }

  // A JSON number that is not an int64 (fractional, or out of range) is a bad value for an
  // integer field; anything but a number is the wrong type.
  pw::result<std::int64_t, decode_error> non_negative(od::value& v, const char* field) const {
    std::int64_t x;
    if (auto e = v.get_int64().get(x)) {
      od::json_type t;
      if (e == simdjson::INCORRECT_TYPE && v.type().get(t) == simdjson::SUCCESS && t == od::json_type::number)
        return pw::err(schema(schema_problem::bad_value, field));
      return pw::err(typed(v, e, field));
    }
    if (x < 0) return pw::err(schema(schema_problem::bad_value, field));
    return x;
  }
  pw::result<bool, decode_error> boolean(od::value& v, const char* field) const {
    bool b;
    if (auto e = v.get_bool().get(b)) return pw::err(typed(v, e, field));
    return b;
  }
  pw::result<std::string_view, decode_error> string(od::value& v, const char* field) const {
    std::string_view s;
    if (auto e = v.get_string().get(s)) return pw::err(typed(v, e, field));
    return s;
  }
  pw::result<price, decode_error> decimal(od::value& v, const char* field) const {
    std::string_view s;
    TICKS_TRY(s, string(v, field));
    auto p = parse_decimal<price::scale>(s);
    if (!p) {
      auto e = schema(schema_problem::bad_decimal, field);
      e.decimal = p.error();
      return pw::err(e);
    }
    return *p;
  }
  pw::result<ticks::symbol, decode_error> symbol(od::value& v, const char* field) const {
    std::string_view s;
    TICKS_TRY(s, string(v, field));
    auto sym = ticks::symbol::parse(s);
    if (!sym) {
      auto e = schema(schema_problem::bad_symbol, field);
      e.symbol = sym.error();
      return pw::err(e);
    }
    return *sym;
  }
  // "e": must name `expected`.
  pw::result<bool, decode_error> event_type(od::value& v, message_kind expected) const {
    std::string_view s;
    TICKS_TRY(s, string(v, "e"));
    const auto k = parse_message_kind(s);
    if (!k || *k != expected) return pw::err(schema(schema_problem::kind_mismatch, "e"));
    return true;
  }
};

// The fields of one message kind: their keys, in the order errors report missing ones, and
// which are required. A bit per field records which were seen.
template <std::size_t N>
struct field_table {
  // string_views, not const char*: comparing with a const char* would strlen the key on every
  // probe (the literals stay NUL-terminated for the error's field name).
  std::array<std::string_view, N> keys;
  std::uint32_t required;

  int index(std::string_view key) const noexcept {
    for (std::size_t i = 0; i < N; ++i)
      if (key == keys[i]) return static_cast<int>(i);
    return -1;
  }
  const char* first_missing(std::uint32_t seen) const noexcept {
    const std::uint32_t missing = required & ~seen;
    for (std::size_t i = 0; i < N; ++i)
      if (missing & (1u << i)) return keys[i].data();
    return nullptr;
  }
};

constexpr field_table<10> trade_fields{{"e", "E", "s", "t", "p", "q", "T", "m", "M", "pw_ts"}, 0xFF};
constexpr field_table<12> agg_trade_fields{{"e", "E", "s", "a", "p", "q", "f", "l", "T", "m", "M", "pw_ts"}, 0x3FF};
constexpr field_table<9> book_ticker_fields{{"u", "s", "b", "B", "a", "A", "e", "E", "pw_ts"}, 0x3F};

// A field's key. Keys without escapes (every key Binance sends) are read in place; only a key
// with a backslash is unescaped, which in simdjson 3.0 is a call through the runtime-selected
// implementation and a copy into the parser's string buffer.
simdjson::error_code key_of(od::field& field, std::string_view& key) noexcept {
  const char* const raw = field.key().raw();
  // Stage 1 found this string's closing quote, so the scan stops inside the document.
  const char* p = raw;
  while (*p != '"' && *p != '\\') ++p;
  if (*p == '"') {
    key = std::string_view(raw, static_cast<std::size_t>(p - raw));
    return simdjson::SUCCESS;
  }
  return field.unescaped_key().get(key);
}

// Iterates an object's fields once; for each key in `table`, calls on_field(index, value).
// Unknown keys are skipped; a repeated known key is an error.
template <std::size_t N, class OnField>
pw::result<std::uint32_t, decode_error> for_each_field(od::object& obj, const field_table<N>& table, const reader& r,
                                                       OnField&& on_field) {
  std::uint32_t seen = 0;
  for (auto item : obj) {
    od::field field;
    if (auto e = std::move(item).get(field)) return pw::err(r.json(e));
    std::string_view key;
    if (auto e = key_of(field, key)) return pw::err(r.json(e));
    const int i = table.index(key);
    if (i < 0) continue;
    if (seen & (1u << i)) return pw::err(r.schema(schema_problem::duplicate, table.keys[i].data()));
    seen |= 1u << i;
    if (auto done = on_field(i, field.value()); !done) return pw::err(done.error());
  }
  if (const char* missing = table.first_missing(seen)) return pw::err(r.schema(schema_problem::missing, missing));
  return seen;
}

using step = pw::result<bool, decode_error>;

pw::result<ticks::tick, decode_error> parse_trade(od::object& obj, const reader& r) {
  trade t;
  std::uint32_t seen;
  TICKS_TRY(seen, for_each_field(obj, trade_fields, r, [&](int i, od::value& v) -> step {
              switch (i) {
                case 0:
                  return r.event_type(v, message_kind::trade);
                case 1:
                  TICKS_TRY(t.event_time_ms, r.non_negative(v, "E"));
                  break;
                case 2:
                  TICKS_TRY(t.symbol, r.symbol(v, "s"));
                  break;
                case 3:
                  TICKS_TRY(t.trade_id, r.non_negative(v, "t"));
                  break;
                case 4:
                  TICKS_TRY(t.price, r.decimal(v, "p"));
                  break;
                case 5:
                  TICKS_TRY(t.quantity, r.decimal(v, "q"));
                  break;
                case 6:
                  TICKS_TRY(t.trade_time_ms, r.non_negative(v, "T"));
                  break;
                case 7:
                  TICKS_TRY(t.buyer_is_maker, r.boolean(v, "m"));
                  break;
                case 8:
                  return r.boolean(v, "M");  // "ignore" in Binance's docs: checked, not kept
                case 9:
                  TICKS_TRY(t.sent_ns, r.non_negative(v, "pw_ts"));
                  break;
              }
              return true;
            }));
  (void)seen;
  return ticks::tick(t);
}

pw::result<ticks::tick, decode_error> parse_agg_trade(od::object& obj, const reader& r) {
  agg_trade t;
  std::uint32_t seen;
  TICKS_TRY(seen, for_each_field(obj, agg_trade_fields, r, [&](int i, od::value& v) -> step {
              switch (i) {
                case 0:
                  return r.event_type(v, message_kind::agg_trade);
                case 1:
                  TICKS_TRY(t.event_time_ms, r.non_negative(v, "E"));
                  break;
                case 2:
                  TICKS_TRY(t.symbol, r.symbol(v, "s"));
                  break;
                case 3:
                  TICKS_TRY(t.agg_trade_id, r.non_negative(v, "a"));
                  break;
                case 4:
                  TICKS_TRY(t.price, r.decimal(v, "p"));
                  break;
                case 5:
                  TICKS_TRY(t.quantity, r.decimal(v, "q"));
                  break;
                case 6:
                  TICKS_TRY(t.first_trade_id, r.non_negative(v, "f"));
                  break;
                case 7:
                  TICKS_TRY(t.last_trade_id, r.non_negative(v, "l"));
                  break;
                case 8:
                  TICKS_TRY(t.trade_time_ms, r.non_negative(v, "T"));
                  break;
                case 9:
                  TICKS_TRY(t.buyer_is_maker, r.boolean(v, "m"));
                  break;
                case 10:
                  return r.boolean(v, "M");
                case 11:
                  TICKS_TRY(t.sent_ns, r.non_negative(v, "pw_ts"));
                  break;
              }
              return true;
            }));
  (void)seen;
  if (t.last_trade_id < t.first_trade_id) return pw::err(r.schema(schema_problem::bad_value, "l"));
  return ticks::tick(t);
}

pw::result<ticks::tick, decode_error> parse_book_ticker(od::object& obj, const reader& r) {
  book_ticker t;
  std::uint32_t seen;
  TICKS_TRY(seen, for_each_field(obj, book_ticker_fields, r, [&](int i, od::value& v) -> step {
              switch (i) {
                case 0:
                  TICKS_TRY(t.update_id, r.non_negative(v, "u"));
                  break;
                case 1:
                  TICKS_TRY(t.symbol, r.symbol(v, "s"));
                  break;
                case 2:
                  TICKS_TRY(t.bid_price, r.decimal(v, "b"));
                  break;
                case 3:
                  TICKS_TRY(t.bid_quantity, r.decimal(v, "B"));
                  break;
                case 4:
                  TICKS_TRY(t.ask_price, r.decimal(v, "a"));
                  break;
                case 5:
                  TICKS_TRY(t.ask_quantity, r.decimal(v, "A"));
                  break;
                case 6:
                  return r.event_type(v, message_kind::book_ticker);
                case 7:
                  TICKS_TRY(t.event_time_ms, r.non_negative(v, "E"));
                  break;
                case 8:
                  TICKS_TRY(t.sent_ns, r.non_negative(v, "pw_ts"));
                  break;
              }
              return true;
            }));
  (void)seen;
  return ticks::tick(t);
}

pw::result<ticks::tick, decode_error> parse_kind(od::object& obj, message_kind kind, const reader& r) {
  switch (kind) {
    case message_kind::trade:
      return parse_trade(obj, r);
    case message_kind::agg_trade:
      return parse_agg_trade(obj, r);
    case message_kind::book_ticker:
      return parse_book_ticker(obj, r);
  }
  return pw::err(r.schema(schema_problem::unknown_kind, ""));
}

pw::result<ticks::tick, decode_error> parse_data(od::value& v, message_kind kind, const reader& r) {
  od::object obj;
  if (auto e = v.get_object().get(obj)) {
    if (e == simdjson::INCORRECT_TYPE) return pw::err(r.schema(schema_problem::not_an_object, "data"));
    return pw::err(r.json(e, "data"));
  }
  return parse_kind(obj, kind, r);
}

// simdjson 3.0's document has no at_end(): past the last token, current_location() reports
// OUT_OF_BOUNDS. Anything else means trailing content such as `{...} {...}`.
bool fully_consumed(od::document& doc) noexcept { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }

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

  pw::result<decoded, decode_error> decode(simdjson::padded_string_view json);
  pw::result<decoded, decode_error> decode_combined(od::document& doc, od::object& root, reader& r);
};

pw::result<decoded, decode_error> decoder::impl::decode(simdjson::padded_string_view json) {
  reader r;
  if (options.format == stream_format::raw) r.context.kind = options.kind;

  od::document doc;
  if (auto e = parser.iterate(json).get(doc)) return pw::err(r.json(e));
  od::object root;
  if (auto e = doc.get_object().get(root)) {
    if (e == simdjson::INCORRECT_TYPE) return pw::err(r.schema(schema_problem::not_an_object, ""));
    return pw::err(r.json(e));
  }
  if (options.format == stream_format::combined) return decode_combined(doc, root, r);

  message_kind kind = message_kind::book_ticker;
  if (options.kind) {
    kind = *options.kind;
  } else {
    // Trade and aggTrade say what they are in "e"; spot bookTicker has no "e" at all.
    od::value e_value;
    const auto found = root.find_field_unordered("e").get(e_value);
    if (found == simdjson::SUCCESS) {
      std::string_view name;
      TICKS_TRY(name, r.string(e_value, "e"));
      const auto k = parse_message_kind(name);
      if (!k) return pw::err(r.schema(schema_problem::unknown_kind, "e"));
      kind = *k;
    } else if (found != simdjson::NO_SUCH_FIELD) {
      return pw::err(r.json(found, "e"));
    }
    r.context.kind = kind;
    bool ignored;
    if (auto e = root.reset().get(ignored)) return pw::err(r.json(e));
  }
  auto t = parse_kind(root, kind, r);
  // `{...} {...}`: the first object may lack fields, but the real problem is the second one.
  if (!fully_consumed(doc) && (t || t.error().problem == schema_problem::missing))
    return pw::err(r.json(simdjson::TRAILING_CONTENT));
  if (!t) return pw::err(t.error());
  return decoded{*t, {}};
}

pw::result<decoded, decode_error> decoder::impl::decode_combined(od::document& doc, od::object& root, reader& r) {
  bool have_stream = false, have_data = false, data_first = false;
  message_kind kind = message_kind::trade;
  pw::option<ticks::tick> result;

  // Binance sends "stream" before "data", so one pass suffices; another order costs a rewind.
  for (auto item : root) {
    od::field field;
    if (auto e = std::move(item).get(field)) return pw::err(r.json(e));
    std::string_view key;
    if (auto e = key_of(field, key)) return pw::err(r.json(e));
    if (key == "stream") {
      if (have_stream) return pw::err(r.schema(schema_problem::duplicate, "stream"));
      have_stream = true;
      std::string_view stream;
      TICKS_TRY(stream, r.string(field.value(), "stream"));
      r.context.stream.assign(stream);
      const auto at = stream.find('@');
      const auto k =
          at == std::string_view::npos ? pw::option<message_kind>() : parse_message_kind(stream.substr(at + 1));
      if (!k) return pw::err(r.schema(schema_problem::unknown_kind, "stream"));
      kind = *k;
      r.context.kind = kind;
    } else if (key == "data") {
      if (have_data) return pw::err(r.schema(schema_problem::duplicate, "data"));
      have_data = true;
      if (!have_stream) {
        data_first = true;
        continue;  // skipped now, decoded after the rewind below
      }
      ticks::tick t;
      TICKS_TRY(t, parse_data(field.value(), kind, r));
      result = t;
    }
  }
  if (!have_stream) return pw::err(r.schema(schema_problem::missing, "stream"));
  if (!have_data) return pw::err(r.schema(schema_problem::missing, "data"));
  if (!fully_consumed(doc)) return pw::err(r.json(simdjson::TRAILING_CONTENT));
  if (data_first) {
    doc.rewind();
    od::object again;
    if (auto e = doc.get_object().get(again)) return pw::err(r.json(e));
    od::value data;
    if (auto e = again.find_field_unordered("data").get(data)) return pw::err(r.json(e, "data"));
    ticks::tick t;
    TICKS_TRY(t, parse_data(data, kind, r));
    result = t;
  }
  // From the copy in the error context: the parser's string buffer is reused after a rewind.
  const auto stream_view = r.context.stream.view();
  if (!stream_matches_symbol(stream_view.substr(0, stream_view.find('@')), symbol_of(*result)))
    return pw::err(r.schema(schema_problem::stream_mismatch, "s"));
  return decoded{*result, r.context.stream};
}

#undef TICKS_TRY

decoder::decoder(decoder_options options) : impl_(std::make_unique<impl>(options)) {}
decoder::decoder(decoder&&) noexcept = default;
decoder& decoder::operator=(decoder&&) noexcept = default;
decoder::~decoder() = default;

const decoder_options& decoder::options() const noexcept { return impl_->options; }

pw::result<decoded, decode_error> decoder::decode(std::string_view json, std::size_t padding) {
  auto& d = *impl_;
  if (json.size() > d.options.max_message_size) {
    decode_error e;
    e.code = decode_errc::too_large;
    return pw::err(e);
  }
  if (padding >= simdjson::SIMDJSON_PADDING)
    return d.decode(simdjson::padded_string_view(json.data(), json.size(), json.size() + padding));
  d.scratch.clear();
  (void)d.scratch.prepare(json.size());  // allocates even for "", so the padding exists
  d.scratch.append(as_bytes(json));
  const auto* p = reinterpret_cast<const char*>(d.scratch.data());
  return d.decode(simdjson::padded_string_view(p, json.size(), d.scratch.capacity()));
}

}  // namespace ticks
