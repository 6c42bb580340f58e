#include "ws_url.hpp"

#include <polarway/net/socket_addr.hpp>

namespace ticks::app {

namespace pw = polarway;

namespace {

bool is_ascii_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// A DNS name: dot-separated labels of letters, digits and '-' (not at either end), 1..63
// bytes each, 253 in all; one trailing dot allowed. A name made of digits and dots only must
// be a valid IPv4 literal instead (checked by the caller), so "1.2.3.999" is not a name.
bool is_dns_name(std::string_view h) noexcept {
  if (!h.empty() && h.back() == '.') h.remove_suffix(1);
  if (h.empty() || h.size() > 253) return false;
  bool all_numeric = true;
  std::size_t start = 0;
  for (;;) {
    const std::size_t dot = h.find('.', start);
    const std::string_view label = h.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label) {
      if (!is_ascii_alnum(c) && c != '-') return false;
      if (c < '0' || c > '9') all_numeric = false;
    }
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  return !all_numeric;
}

pw::result<std::uint16_t, ws_url_error> parse_port(std::string_view digits) {
  if (digits.empty() || digits.size() > 5) return pw::err(ws_url_error{ws_url_errc::bad_port, std::string(digits)});
  unsigned value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return pw::err(ws_url_error{ws_url_errc::bad_port, std::string(digits)});
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value == 0 || value > 65535) return pw::err(ws_url_error{ws_url_errc::bad_port, std::string(digits)});
  return static_cast<std::uint16_t>(value);
}

}  // namespace

std::string ws_url_error::message() const {
  const std::string quoted = "'" + detail + "'";
  switch (code) {
    case ws_url_errc::unknown_scheme:
      return "a feed URL starts with ws:// or wss://, not " + quoted;
    case ws_url_errc::too_long:
      return "the URL is longer than " + std::to_string(ws_url::max_length) + " bytes";
    case ws_url_errc::user_info:
      return "user info (" + quoted + ") is not allowed in a feed URL";
    case ws_url_errc::empty_host:
      return "the URL has no host";
    case ws_url_errc::bad_host:
      return "bad host " + quoted + ": not a DNS name, IPv4 address or [IPv6] address";
    case ws_url_errc::bad_port:
      return "bad port " + quoted + ": a number from 1 to 65535";
    case ws_url_errc::bad_target:
      return "the URL path has a space, control character or fragment: " + quoted;
  }
  return "bad URL";
}

std::string ws_url::to_string() const { return std::string(scheme()) + "://" + connect_addr + target; }

pw::result<ws_url, ws_url_error> ws_url::parse(std::string_view text) {
  if (text.size() > max_length) return pw::err(ws_url_error{ws_url_errc::too_long, {}});
  ws_url u;
  const auto sep = text.find("://");
  const std::string_view scheme = sep == std::string_view::npos ? std::string_view() : text.substr(0, sep);
  if (iequals(scheme, "wss")) u.tls = true;
  else if (!iequals(scheme, "ws"))
    return pw::err(ws_url_error{ws_url_errc::unknown_scheme, std::string(text.substr(0, std::min<std::size_t>(text.size(), 16)))});
  text.remove_prefix(sep + 3);

  const auto slash = text.find_first_of("/?#");
  const std::string_view authority = text.substr(0, slash);
  std::string target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  if (target.front() == '?') target.insert(target.begin(), '/');
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f || c == '#')
      return pw::err(ws_url_error{ws_url_errc::bad_target, target.substr(0, 64)});
  if (authority.find('@') != std::string_view::npos)
    return pw::err(ws_url_error{ws_url_errc::user_info, std::string(authority.substr(0, authority.find('@')))});

  // Host and port: "[v6]:port", "[v6]", "host:port", "host".
  std::string_view host_part = authority;
  std::string_view port_part;
  bool has_port = false;
  bool bracketed = false;
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return pw::err(ws_url_error{ws_url_errc::bad_host, std::string(authority)});
    bracketed = true;
    host_part = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return pw::err(ws_url_error{ws_url_errc::bad_host, std::string(authority)});
      has_port = true;
      port_part = after.substr(1);
    }
  } else if (const auto colon = authority.find(':'); colon != std::string_view::npos) {
    host_part = authority.substr(0, colon);
    port_part = authority.substr(colon + 1);
    has_port = true;
  }
  if (host_part.empty()) return pw::err(ws_url_error{ws_url_errc::empty_host, {}});
  u.port = u.tls ? 443 : 80;
  if (has_port) {
    auto p = parse_port(port_part);
    if (!p) return pw::err(p.error());
    u.port = *p;
  }
  const std::string port_text = std::to_string(u.port);
  if (bracketed) {
    // Only an IPv6 literal goes in brackets.
    const std::string addr = "[" + std::string(host_part) + "]:" + port_text;
    auto parsed = pw::net::socket_addr::parse(addr);
    if (!parsed || !parsed->is_ipv6()) return pw::err(ws_url_error{ws_url_errc::bad_host, std::string(host_part)});
    u.connect_addr = addr;
  } else {
    const std::string addr = std::string(host_part) + ":" + port_text;
    if (!pw::net::socket_addr::parse(addr) && !is_dns_name(host_part))
      return pw::err(ws_url_error{ws_url_errc::bad_host, std::string(host_part.substr(0, 64))});
    u.connect_addr = addr;
  }
  u.host = std::string(host_part);
  u.host_header = std::string(authority);
  u.target = std::move(target);
  return u;
}

}  // namespace ticks::app
