// ticks::subscription_request: the opening request of a subscriber to polarway-ingest's
// --publish feed, sans-I/O. One line of ASCII, at most max_subscription_request bytes with its
// final '\n' ("\r\n" is accepted too):
//
//   polarway-ticks/1 kind=trade symbols=BTCUSDT,ETHUSDT policy=lossy
//
// The version word comes first, then space-separated key=value pairs in any order:
//   kind     required: trade, aggTrade or bookTicker (one Arrow IPC stream has one schema, so a
//            subscriber that wants several kinds opens one connection per kind)
//   symbols  optional: comma-separated symbols ([A-Z0-9]{1,20}), at most max_subscribed_symbols;
//            absent means every symbol
//   policy   optional: block (the default: a slow subscriber slows the feed, nothing is lost) or
//            lossy (its oldest undelivered batches are dropped, counted and reported to it)
// A missing or unknown version, an unknown, repeated or empty key, a bad value, a byte outside
// printable ASCII: each is a subscription_error whose text the server sends back as the refusal.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/result.hpp>

#include "ticks/symbol.hpp"
#include "ticks/tick.hpp"

namespace ticks {

inline constexpr std::string_view subscription_protocol = "polarway-ticks/1";
/// The longest request line, '\n' included.
inline constexpr std::size_t max_subscription_request = 1024;
inline constexpr std::size_t max_subscribed_symbols = 256;

enum class delivery_policy : std::uint8_t { block, lossy };

constexpr std::string_view to_string(delivery_policy p) noexcept { return p == delivery_policy::block ? "block" : "lossy"; }

struct subscription_request {
  message_kind kind = message_kind::trade;
  std::vector<symbol> symbols;  // sorted, no duplicates; empty: every symbol
  delivery_policy policy = delivery_policy::block;

  /// Whether a tick of this request's kind and `s` is wanted.
  bool wants(const symbol& s) const noexcept;
};

struct subscription_error {
  std::string text;
};

/// Parses one request line, without its '\n' (a trailing '\r' is ignored).
polarway::result<subscription_request, subscription_error> parse_subscription_request(std::string_view line);

/// The request line for `r`, with its '\n': what a client sends.
std::string format_subscription_request(const subscription_request& r);

}  // namespace ticks
