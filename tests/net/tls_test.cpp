// pw::net::tls_stream against itself and against independent TLS stacks (openssl s_server and
// s_client, Python's ssl), its typed errors, hostile peers and cancellation. The certificates
// are made at run time (support/test_pki.hpp). Runs on whichever backend the environment
// selects (CI also runs it with POLARWAY_BACKEND=epoll).
#include "polarway/net/tls.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "polarway/net/tcp_listener.hpp"
#include "polarway/runtime.hpp"
#include "support/child_process.hpp"
#include "support/stream_echo.hpp"
#include "support/test_pki.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;
using pw::net::tls_config;
using pw::net::tls_error;
using pw::net::tls_stream;
using kind = tls_error::kind;

namespace {

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
constexpr std::size_t scale = 4;
#else
constexpr std::size_t scale = 1;
#endif

/// The kind of a failed result; none if it succeeded.
template <class T>
std::optional<kind> kind_of(const pw::result<T, tls_error>& r) {
  if (r) return std::nullopt;
  return r.error().which();
}
template <class T>
std::string reason_of(const pw::result<T, tls_error>& r) {
  return r ? std::string("<succeeded>") : r.error().reason();
}
template <class T>
std::string peer_of(const pw::result<T, tls_error>& r) {
  return r ? std::string("<succeeded>") : r.error().peer();
}

const pw_test::test_pki& pki() {
  static const pw_test::test_pki certificates(PW_TEST_OPENSSL);
  return certificates;
}

tls_config client_trusting_test_ca() {
  auto cfg = tls_config::client();
  cfg.ca_file(pki().ca());
  return cfg;
}

tls_config leaf_server() { return tls_config::server(pki().leaf(), pki().leaf_key()); }

std::span<const std::byte> bytes_of(std::string_view text) {
  return std::as_bytes(std::span(text.data(), text.size()));
}

struct listener {
  pw::net::tcp_listener tcp = pw::net::tcp_listener::bind("127.0.0.1:0").unwrap();
  std::string port = std::to_string(tcp.local_addr().unwrap().port());
};

/// Accepts one connection and runs the server handshake on it.
pw::task<pw::result<tls_stream, tls_error>> accept_tls(pw::net::tcp_listener& l, tls_config cfg) {
  auto tcp = co_await l.accept();
  if (!tcp) co_return pw::err(tls_error(kind::io, "", tcp.error().message(), tcp.error()));
  co_return co_await tls_stream::accept(std::move(*tcp), cfg);
}

/// Reads up to and including the first '\n'; what came before an end or an error otherwise,
/// with the error's message appended.
pw::task<std::string> read_line(tls_stream& s) {
  std::string line;
  std::array<std::byte, 1> c{};
  while (line.empty() || line.back() != '\n') {
    auto n = co_await s.read(c);
    if (!n) co_return line + "<" + n.error().message() + ">";
    if (*n == 0) co_return line + "<eof>";
    line += static_cast<char>(c[0]);
  }
  co_return line;
}

/// Reads until the peer's close_notify; "eof", or the error's message.
pw::task<std::string> read_to_end(tls_stream& s) {
  std::vector<std::byte> buf(4096);
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n) co_return n.error().message();
    if (*n == 0) co_return "eof";
  }
}

/// Connects to `address` trusting the test CA, sends `line`, reads one line back; with
/// `close`, then sends close_notify and appends how the stream ended ("eof" after the peer's
/// close_notify). An error's message instead, where one happens.
pw::task<std::string> client_exchange(std::string address, std::string line, bool close) {
  auto s = co_await tls_stream::connect(address, client_trusting_test_ca());
  if (!s) co_return s.error().message();
  if (auto w = co_await s->write_all(bytes_of(line)); !w) co_return w.error().message();
  std::string answer = co_await read_line(*s);
  if (!close) co_return answer;
  if (auto r = co_await s->shutdown(); !r) co_return r.error().message();
  co_return answer + co_await read_to_end(*s);
}

