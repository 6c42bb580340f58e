#include "ticks/sequencer.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <vector>

using namespace ticks;

namespace {

symbol sym(std::string_view s) { return symbol::parse(s).value(); }

tick tr(std::int64_t id, std::string_view s = "BTCUSDT") {
  trade t;
  t.symbol = sym(s);
  t.trade_id = id;
  return t;
}
tick agg(std::int64_t id, std::string_view s = "BTCUSDT") {
  agg_trade t;
  t.symbol = sym(s);
  t.agg_trade_id = id;
  return t;
}
tick book(std::int64_t u, std::string_view s = "BTCUSDT") {
  book_ticker t;
  t.symbol = sym(s);
  t.update_id = u;
  return t;
}

const stream_key btc_trade{message_kind::trade, sym("BTCUSDT")};
const stream_key btc_agg{message_kind::agg_trade, sym("BTCUSDT")};

std::vector<std::int64_t> ids(const std::vector<tick>& ts) {
  std::vector<std::int64_t> v;
  for (const auto& t : ts) v.push_back(sequence_id(t).unwrap_or(-1));
  return v;
}

std::vector<tick> trades(std::int64_t first, std::int64_t last, std::string_view s = "BTCUSDT") {
  std::vector<tick> v;
  for (std::int64_t i = first; i <= last; ++i) v.push_back(tr(i, s));
  return v;
}

}  // namespace

TEST_CASE("in-order ids pass, the first sets the baseline, duplicates are dropped and counted") {
  sequencer q;
  std::vector<tick> out;
  CHECK(q.offer(tr(100), out) == offer_result::released);
  CHECK(q.offer(tr(101), out) == offer_result::released);
  CHECK(q.offer(tr(101), out) == offer_result::duplicate);
  CHECK(q.offer(tr(50), out) == offer_result::duplicate);
  CHECK(q.offer(tr(102), out) == offer_result::released);
  CHECK(ids(out) == std::vector<std::int64_t>{100, 101, 102});
  CHECK(q.stats().duplicates_dropped == 2);
  CHECK(q.stats().gaps_found == 0);
  CHECK(q.gap(btc_trade).is_none());
}

TEST_CASE("streams are separate per kind and symbol; bookTicker passes untracked") {
  sequencer q;
  std::vector<tick> out;
  CHECK(q.offer(tr(5), out) == offer_result::released);
  CHECK(q.offer(agg(5), out) == offer_result::released);  // another kind: its own baseline
  CHECK(q.offer(tr(5, "ETHUSDT"), out) == offer_result::released);
  CHECK(q.offer(book(7), out) == offer_result::released);
  CHECK(q.offer(book(7), out) == offer_result::released);  // not sequenced: no duplicate check
  CHECK(q.offer(book(1), out) == offer_result::released);
  CHECK(out.size() == 6);
  CHECK(q.stats().duplicates_dropped == 0);
}

TEST_CASE("a gap holds the stream's later ticks until the backfill delivers the range") {
  sequencer q;
  std::vector<tick> out;
  q.offer(tr(1), out);
  CHECK(q.offer(tr(5), out) == offer_result::held);
  CHECK(q.offer(tr(6), out) == offer_result::held);
  CHECK(q.offer(agg(1), out) == offer_result::released);  // other streams go on
  CHECK(q.gap(btc_trade) == id_range{2, 4});
  CHECK(q.stats().gaps_found == 1);
  CHECK(q.stats().ids_missing == 3);
  CHECK(q.held() == 2);
  CHECK(q.streams_with_gaps() == std::vector<stream_key>{btc_trade});

  out.clear();
  const auto rows = trades(2, 4);
  CHECK(q.fill(btc_trade, rows, out) == 3);
  CHECK(ids(out) == std::vector<std::int64_t>{2, 3, 4, 5, 6});
  CHECK(q.gap(btc_trade).is_none());
  CHECK(q.held() == 0);
  CHECK(q.stats().ticks_backfilled == 3);
  CHECK(q.offer(tr(7), out) == offer_result::released);
}

