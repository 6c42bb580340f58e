// Little helpers for appending to the byte vectors every encoder writes into. Parquet is
// little-endian throughout (PLAIN values, level lengths, the footer length), so the helpers
// write little-endian explicitly, byte by byte, rather than relying on the host's order.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

namespace pw_parquet {

using byte_vector = std::vector<std::byte>;

/// Appends `v` as sizeof(T) little-endian bytes.
template <std::integral T>
inline void append_le(byte_vector& out, T v) {
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out.push_back(static_cast<std::byte>(u & 0xFFu));
    if constexpr (sizeof(T) > 1) u = static_cast<decltype(u)>(u >> 8);
  }
}

/// Appends raw bytes.
inline void append_bytes(byte_vector& out, std::span<const std::byte> bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

/// Appends the bytes of a string (no length, no terminator).
inline void append_bytes(byte_vector& out, std::string_view text) {
  const auto* p = reinterpret_cast<const std::byte*>(text.data());
  out.insert(out.end(), p, p + text.size());
}

/// A string's bytes as a byte span (for comparing and hashing without copies).
inline std::span<const std::byte> as_bytes(std::string_view text) noexcept {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

/// The bytes of a byte span as a string_view.
inline std::string_view as_string_view(std::span<const std::byte> bytes) noexcept {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace pw_parquet
