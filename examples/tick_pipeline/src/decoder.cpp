#include "ticks/decoder.hpp"

#include <simdjson.h>

#include <bit>
#include <cstring>
#include <type_traits>
#include <utility>

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
namespace {

// What went wrong while reading a message, without the context (kind, stream) that only the
// top level knows. Small on purpose: every field reader returns one, and a decode_error (with
// its inline stream name) on that path cost more than the parsing itself. A default fault
// means success.
struct fault {
  schema_problem problem = schema_problem::none;
  decimal_errc decimal = decimal_errc::empty;     // when problem == bad_decimal
  symbol_errc symbol = symbol_errc::empty;        // when problem == bad_symbol
  simdjson::error_code json = simdjson::SUCCESS;  // when the JSON itself is broken
  const char* field = "";

  bool failed() const noexcept { return problem != schema_problem::none || json != simdjson::SUCCESS; }

  static fault schema(schema_problem p, const char* field = "") noexcept {
    fault f;
    f.problem = p;
    f.field = field;
    return f;
  }
  // INCORRECT_TYPE means the JSON is fine but the field has the wrong type; NUMBER_OUT_OF_RANGE
  // is an impossible value; other codes mean the JSON itself is broken.
  static fault from_json(simdjson::error_code code, const char* field = "") noexcept {
    if (code == simdjson::INCORRECT_TYPE) return schema(schema_problem::wrong_type, field);
    if (code == simdjson::NUMBER_OUT_OF_RANGE) return schema(schema_problem::bad_value, field);
    fault f;
    f.json = code;
    f.field = field;
    return f;
  }
};

// What the top level has learnt of a message so far, which an error names. Small on purpose,
// like fault: a whole decode_error here, built for every message, cost a 168-byte rep stos per
// decode.
struct decode_context {
  pw::option<message_kind> kind;
  std::string_view stream;  // the combined wrapper's stream, once read (a view of decoded::stream)
};

// The full error: the fault, stamped with what the caller knows so far.
decode_error to_error(const fault& f, const decode_context& context) {
  decode_error e;
  e.kind = context.kind;
  e.stream.assign(context.stream);
  e.field = f.field;
  if (f.json != simdjson::SUCCESS) {
    e.code = decode_errc::malformed_json;
    e.json_error = static_cast<int>(f.json);
    return e;
  }
  e.code = decode_errc::schema_error;
  e.problem = f.problem;
  e.decimal = f.decimal;
  e.symbol = f.symbol;
  return e;
}

// INCORRECT_TYPE is ambiguous in On Demand: the value may be of another JSON type (a schema
// error) or not valid JSON at all (`{"e":}`). Asking for its type tells them apart; this runs
// on the error path only.
fault typed(od::value& v, simdjson::error_code e) {
  if (e != simdjson::INCORRECT_TYPE) return fault::from_json(e);
  od::json_type t;
  if (auto te = v.type().get(t)) return fault::from_json(te);
  return fault::schema(schema_problem::wrong_type);
}

// The field readers, one per field type; the caller adds the field's name to a fault.

std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);  // little-endian: the first character is the low byte
  return w;
}

// How many of the 8 characters in `w` are digits before the first that is not (8: all are).
// A byte is a digit when its high nibble is 3 and adding 6 leaves it at 3. The addition may
// carry into the next byte only from a byte of 0xFA or more, which is not a digit: only bytes
// after the first non-digit are disturbed, and those are not counted.
unsigned leading_digits(std::uint64_t w) noexcept {
  constexpr std::uint64_t high = 0xf0f0f0f0f0f0f0f0ull, threes = 0x3030303030303030ull;
  const std::uint64_t bad = ((w & high) ^ threes) | (((w + 0x0606060606060606ull) & high) ^ threes);
  return bad == 0 ? 8 : static_cast<unsigned>(std::countr_zero(bad)) / 8;
}

// The value of the 8 digits in `w`: digit pairs, then pairs of pairs, then the two halves,
// each step one multiply-add across the whole word.
std::uint64_t eight_digits(std::uint64_t w) noexcept {
  w -= 0x3030303030303030ull;
  w = (w * 10 + (w >> 8)) & 0x00ff00ff00ff00ffull;    // 4 values of 2 digits, in 16-bit lanes
  w = (w * 100 + (w >> 16)) & 0x0000ffff0000ffffull;  // 2 values of 4 digits, in 32-bit lanes
  return (w & 0xffffffffull) * 10000 + (w >> 32);
}

// The integers Binance sends (up to 19 digits, no sign, no leading zero, no fraction or
// exponent; pw_ts, nanoseconds since 1970, has 19), read from the raw token 8 characters at a
// time. simdjson's fallback kernel, which the inlined On Demand code uses without -march,
// parses a digit at a time: 4 to 5 integer fields made that 15-20% of a decode. False for
// anything else (or above INT64_MAX); the caller then asks simdjson, which gives the exact
// error. Reading 8 bytes past the token is safe: the input is padded.
bool plain_integer(od::value& v, std::int64_t& out) noexcept {
  const char* p = v.raw_json_token().data();
  std::uint64_t x = 0;
  std::size_t n = 0;
  for (;;) {
    const std::uint64_t w = load8(p + n);
    const unsigned d = leading_digits(w);
    if (d == 8) {
      if (n == 16) return false;  // 24 digits or more
      x = x * 100000000 + eight_digits(w);
      n += 8;
      continue;
    }
    if (d > 0) {
      // The first d digits, moved to the top of the word (as if zeros came first).
      static constexpr std::uint64_t scale[8] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000};
      x = x * scale[d] + eight_digits((w << (8 * (8 - d))) | (0x3030303030303030ull >> (8 * d)));
      n += d;
    }
    break;
  }
  const char after = p[n];
  if (n == 0 || n > 19 || (p[0] == '0' && n > 1) || after == '.' || after == 'e' || after == 'E') return false;
  if (x > static_cast<std::uint64_t>(INT64_MAX)) return false;  // 19 digits: the sum stayed below 2^64
  out = static_cast<std::int64_t>(x);
  return true;
}

