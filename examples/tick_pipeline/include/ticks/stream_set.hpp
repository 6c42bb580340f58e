// ticks::stream_set: the names of Binance streams ("btcusdt@trade") as sets: the syntax of one
// name, a streams file (what polarway-ingest --streams-file reads), and the difference between
// two sets (what a reload subscribes and unsubscribes).
//
// A stream name is <symbol>@<kind>: the symbol lowercase letters and digits (1 to 20), the kind
// letters, digits, '_' and '@' (1 to 40: "trade", "depth@100ms", "kline_1m"). A streams file
// holds one name per line; '#' starts a comment (whole line or after the name), blank lines and
// surrounding spaces are ignored, CRLF line ends are accepted. Since the ingest decodes trade,
// aggTrade and bookTicker only, a file naming another kind is refused, as is a name given twice:
// every error names its line. A set is a sorted vector without duplicates.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "ticks/tick.hpp"

namespace ticks {

inline constexpr std::size_t max_stream_name_length = 61;  // 20 + '@' + 40

/// Why `name` is not a stream name ("no '@'", "symbol ... "), or none if it is one.
polarway::option<std::string> stream_name_problem(std::string_view name);

/// The message kind a stream name carries, none for kinds the decoder does not know.
polarway::option<message_kind> stream_kind(std::string_view name) noexcept;

struct streams_file_error {
  std::size_t line = 0;  // 1-based; 0 for the file as a whole
  std::string reason;
  std::string message() const;  // "line 4: ..."
};

/// Largest number of streams a file may name (shards of 1024: 98 connections).
inline constexpr std::size_t max_streams_in_file = 100'000;

/// The streams a file names, as a set.
polarway::result<std::vector<std::string>, streams_file_error> parse_streams_file(std::string_view text);

struct stream_diff {
  std::vector<std::string> added;    // in `to`, not in `from`
  std::vector<std::string> removed;  // in `from`, not in `to`
  bool empty() const noexcept { return added.empty() && removed.empty(); }
};

/// What changes from set `from` to set `to` (both sorted, without duplicates).
stream_diff diff_streams(const std::vector<std::string>& from, const std::vector<std::string>& to);

/// Sorts and removes duplicates: any list of names made a set.
std::vector<std::string> make_stream_set(std::vector<std::string> names);

}  // namespace ticks
