// ws_session over loopback TCP: the server handshake's outcomes (a silent client gets 408, a
// client that vanishes mid-request, a refused target, a garbage request, each reported to the
// `failed` hook before its response is written), the peer's first frames sent with the request
// kept, and how read_more ends (stop, idle, end of stream, the close handshake). Every wait is
// bounded.
#include <doctest/doctest.h>

#include <sys/ioctl.h>

#include <chrono>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "ticks/ws_handshake.hpp"
#include "ws_session.hpp"
#include "ws_test_client.hpp"

namespace pw = polarway;
namespace app = ticks::app;
namespace ws = ticks::ws;
using namespace std::chrono_literals;
using session = app::ws_session<pw::net::tcp_stream>;

namespace {

struct pair_of_streams {
  pw::net::tcp_stream client;
  pw::net::tcp_stream server;
};

pw::task<pair_of_streams> connected_pair() {
  auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
  REQUIRE(l);
  auto c = co_await pw::net::tcp_stream::connect(l->local_addr().value());
  REQUIRE(c);
  auto s = co_await l->accept();
  REQUIRE(s);
  co_return pair_of_streams{std::move(*c), std::move(*s)};
}

pw::result<std::string, app::ws_refusal> admit_all(std::string_view target) { return std::string(target); }

pw::result<std::string, app::ws_refusal> admit_none(std::string_view) {
  return pw::err(app::ws_refusal{404, "no such stream"});
}

// What accept_ws's `failed` hook saw: each failure's kind, and whether the client could already
// read something when it was called (it must not: the hook runs before the response is written).
struct failures_seen {
  explicit failures_seen(int fd) : client_fd(fd) {}

  int client_fd;
  std::vector<app::handshake_failure::kind> kinds;
  bool response_already_sent = false;

  void operator()(const app::handshake_failure& f) {
    kinds.push_back(f.what);
    int readable = 0;
    REQUIRE(::ioctl(client_fd, FIONREAD, &readable) == 0);
    if (readable != 0) response_already_sent = true;
  }
};

// accept_ws on the server stream with a short deadline; its failures are reported to `seen`.
template <class Admit>
pw::task<pw::result<app::accepted_ws<pw::net::tcp_stream, std::string>, app::handshake_failure>> accept(
    pw::net::tcp_stream s, Admit admit, failures_seen& seen) {
  auto failed = [&seen](const app::handshake_failure& f) { seen(f); };
  auto accepting = app::accept_ws(std::move(s), 300ms, ws::connection_options{}, admit, nullptr, failed);
  co_return co_await std::move(accepting);
}

template <class Admit>
pw::task<pw::result<app::accepted_ws<pw::net::tcp_stream, std::string>, app::handshake_failure>> accept(
    pw::net::tcp_stream s, Admit admit) {
  auto accepting = app::accept_ws(std::move(s), 300ms, ws::connection_options{}, admit);
  co_return co_await std::move(accepting);
}

std::string upgrade_request(std::string_view target) {
  return "GET " + std::string(target) +
         " HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

pw::task<void> write_text(pw::net::tcp_stream& s, std::string_view text) {
  REQUIRE((co_await s.write_all(std::as_bytes(std::span(text.data(), text.size())))).is_ok());
}

}  // namespace

TEST_CASE("ws_session: the server handshake's failures are answered and reported") {
  using kind = app::handshake_failure::kind;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    {  // silent client: 408 after the deadline
      auto p = co_await connected_pair();
      failures_seen seen(p.client.native_handle());
      auto r = co_await accept(std::move(p.server), admit_all, seen);
      REQUIRE_FALSE(r);
      CHECK(r.error().what == kind::timed_out);
      CHECK((co_await app::test::read_to_end(p.client)).starts_with("HTTP/1.1 408 "));
      CHECK(seen.kinds == std::vector{kind::timed_out});
      CHECK_FALSE(seen.response_already_sent);
    }
    {  // half a request, then the client vanishes
      auto p = co_await connected_pair();
      failures_seen seen(p.client.native_handle());
      co_await write_text(p.client, upgrade_request("/x").substr(0, 30));
      (void)co_await p.client.shutdown();
      auto r = co_await accept(std::move(p.server), admit_all, seen);
      REQUIRE_FALSE(r);
      CHECK(r.error().what == kind::eof);
      CHECK(seen.kinds == std::vector{kind::eof});
    }
    {  // not HTTP at all: the handshake's own error response
      auto p = co_await connected_pair();
      failures_seen seen(p.client.native_handle());
      co_await write_text(p.client, std::string(100, '\x01') + "\r\n\r\n");
      auto r = co_await accept(std::move(p.server), admit_all, seen);
      REQUIRE_FALSE(r);
      CHECK(r.error().what == kind::protocol);
      CHECK((co_await app::test::read_to_end(p.client)).starts_with("HTTP/1.1 400 "));
      CHECK(seen.kinds == std::vector{kind::protocol});
      CHECK_FALSE(seen.response_already_sent);
    }
    {  // a valid request for a target the application refuses
      auto p = co_await connected_pair();
      failures_seen seen(p.client.native_handle());
      co_await write_text(p.client, upgrade_request("/nope"));
      auto r = co_await accept(std::move(p.server), admit_none, seen);
      REQUIRE_FALSE(r);
      CHECK(r.error().what == kind::refused);
      CHECK(r.error().message().find("no such stream") != std::string::npos);
      const std::string reply = co_await app::test::read_to_end(p.client);
      CHECK(reply.starts_with("HTTP/1.1 404 Not Found"));
      CHECK(reply.find("101") == std::string::npos);
      CHECK(seen.kinds == std::vector{kind::refused});
      CHECK_FALSE(seen.response_already_sent);
    }
    {  // an accepted request reports nothing
      auto p = co_await connected_pair();
      failures_seen seen(p.client.native_handle());
      co_await write_text(p.client, upgrade_request("/yes"));
      auto r = co_await accept(std::move(p.server), admit_all, seen);
      REQUIRE(r);
      CHECK(seen.kinds.empty());
    }
  }());
}

