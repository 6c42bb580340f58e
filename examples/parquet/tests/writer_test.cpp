// file_writer end to end, without an external reader: the PAR1 layout, the footer decoded
// field by field (ids from parquet.thrift), row group limits, draining the output between
// calls, and every kind of bad input returning a typed error that leaves the writer unchanged.
#include <doctest/doctest.h>

#include <climits>
#include <string>
#include <thread>
#include <vector>

#include "pw_parquet/parquet.hpp"
#include "test_support.hpp"

namespace pq = pw_parquet;
using pq::value;

namespace {

pq::file_writer make_writer(pq::schema s, pq::writer_options o = {}) {
  auto w = pq::file_writer::create(std::move(s), std::move(o));
  PQ_REQUIRE_OK(w);
  return std::move(*w);
}

std::vector<value> trade_row(std::int64_t i, std::string_view symbol = "BTCUSDT") {
  return {value::timestamp_millis(1700000000000 + i), value::string(symbol), value::int64(i),
          value::decimal(9700010000000 + i, 8), value::decimal(1000 + i, 8),
          value::timestamp_millis(1700000000000 + i - 1), value::boolean(i % 2 == 0)};
}

bool fails_with(const polarway::result<void>& r, pq::errc e) { return r.is_err() && r.error().code() == e; }

std::string str(std::span<const std::byte> b) { return std::string(pq::as_string_view(b)); }

}  // namespace

