#include "polarway/runtime/join_all.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/death.hpp"
#include "support/test_awaitables.hpp"

namespace pw = polarway;

namespace {
pw::task<int> square(int x) {
  if (x % 2) co_await pw::yield_now();
  co_return x * x;
}
}  // namespace

TEST_CASE("join_all gives the values in the order of the tasks") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto values = rt.block_on([]() -> pw::task<std::vector<int>> {
    std::vector<pw::task<int>> tasks;
    for (int i = 0; i < 100; ++i) tasks.push_back(square(i));
    co_return co_await pw::join_all(std::move(tasks));
  }());
  REQUIRE(values.size() == 100);
  for (int i = 0; i < 100; ++i) CHECK(values[static_cast<std::size_t>(i)] == i * i);
}

TEST_CASE("join_all of more children than a worker's deque holds: queued one by one, values in order") {
  // The children are queued at once when they fit the deque (4,096 slots on a worker of a
  // runtime with several); 10,000 do not, and go one by one, half of the deque overflowing to
  // the inject queue each time it fills. On one worker the deque grows instead.
  for (std::size_t workers : {1, 2}) {
    CAPTURE(workers);
    pw::runtime rt(pw::runtime_options{.workers = workers});
    auto values = rt.block_on([]() -> pw::task<std::vector<int>> {
      std::vector<pw::task<int>> tasks;
      for (int i = 0; i < 10'000; ++i) tasks.push_back(square(i % 1000));
      co_return co_await pw::join_all(std::move(tasks));
    }());
    REQUIRE(values.size() == 10'000);
    int wrong = 0;
    for (int i = 0; i < 10'000; ++i) wrong += values[static_cast<std::size_t>(i)] != (i % 1000) * (i % 1000);
    CHECK(wrong == 0);
  }
}

TEST_CASE("join_all of nothing, and of void tasks") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<int> ran{0};
  const auto sizes = rt.block_on([](std::atomic<int>& ran) -> pw::task<std::pair<std::size_t, std::size_t>> {
    auto none = co_await pw::join_all(std::vector<pw::task<int>>{});
    std::vector<pw::task<void>> voids;
    for (int i = 0; i < 10; ++i)
      voids.push_back([](std::atomic<int>& r) -> pw::task<void> {
        r.fetch_add(1);
        co_return;
      }(ran));
    auto units = co_await pw::join_all(std::move(voids));
    co_return std::pair{none.size(), units.size()};
  }(ran));
  CHECK(sizes.first == 0);
  CHECK(sizes.second == 10);
  CHECK(ran.load() == 10);
}

TEST_CASE("join_all over a std::array: values in order, in an array; void tasks; none") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<int> ran{0};
  auto [squares, units, none] =
      rt.block_on([](std::atomic<int>& ran)
                      -> pw::task<std::tuple<std::array<int, 10>, std::array<std::monostate, 3>, std::array<int, 0>>> {
        std::array<pw::task<int>, 10> tasks;
        for (int i = 0; i < 10; ++i) tasks[static_cast<std::size_t>(i)] = square(i);
        auto squares = co_await pw::join_all(std::move(tasks));
        std::array<pw::task<void>, 3> voids;
        for (auto& t : voids)
          t = [](std::atomic<int>& r) -> pw::task<void> {
            r.fetch_add(1);
            co_return;
          }(ran);
        auto units = co_await pw::join_all(std::move(voids));
        auto none = co_await pw::join_all(std::array<pw::task<int>, 0>{});
        co_return std::tuple{squares, units, none};
      }(ran));
  for (int i = 0; i < 10; ++i) CHECK(squares[static_cast<std::size_t>(i)] == i * i);
  CHECK(units.size() == 3);
  CHECK(ran.load() == 3);
  CHECK(none.empty());
}

TEST_CASE("join_all over a std::array nests: a recursive fan-out gives the exact sum") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  struct tree {
    static pw::task<long> sum(long first, long count) {
      if (count == 1) co_return first;
      std::array<pw::task<long>, 4> parts;
      for (long i = 0; i < 4; ++i) parts[static_cast<std::size_t>(i)] = sum(first + i * (count / 4), count / 4);
      long total = 0;
      for (long v : co_await pw::join_all(std::move(parts))) total += v;
      co_return total;
    }
  };
  CHECK(rt.block_on(tree::sum(0, 4096)) == 4096L * 4095 / 2);
}

TEST_CASE("an empty task given to join_all or spawn is reported, not run") {
  const auto in_array = pw_test::run_in_child([] {
    pw::runtime rt(pw::runtime_options{.workers = 1});
    rt.block_on([]() -> pw::task<void> {
      std::array<pw::task<int>, 2> tasks{square(1)};  // the second is left empty
      (void)co_await pw::join_all(std::move(tasks));
    }());
  });
  CHECK(in_array.aborted);
  CHECK(in_array.stderr_text.find("the task is empty") != std::string::npos);
  const auto spawned = pw_test::run_in_child([] {
    pw::runtime rt(pw::runtime_options{.workers = 1});
    (void)rt.spawn(pw::task<int>{});
  });
  CHECK(spawned.aborted);
  CHECK(spawned.stderr_text.find("the task is empty") != std::string::npos);
}

TEST_CASE("when_all over different types") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto [n, s, unit] = rt.block_on([]() -> pw::task<std::tuple<int, std::string, std::monostate>> {
    co_return co_await pw::when_all(square(3), []() -> pw::task<std::string> { co_return "x"; }(),
                                    []() -> pw::task<void> { co_return; }());
  }());
  CHECK(n == 9);
  CHECK(s == "x");
  (void)unit;
}

namespace {
struct alive_counter {
  static inline std::atomic<int> alive{0};
  alive_counter() { ++alive; }
  alive_counter(const alive_counter&) = delete;
  ~alive_counter() { --alive; }
};
}  // namespace

