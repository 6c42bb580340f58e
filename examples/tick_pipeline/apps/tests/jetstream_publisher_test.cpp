// jetstream_publisher and jetstream_sink against a real 3-node JetStream cluster (nats_cluster.hpp):
// the stream created with the settings asked for and an existing one with others refused; a
// message re-sent under the same id stored once; a publisher that sent nothing closed; a paused
// bus pushing back through the window, and everything stored once the bus is back, a killed node
// costing nothing; an unreachable bus retried with back-off until the stop; and what
// jetstream_sink puts on the bus (subjects, ids, Arrow IPC streams), read back with nats.c; and
// bus_resume: where a restarted ingest picks up, from hostile ids and from a real stream. The
// servers' names and values: the flags' parsers.
#include <doctest/doctest.h>

#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "bus_resume.hpp"
#include "jetstream_publisher.hpp"
#include "jetstream_sink.hpp"
#include "nats_connect.hpp"
#include "arrow_ipc_frames.hpp"
#include "bus_test_support.hpp"
#include "nats_cluster.hpp"
#include "nats_library.hpp"
#include "ticks/arrow_ipc_reader.hpp"

namespace pw = polarway;
namespace app = ticks::app;
using namespace std::chrono_literals;
using ticks::test::nats_cluster;
using ticks::test::trade_of;

namespace {

// The stream's stored message count and settings, read with nats.c directly.
struct stream_facts {
  std::uint64_t messages = 0;
  std::int64_t replicas = 0;
  std::string subjects;
  std::int64_t duplicates_ns = 0;
};

pw::result<stream_facts, std::string> stream_info(const std::string& urls, const std::string& stream) {
  auto client = ticks::test::jetstream_client::connect(urls);
  if (!client) return pw::err(client.error());
  jsCtx* js = client->js();
  natsStatus s = NATS_OK;
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  // A leader may be in election after a kill: ask again for a while.
  for (int i = 0; i < 100; ++i) {
    s = js_GetStreamInfo(&si, js, stream.c_str(), nullptr, &code);
    if (s == NATS_OK) break;
    std::this_thread::sleep_for(100ms);
  }
  stream_facts f;
  if (s == NATS_OK) {
    f.messages = si->State.Msgs;
    f.replicas = si->Config->Replicas;
    for (int i = 0; i < si->Config->SubjectsLen; ++i) f.subjects += (i ? "," : "") + std::string(si->Config->Subjects[i]);
    f.duplicates_ns = si->Config->Duplicates;
    jsStreamInfo_Destroy(si);
  }
  if (s != NATS_OK) return pw::err(std::string("stream info: ") + natsStatus_GetText(s));
  return f;
}

// Every message of the stream, in order: subject, Nats-Msg-Id and data.
struct stored_message {
  std::string subject;
  std::string id;
  std::vector<std::byte> data;
};

pw::result<std::vector<stored_message>, std::string> read_stream(const std::string& urls, const std::string& stream,
                                                                 std::uint64_t count) {
  auto client = ticks::test::jetstream_client::connect(urls);
  if (!client) return pw::err(client.error());
  jsCtx* js = client->js();
  natsStatus s = NATS_OK;
  std::vector<stored_message> out;
  for (std::uint64_t seq = 1; seq <= count && s == NATS_OK; ++seq) {
    natsMsg* m = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    s = js_GetMsg(&m, js, stream.c_str(), seq, nullptr, &code);
    if (s != NATS_OK) break;
    const char* id = nullptr;
    natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
    const auto* data = reinterpret_cast<const std::byte*>(natsMsg_GetData(m));
    out.push_back(stored_message{natsMsg_GetSubject(m), id ? id : "",
                                 std::vector<std::byte>(data, data + natsMsg_GetDataLength(m))});
    natsMsg_Destroy(m);
  }
  if (s != NATS_OK) return pw::err(std::string("get message: ") + natsStatus_GetText(s));
  return out;
}

// Log lines, collected from any thread, and echoed on stderr for a failure's diagnosis.
struct collected_log {
  std::mutex mu;
  std::vector<std::string> lines;
  app::jetstream_publisher::log_fn fn() {
    return [this](const std::string& line) {
      std::fprintf(stderr, "bus log: %s\n", line.c_str());
      const std::lock_guard lock(mu);
      lines.push_back(line);
    };
  }
  std::size_t size() {
    const std::lock_guard lock(mu);
    return lines.size();
  }
};

app::bus_options options_for(const nats_cluster& cluster) {
  app::bus_options o;
  o.servers = cluster.urls();
  o.retry_initial_ms = 50;
  o.retry_max_ms = 500;
  return o;
}

std::span<const std::byte> bytes_of(std::string_view s) { return std::as_bytes(std::span(s.data(), s.size())); }

// Connects a publisher (the arguments owned by this coroutine's frame, not by a temporary in the
// caller's co_await expression: g++ 12 destroys those twice).
pw::task<pw::result<std::unique_ptr<app::jetstream_publisher>, std::string>> connect(app::bus_options o,
                                                                                    app::jetstream_publisher::log_fn log,
                                                                                    pw::cancellation_token stop = {}) {
  auto connecting = app::jetstream_publisher::connect(std::move(o), std::move(stop), std::move(log));
  co_return co_await std::move(connecting);
}

void close_library() { REQUIRE(app::close_nats_library(10s)); }

}  // namespace