TEST_CASE("a trades file: layout and footer") {
  pq::writer_options o;
  o.max_rows_per_row_group = 4;
  o.key_value_metadata.push_back({"source", "unit-test"});
  auto w = make_writer(pq::ticks::trades_schema(), o);
  w.set_key_value("symbol", "BTCUSDT");
  w.set_key_value("source", "writer_test");  // replaces the value given in the options
  pq::byte_vector out;
  for (std::int64_t i = 0; i < 10; ++i) PQ_REQUIRE_OK(w.append_row(trade_row(i), out));
  CHECK(w.row_groups_written() == 2);  // 4 + 4 flushed by the limit, 2 still buffered
  CHECK(w.buffered_rows() == 2);
  PQ_REQUIRE_OK(w.finish(out));
  CHECK(w.bytes_written() == out.size());
  CHECK(w.rows_written() == 10);

  CHECK(str(std::span<const std::byte>(out).first(4)) == "PAR1");
  CHECK(str(std::span<const std::byte>(out).last(4)) == "PAR1");
  bool ok = false;
  const pq_test::tvalue meta = pq_test::read_footer(out, &ok);
  PQ_REQUIRE(ok);

  CHECK(meta[1].i == 1);      // version
  CHECK(meta[3].i == 10);     // num_rows
  CHECK(meta[6].bin.rfind("polarway parquet writer version 0.1.0 (build ", 0) == 0);  // created_by
  const auto& schema = meta[2].items;
  PQ_REQUIRE(schema.size() == 8);
  CHECK(schema[0][4].bin == "trades");
  CHECK(schema[0][5].i == 7);  // num_children
  CHECK_FALSE(schema[0].has(1));  // the root has no type...
  CHECK_FALSE(schema[0].has(3));  // ...and no repetition

  // event_time: INT64, REQUIRED, TIMESTAMP_MILLIS, TIMESTAMP(isAdjustedToUTC, MILLIS)
  const auto& ts = schema[1];
  CHECK(ts[1].i == 2);
  CHECK(ts[3].i == 0);
  CHECK(ts[4].bin == "event_time");
  CHECK(ts[6].i == 9);
  CHECK(ts[10][8][1].i == 1);
  CHECK(ts[10][8][2].has(1));  // unit = MILLIS (an empty struct in field 1)
  // symbol: BYTE_ARRAY, UTF8, STRING
  CHECK(schema[2][1].i == 6);
  CHECK(schema[2][6].i == 0);
  CHECK(schema[2][10].has(1));
  // trade_id: plain INT64, no annotation
  CHECK(schema[3][1].i == 2);
  CHECK_FALSE(schema[3].has(6));
  CHECK_FALSE(schema[3].has(10));
  // price: INT64 DECIMAL(18, 8) both ways
  const auto& price = schema[4];
  CHECK(price[6].i == 5);
  CHECK(price[7].i == 8);
  CHECK(price[8].i == 18);
  CHECK(price[10][5][1].i == 8);
  CHECK(price[10][5][2].i == 18);
  // is_buyer_maker: BOOLEAN
  CHECK(schema[7][1].i == 0);

  const auto& groups = meta[4].items;
  PQ_REQUIRE(groups.size() == 3);
  std::int64_t rows = 0;
  for (std::size_t g = 0; g < groups.size(); ++g) {
    rows += groups[g][3].i;
    CHECK(groups[g][7].i == static_cast<std::int64_t>(g));       // ordinal
    CHECK(groups[g][1].items.size() == 7);
    const auto& first = groups[g][1].items[0][3];                // ColumnMetaData of event_time
    CHECK(groups[g][5].i == first[9].i);                          // row group starts at its first page
  }
  CHECK(rows == 10);
  CHECK(groups[0][5].i == 4);  // right after the magic

  // Column chunk metadata of row group 0.
  const auto& cols = groups[0][1].items;
  const auto& et = cols[0][3];
  CHECK(cols[0][2].i == 0);          // file_offset: 0, as the spec now asks
  CHECK(et[1].i == 2);               // INT64
  CHECK(et[3].items[0].bin == "event_time");
  CHECK(et[4].i == 1);               // SNAPPY
  CHECK(et[5].i == 4);               // num_values
  CHECK(et[12][3].i == 0);           // null_count
  CHECK(et[12][6].bin == std::string("\x00\x68\xe5\xcf\x8b\x01\x00\x00", 8));  // min 1700000000000 LE
  CHECK(et[12][5].bin == std::string("\x03\x68\xe5\xcf\x8b\x01\x00\x00", 8));  // max 1700000000003 LE
  CHECK(et[2].items.size() == 1);    // encodings: PLAIN only
  const auto& sym = cols[1][3];
  CHECK(sym[11].i == et[9].i + et[7].i);  // dictionary page follows the previous chunk directly
  CHECK(sym[9].i > sym[11].i);
  CHECK(sym[2].items.size() == 3);   // PLAIN, RLE, RLE_DICTIONARY
  CHECK(sym[2].items[2].i == 8);
  CHECK(sym[12][6].bin == "BTCUSDT");
  CHECK(sym[13].items.size() == 2);  // encoding_stats: one dictionary page, data pages
  CHECK(sym[13].items[0][1].i == 2);

  // column_orders: TypeDefinedOrder for each of the 7 leaves.
  PQ_REQUIRE(meta[7].items.size() == 7);
  CHECK(meta[7].items[6].has(1));

  // key-value metadata, with the replaced value.
  PQ_REQUIRE(meta[5].items.size() == 2);
  CHECK(meta[5].items[0][1].bin == "source");
  CHECK(meta[5].items[0][2].bin == "writer_test");
  CHECK(meta[5].items[1][2].bin == "BTCUSDT");
}

TEST_CASE("the caller may drain the output between calls") {
  pq::writer_options o;
  o.max_rows_per_row_group = 3;
  o.codec = pq::compression::zstd;
  auto a = make_writer(pq::ticks::trades_schema(), o);
  auto b = make_writer(pq::ticks::trades_schema(), o);
  pq::byte_vector whole, piece, joined;
  for (std::int64_t i = 0; i < 20; ++i) {
    PQ_REQUIRE_OK(a.append_row(trade_row(i), whole));
    PQ_REQUIRE_OK(b.append_row(trade_row(i), piece));
    joined.insert(joined.end(), piece.begin(), piece.end());  // "write it out"
    piece.clear();
    CHECK(b.bytes_written() == joined.size());
  }
  PQ_REQUIRE_OK(a.finish(whole));
  PQ_REQUIRE_OK(b.finish(piece));
  joined.insert(joined.end(), piece.begin(), piece.end());
  CHECK(pq_test::hex(whole) == pq_test::hex(joined));
  CHECK(b.buffered_bytes() == 0);
}

