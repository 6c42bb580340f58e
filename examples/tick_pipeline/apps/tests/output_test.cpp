// The programs' Parquet output, below the binaries: the counting sink in front of a downstream
// sink (counts what the downstream took, passes its error and the flush on), the scan that lets
// polarway-demo clear an earlier run's files and refuse any other directory, the sink opened
// from the flags with its end-of-run check, and the committed ids a --backfill run resumes from.
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <string>
#include <tuple>
#include <vector>

#include <polarway/runtime.hpp>

#include "committed_ids.hpp"
#include "counting_sink.hpp"
#include "parquet_output.hpp"
#include "parquet_tick_sink.hpp"
#include "previous_output.hpp"
#include "ticks/feed_generator.hpp"

namespace pw = polarway;
namespace app = ticks::app;
namespace fs = std::filesystem;

namespace {

// A downstream that keeps what it is given and fails the write numbered `fail_at` (from 1).
class recording_sink final : public app::tick_sink {
 public:
  explicit recording_sink(int fail_at = 0) : fail_at_(fail_at) {}
  pw::task<pw::result<void>> write(std::span<const ticks::tick> batch) override {
    if (++writes_ == fail_at_) co_return pw::err(pw::error(std::errc::no_space_on_device, "recording_sink::write"));
    ticks.insert(ticks.end(), batch.begin(), batch.end());
    co_return pw::ok();
  }
  pw::task<pw::result<void>> flush() override {
    ++flushes;
    co_return pw::ok();
  }
  std::vector<ticks::tick> ticks;
  int flushes = 0;

