// pw::net::udp_socket: a UDP socket, IPv4 or IPv6. Unconnected, it sends to any address
// (send_to) and receives from anyone (recv_from); connected (connect), it sends to and receives
// from one peer (send, recv), and a port-unreachable answer from that peer surfaces as the
// error std::errc::connection_refused on a later send or receive, after which the socket works
// as before. recv_many receives a batch of datagrams with one syscall where they are queued.
//
// Each send is one datagram, sent whole or not at all. A received datagram larger than the
// buffer is reported: recv and recv_from fail with std::errc::message_size (the datagram is
// consumed, its first bytes are in the buffer, the next receive gets the next datagram);
// recv_many sets the record's `truncated` flag.
//
// Receives are cancel-safe: a receive that loses a pw::race or a pw::timeout has taken no
// datagram, or, if its datagram had already arrived when the cancellation reached it, delivers
// it as its value in the race's result (race_result::completed). Sends are atomic, so a
// cancelled send has sent the datagram or not. One task may receive while another sends; two
// concurrent receivers (or senders) on one socket are not supported.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "polarway/detail/datagram_socket.hpp"
#include "polarway/detail/socket_name.hpp"
#include "polarway/error.hpp"
#include "polarway/net/datagram.hpp"
#include "polarway/net/socket_addr.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::net {

namespace detail_udp {

struct traits {
  using address = socket_addr;
  using record = datagram;
  using received = received_from<socket_addr>;
  static socket_addr address_of(const sockaddr* sa, socklen_t len) noexcept {
    return socket_addr::from_native(sa, len);
  }
  static constexpr polarway::detail::datagram_op_names names{
      .send = "udp_socket::send",
      .recv = "udp_socket::recv",
      .send_to = "udp_socket::send_to",
      .recv_from = "udp_socket::recv_from",
      .recv_many = "udp_socket::recv_many",
      .connect = "udp_socket::connect",
  };
};

}  // namespace detail_udp

class udp_socket : private polarway::detail::datagram_socket<detail_udp::traits> {
  using base = polarway::detail::datagram_socket<detail_udp::traits>;

 public:
  udp_socket() noexcept = default;

  /// Binds to `addr` ("127.0.0.1:0", "[::1]:0", "0.0.0.0:5000"); port 0 lets the kernel pick
  /// one (local_addr() tells which).
  static result<udp_socket> bind(std::string_view addr) {
    auto parsed = socket_addr::parse(addr);
    if (!parsed) return err(parsed.error());
    return bind(*parsed);
  }
  static result<udp_socket> bind(const socket_addr& addr) {
    auto fd = open_bound(addr, "udp_socket::bind");
    if (!fd) return err(fd.error());
    return udp_socket(std::move(*fd));
  }

  /// Sets the default peer: send() goes to it, recv() takes only its datagrams.
  result<void> connect(std::string_view addr) {
    auto parsed = socket_addr::parse(addr);
    if (!parsed) return err(parsed.error());
    return connect(*parsed);
  }
  result<void> connect(const socket_addr& addr) { return connect_to(addr); }

  /// co_await u.send(buf) -> result<size_t>: one datagram to the connected peer.
  using base::send;
  /// co_await u.recv(buf) -> result<size_t>: one datagram from the connected peer.
  using base::recv;
  /// co_await u.send_to(buf, addr) -> result<size_t>: one datagram to `addr`.
  task<result<std::size_t>> send_to(std::span<const std::byte> buf, const socket_addr& addr) {
    return base::send_to(buf, addr);
  }
  /// co_await u.recv_from(buf) -> result<received_from<socket_addr>>: one datagram, its sender.
  using base::recv_from;
  /// co_await u.recv_many(std::span<datagram>) -> result<size_t>: at least one datagram, at most
  /// as many as records (and 1024), each into its record's buffer; waits only for the first.
  using base::recv_many;

  using base::close;
  using base::is_open;
  using base::native_handle;

  /// The address the socket is bound to (with the port the kernel chose for port 0).
  result<socket_addr> local_addr() const {
    return polarway::detail::query_name(native_handle(), ::getsockname, socket_addr::from_native,
                                        "udp_socket::local_addr");
  }
  /// The connected peer's address.
  result<socket_addr> peer_addr() const {
    return polarway::detail::query_name(native_handle(), ::getpeername, socket_addr::from_native,
                                        "udp_socket::peer_addr");
  }

