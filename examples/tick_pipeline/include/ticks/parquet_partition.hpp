// ticks::partition: how a tick's stream, symbol and UTC day become a directory under the
// Parquet sink's output root, and the names of the part files in it:
//
//   <root>/<stream>/symbol=<SYMBOL>/date=<YYYY-MM-DD>/part-<n>.parquet      (committed)
//   <root>/<stream>/symbol=<SYMBOL>/date=<YYYY-MM-DD>/.part-<n>.parquet.tmp (being written)
//
// Everything here is pure (no I/O), so the path rules can be tested exhaustively. The one
// invariant: nothing a feed sends can name a path outside the root. <stream> comes from the
// message kind (a closed set); the symbol is checked again here, at the sink boundary, against
// [A-Z0-9]{1,20} even though ticks::symbol::parse already checks it, because a default-built or
// byte-copied symbol can bypass parse; the date is computed, never taken from the feed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "ticks/tick.hpp"

namespace ticks::partition {

/// Why a value cannot become part of a partition path.
enum class path_errc : std::uint8_t {
  empty_symbol,          // ""
  symbol_too_long,       // more than symbol::max_size characters
  bad_symbol_character,  // anything but A-Z and 0-9 ('/', '.', NUL, lowercase, UTF-8, ...)
  time_out_of_range,     // before 1970-01-01 or after 9999-12-31 (UTC)
};

std::string_view to_string(path_errc e) noexcept;

/// The longest symbol a path may carry (the same bound as ticks::symbol).
inline constexpr std::size_t max_symbol_size = symbol::max_size;

/// Checks that `text` is [A-Z0-9]{1,max_symbol_size}: safe as a single path component.
polarway::result<void, path_errc> validate_symbol(std::string_view text) noexcept;

/// The directory name of a stream: "trade", "aggTrade", "bookTicker".
std::string_view stream_dir(message_kind k) noexcept;

inline constexpr std::int64_t ms_per_day = 86'400'000;
/// 9999-12-31T23:59:59.999Z: four-digit years keep every date= directory the same shape.
inline constexpr std::int64_t max_time_ms = 253'402'300'799'999;

/// Days since 1970-01-01 (UTC) of a millisecond Unix time, or time_out_of_range.
polarway::result<std::int32_t, path_errc> utc_day(std::int64_t unix_ms) noexcept;

/// "YYYY-MM-DD" of a day number from utc_day().
std::string format_date(std::int32_t day);
/// The day number of a "YYYY-MM-DD" that format_date() can produce; none for anything else (a
/// day that does not exist, a year before 1970, another shape).
polarway::option<std::int32_t> parse_date(std::string_view text) noexcept;

/// <root>/<stream>/symbol=<symbol>/date=<YYYY-MM-DD>, with the symbol validated.
polarway::result<std::string, path_errc> partition_dir(std::string_view root, message_kind kind,
                                                       std::string_view symbol, std::int32_t day);

/// "part-00042.parquet" (at least five digits, more when n needs them).
std::string part_file_name(std::uint32_t n);
/// ".part-00042.parquet.tmp": hidden (readers globbing *.parquet skip it) and in the same
/// directory as the final name, so the rename that publishes it is atomic.
std::string temp_file_name(std::uint32_t n);

/// What a directory entry is, as far as the sink is concerned.
struct part_name {
  std::uint32_t number = 0;
  bool temporary = false;
};
/// Parses a name made by part_file_name() or temp_file_name(); none for anything else.
polarway::option<part_name> parse_part_name(std::string_view name) noexcept;

/// Whether `name` is "symbol=<valid symbol>" / "date=<YYYY-MM-DD>": the only directories the
/// stale-temp sweep descends into.
bool is_symbol_dir_name(std::string_view name) noexcept;
bool is_date_dir_name(std::string_view name) noexcept;

}  // namespace ticks::partition
