// stream_tick_counts: per-stream counts from several writers, summed; a writer's cells are
// reused by the next writer, not multiplied by reconnects; a feed naming endless symbols fills
// "(other)" and no more memory; snapshots taken while writers count only ever grow.
#include "stream_tick_counts.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

namespace {

using ticks::app::stream_tick_counts;
using column = stream_tick_counts::column;

ticks::symbol sym(const std::string& s) { return *ticks::symbol::parse(s); }

std::vector<ticks::tick> batch_of(const std::string& symbol, ticks::message_kind kind, int n) {
  std::vector<ticks::tick> out;
  for (int i = 0; i < n; ++i) {
    ticks::tick t;
    switch (kind) {
      case ticks::message_kind::trade: t.emplace<ticks::trade>().symbol = sym(symbol); break;
      case ticks::message_kind::agg_trade: t.emplace<ticks::agg_trade>().symbol = sym(symbol); break;
      case ticks::message_kind::book_ticker: t.emplace<ticks::book_ticker>().symbol = sym(symbol); break;
    }
    out.push_back(t);
  }
  return out;
}

}  // namespace

TEST_CASE("counts from several writers are summed per symbol and kind, in order") {
  stream_tick_counts counts;
  {
    stream_tick_counts::writer a(counts, column::received), b(counts, column::received);
    stream_tick_counts::writer sink(counts, column::written);
    std::vector<ticks::tick> mixed = batch_of("ETHUSDT", ticks::message_kind::trade, 3);
    for (auto& t : batch_of("BTCUSDT", ticks::message_kind::book_ticker, 2)) mixed.push_back(t);
    for (auto& t : batch_of("ETHUSDT", ticks::message_kind::trade, 1)) mixed.push_back(t);
    a.add(mixed);
    b.add(batch_of("ETHUSDT", ticks::message_kind::trade, 5));
    b.add(batch_of("BTCUSDT", ticks::message_kind::agg_trade, 7));
    sink.add(batch_of("ETHUSDT", ticks::message_kind::trade, 6));
  }
  const auto rows = counts.snapshot();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].symbol == "BTCUSDT");
  CHECK(rows[0].kind == ticks::message_kind::agg_trade);
  CHECK(rows[0].received == 7);
  CHECK(rows[1].symbol == "BTCUSDT");
  CHECK(rows[1].kind == ticks::message_kind::book_ticker);
  CHECK(rows[1].received == 2);
  CHECK(rows[1].written == 0);
  CHECK(rows[2].symbol == "ETHUSDT");
  CHECK(rows[2].received == 9);
  CHECK(rows[2].written == 6);
}

TEST_CASE("a writer that ends gives its cells to the next: reconnects do not grow the table") {
  stream_tick_counts counts;
  for (int session = 0; session < 100; ++session) {
    stream_tick_counts::writer w(counts, column::received);
    w.add(batch_of("BTCUSDT", ticks::message_kind::trade, 10));
    w.add(batch_of("ETHUSDT", ticks::message_kind::trade, 1));
  }
  CHECK(counts.cells() == 2);
  const auto rows = counts.snapshot();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].received == 1000);
  CHECK(rows[1].received == 100);
  {
    // Two at once need two cells of a stream; the received and written columns share one.
    stream_tick_counts::writer a(counts, column::received), b(counts, column::received);
    stream_tick_counts::writer w(counts, column::written);
    a.add(batch_of("BTCUSDT", ticks::message_kind::trade, 1));
    b.add(batch_of("BTCUSDT", ticks::message_kind::trade, 1));
    w.add(batch_of("BTCUSDT", ticks::message_kind::trade, 1));
  }
  CHECK(counts.cells() == 3);
  CHECK(counts.snapshot()[0].received == 1002);
  CHECK(counts.snapshot()[0].written == 1);
}

TEST_CASE("hostile: endless symbols are counted under (other) in bounded memory") {
  stream_tick_counts counts(3);
  stream_tick_counts::writer w(counts, column::received);
  for (int i = 0; i < 10'000; ++i) w.add(batch_of("S" + std::to_string(i), ticks::message_kind::trade, 1));
  w.add(batch_of("S0", ticks::message_kind::trade, 1));  // tracked: still counted as itself
  CHECK(counts.cells() == 4);
  const auto rows = counts.snapshot();
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].symbol == "S0");
  CHECK(rows[0].received == 2);
  CHECK(rows[3].symbol == stream_tick_counts::other_streams);
  CHECK(rows[3].received == 10'000 - 3);
  std::uint64_t total = 0;
  for (const auto& r : rows) total += r.received;
  CHECK(total == 10'001);
}

TEST_CASE("snapshots taken while two threads count only grow, and end at the exact totals") {
  stream_tick_counts counts;
  constexpr int rounds = 2'000;
  std::atomic<int> done{0};
  auto count_on_thread = [&](const char* symbol) {
    stream_tick_counts::writer w(counts, column::received);
    const auto batch = batch_of(symbol, ticks::message_kind::trade, 5);
    const auto other = batch_of("XRPUSDT", ticks::message_kind::trade, 1);
    for (int i = 0; i < rounds; ++i) {
      w.add(batch);
      w.add(other);
    }
    done.fetch_add(1);
  };
  std::thread a(count_on_thread, "BTCUSDT"), b(count_on_thread, "ETHUSDT");
  std::uint64_t last_total = 0;
  bool grew_only = true;
  while (done.load() < 2) {
    std::uint64_t total = 0;
    for (const auto& r : counts.snapshot()) total += r.received;
    grew_only = grew_only && total >= last_total;
    last_total = total;
  }
  a.join();
  b.join();
  CHECK(grew_only);
  const auto rows = counts.snapshot();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].received == 5 * rounds);
  CHECK(rows[1].received == 5 * rounds);
  CHECK(rows[2].received == 2 * rounds);
}
