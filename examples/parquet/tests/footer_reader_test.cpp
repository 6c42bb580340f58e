// read_footer: the footers our writer produces decode to what was written (schema, row groups,
// chunk offsets, codec, encodings, statistics, key-value metadata), the Thrift decoder's bounds
// hold, and every kind of hostile file is a typed error whose context names the failed check.
// Hostile footers are built with the writer's own compact encoder, so each test states exactly
// which field lies.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "pw_parquet/footer_reader.hpp"
#include "pw_parquet/parquet.hpp"
#include "pw_parquet/thrift_compact.hpp"
#include "pw_parquet/thrift_compact_reader.hpp"
#include "test_support.hpp"

namespace pq = pw_parquet;
namespace th = pw_parquet::thrift;
namespace f = pw_parquet::format;
using pq::value;

namespace {

std::vector<value> trade_row(std::int64_t i) {
  return {value::timestamp_millis(1700000000000 + i), value::string(i % 3 == 0 ? "ETHUSDT" : "BTCUSDT"),
          value::int64(i), value::decimal(9700010000000 + i, 8), value::decimal(1000 + i, 8),
          value::timestamp_millis(1700000000000 + i - 1), value::boolean(i % 2 == 0)};
}

std::int64_t le64(const pq::byte_vector& b) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < b.size() && k < 8; ++k) v |= static_cast<std::uint64_t>(b[k]) << (8 * k);
  return static_cast<std::int64_t>(v);
}

// A file image around a FileMetaData: magic, `data` bytes of page data, metadata, length, magic.
pq::byte_vector wrap(const pq::byte_vector& metadata, std::size_t data = 64) {
  pq::byte_vector file;
  pq::append_bytes(file, std::string_view("PAR1"));
  file.resize(file.size() + data);
  pq::append_bytes(file, metadata);
  pq::append_le(file, static_cast<std::uint32_t>(metadata.size()));
  pq::append_bytes(file, std::string_view("PAR1"));
  return file;
}

// The knobs of a one-column (INT64 "x"), one-row-group FileMetaData that the hostile tests bend.
struct footer_spec {
  std::int64_t num_rows = 3;       // the row group's
  std::int64_t file_num_rows = 3;  // FileMetaData's
  std::int64_t chunk_values = 3;
  std::int64_t data_page_offset = 4;
  std::int64_t compressed_size = 60;
  std::int32_t repetition = 0;
  std::int32_t root_children = 1;
  bool leaf_has_children = false;
  bool with_row_groups = true;
  std::string path = "x";
};

pq::byte_vector footer(const footer_spec& s) {
  pq::byte_vector out;
  th::compact_writer w(out);
  w.begin_struct();
  w.field_i32(f::file_meta_data_field::version, 1);
  w.field_list(f::file_meta_data_field::schema, th::type::struct_, 2);
  w.begin_struct();
  w.field_string(f::schema_element_field::name, "root");
  w.field_i32(f::schema_element_field::num_children, s.root_children);
  w.end_struct();
  w.begin_struct();
  w.field_i32(f::schema_element_field::type, static_cast<std::int32_t>(f::physical_type::int64));
  w.field_i32(f::schema_element_field::repetition_type, s.repetition);
  w.field_string(f::schema_element_field::name, "x");
  if (s.leaf_has_children) w.field_i32(f::schema_element_field::num_children, 1);
  w.end_struct();
  w.field_i64(f::file_meta_data_field::num_rows, s.file_num_rows);
  if (s.with_row_groups) {
    w.field_list(f::file_meta_data_field::row_groups, th::type::struct_, 1);
    w.begin_struct();
    w.field_list(f::row_group_field::columns, th::type::struct_, 1);
    w.begin_struct();
    w.field_i64(f::column_chunk_field::file_offset, 0);
    w.field_struct(f::column_chunk_field::meta_data);
    namespace cm = f::column_meta_data_field;
    w.field_i32(cm::type, static_cast<std::int32_t>(f::physical_type::int64));
    w.field_list(cm::encodings, th::type::i32, 1);
    w.write_i32(static_cast<std::int32_t>(f::encoding::plain));
    w.field_list(cm::path_in_schema, th::type::binary, 1);
    w.write_string(s.path);
    w.field_i32(cm::codec, 0);
    w.field_i64(cm::num_values, s.chunk_values);
    w.field_i64(cm::total_uncompressed_size, s.compressed_size);
    w.field_i64(cm::total_compressed_size, s.compressed_size);
    w.field_i64(cm::data_page_offset, s.data_page_offset);
    w.end_struct();
    w.end_struct();
    w.field_i64(f::row_group_field::total_byte_size, s.compressed_size);
    w.field_i64(f::row_group_field::num_rows, s.num_rows);
    w.end_struct();
  }
  w.end_struct();
  return out;
}


}  // namespace