/// Sends `bytes` bytes of the pattern for `seed`, then close_notify.
pw::task<bool> send_pattern(tls_stream& s, std::size_t bytes, std::size_t seed) {
  std::vector<std::byte> chunk(256 * 1024);
  for (std::size_t sent = 0; sent < bytes;) {
    const std::size_t n = std::min(chunk.size(), bytes - sent);
    for (std::size_t i = 0; i < n; ++i) chunk[i] = pw_test::pattern_byte(sent + i, seed);
    if (!co_await s.write_all(std::span<const std::byte>(chunk.data(), n))) co_return false;
    sent += n;
  }
  co_return (co_await s.shutdown()).is_ok();
}

/// Reads until close_notify; whether exactly `bytes` bytes of the pattern for `seed` came.
pw::task<bool> receive_pattern(tls_stream& s, std::size_t bytes, std::size_t seed) {
  std::vector<std::byte> buf(100 * 1000);
  std::size_t got = 0;
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n) co_return false;
    if (*n == 0) co_return got == bytes;
    for (std::size_t i = 0; i < *n; ++i)
      if (buf[i] != pw_test::pattern_byte(got + i, seed)) co_return false;
    got += *n;
  }
}

/// Sends and receives at once, from two tasks on one stream.
pw::task<bool> duplex(tls_stream& s, std::size_t bytes, std::size_t send_seed, std::size_t receive_seed) {
  auto writer = pw::spawn(send_pattern(s, bytes, send_seed));
  const bool received = co_await receive_pattern(s, bytes, receive_seed);
  const bool sent = (co_await writer).unwrap_or(false);
  co_return received&& sent;
}

/// Connects with `cfg` to a server of ours presenting `cert`; the client's error message, or
/// "connected".
std::string client_result(pw::runtime& rt, const std::string& cert, const std::string& key, tls_config cfg,
                          std::string host, kind expected) {
  return rt.block_on(
      [](tls_config server_cfg, tls_config cfg, std::string host, kind expected) -> pw::task<std::string> {
        listener l;
        auto server = pw::spawn(accept_tls(l.tcp, server_cfg));
        auto c = co_await tls_stream::connect(host + ":" + l.port, cfg);
        auto s = co_await server;
        if (c) co_return std::string("connected");
        CHECK(s.is_ok());
        CHECK_FALSE(s->is_ok());  // the server saw the client's alert
        CHECK(c.error().which() == expected);
        CHECK(peer_of(c) == host + ":" + l.port);
        co_return c.error().message();
      }(tls_config::server(cert, key), std::move(cfg), std::move(host), expected));
}

}  // namespace

TEST_CASE("round trip: megabytes both ways at once from two tasks per side, then close_notify") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::size_t bytes = (8u << 20) / scale;
  const bool ok = rt.block_on([](std::size_t bytes) -> pw::task<bool> {
    listener l;
    auto server = pw::spawn([](pw::net::tcp_listener& l, std::size_t bytes) -> pw::task<bool> {
      auto s = co_await accept_tls(l, leaf_server());
      if (!s) co_return false;
      co_return co_await duplex(*s, bytes, 2, 1);
    }(l.tcp, bytes));
    auto c = co_await tls_stream::connect("localhost:" + l.port, client_trusting_test_ca());
    if (!c) {
      FAIL_CHECK(c.error().message());
      co_return false;
    }
    const bool client_ok = co_await duplex(*c, bytes, 1, 2);
    const bool server_ok = (co_await server).unwrap_or(false);
    CHECK(client_ok);
    CHECK(server_ok);
    co_return client_ok&& server_ok;
  }(bytes));
  CHECK(ok);
}

TEST_CASE("an IP literal is checked against the certificate's IP addresses") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  CHECK(client_result(rt, pki().leaf(), pki().leaf_key(), client_trusting_test_ca(), "127.0.0.1", kind::verify) ==
        "connected");
  auto trust_self = tls_config::client();
  trust_self.ca_file(pki().self_signed());  // trusted, but names only DNS:localhost
  const std::string e =
      client_result(rt, pki().self_signed(), pki().self_signed_key(), trust_self, "127.0.0.1", kind::verify);
  CHECK(e.find("127.0.0.1:") == 0);
  CHECK(e.find("IP address mismatch") != std::string::npos);
}

