// tick_publisher: what a subscriber receives for each request (a refusal, a silent client, a
// kind and symbols), heartbeats while idle, the end of the stream at shutdown, and each policy
// under a subscriber that does not read: block cuts it off after the stall time while another
// block subscriber gets every tick; lossy reports what it dropped and publish() never waits.
// A subscriber that goes away is dropped without disturbing the others.
#include <doctest/doctest.h>

#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "../../tests/arrow_ipc_frames.hpp"
#include "tick_publisher.hpp"

namespace pw = polarway;
namespace app = ticks::app;
namespace frames = ticks::arrow_ipc::testing;
using namespace std::chrono_literals;

namespace {

std::string socket_path(const char* name) {
  std::string p = "/tmp/pw-publisher-test-" + std::to_string(::getpid()) + "-" + name + ".sock";
  ::unlink(p.c_str());
  return p;
}

ticks::tick trade(const char* sym, std::int64_t id) {
  ticks::trade t;
  t.symbol = ticks::symbol::parse(sym).value();
  t.event_time_ms = 1'700'000'000'000 + id;
  t.trade_id = id;
  t.price = ticks::price::from_raw(100'000'000 + id);
  t.quantity = ticks::price::from_raw(1);
  t.trade_time_ms = t.event_time_ms;
  return t;
}

ticks::tick quote(const char* sym, std::int64_t id) {
  ticks::book_ticker q;
  q.symbol = ticks::symbol::parse(sym).value();
  q.update_id = id;
  return q;
}

// A batch as a connection decodes it: trades and quotes of two symbols mixed.
std::vector<ticks::tick> mixed_batch(std::int64_t first, int n) {
  std::vector<ticks::tick> b;
  for (int i = 0; i < n; ++i) {
    const std::int64_t id = first + i;
    b.push_back(i % 3 == 2 ? quote("ETHUSDT", id) : trade(i % 2 ? "BTCUSDT" : "ETHUSDT", id));
  }
  return b;
}

// A subscriber: its connection and everything it has read.
template <class Stream>
struct basic_client {
  Stream s;
  std::vector<std::byte> bytes;
  bool eof = false;

  frames::split_stream received() const { return frames::split(bytes); }
};
using client = basic_client<pw::net::unix_stream>;

// Connects to `where` (a Unix socket path, or HOST:PORT for TCP) and sends `request`.
template <class Stream = pw::net::unix_stream>
pw::task<basic_client<Stream>> subscribe(const std::string& where, std::string request) {
  auto s = co_await Stream::connect(where);
  REQUIRE(s);
  basic_client<Stream> c{std::move(*s), {}, false};
  if (!request.empty()) {
    auto w = co_await c.s.write_all(std::as_bytes(std::span(request.data(), request.size())));
    REQUIRE(w);
  }
  co_return c;
}

// Reads until `done(received)` holds or the stream ends; bounded so that a failure cannot hang.
template <class Client, class Pred>
pw::task<void> read_until(Client& c, Pred done) {
  std::array<std::byte, 65536> buf;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!c.eof && !done(c.received()) && std::chrono::steady_clock::now() < deadline) {
    auto r = co_await pw::timeout(1s, c.s.read(buf));
    if (!r) continue;
    if (!*r || **r == 0) {
      c.eof = true;
      break;
    }
    c.bytes.insert(c.bytes.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(**r));
  }
}

// Waits for a task spawned on `rt` from outside it.
void join(pw::runtime& rt, pw::join_handle<void>& h) {
  rt.block_on([](pw::join_handle<void>& h) -> pw::task<void> { (void)co_await h; }(h));
}

// Publishes `n` mixed batches of 256 ticks (171 trades each), as the sink task would; and, as
// the sink task's channel receive does, it suspends now and then: a publish that completes at
// once resumes this loop on the same stack, which unoptimized (sanitizer) builds do not unwind.
pw::task<void> publish_batches(app::tick_publisher& p, int n) {
  for (int i = 0; i < n; ++i) {
    const auto b = mixed_batch(i * 256, 256);
    co_await p.publish(b);
    if (i % 64 == 63) co_await pw::yield_now();
  }
}

std::int64_t data_rows(const frames::split_stream& s) {
  std::int64_t n = 0;
  for (const auto& f : s.frames)
    if (f.header_type == 3) n += f.rows;
  return n;
}

std::size_t count_with(const frames::split_stream& s, const char* key) {
  std::size_t n = 0;
  for (const auto& f : s.frames) n += f.metadata.count(key);
  return n;
}

struct fixture {
  pw::runtime rt{pw::runtime_options{.workers = 2}};
  std::unique_ptr<app::tick_publisher> pub;
  pw::option<pw::join_handle<void>> running;

  explicit fixture(app::publish_options o) {
    pub = rt.block_on([](app::publish_options o) -> pw::task<std::unique_ptr<app::tick_publisher>> {
      auto p = app::tick_publisher::bind(std::move(o));
      REQUIRE(p);
      co_return std::move(*p);
    }(std::move(o)));
    running.emplace(rt.spawn(pub->run()));
  }
  ~fixture() {
    rt.block_on([](app::tick_publisher& p, pw::join_handle<void>& r) -> pw::task<void> {
      co_await p.shutdown();
      (void)co_await r;
    }(*pub, *running));
  }
};

