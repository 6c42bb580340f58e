// tick_parquet_sink_tool: drives the Parquet sink for the tests and the memory bench.
//
//   readback <dir>          three roots (<dir>/snappy, zstd, uncompressed) of generated ticks:
//                           3 streams x 5 symbols x 3 UTC days, small row groups and files so
//                           that rolls happen; writes <dir>/expected.json (per-partition counts,
//                           exact sums, min/max, sampled rows) for parquet_sink_verify.mjs.
//   loop <root> [ticks]     sinks ticks until killed (or until `ticks`, then closes cleanly);
//                           prints "committed" once the first file is visible. For the kill -9 test.
//   rss <root> <ticks> [rows_per_group]
//                           sinks `ticks` ticks spread over days (2.5 M per day, 3 streams x 4
//                           symbols, max_open_partitions = 12: the live set; at a day boundary
//                           each stream and symbol's file of the day before is committed as its
//                           first row of the next day comes), closes, prints one JSON
//                           line with VmHWM. The root is removed.
#include <sys/stat.h>
#include <time.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <system_error>
#include <variant>
#include <vector>

#include <polarway/runtime.hpp>

#include "ticks/feed_generator.hpp"
#include "ticks/parquet_sink.hpp"

namespace pw = polarway;
using ticks::message_kind;

namespace {

constexpr std::int64_t day_ms = 86'400'000;
constexpr std::int64_t base_ms = 1'732'233'600'000;  // 2024-11-22T00:00:00Z

std::int64_t g_clock_ms = base_ms;  // the receive time stamped on bookTickers without "E"
std::int64_t fixed_clock() noexcept { return g_clock_ms; }

long vm_hwm_kb() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return -1;
  char line[256];
  long kb = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kb;
}

double now_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Round-robin over one generator per kind; times rewritten to `base + i * step_ms` so the ticks
// spread over days (the generator itself advances 1 ms per message). Every 3rd bookTicker
// keeps no event time and so gets the sink's clock.
struct tick_source {
  std::array<ticks::feed_generator, 3> gens;
  std::uint64_t i = 0;
  double step_ms;

  static tick_source make(std::size_t symbols, double step_ms) {
    auto g = [&](message_kind k, std::uint64_t seed) {
      return ticks::feed_generator::create({.seed = seed, .symbols = symbols, .kind = k}).unwrap();
    };
    return tick_source{{g(message_kind::trade, 11), g(message_kind::agg_trade, 12), g(message_kind::book_ticker, 13)}, 0,
                       step_ms};
  }

  std::int64_t time_of(std::uint64_t n) const { return base_ms + static_cast<std::int64_t>(static_cast<double>(n) * step_ms); }

  ticks::tick next() {
    const std::int64_t ms = time_of(i);
    auto& g = gens[i % 3];
    (void)g.next();
    ticks::tick t = g.last();
    if (auto* tr = std::get_if<ticks::trade>(&t)) {
      tr->event_time_ms = ms;
      tr->trade_time_ms = ms - 2;
    } else if (auto* ag = std::get_if<ticks::agg_trade>(&t)) {
      ag->event_time_ms = ms;
      ag->trade_time_ms = ms - 1;
    } else if (auto* bt = std::get_if<ticks::book_ticker>(&t)) {
      if ((i / 3) % 3 != 0) bt->event_time_ms = ms;
    }
    ++i;
    return t;
  }
};

// ---- expected summary ------------------------------------------------------------------------
std::string i128_text(__int128 v) {
  if (v == 0) return "0";
  const bool neg = v < 0;
  unsigned __int128 m = neg ? static_cast<unsigned __int128>(-(v + 1)) + 1 : static_cast<unsigned __int128>(v);
  std::string s;
  while (m) {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
    m /= 10;
  }
  return neg ? "-" + s : s;
}

struct column_summary {
  std::uint64_t count = 0;
  __int128 sum = 0;
  std::int64_t min = 0, max = 0;
  void add(std::int64_t v) {
    if (count == 0 || v < min) min = v;
    if (count == 0 || v > max) max = v;
    sum += v;
    ++count;
  }
};

