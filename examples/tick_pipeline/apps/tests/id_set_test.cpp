// id_set against std::set, id for id: random inserts of single ids and ranges around a small
// window (so that ranges touch, overlap and nest), the extremes of int64, and the ranges it
// keeps: disjoint, not touching, in order.
#include <doctest/doctest.h>

#include <cstdint>
#include <iterator>
#include <random>
#include <set>

#include "id_set.hpp"

using ticks::app::id_set;

namespace {

// Every range is disjoint from the next and does not touch it.
bool well_formed(const id_set& s) {
  const auto& r = s.ranges();
  for (auto it = r.begin(); it != r.end(); ++it) {
    if (it->first > it->second) return false;
    const auto next = std::next(it);
    if (next != r.end() && (it->second == INT64_MAX || next->first <= it->second + 1)) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("id_set holds exactly the ids inserted, as few ranges as they make") {
  std::mt19937_64 rng(20261207);
  for (int round = 0; round < 200; ++round) {
    id_set s;
    std::set<std::int64_t> want;
    for (int op = 0; op < 60; ++op) {
      const std::int64_t first = static_cast<std::int64_t>(rng() % 120) - 10;
      const std::int64_t len = (rng() % 3 == 0) ? static_cast<std::int64_t>(rng() % 8) : 0;
      s.insert(first, first + len);
      for (std::int64_t id = first; id <= first + len; ++id) want.insert(id);
      REQUIRE(well_formed(s));
    }
    for (std::int64_t id = -20; id < 140; ++id) REQUIRE_MESSAGE(s.contains(id) == want.contains(id), "id " << id);
    // As few ranges as the ids make: one per run of consecutive ids.
    std::size_t runs = 0;
    for (auto it = want.begin(); it != want.end(); ++it)
      if (it == want.begin() || *std::prev(it) + 1 != *it) ++runs;
    CHECK(s.ranges().size() == runs);
  }
}

TEST_CASE("id_set: ids taken in order stay one range; the extremes of int64 do not overflow") {
  id_set s;
  for (std::int64_t id = 1000; id < 2000; ++id) s.insert(id, id);
  CHECK(s.ranges().size() == 1);
  CHECK(s.contains(1000));
  CHECK(s.contains(1999));
  CHECK(!s.contains(999));
  CHECK(!s.contains(2000));
  s.insert(2002, 2002);  // a hole at 2000..2001
  CHECK(s.ranges().size() == 2);
  s.insert(2000, 2001);
  CHECK(s.ranges().size() == 1);

  id_set edges;
  edges.insert(INT64_MAX, INT64_MAX);
  edges.insert(INT64_MIN, INT64_MIN);
  edges.insert(INT64_MAX - 1, INT64_MAX - 1);
  edges.insert(INT64_MIN + 1, INT64_MIN + 1);
  CHECK(well_formed(edges));
  CHECK(edges.ranges().size() == 2);
  CHECK(edges.contains(INT64_MAX));
  CHECK(edges.contains(INT64_MIN));
  CHECK(!edges.contains(0));
  edges.insert(INT64_MIN, INT64_MAX);
  CHECK(edges.ranges().size() == 1);
  CHECK(edges.contains(0));
}
