// libFuzzer target: untrusted REST answer bodies -> rest_decoder -> sequencer, the path every
// byte of a backfill takes. The first input byte picks the endpoint (aggTrades or
// historicalTrades) and the row limit; the rest is the body.
//
// Besides the sanitizers' checks it asserts the decoder's promises (a failure leaves the output
// as it was; rows carry the request's symbol, their trade time as event time, non-negative ids,
// prices that print and re-parse to the same value, at most the limit) and the sequencer's
// (whatever rows a backfill or a resumed stream's catch-up returns, released ids stay strictly
// consecutive and every accepted row is released exactly once).
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ticks/rest_decoder.hpp"
#include "ticks/sequencer.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void round_trips(ticks::price p) {
  auto again = ticks::parse_decimal<ticks::price::scale>(p.to_string());
  check(again.is_ok() && *again == p);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t mode = data[0];
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto kind = (mode & 1) ? ticks::message_kind::trade : ticks::message_kind::agg_trade;
  const std::size_t max_rows = 1 + (mode >> 1);
  const auto symbol = ticks::symbol::parse("BTCUSDT").value();

  ticks::rest_decoder decoder(1 << 16);
  (void)decoder.decode_error_body(body);
  std::vector<ticks::tick> rows{ticks::tick{ticks::book_ticker{}}};
  auto r = decoder.decode(body, kind, symbol, max_rows, rows);
  if (!r) {
    check(rows.size() == 1);
    check(!r.error().message().empty());
    return 0;
  }
  rows.erase(rows.begin());
  check(rows.size() <= max_rows);
  for (const auto& t : rows) {
    check(ticks::kind_of(t) == kind);
    check(ticks::symbol_of(t) == symbol);
    check(*ticks::sequence_id(t) >= 0);
    std::visit(
        [](const auto& v) {
          if constexpr (!std::is_same_v<std::decay_t<decltype(v)>, ticks::book_ticker>) {
            check(v.event_time_ms == v.trade_time_ms);
            round_trips(v.price);
            round_trips(v.quantity);
          }
        },
        t);
    if (const auto* a = std::get_if<ticks::agg_trade>(&t)) check(a->first_trade_id <= a->last_trade_id);
  }

  // The rows as the backfill of a gap [first row's id - 3, +40]: whatever they hold.
  ticks::sequencer q({.max_held = 8});
  std::vector<ticks::tick> out;
  if (rows.empty()) return 0;
  const ticks::stream_key key{kind, symbol};
  const std::int64_t base = *ticks::sequence_id(rows.front());
  if (base < 4 || base > INT64_MAX - 64) return 0;
  auto make = [&](std::int64_t id) {
    ticks::tick t = rows.front();
    std::visit(
        [&](auto& v) {
          if constexpr (std::is_same_v<std::decay_t<decltype(v)>, ticks::trade>) v.trade_id = id;
          else if constexpr (std::is_same_v<std::decay_t<decltype(v)>, ticks::agg_trade>) v.agg_trade_id = id;
        },
        t);
    return t;
  };
  q.offer(make(base - 4), out);
  q.offer(make(base + 40), out);
  const std::size_t accepted = q.fill(key, rows, out);
  while (q.gap(key)) q.give_up(key, out);
  check(q.held() == 0);
  check(out.size() == 2 + accepted);
  for (std::size_t i = 1; i < out.size(); ++i) check(*ticks::sequence_id(out[i]) > *ticks::sequence_id(out[i - 1]));
  check(q.stats().ticks_backfilled + q.stats().backfill_rejected == rows.size());

  // The rows as a resumed stream's catch-up from base - 3 (an open gap): the same holds.
  ticks::sequencer c({.max_held = 8});
  std::vector<ticks::tick> caught;
  check(c.start_at(key, base - 3, /*catch_up=*/true));
  const std::size_t taken = c.fill(key, rows, caught);
  while (c.gap(key)) c.give_up(key, caught);
  check(c.held() == 0);
  check(caught.size() == taken);
  for (std::size_t i = 1; i < caught.size(); ++i) check(*ticks::sequence_id(caught[i]) > *ticks::sequence_id(caught[i - 1]));
  check(c.stats().ticks_backfilled + c.stats().backfill_rejected == rows.size());
  return 0;
}
