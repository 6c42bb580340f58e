// pw::net::lookup_host("host:port"): the addresses a host name stands for, as Tokio's
// lookup_host. getaddrinfo blocks (DNS, /etc/hosts, NSS modules), so it runs on the runtime's
// blocking pool through spawn_blocking; a numeric address ("10.0.0.1:80", "[::1]:80") is
// answered at once, without the pool.
//
// Input is checked before anything is looked up: "host:port" or "[IPv6]:port", a port from 0
// to 65535, a non-empty host of at most 253 bytes (the longest DNS name) with no NUL in it.
// Anything else is an errc::invalid_input error that says what was wrong. A name that does not
// resolve is an error in lookup_category() (getaddrinfo's EAI_* code, compare with lookup_errc)
// whose context names the host: "net::lookup_host(no-such-host.invalid)". Bytes outside
// printable ASCII are written \xNN there, so a hostile name cannot inject into a log.
//
// Cancel-safety: a task aborted (or a pw::race lost) while waiting for the answer goes at once;
// the getaddrinfo call, which cannot be interrupted, finishes on the pool and its answer is
// dropped.
#pragma once

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "polarway/detail/interned_text.hpp"
#include "polarway/error.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/spawn_blocking.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

/// getaddrinfo's failures that a caller may want to tell apart; codes in lookup_category().
enum class lookup_errc {
  host_not_found = EAI_NONAME,  // the name is unknown (or not a valid name)
#if defined(EAI_NODATA)
  no_address = EAI_NODATA,  // the name exists but has no address
#endif
  try_again = EAI_AGAIN,       // a temporary failure of the name server
  failed = EAI_FAIL,           // a permanent failure of the name server
  out_of_memory = EAI_MEMORY,  // (also equal to std::errc::not_enough_memory)
};

namespace detail_lookup {
class category_impl final : public std::error_category {
 public:
  const char* name() const noexcept override { return "getaddrinfo"; }
  std::string message(int value) const override { return ::gai_strerror(value); }
  std::error_condition default_error_condition(int value) const noexcept override {
    if (value == EAI_MEMORY) return std::errc::not_enough_memory;
    return {value, *this};
  }
};
}  // namespace detail_lookup

/// The category of getaddrinfo's EAI_* codes: the code's value is the EAI_* constant and its
/// message is gai_strerror's.
inline const std::error_category& lookup_category() noexcept {
  static const detail_lookup::category_impl category;
  return category;
}

/// Lets `e.code() == pw::net::lookup_errc::host_not_found` work.
inline std::error_code make_error_code(lookup_errc e) noexcept { return {static_cast<int>(e), lookup_category()}; }

/// `r.error() == pw::net::lookup_errc::host_not_found`.
inline bool operator==(const error& e, lookup_errc c) noexcept { return e.code() == make_error_code(c); }

}  // namespace polarway::net

template <>
struct std::is_error_code_enum<polarway::net::lookup_errc> : std::true_type {};

namespace polarway::net {

namespace detail_lookup {

inline constexpr std::size_t max_host_bytes = 253;
// Longer input is refused before it is even split: the longest valid one is a 253-byte host,
// brackets and ":65535".
inline constexpr std::size_t max_input_bytes = max_host_bytes + 8;
inline constexpr const char* what = "net::lookup_host";

// What to look up: an address already known (numeric input), or a name and a port.
struct target {
  option<socket_addr> numeric;
  std::string host;
  std::uint16_t port = 0;
  bool bracketed = false;
};

inline result<target> parse(std::string_view text) {
  auto bad = [](const char* why) { return err(error(errc::invalid_input, why)); };
  if (text.size() > max_input_bytes) return bad("net::lookup_host: the input is too long for \"host:port\"");
  auto split = polarway::detail::split_host_port(text);
  if (!split) {
    using fault = polarway::detail::host_port_fault;
    switch (split.error()) {
      case fault::unclosed_bracket: return bad("net::lookup_host: '[' without ']'");
      case fault::missing_port: return bad("net::lookup_host: missing ':port'");
      case fault::unbracketed_ipv6: return bad("net::lookup_host: IPv6 addresses need [brackets]");
      case fault::bad_port: return bad("net::lookup_host: the port must be a number from 0 to 65535");
    }
    return bad(what);
  }
  const std::string_view host = split->host;
  if (host.empty()) return bad("net::lookup_host: missing host");
  if (host.size() > max_host_bytes) return bad("net::lookup_host: host longer than 253 bytes");
  if (host.find('\0') != std::string_view::npos) return bad("net::lookup_host: NUL byte in the host");
  target t;
  t.port = split->port;
  t.bracketed = split->bracketed;
  t.numeric = socket_addr::numeric(host, split->bracketed, split->port);
  if (!t.numeric) t.host = std::string(host);
  return t;
}

// "net::lookup_host(<host>)", interned so that it outlives every copy of the error; the plain
// operation name once the table is full.
inline const char* context_naming(std::string_view host) {
  std::string text = "net::lookup_host(";
  for (unsigned char c : host) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      text += static_cast<char>(c);
    } else {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      text += esc;
    }
  }
  text += ')';
  const char* interned = polarway::detail::intern(text);
  return interned ? interned : what;
}

