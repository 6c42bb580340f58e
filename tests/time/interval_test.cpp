#include "polarway/time/interval.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "polarway/runtime.hpp"
#include "support/death.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

TEST_CASE("interval ticks at once, then every period, never early") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const auto start = pw::steady_clock::now();
  pw::steady_clock::time_point before_iv, after_iv;
  auto ticks =
      rt.block_on([](pw::steady_clock::time_point& before_iv,
                     pw::steady_clock::time_point& after_iv) -> pw::task<std::vector<pw::steady_clock::time_point>> {
        before_iv = pw::steady_clock::now();
        pw::interval iv(10ms);
        after_iv = pw::steady_clock::now();
        std::vector<pw::steady_clock::time_point> seen;
        for (int i = 0; i < 5; ++i) {
          const auto scheduled = co_await iv.tick();
          CHECK(pw::steady_clock::now() >= scheduled);
          seen.push_back(scheduled);
        }
        co_return seen;
      }(before_iv, after_iv));
  REQUIRE(ticks.size() == 5);
  // The first tick is due when the interval is created (a bound measured around that, rather
  // than a time budget from block_on, which a loaded machine can exceed).
  CHECK(ticks[0] >= before_iv);
  CHECK(ticks[0] <= after_iv);
  for (std::size_t i = 1; i < ticks.size(); ++i) CHECK(ticks[i] - ticks[i - 1] == 10ms);
  CHECK(pw::steady_clock::now() - start >= 40ms);
}

TEST_CASE("a non-positive period is refused") {
  const auto d = pw_test::run_in_child([] { pw::interval iv(0ms); });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("period") != std::string::npos);
}
