// ticks::app::trade_query: the batch read behind polarway-query. It aggregates trade part files
// (trade_aggregate: per symbol and UTC day) with up to `concurrency` files read at once: a
// join_set of one task per file, started only when a semaphore permit is free, so that at most
// `concurrency` files are open and at most that many row groups are in memory, whatever the
// number and size of the files. Each file is read a row group at a time through pw::fs
// (parquet_file_reader), only its symbol, price, quantity and time columns, into one of
// `concurrency` sets of buffers that the files reuse in turn; a row group whose statistics rule
// out every row under the filter (time range, symbols) is skipped unread.
//
// The first file that fails (cannot be opened, is not Parquet, lacks a column, has a damaged
// page) fails the query with its error, which names the file and the column; the files still
// being read are cancelled. A query over no file gives no group.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <polarway/result.hpp>
#include <polarway/task.hpp>

#include "trade_aggregate.hpp"

namespace ticks::app {

struct trade_query_options {
  std::vector<std::string> files;
  trade_filter filter;
  std::string time_column = "trade_time";
  std::size_t concurrency = 4;  // files read at once, at least 1
};

struct trade_query_result {
  trade_aggregate aggregate;
  std::uint64_t files = 0;
  std::uint64_t row_groups_read = 0;
  std::uint64_t row_groups_skipped = 0;  // ruled out by their statistics, never read
  std::uint64_t bytes_read = 0;          // footers and column chunks
};

/// The Parquet files a query reads at `path`: the file itself, or every regular file named
/// *.parquet under the directory, recursively, sorted by path; names starting with '.' (the
/// sink's temporaries, hidden directories) are left out. The error names the path that failed.
polarway::result<std::vector<std::string>, std::string> list_parquet_files(const std::string& path);

/// Runs the query on the current runtime.
polarway::task<polarway::result<trade_query_result, std::string>> run_trade_query(trade_query_options options);

/// The result as JSON: {"groups":[{"symbol", "day", "count", "sum_price", "sum_quantity",
/// "notional", "vwap", "min_price", "max_price", "first_time", "last_time"}...], "files", ...};
/// decimals are strings with their exact digits, times ISO 8601 UTC.
std::string trade_query_json(const trade_query_result& r);
/// The result as an aligned text table, one line per group.
std::string trade_query_table(const trade_query_result& r);

}  // namespace ticks::app
