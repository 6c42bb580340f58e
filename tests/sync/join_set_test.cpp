// pw::join_set: completion order, abort_all, shutdown, destruction with running and finished
// tasks (LeakSanitizer checks nothing leaks), and an aborted join_next losing nothing.
#include "polarway/sync/join_set.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/test_awaitables.hpp"

namespace pw = polarway;

namespace {

pw::task<int> wait_then_return(pw_test::event& e, int v) {
  co_await e.wait();
  co_return v;
}

pw::task<std::string> forever_with_memory(std::shared_ptr<int> held) {
  auto keep = std::move(held);
  co_await pw_test::suspend_forever{};
  co_return "never";
}

}  // namespace

TEST_CASE("join_next gives results in completion order, then none") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    std::vector<pw_test::event> events(5);
    pw::join_set<int> set;
    CHECK(set.is_empty());
    for (int i = 0; i < 5; ++i) set.spawn(wait_then_return(events[static_cast<std::size_t>(i)], i));
    CHECK(set.len() == 5);
    for (int i : {3, 0, 4, 1, 2}) {
      events[static_cast<std::size_t>(i)].set();
      auto r = co_await set.join_next();
      REQUIRE(r.is_some());
      REQUIRE(r->is_ok());
      CHECK(**r == i);
    }
    CHECK(set.is_empty());
    CHECK((co_await set.join_next()).is_none());
  }());
}

TEST_CASE("many tasks, all results collected once") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::join_set<long> set;
    for (long i = 0; i < 5000; ++i)
      set.spawn([](long i) -> pw::task<long> {
        if (i % 3 == 0) co_await pw::yield_now();
        co_return i;
      }(i));
    long sum = 0, n = 0;
    while (auto r = co_await set.join_next()) {
      sum += **r;
      ++n;
    }
    CHECK(n == 5000);
    CHECK(sum == 5000L * 4999 / 2);
  }());
}

TEST_CASE("abort_all: every task reports cancelled; finished ones keep their value") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::join_set<std::string> set;
    auto memory = std::make_shared<int>(7);
    for (int i = 0; i < 10; ++i) set.spawn(forever_with_memory(memory));
    set.spawn([]() -> pw::task<std::string> { co_return "done"; }());
    // Let the finished one finish.
    auto first = co_await set.join_next();
    REQUIRE(first.is_some());
    CHECK(**first == "done");
    set.abort_all();
    int cancelled = 0;
    while (auto r = co_await set.join_next()) cancelled += r->is_err() && r->error().cancelled();
    CHECK(cancelled == 10);
    CHECK(memory.use_count() == 1);  // the aborted frames are gone
  }());
}

TEST_CASE("shutdown aborts and waits for every task") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    pw::join_set<std::string> set;
    auto memory = std::make_shared<int>(7);
    for (int i = 0; i < 20; ++i) set.spawn(forever_with_memory(memory));
    co_await set.shutdown();
    CHECK(set.is_empty());
    CHECK(memory.use_count() == 1);
  }());
}

TEST_CASE("destroying the set aborts its tasks, running, waiting and finished (LSan-clean)") {
  auto memory = std::make_shared<int>(7);
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on([](std::shared_ptr<int> memory) -> pw::task<void> {
      for (int round = 0; round < 20; ++round) {
        pw::join_set<std::string> set;
        for (int i = 0; i < 10; ++i) set.spawn(forever_with_memory(memory));
        for (int i = 0; i < 10; ++i)
          set.spawn([]() -> pw::task<std::string> { co_return std::string(100, 'x'); }());  // finish, never joined
        for (int i = 0; i < 10; ++i)
          set.spawn([]() -> pw::task<std::string> {  // still running when the set goes
            for (int k = 0; k < 100; ++k) co_await pw::yield_now();
            co_return std::string(100, 'y');
          }());
        if (round % 2) co_await pw::yield_now();
      }
    }(memory));
  }  // the runtime is gone: every task frame was destroyed
  CHECK(memory.use_count() == 1);
}

TEST_CASE("a join_next aborted while waiting loses no result") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw_test::event e;
    pw::join_set<int> set;
    set.spawn(wait_then_return(e, 42));
    auto joiner = pw::spawn([](pw::join_set<int>& set) -> pw::task<void> { (void)co_await set.join_next(); }(set));
    for (int i = 0; i < 4; ++i) co_await pw::yield_now();
    e.set();  // the task finishes ...
    for (int i = 0; i < 2; ++i) co_await pw::yield_now();
    joiner.abort();  // ... and the joiner, woken or not, is aborted before taking the result
    (void)co_await joiner;
    if (!set.is_empty()) {
      auto r = co_await set.join_next();
      REQUIRE(r.is_some());
      CHECK(**r == 42);
    }
    CHECK(set.is_empty());
  }());
}

TEST_CASE("try_join_next and void tasks") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    pw::join_set<void> set;
    CHECK(set.try_join_next().is_none());
    set.spawn([]() -> pw::task<void> { co_return; }());
    CHECK(set.try_join_next().is_none());  // not run yet: we hold the only worker
    co_await pw::yield_now();
    auto r = set.try_join_next();
    REQUIRE(r.is_some());
    CHECK(r->is_ok());
    CHECK(set.is_empty());
  }());
}
