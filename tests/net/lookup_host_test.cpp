// lookup_host and connecting by name, without the network: "localhost" (from /etc/hosts),
// numeric addresses, and names that getaddrinfo refuses without asking a name server (an empty
// label, "a..b", is not a valid DNS name).
#include "polarway/net/lookup_host.hpp"

#include <doctest/doctest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw = polarway;
using pw::net::socket_addr;
using namespace std::chrono_literals;

namespace {

pw::detail::blocking_pool& current_pool() { return pw::detail::tls_context.current_worker->sched->pool(); }

std::string context_of(const pw::error& e) { return e.context(); }

}  // namespace

TEST_CASE("numeric addresses are answered without the blocking pool") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    const auto before = current_pool().calls_run();
    auto v4 = co_await pw::net::lookup_host("10.1.2.3:8080");
    REQUIRE(v4.is_ok());
    REQUIRE(v4->size() == 1);
    CHECK((*v4)[0].to_string() == "10.1.2.3:8080");
    auto v6 = co_await pw::net::lookup_host("[::1]:80");
    REQUIRE(v6.is_ok());
    REQUIRE(v6->size() == 1);
    CHECK((*v6)[0].is_ipv6());
    CHECK((*v6)[0].to_string() == "[::1]:80");
    auto zero = co_await pw::net::lookup_host("0.0.0.0:0");
    CHECK(zero.value()[0].port() == 0);
    CHECK(current_pool().calls_run() == before);
  }());
}

TEST_CASE("a name is resolved on the blocking pool: localhost") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    const auto before = current_pool().calls_run();
    auto r = co_await pw::net::lookup_host("localhost:8080");
    REQUIRE(r.is_ok());
    CHECK(current_pool().calls_run() == before + 1);
    REQUIRE_FALSE(r->empty());
    bool has_v4_loopback = false;
    for (const socket_addr& a : *r) {
      CHECK(a.port() == 8080);
      has_v4_loopback = has_v4_loopback || a.to_string() == "127.0.0.1:8080";
    }
    CHECK(has_v4_loopback);
    for (std::size_t i = 0; i < r->size(); ++i)
      for (std::size_t j = i + 1; j < r->size(); ++j) CHECK_FALSE((*r)[i] == (*r)[j]);  // no duplicates
    // An IPv6 literal with a scope id goes through getaddrinfo as a numeric host.
    auto scoped = co_await pw::net::lookup_host("[fe80::1%lo]:443");
    REQUIRE(scoped.is_ok());
    CHECK((*scoped)[0].is_ipv6());
    CHECK((*scoped)[0].port() == 443);
  }());
}

TEST_CASE("a name that does not resolve is a lookup error naming the host") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    auto r = co_await pw::net::lookup_host("no-such..host:80");
    REQUIRE(r.is_err());
    CHECK(r.error().code().category() == pw::net::lookup_category());
    CHECK(r.error() == pw::net::lookup_errc::host_not_found);
    CHECK(r.error().code() == pw::net::lookup_errc::host_not_found);
    CHECK(context_of(r.error()) == "net::lookup_host(no-such..host)");
    CHECK(r.error().message().find("no-such..host") != std::string::npos);
    // The same name twice gives the same context (it is stored once).
    auto again = co_await pw::net::lookup_host("no-such..host:81");
    CHECK(again.error().context() == r.error().context());

    // Bytes that could forge a log line are escaped in the context.
    auto hostile = co_await pw::net::lookup_host(std::string("evil..\n[ok] \x1b[2Jname:80"));
    REQUIRE(hostile.is_err());
    CHECK(context_of(hostile.error()) == "net::lookup_host(evil..\\x0a[ok] \\x1b[2Jname)");

    // connect by name reports the lookup's error.
    auto c = co_await pw::net::tcp_stream::connect("no-such..host:80");
    CHECK(c.error() == pw::net::lookup_errc::host_not_found);
  }());
}

