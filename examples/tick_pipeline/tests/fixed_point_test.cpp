#include "ticks/fixed_point.hpp"

#include <doctest/doctest.h>

#include <limits>

using ticks::decimal_errc;
using ticks::parse_decimal;
using ticks::price;

namespace {
std::int64_t raw(std::string_view s) { return parse_decimal<8>(s).value().raw; }
decimal_errc fails(std::string_view s, bool neg = false) {
  auto r = parse_decimal<8>(s, neg);
  REQUIRE(r.is_err());
  return r.error();
}
}  // namespace

TEST_CASE("decimal strings convert exactly") {
  CHECK(raw("0.001") == 100'000);
  CHECK(raw("100") == 10'000'000'000);
  CHECK(raw("25.35190000") == 2'535'190'000);
  CHECK(raw("0.00000001") == 1);
  CHECK(raw("0") == 0);
  CHECK(raw("0.0") == 0);
  CHECK(raw("007.5") == 750'000'000);
  // 0.1 + 0.2 is exactly 0.3 here, unlike in binary floating point.
  CHECK(raw("0.1") + raw("0.2") == raw("0.3"));
  CHECK(raw("1.100000000000") == 110'000'000);  // extra zeros beyond the scale are fine
  CHECK(raw("92233720368.54775807") == std::numeric_limits<std::int64_t>::max());
  CHECK(parse_decimal<8>("-1.5", true).value().raw == -150'000'000);
  CHECK(parse_decimal<8>("-92233720368.54775808", true).value().raw == std::numeric_limits<std::int64_t>::min());
  CHECK(parse_decimal<0>("12345").value().raw == 12345);
  CHECK(parse_decimal<2>("1.23").value().raw == 123);
}

TEST_CASE("bad decimals are typed errors") {
  CHECK(fails("") == decimal_errc::empty);
  CHECK(fails("abc") == decimal_errc::invalid_character);
  CHECK(fails("1.2.3") == decimal_errc::invalid_character);
  CHECK(fails("1e5") == decimal_errc::invalid_character);
  CHECK(fails("+1") == decimal_errc::invalid_character);
  CHECK(fails(" 1") == decimal_errc::invalid_character);
  CHECK(fails("1 ") == decimal_errc::invalid_character);
  CHECK(fails("0x10") == decimal_errc::invalid_character);
  CHECK(fails(".5") == decimal_errc::missing_digits);
  CHECK(fails("5.") == decimal_errc::missing_digits);
  CHECK(fails("-", true) == decimal_errc::missing_digits);
  CHECK(fails("0.000000001") == decimal_errc::too_many_fraction_digits);
  CHECK(fails("1.123456789") == decimal_errc::too_many_fraction_digits);
  CHECK(fails("92233720368.54775808") == decimal_errc::overflow);
  CHECK(fails("100000000000") == decimal_errc::overflow);
  CHECK(fails("99999999999999999999999999") == decimal_errc::overflow);
  CHECK(fails("-92233720368.54775809", true) == decimal_errc::overflow);
  CHECK(fails("-1") == decimal_errc::negative);
  CHECK(fails("-0") == decimal_errc::negative);
}

TEST_CASE("fixed_point prints with exactly Scale digits and round-trips") {
  CHECK(price::from_raw(2'535'190'000).to_string() == "25.35190000");
  CHECK(price::from_raw(1).to_string() == "0.00000001");
  CHECK(price::from_raw(0).to_string() == "0.00000000");
  CHECK(price::from_raw(-150'000'000).to_string() == "-1.50000000");
  CHECK(price::from_raw(std::numeric_limits<std::int64_t>::min()).to_string() == "-92233720368.54775808");
  CHECK(price::from_raw(std::numeric_limits<std::int64_t>::max()).to_string() == "92233720368.54775807");
  for (std::int64_t v : {std::int64_t{0}, std::int64_t{1}, std::int64_t{99'999'999}, std::int64_t{123'456'789'012},
                         std::numeric_limits<std::int64_t>::max()})
    CHECK(parse_decimal<8>(price::from_raw(v).to_string()).value().raw == v);
  CHECK(ticks::fixed_point<0>::from_raw(42).to_string() == "42");
}

TEST_CASE("parse_decimal is usable at compile time") {
  static_assert(parse_decimal<8>("1.5").value().raw == 150'000'000);
  static_assert(parse_decimal<8>("1.5x").is_err());
}
