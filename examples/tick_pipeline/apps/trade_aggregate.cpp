#include "trade_aggregate.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <utility>

#include <pw_parquet/decimal.hpp>

#include "parquet_file_reader.hpp"

namespace ticks::app {

namespace pw = polarway;
namespace pq = pw_parquet;

namespace {

constexpr std::int64_t ns_per_day = 86'400'000'000'000;

std::int64_t floor_div(std::int64_t a, std::int64_t b) noexcept {
  const std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

// Howard Hinnant's civil-calendar conversions (proleptic Gregorian, days since 1970-01-01).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct civil {
  std::int64_t y;
  unsigned m, d;
};
civil civil_from_days(std::int64_t z) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

pw::result<std::int64_t, std::string> scale_factor(const pq::column_descriptor& c) {
  if (c.logical != pq::logical_kind::decimal || c.precision > pq::max_int64_decimal_precision)
    return pw::err("column \"" + c.name + "\" is not a decimal of precision 18 or less");
  if (c.scale > trade_totals::scale)
    return pw::err("column \"" + c.name + "\" has scale " + std::to_string(c.scale) + "; the query reads at most " +
                   std::to_string(trade_totals::scale) + " decimal places");
  return pq::pow10_table[static_cast<std::size_t>(trade_totals::scale - c.scale)];
}

}  // namespace

bool trade_filter::admits_symbol(std::string_view s) const noexcept {
  return symbols.empty() || std::find(symbols.begin(), symbols.end(), s) != symbols.end();
}

pw::result<trade_columns, std::string> trade_columns::find(const pq::file_metadata& meta, std::string_view time_column) {
  trade_columns c;
  const auto symbol = column_index(meta, "symbol"), price = column_index(meta, "price"),
             quantity = column_index(meta, "quantity"), time = column_index(meta, time_column);
  if (!symbol || !price || !quantity || !time)
    return pw::err("no column \"" +
                   std::string(!symbol ? "symbol" : !price ? "price" : !quantity ? "quantity" : time_column) +
                   "\" (a trade table has symbol, price, quantity and " + std::string(time_column) + ")");
  c.symbol = *symbol;
  c.price = *price;
  c.quantity = *quantity;
  c.time = *time;
  if (pq::storage_of(meta.columns[c.symbol]) != pq::value_storage::bytes)
    return pw::err(std::string("column \"symbol\" is not a string"));
  auto pf = scale_factor(meta.columns[c.price]);
  if (!pf) return pw::err(std::move(pf.error()));
  auto qf = scale_factor(meta.columns[c.quantity]);
  if (!qf) return pw::err(std::move(qf.error()));
  c.price_factor = *pf;
  c.quantity_factor = *qf;
  const pq::column_descriptor& t = meta.columns[c.time];
  if (t.logical != pq::logical_kind::timestamp || t.physical != pq::format::physical_type::int64)
    return pw::err("column \"" + t.name + "\" is not an int64 timestamp");
  c.ns_per_time_unit = t.unit == pq::time_unit::millis ? 1'000'000 : t.unit == pq::time_unit::micros ? 1'000 : 1;
  return c;
}

bool ruled_out(const pq::row_group_info& rg, const trade_columns& columns, const trade_filter& filter) noexcept {
  if (rg.num_rows == 0) return true;  // nothing to read

  if (filter.from_ns || filter.to_ns) {
    const auto& st = rg.columns[columns.time].statistics;
    const auto lo = int64_statistic(st.min_value), hi = int64_statistic(st.max_value);
    std::int64_t lo_ns = 0, hi_ns = 0;
    if (lo && hi && !__builtin_mul_overflow(*lo, columns.ns_per_time_unit, &lo_ns) &&
        !__builtin_mul_overflow(*hi, columns.ns_per_time_unit, &hi_ns)) {
      if (filter.from_ns && hi_ns < *filter.from_ns) return true;
      if (filter.to_ns && lo_ns >= *filter.to_ns) return true;
    }
  }
  if (!filter.symbols.empty()) {
    // Byte strings are ordered unsigned byte-wise, as the writers order their min and max.
    const auto& st = rg.columns[columns.symbol].statistics;
    if (st.min_value && st.max_value) {
      const auto text = [](const pq::byte_vector& v) {
        return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
      };
      const std::string_view lo = text(*st.min_value), hi = text(*st.max_value);
      const bool any = std::any_of(filter.symbols.begin(), filter.symbols.end(),
                                   [&](const std::string& s) { return lo <= s && s <= hi; });
      if (!any) return true;
    }
  }
  return false;
}

bool trade_totals::add(std::int64_t price, std::int64_t quantity, std::int64_t time_ns) noexcept {
  if (count == 0) {
    min_price = max_price = price;
    first_time_ns = last_time_ns = time_ns;
  } else {
    min_price = std::min(min_price, price);
    max_price = std::max(max_price, price);
    first_time_ns = std::min(first_time_ns, time_ns);
    last_time_ns = std::max(last_time_ns, time_ns);
  }
  ++count;
  // |price * quantity| < 2^126, so the product itself cannot overflow.
  const __int128 product = static_cast<__int128>(price) * quantity;
  return !__builtin_add_overflow(sum_price, price, &sum_price) &&
         !__builtin_add_overflow(sum_quantity, quantity, &sum_quantity) &&
         !__builtin_add_overflow(notional, product, &notional);
}

bool trade_totals::merge(const trade_totals& o) noexcept {
  if (o.count == 0) return true;
  if (count == 0) {
    *this = o;
    return true;
  }
  count += o.count;
  min_price = std::min(min_price, o.min_price);
  max_price = std::max(max_price, o.max_price);
  first_time_ns = std::min(first_time_ns, o.first_time_ns);
  last_time_ns = std::max(last_time_ns, o.last_time_ns);
  return !__builtin_add_overflow(sum_price, o.sum_price, &sum_price) &&
         !__builtin_add_overflow(sum_quantity, o.sum_quantity, &sum_quantity) &&
         !__builtin_add_overflow(notional, o.notional, &notional);
}

pw::option<__int128> trade_totals::vwap() const noexcept {
  if (sum_quantity == 0) return pw::none;
  // notional (scale 16) / quantity (scale 8) is at scale 8. On magnitudes, so that no step can
  // overflow whatever the signs: |r| < |quantity|, so |quantity| - |r| is the distance to the next
  // multiple, and the quotient rounds up when it is at most |r| (half away from zero).
  using u128 = unsigned __int128;
  const auto magnitude = [](__int128 v) { return v < 0 ? u128{0} - static_cast<u128>(v) : static_cast<u128>(v); };
  const u128 n = magnitude(notional), d = magnitude(sum_quantity);
  u128 q = n / d;
  const u128 r = n % d;
  if (r != 0 && d - r <= r) ++q;
  if (q > (u128{1} << 127) - 1) return pw::none;
  const auto v = static_cast<__int128>(q);
  return ((notional < 0) != (sum_quantity < 0)) ? -v : v;
}

pw::result<void, std::string> trade_aggregate::add(std::span<const pq::column_values> cols, const trade_columns& columns,
                                                   const trade_filter& filter) {
  if (cols.size() != 4) return pw::err(std::string("trade_aggregate: four columns expected"));
  const pq::column_values &sym = cols[0], &price = cols[1], &qty = cols[2], &time = cols[3];
  const std::size_t rows = sym.rows();
  if (price.rows() != rows || qty.rows() != rows || time.rows() != rows)
    return pw::err(std::string("trade_aggregate: the columns have different row counts"));
  std::size_t is = 0, ip = 0, iq = 0, it = 0;  // the next non-null value of each column
  const trade_group_key* last_key = nullptr;
  trade_totals* last = nullptr;
  for (std::size_t row = 0; row < rows; ++row) {
    const bool vs = sym.valid[row] != 0, vp = price.valid[row] != 0, vq = qty.valid[row] != 0, vt = time.valid[row] != 0;
    const std::size_t s = is, p = ip, q = iq, t = it;
    is += vs;
    ip += vp;
    iq += vq;
    it += vt;
    ++rows_seen_;
    if (!(vs && vp && vq && vt)) {
      ++nulls_skipped_;
      continue;
    }
    std::int64_t time_ns = 0;
    if (__builtin_mul_overflow(time.int64s[t], columns.ns_per_time_unit, &time_ns))
      return pw::err("column \"" + time.descriptor.name + "\": a time outside the int64 nanosecond range");
    if (!filter.admits_time(time_ns)) continue;
    const auto symbol_bytes = sym.bytes_at(s);
    const std::string_view symbol(reinterpret_cast<const char*>(symbol_bytes.data()), symbol_bytes.size());
    if (!filter.admits_symbol(symbol)) continue;
    std::int64_t px = 0, qx = 0;
    if (__builtin_mul_overflow(price.int64s[p], columns.price_factor, &px))
      return pw::err("column \"" + price.descriptor.name + "\": a value that does not fit at scale 8");
    if (__builtin_mul_overflow(qty.int64s[q], columns.quantity_factor, &qx))
      return pw::err("column \"" + qty.descriptor.name + "\": a value that does not fit at scale 8");
    const std::int64_t day = floor_div(time_ns, ns_per_day);
    if (last == nullptr || last_key->day != day || last_key->symbol != symbol) {
      auto it_group = groups_.find(trade_group_key{std::string(symbol), day});
      if (it_group == groups_.end()) it_group = groups_.emplace(trade_group_key{std::string(symbol), day}, trade_totals{}).first;
      last_key = &it_group->first;
      last = &it_group->second;
    }
    if (!last->add(px, qx, time_ns)) return pw::err(std::string("the sums of symbol ") + std::string(symbol) + " overflow 128 bits");
    ++rows_matched_;
  }
  return pw::ok();
}

pw::result<void, std::string> trade_aggregate::merge(const trade_aggregate& o) {
  for (const auto& [key, totals] : o.groups_)
    if (!groups_[key].merge(totals)) return pw::err("the sums of symbol " + key.symbol + " overflow 128 bits");
  rows_seen_ += o.rows_seen_;
  rows_matched_ += o.rows_matched_;
  nulls_skipped_ += o.nulls_skipped_;
  return pw::ok();
}

std::string day_text(std::int64_t day) {
  const civil c = civil_from_days(day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(c.y), c.m, c.d);
  return buf;
}

std::string time_text(std::int64_t ns) {
  const std::int64_t day = floor_div(ns, ns_per_day);
  std::int64_t in_day = ns - day * ns_per_day;
  const std::int64_t secs = in_day / 1'000'000'000, frac = in_day % 1'000'000'000;
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%sT%02lld:%02lld:%02lld", day_text(day).c_str(), static_cast<long long>(secs / 3600),
                        static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  if (frac % 1'000'000 == 0)
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03lld", static_cast<long long>(frac / 1'000'000));
  else if (frac % 1'000 == 0)
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%06lld", static_cast<long long>(frac / 1'000));
  else
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%09lld", static_cast<long long>(frac));
  std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), "Z");
  return buf;
}

