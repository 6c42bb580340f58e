// Tests of the Parquet sink: partition paths (hostile symbols, dates, part names), the sink's
// file life cycle (temp + rename, part numbering, the root lock, rolls, the LRU bound, counts,
// stale temps), rows written with their origins (recorded per file, redeliveries skipped) and an
// I/O fault (RLIMIT_FSIZE in a forked child, on both reactor backends).
// Read-back with DuckDB, kill -9 and peak RSS are separate CTest tests (interop/parquet_sink_*).
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "pw_parquet/footer_reader.hpp"
#include "ticks/parquet_sink.hpp"

namespace pw = polarway;
namespace fs = std::filesystem;
using namespace ticks;

namespace {

constexpr std::int64_t day0 = 1'732'233'600'000;  // 2024-11-22T00:00:00Z
constexpr std::int64_t day_ms = 86'400'000;

symbol sym(std::string_view s) { return symbol::parse(s).unwrap(); }

// A symbol object holding arbitrary bytes, as a buggy or hostile producer could make one by
// copying bytes (symbol is trivially copyable): what the sink's own validation is for.
symbol forged_symbol(std::string_view bytes) {
  static_assert(sizeof(symbol) == symbol::max_size + 1);
  unsigned char raw[sizeof(symbol)] = {};
  const std::size_t n = bytes.size() < symbol::max_size ? bytes.size() : symbol::max_size;
  std::memcpy(raw, bytes.data(), n);
  raw[symbol::max_size] = static_cast<unsigned char>(bytes.size() > 255 ? 255 : bytes.size());
  symbol s;
  std::memcpy(static_cast<void*>(&s), raw, sizeof raw);
  return s;
}

trade make_trade(symbol s, std::int64_t ms, std::int64_t id) {
  trade t;
  t.symbol = s;
  t.event_time_ms = ms;
  t.trade_id = id;
  t.price = price::from_raw(9'700'010'000'000 + id);
  t.quantity = price::from_raw(150'000 + id);
  t.trade_time_ms = ms - 1;
  t.buyer_is_maker = id % 2 == 0;
  return t;
}

std::string scratch(const char* name) {
  const std::string dir = (fs::temp_directory_path() / ("pw_parquet_sink_test_" + std::to_string(::getpid()) + "_" + name)).string();
  std::error_code ec;
  fs::remove_all(dir, ec);
  return dir;
}

std::vector<std::string> files_under(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_regular_file()) out.push_back(fs::relative(it->path(), root).string());
  std::sort(out.begin(), out.end());
  return out;
}

bool is_complete_parquet(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  return data.size() >= 12 && data.compare(0, 4, "PAR1") == 0 && data.compare(data.size() - 4, 4, "PAR1") == 0;
}

std::int64_t fixed_clock() noexcept { return day0 + 5000; }

parquet_sink_options small_options(std::string root) {
  parquet_sink_options o;
  o.root = std::move(root);
  o.rows_per_row_group = 64;
  o.clock_ms = fixed_clock;
  return o;
}

// Opens a sink (options as a named value: see the g++ 12 note in the README).
pw::task<pw::result<parquet_sink, parquet_sink_error>> open_sink(parquet_sink_options o) {
  co_return co_await parquet_sink::open(std::move(o));
}

}  // namespace