TEST_CASE("the compact reader reads back what the compact writer wrote") {
  pq::byte_vector out;
  th::compact_writer w(out);
  w.begin_struct();
  w.field_i32(1, -7);
  w.field_i64(2, INT64_MIN);
  w.field_string(3, "hello");
  w.field_bool(4, true);
  w.field_i16(40, 300);  // long-form header
  w.field_list(41, th::type::i32, 20);
  for (int i = 0; i < 20; ++i) w.write_i32(i - 10);
  w.field_struct(42);
  w.field_bool(1, false);
  w.end_struct();
  w.end_struct();

  th::compact_reader r(out);
  PQ_REQUIRE_OK(r.begin_struct());
  auto h = r.next_field();
  PQ_REQUIRE_OK(h);
  CHECK(h->id == 1);
  CHECK(*r.read_i32() == -7);
  h = r.next_field();
  CHECK(h->id == 2);
  CHECK(*r.read_i64() == INT64_MIN);
  h = r.next_field();
  CHECK(h->id == 3);
  CHECK(pq::as_string_view(*r.read_binary()) == "hello");
  h = r.next_field();
  CHECK(h->id == 4);
  CHECK(*r.field_bool(*h) == true);
  h = r.next_field();
  CHECK(h->id == 40);
  CHECK(*r.read_i16() == 300);
  h = r.next_field();
  CHECK(h->id == 41);
  auto l = r.read_list_header();
  PQ_REQUIRE_OK(l);
  CHECK(l->size == 20);
  for (int i = 0; i < 20; ++i) CHECK(*r.read_i32() == i - 10);
  h = r.next_field();
  CHECK(h->id == 42);
  PQ_REQUIRE_OK(r.skip(h->value_type));  // the nested struct, skipped whole
  h = r.next_field();
  CHECK(h->stop);
  CHECK(r.remaining() == 0);
}

