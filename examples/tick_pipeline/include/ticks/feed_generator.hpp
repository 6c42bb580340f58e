// ticks::feed_generator: deterministic Binance-format market data, sans-I/O. Given a seed it
// produces the same messages every time (on every platform: its random numbers come from its
// own splitmix64, not from <random>'s implementation-defined distributions), for the feed
// simulator binary and for end-to-end tests.
//
// Ids are per symbol and sequential, as the exchange's: trade ids "t" (and the "f".."l" trade
// ranges of aggTrades) and aggTrade ids "a" each count up by one per message of their symbol,
// from a per-symbol start drawn at creation; bookTicker "u" counts up across all symbols.
//
// A generator's mutable part (random state, per-symbol prices and ids, totals) can be taken as
// a generator_state and restored into another generator made with the same seed, symbols and
// kind (its format options may differ); skip() advances without writing JSON. Together they let
// a server keep snapshots of a long sequence and position a generator at message i cheaply.
//
// Alongside the JSON it keeps running totals (feed_totals) of what it sent, computed from the
// tick values themselves; a sink that adds up the ticks it received with the same
// feed_totals::add must arrive at the same totals, which proves that nothing was lost,
// duplicated or altered on the way. Sums wrap modulo 2^64 (exactly, as unsigned arithmetic), so
// equality stays exact evidence however long the run.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/error.hpp>
#include <polarway/result.hpp>

#include "ticks/symbol.hpp"
#include "ticks/tick.hpp"
#include "ticks/tick_json.hpp"

namespace ticks {

struct feed_totals {
  std::uint64_t count = 0;
  std::uint64_t price_sum = 0;     // raw fixed-point units; bid + ask for bookTicker
  std::uint64_t quantity_sum = 0;  // raw fixed-point units; bid + ask sizes for bookTicker

  void add(const ticks::tick& t) noexcept;
  friend bool operator==(const feed_totals&, const feed_totals&) = default;
};

struct feed_options {
  std::uint64_t seed = 1;
  std::size_t symbols = 1;  // 1 to max_symbols
  message_kind kind = message_kind::trade;
  bool combined = false;      // wrap as {"stream":..,"data":..}
  bool with_sent_ns = false;  // add "pw_ts" (the now_ns given to next())
  std::int64_t start_time_ms = 1672515782136;
};

/// The mutable part of a feed_generator: enough to continue its sequence elsewhere.
struct generator_state {
  struct per_symbol {
    std::int64_t price_raw;
    std::int64_t next_trade_id;
    std::int64_t next_agg_id;
  };
  std::uint64_t rng = 0;
  std::vector<per_symbol> symbols;
  std::int64_t next_update_id = 0;
  feed_totals totals;  // totals.count is the index of the next message
};

class feed_generator {
 public:
  static constexpr std::size_t max_symbols = 10000;

  static polarway::result<feed_generator> create(feed_options options);

  /// The next message; valid until the next call. `now_ns` becomes "pw_ts" when enabled.
  std::string_view next(std::int64_t now_ns = 0);
  /// Advances by one message without writing it: last() and totals() are as after next().
  void skip();
  /// Messages produced so far: the index of the next one.
  std::uint64_t produced() const noexcept { return state_.totals.count; }

  const generator_state& state() const noexcept { return state_; }
  /// Continues from `s`, taken from a generator with the same seed, symbols and kind.
  void restore(const generator_state& s) { state_ = s; }
  /// The index (into symbols()) of the last message's symbol.
  std::size_t last_symbol_index() const noexcept { return last_index_; }

  /// The tick the last message encodes.
  const ticks::tick& last() const noexcept { return last_; }
  const feed_totals& totals() const noexcept { return state_.totals; }

  std::span<const symbol> symbols() const noexcept { return symbols_; }
  /// "btcusdt@trade": the Binance stream name for symbol i.
  const std::string& stream_name(std::size_t i) const { return stream_names_.at(i); }
  /// The request target a client would ask for: "/stream?streams=a@trade/b@trade" for combined
  /// feeds, "/ws/a@trade" (one stream per raw connection, as Binance serves them) otherwise.
  std::string target() const;
  const feed_options& options() const noexcept { return options_; }

 private:
  explicit feed_generator(feed_options options);
  std::uint64_t random() noexcept;
  void advance(std::int64_t now_ns);  // the next tick into last_ and the totals
  std::int64_t uniform(std::int64_t lo, std::int64_t hi) noexcept;  // inclusive

  feed_options options_;
  std::vector<symbol> symbols_;
  std::vector<std::string> stream_names_;  // "btcusdt@trade": made once, written per message
  generator_state state_;
  std::size_t last_index_ = 0;
  ticks::tick last_;
  std::array<char, tick_message_capacity> buffer_{};
};

}  // namespace ticks