TEST_CASE("a backfill in pages: each fills the front of the gap") {
  sequencer q;
  std::vector<tick> out;
  q.offer(tr(0), out);
  q.offer(tr(10), out);
  out.clear();
  CHECK(q.fill(btc_trade, trades(1, 4), out) == 4);
  CHECK(q.gap(btc_trade) == id_range{5, 9});
  CHECK(q.fill(btc_trade, trades(5, 9), out) == 5);
  CHECK(ids(out) == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
}

TEST_CASE("a live tick inside a gap fills it too (another connection catching up)") {
  sequencer q;
  std::vector<tick> out;
  q.offer(tr(1), out);
  q.offer(tr(4), out);                                  // gap [2, 3]
  CHECK(q.offer(tr(3), out) == offer_result::held);     // out of order, inside the gap
  CHECK(q.gap(btc_trade) == id_range{2, 2});
  CHECK(q.offer(tr(2), out) == offer_result::released);
  CHECK(ids(out) == std::vector<std::int64_t>{1, 2, 3, 4});
  CHECK(q.stats().gaps_found == 1);
}

TEST_CASE("held duplicates are dropped; later gaps behind the first stay until reached") {
  sequencer q;
  std::vector<tick> out;
  q.offer(tr(1), out);
  q.offer(tr(3), out);
  CHECK(q.offer(tr(3), out) == offer_result::duplicate);
  q.offer(tr(6), out);  // a second gap [4, 5]
  CHECK(q.stats().gaps_found == 2);
  CHECK(q.stats().ids_missing == 3);
  CHECK(q.gap(btc_trade) == id_range{2, 2});
  out.clear();
  CHECK(q.fill(btc_trade, std::vector<tick>{tr(2)}, out) == 1);
  CHECK(ids(out) == std::vector<std::int64_t>{2, 3});
  CHECK(q.gap(btc_trade) == id_range{4, 5});
}

TEST_CASE("giving up counts the gap unfilled and releases the held ticks up to the next gap") {
  sequencer q;
  std::vector<tick> out;
  q.offer(tr(1), out);
  q.offer(tr(4), out);
  q.offer(tr(5), out);
  q.offer(tr(9), out);
  out.clear();
  q.give_up(btc_trade, out);
  CHECK(ids(out) == std::vector<std::int64_t>{4, 5});
  CHECK(q.stats().gaps_unfilled == 1);
  CHECK(q.stats().ids_unfilled == 2);
  CHECK(q.gap(btc_trade) == id_range{6, 8});
  q.give_up(btc_trade, out);
  CHECK(ids(out) == std::vector<std::int64_t>{4, 5, 9});
  CHECK(q.stats().gaps_unfilled == 2);
  CHECK(q.stats().ids_unfilled == 5);
  CHECK(q.held() == 0);
  q.give_up(btc_trade, out);  // no gap: nothing
  CHECK(q.stats().gaps_unfilled == 2);
  CHECK(q.offer(tr(8), out) == offer_result::duplicate);  // skipped ids stay skipped
  CHECK(q.offer(tr(10), out) == offer_result::released);
}

TEST_CASE("backfilled rows outside the gap, out of order, duplicated or of another stream") {
  sequencer q;
  std::vector<tick> out;
  q.offer(tr(10), out);
  q.offer(tr(20), out);  // gap [11, 19]
  out.clear();
  const std::vector<tick> rows{tr(9),  tr(10), tr(20), tr(25), tr(14), tr(14), agg(11),
                               tr(11, "ETHUSDT"), book(11), tr(12), tr(11), tr(12)};
  // Accepted: 14 (held inside the gap), 12 (held), 11 (releases 11, 12). Rejected: the rest.
  CHECK(q.fill(btc_trade, rows, out) == 3);
  CHECK(ids(out) == std::vector<std::int64_t>{11, 12});
  CHECK(q.stats().backfill_rejected == 9);
  CHECK(q.gap(btc_trade) == id_range{13, 13});
  CHECK(q.fill(btc_trade, std::vector<tick>{tr(13)}, out) == 1);
  CHECK(ids(out) == std::vector<std::int64_t>{11, 12, 13, 14});
  CHECK(q.gap(btc_trade) == id_range{15, 19});
  CHECK(q.fill(btc_trade, trades(15, 19), out) == 5);
  CHECK(ids(out) == std::vector<std::int64_t>{11, 12, 13, 14, 15, 16, 17, 18, 19, 20});
  CHECK(q.stats().ticks_backfilled == 9);
  // No gap: every row is rejected.
  CHECK(q.fill(btc_trade, trades(21, 22), out) == 0);
  CHECK(q.fill(btc_agg, trades(21, 22), out) == 0);
  CHECK(q.stats().backfill_rejected == 13);
}

TEST_CASE("the hold is bounded: a full hold refuses the tick, which stays the caller's") {
  sequencer q({.max_held = 2});
  std::vector<tick> out;
  q.offer(tr(1), out);
  q.offer(tr(1, "ETHUSDT"), out);
  CHECK(q.offer(tr(3), out) == offer_result::held);
  CHECK(q.offer(tr(3, "ETHUSDT"), out) == offer_result::held);
  CHECK(q.offer(tr(4), out) == offer_result::full);
  CHECK(q.stats().gaps_found == 2);  // a refused tick counts nothing
  CHECK(q.offer(tr(4), out) == offer_result::full);
  CHECK(q.stats().gaps_found == 2);
  // What needs no holding still goes through: the next id, duplicates, other kinds.
  CHECK(q.offer(tr(3), out) == offer_result::duplicate);
  CHECK(q.offer(book(1), out) == offer_result::released);
  // A backfill row that would need holding is rejected too, one that releases is not.
  CHECK(q.fill(btc_trade, std::vector<tick>{tr(2)}, out) == 1);
  CHECK(q.held() == 1);
  CHECK(q.offer(tr(4), out) == offer_result::released);
  CHECK(q.offer(tr(9), out) == offer_result::held);
  CHECK(q.held() == 2);
  q.offer(tr(0, "ETHUSDT"), out);
  CHECK(q.fill(btc_trade, std::vector<tick>{tr(7)}, out) == 0);  // no room for 7 behind [5, 8]
  CHECK(q.stats().backfill_rejected == 1);
}

TEST_CASE("a jump larger than max_gap is unfilled at once and the numbering goes on from it") {
  sequencer q({.max_gap = 100});
  std::vector<tick> out;
  q.offer(tr(1), out);
  q.offer(tr(3), out);  // a fetchable gap [2, 2], held
  CHECK(q.offer(tr(1000), out) == offer_result::released);
  CHECK(ids(out) == std::vector<std::int64_t>{1, 3, 1000});
  CHECK(q.stats().gaps_found == 2);
  CHECK(q.stats().gaps_unfilled == 2);
  CHECK(q.stats().ids_unfilled == 1 + 996);
  CHECK(q.held() == 0);
  CHECK(q.offer(tr(1001), out) == offer_result::released);
  // Exactly max_gap missing ids is still fetched.
  CHECK(q.offer(tr(1102), out) == offer_result::held);
  CHECK(q.gap(btc_trade) == id_range{1002, 1101});
}

TEST_CASE("ids near the ends of int64 never overflow") {
  sequencer q;
  std::vector<tick> out;
  const std::int64_t max = INT64_MAX;
  q.offer(tr(max - 2), out);
  CHECK(q.offer(tr(max), out) == offer_result::held);
  CHECK(q.gap(btc_trade) == id_range{max - 1, max - 1});
  CHECK(q.gap(btc_trade)->count() == 1);
  CHECK(q.fill(btc_trade, std::vector<tick>{tr(max - 1)}, out) == 1);
  CHECK(ids(out) == std::vector<std::int64_t>{max - 2, max - 1, max});
  // Nothing follows INT64_MAX: every id is at or below it.
  CHECK(q.offer(tr(max), out) == offer_result::duplicate);
  CHECK(q.offer(tr(INT64_MIN), out) == offer_result::duplicate);

  // From the bottom to the top: one jump of 2^64 - 2 ids, far above max_gap.
  sequencer r;
  std::vector<tick> o2;
  r.offer(tr(INT64_MIN), o2);
  CHECK(r.offer(tr(max), o2) == offer_result::released);
  CHECK(r.stats().ids_unfilled == UINT64_MAX - 1);

  sequencer s;
  CHECK(s.start_at(btc_trade, INT64_MIN));
  CHECK(s.offer(tr(INT64_MIN + 5), o2) == offer_result::released);  // no baseline below INT64_MIN
}

TEST_CASE("start_at sets the first expected id, only before the first tick") {
  sequencer q;
  std::vector<tick> out;
  CHECK(q.start_at(btc_trade, 100));
  CHECK(q.offer(tr(99), out) == offer_result::duplicate);
  CHECK(q.offer(tr(102), out) == offer_result::held);
  CHECK(q.gap(btc_trade) == id_range{100, 101});
  CHECK_FALSE(q.start_at(btc_trade, 5));
  sequencer r;
  r.offer(tr(1), out);
  CHECK_FALSE(r.start_at(btc_trade, 50));
}

TEST_CASE("catch_up: an open gap after the baseline until the history runs dry") {
  sequencer q;
  std::vector<tick> out;
  CHECK(q.start_at(btc_trade, 100, /*catch_up=*/true));
  CHECK(q.gap(btc_trade) == id_range{100, INT64_MAX, true});
  CHECK(q.streams_with_gaps() == std::vector<stream_key>{btc_trade});
  // A page from the history: rows from 100 on are taken, in any order; older ones are not.
  std::vector<tick> page = trades(100, 104);
  page.push_back(tr(99));
  std::reverse(page.begin(), page.end());
  CHECK(q.fill(btc_trade, page, out) == 5);
  CHECK(ids(out) == std::vector<std::int64_t>{100, 101, 102, 103, 104});
  CHECK(q.stats().ticks_backfilled == 5);
  CHECK(q.stats().backfill_rejected == 1);
  CHECK(q.gap(btc_trade) == id_range{105, INT64_MAX, true});
  // The history has no more: giving up ends the catch-up, and nothing counts as unfilled.
  q.give_up(btc_trade, out);
  CHECK(q.gap(btc_trade).is_none());
  CHECK(q.streams_with_gaps().empty());
  CHECK(q.stats().gaps_unfilled == 0);
  CHECK(q.stats().ids_unfilled == 0);
  CHECK(q.fill(btc_trade, trades(105, 105), out) == 0);
  // The live feed goes on from where the history stopped.
  CHECK(q.offer(tr(105), out) == offer_result::released);
  CHECK(ids(out).back() == 105);
}

TEST_CASE("catch_up: a live tick ends it and bounds the gap; a hole in a page is a gap of its own") {
  sequencer q;
  std::vector<tick> out;
  CHECK(q.start_at(btc_agg, 10, /*catch_up=*/true));
  CHECK(q.fill(btc_agg, std::vector<tick>{agg(10), agg(11), agg(14)}, out) == 3);
  CHECK(ids(out) == std::vector<std::int64_t>{10, 11});
  CHECK(q.gap(btc_agg) == id_range{12, 13});  // 14 is held behind the hole
  CHECK(q.fill(btc_agg, std::vector<tick>{agg(13), agg(12)}, out) == 2);
  CHECK(ids(out) == std::vector<std::int64_t>{10, 11, 12, 13, 14});
  CHECK(q.gap(btc_agg) == id_range{15, INT64_MAX, true});  // still catching up
  CHECK(q.offer(agg(20), out) == offer_result::held);
  CHECK(q.gap(btc_agg) == id_range{15, 19});
  CHECK(q.stats().gaps_found == 1);
  CHECK(q.fill(btc_agg, std::vector<tick>{agg(15), agg(16), agg(17), agg(18), agg(19), agg(20), agg(21)}, out) == 5);
  CHECK(ids(out).back() == 20);
  CHECK(q.gap(btc_agg).is_none());  // the live tick ended the catch-up
  // A live tick the history already gave is a duplicate, and also ends a catch-up.
  sequencer r;
  CHECK(r.start_at(btc_agg, 10, /*catch_up=*/true));
  CHECK(r.fill(btc_agg, std::vector<tick>{agg(10), agg(11)}, out) == 2);
  CHECK(r.offer(agg(11), out) == offer_result::duplicate);
  CHECK(r.gap(btc_agg).is_none());
  // Only before the first tick; without a baseline there is nothing to catch up from.
  CHECK_FALSE(r.start_at(btc_agg, 50, true));
  sequencer t;
  CHECK(t.start_at(btc_agg, INT64_MIN, true));
  CHECK(t.gap(btc_agg).is_none());
}

TEST_CASE("beyond max_streams, ticks pass untracked and are counted") {
  sequencer q({.max_streams = 1});
  std::vector<tick> out;
  q.offer(tr(1), out);
  CHECK(q.offer(tr(1, "ETHUSDT"), out) == offer_result::released);
  CHECK(q.offer(tr(1, "ETHUSDT"), out) == offer_result::released);
  CHECK(q.stats().untracked == 2);
  CHECK_FALSE(q.start_at(btc_agg, 1));
}

TEST_CASE("hostile orders: whatever comes, every id is released at most once and in order") {
  // Random permutations with repeats and jumps; the backfill fetches exactly the gaps or gives
  // up on some. Checks the invariants, not a script.
  std::mt19937_64 rng(12345);
  for (int round = 0; round < 200; ++round) {
    sequencer q({.max_held = 16, .max_gap = 40});
    std::vector<tick> out;
    std::vector<tick> input;
    std::int64_t base = static_cast<std::int64_t>(rng() % 1000);
    const std::int64_t resumed_at = base;
    if (round % 2 == 1) {
      // A resumed stream: it catches up from pages of history before (and while) live ticks come.
      REQUIRE(q.start_at(btc_trade, base, /*catch_up=*/true));
      const auto pages = rng() % 3;
      for (std::uint64_t p = 0; p < pages; ++p) {
        const auto g = q.gap(btc_trade);
        REQUIRE(g);
        REQUIRE(g->open);
        std::vector<tick> rows = trades(g->first, g->first + static_cast<std::int64_t>(rng() % 6));
        std::shuffle(rows.begin(), rows.end(), rng);
        q.fill(btc_trade, rows, out);
      }
      base = q.gap(btc_trade)->first - static_cast<std::int64_t>(rng() % 4);  // the live feed may overlap
    }
    for (int i = 0; i < 120; ++i) {
      const auto r = rng() % 10;
      if (r < 6) base += 1;
      else if (r < 8) base += static_cast<std::int64_t>(rng() % 5);
      else if (r < 9) base -= static_cast<std::int64_t>(rng() % 8);  // backwards
      else base += static_cast<std::int64_t>(rng() % 100);           // maybe past max_gap
      input.push_back(tr(base));
    }
    for (const tick& t : input) {
      while (q.offer(t, out) == offer_result::full) {
        // The caller's move when the hold is full: resolve the gap, by backfill or giving up.
        const auto g = q.gap(btc_trade);
        REQUIRE(g);
        if (rng() % 2) {
          std::vector<tick> rows = trades(g->first, g->last);
          std::shuffle(rows.begin(), rows.end(), rng);
          rows.push_back(tr(g->last + 1000));
          q.fill(btc_trade, rows, out);
        } else {
          q.give_up(btc_trade, out);
        }
      }
    }
    while (auto g = q.gap(btc_trade)) q.give_up(btc_trade, out);
    CHECK(q.held() == 0);
    const auto v = ids(out);
    for (std::size_t i = 1; i < v.size(); ++i) REQUIRE(v[i] > v[i - 1]);
    // Every live id that was not a duplicate, and every backfilled one, came out.
    const auto& st = q.stats();
    CHECK(v.size() + st.duplicates_dropped == input.size() + st.ticks_backfilled);
    // Released ids plus unfilled ones cover the span without a hole: from the first id
    // released, or for a resumed stream from where it resumed.
    const std::int64_t first = round % 2 == 1 ? resumed_at : v.front();
    CHECK(static_cast<std::uint64_t>(v.back() - first) + 1 == v.size() + st.ids_unfilled);
  }
}
