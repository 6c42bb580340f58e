// polarway-sink: the bus's consumer side. Reads what polarway-ingest --publish nats:// put on a
// NATS JetStream stream, through a durable pull consumer, and writes it as Parquet under --out
// (the layout of polarway-ingest --out), each row exactly once (bus_sink.hpp). Prints a JSON
// summary (stdout) at exit. Exit status: 0 if every message was read and every row taken is in a
// committed file, 1 otherwise (a bad message, messages the bus no longer held, a sink failure,
// the bus lost), 2 for bad flags.
#include <malloc.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include <polarway/runtime.hpp>

#include "bus_sink.hpp"
#include "committed_origins.hpp"
#include "json_object.hpp"
#include "nats_library.hpp"
#include "parquet_output.hpp"
#include "process_stats.hpp"
#include "runtime_debug.hpp"
#include "signals.hpp"
#include "summary.hpp"

namespace pw = polarway;
namespace app = ticks::app;

namespace {

std::string summary_json(const app::bus_sink_counters& c, const app::bus_sink_report& r, const ticks::parquet_sink& sink,
                         std::uint64_t expected_rows) {
  app::json_object o;
  o.num("messages", c.messages.load())
      .num("redelivered", c.redelivered.load())
      .num("rows_taken", c.rows_taken.load())
      .num("other_partition", c.other_partition.load())
      .num("bad_messages", c.bad_messages.load())
      .num("commits", c.commits.load())
      .num("repositions", c.repositions.load())
      .num("bus_gaps", c.bus_gaps.load())
      .num("duplicate_rows", c.duplicate_rows.load())
      .num("acknowledgements", c.acknowledgements.load())
      .boolean("stopped_by_signal", r.stopped_by_signal);
  if (r.last_bad_message.empty()) o.raw("last_bad_message", "null");
  else o.str("last_bad_message", r.last_bad_message);
  o.raw("parquet", app::parquet_output_json(sink, expected_rows)).num("peak_rss_kib", app::peak_rss_kib()).num("cpu_ms", app::process_cpu_ms());
  return o.done();
}

}  // namespace

int main(int argc, char** argv) {
  auto cfg = app::parse_bus_sink_args(std::span<const char* const>(argv + 1, static_cast<std::size_t>(argc - 1)));
  if (!cfg) {
    if (cfg.error().help) {
      std::fputs(app::bus_sink_usage().c_str(), stdout);
      return 0;
    }
    std::fprintf(stderr, "polarway-sink: %s\n(polarway-sink --help lists the options)\n", cfg.error().message.c_str());
    return 2;
  }
  // Before any thread starts. Each thread (the runtime's workers and blocking pool, nats.c's
  // threads) would otherwise take a malloc arena of its own, each keeping memory it freed, and
  // the sink's peak RSS would grow with the length of the run rather than with what it holds.
  // MALLOC_ARENA_MAX, when set, is the user's choice and stands.
  if (std::getenv("MALLOC_ARENA_MAX") == nullptr) mallopt(M_ARENA_MAX, 1);
  app::stop_signals signals;
  app::task_dump_signal dump_signal;
  pw::runtime rt(pw::runtime_options{.on_stall = app::stall_log("polarway-sink")});
  auto log = [](const std::string& line) { std::fprintf(stderr, "polarway-sink: %s\n", line.c_str()); };
  auto opened = rt.block_on(app::open_parquet_output(cfg->parquet, 64));
  if (!opened) {
    std::fprintf(stderr, "polarway-sink: cannot open the Parquet output: %s\n", opened.error().message().c_str());
    return 1;
  }
  ticks::parquet_sink sink = std::move(*opened);
  // Under the sink's lock, after its sweep of temporaries: only committed files are read.
  auto resume = rt.block_on(app::read_committed_origins(cfg->parquet.dir, cfg->parquet.origin_label));
  if (!resume) {
    std::fprintf(stderr, "polarway-sink: cannot resume from %s: %s\n", cfg->parquet.dir.c_str(), resume.error().c_str());
    return 1;
  }
  if (resume->files != 0)
    std::fprintf(stderr, "polarway-sink: %zu partitions resume after the %llu part files in %s\n",
                 resume->partitions.size(), static_cast<unsigned long long>(resume->files), cfg->parquet.dir.c_str());

  pw::cancellation_token stop;
  std::atomic<bool> by_signal{false};
  auto watcher = rt.spawn(signals.watch(stop, &by_signal));
  auto dumper = rt.spawn(dump_signal.watch(rt, "polarway-sink"));
  const std::uint64_t start_seq = app::resume_sequence(*resume);
  auto connected = rt.block_on(app::jetstream_consumer::connect(cfg->bus, cfg->consumer, start_seq, stop, log));
  if (!connected) {
    std::fprintf(stderr, "polarway-sink: bus: %s\n", connected.error().c_str());
    (void)rt.block_on(sink.close());
    return 1;
  }
  std::fprintf(stderr, "polarway-sink: consuming stream %s from sequence %llu as %s (partition %u/%u) into %s\n",
               cfg->bus.stream.c_str(), static_cast<unsigned long long>(start_seq), cfg->consumer.name.c_str(),
               cfg->partition, cfg->partitions, cfg->parquet.dir.c_str());
  app::bus_sink_counters counters;
  auto ran = rt.block_on(app::run_bus_sink(**connected, sink, *cfg, *resume, stop, counters, log));
  watcher.abort();
  dumper.abort();
  auto closed = rt.block_on(sink.close());
  connected->reset();
  if (auto lib = app::close_nats_library(std::chrono::seconds(5)); !lib) log(lib.error());
  if (!ran) std::fprintf(stderr, "polarway-sink: %s\n", ran.error().c_str());
  const app::bus_sink_report report = ran ? *ran : app::bus_sink_report{};
  const std::uint64_t expected =
      counters.rows_taken.load() - counters.duplicate_rows.load() - sink.stats().rows_already_written();
  const std::string json = summary_json(counters, report, sink, expected);
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
  if (!cfg->json_summary.empty()) {
    if (std::FILE* f = std::fopen(cfg->json_summary.c_str(), "we")) {
      std::fprintf(f, "%s\n", json.c_str());
      std::fclose(f);
    } else {
      std::fprintf(stderr, "polarway-sink: cannot write %s\n", cfg->json_summary.c_str());
    }
  }
  if (!report.last_bad_message.empty()) std::fprintf(stderr, "polarway-sink: last bad message: %s\n", report.last_bad_message.c_str());
  const bool complete = closed && app::parquet_output_complete(sink, expected);
  return ran && complete && counters.bad_messages.load() == 0 && counters.bus_gaps.load() == 0 ? 0 : 1;
}
