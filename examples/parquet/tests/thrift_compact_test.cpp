// The compact-protocol encoder against bytes worked out by hand from the Thrift compact
// protocol spec. Reminders used below: a short field header is (id delta << 4) | type with the
// types i16=4, i32=5, i64=6, binary=8, list=9, struct=12, bool true=1, bool false=2; integers
// are zigzag varints (n -> 2n for n >= 0, -n -> 2n-1); a struct ends with a 0x00 stop byte.
#include <doctest/doctest.h>

#include <climits>

#include "pw_parquet/format.hpp"
#include "pw_parquet/metadata.hpp"
#include "pw_parquet/thrift_compact.hpp"
#include "test_support.hpp"

namespace th = pw_parquet::thrift;
using pq_test::hex;

TEST_CASE("zigzag maps small magnitudes to small unsigned numbers") {
  CHECK(th::zigzag32(0) == 0u);
  CHECK(th::zigzag32(-1) == 1u);
  CHECK(th::zigzag32(1) == 2u);
  CHECK(th::zigzag32(-2) == 3u);
  CHECK(th::zigzag32(INT32_MAX) == 0xFFFFFFFEu);
  CHECK(th::zigzag32(INT32_MIN) == 0xFFFFFFFFu);
  CHECK(th::zigzag64(INT64_MAX) == 0xFFFFFFFFFFFFFFFEull);
  CHECK(th::zigzag64(INT64_MIN) == 0xFFFFFFFFFFFFFFFFull);
}

TEST_CASE("varints are seven bits per byte, low group first") {
  pw_parquet::byte_vector out;
  th::append_varint(out, 0);
  th::append_varint(out, 127);   // fits in one byte
  th::append_varint(out, 128);   // 0x80 | 0, then 1
  th::append_varint(out, 300);   // 300 = 0b10'0101100: 0xAC (0x2C | 0x80), 0x02
  CHECK(hex(out) == "00 7f 80 01 ac 02");
  out.clear();
  th::append_varint(out, UINT64_MAX);  // 64 bits = nine full groups of 7 and one bit
  CHECK(hex(out) == "ff ff ff ff ff ff ff ff ff 01");
}

TEST_CASE("scalar fields: short headers, long headers, bools in the header") {
  pw_parquet::byte_vector out;
  th::compact_writer w(out);
  w.begin_struct();
  w.field_i32(1, 2);        // delta 1, i32: 0x15; zigzag(2) = 4
  w.field_i64(3, -3);       // delta 2, i64: 0x26; zigzag(-3) = 5
  w.field_string(4, "hi");  // delta 1, binary: 0x18; length 2; 'h' 'i'
  w.field_bool(5, true);    // delta 1, type 1 (true): 0x11, no payload
  w.field_bool(6, false);   // delta 1, type 2 (false): 0x12
  w.field_i32(40, 1);       // delta 34 > 15: long form, type byte 0x05, zigzag(40) = 80 = 0x50; value 0x02
  w.field_i32(41, 0);       // delta 1 again: 0x15 0x00
  w.field_i16(42, -1);      // delta 1, i16: 0x14; zigzag(-1) = 1
  w.field_i32(2, 7);        // id goes down: long form 0x05, zigzag(2) = 4; zigzag(7) = 14 = 0x0e
  w.end_struct();           // stop
  CHECK(hex(out) == "15 04 26 05 18 02 68 69 11 12 05 50 02 15 00 14 01 05 04 0e 00");
  CHECK(w.depth() == 0);
}

TEST_CASE("nested structs restore the enclosing struct's last field id") {
  pw_parquet::byte_vector out;
  th::compact_writer w(out);
  w.begin_struct();
  w.field_struct(2);        // delta 2, struct: 0x2c
  w.field_i32(1, 7);        //   inner ids restart at 0: 0x15, zigzag(7) = 0x0e
  w.end_struct();           //   0x00
  w.field_list(3, th::type::i32, 3);  // delta 1 from 2 (not from the inner 1): 0x19; list header 3 << 4 | 5 = 0x35
  w.write_i32(1);           // 0x02
  w.write_i32(-1);          // 0x01
  w.write_i32(64);          // zigzag 128: 0x80 0x01
  w.end_struct();
  CHECK(hex(out) == "2c 15 0e 00 19 35 02 01 80 01 00");
}

TEST_CASE("lists: long size form and struct elements") {
  pw_parquet::byte_vector out;
  th::compact_writer w(out);
  w.begin_struct();
  w.field_list(1, th::type::binary, 16);  // 0x19; 16 >= 15: 0xf8 (0xf0 | binary) then varint 16 = 0x10
  for (int k = 0; k < 16; ++k) w.write_string("");  // sixteen zero lengths
  w.field_list(2, th::type::struct_, 2);  // 0x19; 2 << 4 | 12 = 0x2c
  w.begin_struct();                       // element 1: {1: i32 5}
  w.field_i32(1, 5);                      //   0x15 0x0a
  w.end_struct();                         //   0x00
  w.begin_struct();                       // element 2: {} -> 0x00
  w.end_struct();
  w.field_list(3, th::type::bool_true, 2);  // 0x19; 2 << 4 | 1 = 0x21; list bools are whole bytes 1/2
  w.write_bool(true);
  w.write_bool(false);
  w.end_struct();
  CHECK(hex(out) ==
        "19 f8 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 "
        "19 2c 15 0a 00 00 19 21 01 02 00");
}

TEST_CASE("data page header bytes") {
  pw_parquet::byte_vector out;
  pw_parquet::serialize_data_page_header(out, 100, 50, 10, pw_parquet::format::encoding::plain);
  // PageHeader {1: type DATA_PAGE=0 -> 15 00, 2: uncompressed 100 -> zigzag 200 = c8 01,
  //   3: compressed 50 -> 100 = 64, 5: (delta 2, struct) 2c DataPageHeader {1: num_values 10 -> 14,
  //   2: PLAIN 0 -> 00, 3: RLE 3 -> 06, 4: RLE 3 -> 06, stop}, stop}
  CHECK(hex(out) == "15 00 15 c8 01 15 64 2c 15 14 15 00 15 06 15 06 00 00");
}

TEST_CASE("dictionary page header bytes") {
  pw_parquet::byte_vector out;
  pw_parquet::serialize_dictionary_page_header(out, 100, 50, 4);
  // PageHeader {1: DICTIONARY_PAGE=2 -> 04, 2: 100 -> c8 01, 3: 50 -> 64,
  //   7: (delta 4, struct) 4c DictionaryPageHeader {1: num_values 4 -> 08, 2: PLAIN -> 00,
  //   3: is_sorted false -> header 0x12}, stop}
  CHECK(hex(out) == "15 04 15 c8 01 15 64 4c 15 08 15 00 12 00 00");
}

TEST_CASE("the decoder used by the other tests reads back what the encoder wrote") {
  pw_parquet::byte_vector out;
  th::compact_writer w(out);
  w.begin_struct();
  w.field_i64(1, INT64_MIN);
  w.field_struct(20);
  w.field_string(3, "nested");
  w.end_struct();
  w.field_bool(21, true);
  w.end_struct();
  pq_test::compact_reader r(out);
  const auto v = r.read_struct();
  PQ_REQUIRE(r.ok());
  CHECK(r.position() == out.size());
  CHECK(v[1].i == INT64_MIN);
  CHECK(v[20][3].bin == "nested");
  CHECK(v[21].i == 1);
}
