// Google Benchmark: what one /metrics scrape of polarway-ingest costs the worker that serves
// it: a runtime_metrics snapshot of a running 2-worker runtime and the whole page built from
// it and the pipeline's counters, the text a scrape gets. (The latency buckets are read the same
// way whatever they hold, so the sink's histogram is left empty.) Built with -DPOLARWAY_BUILD_BENCHMARKS=ON (the `bench`
// preset): build/bench/examples/tick_pipeline/tick_metrics_page_bench.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include <polarway/runtime.hpp>

#include "counting_sink.hpp"
#include "ingest.hpp"
#include "ingest_metrics.hpp"

namespace {

void metrics_page(benchmark::State& state) {
  polarway::runtime rt(polarway::runtime_options{.workers = 2});
  ticks::app::ingest_counters c;
  c.ticks_in.store(123'456'789);
  c.reconnects.store(17);
  ticks::app::counting_sink sink;
  const ticks::app::ingest_metrics_sources sources{&c, &sink, nullptr};
  std::size_t bytes = 0;
  for (auto _ : state) {
    const std::string page = ticks::app::ingest_metrics_page(rt.metrics(), sources);
    bytes = page.size();
    benchmark::DoNotOptimize(page.data());
  }
  state.counters["page_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(metrics_page)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
