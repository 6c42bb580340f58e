// Unix-domain stream sockets on whichever backend the environment selects (CI runs the suite
// with the default and with POLARWAY_BACKEND=epoll): the same stream and accept engine as TCP,
// with filesystem paths and Linux abstract names.
#include "polarway/net/unix_stream.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "polarway/net/unix_listener.hpp"
#include "polarway/runtime.hpp"
#include "support/stream_echo.hpp"
#include "support/unix_names.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;
using namespace std::string_view_literals;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr int scale = 8;
#else
constexpr int scale = 1;
#endif

using pw_test::temp_dir;

// An abstract name (leading NUL) no other test run uses.
std::string abstract_name(std::string_view tag) { return pw_test::abstract_name("stream", tag); }

// Binds `name` once the listener that held it is gone. On io_uring a listener that accepted
// holds its socket in an accept operation until the cancellation that its destruction submits
// has completed on its worker, just after the drop: the name comes free then, not at once.
// It sleeps, so it runs outside the runtime (on a worker it could hold up that very
// cancellation).
pw::result<pw::net::unix_listener> bind_when_free(const std::string& name) {
  for (int i = 0;; ++i) {
    auto l = pw::net::unix_listener::bind(name);
    if (l.is_ok() || l.error() != std::errc::address_in_use || i == 5000) return l;
    std::this_thread::sleep_for(1ms);
  }
}


pw::task<bool> echo_client(std::string path, std::size_t bytes, int seed) {
  auto s = co_await pw::net::unix_stream::connect(path);
  if (!s) co_return false;
  co_return co_await pw_test::echo_exchange(*s, bytes, seed);
}

// Echo round trips for `clients` concurrent connections to a listener bound at `path`.
int echo_round(pw::runtime& rt, const std::string& path, int clients, std::size_t bytes) {
  auto l = bind_when_free(path);
  REQUIRE(l.is_ok());
  CHECK(l->local_path().unwrap() == path);
  return rt.block_on([](pw::net::unix_listener l, std::string path, int clients, std::size_t bytes) -> pw::task<int> {
    auto server = pw::spawn(pw_test::serve_echo(l, clients));
    std::vector<pw::task<bool>> cs;
    for (int c = 0; c < clients; ++c) cs.push_back(echo_client(path, bytes, c));
    int good = 0;
    for (bool b : co_await pw::join_all(std::move(cs))) good += b;
    CHECK((co_await server).unwrap_or(-1) == 0);
    co_return good;
  }(std::move(*l), path, clients, bytes));
}

}  // namespace

TEST_CASE("echo over a filesystem path: 200 concurrent connections, checksums match") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  temp_dir dir;
  const std::string path = dir.file("echo.sock");
  constexpr int clients = 200;
  CHECK(echo_round(rt, path, clients, (256u << 10) / scale) == clients);
  // The socket file stays after the listener is gone: removing it is the user's job.
  CHECK(std::filesystem::is_socket(path));
}

TEST_CASE("echo over an abstract name, which leaves no file") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::string name = abstract_name("echo");
  CHECK(echo_round(rt, name, 20, 64u << 10) == 20);
  rt.block_on([](pw::net::unix_listener l, std::string name) -> pw::task<void> {
    const std::string bound = l.local_path().unwrap();
    CHECK(bound.size() == name.size());
    CHECK(bound == name);
    // The name is taken while the listener lives, and is free again after.
    auto again = pw::net::unix_listener::bind(name);
    REQUIRE(again.is_err());
    CHECK(again.error() == std::errc::address_in_use);
    auto c = (co_await pw::net::unix_stream::connect(name)).unwrap();
    auto s = (co_await l.accept()).unwrap();
    CHECK(c.peer_path().unwrap() == name);
    CHECK(c.local_path().unwrap().empty());  // a connecting socket is unnamed
    CHECK(s.local_path().unwrap() == name);
  }(bind_when_free(name).unwrap(), name));
  CHECK(!std::filesystem::exists(name.substr(1)));
  CHECK(!std::filesystem::exists("@" + name.substr(1)));
  CHECK(bind_when_free(name).is_ok());
}

