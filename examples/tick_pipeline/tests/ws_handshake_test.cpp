#include "ticks/ws_handshake.hpp"

#include <doctest/doctest.h>

#include <string>

#include "ticks/ws_connection.hpp"
#include "ws_test_support.hpp"

namespace pw = polarway;
namespace ws = ticks::ws;
using ticks::as_bytes;
using ws::handshake_errc;

namespace {

// "the sample nonce": the 16 bytes behind RFC 6455's example key.
constexpr std::array<std::uint8_t, 16> sample_nonce{'t', 'h', 'e', ' ', 's', 'a', 'm', 'p',
                                                    'l', 'e', ' ', 'n', 'o', 'n', 'c', 'e'};
constexpr std::string_view rfc_key = "dGhlIHNhbXBsZSBub25jZQ==";
// RFC 6455 section 1.3's value (python-websockets' accept_key() gives the same).
constexpr std::string_view rfc_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

std::string request_with(std::string_view headers, std::string_view line = "GET /chat HTTP/1.1") {
  return std::string(line) + "\r\n" + std::string(headers) + "\r\n";
}

const std::string good_headers =
    "Host: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

pw::result<ws::handshake_progress, ws::handshake_error> serve(ws::server_handshake& s, std::string_view bytes) {
  return s.feed(as_bytes(bytes));
}

ws::handshake_error server_rejects(std::string_view request) {
  ws::server_handshake s;
  auto r = serve(s, request);
  REQUIRE(r.is_err());
  CHECK_FALSE(s.done());
  CHECK(s.response().substr(0, 9) == "HTTP/1.1 ");
  return r.error();
}

std::string response_with(std::string_view headers, std::string_view line = "HTTP/1.1 101 Switching Protocols") {
  return std::string(line) + "\r\n" + std::string(headers) + "\r\n";
}

const std::string good_response_headers =
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";

ws::handshake_error client_rejects(std::string_view response) {
  auto c = ws::client_handshake::create("server.example.com", "/chat", sample_nonce).value();
  auto r = c.feed(as_bytes(response));
  REQUIRE(r.is_err());
  CHECK_FALSE(c.done());
  // Errors are sticky.
  CHECK(c.feed(as_bytes("more")).error() == r.error());
  return r.error();
}

}  // namespace

TEST_CASE("Sec-WebSocket-Accept for known keys") {
  CHECK(ws::websocket_accept(rfc_key) == rfc_accept);
  CHECK(ws::websocket_accept("x3JJHMbDL1EzLkh9GBhXDw==") == "HSmrc0sMlYUkAGmm5OPpG2HaGWk=");
}

TEST_CASE("the client request carries every required header") {
  auto c = ws::client_handshake::create("stream.binance.com:9443", "/stream?streams=btcusdt@trade/ethusdt@trade",
                                        sample_nonce)
               .value();
  CHECK(c.key() == rfc_key);
  CHECK(c.request() ==
        "GET /stream?streams=btcusdt@trade/ethusdt@trade HTTP/1.1\r\n"
        "Host: stream.binance.com:9443\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n");
}

TEST_CASE("random client keys are base64 of 16 bytes and differ") {
  auto a = ws::client_handshake::create("h", "/").value();
  auto b = ws::client_handshake::create("h", "/").value();
  CHECK(a.key().size() == 24);
  CHECK(a.key() != b.key());
}

TEST_CASE("the client refuses a host or target that would forge the request") {
  CHECK(ws::client_handshake::create("", "/").error().code == handshake_errc::invalid_argument);
  CHECK(ws::client_handshake::create("h\r\nX-Evil: 1", "/").error().code == handshake_errc::invalid_argument);
  CHECK(ws::client_handshake::create("h", "/a b").error().code == handshake_errc::invalid_argument);
  CHECK(ws::client_handshake::create("h", "nopath").error().code == handshake_errc::invalid_argument);
  CHECK(ws::client_handshake::create("h", "/x\n").error().code == handshake_errc::invalid_argument);
}

TEST_CASE("client and server complete the handshake with each other") {
  auto c = ws::client_handshake::create("127.0.0.1:9000", "/ws/btcusdt@trade").value();
  ws::server_handshake s;
  auto sr = serve(s, c.request());
  REQUIRE(sr.is_ok());
  CHECK(sr->done);
  CHECK(sr->consumed == c.request().size());
  CHECK(s.target() == "/ws/btcusdt@trade");
  CHECK(s.host() == "127.0.0.1:9000");
  auto cr = c.feed(as_bytes(s.response()));
  REQUIRE(cr.is_ok());
  CHECK(cr->done);
  CHECK(cr->consumed == s.response().size());
  CHECK(c.done());
}

