// read_row_group against file_writer: every tick schema and a mixed schema (optional columns,
// nulls, plain and dictionary strings, a dictionary that falls back to PLAIN, micro- and
// nanosecond timestamps, negative decimals) written with each codec, several row groups and
// small pages, read back and compared value by value; only the columns asked for are decoded;
// one column_chunk_reader decoding chunk after chunk into one output gives what a fresh decode
// gives; hostile chunks (cut off, a page size past the chunk, a bomb over max_page_bytes, a page
// with more values than the chunk, values over max_column_bytes) are typed errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "pw_parquet/column_reader.hpp"
#include "pw_parquet/footer_reader.hpp"
#include "pw_parquet/parquet.hpp"
#include "test_support.hpp"

namespace pq = pw_parquet;
using pq::value;

namespace {

using rows_t = std::vector<std::vector<value>>;

// Whether row `row` of `col` holds `expected` (the rows are written at the column's own scale
// and unit, so the stored integers are the values' own).
bool same(const pq::column_values& col, std::size_t row, std::size_t value_index, const value& expected) {
  if (expected.is_null()) return col.valid[row] == 0;
  if (col.valid[row] != 1) return false;
  switch (expected.kind()) {
    case pq::value_kind::boolean: return col.booleans.at(value_index) == (expected.as_bool() ? 1 : 0);
    case pq::value_kind::string: return pq::as_string_view(col.bytes_at(value_index)) == expected.as_string();
    default: return col.int64s.at(value_index) == expected.as_int64();
  }
}

// Reads every row group of `file`, all columns, and compares with `rows`.
void check_round_trip(const pq::byte_vector& file, const pq::schema& s, const rows_t& rows) {
  auto meta = pq::read_footer(file);
  PQ_REQUIRE_OK(meta);
  std::vector<std::size_t> all(s.columns.size());
  for (std::size_t c = 0; c < all.size(); ++c) all[c] = c;
  std::size_t first_row = 0;
  for (std::size_t g = 0; g < meta->row_groups.size(); ++g) {
    auto cols = pq::read_row_group(file, *meta, g, all);
    PQ_REQUIRE_OK(cols);
    const auto n = static_cast<std::size_t>(meta->row_groups[g].num_rows);
    for (std::size_t c = 0; c < all.size(); ++c) {
      const auto& col = (*cols)[c];
      CHECK(col.descriptor.name == s.columns[c].name);
      PQ_REQUIRE(col.rows() == n);
      std::size_t vi = 0;
      for (std::size_t r = 0; r < n; ++r) {
        const value& expected = rows.at(first_row + r).at(c);
        if (!same(col, r, vi, expected)) {
          FAIL_CHECK("row " << first_row + r << " column " << s.columns[c].name << " differs");
          return;
        }
        if (!expected.is_null()) ++vi;
      }
      CHECK(vi == col.value_count());
    }
    first_row += n;
  }
  CHECK(first_row == rows.size());
}

rows_t trades(std::size_t n) {
  rows_t rows;
  for (std::size_t k = 0; k < n; ++k) {
    const auto i = static_cast<std::int64_t>(k);
    rows.push_back({value::timestamp_millis(1700000000000 + i), value::string(i % 3 == 0 ? "ETHUSDT" : "BTCUSDT"),
                    value::int64(i * 7 - 100), value::decimal(9700010000000 + i * 13, 8), value::decimal(1000 + i, 8),
                    value::timestamp_millis(1700000000000 + i - 1), value::boolean(i % 5 < 2)});
  }
  return rows;
}

const pq::schema& mixed_schema() {
  static const pq::schema s{"mixed",
                            {pq::column_spec::int64("a").nullable(), pq::column_spec::timestamp("t", pq::time_unit::nanos),
                             pq::column_spec::timestamp("u", pq::time_unit::micros).nullable(),
                             pq::column_spec::decimal("d", 10, 2).nullable(), pq::column_spec::string("s").nullable(),
                             pq::column_spec::string("dict").nullable().dictionary(),
                             pq::column_spec::boolean("b").nullable()}};
  return s;
}

// Strings the rows view; they must outlive the rows.
std::vector<std::string> mixed_strings(std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t k = 0; k < n; ++k) out.push_back("s" + std::to_string(k * k) + std::string(k % 4, 'x'));
  return out;
}