TEST_CASE("an empty file is valid: magic, footer with no row groups, magic") {
  auto w = make_writer(pq::ticks::book_ticker_schema());
  pq::byte_vector out;
  PQ_REQUIRE_OK(w.flush_row_group(out));  // nothing buffered: nothing written
  CHECK(out.empty());
  PQ_REQUIRE_OK(w.finish(out));
  bool ok = false;
  const auto meta = pq_test::read_footer(out, &ok);
  PQ_REQUIRE(ok);
  CHECK(meta[3].i == 0);
  CHECK(meta[4].items.empty());
  CHECK(str(std::span<const std::byte>(out).first(4)) == "PAR1");
}

TEST_CASE("bad rows are typed errors and change nothing") {
  pq::schema s{"t",
               {pq::column_spec::int64("id"), pq::column_spec::decimal("px", 6, 2),
                pq::column_spec::timestamp("ts", pq::time_unit::millis), pq::column_spec::string("s").nullable(),
                pq::column_spec::boolean("b")}};
  auto w = make_writer(std::move(s));
  pq::byte_vector out;
  auto row = [](value id, value px, value ts, value s, value b) { return std::vector<value>{id, px, ts, s, b}; };
  const value id = value::int64(1), px = value::decimal(12345, 2), ts = value::timestamp_millis(5),
              sv = value::string("x"), b = value::boolean(true);

  PQ_REQUIRE_OK(w.append_row(row(id, px, ts, sv, b), out));
  CHECK(w.buffered_rows() == 1);

  CHECK(fails_with(w.append_row(std::vector<value>{id, px, ts, sv}, out), pq::errc::wrong_arity));
  CHECK(fails_with(w.append_row(row(value::string("1"), px, ts, sv, b), out), pq::errc::type_mismatch));
  CHECK(w.last_error_location().value().column == 0);
  CHECK(w.last_error_location().value().row == 1);
  CHECK(fails_with(w.append_row(row(id, value::int64(5), ts, sv, b), out), pq::errc::type_mismatch));
  CHECK(fails_with(w.append_row(row(id, px, value::int64(5), sv, b), out), pq::errc::type_mismatch));
  CHECK(fails_with(w.append_row(row(id, px, ts, sv, value::int64(1)), out), pq::errc::type_mismatch));
  CHECK(w.last_error_location().value().column == 4);
  CHECK(fails_with(w.append_row(row(value(), px, ts, sv, b), out), pq::errc::null_in_required));
  // DECIMAL(6, 2): 9999.99 fits, 10000.00 does not; 1.234 cannot be stored at scale 2.
  PQ_REQUIRE_OK(w.append_row(row(id, value::decimal(999999, 2), ts, sv, b), out));
  CHECK(fails_with(w.append_row(row(id, value::decimal(1000000, 2), ts, sv, b), out), pq::errc::decimal_out_of_range));
  CHECK(fails_with(w.append_row(row(id, value::decimal(-1000000, 2), ts, sv, b), out), pq::errc::decimal_out_of_range));
  CHECK(fails_with(w.append_row(row(id, value::decimal(1234, 3), ts, sv, b), out), pq::errc::inexact_conversion));
  PQ_REQUIRE_OK(w.append_row(row(id, value::decimal(1230, 3), ts, sv, b), out));  // 1.230 -> 1.23
  // A microsecond time that is not a whole millisecond.
  CHECK(fails_with(w.append_row(row(id, px, value::timestamp_micros(1001), sv, b), out), pq::errc::inexact_conversion));
  PQ_REQUIRE_OK(w.append_row(row(id, px, value::timestamp_micros(1000), sv, b), out));
  CHECK(fails_with(w.append_row(row(id, px, ts, value::string("\xff"), b), out), pq::errc::invalid_utf8));
  PQ_REQUIRE_OK(w.append_row(row(id, px, ts, value(), b), out));  // s is nullable
  CHECK(w.buffered_rows() == 5);  // only the good rows
  CHECK(out.empty());

  PQ_REQUIRE_OK(w.finish(out));
  CHECK(fails_with(w.append_row(row(id, px, ts, sv, b), out), pq::errc::writer_finished));
  CHECK(fails_with(w.finish(out), pq::errc::writer_finished));
  CHECK(fails_with(w.flush_row_group(out), pq::errc::writer_finished));
}

