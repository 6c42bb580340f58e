// The stream socket tests' common parts (tcp_test, unix_stream_test): one stream
// implementation serves both families, so one echo server, one echo client and one paced
// writer test both, over any stream type with read, read_exact, write_all and shutdown.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw_test {

namespace pw = polarway;

inline std::uint64_t checksum(std::span<const std::byte> data, std::uint64_t h = 1469598103934665603ull) {
  for (std::byte b : data) h = (h ^ static_cast<std::uint64_t>(b)) * 1099511628211ull;
  return h;
}

/// The byte at `offset` of the pattern the paced writer sends (and echo clients, from `seed`).
inline std::byte pattern_byte(std::size_t offset, std::size_t seed = 0) {
  return static_cast<std::byte>((offset * 131 + seed) % 251);
}

/// Echoes until end of stream; the error if the connection broke.
template <class Stream>
pw::task<pw::result<void>> echo(Stream s) {
  std::vector<std::byte> buf(16 * 1024);
  for (;;) {
    auto n = co_await s.read(buf);
    if (!n) co_return pw::err(n.error());
    if (*n == 0) co_return pw::ok();
    auto w = co_await s.write_all(std::span(buf.data(), *n));
    if (!w) co_return pw::err(w.error());
  }
}

/// Accepts `connections` connections and echoes on each in a task of its own; how many failed
/// (to be accepted, or while echoing).
template <class Listener>
pw::task<int> serve_echo(Listener& l, int connections) {
  int failures = 0;
  std::vector<pw::join_handle<pw::result<void>>> conns;
  for (int i = 0; i < connections; ++i) {
    auto s = co_await l.accept();
    if (!s) {
      ++failures;
      continue;
    }
    conns.push_back(pw::spawn(echo(std::move(*s))));
  }
  for (auto& c : conns) {
    auto r = co_await c;
    if (!r.is_ok() || !r->is_ok()) ++failures;
  }
  co_return failures;
}

/// An echo server's client: sends `bytes` of the pattern (then shuts down its writing half)
/// while reading the echo back, as a real client must (the echo fills the buffers); true if
/// every byte came back, then end of stream.
template <class Stream>
pw::task<bool> echo_exchange(Stream& s, std::size_t bytes, int seed) {
  std::vector<std::byte> out(bytes);
  for (std::size_t i = 0; i < bytes; ++i) out[i] = pattern_byte(i, static_cast<std::size_t>(seed));
  auto writer = pw::spawn([](Stream& s, std::vector<std::byte>& out) -> pw::task<bool> {
    // (Each co_await into a local: g++ 12 cannot parse `(co_await x).f()` in a template.)
    auto w = co_await s.write_all(out);
    if (!w) co_return false;
    auto shut = co_await s.shutdown();
    co_return shut.is_ok();
  }(s, out));
  std::vector<std::byte> in(bytes);
  auto r = co_await s.read_exact(in);
  auto writer_done = co_await writer;
  const bool wrote = writer_done.unwrap_or(false);
  std::byte extra[1];
  auto eof = co_await s.read(extra);
  co_return r.is_ok() && wrote && eof.is_ok() && *eof == 0 && checksum(in) == checksum(out);
}

/// Sends `total` bytes of the pattern in small writes with short pauses, so that a reader's
/// operations keep meeting both data and an empty socket.
template <class Stream>
pw::task<bool> paced_write(Stream s, std::size_t total) {
  std::vector<std::byte> chunk(97);
  for (std::size_t sent = 0; sent < total;) {
    const std::size_t n = std::min(chunk.size(), total - sent);
    for (std::size_t i = 0; i < n; ++i) chunk[i] = pattern_byte(sent + i);
    if (!(co_await s.write_all(std::span(chunk.data(), n)))) co_return false;
    sent += n;
    if (sent % 970 == 0) co_await pw::sleep(std::chrono::microseconds(200));
  }
  co_return true;
}

}  // namespace pw_test
