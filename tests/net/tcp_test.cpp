// TCP on whichever backend the environment selects (CI runs the suite with the default and
// with POLARWAY_BACKEND=epoll).
#include "polarway/net/tcp_stream.hpp"

#include <doctest/doctest.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "polarway/net/tcp_listener.hpp"
#include "polarway/runtime.hpp"
#include "support/stream_echo.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 8;
#else
constexpr int scale = 1;
#endif

using pw_test::echo;

}  // namespace

TEST_CASE("echo: 200 concurrent connections, 1 MiB each, checksums match") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  constexpr int clients = 200;
  const std::size_t bytes = (1u << 20) / scale;
  const int good = rt.block_on([](std::size_t bytes) -> pw::task<int> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
    const auto addr = l->local_addr().unwrap();
    auto server = pw::spawn(pw_test::serve_echo(*l, clients));
    std::vector<pw::task<bool>> cs;
    for (int c = 0; c < clients; ++c)
      cs.push_back([](pw::net::socket_addr addr, std::size_t bytes, int seed) -> pw::task<bool> {
        auto s = co_await pw::net::tcp_stream::connect(addr);
        if (!s) co_return false;
        co_return co_await pw_test::echo_exchange(*s, bytes, seed);
      }(addr, bytes, c));
    int ok = 0;
    for (bool b : co_await pw::join_all(std::move(cs))) ok += b;
    CHECK((co_await server).unwrap_or(-1) == 0);
    co_return ok;
  }(bytes));
  CHECK(good == clients);
}

TEST_CASE("io_uring without multishot accept: one single-shot accept per connection") {
  // As on Linux 5.15 (Ubuntu 22.04's kernel), which has no multishot accept: the ring is told
  // to forget the operation whose presence says it has one, and the listener must serve every
  // connection through single-shot accepts. The count of accept operations tells the two
  // modes apart: one multishot serves all the connections.
  pw::runtime rt(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::io_uring});
  for (const bool multishot : {true, false}) {
    CAPTURE(multishot);
    auto r = rt.block_on([](bool multishot) -> pw::task<std::pair<int, std::uint64_t>> {
      auto& ring = pw::detail::current_reactor("test").uring();
      CHECK(ring.has_multishot_accept());  // this kernel has it
      if (!multishot) ring.forget_op(IORING_OP_SOCKET);
      CHECK(ring.has_multishot_accept() == multishot);
      auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
      const auto addr = l.local_addr().unwrap();
      const std::uint64_t before = ring.targets_submitted();
      constexpr int clients = 5;
      int served = 0;
      for (int i = 0; i < clients; ++i) {
        auto client = pw::spawn(pw::net::tcp_stream::connect(addr));
        auto s = co_await l.accept();
        auto c = co_await client;
        if (!s || !c.is_ok() || !c->is_ok()) continue;
        const std::byte ping[1] = {std::byte{42}};
        std::byte got[1] = {};
        if ((co_await (*c)->write_all(ping)).is_ok() && (co_await s->read(got)).unwrap_or(0) == 1 && got[0] == ping[0])
          ++served;
      }
      co_return std::pair{served, ring.targets_submitted() - before};
    }(multishot));
    CHECK(r.first == 5);
    if (multishot)
      CHECK(r.second == 1);
    else
      CHECK(r.second == 5);
  }
}

TEST_CASE("a peer that resets mid-transfer fails its own task only") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
    const auto addr = l->local_addr().unwrap();
    auto server = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<std::vector<pw::result<void>>> {
      std::vector<pw::result<void>> outcomes;
      std::vector<pw::join_handle<pw::result<void>>> hs;
      for (int i = 0; i < 5; ++i) hs.push_back(pw::spawn(echo((co_await l.accept()).unwrap())));
      for (auto& h : hs) outcomes.push_back((co_await h).unwrap());
      co_return outcomes;
    }(*l));
    std::vector<pw::net::tcp_stream> good;
    for (int i = 0; i < 4; ++i) good.push_back((co_await pw::net::tcp_stream::connect(addr)).unwrap());
    {
      auto bad = (co_await pw::net::tcp_stream::connect(addr)).unwrap();
      std::vector<std::byte> chunk(64 * 1024, std::byte{7});
      CHECK((co_await bad.write_all(chunk)).is_ok());
      co_await pw::sleep(20ms);
      linger lg{1, 0};  // close with RST, with echoed data unread
      ::setsockopt(bad.native_handle(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    }
    for (auto& g : good) {
      const char msg[] = "still here";
      CHECK((co_await g.write_all(std::as_bytes(std::span(msg)))).is_ok());
      std::byte back[sizeof msg];
      CHECK((co_await g.read_exact(back)).is_ok());
      CHECK((co_await g.shutdown()).is_ok());
    }
    auto outcomes = (co_await server).unwrap();
    int reset = 0, fine = 0;
    for (auto& o : outcomes) {
      if (o.is_ok()) ++fine;
      else if (o.error() == std::errc::connection_reset || o.error() == std::errc::broken_pipe) ++reset;
    }
    CHECK(fine == 4);
    CHECK(reset == 1);
  }());
}

