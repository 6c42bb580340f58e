// polarway-sink's loop (run_bus_sink) against a real JetStream server (nats_cluster.hpp, one
// node): hostile messages on the stream (garbage, a truncated stream, rows of another symbol or
// kind than the subject names, an empty message, a subject outside ticks.<kind>.<SYMBOL>) are
// refused one by one and never delivered again, the good ones around them written; a second run
// on the same directory starts where the files say and writes nothing twice; a message gone from
// the stream is reported as a hole, not skipped silently. The partition hash is pinned. Under
// it, jetstream_consumer's pull protocol: more than a batch waiting comes in stream order, an
// expired pull request is renewed, and restart_at() while deliveries are in flight starts
// exactly where asked. A message delivered again after the sink took it is acknowledged again,
// not left to come back at every ack wait. Trade rows published twice under other message ids
// (what a killed ingest's last publish does when it is stored after its restart read the bus)
// are written once, in one run and across restarts, across a UTC midnight too, whatever the
// order of the ids; rows an earlier
// run lost with a temporary file are written, though they are below ids a later day holds.
// id_set's own test checks the id ranges the sink keeps.
#include <doctest/doctest.h>

#include <nats/nats.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <polarway/runtime.hpp>

#include "bus_sink.hpp"
#include "committed_ids.hpp"
#include "committed_origins.hpp"
#include "jetstream_publisher.hpp"
#include "jetstream_sink.hpp"
#include "bus_test_support.hpp"
#include "nats_cluster.hpp"
#include "nats_library.hpp"
#include "parquet_output.hpp"
#include "ticks/arrow_ipc.hpp"

namespace pw = polarway;
namespace app = ticks::app;
namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ticks::test::nats_cluster;
using ticks::test::trade_of;

