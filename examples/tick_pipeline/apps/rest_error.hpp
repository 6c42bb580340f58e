// ticks::app::rest_error: why a REST request (http_client.hpp, rest_client.hpp) gave no rows.
// Every failure of a backfill is one of these kinds, never an exception and never silent:
//   transport      curl could not complete the exchange: DNS, connect, TLS verification, a
//                  timeout, a malformed or truncated response (curl's code and message)
//   too_large      the body exceeded the client's limit (declared or received): the transfer
//                  was cut at the limit, so a hostile server cannot make us buffer more
//   http_status    a status >= 400, with the Binance code and msg when the body carries them,
//                  and Retry-After (seconds) for 429 / 418 (rate limited, banned)
//   decode         a 200 whose body is not the rows the endpoint promises (rest_decoder.hpp)
//   no_api_key     historicalTrades needs X-MBX-APIKEY and none was configured
#pragma once

#include <cstdint>
#include <string>

#include <polarway/option.hpp>

#include "ticks/rest_decoder.hpp"

namespace ticks::app {

struct rest_error {
  enum class kind : std::uint8_t { transport, too_large, http_status, decode, no_api_key };

  kind what = kind::transport;
  std::string url;                 // the request, for the log
  int curl_code = 0;               // transport: CURLcode
  std::string curl_message;        // transport: curl's own words (its error buffer, else its strerror)
  long status = 0;                 // http_status
  polarway::option<binance_error> binance;        // http_status, when the body is Binance's error
  polarway::option<std::uint64_t> retry_after_s;  // http_status, when the answer says
  polarway::option<rest_decode_error> decode;     // decode

  /// 429 or 418: the exchange asks us to slow down (or has banned us for a while).
  bool rate_limited() const noexcept { return what == kind::http_status && (status == 429 || status == 418); }
  /// Worth another try later: transport failures, 5xx, rate limits. A 4xx other than those,
  /// a body we cannot decode or a missing key will not get better by asking again.
  bool retryable() const noexcept {
    return what == kind::transport || rate_limited() || (what == kind::http_status && status >= 500);
  }
  std::string message() const;
};

inline std::string rest_error::message() const {
  std::string text = url.empty() ? std::string("REST") : "GET " + url;
  switch (what) {
    case kind::transport:
      return text + ": " + curl_message + " (curl " + std::to_string(curl_code) + ")";
    case kind::too_large:
      return text + ": response body above the size limit";
    case kind::http_status:
      text += ": HTTP " + std::to_string(status);
      if (binance) text += ", Binance code " + std::to_string(binance->code) + ": " + binance->msg;
      if (retry_after_s) text += ", retry after " + std::to_string(*retry_after_s) + " s";
      return text;
    case kind::decode:
      return text + ": " + (decode ? decode->message() : std::string("undecodable body"));
    case kind::no_api_key:
      return text + ": historicalTrades needs an API key (--api-key-file)";
  }
  return text;
}

}  // namespace ticks::app
