// Exact decimals, time unit conversion, UTF-8 validation and value construction: the checks
// that decide whether a tick's fields are accepted, and what exactly is stored.
#include <doctest/doctest.h>

#include <climits>

#include "pw_parquet/decimal.hpp"
#include "pw_parquet/utf8.hpp"
#include "pw_parquet/value.hpp"
#include "test_support.hpp"

namespace pq = pw_parquet;

namespace {
bool fails_with(const polarway::result<std::int64_t>& r, pq::errc e) { return r.is_err() && r.error().code() == e; }
}  // namespace

TEST_CASE("parse_decimal is exact") {
  CHECK(pq::parse_decimal("0.01634790", 8).value() == 1634790);
  CHECK(pq::parse_decimal("0.0163479", 8).value() == 1634790);       // fewer digits: padded
  CHECK(pq::parse_decimal("97000.10000000", 8).value() == 9700010000000);
  CHECK(pq::parse_decimal("-1.5", 2).value() == -150);
  CHECK(pq::parse_decimal("+7", 0).value() == 7);
  CHECK(pq::parse_decimal("3.", 1).value() == 30);
  CHECK(pq::parse_decimal(".5", 1).value() == 5);
  CHECK(pq::parse_decimal("1.2300", 2).value() == 123);               // extra zeros are fine
  CHECK(pq::parse_decimal("9999999999.99999999", 8).value() == 999999999999999999);
  CHECK(fails_with(pq::parse_decimal("1.234", 2), pq::errc::inexact_conversion));
  CHECK(fails_with(pq::parse_decimal("", 2), pq::errc::invalid_decimal_text));
  CHECK(fails_with(pq::parse_decimal("-", 2), pq::errc::invalid_decimal_text));
  CHECK(fails_with(pq::parse_decimal(".", 2), pq::errc::invalid_decimal_text));
  CHECK(fails_with(pq::parse_decimal("1.2.3", 2), pq::errc::invalid_decimal_text));
  CHECK(fails_with(pq::parse_decimal("1e5", 2), pq::errc::invalid_decimal_text));
  CHECK(fails_with(pq::parse_decimal(" 1", 2), pq::errc::invalid_decimal_text));
  CHECK(fails_with(pq::parse_decimal("100000000000000000000", 0), pq::errc::decimal_out_of_range));
  CHECK(fails_with(pq::parse_decimal("100000000000", 8), pq::errc::decimal_out_of_range));  // 10^19 unscaled
}

TEST_CASE("format_decimal prints exactly scale digits") {
  CHECK(pq::format_decimal(1634790, 8) == "0.01634790");
  CHECK(pq::format_decimal(-5, 2) == "-0.05");
  CHECK(pq::format_decimal(0, 3) == "0.000");
  CHECK(pq::format_decimal(42, 0) == "42");
  CHECK(pq::format_decimal(INT64_MIN, 0) == "-9223372036854775808");
  CHECK(pq::format_decimal(999999999999999999, 8) == "9999999999.99999999");
  // 128-bit values, such as exact sums: 2^127 - 1 and -2^127.
  const __int128 max128 = static_cast<__int128>((static_cast<unsigned __int128>(1) << 127) - 1);
  CHECK(pq::format_decimal(max128, 16) == "17014118346046923173168.7303715884105727");
  CHECK(pq::format_decimal(-max128 - 1, 0) == "-170141183460469231731687303715884105728");
  CHECK(pq::format_decimal(static_cast<__int128>(INT64_MAX) * 10, 1) == "9223372036854775807.0");
}

TEST_CASE("rescale_decimal and fits_precision") {
  CHECK(pq::rescale_decimal(15, 1, 8).value() == 150000000);
  CHECK(pq::rescale_decimal(150000000, 8, 1).value() == 15);
  CHECK(pq::rescale_decimal(0, 0, 30).value() == 0);
  CHECK(fails_with(pq::rescale_decimal(150000001, 8, 1), pq::errc::inexact_conversion));
  CHECK(fails_with(pq::rescale_decimal(INT64_MAX / 5, 0, 1), pq::errc::decimal_out_of_range));
  CHECK(pq::fits_precision(999999999999999999, 18));
  CHECK(pq::fits_precision(-999999999999999999, 18));
  CHECK_FALSE(pq::fits_precision(1000000000000000000, 18));
  CHECK_FALSE(pq::fits_precision(INT64_MIN, 18));
  CHECK(pq::fits_precision(99, 2));
  CHECK_FALSE(pq::fits_precision(100, 2));
  CHECK_FALSE(pq::fits_precision(1, 0));
  CHECK_FALSE(pq::fits_precision(1, 19));
}

TEST_CASE("convert_time multiplies up and divides down only when exact") {
  using pq::time_unit;
  CHECK(pq::convert_time(1700000000123, time_unit::millis, time_unit::micros).value() == 1700000000123000);
  CHECK(pq::convert_time(1700000000123, time_unit::millis, time_unit::nanos).value() == 1700000000123000000);
  CHECK(pq::convert_time(5000000, time_unit::nanos, time_unit::millis).value() == 5);
  CHECK(pq::convert_time(-3000, time_unit::micros, time_unit::millis).value() == -3);
  CHECK(fails_with(pq::convert_time(5000001, time_unit::nanos, time_unit::millis), pq::errc::inexact_conversion));
  CHECK(fails_with(pq::convert_time(INT64_MAX / 10, time_unit::millis, time_unit::nanos), pq::errc::inexact_conversion));
}

TEST_CASE("UTF-8 validation follows RFC 3629") {
  CHECK(pq::is_valid_utf8(""));
  CHECK(pq::is_valid_utf8("BTCUSDT"));
  CHECK(pq::is_valid_utf8("\xC3\xA9"));              // é
  CHECK(pq::is_valid_utf8("\xE2\x82\xAC"));          // €
  CHECK(pq::is_valid_utf8("\xF0\x9F\x9A\x80"));      // U+1F680
  CHECK_FALSE(pq::is_valid_utf8("\xC3"));            // truncated
  CHECK_FALSE(pq::is_valid_utf8("\x80"));            // lone continuation byte
  CHECK_FALSE(pq::is_valid_utf8("\xC0\xAF"));        // overlong '/'
  CHECK_FALSE(pq::is_valid_utf8("\xED\xA0\x80"));    // surrogate U+D800
  CHECK_FALSE(pq::is_valid_utf8("\xF4\x90\x80\x80")); // above U+10FFFF
  CHECK_FALSE(pq::is_valid_utf8("\xFF"));
}

TEST_CASE("values carry their kind, unit and scale") {
  constexpr auto t = pq::value::timestamp_millis(1700000000123);
  static_assert(t.kind() == pq::value_kind::timestamp && t.unit() == pq::time_unit::millis);
  constexpr auto d = pq::value::decimal(-150, 2);
  static_assert(d.kind() == pq::value_kind::decimal && d.scale() == 2 && d.as_int64() == -150);
  constexpr pq::value n;
  static_assert(n.is_null());
  CHECK(pq::value::string("BTCUSDT").as_string() == "BTCUSDT");
  CHECK(pq::value::boolean(true).as_bool());
}

TEST_CASE("parquet error codes compare as codes and as invalid_argument") {
  const polarway::error e(pq::errc::type_mismatch, "ctx");
  CHECK(e.code() == pq::errc::type_mismatch);
  CHECK(e.code() == std::errc::invalid_argument);
  CHECK(e.message() == "ctx: value does not match the column type");
  CHECK(polarway::error(pq::errc::compression_failed).code() != std::errc::invalid_argument);
}
