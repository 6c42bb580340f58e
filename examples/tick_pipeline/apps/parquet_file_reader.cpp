#include "parquet_file_reader.hpp"

#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <utility>

namespace ticks::app {

namespace pw = polarway;
namespace pq = pw_parquet;

pw::task<pw::result<parquet_file_reader, std::string>> parquet_file_reader::open(std::string path,
                                                                                  pq::column_read_limits limits) {
  return open_with(std::move(path), std::make_unique<row_group_buffers>(limits), nullptr);
}

pw::task<pw::result<parquet_file_reader, std::string>> parquet_file_reader::open(std::string path,
                                                                                  row_group_buffers& buffers) {
  return open_with(std::move(path), nullptr, &buffers);
}

pw::task<pw::result<parquet_file_reader, std::string>> parquet_file_reader::open_with(
    std::string path, std::unique_ptr<row_group_buffers> own, row_group_buffers* borrowed) {
  auto opened = co_await pw::fs::file::open(path, pw::fs::open_options{.read = true});
  if (!opened) co_return pw::err(path + ": " + opened.error().message());
  parquet_file_reader r(std::move(path), std::move(*opened), std::move(own), borrowed);
  struct stat st{};
  if (::fstat(r.file_.native_handle(), &st) != 0) co_return pw::err(r.path_ + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) co_return pw::err(r.path_ + ": not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size < 8) co_return pw::err(r.path_ + ": not a Parquet file (" + std::to_string(size) + " bytes)");
  std::array<std::byte, 8> tail{};
  if (auto got = co_await r.read_exact(tail, size - 8); !got) co_return pw::err(r.path_ + ": " + got.error().message());
  auto length = pq::footer_length(tail, size);
  if (!length) co_return pw::err(r.path_ + ": " + length.error().message());
  std::vector<std::byte> meta_bytes(*length);
  const std::uint64_t meta_at = size - 8 - *length;
  if (auto got = co_await r.read_exact(meta_bytes, meta_at); !got)
    co_return pw::err(r.path_ + ": " + got.error().message());
  auto meta = pq::decode_file_metadata(meta_bytes, meta_at);
  if (!meta) co_return pw::err(r.path_ + ": " + meta.error().message());
  r.meta_ = std::move(*meta);
  co_return pw::ok(std::move(r));
}

pw::option<std::size_t> column_index(const pq::file_metadata& meta, std::string_view name) noexcept {
  for (std::size_t i = 0; i < meta.columns.size(); ++i)
    if (meta.columns[i].name == name) return i;
  return pw::none;
}

pw::task<pw::result<void>> parquet_file_reader::read_exact(std::span<std::byte> buf, std::uint64_t offset) {
  while (!buf.empty()) {
    auto n = co_await file_.read_at(buf, offset);
    if (!n) co_return pw::err(n.error());
    if (*n == 0) co_return pw::err(pw::error(std::errc::io_error, "the file ended early (changed while read?)"));
    buf = buf.subspan(*n);
    offset += *n;
    bytes_read_ += *n;
  }
  co_return pw::ok();
}

pw::task<pw::result<std::span<const pq::column_values>, std::string>> parquet_file_reader::read_row_group(
    std::size_t row_group, std::span<const std::size_t> columns) {
  if (row_group >= meta_.row_groups.size())
    co_return pw::err(path_ + ": no row group " + std::to_string(row_group));
  row_group_buffers& b = *buffers_;
  if (b.values.size() < columns.size()) b.values.resize(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const std::size_t c = columns[i];
    if (c >= meta_.columns.size()) co_return pw::err(path_ + ": no column " + std::to_string(c));
    const pq::column_descriptor& column = meta_.columns[c];
    const pq::column_chunk_info& info = meta_.row_groups[row_group].columns[c];
    const auto where = [&] { return path_ + ": column \"" + column.name + "\": "; };
    // The footer's checks put the chunk inside the data region, so both are non-negative.
    const auto size = static_cast<std::uint64_t>(info.total_compressed_size);
    if (size > b.decoder.limits().max_column_bytes)
      co_return pw::err(where() + "a chunk of " + std::to_string(size) + " compressed bytes is over the limit of " +
                        std::to_string(b.decoder.limits().max_column_bytes));
    b.chunk.resize(size);
    if (auto got = co_await read_exact(b.chunk, static_cast<std::uint64_t>(info.first_page_offset())); !got)
      co_return pw::err(where() + got.error().message());
    if (auto decoded = b.decoder.read(b.chunk, column, info, b.values[i]); !decoded)
      co_return pw::err(where() + decoded.error().message());
  }
  co_return pw::ok(std::span<const pq::column_values>(b.values.data(), columns.size()));
}

pw::option<std::int64_t> int64_statistic(const pw::option<pq::byte_vector>& v) noexcept {
  if (!v || v->size() != sizeof(std::int64_t)) return pw::none;
  std::int64_t x = 0;
  std::memcpy(&x, v->data(), sizeof x);  // PLAIN int64 is little-endian, as this host
  return x;
}

}  // namespace ticks::app
