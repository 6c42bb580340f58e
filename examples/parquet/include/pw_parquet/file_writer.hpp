// pw_parquet::file_writer: turns rows into the bytes of one Parquet file, without touching a
// file. The caller owns the output: every call that produces bytes appends them to a
// caller-provided byte vector, and the caller may write that vector out and clear it between
// calls (the writer counts the bytes it has produced itself, so file offsets stay right). This
// is what lets an async sink own the I/O (temp file, fsync, rename) while this stays a pure,
// synchronous encoder.
//
// Memory is bounded by one row group: rows are buffered per column until flush_row_group() or
// until options.max_rows_per_row_group / max_row_group_bytes is reached inside append_row(),
// then encoded (PLAIN or dictionary pages, compressed page by page) and appended, and the
// buffers are reused. Only the footer's per-row-group metadata outlives a flush.
//
// Errors are values. A row is validated whole before any of it is buffered, so a bad row
// leaves the writer exactly as it was; a failed flush appends nothing (it truncates `out` back
// to where it was) and keeps the rows buffered. A writer is used by one task at a time (it is
// movable, and a moved-from writer may only be destroyed or assigned to); independent writers
// share no state, unless they are given one encode_scratch (writer_options::scratch), which
// only writers used from one thread may share. Layout of the output:
//   "PAR1" | row group 0 | row group 1 | ... | FileMetaData | footer length (u32 LE) | "PAR1"
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

#include "pw_parquet/bytes.hpp"
#include "pw_parquet/compression.hpp"
#include "pw_parquet/metadata.hpp"
#include "pw_parquet/schema.hpp"
#include "pw_parquet/value.hpp"

namespace pw_parquet {

/// "polarway parquet writer version 0.1.0 (build <id>)": the "<name> version <x.y.z>" shape
/// readers parse to apply per-writer workarounds.
std::string default_created_by();

/// The buffers a writer encodes a row group in (a page, its header and levels, a string column's
/// dictionary, the compressed page) and its compressor. They matter only while a row group is
/// flushed, so writers that are flushed one at a time, from one thread, can share one (see
/// writer_options::scratch): a sink with many files open then holds one set, not one per file
/// (a page and its compressed copy are about 300 KB at 16,384 rows).
struct encode_scratch {
  /// For writers with this codec and zstd level.
  static polarway::result<std::shared_ptr<encode_scratch>> create(compression codec, int zstd_level = 3);
  explicit encode_scratch(compressor c) noexcept : comp(std::move(c)) {}

  compressor comp;
  byte_vector page, levels, header;
  std::vector<std::uint32_t> dict_indices;
  std::vector<std::string_view> dict_entries;  // views into the column being flushed
  std::unordered_map<std::string_view, std::uint32_t> dict_map;
};

struct writer_options {
  compression codec = compression::snappy;
  int zstd_level = 3;
  /// A row group is flushed by append_row once it holds this many rows...
  std::size_t max_rows_per_row_group = 1u << 20;
  /// ...or once its buffered values take about this many bytes.
  std::size_t max_row_group_bytes = std::size_t{64} << 20;
  /// Data pages are cut when their uncompressed values reach about this size.
  std::size_t data_page_bytes = std::size_t{1} << 20;
  /// A dictionary column falls back to PLAIN for a chunk with more distinct values than this...
  std::size_t max_dictionary_entries = 1u << 16;
  /// ...or whose dictionary page would be larger than this.
  std::size_t max_dictionary_bytes = std::size_t{1} << 20;
  /// Min/max statistics longer than this are left out (strings only; null_count is always written).
  std::size_t max_statistics_bytes = 4096;
  std::string created_by = default_created_by();
  std::vector<key_value> key_value_metadata;
  /// Encoding buffers shared with other writers (made for the same codec and zstd level, else
  /// create() fails with errc::invalid_options); none: the writer has its own. Writers that
  /// share one must not be used from two threads at once.
  std::shared_ptr<encode_scratch> scratch;
};

/// Where the last rejected value was: which row (counted from the start of the file) and column.
struct error_location {
  std::uint64_t row = 0;
  std::size_t column = 0;
};

class file_writer {
 public:
  /// A writer for `s`; errc::invalid_schema or errc::invalid_options if either is unusable.
  static polarway::result<file_writer> create(schema s, writer_options options = {});

  file_writer(file_writer&&) noexcept;
  file_writer& operator=(file_writer&&) noexcept;
  ~file_writer();

  /// Buffers one row (one value per column, in schema order). Appends a row group to `out`
  /// when a size limit is reached. A rejected row changes nothing.
  polarway::result<void> append_row(std::span<const value> row, byte_vector& out);
  polarway::result<void> append_row(std::initializer_list<value> row, byte_vector& out) {
    return append_row(std::span<const value>(row.begin(), row.size()), out);
  }

  /// Encodes the buffered rows as one row group and appends it to `out`; no-op when empty.
  polarway::result<void> flush_row_group(byte_vector& out);

  /// Flushes, then appends the footer. The writer accepts nothing afterwards.
  polarway::result<void> finish(byte_vector& out);

  /// Adds a key-value pair to the footer (before finish()); a repeated key replaces the value.
  void set_key_value(std::string key, std::string value);

  const pw_parquet::schema& schema() const noexcept;
  /// Bytes produced so far: the file offset of the next byte appended.
  std::uint64_t bytes_written() const noexcept;
  /// Rows already flushed into row groups.
  std::uint64_t rows_written() const noexcept;
  std::size_t buffered_rows() const noexcept;
  std::size_t buffered_bytes() const noexcept;
  std::size_t row_groups_written() const noexcept;
  bool finished() const noexcept;
  /// The row and column of the last value append_row rejected, if it rejected one.
  polarway::option<error_location> last_error_location() const noexcept;

 private:
  struct impl;
  explicit file_writer(std::unique_ptr<impl> p) noexcept;
  std::unique_ptr<impl> impl_;
};

}  // namespace pw_parquet
