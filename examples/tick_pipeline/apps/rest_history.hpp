// ticks::app::rest_history: the feed's REST history, Binance's format, answered from the
// market (market.hpp) for the data it has produced so far:
//
//   GET /api/v3/aggTrades?symbol=BTCUSDT&fromId=N[&limit=L]         the aggTrade market
//   GET /api/v3/historicalTrades?symbol=BTCUSDT&fromId=N[&limit=L]  the trade market; needs
//                                                                   the X-MBX-APIKEY header
//
// Each answers a JSON array of the symbol's messages with id fromId, fromId+1, ... in id order,
// at most `limit` (default 500, 1..1000), only messages the market has already produced (so
// possibly fewer, or none). The values are the stream message's with that id, byte for byte
// (the same generator and formatter): aggTrades {"a","p","q","f","l","T","m","M"},
// historicalTrades {"id","price","qty","quoteQty","time","isBuyerMaker","isBestMatch"}, where
// quoteQty is price * qty rounded half up to 8 decimals. Symbols are upper case here
// ("BTCUSDT"), as on Binance. fromId is required (Binance's "most recent trades" without it
// is not simulated).
//
// Errors are Binance's JSON {"code":..,"msg":..}: 400 -1121 unknown symbol; 400 -1102 a
// required parameter missing or empty; 400 -1100 illegal characters in a parameter; 400
// -1130 limit out of range; 400 -1101 a parameter given twice; 400 -1104 a parameter that is
// not read; 401 -2014 no API key (-2015 one that is not the configured --api-key); 404 an
// unknown path or a method other than GET. Without a market (no --rate) every history path
// answers 404 with code -1000.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include <polarway/option.hpp>

#include "market.hpp"
#include "ticks/rest_request.hpp"

namespace ticks::app {

struct rest_reply {
  int status = 200;
  std::string body;  // JSON
  polarway::option<std::uint64_t> retry_after_s;  // sent as Retry-After (a 429's)
};

/// At most `per_s` REST requests in each second of the clock (--rest-limit); 0: no limit.
/// Binance weighs requests against a budget per minute and answers beyond it 429 with
/// Retry-After; the simulator counts requests per second, so that a test need not wait out a
/// minute. Thread-safe: connections on any worker share one.
class rest_rate_limit {
 public:
  explicit rest_rate_limit(std::uint64_t per_s) : per_s_(per_s) {}
  /// none: admitted; else the refusal to send (429, Binance's -1003, Retry-After to the next
  /// second).
  polarway::option<rest_reply> admit(std::int64_t now_ns);

 private:
  std::uint64_t per_s_;
  std::mutex mu_;
  std::int64_t second_ = -1;  // guarded by mu_
  std::uint64_t used_ = 0;    // requests admitted in second_, guarded by mu_
};

class rest_history {
 public:
  /// `m` may be null (no market). `api_key` empty: any non-empty key is accepted.
  rest_history(market* m, std::span<const symbol> symbols, std::string api_key);

  rest_reply answer(const rest_request& request, std::int64_t now_ns) const;
  /// The reply to a request that did not parse.
  static rest_reply reject(const rest_request_error& e);

 private:
  market* market_;
  std::map<std::string, std::size_t, std::less<>> symbol_index_;  // "BTCUSDT" -> index
  std::string api_key_;
};

/// The HTTP response for `reply`: JSON content type, its length, Retry-After if it has one,
/// and Connection: close unless keep_alive.
std::string http_json_response(const rest_reply& reply, bool keep_alive);

}  // namespace ticks::app
