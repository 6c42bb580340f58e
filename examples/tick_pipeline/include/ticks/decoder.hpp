// ticks::decoder: Binance market-data JSON -> tick, with simdjson On Demand and no exceptions.
//
// One decoder per connection: it owns one reusable simdjson parser (whose buffers grow to the
// largest message once and are then reused), so decoding allocates nothing in the steady state.
// Messages are parsed in place when the caller guarantees `required_padding` readable bytes after
// them (the WebSocket connection's message buffer does); otherwise they are copied into the
// decoder's own padded buffer first.
//
// The schema is strict where silence would lose data: a required field that is missing, renamed
// or of the wrong JSON type, a duplicate field, a decimal that does not convert exactly, a
// symbol that is not [A-Z0-9]{1,20}: each is a decode_error of code schema_error that names
// the field, the message kind and (for combined streams) the stream. Nothing is defaulted.
// Unknown extra fields are skipped, so that an exchange adding a field does not stop the feed.
//
// Accepted shapes (Binance spot):
//   trade       {"e":"trade","E":..,"s":..,"t":..,"p":"..","q":"..","T":..,"m":bool[,"M":bool]}
//   aggTrade    {"e":"aggTrade","E":..,"s":..,"a":..,"p":"..","q":"..","f":..,"l":..,"T":..,"m":bool[,"M":bool]}
//   bookTicker  {"u":..,"s":..,"b":"..","B":"..","a":"..","A":".."[,"e":"bookTicker"][,"E":..]}
//   combined    {"stream":"<symbol>@<kind>","data":{...one of the above...}}
// plus an optional integer "pw_ts" (our simulator's send time, ns) in any of the three.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "ticks/fixed_point.hpp"
#include "ticks/inline_string.hpp"
#include "ticks/symbol.hpp"
#include "ticks/tick.hpp"

namespace ticks {

using stream_name = inline_string<48>;

enum class decode_errc : std::uint8_t {
  malformed_json,  // not JSON (simdjson's error is in json_error)
  schema_error,    // JSON, but not the message the schema expects (see problem and field)
  too_large,       // larger than decoder_options::max_message_size
};

enum class schema_problem : std::uint8_t {
  none,
  not_an_object,    // the message (or "data") is not a JSON object
  missing,          // a required field is absent (or was renamed)
  wrong_type,       // e.g. a number where a decimal string belongs
  bad_value,        // right type, impossible value (negative id, integer out of range)
  duplicate,        // the same field twice
  bad_decimal,      // a price or quantity that does not convert exactly (see decimal)
  bad_symbol,       // see symbol
  unknown_kind,     // "e" or the stream suffix names no kind we decode
  kind_mismatch,    // "e" disagrees with the kind the stream promised
  stream_mismatch,  // the combined stream's symbol is not the message's "s"
  not_an_array,     // a REST answer (rest_decoder.hpp) that is not a JSON array
};

std::string_view to_string(decode_errc e) noexcept;
std::string_view to_string(schema_problem p) noexcept;

struct decode_error {
  decode_errc code = decode_errc::malformed_json;
  schema_problem problem = schema_problem::none;
  polarway::option<message_kind> kind = polarway::none;  // as far as it was known
  const char* field = "";                                // the JSON key concerned, "" if none
  decimal_errc decimal = decimal_errc::empty;            // when problem == bad_decimal
  symbol_errc symbol = symbol_errc::empty;               // when problem == bad_symbol
  int json_error = 0;                                    // simdjson::error_code, when malformed_json
  stream_name stream{};                                  // the combined wrapper's stream, when known

  bool is_schema_error() const noexcept { return code == decode_errc::schema_error; }
  std::string message() const;
};

/// A decoded message: the tick, and the stream it came on for combined streams (else empty).
struct decoded {
  ticks::tick tick;
  stream_name stream;
};

/// How messages are framed on this connection: Binance serves raw streams at /ws/<stream>
/// and wrapped ones at /stream?streams=a/b/c.
enum class stream_format : std::uint8_t { raw, combined };

struct decoder_options {
  stream_format format = stream_format::raw;
  /// For raw streams: the kind the subscription delivers. none infers it from "e" (trade,
  /// aggTrade) or its absence (bookTicker), at the cost of a second pass over the keys.
  polarway::option<message_kind> kind = polarway::none;
  std::size_t max_message_size = std::size_t{1} << 20;
};

class decoder {
 public:
  /// Readable bytes past the end of the JSON needed to parse in place (simdjson's padding).
  static constexpr std::size_t required_padding = 64;

  explicit decoder(decoder_options options = {});
  decoder(decoder&&) noexcept;
  decoder& operator=(decoder&&) noexcept;
  ~decoder();

  /// Decodes one message. `padding` is how many bytes after json.end() may be read; with fewer
  /// than required_padding, the message is copied first.
  polarway::result<decoded, decode_error> decode(std::string_view json, std::size_t padding = 0);

  /// The same, into `out`, which a caller decoding message after message reuses: that spares
  /// zeroing a fresh `decoded` and copying it out for every message. On success `out` holds
  /// exactly the message, nothing of what it held before; on failure its contents are
  /// unspecified.
  polarway::result<void, decode_error> decode_into(std::string_view json, std::size_t padding, decoded& out);

  const decoder_options& options() const noexcept;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ticks
