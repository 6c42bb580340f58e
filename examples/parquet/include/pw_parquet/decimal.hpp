// Exact decimal arithmetic for prices and quantities. A Parquet DECIMAL(p, s) on INT64 stores
// the unscaled integer v (the number is v / 10^s) and promises |v| < 10^p, so p <= 18 fits an
// int64. Exchanges send prices as text ("0.01634790"); going through a double would turn
// 0.1 into 0.1000000000000000055..., so the writer takes unscaled integers and these helpers
// parse, rescale and check them without ever rounding: anything that would lose a digit is an
// error (errc::inexact_conversion), anything too wide is errc::decimal_out_of_range.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include <polarway/result.hpp>

#include "pw_parquet/errc.hpp"

namespace pw_parquet {

/// Largest precision a DECIMAL on INT64 can declare.
inline constexpr std::int32_t max_int64_decimal_precision = 18;

/// 10^0 .. 10^18, every power of ten an int64 holds.
inline constexpr std::array<std::int64_t, 19> pow10_table = [] {
  std::array<std::int64_t, 19> t{};
  std::int64_t p = 1;
  for (auto& x : t) {
    x = p;
    if (p <= INT64_MAX / 10) p *= 10;
  }
  return t;
}();

/// True if |unscaled| < 10^precision (precision in 1..18).
constexpr bool fits_precision(std::int64_t unscaled, std::int32_t precision) noexcept {
  if (precision < 1 || precision > max_int64_decimal_precision) return false;
  const std::int64_t bound = pow10_table[static_cast<std::size_t>(precision)];
  // Compare without negating: -INT64_MIN overflows.
  return unscaled < bound && unscaled > -bound;
}

/// The same number at another scale, or an error if that would drop nonzero digits or overflow.
inline polarway::result<std::int64_t> rescale_decimal(std::int64_t unscaled, std::int32_t from_scale,
                                                      std::int32_t to_scale) {
  if (from_scale == to_scale) return polarway::ok(unscaled);
  if (from_scale < 0 || to_scale < 0)
    return polarway::err(polarway::error(errc::inexact_conversion, "pw_parquet::rescale_decimal"));
  if (to_scale > from_scale) {
    const std::int32_t up = to_scale - from_scale;
    if (unscaled == 0) return polarway::ok(std::int64_t{0});
    std::int64_t out = 0;
    if (up > 18 || __builtin_mul_overflow(unscaled, pow10_table[static_cast<std::size_t>(up)], &out))
      return polarway::err(polarway::error(errc::decimal_out_of_range, "pw_parquet::rescale_decimal"));
    return polarway::ok(out);
  }
  const std::int32_t down = from_scale - to_scale;
  if (down > 18) {
    if (unscaled == 0) return polarway::ok(std::int64_t{0});
    return polarway::err(polarway::error(errc::inexact_conversion, "pw_parquet::rescale_decimal"));
  }
  const std::int64_t d = pow10_table[static_cast<std::size_t>(down)];
  if (unscaled % d != 0)
    return polarway::err(polarway::error(errc::inexact_conversion, "pw_parquet::rescale_decimal"));
  return polarway::ok(unscaled / d);
}

/// Parses "[+-]digits[.digits]" into the unscaled integer at `scale`: parse_decimal("0.0163479", 8)
/// is 1634790. Extra fractional digits are accepted only if they are zeros.
inline polarway::result<std::int64_t> parse_decimal(std::string_view text, std::int32_t scale) {
  constexpr const char* where = "pw_parquet::parse_decimal";
  if (scale < 0 || scale > max_int64_decimal_precision)
    return polarway::err(polarway::error(errc::invalid_decimal_text, where));
  std::size_t i = 0;
  bool negative = false;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) negative = text[i++] == '-';
  std::int64_t magnitude = 0;  // accumulated as a positive number; at most 10^18 - 1 fits
  std::int32_t frac_digits = 0;
  bool seen_digit = false, seen_point = false, dropped_nonzero = false, overflow = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '.') {
      if (seen_point) return polarway::err(polarway::error(errc::invalid_decimal_text, where));
      seen_point = true;
      continue;
    }
    if (c < '0' || c > '9') return polarway::err(polarway::error(errc::invalid_decimal_text, where));
    seen_digit = true;
    if (seen_point && frac_digits == scale) {
      dropped_nonzero |= c != '0';  // beyond the column's scale: must be a trailing zero
      continue;
    }
    if (seen_point) ++frac_digits;
    if (__builtin_mul_overflow(magnitude, std::int64_t{10}, &magnitude) ||
        __builtin_add_overflow(magnitude, std::int64_t{c - '0'}, &magnitude))
      overflow = true;
  }
  if (!seen_digit) return polarway::err(polarway::error(errc::invalid_decimal_text, where));
  if (dropped_nonzero) return polarway::err(polarway::error(errc::inexact_conversion, where));
  for (; frac_digits < scale && !overflow; ++frac_digits)
    overflow = __builtin_mul_overflow(magnitude, std::int64_t{10}, &magnitude);
  if (overflow) return polarway::err(polarway::error(errc::decimal_out_of_range, where));
  return polarway::ok(negative ? -magnitude : magnitude);
}

/// The decimal text of unscaled / 10^scale with exactly `scale` fractional digits (scale >= 0):
/// (-5, 2) -> "-0.05". Takes 128-bit values too, such as exact sums of int64 decimals.
inline std::string format_decimal(__int128 unscaled, std::int32_t scale) {
  // Work on the unsigned magnitude so that the most negative value formats too.
  const bool negative = unscaled < 0;
  using u128 = unsigned __int128;
  u128 mag = negative ? u128{0} - static_cast<u128>(unscaled) : static_cast<u128>(unscaled);
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  if (scale > 0) {
    const auto s = static_cast<std::size_t>(scale);
    if (digits.size() <= s) digits.insert(digits.begin(), s + 1 - digits.size(), '0');
    digits.insert(digits.end() - static_cast<std::ptrdiff_t>(s), '.');
  }
  return negative ? "-" + digits : digits;
}

}  // namespace pw_parquet