// A JSON number that is not an int64 (fractional, or out of range) is a bad value for an integer
// field; anything but a number is the wrong type.
fault read(od::value& v, std::int64_t& out) {
  if (plain_integer(v, out)) return {};
  if (auto e = v.get_int64().get(out)) {
    od::json_type t;
    if (e == simdjson::INCORRECT_TYPE && v.type().get(t) == simdjson::SUCCESS && t == od::json_type::number)
      return fault::schema(schema_problem::bad_value);
    return typed(v, e);
  }
  if (out < 0) return fault::schema(schema_problem::bad_value);
  return {};
}
fault read(od::value& v, polarway::option<std::int64_t>& out) {
  std::int64_t x;
  fault f = read(v, x);
  if (!f.failed()) out = x;
  return f;
}
fault read(od::value& v, bool& out) {
  if (auto e = v.get_bool().get(out)) return typed(v, e);
  return {};
}
fault read(od::value& v, std::string_view& out) {
  if (auto e = v.get_string().get(out)) return typed(v, e);
  return {};
}
fault read(od::value& v, price& out) {
  std::string_view s;
  if (fault f = read(v, s); f.failed()) return f;
  auto p = parse_decimal<price::scale>(s);
  if (!p) {
    fault f = fault::schema(schema_problem::bad_decimal);
    f.decimal = p.error();
    return f;
  }
  out = *p;
  return {};
}
fault read(od::value& v, ticks::symbol& out) {
  std::string_view s;
  if (fault f = read(v, s); f.failed()) return f;
  auto sym = ticks::symbol::parse(s);
  if (!sym) {
    fault f = fault::schema(schema_problem::bad_symbol);
    f.symbol = sym.error();
    return f;
  }
  out = *sym;
  return {};
}
// A boolean that is checked but not kept ("M", "ignore" in Binance's docs).
fault check_bool(od::value& v) {
  bool ignored;
  return read(v, ignored);
}
// "e": must name `expected`.
fault expect_kind(od::value& v, message_kind expected) {
  std::string_view s;
  if (fault f = read(v, s); f.failed()) return f;
  const auto k = parse_message_kind(s);
  if (!k || *k != expected) return fault::schema(schema_problem::kind_mismatch);
  return {};
}

// Keys are a few characters long: compared inline, where `==` on string_views is a call to
// memcmp in g++'s code.
bool same_key(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return false;
  return true;
}

// The fields of one message kind: their keys, in the order errors report missing ones, and
// which are required. A bit per field records which were seen.
template <std::size_t N>
struct field_table {
  // string_views, not const char*: comparing with a const char* would strlen the key on every
  // probe (the literals stay NUL-terminated for the error's field name).
  std::array<std::string_view, N> keys;
  std::uint32_t required;

  // `hint` is where the key most likely is: right after the previous one, since exchanges send
  // their fields in a fixed order (the tables list them in Binance's). Then one comparison
  // finds it.
  int index(std::string_view key, std::size_t hint) const noexcept {
    if (hint < N && same_key(key, keys[hint])) return static_cast<int>(hint);
    for (std::size_t i = 0; i < N; ++i)
      if (same_key(key, keys[i])) return static_cast<int>(i);
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
[[gnu::always_inline]] inline simdjson::error_code key_of(od::field& field, std::string_view& key) noexcept {
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

// Iterates an object's fields once; for each key in `table`, calls on_field(index, value),
// which returns a fault. Unknown keys are skipped; a repeated known key is an error.
template <std::size_t N, class OnField>
fault for_each_field(od::object& obj, const field_table<N>& table, OnField&& on_field) {
  std::uint32_t seen = 0;
  std::size_t next = 0;
  for (auto item : obj) {
    // The field is used where it lies: copying it out of the result (`get`) made g++ reload a
    // just-written iterator in one wide load, a store-forwarding stall on every field.
    if (auto e = item.error()) return fault::from_json(e);
    od::field& field = item.value_unsafe();
    std::string_view key;
    if (auto e = key_of(field, key)) return fault::from_json(e);
    const int i = table.index(key, next);
    if (i < 0) continue;
    if (seen & (1u << i)) return fault::schema(schema_problem::duplicate, table.keys[i].data());
    seen |= 1u << i;
    next = static_cast<std::size_t>(i) + 1;
    if (fault f = on_field(i, field.value()); f.failed()) {
      f.field = table.keys[i].data();
      return f;
    }
  }
  if (const char* missing = table.first_missing(seen)) return fault::schema(schema_problem::missing, missing);
  return {};
}

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