TEST_CASE("ws_session: frames sent with the request are kept, and read_more ends as it should") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto p = co_await connected_pair();
    // The request and a masked text frame "hi" (mask 0) in one write.
    std::string raw = upgrade_request("/ws/btcusdt@trade");
    raw += std::string("\x81\x82\0\0\0\0hi", 8);
    co_await write_text(p.client, raw);
    auto r = co_await accept(std::move(p.server), admit_all);
    REQUIRE(r);
    CHECK(r->target == "/ws/btcusdt@trade");
    CHECK(r->admission == "/ws/btcusdt@trade");
    session& srv = r->session;
    auto ev = srv.next_event();
    REQUIRE(ev);
    REQUIRE(*ev);
    CHECK((*ev)->kind == ws::event_kind::text);
    CHECK((*ev)->text() == "hi");

    pw::cancellation_token stop;
    // Nothing more comes: idle after the timeout.
    CHECK((co_await srv.read_more(stop, 50)).end == app::input_end::idle);
    // The token fires while reading: stopped.
    auto canceller = pw::spawn([](pw::cancellation_token t) -> pw::task<void> {
      co_await pw::sleep(20ms);
      t.cancel();
    }(stop));
    CHECK((co_await srv.read_more(stop, 0)).end == app::input_end::stopped);
    (void)co_await canceller;
    // The peer ends the stream without a close frame.
    (void)co_await p.client.shutdown();
    const pw::cancellation_token never;
    CHECK((co_await srv.read_more(never, 0)).end == app::input_end::eof);
  }());
}

TEST_CASE("ws_session: the close handshake between connect_ws and accept_ws") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    auto p = co_await connected_pair();
    auto hs = ws::client_handshake::create("h", "/stream?streams=a@trade").value();
    auto connecting = app::connect_ws(std::move(p.client), std::move(hs), 2s, ws::connection_options{});
    auto server = pw::spawn(accept(std::move(p.server), admit_all));
    auto client = co_await std::move(connecting);
    REQUIRE(client);
    auto accepted = co_await server;
    REQUIRE(accepted.is_ok());
    REQUIRE(*accepted);
    session& srv = (*accepted)->session;

    REQUIRE((co_await client->close(ws::close_code::going_away)).is_ok());
    const pw::cancellation_token never;
    // The server reads the close; its echo goes out with the next read_more, which then finds
    // the connection closed.
    CHECK((co_await srv.read_more(never, 2000)).end == app::input_end::data);
    auto ev = srv.next_event();
    REQUIRE(ev);
    REQUIRE(*ev);
    CHECK((*ev)->kind == ws::event_kind::close);
    CHECK((*ev)->code == ws::close_code::going_away);
    CHECK((co_await srv.read_more(never, 2000)).end == app::input_end::closed);
    // The client receives the echo and is closed too.
    CHECK((co_await client->read_more(never, 2000)).end == app::input_end::data);
    auto echo = client->next_event();
    REQUIRE(echo);
    REQUIRE(*echo);
    CHECK((*echo)->kind == ws::event_kind::close);
    CHECK(client->connection().is_closed());
  }());
}
