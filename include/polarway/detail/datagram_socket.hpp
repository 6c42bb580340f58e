// The one implementation of a datagram socket, shared by pw::net::udp_socket and
// pw::net::unix_datagram: a template over the public type's traits, which name the address a
// receive reports (socket_addr; a Unix name as a std::string), the records it fills (from
// net/datagram.hpp, which this layer does not include) and the operation names errors carry.
// Every operation follows the sockets' "try first, then wait" rule (detail/socket.hpp): the
// syscall with MSG_DONTWAIT, and only if it would block, a wait. A receive waits with the same
// operation in the worker's ring (POLL_FIRST) or for readiness; a send waits until the socket
// is writable and tries again (send_call says why it never sends from the ring).
//
// Receives pass MSG_TRUNC, with which UDP and Unix datagram sockets return a datagram's full
// length even when the buffer was smaller: that is how truncation is detected, on both
// backends and in recvmmsg's per-message lengths alike.
//
// The empty-socket hint of socket.hpp does not apply here: the kernel never sets
// IORING_CQE_F_SOCK_NONEMPTY for datagram receives, so a ring receive would leave the hint at
// "empty" for good and every later receive would skip its syscall. Each receive clears it.
//
// Batched receive (recv_many): recvmmsg(MSG_DONTWAIT) takes every queued datagram, up to the
// batch, in one syscall. When nothing is queued, the task waits for the first datagram (on
// io_uring, a recvmsg into the first record's buffer; on epoll, readiness), then takes what
// queued behind it with one more recvmmsg(MSG_DONTWAIT) that never waits. docs/design.md
// ("Datagram sockets") says why this and not batched or multishot recvmsg in the ring.
//
// Cancel-safety: every operation consumes a datagram only in a syscall that returns it, or in
// a ring operation whose completion a soft cancellation (pw::race, pw::timeout) hands to the
// caller. A receive aborted while waiting has taken nothing.
//
// One task may receive while another sends; two concurrent receivers (or senders) on one
// socket are not supported.
#pragma once

#include <liburing.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

#include "polarway/detail/io_awaiters.hpp"
#include "polarway/detail/socket.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::detail {

// The kernel caps a recvmmsg batch at UIO_MAXIOV (1024) messages.
inline constexpr std::size_t max_recv_batch = 1024;

// recvmmsg's headers for one batch. They are used only during one non-blocking syscall, never
// across a suspension, so one set per thread serves every socket.
struct recv_batch_scratch {
  std::vector<mmsghdr> headers;
  std::vector<iovec> iovs;
  std::vector<sockaddr_storage> names;

  static recv_batch_scratch& for_this_thread() {
    static thread_local recv_batch_scratch s;
    return s;
  }
};

// One message header with its iovec and sender address, for a single-datagram receive or send
// that may wait in the ring: it lives in the awaiting coroutine's frame.
struct single_msg {
  iovec iov{};
  sockaddr_storage name{};
  msghdr hdr{};

  single_msg(void* data, std::size_t size) noexcept {
    iov.iov_base = data;
    iov.iov_len = size;
    hdr.msg_iov = &iov;
    hdr.msg_iovlen = 1;
  }
  void expect_name() noexcept {
    hdr.msg_name = &name;
    hdr.msg_namelen = sizeof name;
  }
  void set_name(const sockaddr* sa, socklen_t len) noexcept {
    hdr.msg_name = const_cast<sockaddr*>(sa);
    hdr.msg_namelen = len;
  }
};

/// The operation names a datagram socket's errors carry ("udp_socket::recv").
struct datagram_op_names {
  const char* send;
  const char* recv;
  const char* send_to;
  const char* recv_from;
  const char* recv_many;
  const char* connect;
};

// Traits: `address` (what a receive reports the sender as), `record` (a basic_datagram of it),
// `received` (a received_from of it), `static address address_of(const sockaddr*, socklen_t)`
// and `static constexpr datagram_op_names names`.
template <class Traits>
class datagram_socket {
  using address = typename Traits::address;
  using record = typename Traits::record;
  using received = typename Traits::received;
  static constexpr const datagram_op_names& names = Traits::names;

 public:
  datagram_socket() noexcept = default;
  explicit datagram_socket(socket_fd fd) noexcept : fd_(std::move(fd)) {}

  /// Sends one datagram to the connected peer; returns its size.
  task<result<std::size_t>> send(std::span<const std::byte> buf) {
    const int fd = fd_.get();
    return send_call(
        [fd, buf] { return syscall_result(::send(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_NOSIGNAL)); },
        names.send);
  }