TEST_CASE("the compact reader's bounds") {
  auto bytes = [](std::initializer_list<unsigned> v) {
    pq::byte_vector b;
    for (unsigned x : v) b.push_back(static_cast<std::byte>(x));
    return b;
  };
  SUBCASE("a binary longer than the input") {
    const auto in = bytes({0x18, 0x05, 'a', 'b'});
    th::compact_reader r(in);
    PQ_REQUIRE_OK(r.begin_struct());
    PQ_REQUIRE_OK(r.next_field());
    CHECK(pq_test::fails_naming(r.read_binary(), pq::errc::truncated, "binary length"));
  }
  SUBCASE("a list count larger than the bytes left") {
    const auto in = bytes({0x19, 0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0x00});  // 2^31-1 i32s in 1 byte
    th::compact_reader r(in);
    PQ_REQUIRE_OK(r.begin_struct());
    PQ_REQUIRE_OK(r.next_field());
    CHECK(pq_test::fails_naming(r.read_list_header(), pq::errc::truncated, "list count"));
  }
  SUBCASE("a varint longer than an i32 allows") {
    const auto in = bytes({0x15, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01});
    th::compact_reader r(in);
    PQ_REQUIRE_OK(r.begin_struct());
    PQ_REQUIRE_OK(r.next_field());
    CHECK(pq_test::fails_naming(r.read_i32(), pq::errc::malformed_metadata, "varint too long"));
  }
  SUBCASE("an i32 varint whose value exceeds 32 bits") {
    const auto in = bytes({0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F});
    th::compact_reader r(in);
    PQ_REQUIRE_OK(r.begin_struct());
    PQ_REQUIRE_OK(r.next_field());
    CHECK(pq_test::fails_naming(r.read_i32(), pq::errc::malformed_metadata, "out of range"));
  }
  SUBCASE("an unknown type nibble") {
    const auto in = bytes({0x1D, 0x00});
    th::compact_reader r(in);
    PQ_REQUIRE_OK(r.begin_struct());
    CHECK(pq_test::fails_naming(r.next_field(), pq::errc::malformed_metadata, "unknown field type"));
  }
  SUBCASE("structs nested deeper than the limit, skipped") {
    pq::byte_vector in;
    for (int i = 0; i < 100; ++i) in.push_back(std::byte{0x1C});  // field 1: a struct, and again
    th::compact_reader r(in, 16);
    PQ_REQUIRE_OK(r.begin_struct());
    auto h = r.next_field();
    PQ_REQUIRE_OK(h);
    CHECK(pq_test::fails_naming(r.skip(h->value_type), pq::errc::limit_exceeded, "nested too deep"));
  }
  SUBCASE("lists nested deeper than the limit, skipped") {
    pq::byte_vector in{std::byte{0x19}};
    for (int i = 0; i < 100; ++i) in.push_back(std::byte{0x19});  // a list of one list of one list...
    th::compact_reader r(in, 16);
    PQ_REQUIRE_OK(r.begin_struct());
    auto h = r.next_field();
    PQ_REQUIRE_OK(h);
    CHECK(pq_test::fails_naming(r.skip(h->value_type), pq::errc::limit_exceeded, "nested too deep"));
  }
  SUBCASE("input that ends inside a struct") {
    const auto in = bytes({0x15, 0x02});
    th::compact_reader r(in);
    PQ_REQUIRE_OK(r.begin_struct());
    PQ_REQUIRE_OK(r.next_field());
    PQ_REQUIRE_OK(r.read_i32());
    CHECK(pq_test::fails_naming(r.next_field(), pq::errc::truncated, "input ends"));
  }
}

TEST_CASE("read_footer decodes what the writer wrote, for every tick schema and codec") {
  for (const auto codec : {pq::compression::uncompressed, pq::compression::snappy, pq::compression::zstd}) {
    pq::writer_options o;
    o.codec = codec;
    o.max_rows_per_row_group = 4;
    o.key_value_metadata.push_back({"source", "footer_reader_test"});
    std::vector<std::vector<value>> rows;
    for (std::int64_t i = 0; i < 10; ++i) rows.push_back(trade_row(i));
    const auto file = pq_test::write_whole_file(pq::ticks::trades_schema(), rows, o);

    auto m = pq::read_footer(file);
    PQ_REQUIRE_OK(m);
    CHECK(m->version == 1);
    CHECK(m->schema_name == "trades");
    CHECK(m->num_rows == 10);
    CHECK(m->created_by.starts_with("polarway parquet writer"));
    PQ_REQUIRE(m->key_value_metadata.size() == 1);
    CHECK(m->key_value_metadata[0].key == "source");
    CHECK(m->key_value_metadata[0].value == "footer_reader_test");

    const pq::schema s = pq::ticks::trades_schema();
    PQ_REQUIRE(m->columns.size() == s.columns.size());
    for (std::size_t c = 0; c < s.columns.size(); ++c) {
      const auto& d = m->columns[c];
      const auto& spec = s.columns[c];
      CHECK(d.name == spec.name);
      CHECK(d.physical == spec.physical_type());
      CHECK(d.rep == pq::repetition::required);
      switch (spec.type) {
        case pq::column_type::string: CHECK(d.logical == pq::logical_kind::string); break;
        case pq::column_type::decimal:
          CHECK(d.logical == pq::logical_kind::decimal);
          CHECK(d.precision == 18);
          CHECK(d.scale == 8);
          break;
        case pq::column_type::timestamp:
          CHECK(d.logical == pq::logical_kind::timestamp);
          CHECK(d.unit == pq::time_unit::millis);
          CHECK(d.adjusted_to_utc);
          break;
        default: CHECK(d.logical == pq::logical_kind::none);
      }
    }

    PQ_REQUIRE(m->row_groups.size() == 3);  // 4 + 4 + 2
    CHECK(m->row_groups[0].num_rows == 4);
    CHECK(m->row_groups[2].num_rows == 2);
    const auto expected_codec = pq::codec_of(codec);
    std::int64_t previous_end = 4;
    for (const auto& rg : m->row_groups) {
      for (const auto& c : rg.columns) {
        CHECK(c.codec == expected_codec);
        CHECK(c.num_values == rg.num_rows);
        CHECK(c.first_page_offset() == previous_end);  // chunks are back to back
        previous_end = c.first_page_offset() + c.total_compressed_size;
        PQ_REQUIRE(c.statistics.null_count.is_some());
        CHECK(*c.statistics.null_count == 0);
      }
    }
    std::uint32_t footer_len = 0;
    std::memcpy(&footer_len, file.data() + file.size() - 8, 4);
    CHECK(previous_end == static_cast<std::int64_t>(file.size() - 8 - footer_len));  // up to the footer

    // Column statistics: trade_id 0..3 in the first row group, symbol with a dictionary page.
    const auto& first = m->row_groups[0];
    const auto& id_stats = first.columns[pq::ticks::trades_trade_id].statistics;
    PQ_REQUIRE(id_stats.min_value.is_some());
    CHECK(le64(*id_stats.min_value) == 0);
    CHECK(le64(*id_stats.max_value) == 3);
    const auto& symbol = first.columns[pq::ticks::trades_symbol];
    CHECK(symbol.dictionary_page_offset.is_some());
    CHECK(pq::as_string_view(*symbol.statistics.min_value) == "BTCUSDT");
    CHECK(pq::as_string_view(*symbol.statistics.max_value) == "ETHUSDT");
    bool has_rle_dictionary = false;
    for (auto e : symbol.encodings) has_rle_dictionary |= e == f::encoding::rle_dictionary;
    CHECK(has_rle_dictionary);
  }
}

