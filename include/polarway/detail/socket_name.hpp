// detail::query_name: a socket's own address (getsockname) or its peer's (getpeername), read
// into the public address type of its family.
#pragma once

#include <sys/socket.h>

#include <cerrno>

#include "polarway/error.hpp"
#include "polarway/result.hpp"

namespace polarway::detail {

/// `fd`'s address, asked of the kernel with `query` (::getsockname or ::getpeername) and
/// turned into a value by `convert(const sockaddr*, socklen_t)`.
template <class Query, class Convert>
auto query_name(int fd, Query query, Convert convert, const char* what)
    -> result<decltype(convert(static_cast<const sockaddr*>(nullptr), socklen_t{}))> {
  sockaddr_storage storage{};
  socklen_t len = sizeof storage;
  if (query(fd, reinterpret_cast<sockaddr*>(&storage), &len) < 0) return err(error::from_errno(errno, what));
  return convert(reinterpret_cast<const sockaddr*>(&storage), len);
}

}  // namespace polarway::detail