struct partition_summary {
  std::string stream, symbol, date;
  std::uint64_t rows = 0, true_count = 0;
  std::map<std::string, column_summary> columns;
  std::vector<std::string> samples;  // JSON objects {"id":..,"values":{...}}
};

// The row the sink writes for `t`, as (column, raw integer) pairs, plus is_buyer_maker.
std::vector<std::pair<const char*, std::int64_t>> raw_row(const ticks::tick& t, std::int64_t event_ms, int& maker) {
  maker = -1;
  if (const auto* tr = std::get_if<ticks::trade>(&t)) {
    maker = tr->buyer_is_maker;
    return {{"event_time", event_ms}, {"trade_id", tr->trade_id}, {"price", tr->price.raw},
            {"quantity", tr->quantity.raw}, {"trade_time", tr->trade_time_ms}};
  }
  if (const auto* ag = std::get_if<ticks::agg_trade>(&t)) {
    maker = ag->buyer_is_maker;
    return {{"event_time", event_ms},       {"agg_trade_id", ag->agg_trade_id}, {"price", ag->price.raw},
            {"quantity", ag->quantity.raw}, {"first_trade_id", ag->first_trade_id}, {"last_trade_id", ag->last_trade_id},
            {"trade_time", ag->trade_time_ms}};
  }
  const auto& bt = std::get<ticks::book_ticker>(t);
  return {{"update_id", bt.update_id}, {"bid_price", bt.bid_price.raw}, {"bid_qty", bt.bid_quantity.raw},
          {"ask_price", bt.ask_price.raw}, {"ask_qty", bt.ask_quantity.raw}, {"event_time", event_ms}};
}

pw::task<int> readback_root(std::string root, pw_parquet::compression codec, std::uint64_t n_ticks,
                            std::map<std::string, partition_summary>& parts, std::string& stats_json) {
  // Options as a named local: g++ 12 destroys a braced temporary inside a co_await twice.
  ticks::parquet_sink_options options{.root = root,
                                      .codec = codec,
                                      .rows_per_row_group = 700,
                                      .max_rows_per_file = 2500,
                                      .max_open_partitions = 16,
                                      .clock_ms = fixed_clock};
  auto sink = co_await ticks::parquet_sink::open(std::move(options));
  if (!sink) {
    std::fprintf(stderr, "open: %s\n", sink.error().message().c_str());
    co_return 1;
  }
  // 3 days over n_ticks, starting 2024-11-22T00:00Z.
  tick_source src = tick_source::make(5, static_cast<double>(3 * day_ms) / static_cast<double>(n_ticks));
  std::vector<ticks::tick> batch;
  for (std::uint64_t done = 0; done < n_ticks;) {
    batch.clear();
    g_clock_ms = src.time_of(src.i);
    for (int k = 0; k < 100 && done < n_ticks; ++k, ++done) batch.push_back(src.next());
    for (const ticks::tick& t : batch) {
      std::int64_t event_ms = g_clock_ms;
      if (const auto* tr = std::get_if<ticks::trade>(&t)) event_ms = tr->event_time_ms;
      else if (const auto* ag = std::get_if<ticks::agg_trade>(&t)) event_ms = ag->event_time_ms;
      else if (const auto* bt = std::get_if<ticks::book_ticker>(&t); bt->event_time_ms) event_ms = *bt->event_time_ms;
      const message_kind k = ticks::kind_of(t);
      const std::string sym(ticks::symbol_of(t).view());
      const std::string date = ticks::partition::format_date(static_cast<std::int32_t>(event_ms / day_ms));
      const std::string key = root + "|" + std::string(ticks::to_string(k)) + "|" + sym + "|" + date;
      partition_summary& p = parts[key];
      p.stream = std::string(ticks::to_string(k));
      p.symbol = sym;
      p.date = date;
      ++p.rows;
      int maker = -1;
      auto row = raw_row(t, event_ms, maker);
      if (maker == 1) ++p.true_count;
      for (auto& [name, v] : row) p.columns[name].add(v);
      if (p.rows % 211 == 1) {
        std::string s = "{";
        for (auto& [name, v] : row) s += "\"" + std::string(name) + "\":\"" + std::to_string(v) + "\",";
        if (maker >= 0) s += std::string("\"is_buyer_maker\":") + (maker ? "true" : "false") + ",";
        s += "\"symbol\":\"" + sym + "\"}";
        p.samples.push_back(std::move(s));
      }
    }
    if (auto r = co_await sink->write(batch); !r) {
      std::fprintf(stderr, "write: %s\n", r.error().message().c_str());
      co_return 1;
    }
  }
  if (auto r = co_await sink->close(); !r) {
    std::fprintf(stderr, "close: %s\n", r.error().message().c_str());
    co_return 1;
  }
  const auto& st = sink->stats();
  stats_json = "{\"root\":\"" + root + "\",\"codec\":\"" + pw_parquet::to_string(codec) + "\",\"files\":" +
               std::to_string(st.files_written()) + ",\"rows\":" + std::to_string(st.rows_written()) +
               ",\"rejected\":" + std::to_string(st.rows_rejected()) + ",\"lost\":" + std::to_string(st.rows_lost()) +
               ",\"evictions\":" + std::to_string(st.evictions) + ",\"day_commits\":" + std::to_string(st.day_commits) +
               ",\"streams\":{";
  for (const message_kind k : {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker}) {
    stats_json += std::string(k == message_kind::trade ? "" : ",") + "\"" + std::string(ticks::to_string(k)) +
                  "\":{\"rows\":" + std::to_string(st.of(k).rows_written) + ",\"files\":" + std::to_string(st.of(k).files_written) +
                  ",\"bytes\":" + std::to_string(st.of(k).bytes_written) + "}";
  }
  stats_json += "}}";
  co_return 0;
}