TEST_CASE("schemas and options the writer cannot represent are rejected up front") {
  auto rejects = [](pq::schema s, pq::errc e, pq::writer_options o = {}) {
    auto w = pq::file_writer::create(std::move(s), std::move(o));
    return w.is_err() && w.error().code() == e;
  };
  using pq::column_spec;
  CHECK(rejects(pq::schema{"t", {}}, pq::errc::invalid_schema));
  CHECK(rejects(pq::schema{"t", {column_spec::decimal("p", 19, 2)}}, pq::errc::invalid_schema));
  CHECK(rejects(pq::schema{"t", {column_spec::decimal("p", 4, 5)}}, pq::errc::invalid_schema));
  CHECK(rejects(pq::schema{"t", {column_spec::decimal("p", 0, 0)}}, pq::errc::invalid_schema));
  CHECK(rejects(pq::schema{"t", {column_spec::int64("a"), column_spec::int64("a")}}, pq::errc::invalid_schema));
  CHECK(rejects(pq::schema{"t", {column_spec::int64("")}}, pq::errc::invalid_schema));
  CHECK(rejects(pq::schema{"t", {column_spec::int64("a").dictionary()}}, pq::errc::invalid_schema));
  pq::writer_options zero_rows;
  zero_rows.max_rows_per_row_group = 0;
  CHECK(rejects(pq::ticks::trades_schema(), pq::errc::invalid_options, zero_rows));
  pq::writer_options bad_level;
  bad_level.codec = pq::compression::zstd;
  bad_level.zstd_level = 99;
  CHECK(rejects(pq::ticks::trades_schema(), pq::errc::invalid_options, bad_level));
}

TEST_CASE("optional columns: null counts, all-null chunks and statistics") {
  pq::schema s{"t", {pq::column_spec::int64("x").nullable(), pq::column_spec::string("s").nullable().dictionary()}};
  auto w = make_writer(std::move(s));
  pq::byte_vector out;
  PQ_REQUIRE_OK(w.append_row({value::int64(-5), value()}, out));
  PQ_REQUIRE_OK(w.append_row({value(), value()}, out));
  PQ_REQUIRE_OK(w.append_row({value::int64(9), value()}, out));
  PQ_REQUIRE_OK(w.finish(out));
  bool ok = false;
  const auto meta = pq_test::read_footer(out, &ok);
  PQ_REQUIRE(ok);
  const auto& cols = meta[4].items[0][1].items;
  CHECK(meta[2].items[1][3].i == 1);           // OPTIONAL
  CHECK(cols[0][3][12][3].i == 1);             // null_count
  CHECK(cols[0][3][12][6].bin == std::string("\xfb\xff\xff\xff\xff\xff\xff\xff", 8));  // min -5
  CHECK(cols[0][3][5].i == 3);                 // num_values counts nulls
  CHECK(cols[1][3][12][3].i == 3);             // all null...
  CHECK_FALSE(cols[1][3][12].has(6));          // ...so no min/max
  CHECK_FALSE(cols[1][3].has(11));             // and no dictionary page (nothing to put in it)
}

