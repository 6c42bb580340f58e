// polarway-demo: the whole tick pipeline in one process, over loopback, on one runtime: the feed
// simulator serves N connections flat out (default: 5,000,000 trades over 20 symbols on 4
// connections, with send times for latency), polarway-ingest's engine reads them into the
// counting sink, which passes every batch on to the Parquet sink (files under out/, unless
// --out says elsewhere or --sink count leaves Parquet out), and at the end the two sides are
// compared (ticks and feed_totals must be equal, and every tick must be in a committed file).
// Ctrl-C stops it early and still drains and compares what was received. --metrics ADDR serves
// both sides' Prometheus families on one page (and GET /debug/tasks) while it runs.
//
// The output directory starts empty: what an earlier run left there (the sink's part files and
// directories, nothing else) is removed once the sink holds the directory's lock, and a
// directory holding anything else is refused (status 2), so a mistyped --out deletes nothing.
// That keeps the read-back (scripts/demo.sh, after this program: DuckDB reads every part file
// and compares the sums with the JSON summary's feed_sent) about this run only.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <span>

#include <polarway/runtime.hpp>

#include "counting_sink.hpp"
#include "feed_metrics.hpp"
#include "feed_server.hpp"
#include "ingest.hpp"
#include "ingest_metrics.hpp"
#include "metrics_endpoint.hpp"
#include "parquet_output.hpp"
#include "parquet_tick_sink.hpp"
#include "previous_output.hpp"
#include "prometheus_text.hpp"
#include "runtime_debug.hpp"
#include "runtime_prometheus.hpp"
#include "signals.hpp"
#include "summary.hpp"

namespace pw = polarway;
namespace app = ticks::app;

namespace {

struct demo_config {
  std::uint64_t ticks = 5'000'000;
  std::size_t symbols = 20;
  std::uint64_t connections = 4;
  ticks::message_kind kind = ticks::message_kind::trade;
  std::uint64_t rate = 0;
  std::size_t channel_capacity = 8192;
  std::uint64_t sink_delay_us = 0;
  bool with_send_time = true;
  bool quiet = false;
  std::string json_summary;
  std::string metrics_listen;      // --metrics: none by default
  bool parquet = true;             // false: --sink count / --no-parquet
  app::parquet_output_config out;  // dir "out" unless --out says otherwise (parse())
};

// Twice the symbols: one partition per symbol, and during a UTC day change (each connection
// crosses it at its own moment) one per symbol and day, since a connection still on the day
// before opens another part of it after the sink committed that day's file for the first
// connection to cross. Fewer than the partitions interleaving
// would make the sink's LRU commit a file for nearly every tick. Bounded by half the descriptor
// limit, since each open file holds one.
std::size_t default_max_open_files(std::size_t symbols) {
  std::size_t limit = 10'000;
  rlimit nofile{};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur != RLIM_INFINITY)
    limit = std::min<std::size_t>(limit, static_cast<std::size_t>(nofile.rlim_cur / 2));
  return std::clamp<std::size_t>(2 * symbols, 16, std::max<std::size_t>(limit, 16));
}

std::string usage() {
  return "usage: polarway-demo [options]   (feed simulator + ingest in one process, over loopback)\n"
         "  --ticks N             total messages (default 5000000)\n"
         "  --symbols N           symbols (default 20)\n"
         "  --connections N       WebSocket connections (default 4); each carries ticks/connections\n"
         "  --kind K              trade | aggTrade | bookTicker (default trade)\n"
         "  --rate N[/s]          the feed's market rate: each connection receives N/s of the same\n"
         "                        market (later ones join it in progress); 0 = flat out (default 0)\n"
         "  --channel-capacity N  (default 8192)\n"
         "  --sink-delay-us N     slow sink, microseconds per tick (default 0)\n"
         "  --no-send-time        do not stamp messages (no latency figures)\n"
         "  --json-summary FILE   also write the ingest summary here\n"
         "  --metrics ADDR        serve GET /metrics (Prometheus text format: the runtime, the\n"
         "                        ingest's and the feed's families) and GET /debug/tasks on ADDR\n"
         "                        while the demo runs (e.g. 127.0.0.1:9464; port 0: any free port)\n"
         "  --quiet               no live line\n"
         "  --out DIR             write the ticks as Parquet under DIR (default out); part files\n"
         "                        of an earlier run in DIR are removed first, and a DIR holding\n"
         "                        anything else is refused\n" +
         app::parquet_flags_usage(24, "twice --symbols") +
         "  --sink count          only count the ticks, write no Parquet (also: --no-parquet);\n"
         "                        --sink parquet is the default\n";
}

