// Helpers for the datagram socket tests (UDP and Unix): numbered payloads whose bytes can be
// checked, and the oversized-datagram check both socket kinds must pass.
#pragma once

#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "polarway/runtime.hpp"

namespace pw_test {

namespace pw = polarway;

/// Datagram `seq` of `len` bytes (len >= 4): the sequence number, then a pattern derived from it.
inline std::vector<std::byte> payload(std::uint32_t seq, std::size_t len) {
  std::vector<std::byte> p(len);
  std::memcpy(p.data(), &seq, 4);
  for (std::size_t i = 4; i < len; ++i) p[i] = static_cast<std::byte>((seq * 31 + i * 7) & 0xff);
  return p;
}

/// The sequence number of a datagram made by payload(), or -1 if its bytes do not match it.
inline std::int64_t check_payload(std::span<const std::byte> d) {
  if (d.size() < 4) return -1;
  std::uint32_t seq = 0;
  std::memcpy(&seq, d.data(), 4);
  const auto expect = payload(seq, d.size());
  return std::memcmp(expect.data(), d.data(), d.size()) == 0 ? std::int64_t{seq} : -1;
}

/// A length from 4 to 703 bytes that varies with `seq`.
inline std::size_t length_of(std::uint32_t seq) { return 4 + (seq * 37) % 700; }

inline std::span<const std::byte> bytes(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }
inline std::string text(std::span<const std::byte> b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

/// `n` recv_many records (pw::net::datagram, unix_datagram::datagram), each with a buffer of
/// `size` bytes of its own.
template <class Record>
struct record_set {
  std::vector<std::vector<std::byte>> storage;
  std::vector<Record> list;
  record_set(std::size_t n, std::size_t size) : storage(n, std::vector<std::byte>(size)), list(n) {
    for (std::size_t i = 0; i < n; ++i) list[i].buffer = storage[i];
  }
};

/// Sends a 2,000-byte datagram, then a 10-byte one, from `tx` (connected to `rx`);
/// `receive(rx, buf)` (a task giving the size received) must fail the first with
/// message_size, leaving its first bytes in the 100-byte buffer, and then get the second
/// intact. With `waiting`, the receive starts before anything is sent (on a 1-worker runtime
/// the spawned receive runs until it waits).
template <class Tx, class Rx, class Receive>
pw::task<void> oversized_then_intact(Tx& tx, Rx& rx, Receive receive, std::string_view context, bool waiting) {
  std::vector<std::byte> buf(100);
  const auto big = payload(1, 2000);
  const auto small = payload(2, 10);
  auto first = pw::spawn(receive(rx, buf));
  if (waiting) co_await pw::yield_now();
  // (Named first: g++ 12 cannot type a parenthesized co_await on a dependent call.)
  const auto sent_big = co_await tx.send(big);
  const auto sent_small = co_await tx.send(small);
  REQUIRE(sent_big.unwrap_or(0) == big.size());
  REQUIRE(sent_small.is_ok());
  auto joined = co_await first;
  auto r = std::move(joined).unwrap();
  REQUIRE(r.is_err());
  CHECK(r.error() == std::errc::message_size);
  CHECK(std::string_view(r.error().context()) == context);
  CHECK(std::memcmp(buf.data(), big.data(), buf.size()) == 0);  // the prefix is there
  auto next = co_await receive(rx, buf);
  REQUIRE(next.is_ok());
  CHECK(*next == small.size());
  CHECK(check_payload(std::span(buf.data(), *next)) == 2);
}

/// receive() for oversized_then_intact through recv_from.
template <class Rx>
pw::task<pw::result<std::size_t>> size_from_recv_from(Rx& rx, std::span<std::byte> buf) {
  auto r = co_await rx.recv_from(buf);
  if (!r) co_return pw::err(r.error());
  co_return r->size;
}

/// receive() for oversized_then_intact through recv.
template <class Rx>
pw::task<pw::result<std::size_t>> size_from_recv(Rx& rx, std::span<std::byte> buf) {
  co_return co_await rx.recv(buf);
}

}  // namespace pw_test
