#include "polarway/runtime/runtime.hpp"

#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/death.hpp"
#include "support/test_awaitables.hpp"

namespace pw = polarway;

namespace {
pw::task<int> value_of(int x) { co_return x; }
pw::task<std::string> greeting() { co_return std::string("hello"); }

// Counts frames of tasks that are alive, to prove shutdown destroys them all.
struct frame_counter {
  static inline std::atomic<int> alive{0};
  frame_counter() { ++alive; }
  frame_counter(const frame_counter&) = delete;
  ~frame_counter() { --alive; }
};
// Counts task values that are alive, to prove the cells that hold them destroy them.
struct counted_value {
  static inline std::atomic<int> alive{0};
  counted_value() { ++alive; }
  counted_value(counted_value&&) noexcept { ++alive; }
  ~counted_value() { --alive; }
};
static_assert(!std::is_trivially_destructible_v<counted_value>);

pw::task<void> wait_forever() {
  frame_counter c;
  co_await pw_test::suspend_forever{};
}
}  // namespace

TEST_CASE("block_on runs a task and gives its value") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  CHECK(rt.worker_count() == 2);
  CHECK(rt.block_on(value_of(7)) == 7);
  CHECK(rt.block_on(greeting()) == "hello");
  rt.block_on([]() -> pw::task<void> { co_return; }());
}

TEST_CASE("spawn from inside a task and from outside") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto outside = rt.spawn(value_of(5));
  const int total = rt.block_on([](pw::join_handle<int> h) -> pw::task<int> {
    auto inside = pw::spawn(value_of(10));
    auto a = co_await h;
    auto b = co_await inside;
    co_return *a + *b;
  }(std::move(outside)));
  CHECK(total == 15);
}

TEST_CASE("a detached task still runs to completion") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<int> ran{0};
  rt.block_on([](std::atomic<int>& ran) -> pw::task<void> {
    for (int i = 0; i < 100; ++i) {
      (void)pw::spawn([](std::atomic<int>& r) -> pw::task<void> {
        r.fetch_add(1);
        co_return;
      }(ran));
    }
    while (ran.load() < 100) co_await pw::yield_now();
  }(ran));
  CHECK(ran.load() == 100);
}

TEST_CASE("detach lets the task run on and empties the handle") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  counted_value::alive = 0;
  std::atomic<int> ran{0};
  rt.block_on([](std::atomic<int>& ran) -> pw::task<void> {
    pw::notify release;
    auto handle = pw::spawn([](std::atomic<int>& r, pw::notify& go) -> pw::task<counted_value> {
      co_await go.notified();
      r.fetch_add(1);
      co_return counted_value{};
    }(ran, release));
    handle.detach();
    CHECK_FALSE(handle.is_finished());  // empty: it no longer names the task
    handle.abort();                     // and aborts nothing
    release.notify_one();
    while (ran.load() == 0) co_await pw::yield_now();
  }(ran));
  CHECK(ran.load() == 1);
  rt.shutdown();
  CHECK(counted_value::alive == 0);  // the value nobody took went with the task's cell
}

TEST_CASE("a moved handle keeps its state: awaiting it after a move-assignment works") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const int sum = rt.block_on([]() -> pw::task<int> {
    auto h = pw::spawn(value_of(1));
    int total = (co_await h).unwrap();
    h = pw::spawn(value_of(2));  // over a handle that was awaited already
    total += (co_await h).unwrap();
    pw::join_handle<int> moved = std::move(h);
    co_return total + static_cast<int>(moved.is_finished());
  }());
  CHECK(sum == 4);
}

TEST_CASE("is_finished and abort of an idle task") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  frame_counter::alive = 0;
  auto h = rt.spawn(wait_forever());
  CHECK_FALSE(h.is_finished());
  auto r = rt.block_on([](pw::join_handle<void> h) -> pw::task<pw::result<void, pw::join_error>> {
    co_await pw::yield_now();  // let it start and suspend
    h.abort();
    co_return co_await h;
  }(std::move(h)));
  REQUIRE(r.is_err());
  CHECK(r.error().cancelled());
  CHECK_FALSE(r.error().panicked());
  CHECK(frame_counter::alive == 0);  // its locals were destroyed
}