TEST_CASE("bus flags: servers and names") {
  for (const char* good : {"nats://127.0.0.1:4222", "nats://a:1,nats://b:65535", "nats://[::1]:4222"})
    CHECK_MESSAGE(app::parse_nats_servers(good), good);
  const auto two = app::parse_nats_servers("nats://a:1,nats://b:65535");
  REQUIRE(two);
  CHECK(*two == std::vector<std::string>{"nats://a:1", "nats://b:65535"});
  for (const char* bad : {"", "nats://", "nats://h", "nats://h:", "nats://:4222", "nats://h:0", "nats://h:65536",
                          "nats://h:42x", "tcp://h:1", "nats://h:1,", "nats://h:1,,nats://g:2", "nats://h:1/path",
                          "nats://h:99999999999999999999"})
    CHECK_MESSAGE(!app::parse_nats_servers(bad), bad);
  for (const char* good : {"TICKS", "ticks_2", "a-b"}) CHECK_MESSAGE(app::check_jetstream_name(good), good);
  const std::vector<std::string> bad_names{"", "A.B", "A B", "A*", "A>", "ÄB", std::string(256, 'A')};
  for (const std::string& bad : bad_names) CHECK_MESSAGE(!app::check_jetstream_name(bad), bad);
  CHECK(app::check_jetstream_name(std::string(255, 'A')));
}

TEST_CASE("bus retries: a cluster between leaders is waited for; a refusal is not") {
  // A killed or paused server leaves the cluster without a meta or stream leader for an election
  // timeout: the API then answers "temporarily unavailable", "not leader" or "offline", or nothing.
  // (No structured bindings: clang 14 cannot capture them in doctest's assertion lambdas.)
  for (const auto& failure : {std::pair{NATS_TIMEOUT, jsErrCode{}}, std::pair{NATS_NO_RESPONDERS, jsErrCode{}},
                              std::pair{NATS_ERR, JSClusterNotAvailErr}, std::pair{NATS_ERR, JSClusterNotLeaderErr},
                              std::pair{NATS_ERR, JSStreamOfflineErr}})
    CHECK_MESSAGE(app::jetstream_unavailable_for_now(failure.first, failure.second),
                  app::js_failure(failure.first, failure.second));
  // Refusals that another try would only repeat.
  for (const auto& refusal : {std::pair{NATS_ERR, JSBadRequestErr}, std::pair{NATS_ERR, JSStreamNameExistErr},
                              std::pair{NATS_ERR, JSClusterNoPeersErr}, std::pair{NATS_ERR, JSStreamNotFoundErr},
                              std::pair{NATS_NOT_PERMITTED, jsErrCode{}}, std::pair{NATS_OK, jsErrCode{}}})
    CHECK_MESSAGE(!app::jetstream_unavailable_for_now(refusal.first, refusal.second),
                  app::js_failure(refusal.first, refusal.second));
}

