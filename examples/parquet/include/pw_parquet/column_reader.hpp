// Decoding the column chunks of one row group into typed column vectors, only for the columns
// asked for. It is sans-I/O like the footer reader: it takes the bytes of the file (or of one
// chunk) and a file_metadata from read_footer, whose guarantees it relies on (flat schema, each
// chunk's byte range inside the file).
//
// What it decodes: page headers; an optional dictionary page (PLAIN or PLAIN_DICTIONARY) before
// the data pages; data pages v1 and v2 with PLAIN or RLE_DICTIONARY / PLAIN_DICTIONARY values
// and RLE-hybrid definition levels for optional columns; SNAPPY, ZSTD or no compression. Index
// pages are skipped. Physical types: BOOLEAN, INT32, INT64, DOUBLE, BYTE_ARRAY,
// FIXED_LEN_BYTE_ARRAY (FLOAT and INT96 are errc::unsupported).
//
// Bounds, whatever the bytes: a page's declared uncompressed size is checked against
// max_page_bytes before anything is allocated for it, and inflation must give exactly that
// size; the decoded values of a chunk (values, string bytes, null flags) may not exceed
// max_column_bytes, checked before each page is decoded; a page may not hold more values than
// the chunk has left, and the pages must add up to the chunk's value count. Violations are
// errc::limit_exceeded, corrupt_page, truncated or malformed_metadata with a context naming the
// check; nothing is read outside the chunk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <polarway/result.hpp>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/compression.hpp"
#include "pw_parquet/footer_reader.hpp"

namespace pw_parquet {

/// Which vector of column_values holds a column's values.
enum class value_storage : std::uint8_t {
  boolean,  // booleans: 0 / 1
  int32,    // int32s: INT32 without a decimal annotation
  int64,    // int64s: INT64, timestamps (in the descriptor's unit), decimals of precision <= 18
            // on any physical type (the unscaled value; the descriptor has the scale)
  double_,  // doubles
  bytes,    // bytes + offsets: BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY (decimals of precision > 18
            // too: big-endian two's complement, as stored)
};

/// The storage a column's values are decoded into.
value_storage storage_of(const column_descriptor& c) noexcept;

/// One column of one row group. `valid` has one entry per row (1: a value, 0: null); the value
/// vectors hold the non-null values only, in row order. For bytes, value i is
/// bytes[offsets[i], offsets[i + 1]) and offsets has one more entry than there are values.
struct column_values {
  column_descriptor descriptor;
  value_storage storage = value_storage::int64;
  std::vector<std::uint8_t> valid;
  std::vector<std::uint8_t> booleans;
  std::vector<std::int32_t> int32s;
  std::vector<std::int64_t> int64s;
  std::vector<double> doubles;
  byte_vector bytes;
  std::vector<std::uint64_t> offsets{0};

  std::size_t rows() const noexcept { return valid.size(); }
  /// Non-null values decoded.
  std::size_t value_count() const noexcept;
  /// Value i of a bytes column.
  std::span<const std::byte> bytes_at(std::size_t i) const noexcept {
    return std::span<const std::byte>(bytes).subspan(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

struct column_read_limits {
  std::size_t max_page_bytes = std::size_t{64} << 20;     // one page, uncompressed
  std::size_t max_column_bytes = std::size_t{1} << 30;    // one chunk's decoded values
};

/// Decodes column chunks one after another into a caller's column_values, keeping its working
/// buffers (the inflated page, the dictionary, the index scratch, the zstd context) from one
/// chunk to the next, as the caller's column_values keeps its vectors: reading a file row group
/// by row group then allocates only when a chunk needs more room than the ones before it. One
/// reader is used by one thread at a time.
class column_chunk_reader {
 public:
  explicit column_chunk_reader(column_read_limits limits = {}) noexcept : limits_(limits) {}

  /// Decodes one chunk (as read_column_chunk) into `out`, which is emptied first (its vectors
  /// keep their capacity). After an error `out` holds part of the chunk: do not use it.
  polarway::result<void> read(std::span<const std::byte> chunk, const column_descriptor& column,
                              const column_chunk_info& info, column_values& out);

  const column_read_limits& limits() const noexcept { return limits_; }

 private:
  column_read_limits limits_;
  column_values dictionary_;
  std::vector<std::uint32_t> indices_;
  decompressor decompressor_;
};

/// Decodes one column chunk: `chunk` is the chunk's bytes (from its first page offset, its
/// total_compressed_size long), `info` and `column` its footer entries.
polarway::result<column_values> read_column_chunk(std::span<const std::byte> chunk, const column_descriptor& column,
                                                  const column_chunk_info& info, const column_read_limits& limits = {});

/// Decodes the columns `columns` (indexes into meta.columns) of row group `row_group` of the
/// file `file`, whose footer read_footer decoded into `meta`; the result is in the order asked.
polarway::result<std::vector<column_values>> read_row_group(std::span<const std::byte> file, const file_metadata& meta,
                                                            std::size_t row_group, std::span<const std::size_t> columns,
                                                            const column_read_limits& limits = {});

}  // namespace pw_parquet
