// polarway-ingest: reads Binance-format WebSocket feeds (as a client with reconnect, and/or as a
// server with --listen), decodes them and pushes the ticks through a bounded channel into the
// counting sink, which passes each batch on to the --publish stages (subscribers, the NATS
// bus) and with --out DIR to the Parquet sink; prints live stats and, at exit, a JSON summary
// (stdout) and a short text one (stderr). Exit status:
// 0 if every tick received was written (with --out: is in a committed Parquet file; with
// --backfill: plus those backfilled, minus duplicates, and no gap left unfilled unless
// --allow-gaps; with --publish nats://, plus every message acknowledged by the bus), 1 otherwise
// or on a sink or bind failure, 2 for bad flags.
#include <atomic>
#include <cstdio>
#include <span>
#include <string>

#include <polarway/runtime.hpp>

#include "bus_resume.hpp"
#include "counting_sink.hpp"
#include "ingest.hpp"
#include "ingest_metrics.hpp"
#include "jetstream_publisher.hpp"
#include "jetstream_sink.hpp"
#include "metrics_endpoint.hpp"
#include "nats_library.hpp"
#include "parquet_output.hpp"
#include "parquet_tick_sink.hpp"
#include "runtime_debug.hpp"
#include "signals.hpp"
#include "summary.hpp"
#include "tick_publisher.hpp"

namespace pw = polarway;
namespace app = ticks::app;

