// pw::net::unix_listener / unix_stream: a local request-response service over a Unix socket,
// first on a filesystem path, then on a Linux abstract name (a leading NUL byte: no file).
// The server uppercases each line it reads; the client checks every answer.
#include <polarway/runtime.hpp>

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

namespace pw = polarway;

// Answers one connection: each chunk read comes back uppercased, until end of stream.
pw::task<void> serve(pw::net::unix_stream s) {
  char buf[256];
  for (;;) {
    auto n = co_await s.read(std::as_writable_bytes(std::span(buf)));
    if (!n || *n == 0) co_return;
    for (std::size_t i = 0; i < *n; ++i) buf[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(buf[i])));
    if (!co_await s.write_all(std::as_bytes(std::span(buf, *n)))) co_return;
  }
}

// Binds `name`, serves one client that sends three requests; true if every answer matched.
pw::task<bool> round_trip(std::string name) {
  auto listener = pw::net::unix_listener::bind(name);
  if (!listener) {
    std::printf("bind failed: %s\n", listener.error().message().c_str());
    co_return false;
  }
  auto server = pw::spawn([](pw::net::unix_listener& l) -> pw::task<void> {
    auto s = co_await l.accept();
    if (s) co_await serve(std::move(*s));
  }(*listener));

  auto client = co_await pw::net::unix_stream::connect(name);
  if (!client) co_return false;
  bool all_good = true;
  for (std::string_view request : {"hello", "unix", "sockets"}) {
    std::string answer(request.size(), '\0');
    if (!co_await client->write_all(std::as_bytes(std::span(request)))) co_return false;
    if (!co_await client->read_exact(std::as_writable_bytes(std::span(answer)))) co_return false;
    std::printf("%-8s -> %s\n", std::string(request).c_str(), answer.c_str());
    std::string expected(request);
    for (char& c : expected) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    all_good = all_good && answer == expected;
  }
  (void)co_await client->shutdown();  // the server reads end of stream and returns
  (void)co_await server;
  co_return all_good;
}

int main() {
  pw::runtime rt;
  // A filesystem path: bind creates the socket file; removing it is ours to do.
  const std::string path = "/tmp/polarway-example-" + std::to_string(::getpid()) + ".sock";
  const bool on_path = rt.block_on(round_trip(path));
  const bool file_was_there = std::filesystem::is_socket(path);
  std::filesystem::remove(path);
  // An abstract name: spelled with its leading NUL byte, it leaves no file behind.
  const std::string abstract = std::string(1, '\0') + "polarway-example-" + std::to_string(::getpid());
  const bool on_abstract = rt.block_on(round_trip(abstract));
  std::printf("path: %s, abstract name: %s\n", on_path ? "ok" : "FAILED", on_abstract ? "ok" : "FAILED");
  return on_path && file_was_there && on_abstract ? 0 : 1;
}