TEST_CASE("interop: our client against openssl s_server, TLS 1.2 and TLS 1.3 each forced") {
  REQUIRE(pki().ok());
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    CAPTURE(version);
    pw_test::child_process server({PW_TEST_OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", pki().leaf(), "-key",
                                   pki().leaf_key(), "-rev", "-naccept", "1", version});
    REQUIRE(server.started());
    const std::string accepting = server.read_line_with("ACCEPT");
    REQUIRE(!accepting.empty());
    pw::runtime rt(pw::runtime_options{.workers = 2});
    const std::string got =
        rt.block_on(client_exchange("localhost:" + accepting.substr(accepting.rfind(':') + 1), "hello tls\n", false));
    CHECK(got == "slt olleh\n");  // s_server -rev answers each line reversed
  }
}

TEST_CASE("SNI: the host name is sent, an IP literal sends none") {
  REQUIRE(pki().ok());
  // s_server with -servername_fatal refuses a ClientHello naming another host than `expected`
  // (alert unrecognized_name) and serves one that names it or names none.
  const auto exchange_with = [](const char* expected, const char* host) -> std::string {
    pw_test::child_process server({PW_TEST_OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert", pki().leaf(), "-key",
                                   pki().leaf_key(), "-cert2", pki().leaf(), "-key2", pki().leaf_key(), "-servername",
                                   expected, "-servername_fatal", "-rev", "-naccept", "1"});
    const std::string accepting = server.read_line_with("ACCEPT");
    if (accepting.empty()) return std::string("s_server did not start");
    pw::runtime rt(pw::runtime_options{.workers = 2});
    return rt.block_on(
        client_exchange(std::string(host) + ":" + accepting.substr(accepting.rfind(':') + 1), "sni\n", false));
  };
  CHECK(exchange_with("localhost", "localhost") == "ins\n");
  CHECK(exchange_with("other.test", "localhost").find("TLS handshake failed: tlsv1 unrecognized name") !=
        std::string::npos);
  CHECK(exchange_with("other.test", "127.0.0.1") == "ins\n");
}

TEST_CASE("a TLS 1.3 KeyUpdate requested by the peer is taken in and answered in order") {
  REQUIRE(pki().ok());
  // Interactive s_server: a line "K" on its input sends a KeyUpdate that requests ours (it
  // prints "SSL_do_handshake -> 1" once sent); other lines go to the client; what the client
  // sends is printed. Were our answering KeyUpdate lost or sent after our next record, s_server
  // could not decrypt that record. stdbuf makes s_server's printf output reach us line by line.
  pw_test::child_process server({"stdbuf", "-oL", PW_TEST_OPENSSL, "s_server", "-accept", "127.0.0.1:0", "-cert",
                                 pki().leaf(), "-key", pki().leaf_key(), "-tls1_3", "-naccept", "1"});
  REQUIRE(server.started());
  const std::string accepting = server.read_line_with("ACCEPT");
  REQUIRE(!accepting.empty());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto s = rt.block_on(
      tls_stream::connect("localhost:" + accepting.substr(accepting.rfind(':') + 1), client_trusting_test_ca()));
  REQUIRE(s.is_ok());
  server.write_stdin("K\n");  // alone: s_server looks at the first byte of each read only
  CHECK(server.read_line_with("SSL_do_handshake -> ") == "SSL_do_handshake -> 1");
  server.write_stdin("from server\n");
  const std::string got = rt.block_on([](tls_stream& s) -> pw::task<std::string> {
    std::string line = co_await read_line(s);
    if (auto w = co_await s.write_all(bytes_of("after the update\n")); !w) co_return w.error().message();
    co_return line;
  }(*s));
  CHECK(got == "from server\n");
  CHECK(server.read_line_with("after the update") == "after the update");
}

