// The shapes in which users write co_await, compiled by every CI build (g++ 12 and clang 14,
// with and without exceptions, under ASan and TSan): an awaited value used directly as a loop or
// if condition, negated, on both arms of ?:, as the operand of co_return, and bound by a
// structured binding. Values are strings longer than the small-string buffer, so a frame that
// destroys a temporary twice or not at all shows up under the sanitizers.
//
// g++ 12 gets two shapes wrong: it awaits both arms of ?: (the case that counts the arms expects
// that failure under g++ 12), and it destroys twice a braced temporary written inside the
// co_await expression (`co_await join_all(std::array{a(), b()})`, `co_await f({.root = r})`).
// docs/design.md ("Compiler bugs") says so and gives the forms to write instead; the last case
// here checks the named-value form.
#include <doctest/doctest.h>

#include <array>
#include <string>

#include "polarway/runtime.hpp"

namespace pw = polarway;

namespace {
pw::task<int> value(int v) { co_return v; }

pw::task<std::string> text(std::size_t n, char c) {
  co_await pw::yield_now();  // really suspend, so that the frame is resumed from the scheduler
  co_return std::string(n, c);
}

struct open_options {
  std::string root;
  int extra = 0;
};
pw::task<std::size_t> open_with(open_options o) {
  co_await pw::yield_now();
  co_return o.root.size() + static_cast<std::size_t>(o.extra);
}
}  // namespace

TEST_CASE("co_await as a while condition drains a join_set") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int drained = rt.block_on([]() -> pw::task<int> {
    pw::join_set<std::string> set;
    for (int i = 0; i < 50; ++i) set.spawn(text(40 + static_cast<std::size_t>(i), 'j'));
    int n = 0;
    while (co_await set.join_next()) ++n;
    co_return n;
  }());
  CHECK(drained == 50);
}

TEST_CASE("co_await as an if condition, plain and negated") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const int taken = rt.block_on([]() -> pw::task<int> {
    pw::join_set<int> set;
    set.spawn(value(1));
    int n = 0;
    if (co_await set.join_next()) ++n;      // the one result
    if (!(co_await set.join_next())) ++n;   // then none
    co_return n;
  }());
  CHECK(taken == 2);
}

TEST_CASE("co_await on both arms of the conditional operator") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (const bool first : {true, false}) {
    const std::string s = rt.block_on([](bool first) -> pw::task<std::string> {
      co_return first ? co_await text(40, 'a') : co_await text(50, 'b');
    }(first));
    CHECK(s == (first ? std::string(40, 'a') : std::string(50, 'b')));
  }
}

// g++ 12 awaits both arms of `c ? co_await a() : co_await b()` when the awaited type is not
// trivial (it keeps the chosen arm's value, so the test above passes); clang 14 awaits one. The
// case below counts the arms that ran; under g++ 12 it is expected to fail, and doctest reports
// it if a compiler that fixes the bug ever builds this file.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
constexpr bool compiler_awaits_both_arms = true;
#else
constexpr bool compiler_awaits_both_arms = false;
#endif

TEST_CASE("only the chosen arm of the conditional operator is awaited" *
          doctest::should_fail(compiler_awaits_both_arms)) {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  for (const bool first : {true, false}) {
    int a_runs = 0, b_runs = 0;
    const auto counted = [](int& runs, std::string s) -> pw::task<std::string> {
      ++runs;
      co_return s;
    };
    const std::string s = rt.block_on([&](bool first) -> pw::task<std::string> {
      co_return first ? co_await counted(a_runs, std::string(40, 'a')) : co_await counted(b_runs, std::string(50, 'b'));
    }(first));
    CHECK(s.size() == (first ? 40u : 50u));
    CHECK(a_runs == (first ? 1 : 0));
    CHECK(b_runs == (first ? 0 : 1));
  }
}

TEST_CASE("co_await bound by a structured binding and as co_return's operand") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::size_t total = rt.block_on([]() -> pw::task<std::size_t> {
    auto [n, s] = co_await pw::when_all(value(4), text(64, 'x'));
    co_return static_cast<std::size_t>(n) + s.size() + (co_await text(30, 'y')).size();
  }());
  CHECK(total == 98);
}

TEST_CASE("arguments built as named values before the co_await (the form g++ 12 needs)") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::size_t total = rt.block_on([]() -> pw::task<std::size_t> {
    std::array<pw::task<int>, 3> parts{value(1), value(2), value(3)};
    const auto values = co_await pw::join_all(std::move(parts));
    open_options options{.root = std::string(100, 'r'), .extra = 5};
    co_return static_cast<std::size_t>(values[0] + values[1] + values[2]) + co_await open_with(std::move(options));
  }());
  CHECK(total == 111);
}
