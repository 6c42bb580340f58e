#include "polarway/fs/file.hpp"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <csignal>

#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "polarway/fs/path_ops.hpp"
#include "polarway/runtime.hpp"
#include "support/death.hpp"

namespace pw = polarway;

namespace {
std::string scratch_dir() {
  std::string tmpl = "/tmp/polarway-fs-XXXXXX";
  REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
  return tmpl;
}
std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
}  // namespace

TEST_CASE("write, fsync, read back, rename, remove") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::string dir = scratch_dir();
  auto out = rt.block_on([](std::string dir) -> pw::task<std::string> {
    const std::string tmp = dir + "/data.tmp", final = dir + "/data.bin";
    auto f = (co_await pw::fs::file::open(tmp, {.write = true, .truncate = true, .create = true})).unwrap();
    std::string payload;
    for (int i = 0; i < 10'000; ++i) payload += std::to_string(i) + ",";
    CHECK((co_await f.write_all(bytes_of(payload))).is_ok());
    CHECK((co_await f.write_at(bytes_of(std::string("XY")), 0)).is_ok());
    CHECK((co_await f.sync_all()).is_ok());
    CHECK((co_await f.close()).is_ok());
    CHECK((co_await pw::fs::rename(tmp, final)).is_ok());
    auto g = (co_await pw::fs::file::open(final, {.read = true})).unwrap();
    std::string back(payload.size() + 10, '\0');
    std::size_t got = 0;
    for (;;) {
      auto n = co_await g.read_at(std::as_writable_bytes(std::span(back.data() + got, back.size() - got)), got);
      if (!n || *n == 0) break;
      got += *n;
    }
    back.resize(got);
    CHECK((co_await pw::fs::remove(final)).is_ok());
    CHECK((co_await pw::fs::file::open(final, {.read = true})).error() == std::errc::no_such_file_or_directory);
    co_return back == "XY" + payload.substr(2) ? std::string("same") : back.substr(0, 20);
  }(dir));
  CHECK(out == "same");
  ::rmdir(dir.c_str());
}

TEST_CASE("a file operation this kernel's io_uring lacks runs on the blocking pool") {
  // As on Linux 5.10, which has no renameat, unlinkat or mkdirat ring operations: the ring is
  // told to forget them (and openat), and every operation must still work, through the pool.
  pw::runtime rt(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::io_uring});
  const std::string dir = scratch_dir();
  auto calls = rt.block_on([](std::string dir) -> pw::task<std::pair<std::uint64_t, std::uint64_t>> {
    namespace detail = pw::detail;
    auto& ring = detail::current_reactor("test").uring();
    auto& pool = detail::tls_context.current_worker->sched->pool();
    for (auto op : {IORING_OP_RENAMEAT, IORING_OP_UNLINKAT, IORING_OP_MKDIRAT, IORING_OP_OPENAT}) {
      CHECK(ring.supports(op));  // this kernel has them all
      ring.forget_op(op);
      CHECK_FALSE(ring.supports(op));
    }
    const std::uint64_t before = pool.calls_run();
    // One mkdir per prefix on the pool: /tmp and the scratch directory (which exist), a, a/b.
    CHECK((co_await pw::fs::create_dir_all(dir + "/a/b")).is_ok());
    auto f = (co_await pw::fs::file::open(dir + "/a/b/x.tmp", {.write = true, .create = true})).unwrap();  // pool
    CHECK((co_await f.write_all(bytes_of(std::string("data")))).is_ok());          // the ring: writes are supported
    CHECK((co_await f.close()).is_ok());                                           // the ring
    CHECK((co_await pw::fs::rename(dir + "/a/b/x.tmp", dir + "/a/b/x")).is_ok());  // pool
    struct stat st {};
    CHECK(::stat((dir + "/a/b/x").c_str(), &st) == 0);
    CHECK(st.st_size == 4);
    CHECK((co_await pw::fs::remove(dir + "/a/b/x")).is_ok());                                                // pool
    CHECK((co_await pw::fs::remove(dir + "/a/b/missing")).error() == std::errc::no_such_file_or_directory);  // pool
    co_return std::pair{before, pool.calls_run()};
  }(dir));
  CHECK(calls.second - calls.first == 8);  // 4 mkdirs, open, rename, 2 removes
  ::rmdir((dir + "/a/b").c_str());
  ::rmdir((dir + "/a").c_str());
  ::rmdir(dir.c_str());
}

