// Writes Arrow IPC streams of known ticks for the independent readers (arrow_ipc_verify.py,
// arrow_ipc_verify.mjs) to check value for value: DIR/trade.arrows, agg_trade.arrows and
// book_ticker.arrows (three batches each: two rows, none with a heartbeat's metadata, 1000
// rows; nulls and negatives among them), the same three with zstd-compressed bodies
// (KIND.zstd.arrows), and refused.arrows (a refusal: no fields).
#include <cstdio>
#include <string>
#include <vector>

#include "ticks/arrow_ipc.hpp"

namespace {

namespace ipc = ticks::arrow_ipc;

ticks::symbol sym(const char* s) { return ticks::symbol::parse(s).value(); }
ticks::price px(std::int64_t raw) { return ticks::price::from_raw(raw); }

// Row i of a kind: every value derived from i, so the readers can recompute it.
ticks::tick row(ticks::message_kind k, std::int64_t i) {
  const ticks::symbol s = sym(i % 3 == 0 ? "BTCUSDT" : i % 3 == 1 ? "ETHUSDT" : "A");
  const std::int64_t t = 1'700'000'000'000 + i;
  const polarway::option<std::int64_t> sent = i % 4 == 3 ? polarway::option<std::int64_t>() : polarway::option<std::int64_t>(t * 1'000'000 + 7);
  // Extremes of decimal128(18, 8) at rows 0 and 1, negatives at row 2.
  const std::int64_t p = i == 0 ? ipc::max_decimal_raw : i == 1 ? -ipc::max_decimal_raw : i == 2 ? -1 : 2'500'000'000'000 + i;
  const std::int64_t q = i == 2 ? -123'456'789 : 1 + i * 997;
  switch (k) {
    case ticks::message_kind::trade:
      return ticks::trade{s, t, 1000 + i, px(p), px(q), t - 1, i % 2 == 0, sent};
    case ticks::message_kind::agg_trade:
      return ticks::agg_trade{s, t, 5000 + i, px(p), px(q), 10 * i, 10 * i + 9, t - 2, i % 2 == 1, sent};
    case ticks::message_kind::book_ticker: {
      const polarway::option<std::int64_t> e = i % 5 == 4 ? polarway::option<std::int64_t>() : polarway::option<std::int64_t>(t);
      return ticks::book_ticker{s, 9000 + i, px(p), px(q), px(-p), px(q + 2), e, sent};
    }
  }
  return {};
}

bool write_file(const std::string& path, const std::vector<std::byte>& bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wbe");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: arrow_ipc_sample DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  // recv_time of row i: this base plus i; a bookTicker without "E" takes its millisecond.
  constexpr std::int64_t recv_base = 1'700'000'123'456'789'000;
  const std::pair<ticks::message_kind, const char*> kinds[] = {{ticks::message_kind::trade, "trade"},
                                                              {ticks::message_kind::agg_trade, "agg_trade"},
                                                              {ticks::message_kind::book_ticker, "book_ticker"}};
  for (const auto& [kind, base] : kinds) {
    for (const ipc::body_compression compression : {ipc::body_compression::none, ipc::body_compression::zstd}) {
      const std::string name = std::string(base) + (compression == ipc::body_compression::zstd ? ".zstd" : "");
      std::vector<std::byte> out;
      const ipc::key_value schema_meta[] = {{"polarway.kind", ticks::to_string(kind)}};
      ipc::append_schema(out, kind, schema_meta);
      ipc::batch_builder b(kind, compression);
      std::int64_t i = 0;
      for (; i < 2; ++i)
        if (!b.add(row(kind, i), recv_base + i)) return 1;
      b.append(out);
      const ipc::key_value heartbeat[] = {{"polarway.heartbeat", "1700000000000000000"}};
      b.append(out, heartbeat);
      for (; i < 1002; ++i)
        if (!b.add(row(kind, i), recv_base + i)) return 1;
      b.append(out);
      // Beyond 18 digits: refused, and the builder unchanged (the closing batch below has no rows).
      ticks::tick too_big = row(kind, 5);
      std::visit(
          [](auto& v) {
            if constexpr (requires { v.price; }) {
              v.price = px(ipc::max_decimal_raw + 1);
            } else {
              v.bid_price = px(ipc::max_decimal_raw + 1);
            }
          },
          too_big);
      if (b.add(too_big, 0)) {
        std::fprintf(stderr, "a price beyond 18 digits was accepted\n");
        return 1;
      }
      const ipc::key_value closed[] = {{"polarway.closed", "ingest stopped"}};
      b.append(out, closed);
      ipc::append_end_of_stream(out);
      if (!write_file(dir + "/" + name + ".arrows", out)) {
        std::fprintf(stderr, "cannot write %s/%s.arrows\n", dir.c_str(), name.c_str());
        return 1;
      }
    }
  }
  std::vector<std::byte> refused;
  const ipc::key_value why[] = {{"polarway.error", "unknown kind depth (trade, aggTrade or bookTicker)"}};
  ipc::append_empty_schema(refused, why);
  ipc::append_end_of_stream(refused);
  if (!write_file(dir + "/refused.arrows", refused)) return 1;
  return 0;
}