TEST_CASE("partition: hostile symbols never become paths") {
  using partition::path_errc;
  const std::string long_symbol(300, 'A');
  const std::string with_nul("BTC\0USDT", 8);
  const struct {
    std::string_view text;
    path_errc want;
  } hostile[] = {
      {"../x", path_errc::bad_symbol_character}, {"A/B", path_errc::bad_symbol_character},
      {"", path_errc::empty_symbol},             {"..", path_errc::bad_symbol_character},
      {".", path_errc::bad_symbol_character},    {long_symbol, path_errc::symbol_too_long},
      {with_nul, path_errc::bad_symbol_character}, {"btcusdt", path_errc::bad_symbol_character},
      {"BTC%2FUSDT", path_errc::bad_symbol_character}, {"BTC USDT", path_errc::bad_symbol_character},
      {"\xc3\x84USDT", path_errc::bad_symbol_character}, {"/etc", path_errc::bad_symbol_character},
      {"A\\B", path_errc::bad_symbol_character},
  };
  for (const auto& h : hostile) {
    CAPTURE(h.text);
    auto v = partition::validate_symbol(h.text);
    REQUIRE(v.is_err());
    CHECK(v.error() == h.want);
    CHECK(partition::partition_dir("out", message_kind::trade, h.text, 0).is_err());
  }
  CHECK(partition::validate_symbol("BTCUSDT").is_ok());
  CHECK(partition::validate_symbol(std::string(20, 'Z')).is_ok());
  CHECK(partition::validate_symbol(std::string(21, 'Z')).error() == path_errc::symbol_too_long);
  CHECK(partition::partition_dir("out", message_kind::agg_trade, "BTCUSDT", 20049).unwrap() ==
        "out/aggTrade/symbol=BTCUSDT/date=2024-11-22");
  CHECK(partition::partition_dir("out/", message_kind::book_ticker, "X1", 0).unwrap() == "out/bookTicker/symbol=X1/date=1970-01-01");
}

TEST_CASE("partition: UTC days, dates and part names") {
  CHECK(partition::utc_day(0).unwrap() == 0);
  CHECK(partition::utc_day(day_ms - 1).unwrap() == 0);
  CHECK(partition::utc_day(day_ms).unwrap() == 1);
  CHECK(partition::utc_day(-1).is_err());
  CHECK(partition::utc_day(partition::max_time_ms + 1).is_err());
  CHECK(partition::format_date(0) == "1970-01-01");
  CHECK(partition::format_date(partition::utc_day(day0 + 123).unwrap()) == "2024-11-22");
  CHECK(partition::format_date(partition::utc_day(1'709'164'800'000).unwrap()) == "2024-02-29");  // leap day
  CHECK(partition::format_date(partition::utc_day(partition::max_time_ms).unwrap()) == "9999-12-31");
  CHECK(partition::part_file_name(42) == "part-00042.parquet");
  CHECK(partition::temp_file_name(42) == ".part-00042.parquet.tmp");
  CHECK(partition::part_file_name(1234567) == "part-1234567.parquet");
  CHECK(partition::parse_part_name("part-00042.parquet")->number == 42);
  CHECK(!partition::parse_part_name("part-00042.parquet")->temporary);
  CHECK(partition::parse_part_name(".part-00042.parquet.tmp")->temporary);
  for (const char* bad : {"part-42.parquet", "part-0004x.parquet", "part-00042.parquet.tmp", ".part-00042.parquet", "x.parquet",
                          "part-.parquet", "part-0000000000.parquet"})
    CHECK_MESSAGE(!partition::parse_part_name(bad), bad);
  CHECK(partition::is_symbol_dir_name("symbol=BTCUSDT"));
  CHECK(!partition::is_symbol_dir_name("symbol=.."));
  CHECK(partition::is_date_dir_name("date=2024-11-22"));
  CHECK(!partition::is_date_dir_name("date=2024-11-2x"));
}