TEST_CASE("connecting to a closed port gives ECONNREFUSED as a value") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on([]() -> pw::task<pw::result<pw::net::tcp_stream>> {
    // Bind then close a listener to find a port nobody listens on.
    auto port = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    co_return co_await pw::net::tcp_stream::connect(port);
  }());
  REQUIRE(r.is_err());
  CHECK(r.error() == std::errc::connection_refused);
  CHECK(std::string(r.error().context()) == "tcp_stream::connect");
  auto bad = rt.block_on([]() -> pw::task<pw::result<pw::net::tcp_stream>> {
    co_return co_await pw::net::tcp_stream::connect("not an address");
  }());
  CHECK(bad.error() == pw::errc::invalid_input);
}

TEST_CASE("timeout on a read that never completes, thousands of times") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int rounds = 10'000 / scale;
  const int timed_out = rt.block_on([](int rounds) -> pw::task<int> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    auto client = (co_await pw::net::tcp_stream::connect(l.local_addr().unwrap())).unwrap();
    auto server_side = (co_await l.accept()).unwrap();  // never writes
    int n = 0;
    std::vector<std::byte> buf(4096);
    for (int i = 0; i < rounds; ++i) {
      auto r = co_await pw::timeout(0ms, client.read(buf));
      n += r.is_err() && r.error() == pw::errc::timed_out;
    }
    // The stream still works after all those cancelled reads.
    const char msg[] = "x";
    CHECK((co_await server_side.write_all(std::as_bytes(std::span(msg)))).is_ok());
    auto got = co_await pw::timeout(5s, client.read(buf));
    CHECK((got.is_ok() && got->is_ok() && **got == sizeof msg));
    co_return n;
  }(rounds));
  CHECK(timed_out == rounds);
}

TEST_CASE("reads raced by timeouts never lose bytes") {
  // The timer fires while a read is completing: the bytes must reach the caller, on the next
  // read or as the timeout's value, never vanish with the cancelled operation.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::size_t total = 200'000 / static_cast<std::size_t>(scale);
  const auto got = rt.block_on([](std::size_t total) -> pw::task<std::size_t> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    auto client = (co_await pw::net::tcp_stream::connect(l.local_addr().unwrap())).unwrap();
    auto server_side = (co_await l.accept()).unwrap();
    auto writer = pw::spawn(pw_test::paced_write(std::move(server_side), total));
    std::vector<std::byte> buf(256);
    std::size_t received = 0;
    const auto deadline = pw::steady_clock::now() + 60s;
    while (received < total && pw::steady_clock::now() < deadline) {
      auto r = co_await pw::timeout(std::chrono::microseconds(300), client.read(buf));
      if (r.is_ok() && r->is_ok()) received += **r;
    }
    CHECK((co_await writer).unwrap_or(false));
    co_return received;
  }(total));
  CHECK(got == total);
}

