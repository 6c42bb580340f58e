// detail::query_name: a socket's own address (getsockname) or its peer's (getpeername), as the
// kernel writes it, for the public address types of each family to read.
#pragma once

#include <sys/socket.h>

#include <cerrno>

#include "polarway/error.hpp"
#include "polarway/result.hpp"

namespace polarway::detail {

/// A socket address as the kernel wrote it, with its length.
struct native_name {
  sockaddr_storage storage{};
  socklen_t len = sizeof(sockaddr_storage);
  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
};

/// Asks the kernel for `fd`'s address with `query` (::getsockname or ::getpeername).
template <class Query>
result<native_name> query_name(int fd, Query query, const char* what) {
  native_name n;
  if (query(fd, reinterpret_cast<sockaddr*>(&n.storage), &n.len) < 0) return err(error::from_errno(errno, what));
  return n;
}

}  // namespace polarway::detail
