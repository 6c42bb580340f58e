// ticks::app::market: the simulated exchange's market behind polarway-feed --rate. For each
// kind (trade, aggTrade, bookTicker) the market is one deterministic sequence of messages
// (ticks::feed_generator, seeded with --seed, every configured symbol) that advances in time:
// by time t its head, the number of messages it has produced, is
//
//   head(t) = min(length, floor((t - start) * rate))      (length 0: no end)
//
// the same for every kind and every connection, so message i of a kind is the same for
// everybody who sees it. The clock starts with start(), which the feed calls when the first
// WebSocket client is admitted; before that the head is 0. stop() freezes the clock (the feed
// stops): the head stays where it was.
//
// seek() positions a generator at message i of its kind cheaply: the market keeps read-only
// snapshots of each kind's generator state every snapshot_interval messages, made lazily under
// a lock the first time a later message is asked for; a seek copies the nearest snapshot at or
// before i and skips the rest. Snapshots cost symbols * 24 bytes each, one per
// snapshot_interval messages of the furthest index asked for.
//
// Per-symbol ids are sequential (feed_generator), so the snapshots also locate the message
// carrying a symbol's trade or aggTrade id: scan_start() (the REST history).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <vector>

#include <polarway/option.hpp>

#include "ticks/feed_generator.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

/// What the market produced of one kind: messages 0..produced-1 and their totals.
struct market_report {
  message_kind kind;
  feed_totals totals;  // totals.count == the messages produced
};

class market {
 public:
  static constexpr std::uint64_t snapshot_interval = std::uint64_t{1} << 16;

  /// `symbols` in 1..feed_generator::max_symbols; rate > 0.
  market(std::uint64_t seed, std::size_t symbols, std::uint64_t rate, std::uint64_t length);

  /// Starts the clock at now_ns (CLOCK_MONOTONIC), unless it has started already.
  void start(std::int64_t now_ns) noexcept;
  /// Freezes the clock at now_ns: head() stays at its value then.
  void stop(std::int64_t now_ns) noexcept;
  /// Messages of each kind produced by now_ns.
  std::uint64_t head(std::int64_t now_ns) const noexcept;
  /// The market's length (0: no end).
  std::uint64_t length() const noexcept { return length_; }
  bool ended(std::uint64_t index) const noexcept { return length_ != 0 && index >= length_; }

  /// A generator of `kind` with these format options, positioned at message `index`.
  feed_generator generator_at(message_kind kind, std::uint64_t index, bool combined, bool with_sent_ns);
  /// Repositions `gen` (made by generator_at) at message `index`, forward or back.
  void seek(feed_generator& gen, std::uint64_t index);

  /// Where to start scanning for the message of symbol `symbol_index` with id `id` (trade id
  /// in the trade market, aggTrade id in the aggTrade market): the last snapshot index below
  /// `head` at which that symbol's next id is at most `id` (0 if none). Trade and aggTrade only.
  std::uint64_t scan_start(message_kind kind, std::size_t symbol_index, std::int64_t id, std::uint64_t head);

  /// Totals of the messages produced by now_ns, for each kind a client or a REST request used.
  std::vector<market_report> report(std::int64_t now_ns);

 private:
  struct kind_market {
    std::mutex mu;
    std::deque<generator_state> snapshots;  // snapshots[j]: the state at message j * interval
    std::atomic<bool> used{false};
  };
  // The state at the snapshot j, making the snapshots up to it if needed.
  generator_state snapshot(message_kind kind, std::size_t j);
  kind_market& of(message_kind kind) noexcept { return kinds_[static_cast<std::size_t>(kind)]; }

  std::uint64_t seed_;
  std::size_t symbols_;
  std::uint64_t rate_;
  std::uint64_t length_;
  std::atomic<std::int64_t> start_ns_{0};  // 0: not started
  std::atomic<std::int64_t> stop_ns_{0};   // 0: running
  std::array<kind_market, 3> kinds_;
};

}  // namespace ticks::app
