// The epoll fallback: a process whose seccomp policy denies io_uring_setup (as Docker's default
// profile does) still gets a working runtime, on epoll, and says so.
#include <doctest/doctest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>

#include "polarway/runtime.hpp"
#include "support/death.hpp"

namespace pw = polarway;

namespace {

// Installs a filter that makes the system call `nr` fail with EPERM.
bool deny_syscall(unsigned nr) {
  sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, nr, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA)),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
  return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 && ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) == 0;
}
bool deny_io_uring_setup() { return deny_syscall(__NR_io_uring_setup); }

// An echo round trip on the runtime; true if the bytes came back.
bool echo_round_trip(pw::runtime& rt) {
  return rt.block_on([]() -> pw::task<bool> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    auto server = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<bool> {
      auto s = (co_await l.accept()).unwrap();
      std::byte buf[5];
      co_return (co_await s.read_exact(buf)).is_ok() && (co_await s.write_all(buf)).is_ok();
    }(l));
    auto c = (co_await pw::net::tcp_stream::connect(l.local_addr().unwrap())).unwrap();
    const char msg[5] = {'h', 'e', 'l', 'l', 'o'};
    std::byte back[5];
    const bool sent = (co_await c.write_all(std::as_bytes(std::span(msg)))).is_ok();
    const bool got = (co_await c.read_exact(back)).is_ok() && std::memcmp(back, msg, 5) == 0;
    co_return sent && got && (co_await server).unwrap_or(false);
  }());
}

}  // namespace

TEST_CASE("io_uring denied by seccomp: the runtime falls back to epoll and works") {
  const auto d = pw_test::run_in_child([] {
    ::unsetenv("POLARWAY_BACKEND");
    if (!deny_io_uring_setup()) std::_Exit(10);
    pw::runtime rt(pw::runtime_options{.workers = 2});
    if (rt.backend() != pw::backend_kind::epoll) std::_Exit(11);
    std::_Exit(echo_round_trip(rt) ? 0 : 12);
  });
  CHECK(d.exit_code == 0);
}

TEST_CASE("a ring that cannot be probed (as before Linux 5.6) is refused: epoll, working") {
  // io_uring_register is how the probe asks; denying it makes the kernel look older than 5.6,
  // whose rings lack operations the backend needs.
  const auto d = pw_test::run_in_child([] {
    ::unsetenv("POLARWAY_BACKEND");
    if (!deny_syscall(__NR_io_uring_register)) std::_Exit(10);
    pw::runtime rt(pw::runtime_options{.workers = 2});
    if (rt.backend() != pw::backend_kind::epoll) std::_Exit(11);
    std::_Exit(echo_round_trip(rt) ? 0 : 12);
  });
  CHECK(d.exit_code == 0);
  const auto demanded = pw_test::run_in_child([] {
    if (!deny_syscall(__NR_io_uring_register)) std::_Exit(10);
    pw::runtime rt(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::io_uring});
    std::_Exit(13);  // must not get here
  });
  CHECK(demanded.aborted);
  CHECK(demanded.stderr_text.find("io_uring_probe") != std::string::npos);
}

TEST_CASE("io_uring demanded but denied: a clear error, not a silent fallback") {
  const auto d = pw_test::run_in_child([] {
    if (!deny_io_uring_setup()) std::_Exit(10);
    pw::runtime rt(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::io_uring});
    std::_Exit(13);  // must not get here
  });
  CHECK(d.aborted);
  CHECK(d.stderr_text.find("io_uring_setup") != std::string::npos);
}

TEST_CASE("POLARWAY_BACKEND selects the backend and rejects nonsense") {
  ::setenv("POLARWAY_BACKEND", "epoll", 1);
  {
    pw::runtime rt(pw::runtime_options{.workers = 1});
    CHECK(rt.backend() == pw::backend_kind::epoll);
    CHECK(echo_round_trip(rt));
  }
  ::setenv("POLARWAY_BACKEND", "kqueue", 1);
  auto r = pw::runtime_options{}.resolved();
  REQUIRE(r.is_err());
  CHECK(r.error() == pw::errc::invalid_input);
  ::unsetenv("POLARWAY_BACKEND");
  CHECK(std::string(pw::to_string(pw::backend_kind::io_uring)) == "io_uring");
}