rows_t mixed(const std::vector<std::string>& strings) {
  rows_t rows;
  for (std::size_t k = 0; k < strings.size(); ++k) {
    const auto i = static_cast<std::int64_t>(k);
    rows.push_back({i % 3 == 0 ? value::null() : value::int64(-i), value::timestamp_nanos(1700000000000000000 + i),
                    i % 2 ? value::null() : value::timestamp_micros(i * 1000 + 1), value::decimal(-i * 101, 2),
                    i % 7 == 0 ? value::null() : value::string(strings[k]),
                    i % 5 == 0 ? value::null() : value::string(strings[k % 40]), i % 4 == 0 ? value::null() : value::boolean(i % 3 == 1)});
  }
  return rows;
}


}  // namespace

TEST_CASE("every tick schema and a mixed schema round-trip through read_row_group, with each codec") {
  const std::vector<std::string> strings = mixed_strings(700);
  for (const auto codec : {pq::compression::uncompressed, pq::compression::snappy, pq::compression::zstd}) {
    CAPTURE(pq::to_string(codec));
    pq::writer_options o;
    o.codec = codec;
    o.max_rows_per_row_group = 300;
    o.data_page_bytes = 512;  // several pages per chunk
    o.max_dictionary_entries = 30;  // the mixed "dict" column falls back to PLAIN in some chunks
    const rows_t t = trades(700);
    check_round_trip(pq_test::write_whole_file(pq::ticks::trades_schema(), t, o), pq::ticks::trades_schema(), t);

    rows_t agg;
    rows_t book;
    for (std::size_t k = 0; k < 650; ++k) {
      const auto i = static_cast<std::int64_t>(k);
      agg.push_back({value::timestamp_millis(1700000000000 + i), value::string("BNBUSDT"), value::int64(i),
                     value::decimal(60000000 - i, 8), value::decimal(i * i, 8), value::int64(i * 2), value::int64(i * 2 + 1),
                     value::timestamp_millis(1700000000000 + i), value::boolean(i % 2 == 0)});
      book.push_back({value::int64(i + 1), value::string(i % 2 ? "BTCUSDT" : "ETHUSDT"), value::decimal(100 + i, 8),
                      value::decimal(200 + i, 8), value::decimal(300 + i, 8), value::decimal(400 + i, 8),
                      value::timestamp_millis(1700000000000 + i)});
    }
    check_round_trip(pq_test::write_whole_file(pq::ticks::agg_trades_schema(), agg, o), pq::ticks::agg_trades_schema(), agg);
    check_round_trip(pq_test::write_whole_file(pq::ticks::book_ticker_schema(), book, o), pq::ticks::book_ticker_schema(), book);

    const rows_t m = mixed(strings);
    check_round_trip(pq_test::write_whole_file(mixed_schema(), m, o), mixed_schema(), m);
  }
}

TEST_CASE("read_row_group decodes only the columns asked for, in the order asked") {
  const rows_t t = trades(50);
  const auto file = pq_test::write_whole_file(pq::ticks::trades_schema(), t, {});
  auto meta = pq::read_footer(file);
  PQ_REQUIRE_OK(meta);
  const std::size_t want[] = {pq::ticks::trades_price, pq::ticks::trades_symbol};
  auto cols = pq::read_row_group(file, *meta, 0, want);
  PQ_REQUIRE_OK(cols);
  PQ_REQUIRE(cols->size() == 2);
  CHECK((*cols)[0].descriptor.name == "price");
  CHECK((*cols)[0].storage == pq::value_storage::int64);
  CHECK((*cols)[0].descriptor.scale == 8);
  CHECK((*cols)[0].int64s.at(3) == 9700010000000 + 3 * 13);
  CHECK((*cols)[1].storage == pq::value_storage::bytes);
  CHECK(pq::as_string_view((*cols)[1].bytes_at(1)) == "BTCUSDT");
  const std::size_t bad[] = {99};
  CHECK(pq_test::fails_naming(pq::read_row_group(file, *meta, 0, bad), pq::errc::invalid_options, "no such column"));
  CHECK(pq_test::fails_naming(pq::read_row_group(file, *meta, 5, want), pq::errc::invalid_options, "no such row group"));
}

