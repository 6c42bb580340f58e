// UDP on whichever backend the environment selects (CI runs the suite with the default and
// with POLARWAY_BACKEND=epoll). UDP may drop datagrams when a receive buffer overflows, so the
// tests that send many pace their senders with a window (a semaphore the receiver refills):
// every datagram sent must then arrive, and the tests check that each one does, once and
// intact.
#include "polarway/net/udp_socket.hpp"

#include <doctest/doctest.h>
#include <ifaddrs.h>
#include <net/if.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/datagrams.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 8;
#else
constexpr int scale = 1;
#endif

using pw_test::bytes;
using pw_test::check_payload;
using pw_test::length_of;
using pw_test::payload;
using pw_test::text;

// Sends datagrams 0..count-1 (length_of(seq) bytes each) to `to`, one window permit each.
pw::task<bool> send_numbered(pw::net::udp_socket& tx, pw::net::socket_addr to, std::uint32_t count,
                             pw::semaphore& window) {
  for (std::uint32_t seq = 0; seq < count; ++seq) {
    auto permit = co_await window.acquire();
    if (!permit) co_return false;
    permit->forget();
    const auto p = payload(seq, length_of(seq));
    auto n = co_await tx.send_to(p, to);
    if (!n || *n != p.size()) co_return false;
  }
  co_return true;
}

pw::net::udp_socket bound(const char* addr) { return pw::net::udp_socket::bind(addr).unwrap(); }

}  // namespace

TEST_CASE("IPv4 and IPv6 ping-pong: send_to/recv_from carry the right addresses and bytes") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (const char* any : {"127.0.0.1:0", "[::1]:0"}) {
    CAPTURE(any);
    rt.block_on([](const char* any) -> pw::task<void> {
      auto a = bound(any);
      auto b = bound(any);
      const auto a_addr = a.local_addr().unwrap();
      const auto b_addr = b.local_addr().unwrap();
      CHECK(a_addr.port() != 0);
      CHECK(a_addr.port() != b_addr.port());
      CHECK(a_addr.is_ipv6() == (any[0] == '['));
      auto pong = pw::spawn([](pw::net::udp_socket& b) -> pw::task<int> {
        std::byte buf[64];
        int served = 0;
        for (int i = 0; i < 100; ++i) {
          auto got = co_await b.recv_from(buf);
          if (!got) co_return -1;
          auto [n, from] = *got;
          // Reply with the same bytes reversed, to the sender recv_from named.
          std::vector<std::byte> reply(buf, buf + n);
          std::reverse(reply.begin(), reply.end());
          if ((co_await b.send_to(reply, from)).unwrap_or(0) != n) co_return -1;
          ++served;
        }
        co_return served;
      }(b));
      for (int i = 0; i < 100; ++i) {
        const std::string msg = "ping " + std::to_string(i);
        CHECK((co_await a.send_to(bytes(msg.c_str()), b_addr)).unwrap_or(0) == msg.size());
        std::byte buf[64];
        auto got = co_await a.recv_from(buf);
        REQUIRE(got.is_ok());
        CHECK(got->from == b_addr);
        CHECK(text(std::span(buf, got->size)) == std::string(msg.rbegin(), msg.rend()));
      }
      CHECK((co_await pong).unwrap_or(0) == 100);
    }(any));
  }
}

TEST_CASE("bind: port 0 is the kernel's choice, a bad address is invalid_input, a taken port an OS error") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto a = pw::net::udp_socket::bind("127.0.0.1:0").unwrap();
  const auto addr = a.local_addr().unwrap();
  CHECK(addr.port() != 0);
  CHECK(addr.to_string().rfind("127.0.0.1:", 0) == 0);
  auto taken = pw::net::udp_socket::bind(addr);
  REQUIRE(taken.is_err());
  CHECK(taken.error() == std::errc::address_in_use);
  CHECK(std::string(taken.error().context()) == "udp_socket::bind");
  CHECK(pw::net::udp_socket::bind("nonsense").error() == pw::errc::invalid_input);
  CHECK(a.peer_addr().is_err());  // not connected
}

