// ticks::control: the JSON control messages of a Binance stream connection, sans-I/O. A client
// changes a live connection's streams and asks what it has:
//
//   {"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@trade"],"id":1}
//   {"method":"UNSUBSCRIBE","params":["btcusdt@trade"],"id":2}
//   {"method":"LIST_SUBSCRIPTIONS","id":3}
//
// and the server answers each with the request's id: {"result":null,"id":1} for a change done,
// {"result":["btcusdt@aggTrade"],"id":3} for the list, or an error
// {"error":{"code":2,"msg":"Invalid request: ..."},"id":1}, with Binance's codes (error_code).
// An id is an unsigned 64-bit integer, a string of up to 36 letters, digits, '-' or '_', or null.
//
// Both directions are parsed strictly, with simdjson's error-code API: a missing, repeated,
// unknown or mistyped field, more than max_params streams, a param that is not a stream name
// (stream_set.hpp), an id out of range: each is a control_error whose code and text are the
// reply the feed sends (invalid_json when the text is not JSON at all), carrying the request's
// id when it could be read. Control messages are rare, so parsing copies the text into a padded
// buffer; encoding escapes every string it writes.
//
// is_control_reply() tells the ingest's decoder path a reply from a tick: it is asked only
// about a message that failed to decode as a tick with a schema error (a reply has neither
// "stream" nor any tick field), so ticks pay nothing for it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/result.hpp>

namespace ticks::control {

enum class method : std::uint8_t { subscribe, unsubscribe, list_subscriptions };

/// "SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS".
std::string_view to_string(method m) noexcept;

struct request_id {
  enum class kind : std::uint8_t { null, number, text };
  kind what = kind::null;
  std::uint64_t number = 0;  // kind::number
  std::string text;          // kind::text

  static request_id of(std::uint64_t n) { return request_id{kind::number, n, {}}; }
  static request_id of(std::string s) { return request_id{kind::text, 0, std::move(s)}; }
  friend bool operator==(const request_id&, const request_id&) = default;
};

inline constexpr std::size_t max_id_text_length = 36;
/// Streams one SUBSCRIBE or UNSUBSCRIBE may name: a connection carries at most 1024.
inline constexpr std::size_t max_params = 1024;

struct request {
  method what = method::list_subscriptions;
  std::vector<std::string> params;  // stream names; empty for LIST_SUBSCRIPTIONS
  request_id id;
};

/// Binance's error codes for stream control messages.
enum class error_code : int {
  unknown_property = 0,    // a property SET_PROPERTY / GET_PROPERTY does not know
  invalid_value_type = 1,  // a property value of the wrong type
  invalid_request = 2,     // well-formed JSON that is not a valid request (or reply)
  invalid_json = 3,        // not JSON
};

struct control_error {
  error_code code = error_code::invalid_request;
  std::string msg;  // as the error reply carries it: "Invalid request: ...", "Invalid JSON: ..."
  request_id id;    // the request's id if it was read before the problem, else null

  std::string message() const;  // "control message: <msg>"
};

struct reply {
  enum class kind : std::uint8_t { done, list, error } what = kind::done;
  request_id id;
  std::vector<std::string> streams;  // kind::list
  int error_code = 0;                // kind::error: the code as sent
  std::string error_msg;             // kind::error
};

/// The request as JSON text.
std::string encode(const request& r);
/// {"result":null,"id":..}: the request `id` was carried out.
std::string encode_done(const request_id& id);
/// {"result":[..],"id":..}: the streams of the connection, for LIST_SUBSCRIPTIONS.
std::string encode_list(const std::vector<std::string>& streams, const request_id& id);
/// {"error":{"code":..,"msg":".."},"id":..}.
std::string encode_error(const control_error& e);

/// A client's request (feed side). Params are checked as stream names, not against what the
/// server offers: that is the server's business.
polarway::result<request, control_error> parse_request(std::string_view json);
/// A server's reply (ingest side).
polarway::result<reply, control_error> parse_reply(std::string_view json);
/// Whether `json` is a well-formed reply: see the header comment for when to ask.
bool is_control_reply(std::string_view json);

}  // namespace ticks::control
