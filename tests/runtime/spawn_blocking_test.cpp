#include "polarway/runtime/spawn_blocking.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

// A door blocking-pool calls wait at until the test opens it.
class gate {
 public:
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  void pass() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Waits, from outside the runtime, until `done()` holds (a test that never gets there hangs
// and fails on CTest's timeout; nothing here asserts how long it takes).
template <class F>
void wait_until(F done) {
  while (!done()) std::this_thread::sleep_for(1ms);
}

// The blocking pool of `rt`, reached through one of its tasks.
pw::detail::blocking_pool& pool_of(pw::runtime& rt) {
  return *rt.block_on([]() -> pw::task<pw::detail::blocking_pool*> {
    co_return &pw::detail::tls_context.current_worker->sched->pool();
  }());
}

template <class T>
pw::task<pw::result<T, pw::join_error>> join(pw::join_handle<T> h) {
  co_return co_await h;
}

}  // namespace

TEST_CASE("spawn_blocking runs f on a pool thread, not a worker, and gives its value") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto h = pw::spawn_blocking([] {
      // A pool thread is not a worker: it has no current worker or task.
      const bool on_worker = pw::detail::tls_context.current_worker != nullptr;
      return on_worker ? std::string("on a worker") : std::string("on the pool");
    });
    auto r = co_await h;
    REQUIRE(r.is_ok());
    CHECK(*r == "on the pool");

    // void, and a move-only value.
    std::atomic<int> ran{0};
    CHECK((co_await pw::spawn_blocking([&] { ran.store(1); })).is_ok());
    CHECK(ran.load() == 1);
    auto p = co_await pw::spawn_blocking([] { return std::make_unique<int>(42); });
    REQUIRE(p.is_ok());
    CHECK(**p == 42);

    // A result as the value, the way a fallible call reports failure without exceptions.
    auto fallible = co_await pw::spawn_blocking([]() -> pw::result<int> { return pw::err(pw::error(pw::errc::closed)); });
    REQUIRE(fallible.is_ok());
    CHECK(fallible->error() == pw::errc::closed);
  }());
}

TEST_CASE("rt.spawn_blocking works from outside the runtime") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto h = rt.spawn_blocking([] { return 6 * 7; });
  auto r = rt.block_on(join(std::move(h)));
  REQUIRE(r.is_ok());
  CHECK(*r == 42);
}

TEST_CASE("a blocked call leaves the worker free") {
  // One worker; f blocks until a task sets the flag, which that task can only do if the worker
  // is not the thread blocked in f.
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto flag = std::make_shared<std::atomic<bool>>(false);
    auto h = pw::spawn_blocking([flag] {
      while (!flag->load()) std::this_thread::sleep_for(1ms);
      return 7;
    });
    auto setter = pw::spawn([](std::shared_ptr<std::atomic<bool>> f) -> pw::task<void> {
      f->store(true);
      co_return;
    }(flag));
    CHECK((co_await setter).is_ok());
    auto r = co_await h;
    CHECK(r.value() == 7);
  }());
}

TEST_CASE("no more than max_blocking_threads run at once; the rest wait their turn") {
  pw::runtime rt(pw::runtime_options{.workers = 2, .max_blocking_threads = 2});
  auto& pool = pool_of(rt);
  gate g;
  std::atomic<int> running{0}, most{0}, started{0};
  std::vector<pw::join_handle<int>> handles;
  for (int i = 0; i < 5; ++i)
    handles.push_back(rt.spawn_blocking([&, i] {
      const int now = running.fetch_add(1) + 1;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      started.fetch_add(1);
      g.pass();
      running.fetch_sub(1);
      return i;
    }));
  wait_until([&] { return started.load() == 2 && pool.queued() == 3; });
  CHECK(pool.threads_alive() == 2);
  CHECK(started.load() == 2);  // the other three wait in the queue, not on a thread
  g.open();
  for (int i = 0; i < 5; ++i) {
    auto r = rt.block_on(join(std::move(handles[static_cast<std::size_t>(i)])));
    CHECK(r.value() == i);
  }
  CHECK(most.load() == 2);
  CHECK(pool.threads_alive() <= 2);
}

TEST_CASE("an idle thread is reused, and exits after thread_keep_alive") {
  SUBCASE("a call finds the idle thread and runs there") {
    pw::runtime rt(pw::runtime_options{.workers = 1});
    auto& pool = pool_of(rt);
    const auto first = rt.block_on(join(rt.spawn_blocking([] { return std::this_thread::get_id(); }))).value();
    wait_until([&] { return pool.threads_idle() == 1; });
    const auto second = rt.block_on(join(rt.spawn_blocking([] { return std::this_thread::get_id(); }))).value();
    CHECK(first == second);
    CHECK(pool.threads_alive() == 1);
  }
  SUBCASE("idle threads exit after the keep-alive, and new calls start new ones") {
    pw::runtime rt(pw::runtime_options{.workers = 1, .thread_keep_alive = 20ms});
    auto& pool = pool_of(rt);
    CHECK(rt.block_on(join(rt.spawn_blocking([] { return 1; }))).value() == 1);
    wait_until([&] { return pool.threads_alive() == 0; });
    CHECK(rt.block_on(join(rt.spawn_blocking([] { return 2; }))).value() == 2);
    wait_until([&] { return pool.threads_alive() == 0; });
  }
}