TEST_CASE("connected sockets: send/recv, and datagrams from strangers are filtered out") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto a = bound("127.0.0.1:0");
    auto b = bound("127.0.0.1:0");
    auto stranger = bound("127.0.0.1:0");
    REQUIRE(a.connect(b.local_addr().unwrap()).is_ok());
    REQUIRE(b.connect(a.local_addr().unwrap().to_string()).is_ok());
    CHECK(a.peer_addr().unwrap() == b.local_addr().unwrap());
    // The stranger's datagram reaches b's port but b is connected to a: the kernel drops it.
    CHECK((co_await stranger.send_to(bytes("intruder"), b.local_addr().unwrap())).is_ok());
    for (int i = 0; i < 50; ++i) {
      const std::string msg = "hello " + std::to_string(i);
      CHECK((co_await a.send(bytes(msg.c_str()))).unwrap_or(0) == msg.size());
      std::byte buf[64];
      auto n = co_await b.recv(buf);
      REQUIRE(n.is_ok());
      CHECK(text(std::span(buf, *n)) == msg);
      CHECK((co_await b.send(std::span(buf, *n))).is_ok());
      auto back = co_await a.recv(buf);
      REQUIRE(back.is_ok());
      CHECK(text(std::span(buf, *back)) == msg);
    }
  }());
}

TEST_CASE("recv_many: 1000 datagrams already queued, in batches, contents and senders checked") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto rx = bound("127.0.0.1:0");
    auto tx = bound("127.0.0.1:0");
    const auto rx_addr = rx.local_addr().unwrap();
    const auto tx_addr = tx.local_addr().unwrap();
    constexpr std::uint32_t total = 1000, window = 100;
    pw_test::record_set<pw::net::datagram> records(32, 1024);
    auto& batch = records.list;
    std::uint32_t next = 0;
    std::size_t calls = 0, biggest = 0;
    for (std::uint32_t sent = 0; sent < total; sent += window) {
      // A window's worth queued before anyone receives (fits in the default receive buffer).
      for (std::uint32_t seq = sent; seq < sent + window; ++seq)
        REQUIRE((co_await tx.send_to(payload(seq, length_of(seq)), rx_addr)).is_ok());
      while (next < sent + window) {
        auto n = co_await rx.recv_many(batch);
        REQUIRE(n.is_ok());
        REQUIRE(*n >= 1);
        REQUIRE(*n <= batch.size());
        ++calls;
        biggest = std::max(biggest, *n);
        for (std::size_t i = 0; i < *n; ++i) {
          CHECK(batch[i].from == tx_addr);
          CHECK_FALSE(batch[i].truncated);
          CHECK(check_payload(batch[i].data()) == next);
          CHECK(batch[i].size == length_of(next));
          ++next;
        }
      }
    }
    CHECK(next == total);
    CHECK(biggest == batch.size());  // queued datagrams come in full batches
    CHECK(calls < total / 4);
  }());
}

TEST_CASE("recv_many: a sender on another worker, paced by a window; every datagram arrives once") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto rx = bound("[::1]:0");
    auto tx = bound("[::1]:0");
    const std::uint32_t total = 1000;
    pw::semaphore window(64);
    auto sender = pw::spawn(send_numbered(tx, rx.local_addr().unwrap(), total, window));
    pw_test::record_set<pw::net::datagram> records(16, 1024);
    auto& batch = records.list;
    std::vector<int> seen(total, 0);
    std::uint32_t received = 0;
    while (received < total) {
      auto n = co_await pw::timeout(10s, rx.recv_many(batch));
      REQUIRE(n.is_ok());
      REQUIRE(n->is_ok());
      for (std::size_t i = 0; i < **n; ++i) {
        const auto seq = check_payload(batch[i].data());
        REQUIRE(seq >= 0);
        REQUIRE(seq < total);
        ++seen[static_cast<std::size_t>(seq)];
      }
      received += static_cast<std::uint32_t>(**n);
      window.add_permits(**n);
    }
    CHECK((co_await sender).unwrap_or(false));
    CHECK(std::count(seen.begin(), seen.end(), 1) == total);
  }());
}