TEST_CASE("read_footer: optional columns, nulls and the other time units") {
  const pq::schema s{"mixed",
                     {pq::column_spec::int64("a").nullable(), pq::column_spec::timestamp("t", pq::time_unit::nanos),
                      pq::column_spec::timestamp("u", pq::time_unit::micros).nullable(),
                      pq::column_spec::decimal("d", 10, 2).nullable(), pq::column_spec::string("s").nullable()}};
  std::vector<std::vector<value>> rows;
  for (std::int64_t i = 0; i < 5; ++i)
    rows.push_back({i % 2 ? value::null() : value::int64(i), value::timestamp(i, pq::time_unit::nanos),
                    value::null(), value::decimal(-i, 2), value::string("x")});
  const auto file = pq_test::write_whole_file(s, rows, {});
  auto m = pq::read_footer(file);
  PQ_REQUIRE_OK(m);
  PQ_REQUIRE(m->columns.size() == 5);
  CHECK(m->columns[0].rep == pq::repetition::optional);
  CHECK(m->columns[1].rep == pq::repetition::required);
  CHECK(m->columns[1].unit == pq::time_unit::nanos);
  CHECK(m->columns[2].unit == pq::time_unit::micros);
  CHECK(m->columns[3].precision == 10);
  CHECK(m->columns[3].scale == 2);
  const auto& rg = m->row_groups.at(0);
  CHECK(*rg.columns[0].statistics.null_count == 2);
  CHECK(*rg.columns[2].statistics.null_count == 5);
  CHECK(rg.columns[2].statistics.min_value.is_none());  // all null: no bounds
  CHECK(le64(*rg.columns[3].statistics.min_value) == -4);
}

TEST_CASE("read_footer: an empty file has a schema and no row groups") {
  const auto file = pq_test::write_whole_file(pq::ticks::book_ticker_schema(), {}, {});
  auto m = pq::read_footer(file);
  PQ_REQUIRE_OK(m);
  CHECK(m->num_rows == 0);
  CHECK(m->row_groups.empty());
  CHECK(m->columns.size() == pq::ticks::book_ticker_column_count);
}

