// The read side of a Parquet footer: the checked, decoded FileMetaData of a flat file. It is
// sans-I/O: read_footer() takes the bytes of a whole file; decode_file_metadata() takes just the
// Thrift FileMetaData and where the data region ends, for a caller that read the tail itself
// (footer_length() reads the 8-byte tail).
//
// What a file_metadata that decoded successfully guarantees, so the column decoder need not
// re-check it:
// - the schema is flat: a root group whose children are all leaves, required or optional, each
//   with a physical type; logical types STRING, DECIMAL and TIMESTAMP are decoded (from the
//   LogicalType union, else from the legacy ConvertedType), others are kept as `other`;
// - every row group has exactly one column chunk per leaf, in schema order, with its metadata
//   inline (not in another file), of the leaf's physical type, holding num_rows values;
// - each chunk's byte range [first page, first page + total_compressed_size) lies within the
//   data region, between the leading magic and the footer; sizes and counts are non-negative;
// - the row groups' num_rows add up to the file's num_rows.
// Each violation is a polarway::error with a pw_parquet::errc code (not_parquet, truncated,
// malformed_metadata, limit_exceeded, unsupported) and a context naming the failed check.
// Memory is proportional to the footer's size: nothing is reserved from a count in the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/format.hpp"
#include "pw_parquet/metadata.hpp"
#include "pw_parquet/schema.hpp"
#include "pw_parquet/value.hpp"

namespace pw_parquet {

/// What a leaf's annotation says its values mean.
enum class logical_kind : std::uint8_t {
  none,       // the physical type alone
  string,     // BYTE_ARRAY holding UTF-8
  decimal,    // INT32 / INT64 / FIXED_LEN_BYTE_ARRAY / BYTE_ARRAY holding an unscaled integer
  timestamp,  // INT64 counting `unit`s since the epoch
  other,      // an annotation this reader does not interpret (DATE, INTEGER, JSON, ...)
};

struct column_descriptor {
  std::string name;
  format::physical_type physical = format::physical_type::int64;
  repetition rep = repetition::required;
  std::int32_t type_length = 0;  // FIXED_LEN_BYTE_ARRAY width in bytes
  logical_kind logical = logical_kind::none;
  std::int32_t precision = 0;    // decimal
  std::int32_t scale = 0;        // decimal
  time_unit unit = time_unit::millis;  // timestamp
  bool adjusted_to_utc = false;        // timestamp
};

/// A column chunk's statistics as stored: min/max PLAIN-encoded (no length prefix for byte
/// arrays), absent when the writer did not write them.
struct chunk_statistics_read {
  polarway::option<std::int64_t> null_count;
  polarway::option<byte_vector> min_value;
  polarway::option<byte_vector> max_value;
};

struct column_chunk_info {
  format::physical_type physical = format::physical_type::int64;
  std::vector<format::encoding> encodings;  // as listed; values outside format.hpp's names kept
  std::vector<std::string> path;
  format::codec codec = format::codec::uncompressed;
  std::int64_t num_values = 0;
  std::int64_t total_uncompressed_size = 0;
  std::int64_t total_compressed_size = 0;
  std::int64_t data_page_offset = 0;
  polarway::option<std::int64_t> dictionary_page_offset;
  chunk_statistics_read statistics;

  /// Where the chunk's first page starts: the dictionary page if there is one.
  std::int64_t first_page_offset() const noexcept {
    return dictionary_page_offset ? *dictionary_page_offset : data_page_offset;
  }
};

struct row_group_info {
  std::vector<column_chunk_info> columns;  // one per schema leaf, in schema order
  std::int64_t num_rows = 0;
  std::int64_t total_byte_size = 0;
};

struct file_metadata {
  std::int32_t version = 0;
  std::string schema_name;                  // the root's name
  std::vector<column_descriptor> columns;   // the leaves
  std::int64_t num_rows = 0;
  std::vector<row_group_info> row_groups;
  std::vector<key_value> key_value_metadata;
  std::string created_by;                   // empty when absent
};

struct footer_limits {
  std::size_t max_metadata_bytes = std::size_t{64} << 20;  // the Thrift FileMetaData
  std::size_t max_columns = 10000;                         // schema leaves
  std::size_t max_depth = 32;                              // Thrift nesting
};

/// The length of the FileMetaData from a file's last 8 bytes (length, "PAR1"), checked against
/// the file's size (`file_size`) and the limit.
polarway::result<std::uint32_t> footer_length(std::span<const std::byte> last8, std::uint64_t file_size,
                                              const footer_limits& limits = {});

/// Decodes and checks a FileMetaData whose data region ends at `data_end` (the file offset
/// where the FileMetaData starts).
polarway::result<file_metadata> decode_file_metadata(std::span<const std::byte> metadata, std::uint64_t data_end,
                                                     const footer_limits& limits = {});

/// The checked footer of a whole Parquet file.
polarway::result<file_metadata> read_footer(std::span<const std::byte> file, const footer_limits& limits = {});

}  // namespace pw_parquet