TEST_CASE("hostile input: an oversized datagram is reported and the next one is intact") {
  // Both when the datagrams are already queued and when the receive waits for them (on one
  // worker, a spawned receiver runs until it waits before the sender goes on).
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto rx = bound("127.0.0.1:0");
    auto tx = bound("127.0.0.1:0");
    const auto rx_addr = rx.local_addr().unwrap();
    REQUIRE(tx.connect(rx_addr).is_ok());
    REQUIRE(rx.connect(tx.local_addr().unwrap()).is_ok());
    for (const bool waiting : {false, true}) {
      CAPTURE(waiting);
      co_await pw_test::oversized_then_intact(tx, rx, pw_test::size_from_recv_from<pw::net::udp_socket>,
                                              "udp_socket::recv_from", waiting);
      co_await pw_test::oversized_then_intact(tx, rx, pw_test::size_from_recv<pw::net::udp_socket>, "udp_socket::recv",
                                              waiting);
    }
  }());
}

TEST_CASE("hostile input: zero-length datagrams are datagrams") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto rx = bound("127.0.0.1:0");
    auto tx = bound("127.0.0.1:0");
    const auto rx_addr = rx.local_addr().unwrap();
    REQUIRE(tx.connect(rx_addr).is_ok());
    std::byte buf[16];
    for (int i = 0; i < 3; ++i) CHECK((co_await tx.send({})).unwrap_or(99) == 0);
    CHECK((co_await rx.recv(buf)).unwrap_or(99) == 0);
    auto from = co_await rx.recv_from(buf);
    REQUIRE(from.is_ok());
    CHECK(from->size == 0);
    CHECK(from->from == tx.local_addr().unwrap());
    pw::net::datagram one{.buffer = buf};
    one.size = 77;
    one.truncated = true;
    CHECK((co_await rx.recv_many(std::span(&one, 1))).unwrap_or(0) == 1);
    CHECK(one.size == 0);
    CHECK_FALSE(one.truncated);
    // A zero-length buffer takes a zero-length datagram whole, and truncates any other.
    CHECK((co_await tx.send({})).is_ok());
    CHECK((co_await tx.send(bytes("x"))).is_ok());
    CHECK((co_await rx.recv(std::span<std::byte>())).unwrap_or(99) == 0);
    CHECK((co_await rx.recv(std::span<std::byte>())).error() == std::errc::message_size);
    // An empty batch asks for nothing and gets nothing at once.
    CHECK((co_await rx.recv_many({})).unwrap_or(99) == 0);
  }());
}