// Forked children first: the parent has no runtime threads yet when it forks.
namespace {

// The child: a 64 KiB file-size limit, SIGXFSZ ignored so write(2) fails with EFBIG. A small
// partition first, then a big one that cannot fit. Returns a description of what went wrong.
std::string fsize_child(const std::string& root, pw::backend_kind backend) {
  rlimit lim{64 * 1024, 64 * 1024};
  if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) return "setrlimit failed";
  ::signal(SIGXFSZ, SIG_IGN);
  pw::runtime rt(pw::runtime_options{.workers = 2, .backend = backend});
  std::string problems;
  auto fail = [&](const std::string& what) { problems += what + "; "; };
  rt.block_on([&]() -> pw::task<void> {
    parquet_sink_options o = small_options(root);
    o.codec = pw_parquet::compression::uncompressed;
    o.rows_per_row_group = 500;
    auto sink = co_await open_sink(std::move(o));
    if (!sink) {
      fail("open: " + sink.error().message());
      co_return;
    }
    std::vector<tick> small, big;
    for (int i = 0; i < 10; ++i) small.push_back(make_trade(sym("SMALLUSDT"), day0 + i, i));
    for (int i = 0; i < 20000; ++i) big.push_back(make_trade(sym("BIGUSDT"), day0 + i, i));
    if (auto r = co_await sink->write(small); !r) fail("small write failed: " + r.error().message());
    auto r = co_await sink->write(big);
    if (r) {
      fail("the big write succeeded despite RLIMIT_FSIZE");
      co_return;
    }
    const parquet_sink_error& e = r.error();
    if (e.error.code() != std::errc::file_too_large) fail("error is not EFBIG: " + e.message());
    const std::string want_dir = root + "/trade/symbol=BIGUSDT/date=2024-11-22/";
    if (e.partition.rfind(want_dir + "part-", 0) != 0 || !e.partition.ends_with(".parquet"))
      fail("error names the wrong partition: " + e.partition);
    if (e.rows_lost == 0 || e.batch_index == 0) fail("rows_lost / batch_index not set");
    // 500-row uncompressed groups are ~21 KB: the 4th crosses 64 KiB, so the fault must come
    // with it. More rows accepted means writes "succeeded" past the limit (the io_uring
    // file-position hazard that drain() avoids by writing at explicit offsets).
    if (e.rows_lost > 2000) fail("EFBIG came late: " + std::to_string(e.rows_lost) + " rows accepted past the limit");
    const auto& st = sink->stats().of(message_kind::trade);
    if (st.rows_accepted != st.rows_written + st.rows_lost) fail("accepted != written + lost");
    if (st.rows_written != 10 || st.files_written != 1) fail("the small partition was not committed");
    if (!sink->failure()) fail("failure() not set");
    auto again = co_await sink->write(small);
    if (again || again.error().partition != e.partition) fail("the sink did not stay failed");
    auto closed = co_await sink->close();
    if (closed) fail("close after a fault reported success");
    std::fprintf(stderr, "fsize child (%s): %s; lost %llu rows\n", pw::to_string(backend), e.message().c_str(),
                 static_cast<unsigned long long>(e.rows_lost));
  }());
  for (const std::string& f : files_under(root)) {
    if (f.find(".tmp") != std::string::npos) fail("temporary file left: " + f);
    if (f.find("BIGUSDT") != std::string::npos) fail("a BIGUSDT file is visible: " + f);
    if (f.ends_with(".parquet") && !is_complete_parquet(root + "/" + f)) fail("incomplete file: " + f);
  }
  if (!is_complete_parquet(root + "/trade/symbol=SMALLUSDT/date=2024-11-22/part-00000.parquet"))
    fail("SMALLUSDT part-00000 missing or incomplete");
  return problems;
}

void run_in_child(const std::string& root, pw::backend_kind backend) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const std::string problems = fsize_child(root, backend);
    if (!problems.empty()) std::fprintf(stderr, "fsize child: %s\n", problems.c_str());
    std::fflush(stderr);
    ::_exit(problems.empty() ? 0 : 1);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

}  // namespace

TEST_CASE("fault: EFBIG under RLIMIT_FSIZE is a typed error, the temp is removed, the sink stops") {
  SUBCASE("io_uring") {
    const std::string root = scratch("fsize_uring");
    run_in_child(root, pw::backend_kind::io_uring);
  }
  SUBCASE("epoll (blocking pool)") {
    const std::string root = scratch("fsize_epoll");
    run_in_child(root, pw::backend_kind::epoll);
  }
}

TEST_CASE("sink: hostile symbols are rejected and never reach the file system") {
  const std::string base = scratch("hostile");
  const std::string root = base + "/out";
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    auto sink = co_await open_sink(small_options(root));
    REQUIRE(sink);
    const std::string long_text(20, '.');
    std::vector<tick> batch = {make_trade(forged_symbol("../x"), day0, 1),  make_trade(forged_symbol("A/B"), day0, 2),
                               make_trade(symbol(), day0, 3),               make_trade(forged_symbol(".."), day0, 4),
                               make_trade(forged_symbol(long_text), day0, 5), make_trade(forged_symbol(std::string("A\0B", 3)), day0, 6),
                               make_trade(forged_symbol(std::string(300, 'A')), day0, 7), make_trade(sym("GOODUSDT"), day0, 8),
                               make_trade(sym("GOODUSDT"), -5, 9),  // before 1970: rejected too
                               make_trade(sym("GOODUSDT"), partition::max_time_ms + 1, 10)};
    auto r = co_await sink->write(batch);
    CHECK(r);  // bad ticks do not stop good ones
    CHECK(sink->stats().of(message_kind::trade).rows_rejected == 9);
    CHECK(sink->stats().of(message_kind::trade).rows_accepted == 1);
    REQUIRE(sink->last_rejection());
    CHECK(sink->last_rejection()->error == pw::errc::invalid_input);
    {
      auto awaited = co_await sink->close();
      CHECK(awaited);
    }
    CHECK(sink->stats().rows_written() == 1);
  }());
  // Only the good partition and the lock exist, all under root; nothing beside root.
  CHECK(files_under(base) == std::vector<std::string>{"out/.polarway-parquet-sink.lock",
                                                      "out/trade/symbol=GOODUSDT/date=2024-11-22/part-00000.parquet"});
}