TEST_CASE("column_chunk_reader: one reader and one output, chunk after chunk, give what read_column_chunk gives") {
  const std::vector<std::string> strings = mixed_strings(700);  // the rows' string values point into it
  const rows_t m = mixed(strings);
  pq::writer_options o;
  o.codec = pq::compression::zstd;
  o.max_rows_per_row_group = 300;
  o.data_page_bytes = 512;
  o.max_dictionary_entries = 30;
  const auto file = pq_test::write_whole_file(mixed_schema(), m, o);
  auto meta = pq::read_footer(file);
  PQ_REQUIRE_OK(meta);
  const auto chunk_of = [&](std::size_t g, std::size_t c) {
    const auto& info = meta->row_groups[g].columns[c];
    return std::span<const std::byte>(file).subspan(static_cast<std::size_t>(info.first_page_offset()),
                                                    static_cast<std::size_t>(info.total_compressed_size));
  };
  pq::column_chunk_reader reader;
  pq::column_values out;  // every column of every row group goes through this one
  std::size_t chunks = 0;
  for (std::size_t g = 0; g < meta->row_groups.size(); ++g) {
    for (std::size_t k = 0; k < meta->columns.size(); ++k) {
      // Columns in reverse order in odd row groups, so each storage follows another.
      const std::size_t c = g % 2 ? meta->columns.size() - 1 - k : k;
      const auto& info = meta->row_groups[g].columns[c];
      auto fresh = pq::read_column_chunk(chunk_of(g, c), meta->columns[c], info);
      PQ_REQUIRE_OK(fresh);
      PQ_REQUIRE_OK(reader.read(chunk_of(g, c), meta->columns[c], info, out));
      CAPTURE(g);
      CAPTURE(c);
      CHECK(out.descriptor.name == fresh->descriptor.name);
      CHECK(out.storage == fresh->storage);
      CHECK(out.valid == fresh->valid);
      CHECK(out.booleans == fresh->booleans);
      CHECK(out.int32s == fresh->int32s);
      CHECK(out.int64s == fresh->int64s);
      // Bit for bit (memcmp is not allowed on the null data() of empty vectors).
      CHECK(std::equal(out.doubles.begin(), out.doubles.end(), fresh->doubles.begin(), fresh->doubles.end(),
                       [](double x, double y) { return std::bit_cast<std::uint64_t>(x) == std::bit_cast<std::uint64_t>(y); }));
      CHECK(out.bytes == fresh->bytes);
      CHECK(out.offsets == fresh->offsets);
      ++chunks;
      // A chunk cut in half in between: an error, and the next chunk decodes as if it had not been.
      const auto cut = chunk_of(g, c).first(chunk_of(g, c).size() / 2);
      CHECK_FALSE(reader.read(cut, meta->columns[c], info, out));
    }
  }
  CHECK(chunks == meta->row_groups.size() * meta->columns.size());
  CHECK(meta->row_groups.size() >= 3);
}