TEST_CASE("hostile input: a recv_many batch with truncated datagrams flags exactly those") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto rx = bound("127.0.0.1:0");
    auto tx = bound("127.0.0.1:0");
    const auto rx_addr = rx.local_addr().unwrap();
    const std::size_t lengths[] = {10, 500, 10, 3000, 4, 100, 101};
    pw_test::record_set<pw::net::datagram> records(8, 100);
    auto& batch = records.list;
    for (const bool waiting : {false, true}) {
      CAPTURE(waiting);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        std::fill(records.storage[i].begin(), records.storage[i].end(), std::byte{0});
        batch[i].size = 0;
        batch[i].truncated = false;
      }
      std::size_t got = 0;
      if (waiting) {
        // The receive waits first: on io_uring its first datagram (an oversized one) comes
        // through the ring, the rest through the recvmmsg that follows.
        auto receiver = pw::spawn([](pw::net::udp_socket& rx, std::vector<pw::net::datagram>& batch) {
          return rx.recv_many(batch);
        }(rx, batch));
        co_await pw::yield_now();
        for (std::uint32_t i = 0; i < 7; ++i)
          REQUIRE((co_await tx.send_to(payload(100 + i, lengths[(i + 3) % 7]), rx_addr)).is_ok());
        got = (co_await receiver).unwrap().unwrap();
      } else {
        for (std::uint32_t i = 0; i < 7; ++i)
          REQUIRE((co_await tx.send_to(payload(100 + i, lengths[(i + 3) % 7]), rx_addr)).is_ok());
      }
      // Collect the rest of the seven.
      while (got < 7) {
        auto n = co_await rx.recv_many(std::span(batch).subspan(got));
        REQUIRE(n.is_ok());
        got += *n;
      }
      CHECK(got == 7);
      for (std::uint32_t i = 0; i < 7; ++i) {
        CAPTURE(i);
        const std::size_t len = lengths[(i + 3) % 7];
        CHECK(batch[i].truncated == (len > 100));
        CHECK(batch[i].size == std::min<std::size_t>(len, 100));
        const auto expect = payload(100 + i, len);
        CHECK(std::memcmp(batch[i].buffer.data(), expect.data(), batch[i].size) == 0);
      }
      CHECK(batch[7].size == 0);  // untouched past the count
    }
  }());
}

TEST_CASE("recv_many: an error met after a datagram was taken is reported by the next receive") {
  // A record whose buffer the kernel cannot write (EFAULT) stands for any error that comes
  // after the batch's first datagram: the call returns what it has, the error comes next, and
  // the socket then works as before. The receive waits first, so that on io_uring the first
  // datagram comes through the ring and the error from the recvmmsg that follows it; on epoll
  // the kernel keeps the error for the next call itself.
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto rx = bound("127.0.0.1:0");
    auto tx = bound("127.0.0.1:0");
    REQUIRE(tx.connect(rx.local_addr().unwrap()).is_ok());
    std::vector<std::byte> good(64);
    std::vector<pw::net::datagram> batch(2);
    batch[0].buffer = good;
    batch[1].buffer = std::span(reinterpret_cast<std::byte*>(8), 64);  // not writable
    auto receiver = pw::spawn(
        [](pw::net::udp_socket& rx, std::vector<pw::net::datagram>& batch) { return rx.recv_many(batch); }(rx, batch));
    co_await pw::yield_now();
    REQUIRE((co_await tx.send(payload(1, 20))).is_ok());
    REQUIRE((co_await tx.send(payload(2, 20))).is_ok());
    auto first = (co_await receiver).unwrap();
    REQUIRE(first.is_ok());
    CHECK(*first == 1);
    CHECK(check_payload(batch[0].data()) == 1);
    auto second = co_await pw::timeout(10s, rx.recv_many(std::span(batch).first(1)));
    REQUIRE(second.is_ok());  // not timed out: the error was not lost
    REQUIRE(second->is_err());
    CHECK(second->error() == std::errc::bad_address);
    CHECK(std::string(second->error().context()) == "udp_socket::recv_many");
    REQUIRE((co_await tx.send(payload(3, 20))).is_ok());
    auto third = co_await pw::timeout(10s, rx.recv_many(std::span(batch).first(1)));
    REQUIRE(third.is_ok());
    REQUIRE(third->is_ok());
    CHECK(check_payload(batch[0].data()) == 3);  // the datagram the kernel could not copy is gone
  }());
}