TEST_CASE("names: too long is filename_too_long, empty or with a NUL inside is invalid_input") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  temp_dir dir;
  // sun_path is 108 bytes: a path of 107 fits (with its terminating NUL), 108 does not.
  const std::string longest = dir.path + "/" + std::string(107 - dir.path.size() - 1, 'p');
  REQUIRE(longest.size() == 107);
  const std::string too_long = longest + "q";
  const std::string longest_abstract = std::string(1, '\0') + std::string(107, 'a');
  const std::string too_long_abstract = longest_abstract + "b";
  rt.block_on([](std::string longest, std::string too_long, std::string longest_abstract,
                 std::string too_long_abstract) -> pw::task<void> {
    for (const std::string& name : {longest, longest_abstract}) {
      auto l = pw::net::unix_listener::bind(name);
      REQUIRE(l.is_ok());
      CHECK(l->local_path().unwrap() == name);
      auto c = co_await pw::net::unix_stream::connect(name);
      CHECK(c.is_ok());
      CHECK((co_await l->accept()).is_ok());
    }
    for (const std::string& name : {too_long, too_long_abstract}) {
      auto l = pw::net::unix_listener::bind(name);
      REQUIRE(l.is_err());
      CHECK(l.error() == std::errc::filename_too_long);
      CHECK(std::string(l.error().context()) == "unix_listener::bind");
      auto c = co_await pw::net::unix_stream::connect(name);
      REQUIRE(c.is_err());
      CHECK(c.error() == std::errc::filename_too_long);
      CHECK(std::string(c.error().context()) == "unix_stream::connect");
    }
    // "\0name" as a plain literal is an empty string through const char*: an error that says
    // how to spell an abstract name, not a socket bound somewhere unexpected.
    auto empty = pw::net::unix_listener::bind("\0name");
    REQUIRE(empty.is_err());
    CHECK(empty.error() == pw::errc::invalid_input);
    CHECK(std::string_view(empty.error().context()).find("abstract") != std::string_view::npos);
    auto inner_nul = co_await pw::net::unix_stream::connect("/tmp/a\0b"sv);
    REQUIRE(inner_nul.is_err());
    CHECK(inner_nul.error() == pw::errc::invalid_input);
  }(longest, too_long, longest_abstract, too_long_abstract));
}

TEST_CASE("connect to a missing path or a stale socket file, bind over a stale file: typed errors") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  temp_dir dir;
  const std::string path = dir.file("stale.sock");
  rt.block_on([](std::string missing, std::string path) -> pw::task<void> {
    auto none = co_await pw::net::unix_stream::connect(missing);
    REQUIRE(none.is_err());
    CHECK(none.error() == std::errc::no_such_file_or_directory);
    CHECK(std::string(none.error().context()) == "unix_stream::connect");
    auto none_abstract = co_await pw::net::unix_stream::connect(abstract_name("nobody-listens"));
    REQUIRE(none_abstract.is_err());
    CHECK(none_abstract.error() == std::errc::connection_refused);

    { auto l = pw::net::unix_listener::bind(path).unwrap(); }  // gone; its file stays
    auto refused = co_await pw::net::unix_stream::connect(path);
    REQUIRE(refused.is_err());
    CHECK(refused.error() == std::errc::connection_refused);
    auto in_use = pw::net::unix_listener::bind(path);
    REQUIRE(in_use.is_err());
    CHECK(in_use.error() == std::errc::address_in_use);
    std::filesystem::remove(path);
    auto l = pw::net::unix_listener::bind(path);
    CHECK(l.is_ok());
    CHECK((co_await pw::net::unix_stream::connect(path)).is_ok());
  }(dir.file("missing.sock"), path));
}

TEST_CASE("a listener whose backlog is full: connect fails at once with EAGAIN") {
  // A raw listening socket with the smallest backlog, never accepting: connections beyond it
  // cannot wait in the kernel, and connect reports it rather than hanging (on both backends).
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const std::string name = abstract_name("full-backlog");
  const int raw = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(raw >= 0);
  sockaddr_un sun{};
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, name.data(), name.size());
  REQUIRE(::bind(raw, reinterpret_cast<sockaddr*>(&sun), static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size())) == 0);
  REQUIRE(::listen(raw, 0) == 0);
  const auto outcome = rt.block_on([](std::string name) -> pw::task<std::pair<int, pw::result<void>>> {
    std::vector<pw::net::unix_stream> held;
    for (int i = 0; i < 16; ++i) {
      auto c = co_await pw::net::unix_stream::connect(name);
      if (!c) co_return std::pair{i, pw::result<void>(pw::err(c.error()))};
      held.push_back(std::move(*c));
    }
    co_return std::pair{16, pw::result<void>(pw::ok())};
  }(name));
  ::close(raw);
  CHECK(outcome.first >= 1);
  CHECK(outcome.first < 16);
  REQUIRE(outcome.second.is_err());
  CHECK(outcome.second.error() == std::errc::resource_unavailable_try_again);
}