TEST_CASE("a dictionary that outgrows its limits falls back to PLAIN for that chunk") {
  pq::writer_options o;
  o.max_dictionary_entries = 4;
  o.max_rows_per_row_group = 10;
  auto w = make_writer(pq::schema{"t", {pq::column_spec::string("s").dictionary()}}, o);
  pq::byte_vector out;
  const char* few[] = {"a", "b", "a", "b", "a", "b", "a", "b", "a", "b"};
  for (const char* s : few) PQ_REQUIRE_OK(w.append_row({value::string(s)}, out));
  const std::string many[] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  for (const std::string& s : many) PQ_REQUIRE_OK(w.append_row({value::string(s)}, out));
  PQ_REQUIRE_OK(w.finish(out));
  bool ok = false;
  const auto meta = pq_test::read_footer(out, &ok);
  PQ_REQUIRE(ok);
  const auto& g0 = meta[4].items[0][1].items[0][3];
  const auto& g1 = meta[4].items[1][1].items[0][3];
  CHECK(g0.has(11));
  CHECK_FALSE(g1.has(11));
  CHECK(g1[2].items.size() == 1);  // PLAIN only
  CHECK(g1[12][6].bin == "0");
  CHECK(g1[12][5].bin == "9");
}

TEST_CASE("small data pages split a chunk into many pages") {
  pq::writer_options o;
  o.data_page_bytes = 64;  // 8 int64 values per page
  o.codec = pq::compression::uncompressed;
  auto w = make_writer(pq::schema{"t", {pq::column_spec::int64("x")}}, o);
  pq::byte_vector out;
  for (std::int64_t i = 0; i < 100; ++i) PQ_REQUIRE_OK(w.append_row({value::int64(i)}, out));
  PQ_REQUIRE_OK(w.finish(out));
  bool ok = false;
  const auto meta = pq_test::read_footer(out, &ok);
  PQ_REQUIRE(ok);
  const auto& chunk = meta[4].items[0][1].items[0][3];
  CHECK(chunk[13].items[0][3].i == 13);  // ceil(100 / 8) data pages
  CHECK(chunk[5].i == 100);
  // Walk the pages: each header is followed by its body; together they fill the chunk exactly.
  std::size_t pos = static_cast<std::size_t>(chunk[9].i);
  std::int64_t values = 0;
  for (int p = 0; p < 13; ++p) {
    pq_test::compact_reader r(std::span<const std::byte>(out).subspan(pos));
    const auto header = r.read_struct();
    PQ_REQUIRE(r.ok());
    values += header[5][1].i;
    pos += r.position() + static_cast<std::size_t>(header[3].i);
  }
  CHECK(values == 100);
  CHECK(static_cast<std::int64_t>(pos) == chunk[9].i + chunk[7].i);
}

TEST_CASE("row groups are also cut by buffered bytes") {
  pq::writer_options o;
  o.max_row_group_bytes = 1000;
  auto w = make_writer(pq::schema{"t", {pq::column_spec::string("s")}}, o);
  pq::byte_vector out;
  const std::string big(300, 'x');
  for (int i = 0; i < 10; ++i) PQ_REQUIRE_OK(w.append_row({value::string(big)}, out));
  // ~304 bytes a row (300 + a 4-byte length): the 4th row crosses 1000 bytes.
  CHECK(w.row_groups_written() == 2);
  CHECK(w.buffered_rows() == 2);
  CHECK(w.buffered_bytes() < 1000);
}

TEST_CASE("independent writers on several threads produce identical files") {
  // A writer is not shared between threads, but many sinks run at once: nothing may be
  // shared behind their backs (codec contexts, scratch buffers, the error category).
  auto write = [](pq::compression codec, pq::byte_vector& out) {
    pq::writer_options o;
    o.codec = codec;
    o.max_rows_per_row_group = 500;
    auto w = pq::file_writer::create(pq::ticks::trades_schema(), o);
    if (!w) return false;
    for (std::int64_t i = 0; i < 3000; ++i)
      if (!w->append_row(trade_row(i, i % 3 ? "ETHUSDT" : "BTCUSDT"), out)) return false;
    std::vector<value> short_row = trade_row(0);
    short_row.pop_back();  // an error on the way must not disturb anything either
    return w->append_row(short_row, out).is_err() && w->finish(out).is_ok();
  };
  const pq::compression codecs[] = {pq::compression::snappy, pq::compression::zstd};
  for (const pq::compression codec : codecs) {
    pq::byte_vector reference;
    PQ_REQUIRE(write(codec, reference));
    std::vector<pq::byte_vector> outs(4);
    std::vector<char> ok(4, 0);
    std::vector<std::thread> threads;
    for (std::size_t t = 0; t < outs.size(); ++t)
      threads.emplace_back([&, t] { ok[t] = write(codec, outs[t]) ? 1 : 0; });
    for (std::thread& t : threads) t.join();
    for (std::size_t t = 0; t < outs.size(); ++t) {
      CHECK(ok[t] == 1);
      CHECK(outs[t] == reference);
    }
  }
}