TEST_CASE("jetstream_publisher: the stream as asked, a mismatch refused, a re-sent id stored once") {
  auto cluster = nats_cluster::start(3);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    collected_log log;
    rt.block_on([&]() -> pw::task<void> {
      auto connecting = connect(options_for(*cluster), log.fn());
      auto pub = co_await std::move(connecting);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.error()));
      // The last 5 are the first 5 again: a retry after a lost acknowledgement.
      for (int i = 0; i < 25; ++i) {
        const std::string id = "src/trade/BTCUSDT/" + std::to_string(i % 20);
        const std::string payload = "payload " + std::to_string(i % 20);
        auto sent = co_await (*pub)->publish("ticks.trade.BTCUSDT", id, bytes_of(payload));
        REQUIRE(sent);
      }
      REQUIRE(co_await (*pub)->drain(20s));
      const app::bus_counters& n = (*pub)->counters();
      CHECK(n.published.load() == 25);
      CHECK(n.acknowledged.load() == 25);
      CHECK(n.duplicates.load() == 5);

      // Another ingest asking for other settings is refused, naming what differs.
      app::bus_options single = options_for(*cluster);
      single.replicas = 1;
      auto connecting_other = connect(single, log.fn());
      auto other = co_await std::move(connecting_other);
      REQUIRE_FALSE(other);
      CHECK_MESSAGE(other.error().find("replicas 3, not 1") != std::string::npos, other.error());

      // A publisher that never publishes (a session that saw no tick) drains at once and closes.
      auto connecting_idle = connect(options_for(*cluster), log.fn());
      auto idle = co_await std::move(connecting_idle);
      REQUIRE_MESSAGE(idle, (idle ? "" : idle.error()));
      CHECK(co_await (*idle)->drain(1s));
      CHECK((*idle)->counters().published.load() == 0);
      idle->reset();
    }());
  }
  auto facts = stream_info(cluster->urls(), "TICKS");
  REQUIRE_MESSAGE(facts, (facts ? "" : facts.error()));
  CHECK(facts->messages == 20);
  CHECK(facts->replicas == 3);
  CHECK(facts->subjects == "ticks.>");
  CHECK(facts->duplicates_ns == 120'000'000'000);
  close_library();
}