TEST_CASE("interop: openssl s_client against our server, TLS 1.2 and TLS 1.3 each forced") {
  REQUIRE(pki().ok());
  for (const char* version : {"-tls1_2", "-tls1_3"}) {
    CAPTURE(version);
    pw::runtime rt(pw::runtime_options{.workers = 2});
    listener l;
    pw_test::child_process client({PW_TEST_OPENSSL, "s_client", "-connect", "127.0.0.1:" + l.port, "-servername",
                                   "localhost", "-verify_hostname", "localhost", "-CAfile", pki().ca(),
                                   "-verify_return_error", "-quiet", version});
    REQUIRE(client.started());
    client.write_stdin("hello from s_client\n");
    const std::string line = rt.block_on([](pw::net::tcp_listener& l) -> pw::task<std::string> {
      auto s = co_await accept_tls(l, leaf_server());
      if (!s) co_return s.error().message();
      std::string line = co_await read_line(*s);
      if (auto w = co_await s->write_all(bytes_of("pong\n")); !w) co_return w.error().message();
      if (auto r = co_await s->shutdown(); !r) co_return r.error().message();
      // s_client may or may not answer close_notify: the end is not part of what is checked.
      (void)co_await pw::timeout(10s, read_to_end(*s));
      co_return line;
    }(l.tcp));
    client.close_stdin();
    const std::string output = client.read_all();
    CHECK(line == "hello from s_client\n");
    CHECK(output.find("pong") != std::string::npos);
    CHECK(client.wait() == 0);
  }
}

TEST_CASE("interop: Python's ssl as server and as client") {
  REQUIRE(pki().ok());
  SUBCASE("our client, Python's server") {
    pw_test::child_process server({PW_TEST_PYTHON3, PW_TEST_TLS_PEER, "server", pki().leaf(), pki().leaf_key()});
    REQUIRE(server.started());
    const std::string port_line = server.read_line_with("PORT ");
    REQUIRE(!port_line.empty());
    pw::runtime rt(pw::runtime_options{.workers = 2});
    const std::string got = rt.block_on(client_exchange("localhost:" + port_line.substr(5), "over python\n", true));
    CHECK(got == "over python\neof");
    CHECK(server.read_line_with("SERVED") == "SERVED 12");
    CHECK(server.wait() == 0);
  }
  SUBCASE("Python's client, our server") {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    listener l;
    pw_test::child_process client({PW_TEST_PYTHON3, PW_TEST_TLS_PEER, "client", l.port, pki().ca()});
    REQUIRE(client.started());
    const std::string end = rt.block_on([](pw::net::tcp_listener& l) -> pw::task<std::string> {
      auto s = co_await accept_tls(l, leaf_server());
      if (!s) co_return s.error().message();
      std::string line = co_await read_line(*s);
      if (auto w = co_await s->write_all(bytes_of(line)); !w) co_return w.error().message();
      std::string end = co_await read_to_end(*s);  // Python's close_notify
      if (auto r = co_await s->shutdown(); !r) co_return r.error().message();
      co_return end;
    }(l.tcp));
    CHECK(end == "eof");
    CHECK(client.read_line_with("ECHOED") == "ECHOED hello from python");
    CHECK(client.wait() == 0);
  }
}

TEST_CASE("certificate failures are typed errors naming the peer and the reason") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  SUBCASE("self-signed server, system trust store") {
    const std::string e = client_result(rt, pki().self_signed(), pki().self_signed_key(), tls_config::client(),
                                        "localhost", kind::verify);
    CHECK(e.find("localhost:") == 0);
    CHECK(e.find("certificate verify failed: self-signed certificate") != std::string::npos);
  }
  SUBCASE("certificate for localhost, client expects example.test") {
    auto cfg = client_trusting_test_ca();
    cfg.server_name("example.test");
    const std::string e = client_result(rt, pki().leaf(), pki().leaf_key(), cfg, "localhost", kind::verify);
    CHECK(e.find("certificate verify failed: hostname mismatch") != std::string::npos);
  }
  SUBCASE("expired certificate") {
    const std::string e =
        client_result(rt, pki().expired(), pki().expired_key(), client_trusting_test_ca(), "localhost", kind::verify);
    CHECK(e.find("certificate verify failed: certificate has expired") != std::string::npos);
  }
}