namespace {
// One script of file operations, successes and failures, written down as a transcript: what
// each step gave (a value, or the error's code and context).
pw::task<std::vector<std::string>> file_script(std::string dir) {
  std::vector<std::string> out;
  auto note = [&out](const char* step, const auto& r) {
    if (r.is_ok()) out.push_back(std::string(step) + ": ok");
    else out.push_back(std::string(step) + ": " + r.error().message());
  };
  note("mkdir -p a/b", co_await pw::fs::create_dir_all(dir + "/a/b"));
  note("mkdir -p a/b again", co_await pw::fs::create_dir_all(dir + "/a/b"));
  {
    auto f = co_await pw::fs::file::open(dir + "/a/b/f.tmp", {.write = true, .truncate = true, .create = true});
    note("open for writing", f);
    if (f) {
      note("write_all", co_await f->write_all(bytes_of("hello world")));
      auto n = co_await f->write_at(bytes_of("HELLO"), 0);
      out.push_back("write_at 0: " + (n ? std::to_string(*n) : n.error().message()));
      note("sync_all", co_await f->sync_all());
      note("close", co_await f->close());
    }
  }
  {
    auto f = co_await pw::fs::file::open(dir + "/a/b/f.tmp", {.write = true, .append = true});
    note("open for appending", f);
    if (f) {
      note("append", co_await f->write_all(bytes_of("!")));
      note("close", co_await f->close());
    }
  }
  note("rename", co_await pw::fs::rename(dir + "/a/b/f.tmp", dir + "/a/b/f"));
  note("rename a missing file", co_await pw::fs::rename(dir + "/a/b/missing", dir + "/a/b/x"));
  {
    auto f = co_await pw::fs::file::open(dir + "/a/b/f", {.read = true});
    note("open for reading", f);
    if (f) {
      std::string buf(64, '\0');
      auto n = co_await f->read_at(std::as_writable_bytes(std::span(buf.data(), buf.size())), 0);
      out.push_back("read_at 0: " + (n ? buf.substr(0, *n) : n.error().message()));
      auto past = co_await f->read_at(std::as_writable_bytes(std::span(buf.data(), buf.size())), 100);
      out.push_back("read_at past the end: " + (past ? std::to_string(*past) : past.error().message()));
      auto write_to_read_only = co_await f->write_at(bytes_of("x"), 0);
      out.push_back("write to a read-only file: " +
                    (write_to_read_only ? std::to_string(*write_to_read_only) : write_to_read_only.error().message()));
    }
  }
  note("create_new over an existing file", co_await pw::fs::file::open(dir + "/a/b/f", {.write = true, .create_new = true}));
  note("open in a missing directory", co_await pw::fs::file::open(dir + "/nope/x", {.read = true}));
  note("open a directory for writing", co_await pw::fs::file::open(dir + "/a", {.write = true}));
  note("mkdir -p through a file", co_await pw::fs::create_dir_all(dir + "/a/b/f/c"));
  note("remove a directory", co_await pw::fs::remove(dir + "/a/b"));
  note("remove", co_await pw::fs::remove(dir + "/a/b/f"));
  note("remove again", co_await pw::fs::remove(dir + "/a/b/f"));
  co_return out;
}
}  // namespace

TEST_CASE("the blocking-pool fallback gives the same results as the ring") {
  // Every file operation the ring offers, once on the ring and once with the ring told to
  // forget them all (as on a kernel that lacks them), so that each runs on the blocking pool.
  pw::runtime rt(pw::runtime_options{.workers = 1, .backend = pw::backend_kind::io_uring});
  auto run = [&](bool forget) {
    const std::string dir = scratch_dir();
    auto [transcript, pool_calls] =
        rt.block_on([](std::string dir, bool forget) -> pw::task<std::pair<std::vector<std::string>, std::uint64_t>> {
          auto& ring = pw::detail::current_reactor("test").uring();
          auto& pool = pw::detail::tls_context.current_worker->sched->pool();
          if (forget)
            for (auto op : {IORING_OP_OPENAT, IORING_OP_READ, IORING_OP_WRITE, IORING_OP_FSYNC, IORING_OP_CLOSE,
                            IORING_OP_RENAMEAT, IORING_OP_UNLINKAT, IORING_OP_MKDIRAT})
              ring.forget_op(op);
          const std::uint64_t before = pool.calls_run();
          auto transcript = co_await file_script(dir);
          co_return std::pair{std::move(transcript), pool.calls_run() - before};
        }(dir, forget));
    std::system(("rm -rf " + dir).c_str());
    // The ring's run used no thread; the fallback's ran every step there.
    if (forget)
      CHECK(pool_calls > 20);
    else
      CHECK(pool_calls == 0);
    return transcript;
  };
  const auto on_ring = run(false);
  const auto on_pool = run(true);  // last: the ring does not get the operations back
  CHECK(on_ring.size() == 23);  // every step wrote its line
  CHECK(on_ring == on_pool);
  for (std::size_t i = 0; i < std::min(on_ring.size(), on_pool.size()); ++i) CHECK(on_ring[i] == on_pool[i]);
}