TEST_CASE("sink: temp then rename, part numbers continue, one sink per root, counts") {
  const std::string root = scratch("lifecycle");
  const std::string dir = root + "/trade/symbol=BTCUSDT/date=2024-11-22";
  fs::create_directories(dir);
  { std::ofstream(dir + "/part-00007.parquet") << "not ours to overwrite"; }
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    auto sink = co_await open_sink(small_options(root));
    REQUIRE(sink);
    auto second = co_await open_sink(small_options(root));
    CHECK(second.is_err());  // the root is locked
    if (second.is_err()) CHECK(second.error().error.code() == std::errc::resource_unavailable_try_again);

    for (int i = 0; i < 100; ++i) {
      auto awaited = co_await sink->write(tick(make_trade(sym("BTCUSDT"), day0 + i, i)));
      REQUIRE(awaited);
    }
    // 64-row groups: one is on disk already, but only under the temporary name.
    CHECK(fs::exists(dir + "/.part-00008.parquet.tmp"));
    CHECK(!fs::exists(dir + "/part-00008.parquet"));
    CHECK(fs::file_size(dir + "/.part-00008.parquet.tmp") > 0);
    {
      auto awaited = co_await sink->flush();
      REQUIRE(awaited);
    }
    CHECK(!fs::exists(dir + "/.part-00008.parquet.tmp"));
    CHECK(is_complete_parquet(dir + "/part-00008.parquet"));
    // After a flush, writes start a new part.
    {
      auto awaited = co_await sink->write(tick(make_trade(sym("BTCUSDT"), day0 + 500, 500)));
      REQUIRE(awaited);
    }
    {
      auto awaited = co_await sink->close();
      REQUIRE(awaited);
    }
    CHECK(is_complete_parquet(dir + "/part-00009.parquet"));
    const auto& st = sink->stats().of(message_kind::trade);
    CHECK(st.rows_written == 101);
    CHECK(st.files_written == 2);
    CHECK(st.bytes_written == fs::file_size(dir + "/part-00008.parquet") + fs::file_size(dir + "/part-00009.parquet"));
    auto after = co_await sink->write(tick(make_trade(sym("BTCUSDT"), day0, 1)));
    CHECK(after.is_err());  // closed
  }());
  std::ifstream untouched(dir + "/part-00007.parquet");
  std::string text;
  std::getline(untouched, text);
  CHECK(text == "not ours to overwrite");
}

TEST_CASE("sink: files roll at the row limit and at days; bookTicker without E uses the clock") {
  const std::string root = scratch("roll");
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    parquet_sink_options o = small_options(root);
    o.max_rows_per_file = 100;
    o.codec = pw_parquet::compression::zstd;
    auto sink = co_await open_sink(std::move(o));
    REQUIRE(sink);
    std::vector<tick> batch;
    for (int i = 0; i < 250; ++i) batch.push_back(make_trade(sym("ETHUSDT"), day0 + i, i));
    for (int i = 0; i < 10; ++i) batch.push_back(make_trade(sym("ETHUSDT"), day0 + day_ms + i, 1000 + i));
    book_ticker no_e;
    no_e.symbol = sym("ETHUSDT");
    no_e.update_id = 7;
    batch.push_back(no_e);
    book_ticker with_e = no_e;
    with_e.event_time_ms = day0 + 2 * day_ms;
    batch.push_back(with_e);
    {
      auto awaited = co_await sink->write(batch);
      REQUIRE(awaited);
    }
    {
      auto awaited = co_await sink->close();
      REQUIRE(awaited);
    }
    CHECK(sink->stats().of(message_kind::trade).files_written == 4);
    CHECK(sink->stats().of(message_kind::book_ticker).files_written == 2);
  }());
  CHECK(files_under(root) == std::vector<std::string>{
                                 ".polarway-parquet-sink.lock",
                                 "bookTicker/symbol=ETHUSDT/date=2024-11-22/part-00000.parquet",  // the clock's day
                                 "bookTicker/symbol=ETHUSDT/date=2024-11-24/part-00000.parquet",
                                 "trade/symbol=ETHUSDT/date=2024-11-22/part-00000.parquet",
                                 "trade/symbol=ETHUSDT/date=2024-11-22/part-00001.parquet",
                                 "trade/symbol=ETHUSDT/date=2024-11-22/part-00002.parquet",
                                 "trade/symbol=ETHUSDT/date=2024-11-23/part-00000.parquet",
                             });
}

