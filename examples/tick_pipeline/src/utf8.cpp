#include "ticks/utf8.hpp"

#include <cstdint>
#include <cstring>

namespace ticks {

bool is_valid_utf8(std::span<const std::byte> bytes) noexcept {
  const auto* p = reinterpret_cast<const std::uint8_t*>(bytes.data());
  const auto* const end = p + bytes.size();
  while (p < end) {
    // Fast path: eight ASCII bytes at once.
    if (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    const std::uint8_t b = *p;
    if (b < 0x80) {
      ++p;
      continue;
    }
    // The lead byte fixes the length and the allowed range of the first continuation byte
    // (Unicode 15, table 3-7); that range is what excludes overlongs and surrogates.
    std::size_t len;
    std::uint8_t lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      len = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
      len = 3;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      len = 4;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;  // a continuation byte, an overlong C0/C1 lead, or F5..FF
    }
    if (static_cast<std::size_t>(end - p) < len) return false;
    if (p[1] < lo || p[1] > hi) return false;
    for (std::size_t i = 2; i < len; ++i)
      if ((p[i] & 0xC0) != 0x80) return false;
    p += len;
  }
  return true;
}

bool is_valid_utf8(std::string_view text) noexcept {
  return is_valid_utf8(std::span<const std::byte>(reinterpret_cast<const std::byte*>(text.data()), text.size()));
}

}  // namespace ticks