TEST_CASE("ENOENT, EISDIR, EEXIST and bad options are typed errors") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const std::string dir = scratch_dir();
  rt.block_on([](std::string dir) -> pw::task<void> {
    auto missing = co_await pw::fs::file::open(dir + "/nope/x", {.read = true});
    CHECK(missing.error() == std::errc::no_such_file_or_directory);
    CHECK(std::string(missing.error().context()) == "fs::file::open");
    auto is_dir = co_await pw::fs::file::open(dir, {.write = true});
    CHECK(is_dir.error() == std::errc::is_a_directory);
    auto f = (co_await pw::fs::file::open(dir + "/once", {.write = true, .create_new = true})).unwrap();
    auto twice = co_await pw::fs::file::open(dir + "/once", {.write = true, .create_new = true});
    CHECK(twice.error() == std::errc::file_exists);
    CHECK((co_await pw::fs::file::open(dir + "/x", {})).error() == pw::errc::invalid_input);
    CHECK((co_await pw::fs::file::open(dir + "/x", {.read = true, .truncate = true})).error() == pw::errc::invalid_input);
    CHECK((co_await pw::fs::file::open(dir + "/x", {.append = true, .truncate = true})).error() == pw::errc::invalid_input);
    CHECK((co_await pw::fs::remove(dir + "/nope")).error() == std::errc::no_such_file_or_directory);
    CHECK((co_await pw::fs::rename(dir + "/nope", dir + "/other")).error() == std::errc::no_such_file_or_directory);
    CHECK((co_await pw::fs::remove(dir + "/once")).is_ok());
  }(dir));
  ::rmdir(dir.c_str());
}

TEST_CASE("create_dir_all creates the missing parents and accepts existing ones") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const std::string dir = scratch_dir();
  rt.block_on([](std::string dir) -> pw::task<void> {
    CHECK((co_await pw::fs::create_dir_all(dir + "/a/b/c")).is_ok());
    CHECK((co_await pw::fs::create_dir_all(dir + "/a/b/c")).is_ok());
    auto f = (co_await pw::fs::file::open(dir + "/a/file", {.write = true, .create = true})).unwrap();
    CHECK((co_await pw::fs::create_dir_all(dir + "/a/file/d")).error() == std::errc::not_a_directory);
    CHECK((co_await pw::fs::create_dir_all("")).error() == pw::errc::invalid_input);
  }(dir));
  struct stat st{};
  CHECK(::stat((dir + "/a/b/c").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("a write past RLIMIT_FSIZE is EFBIG, and write_all never reports it as written") {
  const std::string dir = scratch_dir();
  const auto d = pw_test::run_in_child([dir] {
    std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of the signal
    rlimit lim{65536, 65536};
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) std::_Exit(3);
    pw::runtime rt(pw::runtime_options{.workers = 1});
    const int code = rt.block_on([](std::string path) -> pw::task<int> {
      auto f = (co_await pw::fs::file::open(path, {.write = true, .create = true})).unwrap();
      std::vector<std::byte> chunk(9000, std::byte{1});
      for (int i = 0; i < 20; ++i) {
        auto r = co_await f.write_all(chunk);
        if (r.is_err()) co_return r.error() == std::errc::file_too_large && i == 7 ? 0 : 5;
      }
      co_return 6;  // 180,000 bytes "written" under a 65,536-byte limit
    }(dir + "/big"));
    std::_Exit(code);
  });
  CHECK(d.exit_code == 0);
  struct stat st{};
  CHECK(::stat((dir + "/big").c_str(), &st) == 0);
  CHECK(st.st_size == 65536);
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("EACCES for a file the (unprivileged) user may not open") {
  const std::string dir = scratch_dir();
  const std::string secret = dir + "/secret";
  {
    FILE* f = std::fopen(secret.c_str(), "w");
    REQUIRE(f);
    std::fclose(f);
    ::chmod(secret.c_str(), 0600);
    ::chmod(dir.c_str(), 0755);
  }
  // Root ignores file modes, so drop to "nobody" in a child and report the errno via exit code.
  const auto d = pw_test::run_in_child([secret] {
    if (::getuid() == 0 && ::setuid(65534) != 0) std::_Exit(3);
    pw::runtime rt(pw::runtime_options{.workers = 1});
    auto r = rt.block_on([](std::string p) -> pw::task<pw::result<pw::fs::file>> {
      co_return co_await pw::fs::file::open(p, {.read = true});
    }(secret));
    std::_Exit(r.is_err() && r.error() == std::errc::permission_denied ? 0 : 4);
  });
  CHECK_FALSE(d.aborted);
  CHECK(d.exit_code == 0);
  std::system(("rm -rf " + dir).c_str());
}
