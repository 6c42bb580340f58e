// reconnect_backoff: each delay lies in [step/2, step]; the step doubles up to the cap and
// returns to the initial step on reset(); the jitter spreads delays across the whole range
// and differs between seeds.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <vector>

#include "reconnect_backoff.hpp"

using ticks::app::reconnect_backoff;

TEST_CASE("reconnect_backoff: delays within [step/2, step], the step doubling to the cap") {
  reconnect_backoff b(100, 5000, 1);
  const std::vector<std::uint64_t> steps{100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000};
  for (const std::uint64_t step : steps) {
    CHECK(b.step_ms() == step);
    const auto d = static_cast<std::uint64_t>(b.next_delay().count());
    CHECK(d >= step / 2);
    CHECK(d <= step);
  }
}

TEST_CASE("reconnect_backoff: reset returns to the initial step") {
  reconnect_backoff b(100, 5000, 2);
  for (int i = 0; i < 5; ++i) (void)b.next_delay();
  CHECK(b.step_ms() == 3200);
  b.reset();
  CHECK(b.step_ms() == 100);
  const auto d = b.next_delay().count();
  CHECK(d >= 50);
  CHECK(d <= 100);
  CHECK(b.step_ms() == 200);
}

TEST_CASE("reconnect_backoff: the jitter covers the range, and two seeds draw differently") {
  // At the cap the step stays 1000: 2,000 draws from [500, 1000] reach both halves and near
  // both ends.
  reconnect_backoff a(1000, 1000, 3);
  reconnect_backoff b(1000, 1000, 4);
  std::set<std::int64_t> seen;
  int differ = 0;
  std::int64_t lo = 1000, hi = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto x = a.next_delay().count();
    const auto y = b.next_delay().count();
    seen.insert(x);
    lo = std::min(lo, x);
    hi = std::max(hi, x);
    differ += x != y;
  }
  CHECK(lo < 510);
  CHECK(hi > 990);
  CHECK(seen.size() > 300);
  CHECK(differ > 1900);
}

TEST_CASE("reconnect_backoff: a zero step stays zero, a one-millisecond step is never jittered to zero") {
  reconnect_backoff zero(0, 0, 5);
  CHECK(zero.next_delay().count() == 0);
  CHECK(zero.step_ms() == 0);
  reconnect_backoff one(1, 1, 6);
  for (int i = 0; i < 10; ++i) CHECK(one.next_delay().count() == 1);
}
