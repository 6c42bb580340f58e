// What a datagram socket's receive reports: for recv_from, the size and the sender; for a
// batched receive (recv_many), one record per datagram, each naming the caller's buffer it was
// received into. A datagram larger than its buffer is truncated by the kernel (the rest is
// discarded, the next datagram is intact): recv and recv_from report that as an error
// (std::errc::message_size), recv_many as the record's `truncated` flag, since the other
// datagrams of the batch are fine.
#pragma once

#include <cstddef>
#include <span>

#include "polarway/net/socket_addr.hpp"

namespace polarway::net {

/// One datagram of a batched receive: the caller sets `buffer`, the receive fills the rest.
template <class Addr>
struct basic_datagram {
  /// Where the datagram goes (caller-provided, not owned).
  std::span<std::byte> buffer;
  /// How many bytes of `buffer` the datagram filled.
  std::size_t size = 0;
  /// The sender.
  Addr from{};
  /// The datagram was larger than `buffer`; its first buffer.size() bytes are there, the rest
  /// was discarded by the kernel.
  bool truncated = false;

  /// The received bytes.
  std::span<std::byte> data() const noexcept { return buffer.first(size); }
};

/// A UDP datagram record for udp_socket::recv_many.
using datagram = basic_datagram<socket_addr>;

/// What recv_from gives: the datagram's size and its sender (`auto [n, from] = *r;`).
template <class Addr>
struct received_from {
  std::size_t size = 0;
  Addr from{};
};

}  // namespace polarway::net