pw::result<demo_config, app::cli_error> parse(std::span<const char* const> args) {
  demo_config c;
  c.out.dir = "out";
  app::arg_reader r(args);
  for (;;) {
    auto f = r.next_flag();
    if (!f) return pw::err(f.error());
    if (!*f) break;
    const std::string_view flag = **f;
    const auto num = [&](std::uint64_t lo, std::uint64_t hi) -> pw::result<std::uint64_t, app::cli_error> {
      auto v = r.value();
      if (!v) return pw::err(v.error());
      return app::parse_uint(flag, *v, lo, hi);
    };
    pw::result<std::uint64_t, app::cli_error> n = 0;
    if (flag == "--ticks") {
      if ((n = num(1, std::uint64_t{1} << 40))) c.ticks = *n;
    } else if (flag == "--symbols") {
      if ((n = num(1, ticks::feed_generator::max_symbols))) c.symbols = *n;
    } else if (flag == "--connections") {
      if ((n = num(1, 1000))) c.connections = *n;
    } else if (flag == "--channel-capacity") {
      if ((n = num(1, 1u << 24))) c.channel_capacity = *n;
    } else if (flag == "--sink-delay-us") {
      if ((n = num(0, 10'000'000))) c.sink_delay_us = *n;
    } else if (flag == "--rate") {
      auto v = r.value();
      if (!v) return pw::err(v.error());
      if ((n = app::parse_rate(flag, *v))) c.rate = *n;
    } else if (flag == "--kind") {
      auto v = r.value();
      if (!v) return pw::err(v.error());
      auto k = ticks::parse_message_kind(*v);
      if (!k) return pw::err(app::cli_error{"--kind: '" + std::string(*v) + "' is not trade, aggTrade or bookTicker"});
      c.kind = *k;
    } else if (flag == "--json-summary") {
      auto v = r.value();
      if (!v) return pw::err(v.error());
      c.json_summary = std::string(*v);
    } else if (flag == "--metrics") {
      if (auto a = r.address_into(c.metrics_listen, "127.0.0.1:9464"); !a) return pw::err(a.error());
    } else if (flag == "--no-send-time") {
      if (auto nv = r.no_value(); !nv) return pw::err(nv.error());
      c.with_send_time = false;
    } else if (flag == "--quiet") {
      if (auto nv = r.no_value(); !nv) return pw::err(nv.error());
      c.quiet = true;
    } else if (flag == "--sink") {
      auto v = r.value();
      if (!v) return pw::err(v.error());
      if (*v != "count" && *v != "parquet")
        return pw::err(app::cli_error{"--sink: '" + std::string(*v) + "' is not count or parquet"});
      c.parquet = *v == "parquet";
    } else if (flag == "--no-parquet") {
      if (auto nv = r.no_value(); !nv) return pw::err(nv.error());
      c.parquet = false;
    } else if (auto p = app::parse_parquet_flag(flag, r, c.out); !p) {
      return pw::err(p.error());
    } else if (!*p) {
      return pw::err(app::unknown_flag(flag));
    }
    if (!n) return pw::err(n.error());
  }
  if (c.ticks < c.connections) return pw::err(app::cli_error{"--ticks: fewer than --connections"});
  if (!c.parquet && !c.out.first_flag.empty())
    return pw::err(
        app::cli_error{c.out.first_flag + ": means Parquet output, which --sink count / --no-parquet turn off"});
  return c;
}

