#include "ticks/base64.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace {
std::vector<std::uint8_t> bytes(std::string_view s) { return {s.begin(), s.end()}; }
}  // namespace

TEST_CASE("base64 encodes the RFC 4648 section 10 vectors") {
  CHECK(ticks::base64_encode(bytes("")) == "");
  CHECK(ticks::base64_encode(bytes("f")) == "Zg==");
  CHECK(ticks::base64_encode(bytes("fo")) == "Zm8=");
  CHECK(ticks::base64_encode(bytes("foo")) == "Zm9v");
  CHECK(ticks::base64_encode(bytes("foob")) == "Zm9vYg==");
  CHECK(ticks::base64_encode(bytes("fooba")) == "Zm9vYmE=");
  CHECK(ticks::base64_encode(bytes("foobar")) == "Zm9vYmFy");
  CHECK(ticks::base64_encode(std::vector<std::uint8_t>{0xFB, 0xFF, 0xBF}) == "+/+/");
}

TEST_CASE("base64 decodes what it encodes, for every length and byte value") {
  std::vector<std::uint8_t> data;
  for (int n = 0; n < 300; ++n) {
    auto decoded = ticks::base64_decode(ticks::base64_encode(data));
    REQUIRE(decoded.is_some());
    CHECK(*decoded == data);
    data.push_back(static_cast<std::uint8_t>(n * 37 + 11));
  }
}

TEST_CASE("base64 decoding is strict") {
  CHECK(ticks::base64_decode("Zm9vYmFy").is_some());
  CHECK(ticks::base64_decode("Zm9vYg").is_none());     // missing padding
  CHECK(ticks::base64_decode("Zm9v Yg==").is_none());  // whitespace
  CHECK(ticks::base64_decode("Zm9vYg=a").is_none());   // data after padding
  CHECK(ticks::base64_decode("Zm=vYg==").is_none());   // padding in the middle
  CHECK(ticks::base64_decode("Zm9v====").is_none());   // too much padding
  CHECK(ticks::base64_decode("Zm9-Yg==").is_none());   // URL-safe alphabet is not accepted
  CHECK(ticks::base64_decode("dGhlIHNhbXBsZSBub25jZQ==").value().size() == 16);
}
