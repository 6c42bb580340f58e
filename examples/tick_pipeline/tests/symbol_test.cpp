#include "ticks/symbol.hpp"

#include <doctest/doctest.h>

#include <type_traits>

using ticks::symbol;
using ticks::symbol_errc;

TEST_CASE("symbols are uppercase letters and digits, 1 to 20 characters") {
  CHECK(symbol::parse("BTCUSDT").value().view() == "BTCUSDT");
  CHECK(symbol::parse("1000SATSUSDT").value().size() == 12);
  CHECK(symbol::parse("ABCDEFGHIJKLMNOPQRST").is_ok());  // exactly 20
  CHECK(symbol::parse("").error() == symbol_errc::empty);
  CHECK(symbol::parse("ABCDEFGHIJKLMNOPQRSTU").error() == symbol_errc::too_long);
  CHECK(symbol::parse("btcusdt").error() == symbol_errc::invalid_character);
  // Anything a file path would interpret is refused.
  using namespace std::string_view_literals;
  for (std::string_view bad : {"BTC/USDT"sv, ".."sv, "BTC.USDT"sv, "BTC USDT"sv, "BTC%2F"sv, "BTC\\X"sv, "BTC\0X"sv})
    CHECK(symbol::parse(bad).error() == symbol_errc::invalid_character);
  CHECK(symbol::parse("\xE5\xB8\x81USDT").error() == symbol_errc::invalid_character);
}

TEST_CASE("symbols compare by value and are trivially copyable") {
  static_assert(std::is_trivially_copyable_v<symbol>);
  CHECK(symbol::parse("ETHBTC").value() == symbol::parse("ETHBTC").value());
  CHECK_FALSE(symbol::parse("ETHBTC").value() == symbol::parse("ETHBT").value());
  constexpr auto s = symbol::parse("BNB");
  static_assert(s.is_ok() && s->view() == "BNB");
}
