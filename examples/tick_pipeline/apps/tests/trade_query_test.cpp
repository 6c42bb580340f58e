// polarway-query's parts: times and days, exact totals and their rounding, the row-group
// statistics test, the batch read over real part files (against sums computed here from the
// rows written), the files it lists, hostile files (each an error naming the file and, for page
// data, the column) and the command line.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>
#include <pw_parquet/parquet.hpp>

#include "parquet_file_reader.hpp"
#include "support/temp_dir.hpp"
#include "query_cli.hpp"
#include "trade_aggregate.hpp"
#include "trade_query.hpp"

namespace pw = polarway;
namespace pq = pw_parquet;
namespace app = ticks::app;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t ms = 1'000'000;                  // ns
constexpr std::int64_t day0_ms = 1732233600000;         // 2024-11-22T00:00:00Z
constexpr std::int64_t day_ms = 86'400'000;

struct trade_row {
  std::string symbol;
  std::int64_t time_ms;
  std::int64_t price;     // scale 8
  std::int64_t quantity;  // scale 8
};

// Writes `rows` as a trades part file with `rows_per_group` rows per row group.
void write_trades(const fs::path& path, const std::vector<trade_row>& rows, std::size_t rows_per_group) {
  pq::writer_options options;
  options.max_rows_per_row_group = rows_per_group;
  auto w = pq::file_writer::create(pq::ticks::trades_schema(), options);
  REQUIRE(w);
  pq::byte_vector out;
  std::int64_t id = 0;
  for (const trade_row& r : rows) {
    const pq::value row[] = {pq::value::timestamp_millis(r.time_ms), pq::value::string(r.symbol),
                             pq::value::int64(++id),                 pq::value::decimal(r.price, 8),
                             pq::value::decimal(r.quantity, 8),      pq::value::timestamp_millis(r.time_ms),
                             pq::value::boolean(id % 2 == 0)};
    REQUIRE(w->append_row(row, out));
  }
  REQUIRE(w->finish(out));
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

// Deterministic trades: `n` rows of `symbol` spread over two days from `start_ms`.
std::vector<trade_row> make_trades(const std::string& symbol, std::size_t n, std::int64_t start_ms, std::uint64_t seed) {
  std::vector<trade_row> rows;
  std::uint64_t x = seed;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    const auto price = static_cast<std::int64_t>(9'000'000'000'000 + (x >> 40) % 100'000'000'000);  // about 90,000
    const auto quantity = static_cast<std::int64_t>(1 + (x >> 20) % 500'000'000);                  // up to 5
    rows.push_back({symbol, start_ms + static_cast<std::int64_t>(i) * (2 * day_ms / static_cast<std::int64_t>(n)), price, quantity});
  }
  return rows;
}

// The same aggregate, computed plainly from the rows.
std::map<app::trade_group_key, app::trade_totals> expected(const std::vector<trade_row>& rows, const app::trade_filter& f) {
  std::map<app::trade_group_key, app::trade_totals> m;
  for (const trade_row& r : rows) {
    const std::int64_t ns = r.time_ms * ms;
    if (!f.admits_time(ns) || !f.admits_symbol(r.symbol)) continue;
    app::trade_totals& t = m[app::trade_group_key{r.symbol, r.time_ms / day_ms}];
    if (t.count == 0 || r.price < t.min_price) t.min_price = r.price;
    if (t.count == 0 || r.price > t.max_price) t.max_price = r.price;
    if (t.count == 0 || ns < t.first_time_ns) t.first_time_ns = ns;
    if (t.count == 0 || ns > t.last_time_ns) t.last_time_ns = ns;
    ++t.count;
    t.sum_price += r.price;
    t.sum_quantity += r.quantity;
    t.notional += static_cast<__int128>(r.price) * r.quantity;
  }
  return m;
}

void check_same(const std::map<app::trade_group_key, app::trade_totals>& got,
                const std::map<app::trade_group_key, app::trade_totals>& want) {
  REQUIRE(got.size() == want.size());
  for (auto g = got.begin(), w = want.begin(); g != got.end(); ++g, ++w) {
    CAPTURE(g->first.symbol);
    CAPTURE(g->first.day);
    CHECK(g->first == w->first);
    CHECK(g->second.count == w->second.count);
    CHECK(g->second.sum_price == w->second.sum_price);
    CHECK(g->second.sum_quantity == w->second.sum_quantity);
    CHECK(g->second.notional == w->second.notional);
    CHECK(g->second.min_price == w->second.min_price);
    CHECK(g->second.max_price == w->second.max_price);
    CHECK(g->second.first_time_ns == w->second.first_time_ns);
    CHECK(g->second.last_time_ns == w->second.last_time_ns);
  }
}

pw::result<app::trade_query_result, std::string> query(const fs::path& dir, app::trade_filter filter,
                                                        std::size_t concurrency) {
  auto files = app::list_parquet_files(dir.string());
  if (!files) return pw::err(files.error());
  pw::runtime rt(pw::runtime_options{.workers = 2});
  return rt.block_on(app::run_trade_query(
      app::trade_query_options{.files = std::move(*files), .filter = std::move(filter), .concurrency = concurrency}));
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("times: parsing, days and ISO text") {
  CHECK(app::parse_time_ns("2024-11-22").value() == day0_ms * ms);
  CHECK(app::parse_time_ns("2024-11-22T10:30").value() == (day0_ms + 37'800'000) * ms);
  CHECK(app::parse_time_ns("2024-11-22T10:30:05.25Z").value() == (day0_ms + 37'805'250) * ms);
  CHECK(app::parse_time_ns("2024-11-22T00:00:00.000000001").value() == day0_ms * ms + 1);
  CHECK(app::parse_time_ns("1732233600123").value() == (day0_ms + 123) * ms);
  CHECK(app::parse_time_ns("1970-01-01").value() == 0);
  CHECK(app::parse_time_ns("2024-02-29").value() == app::parse_time_ns("2024-03-01").value() - day_ms * ms);
  for (const char* bad : {"", "2023-02-29", "2024-13-01", "2024-11-31", "2024-11-22T24:00", "2024-11-22T10:60",
                          "2024-11-22T10", "2024-11-22 10:00", "2024-11-22T10:00:00.", "2024-11-22T10:00:00.0000000001",
                          "2024-11-22Zjunk", "-5", "99999999999999999999", "1e9", "2262-01-01", "1600-01-01"}) {
    CAPTURE(bad);
    auto t = app::parse_time_ns(bad);
    REQUIRE_FALSE(t);
    CHECK(contains(t.error(), "is not a time"));
  }
  CHECK(app::day_text(0) == "1970-01-01");
  CHECK(app::day_text(day0_ms / day_ms) == "2024-11-22");
  CHECK(app::day_text(-1) == "1969-12-31");
  CHECK(app::time_text((day0_ms + 123) * ms) == "2024-11-22T00:00:00.123Z");
  CHECK(app::time_text(day0_ms * ms + 1500) == "2024-11-22T00:00:00.000001500Z");
  CHECK(app::time_text(day0_ms * ms + 2000) == "2024-11-22T00:00:00.000002Z");
  CHECK(app::time_text(-1 * ms) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("trade_totals: exact sums, VWAP rounded half away from zero, overflow reported") {
  app::trade_totals t;
  // 1.00000000 at 2 and 2.00000000 at 1: notional 4, quantity 3, VWAP 1.333333333... -> 1.33333333
  CHECK(t.add(100'000'000, 200'000'000, 5));
  CHECK(t.add(200'000'000, 100'000'000, 3));
  CHECK(t.count == 2);
  CHECK(t.notional == static_cast<__int128>(4) * 10'000'000'000'000'000);
  CHECK(t.vwap().value() == 133'333'333);
  CHECK(t.first_time_ns == 3);
  CHECK(t.last_time_ns == 5);
  CHECK(t.min_price == 100'000'000);
  CHECK(t.max_price == 200'000'000);
  // Exactly half a unit in the last place rounds away from zero: notional 1, quantity 2 (at
  // their scales: 0.5 * 10^-8 past 0.00000000).
  app::trade_totals half;
  half.notional = 1;
  half.sum_quantity = 2;
  CHECK(half.vwap().value() == 1);
  half.notional = -1;
  CHECK(half.vwap().value() == -1);
  half.notional = 1;
  half.sum_quantity = 3;
  CHECK(half.vwap().value() == 0);
  app::trade_totals none;
  CHECK(none.vwap().is_none());
  // Sums past 128 bits are reported, not wrapped.
  app::trade_totals big;
  bool ok = true;
  for (int i = 0; i < 8 && ok; ++i) ok = big.add(INT64_MAX, INT64_MAX, 0);
  CHECK_FALSE(ok);
  app::trade_totals a, b;
  a.notional = static_cast<__int128>((static_cast<unsigned __int128>(1) << 126));
  a.count = b.count = 1;
  b.notional = a.notional;
  CHECK_FALSE(a.merge(b));
}

TEST_CASE("a batch read gives the exact aggregate per symbol and day, whatever the concurrency") {
  pw_test::temp_dir temp;
  const fs::path dir_path = temp.path;
  std::vector<trade_row> all;
  // Three symbols, two files each (one spanning two days), plus a file of two symbols.
  int n = 0;
  for (const std::string sym : {"BTCUSDT", "ETHUSDT", "SOLUSDT"}) {
    for (int part = 0; part < 2; ++part) {
      auto rows = make_trades(sym, 700, day0_ms + part * day_ms, static_cast<std::uint64_t>(++n));
      write_trades(dir_path / "trade" / ("symbol=" + sym) / "date=x" / ("part-0000" + std::to_string(part) + ".parquet"),
                   rows, 128);
      all.insert(all.end(), rows.begin(), rows.end());
    }
  }
  auto mixed = make_trades("BTCUSDT", 300, day0_ms, 99);
  auto eth = make_trades("ETHUSDT", 300, day0_ms, 98);
  mixed.insert(mixed.end(), eth.begin(), eth.end());
  write_trades(dir_path / "mixed.parquet", mixed, 100);
  all.insert(all.end(), mixed.begin(), mixed.end());
  // Files the query must leave alone: a sink temporary, a hidden directory, another extension.
  std::ofstream(dir_path / "trade" / ".part-00009.parquet.tmp") << "half written";
  fs::create_directories(dir_path / ".hidden");
  std::ofstream(dir_path / ".hidden" / "x.parquet") << "not read";
  std::ofstream(dir_path / "notes.txt") << "not read";

  auto files = app::list_parquet_files(dir_path.string());
  REQUIRE(files);
  CHECK(files->size() == 7);
  CHECK(std::is_sorted(files->begin(), files->end()));

  for (const std::size_t concurrency : {std::size_t{1}, std::size_t{3}, std::size_t{64}}) {
    CAPTURE(concurrency);
    auto r = query(dir_path, {}, concurrency);
    REQUIRE(r);
    check_same(r->aggregate.groups(), expected(all, {}));
    CHECK(r->files == 7);
    CHECK(r->row_groups_skipped == 0);
    CHECK(r->aggregate.rows_seen() == all.size());
    CHECK(r->aggregate.rows_matched() == all.size());
    CHECK(r->bytes_read > 0);
  }

  SUBCASE("a time range and a symbol: rows filtered, row groups ruled out by statistics unread") {
    app::trade_filter f;
    f.from_ns = (day0_ms + day_ms / 2) * ms;
    f.to_ns = (day0_ms + day_ms + day_ms / 3) * ms;
    f.symbols = {"ETHUSDT", "SOLUSDT"};
    auto r = query(dir_path, f, 2);
    REQUIRE(r);
    check_same(r->aggregate.groups(), expected(all, f));
    CHECK(r->row_groups_skipped > 0);
    CHECK(r->aggregate.rows_seen() < all.size());
    // Every group was read at the rows it needed: a query without a filter reads them all.
    auto whole = query(dir_path, {}, 2);
    REQUIRE(whole);
    CHECK(r->row_groups_read + r->row_groups_skipped == whole->row_groups_read);
    CHECK(r->bytes_read < whole->bytes_read);
  }
  SUBCASE("a symbol no file holds: every row group is ruled out") {
    app::trade_filter f;
    f.symbols = {"DOGEUSDT"};
    auto r = query(dir_path, f, 4);
    REQUIRE(r);
    CHECK(r->aggregate.groups().empty());
    CHECK(r->row_groups_read == 0);
    CHECK(r->row_groups_skipped > 0);
  }
  SUBCASE("the JSON and the table carry every group's exact values") {
    auto r = query(dir_path, {}, 2);
    REQUIRE(r);
    const std::string json = app::trade_query_json(*r);
    const std::string table = app::trade_query_table(*r);
    for (const auto& [key, t] : r->aggregate.groups()) {
      CHECK(contains(json, "{\"symbol\":\"" + key.symbol + "\",\"day\":\"" + app::day_text(key.day) + "\",\"count\":" +
                               std::to_string(t.count) + ","));
      CHECK(contains(json, "\"notional\":\"" + pq::format_decimal(t.notional, 16) + "\""));
      CHECK(contains(table, pq::format_decimal(t.vwap().value(), 8)));
    }
    CHECK(contains(json, "\"files\":7,"));
    CHECK(std::count(table.begin(), table.end(), '\n') == static_cast<long>(r->aggregate.groups().size()) + 1);
  }
}

TEST_CASE("hostile files: each an error naming the file, and the column for page data") {
  pw_test::temp_dir temp;
  const fs::path dir_path = temp.path;
  const fs::path good = dir_path / "a-good.parquet";
  write_trades(good, make_trades("BTCUSDT", 500, day0_ms, 7), 100);
  std::vector<char> bytes(fs::file_size(good));
  std::ifstream(good, std::ios::binary).read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  const auto write = [&](const std::string& name, const std::vector<char>& b) {
    const fs::path p = dir_path / name;
    std::ofstream(p, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
    return p;
  };
  const auto fails_naming = [&](const fs::path& p, const std::string& what) {
    auto r = query(p, {}, 2);
    REQUIRE_FALSE(r);
    CAPTURE(r.error());
    CHECK(contains(r.error(), p.string()));
    CHECK(contains(r.error(), what));
  };
  fails_naming(write("empty.parquet", {}), "not a Parquet file");
  fails_naming(write("text.parquet", std::vector<char>(100, 'x')), "");
  fails_naming(write("truncated.parquet", std::vector<char>(bytes.begin(), bytes.begin() + static_cast<long>(bytes.size() / 2))), "");
  {
    // The footer length points before the start of the file.
    auto b = bytes;
    const std::uint32_t huge = 0x7fffffff;
    std::memcpy(b.data() + b.size() - 8, &huge, 4);
    fails_naming(write("footer_past_start.parquet", b), "");
  }
  {
    // A page of the price column with its bytes scrambled: the column is named.
    auto meta_file = [&]() {
      pw::runtime rt(pw::runtime_options{.workers = 1});
      return rt.block_on(app::parquet_file_reader::open(good.string()));
    }();
    REQUIRE(meta_file);
    const auto price = meta_file->column_index("price").value();
    const auto& chunk = meta_file->metadata().row_groups[2].columns[price];
    auto b = bytes;
    // Past the page header (a few dozen bytes): the compressed values.
    const auto at = static_cast<std::size_t>(chunk.data_page_offset) + 24;
    for (std::size_t i = at; i < at + 16 && i < static_cast<std::size_t>(chunk.data_page_offset + chunk.total_compressed_size); ++i)
      b[i] = static_cast<char>(b[i] ^ 0x5a);
    fails_naming(write("scrambled.parquet", b), "column \"price\"");
  }
  {
    // A table without the columns a trade query needs.
    auto w = pq::file_writer::create(pq::ticks::book_ticker_schema());
    REQUIRE(w);
    pq::byte_vector out;
    REQUIRE(w->finish(out));
    fails_naming(write("book.parquet", std::vector<char>(reinterpret_cast<const char*>(out.data()),
                                                         reinterpret_cast<const char*>(out.data()) + out.size())),
                 "no column \"price\"");
  }
  // A directory holding one bad file fails as a whole, naming that file; the good one alone reads.
  auto whole = query(dir_path, {}, 3);
  REQUIRE_FALSE(whole);
  CHECK(contains(whole.error(), dir_path.string()));
  auto alone = query(good, {}, 3);
  REQUIRE(alone);
  CHECK(alone->aggregate.rows_matched() == 500);
  auto missing = app::list_parquet_files((dir_path / "nothing").string());
  REQUIRE_FALSE(missing);
  CHECK(contains(missing.error(), "nothing"));
}

TEST_CASE("the command line") {
  const auto parse = [](std::vector<const char*> args) { return app::parse_query_args(args); };
  auto cfg = parse({"out/trade", "--from", "2024-11-22", "--to=2024-11-23T00:00:00Z", "--symbol", "BTCUSDT", "--symbol",
                    "ETHUSDT", "--concurrency", "8", "--json", "--time-column", "event_time"});
  REQUIRE(cfg);
  CHECK(cfg->path == "out/trade");
  CHECK(cfg->query.filter.from_ns.value() == day0_ms * ms);
  CHECK(cfg->query.filter.to_ns.value() == (day0_ms + day_ms) * ms);
  CHECK(cfg->query.filter.symbols == std::vector<std::string>{"BTCUSDT", "ETHUSDT"});
  CHECK(cfg->query.concurrency == 8);
  CHECK(cfg->query.time_column == "event_time");
  CHECK(cfg->json);
  auto defaults = parse({"dir"});
  REQUIRE(defaults);
  CHECK(defaults->query.concurrency == 4);
  CHECK(defaults->query.time_column == "trade_time");
  CHECK_FALSE(defaults->json);
  CHECK(parse({"--help"}).error().help);
  CHECK(parse({"dir", "--help"}).error().help);
  const std::vector<std::pair<std::vector<const char*>, std::string>> bad = {
      {{}, "first argument"},
      {{"--json"}, "first argument"},
      {{"dir", "--from", "yesterday"}, "--from"},
      {{"dir", "--to"}, "--to"},
      {{"dir", "--concurrency", "0"}, "--concurrency"},
      {{"dir", "--concurrency", "4x"}, "--concurrency"},
      {{"dir", "--symbol", ""}, "--symbol"},
      {{"dir", "--json=1"}, "--json"},
      {{"dir", "--from", "2024-11-23", "--to", "2024-11-22"}, "--from must be before --to"},
      {{"dir", "--bogus"}, "--bogus"},
      {{"dir", "other"}, ""},
  };
  for (const auto& entry : bad) {
    // Not a structured binding: clang 14 cannot capture one (CAPTURE is a lambda).
    const std::vector<const char*>& args = entry.first;
    const std::string& what = entry.second;
    CAPTURE(what);
    auto r = parse(args);
    REQUIRE_FALSE(r);
    CHECK_FALSE(r.error().help);
    CHECK(contains(r.error().message, what));
  }
}