TEST_CASE("writers that share encode_scratch write what writers with their own write") {
  // Three writers on one scratch, rows interleaved so that each flushes (a row group every 300
  // rows) while the others hold rows, against the same three files written alone. Different
  // schemas, so a dictionary or page left in the scratch by one would show in another.
  for (const pq::compression codec : {pq::compression::snappy, pq::compression::zstd, pq::compression::uncompressed}) {
    CAPTURE(static_cast<int>(codec));
    auto scratch = pq::encode_scratch::create(codec);
    PQ_REQUIRE_OK(scratch);
    const pq::schema schemas[] = {pq::ticks::trades_schema(), pq::ticks::trades_schema(),
                                  pq::ticks::book_ticker_schema()};
    auto row_for = [](std::size_t file, std::int64_t i) {
      if (file < 2) return trade_row(i, file == 0 ? (i % 3 ? "ETHUSDT" : "BTCUSDT") : "SOLUSDT");
      return std::vector<value>{value::int64(i),           value::string(i % 2 ? "BNBUSDT" : "XRPUSDT"),
                                value::decimal(100 + i, 8), value::decimal(200 + i, 8),
                                value::decimal(300 + i, 8), value::decimal(400 + i, 8),
                                value::timestamp_millis(1700000000000 + i)};
    };
    auto options = [&](bool shared) {
      pq::writer_options o;
      o.codec = codec;
      o.max_rows_per_row_group = 300;
      if (shared) o.scratch = *scratch;
      return o;
    };
    std::vector<pq::file_writer> alone, together;
    std::vector<pq::byte_vector> alone_out(3), together_out(3);
    for (std::size_t f = 0; f < 3; ++f) {
      alone.push_back(make_writer(schemas[f], options(false)));
      together.push_back(make_writer(schemas[f], options(true)));
    }
    for (std::int64_t i = 0; i < 1000; ++i)
      for (std::size_t f = 0; f < 3; ++f) {
        if (i % (f + 1) != 0) continue;  // the files fill at different paces
        PQ_REQUIRE_OK(alone[f].append_row(row_for(f, i), alone_out[f]));
        PQ_REQUIRE_OK(together[f].append_row(row_for(f, i), together_out[f]));
      }
    for (std::size_t f = 0; f < 3; ++f) {
      PQ_REQUIRE_OK(alone[f].finish(alone_out[f]));
      PQ_REQUIRE_OK(together[f].finish(together_out[f]));
      CHECK(together[f].row_groups_written() >= 2);
      CHECK(together_out[f] == alone_out[f]);
    }
  }
  // A scratch made for another codec or zstd level is refused.
  auto snappy = pq::encode_scratch::create(pq::compression::snappy);
  auto zstd3 = pq::encode_scratch::create(pq::compression::zstd, 3);
  PQ_REQUIRE_OK(snappy);
  PQ_REQUIRE_OK(zstd3);
  pq::writer_options zstd_on_snappy;
  zstd_on_snappy.codec = pq::compression::zstd;
  zstd_on_snappy.scratch = *snappy;
  auto a = pq::file_writer::create(pq::ticks::trades_schema(), zstd_on_snappy);
  CHECK((a.is_err() && a.error().code() == pq::errc::invalid_options));
  pq::writer_options level_5;
  level_5.codec = pq::compression::zstd;
  level_5.zstd_level = 5;
  level_5.scratch = *zstd3;
  auto b = pq::file_writer::create(pq::ticks::trades_schema(), level_5);
  CHECK((b.is_err() && b.error().code() == pq::errc::invalid_options));
  CHECK(pq::encode_scratch::create(pq::compression::zstd, 99).is_err());
}