TEST_CASE("a vanished peer: ECONNREFUSED on a connected socket is a typed error, and the socket keeps working") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto a = bound("127.0.0.1:0");
    pw::net::socket_addr gone;
    {
      auto peer = bound("127.0.0.1:0");
      gone = peer.local_addr().unwrap();
    }  // closed: its port now answers with ICMP port unreachable
    REQUIRE(a.connect(gone).is_ok());
    REQUIRE((co_await a.send(bytes("anyone?"))).is_ok());  // the send itself succeeds
    std::byte buf[32];
    auto r = co_await pw::timeout(10s, a.recv(buf));
    REQUIRE(r.is_ok());  // did not time out
    REQUIRE(r->is_err());
    CHECK(r->error() == std::errc::connection_refused);
    CHECK(std::string(r->error().context()) == "udp_socket::recv");
    // The same through recv_many and recv_from.
    REQUIRE((co_await a.send(bytes("anyone?"))).is_ok());
    pw::net::datagram d{.buffer = buf};
    auto m = co_await pw::timeout(10s, a.recv_many(std::span(&d, 1)));
    REQUIRE(m.is_ok());
    CHECK(m->error() == std::errc::connection_refused);
    // The peer comes back on the same port: the socket works as before.
    auto back = pw::net::udp_socket::bind(gone).unwrap();
    REQUIRE(back.connect(a.local_addr().unwrap()).is_ok());
    REQUIRE((co_await a.send(bytes("there you are"))).is_ok());
    auto n = co_await back.recv(buf);
    REQUIRE(n.is_ok());
    CHECK(text(std::span(buf, *n)) == "there you are");
    REQUIRE((co_await back.send(bytes("hi"))).is_ok());
    auto from = co_await a.recv_from(buf);
    REQUIRE(from.is_ok());
    CHECK(from->from == gone);
    CHECK(text(std::span(buf, from->size)) == "hi");
  }());
}

TEST_CASE("receives raced against sleeps 10,000 times with datagrams in flight: none lost, none twice") {
  // Semantics: a receive that loses the race has taken nothing, or, if its datagram had
  // already arrived when the cancellation reached it, the race's result has it too
  // (completed<0>()). Listing the receive first makes it the winner of every such tie. So the
  // caller sees every datagram exactly once.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int rounds = 10'000 / scale;
  rt.block_on([](int rounds) -> pw::task<void> {
    auto rx = bound("127.0.0.1:0");
    auto tx = bound("127.0.0.1:0");
    pw::semaphore window(32);
    pw::cancellation_token stop;
    const auto rx_addr = rx.local_addr().unwrap();
    // Sends numbered datagrams in bursts with short pauses (so that some races are decided by
    // the sleep while the receive waits in the kernel) until stopped, then an end marker.
    auto sender = pw::spawn([](pw::net::udp_socket& tx, pw::net::socket_addr to, pw::semaphore& window,
                               pw::cancellation_token stop) -> pw::task<std::uint32_t> {
      std::uint32_t seq = 0;
      while (!stop.is_cancelled()) {
        auto permit = co_await window.acquire();
        permit->forget();
        (void)co_await tx.send_to(payload(seq, length_of(seq)), to);
        ++seq;
        if (seq % 7 == 0) co_await pw::sleep(std::chrono::microseconds(300 + seq % 5 * 200));
      }
      (void)co_await tx.send_to(bytes("end"), to);
      co_return seq;
    }(tx, rx_addr, window, stop));
    std::vector<int> seen;
    auto take = [&](std::span<const std::byte> d) {
      const auto seq = check_payload(d);
      REQUIRE(seq >= 0);
      if (seen.size() <= static_cast<std::size_t>(seq)) seen.resize(static_cast<std::size_t>(seq) + 1);
      ++seen[static_cast<std::size_t>(seq)];
      window.add_permits(1);
    };
    std::vector<std::byte> buf(1024);
    int slept = 0, received = 0;
    for (int round = 0; round < rounds; ++round) {
      auto r = co_await pw::race(rx.recv_from(buf), pw::sleep(std::chrono::microseconds(500)));
      if (r.completed<0>()) {
        auto got = r.get<0>();
        REQUIRE(got.is_ok());
        take(std::span(buf.data(), got->size));
        ++received;
      }
      if (r.index() == 1) ++slept;
    }
    stop.cancel();
    window.add_permits(1);  // the sender may be waiting for a permit
    // Drain: everything sent before the end marker must still come.
    for (;;) {
      auto r = co_await pw::timeout(10s, rx.recv_from(buf));
      REQUIRE(r.is_ok());
      REQUIRE(r->is_ok());
      if (text(std::span(buf.data(), (*r)->size)) == "end") break;
      take(std::span(buf.data(), (*r)->size));
    }
    const std::uint32_t sent = (co_await sender).unwrap();
    MESSAGE(received, " received in races, ", slept, " races won by the sleep, ", sent, " sent");
    CHECK(seen.size() == sent);
    CHECK(std::count(seen.begin(), seen.end(), 1) == static_cast<std::ptrdiff_t>(sent));
    CHECK(slept > 0);
    CHECK(received > 0);
  }(rounds));
}