TEST_CASE("configuration errors are typed at config time and returned by connect and accept") {
  auto missing_ca = tls_config::client();
  missing_ca.ca_file("/nonexistent/ca.pem");
  REQUIRE(missing_ca.status().is_err());
  CHECK(missing_ca.status().error().which() == kind::config);
  CHECK(missing_ca.status().error().message().find("/nonexistent/ca.pem") != std::string::npos);
  const auto missing_cert = tls_config::server("/nonexistent/cert.pem", "/nonexistent/key.pem");
  REQUIRE(missing_cert.status().is_err());
  CHECK(missing_cert.status().error().message().find("/nonexistent/cert.pem") != std::string::npos);
  REQUIRE(pki().ok());
  const auto mismatched = tls_config::server(pki().leaf(), pki().self_signed_key());
  REQUIRE(mismatched.status().is_err());
  CHECK(mismatched.status().error().message().find("key values mismatch") != std::string::npos);

  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([](tls_config missing_ca, tls_config missing_cert) -> pw::task<void> {
    listener l;
    auto c = co_await tls_stream::connect("localhost:" + l.port, missing_ca);
    CHECK(kind_of(c) == kind::config);
    auto wrong_side = co_await tls_stream::connect("localhost:" + l.port, leaf_server());
    CHECK(kind_of(wrong_side) == kind::config);
    auto tcp = co_await pw::net::tcp_stream::connect("127.0.0.1:" + l.port);
    if (!tcp) co_return;
    auto s = co_await tls_stream::accept(std::move(*tcp), missing_cert);
    CHECK(kind_of(s) == kind::config);
  }(missing_ca, missing_cert));
}

TEST_CASE("a plaintext client fails our server's handshake") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const auto e = rt.block_on([]() -> pw::task<pw::result<tls_stream, tls_error>> {
    listener l;
    auto server = pw::spawn(accept_tls(l.tcp, leaf_server()));
    auto tcp = co_await pw::net::tcp_stream::connect("127.0.0.1:" + l.port);
    if (!tcp) co_return pw::err(tls_error(kind::io, "", tcp.error().message(), tcp.error()));
    CHECK((co_await tcp->write_all(bytes_of("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"))).is_ok());
    co_return (co_await server).unwrap();
  }());
  REQUIRE(e.is_err());
  CHECK(e.error().which() == kind::handshake);
  CHECK(peer_of(e).find("127.0.0.1:") == 0);
  CHECK(!reason_of(e).empty());
}

TEST_CASE("a client that connects and says nothing: the server's handshake deadline fires") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const auto e = rt.block_on([]() -> pw::task<pw::result<tls_stream, tls_error>> {
    listener l;
    auto cfg = leaf_server();
    cfg.handshake_timeout(200ms);
    auto server = pw::spawn(accept_tls(l.tcp, cfg));
    auto silent = co_await pw::net::tcp_stream::connect("127.0.0.1:" + l.port);
    CHECK(silent.is_ok());
    co_return (co_await server).unwrap();
  }());
  CHECK(kind_of(e) == kind::timeout);
  CHECK(peer_of(e).find("127.0.0.1:") == 0);
}

