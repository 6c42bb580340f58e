// pw::net::unix_datagram: a Unix-domain datagram socket, the same datagram socket as
// udp_socket over another address family (detail/datagram_socket.hpp is the one
// implementation): send/recv when connected, send_to/recv_from with names, recv_many in
// batches, truncation reported the same way (std::errc::message_size from recv and recv_from,
// the record's `truncated` flag from recv_many), the same cancel-safety.
//
// A name is a filesystem path, or a Linux abstract name when it starts with a NUL byte:
// std::string_view("\0name", 5), as unix_listener and unix_stream take them (the rules are in
// detail/unix_address.hpp: at most 107 bytes, longer is filename_too_long). A sender is
// reported by its name in the same spelling, "" for an unnamed socket (unbound(), pair()).
// Binding a path creates the socket file and nothing removes it: remove a stale one first.
//
// Unlike UDP, a Unix datagram is never dropped for want of room: a send to a socket whose
// queue is full waits until the receiver makes room. The kernel wakes a connected sender when
// its peer's queue has room, so send() waits as every socket call does. send_to() has no such
// wake-up: the skb of each refused attempt is freed on the sender's own socket, which reports
// it as writable, so waiting for readiness would retry at once, forever (measured: a busy
// loop on both backends). send_to() therefore retries after a pause that doubles from 1 ms to
// 16 ms while the queue stays full.
#pragma once

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "polarway/detail/datagram_socket.hpp"
#include "polarway/detail/socket_name.hpp"
#include "polarway/detail/unix_address.hpp"
#include "polarway/error.hpp"
#include "polarway/net/datagram.hpp"
#include "polarway/result.hpp"
#include "polarway/runtime/yield_now.hpp"
#include "polarway/task.hpp"
#include "polarway/time/sleep.hpp"

namespace polarway::net {

namespace detail_unix_datagram {

struct traits {
  using address = std::string;
  using record = basic_datagram<std::string>;
  using received = received_from<std::string>;
  static std::string address_of(const sockaddr* sa, socklen_t len) {
    return polarway::detail::unix_address::name_of(sa, len);
  }
  static constexpr polarway::detail::datagram_op_names names{
      .send = "unix_datagram::send",
      .recv = "unix_datagram::recv",
      .send_to = "unix_datagram::send_to",
      .recv_from = "unix_datagram::recv_from",
      .recv_many = "unix_datagram::recv_many",
      .connect = "unix_datagram::connect",
  };
};

}  // namespace detail_unix_datagram

class unix_datagram : private polarway::detail::datagram_socket<detail_unix_datagram::traits> {
  using base = polarway::detail::datagram_socket<detail_unix_datagram::traits>;

 public:
  /// A record of a batched receive: recv_many fills `size`, `from` (the sender's name) and
  /// `truncated`.
  using datagram = basic_datagram<std::string>;

  unix_datagram() noexcept = default;

  /// A socket bound to `path` (a filesystem path that must not exist yet, or an abstract name
  /// starting with '\0').
  static result<unix_datagram> bind(std::string_view path) {
    constexpr const char* what = "unix_datagram::bind";
    auto addr = polarway::detail::unix_address::from_name(path, what);
    if (!addr) return err(addr.error());
    auto fd = open_bound(*addr, what);
    if (!fd) return err(fd.error());
    return unix_datagram(std::move(*fd));
  }

  /// An unnamed socket: it can send (its datagrams come from "") and receive what is sent to
  /// it once connected.
  static result<unix_datagram> unbound() {
    auto fd = open(AF_UNIX, "unix_datagram::unbound");
    if (!fd) return err(fd.error());
    return unix_datagram(std::move(*fd));
  }

  /// Two unnamed sockets connected to each other (socketpair).
  static result<std::pair<unix_datagram, unix_datagram>> pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) < 0)
      return err(error::from_errno(errno, "unix_datagram::pair"));
    return std::pair{unix_datagram(polarway::detail::socket_fd(fds[0])),
                     unix_datagram(polarway::detail::socket_fd(fds[1]))};
  }

  /// Sets the default peer by its name: send() goes to it, recv() takes only its datagrams.
  result<void> connect(std::string_view path) {
    auto addr = polarway::detail::unix_address::from_name(path, "unix_datagram::connect");
    if (!addr) return err(addr.error());
    return connect_to(*addr);
  }

  /// co_await s.send(buf) -> result<size_t>: one datagram to the connected peer.
  using base::send;
  /// co_await s.recv(buf) -> result<size_t>: one datagram from the connected peer.
  using base::recv;
  /// co_await s.recv_from(buf) -> result<received_from<std::string>>: one datagram and its
  /// sender's name ("" for an unnamed sender).
  using base::recv_from;
  /// co_await s.recv_many(std::span<unix_datagram::datagram>) -> result<size_t>: at least one
  /// datagram, at most as many as records (and 1024); waits only for the first.
  using base::recv_many;

  /// co_await s.send_to(buf, path) -> result<size_t>: one datagram to the socket named `path`
  /// (read before the call returns; nothing there is no_such_file_or_directory, a socket file
  /// nobody holds connection_refused).
  task<result<std::size_t>> send_to(std::span<const std::byte> buf, std::string_view path) {
    auto addr = polarway::detail::unix_address::from_name(path, "unix_datagram::send_to");
    if (!addr) return failed(addr.error());
    return send_to_pausing(buf, *addr);
  }

  using base::close;
  using base::is_open;
  using base::native_handle;

  /// This socket's name, as bind() took it; "" if unnamed.
  result<std::string> local_path() const {
    return polarway::detail::query_name(native_handle(), ::getsockname, polarway::detail::unix_address::name_of,
                                        "unix_datagram::local_path");
  }
  /// The connected peer's name; "" if it is unnamed.
  result<std::string> peer_path() const {
    return polarway::detail::query_name(native_handle(), ::getpeername, polarway::detail::unix_address::name_of,
                                        "unix_datagram::peer_path");
  }

 private:
  explicit unix_datagram(polarway::detail::socket_fd fd) noexcept : base(std::move(fd)) {}

  static task<result<std::size_t>> failed(error e) { co_return err(e); }

  // send_to's wait for room (see the header comment). The budget is charged before the first
  // attempt, as every socket call does, so an aborted task has sent nothing.
  task<result<std::size_t>> send_to_pausing(std::span<const std::byte> buf, polarway::detail::unix_address to) {
    if (!polarway::detail::coop_consume()) co_await yield_now();
    for (auto pause = std::chrono::milliseconds(1);; pause = std::min(pause * 2, std::chrono::milliseconds(16))) {
      auto n = try_send_to(buf, to);
      if (n || n.error() != std::errc::resource_unavailable_try_again) co_return n;
      co_await sleep(pause);
    }
  }
};

}  // namespace polarway::net
