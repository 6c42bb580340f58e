// ticks::app::stream_tick_counts: ticks received from the feeds and written by the sink, per
// stream (symbol and kind), readable from any thread while the run goes on (a /metrics scrape).
//
// Each counting task (a session, the sink) holds a `writer` for one column. A writer claims a
// cell per stream it meets, which no other writer of that column writes while it holds it, so
// counting a tick is a relaxed load and store on a cell, not a locked add. A writer finds its
// cell for a tick in its own open-addressing table (linear probing, at most half full) keyed by
// the stream packed in three words (the symbol's bytes, its length, the kind), hashed by two
// multiplies and compared word by word: a combined stream interleaves its symbols tick by tick,
// so this lookup is paid per tick, and must cost a few instructions, not a std::hash and a
// memcmp of the symbol. Only a stream new to the writer takes the shared lock. A writer that
// ends gives its cells back and the next writer of that stream and column continues their
// counts, so the number of cells is bounded by the streams times the writers alive at once, not
// by reconnects. Still, the lookups are the most a tick pays for being observed: the programs
// keep these counts only when they serve a /metrics page.
//
// At most max_streams distinct streams are tracked (a feed naming endless symbols cannot grow
// the table without bound); ticks of further streams are counted under the symbol "(other)".
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "ticks/sequencer.hpp"
#include "ticks/tick.hpp"

namespace ticks::app {

class stream_tick_counts {
  struct cell;

 public:
  enum class column : std::uint8_t { received, written };

  static constexpr std::size_t default_max_streams = 4096;
  static constexpr const char* other_streams = "(other)";

  explicit stream_tick_counts(std::size_t max_streams = default_max_streams) : max_streams_(max_streams) {}
  stream_tick_counts(const stream_tick_counts&) = delete;
  stream_tick_counts& operator=(const stream_tick_counts&) = delete;

  /// One task's counts of one column. Not thread-safe itself: one per task.
  class writer {
   public:
    writer(stream_tick_counts& counts, column col) : counts_(&counts), col_(col) {}
    writer(const writer&) = delete;
    writer& operator=(const writer&) = delete;
    ~writer();

    /// Counts each tick of `batch` under its stream.
    void add(std::span<const tick> batch);

   private:
    // A stream in three words: the symbol's 20 bytes (zero past its length), its length, the kind.
    struct packed_key {
      std::uint64_t w[3];
      friend bool operator==(const packed_key&, const packed_key&) = default;
    };
    struct slot {
      packed_key key;
      cell* x = nullptr;  // null: empty
    };
    static packed_key pack(const tick& t) noexcept;
    static std::uint64_t hash(const packed_key& k) noexcept;
    cell* cell_on_miss(const tick& t, std::size_t at);
    void grow();

    stream_tick_counts* counts_;
    column col_;
    std::vector<slot> table_;  // a power of two in size; tracked streams only
    std::size_t used_ = 0;
    cell* other_ = nullptr;  // this writer's "(other)" cell, once it needed one
  };

  struct row {
    std::string symbol;  // or other_streams
    message_kind kind = message_kind::trade;
    std::uint64_t received = 0;
    std::uint64_t written = 0;
  };
  /// Every stream met so far, ordered by symbol then kind, "(other)" last (any thread).
  std::vector<row> snapshot() const;
  /// Cells allocated: at most the streams tracked times the writers of a column alive at once.
  std::size_t cells() const;

 private:
  struct cell {
    stream_key key;  // an empty symbol: the streams beyond max_streams
    std::array<std::atomic<std::uint64_t>, 2> n{};
    std::array<bool, 2> claimed{};  // guarded by mu_
  };
  // A cell of `key` whose `col` nobody holds, now held by the caller; `other` for a stream
  // beyond max_streams when the caller already holds one.
  cell* claim(const stream_key& key, column col, cell* other);
  void release(cell* x, column col);

  std::size_t max_streams_;
  mutable std::mutex mu_;
  std::deque<cell> cells_;  // a deque: cells stay where they are while it grows
  std::unordered_map<stream_key, std::vector<cell*>, stream_key_hash> by_key_;
};

}  // namespace ticks::app