  /// Receives one datagram from the connected peer into `buf`; returns its size (0 for an
  /// empty datagram). A datagram larger than `buf` is the error std::errc::message_size (its
  /// first buf.size() bytes are in `buf`, the rest is gone).
  task<result<std::size_t>> recv(std::span<std::byte> buf) {
    if (deferred_error_ != 0) co_return err(take_deferred_error(names.recv));
    const int fd = fd_.get();
    fd_.set_read_probably_empty(false);  // see the header comment
    auto n = co_await socket_call(
        fd_, io_direction::read,
        [fd, buf] { return syscall_result(::recv(fd, buf.data(), buf.size(), MSG_DONTWAIT | MSG_TRUNC)); },
        [fd, buf](io_uring_sqe* sqe) { io_uring_prep_recv(sqe, fd, buf.data(), buf.size(), MSG_TRUNC); }, names.recv);
    if (n && *n > buf.size()) co_return err(error::from_errno(EMSGSIZE, names.recv));
    co_return n;
  }

  /// Receives one datagram and its sender. Truncation as for recv().
  task<result<received>> recv_from(std::span<std::byte> buf) {
    if (deferred_error_ != 0) co_return err(take_deferred_error(names.recv_from));
    const int fd = fd_.get();
    single_msg m(buf.data(), buf.size());
    fd_.set_read_probably_empty(false);
    auto n = co_await socket_call(
        fd_, io_direction::read,
        [fd, &m] {
          m.expect_name();
          return syscall_result(::recvmsg(fd, &m.hdr, MSG_DONTWAIT | MSG_TRUNC));
        },
        [fd, &m](io_uring_sqe* sqe) {
          m.expect_name();
          io_uring_prep_recvmsg(sqe, fd, &m.hdr, MSG_TRUNC);
        },
        names.recv_from);
    if (!n) co_return err(n.error());
    if (*n > buf.size()) co_return err(error::from_errno(EMSGSIZE, names.recv_from));
    co_return received{*n, Traits::address_of(reinterpret_cast<const sockaddr*>(&m.name), m.hdr.msg_namelen)};
  }

  /// Receives at least one and at most out.size() datagrams, each into its record's buffer;
  /// returns how many (records past that are untouched). Waits only for the first.
  task<result<std::size_t>> recv_many(std::span<record> out) {
    const std::size_t want = std::min(out.size(), max_recv_batch);
    if (want == 0) co_return std::size_t{0};
    out = out.first(want);
    if (deferred_error_ != 0) co_return err(take_deferred_error(names.recv_many));
    if (!coop_consume()) co_await yield_awaiter{};  // before any datagram is taken, as socket_call does
    const int fd = fd_.get();
    for (;;) {
      reactor& io = current_reactor(names.recv_many);
      const bool use_ring = io.kind() == backend_kind::io_uring;
      std::uint64_t seen = 0;
      readiness* r = nullptr;
      if (!use_ring) {
        auto rr = fd_.readiness_record();
        if (!rr) co_return err(rr.error());
        r = *rr;
        seen = r->seq(io_direction::read);
      }
      const int got = receive_batch(fd, out);
      if (got >= 0) co_return static_cast<std::size_t>(got);
      if (got == -EINTR) continue;
      if (got != -EAGAIN && got != -EWOULDBLOCK) co_return err(error::from_errno(-got, names.recv_many));
      if (use_ring) {
        // Nothing queued: the ring waits for the first datagram and receives it into out[0].
        single_msg m(out[0].buffer.data(), out[0].buffer.size());
        const bool poll_first = io.uring().has_poll_first();
        auto op = uring_op([fd, &m, poll_first](io_uring_sqe* sqe) {
          m.expect_name();
          io_uring_prep_recvmsg(sqe, fd, &m.hdr, MSG_TRUNC);
          if (poll_first) sqe->ioprio |= IORING_RECVSEND_POLL_FIRST;
        });
        const int res = co_await op;
        if (res == -EINTR || res == -EAGAIN) continue;
        if (res < 0) co_return err(error::from_errno(-res, names.recv_many));
        fill(out[0], static_cast<std::size_t>(res), m.name, m.hdr.msg_namelen);
        // Take what queued behind it, without waiting. An error there (a pending ICMP error,
        // say) belongs to the next receive: this one has a datagram to give.
        std::size_t total = 1;
        if (out.size() > 1) {
          const int more = receive_batch(fd, out.subspan(1));
          if (more > 0)
            total += static_cast<std::size_t>(more);
          else if (more != -EAGAIN && more != -EWOULDBLOCK && more != -EINTR)
            deferred_error_ = -more;
        }
        co_return total;
      }
      co_await r->wait(io_direction::read, seen);
    }
  }

  /// The file descriptor (still owned by the socket).
  int native_handle() const noexcept { return fd_.get(); }
  bool is_open() const noexcept { return fd_.valid(); }
  /// Closes the socket now (the destructor does it otherwise).
  void close() noexcept { fd_.close(); }

 protected:
  // Sends one datagram to `to` (anything with native() and native_len()); returns its size.
  template <class Native>
  task<result<std::size_t>> send_to(std::span<const std::byte> buf, Native to) {
    const int fd = fd_.get();
    return send_call([fd, buf, to] { return send_to_now(fd, buf, to); }, names.send_to);
  }

