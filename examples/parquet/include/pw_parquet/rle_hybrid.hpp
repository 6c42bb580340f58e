// Parquet's RLE / bit-packed hybrid encoding, used here for definition levels and dictionary
// indices. A stream is a sequence of runs, each led by a ULEB128 header:
//   RLE run:        header = count << 1,            then the value in ceil(width/8) LE bytes
//   bit-packed run: header = (groups << 1) | 1,     then groups*8 values, `width` bits each,
//                                                    packed from the least significant bit up
// The encoder walks the values in steps of 8 so that a bit-packed run always holds whole groups
// of 8; only the final group may be padded with zeros (readers stop after num_values). A run of
// 8 or more equal values that starts on a group boundary becomes an RLE run; everything else is
// bit-packed. That misses repeats that start mid-group, which costs a few bytes but keeps the
// run boundaries trivially correct.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/thrift_compact.hpp"

namespace pw_parquet {

/// Bits needed to represent every value in [0, max_value]; 0 for max_value == 0.
constexpr int bit_width_for(std::uint64_t max_value) noexcept {
  return static_cast<int>(std::bit_width(max_value));
}

namespace detail {
// Appends `values` (8 or fewer; missing ones are zero padding) bit-packed at `width` bits.
template <class T>
void bit_pack_group(byte_vector& out, std::span<const T> values, int width) {
  std::uint64_t acc = 0;
  int bits = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::uint64_t v = i < values.size() ? static_cast<std::uint64_t>(values[i]) : 0;
    acc |= v << bits;
    bits += width;
    while (bits >= 8) {
      out.push_back(static_cast<std::byte>(acc & 0xFF));
      acc >>= 8;
      bits -= 8;
    }
  }
  // 8 values of `width` bits are exactly `width` bytes, so nothing is left over.
}

template <class T>
void flush_literals(byte_vector& out, std::span<const T> literals, int width) {
  if (literals.empty()) return;
  const std::size_t groups = (literals.size() + 7) / 8;
  thrift::append_varint(out, (static_cast<std::uint64_t>(groups) << 1) | 1);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t begin = g * 8;
    bit_pack_group(out, literals.subspan(begin, std::min<std::size_t>(8, literals.size() - begin)), width);
  }
}
}  // namespace detail

/// Appends the hybrid encoding of `values` at `bit_width` bits (0..32; every value must fit).
/// No length prefix: data page v1 definition levels add their own 4-byte length, dictionary
/// indices are preceded by the one-byte bit width instead.
template <class T>
void rle_hybrid_encode(byte_vector& out, std::span<const T> values, int bit_width) {
  static_assert(std::is_unsigned_v<T>, "levels and indices are unsigned");
  const std::size_t n = values.size();
  const std::size_t value_bytes = static_cast<std::size_t>((bit_width + 7) / 8);
  std::size_t literal_begin = 0;  // start of the pending bit-packed values
  std::size_t i = 0;
  while (i < n) {
    std::size_t run = 1;
    while (i + run < n && values[i + run] == values[i]) ++run;
    if (run >= 8) {
      // i is a multiple of 8 past literal_begin, so the pending literals are whole groups.
      detail::flush_literals(out, values.subspan(literal_begin, i - literal_begin), bit_width);
      thrift::append_varint(out, static_cast<std::uint64_t>(run) << 1);
      auto v = static_cast<std::uint64_t>(values[i]);
      for (std::size_t b = 0; b < value_bytes; ++b) {
        out.push_back(static_cast<std::byte>(v & 0xFF));
        v >>= 8;
      }
      i += run;
      literal_begin = i;
    } else {
      i = std::min(n, i + 8);
    }
  }
  detail::flush_literals(out, values.subspan(literal_begin, n - literal_begin), bit_width);
}

}  // namespace pw_parquet
