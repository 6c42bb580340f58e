// ticks::parse_rest_request: the request head of a plain HTTP GET to the feed's REST history
// (/api/v3/aggTrades?symbol=BTCUSDT&fromId=5&limit=10), parsed strictly, sans-I/O. The head
// has already passed the HTTP head reader (CRLF lines, token field names, no controls); here
// the request line, the target's path and query, and the fields the REST side needs.
//
// The query is name=value pairs joined by '&'. Names are [A-Za-z0-9_], values [A-Za-z0-9._-]
// (what Binance's parameters use); there is no percent-decoding, so one spelling means one
// value. An empty pair, a pair without '=', a character outside those sets or a name given
// twice is an error naming the parameter when there is one. A request with a body
// (Content-Length other than 0, or Transfer-Encoding) is refused: a GET here has none, and
// reading past one would let its bytes pass for the next request. Everything returned views
// the caller's head.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

namespace ticks {

struct query_param {
  std::string_view name;
  std::string_view value;
};

struct rest_request {
  std::string_view method;
  std::string_view path;  // the target up to '?'
  std::vector<query_param> params;
  polarway::option<std::string_view> api_key;  // X-MBX-APIKEY, when given exactly once
  bool keep_alive = true;                      // HTTP/1.1 unless "Connection: close"

  /// The value of parameter `name`, none if absent.
  polarway::option<std::string_view> param(std::string_view name) const;
};

enum class rest_request_errc : std::uint8_t {
  malformed,          // not an HTTP/1.1 request head
  bad_target,         // the target is not a path, or the path has characters outside [A-Za-z0-9/_.-]
  bad_query,          // a pair is empty, has no '=', or its name or value has a character not allowed
  duplicate_param,    // a parameter given twice
  too_many_params,    // more than max_query_params
  body_not_allowed,   // Content-Length other than 0, or Transfer-Encoding
};

struct rest_request_error {
  rest_request_errc code;
  std::string_view param;  // the parameter concerned (bad_query, duplicate_param), when known
};

inline constexpr std::size_t max_query_params = 32;

/// Splits a query string ("a=1&b=2", without the '?') into its pairs.
polarway::result<std::vector<query_param>, rest_request_error> parse_query(std::string_view query);

/// Parses a complete request head (through its blank line).
polarway::result<rest_request, rest_request_error> parse_rest_request(std::string_view head);

}  // namespace ticks