namespace {

/// A fake server: accepts one connection, reads the ClientHello, sends `answer`, then either
/// closes at once or waits for the client to give up.
pw::task<void> fake_server(pw::net::tcp_listener& l, std::vector<std::byte> answer, bool then_close) {
  auto s = co_await l.accept();
  if (!s) co_return;
  std::vector<std::byte> buf(64 * 1024);
  if (!co_await s->read(buf)) co_return;
  if (!answer.empty() && !co_await s->write_all(answer)) co_return;
  if (then_close) co_return;
  for (;;) {
    auto n = co_await s->read(buf);
    if (!n || *n == 0) co_return;
  }
}

/// A TLS record header (handshake type, TLS 1.2) announcing `length` bytes, followed by `body`
/// bytes of filler.
std::vector<std::byte> record_header(std::size_t length, std::size_t body) {
  std::vector<std::byte> v{std::byte{0x16}, std::byte{0x03}, std::byte{0x03}, static_cast<std::byte>(length >> 8),
                           static_cast<std::byte>(length & 0xff)};
  v.resize(v.size() + body, std::byte{0x41});
  return v;
}

/// Connects to a fake server answering `answer`; the client's error.
pw::task<pw::result<tls_stream, tls_error>> against_fake(std::vector<std::byte> answer, bool then_close,
                                                         std::chrono::milliseconds deadline) {
  listener l;
  auto server = pw::spawn(fake_server(l.tcp, std::move(answer), then_close));
  auto cfg = client_trusting_test_ca();
  cfg.handshake_timeout(deadline);
  auto c = co_await tls_stream::connect("localhost:" + l.port, cfg);
  if (c) c->close();
  CHECK((co_await server).is_ok());
  co_return c;
}

pw::task<std::string> good_exchange() {
  listener l;
  auto server = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<std::string> {
    auto s = co_await accept_tls(l, leaf_server());
    if (!s) co_return s.error().message();
    std::string line = co_await read_line(*s);
    if (auto w = co_await s->write_all(bytes_of(line)); !w) co_return w.error().message();
    CHECK((co_await s->shutdown()).is_ok());
    co_return co_await read_to_end(*s);
  }(l.tcp));
  std::string line = co_await client_exchange("localhost:" + l.port, "still fine\n", true);
  co_return line + " / " + (co_await server).unwrap_or("server task lost");
}

}  // namespace

TEST_CASE("hostile servers end their own connection only; a good one on the same runtime carries on") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    // Started first and finished last: it runs while the hostile ones fail.
    auto good = pw::spawn(good_exchange());
    {
      // garbage instead of a ServerHello
      const std::string text(200, 'x');
      const auto garbage = bytes_of(text);
      auto c = co_await against_fake(std::vector<std::byte>(garbage.begin(), garbage.end()), false, 10s);
      CHECK(kind_of(c) == kind::handshake);
      CHECK(!reason_of(c).empty());
    }
    {
      // a truncated handshake record, then the connection closes
      auto c = co_await against_fake(record_header(0x60, 20), true, 10s);
      CHECK(kind_of(c) == kind::handshake);
      CHECK(reason_of(c) == "connection closed by the peer during the handshake");
    }
    {
      // a server that never answers: the handshake deadline fires
      auto c = co_await against_fake({}, false, 200ms);
      CHECK(kind_of(c) == kind::timeout);
      CHECK(peer_of(c).find("localhost:") == 0);
    }
    {
      // a record header claiming more than 16 KiB + 2 KiB
      auto c = co_await against_fake(record_header(16 * 1024 + 2048 + 1, 64), false, 10s);
      CHECK(kind_of(c) == kind::handshake);
      CHECK(!reason_of(c).empty());
    }
    CHECK((co_await good).unwrap_or("lost") == "still fine\neof / eof");
  }());
}

TEST_CASE("a record over the size limit after the handshake fails that stream only") {
  REQUIRE(pki().ok());
  pw_test::child_process peer({PW_TEST_PYTHON3, PW_TEST_TLS_PEER, "oversized", pki().leaf(), pki().leaf_key()});
  REQUIRE(peer.started());
  const std::string port_line = peer.read_line_with("PORT ");
  REQUIRE(!port_line.empty());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([](std::string port) -> pw::task<void> {
    auto good = pw::spawn(good_exchange());
    auto s = co_await tls_stream::connect("localhost:" + port, client_trusting_test_ca());
    if (!s) {
      FAIL_CHECK(s.error().message());
      co_return;
    }
    CHECK(co_await read_line(*s) == "before\n");
    std::vector<std::byte> buf(1024);
    auto r = co_await s->read(buf);
    CHECK(kind_of(r) == kind::protocol);
    CHECK(!reason_of(r).empty());
    CHECK(peer_of(r) == "localhost:" + port);
    s->close();
    CHECK((co_await good).unwrap_or("lost") == "still fine\neof / eof");
  }(port_line.substr(5)));
  CHECK(peer.read_line_with("HUNG UP") == "HUNG UP");
  CHECK(peer.wait() == 0);
}

