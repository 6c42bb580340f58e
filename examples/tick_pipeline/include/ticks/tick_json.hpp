// Writing ticks as Binance's WebSocket JSON: the feed simulator's generated messages and the
// replay of recorded ones come out of this one encoder, so both speak the same format.
//
// A message is written into a caller's buffer of tick_message_capacity bytes by bumping a
// pointer: appending to a std::string checked capacity at every piece, and the integer fields
// alone were a quarter of the feed's CPU time. Field order is Binance's. A bookTicker carries
// "E" only when the tick has an event time (spot's stream has none; a replayed one has the time
// recorded for it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <variant>

#include <polarway/option.hpp>

#include "ticks/digits.hpp"
#include "ticks/tick.hpp"

namespace ticks {

/// The longest message: the combined wrapper with a stream name of the longest symbol and kind,
/// and an aggTrade (the most fields: 12 keys of at most 5 characters, each value an integer, a
/// price or a boolean of at most 22 characters with quotes, and the punctuation) with pw_ts;
/// then the 8 bytes write_decimal may write past the end of a number.
inline constexpr std::size_t tick_message_capacity = 40 + symbol::max_size + 16 + 12 * (5 + 4 + price::max_chars + 2) + 8;

/// Writes one JSON object's members at a pointer; the caller sized the buffer.
class json_object_writer {
 public:
  explicit json_object_writer(char* out) noexcept : p_(out) {}
  void raw(std::string_view s) noexcept { put(s); }
  void key(std::string_view k) noexcept {
    if (!first_) *p_++ = ',';
    first_ = false;
    *p_++ = '"';
    put(k);
    *p_++ = '"';
    *p_++ = ':';
  }
  void str(std::string_view k, std::string_view v) noexcept {
    key(k);
    *p_++ = '"';
    put(v);
    *p_++ = '"';
  }
  void integer(std::string_view k, std::int64_t v) noexcept {
    key(k);
    std::uint64_t magnitude = static_cast<std::uint64_t>(v);
    if (v < 0) {
      *p_++ = '-';
      magnitude = ~magnitude + 1;
    }
    p_ = write_decimal(p_, magnitude);
  }
  void boolean(std::string_view k, bool v) noexcept {
    key(k);
    put(v ? std::string_view("true") : std::string_view("false"));
  }
  void decimal(std::string_view k, price v) noexcept {
    key(k);
    *p_++ = '"';
    p_ = v.to_chars(p_);
    *p_++ = '"';
  }
  /// The next member is the first of a new object.
  void reset_first() noexcept { first_ = true; }
  char* end() const noexcept { return p_; }

 private:
  void put(std::string_view s) noexcept {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  char* p_;
  bool first_ = true;
};

/// The fields of each kind, in Binance's order ("M" is always true, as on the exchange).
inline void write_tick_fields(json_object_writer& w, const trade& t) noexcept {
  w.str("e", "trade");
  w.integer("E", t.event_time_ms);
  w.str("s", t.symbol.view());
  w.integer("t", t.trade_id);
  w.decimal("p", t.price);
  w.decimal("q", t.quantity);
  w.integer("T", t.trade_time_ms);
  w.boolean("m", t.buyer_is_maker);
  w.boolean("M", true);
}
inline void write_tick_fields(json_object_writer& w, const agg_trade& a) noexcept {
  w.str("e", "aggTrade");
  w.integer("E", a.event_time_ms);
  w.str("s", a.symbol.view());
  w.integer("a", a.agg_trade_id);
  w.decimal("p", a.price);
  w.decimal("q", a.quantity);
  w.integer("f", a.first_trade_id);
  w.integer("l", a.last_trade_id);
  w.integer("T", a.trade_time_ms);
  w.boolean("m", a.buyer_is_maker);
  w.boolean("M", true);
}
inline void write_tick_fields(json_object_writer& w, const book_ticker& b) noexcept {
  w.integer("u", b.update_id);
  if (b.event_time_ms) w.integer("E", *b.event_time_ms);
  w.str("s", b.symbol.view());
  w.decimal("b", b.bid_price);
  w.decimal("B", b.bid_quantity);
  w.decimal("a", b.ask_price);
  w.decimal("A", b.ask_quantity);
}

/// Writes `t` as one message at `out` (tick_message_capacity bytes) and returns its end: the
/// combined form {"stream":..,"data":{..}} when `stream` is not empty, else the bare object;
/// with "pw_ts" (the send time, ns since the epoch) when `sent_ns` is given.
inline char* write_tick_message(char* out, const tick& t, std::string_view stream,
                                polarway::option<std::int64_t> sent_ns) noexcept {
  json_object_writer w(out);
  if (!stream.empty()) {
    w.raw("{");
    w.str("stream", stream);
    w.key("data");
  }
  w.raw("{");
  w.reset_first();
  std::visit([&](const auto& v) { write_tick_fields(w, v); }, t);
  if (sent_ns) w.integer("pw_ts", *sent_ns);
  w.raw("}");
  if (!stream.empty()) w.raw("}");
  return w.end();
}

}  // namespace ticks
