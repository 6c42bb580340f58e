// The reader half of the reader interop test: reads each file named on the command line (written
// by pyarrow, Polars and DuckDB from write_foreign.py / write_foreign.mjs) with read_footer and
// read_row_group, and compares every value with the trades table those scripts write. Timestamps
// are compared in milliseconds whatever unit the writer chose (DuckDB writes microseconds),
// decimals as unscaled integers at scale 8. Prints one line per file; exits 1 if any value,
// null or type differs, or if a file does not read.
// Usage: parquet_read_foreign FILE...
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "pw_parquet/column_reader.hpp"
#include "pw_parquet/footer_reader.hpp"
#include "pw_parquet/value.hpp"

namespace pq = pw_parquet;

namespace {

constexpr std::size_t rows = 5;
const std::int64_t event_ms[rows] = {1732233600000, 1732233600250, 1732233600500, 1732233600750, 1732233601000};
const char* const symbol[rows] = {"BTCUSDT", "ETHUSDT", "BTCUSDT", "SOLUSDT", "BTCUSDT"};
const std::int64_t trade_id[rows] = {4242, 4243, -1, 9007199254740993, 0};
const std::int64_t price[rows] = {9700010000000, 310050000000, 1, -1234000000, 999999999999999999};
const bool quantity_valid[rows] = {true, false, true, true, true};
const std::int64_t quantity[rows] = {150000, 0, 100000000, 250000000, 0};
const bool maker_valid[rows] = {true, true, true, false, true};
const bool maker[rows] = {true, false, true, false, false};
const bool note_valid[rows] = {true, false, true, true, true};
const char* const note[rows] = {"a", "", "\xc3\xbc", "", "xxx"};

class checker {
 public:
  explicit checker(std::string file) : file_(std::move(file)) {}
  void expect(bool ok, const std::string& what) {
    if (ok) return;
    std::fprintf(stderr, "%s: %s\n", file_.c_str(), what.c_str());
    ++failures_;
  }
  int failures() const { return failures_; }

 private:
  std::string file_;
  int failures_ = 0;
};

// The columns of all row groups, concatenated per column name (one column_values per row group).
using columns_by_name = std::map<std::string, std::vector<pq::column_values>>;

// Row r of a column split over row groups: which part and which row in it, and the index of
// its value among the part's non-null values.
struct located {
  const pq::column_values* part = nullptr;
  std::size_t row = 0;
  std::size_t value = 0;
};
located locate(const std::vector<pq::column_values>& parts, std::size_t r) {
  for (const auto& p : parts) {
    if (r < p.rows()) {
      std::size_t v = 0;
      for (std::size_t k = 0; k < r; ++k) v += p.valid[k];
      return {&p, r, v};
    }
    r -= p.rows();
  }
  return {};
}

int check_file(const std::string& path) {
  checker c(path);
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(chars.data()), chars.size());
  auto meta = pq::read_footer(file);
  if (!meta) {
    c.expect(false, "read_footer: " + meta.error().message());
    return 1;
  }
  c.expect(meta->num_rows == static_cast<std::int64_t>(rows), "num_rows");
  std::vector<std::size_t> all(meta->columns.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  columns_by_name cols;
  for (std::size_t g = 0; g < meta->row_groups.size(); ++g) {
    auto rg = pq::read_row_group(file, *meta, g, all);
    if (!rg) {
      c.expect(false, "read_row_group: " + rg.error().message());
      return 1;
    }
    for (auto& col : *rg) cols[col.descriptor.name].push_back(std::move(col));
  }
  for (const char* name : {"event_time", "symbol", "trade_id", "price", "quantity", "is_buyer_maker", "note"})
    if (cols[name].empty()) {
      c.expect(false, std::string("missing column ") + name);
      return 1;
    }
  const auto& d_time = cols["event_time"][0].descriptor;
  c.expect(d_time.logical == pq::logical_kind::timestamp, "event_time is not a timestamp");
  for (const char* name : {"price", "quantity"}) {
    const auto& d = cols[name][0].descriptor;
    c.expect(d.logical == pq::logical_kind::decimal && d.precision == 18 && d.scale == 8,
             std::string(name) + " is not DECIMAL(18, 8)");
    c.expect(cols[name][0].storage == pq::value_storage::int64, std::string(name) + " not decoded to int64");
  }
  for (std::size_t r = 0; r < rows; ++r) {
    const std::string at = " at row " + std::to_string(r);
    const auto t = locate(cols["event_time"], r);
    const auto s = locate(cols["symbol"], r);
    const auto id = locate(cols["trade_id"], r);
    const auto p = locate(cols["price"], r);
    const auto q = locate(cols["quantity"], r);
    const auto m = locate(cols["is_buyer_maker"], r);
    const auto n = locate(cols["note"], r);
    if (!t.part || !s.part || !id.part || !p.part || !q.part || !m.part || !n.part) {
      c.expect(false, "too few rows" + at);
      break;
    }
    auto ms = pq::convert_time(t.part->int64s.at(t.value), d_time.unit, pq::time_unit::millis);
    c.expect(t.part->valid[t.row] && ms && *ms == event_ms[r], "event_time" + at);
    c.expect(s.part->valid[s.row] && pq::as_string_view(s.part->bytes_at(s.value)) == symbol[r], "symbol" + at);
    c.expect(id.part->valid[id.row] && id.part->int64s.at(id.value) == trade_id[r], "trade_id" + at);
    c.expect(p.part->valid[p.row] && p.part->int64s.at(p.value) == price[r], "price" + at);
    c.expect(q.part->valid[q.row] == quantity_valid[r], "quantity null" + at);
    if (quantity_valid[r]) c.expect(q.part->int64s.at(q.value) == quantity[r], "quantity" + at);
    c.expect(m.part->valid[m.row] == maker_valid[r], "is_buyer_maker null" + at);
    if (maker_valid[r]) c.expect(m.part->booleans.at(m.value) == (maker[r] ? 1 : 0), "is_buyer_maker" + at);
    c.expect(n.part->valid[n.row] == note_valid[r], "note null" + at);
    if (note_valid[r]) c.expect(pq::as_string_view(n.part->bytes_at(n.value)) == note[r], "note" + at);
  }
  if (c.failures() == 0)
    std::printf("%s: %zu rows, %zu row groups, identical (created_by: %s)\n", path.c_str(), rows,
                meta->row_groups.size(), meta->created_by.c_str());
  return c.failures() == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: parquet_read_foreign FILE...\n");
    return 2;
  }
  int status = 0;
  for (int i = 1; i < argc; ++i) status |= check_file(argv[i]);
  return status;
}