struct outcome {
  app::ingest_report report;
  ticks::feed_totals sent;
  std::uint64_t per_connection = 0;
};

// What --metrics serves: one page with both sides of the pipeline.
std::string demo_metrics_page(const pw::runtime_metrics& runtime, const app::ingest_metrics_sources& ingest,
                              const app::feed_counters& feed) {
  app::prometheus_text out;
  app::append_runtime_metrics(out, runtime);
  app::append_ingest_metrics(out, ingest);
  app::append_feed_metrics(out, feed);
  app::append_process_metrics(out);
  return out.text();
}

pw::task<pw::result<outcome, std::string>> run_demo(pw::runtime& rt, const demo_config& d, app::counting_sink& sink,
                                                    const app::parquet_tick_sink* parquet,
                                                    app::stream_tick_counts* per_stream,
                                                    pw::option<app::ingest_engine>& engine_slot,
                                                    pw::cancellation_token stop) {
  app::feed_config fc;
  fc.listen = "127.0.0.1:0";
  fc.symbols = d.symbols;
  fc.kind = d.kind;
  fc.rate = d.rate;
  fc.count = d.ticks / d.connections;
  fc.with_send_time = d.with_send_time;
  fc.quiet = true;
  auto feed = app::feed_server::create(fc);
  if (!feed) co_return pw::err(feed.error());
  pw::cancellation_token feed_stop;
  auto feed_task = pw::spawn((*feed)->run(feed_stop));

  auto names = ticks::feed_generator::create(ticks::feed_options{.symbols = d.symbols, .kind = d.kind, .combined = true});
  const std::string url = "ws://" + (*feed)->local_addr().to_string() + names->target();
  app::ingest_config ic;
  for (std::uint64_t i = 0; i < d.connections; ++i) ic.connect.push_back(app::ws_url::parse(url).value());
  ic.once = true;
  ic.channel_capacity = d.channel_capacity;
  ic.sink_delay_us = d.sink_delay_us;
  ic.quiet = d.quiet;
  std::fprintf(stderr, "polarway-demo: %llu %s messages over %zu symbols, %llu connections to %s%s\n",
               static_cast<unsigned long long>(fc.count * d.connections), std::string(to_string(d.kind)).c_str(), d.symbols,
               static_cast<unsigned long long>(d.connections), url.substr(0, 60).c_str(), url.size() > 60 ? "..." : "");
  engine_slot.emplace(ic, sink, per_stream);
  std::unique_ptr<app::metrics_server> metrics;
  if (!d.metrics_listen.empty()) {
    const app::ingest_metrics_sources sources{&engine_slot->counters(), &sink, parquet, per_stream, &*engine_slot};
    const app::feed_counters& fed = (*feed)->counters();
    auto started = app::metrics_server::start(
        "polarway-demo", d.metrics_listen,
        app::runtime_pages(rt, [&rt, sources, &fed] { return demo_metrics_page(rt.metrics(), sources, fed); }, false));
    if (!started) {
      feed_stop.cancel();
      (void)co_await feed_task;
      co_return pw::err(started.error());
    }
    metrics = std::move(*started);
  }
  outcome o;
  o.report = co_await engine_slot->run(stop);
  if (metrics) co_await metrics->stop();
  feed_stop.cancel();
  (void)co_await feed_task;
  o.sent = (*feed)->totals();
  o.per_connection = fc.count;
  co_return o;
}

}  // namespace