TEST_CASE("aborting the parent aborts the children, and none outlives it") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  alive_counter::alive = 0;
  std::atomic<int> started{0};
  auto parent = rt.spawn([](std::atomic<int>& started) -> pw::task<void> {
    alive_counter mine;
    std::vector<pw::task<void>> kids;
    for (int i = 0; i < 8; ++i)
      kids.push_back([](std::atomic<int>& started) -> pw::task<void> {
        alive_counter c;
        started.fetch_add(1);
        co_await pw_test::suspend_forever{};
      }(started));
    co_await pw::join_all(std::move(kids));
  }(started));
  while (started.load() < 8) std::this_thread::yield();
  CHECK(alive_counter::alive.load() == 9);
  auto r = rt.block_on([](pw::join_handle<void> p) -> pw::task<pw::result<void, pw::join_error>> {
    p.abort();
    co_return co_await p;
  }(std::move(parent)));
  REQUIRE(r.is_err());
  CHECK(r.error().cancelled());
  CHECK(alive_counter::alive.load() == 0);
}

TEST_CASE("a runtime shut down while fan-outs are starting never resumes a parent with a cancelled child") {
  // A worker cancels every child it takes from a queue once shutdown has begun; a parent whose
  // children all went that way before it could suspend must end, not read their values.
  for (int round = 0; round < 200; ++round) {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    alive_counter::alive = 0;
    for (int i = 0; i < 16; ++i)
      (void)rt.spawn([]() -> pw::task<void> {
        std::vector<pw::task<void>> kids;
        for (int k = 0; k < 2; ++k)
          kids.push_back([]() -> pw::task<void> {
            alive_counter c;
            co_await pw_test::suspend_forever{};
          }());
        co_await pw::join_all(std::move(kids));
      }());
    rt.shutdown();
    REQUIRE(alive_counter::alive.load() == 0);
  }
}

#if defined(__cpp_exceptions)
TEST_CASE("a child's exception reaches the parent after all children finished") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<int> finished{0};
  bool caught = rt.block_on([](std::atomic<int>& finished) -> pw::task<bool> {
    std::vector<pw::task<int>> kids;
    for (int i = 0; i < 10; ++i)
      kids.push_back([](int i, std::atomic<int>& finished) -> pw::task<int> {
        co_await pw::yield_now();
        finished.fetch_add(1);
        if (i == 4) throw std::runtime_error("child 4");
        co_return i;
      }(i, finished));
    try {
      co_await pw::join_all(std::move(kids));
    } catch (const std::runtime_error&) {
      co_return finished.load() == 10;
    }
    co_return false;
  }(finished));
  CHECK(caught);
}
#endif

namespace {
using steady = std::chrono::steady_clock;

// Spins (without yielding: the worker stays in this run) until `flag` is set or `limit` has
// passed; false on the limit.
bool spin_until(const std::atomic<bool>& flag, std::chrono::milliseconds limit) {
  const auto deadline = steady::now() + limit;
  while (!flag.load(std::memory_order_acquire))
    if (steady::now() > deadline) return false;
  return true;
}
}  // namespace

TEST_CASE("a child's completion held back on its worker is settled before the worker runs other work") {
  // A worker counts the completions of consecutive children of one group against the group
  // at once (pending_arrivals in scheduler.hpp). Each round sets up, on 2 workers:
  // - worker Y spins in a blocker task, so that it takes nothing yet;
  // - worker X runs the parent, then child b, which spawns a spinner and finishes: X holds
  //   b's completion back, and the spinner is X's next task (child a is under it);
  // - the spinner frees Y and spins until the parent has resumed; Y steals a and finishes it.
  // The parent resumes only if X settled b's completion before running the spinner; if not,
  // the spinner gives up after two seconds and the round fails.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  int rounds_as_planned = 0;
  for (int round = 0; round < 20; ++round) {
    struct shared {
      std::atomic<bool> blocker_running{false}, release_blocker{false}, parent_resumed{false};
      std::atomic<std::thread::id> blocker_thread{};
      pw::join_handle<bool> spinner;
    } s;
    auto result = rt.block_on([](shared& s) -> pw::task<int> {
      auto blocker = pw::spawn([](shared& s) -> pw::task<void> {
        s.blocker_thread = std::this_thread::get_id();
        s.blocker_running = true;
        (void)spin_until(s.release_blocker, std::chrono::milliseconds(200));
        co_return;
      }(s));
      // Without yielding, so that the other worker takes the blocker.
      (void)spin_until(s.blocker_running, std::chrono::milliseconds(100));
      while (!s.blocker_running) co_await pw::yield_now();
      if (s.blocker_thread.load() == std::this_thread::get_id()) {  // it ran here, and is over
        (void)co_await blocker;
        co_return -1;
      }
      auto child_a = []() -> pw::task<int> { co_return 1; };
      auto child_b = [](shared& s) -> pw::task<int> {
        s.spinner = pw::spawn([](shared& s) -> pw::task<bool> {
          s.release_blocker = true;
          co_return spin_until(s.parent_resumed, std::chrono::seconds(2));
        }(s));
        co_return 2;
      };
      std::array<pw::task<int>, 2> children{child_a(), child_b(s)};
      auto values = co_await pw::join_all(std::move(children));
      s.parent_resumed = true;
      const bool spinner_saw_it = (co_await std::move(s.spinner)).unwrap_or(false);
      (void)co_await blocker;
      co_return spinner_saw_it ? values[0] + values[1] : 0;
    }(s));
    CHECK(result != 0);
    if (result == 3) ++rounds_as_planned;
  }
  CHECK(rounds_as_planned > 0);
}