TEST_CASE("jetstream_publisher: a paused bus pushes back through the window; nothing is lost or doubled") {
  auto cluster = nats_cluster::start(3);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    collected_log log;
    rt.block_on([&]() -> pw::task<void> {
      app::bus_options o = options_for(*cluster);
      o.window = 4;
      o.ack_timeout_ms = 500;
      auto connecting = connect(o, log.fn());
      auto pub = co_await std::move(connecting);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.error()));
      app::jetstream_publisher& p = **pub;
      for (std::size_t i = 0; i < cluster->size(); ++i) cluster->pause(i);
      auto publishing = pw::spawn([](app::jetstream_publisher& p) -> pw::task<int> {
        int sent = 0;
        for (int i = 0; i < 10; ++i) {
          const std::string id = "paused/" + std::to_string(i);
          auto r = co_await p.publish("ticks.trade.ETHUSDT", id, bytes_of("x"));
          if (r) ++sent;
        }
        co_return sent;
      }(p));
      // Nothing can be acknowledged while every node is stopped: the fifth publish waits for a
      // slot, and the acknowledgements that time out are re-sent, not dropped.
      co_await pw::sleep(1500ms);
      CHECK(p.counters().published.load() == 4);
      CHECK(p.counters().acknowledged.load() == 0);
      CHECK_FALSE(publishing.is_finished());
      for (std::size_t i = 0; i < cluster->size(); ++i) cluster->resume(i);
      auto sent = co_await std::move(publishing);
      REQUIRE(sent);
      CHECK(*sent == 10);
      auto drained = co_await p.drain(60s);
      REQUIRE_MESSAGE(drained, (drained ? "" : drained.error()));
      CHECK(p.counters().resent.load() > 0);
      CHECK(log.size() > 0);

      // One node killed: the other two keep the R3 stream's quorum.
      cluster->kill(0);
      for (int i = 0; i < 50; ++i) {
        const std::string id = "killed/" + std::to_string(i);
        auto r = co_await p.publish("ticks.trade.ETHUSDT", id, bytes_of("y"));
        REQUIRE(r);
      }
      auto after_kill = co_await p.drain(60s);
      REQUIRE_MESSAGE(after_kill, (after_kill ? "" : after_kill.error()));
    }());
  }
  auto facts = stream_info(cluster->urls(), "TICKS");
  REQUIRE_MESSAGE(facts, (facts ? "" : facts.error()));
  CHECK(facts->messages == 60);
  // The subject's messages are stored in the order published, re-sends included.
  auto stored = read_stream(cluster->urls(), "TICKS", 60);
  REQUIRE_MESSAGE(stored, (stored ? "" : stored.error()));
  std::vector<std::string> ids, published;
  for (const stored_message& m : *stored) ids.push_back(m.id);
  for (int i = 0; i < 10; ++i) published.push_back("paused/" + std::to_string(i));
  for (int i = 0; i < 50; ++i) published.push_back("killed/" + std::to_string(i));
  CHECK(ids == published);
  close_library();
}

TEST_CASE("jetstream_publisher: an unreachable bus is retried with back-off until the stop") {
  // A port with no server: bound to learn a free one, then closed.
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  ::close(probe);
  app::bus_options o;
  o.servers = "nats://127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  o.retry_initial_ms = 50;
  o.retry_max_ms = 200;
  o.connect_timeout_ms = 200;
  collected_log log;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    rt.block_on([&]() -> pw::task<void> {
      pw::cancellation_token stop;
      auto stopper = pw::spawn([](pw::cancellation_token t) -> pw::task<void> {
        co_await pw::sleep(800ms);
        t.cancel();
      }(stop));
      auto connecting = connect(o, log.fn(), stop);
      auto r = co_await std::move(connecting);
      (void)co_await stopper;
      REQUIRE_FALSE(r);
      CHECK_MESSAGE(r.error().find("stopped before the bus was ready") != std::string::npos, r.error());
      CHECK_MESSAGE(r.error().find("cannot reach the bus") != std::string::npos, r.error());
    }());
  }
  CHECK(log.size() >= 2);
  for (const std::string& line : log.lines) CHECK_MESSAGE(line.find("retrying in") != std::string::npos, line);
  close_library();
}

namespace {

// A sink after the bus stage: keeps what it is given.
class kept_ticks final : public app::tick_sink {
 public:
  std::vector<ticks::tick> ticks;
  bool flushed = false;
  pw::task<pw::result<void>> write(std::span<const ticks::tick> batch) override {
    ticks.insert(ticks.end(), batch.begin(), batch.end());
    co_return pw::ok();
  }
  pw::task<pw::result<void>> flush() override {
    flushed = true;
    co_return pw::ok();
  }
};

}  // namespace

