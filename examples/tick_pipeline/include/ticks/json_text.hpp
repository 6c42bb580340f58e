// Writing JSON text: a string as a JSON string literal. Quotes and backslashes are escaped,
// control characters written as \u00XX; other bytes, UTF-8 included, are copied as they are, so
// the caller passes valid UTF-8 (symbols and error texts are).
#pragma once

#include <string>
#include <string_view>

namespace ticks {

inline void append_json_string(std::string& out, std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  out += '"';
  for (const char c : s) {
    const auto ch = static_cast<unsigned char>(c);
    if (ch == '"' || ch == '\\') {
      out += '\\';
      out += c;
    } else if (ch < 0x20) {
      out += "\\u00";
      out += hex[ch >> 4];
      out += hex[ch & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

}  // namespace ticks
