// runtime_options::busy_poll: idle workers poll instead of parking. These tests run with the
// longest poll allowed (1 s), so a worker that polled without seeing some kind of event would
// hold it up to a second per round: the hundreds of rounds below would then run far past the
// test's CTest timeout (60 s) instead of finishing in well under a second. The last test is of
// the default (no busy_poll): the brief spin before parking must end once the runtime is idle.
#include <sys/resource.h>

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <string>
#include <thread>
#include <vector>

#include "polarway/net/tcp_listener.hpp"
#include "polarway/net/tcp_stream.hpp"
#include "polarway/runtime.hpp"
#include "polarway/time/sleep.hpp"
#include "support/death.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

constexpr auto longest = pw::runtime_options::max_busy_poll;

pw::task<int> plus_one(int x) { co_return x + 1; }

// `rounds` request/answer exchanges of one byte over loopback TCP: each read completes while the
// reading worker is idle, polling.
pw::task<int> ping_pong(int rounds) {
  auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
  REQUIRE(l.is_ok());
  auto server = pw::spawn([](pw::net::tcp_listener& l, int rounds) -> pw::task<bool> {
    auto s = co_await l.accept();
    if (!s) co_return false;
    std::array<std::byte, 1> b{};
    for (int i = 0; i < rounds; ++i) {
      if (!(co_await s->read_exact(b))) co_return false;
      b[0] = static_cast<std::byte>(static_cast<int>(b[0]) + 1);
      if (!(co_await s->write_all(b))) co_return false;
    }
    co_return true;
  }(*l, rounds));
  auto c = co_await pw::net::tcp_stream::connect(l->local_addr().unwrap());
  REQUIRE(c.is_ok());
  int answered = 0;
  std::array<std::byte, 1> b{};
  for (int i = 0; i < rounds; ++i) {
    b[0] = static_cast<std::byte>(i & 0x7f);
    if (!(co_await c->write_all(b)) || !(co_await c->read_exact(b))) break;
    if (static_cast<int>(b[0]) == (i & 0x7f) + 1) ++answered;
  }
  CHECK((co_await server).unwrap_or(false));
  co_return answered;
}

}  // namespace

TEST_CASE("busy_poll: from zero to one second; anything else is invalid_input") {
  using opts = pw::runtime_options;
  CHECK(opts{.workers = 1}.resolved()->busy_poll == 0us);
  CHECK(opts{.workers = 1, .busy_poll = longest}.resolved()->busy_poll == longest);
  for (auto bad : {-1us, longest + 1us, std::chrono::microseconds(std::chrono::hours(1))}) {
    auto r = opts{.workers = 1, .busy_poll = bad}.resolved();
    CHECK_MESSAGE(r.is_err(), bad.count());
    if (r.is_err()) CHECK(r.error() == pw::errc::invalid_input);
  }
  const auto d = pw_test::run_in_child([] { pw::runtime rt(pw::runtime_options{.workers = 1, .busy_poll = -5us}); });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("busy_poll") != std::string::npos);
}

TEST_CASE("busy-polling workers see I/O, timers, remote spawns and each other's work") {
  for (std::size_t workers : {1u, 2u}) {
    CAPTURE(workers);
    pw::runtime rt(pw::runtime_options{.workers = workers, .busy_poll = longest});

    // I/O completions.
    CHECK(rt.block_on(ping_pong(300)) == 300);

    // Timers: each sleep ends while its worker polls.
    rt.block_on([]() -> pw::task<void> {
      for (int i = 0; i < 20; ++i) co_await pw::sleep(1ms);
    }());

    // Work pushed from outside (block_on from this thread, round after round) and work one
    // worker makes stealable for the other (spawns from inside a task).
    int sum = 0;
    for (int i = 0; i < 300; ++i) sum += rt.block_on(plus_one(i));
    CHECK(sum == 300 * 301 / 2);
    const int inner = rt.block_on([]() -> pw::task<int> {
      int total = 0;
      for (int i = 0; i < 300; ++i) total += (co_await pw::spawn(plus_one(i))).unwrap_or(0);
      co_return total;
    }());
    CHECK(inner == 300 * 301 / 2);

    // Several threads at once, while the workers poll between their tasks.
    std::atomic<int> done{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 100; ++i)
          if (rt.block_on(plus_one(i)) == i + 1) done.fetch_add(1);
      });
    for (auto& t : threads) t.join();
    CHECK(done.load() == 400);
  }  // shutdown with every worker idle and polling
}

namespace {
double process_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}
}  // namespace

TEST_CASE("by default, workers that spun through a hand-off park once the runtime is idle") {
  // Hand-offs through the kernel and short timers end idle spells soon, with work of the
  // worker's own, which is what makes a default-configured worker spin before parking. Once
  // nothing comes any more, a spin ends within its window and the workers park: a second of
  // idleness then costs next to no CPU (a worker left spinning would cost a whole second of it).
  for (std::size_t workers : {1u, 2u}) {
    CAPTURE(workers);
    pw::runtime rt(pw::runtime_options{.workers = workers});
    CHECK(rt.block_on(ping_pong(2000)) == 2000);
    rt.block_on([]() -> pw::task<void> {
      for (int i = 0; i < 500; ++i) co_await pw::sleep(20us);
    }());
    const double before = process_cpu_seconds();
    rt.block_on([]() -> pw::task<void> { co_await pw::sleep(1s); }());
    const double used = process_cpu_seconds() - before;
    CHECK(used < 0.25);
  }
}