 private:
  int fail_at_;
  int writes_ = 0;
};

std::vector<ticks::tick> generate(std::size_t n, std::size_t symbols,
                                  ticks::message_kind kind = ticks::message_kind::trade) {
  auto gen = ticks::feed_generator::create({.symbols = symbols, .kind = kind}).unwrap();
  std::vector<ticks::tick> out;
  for (std::size_t i = 0; i < n; ++i) {
    (void)gen.next();
    out.push_back(gen.last());
  }
  return out;
}

// A scratch directory per test, removed at the end.
struct scratch {
  std::string path;
  explicit scratch(const char* name)
      : path((fs::temp_directory_path() / (std::string("pw_output_test_") + name + "_" + std::to_string(::getpid())))
                 .string()) {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  ~scratch() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  void touch(const std::string& rel) const {
    fs::create_directories(fs::path(path + "/" + rel).parent_path());
    std::ofstream(path + "/" + rel) << "x";
  }
  bool exists(const std::string& rel) const { return fs::exists(fs::symlink_status(path + "/" + rel)); }
};

}  // namespace

TEST_CASE("counting_sink counts what its downstream took, and passes errors and the flush on") {
  const auto batch = generate(300, 3);
  const std::span<const ticks::tick> all(batch);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([&]() -> pw::task<void> {
    recording_sink down(3);  // the third write fails
    app::counting_sink sink(0, &down);
    CHECK((co_await sink.write(all.first(100))).is_ok());
    CHECK((co_await sink.write(all.subspan(100, 100))).is_ok());
    auto failed = co_await sink.write(all.subspan(200));
    REQUIRE(!failed.is_ok());
    CHECK(failed.error().code() == std::errc::no_space_on_device);
    // The failed batch is not counted: the totals are those of what the downstream holds.
    ticks::feed_totals want;
    for (const auto& t : down.ticks) want.add(t);
    CHECK(down.ticks.size() == 200);
    CHECK(sink.written() == 200);
    CHECK(sink.totals() == want);
    CHECK((co_await sink.flush()).is_ok());
    CHECK(down.flushes == 1);
    CHECK(sink.flushes() == 1);

    app::counting_sink alone;  // no downstream: counts everything
    CHECK((co_await alone.write(all)).is_ok());
    CHECK(alone.written() == 300);
  }());
}

TEST_CASE("previous_output: a sink's earlier output is recognised and cleared, nothing else") {
  SUBCASE("a missing directory is empty") {
    scratch s("missing");
    auto p = app::scan_previous_output(s.path);
    REQUIRE(p);
    CHECK(p->files.empty());
    CHECK(p->dirs.empty());
  }
  SUBCASE("parts, temps, the lock: all of it goes, the root stays") {
    scratch s("parts");
    s.touch(".polarway-parquet-sink.lock");
    s.touch("trade/symbol=BTCUSDT/date=2024-11-22/part-00000.parquet");
    s.touch("trade/symbol=BTCUSDT/date=2024-11-22/part-00001.parquet");
    s.touch("trade/symbol=BTCUSDT/date=2024-11-23/.part-00000.parquet.tmp");
    s.touch("bookTicker/symbol=ETHUSDT/date=2024-11-22/part-123456.parquet");
    fs::create_directories(s.path + "/aggTrade/symbol=X/date=2024-01-01");  // empty partition directory
    auto p = app::scan_previous_output(s.path);
    REQUIRE(p);
    CHECK(p->files.size() == 4);
    CHECK(p->part_files == 3);
    REQUIRE(app::remove_previous_output(*p));
    CHECK(!s.exists("trade"));
    CHECK(!s.exists("bookTicker"));
    CHECK(!s.exists("aggTrade"));
    CHECK(s.exists(".polarway-parquet-sink.lock"));  // the sink's; it takes it again
    CHECK(fs::is_directory(s.path));
  }
  SUBCASE("anything foreign, at any level, refuses the directory and is named") {
    const char* foreign[] = {
        "notes.txt",
        "trades/symbol=BTCUSDT/date=2024-11-22/part-00000.parquet",     // not a stream
        "trade/BTCUSDT/date=2024-11-22/part-00000.parquet",             // not symbol=
        "trade/symbol=btcusdt/date=2024-11-22/part-00000.parquet",      // lowercase symbol
        "trade/symbol=BTCUSDT/date=2024-1-01/part-00000.parquet",       // not a date
        "trade/symbol=BTCUSDT/date=2024-11-22/part-00000.parquet.bak",  // not a part name
        "trade/symbol=BTCUSDT/date=2024-11-22/data.csv",
        "trade/symbol=BTCUSDT/date=2024-11-22/sub/part-00000.parquet",  // a directory among parts
        "trade/symbol=BTCUSDT/.hidden",
    };
    for (const char* rel : foreign) {
      CAPTURE(rel);
      scratch s("foreign");
      s.touch("trade/symbol=BTCUSDT/date=2024-11-22/part-00007.parquet");
      s.touch(rel);
      auto p = app::scan_previous_output(s.path);
      REQUIRE(!p);
      CHECK(p.error().find("is not part of the Parquet sink's output") != std::string::npos);
      CHECK(s.exists("trade/symbol=BTCUSDT/date=2024-11-22/part-00007.parquet"));  // nothing removed
    }
  }
  SUBCASE("a symlink is foreign, even to a part file: never followed, never removed") {
    scratch s("symlink");
    s.touch("trade/symbol=BTCUSDT/date=2024-11-22/part-00000.parquet");
    fs::create_symlink(s.path + "/trade/symbol=BTCUSDT/date=2024-11-22/part-00000.parquet",
                       s.path + "/trade/symbol=BTCUSDT/date=2024-11-22/part-00001.parquet");
    auto p = app::scan_previous_output(s.path);
    REQUIRE(!p);
    CHECK(p.error().find("part-00001.parquet") != std::string::npos);
  }
  SUBCASE("a file is not a directory") {
    scratch s("file");
    s.touch("f");
    auto p = app::scan_previous_output(s.path + "/f");
    REQUIRE(!p);
    CHECK(p.error().find("is not a directory") != std::string::npos);
  }
}

TEST_CASE("open_parquet_output: the flags' sink, and the end-of-run check") {
  scratch s("open");
  app::parquet_output_config c;
  c.dir = s.path;
  c.codec = pw_parquet::compression::zstd;
  c.rows_per_row_group = 100;
  c.max_rows_per_file = 250;
  const auto batch = generate(1000, 2);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([&]() -> pw::task<void> {
    auto opened = co_await app::open_parquet_output(c, 3);
    REQUIRE(opened);
    {
      // One sink per directory: a second one (another ingest on the same --out) is refused.
      auto second = co_await app::open_parquet_output(c, 3);
      REQUIRE(!second);
      CHECK(second.error().partition == s.path);
      CHECK(second.error().error.code() == std::errc::resource_unavailable_try_again);
    }
    CHECK(opened->options().codec == pw_parquet::compression::zstd);
    CHECK(opened->options().rows_per_row_group == 100);
    CHECK(opened->options().max_rows_per_file == 250);
    CHECK(opened->options().max_open_partitions == 3);  // 0 in the flags: the program's default
    app::parquet_tick_sink parquet(std::move(*opened));
    app::counting_sink sink(0, &parquet);
    CHECK((co_await sink.write(batch)).is_ok());
    CHECK(!app::parquet_output_complete(parquet.sink(), 1000));  // still buffered
    CHECK((co_await sink.flush()).is_ok());
    CHECK((co_await parquet.sink().close()).is_ok());
    CHECK(app::parquet_output_complete(parquet.sink(), 1000));
    CHECK(!app::parquet_output_complete(parquet.sink(), 1001));
    CHECK(parquet.sink().stats().files_written() >= 4);    // 250-row files over 2 symbols
    auto again = co_await app::open_parquet_output(c, 3);  // close() released the lock
    REQUIRE(again);
    CHECK((co_await again->close()).is_ok());
  }());
  // The written files are what the scan recognises, so the next demo run can clear them.
  auto p = app::scan_previous_output(s.path);
  REQUIRE(p);
  CHECK(p->part_files >= 4);
}

namespace {

// Writes `batch` through the sink the flags open, in files of at most `file_rows` rows.
void write_output(const std::string& dir, const std::vector<ticks::tick>& batch, std::uint64_t file_rows) {
  app::parquet_output_config c;
  c.dir = dir;
  c.rows_per_row_group = 100;
  c.max_rows_per_file = file_rows;
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.block_on([&]() -> pw::task<void> {
    auto opened = co_await app::open_parquet_output(c, 16);
    REQUIRE(opened);
    CHECK((co_await opened->write(std::span<const ticks::tick>(batch))).is_ok());
    CHECK((co_await opened->close()).is_ok());
  }());
}

pw::result<app::committed_ids, std::string> read_ids(const std::string& dir) {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  return rt.block_on(app::read_committed_ids(dir));
}

using stream_ids = std::map<std::tuple<int, std::string>, std::tuple<std::int64_t, std::int64_t, std::uint64_t>>;

// (kind, symbol) -> (first id, last id, rows) of the sequenced ticks in `batch`.
stream_ids ids_of(const std::vector<ticks::tick>& batch) {
  stream_ids out;
  for (const auto& t : batch) {
    const auto key = ticks::sequenced_stream(t);
    if (!key) continue;
    const std::int64_t id = *ticks::sequence_id(t);
    auto [it, fresh] = out.try_emplace({static_cast<int>(key->kind), std::string(key->symbol.view())}, id, id, 0);
    auto& [first, last, rows] = it->second;
    first = std::min(first, id);
    last = std::max(last, id);
    ++rows;
  }
  return out;
}

stream_ids ids_of(const app::committed_ids& c) {
  stream_ids out;
  for (const auto& s : c.streams)
    out[{static_cast<int>(s.key.kind), std::string(s.key.symbol.view())}] = {s.first_id, s.last_id, s.rows};
  return out;
}

}  // namespace

TEST_CASE("committed_ids: each stream's ids in the output, from the part files' footers") {
  scratch s("committed");
  auto batch = generate(1200, 3, ticks::message_kind::trade);
  const auto agg = generate(900, 2, ticks::message_kind::agg_trade);
  const auto book = generate(50, 2, ticks::message_kind::book_ticker);
  batch.insert(batch.end(), agg.begin(), agg.end());
  batch.insert(batch.end(), book.begin(), book.end());
  write_output(s.path, batch, 100);

  SUBCASE("every trade and aggTrade stream, nothing missing; bookTicker is not sequenced") {
    auto c = read_ids(s.path);
    REQUIRE_MESSAGE(c, c.error());
    CHECK(ids_of(*c) == ids_of(batch));
    CHECK(c->streams.size() == 5);
    CHECK(c->files >= 2100 / 100);
    for (const auto& st : c->streams) CHECK(st.ids_missing == 0);
  }
  SUBCASE("a part file gone from the middle: its ids are counted missing, the last id stays") {
    const std::string dir = s.path + "/trade/symbol=BTCUSDT";
    std::vector<fs::path> parts;
    for (const auto& e : fs::recursive_directory_iterator(dir))
      if (e.is_regular_file()) parts.push_back(e.path());
    std::sort(parts.begin(), parts.end());
    REQUIRE(parts.size() >= 3);
    fs::remove(parts[1]);
    auto c = read_ids(s.path);
    REQUIRE_MESSAGE(c, c.error());
    const auto want = ids_of(batch);
    bool seen = false;
    for (const auto& st : c->streams) {
      if (st.key.kind != ticks::message_kind::trade || st.key.symbol.view() != "BTCUSDT") continue;
      seen = true;
      const auto& [first, last, rows] = want.at({static_cast<int>(ticks::message_kind::trade), "BTCUSDT"});
      CHECK(st.first_id == first);
      CHECK(st.last_id == last);
      CHECK(st.rows < rows);
      CHECK(st.ids_missing == rows - st.rows);
    }
    CHECK(seen);
  }
  SUBCASE("a part file that is not Parquet, or cut short, is an error naming it") {
    fs::path victim;
    for (const auto& e : fs::recursive_directory_iterator(s.path + "/aggTrade"))
      if (e.is_regular_file()) victim = e.path();
    REQUIRE(!victim.empty());
    const auto size = fs::file_size(victim);
    const std::string original = [&] {
      std::ifstream in(victim, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), {});
    }();
    const std::vector<std::string> damage = {"garbage", "truncate", "empty", "tail-only"};
    for (const std::string& how : damage) {
      CAPTURE(how);
      std::string bytes = original;
      if (how == "garbage") std::fill(bytes.begin() + 4, bytes.end(), 'x');
      if (how == "truncate") bytes.resize(size / 2);
      if (how == "empty") bytes.clear();
      if (how == "tail-only") bytes = bytes.substr(bytes.size() - 8);  // a footer length past the start
      std::ofstream(victim, std::ios::binary | std::ios::trunc) << bytes;
      auto c = read_ids(s.path);
      std::ofstream(victim, std::ios::binary | std::ios::trunc) << original;
      REQUIRE(!c);
      CHECK_MESSAGE(c.error().find(victim.string()) != std::string::npos, c.error());
    }
    auto healed = read_ids(s.path);
    CHECK(healed);
  }
  SUBCASE("a missing directory holds nothing; a foreign file refuses the directory") {
    auto none = read_ids(s.path + "/nowhere");
    REQUIRE(none);
    CHECK(none->streams.empty());
    s.touch("notes.txt");
    auto foreign = read_ids(s.path);
    REQUIRE(!foreign);
    CHECK(foreign.error().find("notes.txt") != std::string::npos);
  }
}