TEST_CASE("jetstream_sink: one Arrow IPC stream per kind and symbol of a batch, with its subject and id") {
  auto cluster = nats_cluster::start(3);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  std::vector<ticks::tick> batch;
  // BTC and ETH interleaved, and a bookTicker: three messages, each in arrival order.
  for (int i = 0; i < 6; ++i) batch.push_back(trade_of(i % 2 ? "ETHUSDT" : "BTCUSDT", 100 + i));
  ticks::book_ticker bt;
  bt.symbol = ticks::symbol::parse("BTCUSDT").unwrap();
  bt.update_id = 77;
  bt.bid_price = ticks::price::from_raw(100);
  bt.event_time_ms = 1'732'233'600'500;
  batch.push_back(bt);
  kept_ticks after;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    collected_log log;
    rt.block_on([&]() -> pw::task<void> {
      auto connecting = connect(options_for(*cluster), log.fn());
      auto pub = co_await std::move(connecting);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.error()));
      app::jetstream_sink sink(**pub, "feed.example:9443", 20s, &after);
      auto written = co_await sink.write(batch);
      REQUIRE(written);
      auto flushed = co_await sink.flush();
      REQUIRE(flushed);
      CHECK(sink.failure().empty());
      CHECK(sink.unrepresentable() == 0);
    }());
  }
  CHECK(after.ticks == batch);  // everything passed on downstream, as it came
  CHECK(after.flushed);
  auto stored = read_stream(cluster->urls(), "TICKS", 3);
  REQUIRE_MESSAGE(stored, (stored ? "" : stored.error()));
  REQUIRE(stored->size() == 3);
  std::map<std::string, const stored_message*> by_subject;
  for (const stored_message& m : *stored) by_subject[m.subject] = &m;
  REQUIRE(by_subject.count("ticks.trade.BTCUSDT") == 1);
  REQUIRE(by_subject.count("ticks.trade.ETHUSDT") == 1);
  REQUIRE(by_subject.count("ticks.bookTicker.BTCUSDT") == 1);
  CHECK(by_subject["ticks.trade.BTCUSDT"]->id == "feed.example:9443/trade/BTCUSDT/100-104");
  CHECK(by_subject["ticks.trade.ETHUSDT"]->id == "feed.example:9443/trade/ETHUSDT/101-105");
  CHECK(by_subject["ticks.bookTicker.BTCUSDT"]->id == "feed.example:9443/bookTicker/BTCUSDT/77-77");
  auto btc = ticks::arrow_ipc::read_tick_stream(by_subject["ticks.trade.BTCUSDT"]->data);
  REQUIRE_MESSAGE(btc, (btc ? "" : btc.error().message()));
  CHECK(btc->kind == ticks::message_kind::trade);
  CHECK(btc->ticks == std::vector<ticks::tick>{batch[0], batch[2], batch[4]});
  auto book = ticks::arrow_ipc::read_tick_stream(by_subject["ticks.bookTicker.BTCUSDT"]->data);
  REQUIRE(book);
  CHECK(book->ticks == std::vector<ticks::tick>{batch[6]});
  close_library();
}

namespace {

// A whole Arrow IPC stream of the BTCUSDT trades first..last, as jetstream_sink encodes it.
std::vector<std::byte> trades_stream(std::int64_t first, std::int64_t last) {
  std::vector<std::byte> s;
  const ticks::arrow_ipc::key_value meta[] = {{"polarway.kind", "trade"}};
  ticks::arrow_ipc::append_schema(s, ticks::message_kind::trade, meta);
  ticks::arrow_ipc::batch_builder b(ticks::message_kind::trade);
  for (std::int64_t id = first; id <= last; ++id) REQUIRE(b.add(trade_of("BTCUSDT", id), 0));
  b.append(s);
  ticks::arrow_ipc::append_end_of_stream(s);
  return s;
}

}  // namespace

