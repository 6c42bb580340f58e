// pw::net::socket_addr: an IPv4 or IPv6 address with a port. parse() accepts "1.2.3.4:80",
// "[::1]:80" and "localhost:80" (as 127.0.0.1); anything else is an invalid_input error that
// says what was wrong. Name resolution beyond localhost is not done here (it would block):
// pw::net::lookup_host does it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "polarway/error.hpp"
#include "polarway/option.hpp"
#include "polarway/result.hpp"

namespace polarway::detail {

/// What is wrong with a "host:port" text (each caller words its own message).
enum class host_port_fault { unclosed_bracket, missing_port, unbracketed_ipv6, bad_port };

struct host_port {
  std::string_view host;  // without the brackets
  std::uint16_t port = 0;
  bool bracketed = false;  // "[host]:port", the form IPv6 literals take
};

/// Splits "host:port" or "[host]:port" (the port a decimal from 0 to 65535, nothing else). The
/// host may be empty; a host with a ':' must be bracketed.
inline result<host_port, host_port_fault> split_host_port(std::string_view text) noexcept {
  host_port out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return err(host_port_fault::unclosed_bracket);
    if (close + 1 >= text.size() || text[close + 1] != ':') return err(host_port_fault::missing_port);
    out.host = text.substr(1, close - 1);
    port_text = text.substr(close + 2);
    out.bracketed = true;
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) return err(host_port_fault::missing_port);
    out.host = text.substr(0, colon);
    if (out.host.find(':') != std::string_view::npos) return err(host_port_fault::unbracketed_ipv6);
    port_text = text.substr(colon + 1);
  }
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
    return err(host_port_fault::bad_port);
  out.port = static_cast<std::uint16_t>(port);
  return out;
}

}  // namespace polarway::detail

namespace polarway::net {

class socket_addr {
 public:
  socket_addr() noexcept { std::memset(&ss_, 0, sizeof ss_); }

  /// Parses "a.b.c.d:port", "[v6]:port" or "localhost:port".
  static result<socket_addr> parse(std::string_view text) {
    auto bad = [](const char* why) { return err(error(errc::invalid_input, why)); };
    auto split = detail::split_host_port(text);
    if (!split) {
      switch (split.error()) {
        case detail::host_port_fault::unclosed_bracket: return bad("socket_addr::parse: '[' without ']'");
        case detail::host_port_fault::missing_port: return bad("socket_addr::parse: missing ':port'");
        case detail::host_port_fault::unbracketed_ipv6: return bad("socket_addr::parse: IPv6 addresses need [brackets]");
        case detail::host_port_fault::bad_port:
          return bad("socket_addr::parse: the port must be a number from 0 to 65535");
      }
      return bad("socket_addr::parse");
    }
    std::string_view host = split->host;
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return bad("socket_addr::parse: missing or overlong host");
    if (!split->bracketed && host == "localhost") host = "127.0.0.1";
    auto a = numeric(host, split->bracketed, split->port);
    if (a) return *a;
    return bad(split->bracketed ? "socket_addr::parse: not an IPv6 address"
                                : "socket_addr::parse: not an IPv4 address (host names other than localhost are not resolved)");
  }

  /// The address for a numeric host (an IPv4 literal, or an IPv6 one if `ipv6`) and a port;
  /// none if `host` is not one. Never resolves a name.
  static option<socket_addr> numeric(std::string_view host, bool ipv6, std::uint16_t port) noexcept {
    char buf[INET6_ADDRSTRLEN] = {};
    if (host.size() >= sizeof buf) return none;
    std::memcpy(buf, host.data(), host.size());
    if (std::memchr(buf, '\0', host.size())) return none;
    socket_addr a;
    if (ipv6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&a.ss_);
      if (::inet_pton(AF_INET6, buf, &sa->sin6_addr) != 1) return none;
      sa->sin6_family = AF_INET6;
      sa->sin6_port = htons(port);
      a.len_ = sizeof(sockaddr_in6);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&a.ss_);
      if (::inet_pton(AF_INET, buf, &sa->sin_addr) != 1) return none;
      sa->sin_family = AF_INET;
      sa->sin_port = htons(port);
      a.len_ = sizeof(sockaddr_in);
    }
    return a;
  }

  /// From a kernel sockaddr (accept, getpeername).
  static socket_addr from_native(const sockaddr* sa, socklen_t len) noexcept {
    socket_addr a;
    if (len > sizeof a.ss_) len = sizeof a.ss_;
    std::memcpy(&a.ss_, sa, len);
    a.len_ = len;
    return a;
  }

  bool is_ipv4() const noexcept { return ss_.ss_family == AF_INET; }
  bool is_ipv6() const noexcept { return ss_.ss_family == AF_INET6; }
  std::uint16_t port() const noexcept {
    if (is_ipv4()) return ntohs(reinterpret_cast<const sockaddr_in*>(&ss_)->sin_port);
    if (is_ipv6()) return ntohs(reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_port);
    return 0;
  }
  /// "127.0.0.1:41234" or "[::1]:80".
  std::string to_string() const {
    char buf[INET6_ADDRSTRLEN] = {};
    if (is_ipv4()) {
      ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&ss_)->sin_addr, buf, sizeof buf);
      return std::string(buf) + ":" + std::to_string(port());
    }
    if (is_ipv6()) {
      ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&ss_)->sin6_addr, buf, sizeof buf);
      return "[" + std::string(buf) + "]:" + std::to_string(port());
    }
    return "<unspecified>";
  }

  const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&ss_); }
  socklen_t native_len() const noexcept { return len_; }
  int family() const noexcept { return ss_.ss_family; }

  friend bool operator==(const socket_addr& a, const socket_addr& b) noexcept {
    return a.len_ == b.len_ && std::memcmp(&a.ss_, &b.ss_, a.len_) == 0;
  }

 private:
  sockaddr_storage ss_;
  socklen_t len_ = 0;
};

}  // namespace polarway::net