namespace {

// trade_of(sym, id) happens at 2024-11-22 00:00:00.000 UTC + id ms: this id is the first of the
// next UTC day.
constexpr std::int64_t midnight = 86'400'000;

std::vector<ticks::tick> trades(std::string_view sym, std::int64_t first, int n) {
  std::vector<ticks::tick> out;
  for (int i = 0; i < n; ++i) out.push_back(trade_of(sym, first + i));
  return out;
}

// A whole Arrow IPC stream of `rows`, all of `kind`.
std::vector<std::byte> stream_of(ticks::message_kind kind, const std::vector<ticks::tick>& rows) {
  std::vector<std::byte> out;
  ticks::arrow_ipc::append_schema(out, kind, {});
  ticks::arrow_ipc::batch_builder b(kind);
  for (const ticks::tick& t : rows) REQUIRE(b.add(t, 1'732'233'600'000'000'000));
  b.append(out);
  ticks::arrow_ipc::append_end_of_stream(out);
  return out;
}

app::jetstream_publisher::log_fn quiet_log() {
  return [](const std::string& line) { std::fprintf(stderr, "bus log: %s\n", line.c_str()); };
}

pw::task<std::unique_ptr<app::jetstream_publisher>> publisher_for(std::string urls) {
  app::bus_options o;
  o.servers = std::move(urls);
  o.replicas = 1;
  auto connecting = app::jetstream_publisher::connect(std::move(o), pw::cancellation_token(), quiet_log());
  auto pub = co_await std::move(connecting);
  REQUIRE_MESSAGE(pub, (pub ? "" : pub.error()));
  co_return std::move(*pub);
}

pw::task<void> publish(app::jetstream_publisher& pub, std::string subject, std::string id, std::vector<std::byte> data) {
  auto sent = co_await pub.publish(subject, id, data);
  REQUIRE(sent);
}

inline constexpr const char* sink_label = "nats:TICKS partition 0/1";

struct sink_run {
  app::bus_sink_counters counters;
  std::uint64_t start_seq = 0;
  std::uint64_t rows_written = 0;
  std::uint64_t rows_already_written = 0;
  std::string last_bad;
};

// One polarway-sink run over `dir` until nothing comes for `idle_exit_ms`, as sink_main.cpp does it.
pw::task<void> run_sink(std::string urls, std::string dir, sink_run& out, std::uint64_t idle_exit_ms = 1000,
                        std::uint64_t pull_expires_ms = 5000) {
  app::bus_sink_config cfg;
  cfg.bus.servers = std::move(urls);
  cfg.consumer.name = "test-sink";
  cfg.consumer.pull_expires_ms = pull_expires_ms;
  cfg.parquet.dir = dir;
  cfg.parquet.origin_label = sink_label;
  cfg.idle_exit_ms = idle_exit_ms;
  cfg.commit_interval_ms = 200;
  auto opening = app::open_parquet_output(cfg.parquet, 16);
  auto opened = co_await std::move(opening);
  REQUIRE(opened);
  ticks::parquet_sink sink = std::move(*opened);
  auto reading = app::read_committed_origins(dir, cfg.parquet.origin_label);
  auto resume = co_await std::move(reading);
  REQUIRE_MESSAGE(resume, (resume ? "" : resume.error()));
  out.start_seq = app::resume_sequence(*resume);
  auto connecting = app::jetstream_consumer::connect(cfg.bus, cfg.consumer, out.start_seq, pw::cancellation_token(), quiet_log());
  auto consumer = co_await std::move(connecting);
  REQUIRE_MESSAGE(consumer, (consumer ? "" : consumer.error()));
  const auto log = quiet_log();
  auto running = app::run_bus_sink(**consumer, sink, cfg, *resume, pw::cancellation_token(), out.counters, log);
  auto ran = co_await std::move(running);
  REQUIRE_MESSAGE(ran, (ran ? "" : ran.error()));
  out.last_bad = ran->last_bad_message;
  auto closed = co_await sink.close();
  REQUIRE(closed);
  out.rows_written = sink.stats().rows_written();
  out.rows_already_written = sink.stats().rows_already_written();
}

// Publishes trade messages (subject, rows) in order, each acknowledged before the next: the
// stream's order is the list's. A message's id names its subject and its first and last row's id.
pw::task<void> publish_trades_in_order(std::string urls, std::vector<std::pair<std::string, std::vector<ticks::tick>>> messages) {
  auto connecting = publisher_for(std::move(urls));
  auto pub = co_await std::move(connecting);
  for (auto& [subject, rows] : messages) {
    const std::string id =
        subject + "/" + std::to_string(app::tick_id(rows.front())) + "-" + std::to_string(app::tick_id(rows.back()));
    auto publishing = publish(*pub, subject, id, stream_of(ticks::message_kind::trade, rows));
    co_await std::move(publishing);
    REQUIRE(co_await pub->drain(20s));
  }
}

// A Parquet output of polarway-sink's kind in `dir`, with files of at most `file_rows` rows: for
// making by hand what a run left when it died.
pw::task<ticks::parquet_sink> open_sink_output(std::string dir, std::uint64_t file_rows) {
  app::parquet_output_config out;
  out.dir = std::move(dir);
  out.origin_label = sink_label;
  out.max_rows_per_file = file_rows;
  auto opening = app::open_parquet_output(out, 16);
  auto opened = co_await std::move(opening);
  REQUIRE(opened);
  co_return std::move(*opened);
}

std::string scratch_dir(const char* name) {
  const fs::path p = fs::temp_directory_path() / ("pw_bus_sink_test_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(p);
  return p.string();
}

}  // namespace

// The stream sequences of everything fetched until `want` have come or 10 s have passed; each
// fetch must hold at most `batch` messages.
pw::task<std::vector<std::uint64_t>> fetch_sequences(app::jetstream_consumer& consumer, std::size_t want, int batch) {
  std::vector<std::uint64_t> seqs;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (seqs.size() < want && std::chrono::steady_clock::now() < deadline) {
    auto fetched = co_await consumer.fetch();
    REQUIRE_MESSAGE(fetched, (fetched ? "" : fetched.error()));
    CHECK(fetched->size() <= static_cast<std::size_t>(batch));
    for (app::bus_message& m : *fetched) {
      REQUIRE(m.read_metadata());
      seqs.push_back(m.stream_seq());
    }
  }
  co_return seqs;
}

std::vector<std::uint64_t> sequences_from(std::uint64_t first, std::uint64_t last) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t s = first; s <= last; ++s) out.push_back(s);
  return out;
}

