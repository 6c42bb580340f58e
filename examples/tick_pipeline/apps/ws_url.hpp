// A feed address, "ws://host[:port]/path?query" or "wss://host[:port]/path?query" (RFC 6455
// section 3), split into what the connection needs: the TCP address to dial ("host:port",
// resolved by tcp_stream::connect when the host is a name), the host the TLS handshake names
// (SNI) and checks the certificate against, the Host header, and the request target.
//
// The host is a DNS name (letters, digits, '-', dot-separated labels of 1..63, 253 at most), an
// IPv4 literal or a bracketed IPv6 literal. The port defaults to 80 (ws) or 443 (wss). The URL
// comes from the command line, so anything else is refused with a typed error rather than
// guessed at: other schemes, user info, an empty or malformed host, a port outside 1..65535,
// a fragment (RFC 6455 forbids it), spaces or control characters, an overlong URL.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <polarway/result.hpp>

namespace ticks::app {

/// Why a feed URL was refused.
enum class ws_url_errc : std::uint8_t {
  unknown_scheme,  // not ws:// or wss://
  too_long,        // longer than ws_url::max_length
  user_info,       // "user@host": credentials do not belong in a feed URL
  empty_host,
  bad_host,  // not a DNS name, IPv4 literal or [IPv6] literal
  bad_port,  // empty, not digits, 0 or above 65535
  bad_target,  // a space, control character or fragment in the path or query
};

struct ws_url_error {
  ws_url_errc code;
  std::string detail;  // the offending part, quoted in message()

  std::string message() const;
};

struct ws_url {
  static constexpr std::size_t max_length = 4096;

  bool tls = false;          // wss://
  std::string host;          // "stream.example.com", "127.0.0.1", "::1" (no brackets)
  std::uint16_t port = 80;
  std::string connect_addr;  // "stream.example.com:443", "[::1]:80"
  std::string host_header;   // as written in the URL: "127.0.0.1:9000", "example.com"
  std::string target;        // "/stream?streams=btcusdt@trade"; "/" when absent

  /// "ws" or "wss".
  std::string_view scheme() const noexcept { return tls ? "wss" : "ws"; }
  /// The URL again, normalized: "wss://host:port/target", for log lines.
  std::string to_string() const;

  /// Parses a ws:// or wss:// URL.
  static polarway::result<ws_url, ws_url_error> parse(std::string_view text);
};

}  // namespace ticks::app
