#include "polarway/detail/timer_wheel.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

using polarway::detail::timer_node;
using polarway::detail::timer_wheel;

TEST_CASE("a timer fires at its deadline, not before") {
  timer_wheel w;
  timer_node n;
  n.deadline = 5;
  REQUIRE(w.insert(&n));
  CHECK(w.next_expiration() == polarway::some(std::uint64_t{5}));
  int fired = 0;
  w.advance(4, [&](timer_node*) { ++fired; });
  CHECK(fired == 0);
  w.advance(5, [&](timer_node* f) {
    CHECK(f == &n);
    ++fired;
  });
  CHECK(fired == 1);
  CHECK_FALSE(n.linked);
  CHECK(w.size() == 0);
  CHECK(w.next_expiration().is_none());
}

TEST_CASE("a deadline in the past is refused; removal is idempotent") {
  timer_wheel w;
  w.advance(100, [](timer_node*) {});
  timer_node past;
  past.deadline = 100;
  CHECK_FALSE(w.insert(&past));
  timer_node n;
  n.deadline = 1'000'000;
  REQUIRE(w.insert(&n));
  w.remove(&n);
  w.remove(&n);
  CHECK(w.size() == 0);
  int fired = 0;
  w.advance(2'000'000, [&](timer_node*) { ++fired; });
  CHECK(fired == 0);
}

TEST_CASE("random deadlines across every level fire in time, never early, each once") {
  std::mt19937_64 rng(42);
  timer_wheel w;
  std::vector<timer_node> nodes(20'000);
  const std::uint64_t spans[] = {50, 3'000, 200'000, 15'000'000, 900'000'000, 60'000'000'000};
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].deadline = 1 + rng() % spans[i % 6];
    REQUIRE(w.insert(&nodes[i]));
  }
  std::vector<int> fired(nodes.size(), 0);
  std::uint64_t now = 0;
  std::uint64_t late_total = 0;
  while (w.size() > 0) {
    // Jump straight to the next expiration sometimes, or move in odd steps.
    const auto next = w.next_expiration();
    REQUIRE(next.is_some());
    CHECK(*next >= w.elapsed());
    now = (rng() % 2) ? *next : std::max(now + 1 + rng() % 7, std::min(*next, now + 1000));
    w.advance(now, [&](timer_node* n) {
      const auto i = static_cast<std::size_t>(n - nodes.data());
      ++fired[i];
      CHECK(n->deadline <= now);  // never early
      late_total += now - n->deadline;
    });
  }
  CHECK(std::all_of(fired.begin(), fired.end(), [](int f) { return f == 1; }));
  // Jumping to next_expiration must fire exactly on time; odd steps are at most 6 ms late.
  CHECK(late_total <= 6 * nodes.size());
}

TEST_CASE("removing timers in the middle of the wheel keeps the rest intact") {
  timer_wheel w;
  std::vector<timer_node> nodes(1000);
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    nodes[i].deadline = 10 + i * 37;
    REQUIRE(w.insert(&nodes[i]));
  }
  for (std::size_t i = 0; i < nodes.size(); i += 2) w.remove(&nodes[i]);
  CHECK(w.size() == 500);
  std::size_t count = 0;
  w.advance(10 + 1000 * 37, [&](timer_node* n) {
    CHECK((n - nodes.data()) % 2 == 1);
    ++count;
  });
  CHECK(count == 500);
}