TEST_CASE("jetstream_consumer: batches in stream order, an expired request renewed, a restart exactly where asked") {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  const std::string urls = cluster->urls();
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on([&]() -> pw::task<void> {
    auto connecting = publisher_for(urls);
    auto pub = co_await std::move(connecting);
    const auto payload = stream_of(ticks::message_kind::trade, trades("BTCUSDT", 1, 2));
    const auto publish_range = [&](int first, int last) -> pw::task<void> {
      for (int i = first; i <= last; ++i) {
        auto publishing = publish(*pub, "ticks.trade.BTCUSDT", "c/" + std::to_string(i), payload);
        co_await std::move(publishing);
      }
      REQUIRE(co_await pub->drain(20s));
    };
    auto publishing = publish_range(1, 300);
    co_await std::move(publishing);

    app::bus_options bus;
    bus.servers = urls;
    app::consumer_options options;
    options.name = "pull-test";
    options.pull_batch = 16;
    options.pull_expires_ms = 300;
    options.fetch_wait_ms = 100;
    auto opening = app::jetstream_consumer::connect(bus, options, 1, pw::cancellation_token(), quiet_log());
    auto consumer = co_await std::move(opening);
    REQUIRE_MESSAGE(consumer, (consumer ? "" : consumer.error()));

    // 300 waiting, 16 per request: every one, in order, none twice.
    auto fetching = fetch_sequences(**consumer, 300, options.pull_batch);
    CHECK(co_await std::move(fetching) == sequences_from(1, 300));

    // Nothing arrives for longer than a request lives: the server ends it (408), and what is
    // published afterwards still comes, through a new request.
    auto idle = co_await (*consumer)->fetch();
    REQUIRE(idle);
    CHECK(idle->empty());
    co_await pw::sleep(500ms);
    auto publishing_more = publish_range(301, 340);
    co_await std::move(publishing_more);
    auto fetching_more = fetch_sequences(**consumer, 40, options.pull_batch);
    CHECK(co_await std::move(fetching_more) == sequences_from(301, 340));

    // A restart at 290 and one fetch, whose request may still be bringing messages; then back
    // to 100: nothing of the replaced consumer comes through, and the new one starts at 100.
    auto restarting = (*consumer)->restart_at(290, pw::cancellation_token());
    REQUIRE(co_await std::move(restarting));
    auto one = co_await (*consumer)->fetch();
    REQUIRE(one);
    REQUIRE(!one->empty());
    auto again = (*consumer)->restart_at(100, pw::cancellation_token());
    REQUIRE(co_await std::move(again));
    auto fetching_again = fetch_sequences(**consumer, 241, options.pull_batch);
    CHECK(co_await std::move(fetching_again) == sequences_from(100, 340));
  }());
}

TEST_CASE("bus_sink: the partition of a symbol is FNV-1a of its text") {
  CHECK(app::symbol_partition("BTCUSDT", 1) == 0);
  // Pinned against FNV-1a computed here, so that a change of hash (which would move symbols
  // between existing sinks' directories) fails.
  const std::uint32_t in2 = app::symbol_partition("BTCUSDT", 2), in7 = app::symbol_partition("BTCUSDT", 7);
  CHECK(in2 < 2);
  CHECK(in7 < 7);
  std::uint64_t h = 14695981039346656037ull;
  for (char c : std::string_view("BTCUSDT")) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  CHECK(in2 == h % 2);
  CHECK(in7 == h % 7);
}