TEST_CASE("jetstream_sink: merge_tick_messages folds the next rows of one stream; anything else stays two") {
  std::string id = "src:1/trade/BTCUSDT/1-3";
  std::vector<std::byte> payload = trades_stream(1, 3);
  REQUIRE(app::merge_tick_messages(id, payload, "src:1/trade/BTCUSDT/4-6", trades_stream(4, 6)));
  REQUIRE(app::merge_tick_messages(id, payload, "src:1/trade/BTCUSDT/9-9", trades_stream(9, 9)));  // a hole is fine
  CHECK(id == "src:1/trade/BTCUSDT/1-9");
  auto rows = ticks::arrow_ipc::read_tick_stream(payload);
  REQUIRE(rows);
  std::vector<ticks::tick> want;
  for (std::int64_t i : {1, 2, 3, 4, 5, 6, 9}) want.push_back(trade_of("BTCUSDT", i));
  CHECK(rows->ticks == want);

  const std::string kept_id = id;
  const std::vector<std::byte> kept = payload;
  const auto stays_two = [&](std::string_view later_id, const std::vector<std::byte>& later) {
    const bool merged = app::merge_tick_messages(id, payload, later_id, later);
    CHECK(id == kept_id);
    CHECK(payload == kept);
    return !merged;
  };
  const auto more = trades_stream(10, 11);
  CHECK(stays_two("src:2/trade/BTCUSDT/10-11", more));      // another source
  CHECK(stays_two("src:1/aggTrade/BTCUSDT/10-11", more));   // another kind
  CHECK(stays_two("src:1/trade/ETHUSDT/10-11", more));      // another symbol
  CHECK(stays_two("src:1/trade/BTCUSDT/9-11", more));       // not after the last id
  CHECK(stays_two("src:1/trade/BTCUSDT/5-6", more));
  CHECK(stays_two("garbage", more));
  CHECK(stays_two("src:1/trade/BTCUSDT/10-11", {}));        // not a stream
  std::vector<std::byte> cut = more;
  cut.resize(cut.size() - 8);
  CHECK(stays_two("src:1/trade/BTCUSDT/10-11", cut));       // no end-of-stream
  std::string bad_id = "not an id";
  std::vector<std::byte> bad_payload = trades_stream(1, 1);
  CHECK(!app::merge_tick_messages(bad_id, bad_payload, "src:1/trade/BTCUSDT/10-11", more));
}

