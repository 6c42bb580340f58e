// Unix-domain datagram sockets on whichever backend the environment selects (CI runs the suite
// with the default and with POLARWAY_BACKEND=epoll): the same datagram implementation as UDP,
// with filesystem paths, Linux abstract names and unnamed sockets. Unix datagrams are never
// dropped (a sender waits while the receiver's queue is full), so these tests need no pacing.
#include "polarway/net/unix_datagram.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/datagrams.hpp"
#include "support/unix_names.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 8;
#else
constexpr int scale = 1;
#endif

using pw_test::temp_dir;

// An abstract name (leading NUL) no other test run uses.
std::string abstract_name(std::string_view tag) { return pw_test::abstract_name("dgram", tag); }

using pw_test::bytes;
using pw_test::check_payload;
using pw_test::length_of;
using pw_test::payload;
using pw_test::text;

}  // namespace

TEST_CASE("ping-pong between named sockets: filesystem paths and abstract names, senders reported by name") {
  temp_dir dir;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::pair<std::string, std::string> pairs[] = {
      {dir.file("a.sock"), dir.file("b.sock")},
      {abstract_name("a"), abstract_name("b")},
  };
  for (const auto& names : pairs) {
    const bool abstract = names.first[0] == '\0';
    CAPTURE(abstract);
    rt.block_on([](std::string a_name, std::string b_name) -> pw::task<void> {
      auto a = pw::net::unix_datagram::bind(a_name).unwrap();
      auto b = pw::net::unix_datagram::bind(b_name).unwrap();
      CHECK(a.local_path().unwrap() == a_name);
      CHECK(b.local_path().unwrap() == b_name);
      if (a_name[0] != '\0') CHECK(std::filesystem::exists(a_name));  // a path makes a socket file
      auto pong = pw::spawn([](pw::net::unix_datagram& b) -> pw::task<int> {
        std::byte buf[64];
        int served = 0;
        for (int i = 0; i < 100; ++i) {
          auto got = co_await b.recv_from(buf);
          if (!got) co_return -1;
          std::vector<std::byte> reply(buf, buf + got->size);
          std::reverse(reply.begin(), reply.end());
          if ((co_await b.send_to(reply, got->from)).unwrap_or(0) != got->size) co_return -1;
          ++served;
        }
        co_return served;
      }(b));
      for (int i = 0; i < 100; ++i) {
        const std::string msg = "ping " + std::to_string(i);
        CHECK((co_await a.send_to(bytes(msg), b_name)).unwrap_or(0) == msg.size());
        std::byte buf[64];
        auto got = co_await a.recv_from(buf);
        REQUIRE(got.is_ok());
        CHECK(got->from == b_name);
        CHECK(text(std::span(buf, got->size)) == std::string(msg.rbegin(), msg.rend()));
      }
      CHECK((co_await pong).unwrap_or(0) == 100);
    }(names.first, names.second));
  }
}

TEST_CASE("unnamed sockets: unbound() senders are reported as \"\", pair() is connected both ways") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    const std::string name = abstract_name("unnamed");
    auto rx = pw::net::unix_datagram::bind(name).unwrap();
    auto anon = pw::net::unix_datagram::unbound().unwrap();
    CHECK(anon.local_path().unwrap().empty());
    CHECK((co_await anon.send_to(bytes("who am i"), name)).is_ok());
    std::byte buf[32];
    auto got = co_await rx.recv_from(buf);
    REQUIRE(got.is_ok());
    CHECK(got->from.empty());
    CHECK(text(std::span(buf, got->size)) == "who am i");

    auto [x, y] = pw::net::unix_datagram::pair().unwrap();
    CHECK(x.peer_path().unwrap().empty());
    for (int i = 0; i < 20; ++i) {
      const std::string msg = "pair " + std::to_string(i);
      CHECK((co_await x.send(bytes(msg))).unwrap_or(0) == msg.size());
      auto n = co_await y.recv(buf);
      REQUIRE(n.is_ok());
      CHECK(text(std::span(buf, *n)) == msg);
      CHECK((co_await y.send(std::span(buf, *n))).is_ok());
      CHECK(text(std::span(buf, (co_await x.recv(buf)).unwrap())) == msg);
    }
  }());
}

