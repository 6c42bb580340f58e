#include "market.hpp"

#include <algorithm>

namespace ticks::app {

market::market(std::uint64_t seed, std::size_t symbols, std::uint64_t rate, std::uint64_t length)
    : seed_(seed), symbols_(symbols), rate_(rate), length_(length) {}

void market::start(std::int64_t now_ns) noexcept {
  std::int64_t none = 0;
  // A clock read of exactly 0 would read as "not started": start at 1 ns instead.
  (void)start_ns_.compare_exchange_strong(none, std::max<std::int64_t>(now_ns, 1));
}

void market::stop(std::int64_t now_ns) noexcept {
  std::int64_t none = 0;
  (void)stop_ns_.compare_exchange_strong(none, std::max<std::int64_t>(now_ns, 1));
}

std::uint64_t market::head(std::int64_t now_ns) const noexcept {
  const std::int64_t start = start_ns_.load(std::memory_order_acquire);
  if (start == 0) return 0;
  if (const std::int64_t stop = stop_ns_.load(std::memory_order_acquire); stop != 0) now_ns = std::min(now_ns, stop);
  if (now_ns <= start) return 0;
  // 128-bit: elapsed nanoseconds times a rate up to 10^9 overflows 64 bits after 18 s.
  const auto elapsed = static_cast<unsigned __int128>(now_ns - start);
  const auto due = elapsed * rate_ / 1'000'000'000u;
  const std::uint64_t cap = length_ != 0 ? length_ : UINT64_MAX;
  return due >= cap ? cap : static_cast<std::uint64_t>(due);
}

generator_state market::snapshot(message_kind kind, std::size_t j) {
  kind_market& k = of(kind);
  k.used.store(true, std::memory_order_relaxed);
  std::lock_guard lock(k.mu);
  if (k.snapshots.empty() || k.snapshots.size() <= j) {
    // symbols_ was checked by the feed's flags; the generator cannot refuse it.
    feed_generator g = feed_generator::create(feed_options{.seed = seed_, .symbols = symbols_, .kind = kind}).value();
    if (k.snapshots.empty()) k.snapshots.push_back(g.state());
    g.restore(k.snapshots.back());
    while (k.snapshots.size() <= j) {
      for (std::uint64_t n = 0; n < snapshot_interval; ++n) g.skip();
      k.snapshots.push_back(g.state());
    }
  }
  return k.snapshots[j];
}

feed_generator market::generator_at(message_kind kind, std::uint64_t index, bool combined, bool with_sent_ns) {
  feed_generator g = feed_generator::create(feed_options{
                                                .seed = seed_,
                                                .symbols = symbols_,
                                                .kind = kind,
                                                .combined = combined,
                                                .with_sent_ns = with_sent_ns,
                                            })
                         .value();
  seek(g, index);
  return g;
}

void market::seek(feed_generator& gen, std::uint64_t index) {
  const std::uint64_t j = index / snapshot_interval;
  // Forward within reach of the next snapshot: skipping is cheaper than copying one.
  if (gen.produced() > index || gen.produced() < j * snapshot_interval)
    gen.restore(snapshot(gen.options().kind, static_cast<std::size_t>(j)));
  of(gen.options().kind).used.store(true, std::memory_order_relaxed);
  while (gen.produced() < index) gen.skip();
}

std::uint64_t market::scan_start(message_kind kind, std::size_t symbol_index, std::int64_t id, std::uint64_t head) {
  if (head == 0) return 0;
  const std::size_t last = static_cast<std::size_t>((head - 1) / snapshot_interval);
  (void)snapshot(kind, last);  // makes every snapshot up to the head's
  kind_market& k = of(kind);
  std::lock_guard lock(k.mu);
  const auto next_id = [&](const generator_state& s) {
    const auto& sym = s.symbols[symbol_index];
    return kind == message_kind::agg_trade ? sym.next_agg_id : sym.next_trade_id;
  };
  // Ids only grow along the sequence: the first snapshot past `id` bounds the search.
  const auto end = k.snapshots.begin() + static_cast<std::ptrdiff_t>(last) + 1;
  const auto after = std::partition_point(k.snapshots.begin(), end,
                                          [&](const generator_state& s) { return next_id(s) <= id; });
  if (after == k.snapshots.begin()) return 0;
  return static_cast<std::uint64_t>(after - k.snapshots.begin() - 1) * snapshot_interval;
}

std::vector<market_report> market::report(std::int64_t now_ns) {
  std::vector<market_report> out;
  const std::uint64_t h = head(now_ns);
  for (message_kind kind : {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker}) {
    if (!of(kind).used.load(std::memory_order_relaxed)) continue;
    feed_generator g = generator_at(kind, h, false, false);
    out.push_back({kind, g.totals()});
  }
  return out;
}

}  // namespace ticks::app
