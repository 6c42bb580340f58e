// pw::net::unix_datagram: datagrams between processes on one host, addressed by name. A logger
// bound to an abstract name (a leading NUL byte: no file) takes lines from a named client and
// from an unnamed one, and sees who sent each; a client connected to a filesystem path uses
// plain send/recv.
#include <polarway/runtime.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

namespace pw = polarway;
using namespace std::chrono_literals;

std::span<const std::byte> bytes(const std::string& s) { return std::as_bytes(std::span(s)); }

pw::task<int> run() {
  const std::string logger_name = std::string("\0polarway-example-logger-", 25) + std::to_string(::getpid());
  auto logger = pw::net::unix_datagram::bind(logger_name).unwrap();

  const std::string client_path = std::filesystem::temp_directory_path() / ("pw-example-" + std::to_string(::getpid()));
  std::filesystem::remove(client_path);  // a stale socket file would make bind fail
  auto named = pw::net::unix_datagram::bind(client_path).unwrap();
  auto unnamed = pw::net::unix_datagram::unbound().unwrap();
  (void)co_await named.send_to(bytes("started"), logger_name);
  (void)co_await unnamed.send_to(bytes("anonymous hello"), logger_name);

  int ok = 0;
  std::byte buf[256];
  for (int i = 0; i < 2; ++i) {
    auto got = co_await pw::timeout(5s, logger.recv_from(buf));
    if (!got || !*got) co_return 1;
    const auto& [size, from] = **got;
    std::printf("log line %.*s from %s\n", static_cast<int>(size), reinterpret_cast<const char*>(buf),
                from.empty() ? "an unnamed socket" : from.c_str());
    ok += (i == 0 && from == client_path) || (i == 1 && from.empty());
  }

  // Connected: the logger answers the named client by its path.
  (void)co_await logger.send_to(bytes("ack"), client_path);
  if (!named.connect(logger_name)) co_return 1;
  auto n = co_await pw::timeout(5s, named.recv(buf));
  ok += n && *n && **n == 3;
  std::filesystem::remove(client_path);  // the socket file is ours to remove
  std::printf("%d of 3 checks passed\n", ok);
  co_return ok == 3 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
