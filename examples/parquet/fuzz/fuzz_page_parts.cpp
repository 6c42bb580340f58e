// libFuzzer target: untrusted bytes -> the page-level decoders the column reader is built from,
// the RLE / bit-packed hybrid decoder and the decompressor. The first byte picks the decoder
// and its parameters, the rest is the stream:
//   byte0 % 4 == 0: hybrid decoder, bit width byte1 % 34 (33 must fail), byte2 * 8 values,
//                   values at most byte3 (255: no limit)
//   byte0 % 4 == 1, 2, 3: decompress as UNCOMPRESSED / SNAPPY / ZSTD to byte1 | byte2 << 8 bytes
// Besides the sanitizers' checks it asserts the decoders' promises: a hybrid decode that
// succeeds fills every value within the maximum; a decompression that succeeds yields exactly
// the declared size.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pw_parquet/compression.hpp"
#include "pw_parquet/rle_hybrid.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 4) return 0;
  const std::span<const std::byte> rest(reinterpret_cast<const std::byte*>(data) + 4, size - 4);
  const unsigned mode = data[0] % 4;
  if (mode == 0) {
    const int width = data[1] % 34;
    const std::uint32_t max_value = data[3] == 255 ? UINT32_MAX : data[3];
    std::vector<std::uint32_t> out(std::size_t{data[2]} * 8);
    pw_parquet::rle_hybrid_decoder d(rest, width);
    const auto r = d.decode(out, max_value);
    check(!(r && width > 32));
    if (r)
      for (const std::uint32_t v : out) check(v <= max_value);
    return 0;
  }
  static const pw_parquet::format::codec codecs[] = {pw_parquet::format::codec::uncompressed,
                                                     pw_parquet::format::codec::snappy, pw_parquet::format::codec::zstd};
  const std::size_t declared = std::size_t{data[1]} | std::size_t{data[2]} << 8;
  pw_parquet::decompressor d;
  if (auto out = d.decompress(codecs[mode - 1], rest, declared)) check(out->size() == declared);
  return 0;
}
