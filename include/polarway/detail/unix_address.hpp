// detail::unix_address: a Unix-domain socket address (sockaddr_un) built from a name, and the
// name read back from one. Every Unix socket of polarway names its address this way:
//   "/run/app.sock", "app.sock"        a filesystem path: bind creates the socket file, and
//                                       nothing removes it (a stale file makes bind fail with
//                                       address_in_use: remove it first)
//   std::string_view("\0app", 4)        a Linux abstract name: a leading NUL byte, as the kernel
//                                       spells it; no file, the name goes with its last socket
// The NUL is the kernel's own marker and cannot start a path, so no name is ambiguous; an '@'
// is an ordinary path character. Note that the literal "\0app" converts to an empty
// std::string_view through const char*: spell the length, or use the "sv" suffix.
// sun_path holds 108 bytes: a path takes at most 107 (the kernel wants room for its
// terminating NUL), an abstract name 107 after its NUL. A longer name is a filename_too_long
// error (ENAMETOOLONG), never truncated; an empty name, or a path with a NUL inside, is
// invalid_input.
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "polarway/error.hpp"
#include "polarway/result.hpp"

namespace polarway::detail {

class unix_address {
 public:
  static constexpr std::size_t max_name = sizeof(sockaddr_un::sun_path) - 1;

  /// The address `name` stands for (see above); `what` names the operation for a too-long name.
  static result<unix_address> from_name(std::string_view name, const char* what) {
    if (name.empty())
      return err(error(errc::invalid_input,
                       "unix socket name: empty (an abstract name is a std::string_view that starts with '\\0')"));
    const bool abstract = name.front() == '\0';
    if (!abstract && name.find('\0') != std::string_view::npos)
      return err(error(errc::invalid_input, "unix socket name: a path may not contain a NUL byte"));
    if (name.size() - (abstract ? 1 : 0) > max_name) return err(error::from_errno(ENAMETOOLONG, what));
    unix_address a;
    a.sun_.sun_family = AF_UNIX;
    std::memcpy(a.sun_.sun_path, name.data(), name.size());
    // A path ends at its terminating NUL (counted, as the kernel's own addresses do); an
    // abstract name is exactly its bytes.
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size() + (abstract ? 0 : 1));
    return a;
  }

  /// The name in a kernel address, as from_name() takes it ("" for an unnamed socket).
  static std::string name_of(const sockaddr* sa, socklen_t len) {
    constexpr socklen_t offset = offsetof(sockaddr_un, sun_path);
    if (len <= offset || sa->sa_family != AF_UNIX) return {};
    const char* p = reinterpret_cast<const sockaddr_un*>(sa)->sun_path;
    const std::size_t n = std::min<std::size_t>(len - offset, sizeof(sockaddr_un::sun_path));
    if (p[0] == '\0') return std::string(p, n);
    return std::string(p, ::strnlen(p, n));
  }

  int family() const noexcept { return AF_UNIX; }
  const sockaddr* native() const noexcept { return reinterpret_cast<const sockaddr*>(&sun_); }
  socklen_t native_len() const noexcept { return len_; }

 private:
  sockaddr_un sun_{};
  socklen_t len_ = 0;
};

}  // namespace polarway::detail
