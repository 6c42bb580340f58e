// ticks::fixed_point<Scale>: an exact decimal as an int64 count of 10^-Scale units, and the
// parser that turns exchange decimal strings ("25.35190000") into one without ever passing
// through binary floating point (where 0.1 does not exist and sums drift).
//
// Binance quotes at most 8 fractional digits, so prices and quantities use fixed_point<8>
// (range about +-92 billion). The parser is exact or it fails with a typed error: more
// fractional digits than the scale are accepted only when the extra ones are zeros, and
// anything that does not fit int64 is an overflow, never a silently clamped value.
#pragma once

#include <array>
#include <charconv>
#include <compare>
#include <cstring>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include <polarway/result.hpp>

#include "ticks/digits.hpp"

namespace ticks {

enum class decimal_errc : std::uint8_t {
  empty,                     // ""
  invalid_character,         // anything but digits, one '.', and a leading '-' where allowed
  missing_digits,            // "-", ".5", "5." : a side of the point without digits
  too_many_fraction_digits,  // non-zero digits beyond the scale: the value is not representable
  overflow,                  // does not fit int64 at this scale
  negative,                  // a '-' where only non-negative values are allowed
};

std::string_view to_string(decimal_errc e) noexcept;

namespace detail {
constexpr std::int64_t pow10(int n) noexcept {
  std::int64_t v = 1;
  while (n-- > 0) v *= 10;
  return v;
}
}  // namespace detail

template <int Scale>
struct fixed_point {
  static_assert(Scale >= 0 && Scale <= 18, "an int64 holds at most 18 decimal digits");
  static constexpr int scale = Scale;
  static constexpr std::int64_t one = detail::pow10(Scale);

  std::int64_t raw = 0;  // value * 10^Scale

  static constexpr fixed_point from_raw(std::int64_t r) noexcept { return fixed_point{r}; }
  friend constexpr auto operator<=>(const fixed_point&, const fixed_point&) = default;

  /// Writes the value with exactly Scale fractional digits ("25.35190000") and returns the end;
  /// `out` needs max_chars bytes.
  static constexpr std::size_t max_chars = 21 + 1;
  char* to_chars(char* out) const noexcept {
    // Work on the magnitude as unsigned so INT64_MIN does not overflow on negation.
    std::uint64_t mag = raw < 0 ? ~static_cast<std::uint64_t>(raw) + 1 : static_cast<std::uint64_t>(raw);
    if (raw < 0) *out++ = '-';
    const std::uint64_t unit = static_cast<std::uint64_t>(one);
    out = std::to_chars(out, out + 20, mag / unit).ptr;
    if constexpr (Scale == 8) {
      *out++ = '.';
      const std::uint64_t digits = eight_ascii_digits(static_cast<std::uint32_t>(mag % unit));
      std::memcpy(out, &digits, 8);
      out += 8;
    } else if constexpr (Scale > 0) {
      *out++ = '.';
      std::uint64_t frac = mag % unit;
      for (int i = Scale - 1; i >= 0; --i) {
        out[i] = static_cast<char>('0' + frac % 10);
        frac /= 10;
      }
      out += Scale;
    }
    return out;
  }
  std::string to_string() const {
    std::array<char, max_chars> buf;
    return std::string(buf.data(), to_chars(buf.data()));
  }
};

/// Parses [-]digits[.digits] exactly into fixed_point<Scale>.
template <int Scale>
constexpr polarway::result<fixed_point<Scale>, decimal_errc> parse_decimal(std::string_view s,
                                                                           bool allow_negative = false) noexcept {
  using fp = fixed_point<Scale>;
  if (s.empty()) return polarway::err(decimal_errc::empty);
  bool neg = false;
  if (s.front() == '-') {
    if (!allow_negative) return polarway::err(decimal_errc::negative);
    neg = true;
    s.remove_prefix(1);
  }
  // Accumulate the magnitude as unsigned; the limit is 2^63 for negatives, 2^63 - 1 otherwise.
  const std::uint64_t limit = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) + (neg ? 1 : 0);
  std::uint64_t mag = 0;
  std::size_t i = 0;
  std::size_t int_digits = 0;
  // Overflow-checked mag = mag * 10 + d; no division: this runs for every digit of every price.
  const auto push_digit = [&](char c) noexcept {
    const auto d = static_cast<std::uint64_t>(c - '0');
    std::uint64_t next;
    if (__builtin_mul_overflow(mag, std::uint64_t{10}, &next) || __builtin_add_overflow(next, d, &next) || next > limit)
      return false;
    mag = next;
    return true;
  };
  for (; i < s.size() && s[i] != '.'; ++i, ++int_digits) {
    if (s[i] < '0' || s[i] > '9') return polarway::err(decimal_errc::invalid_character);
    if (!push_digit(s[i])) return polarway::err(decimal_errc::overflow);
  }
  if (int_digits == 0) return polarway::err(decimal_errc::missing_digits);
  int frac_digits = 0;
  if (i < s.size()) {
    ++i;  // the '.'
    if (i == s.size()) return polarway::err(decimal_errc::missing_digits);
    for (; i < s.size(); ++i) {
      const char c = s[i];
      if (c < '0' || c > '9') return polarway::err(decimal_errc::invalid_character);
      if (frac_digits < Scale) {
        if (!push_digit(c)) return polarway::err(decimal_errc::overflow);
        ++frac_digits;
      } else if (c != '0') {
        return polarway::err(decimal_errc::too_many_fraction_digits);
      }
    }
  }
  for (; frac_digits < Scale; ++frac_digits)
    if (!push_digit('0')) return polarway::err(decimal_errc::overflow);
  const std::int64_t value = neg ? static_cast<std::int64_t>(~mag + 1) : static_cast<std::int64_t>(mag);
  return polarway::ok(fp::from_raw(value));
}

/// The scale Binance prices and quantities fit.
using price = fixed_point<8>;

}  // namespace ticks
