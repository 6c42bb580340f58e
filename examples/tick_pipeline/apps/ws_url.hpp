// A feed address "ws://host:port/path?query", split into what the TCP connect needs
// ("127.0.0.1:9000"), what the Host header carries and the request target. Only plain ws://
// (no TLS in this example); the host must be something pw::net::socket_addr can parse without
// a resolver (an IPv4 literal, [IPv6] or localhost). The port defaults to 80.
#pragma once

#include <string>
#include <string_view>

#include <polarway/result.hpp>

namespace ticks::app {

struct ws_url {
  std::string connect_addr;  // "127.0.0.1:9000"
  std::string host_header;   // as written in the URL: "127.0.0.1:9000"
  std::string target;        // "/stream?streams=btcusdt@trade"; "/" when absent

  /// Parses a ws:// URL; the error says what is wrong with it.
  static polarway::result<ws_url, std::string> parse(std::string_view text);
};

}  // namespace ticks::app
