// uring_driver::poll() enters the kernel only when it may have completions to hand over (see its
// comment). These tests check that skipping the entry never holds a completion back: the poll
// right after an operation completes must deliver it, and a burst larger than what the kernel
// completes per entry must come through within a few polls, on a worker that never waits.
#include "polarway/detail/uring_driver.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <memory>

using polarway::detail::uring_driver;
using polarway::detail::uring_target;

namespace {

struct counting_target : uring_target {
  int completions = 0;
  int last_res = 0;
};

void count_cqe(uring_target* self, int res, std::uint32_t) noexcept {
  auto* t = static_cast<counting_target*>(self);
  ++t->completions;
  t->last_res = res;
}

struct pipe_fds {
  int fd[2] = {-1, -1};
  pipe_fds() { REQUIRE(::pipe(fd) == 0); }
  ~pipe_fds() {
    ::close(fd[0]);
    ::close(fd[1]);
  }
};

std::unique_ptr<uring_driver> ring_or_null() {
  auto ring = uring_driver::create();
  if (!ring) {
    MESSAGE("io_uring unavailable here (" << ring.error().message() << "); nothing to test");
    return nullptr;
  }
  if (!((*ring)->setup_flags() & IORING_SETUP_TASKRUN_FLAG))
    MESSAGE("this kernel has no IORING_SETUP_TASKRUN_FLAG: every poll enters the kernel");
  return std::move(*ring);
}

}  // namespace

TEST_CASE("the poll after a read completes hands it over, however many idle polls came before") {
  auto ring = ring_or_null();
  if (!ring) return;
  pipe_fds p;
  char buf[8] = {};
  counting_target target{{&count_cqe}};
  ring->submit_target(&target, [&](io_uring_sqe* s) { io_uring_prep_read(s, p.fd[0], buf, sizeof buf, 0); });
  // Polls with nothing to submit and nothing completed: several of them do not enter the kernel.
  for (int i = 0; i < 20; ++i) {
    ring->poll();
    REQUIRE(target.completions == 0);
  }
  for (int round = 0; round < 3; ++round) {
    REQUIRE(::write(p.fd[1], "x", 1) == 1);
    ring->poll();
    CHECK(target.completions == round + 1);
    CHECK(target.last_res == 1);
    CHECK(buf[0] == 'x');
    buf[0] = 0;
    ring->submit_target(&target, [&](io_uring_sqe* s) { io_uring_prep_read(s, p.fd[0], buf, sizeof buf, 0); });
    for (int i = 0; i < 5 + round; ++i) ring->poll();  // idle again, a different count each round
    REQUIRE(target.completions == round + 1);
  }
  REQUIRE(::write(p.fd[1], "y", 1) == 1);  // the last read, so that no operation outlives the ring
  ring->poll();
  CHECK(target.completions == 4);
}

TEST_CASE("a burst of completions larger than one kernel entry handles comes through in a few polls") {
  auto ring = ring_or_null();
  if (!ring) return;
  constexpr int n = 96;  // the kernel runs about 20 deferred completions per entry (Linux 6.x)
  std::array<pipe_fds, n> pipes;
  std::array<char, n> bufs{};
  counting_target target{{&count_cqe}};
  for (int i = 0; i < n; ++i)
    ring->submit_target(&target, [&](io_uring_sqe* s) { io_uring_prep_read(s, pipes[i].fd[0], &bufs[i], 1, 0); });
  ring->poll();
  REQUIRE(target.completions == 0);
  for (auto& p : pipes) REQUIRE(::write(p.fd[1], "z", 1) == 1);
  // The kernel hands over about 20 per entry and flags what it left; were that flag missed,
  // the rest would come only with the periodic entry, every 8 polls (about 40 polls here).
  int polls = 0;
  while (target.completions < n && polls < 64) {
    ring->poll();
    ++polls;
  }
  CHECK(target.completions == n);
  CHECK(polls <= 12);
  MESSAGE(n << " completions in " << polls << " polls");
  for (char c : bufs) CHECK(c == 'z');
}

TEST_CASE("with nothing to submit and nothing flagged, poll still enters the kernel every 8th time") {
  // The periodic entry is the bound on completions the kernel might not flag. Nothing here is
  // in flight but the ring's own wake-up read, so the kernel has nothing to flag: the entries
  // counted are the periodic ones (and the first poll's, which submits that read).
  auto ring = ring_or_null();
  if (!ring) return;
  constexpr int polls = 100;
  const bool flagged = (ring->setup_flags() & IORING_SETUP_TASKRUN_FLAG) != 0;
  int gap = 0;
  int longest_gap = 0;
  for (int i = 0; i < polls; ++i) {
    const std::uint64_t before = ring->poll_entries();
    ring->poll();
    gap = ring->poll_entries() > before ? 0 : gap + 1;
    longest_gap = std::max(longest_gap, gap);
  }
  if (!flagged) {
    CHECK(ring->poll_entries() == polls);  // without the flag every poll enters
    return;
  }
  CHECK(longest_gap == 7);  // seven polls skip the entry, the eighth makes it
  CHECK(ring->poll_entries() >= polls / 8);
  CHECK(ring->poll_entries() <= polls / 8 + 1);
}