TEST_CASE("sink: a stream's file for a day is committed once that stream and symbol reach the next day") {
  const std::string root = scratch("next_day");
  const std::string a_day0 = root + "/trade/symbol=AUSDT/date=2024-11-22/";
  const std::string b_day0 = root + "/trade/symbol=BUSDT/date=2024-11-22/";
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    auto sink = co_await open_sink(small_options(root));
    REQUIRE(sink);
    std::vector<tick> batch;
    for (int i = 0; i < 10; ++i) {
      batch.push_back(make_trade(sym("AUSDT"), day0 + i, i));
      batch.push_back(make_trade(sym("BUSDT"), day0 + i, 100 + i));
    }
    // aggTrade rows of AUSDT on the next day belong to another stream: they close nothing.
    agg_trade other_stream;
    other_stream.symbol = sym("AUSDT");
    other_stream.event_time_ms = day0 + day_ms;
    other_stream.trade_time_ms = day0 + day_ms;
    other_stream.price = price::from_raw(1);
    other_stream.quantity = price::from_raw(1);
    batch.push_back(other_stream);
    {
      auto awaited = co_await sink->write(batch);
      REQUIRE(awaited);
    }
    CHECK(sink->stats().day_commits == 0);
    CHECK(sink->stats().open_partitions == 3);
    CHECK(!fs::exists(a_day0 + "part-00000.parquet"));

    // AUSDT's trades reach the next day: its day-0 file is committed at once, BUSDT's stays open.
    {
      auto awaited = co_await sink->write(tick(make_trade(sym("AUSDT"), day0 + day_ms + 1, 10)));
      REQUIRE(awaited);
    }
    CHECK(sink->stats().day_commits == 1);
    CHECK(sink->stats().open_partitions == 3);
    CHECK(is_complete_parquet(a_day0 + "part-00000.parquet"));
    CHECK(sink->stats().of(message_kind::trade).rows_written == 10);
    CHECK(!fs::exists(b_day0 + "part-00000.parquet"));

    // A late row of the earlier day starts another part of it, and closes nothing of the later day.
    {
      auto awaited = co_await sink->write(tick(make_trade(sym("AUSDT"), day0 + 20, 11)));
      REQUIRE(awaited);
    }
    CHECK(sink->stats().day_commits == 1);
    CHECK(sink->stats().open_partitions == 4);
    {
      auto awaited = co_await sink->close();
      REQUIRE(awaited);
    }
    CHECK(sink->stats().rows_written() == 23);
  }());
  CHECK(files_under(root) == std::vector<std::string>{
                                 ".polarway-parquet-sink.lock",
                                 "aggTrade/symbol=AUSDT/date=2024-11-23/part-00000.parquet",
                                 "trade/symbol=AUSDT/date=2024-11-22/part-00000.parquet",
                                 "trade/symbol=AUSDT/date=2024-11-22/part-00001.parquet",
                                 "trade/symbol=AUSDT/date=2024-11-23/part-00000.parquet",
                                 "trade/symbol=BUSDT/date=2024-11-22/part-00000.parquet",
                             });
}

