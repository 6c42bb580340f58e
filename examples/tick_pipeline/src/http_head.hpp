// A minimal HTTP/1.1 message-head reader for the WebSocket handshake: a start line and header
// fields, as views into the caller's buffer. It is strict where laxness invites smuggling or
// injection (CRLF line ends only, no obs-fold, no control characters, token header names) and
// does nothing else (no bodies, no chunking). Private to the codec.
#pragma once

#include <string_view>
#include <vector>

#include <polarway/option.hpp>

namespace ticks::detail {

struct http_field {
  std::string_view name;
  std::string_view value;  // without leading or trailing spaces and tabs
};

struct http_head {
  std::string_view start_line;
  std::vector<http_field> fields;

  /// The value of the only field called `name`; none if it is absent or repeated.
  polarway::option<std::string_view> single(std::string_view name) const;
  /// Whether any field called `name` exists.
  bool has(std::string_view name) const;
  /// Whether `token` is an element of the comma list in any field called `name`.
  bool has_token(std::string_view name, std::string_view token) const;
};

bool iequals(std::string_view a, std::string_view b) noexcept;
bool is_tchar(char c) noexcept;

/// Splits `head` (everything up to and including the blank line) into a start line and fields;
/// none if any line is malformed.
polarway::option<http_head> parse_http_head(std::string_view head);

}  // namespace ticks::detail