TEST_CASE("connect by name; bad names and missing peers are typed errors; a vanished peer does not break the socket") {
  temp_dir dir;
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([](std::string dir_path) -> pw::task<void> {
    const std::string server_path = dir_path + "/server.sock";
    auto server = pw::net::unix_datagram::bind(server_path).unwrap();
    auto client = pw::net::unix_datagram::bind(dir_path + "/client.sock").unwrap();
    REQUIRE(client.connect(server_path).is_ok());
    CHECK(client.peer_path().unwrap() == server_path);
    REQUIRE((co_await client.send(bytes("hello"))).is_ok());
    std::byte buf[32];
    auto got = co_await server.recv_from(buf);
    REQUIRE(got.is_ok());
    CHECK(got->from == dir_path + "/client.sock");

    // Names that cannot be: empty, too long, a NUL inside a path.
    CHECK(pw::net::unix_datagram::bind("").error() == pw::errc::invalid_input);
    CHECK(pw::net::unix_datagram::bind(std::string(200, 'x')).error() == std::errc::filename_too_long);
    CHECK(pw::net::unix_datagram::bind(std::string_view("a\0b", 3)).error() == pw::errc::invalid_input);
    CHECK(client.connect(std::string(200, 'x')).error() == std::errc::filename_too_long);
    CHECK((co_await client.send_to(bytes("x"), std::string(200, 'x'))).error() == std::errc::filename_too_long);
    // A path that exists already (the stale socket file case).
    auto again = pw::net::unix_datagram::bind(server_path);
    REQUIRE(again.is_err());
    CHECK(again.error() == std::errc::address_in_use);
    CHECK(std::string(again.error().context()) == "unix_datagram::bind");
    // Nothing at the name; a socket file whose socket is gone.
    auto missing = co_await client.send_to(bytes("x"), dir_path + "/nobody.sock");
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(std::string(missing.error().context()) == "unix_datagram::send_to");
    server.close();
    auto refused = co_await client.send(bytes("still there?"));
    REQUIRE(refused.is_err());
    CHECK(refused.error() == std::errc::connection_refused);
    CHECK((co_await client.send_to(bytes("x"), server_path)).error() == std::errc::connection_refused);
    // A new server at a new name: the client reconnects and carries on.
    auto server2 = pw::net::unix_datagram::bind(dir_path + "/server2.sock").unwrap();
    REQUIRE(client.connect(dir_path + "/server2.sock").is_ok());
    REQUIRE((co_await client.send(bytes("back"))).is_ok());
    CHECK(text(std::span(buf, (co_await server2.recv(buf)).unwrap())) == "back");
  }(dir.path));
}

TEST_CASE("hostile input: oversized and zero-length datagrams, a truncated recv_many batch") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto [tx, rx] = pw::net::unix_datagram::pair().unwrap();
    for (const bool waiting : {false, true}) {
      CAPTURE(waiting);
      co_await pw_test::oversized_then_intact(tx, rx, pw_test::size_from_recv_from<pw::net::unix_datagram>,
                                              "unix_datagram::recv_from", waiting);
      co_await pw_test::oversized_then_intact(tx, rx, pw_test::size_from_recv<pw::net::unix_datagram>,
                                              "unix_datagram::recv", waiting);
    }
    std::vector<std::byte> buf(100);
    // Zero-length datagrams.
    CHECK((co_await tx.send({})).unwrap_or(99) == 0);
    CHECK((co_await rx.recv(buf)).unwrap_or(99) == 0);
    // A batch where some datagrams do not fit.
    const std::size_t lengths[] = {5, 300, 0, 100, 101, 7};
    for (std::uint32_t i = 0; i < 6; ++i) {
      if (lengths[i] >= 4)
        REQUIRE((co_await tx.send(payload(i, lengths[i]))).is_ok());
      else
        REQUIRE((co_await tx.send(std::vector<std::byte>(lengths[i], std::byte{9}))).is_ok());
    }
    pw_test::record_set<pw::net::unix_datagram::datagram> records(8, 100);
    auto& batch = records.list;
    std::size_t got = 0;
    while (got < 6) got += (co_await rx.recv_many(std::span(batch).subspan(got))).unwrap();
    CHECK(got == 6);
    for (std::uint32_t i = 0; i < 6; ++i) {
      CAPTURE(i);
      CHECK(batch[i].truncated == (lengths[i] > 100));
      CHECK(batch[i].size == std::min<std::size_t>(lengths[i], 100));
      CHECK(batch[i].from.empty());  // pair() sockets are unnamed
      if (lengths[i] >= 4 && lengths[i] <= 100) CHECK(check_payload(batch[i].data()) == i);
    }
  }());
}

