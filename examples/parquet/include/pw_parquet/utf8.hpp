// UTF-8 validation for STRING columns. Parquet's STRING logical type promises UTF-8, and readers
// act on that promise: DuckDB refuses a file with a malformed string, so the writer checks each
// string as it is appended and rejects the row (errc::invalid_utf8) instead of producing a file
// nobody can read. Well-formed means RFC 3629: no overlong forms, no surrogates, nothing above
// U+10FFFF. The ASCII fast path keeps symbols like "BTCUSDT" to one comparison per byte.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace pw_parquet {

constexpr bool is_valid_utf8(std::string_view text) noexcept {
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const auto b0 = static_cast<std::uint8_t>(text[i]);
    if (b0 < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0, min_cp = 0;
    if ((b0 & 0xE0) == 0xC0) { len = 2; cp = b0 & 0x1Fu; min_cp = 0x80; }
    else if ((b0 & 0xF0) == 0xE0) { len = 3; cp = b0 & 0x0Fu; min_cp = 0x800; }
    else if ((b0 & 0xF8) == 0xF0) { len = 4; cp = b0 & 0x07u; min_cp = 0x10000; }
    else return false;  // a continuation byte or 0xF8.. where a sequence should start
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto b = static_cast<std::uint8_t>(text[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

}  // namespace pw_parquet
