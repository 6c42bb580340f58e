// tick_recording and tick_merge: the scan tells each file's kind, streams and time range; the
// merge gives every row once, by event time, ties in file rank (path, part number as a number)
// then row order, each file's rows in file order even where its times go backwards, values
// equal to those written (decimals rescaled, micro- and nanosecond times read as ms); the time
// and symbol filters; a stream subset, an UNSUBSCRIBE and a late SUBSCRIBE mid-merge; hostile
// recordings (not Parquet, not a tick file, a wrong type or scale, a bad symbol, no file, a
// time that is not a whole millisecond, a file cut after the scan), each an error naming the
// file (and the column).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <polarway/runtime.hpp>
#include <pw_parquet/parquet.hpp>

#include "support/temp_dir.hpp"
#include "tick_recording.hpp"

namespace pw = polarway;
namespace pq = pw_parquet;
namespace app = ticks::app;
namespace fs = std::filesystem;

namespace {

constexpr std::int64_t t0 = 1732233600000;  // 2024-11-22T00:00:00Z

void write_file(const std::string& path, const pq::schema& schema, const std::vector<std::vector<pq::value>>& rows,
                std::size_t per_group = 3) {
  fs::create_directories(fs::path(path).parent_path());
  pq::writer_options options;
  options.max_rows_per_row_group = per_group;
  auto w = pq::file_writer::create(schema, options);
  REQUIRE(w);
  pq::byte_vector out;
  for (const auto& row : rows) REQUIRE(w->append_row(row, out));
  REQUIRE(w->finish(out));
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(out.data()), static_cast<std::streamsize>(out.size()));
}

// A trade row: event time t0 + dt, trade id `id`, price 100 + id (scale 8).
std::vector<pq::value> trade_row(const char* symbol, std::int64_t dt, std::int64_t id) {
  return {pq::value::timestamp_millis(t0 + dt), pq::value::string(symbol), pq::value::int64(id),
          pq::value::decimal((100 + id) * 100'000'000, 8), pq::value::decimal(5'000'000 + id, 8),
          pq::value::timestamp_millis(t0 + dt - 1), pq::value::boolean(id % 2 == 0)};
}
std::vector<pq::value> book_row(const char* symbol, std::int64_t dt, std::int64_t id) {
  return {pq::value::int64(id),           pq::value::string(symbol),
          pq::value::decimal(1000 + id, 8), pq::value::decimal(2000 + id, 8),
          pq::value::decimal(3000 + id, 8), pq::value::decimal(4000 + id, 8),
          pq::value::timestamp_millis(t0 + dt)};
}

void write_trades(const std::string& path, const char* symbol, const std::vector<std::pair<std::int64_t, std::int64_t>>& rows,
                  std::size_t per_group = 3) {
  std::vector<std::vector<pq::value>> r;
  for (const auto& [dt, id] : rows) r.push_back(trade_row(symbol, dt, id));
  write_file(path, pq::ticks::trades_schema(), r, per_group);
}

// One merged row, as the tests compare them.
struct taken {
  std::string stream;
  std::int64_t time = 0;
  std::int64_t id = 0;
  friend bool operator==(const taken&, const taken&) = default;
};

std::int64_t id_of(const ticks::tick& t) {
  if (const auto* tr = std::get_if<ticks::trade>(&t)) return tr->trade_id;
  if (const auto* ag = std::get_if<ticks::agg_trade>(&t)) return ag->agg_trade_id;
  return std::get<ticks::book_ticker>(t).update_id;
}

// Takes `limit` rows (all when 0) from the merge, refilling when it must.
std::vector<taken> drain(pw::runtime& rt, app::tick_merge& m, std::size_t limit = 0) {
  std::vector<taken> out;
  while (limit == 0 || out.size() < limit) {
    if (!m.ready() && !m.done()) {
      auto r = rt.block_on(m.refill());
      REQUIRE_MESSAGE(r, (r ? std::string() : r.error()));
    }
    if (m.done()) break;
    REQUIRE(m.ready());
    out.push_back({std::string(m.front_stream()), m.front_time_ms(), id_of(m.front())});
    m.pop();
  }
  return out;
}