TEST_CASE("abort after completion keeps the value") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto r = rt.block_on([]() -> pw::task<pw::result<int, pw::join_error>> {
    auto h = pw::spawn(value_of(3));
    while (!h.is_finished()) co_await pw::yield_now();
    h.abort();
    co_return co_await h;
  }());
  CHECK(r == pw::result<int, pw::join_error>(3));
}

TEST_CASE("a finished task releases what its frame held before the handle is awaited") {
  // As in Tokio: a producer's channel sender (here a shared_ptr parameter) must go away when
  // the producer finishes, not when someone joins it, or a consumer waiting for "all senders
  // gone" would wait forever.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto shared = std::make_shared<int>(5);
  const std::weak_ptr<int> watch = shared;
  auto value = rt.block_on([](std::weak_ptr<int> watch, std::shared_ptr<int> p) -> pw::task<int> {
    auto h = pw::spawn([](std::shared_ptr<int> held) -> pw::task<int> { co_return *held * 2; }(std::move(p)));
    while (!h.is_finished()) co_await pw::yield_now();
    CHECK(watch.expired());  // the frame (and its parameter) is gone already
    co_return (co_await h).unwrap();
  }(watch, std::move(shared)));
  CHECK(value == 10);
  CHECK(watch.expired());
}

TEST_CASE("a task's value is destroyed with its cell: taken by the handle, or never taken") {
  // The cell keeps the value from the frame's end until its last holder goes; it must run the
  // value's destructor then (and only a trivially destructible value may skip that call).
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto make = []() -> pw::task<counted_value> { co_return counted_value{}; };
    {
      auto taken = pw::spawn(make());
      CHECK((co_await taken).is_ok());  // the value was moved out; the moved-from one stays
      auto left = pw::spawn(make());
      while (!left.is_finished()) co_await pw::yield_now();
      CHECK(counted_value::alive.load() >= 1);  // held in the finished task's cell
    }                                           // both handles dropped: both cells go
    // A named array: g++ 12 destroys a braced temporary inside a co_await twice (design.md).
    std::array<pw::task<counted_value>, 3> children{make(), make(), make()};
    (void)co_await pw::join_all(std::move(children));
  }());
  CHECK(counted_value::alive.load() == 0);
}

TEST_CASE("handles dropped before, during and after their task's end: each cell and value goes once") {
  // A task whose handle is gone by its end frees its cell without an atomic operation
  // (task_cell::complete_and_release); one whose handle lives keeps its value for it. Handles
  // dropped at once or later, on a worker or outside, race those ends on both workers. A cell
  // freed while a handle still holds it, or a value destroyed twice or never, shows in the
  // count below or under the sanitizers.
  const int alive_before = counted_value::alive.load();
  constexpr int n = 4'000;
  std::atomic<int> ran{0};
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    auto body = [](std::atomic<int>& ran, int i) -> pw::task<counted_value> {
      if (i % 4 == 0) co_await pw::yield_now();
      ran.fetch_add(1);
      co_return counted_value{};
    };
    std::vector<pw::join_handle<counted_value>> kept;
    for (int i = 0; i < n; ++i) {
      auto h = rt.spawn(body(ran, i));
      if (i % 2) kept.push_back(std::move(h));  // else dropped now, from outside, as it runs
    }
    rt.block_on([](auto body, std::atomic<int>& ran) -> pw::task<void> {
      std::vector<pw::join_handle<counted_value>> kept_inside;
      for (int i = 0; i < n; ++i) {
        auto h = pw::spawn(body(ran, i));
        if (i % 2) kept_inside.push_back(std::move(h));
        if (i % 100 == 0) co_await pw::yield_now();  // let some end before their handle goes
      }
      for (std::size_t i = 0; i < kept_inside.size(); i += 2) {
        auto r = co_await kept_inside[i];  // a value taken out of the cell
        CHECK(r.is_ok());
      }
    }(body, ran));  // the rest of kept_inside dropped here, finished or not
    while (ran.load() < 2 * n) std::this_thread::yield();
    kept.clear();  // finished or not
  }                // shutdown: every task has ended and every cell is gone
  CHECK(ran.load() == 2 * n);
  CHECK(counted_value::alive.load() == alive_before);
}

