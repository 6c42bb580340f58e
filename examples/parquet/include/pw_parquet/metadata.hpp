// The footer model and the Thrift serialization of everything Parquet stores in Thrift: the
// FileMetaData at the end of the file and the PageHeader in front of each page. The writer
// records one column_chunk_meta per column per row group as it flushes (offsets, sizes,
// encodings, statistics); finish() serializes them all. The footer therefore grows with the
// number of row groups, not rows: a few hundred bytes per column per row group.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/format.hpp"
#include "pw_parquet/schema.hpp"

namespace pw_parquet {

struct key_value {
  std::string key;
  std::string value;
};

/// Column chunk statistics. min/max are PLAIN-encoded (byte arrays without their length prefix)
/// and absent when the chunk has no non-null value or a bound was too long to keep.
struct chunk_statistics {
  std::int64_t null_count = 0;
  bool has_min_max = false;
  byte_vector min_value;
  byte_vector max_value;
};

struct page_encoding_count {
  format::page_type page_type = format::page_type::data_page;
  format::encoding encoding = format::encoding::plain;
  std::int32_t count = 0;
};

struct column_chunk_meta {
  std::vector<format::encoding> encodings;  // every encoding used, levels included
  std::int64_t num_values = 0;              // nulls included
  std::int64_t total_uncompressed_size = 0; // page headers included
  std::int64_t total_compressed_size = 0;   // page headers included
  std::int64_t data_page_offset = 0;
  std::int64_t dictionary_page_offset = -1; // -1: no dictionary page
  chunk_statistics statistics;
  std::vector<page_encoding_count> encoding_stats;
};

struct row_group_meta {
  std::vector<column_chunk_meta> columns;
  std::int64_t num_rows = 0;
  std::int64_t total_byte_size = 0;        // uncompressed
  std::int64_t total_compressed_size = 0;
  std::int64_t file_offset = 0;            // first page of the first column
};

/// Appends the Thrift PageHeader of a DATA_PAGE (v1) whose definition and repetition levels are RLE.
void serialize_data_page_header(byte_vector& out, std::int32_t uncompressed_size, std::int32_t compressed_size,
                                std::int32_t num_values, format::encoding encoding);

/// Appends the Thrift PageHeader of a PLAIN-encoded DICTIONARY_PAGE.
void serialize_dictionary_page_header(byte_vector& out, std::int32_t uncompressed_size,
                                      std::int32_t compressed_size, std::int32_t num_values);

/// The row groups of a file as the footer lists them, each serialized (a Thrift RowGroup) as it
/// is flushed. A writer keeps only these bytes until the footer: a few hundred bytes per row
/// group, where the row_group_meta structs held several heap blocks per column chunk. They are
/// kept in small blocks (a deque), not one vector: a vector that doubles held up to twice the
/// bytes, and left a freed block behind at every doubling, which kept the memory of a sink with
/// many files open growing with the volume written.
class serialized_row_groups {
 public:
  /// Serializes `rg`, the next row group of a file of schema `s`.
  void append(const schema& s, const row_group_meta& rg, format::codec codec);
  std::size_t count() const noexcept { return count_; }
  std::int64_t num_rows() const noexcept { return num_rows_; }
  /// Appends the serialized row groups, in order, to `out`.
  void append_to(byte_vector& out) const { out.insert(out.end(), bytes_.begin(), bytes_.end()); }

 private:
  std::deque<std::byte> bytes_;
  byte_vector one_;  // the row group being serialized
  std::size_t count_ = 0;
  std::int64_t num_rows_ = 0;
};

/// Appends the Thrift FileMetaData (not the length or magic that follow it).
void serialize_file_metadata(byte_vector& out, const schema& s, const serialized_row_groups& row_groups,
                             std::span<const key_value> key_values, std::string_view created_by);

}  // namespace pw_parquet