TEST_CASE("read_column_chunk: hostile chunks are typed errors") {
  const rows_t t = trades(200);
  pq::writer_options o;
  o.codec = pq::compression::snappy;
  const auto file = pq_test::write_whole_file(pq::ticks::trades_schema(), t, o);
  auto meta = pq::read_footer(file);
  PQ_REQUIRE_OK(meta);
  const auto& col = meta->columns[pq::ticks::trades_trade_id];
  const auto& info = meta->row_groups[0].columns[pq::ticks::trades_trade_id];
  const auto chunk = std::span<const std::byte>(file).subspan(static_cast<std::size_t>(info.first_page_offset()),
                                                              static_cast<std::size_t>(info.total_compressed_size));
  PQ_REQUIRE_OK(pq::read_column_chunk(chunk, col, info));

  SUBCASE("every prefix of the chunk") {
    for (std::size_t cut = 0; cut < chunk.size(); ++cut) {
      auto r = pq::read_column_chunk(chunk.first(cut), col, info);
      const bool typed = r.is_err() && (r.error().code() == pq::errc::truncated || r.error().code() == pq::errc::corrupt_page);
      CHECK_MESSAGE(typed, "cut at ", cut);
    }
  }
  SUBCASE("a bomb: a page declaring more than max_page_bytes") {
    pq::column_read_limits limits;
    limits.max_page_bytes = 100;  // the page holds 200 int64s, 1600 bytes
    CHECK(pq_test::fails_naming(pq::read_column_chunk(chunk, col, info, limits), pq::errc::limit_exceeded, "max_page_bytes"));
  }
  SUBCASE("decoded values over max_column_bytes") {
    pq::column_read_limits limits;
    limits.max_column_bytes = 1000;
    CHECK(pq_test::fails_naming(pq::read_column_chunk(chunk, col, info, limits), pq::errc::limit_exceeded, "max_column_bytes"));
  }
  SUBCASE("a page with more values than the chunk") {
    auto fewer = info;
    fewer.num_values = 10;
    CHECK(pq_test::fails_naming(pq::read_column_chunk(chunk, col, fewer), pq::errc::corrupt_page, "more values than the chunk"));
  }
  SUBCASE("a chunk with fewer values than the footer says") {
    auto more = info;
    more.num_values = 201;
    CHECK(pq_test::fails_naming(pq::read_column_chunk(chunk, col, more), pq::errc::truncated, "before its value count"));
  }
  SUBCASE("a page header whose compressed size runs past the chunk") {
    // The writer's page header starts type, uncompressed size, compressed size; rewrite the
    // header with a compressed size one larger than what follows.
    pq::byte_vector forged;
    pq::serialize_data_page_header(forged, 1600, static_cast<std::int32_t>(chunk.size()), 200, pq::format::encoding::plain);
    CHECK(pq_test::fails_naming(pq::read_column_chunk(forged, col, info), pq::errc::truncated, "compressed size runs past"));
  }
  SUBCASE("a page whose value count lies") {
    // An uncompressed PLAIN page of 2 int64s that claims 200 values.
    pq::byte_vector page;
    pq::serialize_data_page_header(page, 16, 16, 200, pq::format::encoding::plain);
    for (int k = 0; k < 16; ++k) page.push_back(std::byte{1});
    auto plain = info;
    plain.codec = pq::format::codec::uncompressed;
    CHECK(pq_test::fails_naming(pq::read_column_chunk(page, col, plain), pq::errc::corrupt_page, "PLAIN values run past"));
  }
  SUBCASE("a dictionary index past the dictionary") {
    const auto& sym = meta->columns[pq::ticks::trades_symbol];
    auto sinfo = meta->row_groups[0].columns[pq::ticks::trades_symbol];
    // One-entry uncompressed dictionary, then a data page whose index (RLE run of 200 x 1) is out of range.
    pq::byte_vector bytes;
    pq::byte_vector dict;
    pq::append_le(dict, std::uint32_t{3});
    pq::append_bytes(dict, std::string_view("BTC"));
    pq::serialize_dictionary_page_header(bytes, static_cast<std::int32_t>(dict.size()), static_cast<std::int32_t>(dict.size()), 1);
    pq::append_bytes(bytes, dict);
    const pq::byte_vector data{std::byte{1}, std::byte{0x90}, std::byte{0x03}, std::byte{1}};  // width 1, run 200 x 1
    pq::serialize_data_page_header(bytes, 4, 4, 200, pq::format::encoding::rle_dictionary);
    pq::append_bytes(bytes, data);
    sinfo.codec = pq::format::codec::uncompressed;
    CHECK(pq_test::fails_naming(pq::read_column_chunk(bytes, sym, sinfo), pq::errc::corrupt_page, "above the maximum"));
  }
}

TEST_CASE("read_row_group reads pyarrow's and Polars' files (the fuzz seeds, fuzz/make_corpus.py)") {
  for (const char* name : {"pyarrow_default", "pyarrow_zstd_v1_pages", "pyarrow_v2_pages", "polars_default"}) {
    CAPTURE(name);
    const auto file = pq_test::read_whole_file(std::string(PQ_FOOTER_SEED_DIR) + "/" + name + ".parquet");
    auto meta = pq::read_footer(file);
    PQ_REQUIRE_OK(meta);
    const std::size_t all[] = {0, 1, 2, 3, 4, 5, 6, 7, 8};
    auto cols = pq::read_row_group(file, *meta, 0, all);
    PQ_REQUIRE_OK(cols);
    const auto& c = *cols;
    const std::vector<std::uint8_t> two_then_null{1, 1, 0};
    CHECK(c[0].valid == two_then_null);
    CHECK(c[0].int64s == std::vector<std::int64_t>{1732233600000, 1732233600005});
    CHECK(pq::as_string_view(c[1].bytes_at(0)) == "BTCUSDT");
    CHECK(pq::as_string_view(c[1].bytes_at(1)) == "ETHUSDT");
    CHECK(pq::as_string_view(c[1].bytes_at(2)) == "BTCUSDT");
    CHECK(c[2].int64s == std::vector<std::int64_t>{1, 2, 3});
    CHECK(c[3].valid == two_then_null);
    CHECK(c[3].int64s == std::vector<std::int64_t>{9700010000000, 310050000000});
    CHECK(c[4].int32s == std::vector<std::int32_t>{1, -2, 3});
    CHECK(c[5].doubles == std::vector<double>{0.5, 1.25});
    CHECK(c[6].booleans == std::vector<std::uint8_t>{1, 0});
    CHECK(c[7].value_count() == 2);
    CHECK(c[7].bytes_at(0).size() == 2);
    CHECK(c[7].bytes_at(1).empty());
    CHECK(c[8].storage == pq::value_storage::bytes);  // DECIMAL(30, 2): the big-endian bytes as stored
    CHECK(c[8].value_count() == 2);
  }
}