app::tick_recording scan_ok(pw::runtime& rt, const std::string& dir, app::recording_filter filter = {}) {
  auto r = rt.block_on(app::tick_recording::scan(dir, std::move(filter)));
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error()));
  return std::move(*r);
}

std::string scan_error(pw::runtime& rt, const std::string& dir) {
  auto r = rt.block_on(app::tick_recording::scan(dir, {}));
  REQUIRE_FALSE(r);
  return r.error();
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("the merge gives every row once, by event time, ties in file rank then row order") {
  pw_test::temp_dir temp;
  const std::string root = temp.path;
  // Three trade parts of one symbol (99999 ranks before 100000, which a text order would put
  // first), one file of another symbol, and a bookTicker file; times overlap and tie.
  const std::string d = root + "/trade/symbol=BTCUSDT/date=2024-11-22/";
  write_trades(d + "part-00002.parquet", "BTCUSDT", {{0, 1}, {2, 2}, {2, 3}, {5, 4}});
  write_trades(d + "part-99999.parquet", "BTCUSDT", {{5, 5}, {6, 6}});
  write_trades(d + "part-100000.parquet", "BTCUSDT", {{6, 7}, {9, 8}});
  write_trades(root + "/trade/symbol=ETHUSDT/date=2024-11-22/part-00000.parquet", "ETHUSDT",
               {{1, 100}, {2, 101}, {2, 102}, {3, 103}, {9, 104}});
  write_file(root + "/bookTicker/symbol=BTCUSDT/date=2024-11-22/part-00000.parquet", pq::ticks::book_ticker_schema(),
             {book_row("BTCUSDT", 0, 500), book_row("BTCUSDT", 2, 501), book_row("BTCUSDT", 9, 502)});
  pw::runtime rt(pw::runtime_options{.workers = 2});
  auto rec = std::make_shared<const app::tick_recording>(scan_ok(rt, root));
  REQUIRE(rec->files().size() == 5);
  CHECK(rec->rows() == 16);
  CHECK(rec->streams() == std::vector<std::string>{"btcusdt@bookTicker", "btcusdt@trade", "ethusdt@trade"});
  // Ranked by path: bookTicker < trade/BTCUSDT parts 2, 99999, 100000 < trade/ETHUSDT.
  CHECK(rec->files()[0].kind == ticks::message_kind::book_ticker);
  CHECK(rec->files()[1].path.ends_with("part-00002.parquet"));
  CHECK(rec->files()[2].path.ends_with("part-99999.parquet"));
  CHECK(rec->files()[3].path.ends_with("part-100000.parquet"));
  CHECK(rec->files()[4].symbols == std::vector<std::string>{"ETHUSDT"});
  CHECK(rec->files()[1].min_time_ms == t0);
  CHECK(rec->files()[1].max_time_ms == t0 + 5);

  app::tick_merge m(rec, rec->streams());
  const auto got = drain(rt, m);
  const std::string b = "btcusdt@bookTicker", bt = "btcusdt@trade", et = "ethusdt@trade";
  const std::vector<taken> want = {
      {b, t0, 500},      {bt, t0, 1},       {et, t0 + 1, 100}, {b, t0 + 2, 501}, {bt, t0 + 2, 2},  {bt, t0 + 2, 3},
      {et, t0 + 2, 101}, {et, t0 + 2, 102}, {et, t0 + 3, 103}, {bt, t0 + 5, 4},  {bt, t0 + 5, 5},  {bt, t0 + 6, 6},
      {bt, t0 + 6, 7},   {b, t0 + 9, 502},  {bt, t0 + 9, 8},   {et, t0 + 9, 104}};
  CHECK(got == want);
  CHECK(m.taken() == 16);
  CHECK(m.done());
}

TEST_CASE("a merged tick carries the values written: decimals rescaled to 8 places, times in ms") {
  pw_test::temp_dir temp;
  // An aggTrade file with prices at scale 2 and times in microseconds, a trade file in ns.
  pq::schema agg{"agg", {pq::column_spec::timestamp("event_time", pq::time_unit::micros), pq::column_spec::string("symbol"),
                         pq::column_spec::int64("agg_trade_id"), pq::column_spec::decimal("price", 12, 2),
                         pq::column_spec::decimal("quantity", 18, 8), pq::column_spec::int64("first_trade_id"),
                         pq::column_spec::int64("last_trade_id"),
                         pq::column_spec::timestamp("trade_time", pq::time_unit::micros),
                         pq::column_spec::boolean("is_buyer_maker")}};
  write_file(temp.file("agg.parquet"), agg,
             {{pq::value::timestamp_micros((t0 + 7) * 1000), pq::value::string("SOLUSDT"), pq::value::int64(42),
               pq::value::decimal(12345, 2), pq::value::decimal(250'000'000, 8), pq::value::int64(90),
               pq::value::int64(93), pq::value::timestamp_micros((t0 + 6) * 1000), pq::value::boolean(true)}});
  pq::schema trades = pq::ticks::trades_schema();
  trades.columns[pq::ticks::trades_event_time].unit = pq::time_unit::nanos;
  auto row = trade_row("SOLUSDT", 3, 9);
  row[pq::ticks::trades_event_time] = pq::value::timestamp_nanos((t0 + 3) * 1'000'000);
  write_file(temp.file("trades.parquet"), trades, {row});
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto rec = std::make_shared<const app::tick_recording>(scan_ok(rt, temp.path));
  app::tick_merge m(rec, rec->streams());
  REQUIRE(!m.ready());
  REQUIRE(rt.block_on(m.refill()));
  REQUIRE(m.ready());
  const auto* tr = std::get_if<ticks::trade>(&m.front());
  REQUIRE(tr != nullptr);
  CHECK(tr->symbol.view() == "SOLUSDT");
  CHECK(tr->event_time_ms == t0 + 3);
  CHECK(tr->trade_id == 9);
  CHECK(tr->price.raw == std::int64_t{109} * 100'000'000);
  CHECK(tr->quantity.raw == 5'000'009);
  CHECK(tr->trade_time_ms == t0 + 2);
  CHECK_FALSE(tr->buyer_is_maker);
  CHECK(m.front_stream() == "solusdt@trade");
  m.pop();
  if (!m.ready()) REQUIRE(rt.block_on(m.refill()));
  const auto* ag = std::get_if<ticks::agg_trade>(&m.front());
  REQUIRE(ag != nullptr);
  CHECK(ag->event_time_ms == t0 + 7);
  CHECK(ag->agg_trade_id == 42);
  CHECK(ag->price.raw == std::int64_t{12345} * 1'000'000);  // 123.45 at scale 8
  CHECK(ag->quantity.raw == 250'000'000);
  CHECK(ag->first_trade_id == 90);
  CHECK(ag->last_trade_id == 93);
  CHECK(ag->trade_time_ms == t0 + 6);
  CHECK(ag->buyer_is_maker);
  m.pop();
  if (!m.ready() && !m.done()) REQUIRE(rt.block_on(m.refill()));
  CHECK(m.done());
}

TEST_CASE("a file whose times go backwards keeps its order; its rows are not sorted") {
  pw_test::temp_dir temp;
  write_trades(temp.file("a.parquet"), "BTCUSDT", {{5, 1}, {3, 2}, {8, 3}}, 2);
  write_trades(temp.file("b.parquet"), "ETHUSDT", {{4, 10}, {6, 11}}, 2);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto rec = std::make_shared<const app::tick_recording>(scan_ok(rt, temp.path));
  app::tick_merge m(rec, rec->streams());
  std::vector<std::int64_t> ids;
  for (const auto& t : drain(rt, m)) ids.push_back(t.id);
  // b's 4 goes before a's 5; a's 3 waits behind its 5, then goes first of what is left.
  CHECK(ids == std::vector<std::int64_t>{10, 1, 2, 11, 3});
}

TEST_CASE("--from, --to and --symbol: only the rows inside, files outside left out") {
  pw_test::temp_dir temp;
  std::vector<std::pair<std::int64_t, std::int64_t>> btc, eth;
  for (std::int64_t i = 0; i < 40; ++i) btc.emplace_back(i, i);
  for (std::int64_t i = 0; i < 10; ++i) eth.emplace_back(100 + i, 1000 + i);
  write_trades(temp.file("btc.parquet"), "BTCUSDT", btc, 4);
  write_trades(temp.file("eth.parquet"), "ETHUSDT", eth, 4);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  {
    auto rec = std::make_shared<const app::tick_recording>(
        scan_ok(rt, temp.path, app::recording_filter{.from_ms = t0 + 10, .to_ms = t0 + 21, .symbols = {}}));
    CHECK(rec->files().size() == 1);  // eth's rows are all after --to
    app::tick_merge m(rec, rec->streams());
    const auto got = drain(rt, m);
    REQUIRE(got.size() == 11);
    CHECK(got.front().time == t0 + 10);
    CHECK(got.back().time == t0 + 20);
  }
  {
    auto rec = std::make_shared<const app::tick_recording>(
        scan_ok(rt, temp.path, app::recording_filter{.from_ms = pw::none, .to_ms = pw::none, .symbols = {"ETHUSDT"}}));
    CHECK(rec->streams() == std::vector<std::string>{"ethusdt@trade"});
    app::tick_merge m(rec, rec->streams());
    CHECK(drain(rt, m).size() == 10);
  }
}

TEST_CASE("streams: a subset, an unsubscribe, and a stream that joins at the current time") {
  pw_test::temp_dir temp;
  std::vector<std::pair<std::int64_t, std::int64_t>> btc, eth;
  for (std::int64_t i = 0; i < 20; ++i) {
    btc.emplace_back(i, i);
    eth.emplace_back(i, 100 + i);
  }
  write_trades(temp.file("btc.parquet"), "BTCUSDT", btc);
  write_trades(temp.file("eth.parquet"), "ETHUSDT", eth);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto rec = std::make_shared<const app::tick_recording>(scan_ok(rt, temp.path));
  const std::vector<std::string> only_btc{"btcusdt@trade"}, only_eth{"ethusdt@trade"}, both{"btcusdt@trade", "ethusdt@trade"};
  app::tick_merge m(rec, only_btc);
  const auto first = drain(rt, m, 8);
  REQUIRE(first.size() == 8);
  for (const auto& t : first) CHECK(t.stream == "btcusdt@trade");
  CHECK(first.back().time == t0 + 7);
  // ETH joins at t0 + 7: its rows from then on, BTC's go on.
  m.set_streams(both);
  const auto second = drain(rt, m, 10);
  REQUIRE(second.size() == 10);
  CHECK(second[0] == taken{"ethusdt@trade", t0 + 7, 107});
  CHECK(second[1] == taken{"btcusdt@trade", t0 + 8, 8});
  CHECK(second[2] == taken{"ethusdt@trade", t0 + 8, 108});
  // BTC leaves: only ETH from here, to its end.
  m.set_streams(only_eth);
  const auto rest = drain(rt, m);
  REQUIRE(!rest.empty());
  for (const auto& t : rest) CHECK(t.stream == "ethusdt@trade");
  CHECK(rest.back().id == 119);
  CHECK(m.done());
}

TEST_CASE("hostile recordings are errors naming the file and the column") {
  pw_test::temp_dir temp;
  pw::runtime rt(pw::runtime_options{.workers = 1});
  SUBCASE("no file") {
    CHECK(contains(scan_error(rt, temp.path), "no *.parquet file"));
    CHECK(contains(scan_error(rt, temp.file("missing")), "missing"));
  }
  SUBCASE("not Parquet") {
    std::ofstream(temp.file("x.parquet")) << "this is text, not Parquet\n";
    CHECK(contains(scan_error(rt, temp.path), "x.parquet"));
  }
  SUBCASE("not a tick file") {
    write_file(temp.file("other.parquet"), pq::schema{"other", {pq::column_spec::int64("a")}},
               {{pq::value::int64(1)}});
    const std::string e = scan_error(rt, temp.path);
    CHECK(contains(e, "other.parquet"));
    CHECK(contains(e, "not a tick file"));
  }
  SUBCASE("a column missing, of the wrong type, of too large a scale") {
    pq::schema s = pq::ticks::trades_schema();
    s.columns.pop_back();  // is_buyer_maker
    auto row = trade_row("BTCUSDT", 0, 1);
    row.pop_back();
    write_file(temp.file("short.parquet"), s, {row});
    std::string e = scan_error(rt, temp.path);
    CHECK(contains(e, "short.parquet"));
    CHECK(contains(e, "\"is_buyer_maker\""));
    fs::remove(temp.file("short.parquet"));

    pq::schema scaled = pq::ticks::trades_schema();
    scaled.columns[pq::ticks::trades_price].scale = 10;
    write_file(temp.file("scale.parquet"), scaled, {trade_row("BTCUSDT", 0, 1)});
    e = scan_error(rt, temp.path);
    CHECK(contains(e, "scale.parquet"));
    CHECK(contains(e, "\"price\" has scale 10"));
    fs::remove(temp.file("scale.parquet"));

    pq::schema typed = pq::ticks::trades_schema();
    typed.columns[pq::ticks::trades_trade_id] = pq::column_spec::string("trade_id");
    auto r2 = trade_row("BTCUSDT", 0, 1);
    r2[pq::ticks::trades_trade_id] = pq::value::string("one");
    write_file(temp.file("typed.parquet"), typed, {r2});
    e = scan_error(rt, temp.path);
    CHECK(contains(e, "\"trade_id\" is not a 64-bit integer"));
  }
  SUBCASE("a symbol that is not one") {
    write_trades(temp.file("sym.parquet"), "btc/usdt", {{0, 1}});
    const std::string e = scan_error(rt, temp.path);
    CHECK(contains(e, "sym.parquet"));
    CHECK(contains(e, "not a symbol"));
  }
  SUBCASE("a time that is not a whole millisecond: an error when the merge reaches it") {
    pq::schema s = pq::ticks::trades_schema();
    s.columns[pq::ticks::trades_event_time].unit = pq::time_unit::micros;
    auto row = trade_row("BTCUSDT", 0, 1);
    row[pq::ticks::trades_event_time] = pq::value::timestamp_micros(t0 * 1000 + 1);
    write_file(temp.file("us.parquet"), s, {row});
    auto rec = std::make_shared<const app::tick_recording>(scan_ok(rt, temp.path));
    app::tick_merge m(rec, rec->streams());
    auto r = rt.block_on(m.refill());
    REQUIRE_FALSE(r);
    CHECK(contains(r.error(), "us.parquet: column \"event_time\", row group 0, row 0"));
    CHECK(contains(r.error(), "not a whole millisecond"));
    CHECK(m.done());
  }
  SUBCASE("a file cut after the scan: the merge fails with the file's name and stops") {
    std::vector<std::pair<std::int64_t, std::int64_t>> rows;
    for (std::int64_t i = 0; i < 30; ++i) rows.emplace_back(i, i);
    write_trades(temp.file("cut.parquet"), "BTCUSDT", rows, 5);
    auto rec = std::make_shared<const app::tick_recording>(scan_ok(rt, temp.path));
    fs::resize_file(temp.file("cut.parquet"), fs::file_size(temp.file("cut.parquet")) / 2);
    app::tick_merge m(rec, rec->streams());
    pw::option<std::string> failure;
    std::size_t taken_rows = 0;
    while (!failure) {
      if (!m.ready() && !m.done()) {
        auto r = rt.block_on(m.refill());
        if (!r) failure = r.error();
        continue;
      }
      if (m.done()) break;
      m.pop();
      ++taken_rows;
    }
    REQUIRE(failure);
    CHECK(contains(*failure, "cut.parquet"));
    CHECK(taken_rows < 30);
    CHECK(m.done());
  }
}
