// pw::barrier: release only when n tasks wait, exactly one leader per generation, reuse across
// generations, racing and aborting a wait (the arrival is withdrawn while the generation is
// incomplete), and a multi-worker stress run over many generations.
#include "polarway/sync/barrier.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/stress.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

constexpr int scale = pw_test::stress_scale;
using pw_test::settle;

pw::task<bool> wait_on(pw::barrier& b) { co_return (co_await b.wait()).is_leader(); }

}  // namespace

TEST_CASE("n - 1 tasks wait until the n-th arrives; the n-th is the one leader") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::barrier b(4);
    CHECK(b.participants() == 4);
    std::vector<pw::join_handle<bool>> hs;
    for (int i = 0; i < 3; ++i) hs.push_back(pw::spawn(wait_on(b)));
    co_await settle();
    for (auto& h : hs) CHECK(!h.is_finished());
    auto mine = co_await b.wait();
    CHECK(mine.is_leader());  // the last to arrive
    for (auto& h : hs) CHECK(*(co_await h) == false);

    // The next generation works the same way.
    hs.clear();
    for (int i = 0; i < 3; ++i) hs.push_back(pw::spawn(wait_on(b)));
    co_await settle();
    for (auto& h : hs) CHECK(!h.is_finished());
    CHECK((co_await b.wait()).is_leader());
    for (auto& h : hs) CHECK(!*(co_await h));
  }());
}

TEST_CASE("a barrier of 1 (or 0) releases every wait at once, as leader") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::barrier one(1), zero(0);
    CHECK(zero.participants() == 1);
    for (int i = 0; i < 300; ++i) {  // past the cooperative budget: the wait yields, still leader
      CHECK((co_await one.wait()).is_leader());
      CHECK((co_await zero.wait()).is_leader());
    }
  }());
}

TEST_CASE("a wait that loses a race or times out withdraws its arrival") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::barrier b(2);
    auto lost = co_await pw::race(b.wait(), pw::sleep(2ms));
    CHECK(lost.index() == 1);
    auto timed_out = co_await pw::timeout(2ms, b.wait());
    REQUIRE(timed_out.is_err());
    CHECK(timed_out.error() == pw::errc::timed_out);
    // Neither arrival counts: one more task alone still waits.
    auto other = pw::spawn(wait_on(b));
    co_await pw::sleep(2ms);
    CHECK(!other.is_finished());
    // A wait that completes the generation wins its race.
    auto won = co_await pw::race(b.wait(), pw::sleep(1h));
    REQUIRE(won.index() == 0);
    CHECK(won.get<0>().is_leader());
    CHECK(*(co_await other) == false);
    // And one that is released while it waits inside a timeout.
    auto late = pw::spawn([](pw::barrier& b) -> pw::task<void> {
      co_await pw::sleep(1ms);
      (void)co_await b.wait();
    }(b));
    auto in_time = co_await pw::timeout(1h, b.wait());
    REQUIRE(in_time.is_ok());
    (void)co_await late;
  }());
}

TEST_CASE("an aborted waiter withdraws its arrival; one released before it ran still counted") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::barrier b(3);
    auto first = pw::spawn(wait_on(b));
    auto second = pw::spawn(wait_on(b));
    co_await settle();
    first.abort();
    CHECK((co_await first).error().is_cancelled());
    // Two arrivals remain needed: `second` and us are not enough.
    auto third = pw::spawn(wait_on(b));
    co_await settle();
    CHECK(!second.is_finished());
    CHECK(!third.is_finished());
    CHECK((co_await b.wait()).is_leader());  // second + third + us
    CHECK(!*(co_await second));
    CHECK(!*(co_await third));

    // Released, then aborted before it ran: the generation is complete all the same, and the
    // next one starts from zero.
    auto a = pw::spawn(wait_on(b));
    auto c = pw::spawn(wait_on(b));
    co_await settle();
    auto leader = co_await b.wait();  // releases a and c, which cannot run before we yield
    CHECK(leader.is_leader());
    a.abort();
    (void)co_await a;
    CHECK(!*(co_await c));
    auto d = pw::spawn(wait_on(b));
    auto e = pw::spawn(wait_on(b));
    co_await settle();
    CHECK(!d.is_finished());
    CHECK((co_await b.wait()).is_leader());
    (void)co_await d;
    (void)co_await e;
  }());
}