// On io_uring a read skips its recv(2) when the socket was empty last time and waits in the
// ring for readiness first (IORING_RECVSEND_POLL_FIRST). Data that arrived while nobody was
// reading must still be found at once, and small and large reads must see every byte in order.
TEST_CASE("reads find data that arrived while nobody was reading, in order, whole or in pieces") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    auto writer = (co_await pw::net::tcp_stream::connect(l.local_addr().unwrap())).unwrap();
    auto reader = (co_await l.accept()).unwrap();
    std::uint8_t next_out = 0, next_in = 0;
    const auto send = [&](std::size_t n) -> pw::task<bool> {
      std::vector<std::byte> out(n);
      for (auto& b : out) b = std::byte{next_out++};
      co_return (co_await writer.write_all(out)).is_ok();
    };
    // Reads `n` bytes with reads of at most `piece` bytes; false on error, timeout or a byte
    // out of order.
    const auto receive = [&](std::size_t n, std::size_t piece) -> pw::task<bool> {
      std::vector<std::byte> in(piece);
      while (n > 0) {
        auto r = co_await pw::timeout(5s, reader.read(std::span(in.data(), std::min(piece, n))));
        if (!r.is_ok() || !r->is_ok() || **r == 0) co_return false;
        for (std::size_t i = 0; i < **r; ++i)
          if (in[i] != std::byte{next_in++}) co_return false;
        n -= **r;
      }
      co_return true;
    };
    // Wait until `n` bytes sit unread in the reader's socket.
    const auto queued = [&](int n) -> pw::task<bool> {
      for (int i = 0; i < 5000; ++i) {
        int avail = 0;
        if (::ioctl(reader.native_handle(), FIONREAD, &avail) == 0 && avail >= n) co_return true;
        co_await pw::sleep(1ms);
      }
      co_return false;
    };

    // 1. A read that parks (nothing there), then one byte: the socket is now "probably empty".
    auto parked = pw::spawn([](decltype(receive)& receive) -> pw::task<bool> { co_return co_await receive(1, 64); }(receive));
    co_await pw::sleep(5ms);
    CHECK(co_await send(1));
    CHECK((co_await parked).unwrap_or(false));
    // 2. Data arrives while nobody reads; the next read must find it without waiting for more.
    CHECK(co_await send(300));
    CHECK(co_await queued(300));
    CHECK(co_await receive(300, 4096));
    // 3. Many small reads of a larger burst (the ring reports more data queued, so reads go back
    //    to recv(2)), then a burst read whole.
    CHECK(co_await send(10'000));
    CHECK(co_await queued(10'000));
    CHECK(co_await receive(10'000, 7));
    for (int round = 0; round < 200; ++round) {
      CHECK(co_await send(1 + static_cast<std::size_t>(round) * 13 % 500));
      CHECK(co_await receive(1 + static_cast<std::size_t>(round) * 13 % 500, round % 2 ? 64 : 8192));
    }
  }());
}

TEST_CASE("abort of tasks blocked in accept, read and sleep; shutdown with I/O in flight") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
  const auto addr = l.local_addr().unwrap();
  rt.block_on([](pw::net::tcp_listener& l, pw::net::socket_addr addr) -> pw::task<void> {
    auto client = (co_await pw::net::tcp_stream::connect(addr)).unwrap();
    auto server_side = (co_await l.accept()).unwrap();  // never writes: the reader waits forever
    auto acceptor = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<void> { (void)co_await l.accept(); }(l));
    auto sleeper = pw::spawn([]() -> pw::task<void> { co_await pw::sleep(1h); }());
    auto reader = pw::spawn([](pw::net::tcp_stream& s) -> pw::task<void> {
      std::byte b[16];
      (void)co_await s.read(b);
    }(client));
    co_await pw::sleep(20ms);
    acceptor.abort();
    sleeper.abort();
    reader.abort();
    CHECK((co_await acceptor).is_err());
    CHECK((co_await sleeper).is_err());
    CHECK((co_await reader).is_err());
    // The listener still accepts after an aborted accept.
    auto again = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<bool> { co_return (co_await l.accept()).is_ok(); }(l));
    auto c2 = co_await pw::net::tcp_stream::connect(addr);
    CHECK(c2.is_ok());
    CHECK((co_await again).unwrap_or(false));
  }(l, addr));
  // Leave a reader and an acceptor suspended in the kernel, and shut down under them.
  auto client2 = rt.block_on([](pw::net::socket_addr addr) -> pw::task<pw::net::tcp_stream> {
    co_return (co_await pw::net::tcp_stream::connect(addr)).unwrap();
  }(addr));
  (void)rt.spawn([](pw::net::tcp_stream& s) -> pw::task<void> {
    std::byte b[16];
    (void)co_await s.read(b);
  }(client2));
  (void)rt.spawn([](pw::net::tcp_listener& l) -> pw::task<void> {
    for (;;) (void)co_await l.accept();
  }(l));
  rt.block_on([]() -> pw::task<void> { co_await pw::sleep(20ms); }());
  rt.shutdown();  // must neither hang nor free a buffer the kernel still owns (ASan checks)
  auto late = rt.try_block_on([]() -> pw::task<int> { co_return 1; }());
  CHECK(late.is_err());
}
