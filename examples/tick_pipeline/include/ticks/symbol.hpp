// ticks::symbol: an exchange symbol ("BTCUSDT") in a fixed-capacity inline string. It is
// validated on construction (1 to 20 characters, uppercase ASCII letters and digits only)
// because it later becomes part of a file path (out/symbol=BTCUSDT/...): a symbol can never
// contain '/', '.', '%' or anything else a path would interpret. Trivially copyable, so ticks
// stay flat values that move through channels without allocating.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include <polarway/result.hpp>

namespace ticks {

enum class symbol_errc : std::uint8_t { empty, too_long, invalid_character };

std::string_view to_string(symbol_errc e) noexcept;

class symbol {
 public:
  static constexpr std::size_t max_size = 20;

  constexpr symbol() noexcept = default;

  /// The symbol, or why `text` is not one.
  static constexpr polarway::result<symbol, symbol_errc> parse(std::string_view text) noexcept {
    if (text.empty()) return polarway::err(symbol_errc::empty);
    if (text.size() > max_size) return polarway::err(symbol_errc::too_long);
    symbol s;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return polarway::err(symbol_errc::invalid_character);
      s.chars_[i] = c;
    }
    s.size_ = static_cast<std::uint8_t>(text.size());
    return polarway::ok(s);
  }

  constexpr std::string_view view() const noexcept { return {chars_.data(), size_}; }
  constexpr std::size_t size() const noexcept { return size_; }
  constexpr bool empty() const noexcept { return size_ == 0; }

  // Unused characters are always zero, so comparing the arrays compares the symbols.
  friend constexpr bool operator==(const symbol&, const symbol&) = default;

 private:
  std::array<char, max_size> chars_{};
  std::uint8_t size_ = 0;
};

}  // namespace ticks
