// pw::net::lookup_host: the addresses behind "host:port", resolved on the blocking pool
// (getaddrinfo blocks), and tcp_stream::connect by name, which tries each address in turn.
// Numeric addresses are answered at once; malformed input and names that do not resolve are
// typed errors. No network is needed: "localhost" comes from /etc/hosts, and "no-such..host"
// is not a valid DNS name, so the resolver refuses it without asking a name server.
#include <polarway/runtime.hpp>

#include <cstdio>
#include <string>

namespace pw = polarway;

pw::task<int> run() {
  int failures = 0;
  auto expect = [&](bool ok, const char* what) {
    if (!ok) {
      std::printf("unexpected: %s\n", what);
      ++failures;
    }
  };

  auto local = co_await pw::net::lookup_host("localhost:8080");
  expect(local.is_ok(), "localhost resolves");
  if (local)
    for (const pw::net::socket_addr& a : *local) std::printf("localhost:8080 -> %s\n", a.to_string().c_str());

  auto literal = co_await pw::net::lookup_host("[::1]:443");  // numeric: no thread involved
  expect(literal.is_ok() && literal->size() == 1 && (*literal)[0].to_string() == "[::1]:443", "an IPv6 literal");

  auto no_port = co_await pw::net::lookup_host("localhost");
  expect(no_port.is_err() && no_port.error() == pw::errc::invalid_input, "a missing port is invalid input");
  if (no_port.is_err()) std::printf("\"localhost\" -> %s\n", no_port.error().message().c_str());

  auto unknown = co_await pw::net::lookup_host("no-such..host:80");
  expect(unknown.is_err() && unknown.error() == pw::net::lookup_errc::host_not_found, "an unknown name");
  if (unknown.is_err()) std::printf("\"no-such..host:80\" -> %s\n", unknown.error().message().c_str());

  // Connect by name to a listener of our own.
  auto listener = pw::net::tcp_listener::bind("127.0.0.1:0");
  expect(listener.is_ok(), "bind");
  if (!listener) co_return 1;
  const std::string target = "localhost:" + std::to_string(listener->local_addr().value().port());
  auto accepted = pw::spawn([](pw::net::tcp_listener& l) -> pw::task<bool> { co_return (co_await l.accept()).is_ok(); }(*listener));
  auto stream = co_await pw::net::tcp_stream::connect(target);
  expect(stream.is_ok(), "connect by name");
  expect((co_await accepted).value_or(false), "the listener accepted");
  if (stream) std::printf("connected to %s as %s\n", target.c_str(), stream->peer_addr().value().to_string().c_str());
  co_return failures == 0 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