TEST_CASE("malformed input is invalid_input, before anything is looked up") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    const auto before = current_pool().calls_run();
    std::vector<std::string> bad = {"", "localhost", "localhost:", ":80", "[::1]", "[::1:80", "[::1]80", "::1:80",
                                    "localhost:65536", "localhost:-1", "localhost:80x", "localhost: 80", "localhost:+80",
                                    "localhost:99999999999999999999", "[]:80", "[zz::1]:80", "[10.0.0.1]:80"};
    bad.push_back(std::string(254, 'a') + ":80");                  // a host longer than any DNS name
    bad.push_back(std::string(1 << 20, 'a') + ":80");              // absurdly long
    bad.push_back(std::string("local\0host:80", 13));              // a NUL inside the host
    bad.push_back(std::string(100, '[') + ":80");                  // brackets never closed
    for (const std::string& text : bad) {
      auto r = co_await pw::net::lookup_host(text);
      CHECK_MESSAGE(r.is_err(), text.substr(0, 40));
      if (!r.is_err()) continue;
      CHECK_MESSAGE(r.error() == pw::errc::invalid_input, text.substr(0, 40));
      CHECK(context_of(r.error()).rfind("net::lookup_host", 0) == 0);
    }
    // Only the bracketed non-literals reached getaddrinfo (as numeric hosts, never DNS).
    CHECK(current_pool().calls_run() <= before + 3);
    // The longest host allowed is looked up (and refused by the resolver, not the parser).
    auto longest = co_await pw::net::lookup_host("x.." + std::string(250, 'a') + ":80");
    CHECK(longest.error() == pw::net::lookup_errc::host_not_found);
    // connect checks the same way.
    CHECK((co_await pw::net::tcp_stream::connect("localhost:99999")).error() == pw::errc::invalid_input);
  }());
}

TEST_CASE("the contexts kept for failed names are bounded") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([]() -> pw::task<void> {
    std::string first, last;
    for (std::size_t i = 0; i <= pw::detail::max_interned_texts; ++i) {
      auto r = co_await pw::net::lookup_host("many.." + std::to_string(i) + ":80");
      REQUIRE(r.is_err());
      (i == 0 ? first : last) = context_of(r.error());
    }
    CHECK(first == "net::lookup_host(many..0)");
    CHECK(last == "net::lookup_host");  // the table is full: the plain operation name
  }());
}

TEST_CASE("a lookup that loses a race is dropped; its call finishes on the pool") {
  // The pool's only thread is held, so the lookup waits in the queue when the sleep wins.
  pw::runtime rt(pw::runtime_options{.workers = 1, .max_blocking_threads = 1});
  std::mutex mu;
  std::condition_variable cv;
  bool open = false, started = false;
  auto blocker = rt.spawn_blocking([&] {
    std::unique_lock lock(mu);
    started = true;
    cv.notify_all();
    cv.wait(lock, [&] { return open; });
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return started; });
  }
  const auto index = rt.block_on([]() -> pw::task<std::size_t> {
    auto r = co_await pw::race(pw::net::lookup_host("localhost:80"), pw::sleep(5ms));
    co_return r.index();
  }());
  CHECK(index == 1);
  {
    std::lock_guard lock(mu);
    open = true;
    cv.notify_all();
  }
  // The runtime goes on: the detached lookup runs once the thread is free, and a new lookup works.
  auto again = rt.block_on([]() -> pw::task<pw::result<std::vector<socket_addr>>> {
    co_return co_await pw::net::lookup_host("localhost:80");
  }());
  CHECK(again.is_ok());
  (void)blocker;
}

TEST_CASE("connect tries each address in turn") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto listener = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
    const socket_addr good = listener.local_addr().value();
    // A port nobody listens on: bound, then closed.
    socket_addr closed;
    {
      auto l = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
      closed = l.local_addr().value();
    }
    auto accepted = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<bool> {
      auto s = co_await l.accept();
      co_return s.is_ok();
    }(listener));

    // By name: localhost resolves to 127.0.0.1 (and maybe ::1, where nobody listens).
    auto by_name = co_await pw::net::tcp_stream::connect("localhost:" + std::to_string(good.port()));
    REQUIRE(by_name.is_ok());
    CHECK(by_name->peer_addr().value() == good);
    CHECK((co_await accepted).value());

    // A list: the refused address first, then the good one.
    accepted = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<bool> {
      auto s = co_await l.accept();
      co_return s.is_ok();
    }(listener));
    const std::vector<socket_addr> both{closed, good};
    auto second = co_await pw::net::tcp_stream::connect(both);
    REQUIRE(second.is_ok());
    CHECK(second->peer_addr().value() == good);
    CHECK((co_await accepted).value());

    // All refused: the last error.
    const std::vector<socket_addr> none_listening{closed, closed};
    auto refused = co_await pw::net::tcp_stream::connect(none_listening);
    CHECK(refused.error() == std::errc::connection_refused);
    // Nothing to try.
    CHECK((co_await pw::net::tcp_stream::connect(std::span<const socket_addr>())).error() == pw::errc::invalid_input);
  }());
}
