#include "query_cli.hpp"

#include <string_view>

namespace ticks::app {

namespace pw = polarway;

std::string query_usage() {
  return "usage: polarway-query PATH [options]   (per symbol and UTC day aggregates of trade Parquet files)\n"
         "  PATH                  a Parquet file, or a directory read recursively for *.parquet\n"
         "                        (polarway-ingest's or polarway-demo's --out, a trade or aggTrade stream)\n"
         "  --from TIME           only rows at or after TIME: YYYY-MM-DD[THH:MM[:SS[.fff]]][Z] (UTC)\n"
         "                        or milliseconds since the epoch\n"
         "  --to TIME             only rows before TIME\n"
         "  --symbol S            only symbol S (repeat for more); all symbols by default\n"
         "  --time-column NAME    the timestamp column for days, times and --from/--to (default trade_time)\n"
         "  --concurrency N       files read at once, 1-1024 (default 4)\n"
         "  --json                JSON instead of a table\n"
         "Prints count, VWAP, min/max price, the sums of quantity and notional (exact decimals) and the\n"
         "first and last time per symbol and day; files, row groups read and skipped on stderr.\n"
         "Exit status: 0 done, 1 a file could not be read (the message names it), 2 a usage error.\n";
}

pw::result<query_config, cli_error> parse_query_args(std::span<const char* const> args) {
  query_config cfg;
  if (!args.empty() && std::string_view(args[0]) == "--help") return pw::err(cli_error{"", true});
  if (args.empty() || std::string_view(args[0]).starts_with("--"))
    return pw::err(cli_error{"the first argument is the file or directory to read"});
  cfg.path = args[0];
  if (cfg.path.empty()) return pw::err(cli_error{"the path is empty"});
  arg_reader r(args.subspan(1));
  const auto time_into = [&](pw::option<std::int64_t>& out) {
    return r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
      auto t = parse_time_ns(v);
      if (!t) return pw::err(cli_error{std::string(r.current()) + ": " + t.error()});
      out = *t;
      return pw::ok();
    });
  };
  while (true) {
    auto flag = r.next_flag();
    if (!flag) return pw::err(flag.error());
    if (!*flag) break;
    const std::string_view f = **flag;
    pw::result<void, cli_error> done = pw::ok();
    if (f == "--help") {
      return pw::err(cli_error{"", true});
    } else if (f == "--from") {
      done = time_into(cfg.query.filter.from_ns);
    } else if (f == "--to") {
      done = time_into(cfg.query.filter.to_ns);
    } else if (f == "--symbol") {
      done = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--symbol: empty"});
        cfg.query.filter.symbols.emplace_back(v);
        return pw::ok();
      });
    } else if (f == "--time-column") {
      done = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (v.empty()) return pw::err(cli_error{"--time-column: empty"});
        cfg.query.time_column = v;
        return pw::ok();
      });
    } else if (f == "--concurrency") {
      done = r.uint_into(cfg.query.concurrency, 1, 1024);
    } else if (f == "--json") {
      done = r.no_value();
      cfg.json = true;
    } else {
      return pw::err(unknown_flag(f));
    }
    if (!done) return pw::err(done.error());
  }
  if (cfg.query.filter.from_ns && cfg.query.filter.to_ns && *cfg.query.filter.from_ns >= *cfg.query.filter.to_ns)
    return pw::err(cli_error{"--from must be before --to"});
  return cfg;
}

}  // namespace ticks::app