  // One attempt at sending to `to`, without waiting: the size, or the error (EAGAIN included).
  template <class Native>
  result<std::size_t> try_send_to(std::span<const std::byte> buf, const Native& to) {
    int n = 0;
    do n = send_to_now(fd_.get(), buf, to);
    while (n == -EINTR);
    if (n < 0) return err(error::from_errno(-n, names.send_to));
    return static_cast<std::size_t>(n);
  }

  // A non-blocking datagram socket of `family`, unbound.
  static result<socket_fd> open(int family, const char* what) {
    const int fd = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return err(error::from_errno(errno, what));
    return socket_fd(fd);
  }
  // The same, bound to `addr`.
  template <class Native>
  static result<socket_fd> open_bound(const Native& addr, const char* what) {
    auto s = open(addr.family(), what);
    if (s && ::bind(s->get(), addr.native(), addr.native_len()) < 0) return err(error::from_errno(errno, what));
    return s;
  }

  // Sets the default peer: send() goes to it, recv() takes only its datagrams.
  template <class Native>
  result<void> connect_to(const Native& addr) {
    if (::connect(fd_.get(), addr.native(), addr.native_len()) < 0) return err(error::from_errno(errno, names.connect));
    return ok();
  }

  // setsockopt with an int value.
  result<void> set_int_option(int level, int name, int value, const char* what) {
    if (::setsockopt(fd_.get(), level, name, &value, sizeof value) < 0) return err(error::from_errno(errno, what));
    return ok();
  }

  socket_fd fd_;

 private:
  static int syscall_result(ssize_t n) noexcept { return n >= 0 ? static_cast<int>(n) : -errno; }

  // sendmsg(MSG_DONTWAIT) of one datagram to `to`: its size, or -errno.
  template <class Native>
  static int send_to_now(int fd, std::span<const std::byte> buf, const Native& to) noexcept {
    single_msg m(const_cast<std::byte*>(buf.data()), buf.size());
    m.set_name(to.native(), to.native_len());
    return syscall_result(::sendmsg(fd, &m.hdr, MSG_DONTWAIT | MSG_NOSIGNAL));
  }

  // A send: `attempt()` (the syscall, >= 0 or -errno), and while it would block, a wait until
  // the socket is writable (a poll in the ring, or epoll readiness), then the syscall again.
  // Never the send itself in the ring: Linux's ring send on a Unix datagram socket whose
  // receiver is full copies the datagram on a refused attempt, and its retry then sends an
  // empty datagram and reports 0 (docs/design.md, "Datagram sockets"). A send cancelled after
  // its poll completed goes on to its syscall (soft cancellation, as for any completed
  // operation): it sends, or, if the socket is full again, waits once more.
  template <class Attempt>
  task<result<std::size_t>> send_call(Attempt attempt, const char* what) {
    return socket_call(fd_, io_direction::write, std::move(attempt), poll_then_retry{}, what);
  }

  // An error met by recv_many after it had received a datagram: reported by the next receive.
  error take_deferred_error(const char* what) noexcept {
    return error::from_errno(std::exchange(deferred_error_, 0), what);
  }

  static void fill(record& rec, std::size_t full_length, const sockaddr_storage& name, socklen_t name_len) {
    rec.size = std::min(full_length, rec.buffer.size());
    rec.truncated = full_length > rec.buffer.size();
    rec.from = Traits::address_of(reinterpret_cast<const sockaddr*>(&name), name_len);
  }

  // recvmmsg(MSG_DONTWAIT | MSG_TRUNC) into `out`: how many datagrams (>= 1), or -errno.
  static int receive_batch(int fd, std::span<record> out) {
    auto& s = recv_batch_scratch::for_this_thread();
    if (s.headers.size() < out.size()) {
      s.headers.resize(out.size());
      s.iovs.resize(out.size());
      s.names.resize(out.size());
    }
    for (std::size_t i = 0; i < out.size(); ++i) {
      s.iovs[i] = iovec{out[i].buffer.data(), out[i].buffer.size()};
      msghdr& h = s.headers[i].msg_hdr;
      h = msghdr{};
      h.msg_name = &s.names[i];
      h.msg_namelen = sizeof s.names[i];
      h.msg_iov = &s.iovs[i];
      h.msg_iovlen = 1;
    }
    const int n =
        ::recvmmsg(fd, s.headers.data(), static_cast<unsigned>(out.size()), MSG_DONTWAIT | MSG_TRUNC, nullptr);
    if (n < 0) return -errno;
    for (int i = 0; i < n; ++i) {
      const auto& h = s.headers[static_cast<std::size_t>(i)];
      fill(out[static_cast<std::size_t>(i)], h.msg_len, s.names[static_cast<std::size_t>(i)], h.msg_hdr.msg_namelen);
    }
    return n;
  }

  int deferred_error_ = 0;  // an errno met after a datagram was received, for the next receive
};

}  // namespace polarway::detail
