// ticks::rest_decoder: Binance REST answers -> ticks, for backfilling gaps, with simdjson On
// Demand and no exceptions (the same field readers as the stream decoder, decoder.hpp).
//
// Accepted shapes (Binance spot, GET /api/v3/...):
//   aggTrades          [{"a":..,"p":"..","q":"..","f":..,"l":..,"T":..,"m":bool[,"M":bool]}, ...]
//   historicalTrades   [{"id":..,"price":"..","qty":"..","time":..,"isBuyerMaker":bool
//                        [,"quoteQty":".."][,"isBestMatch":bool]}, ...]
//   an error body      {"code":-1121,"msg":"Invalid symbol."}
// REST rows carry no symbol (the request named it) and no event time "E": a backfilled tick
// gets the request's symbol and its trade time ("T" / "time") as its event time, and no
// sent_ns. Decimals are exact (ticks::price) or the row is an error.
//
// The schema is as strict as the stream decoder's: a missing, duplicated or mistyped field, a
// negative id, a decimal that does not convert exactly, aggTrade's "l" below "f", a body that
// is not an array of objects, trailing content, more rows than asked for: each is a
// rest_decode_error naming the row and field. Unknown fields are skipped. Row order is not
// checked here: the sequencer (sequencer.hpp) rejects rows outside the gap it asked for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "ticks/decoder.hpp"
#include "ticks/symbol.hpp"
#include "ticks/tick.hpp"

namespace ticks {

/// A REST answer that is not what the schema expects. `error` says what and which field;
/// `row` is the array index of the offending row, none when the body as a whole is wrong.
struct rest_decode_error {
  decode_error error;
  polarway::option<std::size_t> row;
  std::string message() const;
};

/// The body of a Binance REST error answer.
struct binance_error {
  std::int64_t code = 0;
  std::string msg;  // at most max_msg bytes of it
  static constexpr std::size_t max_msg = 256;
};

class rest_decoder {
 public:
  explicit rest_decoder(std::size_t max_body_size = std::size_t{8} << 20);
  rest_decoder(rest_decoder&&) noexcept;
  rest_decoder& operator=(rest_decoder&&) noexcept;
  ~rest_decoder();

  /// Decodes an aggTrades (kind agg_trade) or historicalTrades (kind trade) answer for
  /// `symbol` and appends its rows to `out`, at most max_rows of them (more is an error). On
  /// error, `out` holds what it held before.
  polarway::result<void, rest_decode_error> decode(std::string_view body, message_kind kind, const ticks::symbol& symbol,
                                                   std::size_t max_rows, std::vector<tick>& out);

  /// The code and message of an error body, none if `body` is not one.
  polarway::option<binance_error> decode_error_body(std::string_view body);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace ticks