TEST_CASE("a peer that closes TCP without close_notify: read reports truncation") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::string end = rt.block_on([]() -> pw::task<std::string> {
    listener l;
    auto server = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<void> {
      auto s = co_await accept_tls(l, leaf_server());
      if (!s) co_return;
      CHECK((co_await s->write_all(bytes_of("partial"))).is_ok());
      s->close();  // no close_notify
    }(l.tcp));
    auto c = co_await tls_stream::connect("localhost:" + l.port, client_trusting_test_ca());
    if (!c) co_return c.error().message();
    CHECK((co_await server).is_ok());
    std::array<std::byte, 7> got{};
    if (auto r = co_await c->read_exact(got); !r) co_return r.error().message();
    auto n = co_await c->read(got);
    if (n) co_return "read gave " + std::to_string(*n);
    CHECK(n.error().which() == kind::truncated);
    co_return n.error().message();
  }());
  CHECK(end.find("TLS stream truncated: connection closed without close_notify") != std::string::npos);
}

TEST_CASE("cancellation: a read that loses a race leaves the stream usable") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::string got = rt.block_on([]() -> pw::task<std::string> {
    listener l;
    // The server sends nothing until the client says "go", so the client's reads cannot
    // complete before that: the timers win for certain.
    auto server = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<std::string> {
      auto s = co_await accept_tls(l, leaf_server());
      if (!s) co_return s.error().message();
      std::string go = co_await read_line(*s);
      CHECK((co_await s->write_all(bytes_of("data\n"))).is_ok());
      CHECK((co_await s->shutdown()).is_ok());
      co_return go + co_await read_to_end(*s);
    }(l.tcp));
    auto c = co_await tls_stream::connect("localhost:" + l.port, client_trusting_test_ca());
    if (!c) co_return c.error().message();
    std::array<std::byte, 16> buf{};
    auto raced = co_await pw::race(c->read(buf), pw::sleep(20ms));
    CHECK(raced.index() == 1);
    auto timed = co_await pw::timeout(20ms, c->read(buf));
    CHECK(timed.is_err());
    CHECK(c->is_open());
    CHECK((co_await c->write_all(bytes_of("go\n"))).is_ok());
    std::string line = co_await read_line(*c);
    CHECK((co_await c->shutdown()).is_ok());
    co_return line + co_await read_to_end(*c) + " / " + (co_await server).unwrap_or("server task lost");
  }());
  CHECK(got == "data\neof / go\neof");
}

TEST_CASE("cancellation: a write abandoned mid-record breaks the stream, which says so") {
  REQUIRE(pki().ok());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([]() -> pw::task<void> {
    listener l;
    auto [done_tx, done_rx] = pw::oneshot::channel<int>();
    // The server never reads, so the socket buffers fill and the client's write waits.
    auto server = pw::spawn([](pw::net::tcp_listener& l, pw::oneshot::receiver<int> done) -> pw::task<void> {
      auto s = co_await accept_tls(l, leaf_server());
      CHECK((co_await done).is_ok());
    }(l.tcp, std::move(done_rx)));
    auto c = co_await tls_stream::connect("localhost:" + l.port, client_trusting_test_ca());
    if (!c) {
      FAIL_CHECK(c.error().message());
      co_return;
    }
    std::vector<std::byte> big(64u << 20);
    auto w = co_await pw::timeout(200ms, c->write_all(big));
    CHECK(w.is_err());  // the timeout fired while a record was half sent
    CHECK_FALSE(c->is_open());
    auto again = co_await c->write(bytes_of("more"));
    CHECK(kind_of(again) == kind::closed);
    auto r = co_await c->read(std::span(big.data(), 16));
    CHECK(kind_of(r) == kind::closed);
    CHECK(done_tx.send(1).is_ok());
    CHECK((co_await server).is_ok());
  }());
}
