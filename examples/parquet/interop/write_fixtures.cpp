// Writes the interop test's Parquet files and a JSON summary of what they must contain.
// Usage: parquet_interop_writer <output-dir>
//
// Every tick schema (and a "mixed" schema with optional columns, a plain string, micro and
// nanosecond timestamps and negative decimals) is written with every codec, from a
// deterministic generator that puts edge values in the first rows (INT64_MIN/MAX ids, the
// smallest and largest DECIMAL(18, 8), the epoch, pre-1970 and far-future times, the empty
// string, non-ASCII UTF-8). The summary holds, per column, what an independent reader must
// find: null and value counts, exact sums (as 128-bit integers of the unscaled/raw values),
// min/max, distinct strings and byte totals, true counts, plus a sample of full rows (and, for
// nanosecond timestamps, the sum at microsecond precision: DuckDB's TIMESTAMPTZ holds
// microseconds, so that is all of a UTC nanosecond column it can show). The
// node script verify.mjs compares DuckDB's and parquet-wasm's view of each file with it, and
// verify.py pyarrow's and Polars'.
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "pw_parquet/parquet.hpp"

namespace pq = pw_parquet;
using pq::value;

namespace {

struct rng {
  std::uint64_t state;
  std::uint64_t next() {  // splitmix64
    std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

std::string int128_to_string(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  unsigned __int128 mag = negative ? -static_cast<unsigned __int128>(v) : static_cast<unsigned __int128>(v);
  std::string digits;
  while (mag != 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string json_string(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;  // UTF-8 passes through: JSON text is UTF-8
    }
  }
  return out + "\"";
}

bool bytes_less(const std::string& a, const std::string& b) {
  const int c = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c < 0 || (c == 0 && a.size() < b.size());
}

// What a reader must find in one column.
struct column_summary {
  std::uint64_t nulls = 0, count = 0, true_count = 0, bytes = 0;
  __int128 sum = 0;
  __int128 sum_micros = 0;  // nanosecond columns: the sum at microsecond precision (floored)
  std::int64_t min = 0, max = 0;
  std::string smin, smax;
  std::set<std::string> distinct;

  void add_int(std::int64_t v) {
    if (count == 0 || v < min) min = v;
    if (count == 0 || v > max) max = v;
    sum += v;
    ++count;
  }
  void add_string(const std::string& v) {
    if (count == 0 || bytes_less(v, smin)) smin = v;
    if (count == 0 || bytes_less(smax, v)) smax = v;
    bytes += v.size();
    distinct.insert(v);
    ++count;
  }
};

struct file_case {
  std::string file;
  std::string schema_name;
  pq::schema schema;
  pq::compression codec;
  std::size_t rows;
  std::size_t rows_per_group;
  std::size_t page_bytes;
  bool negatives;  // decimals may be negative (not for prices)
};

const char* unit_name(pq::time_unit u) {
  return u == pq::time_unit::millis ? "millis" : u == pq::time_unit::micros ? "micros" : "nanos";
}
const char* type_name(pq::column_type t) {
  switch (t) {
    case pq::column_type::boolean: return "boolean";
    case pq::column_type::int64: return "int64";
    case pq::column_type::timestamp: return "timestamp";
    case pq::column_type::decimal: return "decimal";
    case pq::column_type::string: return "string";
  }
  return "?";
}

const char* const symbols[] = {"BTCUSDT", "ETHUSDT", "BNBUSDT", "SOLUSDT", "XRPUSDT", "1000PEPEUSDT"};

// The value of column `c` in row `i` (strings are built into `storage`, which outlives the row).
value generate(const file_case& fc, std::size_t c, std::size_t i, rng& r, std::string& storage) {
  const pq::column_spec& spec = fc.schema.columns[c];
  const std::size_t group = i / fc.rows_per_group;
  if (spec.is_optional()) {
    // Every other optional column is entirely null in the first row group (an all-null chunk).
    if (c % 2 == 1 && group == 0) return value();
    if (r.below(7) == 0) return value();
  }
  switch (spec.type) {
    case pq::column_type::int64:
      if (i == 0) return value::int64(INT64_MIN);
      if (i == 1) return value::int64(INT64_MAX);
      if (i == 2) return value::int64(0);
      if (i == 3) return value::int64(-1);
      return value::int64(1000000000 + static_cast<std::int64_t>(i) * 7 + static_cast<std::int64_t>(r.below(5)));
    case pq::column_type::timestamp: {
      std::int64_t ms = 1700000000000 + static_cast<std::int64_t>(i) * 13 + static_cast<std::int64_t>(r.below(1000));
      if (i == 0) ms = 0;
      if (i == 1) ms = -86400000;  // 1969-12-31
      if (i == 2) ms = spec.unit == pq::time_unit::nanos ? 4102444800000 : 253402300799999;  // 2100 / 9999-12-31
      std::int64_t count = pq::convert_time(ms, pq::time_unit::millis, spec.unit).value();
      if (i > 2 && spec.unit == pq::time_unit::micros) count += static_cast<std::int64_t>(r.below(1000));
      if (i > 2 && spec.unit == pq::time_unit::nanos) count += static_cast<std::int64_t>(r.below(1000000));
      return value::timestamp(count, spec.unit);
    }
    case pq::column_type::decimal: {
      const std::int64_t max = pq::pow10_table[static_cast<std::size_t>(spec.precision)] - 1;
      std::int64_t v = 0;
      if (i == 0) v = 1;
      else if (i == 1) v = max;
      else if (i == 2) v = 0;
      else if (i == 3 && fc.negatives) v = -max;
      else v = static_cast<std::int64_t>(r.below(static_cast<std::uint64_t>(std::min<std::int64_t>(max, 1000000000000)))) + 1;
      if (i > 3 && fc.negatives && r.below(3) == 0) v = -v;
      // Every tenth value arrives at a coarser scale, as "97000.1" would: the writer rescales it.
      if (i % 10 == 5 && spec.scale > 0 && v % 10 == 0) return value::decimal(v / 10, spec.scale - 1);
      return value::decimal(v, spec.scale);
    }
    case pq::column_type::string:
      if (spec.encoding == pq::column_encoding::dictionary) {
        if (i == 0) storage = "";
        else if (i == 1) storage = "\xC3\x84\xC3\x96\xC3\x9C\xE2\x82\xAC" "USDT";  // ÄÖÜ€USDT
        else if (fc.schema_name == "mixed")  // cardinality grows by row group: later chunks outgrow the dictionary
          storage = "tag-" + std::to_string(r.below(50 + group * 400));
        else
          storage = symbols[r.below(std::size(symbols))];
      } else {
        const std::size_t len = r.below(25);
        storage.clear();
        for (std::size_t k = 0; k < len; ++k) storage += static_cast<char>('a' + r.below(26));
        if (r.below(5) == 0) storage += "\xC3\xA9";  // é
        if (i == 0) storage.clear();
      }
      return value::string(storage);
    case pq::column_type::boolean: return value::boolean(r.below(2) == 1);
  }
  return value();
}

// The JSON text of a value as verify.mjs expects it: numbers as strings of the raw integer
// (column unit / unscaled at the column scale), strings as strings, booleans, null.
std::string sample_json(const pq::column_spec& spec, const value& v) {
  if (v.is_null()) return "null";
  switch (spec.type) {
    case pq::column_type::boolean: return v.as_bool() ? "true" : "false";
    case pq::column_type::string: return json_string(v.as_string());
    case pq::column_type::decimal:
      return "\"" + std::to_string(pq::rescale_decimal(v.as_int64(), v.scale(), spec.scale).value()) + "\"";
    default: return "\"" + std::to_string(v.as_int64()) + "\"";
  }
}

bool write_file(const std::string& path, const pq::byte_vector& bytes, std::FILE*& f) {
  if (f == nullptr) f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  return bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
}

bool run_case(const file_case& fc, const std::string& dir, std::string& json) {
  pq::writer_options o;
  o.codec = fc.codec;
  o.max_rows_per_row_group = fc.rows_per_group;
  o.data_page_bytes = fc.page_bytes;
  o.max_dictionary_entries = 1000;
  o.key_value_metadata.push_back({"pw.test", "interop"});
  auto w = pq::file_writer::create(fc.schema, o);
  if (!w) {
    std::fprintf(stderr, "%s: create: %s\n", fc.file.c_str(), w.error().message().c_str());
    return false;
  }
  w->set_key_value("pw.schema", fc.schema_name);

  const std::size_t ncols = fc.schema.columns.size();
  std::vector<column_summary> sums(ncols);
  std::set<std::size_t> sample_rows = {0, 1, 2, 3, 4};
  if (fc.rows > 0) sample_rows.insert(fc.rows - 1);
  for (std::size_t g = fc.rows_per_group; g < fc.rows; g += fc.rows_per_group) {
    sample_rows.insert(g - 1);
    sample_rows.insert(g);
  }
  rng pick{fc.rows * 31 + 7};
  for (int k = 0; k < 10 && fc.rows > 0; ++k) sample_rows.insert(pick.below(fc.rows));
  std::string samples;

  rng r{0xC0FFEE ^ std::hash<std::string>{}(fc.schema_name)};  // same data for every codec
  const std::string path = dir + "/" + fc.file;
  std::FILE* f = nullptr;
  pq::byte_vector out;
  std::vector<std::string> storage(ncols);
  std::vector<value> row(ncols);
  for (std::size_t i = 0; i < fc.rows; ++i) {
    for (std::size_t c = 0; c < ncols; ++c) row[c] = generate(fc, c, i, r, storage[c]);
    if (auto ok = w->append_row(row, out); !ok) {
      std::fprintf(stderr, "%s: row %zu: %s\n", fc.file.c_str(), i, ok.error().message().c_str());
      return false;
    }
    // Drain the bytes as a sink would: the writer's offsets must not depend on the vector.
    if (!out.empty()) {
      if (!write_file(path, out, f)) return false;
      out.clear();
    }
    for (std::size_t c = 0; c < ncols; ++c) {
      const pq::column_spec& spec = fc.schema.columns[c];
      const value& v = row[c];
      column_summary& s = sums[c];
      if (v.is_null()) {
        ++s.nulls;
        continue;
      }
      if (spec.type == pq::column_type::string) s.add_string(storage[c]);
      else if (spec.type == pq::column_type::boolean) {
        s.true_count += v.as_bool() ? 1 : 0;
        ++s.count;
      } else if (spec.type == pq::column_type::decimal) {
        s.add_int(pq::rescale_decimal(v.as_int64(), v.scale(), spec.scale).value());
      } else {
        s.add_int(v.as_int64());
        if (spec.type == pq::column_type::timestamp && spec.unit == pq::time_unit::nanos) {
          const std::int64_t ns = v.as_int64();
          s.sum_micros += ns / 1000 - (ns % 1000 < 0 ? 1 : 0);
        }
      }
    }
    if (sample_rows.count(i) != 0) {
      samples += samples.empty() ? "" : ",";
      samples += "{\"row\":" + std::to_string(i) + ",\"values\":[";
      for (std::size_t c = 0; c < ncols; ++c) samples += (c ? "," : "") + sample_json(fc.schema.columns[c], row[c]);
      samples += "]}";
    }
  }
  if (auto ok = w->finish(out); !ok) {
    std::fprintf(stderr, "%s: finish: %s\n", fc.file.c_str(), ok.error().message().c_str());
    return false;
  }
  if (!write_file(path, out, f) || std::fclose(f) != 0) {
    std::fprintf(stderr, "%s: cannot write\n", path.c_str());
    return false;
  }

  json += "{\"file\":" + json_string(fc.file) + ",\"schema\":" + json_string(fc.schema_name) +
          ",\"codec\":" + json_string(pq::to_string(fc.codec)) + ",\"rows\":" + std::to_string(fc.rows) +
          ",\"row_groups\":" + std::to_string(w->row_groups_written()) + ",\"bytes\":" +
          std::to_string(w->bytes_written()) +
          ",\"kv\":{\"pw.test\":\"interop\",\"pw.schema\":" + json_string(fc.schema_name) + "},\"columns\":[";
  for (std::size_t c = 0; c < ncols; ++c) {
    const pq::column_spec& spec = fc.schema.columns[c];
    const column_summary& s = sums[c];
    json += c ? "," : "";
    json += "{\"name\":" + json_string(spec.name) + ",\"type\":\"" + type_name(spec.type) + "\"" +
            ",\"optional\":" + (spec.is_optional() ? "true" : "false") +
            ",\"dictionary\":" + (spec.encoding == pq::column_encoding::dictionary ? "true" : "false") +
            ",\"unit\":\"" + unit_name(spec.unit) + "\",\"precision\":" + std::to_string(spec.precision) +
            ",\"scale\":" + std::to_string(spec.scale) + ",\"nulls\":" + std::to_string(s.nulls) +
            ",\"count\":" + std::to_string(s.count);
    if (spec.type == pq::column_type::string) {
      json += ",\"bytes\":" + std::to_string(s.bytes) + ",\"distinct\":" + std::to_string(s.distinct.size());
      if (s.count) json += ",\"min\":" + json_string(s.smin) + ",\"max\":" + json_string(s.smax);
    } else if (spec.type == pq::column_type::boolean) {
      json += ",\"true_count\":" + std::to_string(s.true_count);
    } else {
      json += ",\"sum\":\"" + int128_to_string(s.sum) + "\"";
      if (spec.type == pq::column_type::timestamp && spec.unit == pq::time_unit::nanos)
        json += ",\"sum_micros\":\"" + int128_to_string(s.sum_micros) + "\"";
      if (s.count) json += ",\"min\":\"" + std::to_string(s.min) + "\",\"max\":\"" + std::to_string(s.max) + "\"";
    }
    json += "}";
  }
  json += "],\"samples\":[" + samples + "]}";
  return true;
}

pq::schema mixed_schema() {
  using pq::column_spec;
  return pq::schema{"mixed",
                    {
                        column_spec::int64("id"),
                        column_spec::int64("opt_int").nullable(),
                        column_spec::string("tag").nullable().dictionary(),
                        column_spec::string("note").nullable(),
                        column_spec::timestamp("ts_us", pq::time_unit::micros).nullable(),
                        column_spec::timestamp("ts_ns", pq::time_unit::nanos),
                        column_spec::decimal("amount", 9, 2).nullable(),
                        column_spec::boolean("flag").nullable(),
                    }};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <output-dir>\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  std::vector<file_case> cases;
  const pq::compression codecs[] = {pq::compression::uncompressed, pq::compression::snappy, pq::compression::zstd};
  for (const pq::compression codec : codecs) {
    const std::string suffix = std::string("_") + pq::to_string(codec) + ".parquet";
    cases.push_back({"trades" + suffix, "trades", pq::ticks::trades_schema(), codec, 20000, 3000, 4096, false});
    cases.push_back({"agg_trades" + suffix, "agg_trades", pq::ticks::agg_trades_schema(), codec, 15000, 5000,
                     std::size_t{1} << 20, false});
    cases.push_back({"book_ticker" + suffix, "book_ticker", pq::ticks::book_ticker_schema(), codec, 12000, 2500,
                     16384, false});
    cases.push_back({"mixed" + suffix, "mixed", mixed_schema(), codec, 16000, 4000, 8192, true});
  }
  cases.push_back({"trades_empty.parquet", "trades", pq::ticks::trades_schema(), pq::compression::snappy, 0, 100,
                   4096, false});
  cases.push_back({"book_ticker_one_row.parquet", "book_ticker", pq::ticks::book_ticker_schema(),
                   pq::compression::zstd, 1, 100, 4096, false});

  std::string json = "{\"created_by\":" + json_string(pq::default_created_by()) + ",\"files\":[";
  for (std::size_t k = 0; k < cases.size(); ++k) {
    json += k ? "," : "";
    if (!run_case(cases[k], dir, json)) return 1;
  }
  json += "]}\n";
  const std::string path = dir + "/expected.json";
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr || std::fwrite(json.data(), 1, json.size(), f) != json.size() || std::fclose(f) != 0) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    return 1;
  }
  std::printf("wrote %zu parquet files and %s\n", cases.size(), path.c_str());
  return 0;
}
