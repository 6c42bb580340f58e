#include "ticks/symbol.hpp"

namespace ticks {

std::string_view to_string(symbol_errc e) noexcept {
  switch (e) {
    case symbol_errc::empty:
      return "empty";
    case symbol_errc::too_long:
      return "longer than 20 characters";
    case symbol_errc::invalid_character:
      return "not uppercase letters and digits";
  }
  return "unknown symbol error";
}

}  // namespace ticks