app::publish_options options(const std::string& path) {
  app::publish_options o;
  o.address = "unix:" + path;
  return o;
}

}  // namespace

TEST_CASE("a bad request, or none in time, gets a refusal stream and the connection closes") {
  auto o = options(socket_path("refusal"));
  o.request_timeout_ms = 200;
  fixture f(o);
  f.rt.block_on([](const std::string& path) -> pw::task<void> {
    for (const char* request : {"hello\n", "polarway-ticks/1 kind=depth\n", ""}) {
      client c = co_await subscribe(path, request);
      co_await read_until(c, [](const frames::split_stream& s) { return s.end_of_stream; });
      const auto s = c.received();
      REQUIRE(s.frames.size() == 1);
      CHECK(s.frames[0].header_type == 1);
      CHECK(s.end_of_stream);
      const auto meta = frames::schema_metadata(s.frames[0]);
      REQUIRE(meta.count("polarway.error") == 1);
      const std::string& why = meta.at("polarway.error");
      CHECK(why.find(*request == 'h' ? "does not start with" : *request ? "unknown kind depth" : "no request line within 200 ms") !=
            std::string::npos);
      co_await read_until(c, [](const frames::split_stream&) { return false; });
      CHECK(c.eof);
    }
  }(o.address.substr(5)));
  CHECK(f.pub->counters().refused.load() == 3);
}

