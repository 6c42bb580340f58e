// The schemas of the Binance streams the tick pipeline stores, as data. Times are the
// exchange's millisecond epoch times (TIMESTAMP(MILLIS, UTC)); prices and quantities are exact
// DECIMAL(18, 8), which covers Binance's 8 fractional digits and values up to 10^10; symbol is
// a dictionary-encoded string since a file holds one or a few symbols. Column order follows the
// exchange's JSON payloads, and the *_column enums give each column's index in a row.
#pragma once

#include <cstddef>

#include "pw_parquet/schema.hpp"

namespace pw_parquet::ticks {

inline constexpr std::int32_t price_precision = 18;
inline constexpr std::int32_t price_scale = 8;

/// <symbol>@trade
enum trades_column : std::size_t {
  trades_event_time, trades_symbol, trades_trade_id, trades_price, trades_quantity, trades_trade_time,
  trades_is_buyer_maker, trades_column_count
};
inline schema trades_schema() {
  return schema{"trades",
                {
                    column_spec::timestamp("event_time", time_unit::millis),
                    column_spec::string("symbol").dictionary(),
                    column_spec::int64("trade_id"),
                    column_spec::decimal("price", price_precision, price_scale),
                    column_spec::decimal("quantity", price_precision, price_scale),
                    column_spec::timestamp("trade_time", time_unit::millis),
                    column_spec::boolean("is_buyer_maker"),
                }};
}

/// <symbol>@aggTrade
enum agg_trades_column : std::size_t {
  agg_trades_event_time, agg_trades_symbol, agg_trades_agg_trade_id, agg_trades_price, agg_trades_quantity,
  agg_trades_first_trade_id, agg_trades_last_trade_id, agg_trades_trade_time, agg_trades_is_buyer_maker,
  agg_trades_column_count
};
inline schema agg_trades_schema() {
  return schema{"agg_trades",
                {
                    column_spec::timestamp("event_time", time_unit::millis),
                    column_spec::string("symbol").dictionary(),
                    column_spec::int64("agg_trade_id"),
                    column_spec::decimal("price", price_precision, price_scale),
                    column_spec::decimal("quantity", price_precision, price_scale),
                    column_spec::int64("first_trade_id"),
                    column_spec::int64("last_trade_id"),
                    column_spec::timestamp("trade_time", time_unit::millis),
                    column_spec::boolean("is_buyer_maker"),
                }};
}

/// <symbol>@bookTicker. The raw stream has no event time; event_time is the time the pipeline
/// stamps on receipt (or the exchange's "E" where the futures stream provides one).
enum book_ticker_column : std::size_t {
  book_ticker_update_id, book_ticker_symbol, book_ticker_bid_price, book_ticker_bid_qty, book_ticker_ask_price,
  book_ticker_ask_qty, book_ticker_event_time, book_ticker_column_count
};
inline schema book_ticker_schema() {
  return schema{"book_ticker",
                {
                    column_spec::int64("update_id"),
                    column_spec::string("symbol").dictionary(),
                    column_spec::decimal("bid_price", price_precision, price_scale),
                    column_spec::decimal("bid_qty", price_precision, price_scale),
                    column_spec::decimal("ask_price", price_precision, price_scale),
                    column_spec::decimal("ask_qty", price_precision, price_scale),
                    column_spec::timestamp("event_time", time_unit::millis),
                }};
}

}  // namespace pw_parquet::ticks
