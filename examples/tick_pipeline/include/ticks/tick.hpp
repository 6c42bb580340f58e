// The ticks the pipeline carries: Binance spot trade, aggTrade and bookTicker events, decoded
// into flat values (integers, fixed-point decimals, an inline symbol) so that they copy cheaply
// through bounded channels and map one-to-one onto Parquet columns. `tick` is the variant the
// channel carries.
//
// Times are the exchange's milliseconds since the Unix epoch. `sent_ns` is the optional
// "pw_ts" field our feed simulator adds (nanoseconds since the epoch, when it sent the message)
// for latency measurement; real exchange data never has it.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>

#include <polarway/option.hpp>

#include "ticks/fixed_point.hpp"
#include "ticks/symbol.hpp"

namespace ticks {

enum class message_kind : std::uint8_t { trade, agg_trade, book_ticker };

/// Binance's name for the kind, as in event types and stream names: trade, aggTrade, bookTicker.
constexpr std::string_view to_string(message_kind k) noexcept {
  switch (k) {
    case message_kind::trade:
      return "trade";
    case message_kind::agg_trade:
      return "aggTrade";
    case message_kind::book_ticker:
      return "bookTicker";
  }
  return "unknown";
}

/// The kind for a Binance name, none for anything else.
constexpr polarway::option<message_kind> parse_message_kind(std::string_view name) noexcept {
  if (name == "trade") return message_kind::trade;
  if (name == "aggTrade") return message_kind::agg_trade;
  if (name == "bookTicker") return message_kind::book_ticker;
  return polarway::none;
}

/// <symbol>@trade: one trade.
struct trade {
  ticks::symbol symbol;
  std::int64_t event_time_ms = 0;          // "E"
  std::int64_t trade_id = 0;               // "t"
  ticks::price price;                      // "p"
  ticks::price quantity;                   // "q"
  std::int64_t trade_time_ms = 0;          // "T"
  bool buyer_is_maker = false;             // "m"
  polarway::option<std::int64_t> sent_ns;  // "pw_ts"

  friend bool operator==(const trade&, const trade&) = default;
};

/// <symbol>@aggTrade: trades of one taker order at one price, aggregated.
struct agg_trade {
  ticks::symbol symbol;
  std::int64_t event_time_ms = 0;   // "E"
  std::int64_t agg_trade_id = 0;    // "a"
  ticks::price price;               // "p"
  ticks::price quantity;            // "q"
  std::int64_t first_trade_id = 0;  // "f"
  std::int64_t last_trade_id = 0;   // "l"
  std::int64_t trade_time_ms = 0;   // "T"
  bool buyer_is_maker = false;      // "m"
  polarway::option<std::int64_t> sent_ns;

  friend bool operator==(const agg_trade&, const agg_trade&) = default;
};

/// <symbol>@bookTicker: the best bid and ask. Spot sends no event time; futures-style feeds do,
/// so "E" is optional.
struct book_ticker {
  ticks::symbol symbol;
  std::int64_t update_id = 0;                    // "u"
  ticks::price bid_price;                        // "b"
  ticks::price bid_quantity;                     // "B"
  ticks::price ask_price;                        // "a"
  ticks::price ask_quantity;                     // "A"
  polarway::option<std::int64_t> event_time_ms;  // "E", when present
  polarway::option<std::int64_t> sent_ns;

  friend bool operator==(const book_ticker&, const book_ticker&) = default;
};

using tick = std::variant<trade, agg_trade, book_ticker>;

constexpr message_kind kind_of(const tick& t) noexcept { return static_cast<message_kind>(t.index()); }
inline const symbol& symbol_of(const tick& t) noexcept {
  return std::visit([](const auto& v) -> const symbol& { return v.symbol; }, t);
}

}  // namespace ticks
