// pw::net::socket_addr: an IPv4 or IPv6 address with a port. parse() accepts "1.2.3.4:80",
// "[::1]:80" and "localhost:80" (as 127.0.0.1); anything else is an invalid_input error that
// says what was wrong. Name resolution beyond localhost is not done here (it would block).
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
#include "polarway/result.hpp"

namespace polarway::net {

class socket_addr {
 public:
  socket_addr() noexcept { std::memset(&ss_, 0, sizeof ss_); }

  /// Parses "a.b.c.d:port", "[v6]:port" or "localhost:port".
  static result<socket_addr> parse(std::string_view text) {
    constexpr const char* ctx = "socket_addr::parse";
    auto bad = [&](const char* why) { return err(error(errc::invalid_input, why ? why : ctx)); };
    std::string_view host, port_text;
    bool v6 = false;
    if (!text.empty() && text.front() == '[') {
      const auto close = text.find(']');
      if (close == std::string_view::npos) return bad("socket_addr::parse: '[' without ']'");
      host = text.substr(1, close - 1);
      if (close + 1 >= text.size() || text[close + 1] != ':') return bad("socket_addr::parse: missing ':port'");
      port_text = text.substr(close + 2);
      v6 = true;
    } else {
      const auto colon = text.rfind(':');
      if (colon == std::string_view::npos) return bad("socket_addr::parse: missing ':port'");
      host = text.substr(0, colon);
      if (host.find(':') != std::string_view::npos) return bad("socket_addr::parse: IPv6 addresses need [brackets]");
      port_text = text.substr(colon + 1);
    }
    unsigned port = 0;
    const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535)
      return bad("socket_addr::parse: the port must be a number from 0 to 65535");
    if (host.empty() || host.size() >= INET6_ADDRSTRLEN) return bad("socket_addr::parse: missing or overlong host");
    if (!v6 && host == "localhost") host = "127.0.0.1";
    char buf[INET6_ADDRSTRLEN] = {};
    std::memcpy(buf, host.data(), host.size());
    socket_addr a;
    if (v6) {
      auto* sa = reinterpret_cast<sockaddr_in6*>(&a.ss_);
      if (::inet_pton(AF_INET6, buf, &sa->sin6_addr) != 1) return bad("socket_addr::parse: not an IPv6 address");
      sa->sin6_family = AF_INET6;
      sa->sin6_port = htons(static_cast<std::uint16_t>(port));
      a.len_ = sizeof(sockaddr_in6);
    } else {
      auto* sa = reinterpret_cast<sockaddr_in*>(&a.ss_);
      if (::inet_pton(AF_INET, buf, &sa->sin_addr) != 1)
        return bad("socket_addr::parse: not an IPv4 address (host names other than localhost are not resolved)");
      sa->sin_family = AF_INET;
      sa->sin_port = htons(static_cast<std::uint16_t>(port));
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
