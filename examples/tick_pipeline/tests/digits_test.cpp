#include "ticks/digits.hpp"

#include <doctest/doctest.h>

#include <array>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>

namespace {

std::string eight(std::uint32_t v) {
  const std::uint64_t w = ticks::eight_ascii_digits(v);
  char out[8];
  std::memcpy(out, &w, 8);
  return std::string(out, 8);
}

std::string reference(std::uint64_t v) {
  char buf[24];
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}

// write_decimal into a buffer of 0xAA bytes: the text it returns, and the bytes past the end
// it returned must lie within the 8 it is allowed to write.
std::string written(std::uint64_t v) {
  std::array<char, 40> buf;
  buf.fill('\xAA');
  char* end = ticks::write_decimal(buf.data(), v);
  bool untouched = true;
  for (const char* p = end + 8; p < buf.data() + buf.size(); ++p) untouched = untouched && *p == '\xAA';
  REQUIRE(untouched);
  return std::string(buf.data(), end);
}

}  // namespace

TEST_CASE("eight_ascii_digits gives the 8 digits of every value below 10^8") {
  static_assert(ticks::eight_ascii_digits(12345678) == 0x3837363534333231ull);  // "12345678"
  CHECK(eight(0) == "00000000");
  CHECK(eight(99'999'999) == "99999999");
  CHECK(eight(10'000'000) == "10000000");
  CHECK(eight(4'300) == "00004300");
  // Every value: each lane's divide-by-multiply must hold across its whole range (a bound
  // slightly off fails only for some values), and 10^8 steps take well under a second.
  std::uint64_t mismatches = 0;
  std::uint32_t first_bad = 0;
  char expected[8] = {'0', '0', '0', '0', '0', '0', '0', '0'};
  for (std::uint32_t v = 0; v < 100'000'000; ++v) {
    std::uint64_t want;
    std::memcpy(&want, expected, 8);
    if (ticks::eight_ascii_digits(v) != want && mismatches++ == 0) first_bad = v;
    for (int i = 7; i >= 0 && ++expected[i] > '9'; --i) expected[i] = '0';  // decimal increment
  }
  CHECK_MESSAGE(mismatches == 0, "first wrong value: " << first_bad);
}

TEST_CASE("write_decimal matches to_chars at every length and boundary") {
  CHECK(written(0) == "0");
  CHECK(written(7) == "7");
  CHECK(written(std::numeric_limits<std::uint64_t>::max()) == "18446744073709551615");
  std::uint64_t p = 1;
  for (int digits = 1; digits <= 20; ++digits) {
    // 10^(d-1), 10^(d-1) + 1, 10^d - 1, and a value with every digit set.
    const std::uint64_t ones = digits == 20 ? 11111111111111111111ull : (p * 10 - 1) / 9;
    for (std::uint64_t v : {p, p + 1, digits < 20 ? p * 10 - 1 : std::numeric_limits<std::uint64_t>::max(), ones * 7})
      CHECK(written(v) == reference(v));
    if (digits < 20) p *= 10;
  }
  // A spread of values of every size (splitmix64, shifted to vary the length).
  std::uint64_t state = 42;
  for (int i = 0; i < 200'000; ++i) {
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    const std::uint64_t v = z >> (i % 64);
    REQUIRE(written(v) == reference(v));
  }
}
