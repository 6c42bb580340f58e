// PLAIN, RLE/bit-packed hybrid and dictionary encodings against bytes worked out by hand from
// Parquet's Encodings.md. Bit-packing is least-significant-bit first: value k of a group
// occupies bits [k*w, (k+1)*w) of the group's little-endian bit stream.
#include <doctest/doctest.h>

#include <climits>
#include <cstdint>
#include <vector>

#include "pw_parquet/file_writer.hpp"
#include "pw_parquet/plain_encoding.hpp"
#include "pw_parquet/rle_hybrid.hpp"
#include "test_support.hpp"

namespace pq = pw_parquet;
using pq_test::hex;

namespace {
std::string rle(std::vector<std::uint32_t> values, int width) {
  pq::byte_vector out;
  pq::rle_hybrid_encode(out, std::span<const std::uint32_t>(values), width);
  return hex(out);
}
}  // namespace

TEST_CASE("PLAIN int64 is 8 little-endian bytes per value") {
  pq::byte_vector out;
  const std::int64_t v[] = {1, -1, INT64_MIN, 0x0102030405060708};
  pq::plain::encode_int64(out, v);
  CHECK(hex(out) ==
        "01 00 00 00 00 00 00 00 "
        "ff ff ff ff ff ff ff ff "
        "00 00 00 00 00 00 00 80 "
        "08 07 06 05 04 03 02 01");
}

TEST_CASE("PLAIN boolean packs one bit per value, LSB first") {
  pq::byte_vector out;
  const std::uint8_t v[] = {1, 0, 1, 1, 0, 0, 0, 0, 1};
  pq::plain::encode_boolean(out, v);
  // bits 0, 2, 3 of the first byte: 0b0000'1101 = 0x0d; the ninth value starts a zero-padded byte
  CHECK(hex(out) == "0d 01");
}

TEST_CASE("PLAIN byte array is a 4-byte LE length then the bytes") {
  pq::byte_vector out;
  pq::plain::encode_byte_array(out, "");
  pq::plain::encode_byte_array(out, "ab");
  CHECK(hex(out) == "00 00 00 00 02 00 00 00 61 62");
}

TEST_CASE("bit widths") {
  CHECK(pq::bit_width_for(0) == 0);
  CHECK(pq::bit_width_for(1) == 1);
  CHECK(pq::bit_width_for(2) == 2);
  CHECK(pq::bit_width_for(3) == 2);
  CHECK(pq::bit_width_for(4) == 3);
  CHECK(pq::bit_width_for(255) == 8);
  CHECK(pq::bit_width_for(256) == 9);
}

