// parquet_file_reader: the footer from the file's tail alone; row groups decoded through pw::fs
// equal to what pw_parquet decodes from the whole file, with the reader's own buffers and with
// buffers lent to one reader after another; the chunk-size limit; hostile paths and files (a
// directory, a missing file, a short file, a file cut after it was opened, a row group or
// column that does not exist), each an error naming the file.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <polarway/runtime.hpp>
#include <pw_parquet/parquet.hpp>

#include "parquet_file_reader.hpp"
#include "support/temp_dir.hpp"

namespace pw = polarway;
namespace pq = pw_parquet;
namespace app = ticks::app;
namespace fs = std::filesystem;

namespace {

// A trades file of `n` rows, `per_group` rows per row group; returns its bytes.
pq::byte_vector write_trades(const fs::path& path, std::size_t n, std::size_t per_group) {
  pq::writer_options options;
  options.max_rows_per_row_group = per_group;
  options.codec = pq::compression::zstd;
  auto w = pq::file_writer::create(pq::ticks::trades_schema(), options);
  REQUIRE(w);
  pq::byte_vector out;
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<std::int64_t>(i);
    const pq::value row[] = {pq::value::timestamp_millis(1732233600000 + k), pq::value::string(i % 3 ? "BTCUSDT" : "ETHUSDT"),
                             pq::value::int64(k),                             pq::value::decimal(9700010000000 + k * 7, 8),
                             pq::value::decimal(150000 + k, 8),               pq::value::timestamp_millis(1732233600000 + k),
                             pq::value::boolean(k % 2 == 0)};
    REQUIRE(w->append_row(row, out));
  }
  REQUIRE(w->finish(out));
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
  return out;
}

bool same(const pq::column_values& a, const pq::column_values& b) {
  return a.descriptor.name == b.descriptor.name && a.storage == b.storage && a.valid == b.valid &&
         a.booleans == b.booleans && a.int64s == b.int64s && a.bytes == b.bytes && a.offsets == b.offsets;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("row groups through pw::fs equal pw_parquet's decode of the whole file; open reads only the footer") {
  pw_test::temp_dir temp;
  const fs::path dir_path = temp.path;
  const fs::path a = dir_path / "a.parquet", b = dir_path / "b.parquet";
  const pq::byte_vector bytes_a = write_trades(a, 2000, 300), bytes_b = write_trades(b, 700, 128);
  pw::runtime rt(pw::runtime_options{.workers = 2});
  const std::vector<std::size_t> wanted = {pq::ticks::trades_price, pq::ticks::trades_symbol,
                                           pq::ticks::trades_is_buyer_maker, pq::ticks::trades_trade_id};
  // Every row group of `path` read through `reader` must equal the whole-file decode.
  const auto check_file = [&](app::parquet_file_reader& reader, const pq::byte_vector& bytes) {
    auto meta = pq::read_footer(bytes);
    REQUIRE(meta);
    REQUIRE(reader.metadata().row_groups.size() == meta->row_groups.size());
    for (std::size_t g = 0; g < meta->row_groups.size(); ++g) {
      auto want = pq::read_row_group(bytes, *meta, g, wanted);
      REQUIRE(want);
      auto got = rt.block_on(reader.read_row_group(g, wanted));
      REQUIRE(got);
      REQUIRE(got->size() == wanted.size());
      for (std::size_t c = 0; c < wanted.size(); ++c) {
        CAPTURE(g);
        CAPTURE(c);
        CHECK(same((*got)[c], (*want)[c]));
      }
    }
  };

  auto reader = rt.block_on(app::parquet_file_reader::open(a.string()));
  REQUIRE(reader);
  // The 8-byte tail and the FileMetaData before it, nothing else.
  std::uint32_t footer = 0;
  std::memcpy(&footer, bytes_a.data() + bytes_a.size() - 8, 4);
  CHECK(reader->bytes_read() == 8 + footer);
  CHECK(reader->path() == a.string());
  CHECK(reader->column_index("price").value() == pq::ticks::trades_price);
  CHECK(reader->column_index("nothing").is_none());
  check_file(*reader, bytes_a);
  CHECK(reader->bytes_read() < bytes_a.size());  // only four of the seven columns

  // Buffers lent to one reader after another: each file still decodes exactly.
  app::row_group_buffers lent;
  for (int round = 0; round < 2; ++round) {
    for (const auto& [path, bytes] : {std::pair{a, &bytes_a}, std::pair{b, &bytes_b}}) {
      auto r = rt.block_on(app::parquet_file_reader::open(path.string(), lent));
      REQUIRE(r);
      check_file(*r, *bytes);
    }
  }
}

TEST_CASE("hostile paths, files and requests: errors naming the file (and the column)") {
  pw_test::temp_dir temp;
  const fs::path dir_path = temp.path;
  const fs::path good = dir_path / "good.parquet";
  write_trades(good, 1000, 250);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  const auto open_fails = [&](const fs::path& p, const std::string& what) {
    auto r = rt.block_on(app::parquet_file_reader::open(p.string()));
    REQUIRE_FALSE(r);
    CAPTURE(r.error());
    CHECK(contains(r.error(), p.string()));
    CHECK(contains(r.error(), what));
  };
  open_fails(dir_path, "not a regular file");
  open_fails(dir_path / "missing.parquet", "");
  std::ofstream(dir_path / "short.parquet") << "PAR1";
  open_fails(dir_path / "short.parquet", "not a Parquet file (4 bytes)");

  const std::vector<std::size_t> price = {pq::ticks::trades_price};
  {
    auto r = rt.block_on(app::parquet_file_reader::open(good.string()));
    REQUIRE(r);
    auto no_group = rt.block_on(r->read_row_group(99, price));
    REQUIRE_FALSE(no_group);
    CHECK(contains(no_group.error(), "no row group 99"));
    const std::vector<std::size_t> no_such = {42};
    auto no_column = rt.block_on(r->read_row_group(0, no_such));
    REQUIRE_FALSE(no_column);
    CHECK(contains(no_column.error(), "no column 42"));
  }
  {
    // A chunk above the limit is refused before it is read.
    pq::column_read_limits limits;
    limits.max_column_bytes = 16;
    auto r = rt.block_on(app::parquet_file_reader::open(good.string(), limits));
    REQUIRE(r);
    const auto before = r->bytes_read();
    auto big = rt.block_on(r->read_row_group(0, price));
    REQUIRE_FALSE(big);
    CHECK(contains(big.error(), good.string() + ": column \"price\": a chunk of"));
    CHECK(contains(big.error(), "over the limit of 16"));
    CHECK(r->bytes_read() == before);
  }
  {
    // The file is cut after the footer was read: the chunks past the cut are missing.
    auto r = rt.block_on(app::parquet_file_reader::open(good.string()));
    REQUIRE(r);
    fs::resize_file(good, 100);
    auto cut = rt.block_on(r->read_row_group(r->metadata().row_groups.size() - 1, price));
    REQUIRE_FALSE(cut);
    CHECK(contains(cut.error(), "column \"price\""));
    CHECK(contains(cut.error(), "ended early"));
  }
}
