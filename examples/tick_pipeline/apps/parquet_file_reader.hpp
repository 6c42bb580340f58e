// ticks::app::parquet_file_reader: a Parquet file read through pw::fs, a row group at a time.
//
// open() reads the 8-byte tail and the footer only; read_row_group() reads the byte range of
// each column chunk asked for and decodes it with pw_parquet::read_column_chunk. So memory is
// the footer plus, while a row group is read, the compressed chunks of the wanted columns and
// their decoded values: the file's size does not matter. A chunk whose compressed size is
// above `limits.max_column_bytes` is refused before anything is allocated for it.
//
// Every error is text naming the file, and for column data the column: "<path>: column
// \"price\": <what pw_parquet said>". The footer's checks (pw_parquet::decode_file_metadata) hold
// for metadata(): flat schema, each chunk inside the data region, counts that add up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include <polarway/fs/file.hpp>
#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>
#include <pw_parquet/column_reader.hpp>
#include <pw_parquet/footer_reader.hpp>

namespace ticks::app {

class parquet_file_reader {
 public:
  /// Opens `path` and reads its footer.
  static polarway::task<polarway::result<parquet_file_reader, std::string>> open(
      std::string path, pw_parquet::column_read_limits limits = {});

  const std::string& path() const noexcept { return path_; }
  const pw_parquet::file_metadata& metadata() const noexcept { return meta_; }
  /// The index of the leaf named `name`, if the schema has one.
  polarway::option<std::size_t> column_index(std::string_view name) const noexcept;
  /// Bytes read from the file so far (tail, footer and chunks).
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }

  /// Decodes the columns `columns` (indexes into metadata().columns) of row group `row_group`,
  /// in the order asked.
  polarway::task<polarway::result<std::vector<pw_parquet::column_values>, std::string>> read_row_group(
      std::size_t row_group, std::vector<std::size_t> columns);

 private:
  parquet_file_reader(std::string path, polarway::fs::file file, pw_parquet::column_read_limits limits)
      : path_(std::move(path)), file_(std::move(file)), limits_(limits) {}

  polarway::task<polarway::result<void>> read_exact(std::span<std::byte> buf, std::uint64_t offset);

  std::string path_;
  polarway::fs::file file_;
  pw_parquet::column_read_limits limits_;
  pw_parquet::file_metadata meta_;
  std::vector<std::byte> chunk_;  // the compressed chunk being decoded, reused
  std::uint64_t bytes_read_ = 0;
};

/// A min or max statistic of an INT64 column (PLAIN: 8 bytes, little-endian); none when absent
/// or of another size.
polarway::option<std::int64_t> int64_statistic(const polarway::option<pw_parquet::byte_vector>& v) noexcept;

}  // namespace ticks::app
