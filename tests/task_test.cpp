#include "polarway/task.hpp"

#include <doctest/doctest.h>

#include <memory>
#include <string>

#include "polarway/detail/sync_wait.hpp"
#include "polarway/result.hpp"

namespace pw = polarway;
using pw::detail::sync_wait;

namespace {

pw::task<int> answer() { co_return 42; }
pw::task<int> add_one(int x) { co_return x + 1; }
pw::task<int> nested() {
  const int a = co_await answer();
  const int b = co_await add_one(a);
  co_return a + b;
}

int counter = 0;
pw::task<void> bump() {
  ++counter;
  co_return;
}

pw::task<int> chain(int depth) {
  if (depth == 0) co_return 0;
  co_return 1 + co_await chain(depth - 1);
}

int shared_value = 5;
pw::task<int&> ref_to_shared() { co_return shared_value; }

pw::task<std::unique_ptr<std::string>> make_unique_string() { co_return std::make_unique<std::string>("moved"); }

// Counts constructions and destructions so tests can see frames (and their locals) freed.
struct lifetime_probe {
  static inline int alive = 0;
  lifetime_probe() { ++alive; }
  lifetime_probe(const lifetime_probe&) { ++alive; }
  ~lifetime_probe() { --alive; }
};
pw::task<int> holds_probe(lifetime_probe) { co_return 1; }

}  // namespace

TEST_CASE("a task is lazy and yields its value") {
  counter = 0;
  auto t = bump();
  CHECK(counter == 0);  // nothing ran yet
  sync_wait(std::move(t));
  CHECK(counter == 1);
  CHECK(sync_wait(answer()) == 42);
  CHECK(sync_wait(nested()) == 42 + 43);
}

TEST_CASE("task<T&> and move-only results") {
  int& r = sync_wait(ref_to_shared());
  CHECK(&r == &shared_value);
  auto p = sync_wait(make_unique_string());
  CHECK(*p == "moved");
}

TEST_CASE("awaiting a named task and awaiting it when done") {
  auto outer = []() -> pw::task<int> {
    auto t = add_one(1);
    const int first = co_await t;  // lvalue await
    co_return first;
  };
  CHECK(sync_wait(outer()) == 2);
}

TEST_CASE("a chain of a million nested awaits does not grow the stack") {
  // Symmetric transfer in await_suspend and final_suspend makes each hop a tail call; without
  // it a million frames of recursion would overflow the 8 MiB main-thread stack.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  // g++'s sanitizers instrument every function exit, which turns the tail calls back into
  // ordinary calls (and TSan's shadow stack holds 65,536 entries): there the chain checks
  // correctness only. The default, clang and no-exceptions builds check the depth.
  constexpr int depth = 1'000;
#else
  constexpr int depth = 1'000'000;
#endif
  CHECK(sync_wait(chain(depth)) == depth);
}

TEST_CASE("destroying an unstarted or finished task frees its frame and locals") {
  lifetime_probe::alive = 0;
  {
    auto t = holds_probe(lifetime_probe{});
    CHECK(lifetime_probe::alive == 1);  // the parameter copy lives in the frame
  }
  CHECK(lifetime_probe::alive == 0);
  {
    auto t = holds_probe(lifetime_probe{});
    auto awaiter = std::move(t).operator co_await();
    awaiter.await_suspend(std::noop_coroutine()).resume();
    CHECK(t.done());
    CHECK(awaiter.await_resume() == 1);
  }
  CHECK(lifetime_probe::alive == 0);
}

TEST_CASE("moving a task transfers ownership") {
  auto a = answer();
  pw::task<int> b = std::move(a);
  CHECK_FALSE(a.valid());
  CHECK(b.valid());
  pw::task<int> c;
  c = std::move(b);
  CHECK(sync_wait(std::move(c)) == 42);
  static_assert(!std::is_copy_constructible_v<pw::task<int>>);
}

namespace {
// The shape of parquet_sink's commit() that clang 14 with -fno-exceptions miscompiled (see the
// comment in task::reset): an awaited child task whose frame is elided into this one, awaited in
// a branch that returns, then a non-trivial local and another await. The co_return then
// destroyed the frame instead of reaching the final suspend, so the awaiter never resumed.
struct commit_error {
  std::string path;
  int code = 0;
};
struct committer {
  int n = 0;
  pw::task<commit_error> discard(int e) { co_return commit_error{"x", e}; }
  pw::task<int> sync_dir(std::string dir) { co_return static_cast<int>(dir.size()); }
  pw::task<pw::result<void, commit_error>> commit(std::string dir) {
    const int r = n;
    if (!r) {
      commit_error e = co_await discard(n);
      co_return pw::err(std::move(e));
    }
    const std::string d = dir;
    (void)co_await sync_dir(dir);
    co_return pw::ok();
  }
};
pw::task<void> await_commit(pw::task<pw::result<void, commit_error>> t, bool& resumed, bool& ok) {
  auto r = co_await std::move(t);
  ok = r.has_value();
  resumed = true;
}
}  // namespace

TEST_CASE("co_return after an elided child's await in a returning branch resumes the awaiter") {
  for (const int n : {0, 1}) {
    CAPTURE(n);
    committer c{n};
    bool resumed = false, ok = false;
    // Driven by hand rather than by sync_wait, so that the miscompiled form fails the check
    // instead of hanging or freeing a frame twice.
    auto outer = await_commit(c.commit("dir"), resumed, ok);
    outer.handle().resume();
    CHECK(resumed);
    if (!resumed) {
      (void)outer.release();  // commit's frame is already gone: destroying ours would free it again
      continue;
    }
    CHECK(outer.done());
    CHECK(ok == (n != 0));
  }
}

#if defined(__cpp_exceptions)
namespace {
pw::task<int> throws() {
  throw std::runtime_error("boom");
  co_return 0;
}
pw::task<int> catches() {
  try {
    co_return co_await throws();
  } catch (const std::runtime_error& e) {
    co_return std::string(e.what()) == "boom" ? 7 : 0;
  }
}
}  // namespace

TEST_CASE("an exception reaches the awaiter") { CHECK(sync_wait(catches()) == 7); }
#endif
