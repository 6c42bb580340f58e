#include "polarway/error.hpp"

#include <doctest/doctest.h>

#include <cerrno>

#include "polarway/format.hpp"

namespace pw = polarway;

TEST_CASE("error carries a code and the operation's name") {
  const pw::error e = pw::error::from_errno(ECONNREFUSED, "tcp_stream::connect");
  CHECK(e.code().value() == ECONNREFUSED);
  CHECK(e == std::errc::connection_refused);
  CHECK(std::string(e.context()) == "tcp_stream::connect");
  CHECK(e.message() == "tcp_stream::connect: " + std::generic_category().message(ECONNREFUSED));
}

TEST_CASE("polarway's own conditions have their own category") {
  const pw::error e(pw::errc::timed_out, "timeout");
  CHECK(e == pw::errc::timed_out);
  CHECK_FALSE(e == pw::errc::closed);
  CHECK(std::string(e.code().category().name()) == "polarway");
  CHECK(e.message() == "timeout: operation timed out");
  std::error_code ec = pw::errc::closed;
  CHECK(ec.message() == "closed");
}

TEST_CASE("polarway's conditions compare equal to the standard ones they stand for") {
  CHECK(pw::error(pw::errc::timed_out).code() == std::errc::timed_out);
  CHECK(pw::error(pw::errc::cancelled).code() == std::errc::operation_canceled);
  CHECK(pw::error(pw::errc::invalid_input).code() == std::errc::invalid_argument);
  CHECK(pw::error(pw::errc::timed_out) == std::errc::timed_out);
  // A match by condition is not a match by code: the code keeps polarway's category.
  CHECK_FALSE(pw::error(pw::errc::timed_out) == pw::error(std::errc::timed_out));
  CHECK_FALSE(pw::error(pw::errc::timed_out).code() == std::errc::operation_canceled);
  // Conditions with no standard counterpart match nothing standard.
  for (const auto c : {pw::errc::closed, pw::errc::runtime_shut_down, pw::errc::unexpected_eof,
                       pw::errc::write_zero}) {
    const std::error_code code = c;
    CHECK(code.default_error_condition().category() == pw::polarway_category());
    CHECK_FALSE(code == std::errc::broken_pipe);
    CHECK_FALSE(code == std::errc::operation_canceled);
  }
}

TEST_CASE("an error without context prints the description alone") {
  const pw::error e(std::errc::no_space_on_device);
  CHECK(e.message() == std::make_error_code(std::errc::no_space_on_device).message());
}

TEST_CASE("equality compares code and context") {
  CHECK(pw::error(pw::errc::closed, "a") == pw::error(pw::errc::closed, "a"));
  CHECK_FALSE(pw::error(pw::errc::closed, "a") == pw::error(pw::errc::closed, "b"));
  CHECK_FALSE(pw::error(pw::errc::closed, "a") == pw::error(pw::errc::cancelled, "a"));
}

TEST_CASE("error is cheap to copy") {
  static_assert(sizeof(pw::error) <= 3 * sizeof(void*));
  static_assert(std::is_nothrow_copy_constructible_v<pw::error>);
  CHECK(true);
}

TEST_CASE("fmt prints an error as its message") {
  const pw::error e = pw::error::from_errno(ENOENT, "fs::file::open");
  CHECK(fmt::format("{}", e) == e.message());
  CHECK(fmt::format("[{:>8}]", pw::error(pw::errc::closed)) == "[  closed]");
}
