// owned_counter: the owner's increments are exact, and a reader on another thread sees only
// values the counter really had, never going backwards.
#include "polarway/detail/owned_counter.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <thread>

namespace {

using polarway::detail::owned_counter;

// Not a constant the compiler can see through, so that add() takes its operand from a register.
std::uint64_t opaque(std::uint64_t v) {
  volatile std::uint64_t x = v;
  return x;
}

}  // namespace

TEST_CASE("add counts ones, small steps and steps wider than 32 bits") {
  owned_counter c;
  CHECK(c.get() == 0);
  c.add();
  c.add(2);
  CHECK(c.get() == 3);
  c.add(0xffffffffull);  // does not fit a sign-extended 32-bit immediate
  CHECK(c.get() == 3 + 0xffffffffull);
  c.add(opaque(1ull << 40));
  CHECK(c.get() == 3 + 0xffffffffull + (1ull << 40));
  c.add(0);
  CHECK(c.get() == 3 + 0xffffffffull + (1ull << 40));
}

TEST_CASE("a reader on another thread sees the owner's counts grow, and the exact total at the end") {
  owned_counter c;
  constexpr std::uint64_t rounds = 2'000'000;
  std::atomic<bool> started{false}, done{false};
  std::uint64_t backwards = 0, not_a_value = 0;
  std::thread reader([&] {
    started.store(true, std::memory_order_release);
    std::uint64_t last = 0;
    while (!done.load(std::memory_order_acquire)) {
      const std::uint64_t v = c.get();
      if (v < last) ++backwards;
      // The owner adds 1 then 2, so every value it stores is a multiple of 3 or one more.
      if (v % 3 == 2) ++not_a_value;
      last = v;
    }
  });
  while (!started.load(std::memory_order_acquire)) std::this_thread::yield();
  for (std::uint64_t i = 0; i < rounds; ++i) {
    c.add();
    c.add(opaque(2));
  }
  done.store(true, std::memory_order_release);
  reader.join();
  CHECK(c.get() == 3 * rounds);
  CHECK(backwards == 0);
  CHECK(not_a_value == 0);
}