TEST_CASE("bus_sink: hostile messages are refused one by one; a restart writes nothing twice; a hole is reported") {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  const std::string urls = cluster->urls();
  const std::string dir = scratch_dir("hostile");
  sink_run first, second, third;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on([&]() -> pw::task<void> {
      auto connecting = publisher_for(urls);
      auto pub = co_await std::move(connecting);
      using ticks::message_kind;
      const auto btc = stream_of(message_kind::trade, trades("BTCUSDT", 1, 10));
      // seq 1: good. Then, one each: garbage; a truncated stream; ETH rows on BTC's subject;
      // trade rows on an aggTrade subject; nothing at all; a subject of no kind. Then seq 8: good.
      struct message {
        std::string subject, id;
        std::vector<std::byte> data;
      };
      std::vector<message> hostile{
          {"ticks.trade.BTCUSDT", "a/1", btc},
          {"ticks.trade.BTCUSDT", "a/2", std::vector<std::byte>(64, std::byte{0x5a})},
          {"ticks.trade.BTCUSDT", "a/3", std::vector<std::byte>(btc.begin(), btc.begin() + btc.size() / 2)},
          {"ticks.trade.BTCUSDT", "a/4", stream_of(message_kind::trade, trades("ETHUSDT", 1, 3))},
          {"ticks.aggTrade.BTCUSDT", "a/5", stream_of(message_kind::trade, trades("BTCUSDT", 50, 3))},
          {"ticks.trade.BTCUSDT", "a/6", {}},
          {"ticks.junk", "a/7", btc},
          {"ticks.trade.ETHUSDT", "a/8", stream_of(message_kind::trade, trades("ETHUSDT", 100, 5))},
      };
      // Each acknowledged before the next: the stream's order is the list's (the publisher keeps
      // the order within a subject only).
      for (message& m : hostile) {
        auto publishing = publish(*pub, m.subject, m.id, m.data);
        co_await std::move(publishing);
        REQUIRE(co_await pub->drain(20s));
      }
      auto running_first = run_sink(urls, dir, first);
      co_await std::move(running_first);

      // Nothing new: the second run starts after what the files say is settled.
      auto running_second = run_sink(urls, dir, second);
      co_await std::move(running_second);

      // Three more; the middle one (seq 10) deleted from the stream before any sink read it.
      for (int i = 0; i < 3; ++i) {
        const std::string id = "b/" + std::to_string(9 + i);
        auto publishing = publish(*pub, "ticks.trade.BTCUSDT", id, stream_of(message_kind::trade, trades("BTCUSDT", 11 + 2 * i, 2)));
        co_await std::move(publishing);
      }
      REQUIRE(co_await pub->drain(20s));
    }());
  }
  REQUIRE(app::close_nats_library(10s));
  // js_DeleteMsg through nats.c directly: the stream, not our code, loses the message.
  {
    auto client = ticks::test::jetstream_client::connect(urls);
    REQUIRE_MESSAGE(client, (client ? "" : client.error()));
    REQUIRE(js_DeleteMsg(client->js(), "TICKS", 10, nullptr, nullptr) == NATS_OK);
  }
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on(run_sink(urls, dir, third));
  }
  REQUIRE(app::close_nats_library(10s));

  CHECK(first.start_seq == 1);
  CHECK(first.counters.messages.load() == 8);
  CHECK(first.counters.bad_messages.load() == 6);
  CHECK(first.counters.rows_taken.load() == 15);
  CHECK(first.rows_written == 15);
  CHECK_MESSAGE(first.last_bad.find("ticks.junk") != std::string::npos, first.last_bad);
  CHECK(first.counters.bus_gaps.load() == 0);

  CHECK(second.start_seq == 9);
  CHECK(second.counters.messages.load() == 0);
  CHECK(second.rows_written == 0);

  CHECK(third.start_seq == 9);
  CHECK(third.counters.messages.load() == 3);  // 9, 11 (a hole: the consumer is made again), 11
  CHECK(third.counters.bus_gaps.load() == 1);
  CHECK(third.counters.repositions.load() == 1);
  CHECK(third.rows_written == 4);
  CHECK_MESSAGE(third.last_bad.find("no longer holds stream sequences 10 to 10") != std::string::npos, third.last_bad);
  fs::remove_all(dir);
}

