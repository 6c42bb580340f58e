// The codec calls behind compressor. Snappy's C API is used rather than its C++ one so that no
// std::string is involved; zstd keeps one CCtx per compressor (creating one per page costs more
// than compressing a small page).
#include "pw_parquet/compression.hpp"

#include <snappy-c.h>
#include <zstd.h>

#include <utility>

#include "pw_parquet/errc.hpp"

namespace pw_parquet {

polarway::result<compressor> compressor::create(compression kind, int zstd_level) {
  switch (kind) {
    case compression::uncompressed:
    case compression::snappy: return polarway::ok(compressor(kind, 0, nullptr));
    case compression::zstd: {
      if (zstd_level < ZSTD_minCLevel() || zstd_level > ZSTD_maxCLevel() || zstd_level == 0)
        return polarway::err(polarway::error(errc::invalid_options, "pw_parquet::compressor: zstd level out of range"));
      ZSTD_CCtx* ctx = ZSTD_createCCtx();
      if (ctx == nullptr)
        return polarway::err(polarway::error(errc::compression_failed, "pw_parquet::compressor: ZSTD_createCCtx"));
      return polarway::ok(compressor(kind, zstd_level, ctx));
    }
  }
  return polarway::err(polarway::error(errc::invalid_options, "pw_parquet::compressor: unknown codec"));
}

compressor::compressor(compressor&& other) noexcept
    : kind_(other.kind_), level_(other.level_), zstd_ctx_(std::exchange(other.zstd_ctx_, nullptr)),
      out_(std::move(other.out_)) {}

compressor& compressor::operator=(compressor&& other) noexcept {
  if (this != &other) {
    if (zstd_ctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
    kind_ = other.kind_;
    level_ = other.level_;
    zstd_ctx_ = std::exchange(other.zstd_ctx_, nullptr);
    out_ = std::move(other.out_);
  }
  return *this;
}

compressor::~compressor() {
  if (zstd_ctx_ != nullptr) ZSTD_freeCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_));
}

polarway::result<std::span<const std::byte>> compressor::compress(std::span<const std::byte> input) {
  switch (kind_) {
    case compression::uncompressed: return polarway::ok(input);
    case compression::snappy: {
      std::size_t length = snappy_max_compressed_length(input.size());
      out_.resize(length);
      if (snappy_compress(reinterpret_cast<const char*>(input.data()), input.size(),
                          reinterpret_cast<char*>(out_.data()), &length) != SNAPPY_OK)
        return polarway::err(polarway::error(errc::compression_failed, "pw_parquet::compressor: snappy_compress"));
      return polarway::ok(std::span<const std::byte>(out_.data(), length));
    }
    case compression::zstd: {
      out_.resize(ZSTD_compressBound(input.size()));
      const std::size_t length = ZSTD_compressCCtx(static_cast<ZSTD_CCtx*>(zstd_ctx_), out_.data(), out_.size(),
                                                   input.data(), input.size(), level_);
      if (ZSTD_isError(length))
        return polarway::err(polarway::error(errc::compression_failed, "pw_parquet::compressor: ZSTD_compressCCtx"));
      return polarway::ok(std::span<const std::byte>(out_.data(), length));
    }
  }
  return polarway::err(polarway::error(errc::invalid_options, "pw_parquet::compressor: unknown codec"));
}

decompressor::decompressor(decompressor&& other) noexcept
    : zstd_ctx_(std::exchange(other.zstd_ctx_, nullptr)), out_(std::move(other.out_)) {}

decompressor& decompressor::operator=(decompressor&& other) noexcept {
  if (this != &other) {
    if (zstd_ctx_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd_ctx_));
    zstd_ctx_ = std::exchange(other.zstd_ctx_, nullptr);
    out_ = std::move(other.out_);
  }
  return *this;
}

decompressor::~decompressor() {
  if (zstd_ctx_ != nullptr) ZSTD_freeDCtx(static_cast<ZSTD_DCtx*>(zstd_ctx_));
}

polarway::result<std::span<const std::byte>> decompressor::decompress(format::codec codec, std::span<const std::byte> input,
                                                                      std::size_t uncompressed_size) {
  using polarway::err;
  using polarway::error;
  switch (codec) {
    case format::codec::uncompressed:
      if (input.size() != uncompressed_size)
        return err(error(errc::corrupt_page, "page: uncompressed page size differs from its data"));
      return polarway::ok(input);
    case format::codec::snappy: {
      std::size_t length = 0;
      const auto* in = reinterpret_cast<const char*>(input.data());
      if (snappy_uncompressed_length(in, input.size(), &length) != SNAPPY_OK)
        return err(error(errc::corrupt_page, "page: snappy data without a valid length"));
      if (length != uncompressed_size)
        return err(error(errc::corrupt_page, "page: snappy length differs from the page header"));
      out_.resize(uncompressed_size);
      if (snappy_uncompress(in, input.size(), reinterpret_cast<char*>(out_.data()), &length) != SNAPPY_OK ||
          length != uncompressed_size)
        return err(error(errc::corrupt_page, "page: snappy data does not inflate"));
      return polarway::ok(std::span<const std::byte>(out_.data(), length));
    }
    case format::codec::zstd: {
      if (zstd_ctx_ == nullptr) zstd_ctx_ = ZSTD_createDCtx();
      if (zstd_ctx_ == nullptr) return err(error(errc::compression_failed, "page: ZSTD_createDCtx"));
      out_.resize(uncompressed_size);
      // The output buffer is the declared size: a frame that inflates to more fails here
      // instead of growing anything.
      const std::size_t length = ZSTD_decompressDCtx(static_cast<ZSTD_DCtx*>(zstd_ctx_), out_.data(), out_.size(),
                                                     input.data(), input.size());
      if (ZSTD_isError(length)) return err(error(errc::corrupt_page, "page: zstd data does not inflate to the declared size"));
      if (length != uncompressed_size) return err(error(errc::corrupt_page, "page: zstd data shorter than the declared size"));
      return polarway::ok(std::span<const std::byte>(out_.data(), length));
    }
    default: return err(error(errc::unsupported, "page: compression codec other than SNAPPY, ZSTD or none"));
  }
}

}  // namespace pw_parquet