TEST_CASE("read_footer reads pyarrow's and Polars' footers (the fuzz seeds, fuzz/make_corpus.py)") {
  for (const char* name : {"pyarrow_default", "pyarrow_zstd_v1_pages", "pyarrow_v2_pages", "polars_default"}) {
    CAPTURE(name);
    const auto file = pq_test::read_whole_file(std::string(PQ_FOOTER_SEED_DIR) + "/" + name + ".parquet");
    auto m = pq::read_footer(file);
    PQ_REQUIRE_OK(m);
    CHECK(m->num_rows == 3);
    PQ_REQUIRE(m->columns.size() == 9);
    const auto& c = m->columns;
    CHECK(c[0].name == "event_time");
    CHECK(c[0].logical == pq::logical_kind::timestamp);
    CHECK(c[0].unit == pq::time_unit::millis);
    CHECK(c[0].adjusted_to_utc);
    CHECK(c[0].rep == pq::repetition::optional);
    CHECK(c[1].logical == pq::logical_kind::string);
    CHECK(c[1].physical == f::physical_type::byte_array);
    CHECK(c[2].physical == f::physical_type::int64);
    CHECK(c[2].logical == pq::logical_kind::none);
    CHECK(c[3].logical == pq::logical_kind::decimal);
    CHECK(c[3].precision == 18);
    CHECK(c[3].scale == 8);
    CHECK(c[4].physical == f::physical_type::int32);
    CHECK(c[5].physical == f::physical_type::double_);
    CHECK(c[6].physical == f::physical_type::boolean);
    CHECK(c[7].physical == f::physical_type::byte_array);
    CHECK(c[7].logical == pq::logical_kind::none);
    CHECK(c[8].logical == pq::logical_kind::decimal);
    CHECK(c[8].physical == f::physical_type::fixed_len_byte_array);
    CHECK(c[8].precision == 30);
    CHECK(c[8].scale == 2);
    PQ_REQUIRE(m->row_groups.size() == 1);
    const auto& price = m->row_groups[0].columns[3];
    PQ_REQUIRE(price.statistics.null_count.is_some());
    CHECK(*price.statistics.null_count == 1);
    CHECK(price.statistics.min_value.is_some());
  }
}

TEST_CASE("read_footer: the hand-built footer the hostile cases start from is valid") {
  auto m = pq::read_footer(wrap(footer({})));
  PQ_REQUIRE_OK(m);
  CHECK(m->columns.at(0).name == "x");
  CHECK(m->row_groups.at(0).columns.at(0).data_page_offset == 4);
}