TEST_CASE("bus_sink: rows published twice under other message ids are written once, in a run and after a restart") {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  const std::string urls = cluster->urls();
  const std::string dir = scratch_dir("twice");
  sink_run first, second, third;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on([&]() -> pw::task<void> {
      // seq 1, 2: BTCUSDT 1..100, then 51..150 under another id. seq 3: SOLUSDT, ids going down.
      // seq 4, 5: ETHUSDT five ids before midnight, then five before and five after.
      std::vector<ticks::tick> down{trade_of("SOLUSDT", 300), trade_of("SOLUSDT", 299)};
      auto publishing = publish_trades_in_order(urls, {{"ticks.trade.BTCUSDT", trades("BTCUSDT", 1, 100)},
                                                       {"ticks.trade.BTCUSDT", trades("BTCUSDT", 51, 100)},
                                                       {"ticks.trade.SOLUSDT", down},
                                                       {"ticks.trade.ETHUSDT", trades("ETHUSDT", midnight - 10, 5)},
                                                       {"ticks.trade.ETHUSDT", trades("ETHUSDT", midnight - 5, 10)}});
      co_await std::move(publishing);
      auto running_first = run_sink(urls, dir, first);
      co_await std::move(running_first);

      // After the restart only the committed files know what is held. seq 6: BTCUSDT 120..200;
      // seq 7: ETHUSDT eight ids on both sides of midnight, all held; seq 8: two new ones.
      auto publishing_more = publish_trades_in_order(urls, {{"ticks.trade.BTCUSDT", trades("BTCUSDT", 120, 81)},
                                                            {"ticks.trade.ETHUSDT", trades("ETHUSDT", midnight - 4, 8)},
                                                            {"ticks.trade.ETHUSDT", trades("ETHUSDT", midnight + 5, 2)}});
      co_await std::move(publishing_more);
      auto running_second = run_sink(urls, dir, second);
      co_await std::move(running_second);
    }());
  }
  REQUIRE(app::close_nats_library(10s));
  // Without the position file a third run reads again from what the files record as settled,
  // before messages they hold.
  REQUIRE(fs::remove(fs::path(dir) / app::bus_position_file));
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on(run_sink(urls, dir, third));
  }
  REQUIRE(app::close_nats_library(10s));

  CHECK(first.counters.bad_messages.load() == 0);
  CHECK(first.counters.rows_taken.load() == 217);
  CHECK(first.counters.duplicate_rows.load() == 50);
  CHECK(first.rows_written == 167);

  CHECK(second.start_seq == 6);
  CHECK(second.counters.rows_taken.load() == 91);
  CHECK(second.counters.duplicate_rows.load() == 39);  // BTCUSDT 120..150, ETHUSDT all eight
  CHECK(second.rows_written == 52);
  CHECK(second.rows_already_written == 0);

  CHECK(third.start_seq < 6);
  CHECK(third.rows_written == 0);
  CHECK(third.counters.rows_taken.load() == third.counters.duplicate_rows.load() + third.rows_already_written);

  // Every id once: BTCUSDT 1..200, SOLUSDT 299 and 300, and the 17 ETHUSDT ids.
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto held = rt.block_on(app::read_committed_ids(dir));
  REQUIRE_MESSAGE(held, (held ? "" : held.error()));
  REQUIRE(held->streams.size() == 3);
  for (const app::committed_stream& s : held->streams) {
    const std::string_view sym = s.key.symbol.view();
    CAPTURE(sym);
    CHECK(s.first_id == (sym == "BTCUSDT" ? 1 : sym == "SOLUSDT" ? 299 : midnight - 10));
    CHECK(s.last_id == (sym == "BTCUSDT" ? 200 : sym == "SOLUSDT" ? 300 : midnight + 6));
    CHECK(s.rows == (sym == "BTCUSDT" ? 200u : sym == "SOLUSDT" ? 2u : 17u));
    CHECK(s.ids_missing == 0);
  }
  fs::remove_all(dir);
}

namespace {

using trade_messages = std::vector<std::pair<std::string, std::vector<ticks::tick>>>;

// A one-node cluster holding `messages`; `dir` as `crash` leaves it (writing to an output of
// files of at most `file_rows` rows, dropped afterwards without close(): what a run that died
// there leaves); then one sink run over it, into `out`.
void sink_after_crash(const std::string& dir, trade_messages messages, std::uint64_t file_rows,
                      const std::function<pw::task<void>(ticks::parquet_sink&)>& crash, sink_run& out) {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  const std::string urls = cluster->urls();
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on([&]() -> pw::task<void> {
      auto publishing = publish_trades_in_order(urls, std::move(messages));
      co_await std::move(publishing);
      {
        auto opening = open_sink_output(dir, file_rows);
        ticks::parquet_sink crashed = co_await std::move(opening);
        auto crashing = crash(crashed);
        co_await std::move(crashing);
      }
      auto running = run_sink(urls, dir, out);
      co_await std::move(running);
    }());
  }
  REQUIRE(app::close_nats_library(10s));
}

}  // namespace