int readback(const std::string& dir) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  std::filesystem::create_directories(dir, ec);
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::map<std::string, partition_summary> parts;
  std::vector<std::string> roots;
  const std::pair<const char*, pw_parquet::compression> codecs[] = {{"snappy", pw_parquet::compression::snappy},
                                                                    {"zstd", pw_parquet::compression::zstd},
                                                                    {"uncompressed", pw_parquet::compression::uncompressed}};
  for (const auto& [name, codec] : codecs) {
    std::string stats;
    if (rt.block_on(readback_root(dir + "/" + name, codec, 150'000, parts, stats)) != 0) return 1;
    roots.push_back(std::move(stats));
  }
  std::string json = "{\"roots\":[";
  for (std::size_t i = 0; i < roots.size(); ++i) json += (i ? "," : "") + roots[i];
  json += "],\"partitions\":[";
  bool first = true;
  for (const auto& [key, p] : parts) {
    json += first ? "\n" : ",\n";
    first = false;
    json += "{\"root\":\"" + key.substr(0, key.find('|')) + "\",\"stream\":\"" + p.stream + "\",\"symbol\":\"" + p.symbol +
            "\",\"date\":\"" + p.date + "\",\"rows\":" + std::to_string(p.rows) +
            ",\"true_count\":" + std::to_string(p.true_count) + ",\"columns\":{";
    bool fc = true;
    for (const auto& [name, c] : p.columns) {
      json += (fc ? "\"" : ",\"") + name + "\":{\"sum\":\"" + i128_text(c.sum) + "\",\"min\":\"" + std::to_string(c.min) +
              "\",\"max\":\"" + std::to_string(c.max) + "\"}";
      fc = false;
    }
    json += "},\"samples\":[";
    for (std::size_t i = 0; i < p.samples.size(); ++i) json += (i ? "," : "") + p.samples[i];
    json += "]}";
  }
  json += "]}\n";
  FILE* f = std::fopen((dir + "/expected.json").c_str(), "w");
  if (!f) return 1;
  std::fwrite(json.data(), 1, json.size(), f);
  std::fclose(f);
  std::printf("readback: %zu partitions written under %s\n", parts.size(), dir.c_str());
  return 0;
}

// ---- loop (crash child) -------------------------------------------------------------------
pw::task<int> loop_task(std::string root, std::uint64_t limit) {
  ticks::parquet_sink_options options{
      .root = root, .rows_per_row_group = 500, .max_rows_per_file = 3000, .max_open_partitions = 16, .clock_ms = fixed_clock};
  auto sink = co_await ticks::parquet_sink::open(std::move(options));
  if (!sink) {
    std::fprintf(stderr, "open: %s\n", sink.error().message().c_str());
    co_return 1;
  }
  std::printf("stale_temps_removed %llu\n", static_cast<unsigned long long>(sink->stats().stale_temps_removed));
  std::fflush(stdout);
  tick_source src = tick_source::make(4, 5000.0);
  std::vector<ticks::tick> batch;
  bool announced = false;
  for (std::uint64_t done = 0; limit == 0 || done < limit;) {
    batch.clear();
    g_clock_ms = src.time_of(src.i);
    for (int k = 0; k < 64; ++k, ++done) batch.push_back(src.next());
    if (auto r = co_await sink->write(batch); !r) {
      std::fprintf(stderr, "write: %s\n", r.error().message().c_str());
      co_return 1;
    }
    if (!announced && sink->stats().files_written() > 0) {
      std::printf("committed\n");
      std::fflush(stdout);
      announced = true;
    }
  }
  if (auto r = co_await sink->close(); !r) co_return 1;
  std::printf("closed files=%llu rows=%llu\n", static_cast<unsigned long long>(sink->stats().files_written()),
              static_cast<unsigned long long>(sink->stats().rows_written()));
  co_return 0;
}

// ---- rss ------------------------------------------------------------------------------------
pw::task<int> rss_task(std::string root, std::uint64_t n, std::size_t rows_per_group) {
  ticks::parquet_sink_options options{
      .root = root, .rows_per_row_group = rows_per_group, .max_open_partitions = 12, .clock_ms = fixed_clock};
  auto sink = co_await ticks::parquet_sink::open(std::move(options));
  if (!sink) {
    std::fprintf(stderr, "open: %s\n", sink.error().message().c_str());
    co_return 1;
  }
  tick_source src = tick_source::make(4, static_cast<double>(day_ms) / 2.5e6);
  std::vector<ticks::tick> batch;
  batch.reserve(512);
  const double start = now_s();
  for (std::uint64_t done = 0; done < n;) {
    batch.clear();
    g_clock_ms = src.time_of(src.i);
    for (int k = 0; k < 512 && done < n; ++k, ++done) batch.push_back(src.next());
    if (auto r = co_await sink->write(batch); !r) {
      std::fprintf(stderr, "write: %s\n", r.error().message().c_str());
      co_return 1;
    }
  }
  if (auto r = co_await sink->close(); !r) {
    std::fprintf(stderr, "close: %s\n", r.error().message().c_str());
    co_return 1;
  }
  const auto& st = sink->stats();
  std::printf("{\"ticks\":%llu,\"rows_per_group\":%zu,\"vm_hwm_kb\":%ld,\"files\":%llu,\"bytes\":%llu,\"evictions\":%llu,"
              "\"day_commits\":%llu,\"max_open\":%zu,\"seconds\":%.2f}\n",
              static_cast<unsigned long long>(n), rows_per_group, vm_hwm_kb(), static_cast<unsigned long long>(st.files_written()),
              static_cast<unsigned long long>(st.bytes_written()), static_cast<unsigned long long>(st.evictions),
              static_cast<unsigned long long>(st.day_commits), st.max_open_partitions_seen, now_s() - start);
  co_return st.rows_written() == n ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "readback" && argc == 3) return readback(argv[2]);
  if (mode == "loop" && (argc == 3 || argc == 4)) {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    return rt.block_on(loop_task(argv[2], argc == 4 ? std::strtoull(argv[3], nullptr, 10) : 0));
  }
  if (mode == "rss" && (argc == 4 || argc == 5)) {
    const std::string root = argv[2];
    int rc = 0;
    {
      pw::runtime rt(pw::runtime_options{.workers = 2});
      rc = rt.block_on(rss_task(root, std::strtoull(argv[3], nullptr, 10), argc == 5 ? std::strtoull(argv[4], nullptr, 10) : 65536));
    }
    std::error_code ec;
    std::filesystem::remove_all(root, ec);
    return rc;
  }
  std::fprintf(stderr,
               "usage: %s readback <dir> | loop <root> [ticks] | rss <root> <ticks> [rows_per_group]\n", argv[0]);
  return 2;
}
