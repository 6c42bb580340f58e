#include "replay_cli.hpp"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "trade_aggregate.hpp"
#include "ticks/symbol.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

// polarway-feed's flags that mean the same for a replay; the first two take no value.
constexpr std::array<std::string_view, 2> feed_switches{"--with-send-time", "--quiet"};
constexpr std::array<std::string_view, 16> feed_options_with_value{
    "--listen",          "--metrics",          "--flight-recorder", "--handshake-timeout",
    "--batch-bytes",     "--max-connections",  "--ping-every",      "--pong-timeout",
    "--tls-cert",        "--tls-key",          "--disconnect-every", "--stall-ms",
    "--stall-every",     "--session-max-s",    "--pace-us",         "--count"};

template <std::size_t N>
bool among(const std::array<std::string_view, N>& names, std::string_view flag) {
  return std::find(names.begin(), names.end(), flag) != names.end();
}

// Milliseconds since the epoch at or after `ns`: a row's millisecond time t is at or after a
// bound b (in ns) exactly when t >= ceil(b / 1e6), and before it exactly when t < ceil(b / 1e6).
std::int64_t ceil_ms(std::int64_t ns) noexcept {
  std::int64_t q = ns / 1'000'000;
  if (ns % 1'000'000 > 0) ++q;
  return q;
}

}  // namespace

std::string replay_usage() {
  return "usage: polarway-replay DIR [options]   (serves recorded ticks as polarway-feed serves generated ones)\n"
         "  DIR                   the recording: polarway-ingest's or polarway-demo's --out (every *.parquet\n"
         "                        below it; trade, aggTrade and bookTicker files), or one part file\n"
         "  --speed X             the recorded pace times X, 0.001 to 1000000 (at most 3 decimals);\n"
         "                        default: flat out\n"
         "  --from TIME           only rows whose event time is at or after TIME:\n"
         "                        YYYY-MM-DD[THH:MM[:SS[.fff]]][Z] (UTC) or milliseconds since the epoch\n"
         "  --to TIME             only rows before TIME\n"
         "  --symbol S            only symbol S (repeat for more); all symbols by default\n"
         "  --count N             at most N messages per connection, then close 1000 (default: all)\n"
         "polarway-feed's options that apply, as there: --listen ADDR (default 127.0.0.1:9443), --metrics ADDR,\n"
         "  --flight-recorder N, --with-send-time, --handshake-timeout S, --batch-bytes N, --max-connections N,\n"
         "  --ping-every S, --pong-timeout S, --tls-cert FILE, --tls-key FILE, --disconnect-every N,\n"
         "  --stall-ms MS, --stall-every N, --session-max-s S, --pace-us N (with --speed), --quiet\n"
         "Every connection replays the recording from the start of the range, merged across files by event\n"
         "time (ties in file order: path, part number, row), in Binance's JSON (a bookTicker with the\n"
         "recorded event time as \"E\"), then closes with 1000.\n"
         "paths: /stream?streams=btcusdt@trade/ethusdt@aggTrade, /ws/btcusdt@trade, / for every recorded\n"
         "       stream, or /stream, /ws for none yet (SUBSCRIBE: a stream joins at the replay's current time)\n"
         "Exit status: 0 after SIGINT/SIGTERM, 1 if it cannot start (the recording, a bind; the message\n"
         "names the file), 2 a usage error.\n";
}

pw::result<replay_config, cli_error> parse_replay_args(std::span<const char* const> args) {
  replay_config cfg;
  if (!args.empty() && (std::string_view(args[0]) == "--help" || std::string_view(args[0]) == "-h"))
    return pw::err(cli_error{"", true});
  if (args.empty() || std::string_view(args[0]).starts_with("--"))
    return pw::err(cli_error{"the first argument is the recording's directory (or a part file)"});
  cfg.source.dir = args[0];
  if (cfg.source.dir.empty()) return pw::err(cli_error{"the directory is empty"});
  arg_reader r(args.subspan(1));
  std::vector<std::string> forwarded;  // the feed's flags, as --name or --name=value
  bool pace_given = false;
  const auto time_into = [&](pw::option<std::int64_t>& out) {
    return r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
      auto t = parse_time_ns(v);
      if (!t) return pw::err(cli_error{std::string(r.current()) + ": " + t.error()});
      out = ceil_ms(*t);
      return pw::ok();
    });
  };
  for (;;) {
    auto flag = r.next_flag();
    if (!flag) return pw::err(flag.error());
    if (!*flag) break;
    const std::string_view f = **flag;
    pw::result<void, cli_error> done = pw::ok();
    if (f == "--speed") {
      done = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        auto thousandths = parse_seconds_ms(f, v, 1'000'000);
        if (!thousandths || *thousandths == 0)
          return pw::err(cli_error{"--speed: '" + std::string(v) +
                                   "' is not a factor from 0.001 to 1000000 (at most 3 decimals)"});
        cfg.feed.speed = static_cast<double>(*thousandths) / 1000.0;
        return pw::ok();
      });
    } else if (f == "--from") {
      done = time_into(cfg.source.filter.from_ms);
    } else if (f == "--to") {
      done = time_into(cfg.source.filter.to_ms);
    } else if (f == "--symbol") {
      done = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        if (!symbol::parse(v)) return pw::err(cli_error{"--symbol: '" + std::string(v) + "' is not a symbol (A-Z, 0-9)"});
        cfg.source.filter.symbols.emplace_back(v);
        return pw::ok();
      });
    } else if (among(feed_switches, f)) {
      done = r.no_value();
      forwarded.emplace_back(f);
    } else if (among(feed_options_with_value, f)) {
      pace_given = pace_given || f == "--pace-us";
      done = r.with_value([&](std::string_view v) -> pw::result<void, cli_error> {
        forwarded.push_back(std::string(f) + "=" + std::string(v));
        return pw::ok();
      });
    } else if (f == "--symbols" || f == "--kind" || f == "--rate" || f == "--seed" ||
               f == "--replay" || f == "--api-key" || f == "--rest-limit") {
      return pw::err(cli_error{std::string(f) + ": a polarway-feed option that does not apply to a replay"});
    } else {
      return pw::err(unknown_flag(f));
    }
    if (!done) return pw::err(done.error());
  }
  const auto& filter = cfg.source.filter;
  if (filter.from_ms && filter.to_ms && *filter.from_ms >= *filter.to_ms)
    return pw::err(cli_error{"--from must be before --to"});
  if (pace_given && cfg.feed.speed == 0) return pw::err(cli_error{"--pace-us: only with --speed"});
  std::vector<const char*> argv;
  for (const std::string& a : forwarded) argv.push_back(a.c_str());
  auto feed = parse_feed_args(argv);
  if (!feed) return pw::err(feed.error());
  feed->speed = cfg.feed.speed;
  cfg.feed = std::move(*feed);
  return cfg;
}

}  // namespace ticks::app
