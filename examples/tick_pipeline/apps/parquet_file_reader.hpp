// ticks::app::parquet_file_reader: a Parquet file read through pw::fs, a row group at a time.
//
// open() reads the 8-byte tail and the footer only; read_row_group() reads the byte range of
// each column chunk asked for and decodes it (pw_parquet::column_chunk_reader). So memory is the
// footer, one compressed chunk and one row group's decoded columns, reused from one row group
// to the next (and from one file to the next, with lent row_group_buffers): the file's size
// does not matter. A chunk whose compressed size is
// above `limits.max_column_bytes` is refused before anything is allocated for it.
//
// Every error is text naming the file, and for column data the column: "<path>: column
// \"price\": <what pw_parquet said>". The footer's checks (pw_parquet::decode_file_metadata) hold
// for metadata(): flat schema, each chunk inside the data region, counts that add up.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/fs/file.hpp>
#include <polarway/option.hpp>
#include <polarway/result.hpp>
#include <polarway/task.hpp>
#include <pw_parquet/column_reader.hpp>
#include <pw_parquet/footer_reader.hpp>

namespace ticks::app {

/// The index of the leaf named `name` in `meta`'s schema, if it has one.
polarway::option<std::size_t> column_index(const pw_parquet::file_metadata& meta, std::string_view name) noexcept;

/// What decoding row groups needs: the decoder's buffers, the compressed chunk and the decoded
/// columns. A reader keeps them from one row group to the next; a caller that reads file after
/// file can lend the same ones to each reader in turn, so that nothing is allocated once they
/// have grown to the largest row group.
struct row_group_buffers {
  explicit row_group_buffers(pw_parquet::column_read_limits limits = {}) : decoder(limits) {}
  pw_parquet::column_chunk_reader decoder;
  std::vector<std::byte> chunk;
  std::vector<pw_parquet::column_values> values;
};

class parquet_file_reader {
 public:
  /// Opens `path` and reads its footer; the reader has buffers of its own.
  static polarway::task<polarway::result<parquet_file_reader, std::string>> open(
      std::string path, pw_parquet::column_read_limits limits = {});
  /// The same, decoding into `buffers` (and with their decoder's limits), which must outlive
  /// the reader and serve no other reader meanwhile.
  static polarway::task<polarway::result<parquet_file_reader, std::string>> open(std::string path,
                                                                                 row_group_buffers& buffers);

  const std::string& path() const noexcept { return path_; }
  const pw_parquet::file_metadata& metadata() const noexcept { return meta_; }
  /// The index of the leaf named `name`, if the schema has one.
  polarway::option<std::size_t> column_index(std::string_view name) const noexcept {
    return ticks::app::column_index(meta_, name);
  }
  /// Bytes read from the file so far (tail, footer and chunks).
  std::uint64_t bytes_read() const noexcept { return bytes_read_; }

  /// Decodes the columns `columns` (indexes into metadata().columns) of row group `row_group`,
  /// in the order asked. `columns` must outlive the task. The values stay valid until the next
  /// call: every row group is decoded into the same vectors (row_group_buffers::values).
  polarway::task<polarway::result<std::span<const pw_parquet::column_values>, std::string>> read_row_group(
      std::size_t row_group, std::span<const std::size_t> columns);

 private:
  parquet_file_reader(std::string path, polarway::fs::file file, std::unique_ptr<row_group_buffers> own,
                      row_group_buffers* buffers)
      : path_(std::move(path)), file_(std::move(file)), own_(std::move(own)), buffers_(own_ ? own_.get() : buffers) {}

  static polarway::task<polarway::result<parquet_file_reader, std::string>> open_with(
      std::string path, std::unique_ptr<row_group_buffers> own, row_group_buffers* borrowed);
  polarway::task<polarway::result<void>> read_exact(std::span<std::byte> buf, std::uint64_t offset);

  std::string path_;
  polarway::fs::file file_;
  std::unique_ptr<row_group_buffers> own_;  // none when the buffers are lent
  row_group_buffers* buffers_;
  pw_parquet::file_metadata meta_;
  std::uint64_t bytes_read_ = 0;
};

/// A min or max statistic of an INT64 column (PLAIN: 8 bytes, little-endian); none when absent
/// or of another size.
polarway::option<std::int64_t> int64_statistic(const polarway::option<pw_parquet::byte_vector>& v) noexcept;

}  // namespace ticks::app
