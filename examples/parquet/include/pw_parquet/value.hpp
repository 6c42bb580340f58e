// pw_parquet::value: one cell of a row handed to the writer. It is a small tagged value (null,
// boolean, int64, timestamp with its unit, decimal with its scale, string) so that a row is a
// plain array of them and the writer can check each against its column at run time: a string in
// an int64 column is errc::type_mismatch, never a reinterpretation. Timestamps and decimals carry
// their unit and scale so that a millisecond exchange time written to a microsecond column is
// converted exactly instead of being silently misread.
//
// A string value only views its bytes; they must stay alive until append_row returns (the
// writer copies them into its column buffer).
#pragma once

#include <cstdint>
#include <string_view>

#include <polarway/result.hpp>

#include "pw_parquet/decimal.hpp"
#include "pw_parquet/errc.hpp"

namespace pw_parquet {

enum class time_unit : std::uint8_t { millis, micros, nanos };

enum class value_kind : std::uint8_t { null, boolean, int64, timestamp, decimal, string };

/// The number of `to` units in `count` `from` units, or an error if that drops digits or overflows.
inline polarway::result<std::int64_t> convert_time(std::int64_t count, time_unit from, time_unit to) {
  const int step = static_cast<int>(to) - static_cast<int>(from);  // each step is a factor 1000
  if (step == 0) return polarway::ok(count);
  const std::int64_t factor = step == 1 || step == -1 ? 1000 : 1000000;
  if (step > 0) {
    std::int64_t out = 0;
    if (__builtin_mul_overflow(count, factor, &out))
      return polarway::err(polarway::error(errc::inexact_conversion, "pw_parquet::convert_time"));
    return polarway::ok(out);
  }
  if (count % factor != 0)
    return polarway::err(polarway::error(errc::inexact_conversion, "pw_parquet::convert_time"));
  return polarway::ok(count / factor);
}

class value {
 public:
  /// A null.
  constexpr value() noexcept = default;

  static constexpr value null() noexcept { return {}; }
  static constexpr value boolean(bool v) noexcept { return value(value_kind::boolean, v ? 1 : 0); }
  static constexpr value int64(std::int64_t v) noexcept { return value(value_kind::int64, v); }
  /// `count` units since the Unix epoch, UTC.
  static constexpr value timestamp(std::int64_t count, time_unit unit) noexcept {
    value out(value_kind::timestamp, count);
    out.unit_ = unit;
    return out;
  }
  static constexpr value timestamp_millis(std::int64_t ms) noexcept { return timestamp(ms, time_unit::millis); }
  static constexpr value timestamp_micros(std::int64_t us) noexcept { return timestamp(us, time_unit::micros); }
  static constexpr value timestamp_nanos(std::int64_t ns) noexcept { return timestamp(ns, time_unit::nanos); }
  /// The number unscaled / 10^scale.
  static constexpr value decimal(std::int64_t unscaled, std::int32_t scale) noexcept {
    value out(value_kind::decimal, unscaled);
    out.scale_ = scale;
    return out;
  }
  /// A UTF-8 string; the bytes are viewed, not copied.
  static constexpr value string(std::string_view v) noexcept {
    value out(value_kind::string, 0);
    out.str_ = v;
    return out;
  }

  constexpr value_kind kind() const noexcept { return kind_; }
  constexpr bool is_null() const noexcept { return kind_ == value_kind::null; }
  constexpr bool as_bool() const noexcept { return int_ != 0; }
  /// The integer of an int64, the count of a timestamp, the unscaled integer of a decimal.
  constexpr std::int64_t as_int64() const noexcept { return int_; }
  constexpr time_unit unit() const noexcept { return unit_; }
  constexpr std::int32_t scale() const noexcept { return scale_; }
  constexpr std::string_view as_string() const noexcept { return str_; }

 private:
  constexpr value(value_kind k, std::int64_t i) noexcept : int_(i), kind_(k) {}

  std::int64_t int_ = 0;
  std::string_view str_{};
  std::int32_t scale_ = 0;
  value_kind kind_ = value_kind::null;
  time_unit unit_ = time_unit::millis;
};

}  // namespace pw_parquet