TEST_CASE("abort of receives waiting in the kernel; shutdown with receives in flight") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto rx = bound("127.0.0.1:0");
  rt.block_on([](pw::net::udp_socket& rx) -> pw::task<void> {
    auto tx = bound("127.0.0.1:0");
    std::vector<std::byte> buf(64);
    std::vector<pw::net::datagram> batch(4, pw::net::datagram{.buffer = buf});
    auto r1 = pw::spawn([](pw::net::udp_socket& rx, std::vector<std::byte>& buf) -> pw::task<void> {
      (void)co_await rx.recv_from(buf);
    }(rx, buf));
    co_await pw::sleep(10ms);
    r1.abort();
    CHECK((co_await r1).is_err());
    auto r2 = pw::spawn([](pw::net::udp_socket& rx, std::vector<pw::net::datagram>& batch) -> pw::task<void> {
      (void)co_await rx.recv_many(batch);
    }(rx, batch));
    co_await pw::sleep(10ms);
    r2.abort();
    CHECK((co_await r2).is_err());
    // The aborted receives took nothing: the next datagram goes to the next receive.
    REQUIRE((co_await tx.send_to(bytes("after"), rx.local_addr().unwrap())).is_ok());
    auto got = co_await pw::timeout(10s, rx.recv_from(buf));
    REQUIRE(got.is_ok());
    REQUIRE(got->is_ok());
    CHECK(text(std::span(buf.data(), (*got)->size)) == "after");
  }(rx));
  // Leave receives suspended in the kernel and shut down under them (ASan checks that no
  // buffer is freed while the kernel may write to it).
  static std::vector<std::byte> buf(64);
  (void)rt.spawn([](pw::net::udp_socket& rx) -> pw::task<void> { (void)co_await rx.recv_from(buf); }(rx));
  rt.block_on([]() -> pw::task<void> { co_await pw::sleep(10ms); }());
  rt.shutdown();
}

namespace {

// The first interface that is up and multicast-capable, preferring the loopback one.
unsigned multicast_interface(std::string& name) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return 0;
  unsigned chosen = 0;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!(i->ifa_flags & IFF_UP) || !(i->ifa_flags & IFF_MULTICAST)) continue;
    const unsigned index = ::if_nametoindex(i->ifa_name);
    if (chosen == 0 || (i->ifa_flags & IFF_LOOPBACK)) {
      chosen = index;
      name = i->ifa_name;
    }
  }
  ::freeifaddrs(list);
  return chosen;
}

}  // namespace

