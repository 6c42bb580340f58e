// Writes the seed corpus of tick_fuzz_arrow_ipc_reader: small streams as the writer makes them,
// one file each. For every kind: "_one", one row; "_batches", three rows (nulls, a bookTicker
// without event time, decimal extremes), a heartbeat batch of none, ten rows; "_schema_only", a
// schema without polarway.kind and no batch; "_zstd", zstd-compressed batches of three rows
// (buffers too small to shrink, kept as they are), none and 200. And "refused", a schema
// without fields. Re-run it only to change the seeds
// (tick_arrow_ipc_corpus examples/tick_pipeline/fuzz/corpus_arrow_ipc_reader); the files it
// writes are committed.
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "ticks/arrow_ipc.hpp"

namespace {

namespace ipc = ticks::arrow_ipc;
using ticks::message_kind;

// Row i of a kind: sent_time null on odd rows, no bookTicker event time on row 1, the decimal
// extremes on rows 0 and 1.
ticks::tick seed_row(message_kind k, std::int64_t i) {
  const auto sym = ticks::symbol::parse(i % 2 == 0 ? "BTCUSDT" : "ETH2").value();
  const std::int64_t ms = 1'700'000'000'000 + i;
  polarway::option<std::int64_t> sent;
  if (i % 2 == 0) sent = ms * 1'000'000;
  std::int64_t raw = 2'500'000'000'000 + i;
  if (i < 2) raw = i == 0 ? ipc::max_decimal_raw : -ipc::max_decimal_raw;
  const auto p = ticks::price::from_raw(raw);
  const auto q = ticks::price::from_raw(1 + i);
  if (k == message_kind::trade) return ticks::trade{sym, ms, 100 + i, p, q, ms - 1, i % 2 == 0, sent};
  if (k == message_kind::agg_trade)
    return ticks::agg_trade{sym, ms, 500 + i, p, q, 10 * i, 10 * i + 3, ms - 2, i % 2 == 1, sent};
  polarway::option<std::int64_t> event;
  if (i != 1) event = ms;
  return ticks::book_ticker{sym, 900 + i, p, q, ticks::price::from_raw(-raw), q, event, sent};
}

// A stream of `kind` whose batches have the given numbers of rows (-1: a heartbeat batch).
std::vector<std::byte> seed(message_kind kind, bool announce, std::initializer_list<int> batches,
                            ipc::body_compression compression = ipc::body_compression::none) {
  std::vector<std::byte> out;
  const ipc::key_value announced[] = {{"polarway.kind", ticks::to_string(kind)}};
  ipc::append_schema(out, kind,
                     announce ? std::span<const ipc::key_value>(announced) : std::span<const ipc::key_value>());
  ipc::batch_builder b(kind, compression);
  std::int64_t next = 0;
  const ipc::key_value heartbeat[] = {{"polarway.heartbeat", "1700000000000000000"}};
  for (int rows : batches) {
    for (int r = 0; r < rows; ++r, ++next)
      if (!b.add(seed_row(kind, next), 1'700'000'000'123'456'789 + next)) return {};
    b.append(out, rows < 0 ? std::span<const ipc::key_value>(heartbeat) : std::span<const ipc::key_value>());
  }
  ipc::append_end_of_stream(out);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: tick_arrow_ipc_corpus DIR\n");
    return 2;
  }
  std::vector<std::pair<std::string, std::vector<std::byte>>> seeds;
  for (message_kind k : {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker}) {
    const std::string name = k == message_kind::trade       ? "trade"
                             : k == message_kind::agg_trade ? "agg_trade"
                                                            : "book_ticker";
    seeds.emplace_back(name + "_one", seed(k, true, {1}));
    seeds.emplace_back(name + "_batches", seed(k, true, {3, -1, 10}));
    seeds.emplace_back(name + "_schema_only", seed(k, false, {}));
    seeds.emplace_back(name + "_zstd", seed(k, true, {3, -1, 200}, ipc::body_compression::zstd));
  }
  std::vector<std::byte> refused;
  const ipc::key_value why[] = {{"polarway.error", "unknown kind depth"}};
  ipc::append_empty_schema(refused, why);
  ipc::append_end_of_stream(refused);
  seeds.emplace_back("refused", std::move(refused));

  for (const auto& [name, bytes] : seeds) {
    const std::string path = std::string(argv[1]) + "/" + name;
    if (bytes.empty()) {
      std::fprintf(stderr, "%s: a row does not fit decimal128(18, 8)\n", name.c_str());
      return 1;
    }
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!f.flush()) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      return 1;
    }
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), argv[1]);
  return 0;
}
