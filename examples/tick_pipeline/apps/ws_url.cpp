#include "ws_url.hpp"

#include <polarway/net/socket_addr.hpp>

namespace ticks::app {

namespace pw = polarway;

pw::result<ws_url, std::string> ws_url::parse(std::string_view text) {
  constexpr std::string_view scheme = "ws://";
  if (text.substr(0, 6) == "wss://") return pw::err(std::string("wss:// (TLS) is not supported; use ws://"));
  if (text.substr(0, scheme.size()) != scheme) return pw::err(std::string("a feed URL starts with ws://"));
  text.remove_prefix(scheme.size());
  const auto slash = text.find_first_of("/?");
  std::string_view authority = text.substr(0, slash);
  std::string target = slash == std::string_view::npos ? "/" : std::string(text.substr(slash));
  if (target.front() == '?') target.insert(target.begin(), '/');
  if (authority.empty()) return pw::err(std::string("the URL has no host"));
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return pw::err(std::string("the URL path has a space or control character"));
  ws_url u;
  u.host_header = std::string(authority);
  // A port is present if the authority ends in ":digits" outside an IPv6 bracket.
  const auto colon = authority.rfind(':');
  const auto bracket = authority.rfind(']');
  const bool has_port = colon != std::string_view::npos && (bracket == std::string_view::npos || colon > bracket);
  u.connect_addr = has_port ? std::string(authority) : std::string(authority) + ":80";
  auto addr = pw::net::socket_addr::parse(u.connect_addr);
  if (!addr) return pw::err("bad host or port '" + std::string(authority) + "': " + addr.error().message());
  u.target = std::move(target);
  return u;
}

}  // namespace ticks::app