// With `compression`, merged messages are compacted (compact_tick_message) as the ingest's
// --nats-compression asks.
void merged_in_order(std::optional<ticks::arrow_ipc::body_compression> compression) {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  constexpr int batches = 200, per_batch = 5;
  std::uint64_t published = 0, merged = 0, acknowledged = 0;
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    collected_log log;
    rt.block_on([&]() -> pw::task<void> {
      app::bus_options o = options_for(*cluster);
      o.replicas = 1;
      app::jetstream_publisher::compact_fn compact;
      if (compression)
        compact = [c = *compression](std::vector<std::byte>& payload) { app::compact_tick_message(payload, c); };
      auto connecting = app::jetstream_publisher::connect(std::move(o), pw::cancellation_token{}, log.fn(),
                                                          app::merge_tick_messages, std::move(compact));
      auto pub = co_await std::move(connecting);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.error()));
      kept_ticks after;
      app::jetstream_sink sink(**pub, "src:1", 20s, &after);
      // The server stopped: the first message waits for its acknowledgement, and the other 199
      // wait behind it. Once it answers, they go out as one.
      cluster->pause(0);
      for (int b = 0; b < batches; ++b) {
        std::vector<ticks::tick> batch;
        for (int i = 1; i <= per_batch; ++i) batch.push_back(trade_of("BTCUSDT", b * per_batch + i));
        auto written = co_await sink.write(batch);
        REQUIRE(written);
      }
      co_await pw::sleep(300ms);
      cluster->resume(0);
      auto flushed = co_await sink.flush();
      REQUIRE_MESSAGE(flushed, sink.failure());
      const app::bus_counters& n = (*pub)->counters();
      published = n.published.load();
      merged = n.merged.load();
      acknowledged = n.acknowledged.load();
    }());
  }
  CHECK(published == batches);
  CHECK(merged == batches - 2);
  CHECK(acknowledged == published - merged);
  auto info = stream_info(cluster->urls(), "TICKS");
  REQUIRE_MESSAGE(info, (info ? "" : info.error()));
  CHECK(info->messages == 2);
  auto stored = read_stream(cluster->urls(), "TICKS", 2);
  REQUIRE_MESSAGE(stored, (stored ? "" : stored.error()));
  REQUIRE(stored->size() == 2);
  CHECK((*stored)[0].id == "src:1/trade/BTCUSDT/1-5");
  CHECK((*stored)[1].id == "src:1/trade/BTCUSDT/6-1000");
  std::vector<ticks::tick> rows;
  for (const stored_message& m : *stored) {
    auto read = ticks::arrow_ipc::read_tick_stream(m.data);
    REQUIRE_MESSAGE(read, (read ? "" : read.error().message()));
    rows.insert(rows.end(), read->ticks.begin(), read->ticks.end());
  }
  REQUIRE(rows.size() == batches * per_batch);
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i] == ticks::tick(trade_of("BTCUSDT", static_cast<std::int64_t>(i) + 1)));
  // The merged message: 199 record batches as they were published, or one when compacted; with
  // zstd, its body compressed, in under half the bytes of the same batch uncompressed.
  const auto split = ticks::arrow_ipc::testing::split((*stored)[1].data);
  CHECK(split.end_of_stream);
  REQUIRE(split.frames.size() == (compression ? 2u : 200u));
  const auto* rb = split.frames[1].root->GetPointer<const flatbuffers::Table*>(ticks::arrow_ipc::testing::slot(2));
  REQUIRE(rb != nullptr);
  const bool compressed = rb->GetPointer<const flatbuffers::Table*>(ticks::arrow_ipc::testing::slot(3)) != nullptr;
  CHECK(compressed == (compression == ticks::arrow_ipc::body_compression::zstd));
  if (compressed) {
    std::vector<std::byte> plain = (*stored)[1].data;
    app::compact_tick_message(plain, ticks::arrow_ipc::body_compression::none);
    CHECK((*stored)[1].data.size() * 2 < plain.size());
  }
  close_library();
}

TEST_CASE("jetstream_publisher: what waits behind a subject's message goes out merged, in order, every row once") {
  merged_in_order(std::nullopt);
}

TEST_CASE("jetstream_publisher: --nats-compression zstd compacts a merged message into one compressed batch") {
  merged_in_order(ticks::arrow_ipc::body_compression::zstd);
}