TEST_CASE("bus_sink: rows an earlier run lost with a temporary file are written, though a later day holds higher ids") {
  const std::string dir = scratch_dir("lost");
  const auto before = trades("ETHUSDT", midnight - 4, 4), after = trades("ETHUSDT", midnight, 6);
  sink_run run;
  // A run that dies after the next day's first file (5 rows) is committed, while the day
  // before, and the sixth row, are still in temporary files: they are lost with them. The sink
  // commits a day's file once the next day's rows begin, so that state comes from the day
  // before's rows written after the next day's (written here in that order), or from an output
  // left by a sink that kept the day before open.
  sink_after_crash(dir, {{"ticks.trade.ETHUSDT", before}, {"ticks.trade.ETHUSDT", after}}, 5,
                   [&](ticks::parquet_sink& crashed) -> pw::task<void> {
                     REQUIRE(co_await crashed.write_from(after, ticks::row_origin{2, 0}));
                     REQUIRE(co_await crashed.write_from(before, ticks::row_origin{1, 0}));
                     REQUIRE(crashed.stats().files_written() == 1);
                   },
                   run);

  CHECK(run.start_seq == 1);
  CHECK(run.counters.rows_taken.load() == 10);
  CHECK(run.counters.duplicate_rows.load() == 0);
  CHECK(run.rows_already_written == 5);
  CHECK(run.rows_written == 5);
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto held = rt.block_on(app::read_committed_ids(dir));
  REQUIRE_MESSAGE(held, (held ? "" : held.error()));
  REQUIRE(held->streams.size() == 1);
  CHECK(held->streams[0].first_id == midnight - 4);
  CHECK(held->streams[0].last_id == midnight + 5);
  CHECK(held->streams[0].rows == 10);
  CHECK(held->streams[0].ids_missing == 0);
  fs::remove_all(dir);
}

TEST_CASE("bus_sink: after a restart at a message that repeats ids of the day before, those rows are skipped") {
  const std::string dir = scratch_dir("day");
  // seq 1 holds four ids before midnight; seq 2, published again under another id, two of them
  // and two ids after midnight.
  const auto held = trades("ETHUSDT", midnight - 4, 4), again = trades("ETHUSDT", midnight - 2, 4);
  sink_run run;
  // What run_bus_sink leaves when it dies there: seq 1 committed and settled; of seq 2, the two
  // new rows (at their origins 2:2 and 2:3) in a file of the next day that rolled at two rows,
  // committed, the settled position still 2.
  sink_after_crash(dir, {{"ticks.trade.ETHUSDT", held}, {"ticks.trade.ETHUSDT", again}}, 2,
                   [&](ticks::parquet_sink& crashed) -> pw::task<void> {
                     REQUIRE(co_await crashed.write_from(held, ticks::row_origin{1, 0}));
                     REQUIRE(co_await crashed.flush());
                     crashed.set_settled_origin(2);
                     auto saving = app::save_bus_position(dir, sink_label, 2);
                     REQUIRE(co_await std::move(saving));
                     REQUIRE(co_await crashed.write_from(std::span(again).subspan(2), ticks::row_origin{2, 2}));
                     REQUIRE(crashed.stats().files_written() == 3);
                   },
                   run);

  // The day before's files hold ids midnight-4 .. midnight-1, up to origin 1:3: seq 2's first
  // two rows come after that and repeat two of them; its last two are the next day's file.
  CHECK(run.start_seq == 2);
  CHECK(run.counters.rows_taken.load() == 4);
  CHECK(run.counters.duplicate_rows.load() == 2);
  CHECK(run.rows_already_written == 2);
  CHECK(run.rows_written == 0);
  fs::remove_all(dir);
}

