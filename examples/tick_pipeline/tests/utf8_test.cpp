#include "ticks/utf8.hpp"

#include <doctest/doctest.h>

#include <string>

using ticks::is_valid_utf8;

TEST_CASE("valid UTF-8 is accepted") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii, long enough to take the eight-byte path"));
  CHECK(is_valid_utf8("\xC2\x80"));          // U+0080, smallest 2-byte
  CHECK(is_valid_utf8("\xDF\xBF"));          // U+07FF
  CHECK(is_valid_utf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  CHECK(is_valid_utf8("\xED\x9F\xBF"));      // U+D7FF, just below the surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));      // U+E000, just above them
  CHECK(is_valid_utf8("\xEF\xBF\xBF"));      // U+FFFF
  CHECK(is_valid_utf8("\xF0\x90\x80\x80"));  // U+10000
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, the last code point
  CHECK(is_valid_utf8("Hello-\xC2\xB5@\xC3\x9F\xC3\xB6\xC3\xA4\xC3\xBC\xC3\xA0\xC3\xA1-UTF-8!!"));  // Autobahn 6.2.1
  CHECK(is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));                             // "kosme"
}

TEST_CASE("invalid UTF-8 is rejected") {
  CHECK_FALSE(is_valid_utf8("\x80"));  // lone continuation
  CHECK_FALSE(is_valid_utf8("\xBF"));
  CHECK_FALSE(is_valid_utf8("\xC0\x80"));          // overlong NUL
  CHECK_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong
  CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // overlong 3-byte
  CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // overlong 4-byte
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));      // U+D800 surrogate
  CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));      // U+DFFF surrogate
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("\xC3"));  // truncated at the end
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));
  CHECK_FALSE(is_valid_utf8("\xF0\x90\x80"));
  CHECK_FALSE(is_valid_utf8("\xC3\x28"));  // bad continuation
  CHECK_FALSE(is_valid_utf8("\xE2\x28\xA1"));
  CHECK_FALSE(
      is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xED\xA0\x80"
                    "edited"));  // Autobahn 6.3.1
  // An invalid byte right after an all-ASCII eight-byte block.
  CHECK_FALSE(is_valid_utf8("abcdefgh\x80"));
  CHECK_FALSE(is_valid_utf8(std::string(1000, 'a') + "\xF8"));
}

TEST_CASE("every 2-byte sequence agrees with a code-point definition") {
  // Exhaustive over lead x continuation: valid iff lead in C2..DF and continuation in 80..BF.
  for (int a = 0x80; a < 0x100; ++a)
    for (int b = 0; b < 0x100; ++b) {
      const char s[2] = {static_cast<char>(a), static_cast<char>(b)};
      const bool expect = a >= 0xC2 && a <= 0xDF && b >= 0x80 && b <= 0xBF;
      CHECK(is_valid_utf8(std::string_view(s, 2)) == expect);
    }
}