TEST_CASE("the server's 101 response for the RFC example") {
  ws::server_handshake s;
  REQUIRE(serve(s, request_with(good_headers)).is_ok());
  CHECK(s.response() ==
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n");
}

TEST_CASE("header names and tokens match case-insensitively; values are trimmed") {
  ws::server_handshake s;
  auto r = serve(s, request_with("hOsT:server\r\nupgrade:   WebSocket  \r\nCONNECTION: keep-alive,  UPGRADE \r\n"
                                 "sec-websocket-key:\t dGhlIHNhbXBsZSBub25jZQ== \t\r\nSEC-WEBSOCKET-VERSION: 13\r\n"));
  REQUIRE(r.is_ok());
  CHECK(r->done);
  CHECK(s.response().find(rfc_accept) != std::string_view::npos);

  // Tokens may be spread over repeated headers too.
  ws::server_handshake s2;
  CHECK(serve(s2, request_with("Host: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n"
                               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"))
            .is_ok());

  CHECK(client_rejects(response_with("UPGRADE: WEBSOCKET\r\nconnection: upgrade\r\nsec-websocket-accept: wrong\r\n"))
            .code == handshake_errc::bad_accept);
  auto c = ws::client_handshake::create("h", "/", sample_nonce).value();
  auto ok = c.feed(as_bytes(response_with(
      "UPGRADE: WEBSOCKET\r\nconnection: close, Upgrade\r\nsec-websocket-accept:   s3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \r\n",
      "HTTP/1.1 101 whatever")));
  CHECK(ok.is_ok());
  CHECK(c.done());
}

TEST_CASE("the server rejects bad requests with a typed error and an HTTP error response") {
  CHECK(server_rejects(request_with(good_headers, "POST /chat HTTP/1.1")).code == handshake_errc::bad_method);
  CHECK(server_rejects(request_with(good_headers, "get /chat HTTP/1.1")).code == handshake_errc::bad_method);
  CHECK(server_rejects(request_with(good_headers, "GET /chat HTTP/1.0")).code == handshake_errc::bad_http_version);
  CHECK(server_rejects(request_with(good_headers, "GET /chat")).code == handshake_errc::malformed);
  CHECK(server_rejects(request_with(good_headers, "GET  /chat HTTP/1.1")).code == handshake_errc::malformed);

  const auto without = [](std::string_view name) {
    std::string h = good_headers;
    const auto at = h.find(name);
    h.erase(at, h.find("\r\n", at) + 2 - at);
    return request_with(h);
  };
  CHECK(server_rejects(without("Host:")).code == handshake_errc::missing_host);
  CHECK(server_rejects(without("Upgrade:")).code == handshake_errc::missing_upgrade);
  CHECK(server_rejects(without("Connection:")).code == handshake_errc::missing_connection);
  CHECK(server_rejects(without("Sec-WebSocket-Key:")).code == handshake_errc::bad_key);
  CHECK(server_rejects(without("Sec-WebSocket-Version:")).code == handshake_errc::bad_version);

  const auto replace = [](std::string_view from, std::string_view to) {
    std::string h = good_headers;
    h.replace(h.find(from), from.size(), to);
    return request_with(h);
  };
  CHECK(server_rejects(replace("Upgrade: websocket", "Upgrade: h2c")).code == handshake_errc::missing_upgrade);
  CHECK(server_rejects(replace("Connection: Upgrade", "Connection: keep-alive")).code ==
        handshake_errc::missing_connection);
  CHECK(server_rejects(replace("Connection: Upgrade", "Connection: Upgraded")).code ==
        handshake_errc::missing_connection);
  CHECK(server_rejects(replace(rfc_key, "dGhlIHNhbXBsZQ==")).code == handshake_errc::bad_key);  // 10 bytes
  CHECK(server_rejects(replace(rfc_key, "not base64!")).code == handshake_errc::bad_key);
  // The key must be exactly 22 base64 characters and "==" (libcrypto alone would take some).
  CHECK(server_rejects(replace(rfc_key, "dGhlIHNhbXBsZSBub25jZQ")).code == handshake_errc::bad_key);  // no padding
  CHECK(server_rejects(replace(rfc_key, "dGhlIHNhbXBsZSBub25jZ=Q=")).code == handshake_errc::bad_key);  // misplaced
  CHECK(server_rejects(replace(rfc_key, "dGhlIHNhbXBsZSBub25j ZQ==")).code == handshake_errc::bad_key);  // space
  CHECK(server_rejects(replace(rfc_key, "dGhlIHNhbXBsZSBub25jZQ==dGhl")).code == handshake_errc::bad_key);  // 19 bytes
  CHECK(server_rejects(replace(rfc_key, "dGhlIHNhbXBsZSBub25j-_==")).code == handshake_errc::bad_key);  // base64url
  CHECK(server_rejects(request_with(good_headers + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")).code ==
        handshake_errc::bad_key);  // repeated
  CHECK(server_rejects(request_with(good_headers + "Host: other\r\n")).code == handshake_errc::missing_host);

  auto v = server_rejects(replace("Version: 13", "Version: 8"));
  CHECK(v.code == handshake_errc::bad_version);
  CHECK(v.http_status == 426);
  ws::server_handshake s;
  (void)serve(s, replace("Version: 13", "Version: 8"));
  CHECK(s.response().starts_with("HTTP/1.1 426 Upgrade Required\r\n"));
  CHECK(s.response().find("Sec-WebSocket-Version: 13\r\n") != std::string_view::npos);

  ws::server_handshake s400;
  CHECK(serve(s400, without("Host:")).error().http_status == 400);
  CHECK(s400.response().starts_with("HTTP/1.1 400 Bad Request\r\n"));
  CHECK(s400.response().find("Content-Length: ") != std::string_view::npos);
  CHECK(s400.response().ends_with("missing Host: absent, empty or repeated\n"));
  // Errors are sticky.
  CHECK(serve(s400, "x").error().code == handshake_errc::missing_host);
}

TEST_CASE("malformed header lines are refused") {
  CHECK(server_rejects(request_with(good_headers + "NoColonHere\r\n")).code == handshake_errc::malformed);
  CHECK(server_rejects(request_with(good_headers + "Bad Name: x\r\n")).code == handshake_errc::malformed);
  CHECK(server_rejects(request_with(good_headers + ": empty name\r\n")).code == handshake_errc::malformed);
  CHECK(server_rejects(request_with(good_headers + " folded: line\r\n")).code == handshake_errc::malformed);
  CHECK(server_rejects(request_with(good_headers + "X-Smuggle: a\nb\r\n")).code == handshake_errc::malformed);
  CHECK(server_rejects(request_with(good_headers + std::string("X-Nul: a\0b\r\n", 12))).code ==
        handshake_errc::malformed);
}

TEST_CASE("an oversized head is rejected, not buffered") {
  ws::server_handshake s;
  const std::string huge = "GET / HTTP/1.1\r\nX-Pad: " + std::string(9000, 'a');
  auto r = serve(s, huge);
  REQUIRE(r.is_err());
  CHECK(r.error().code == handshake_errc::too_large);
  CHECK(r.error().http_status == 431);
  CHECK(s.response().starts_with("HTTP/1.1 431 "));

  // The same in small pieces: it fails once the limit is reached, not later.
  ws::server_handshake pieces;
  std::size_t fed = 0;
  pw::result<ws::handshake_progress, ws::handshake_error> last = ws::handshake_progress{};
  while (fed < huge.size() && last.is_ok()) {
    last = serve(pieces, std::string_view(huge).substr(fed, 100));
    fed += 100;
  }
  CHECK(last.is_err());
  CHECK(fed <= 8192 + 100);

  // A head of exactly the limit is fine; one byte more is not.
  ws::handshake_options small{.max_head_size = 256};
  std::string req = request_with(good_headers);
  std::string exact = req;
  exact.insert(exact.size() - 2, "X-Pad: " + std::string(256 - req.size() - 9, 'p') + "\r\n");
  REQUIRE(exact.size() == 256);
  ws::server_handshake a(small);
  CHECK(serve(a, exact).is_ok());
  std::string over = exact;
  over.insert(over.size() - 4, "p");
  ws::server_handshake b(small);
  CHECK(serve(b, over).error().code == handshake_errc::too_large);

  CHECK(client_rejects("HTTP/1.1 101 Switching Protocols\r\nX: " + std::string(9000, 'a')).code ==
        handshake_errc::too_large);
}

TEST_CASE("the client validates the server's response") {
  CHECK(client_rejects(response_with("Upgrade: websocket\r\nConnection: Upgrade\r\n"
                                     "Sec-WebSocket-Accept: HSmrc0sMlYUkAGmm5OPpG2HaGWk=\r\n"))
            .code == handshake_errc::bad_accept);  // the accept for another key
  auto status = client_rejects("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
  CHECK(status.code == handshake_errc::unexpected_status);
  CHECK(status.http_status == 403);
  CHECK(client_rejects("HTTP/1.1 200 OK\r\n\r\n").http_status == 200);
  CHECK(client_rejects("HTTP/1.0 101 Switching Protocols\r\n\r\n").code == handshake_errc::bad_http_version);
  CHECK(client_rejects("HTTP/1.1 1O1 Switching\r\n\r\n").code == handshake_errc::malformed);
  CHECK(client_rejects("HTTP/1.1 101x\r\n\r\n").code == handshake_errc::malformed);
  CHECK(client_rejects("garbage\r\n\r\n").code == handshake_errc::malformed);

  const auto with = [](std::string_view headers) {
    auto c = ws::client_handshake::create("h", "/", sample_nonce).value();
    return c.feed(as_bytes(response_with(headers)));
  };
  const std::string accept = "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n";
  CHECK(with("Upgrade: websocket\r\nConnection: Upgrade\r\n" + accept).is_ok());
  CHECK(with("Connection: Upgrade\r\n" + accept).error().code == handshake_errc::missing_upgrade);
  CHECK(with("Upgrade: websocket\r\n" + accept).error().code == handshake_errc::missing_connection);
  CHECK(with("Upgrade: websocket\r\nConnection: Upgrade\r\n").error().code == handshake_errc::bad_accept);
  CHECK(with("Upgrade: websocket\r\nConnection: Upgrade\r\n" + accept + accept).error().code ==
        handshake_errc::bad_accept);
  CHECK(with("Upgrade: websocket\r\nConnection: Upgrade\r\n" + accept +
             "Sec-WebSocket-Extensions: permessage-deflate\r\n")
            .error()
            .code == handshake_errc::unexpected_extension);
  CHECK(with("Upgrade: websocket\r\nConnection: Upgrade\r\n" + accept + "Sec-WebSocket-Protocol: chat\r\n")
            .error()
            .code == handshake_errc::unexpected_subprotocol);
}

TEST_CASE("the request split at every byte boundary parses the same") {
  const std::string req = request_with(good_headers);
  for (std::size_t cut = 0; cut <= req.size(); ++cut) {
    ws::server_handshake s;
    auto a = serve(s, std::string_view(req).substr(0, cut));
    REQUIRE(a.is_ok());
    CHECK(a->done == (cut == req.size()));
    CHECK(a->consumed == cut);
    auto b = serve(s, std::string_view(req).substr(cut));
    REQUIRE(b.is_ok());
    CHECK(b->done);
    CHECK(a->consumed + b->consumed == req.size());
    CHECK(s.response().find(rfc_accept) != std::string_view::npos);
  }
  // And one byte at a time.
  ws::server_handshake s;
  for (std::size_t i = 0; i < req.size(); ++i) {
    auto r = serve(s, std::string_view(req).substr(i, 1));
    REQUIRE(r.is_ok());
    CHECK(r->consumed == 1);
    CHECK(r->done == (i + 1 == req.size()));
  }
}

TEST_CASE("the response split at every byte boundary validates the same") {
  const std::string resp = response_with(good_response_headers);
  for (std::size_t cut = 0; cut <= resp.size(); ++cut) {
    auto c = ws::client_handshake::create("h", "/", sample_nonce).value();
    auto a = c.feed(as_bytes(std::string_view(resp).substr(0, cut)));
    REQUIRE(a.is_ok());
    auto b = c.feed(as_bytes(std::string_view(resp).substr(cut)));
    REQUIRE(b.is_ok());
    CHECK(c.done());
    CHECK(a->consumed + b->consumed == resp.size());
  }
}

TEST_CASE("frames that follow the handshake in the same read are not lost") {
  SUBCASE("server side: request + first client frames") {
    const std::string req = request_with(good_headers);
    const std::string frames = test::client_text("hello") + test::client_text("world");
    const std::string wire = req + frames;
    for (std::size_t cut = 0; cut <= wire.size(); ++cut) {
      ws::server_handshake s;
      auto conn = ws::connection::create(ws::role::server).value();
      std::vector<std::string> got;
      for (std::string_view part : {std::string_view(wire).substr(0, cut), std::string_view(wire).substr(cut)}) {
        if (!s.done()) {
          auto p = serve(s, part);
          REQUIRE(p.is_ok());
          part.remove_prefix(p->consumed);
        }
        REQUIRE(conn.feed(as_bytes(part)).is_ok());
        while (auto ev = conn.poll().value()) got.emplace_back((*ev).text());
      }
      CHECK(s.done());
      REQUIRE(got.size() == 2);
      CHECK(got[0] == "hello");
      CHECK(got[1] == "world");
    }
  }
  SUBCASE("client side: 101 response + first server frame") {
    const std::string wire =
        response_with(good_response_headers) + test::build_frame({.mask = false, .payload = R"({"e":"trade"})"});
    auto c = ws::client_handshake::create("h", "/", sample_nonce).value();
    auto p = c.feed(as_bytes(wire));
    REQUIRE(p.is_ok());
    REQUIRE(p->done);
    auto conn = ws::connection::create(ws::role::client).value();
    REQUIRE(conn.feed(as_bytes(std::string_view(wire).substr(p->consumed))).is_ok());
    auto ev = conn.poll().value();
    REQUIRE(ev.is_some());
    CHECK(ev->text() == R"({"e":"trade"})");
  }
}
