// latency_histogram: bucket bounds are monotonic and tight; percentiles never underestimate
// and stay within the bucket width (~3%).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "latency_histogram.hpp"

using ticks::app::latency_histogram;

TEST_CASE("index and upper bound agree") {
  std::size_t prev = 0;
  for (std::uint64_t v = 0; v < 200000; v += (v < 1000 ? 1 : 97)) {
    const std::size_t i = latency_histogram::index(v);
    CHECK(i >= prev);
    prev = i;
    CHECK(latency_histogram::upper_bound(i) >= v);
    if (i > 0) CHECK(latency_histogram::upper_bound(i - 1) < v);
  }
  CHECK(latency_histogram::index(UINT64_MAX) == latency_histogram::bucket_count - 1);
}

TEST_CASE("percentiles") {
  latency_histogram h;
  CHECK(h.percentile(0.5) == 0);
  std::vector<std::uint64_t> vals;
  std::uint64_t x = 12345;
  for (int i = 0; i < 100000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    vals.push_back((x >> 40) % 1'000'000);
    h.record(vals.back());
  }
  std::sort(vals.begin(), vals.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    const std::uint64_t exact = vals[static_cast<std::size_t>(q * static_cast<double>(vals.size())) - 1];
    const std::uint64_t got = h.percentile(q);
    CHECK(got >= exact);
    CHECK(static_cast<double>(got) <= static_cast<double>(exact) * 1.04 + 1);
  }
  CHECK(h.percentile(1.0) == vals.back());
  CHECK(h.count() == vals.size());
  latency_histogram g;
  g.record(5);
  g.merge(h);
  CHECK(g.count() == h.count() + 1);
  CHECK(g.min() <= 5);
}

TEST_CASE("sum and count_at_most: never too high, short by at most the bucket holding the bound") {
  latency_histogram h;
  std::vector<std::uint64_t> vals;
  std::uint64_t x = 987654321, total = 0;
  for (int i = 0; i < 50000; ++i) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    const std::uint64_t v = (x >> 33) % 5'000'000;  // nanoseconds
    vals.push_back(v);
    h.record(v);
    total += v;
  }
  CHECK(h.sum() == total);
  std::sort(vals.begin(), vals.end());
  for (const std::uint64_t bound : {0ull, 31ull, 1000ull, 100'000ull, 1'000'000ull, 2'500'000ull, 10'000'000ull}) {
    const auto exact = static_cast<std::uint64_t>(std::upper_bound(vals.begin(), vals.end(), bound) - vals.begin());
    const std::uint64_t got = h.count_at_most(bound);
    CHECK(got <= exact);
    // Whatever was left out lies in the bound's own bucket: above its lower end.
    const std::size_t i = latency_histogram::index(bound);
    const std::uint64_t lower = i == 0 ? 0 : latency_histogram::upper_bound(i - 1) + 1;
    const auto below_bucket =
        static_cast<std::uint64_t>(std::lower_bound(vals.begin(), vals.end(), lower) - vals.begin());
    CHECK(got >= below_bucket);
  }
  CHECK(h.count_at_most(UINT64_MAX) == h.count());
}
