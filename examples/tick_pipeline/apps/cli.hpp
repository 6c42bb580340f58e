// Strict command-line parsing for the pipeline's binaries. Command-line text is outside input:
// an unknown flag, a missing value, a number with trailing junk or out of range is a cli_error
// with a message that names the flag, never a silent default. The binaries print the message
// and exit with status 2 (the usual "usage error" code).
//
// Flags take their value as "--name value" or "--name=value". Numbers are plain decimal
// (no sign, no spaces, no hex), checked against an inclusive range.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include <polarway/option.hpp>
#include <polarway/result.hpp>

namespace ticks::app {

struct cli_error {
  std::string message;
  bool help = false;  // --help was asked for: print usage, exit 0
};

/// A decimal integer in [lo, hi]; the error names `flag`.
polarway::result<std::uint64_t, cli_error> parse_uint(std::string_view flag, std::string_view text, std::uint64_t lo,
                                                      std::uint64_t hi);
/// A non-negative decimal number of seconds ("2", "0.25"), at most `max_seconds`; as milliseconds.
polarway::result<std::uint64_t, cli_error> parse_seconds_ms(std::string_view flag, std::string_view text,
                                                            std::uint64_t max_seconds);
/// "100000", "100000/s" or "0" (flat out): messages per second.
polarway::result<std::uint64_t, cli_error> parse_rate(std::string_view flag, std::string_view text);

/// Walks argv (without argv[0]) flag by flag.
class arg_reader {
 public:
  explicit arg_reader(std::span<const char* const> args) : args_(args) {}

  /// The next flag name ("--rate"), or none at the end. A positional argument is an error.
  polarway::result<polarway::option<std::string_view>, cli_error> next_flag();
  /// The value of the flag just read (inline after '=' or the next argument).
  polarway::result<std::string_view, cli_error> value();
  /// For flags without a value: an error if one was given inline ("--once=1").
  polarway::result<void, cli_error> no_value();

  std::string_view current() const noexcept { return flag_; }

  /// Reads the value of the flag just read and hands it to apply(value), which returns
  /// result<void, cli_error>.
  template <class Apply>
  polarway::result<void, cli_error> with_value(Apply&& apply) {
    auto v = value();
    if (!v) return polarway::err(v.error());
    return apply(*v);
  }
  /// The flag's value as a decimal integer in [lo, hi], stored in `out`.
  template <class Int>
  polarway::result<void, cli_error> uint_into(Int& out, std::uint64_t lo, std::uint64_t hi) {
    return with_value([&](std::string_view v) -> polarway::result<void, cli_error> {
      auto n = parse_uint(flag_, v, lo, hi);
      if (!n) return polarway::err(n.error());
      out = static_cast<Int>(*n);
      return polarway::ok();
    });
  }
  /// The flag's value as seconds (at most max_seconds), stored in `out` as milliseconds; zero
  /// only if allow_zero.
  polarway::result<void, cli_error> seconds_into(std::uint64_t& out, std::uint64_t max_seconds, bool allow_zero);
  /// The flag's value as a numeric socket address ("127.0.0.1:9500", "[::1]:0"; no host names),
  /// stored in `out` as given; the error shows `example`.
  polarway::result<void, cli_error> address_into(std::string& out, std::string_view example);

 private:
  std::span<const char* const> args_;
  std::size_t pos_ = 0;
  std::string_view flag_;
  polarway::option<std::string_view> inline_value_;
};

cli_error unknown_flag(std::string_view flag);

}  // namespace ticks::app