TEST_CASE("shutdown cancels idle tasks, destroys their frames, and refuses new work") {
  frame_counter::alive = 0;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    std::vector<pw::join_handle<void>> kept;
    for (int i = 0; i < 50; ++i) kept.push_back(rt.spawn(wait_forever()));
    for (int i = 0; i < 50; ++i) (void)rt.spawn(wait_forever());  // detached
    while (frame_counter::alive.load() < 100) std::this_thread::yield();
    rt.shutdown();
    CHECK(frame_counter::alive.load() == 0);
    for (auto& h : kept) CHECK(h.is_finished());
    auto late = rt.spawn(value_of(1));
    CHECK(late.is_finished());
    auto r = rt.try_block_on(value_of(2));
    REQUIRE(r.is_err());
    CHECK(r.error().cancelled());
  }  // the destructor after an explicit shutdown is a no-op
  CHECK(frame_counter::alive.load() == 0);
}

TEST_CASE("the runtime destructor shuts down with tasks still pending") {
  frame_counter::alive = 0;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    for (int i = 0; i < 20; ++i) (void)rt.spawn(wait_forever());
    rt.block_on([]() -> pw::task<void> {
      for (int i = 0; i < 20; ++i) (void)pw::spawn(wait_forever());
      co_return;
    }());
  }
  CHECK(frame_counter::alive.load() == 0);
}

// Counts itself into frame_counter::alive for as long as the copy a coroutine frame keeps of it
// lives, so that tasks that never ran (whose bodies never made a frame_counter) are counted too.
struct frame_token {
  frame_token() { ++frame_counter::alive; }
  frame_token(const frame_token&) { ++frame_counter::alive; }
  ~frame_token() { --frame_counter::alive; }
};

pw::task<void> count_run(frame_token, std::atomic<int>& ran) {
  ran.fetch_add(1);
  co_return;
}

// Returns once shutdown has closed the runtime to new work: from another thread, spawns tasks
// from outside until one comes back refused (already finished as cancelled).
void wait_until_closed(pw::runtime& rt) {
  static std::atomic<int> probes_ran{0};  // outlives the probes, which shutdown cancels unrun
  std::thread([&rt] {
    while (!rt.spawn(count_run(frame_token{}, probes_ran)).is_finished()) std::this_thread::yield();
  }).join();
}

TEST_CASE("shutdown cancels tasks spawned inside the runtime that have not run yet") {
  // Tasks spawned on a worker are listed only if they suspend: the ones still queued at
  // shutdown are found in the queues and cancelled there, without running.
  frame_counter::alive = 0;
  std::atomic<int> ran{0};
  std::atomic<bool> spawned{false};
  std::vector<pw::join_handle<void>> handles;
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto root = rt.spawn([](pw::runtime& rt, std::vector<pw::join_handle<void>>& handles, std::atomic<int>& ran,
                          std::atomic<bool>& spawned) -> pw::task<void> {
    for (int i = 0; i < 1000; ++i) handles.push_back(pw::spawn(count_run(frame_token{}, ran)));
    spawned.store(true);
    wait_until_closed(rt);  // holds the only worker, so the 1000 stay queued until then
    co_await pw_test::suspend_forever{};
  }(rt, handles, ran, spawned));
  while (!spawned.load()) std::this_thread::yield();
  rt.shutdown();
  CHECK(ran.load() == 0);
  CHECK(frame_counter::alive.load() == 0);
  for (auto& h : handles) CHECK(h.is_finished());
  CHECK(root.is_finished());
}