int main(int argc, char** argv) {
  auto cfg = parse(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!cfg) {
    if (cfg.error().help) {
      std::fputs(usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "polarway-demo: %s\n(polarway-demo --help lists the options)\n", cfg.error().message.c_str());
    return 2;
  }
  // Checked before anything starts, so a directory we would refuse gets no lock file either.
  pw::option<app::previous_output> previous;
  if (cfg->parquet) {
    auto scan = app::scan_previous_output(cfg->out.dir);
    if (!scan) {
      std::fprintf(stderr, "polarway-demo: --out: %s\n", scan.error().c_str());
      return 2;
    }
    previous = std::move(*scan);
  }
  app::stop_signals signals;
  pw::runtime rt;
  pw::option<app::parquet_tick_sink> parquet;
  if (cfg->parquet) {
    auto opened = rt.block_on(app::open_parquet_output(cfg->out, default_max_open_files(cfg->symbols)));
    if (!opened) {
      std::fprintf(stderr, "polarway-demo: cannot open the Parquet output: %s\n", opened.error().message().c_str());
      return 1;
    }
    parquet.emplace(std::move(*opened));
    // Under the sink's lock: no other sink is writing there.
    if (auto removed = app::remove_previous_output(*previous); !removed) {
      std::fprintf(stderr, "polarway-demo: cannot clear %s: %s\n", cfg->out.dir.c_str(), removed.error().c_str());
      return 1;
    }
    if (previous->part_files != 0)
      std::fprintf(stderr, "polarway-demo: removed %llu part files of an earlier run from %s\n",
                   static_cast<unsigned long long>(previous->part_files), cfg->out.dir.c_str());
    std::fprintf(stderr, "polarway-demo: writing Parquet (%s) under %s\n",
                 pw_parquet::to_string(parquet->sink().options().codec), cfg->out.dir.c_str());
  }
  // Per-stream counts cost a table lookup per tick on each side: kept only for a /metrics page.
  app::stream_tick_counts streams;
  app::stream_tick_counts* const per_stream = cfg->metrics_listen.empty() ? nullptr : &streams;
  app::counting_sink sink(cfg->sink_delay_us, parquet ? &*parquet : nullptr, per_stream);
  pw::option<app::ingest_engine> engine;
  pw::cancellation_token stop;
  std::atomic<bool> by_signal{false};
  pw::result<outcome, std::string> result = pw::err(std::string("not run"));
  {
    auto watcher = rt.spawn(signals.watch(stop, &by_signal));
    result = rt.block_on(run_demo(rt, *cfg, sink, parquet ? &*parquet : nullptr, per_stream, engine, stop));
    watcher.abort();  // a signal from here on is ignored: the run is over
  }
  // Commits whatever is still open (nothing, after the pipeline's flush, unless it failed) and
  // releases the directory's lock; a failure stays in failure() for the summary.
  if (parquet) (void)rt.block_on(parquet->sink().close());
  if (!result) {
    std::fprintf(stderr, "polarway-demo: %s\n", result.error().c_str());
    return 1;
  }
  result->report.stopped_by_signal = by_signal.load();
  app::summary_extras extras;
  extras.feed_sent = &result->sent;
  if (parquet) extras.parquet = &parquet->sink();
  const std::string json = app::ingest_summary_json(engine->counters(), result->report, sink, extras);
  std::printf("%s\n", json.c_str());
  if (!cfg->json_summary.empty()) {
    if (std::FILE* f = std::fopen(cfg->json_summary.c_str(), "we")) {
      std::fprintf(f, "%s\n", json.c_str());
      std::fclose(f);
    }
  }
  std::fputs(app::ingest_summary_text(engine->counters(), result->report, sink, extras).c_str(), stderr);
  const bool totals_match = sink.totals() == result->sent;
  std::fprintf(stderr, "feed sent %llu ticks; sink totals %s the feed's (count, price sum, quantity sum)\n",
               static_cast<unsigned long long>(result->sent.count), totals_match ? "EQUAL" : "DIFFER FROM");
  const bool written = !parquet || app::parquet_output_complete(parquet->sink(), result->report.ticks_out);
  const bool ok = totals_match && written && result->report.ticks_in == result->report.ticks_out &&
                  !result->report.sink_error;
  return ok ? 0 : 1;
}
