// ticks::app::trade_aggregate: exact per symbol and UTC day aggregates of trade rows (trade or
// aggTrade part files, or any table with the same columns), filled a row group at a time.
//
// Per (symbol, day): the row count, the sums of price and of quantity, the notional
// (sum of price * quantity), the VWAP (notional / quantity), the lowest and highest price, and
// the earliest and latest time. Sums are 128-bit integers at the decimals' own scale, so they
// are exact: prices and quantities are read at scale 8 (Binance's; a column of smaller scale is
// rescaled exactly, a larger one is refused), the notional is at scale 16, and the VWAP is
// rounded half away from zero to 8 places. The day is the UTC day of the time column
// (trade_time unless told otherwise), which may be in ms, us or ns.
//
// A row with a null symbol, price, quantity or time is counted in nulls_skipped, not
// aggregated. The filter is applied row by row, and ruled_out() lets a caller skip whole row
// groups whose statistics prove that no row passes it.
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <pw_parquet/column_reader.hpp>
#include <pw_parquet/footer_reader.hpp>

namespace ticks::app {

/// Which rows count: time in [from_ns, to_ns), symbol among `symbols` (all when empty).
struct trade_filter {
  polarway::option<std::int64_t> from_ns;
  polarway::option<std::int64_t> to_ns;
  std::vector<std::string> symbols;

  bool admits_time(std::int64_t ns) const noexcept {
    return (!from_ns || ns >= *from_ns) && (!to_ns || ns < *to_ns);
  }
  bool admits_symbol(std::string_view s) const noexcept;
};

/// The columns a trade aggregate reads, by index into a file's schema.
struct trade_columns {
  std::size_t symbol = 0, price = 0, quantity = 0, time = 0;
  std::int64_t ns_per_time_unit = 1'000'000;  // the time column's unit
  std::int64_t price_factor = 1, quantity_factor = 1;  // 10^(8 - scale): to scale 8

  /// Finds and checks the columns in `meta`: symbol (string), price and quantity (decimals of
  /// precision <= 18 and scale <= 8) and `time_column` (a timestamp). The error names the
  /// column and what is wrong with it.
  static polarway::result<trade_columns, std::string> find(const pw_parquet::file_metadata& meta,
                                                           std::string_view time_column);
  /// symbol, price, quantity, time: the order read_row_group is asked for.
  std::vector<std::size_t> wanted() const { return {symbol, price, quantity, time}; }
};

/// Whether the statistics of row group `rg` prove that no row of it passes `filter`. Missing or
/// unusable statistics prove nothing.
bool ruled_out(const pw_parquet::row_group_info& rg, const trade_columns& columns, const trade_filter& filter) noexcept;

struct trade_totals {
  static constexpr std::int32_t scale = 8;           // price, quantity, VWAP
  static constexpr std::int32_t notional_scale = 16;

  std::uint64_t count = 0;
  __int128 sum_price = 0;
  __int128 sum_quantity = 0;
  __int128 notional = 0;
  std::int64_t min_price = 0, max_price = 0;
  std::int64_t first_time_ns = 0, last_time_ns = 0;

  /// Adds one trade (price and quantity at scale 8); false, with the totals unusable, if a sum
  /// would overflow 128 bits.
  [[nodiscard]] bool add(std::int64_t price, std::int64_t quantity, std::int64_t time_ns) noexcept;
  /// Adds `o` to these totals; false, with them unusable, on overflow.
  [[nodiscard]] bool merge(const trade_totals& o) noexcept;
  /// notional / sum_quantity at scale 8, rounded half away from zero; none when the quantity
  /// sums to zero (or, with hostile values only, when the quotient needs more than 127 bits).
  polarway::option<__int128> vwap() const noexcept;
};

struct trade_group_key {
  std::string symbol;
  std::int64_t day = 0;  // days since 1970-01-01 (UTC)
  friend auto operator<=>(const trade_group_key&, const trade_group_key&) = default;
};

class trade_aggregate {
 public:
  /// Adds the rows of one row group that pass `filter`; `cols` as trade_columns::wanted()
  /// asked (symbol, price, quantity, time). After an error (a time outside the int64
  /// nanosecond range, a price that does not fit at scale 8, sums past 128 bits) the aggregate
  /// is unusable.
  polarway::result<void, std::string> add(std::span<const pw_parquet::column_values> cols, const trade_columns& columns,
                                          const trade_filter& filter);
  /// Adds `o`'s groups and counts; an error (sums past 128 bits) leaves this one unusable.
  polarway::result<void, std::string> merge(const trade_aggregate& o);

  const std::map<trade_group_key, trade_totals>& groups() const noexcept { return groups_; }
  std::uint64_t rows_seen() const noexcept { return rows_seen_; }
  std::uint64_t rows_matched() const noexcept { return rows_matched_; }
  std::uint64_t nulls_skipped() const noexcept { return nulls_skipped_; }

 private:
  std::map<trade_group_key, trade_totals> groups_;
  std::uint64_t rows_seen_ = 0, rows_matched_ = 0, nulls_skipped_ = 0;
};

/// "2024-11-22" for a day number.
std::string day_text(std::int64_t day);
/// "2024-11-22T10:00:00.123Z": milliseconds, or micro- or nanoseconds when the time has them.
std::string time_text(std::int64_t ns);

/// A time given on a command line, as nanoseconds since the epoch: "2024-11-22",
/// "2024-11-22T10:00", "2024-11-22T10:00:05.250Z" (UTC; the Z is optional) or an integer of
/// milliseconds since the epoch. Anything else is an error naming what was expected.
polarway::result<std::int64_t, std::string> parse_time_ns(std::string_view text);

}  // namespace ticks::app