TEST_CASE("recv_many: 1000 datagrams from a named sender on another worker, in order, in batches") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    const std::string rx_name = abstract_name("many-rx"), tx_name = abstract_name("many-tx");
    auto rx = pw::net::unix_datagram::bind(rx_name).unwrap();
    auto tx = pw::net::unix_datagram::bind(tx_name).unwrap();
    REQUIRE(tx.connect(rx_name).is_ok());
    constexpr std::uint32_t total = 1000;
    auto sender = pw::spawn([](pw::net::unix_datagram& tx) -> pw::task<bool> {
      for (std::uint32_t seq = 0; seq < total; ++seq)
        if ((co_await tx.send(payload(seq, length_of(seq)))).unwrap_or(0) != length_of(seq)) co_return false;
      co_return true;
    }(tx));
    pw_test::record_set<pw::net::unix_datagram::datagram> records(16, 1024);
    auto& batch = records.list;
    std::uint32_t next = 0;
    while (next < total) {
      auto n = co_await pw::timeout(10s, rx.recv_many(batch));
      REQUIRE(n.is_ok());
      REQUIRE(n->is_ok());
      for (std::size_t i = 0; i < **n; ++i) {
        CHECK(batch[i].from == tx_name);
        CHECK_FALSE(batch[i].truncated);
        CHECK(check_payload(batch[i].data()) == next);  // a Unix socket keeps the order
        ++next;
      }
    }
    CHECK((co_await sender).unwrap_or(false));
  }());
}

TEST_CASE("a full receiver queue: send and send_to wait for room and deliver everything") {
  // The kernel caps a Unix datagram socket's queue (net.unix.max_dgram_qlen, 10 by default
  // here): senders outrun the slow receiver and must wait, connected (woken by the kernel)
  // and unconnected (send_to retries after pauses) alike.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (const bool connected : {true, false}) {
    CAPTURE(connected);
    rt.block_on([](bool connected) -> pw::task<void> {
      const std::string rx_name = abstract_name(connected ? "full-c" : "full-u");
      auto rx = pw::net::unix_datagram::bind(rx_name).unwrap();
      auto tx = pw::net::unix_datagram::unbound().unwrap();
      if (connected) REQUIRE(tx.connect(rx_name).is_ok());
      constexpr std::uint32_t total = 60;
      auto sender = pw::spawn([](pw::net::unix_datagram& tx, std::string to, bool connected) -> pw::task<bool> {
        for (std::uint32_t seq = 0; seq < total; ++seq) {
          pw::result<std::size_t> r = 0;
          if (connected)
            r = co_await tx.send(payload(seq, 8));
          else
            r = co_await tx.send_to(payload(seq, 8), to);
          if (!r) co_return false;
        }
        co_return true;
      }(tx, rx_name, connected));
      std::byte buf[16];
      for (std::uint32_t seq = 0; seq < total; ++seq) {
        if (seq % 10 == 0) co_await pw::sleep(2ms);  // let the queue fill up
        auto n = co_await pw::timeout(10s, rx.recv(buf));
        REQUIRE(n.is_ok());
        REQUIRE(n->is_ok());
        CHECK(check_payload(std::span(buf, **n)) == seq);
      }
      CHECK((co_await sender).unwrap_or(false));
    }(connected));
  }
}