TEST_CASE("abort before the call starts: it never runs") {
  pw::runtime rt(pw::runtime_options{.workers = 1, .max_blocking_threads = 1});
  auto& pool = pool_of(rt);
  gate g;
  std::atomic<bool> first_started{false}, second_ran{false};
  auto first = rt.spawn_blocking([&] {
    first_started.store(true);
    g.pass();
    return 1;
  });
  wait_until([&] { return first_started.load(); });
  auto second = rt.spawn_blocking([&] {
    second_ran.store(true);
    return 2;
  });
  wait_until([&] { return pool.queued() == 1; });  // waiting for the only thread
  second.abort();
  wait_until([&] { return pool.queued() == 0; });  // withdrawn by the worker that took the abort
  g.open();
  CHECK(rt.block_on(join(std::move(first))).value() == 1);
  auto r = rt.block_on(join(std::move(second)));
  REQUIRE(r.is_err());
  CHECK(r.error().is_cancelled());
  CHECK_FALSE(second_ran.load());
  CHECK(pool.calls_run() == 1);

  // A task aborted before it even reached the pool does not run f either.
  std::atomic<bool> third_ran{false};
  auto third = rt.block_on([](std::atomic<bool>& ran) -> pw::task<pw::join_handle<void>> {
    auto h = pw::spawn_blocking([&ran] { ran.store(true); });
    h.abort();  // the task has not run yet: the worker is busy running this one
    co_return h;
  }(third_ran));
  CHECK(rt.block_on(join(std::move(third))).error().is_cancelled());
  CHECK_FALSE(third_ran.load());
}

TEST_CASE("abort once the call is running: it completes and the handle gives its value") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  gate g;
  std::atomic<bool> started{false}, finished{false};
  auto h = rt.spawn_blocking([&] {
    started.store(true);
    g.pass();
    finished.store(true);
    return std::string("done");
  });
  wait_until([&] { return started.load(); });
  h.abort();
  g.open();
  auto r = rt.block_on(join(std::move(h)));
  CHECK(finished.load());
  REQUIRE(r.is_ok());
  CHECK(*r == "done");
}

TEST_CASE("a dropped handle detaches: the call still runs") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  std::atomic<bool> ran{false};
  rt.spawn_blocking([&] { ran.store(true); }).detach();
  wait_until([&] { return ran.load(); });
  CHECK(ran.load());
}

TEST_CASE("shutdown waits for running calls and cancels the ones still queued") {
  std::atomic<bool> first_started{false}, first_finished{false}, second_ran{false}, shut_down{false};
  gate g;
  pw::detail::blocking_pool* pool = nullptr;
  {
    auto rt = std::make_unique<pw::runtime>(pw::runtime_options{.workers = 1, .max_blocking_threads = 1});
    pool = &pool_of(*rt);
    auto first = rt->spawn_blocking([&] {
      first_started.store(true);
      g.pass();
      first_finished.store(true);
    });
    wait_until([&] { return first_started.load(); });
    auto second = rt->spawn_blocking([&] { second_ran.store(true); });
    wait_until([&] { return pool->queued() == 1; });
    std::thread stopper([&] {
      rt->shutdown();
      shut_down.store(true);
    });
    // Shutdown cancels the queued call: it leaves the queue while the first still runs.
    wait_until([&] { return pool->queued() == 0; });
    CHECK_FALSE(shut_down.load());  // the running call holds shutdown back
    g.open();
    stopper.join();
    CHECK(first_finished.load());
    CHECK_FALSE(second_ran.load());
    auto r = second.is_finished();
    CHECK(r);
    // After shutdown nothing runs: the handle is cancelled at once.
    std::atomic<bool> late_ran{false};
    auto late = rt->spawn_blocking([&] { late_ran.store(true); });
    CHECK(late.is_finished());
    CHECK_FALSE(late_ran.load());
  }
}

TEST_CASE("file operations share the one pool") {
  // On the epoll backend file operations run on the blocking pool: with one thread, busy with a
  // spawn_blocking call, a file operation waits behind it in the same queue.
  pw::runtime rt(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::epoll, .max_blocking_threads = 1});
  auto& pool = pool_of(rt);
  gate g;
  std::atomic<bool> started{false};
  auto blocker = rt.spawn_blocking([&] {
    started.store(true);
    g.pass();
  });
  wait_until([&] { return started.load(); });
  auto remove = rt.spawn(pw::fs::remove("/nonexistent-polarway-dir/file"));
  wait_until([&] { return pool.queued() == 1; });
  g.open();
  auto removed = rt.block_on(join(std::move(remove)));
  REQUIRE(removed.is_ok());
  CHECK(removed->error() == std::errc::no_such_file_or_directory);
  CHECK(rt.block_on(join(std::move(blocker))).is_ok());
}

#if defined(__cpp_exceptions)
TEST_CASE("an exception escaping f panics its task, not the process") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on(join(rt.spawn_blocking([]() -> int { throw std::runtime_error("boom"); })));
  REQUIRE(r.is_err());
  CHECK(r.error().is_panicked());
  CHECK(rt.block_on(join(rt.spawn_blocking([] { return 1; }))).value() == 1);
}
#endif

TEST_CASE("max_blocking_threads and thread_keep_alive are checked") {
  CHECK(pw::runtime_options{.max_blocking_threads = 0}.resolved().error() == pw::errc::invalid_input);
  CHECK(pw::runtime_options{.max_blocking_threads = 70'000}.resolved().error() == pw::errc::invalid_input);
  CHECK(pw::runtime_options{.thread_keep_alive = -1ms}.resolved().error() == pw::errc::invalid_input);
  CHECK(pw::runtime_options{.thread_keep_alive = 48h}.resolved().error() == pw::errc::invalid_input);
  auto defaults = pw::runtime_options{}.resolved();
  REQUIRE(defaults.is_ok());
  CHECK(defaults->max_blocking_threads == 512);
  CHECK(defaults->thread_keep_alive == 10s);
}