TEST_CASE("IPv4 multicast on loopback: join, receive, leave") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    constexpr const char* group = "239.255.42.99";
    auto member = bound("0.0.0.0:0");
    const auto port = member.local_addr().unwrap().port();
    const auto group_addr = pw::net::socket_addr::parse(std::string(group) + ":" + std::to_string(port)).unwrap();
    auto joined = member.join_multicast_v4(group, "127.0.0.1");
    if (joined.is_err()) {
      MESSAGE("skipped: joining ", group, " on 127.0.0.1 failed: ", joined.error().message());
      co_return;
    }
    auto sender = bound("127.0.0.1:0");
    REQUIRE(sender.set_multicast_if_v4("127.0.0.1").is_ok());
    REQUIRE(sender.set_multicast_loop_v4(true).is_ok());
    REQUIRE(sender.set_multicast_ttl_v4(1).is_ok());
    auto sent = co_await sender.send_to(bytes("to the group"), group_addr);
    if (sent.is_err()) {
      MESSAGE("skipped: no multicast route on loopback (ip route): ", sent.error().message());
      co_return;
    }
    std::byte buf[64];
    auto got = co_await pw::timeout(5s, member.recv_from(buf));
    if (got.is_err()) {
      MESSAGE("skipped: a multicast datagram sent on loopback never arrived (ip route; IFF_MULTICAST on lo)");
      co_return;
    }
    REQUIRE(got->is_ok());
    CHECK(text(std::span(buf, (*got)->size)) == "to the group");
    CHECK((*got)->from == sender.local_addr().unwrap());
    // After leaving, the group's datagrams no longer arrive: a unicast marker sent after one
    // is the next datagram.
    REQUIRE(member.leave_multicast_v4(group, "127.0.0.1").is_ok());
    CHECK(member.leave_multicast_v4(group, "127.0.0.1").is_err());  // not a member any more
    REQUIRE((co_await sender.send_to(bytes("to the group again"), group_addr)).is_ok());
    REQUIRE((co_await sender.send_to(bytes("marker"),
                                     pw::net::socket_addr::parse("127.0.0.1:" + std::to_string(port)).unwrap()))
                .is_ok());
    auto next = co_await pw::timeout(5s, member.recv_from(buf));
    REQUIRE(next.is_ok());
    REQUIRE(next->is_ok());
    CHECK(text(std::span(buf, (*next)->size)) == "marker");
    CHECK(member.join_multicast_v4("10.0.0.1", "127.0.0.1").is_err());  // not a multicast group
    CHECK(member.join_multicast_v4("not an address", "127.0.0.1").error() == pw::errc::invalid_input);
    CHECK(sender.set_broadcast(true).is_ok());
  }());
}

TEST_CASE("IPv6 multicast on an interface-local group") {
  // ff01::/16 is interface-local scope: such datagrams only loop back, they never leave the
  // host. Linux's lo has no IFF_MULTICAST unless configured, so another interface may serve.
  std::string name;
  const unsigned ifindex = multicast_interface(name);
  if (ifindex == 0) {
    MESSAGE("skipped: no interface is up with IFF_MULTICAST (ip link; `ip link set lo multicast on` would do)");
    return;
  }
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([](unsigned ifindex, std::string name) -> pw::task<void> {
    constexpr const char* group = "ff01::1:4242";
    auto member = bound("[::]:0");
    const auto port = member.local_addr().unwrap().port();
    auto joined = member.join_multicast_v6(group, ifindex);
    if (joined.is_err()) {
      MESSAGE("skipped: joining ", group, " on ", name, " failed: ", joined.error().message());
      co_return;
    }
    auto sender = bound("[::]:0");
    REQUIRE(sender.set_multicast_if_v6(ifindex).is_ok());
    REQUIRE(sender.set_multicast_loop_v6(true).is_ok());
    const auto to = pw::net::socket_addr::parse("[" + std::string(group) + "]:" + std::to_string(port)).unwrap();
    auto sent = co_await sender.send_to(bytes("v6 group"), to);
    if (sent.is_err()) {
      MESSAGE("skipped: no IPv6 multicast route on ", name, " (ip -6 route): ", sent.error().message());
      co_return;
    }
    std::byte buf[64];
    auto got = co_await pw::timeout(5s, member.recv_from(buf));
    REQUIRE(got.is_ok());
    REQUIRE(got->is_ok());
    CHECK(text(std::span(buf, (*got)->size)) == "v6 group");
    REQUIRE(member.leave_multicast_v6(group, ifindex).is_ok());
    CHECK(member.join_multicast_v6("::1", ifindex).is_err());
  }(ifindex, name));
}