TEST_CASE("a subscriber gets its kind and symbols only, heartbeats while idle, and the end at shutdown") {
  auto o = options(socket_path("filter"));
  o.heartbeat_ms = 30;
  fixture f(o);
  client c = f.rt.block_on(subscribe(o.address.substr(5), "polarway-ticks/1 kind=trade symbols=BTCUSDT\n"));
  // The subscription is registered once the schema arrives.
  f.rt.block_on(read_until(c, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  const auto batch = mixed_batch(0, 300);
  std::int64_t wanted = 0;
  for (const auto& t : batch) wanted += ticks::kind_of(t) == ticks::message_kind::trade && ticks::symbol_of(t).view() == "BTCUSDT";
  f.rt.block_on(f.pub->publish(batch));
  f.rt.block_on(read_until(c, [wanted](const frames::split_stream& s) { return data_rows(s) == wanted; }));
  // Idle: heartbeats, at least two of them.
  f.rt.block_on(read_until(c, [](const frames::split_stream& s) { return count_with(s, "polarway.heartbeat") >= 2; }));
  f.rt.block_on(f.pub->shutdown());
  f.rt.block_on(read_until(c, [](const frames::split_stream& s) { return s.end_of_stream; }));
  const auto s = c.received();
  REQUIRE(!s.frames.empty());
  const auto meta = frames::schema_metadata(s.frames[0]);
  CHECK(meta.at("polarway.kind") == "trade");
  CHECK(meta.at("polarway.policy") == "block");
  CHECK(data_rows(s) == wanted);
  CHECK(count_with(s, "polarway.heartbeat") >= 2);
  REQUIRE(s.end_of_stream);
  CHECK(s.frames.back().metadata.at("polarway.closed") == "ingest stopped");
  CHECK(f.pub->counters().ticks_sent.load() == static_cast<std::uint64_t>(wanted));
}

TEST_CASE("block: a subscriber that never reads is cut off after the stall time, another gets everything") {
  auto o = options(socket_path("block"));
  o.queue_batches = 4;
  o.stall_timeout_ms = 300;
  fixture f(o);
  const std::string path = o.address.substr(5);
  client idle = f.rt.block_on(subscribe(path, "polarway-ticks/1 kind=trade\n"));
  client reader = f.rt.block_on(subscribe(path, "polarway-ticks/1 kind=trade\n"));
  f.rt.block_on(read_until(reader, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  f.rt.block_on(read_until(idle, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  constexpr int batches = 400;
  std::int64_t trades = 0;
  for (const auto& t : mixed_batch(0, 256)) trades += ticks::kind_of(t) == ticks::message_kind::trade;
  auto reading = f.rt.spawn([](client& c, std::int64_t want) -> pw::task<void> {
    co_await read_until(c, [want](const frames::split_stream& s) { return data_rows(s) == want; });
  }(reader, trades * batches));
  const auto began = std::chrono::steady_clock::now();
  f.rt.block_on(publish_batches(*f.pub, batches));
  const auto took = std::chrono::steady_clock::now() - began;
  join(f.rt, reading);
  CHECK(data_rows(reader.received()) == trades * batches);
  CHECK(f.pub->counters().stalled.load() == 1);
  // One stall's wait, not one per batch.
  CHECK(took < 5s);
  // The idle one's connection ends (it was cut, possibly mid-message): no closing message.
  f.rt.block_on(read_until(idle, [](const frames::split_stream&) { return false; }));
  CHECK(idle.eof);
  CHECK(count_with(idle.received(), "polarway.closed") == 0);
}

TEST_CASE("lossy: publish never waits, and the subscriber learns how many batches it lost") {
  auto o = options(socket_path("lossy"));
  o.queue_batches = 8;
  fixture f(o);
  const std::string path = o.address.substr(5);
  client c = f.rt.block_on(subscribe(path, "polarway-ticks/1 kind=trade policy=lossy\n"));
  f.rt.block_on(read_until(c, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  constexpr int batches = 1000;
  // Far more than the socket buffers and the ring hold while nobody reads.
  f.rt.block_on(publish_batches(*f.pub, batches));
  // Now it reads, while the publisher shuts down (which waits for its stream to end).
  auto reading = f.rt.spawn([](client& c) -> pw::task<void> {
    co_await read_until(c, [](const frames::split_stream& s) { return s.end_of_stream; });
  }(c));
  f.rt.block_on(f.pub->shutdown());
  join(f.rt, reading);
  const auto s = c.received();
  REQUIRE(s.end_of_stream);
  std::uint64_t lost = 0;
  for (const auto& fr : s.frames)
    if (auto it = fr.metadata.find("polarway.lagged"); it != fr.metadata.end()) lost += std::stoull(it->second);
  CHECK(lost > 0);
  CHECK(lost == f.pub->counters().lagged_batches.load());
  // Every batch either arrived or was counted as lost: 171 trades in each.
  CHECK(static_cast<std::uint64_t>(data_rows(s)) + lost * 171 == static_cast<std::uint64_t>(batches) * 171);
  CHECK(f.pub->counters().stalled.load() == 0);
}

TEST_CASE("a subscriber that goes away is dropped, and the others carry on") {
  auto o = options(socket_path("gone"));
  o.queue_batches = 4;
  o.stall_timeout_ms = 60'000;  // a failure here would be a 60 s stall, not a cut
  fixture f(o);
  const std::string path = o.address.substr(5);
  client reader = f.rt.block_on(subscribe(path, "polarway-ticks/1 kind=trade\n"));
  {
    client leaver = f.rt.block_on(subscribe(path, "polarway-ticks/1 kind=trade\n"));
    f.rt.block_on(read_until(leaver, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  }
  f.rt.block_on(read_until(reader, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  constexpr int batches = 200;
  auto reading = f.rt.spawn([](client& c) -> pw::task<void> {
    co_await read_until(c, [](const frames::split_stream& s) { return data_rows(s) == 171 * batches; });
  }(reader));
  f.rt.block_on(publish_batches(*f.pub, batches));
  join(f.rt, reading);
  CHECK(data_rows(reader.received()) == 171 * batches);
  CHECK(f.pub->counters().gone.load() == 1);
  CHECK(f.pub->counters().stalled.load() == 0);
}

TEST_CASE("wait_for_subscribers returns once that many are subscribed, or false when stopped") {
  auto o = options(socket_path("wait"));
  fixture f(o);
  pw::cancellation_token stop;
  auto waiting = f.rt.spawn(f.pub->wait_for_subscribers(2, stop));
  client a = f.rt.block_on(subscribe(o.address.substr(5), "polarway-ticks/1 kind=trade\n"));
  f.rt.block_on(read_until(a, [](const frames::split_stream& s) { return !s.frames.empty(); }));
  CHECK_FALSE(waiting.is_finished());
  client b = f.rt.block_on(subscribe(o.address.substr(5), "polarway-ticks/1 kind=aggTrade policy=lossy\n"));
  CHECK(f.rt.block_on([](pw::join_handle<bool>& h) -> pw::task<bool> { co_return (co_await h).value(); }(waiting)));
  auto never = f.rt.spawn(f.pub->wait_for_subscribers(3, stop));
  stop.cancel();
  CHECK_FALSE(f.rt.block_on([](pw::join_handle<bool>& h) -> pw::task<bool> { co_return (co_await h).value(); }(never)));
}

TEST_CASE("over TCP: the bound port in the address, the schema and heartbeats") {
  app::publish_options o;
  o.address = "tcp:127.0.0.1:0";
  o.heartbeat_ms = 20;
  fixture f(o);
  const std::string& a = f.pub->address();
  REQUIRE(a.starts_with("tcp:127.0.0.1:"));
  CHECK(a != "tcp:127.0.0.1:0");
  auto c = f.rt.block_on(subscribe<pw::net::tcp_stream>(a.substr(4), "polarway-ticks/1 kind=bookTicker\n"));
  f.rt.block_on(read_until(c, [](const frames::split_stream& s) { return count_with(s, "polarway.heartbeat") >= 2; }));
  const auto s = c.received();
  REQUIRE(!s.frames.empty());
  CHECK(frames::schema_metadata(s.frames[0]).at("polarway.kind") == "bookTicker");
  CHECK(count_with(s, "polarway.heartbeat") >= 2);
}
