// polarway-query: exact per symbol and UTC day aggregates over a directory of trade part files
// (count, VWAP, min/max price, sums of quantity and notional, first/last time), reading up to
// --concurrency files at once, a row group at a time, and skipping row groups whose statistics
// rule them out under --from/--to/--symbol. See query_cli.cpp for the options and trade_query.hpp
// for how it reads.
#include <chrono>
#include <cstdio>
#include <span>

#include <polarway/runtime.hpp>

#include "query_cli.hpp"
#include "trade_query.hpp"

namespace pw = polarway;
namespace app = ticks::app;

int main(int argc, char** argv) {
  auto cfg = app::parse_query_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!cfg) {
    if (cfg.error().help) {
      std::fputs(app::query_usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "polarway-query: %s\n(polarway-query --help lists the options)\n", cfg.error().message.c_str());
    return 2;
  }
  const auto start = std::chrono::steady_clock::now();  // the time reported covers the listing too
  auto files = app::list_parquet_files(cfg->path);
  if (!files) {
    std::fprintf(stderr, "polarway-query: %s\n", files.error().c_str());
    return 1;
  }
  cfg->query.files = std::move(*files);
  pw::runtime rt;
  auto result = rt.block_on(app::run_trade_query(std::move(cfg->query)));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!result) {
    std::fprintf(stderr, "polarway-query: %s\n", result.error().c_str());
    return 1;
  }
  const std::string out = cfg->json ? app::trade_query_json(*result) : app::trade_query_table(*result);
  std::fwrite(out.data(), 1, out.size(), stdout);
  std::fprintf(stderr,
               "polarway-query: %llu files, %llu row groups read, %llu skipped by statistics, %llu rows read, "
               "%llu matched, %llu bytes read in %.3f s\n",
               static_cast<unsigned long long>(result->files), static_cast<unsigned long long>(result->row_groups_read),
               static_cast<unsigned long long>(result->row_groups_skipped),
               static_cast<unsigned long long>(result->aggregate.rows_seen()),
               static_cast<unsigned long long>(result->aggregate.rows_matched()),
               static_cast<unsigned long long>(result->bytes_read), seconds);
  return 0;
}