TEST_CASE("a send woken while its receiver is still full sends its whole datagram, once there is room") {
  // The sender's own socket reports room when the kernel frees one of its datagrams anywhere,
  // here one it sent to another socket, although the receiver it is connected to is still
  // full. Linux's io_uring send, retried after such a wake-up, sent an empty datagram and
  // reported 0; polarway's send waits for writability and sends with a syscall instead.
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    const std::string full_name = abstract_name("woken-full"), other_name = abstract_name("woken-other");
    auto full = pw::net::unix_datagram::bind(full_name).unwrap();
    auto other = pw::net::unix_datagram::bind(other_name).unwrap();
    auto tx = pw::net::unix_datagram::bind(abstract_name("woken-tx")).unwrap();
    REQUIRE((co_await tx.send_to(payload(1, 8), other_name)).is_ok());
    REQUIRE(tx.connect(full_name).is_ok());
    std::uint32_t queued = 0;
    for (;; ++queued) {  // fill the receiver's queue
      const auto p = payload(100 + queued, 8);
      if (::send(tx.native_handle(), p.data(), p.size(), MSG_DONTWAIT) < 0) break;
    }
    REQUIRE(queued > 0);
    const auto big = payload(7, 100);
    auto sender =
        pw::spawn([](pw::net::unix_datagram& tx, const std::vector<std::byte>& big) { return tx.send(big); }(tx, big));
    // Each sleep parks the only worker, which hands its queued submissions and the kernel's
    // deferred work over: the send finds the queue full and waits, then its wake-up runs into
    // the queue that is still full. (The outcome checked does not depend on that order.)
    co_await pw::sleep(2ms);
    std::byte buf[200];
    CHECK(check_payload(std::span(buf, (co_await other.recv(buf)).unwrap())) == 1);  // frees tx's datagram
    co_await pw::sleep(2ms);
    CHECK_FALSE(sender.is_finished());
    for (std::uint32_t i = 0; i < queued; ++i)
      CHECK(check_payload(std::span(buf, (co_await full.recv(buf)).unwrap())) == 100 + i);
    CHECK((co_await sender).unwrap().unwrap_or(0) == big.size());
    auto last = co_await pw::timeout(10s, full.recv(buf));
    REQUIRE(last.is_ok());
    REQUIRE(last->is_ok());
    CHECK(**last == big.size());
    CHECK(check_payload(std::span(buf, **last)) == 7);
  }());
}

TEST_CASE("receives raced against sleeps with datagrams in flight: none lost, none twice") {
  // The semantics of udp_socket_test's race: a losing receive took nothing, or its datagram is
  // in the race's result too (completed<0>()).
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int rounds = 4'000 / scale;
  rt.block_on([](int rounds) -> pw::task<void> {
    auto [tx, rx] = pw::net::unix_datagram::pair().unwrap();
    pw::cancellation_token stop;
    auto sender = pw::spawn([](pw::net::unix_datagram& tx, pw::cancellation_token stop) -> pw::task<std::uint32_t> {
      std::uint32_t seq = 0;
      while (!stop.is_cancelled()) {
        (void)co_await tx.send(payload(seq, length_of(seq)));
        ++seq;
        if (seq % 5 == 0) co_await pw::sleep(std::chrono::microseconds(700));
      }
      (void)co_await tx.send(bytes("end"));
      co_return seq;
    }(tx, stop));
    std::vector<std::byte> buf(1024);
    std::uint32_t next = 0;
    int slept = 0;
    for (int round = 0; round < rounds; ++round) {
      auto r = co_await pw::race(rx.recv(buf), pw::sleep(std::chrono::microseconds(500)));
      if (r.completed<0>()) {
        REQUIRE(r.get<0>().is_ok());
        CHECK(check_payload(std::span(buf.data(), *r.get<0>())) == next);  // in order, none skipped
        ++next;
      }
      if (r.index() == 1) ++slept;
    }
    stop.cancel();
    for (;;) {
      auto n = co_await pw::timeout(10s, rx.recv(buf));
      REQUIRE(n.is_ok());
      REQUIRE(n->is_ok());
      if (text(std::span(buf.data(), **n)) == "end") break;
      CHECK(check_payload(std::span(buf.data(), **n)) == next);
      ++next;
    }
    const std::uint32_t sent = (co_await sender).unwrap();
    CHECK(next == sent);
    CHECK(slept > 0);
  }(rounds));
}
