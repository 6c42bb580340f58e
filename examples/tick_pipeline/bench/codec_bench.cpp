// Google Benchmark micro-benchmarks of the tick codec's per-message work: decoding each
// message kind as Binance's combined stream sends it, framing a message on the server side, and
// generating one in the feed simulator. Built with -DPOLARWAY_BUILD_BENCHMARKS=ON (the `bench`
// preset): build/bench/examples/tick_pipeline/tick_codec_bench.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "ticks/decoder.hpp"
#include "ticks/feed_generator.hpp"
#include "ticks/ws_connection.hpp"

namespace {

// 4,096 distinct messages of one kind (20 symbols, with pw_ts), each with the decoder's padding
// after it, as the WebSocket connection lends them.
struct corpus {
  std::vector<std::string> messages;
  explicit corpus(ticks::message_kind kind) {
    auto g =
        ticks::feed_generator::create({.symbols = 20, .kind = kind, .combined = true, .with_sent_ns = true}).value();
    for (int i = 0; i < 4096; ++i)
      messages.push_back(std::string(g.next(1'700'000'000'000'000'000 + i * 1'000)) +
                         std::string(ticks::decoder::required_padding, ' '));
  }
  std::string_view at(std::size_t i) const {
    const std::string& m = messages[i % messages.size()];
    return std::string_view(m).substr(0, m.size() - ticks::decoder::required_padding);
  }
};

void decode(benchmark::State& state, ticks::message_kind kind) {
  const corpus c(kind);
  ticks::decoder d({.format = ticks::stream_format::combined});
  std::size_t i = 0;
  for (auto _ : state) {
    auto r = d.decode(c.at(i++), ticks::decoder::required_padding);
    if (!r) {
      state.SkipWithError(r.error().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(decode, trade, ticks::message_kind::trade);
BENCHMARK_CAPTURE(decode, agg_trade, ticks::message_kind::agg_trade);
BENCHMARK_CAPTURE(decode, book_ticker, ticks::message_kind::book_ticker);

// As polarway-ingest decodes: into one reused `decoded`.
void decode_into(benchmark::State& state, ticks::message_kind kind) {
  const corpus c(kind);
  ticks::decoder d({.format = ticks::stream_format::combined});
  ticks::decoded out;
  std::size_t i = 0;
  for (auto _ : state) {
    if (auto r = d.decode_into(c.at(i++), ticks::decoder::required_padding, out); !r) {
      state.SkipWithError(r.error().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK_CAPTURE(decode_into, trade, ticks::message_kind::trade);
BENCHMARK_CAPTURE(decode_into, agg_trade, ticks::message_kind::agg_trade);
BENCHMARK_CAPTURE(decode_into, book_ticker, ticks::message_kind::book_ticker);

void server_send_text(benchmark::State& state) {
  const corpus c(ticks::message_kind::trade);
  auto conn = ticks::ws::connection::create(ticks::ws::role::server).value();
  std::size_t i = 0;
  for (auto _ : state) {
    if (!conn.send_text(c.at(i++))) {
      state.SkipWithError("send_text failed");
      break;
    }
    if (conn.output().size() > (1u << 16)) conn.consume_output(conn.output().size());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(server_send_text);

void generate(benchmark::State& state) {
  auto g = ticks::feed_generator::create({.symbols = 20, .combined = true, .with_sent_ns = true}).value();
  std::int64_t now = 1'700'000'000'000'000'000;
  for (auto _ : state) benchmark::DoNotOptimize(g.next(now++));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(generate);

}  // namespace

BENCHMARK_MAIN();
