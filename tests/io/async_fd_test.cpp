// pw::io::async_fd on whichever backend the environment selects (CI runs the suite with the
// default and with POLARWAY_BACKEND=epoll): readiness of descriptors the test owns (pipes and
// socket pairs), level-triggered, cancel-safe, and woken by another thread's write.
#include "polarway/io/async_fd.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <thread>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

// Both ends of a non-blocking pipe, closed at the end of the test.
struct pipe_ends {
  int read_end = -1;
  int write_end = -1;
  pipe_ends() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_NONBLOCK | O_CLOEXEC) == 0);
    read_end = fds[0];
    write_end = fds[1];
  }
  ~pipe_ends() {
    if (read_end >= 0) ::close(read_end);
    if (write_end >= 0) ::close(write_end);
  }
  void close_write() {
    ::close(write_end);
    write_end = -1;
  }
};

bool put_byte(int fd, char c) { return ::write(fd, &c, 1) == 1; }

// Whether `wait` is still pending once a 20 ms sleep has won a race against it (the wait is
// then cancelled by the race).
template <class Wait>
pw::task<bool> still_pending(Wait wait) {
  auto r = co_await pw::race(wait(), pw::sleep(20ms));
  co_return r.index() == 1;
}

}  // namespace

TEST_CASE("watch refuses a descriptor that is not open") {
  auto bad = pw::io::async_fd::watch(-1);
  REQUIRE(bad.is_err());
  CHECK(bad.error() == std::errc::bad_file_descriptor);

  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
  auto closed = pw::io::async_fd::watch(fds[0]);
  REQUIRE(closed.is_err());
  CHECK(closed.error() == std::errc::bad_file_descriptor);

  pw::io::async_fd empty;
  CHECK(empty.native_handle() == -1);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto r = rt.block_on(empty.readable());
  REQUIRE(r.is_err());
  CHECK(r.error() == std::errc::bad_file_descriptor);
}

TEST_CASE("readable waits for data, completes at once while data is there, and leaves it unread") {
  pipe_ends p;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const bool ok = rt.block_on([](pipe_ends& p) -> pw::task<bool> {
    pw::io::async_fd a = pw::io::async_fd::watch(p.read_end).unwrap();
    CHECK(a.native_handle() == p.read_end);
    // An empty pipe is not readable: the wait loses the race and is cancelled.
    CHECK(co_await still_pending([&] { return a.readable(); }));
    // A write from another thread wakes a pending wait.
    std::thread writer([&] {
      std::this_thread::sleep_for(10ms);
      CHECK(put_byte(p.write_end, 'x'));
    });
    auto first = co_await a.readable();
    writer.join();
    CHECK(first.is_ok());
    // Level-triggered: nothing was read, so it is still readable, at once, however often.
    for (int i = 0; i < 3; ++i) CHECK((co_await a.readable()).is_ok());
    char c = 0;
    CHECK(::read(p.read_end, &c, 1) == 1);
    CHECK(c == 'x');
    // Drained: pending again.
    CHECK(co_await still_pending([&] { return a.readable(); }));
    co_return true;
  }(p));
  CHECK(ok);
}

TEST_CASE("a hang-up is readiness: the read that follows sees the end") {
  pipe_ends p;
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([](pipe_ends& p) -> pw::task<void> {
    pw::io::async_fd a = pw::io::async_fd::watch(p.read_end).unwrap();
    pw::join_handle<void> closer = pw::spawn([](pipe_ends& p) -> pw::task<void> {
      co_await pw::sleep(5ms);
      p.close_write();
    }(p));
    CHECK((co_await a.readable()).is_ok());
    char c = 0;
    CHECK(::read(p.read_end, &c, 1) == 0);
    (void)co_await closer;
  }(p));
}

TEST_CASE("writable waits while the pipe is full and completes once the reader drains it") {
  pipe_ends p;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([](pipe_ends& p) -> pw::task<void> {
    pw::io::async_fd w = pw::io::async_fd::watch(p.write_end).unwrap();
    CHECK((co_await w.writable()).is_ok());  // an empty pipe takes a write at once
    std::array<char, 4096> block{};
    std::size_t filled = 0;
    for (;;) {
      const ssize_t n = ::write(p.write_end, block.data(), block.size());
      if (n < 0) break;
      filled += static_cast<std::size_t>(n);
    }
    CHECK(errno == EAGAIN);
    CHECK(filled > 0);
    CHECK(co_await still_pending([&] { return w.writable(); }));
    // Another task drains it; the pending wait completes.
    pw::join_handle<std::size_t> drain = pw::spawn([](int fd) -> pw::task<std::size_t> {
      std::array<char, 4096> buf{};
      std::size_t total = 0;
      for (;;) {
        const ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n > 0) {
          total += static_cast<std::size_t>(n);
          continue;
        }
        co_return total;  // EAGAIN: drained for now
      }
    }(p.read_end));
    CHECK((co_await w.writable()).is_ok());
    auto drained = co_await drain;
    CHECK(drained.unwrap() > 0);
  }(p));
}

TEST_CASE("one task waits to read while another waits to write on the same socket") {
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([](int mine, int peer) -> pw::task<void> {
    pw::io::async_fd a = pw::io::async_fd::watch(mine).unwrap();
    pw::join_handle<bool> reader = pw::spawn([](pw::io::async_fd& a) -> pw::task<bool> {
      auto r = co_await a.readable();
      co_return r.is_ok();
    }(a));
    CHECK((co_await a.writable()).is_ok());
    CHECK(put_byte(peer, 'y'));
    auto got = co_await reader;
    CHECK(got.unwrap());
    char c = 0;
    CHECK(::read(mine, &c, 1) == 1);
    CHECK(c == 'y');
  }(sv[0], sv[1]));
  ::close(sv[0]);
  ::close(sv[1]);
}

TEST_CASE("cancelled waits leave the descriptor watchable, and a new async_fd can follow an old one") {
  pipe_ends p;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([](pipe_ends& p) -> pw::task<void> {
    for (int round = 0; round < 3; ++round) {
      pw::io::async_fd a = pw::io::async_fd::watch(p.read_end).unwrap();
      for (int i = 0; i < 20; ++i) {
        auto r = co_await pw::race(a.readable(), pw::yield_now());
        CHECK(r.index() == 1);  // nothing to read: the yield wins and the wait is cancelled
      }
      auto timed = co_await pw::timeout(1ms, a.readable());
      CHECK((timed.is_err() && timed.error() == pw::errc::timed_out));
      // Moving keeps the registration working.
      pw::io::async_fd moved = std::move(a);
      CHECK(a.native_handle() == -1);
      CHECK(put_byte(p.write_end, 'z'));
      CHECK((co_await moved.readable()).is_ok());
      char c = 0;
      CHECK(::read(p.read_end, &c, 1) == 1);
    }
  }(p));
}