// The blocking part, on a pool thread.
inline result<std::vector<socket_addr>> resolve_blocking(const std::string& host, std::uint16_t port, bool bracketed) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;  // one entry per address, not one per socket type
  if (bracketed) {
    // A bracketed host is an IPv6 literal that inet_pton refused, e.g. one with a scope id
    // ("fe80::1%lo"): getaddrinfo parses those, and must not send them to DNS.
    hints.ai_family = AF_INET6;
    hints.ai_flags = AI_NUMERICHOST;
  }
  addrinfo* list = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
  if (rc != 0) {
    if (bracketed) return err(error(errc::invalid_input, "net::lookup_host: not an IPv6 address"));
    if (rc == EAI_SYSTEM) return err(error::from_errno(errno, context_naming(host)));
    return err(error(std::error_code(rc, lookup_category()), context_naming(host)));
  }
  std::vector<socket_addr> out;
  for (const addrinfo* ai = list; ai; ai = ai->ai_next) {
    if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6) continue;
    sockaddr_storage ss{};
    if (ai->ai_addrlen > sizeof ss) continue;
    std::memcpy(&ss, ai->ai_addr, ai->ai_addrlen);
    if (ai->ai_family == AF_INET) reinterpret_cast<sockaddr_in*>(&ss)->sin_port = htons(port);
    else reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port = htons(port);
    const socket_addr a = socket_addr::from_native(reinterpret_cast<const sockaddr*>(&ss), ai->ai_addrlen);
    bool seen = false;
    for (const socket_addr& b : out) seen = seen || b == a;
    if (!seen) out.push_back(a);
  }
  ::freeaddrinfo(list);
  if (out.empty()) return err(error(make_error_code(lookup_errc::host_not_found), context_naming(host)));
  return out;
}

inline task<result<std::vector<socket_addr>>> resolve(result<target> t) {
  if (!t) co_return err(t.error());
  if (t->numeric) {
    std::vector<socket_addr> one(1, *t->numeric);
    co_return one;
  }
  // The handle is a named value, not a temporary of the co_await expression (see "Compiler bugs
  // to keep in mind" in docs/design.md).
  join_handle<result<std::vector<socket_addr>>> call = spawn_blocking(
      [host = std::move(t->host), port = t->port, bracketed = t->bracketed] { return resolve_blocking(host, port, bracketed); });
  auto answer = co_await call;
  if (!answer) {
    // The call never ran (the runtime is shutting down), or (with exceptions on) it ran out of
    // memory.
    if (answer.error().is_cancelled()) co_return err(error(errc::runtime_shut_down, what));
    co_return err(error(std::errc::not_enough_memory, what));
  }
  co_return std::move(*answer);
}

}  // namespace detail_lookup

/// The addresses of "host:port" or "[IPv6]:port", in getaddrinfo's order, without duplicates
/// and never empty. The text is checked, and copied, when lookup_host is called, so the task
/// does not refer to it.
inline task<result<std::vector<socket_addr>>> lookup_host(std::string_view host_and_port) {
  return detail_lookup::resolve(detail_lookup::parse(host_and_port));
}

}  // namespace polarway::net
