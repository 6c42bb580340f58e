// Partition paths and part-file names. Dates use C++20's civil calendar (sys_days ->
// year_month_day), which is exact for the whole 0000..9999 range we allow.
#include "ticks/parquet_partition.hpp"

#include <chrono>
#include <cstdio>

namespace ticks::partition {

namespace pw = polarway;

std::string_view to_string(path_errc e) noexcept {
  switch (e) {
    case path_errc::empty_symbol: return "empty symbol";
    case path_errc::symbol_too_long: return "symbol too long";
    case path_errc::bad_symbol_character: return "symbol has a character outside [A-Z0-9]";
    case path_errc::time_out_of_range: return "time outside 1970-01-01..9999-12-31";
  }
  return "unknown path error";
}

pw::result<void, path_errc> validate_symbol(std::string_view text) noexcept {
  if (text.empty()) return pw::err(path_errc::empty_symbol);
  if (text.size() > max_symbol_size) return pw::err(path_errc::symbol_too_long);
  for (const char c : text)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return pw::err(path_errc::bad_symbol_character);
  return pw::ok();
}

std::string_view stream_dir(message_kind k) noexcept { return to_string(k); }

pw::result<std::int32_t, path_errc> utc_day(std::int64_t unix_ms) noexcept {
  if (unix_ms < 0 || unix_ms > max_time_ms) return pw::err(path_errc::time_out_of_range);
  return pw::ok(static_cast<std::int32_t>(unix_ms / ms_per_day));
}

std::string format_date(std::int32_t day) {
  using namespace std::chrono;
  const year_month_day ymd{sys_days{days{day}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

pw::result<std::string, path_errc> partition_dir(std::string_view root, message_kind kind, std::string_view symbol,
                                                std::int32_t day) {
  if (auto v = validate_symbol(symbol); !v) return pw::err(v.error());
  if (day < 0 || day > max_time_ms / ms_per_day) return pw::err(path_errc::time_out_of_range);
  std::string dir(root);
  if (!dir.empty() && dir.back() != '/') dir += '/';
  dir += stream_dir(kind);
  dir += "/symbol=";
  dir += symbol;
  dir += "/date=";
  dir += format_date(day);
  return pw::ok(std::move(dir));
}

std::string part_file_name(std::uint32_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "part-%05u.parquet", n);
  return buf;
}

std::string temp_file_name(std::uint32_t n) {
  char buf[40];
  std::snprintf(buf, sizeof buf, ".part-%05u.parquet.tmp", n);
  return buf;
}

namespace {
// Digits only, 5 to 9 of them (so the value fits a uint32 and "part-1.parquet", which we never
// write, is not mistaken for ours).
pw::option<std::uint32_t> parse_number(std::string_view digits) noexcept {
  if (digits.size() < 5 || digits.size() > 9) return pw::none;
  std::uint32_t n = 0;
  for (const char c : digits) {
    if (c < '0' || c > '9') return pw::none;
    n = n * 10 + static_cast<std::uint32_t>(c - '0');
  }
  return n;
}
}  // namespace

pw::option<part_name> parse_part_name(std::string_view name) noexcept {
  constexpr std::string_view final_prefix = "part-", temp_prefix = ".part-";
  constexpr std::string_view final_suffix = ".parquet", temp_suffix = ".parquet.tmp";
  const bool temporary = name.starts_with(temp_prefix);
  const std::string_view prefix = temporary ? temp_prefix : final_prefix;
  const std::string_view suffix = temporary ? temp_suffix : final_suffix;
  if (!name.starts_with(prefix) || !name.ends_with(suffix) || name.size() < prefix.size() + suffix.size()) return pw::none;
  auto n = parse_number(name.substr(prefix.size(), name.size() - prefix.size() - suffix.size()));
  if (!n) return pw::none;
  return part_name{*n, temporary};
}

bool is_symbol_dir_name(std::string_view name) noexcept {
  constexpr std::string_view prefix = "symbol=";
  return name.starts_with(prefix) && validate_symbol(name.substr(prefix.size())).has_value();
}

namespace {

// "YYYY-MM-DD" in shape: four digits, a dash, two digits, a dash, two digits.
bool is_date_shaped(std::string_view d) noexcept {
  if (d.size() != 10) return false;
  for (std::size_t i = 0; i < d.size(); ++i) {
    const bool dash = i == 4 || i == 7;
    if (dash ? d[i] != '-' : (d[i] < '0' || d[i] > '9')) return false;
  }
  return true;
}

}  // namespace

bool is_date_dir_name(std::string_view name) noexcept {
  constexpr std::string_view prefix = "date=";
  return name.starts_with(prefix) && is_date_shaped(name.substr(prefix.size()));
}

pw::option<std::int32_t> parse_date(std::string_view text) noexcept {
  if (!is_date_shaped(text)) return pw::none;
  const auto digits = [text](std::size_t at, std::size_t n) {
    unsigned v = 0;
    for (std::size_t i = at; i < at + n; ++i) v = v * 10 + static_cast<unsigned>(text[i] - '0');
    return v;
  };
  using namespace std::chrono;
  const year_month_day ymd{year{static_cast<int>(digits(0, 4))}, month{digits(5, 2)}, std::chrono::day{digits(8, 2)}};
  if (!ymd.ok()) return pw::none;
  const auto n = sys_days{ymd}.time_since_epoch().count();
  if (n < 0) return pw::none;
  return static_cast<std::int32_t>(n);
}

}  // namespace ticks::partition
