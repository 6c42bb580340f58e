// ticks::sequencer: puts the trades and aggregate trades of each (kind, symbol) stream in id
// order, exactly once, and says which ids are missing so that a backfill can fetch them.
// Sans-I/O: it takes ticks (live or backfilled) and appends the ticks it releases to a vector;
// the ingest's sequencing stage owns it in one task and does the fetching.
//
// Binance numbers trades ("t") and aggregate trades ("a") per symbol, one after another.
// Per stream the sequencer keeps `last`, the highest id released, and the ticks held behind a
// gap, ordered by id. Invariants:
//   - Released ticks of a stream have strictly increasing, consecutive ids (a gap given up on is
//     the only jump, and it is counted in gaps_unfilled / ids_unfilled).
//   - A held tick's id is above last + 1; the stream's first gap is [last + 1, first held - 1].
//   - No id is released twice: an id <= last, or one already held, is a duplicate and dropped.
//   - bookTicker is passed through untouched (its update ids are not per-symbol sequential).
// The first tick of a stream sets its baseline, unless start_at() gave one. A stream resumed
// that way may also be told to catch up: the exchange may have produced ids after
// the baseline while nobody read it, and a quiet stream's next live tick may be far off, so
// until its first live tick its gap is open ([last + 1, unknown], id_range::open) and whatever
// the history holds there is taken; give_up() ends the catch-up (the history had no more) with
// nothing counted unfilled, since no id is known to be missing. Ids may be any
// int64: the arithmetic is done on the unsigned difference, so nothing overflows near INT64_MAX
// (no id follows INT64_MAX: everything after it is a duplicate).
//
// Bounds: at most max_held ticks are held, all streams together. A tick that would have to be
// held beyond that is refused (offer_result::full) and stays the caller's: the caller stops
// taking input until a fill or give_up frees room, which is the back-pressure that reaches the
// sockets through the channel before the stage. A jump of more than max_gap ids is not worth
// fetching (at 1000 ids a request it would take max_gap / 1000 requests): it is counted as a
// gap found and unfilled at once, the stream's earlier gaps are given up, what they held is
// released, and the numbering continues from the new id. At most max_streams streams are
// tracked; ticks of further streams pass through untracked and are counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <polarway/option.hpp>

#include "ticks/symbol.hpp"
#include "ticks/tick.hpp"

namespace ticks {

/// One sequenced stream: a kind (trade or aggTrade) and a symbol.
struct stream_key {
  message_kind kind = message_kind::trade;
  ticks::symbol symbol;
  friend bool operator==(const stream_key&, const stream_key&) = default;
};

struct stream_key_hash {
  std::size_t operator()(const stream_key& k) const noexcept {
    return std::hash<std::string_view>{}(k.symbol.view()) * 3 + static_cast<std::size_t>(k.kind);
  }
};

/// The stream a tick belongs to, none for bookTicker (not sequenced).
polarway::option<stream_key> sequenced_stream(const tick& t) noexcept;
/// The tick's sequence id ("t" or "a"), none for bookTicker.
polarway::option<std::int64_t> sequence_id(const tick& t) noexcept;

/// The ids [first, last], both included; first <= last. An open range (a stream catching up)
/// has no known end: its last is INT64_MAX.
struct id_range {
  std::int64_t first = 0;
  std::int64_t last = 0;
  bool open = false;
  std::uint64_t count() const noexcept {
    return static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first) + 1;
  }
  friend bool operator==(const id_range&, const id_range&) = default;
};

struct sequencer_options {
  std::size_t max_held = 65536;          // ticks held behind gaps, all streams together (>= 1)
  std::uint64_t max_gap = 1000000;       // larger jumps are counted unfilled at once
  std::size_t max_streams = 65536;       // streams tracked; further ones pass untracked
};

struct sequencer_stats {
  std::uint64_t gaps_found = 0;          // jumps in a stream's live ids
  std::uint64_t ids_missing = 0;         // ids inside those jumps
  std::uint64_t ticks_backfilled = 0;    // backfilled rows accepted (each released exactly once)
  std::uint64_t gaps_unfilled = 0;       // gaps given up on, or too large to fetch
  std::uint64_t ids_unfilled = 0;        // ids never delivered
  std::uint64_t duplicates_dropped = 0;  // live ticks whose id was released or held already
  std::uint64_t backfill_rejected = 0;   // backfilled rows outside the gap, duplicated, or wrong stream
  std::uint64_t untracked = 0;           // ticks of streams beyond max_streams
};

enum class offer_result : std::uint8_t {
  released,   // appended to out (perhaps with held ticks it made consecutive)
  held,       // kept behind a gap of its stream
  duplicate,  // dropped
  full,       // not taken: holding it would exceed max_held; offer it again after a fill/give_up
};

class sequencer {
 public:
  explicit sequencer(sequencer_options options = {});

  /// Sets the stream's baseline: `next_id` is the first id expected, lower ones are
  /// duplicates. With `catch_up`, until the stream's first live tick (or give_up()), gap() is
  /// the open range from `next_id`. Only before the stream's first tick; false (and nothing
  /// changes) after it.
  bool start_at(const stream_key& key, std::int64_t next_id, bool catch_up = false);

  /// A live tick. Ticks it releases (itself, then held ones now consecutive) go to `out`. Any
  /// live tick of a stream ends its catch-up: from there the live ids show what is missing.
  offer_result offer(const tick& t, std::vector<tick>& out);

  /// The stream's first gap, none if it has none: the ids between the last released and the
  /// first held, else, while the stream catches up, the open range after the last released.
  polarway::option<id_range> gap(const stream_key& key) const;

  /// Backfilled rows for `key`'s first gap, in any order. A row inside the gap is accepted
  /// (released, or held until the ids before it come); rows outside it, of another stream,
  /// already known, or that the hold has no room for are rejected and counted. Returns how
  /// many were accepted.
  std::size_t fill(const stream_key& key, std::span<const tick> rows, std::vector<tick>& out);

  /// Gives up on `key`'s first gap: its ids count as unfilled, and the held ticks after it are
  /// released up to the stream's next gap (if any). An open gap ends the catch-up and counts
  /// nothing. Nothing happens if it has no gap.
  void give_up(const stream_key& key, std::vector<tick>& out);

  /// Streams that have a gap (open ones included), in no particular order.
  std::vector<stream_key> streams_with_gaps() const;

  std::size_t held() const noexcept { return held_; }
  const sequencer_stats& stats() const noexcept { return stats_; }
  const sequencer_options& options() const noexcept { return options_; }

 private:
  struct stream_state {
    polarway::option<std::int64_t> last;       // highest id released; none before the first tick
    std::map<std::int64_t, tick> held;         // ids above last + 1
    bool catching_up = false;                  // start_at(.., catch_up) and no live tick since
  };

  // Whether `s` has a gap: held ticks, or an open catch-up with an id still after `last`.
  static bool has_gap(const stream_state& s) noexcept;

  // Releases the held ticks that follow `s.last` without a hole.
  void drain(stream_state& s, std::vector<tick>& out);
  // Counts the first gap of `s` unfilled and skips it.
  void skip_first_gap(stream_state& s, std::vector<tick>& out);
  stream_state* find_or_add(const stream_key& key);

  sequencer_options options_;
  std::unordered_map<stream_key, stream_state, stream_key_hash> streams_;
  std::size_t held_ = 0;
  sequencer_stats stats_;
};

}  // namespace ticks
