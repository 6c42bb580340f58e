// serve(): the connection limit refuses what is beyond it (and frees a slot when a handler
// ends), and stopping waits for the handlers that are still running.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>

#include <polarway/runtime.hpp>

#include "serve.hpp"

namespace pw = polarway;
namespace app = ticks::app;
using namespace std::chrono_literals;

namespace {

// What the handlers and the loop's events saw.
struct tally {
  std::atomic<int> started{0};
  std::atomic<int> finished{0};
  std::atomic<int> refused{0};
  pw::cancellation_token release;  // handlers hold their connection until this fires
};

// Reads one byte (or end of stream): bounded, so a test failure cannot hang the run.
pw::task<pw::result<std::size_t>> read_one(pw::net::tcp_stream& s) {
  std::array<std::byte, 1> b;
  auto r = co_await pw::timeout(5s, s.read(b));
  if (!r) co_return pw::err(pw::error(pw::errc::timed_out));
  co_return std::move(*r);
}

pw::task<void> holding_handler(std::shared_ptr<tally> t, pw::net::tcp_stream s) {
  t->started.fetch_add(1);
  (void)co_await pw::race(t->release.cancelled(), pw::sleep(10s));
  (void)co_await s.write_all(std::as_bytes(std::span("x", 1)));
  t->finished.fetch_add(1);
}

// Waits (bounded) until pred() holds.
pw::task<bool> eventually(auto pred) {
  for (int i = 0; i < 500 && !pred(); ++i) co_await pw::sleep(10ms);
  co_return pred();
}

// Runs serve() with `limit` holding handlers on `l` until `stop`; a plain function, so the
// handler and the events are not temporaries of a coroutine's co_await (which g++ 12 destroys
// twice).
pw::join_handle<void> start_serving(pw::net::tcp_listener& l, pw::cancellation_token stop, std::size_t limit,
                                    std::shared_ptr<tally> t) {
  auto handler = [t](pw::net::tcp_stream s) { return holding_handler(t, std::move(s)); };
  app::serve_events events;
  events.on_refused = [t] { t->refused.fetch_add(1); };
  return pw::spawn(app::serve(l, stop, limit, std::move(handler), std::move(events)));
}

}  // namespace

TEST_CASE("serve refuses connections beyond the limit and waits for its handlers when stopped") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
    REQUIRE(l);
    const auto addr = l->local_addr().value();
    auto t = std::make_shared<tally>();
    pw::cancellation_token stop;
    auto loop = start_serving(*l, stop, 2, t);

    auto a = co_await pw::net::tcp_stream::connect(addr);
    auto b = co_await pw::net::tcp_stream::connect(addr);
    REQUIRE(a);
    REQUIRE(b);
    CHECK(co_await eventually([&] { return t->started.load() == 2; }));

    // The third is over the limit: closed without reaching a handler.
    auto c = co_await pw::net::tcp_stream::connect(addr);
    REQUIRE(c);
    auto third = co_await read_one(*c);
    REQUIRE(third);
    CHECK(*third == 0);
    CHECK(t->refused.load() == 1);
    CHECK(t->started.load() == 2);

    // Stopping ends the loop only once both handlers have finished (they answer each client).
    stop.cancel();
    co_await pw::sleep(50ms);
    CHECK_FALSE(loop.is_finished());
    t->release.cancel();
    (void)co_await loop;
    CHECK(t->finished.load() == 2);
    auto ra = co_await read_one(*a);
    auto rb = co_await read_one(*b);
    CHECK((ra && *ra == 1));
    CHECK((rb && *rb == 1));
  }());
}

TEST_CASE("serve frees a connection's slot when its handler ends") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
    REQUIRE(l);
    const auto addr = l->local_addr().value();
    auto t = std::make_shared<tally>();
    t->release.cancel();  // handlers answer and end at once
    pw::cancellation_token stop;
    auto loop = start_serving(*l, stop, 1, t);
    // One at a time: with a limit of 1, each is served only if the previous handler's slot came
    // back. The slot returns just after the client sees its answer, so a connection that races
    // ahead of it may be refused and is retried; without the release every retry would fail.
    for (int i = 0; i < 5; ++i) {
      bool served = false;
      for (int attempt = 0; attempt < 200 && !served; ++attempt) {
        auto s = co_await pw::net::tcp_stream::connect(addr);
        REQUIRE(s);
        auto r = co_await read_one(*s);
        REQUIRE(r);
        served = *r == 1;
        if (!served) co_await pw::sleep(10ms);
      }
      CHECK(served);
    }
    CHECK(co_await eventually([&] { return t->finished.load() == 5; }));
    stop.cancel();
    (void)co_await loop;
  }());
}