namespace {

struct generation_log {
  explicit generation_log(int generations) : arrived(static_cast<std::size_t>(generations)),
                                             leaders(static_cast<std::size_t>(generations)) {}
  std::vector<std::atomic<int>> arrived;
  std::vector<std::atomic<int>> leaders;
  std::atomic<bool> released_early{false};
};

pw::task<void> participant(pw::barrier& b, generation_log& log, int n, int generations) {
  for (int g = 0; g < generations; ++g) {
    log.arrived[static_cast<std::size_t>(g)].fetch_add(1);
    auto r = co_await b.wait();
    // Released only once all n arrived at this generation.
    if (log.arrived[static_cast<std::size_t>(g)].load() != n) log.released_early = true;
    if (r.is_leader()) log.leaders[static_cast<std::size_t>(g)].fetch_add(1);
    if (g % 3 == 0) co_await pw::yield_now();
  }
}

}  // namespace

TEST_CASE("stress: 8 tasks on 4 workers through many generations: one leader each, none released early") {
  const int generations = 2000 / scale;
  const int n = 8;
  pw::runtime rt(pw::runtime_options{.workers = 4});
  rt.block_on([](int n, int generations) -> pw::task<void> {
    pw::barrier b(static_cast<std::size_t>(n));
    auto log = std::make_unique<generation_log>(generations);
    std::vector<pw::join_handle<void>> hs;
    for (int i = 0; i < n; ++i) hs.push_back(pw::spawn(participant(b, *log, n, generations)));
    for (auto& h : hs) CHECK((co_await h).is_ok());
    CHECK(!log->released_early.load());
    int wrong = 0;
    for (int g = 0; g < generations; ++g) wrong += log->leaders[static_cast<std::size_t>(g)].load() != 1;
    CHECK(wrong == 0);
  }(n, generations));
}

TEST_CASE("stress: waits raced against short timers keep the count right") {
  // Two tasks meet at a barrier of 2 many times; each wait is raced against a short timer,
  // which wins while the other side is late, and a task that lost simply waits again. If a lost wait left its arrival
  // behind, a generation would complete with one task and the two would drift apart.
  const int rounds = 500 / scale;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([](int rounds) -> pw::task<void> {
    pw::barrier b(2);
    std::atomic<int> position[2] = {0, 0};
    std::atomic<bool> drifted{false};
    auto side = [](pw::barrier& b, std::atomic<int>* position, int me, std::atomic<bool>& drifted,
                   int rounds) -> pw::task<int> {
      int lost = 0;
      for (int i = 0; i < rounds; ++i) {
        position[me].store(i);
        if (i % 5 == me) co_await pw::sleep(2ms);  // arrive late: the other side's timers fire
        for (int in_a_row = 0;; ++in_a_row) {
          if (in_a_row == 500) {  // the other side is gone: the two drifted apart
            drifted = true;
            co_return lost;
          }
          auto r = co_await pw::race(b.wait(), pw::sleep(std::chrono::microseconds(20)));
          if (r.index() == 0 || r.completed<0>()) break;
          ++lost;
        }
        // Both passed generation i together: the other one has reached round i too.
        if (position[1 - me].load() < i) drifted = true;
      }
      co_return lost;
    };
    auto a = pw::spawn(side(b, position, 0, drifted, rounds));
    auto c = pw::spawn(side(b, position, 1, drifted, rounds));
    const int lost = *(co_await a) + *(co_await c);
    CHECK(!drifted.load());
    CHECK(lost > 0);  // the timers did win, so withdrawn arrivals were exercised
    MESSAGE("waits lost to the timer: " << lost);
  }(rounds));
}
