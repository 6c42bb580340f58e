// The reader's page-level building blocks against the writer's encoders: the RLE / bit-packed
// hybrid decoder reads back what rle_hybrid_encode wrote at every bit width, and the
// decompressor inflates what the compressor produced; hostile streams (cut off, lying sizes,
// values above the maximum, a zstd bomb) are typed errors.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <vector>

#include "pw_parquet/compression.hpp"
#include "pw_parquet/rle_hybrid.hpp"
#include "test_support.hpp"

namespace pq = pw_parquet;

namespace {

pq::byte_vector bytes(std::initializer_list<unsigned> v) {
  pq::byte_vector b;
  for (unsigned x : v) b.push_back(static_cast<std::byte>(x));
  return b;
}

polarway::result<std::vector<std::uint32_t>> decode(const pq::byte_vector& in, int width, std::size_t n,
                                                    std::uint32_t max_value = UINT32_MAX) {
  std::vector<std::uint32_t> out(n);
  pq::rle_hybrid_decoder d(in, width);
  if (auto r = d.decode(out, max_value); !r) return polarway::err(r.error());
  return out;
}

bool fails_with(const polarway::result<std::vector<std::uint32_t>>& r, pq::errc e) {
  return r.is_err() && r.error().code() == e;
}

}  // namespace

TEST_CASE("the hybrid decoder reads back what the encoder wrote, at every bit width") {
  std::mt19937_64 rng(7);
  for (int width = 0; width <= 32; ++width) {
    CAPTURE(width);
    const std::uint64_t max = width == 0 ? 0 : (~std::uint64_t{0} >> (64 - width));
    std::vector<std::uint32_t> values;
    // Runs and literals mixed: repeats of 1..20, then random values, a few times over.
    for (int round = 0; round < 20; ++round) {
      const auto v = static_cast<std::uint32_t>(rng() & max);
      for (std::uint64_t k = 0; k < rng() % 20 + 1; ++k) values.push_back(v);
      for (std::uint64_t k = 0; k < rng() % 13; ++k) values.push_back(static_cast<std::uint32_t>(rng() & max));
    }
    pq::byte_vector enc;
    pq::rle_hybrid_encode(enc, std::span<const std::uint32_t>(values), width);
    auto back = decode(enc, width, values.size());
    PQ_REQUIRE_OK(back);
    CHECK(*back == values);
    // Decoding in pieces gives the same values.
    pq::rle_hybrid_decoder d(enc, width);
    std::vector<std::uint32_t> pieces(values.size());
    for (std::size_t at = 0; at < values.size(); at += 5) {
      const std::size_t n = std::min<std::size_t>(5, values.size() - at);
      PQ_REQUIRE_OK(d.decode(std::span(pieces).subspan(at, n), UINT32_MAX));
    }
    CHECK(pieces == values);
  }
}

TEST_CASE("the hybrid decoder: a final bit-packed run may stop at the last value") {
  // One bit-packed group of 8 at width 3 announced, but only the bytes of 3 values present.
  const auto in = bytes({0x03, 0b10001000, 0b00000000});  // values 0, 1, 2: bits 000 100 010, low bit first
  auto r = decode(in, 3, 3);
  PQ_REQUIRE_OK(r);
  CHECK(*r == std::vector<std::uint32_t>{0, 1, 2});
  CHECK(fails_with(decode(in, 3, 8), pq::errc::truncated));
}

TEST_CASE("the hybrid decoder's hostile input") {
  CHECK(fails_with(decode({}, 1, 1), pq::errc::truncated));                          // no runs at all
  CHECK(fails_with(decode(bytes({0x08}), 8, 4), pq::errc::truncated));               // RLE run without its value
  CHECK(fails_with(decode(bytes({0x04, 0x01}), 1, 3), pq::errc::truncated));         // 2 values, 3 asked
  CHECK(fails_with(decode(bytes({0x04, 0x05}), 4, 2, 1), pq::errc::corrupt_page));   // value 5 above max 1
  CHECK(fails_with(decode(bytes({0x03, 0xFF}), 8, 1, 3), pq::errc::corrupt_page));   // packed 255 above 3
  CHECK(fails_with(decode(bytes({0x00}), 1, 1), pq::errc::corrupt_page));            // an empty run
  CHECK(fails_with(decode(bytes({0x04, 0x01}), 33, 1), pq::errc::corrupt_page));     // width above 32
  CHECK(fails_with(decode(bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), 1, 1), pq::errc::corrupt_page));  // header > 32 bits
  // A run that claims 2^30 values is fine when only a few are asked for: nothing is allocated from it.
  auto big = decode(bytes({0x80, 0x80, 0x80, 0x80, 0x08, 0x01}), 1, 4);
  PQ_REQUIRE_OK(big);
  CHECK(*big == std::vector<std::uint32_t>{1, 1, 1, 1});
}

TEST_CASE("the decompressor inflates what the compressor produced") {
  pq::byte_vector page;
  for (int i = 0; i < 5000; ++i) pq::append_le(page, static_cast<std::int64_t>(i % 97));
  for (const auto kind : {pq::compression::uncompressed, pq::compression::snappy, pq::compression::zstd}) {
    CAPTURE(pq::to_string(kind));
    auto c = pq::compressor::create(kind);
    PQ_REQUIRE_OK(c);
    auto packed = c->compress(page);
    PQ_REQUIRE_OK(packed);
    const pq::byte_vector copy(packed->begin(), packed->end());
    pq::decompressor d;
    auto out = d.decompress(pq::codec_of(kind), copy, page.size());
    PQ_REQUIRE_OK(out);
    CHECK(pq::byte_vector(out->begin(), out->end()) == page);
    // A declared size that is not the real one is an error, smaller (a bomb) or larger.
    auto smaller = d.decompress(pq::codec_of(kind), copy, page.size() / 2);
    CHECK((smaller.is_err() && smaller.error().code() == pq::errc::corrupt_page));
    auto larger = d.decompress(pq::codec_of(kind), copy, page.size() + 1);
    CHECK((larger.is_err() && larger.error().code() == pq::errc::corrupt_page));
    // Cut-off compressed data.
    if (kind != pq::compression::uncompressed) {
      auto cut = d.decompress(pq::codec_of(kind), std::span(copy).first(copy.size() / 2), page.size());
      CHECK((cut.is_err() && cut.error().code() == pq::errc::corrupt_page));
    }
  }
  pq::decompressor d;
  auto gzip = d.decompress(pq::format::codec::gzip, bytes({1, 2, 3}), 3);
  CHECK((gzip.is_err() && gzip.error().code() == pq::errc::unsupported));
}
