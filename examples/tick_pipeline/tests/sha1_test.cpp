#include "ticks/sha1.hpp"

#include <doctest/doctest.h>

#include <string>

namespace {
std::string hex(const ticks::sha1_digest& d) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (auto b : d) {
    s += digits[b >> 4];
    s += digits[b & 15];
  }
  return s;
}
}  // namespace

TEST_CASE("sha1 matches the FIPS 180 / RFC 3174 vectors") {
  CHECK(hex(ticks::sha1_of("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  CHECK(hex(ticks::sha1_of("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  CHECK(hex(ticks::sha1_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
        "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  CHECK(hex(ticks::sha1_of("The quick brown fox jumps over the lazy dog")) ==
        "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12");
}

TEST_CASE("sha1 of a million 'a' fed in uneven pieces") {
  ticks::sha1 h;
  const std::string chunk(997, 'a');
  std::size_t left = 1'000'000;
  while (left > 0) {
    const auto n = std::min(left, chunk.size());
    h.update(std::string_view(chunk).substr(0, n));
    left -= n;
  }
  CHECK(hex(h.finish()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

TEST_CASE("sha1 padding boundaries: 55, 56, 63, 64 and 65 bytes") {
  // One-shot and byte-at-a-time must agree across the lengths where padding spills a block.
  for (std::size_t len : {55u, 56u, 63u, 64u, 65u, 119u, 120u}) {
    const std::string s(len, 'x');
    ticks::sha1 bytewise;
    for (char c : s) bytewise.update(std::string_view(&c, 1));
    CHECK(hex(bytewise.finish()) == hex(ticks::sha1_of(s)));
  }
  CHECK(hex(ticks::sha1_of(std::string(64, 'a'))) == "0098ba824b5c16427bd7a1122a5a442a25ec644d");
}