  /// Joins the IPv4 multicast `group` ("239.1.2.3") on the interface with address `iface`
  /// ("0.0.0.0": the kernel's choice).
  result<void> join_multicast_v4(std::string_view group, std::string_view iface) {
    return membership_v4(IP_ADD_MEMBERSHIP, group, iface, "udp_socket::join_multicast_v4");
  }
  result<void> leave_multicast_v4(std::string_view group, std::string_view iface) {
    return membership_v4(IP_DROP_MEMBERSHIP, group, iface, "udp_socket::leave_multicast_v4");
  }
  /// Joins the IPv6 multicast `group` ("ff02::1:3") on the interface with index `interface`
  /// (0: the kernel's choice; if_nametoindex("eth0") gives one).
  result<void> join_multicast_v6(std::string_view group, unsigned interface) {
    return membership_v6(IPV6_ADD_MEMBERSHIP, group, interface, "udp_socket::join_multicast_v6");
  }
  result<void> leave_multicast_v6(std::string_view group, unsigned interface) {
    return membership_v6(IPV6_DROP_MEMBERSHIP, group, interface, "udp_socket::leave_multicast_v6");
  }

  /// Whether multicast datagrams this socket sends loop back to this host's members (IPv4;
  /// the kernel's default is on).
  result<void> set_multicast_loop_v4(bool on) {
    return set_int_option(IPPROTO_IP, IP_MULTICAST_LOOP, on, "udp_socket::set_multicast_loop_v4");
  }
  result<void> set_multicast_loop_v6(bool on) {
    return set_int_option(IPPROTO_IPV6, IPV6_MULTICAST_LOOP, on, "udp_socket::set_multicast_loop_v6");
  }
  /// How many hops an IPv4 multicast datagram may take (default 1: this link only).
  result<void> set_multicast_ttl_v4(std::uint32_t ttl) {
    return set_int_option(IPPROTO_IP, IP_MULTICAST_TTL, static_cast<int>(ttl), "udp_socket::set_multicast_ttl_v4");
  }
  /// The interface, by its address, that IPv4 multicast datagrams leave by ("127.0.0.1").
  result<void> set_multicast_if_v4(std::string_view iface) {
    constexpr const char* what = "udp_socket::set_multicast_if_v4";
    auto a = parse_v4(iface, what);
    if (!a) return err(a.error());
    if (::setsockopt(native_handle(), IPPROTO_IP, IP_MULTICAST_IF, &*a, sizeof *a) < 0)
      return err(error::from_errno(errno, what));
    return ok();
  }
  /// The interface, by its index, that IPv6 multicast datagrams leave by.
  result<void> set_multicast_if_v6(unsigned interface) {
    return set_int_option(IPPROTO_IPV6, IPV6_MULTICAST_IF, static_cast<int>(interface),
                          "udp_socket::set_multicast_if_v6");
  }
  /// SO_BROADCAST: allows sending to a broadcast address.
  result<void> set_broadcast(bool on) {
    return set_int_option(SOL_SOCKET, SO_BROADCAST, on, "udp_socket::set_broadcast");
  }

 private:
  explicit udp_socket(polarway::detail::socket_fd fd) noexcept : base(std::move(fd)) {}

  static result<in_addr> parse_v4(std::string_view text, const char* what) {
    char buf[INET_ADDRSTRLEN] = {};
    in_addr a{};
    if (text.size() >= sizeof buf) return err(error(errc::invalid_input, what));
    text.copy(buf, text.size());
    if (::inet_pton(AF_INET, buf, &a) != 1) return err(error(errc::invalid_input, what));
    return a;
  }

  result<void> membership_v4(int option, std::string_view group, std::string_view iface, const char* what) {
    ip_mreq m{};
    auto g = parse_v4(group, what);
    if (!g) return err(g.error());
    auto i = parse_v4(iface, what);
    if (!i) return err(i.error());
    m.imr_multiaddr = *g;
    m.imr_interface = *i;
    if (::setsockopt(native_handle(), IPPROTO_IP, option, &m, sizeof m) < 0) return err(error::from_errno(errno, what));
    return ok();
  }

  result<void> membership_v6(int option, std::string_view group, unsigned interface, const char* what) {
    char buf[INET6_ADDRSTRLEN] = {};
    ipv6_mreq m{};
    if (group.size() >= sizeof buf) return err(error(errc::invalid_input, what));
    group.copy(buf, group.size());
    if (::inet_pton(AF_INET6, buf, &m.ipv6mr_multiaddr) != 1) return err(error(errc::invalid_input, what));
    m.ipv6mr_interface = interface;
    if (::setsockopt(native_handle(), IPPROTO_IPV6, option, &m, sizeof m) < 0)
      return err(error::from_errno(errno, what));
    return ok();
  }
};

}  // namespace polarway::net
