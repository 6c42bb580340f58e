// Decimal digits written eight at a time. The feed simulator formats about 90 digits per
// message (millisecond and nanosecond times, ids, two 8-decimal prices); one digit per step,
// as std::to_chars and a %10 loop do, was most of the generator's time. Here a value below 10^8
// becomes its 8 ASCII digits in a handful of multiplies on one 64-bit word (SWAR): split into
// two 4-digit halves, each half into two 2-digit quarters, each quarter into two digits, every
// split done on all lanes at once.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace ticks {

/// The 8 ASCII digits of `v` (< 10^8), leading zeros included, most significant digit in the
/// lowest byte (the first in memory on a little-endian machine, which is all polarway runs on).
constexpr std::uint64_t eight_ascii_digits(std::uint32_t v) noexcept {
  // Lanes of 32 bits: the first four digits, then the last four.
  std::uint64_t w = (v / 10000) | (std::uint64_t{v % 10000} << 32);
  // x / 100 for x < 10000 is (x * 10486) >> 20 (exact below 43,000); the products stay inside
  // their lanes. Then lanes of 16 bits: the first two digits of each half, then the last two.
  const std::uint64_t hundreds = ((w * 10486) >> 20) & 0x0000007f0000007full;
  w = hundreds | ((w - 100 * hundreds) << 16);
  // y / 10 for y < 100 is (y * 103) >> 10. Then bytes: tens, units.
  const std::uint64_t tens = ((w * 103) >> 10) & 0x000f000f000f000full;
  w = tens | ((w - 10 * tens) << 8);
  return w + 0x3030303030303030ull;
}

/// Writes `v` in decimal at `out`, without leading zeros, and returns the end. Writes up to 8
/// bytes past the end it returns: `out` needs 20 + 8 bytes.
inline char* write_decimal(char* out, std::uint64_t v) noexcept {
  constexpr std::uint64_t e8 = 100'000'000;
  // The leading group of at most 8 digits, without its zeros (at least one digit for 0).
  const auto leading = [](char* p, std::uint32_t head) noexcept {
    const std::uint64_t w = eight_ascii_digits(head);
    const std::uint64_t values = w - 0x3030303030303030ull;  // a zero byte for each '0'
    const int zeros = values == 0 ? 7 : std::countr_zero(values) / 8;
    const std::uint64_t shifted = w >> (8 * zeros);
    std::memcpy(p, &shifted, 8);
    return p + (8 - zeros);
  };
  const auto full = [](char* p, std::uint32_t group) noexcept {
    const std::uint64_t w = eight_ascii_digits(group);
    std::memcpy(p, &w, 8);
    return p + 8;
  };
  if (v < e8) return leading(out, static_cast<std::uint32_t>(v));
  if (v < e8 * e8) {
    out = leading(out, static_cast<std::uint32_t>(v / e8));
    return full(out, static_cast<std::uint32_t>(v % e8));
  }
  const std::uint64_t high = v / e8;  // 12 digits at most
  out = leading(out, static_cast<std::uint32_t>(high / e8));
  out = full(out, static_cast<std::uint32_t>(high % e8));
  return full(out, static_cast<std::uint32_t>(v % e8));
}

}  // namespace ticks
