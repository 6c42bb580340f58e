// The JSON field readers the codec's decoders share (decoder.cpp for the WebSocket streams,
// rest_decoder.cpp for the REST answers): simdjson On Demand values read into ids, decimals,
// symbols and booleans with typed faults, and the one-pass field loop with its table of known
// keys (duplicates and missing required fields are faults). Private to the codec (src/): the
// public face is decode_error.
//
// A `fault` is small on purpose: every field reader returns one, and a whole decode_error on
// that path cost more than the parsing itself. The caller stamps it with the context (kind,
// stream) into a decode_error once, on the error path.
#pragma once

#include <simdjson.h>

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string_view>

#include <polarway/option.hpp>

#include "ticks/decoder.hpp"
#include "ticks/fixed_point.hpp"
#include "ticks/symbol.hpp"
#include "ticks/tick.hpp"

#if SIMDJSON_EXCEPTIONS
#error "the codec uses simdjson's error-code API only: build with SIMDJSON_EXCEPTIONS=0"
#endif

namespace ticks::json_fields {

namespace pw = polarway;
namespace od = simdjson::ondemand;

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
inline decode_error to_error(const fault& f, const decode_context& context) {
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
inline fault typed(od::value& v, simdjson::error_code e) {
  if (e != simdjson::INCORRECT_TYPE) return fault::from_json(e);
  od::json_type t;
  if (auto te = v.type().get(t)) return fault::from_json(te);
  return fault::schema(schema_problem::wrong_type);
}

// The field readers, one per field type; the caller adds the field's name to a fault.

inline std::uint64_t load8(const char* p) noexcept {
  std::uint64_t w;
  std::memcpy(&w, p, sizeof w);  // little-endian: the first character is the low byte
  return w;
}

// How many of the 8 characters in `w` are digits before the first that is not (8: all are).
// A byte is a digit when its high nibble is 3 and adding 6 leaves it at 3. The addition may
// carry into the next byte only from a byte of 0xFA or more, which is not a digit: only bytes
// after the first non-digit are disturbed, and those are not counted.
inline unsigned leading_digits(std::uint64_t w) noexcept {
  constexpr std::uint64_t high = 0xf0f0f0f0f0f0f0f0ull, threes = 0x3030303030303030ull;
  const std::uint64_t bad = ((w & high) ^ threes) | (((w + 0x0606060606060606ull) & high) ^ threes);
  return bad == 0 ? 8 : static_cast<unsigned>(std::countr_zero(bad)) / 8;
}

// The value of the 8 digits in `w`: digit pairs, then pairs of pairs, then the two halves,
// each step one multiply-add across the whole word.
inline std::uint64_t eight_digits(std::uint64_t w) noexcept {
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
inline bool plain_integer(od::value& v, std::int64_t& out) noexcept {
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
inline fault read(od::value& v, std::int64_t& out) {
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
inline fault read(od::value& v, polarway::option<std::int64_t>& out) {
  std::int64_t x;
  fault f = read(v, x);
  if (!f.failed()) out = x;
  return f;
}
inline fault read(od::value& v, bool& out) {
  if (auto e = v.get_bool().get(out)) return typed(v, e);
  return {};
}
inline fault read(od::value& v, std::string_view& out) {
  if (auto e = v.get_string().get(out)) return typed(v, e);
  return {};
}
inline fault read(od::value& v, price& out) {
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
inline fault read(od::value& v, ticks::symbol& out) {
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
inline fault check_bool(od::value& v) {
  bool ignored;
  return read(v, ignored);
}
// "e": must name `expected`.
inline fault expect_kind(od::value& v, message_kind expected) {
  std::string_view s;
  if (fault f = read(v, s); f.failed()) return f;
  const auto k = parse_message_kind(s);
  if (!k || *k != expected) return fault::schema(schema_problem::kind_mismatch);
  return {};
}

// Keys are a few characters long: compared inline, where `==` on string_views is a call to
// memcmp in g++'s code.
inline bool same_key(std::string_view a, std::string_view b) noexcept {
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
inline fault for_each_field(od::object& obj, const field_table<N>& table, OnField&& on_field) {
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


// OUT_OF_BOUNDS. Anything else means trailing content such as `{...} {...}`.
inline bool fully_consumed(od::document& doc) noexcept { return doc.current_location().error() == simdjson::OUT_OF_BOUNDS; }

}  // namespace ticks::json_fields
