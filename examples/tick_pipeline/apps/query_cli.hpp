// polarway-query's command line: polarway-query PATH [options]. PATH, a Parquet file or a
// directory of them, comes first; the flags follow, parsed strictly as the other programs' are
// (cli.hpp): an unknown flag, a bad time or count is a cli_error naming the flag.
#pragma once

#include <span>
#include <string>

#include <polarway/result.hpp>

#include "cli.hpp"
#include "trade_query.hpp"

namespace ticks::app {

struct query_config {
  std::string path;
  trade_query_options query;  // files stay empty: listed from `path` when the query runs
  bool json = false;
};

std::string query_usage();
/// Parses argv without argv[0].
polarway::result<query_config, cli_error> parse_query_args(std::span<const char* const> args);

}  // namespace ticks::app
