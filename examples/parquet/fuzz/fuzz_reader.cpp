// libFuzzer target: untrusted bytes -> read_footer (a whole file image), then read_row_group
// over every column of the first row groups of each file it accepts; and, for the same bytes
// taken as a bare FileMetaData, decode_file_metadata, so that mutations reach the Thrift walk
// without having to keep the magics and the length intact.
//
// Besides the sanitizers' checks it asserts the reader's promises: on every footer accepted,
// one chunk per leaf in every row group, each chunk's byte range inside the data region, value
// counts equal to row counts, row counts that add up to the file's; on every row group
// decoded, one validity flag per row and one value per valid flag.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "pw_parquet/column_reader.hpp"
#include "pw_parquet/footer_reader.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_promises(const pw_parquet::file_metadata& m, std::uint64_t data_end) {
  std::int64_t rows = 0;
  for (const auto& rg : m.row_groups) {
    check(rg.columns.size() == m.columns.size());
    rows += rg.num_rows;
    for (const auto& c : rg.columns) {
      check(c.num_values == rg.num_rows);
      check(c.first_page_offset() >= 4);
      check(static_cast<std::uint64_t>(c.first_page_offset() + c.total_compressed_size) <= data_end);
    }
  }
  check(rows == m.num_rows);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  pw_parquet::footer_limits limits;
  limits.max_metadata_bytes = 1 << 20;
  if (auto m = pw_parquet::read_footer(bytes, limits)) {
    std::uint32_t len = 0;
    for (std::size_t k = 0; k < 4; ++k) len |= static_cast<std::uint32_t>(bytes[size - 8 + k]) << (8 * k);
    check_promises(*m, size - 8 - len);
    pw_parquet::column_read_limits column_limits;
    column_limits.max_page_bytes = 1 << 20;
    column_limits.max_column_bytes = 16 << 20;
    std::vector<std::size_t> all(m->columns.size());
    for (std::size_t c = 0; c < all.size(); ++c) all[c] = c;
    for (std::size_t g = 0; g < m->row_groups.size() && g < 4; ++g) {
      auto cols = pw_parquet::read_row_group(bytes, *m, g, all, column_limits);
      if (!cols) continue;
      for (const auto& col : *cols) {
        check(col.rows() == static_cast<std::size_t>(m->row_groups[g].num_rows));
        std::size_t valid = 0;
        for (const std::uint8_t v : col.valid) valid += v;
        check(valid == col.value_count());
      }
    }
  }
  if (auto m = pw_parquet::decode_file_metadata(bytes, std::uint64_t{1} << 40, limits)) check_promises(*m, std::uint64_t{1} << 40);
  return 0;
}
