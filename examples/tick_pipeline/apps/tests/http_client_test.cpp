// http_client against real local servers (HTTP and HTTPS on loopback, kernel-chosen ports),
// well-behaved and hostile: an endless body, a Content-Length above the limit, a body shorter
// than its Content-Length, a server that never answers, bytes that are not HTTP, a TLS peer
// that is not trusted; several requests in flight on the one multi handle.
#include <doctest/doctest.h>

#include <array>
#include <chrono>
#include <string>
#include <vector>

#include <polarway/net/tls.hpp>
#include <polarway/runtime.hpp>

#include "http_client.hpp"
#include "support/test_pki.hpp"

namespace pw = polarway;
namespace app = ticks::app;
using namespace std::chrono_literals;

namespace {

const std::string invalid_symbol = R"({"code":-1121,"msg":"Invalid symbol."})";

const pw_test::test_pki& pki() {
  static const pw_test::test_pki certificates(PW_TEST_OPENSSL);
  return certificates;
}

std::string response(std::string_view status, std::string_view body, std::string_view extra = "") {
  return "HTTP/1.1 " + std::string(status) + "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n" + std::string(extra) + "\r\n" + std::string(body);
}

template <class Stream>
pw::task<bool> send(Stream& s, std::string_view text) {
  auto r = co_await s.write_all(std::as_bytes(std::span(text.data(), text.size())));
  co_return r.is_ok();
}

// Waits until the client goes away (or the test stops the server).
template <class Stream>
pw::task<void> wait_for_close(Stream& s, pw::cancellation_token stop) {
  std::array<std::byte, 4096> buf;
  for (;;) {
    auto r = co_await pw::race(s.read(buf), stop.cancelled());
    if (r.index() != 0 || !pw::get<0>(r) || *pw::get<0>(r) == 0) co_return;
  }
}

// One request per connection; the path picks the behaviour.
template <class Stream>
pw::task<void> answer(Stream s, pw::cancellation_token stop) {
  std::string head;
  std::array<std::byte, 4096> buf;
  while (head.find("\r\n\r\n") == std::string::npos) {
    if (head.size() > 16384) co_return;
    auto r = co_await pw::race(s.read(buf), stop.cancelled());
    if (r.index() != 0 || !pw::get<0>(r) || *pw::get<0>(r) == 0) co_return;
    head.append(reinterpret_cast<const char*>(buf.data()), *pw::get<0>(r));
  }
  const auto start = head.find(' ') + 1;
  const std::string path = head.substr(start, head.find(' ', start) - start);
  if (path.starts_with("/ok")) {
    (void)co_await send(s, response("200 OK", path));
  } else if (path == "/key") {
    const auto at = head.find("X-MBX-APIKEY: ");
    const std::string key =
        at == std::string::npos ? "" : head.substr(at + 14, head.find("\r\n", at) - at - 14);
    (void)co_await send(s, response("200 OK", key));
  } else if (path == "/binance_error") {
    (void)co_await send(s, response("400 Bad Request", invalid_symbol));
  } else if (path == "/rate") {
    (void)co_await send(s, response("429 Too Many Requests", R"({"code":-1003,"msg":"Too many requests."})",
                                    "Retry-After: 7\r\n"));
  } else if (path == "/endless") {
    // No Content-Length: the body runs until the client hangs up (it must, at its limit).
    if (!(co_await send(s, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"))) co_return;
    const std::string chunk(65536, 'x');
    for (int i = 0; i < 100000 && !stop.is_cancelled(); ++i)
      if (!(co_await send(s, chunk))) co_return;
  } else if (path == "/big_length") {
    if (!(co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 100000000000\r\n\r\nxxxx"))) co_return;
    co_await wait_for_close(s, stop);
  } else if (path == "/short") {
    if (!(co_await send(s, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789"))) co_return;
  } else if (path == "/stall") {
    co_await wait_for_close(s, stop);
  } else if (path == "/garbage") {
    (void)co_await send(s, "\x01\x02 this is not HTTP at all\r\n\r\n");
  } else {
    (void)co_await send(s, response("404 Not Found", ""));
  }
  co_await s.shutdown();
}

// Accepts until `stop`; over TLS when `tls` is given. Waits for its handlers before it ends.
pw::task<void> serve(pw::net::tcp_listener& l, pw::cancellation_token stop, const pw::net::tls_config* tls) {
  pw::join_set<void> handlers;
  for (;;) {
    auto r = co_await pw::race(l.accept(), stop.cancelled());
    if (r.index() != 0 || !pw::get<0>(r)) break;
    pw::net::tcp_stream s = std::move(*pw::get<0>(r));
    if (tls) {
      handlers.spawn([](pw::net::tcp_stream s, const pw::net::tls_config* tls, pw::cancellation_token stop) -> pw::task<void> {
        auto t = co_await pw::net::tls_stream::accept(std::move(s), *tls);
        if (t) co_await answer(std::move(*t), stop);
      }(std::move(s), tls, stop));
    } else {
      handlers.spawn(answer(std::move(s), stop));
    }
  }
  while (co_await handlers.join_next()) {
  }
}

struct fixture {
  pw::runtime rt{pw::runtime_options{.workers = 2}};
};

// Runs body(client, base_url) against a server on loopback; the client and server are stopped
// after it.
template <class Body>
void with_server(const pw::net::tls_config* tls, app::http_client_options options, Body body) {
  fixture f;
  f.rt.block_on([](const pw::net::tls_config* tls, app::http_client_options options, Body body) -> pw::task<void> {
    auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
    REQUIRE(l);
    const auto port = l->local_addr()->port();
    pw::cancellation_token stop;
    auto server = pw::spawn(serve(*l, stop, tls));
    auto client = app::http_client::start(options);
    REQUIRE(client);
    const std::string base = std::string(tls ? "https" : "http") + "://" + (tls ? "localhost" : "127.0.0.1") + ":" +
                             std::to_string(port);
    co_await body(*client, base);
    co_await client->shutdown();
    stop.cancel();
    (void)co_await server;
  }(tls, std::move(options), std::move(body)));
}

// With one header, or none when `header` is empty. (A braced list of headers in a coroutine
// call trips g++ 12.)
pw::task<pw::result<app::http_response, app::rest_error>> get(app::http_client& c, std::string url,
                                                              std::string header = "") {
  app::http_request r;
  r.url = std::move(url);
  if (!header.empty()) r.headers.push_back(std::move(header));
  co_return co_await c.get(std::move(r));
}

}  // namespace

TEST_CASE("GETs with headers; status, body and Retry-After as the server sent them") {
  with_server(nullptr, {}, [](app::http_client& c, std::string base) -> pw::task<void> {
    auto ok = co_await get(c, base + "/ok/1");
    REQUIRE(ok);
    CHECK(ok->status == 200);
    CHECK(ok->body == "/ok/1");
    auto key = co_await get(c, base + "/key", "X-MBX-APIKEY: secret-123");
    REQUIRE(key);
    CHECK(key->body == "secret-123");
    auto bad = co_await get(c, base + "/binance_error");
    REQUIRE(bad);
    CHECK(bad->status == 400);
    CHECK(bad->body == invalid_symbol);
    auto rate = co_await get(c, base + "/rate");
    REQUIRE(rate);
    CHECK(rate->status == 429);
    CHECK(rate->retry_after_s == pw::option<std::uint64_t>(7));
    CHECK(ok->retry_after_s.is_none());
  });
}

TEST_CASE("several requests in flight on one multi handle") {
  app::http_client_options four;
  four.max_in_flight = 4;
  with_server(nullptr, four, [](app::http_client& c, std::string base) -> pw::task<void> {
    std::vector<pw::task<pw::result<app::http_response, app::rest_error>>> all;
    for (int i = 0; i < 12; ++i) all.push_back(get(c, base + "/ok/" + std::to_string(i)));
    auto results = co_await pw::join_all(std::move(all));
    REQUIRE(results.size() == 12);
    for (int i = 0; i < 12; ++i) {
      REQUIRE(results[i]);
      CHECK(results[i]->body == "/ok/" + std::to_string(i));
    }
  });
}

TEST_CASE("hostile servers: endless body, huge Content-Length, short body, garbage, stall") {
  app::http_client_options o;
  o.max_body_bytes = 1 << 20;
  o.total_timeout_ms = 1500;
  with_server(nullptr, o, [](app::http_client& c, std::string base) -> pw::task<void> {
    auto endless = co_await get(c, base + "/endless");
    REQUIRE(endless.is_err());
    CHECK(endless.error().what == app::rest_error::kind::too_large);
    auto big = co_await get(c, base + "/big_length");
    REQUIRE(big.is_err());
    CHECK(big.error().what == app::rest_error::kind::too_large);
    auto shrt = co_await get(c, base + "/short");
    REQUIRE(shrt.is_err());
    CHECK(shrt.error().what == app::rest_error::kind::transport);
    CHECK(shrt.error().message().find("/short") != std::string::npos);
    auto garbage = co_await get(c, base + "/garbage");
    REQUIRE(garbage.is_err());
    CHECK(garbage.error().what == app::rest_error::kind::transport);
    auto stall = co_await get(c, base + "/stall");
    REQUIRE(stall.is_err());
    CHECK(stall.error().what == app::rest_error::kind::transport);
    CHECK(stall.error().retryable());
    // The client still works after all that.
    auto ok = co_await get(c, base + "/ok/after");
    REQUIRE(ok);
    CHECK(ok->body == "/ok/after");
  });
}

TEST_CASE("nothing listening: a transport error with curl's message") {
  fixture f;
  f.rt.block_on([]() -> pw::task<void> {
    // A port that was just free: bound, then closed.
    std::uint16_t port = 0;
    {
      auto l = pw::net::tcp_listener::bind("127.0.0.1:0");
      REQUIRE(l);
      port = l->local_addr()->port();
    }
    auto c = app::http_client::start({});
    REQUIRE(c);
    auto r = co_await get(*c, "http://127.0.0.1:" + std::to_string(port) + "/ok");
    REQUIRE(r.is_err());
    CHECK(r.error().what == app::rest_error::kind::transport);
    CHECK_FALSE(r.error().curl_message.empty());
    auto scheme = co_await get(*c, "ftp://127.0.0.1/x");
    REQUIRE(scheme.is_err());
    CHECK(scheme.error().what == app::rest_error::kind::transport);
    co_await c->shutdown();
    auto after = co_await get(*c, "http://127.0.0.1:1/x");
    CHECK(after.is_err());
  }());
}

TEST_CASE("HTTPS: verified against the --tls-ca file, refused when the peer is not trusted") {
  REQUIRE(pki().ok());
  auto leaf = pw::net::tls_config::server(pki().leaf(), pki().leaf_key());
  app::http_client_options trusting;
  trusting.ca_file = pki().ca();
  with_server(&leaf, trusting, [](app::http_client& c, std::string base) -> pw::task<void> {
    auto ok = co_await get(c, base + "/ok/tls");
    REQUIRE(ok);
    CHECK(ok->body == "/ok/tls");
    auto key = co_await get(c, base + "/key", "X-MBX-APIKEY: k");
    REQUIRE(key);
    CHECK(key->body == "k");
  });
  // The system trust store does not know the test CA.
  with_server(&leaf, {}, [](app::http_client& c, std::string base) -> pw::task<void> {
    auto r = co_await get(c, base + "/ok");
    REQUIRE(r.is_err());
    CHECK(r.error().what == app::rest_error::kind::transport);
  });
  // Trusting the CA, but the self-signed certificate is not from it.
  auto self = pw::net::tls_config::server(pki().self_signed(), pki().self_signed_key());
  with_server(&self, trusting, [](app::http_client& c, std::string base) -> pw::task<void> {
    auto r = co_await get(c, base + "/ok");
    REQUIRE(r.is_err());
    CHECK(r.error().what == app::rest_error::kind::transport);
  });
}
