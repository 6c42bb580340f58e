// PLAIN encoding, the encoding every Parquet reader understands and the one dictionary pages
// use for their entries:
//   BOOLEAN     1 bit per value, least significant bit first, the last byte zero-padded
//   INT64       8 bytes little-endian per value
//   BYTE_ARRAY  a 4-byte little-endian length, then the bytes
// Only non-null values are encoded: nulls exist solely as definition levels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "pw_parquet/bytes.hpp"

namespace pw_parquet::plain {

inline void encode_int64(byte_vector& out, std::span<const std::int64_t> values) {
  out.reserve(out.size() + values.size() * 8);
  for (const std::int64_t v : values) append_le(out, v);
}

/// `values` holds one 0/1 byte per boolean.
inline void encode_boolean(byte_vector& out, std::span<const std::uint8_t> values) {
  std::uint8_t acc = 0;
  int bit = 0;
  for (const std::uint8_t v : values) {
    acc = static_cast<std::uint8_t>(acc | ((v & 1u) << bit));
    if (++bit == 8) {
      out.push_back(static_cast<std::byte>(acc));
      acc = 0;
      bit = 0;
    }
  }
  if (bit != 0) out.push_back(static_cast<std::byte>(acc));
}

/// One BYTE_ARRAY value; the caller has checked that it fits in 32 bits.
inline void encode_byte_array(byte_vector& out, std::string_view value) {
  append_le(out, static_cast<std::uint32_t>(value.size()));
  append_bytes(out, value);
}

}  // namespace pw_parquet::plain
