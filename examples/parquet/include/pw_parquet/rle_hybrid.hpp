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
//
// rle_hybrid_decoder reads such a stream from untrusted bytes: it produces exactly the number
// of values asked for, never reads past its input (errc::truncated), rejects a bit width over
// 32 and values above the caller's maximum (errc::corrupt_page), and accepts a final bit-packed
// run that stops at the last value needed, as writers may pad or not.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <type_traits>

#include <polarway/error.hpp>
#include <polarway/result.hpp>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/errc.hpp"
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

class rle_hybrid_decoder {
 public:
  /// Decodes `in` at `bit_width` bits per value (0..32).
  rle_hybrid_decoder(std::span<const std::byte> in, int bit_width) noexcept : in_(in), width_(bit_width) {}

  /// Fills `out` with the next out.size() values, each checked to be <= max_value.
  polarway::result<void> decode(std::span<std::uint32_t> out, std::uint32_t max_value) {
    if (width_ < 0 || width_ > 32) return fail(errc::corrupt_page, "rle: bit width above 32");
    std::size_t i = 0;
    while (i < out.size()) {
      if (rle_left_ == 0 && packed_left_ == 0) {
        if (auto r = next_run(); !r) return r;
        continue;
      }
      if (rle_left_ != 0) {
        const std::size_t n = std::min<std::size_t>(rle_left_, out.size() - i);
        if (rle_value_ > max_value) return fail(errc::corrupt_page, "rle: value above the maximum");
        std::fill_n(out.begin() + static_cast<std::ptrdiff_t>(i), n, rle_value_);
        rle_left_ -= n;
        i += n;
      } else {
        // Bit-packed: value k of the run starts at bit k * width of the run's bytes.
        const std::uint64_t bit = packed_index_ * static_cast<std::uint64_t>(width_);
        const std::size_t last_byte = static_cast<std::size_t>((bit + static_cast<std::uint64_t>(width_) + 7) / 8);
        if (last_byte > packed_.size()) return fail(errc::truncated, "rle: bit-packed run ends early");
        std::uint64_t acc = 0;
        const std::size_t first = static_cast<std::size_t>(bit / 8);
        for (std::size_t b = first; b < last_byte; ++b) acc |= static_cast<std::uint64_t>(packed_[b]) << (8 * (b - first));
        const std::uint64_t mask = width_ == 0 ? 0 : (~std::uint64_t{0} >> (64 - width_));
        const auto v = static_cast<std::uint32_t>((acc >> (bit % 8)) & mask);
        if (v > max_value) return fail(errc::corrupt_page, "rle: value above the maximum");
        out[i++] = v;
        ++packed_index_;
        --packed_left_;
      }
    }
    return {};
  }

 private:
  static polarway::err_value<polarway::error> fail(errc code, const char* what) {
    return polarway::err(polarway::error(code, what));
  }
  polarway::result<void> next_run() {
    std::uint64_t header = 0;
    for (int shift = 0;; shift += 7) {
      if (pos_ >= in_.size()) return fail(errc::truncated, "rle: input ends before the values");
      if (shift > 28) return fail(errc::corrupt_page, "rle: run header longer than 32 bits");
      const auto b = static_cast<std::uint64_t>(in_[pos_++]);
      header |= (b & 0x7F) << shift;
      if ((b & 0x80) == 0) break;
    }
    if (header == 0 || header == 1) return fail(errc::corrupt_page, "rle: empty run");
    if ((header & 1) == 0) {
      rle_left_ = header >> 1;
      const std::size_t bytes = static_cast<std::size_t>((width_ + 7) / 8);
      if (in_.size() - pos_ < bytes) return fail(errc::truncated, "rle: run value cut off");
      std::uint64_t v = 0;
      for (std::size_t b = 0; b < bytes; ++b) v |= static_cast<std::uint64_t>(in_[pos_ + b]) << (8 * b);
      pos_ += bytes;
      if (v > UINT32_MAX) return fail(errc::corrupt_page, "rle: run value wider than 32 bits");
      rle_value_ = static_cast<std::uint32_t>(v);
    } else {
      const std::uint64_t groups = header >> 1;
      packed_left_ = groups * 8;
      // The run's bytes, as many as it announces or as the input still holds.
      const std::uint64_t bytes = groups * static_cast<std::uint64_t>(width_);
      const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(bytes, in_.size() - pos_));
      packed_ = in_.subspan(pos_, take);
      pos_ += take;
      packed_index_ = 0;
    }
    return {};
  }

  std::span<const std::byte> in_;
  int width_;
  std::size_t pos_ = 0;
  std::uint64_t rle_left_ = 0;
  std::uint32_t rle_value_ = 0;
  std::uint64_t packed_left_ = 0;
  std::uint64_t packed_index_ = 0;
  std::span<const std::byte> packed_;
};

}  // namespace pw_parquet