int main(int argc, char** argv) {
  auto cfg = app::parse_ingest_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!cfg) {
    if (cfg.error().help) {
      std::fputs(app::ingest_usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "polarway-ingest: %s\n(polarway-ingest --help lists the options)\n", cfg.error().message.c_str());
    return 2;
  }
  if (auto tls = app::load_ingest_tls(*cfg); !tls) {
    std::fprintf(stderr, "polarway-ingest: %s\n", tls.error().c_str());
    return 2;
  }
  app::stop_signals signals;
  app::task_dump_signal dump_signal;
  pw::runtime rt(pw::runtime_options{.workers = static_cast<std::size_t>(cfg->workers),
                                     .busy_poll = std::chrono::microseconds(cfg->busy_poll_us),
                                     .on_stall = app::stall_log("polarway-ingest"),
                                     .flight_recorder = static_cast<std::size_t>(cfg->flight_recorder)});
  pw::option<app::parquet_tick_sink> parquet;
  if (!cfg->parquet.dir.empty()) {
    auto opened = rt.block_on(app::open_parquet_output(cfg->parquet, app::ingest_default_max_open_files));
    if (!opened) {
      std::fprintf(stderr, "polarway-ingest: cannot open the Parquet output: %s\n", opened.error().message().c_str());
      return 1;
    }
    parquet.emplace(std::move(*opened));
    if (cfg->backfill) {
      // Under the sink's lock, after its sweep of temporaries: only committed files are read.
      auto resume = rt.block_on(app::read_committed_ids(cfg->parquet.dir));
      if (!resume) {
        std::fprintf(stderr, "polarway-ingest: cannot resume from the Parquet output: %s\n", resume.error().c_str());
        return 1;
      }
      cfg->resume = std::move(*resume);
      if (const std::uint64_t missing = cfg->resume.ids_missing; !cfg->resume.streams.empty()) {
        std::fprintf(stderr, "polarway-ingest: %zu streams resume after the last id of %llu part files in %s%s\n",
                     cfg->resume.streams.size(), static_cast<unsigned long long>(cfg->resume.files),
                     cfg->parquet.dir.c_str(),
                     missing ? (" (" + std::to_string(missing) + " ids are missing inside them and are not refetched)").c_str()
                             : "");
      }
    }
  }
  // Per-stream counts cost a table lookup per tick on each side: kept only for a /metrics page.
  app::stream_tick_counts streams;
  app::stream_tick_counts* const per_stream = cfg->metrics_listen.empty() ? nullptr : &streams;
  // --publish: bound before the run, so that a subscriber may connect before the first tick.
  std::unique_ptr<app::tick_publisher> publisher;
  if (!cfg->publish.address.empty()) {
    auto bound = rt.block_on([](app::publish_options o) -> pw::task<pw::result<std::unique_ptr<app::tick_publisher>, std::string>> {
      co_return app::tick_publisher::bind(std::move(o));
    }(cfg->publish));
    if (!bound) {
      std::fprintf(stderr, "polarway-ingest: %s\n", bound.error().c_str());
      return 1;
    }
    publisher = std::move(*bound);
    std::fprintf(stderr, "polarway-ingest: publishing on %s\n", publisher->address().c_str());
  }
  pw::cancellation_token stop;
  std::atomic<bool> by_signal{false};
  auto watcher = rt.spawn(signals.watch(stop, &by_signal));
  // --publish nats://: connected, and the stream checked, before the run; an unreachable bus is
  // retried (each failure logged) until it answers or a signal stops the program.
  std::unique_ptr<app::jetstream_publisher> bus;
  if (!cfg->bus.servers.empty()) {
    auto log = [](const std::string& line) { std::fprintf(stderr, "polarway-ingest: %s\n", line.c_str()); };
    // --nats-compression zstd: what is merged (the rows that waited behind a subject's message)
    // goes out as one compressed batch; a message sent at once, alone, stays as it was written.
    app::jetstream_publisher::compact_fn compact;
    if (cfg->bus_compression != ticks::arrow_ipc::body_compression::none)
      compact = [c = cfg->bus_compression](std::vector<std::byte>& payload) { app::compact_tick_message(payload, c); };
    auto connected =
        rt.block_on(app::jetstream_publisher::connect(cfg->bus, stop, log, app::merge_tick_messages, std::move(compact)));
    if (!connected) {
      std::fprintf(stderr, "polarway-ingest: bus: %s\n", connected.error().c_str());
      return 1;
    }
    bus = std::move(*connected);
    std::fprintf(stderr, "polarway-ingest: publishing to stream %s on %s as %s\n", cfg->bus.stream.c_str(),
                 cfg->bus.servers.c_str(), cfg->bus_source.c_str());
    if (cfg->backfill) {
      auto positions = rt.block_on(app::read_bus_positions(*bus, cfg->bus_source, stop));
      if (!positions) {
        std::fprintf(stderr, "polarway-ingest: cannot resume from the bus: %s\n", positions.error().c_str());
        return 1;
      }
      cfg->resume.streams = std::move(positions->streams);
      std::fprintf(stderr,
                   "polarway-ingest: %zu streams resume after the last id the bus holds from %s (%llu subjects read, "
                   "%llu left to other sources)\n",
                   cfg->resume.streams.size(), cfg->bus_source.c_str(), static_cast<unsigned long long>(positions->subjects),
                   static_cast<unsigned long long>(positions->other_sources));
    }
  }
  // The sink chain: counting, then publishing (--publish unix:/tcp:), then the bus (--publish
  // nats://), then the Parquet sink (--out).
  app::tick_sink* const parquet_stage = parquet ? static_cast<app::tick_sink*>(&*parquet) : nullptr;
  pw::option<app::jetstream_sink> bus_stage;
  if (bus) bus_stage.emplace(*bus, cfg->bus_source, app::bus_drain_timeout, parquet_stage);
  app::tick_sink* const after_feed = bus_stage ? static_cast<app::tick_sink*>(&*bus_stage) : parquet_stage;
  pw::option<app::publishing_sink> publishing;
  if (publisher) publishing.emplace(*publisher, after_feed);
  app::counting_sink sink(cfg->sink_delay_us, publishing ? static_cast<app::tick_sink*>(&*publishing) : after_feed,
                          per_stream);
  app::ingest_engine engine(*cfg, sink, per_stream);
  pw::option<app::ingest_report> report;
  {
    auto dumper = rt.spawn(dump_signal.watch(rt, "polarway-ingest"));
    const app::ingest_metrics_sources sources{&engine.counters(), &sink, parquet ? &*parquet : nullptr, per_stream, &engine,
                                              publisher ? &publisher->counters() : nullptr};
    report = rt.block_on([](pw::runtime& rt, app::ingest_engine& engine, app::ingest_metrics_sources sources,
                            pw::cancellation_token stop,
                            app::tick_publisher* publisher) -> pw::task<pw::option<app::ingest_report>> {
      auto bound = engine.bind();
      if (!bound) {
        std::fprintf(stderr, "polarway-ingest: cannot listen on %s: %s\n", engine.config().listen.c_str(),
                     bound.error().message().c_str());
        co_return pw::none;
      }
      if (*bound) std::fprintf(stderr, "polarway-ingest: listening on %s\n", (*bound)->to_string().c_str());
      // --metrics: served for as long as the run lasts, on a listener of its own.
      std::unique_ptr<app::metrics_server> metrics;
      if (const std::string& at = engine.config().metrics_listen; !at.empty()) {
        auto started = app::metrics_server::start(
            "polarway-ingest", at,
            app::runtime_pages(rt, [&rt, sources] { return app::ingest_metrics_page(rt.metrics(), sources); },
                               engine.config().flight_recorder != 0));
        if (!started) {
          std::fprintf(stderr, "polarway-ingest: %s\n", started.error().c_str());
          co_return pw::none;
        }
        metrics = std::move(*started);
      }
      pw::option<pw::join_handle<void>> publishing;
      if (publisher) publishing.emplace(pw::spawn(publisher->run()));
      if (const std::size_t n = engine.config().publish.wait_for; n != 0) {
        std::fprintf(stderr, "polarway-ingest: waiting for %zu subscribers\n", n);
        (void)co_await publisher->wait_for_subscribers(n, stop);
      }
      auto running = engine.run(stop);
      auto report = co_await std::move(running);
      // Every tick is published by now: subscribers get the rest of their queues, then the end.
      if (publisher) {
        co_await publisher->shutdown();
        (void)co_await std::move(*publishing);
      }
      if (metrics) co_await metrics->stop();
      co_return report;
    }(rt, engine, sources, stop, publisher.get()));
    watcher.abort();  // a signal from here on is ignored: the run is over
    dumper.abort();
  }
  // Commits whatever is still open (nothing, after the pipeline's flush, unless it failed) and
  // releases the directory's lock; a failure stays in failure() for the summary.
  if (parquet) (void)rt.block_on(parquet->sink().close());
  if (!report) return 1;
  report->stopped_by_signal = by_signal.load();
  app::summary_extras extras;
  if (parquet) extras.parquet = &parquet->sink();
  if (publisher) extras.published = &publisher->counters();
  if (bus_stage) extras.bus = &*bus_stage;
  const std::string json = app::ingest_summary_json(engine.counters(), *report, sink, extras);
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  if (!cfg->json_summary.empty()) {
    if (std::FILE* f = std::fopen(cfg->json_summary.c_str(), "we")) {
      std::fprintf(f, "%s\n", json.c_str());
      std::fclose(f);
    } else {
      std::fprintf(stderr, "polarway-ingest: cannot write %s\n", cfg->json_summary.c_str());
    }
  }
  std::fputs(app::ingest_summary_text(engine.counters(), *report, sink, extras).c_str(), stderr);
  const bool written = !parquet || app::parquet_output_complete(parquet->sink(), report->ticks_out);
  bool bus_complete = true;
  if (bus_stage) {
    if (!bus_stage->failure().empty()) std::fprintf(stderr, "polarway-ingest: bus: %s\n", bus_stage->failure().c_str());
    bus_complete = bus_stage->failure().empty() && bus_stage->unrepresentable() == 0;
    bus_stage.reset();
    bus.reset();
    if (auto closed = app::close_nats_library(std::chrono::seconds(5)); !closed)
      std::fprintf(stderr, "polarway-ingest: %s\n", closed.error().c_str());
  }
  const bool gaps_ok = cfg->allow_gaps || engine.counters().backfill.gaps_unfilled.load() == 0;
  return app::expected_ticks_out(engine.counters(), *report) == report->ticks_out && !report->sink_error && written &&
                 gaps_ok && bus_complete
             ? 0
             : 1;
}