pw::result<std::int64_t, std::string> parse_time_ns(std::string_view text) {
  const auto bad = [&] {
    return pw::err("\"" + std::string(text) +
                   "\" is not a time: give YYYY-MM-DD[THH:MM[:SS[.fff]]][Z] (UTC) or milliseconds since the epoch");
  };
  const char* p = text.data();
  const char* end = p + text.size();
  const auto number = [&](std::size_t digits, std::int64_t& out) {
    if (static_cast<std::size_t>(end - p) < digits) return false;
    std::int64_t v = 0;
    for (std::size_t i = 0; i < digits; ++i) {
      if (p[i] < '0' || p[i] > '9') return false;
      v = v * 10 + (p[i] - '0');
    }
    p += digits;
    out = v;
    return true;
  };
  if (!text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    std::int64_t ms = 0, ns = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), end, ms);
    if (ec != std::errc() || ptr != end || __builtin_mul_overflow(ms, std::int64_t{1'000'000}, &ns)) return bad();
    return ns;
  }
  std::int64_t y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, frac_ns = 0;
  const auto expect = [&](char c) {
    if (p == end || *p != c) return false;
    ++p;
    return true;
  };
  if (!number(4, y) || !expect('-') || !number(2, mo) || !expect('-') || !number(2, d)) return bad();
  if (p != end && *p == 'T') {
    ++p;
    if (!number(2, h) || !expect(':') || !number(2, mi)) return bad();
    if (p != end && *p == ':') {
      ++p;
      if (!number(2, s)) return bad();
      if (p != end && *p == '.') {
        ++p;
        std::int64_t scale = 100'000'000;
        const char* digits = p;
        while (p != end && *p >= '0' && *p <= '9') {
          if (scale == 0) return bad();  // more than nanoseconds
          frac_ns += (*p - '0') * scale;
          scale /= 10;
          ++p;
        }
        if (p == digits) return bad();
      }
    }
    if (p != end && *p == 'Z') ++p;
  }
  if (p != end) return bad();
  static constexpr unsigned month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1678 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > month_days[mo - 1] || h > 23 || mi > 59 || s > 59)
    return bad();
  const std::int64_t day = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  if (civil_from_days(day).m != static_cast<unsigned>(mo)) return bad();  // 29 February of a common year
  return ((day * 86400 + h * 3600 + mi * 60 + s) * 1'000'000'000) + frac_ns;
}

}  // namespace ticks::app
