#include "ticks/fixed_point.hpp"

namespace ticks {

std::string_view to_string(decimal_errc e) noexcept {
  switch (e) {
    case decimal_errc::empty:
      return "empty";
    case decimal_errc::invalid_character:
      return "invalid character";
    case decimal_errc::missing_digits:
      return "missing digits";
    case decimal_errc::too_many_fraction_digits:
      return "too many fraction digits";
    case decimal_errc::overflow:
      return "overflow";
    case decimal_errc::negative:
      return "negative";
  }
  return "unknown decimal error";
}

}  // namespace ticks