// A committed file's key-value metadata.
std::map<std::string, std::string> key_values_of(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto meta = pw_parquet::read_footer(std::as_bytes(std::span(data.data(), data.size())));
  REQUIRE(meta);
  std::map<std::string, std::string> out;
  for (const auto& kv : meta->key_value_metadata) out[kv.key] = kv.value;
  return out;
}

TEST_CASE("partition: dates parse back to their day") {
  for (std::int32_t d : {0, 1, 59, 365, 11'016, 20'000, 2'932'896})
    CHECK(partition::parse_date(partition::format_date(d)) == pw::option<std::int32_t>(d));
  for (const char* bad : {"", "2024-02-30", "2023-02-29", "2024-13-01", "2024-00-10", "2024-01-00", "1969-12-31",
                          "2024-1-01", "2024/01/01", "20240101", "2024-01-01 ", "date=2024-01-01", "２024-01-01"})
    CHECK_MESSAGE(!partition::parse_date(bad), bad);
  CHECK(partition::parse_date("2024-02-29") == pw::option<std::int32_t>(19'782));
}

TEST_CASE("row_origin: text form and parsing") {
  CHECK(to_string(row_origin{42, 7}) == "42:7");
  CHECK(parse_row_origin("42:7") == pw::option<row_origin>(row_origin{42, 7}));
  CHECK(parse_row_origin("18446744073709551615:4294967295") ==
        pw::option<row_origin>(row_origin{UINT64_MAX, UINT32_MAX}));
  for (const char* bad : {"", ":", "1:", ":1", "1", "1:2:3", "a:1", "1:b", "-1:0", "1:4294967296",
                          "18446744073709551616:0", " 1:2", "1:2 "})
    CHECK_MESSAGE(!parse_row_origin(bad), bad);
  CHECK(row_origin{1, 9} < row_origin{2, 0});
  CHECK(row_origin{2, 0} < row_origin{2, 1});
}

TEST_CASE("sink: rows written with origins: each file records its range, redeliveries are skipped") {
  const std::string root = scratch("origin");
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    parquet_sink_options o = small_options(root);
    o.max_rows_per_file = 5;
    o.origin_label = "nats:TICKS";
    auto sink = co_await open_sink(std::move(o));
    REQUIRE(sink);
    CHECK_FALSE(sink->oldest_uncommitted_origin());
    // Message 10: 3 rows of BTC; message 11: 4 rows of BTC (the file rolls after its 2nd row)
    // and 1 of ETH; message 12, a redelivery of message 11; message 13 starts mid-way (row 2).
    std::vector<tick> m10, m11, m13;
    for (int i = 0; i < 3; ++i) m10.push_back(make_trade(sym("BTCUSDT"), day0 + i, i));
    for (int i = 0; i < 4; ++i) m11.push_back(make_trade(sym("BTCUSDT"), day0 + 10 + i, 10 + i));
    m11.push_back(make_trade(sym("ETHUSDT"), day0 + 20, 500));
    for (int i = 0; i < 2; ++i) m13.push_back(make_trade(sym("BTCUSDT"), day0 + 30 + i, 30 + i));
    sink->set_settled_origin(10);
    REQUIRE(co_await sink->write_from(m10, row_origin{10, 0}));
    CHECK(sink->oldest_uncommitted_origin() == pw::option<row_origin>(row_origin{10, 0}));
    REQUIRE(co_await sink->write_from(m11, row_origin{11, 0}));
    // BTC's first file (10:0 .. 11:1) is committed; its second holds 11:2 on.
    CHECK(sink->oldest_uncommitted_origin() == pw::option<row_origin>(row_origin{11, 2}));
    sink->set_settled_origin(11);
    sink->set_settled_origin(9);  // never backwards
    REQUIRE(co_await sink->write_from(m11, row_origin{11, 0}));  // the same message again
    CHECK(sink->stats().of(message_kind::trade).rows_already_written == 5);
    REQUIRE(co_await sink->write_from(m13, row_origin{13, 2}));
    REQUIRE(co_await sink->flush());
    CHECK_FALSE(sink->oldest_uncommitted_origin());
    CHECK(sink->stats().of(message_kind::trade).rows_written == 10);
    // Plain writes carry no origin and are never skipped.
    REQUIRE(co_await sink->write(m10));
    REQUIRE(co_await sink->close());
  }());
  const std::string btc = root + "/trade/symbol=BTCUSDT/date=2024-11-22/";
  auto first = key_values_of(btc + "part-00000.parquet");
  CHECK(first[origin_label_key] == "nats:TICKS");
  CHECK(first[origin_first_key] == "10:0");
  CHECK(first[origin_last_key] == "11:1");
  CHECK(first[origin_settled_key] == "10");  // committed by its roll, before the second call
  auto second = key_values_of(btc + "part-00001.parquet");
  CHECK(second[origin_first_key] == "11:2");
  CHECK(second[origin_last_key] == "13:3");
  CHECK(second[origin_settled_key] == "11");
  auto eth = key_values_of(root + "/trade/symbol=ETHUSDT/date=2024-11-22/part-00000.parquet");
  CHECK(eth[origin_first_key] == "11:4");
  CHECK(eth[origin_last_key] == "11:4");
  auto plain = key_values_of(btc + "part-00002.parquet");
  CHECK(plain.count(origin_first_key) == 0);

  // A later run told where the files end skips what they hold, and only that.
  rt.block_on([&]() -> pw::task<void> {
    parquet_sink_options o = small_options(root);
    o.origin_label = "nats:TICKS";
    auto sink = co_await open_sink(std::move(o));
    REQUIRE(sink);
    const std::int32_t day = partition::utc_day(day0).unwrap();
    sink->resume_after(message_kind::trade, sym("BTCUSDT"), day, row_origin{13, 3});
    sink->resume_after(message_kind::trade, sym("BTCUSDT"), day, row_origin{11, 0});  // never backwards
    std::vector<tick> m13_again, m14;
    for (int i = 0; i < 4; ++i) m13_again.push_back(make_trade(sym("BTCUSDT"), day0 + 30 + i, 30 + i));
    m14.push_back(make_trade(sym("BTCUSDT"), day0 + 40, 40));
    REQUIRE(co_await sink->write_from(m13_again, row_origin{13, 0}));
    REQUIRE(co_await sink->write_from(m14, row_origin{14, 0}));
    CHECK(sink->stats().of(message_kind::trade).rows_already_written == 4);
    REQUIRE(co_await sink->close());
    CHECK(sink->stats().of(message_kind::trade).rows_written == 1);
  }());
}

