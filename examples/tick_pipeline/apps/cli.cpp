#include "cli.hpp"

#include <charconv>

#include <polarway/net/socket_addr.hpp>

namespace ticks::app {

namespace pw = polarway;

namespace {
cli_error fail(std::string_view flag, std::string_view what) {
  std::string m(flag);
  m += ": ";
  m += what;
  return cli_error{std::move(m)};
}
}  // namespace

cli_error unknown_flag(std::string_view flag) { return fail(flag, "unknown option (see --help)"); }

pw::result<pw::option<std::string_view>, cli_error> arg_reader::next_flag() {
  if (inline_value_) return pw::err(fail(flag_, "takes no value"));
  if (pos_ >= args_.size()) return pw::option<std::string_view>(pw::none);
  std::string_view a = args_[pos_++] ? std::string_view(args_[pos_ - 1]) : std::string_view();
  if (a == "-h" || a == "--help") return pw::err(cli_error{"", true});
  if (a.size() < 3 || a.substr(0, 2) != "--") {
    std::string m = "unexpected argument '";
    m += a;
    m += "' (options start with --)";
    return pw::err(cli_error{std::move(m)});
  }
  inline_value_ = pw::none;
  if (const auto eq = a.find('='); eq != std::string_view::npos) {
    inline_value_ = a.substr(eq + 1);
    a = a.substr(0, eq);
  }
  flag_ = a;
  return pw::option<std::string_view>(a);
}

pw::result<std::string_view, cli_error> arg_reader::value() {
  if (inline_value_) {
    const std::string_view v = *inline_value_;
    inline_value_ = pw::none;
    return v;
  }
  if (pos_ >= args_.size() || args_[pos_] == nullptr) return pw::err(fail(flag_, "needs a value"));
  return std::string_view(args_[pos_++]);
}

pw::result<void, cli_error> arg_reader::no_value() {
  if (inline_value_) return pw::err(fail(flag_, "takes no value"));
  return pw::ok();
}

pw::result<std::uint64_t, cli_error> parse_uint(std::string_view flag, std::string_view text, std::uint64_t lo,
                                                std::uint64_t hi) {
  const auto range = [&] {
    return fail(flag, "'" + std::string(text) + "' is not an integer from " + std::to_string(lo) + " to " +
                          std::to_string(hi));
  };
  // from_chars accepts no '+' or spaces but does accept nothing else odd; an empty string fails.
  if (text.empty() || text.front() < '0' || text.front() > '9') return pw::err(range());
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < lo || v > hi) return pw::err(range());
  return v;
}

pw::result<std::uint64_t, cli_error> parse_seconds_ms(std::string_view flag, std::string_view text,
                                                      std::uint64_t max_seconds) {
  const auto bad = [&] {
    return fail(flag, "'" + std::string(text) + "' is not a number of seconds from 0 to " +
                          std::to_string(max_seconds) + " (at most 3 decimals)");
  };
  const auto dot = text.find('.');
  const std::string_view whole = text.substr(0, dot);
  auto w = parse_uint(flag, whole, 0, max_seconds);
  if (!w) return pw::err(bad());
  std::uint64_t ms = *w * 1000;
  if (dot != std::string_view::npos) {
    const std::string_view frac = text.substr(dot + 1);
    if (frac.empty() || frac.size() > 3) return pw::err(bad());
    std::uint64_t scale = 100;
    for (char c : frac) {
      if (c < '0' || c > '9') return pw::err(bad());
      ms += static_cast<std::uint64_t>(c - '0') * scale;
      scale /= 10;
    }
    if (ms > max_seconds * 1000) return pw::err(bad());
  }
  return ms;
}

pw::result<std::uint64_t, cli_error> parse_rate(std::string_view flag, std::string_view text) {
  if (text.ends_with("/s")) text.remove_suffix(2);
  return parse_uint(flag, text, 0, 1'000'000'000);
}

pw::result<void, cli_error> arg_reader::seconds_into(std::uint64_t& out, std::uint64_t max_seconds, bool allow_zero) {
  return with_value([&](std::string_view v) -> pw::result<void, cli_error> {
    auto ms = parse_seconds_ms(flag_, v, max_seconds);
    if (!ms) return pw::err(ms.error());
    if (*ms == 0 && !allow_zero) return pw::err(cli_error{std::string(flag_) + ": must be more than 0"});
    out = *ms;
    return pw::ok();
  });
}

pw::result<void, cli_error> arg_reader::address_into(std::string& out, std::string_view example) {
  return with_value([&](std::string_view v) -> pw::result<void, cli_error> {
    if (auto a = pw::net::socket_addr::parse(v); !a)
      return pw::err(cli_error{std::string(flag_) + ": '" + std::string(v) + "' is not an address like " +
                               std::string(example) + " (" + a.error().message() + ")"});
    out = std::string(v);
    return pw::ok();
  });
}

}  // namespace ticks::app