TEST_CASE("a task spawned inside the runtime that first suspends during shutdown is cancelled") {
  // Not listed until that suspension, which finds the registry closed: the task cancels itself,
  // and its worker stays until the read it left in flight is cancelled too.
  frame_counter::alive = 0;
  std::atomic<bool> reading{false};
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto root = rt.spawn([](pw::runtime& rt, std::atomic<bool>& reading) -> pw::task<void> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    auto client = (co_await pw::net::tcp_stream::connect(l.local_addr().unwrap())).unwrap();
    auto server = (co_await l.accept()).unwrap();
    // The child's first run: it suspends only on the read, after shutdown has begun.
    // It holds both ends, so that the read ends only by cancellation, not by the peer closing.
    auto child = pw::spawn([](pw::runtime& rt, pw::net::tcp_stream client, pw::net::tcp_stream server,
                              std::atomic<bool>& reading) -> pw::task<bool> {
      frame_counter c;
      std::vector<std::byte> buf(64);
      reading.store(true);
      wait_until_closed(rt);
      auto n = co_await server.read(buf);
      co_return n.is_ok() && client.is_open();
    }(rt, std::move(client), std::move(server), reading));
    (void)co_await child;
  }(rt, reading));
  while (!reading.load()) std::this_thread::yield();
  rt.shutdown();
  CHECK(frame_counter::alive.load() == 0);
  CHECK(root.is_finished());
}

#if defined(__cpp_exceptions)
TEST_CASE("a task that throws completes its handle as panicked and the runtime carries on") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto r = rt.block_on([]() -> pw::task<pw::result<int, pw::join_error>> {
    auto h = pw::spawn([]() -> pw::task<int> {
      throw std::runtime_error("boom");
      co_return 1;
    }());
    co_return co_await h;
  }());
  REQUIRE(r.is_err());
  CHECK(r.error().panicked());
  CHECK(rt.block_on(value_of(9)) == 9);
  bool caught = false;
  try {
    rt.block_on([]() -> pw::task<int> {
      throw std::logic_error("from block_on");
      co_return 0;
    }());
  } catch (const std::logic_error&) {
    caught = true;
  }
  CHECK(caught);
}
#endif

TEST_CASE("worker count: explicit, POLARWAY_WORKERS, and hostile values") {
  using opts = pw::runtime_options;
  CHECK(opts::parse_workers("3").value() == 3);
  for (const char* bad : {"", "abc", "0", "-1", "2x", " 2", "1025", "99999999999999999999999"}) {
    auto r = opts::parse_workers(bad);
    CHECK_MESSAGE(r.is_err(), bad);
    if (r.is_err()) CHECK(r.error() == pw::errc::invalid_input);
  }
  ::setenv("POLARWAY_WORKERS", "3", 1);
  CHECK(opts{}.resolved()->workers == 3);
  CHECK(opts{.workers = 2}.resolved()->workers == 2);  // explicit wins
  ::setenv("POLARWAY_WORKERS", "lots", 1);
  CHECK(opts{}.resolved().is_err());
  CHECK(opts{.workers = 5000}.resolved().is_err());
  const auto d = pw_test::run_in_child([] { pw::runtime rt; });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("POLARWAY_WORKERS") != std::string::npos);
  ::unsetenv("POLARWAY_WORKERS");
  CHECK(opts{}.resolved()->workers >= 1);
}

TEST_CASE("misuse is reported, not undefined") {
  const auto outside = pw_test::run_in_child([] { (void)pw::spawn(value_of(1)); });
  CHECK(outside.aborted);
  CHECK(outside.stderr_text.find("outside a polarway runtime") != std::string::npos);
  const auto nested = pw_test::run_in_child([] {
    pw::runtime rt(pw::runtime_options{.workers = 1});
    rt.block_on([](pw::runtime& rt) -> pw::task<void> {
      rt.block_on(value_of(1));
      co_return;
    }(rt));
  });
  CHECK(nested.aborted);
  CHECK(nested.stderr_text.find("block_on") != std::string::npos);
}