TEST_CASE("bus_resume: each stream's last message of this source; hostile ids refused, not guessed") {
  using app::last_stored_message;
  const auto positions = [](std::vector<last_stored_message> last) { return app::bus_positions_of(last, "src:1"); };
  // Ours, another source's, and what is passed over (bookTicker, outside ticks.<kind>.<SYMBOL>).
  auto good = positions({{"ticks.trade.BTCUSDT", 7, "src:1/trade/BTCUSDT/100-140"},
                         {"ticks.aggTrade.ETHUSDT", 9, "src:1/aggTrade/ETHUSDT/5-5"},
                         {"ticks.trade.XRPUSDT", 8, "src:2/trade/XRPUSDT/1-3"},
                         {"ticks.bookTicker.BTCUSDT", 3, ""},
                         {"ticks.junk", 4, "garbage"},
                         {"other.trade.BTCUSDT", 5, ""}});
  REQUIRE_MESSAGE(good, (good ? "" : good.error()));
  CHECK(good->subjects == 6);
  CHECK(good->other_sources == 1);
  REQUIRE(good->streams.size() == 2);
  CHECK(good->streams[0].key == ticks::stream_key{ticks::message_kind::trade, ticks::symbol::parse("BTCUSDT").unwrap()});
  CHECK(good->streams[0].first_id == 100);
  CHECK(good->streams[0].last_id == 140);
  CHECK(good->streams[1].key ==
        ticks::stream_key{ticks::message_kind::agg_trade, ticks::symbol::parse("ETHUSDT").unwrap()});
  CHECK(good->streams[1].last_id == 5);
  // A sequenced subject whose last message does not say where it ends: an error naming it.
  for (const char* id : {"", "src:1", "src:1/trade/BTCUSDT", "src:1/trade/BTCUSDT/", "src:1/trade/BTCUSDT/5",
                         "src:1/trade/BTCUSDT/9-5", "src:1/trade/BTCUSDT/-5", "src:1/trade/BTCUSDT/1-x",
                         "src:1/trade/BTCUSDT/1-99999999999999999999", "src:1/trade/btc usdt/1-2",
                         "src:1/trades/BTCUSDT/1-2", "/trade/BTCUSDT/1-2", "src:1/trade/BTCUSDT/1-2/3"}) {
    auto bad = positions({{"ticks.trade.BTCUSDT", 11, id}});
    REQUIRE_MESSAGE(!bad, id);
    CHECK(bad.error().find("ticks.trade.BTCUSDT (stream sequence 11)") != std::string::npos);
  }
  // Ours, but naming another stream than its subject.
  for (const char* id : {"src:1/aggTrade/BTCUSDT/1-2", "src:1/trade/ETHUSDT/1-2"}) {
    auto bad = positions({{"ticks.trade.BTCUSDT", 12, id}});
    REQUIRE_MESSAGE(!bad, id);
    CHECK(bad.error().find("names another stream") != std::string::npos);
  }
}

TEST_CASE("bus_resume: read from a real stream after jetstream_sink published") {
  auto cluster = nats_cluster::start(1);
  REQUIRE_MESSAGE(cluster, (cluster ? "" : cluster.error()));
  {
    pw::runtime rt(pw::runtime_options{.workers = 2});
    collected_log log;
    rt.block_on([&]() -> pw::task<void> {
      app::bus_options o = options_for(*cluster);
      o.replicas = 1;
      auto connecting = connect(std::move(o), log.fn());
      auto pub = co_await std::move(connecting);
      REQUIRE_MESSAGE(pub, (pub ? "" : pub.error()));
      {
        // Nothing stored yet: nothing to resume from.
        auto reading = app::read_bus_positions(**pub, "feed:1", pw::cancellation_token{});
        auto none = co_await std::move(reading);
        REQUIRE_MESSAGE(none, (none ? "" : none.error()));
        CHECK(none->streams.empty());
        CHECK(none->subjects == 0);
      }
      kept_ticks after;
      app::jetstream_sink ours(**pub, "feed:1", 20s, &after);
      app::jetstream_sink theirs(**pub, "feed:2", 20s, &after);
      std::vector<ticks::tick> first, second, other;
      for (int i = 0; i < 6; ++i) first.push_back(trade_of(i % 2 ? "ETHUSDT" : "BTCUSDT", 100 + i));
      for (int i = 6; i < 9; ++i) second.push_back(trade_of("BTCUSDT", 100 + i));
      other.push_back(trade_of("XRPUSDT", 42));
      for (auto* batch : {&first, &second}) REQUIRE(co_await ours.write(*batch));
      REQUIRE(co_await theirs.write(other));
      REQUIRE(co_await ours.flush());
      REQUIRE(co_await theirs.flush());
      auto reading = app::read_bus_positions(**pub, "feed:1", pw::cancellation_token{});
      auto read = co_await std::move(reading);
      REQUIRE_MESSAGE(read, (read ? "" : read.error()));
      CHECK(read->subjects == 3);
      CHECK(read->other_sources == 1);
      std::map<std::string, std::int64_t> last;
      for (const app::committed_stream& s : read->streams) last[std::string(s.key.symbol.view())] = s.last_id;
      CHECK(last == std::map<std::string, std::int64_t>{{"BTCUSDT", 108}, {"ETHUSDT", 105}});
    }());
  }
  close_library();
}
