// Byte views shared by the codec's components. The runtime's socket API speaks
// std::span<std::byte>, HTTP and JSON are text: these helpers convert between the two views of
// the same memory without copying (char, unsigned char and std::byte may alias anything).
#pragma once

#include <cstddef>
#include <span>
#include <string_view>

namespace ticks {

using byte_view = std::span<const std::byte>;

/// The bytes of a string, for feeding text (tests, HTTP) to a byte-oriented API.
inline byte_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

/// The same bytes seen as text.
inline std::string_view as_chars(byte_view b) noexcept { return {reinterpret_cast<const char*>(b.data()), b.size()}; }

}  // namespace ticks