TEST_CASE("read_footer: hostile files are typed errors naming the problem") {
  std::vector<std::vector<value>> rows;
  for (std::int64_t i = 0; i < 3; ++i) rows.push_back(trade_row(i));
  const auto good = pq_test::write_whole_file(pq::ticks::trades_schema(), rows, {});

  SUBCASE("too short") {
    const pq::byte_vector tiny(good.begin(), good.begin() + 11);
    CHECK(pq_test::fails_naming(pq::read_footer(tiny), pq::errc::truncated, "shorter than"));
  }
  SUBCASE("bad magic at the start") {
    auto bad = good;
    bad[0] = std::byte{'X'};
    CHECK(pq_test::fails_naming(pq::read_footer(bad), pq::errc::not_parquet, "at the start"));
  }
  SUBCASE("bad magic at the end") {
    auto bad = good;
    bad.back() = std::byte{'X'};
    CHECK(pq_test::fails_naming(pq::read_footer(bad), pq::errc::not_parquet, "at the end"));
  }
  SUBCASE("footer length past the start of the file") {
    auto bad = good;
    const std::uint32_t len = static_cast<std::uint32_t>(bad.size());  // more than the file holds
    std::memcpy(bad.data() + bad.size() - 8, &len, 4);
    CHECK(pq_test::fails_naming(pq::read_footer(bad), pq::errc::truncated, "footer length runs past"));
  }
  SUBCASE("footer longer than the limit") {
    pq::footer_limits limits;
    limits.max_metadata_bytes = 16;
    CHECK(pq_test::fails_naming(pq::read_footer(good, limits), pq::errc::limit_exceeded, "max_metadata_bytes"));
  }
  SUBCASE("truncated footer: the length says less than the metadata takes") {
    auto bad = good;
    std::uint32_t len = 0;
    std::memcpy(&len, bad.data() + bad.size() - 8, 4);
    // Drop the metadata's last 20 bytes: the Thrift now ends inside a value or a struct.
    bad.erase(bad.end() - 8 - 20, bad.end() - 8);
    len -= 20;
    std::memcpy(bad.data() + bad.size() - 8, &len, 4);
    // Which check fires depends on where the cut falls; here it is in column_orders' elements.
    CHECK(pq_test::fails_naming(pq::read_footer(bad), pq::errc::truncated, "exceeds the bytes left"));
  }
  SUBCASE("every prefix of the metadata is a truncation") {
    // A prefix holds only genuine bytes and lacks the final stop byte, so the decoder must run
    // out of input, whatever the cut, and say so.
    std::uint32_t len = 0;
    std::memcpy(&len, good.data() + good.size() - 8, 4);
    const auto meta = std::span(good).subspan(good.size() - 8 - len, len);
    for (std::size_t cut = 0; cut < len; ++cut) {
      auto m = pq::read_footer(wrap(pq::byte_vector(meta.begin(), meta.begin() + static_cast<std::ptrdiff_t>(cut))));
      CHECK_MESSAGE((m.is_err() && m.error().code() == pq::errc::truncated), "cut at ", cut);
    }
  }
  SUBCASE("a file cut in half") {
    const pq::byte_vector half(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(good.size() / 2));
    CHECK(pq_test::fails_naming(pq::read_footer(half), pq::errc::not_parquet, "at the end"));
  }
  SUBCASE("an absurd row group count") {
    pq::byte_vector meta;
    th::compact_writer w(meta);
    w.begin_struct();
    w.field_i32(f::file_meta_data_field::version, 1);
    w.field_list(f::file_meta_data_field::row_groups, th::type::struct_, 1u << 30);
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(meta)), pq::errc::truncated, "list count"));
  }
  SUBCASE("more columns than the limit") {
    pq::footer_limits limits;
    limits.max_columns = 0;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer({})), limits), pq::errc::limit_exceeded, "max_columns"));
  }
  SUBCASE("a required field missing") {
    footer_spec s;
    s.with_row_groups = false;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::malformed_metadata, "FileMetaData misses"));
  }
  SUBCASE("a field of the wrong Thrift type") {
    pq::byte_vector meta;
    th::compact_writer w(meta);
    w.begin_struct();
    w.field_string(f::file_meta_data_field::version, "one");
    w.end_struct();
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(meta)), pq::errc::malformed_metadata, "wrong type"));
  }
  SUBCASE("a nested schema") {
    footer_spec s;
    s.leaf_has_children = true;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::unsupported, "nested schema"));
  }
  SUBCASE("a repeated column") {
    footer_spec s;
    s.repetition = static_cast<std::int32_t>(f::field_repetition::repeated);
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::unsupported, "repeated column"));
  }
  SUBCASE("a root claiming more children than the schema lists") {
    footer_spec s;
    s.root_children = 5;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::malformed_metadata, "more children"));
  }
  SUBCASE("a column chunk past the data region") {
    footer_spec s;
    s.compressed_size = 1000;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::truncated, "byte range"));
  }
  SUBCASE("a column chunk starting inside the magic") {
    footer_spec s;
    s.data_page_offset = 1;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::truncated, "byte range"));
  }
  SUBCASE("a negative chunk size") {
    footer_spec s;
    s.compressed_size = -5;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::malformed_metadata, "negative"));
  }
  SUBCASE("a chunk whose value count is not the row count") {
    footer_spec s;
    s.chunk_values = 1000000;
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::malformed_metadata, "value count"));
  }
  SUBCASE("a chunk for another column") {
    footer_spec s;
    s.path = "y";
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::malformed_metadata, "path"));
  }
  SUBCASE("row groups that do not add up to num_rows") {
    footer_spec s;
    s.file_num_rows = 4;  // one group of 3 rows
    CHECK(pq_test::fails_naming(pq::read_footer(wrap(footer(s))), pq::errc::malformed_metadata, "num_rows"));
  }
}
