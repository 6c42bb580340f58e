// Page compression: SNAPPY (raw block format, the Parquet default), ZSTD (a standard zstd
// frame) or none. A compressor owns its output buffer and, for zstd, one compression context,
// both reused across pages so that a long-running sink does not allocate per page. A
// decompressor is the reader's counterpart: it inflates a page into exactly the size its page
// header declares, which the caller has checked against its limit before asking, so a
// compressed page can never make it allocate more than the caller allowed. The codec
// libraries stay behind src/compression.cpp: users of this header need neither snappy.h nor
// zstd.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include <polarway/result.hpp>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/format.hpp"

namespace pw_parquet {

enum class compression : std::uint8_t { uncompressed, snappy, zstd };

/// The footer's CompressionCodec for a compression.
constexpr format::codec codec_of(compression c) noexcept {
  switch (c) {
    case compression::uncompressed: return format::codec::uncompressed;
    case compression::snappy: return format::codec::snappy;
    case compression::zstd: return format::codec::zstd;
  }
  return format::codec::uncompressed;
}

/// "uncompressed", "snappy", "zstd".
constexpr const char* to_string(compression c) noexcept {
  switch (c) {
    case compression::uncompressed: return "uncompressed";
    case compression::snappy: return "snappy";
    case compression::zstd: return "zstd";
  }
  return "?";
}

class compressor {
 public:
  /// A compressor for `kind`; zstd_level (1..22, or negative for the fast levels) is used by zstd only.
  static polarway::result<compressor> create(compression kind, int zstd_level = 3);

  compressor(compressor&& other) noexcept;
  compressor& operator=(compressor&& other) noexcept;
  compressor(const compressor&) = delete;
  compressor& operator=(const compressor&) = delete;
  ~compressor();

  compression kind() const noexcept { return kind_; }
  int zstd_level() const noexcept { return level_; }

  /// The compressed bytes of `input`, valid until the next call; `input` itself when uncompressed.
  polarway::result<std::span<const std::byte>> compress(std::span<const std::byte> input);

 private:
  compressor(compression kind, int level, void* zstd_ctx) noexcept
      : kind_(kind), level_(level), zstd_ctx_(zstd_ctx) {}

  compression kind_ = compression::uncompressed;
  int level_ = 0;
  void* zstd_ctx_ = nullptr;  // ZSTD_CCtx*, created once
  byte_vector out_;
};

class decompressor {
 public:
  decompressor() noexcept = default;
  decompressor(decompressor&& other) noexcept;
  decompressor& operator=(decompressor&& other) noexcept;
  decompressor(const decompressor&) = delete;
  decompressor& operator=(const decompressor&) = delete;
  ~decompressor();

  /// The `uncompressed_size` bytes that `input` inflates to under `codec`, valid until the next
  /// call; `input` itself for UNCOMPRESSED. errc::corrupt_page when the data does not inflate
  /// to exactly that size, errc::unsupported for codecs other than
  /// UNCOMPRESSED, SNAPPY and ZSTD.
  polarway::result<std::span<const std::byte>> decompress(format::codec codec, std::span<const std::byte> input,
                                                          std::size_t uncompressed_size);

 private:
  void* zstd_ctx_ = nullptr;  // ZSTD_DCtx*, created on first use
  byte_vector out_;
};

}  // namespace pw_parquet