TEST_CASE("sink: open partitions are bounded (LRU), stale temps are swept, a dropped sink cleans up") {
  const std::string root = scratch("lru");
  const std::string stale_dir = root + "/aggTrade/symbol=OLDUSDT/date=2020-01-01";
  fs::create_directories(stale_dir);
  { std::ofstream(stale_dir + "/.part-00003.parquet.tmp") << "crashed"; }
  { std::ofstream(stale_dir + "/notes.tmp") << "not ours"; }
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    parquet_sink_options o = small_options(root);
    o.max_open_partitions = 2;
    auto sink = co_await open_sink(std::move(o));
    REQUIRE(sink);
    CHECK(sink->stats().stale_temps_removed == 1);
    std::vector<tick> batch;
    const char* names[] = {"AUSDT", "BUSDT", "CUSDT", "DUSDT", "EUSDT"};
    for (int i = 0; i < 500; ++i) batch.push_back(make_trade(sym(names[i % 5]), day0 + i, i));
    {
      auto awaited = co_await sink->write(batch);
      REQUIRE(awaited);
    }
    CHECK(sink->stats().max_open_partitions_seen == 2);
    CHECK(sink->stats().evictions > 0);
    {
      auto awaited = co_await sink->close();
      REQUIRE(awaited);
    }
    CHECK(sink->stats().rows_written() == 500);
  }());
  CHECK(!fs::exists(stale_dir + "/.part-00003.parquet.tmp"));
  CHECK(fs::exists(stale_dir + "/notes.tmp"));
  // Dropped without close(): its temporaries go with it.
  const std::string root2 = scratch("dropped");
  rt.block_on([&]() -> pw::task<void> {
    auto sink = co_await open_sink(small_options(root2));
    REQUIRE(sink);
    {
      auto awaited = co_await sink->write(tick(make_trade(sym("AUSDT"), day0, 1)));
      REQUIRE(awaited);
    }
  }());
  for (const std::string& f : files_under(root2)) CHECK_MESSAGE(f.find(".tmp") == std::string::npos, f);
}