TEST_CASE("RLE/bit-packed hybrid") {
  // One bit-packed group: header (1 group << 1) | 1 = 03; bits 0,2,3,7 set = 0b1000'1101 = 8d.
  CHECK(rle({1, 0, 1, 1, 0, 0, 0, 1}, 1) == "03 8d");
  // Ten equal values: RLE header 10 << 1 = 20 = 0x14, then the value in one byte.
  CHECK(rle({1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1) == "14 01");
  // Encodings.md's own example: 0..7 at width 3 packs to 10001000 11000110 11111010.
  CHECK(rle({0, 1, 2, 3, 4, 5, 6, 7}, 3) == "03 88 c6 fa");
  // A run, then a short tail padded to a whole group: 14 03 (ten 3s), 03 (one group),
  // 1 | 2 << 2 = 0x09 and a zero byte (width 2 -> a group is 2 bytes).
  CHECK(rle({3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 2}, 2) == "14 03 03 09 00");
  // Eight literals then a run of nine: 03 aa (0b1010'1010), then RLE 9 << 1 = 0x12, value 01.
  CHECK(rle({0, 1, 0, 1, 0, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1) == "03 aa 12 01");
  // A repeat that starts inside a group stays bit-packed: two groups (header 05),
  // 0b1111'1110 = fe and 0b0000'0011 = 03.
  CHECK(rle({0, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 1) == "05 fe 03");
  // An RLE value wider than a byte takes ceil(9/8) = 2 little-endian bytes: 300 = 2c 01.
  CHECK(rle({300, 300, 300, 300, 300, 300, 300, 300}, 9) == "10 2c 01");
  // Nothing in, nothing out.
  CHECK(rle({}, 3).empty());
}

TEST_CASE("RLE/bit-packed hybrid with long literal runs uses a multi-byte header") {
  std::vector<std::uint32_t> v;
  for (std::uint32_t k = 0; k < 8 * 70; ++k) v.push_back(k % 2);  // alternating: all literal
  pq::byte_vector out;
  pq::rle_hybrid_encode(out, std::span<const std::uint32_t>(v), 1);
  // 70 groups: header (70 << 1) | 1 = 141 = varint 8d 01, then 70 bytes of 0b1010'1010.
  PQ_REQUIRE(out.size() == 72);
  CHECK(hex(std::span<const std::byte>(out).first(3)) == "8d 01 aa");
}

namespace {
// The bytes of a finished file with one column holding `rows`, uncompressed.
pq::byte_vector one_column_file(pq::column_spec column, std::vector<pq::value> rows) {
  pq::schema s{"t", {std::move(column)}};
  pq::writer_options o;
  o.codec = pq::compression::uncompressed;
  auto w = pq::file_writer::create(std::move(s), o);
  PQ_REQUIRE_OK(w);
  pq::byte_vector out;
  for (const pq::value& v : rows) PQ_REQUIRE_OK(w->append_row({v}, out));
  PQ_REQUIRE_OK(w->finish(out));
  return out;
}
}  // namespace

TEST_CASE("a dictionary column chunk: PLAIN dictionary page, then RLE_DICTIONARY indices") {
  const auto file = one_column_file(pq::column_spec::string("s").dictionary(),
                                    {pq::value::string("b"), pq::value::string("a"), pq::value::string("b"),
                                     pq::value::string("b")});
  // Dictionary in first-seen order: "b" = 0, "a" = 1. Its page body is two PLAIN byte arrays:
  //   01 00 00 00 62 | 01 00 00 00 61                                            (10 bytes)
  // and its header: type DICTIONARY_PAGE (zigzag 4), sizes 10/10 (zigzag 20 = 0x14),
  //   dictionary_page_header {num_values 2 -> 04, PLAIN -> 00, is_sorted false -> 12}:
  //   15 04 15 14 15 14 4c 15 04 15 00 12 00 00
  // Data page body: the bit width byte 01, then indices 0,1,0,0 as one bit-packed group:
  //   03 02 (bit 1 set)                                                          (3 bytes)
  // and its header: DATA_PAGE 00, sizes 3/3 (06), data_page_header {num_values 4 -> 08,
  //   RLE_DICTIONARY 8 -> 10, levels RLE -> 06 06}:
  //   15 00 15 06 15 06 2c 15 08 15 10 15 06 15 06 00 00
  const std::string expected =
      "50 41 52 31 "
      "15 04 15 14 15 14 4c 15 04 15 00 12 00 00 "
      "01 00 00 00 62 01 00 00 00 61 "
      "15 00 15 06 15 06 2c 15 08 15 10 15 06 15 06 00 00 "
      "01 03 02";
  CHECK(hex(std::span<const std::byte>(file).first(4 + 14 + 10 + 17 + 3)) == expected);
}

TEST_CASE("an optional column: RLE definition levels behind a 4-byte length, then only the non-nulls") {
  const auto file = one_column_file(pq::column_spec::int64("x").nullable(),
                                    {pq::value::int64(5), pq::value(), pq::value::int64(7)});
  // Levels 1,0,1 at width 1: one bit-packed group 03 05; length 2 -> 02 00 00 00.
  // Values: 5 and 7 as PLAIN int64. Body = 6 + 16 = 22 bytes (zigzag 44 = 0x2c).
  // Header: 15 00 15 2c 15 2c 2c {num_values 3 -> 06, PLAIN 00, RLE 06, RLE 06} 00 00
  const std::string expected =
      "50 41 52 31 "
      "15 00 15 2c 15 2c 2c 15 06 15 00 15 06 15 06 00 00 "
      "02 00 00 00 03 05 "
      "05 00 00 00 00 00 00 00 07 00 00 00 00 00 00 00";
  CHECK(hex(std::span<const std::byte>(file).first(4 + 17 + 22)) == expected);
}

TEST_CASE("a boolean column is one PLAIN page of packed bits") {
  const auto file = one_column_file(pq::column_spec::boolean("b"),
                                    {pq::value::boolean(true), pq::value::boolean(false), pq::value::boolean(true)});
  // Body: 0b101 = 05 (1 byte). Header sizes 1/1 -> 02; num_values 3 -> 06.
  CHECK(hex(std::span<const std::byte>(file).first(4 + 17 + 1)) ==
        "50 41 52 31 15 00 15 02 15 02 2c 15 06 15 00 15 06 15 06 00 00 05");
}