namespace {

// What the server says of a consumer: the stream sequence delivered last, the one acknowledged
// through (everything at or below it), and how many delivered messages wait for an ack.
struct consumer_progress {
  std::uint64_t delivered = 0;
  std::uint64_t ack_floor = 0;
  std::int64_t ack_pending = -1;
};

// Blocking: nats.c directly, as an operator's tool would ask.
consumer_progress progress_of(jsCtx* js, const char* consumer) {
  jsConsumerInfo* info = nullptr;
  consumer_progress p;
  if (js_GetConsumerInfo(&info, js, "TICKS", consumer, nullptr, nullptr) == NATS_OK && info != nullptr) {
    p = consumer_progress{info->Delivered.Stream, info->AckFloor.Stream, info->NumAckPending};
    jsConsumerInfo_Destroy(info);
  }
  return p;
}

// Polls until `done` holds of the consumer's progress or 10 s have passed; the last progress seen.
template <class Done>
consumer_progress wait_for_progress(jsCtx* js, const char* consumer, Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  consumer_progress p = progress_of(js, consumer);
  while (!done(p) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    p = progress_of(js, consumer);
  }
  return p;
}

}  // namespace

TEST_CASE("bus_sink: a message delivered again after it was taken is acknowledged again, not written again") {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  const std::string urls = cluster->urls();
  const std::string dir = scratch_dir("again");
  sink_run run;
  consumer_progress taken, again;
  {
    auto client = ticks::test::jetstream_client::connect(urls);
    REQUIRE_MESSAGE(client, (client ? "" : client.error()));
    jsCtx* js = client->js();
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on([&]() -> pw::task<void> {
      auto connecting = publisher_for(urls);
      auto pub = co_await std::move(connecting);
      for (int i = 0; i < 5; ++i) {
        auto publishing = publish(*pub, "ticks.trade.BTCUSDT", "c/" + std::to_string(i),
                                  stream_of(ticks::message_kind::trade, trades("BTCUSDT", 1 + 2 * i, 2)));
        co_await std::move(publishing);
      }
      REQUIRE(co_await pub->drain(20s));
      // Idle for 4 s before it exits; a pull request the server loses is renewed after 1.5 s.
      auto sinking = pw::spawn(run_sink(urls, dir, run, 4000, 500));
      auto waiting = pw::spawn_blocking([js] {
        return wait_for_progress(js, "test-sink", [](const consumer_progress& p) { return p.ack_floor == 5; });
      });
      auto waited = co_await std::move(waiting);
      REQUIRE(waited);
      taken = *waited;
      // The consumer made again from sequence 1, as an operator (or a lost acknowledgement, for
      // the messages it covered) would have it: the sink gets 1 to 5 again, below what it took.
      auto remaking = pw::spawn_blocking([js] {
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = "test-sink";
        cc.FilterSubject = "ticks.>";
        cc.DeliverPolicy = js_DeliverByStartSequence;
        cc.OptStartSeq = 1;
        cc.AckPolicy = js_AckAll;
        if (js_DeleteConsumer(js, "TICKS", "test-sink", nullptr, nullptr) != NATS_OK) return false;
        jsConsumerInfo* info = nullptr;
        const bool made = js_AddConsumer(&info, js, "TICKS", &cc, nullptr, nullptr) == NATS_OK;
        jsConsumerInfo_Destroy(info);
        return made;
      });
      auto remade = co_await std::move(remaking);
      REQUIRE(remade);
      REQUIRE(*remade);
      auto rewaiting = pw::spawn_blocking([js] {
        return wait_for_progress(js, "test-sink", [](const consumer_progress& p) {
          return p.delivered == 5 && p.ack_floor == 5 && p.ack_pending == 0;
        });
      });
      auto rewaited = co_await std::move(rewaiting);
      REQUIRE(rewaited);
      again = *rewaited;
      auto sunk = co_await std::move(sinking);
      REQUIRE(sunk);
    }());
  }
  REQUIRE(app::close_nats_library(10s));

  CHECK(taken.ack_floor == 5);
  CHECK_MESSAGE(again.ack_floor == 5, "delivered " << again.delivered << ", acknowledged through " << again.ack_floor);
  CHECK(again.ack_pending == 0);
  CHECK(run.counters.messages.load() == 10);
  CHECK(run.counters.rows_taken.load() == 10);
  CHECK(run.rows_written == 10);
  CHECK(run.counters.repositions.load() == 0);
  fs::remove_all(dir);
}