TEST_CASE("a peer that vanishes mid-message or with data unread fails its own connection only") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::string name = abstract_name("vanish");
  rt.block_on([](std::string name) -> pw::task<void> {
    auto l = pw::net::unix_listener::bind(name).unwrap();
    // 1. Half a message, then gone: read_exact reports the truncation.
    {
      auto c = (co_await pw::net::unix_stream::connect(name)).unwrap();
      auto s = (co_await l.accept()).unwrap();
      std::vector<std::byte> half(500, std::byte{9});
      CHECK((co_await c.write_all(half)).is_ok());
      c.close();
      std::vector<std::byte> message(1000);
      auto r = co_await s.read_exact(message);
      REQUIRE(r.is_err());
      CHECK(r.error() == pw::errc::unexpected_eof);
      CHECK(std::string(r.error().context()) == "unix_stream::read_exact");
    }
    // 2. A reader blocked in read() when the peer closes sees end of stream.
    {
      auto c = (co_await pw::net::unix_stream::connect(name)).unwrap();
      auto s = (co_await l.accept()).unwrap();
      auto reader = pw::spawn([](pw::net::unix_stream& s) -> pw::task<pw::result<std::size_t>> {
        std::byte b[64];
        co_return co_await s.read(b);
      }(s));
      co_await pw::sleep(5ms);
      c.close();
      auto got = (co_await reader).unwrap();
      CHECK((got.is_ok() && *got == 0));
    }
    // 3. The peer leaves with our data unread: our next read is a reset, our next write a broken
    //    pipe (no SIGPIPE), and a healthy connection beside it goes on.
    {
      auto healthy_client = (co_await pw::net::unix_stream::connect(name)).unwrap();
      auto healthy = (co_await l.accept()).unwrap();
      auto c = (co_await pw::net::unix_stream::connect(name)).unwrap();
      auto s = (co_await l.accept()).unwrap();
      std::vector<std::byte> data(4096, std::byte{1});
      CHECK((co_await s.write_all(data)).is_ok());
      c.close();
      std::byte b[16];
      auto r = co_await s.read(b);
      REQUIRE(r.is_err());
      CHECK(r.error() == std::errc::connection_reset);
      auto w = co_await s.write_all(data);
      REQUIRE(w.is_err());
      CHECK(w.error() == std::errc::broken_pipe);
      const char msg[] = "still here";
      CHECK((co_await healthy_client.write_all(std::as_bytes(std::span(msg)))).is_ok());
      std::byte back[sizeof msg];
      CHECK((co_await healthy.read_exact(back)).is_ok());
      CHECK(std::memcmp(back, msg, sizeof msg) == 0);
    }
  }(name));
}

TEST_CASE("reads raced against sleeps never lose bytes") {
  // The sleep wins while a read is completing: the bytes must reach the caller, as the race's
  // value or on the next read, never vanish with the cancelled read.
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::size_t total = 200'000 / static_cast<std::size_t>(scale);
  const std::string name = abstract_name("race-read");
  const auto got = rt.block_on([](std::string name, std::size_t total) -> pw::task<std::pair<std::size_t, int>> {
    auto l = pw::net::unix_listener::bind(name).unwrap();
    auto client = (co_await pw::net::unix_stream::connect(name)).unwrap();
    auto server_side = (co_await l.accept()).unwrap();
    auto writer = pw::spawn(pw_test::paced_write(std::move(server_side), total));
    std::vector<std::byte> buf(256);
    std::size_t received = 0;
    int sleeps_won = 0, out_of_order = 0;
    const auto deadline = pw::steady_clock::now() + 60s;
    while (received < total && pw::steady_clock::now() < deadline) {
      auto r = co_await pw::race(client.read(buf), pw::sleep(std::chrono::microseconds(300)));
      if (r.completed<0>() && r.get<0>().is_ok()) {
        for (std::size_t i = 0; i < *r.get<0>(); ++i)
          out_of_order += buf[i] != pw_test::pattern_byte(received + i);
        received += *r.get<0>();
      }
      sleeps_won += r.index() == 1;
    }
    CHECK((co_await writer).unwrap_or(false));
    CHECK(out_of_order == 0);
    co_return std::pair{received, sleeps_won};
  }(name, total));
  CHECK(got.first == total);
  CHECK(got.second > 0);  // the race really was lost by reads, many times
}

TEST_CASE("accept raced against a stop token loses no connection") {
  // The tick pipeline's accept loop: race(accept(), stop.cancelled()). A connection that
  // arrives while the race is being lost must still be there for the next accept().
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::string name = abstract_name("race-accept");
  const int rounds = 300 / scale;
  const auto accepted = rt.block_on([](std::string name, int rounds) -> pw::task<int> {
    auto l = pw::net::unix_listener::bind(name).unwrap();
    int served = 0;
    std::vector<pw::net::unix_stream> clients;
    for (int i = 0; i < rounds; ++i) {
      pw::cancellation_token stop;
      auto connector = pw::spawn([](std::string name) -> pw::task<pw::result<pw::net::unix_stream>> {
        co_return co_await pw::net::unix_stream::connect(name);
      }(name));
      auto stopper = pw::spawn([](pw::cancellation_token stop) -> pw::task<void> {
        stop.cancel();
        co_return;
      }(stop));
      auto r = co_await pw::race(l.accept(), stop.cancelled());
      (void)co_await stopper;
      auto c = (co_await connector).unwrap();
      REQUIRE(c.is_ok());
      clients.push_back(std::move(*c));
      if (r.completed<0>()) {
        served += r.get<0>().is_ok();
        continue;
      }
      // The race was lost to the token: the connection waits for the next accept.
      auto s = co_await pw::timeout(5s, l.accept());
      served += s.is_ok() && s->is_ok();
    }
    co_return served;
  }(name, rounds));
  CHECK(accepted == rounds);
}
