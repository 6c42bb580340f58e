// Strict flag parsing for polarway-feed, polarway-ingest and polarway-replay: hostile argv gets a
// cli_error that names the flag, never a default; ws:// URL parsing.
#include <doctest/doctest.h>

#include <initializer_list>
#include <iterator>
#include <optional>
#include <vector>

#include "bus_sink.hpp"
#include "feed_server.hpp"
#include "ingest.hpp"
#include "replay_cli.hpp"
#include "ws_url.hpp"

namespace app = ticks::app;

namespace {
std::vector<const char*> argv_of(std::initializer_list<const char*> a) { return std::vector<const char*>(a); }

std::string feed_error(std::initializer_list<const char*> a) {
  auto v = argv_of(a);
  auto r = app::parse_feed_args(v);
  return r ? std::string() : r.error().message;
}
std::string replay_error(std::initializer_list<const char*> a) {
  auto v = argv_of(a);
  auto r = app::parse_replay_args(v);
  return r ? std::string() : r.error().message;
}
std::string ingest_error(std::initializer_list<const char*> a) {
  auto v = argv_of(a);
  auto r = app::parse_ingest_args(v);
  return r ? std::string() : r.error().message;
}
}  // namespace

TEST_CASE("feed flags: valid forms") {
  auto v = argv_of({"--listen", "127.0.0.1:0", "--symbols=20", "--kind", "bookTicker", "--rate", "100000/s", "--count",
                    "5", "--seed", "7", "--with-send-time", "--handshake-timeout", "0.2", "--pace-us", "250",
                    "--session-max-s", "1.5"});
  auto c = app::parse_feed_args(v);
  REQUIRE(c);
  CHECK(c->symbols == 20);
  CHECK(c->kind == ticks::message_kind::book_ticker);
  CHECK(c->rate == 100000);
  CHECK(c->count == 5);
  CHECK(c->seed == 7);
  CHECK(c->with_send_time);
  CHECK(c->handshake_timeout_ms == 200);
  CHECK(c->pace_us == 250);
  CHECK(c->session_max_ms == 1500);
  auto empty = argv_of({});
  auto defaults = app::parse_feed_args(empty);
  REQUIRE(defaults);
  CHECK(defaults->pace_us == 100);
  CHECK(defaults->session_max_ms == 0);  // sessions never end
}

TEST_CASE("feed flags: hostile argv") {
  CHECK(feed_error({"--bogus"}).find("--bogus: unknown option") != std::string::npos);
  CHECK(feed_error({"--symbols"}).find("needs a value") != std::string::npos);
  CHECK(feed_error({"--symbols", "0"}).find("--symbols") != std::string::npos);
  CHECK(feed_error({"--symbols", "10001"}).find("from 1 to 10000") != std::string::npos);
  CHECK(!feed_error({"--symbols", "-1"}).empty());
  CHECK(!feed_error({"--symbols", "+1"}).empty());
  CHECK(!feed_error({"--symbols", " 1"}).empty());
  CHECK(!feed_error({"--symbols", "1x"}).empty());
  CHECK(!feed_error({"--symbols", "0x10"}).empty());
  CHECK(!feed_error({"--symbols", ""}).empty());
  CHECK(!feed_error({"--count", "99999999999999999999999"}).empty());
  CHECK(!feed_error({"--rate", "10/min"}).empty());
  CHECK(!feed_error({"--kind", "trades"}).empty());
  CHECK(!feed_error({"--listen", "localhost"}).empty());
  CHECK(!feed_error({"--listen", "1.2.3.4:99999"}).empty());
  CHECK(feed_error({"--metrics", "localhost"}).find("--metrics") != std::string::npos);
  CHECK(feed_error({"--metrics"}).find("--metrics") != std::string::npos);
  {
    auto metrics = argv_of({"--metrics", "[::1]:0"});
    auto mc = app::parse_feed_args(metrics);
    REQUIRE(mc);
    CHECK(mc->metrics_listen == "[::1]:0");
    CHECK(mc->flight_recorder == 0);  // off by default
  }
  {
    auto recorded = argv_of({"--flight-recorder", "65536"});
    auto rc = app::parse_feed_args(recorded);
    REQUIRE(rc);
    CHECK(rc->flight_recorder == 65536);
  }
  CHECK(feed_error({"--flight-recorder", "0"}).find("--flight-recorder") != std::string::npos);
  CHECK(feed_error({"--flight-recorder", "16777217"}).find("--flight-recorder") != std::string::npos);
  CHECK(feed_error({"--flight-recorder", "-1"}).find("--flight-recorder") != std::string::npos);
  CHECK(!feed_error({"--with-send-time=yes"}).empty());
  CHECK(!feed_error({"positional"}).empty());
  CHECK(!feed_error({"-x"}).empty());
  CHECK(!feed_error({"--handshake-timeout", "0"}).empty());
  CHECK(!feed_error({"--handshake-timeout", "1.2345"}).empty());
  CHECK(!feed_error({"--handshake-timeout", "."}).empty());
  CHECK(!feed_error({"--batch-bytes", "1"}).empty());
  CHECK(feed_error({"--pace-us", "9"}).find("--pace-us") != std::string::npos);  // below 10
  CHECK(!feed_error({"--pace-us", "100001"}).empty());
  CHECK(!feed_error({"--pace-us", "1e3"}).empty());
  CHECK(!feed_error({"--pace-us"}).empty());
  CHECK(feed_error({"--session-max-s", "0"}).find("--session-max-s") != std::string::npos);
  CHECK(!feed_error({"--session-max-s", "604801"}).empty());  // over a week
  CHECK(!feed_error({"--session-max-s", "-1"}).empty());
  CHECK(!feed_error({"--session-max-s", "1h"}).empty());
  auto stalls = argv_of({"--stall-ms", "250", "--stall-every", "1000"});
  auto st = app::parse_feed_args(stalls);
  REQUIRE(st);
  CHECK(st->stall_ms == 250);
  CHECK(st->stall_every == 1000);
  auto none = argv_of({});
  CHECK(app::parse_feed_args(none)->stall_ms == 0);  // never
  CHECK(feed_error({"--stall-every", "1000"}).find("--stall-ms") != std::string::npos);
  CHECK(feed_error({"--stall-ms", "0"}).find("--stall-ms") != std::string::npos);
  CHECK(!feed_error({"--stall-ms", "3600001"}).empty());
  CHECK(!feed_error({"--stall-ms", "10", "--stall-every", "0"}).empty());
  auto limited = argv_of({"--rest-limit", "20"});
  CHECK(app::parse_feed_args(limited)->rest_limit_per_s == 20);
  CHECK(app::parse_feed_args(none)->rest_limit_per_s == 0);  // no limit
  CHECK(feed_error({"--rest-limit", "0"}).find("--rest-limit") != std::string::npos);
  CHECK(!feed_error({"--rest-limit", "1000001"}).empty());
  CHECK(!feed_error({"--rest-limit", "-5"}).empty());
  CHECK(!feed_error({"--rest-limit"}).empty());
  auto help = argv_of({"--help"});
  auto h = app::parse_feed_args(help);
  REQUIRE(!h);
  CHECK(h.error().help);
}

TEST_CASE("replay flags: the recording, its own flags and the feed's that apply") {
  auto v = argv_of({"out", "--listen", "127.0.0.1:0", "--speed", "2.5", "--from", "2024-11-22T10:00:00.0005Z", "--to",
                    "1732273200000", "--symbol", "BTCUSDT", "--symbol", "ETHUSDT", "--count", "7", "--with-send-time",
                    "--quiet", "--pace-us=50", "--ping-every", "0"});
  auto c = app::parse_replay_args(v);
  REQUIRE(c);
  CHECK(c->source.dir == "out");
  CHECK(c->feed.speed == 2.5);
  CHECK(c->source.filter.from_ms == 1732269600001);  // rounded up: a row at ...000 ms is before it
  CHECK(c->source.filter.to_ms == 1732273200000);
  CHECK(c->source.filter.symbols == std::vector<std::string>{"BTCUSDT", "ETHUSDT"});
  CHECK(c->feed.listen == "127.0.0.1:0");
  CHECK(c->feed.count == 7);
  CHECK(c->feed.with_send_time);
  CHECK(c->feed.quiet);
  CHECK(c->feed.pace_us == 50);
  CHECK(c->feed.ping_every_ms == 0);
  auto bare = argv_of({"out"});
  auto d = app::parse_replay_args(bare);
  REQUIRE(d);
  CHECK(d->feed.speed == 0);  // flat out
  CHECK(d->feed.listen == "127.0.0.1:9443");

  CHECK(replay_error({}).find("the first argument is the recording") != std::string::npos);
  CHECK(replay_error({"--speed", "2"}).find("the first argument is the recording") != std::string::npos);
  CHECK(replay_error({"out", "--speed", "0"}).find("--speed") != std::string::npos);
  CHECK(replay_error({"out", "--speed", "-1"}).find("--speed") != std::string::npos);
  CHECK(replay_error({"out", "--speed", "1.0001"}).find("--speed") != std::string::npos);
  CHECK(replay_error({"out", "--speed", "1000001"}).find("--speed") != std::string::npos);
  CHECK(replay_error({"out", "--from", "yesterday"}).find("--from") != std::string::npos);
  CHECK(replay_error({"out", "--from", "2024-01-02", "--to", "2024-01-01"}).find("before --to") != std::string::npos);
  CHECK(replay_error({"out", "--symbol", "btc/usdt"}).find("--symbol") != std::string::npos);
  CHECK(replay_error({"out", "--rate", "100"}).find("does not apply to a replay") != std::string::npos);
  CHECK(replay_error({"out", "--kind", "trade"}).find("does not apply to a replay") != std::string::npos);
  CHECK(replay_error({"out", "--rest-limit", "5"}).find("does not apply to a replay") != std::string::npos);
  CHECK(replay_error({"out", "--pace-us", "100"}).find("only with --speed") != std::string::npos);
  CHECK(replay_error({"out", "--listen", "1.2.3.4:99999"}).find("--listen") != std::string::npos);
  CHECK(replay_error({"out", "--bogus"}).find("--bogus: unknown option") != std::string::npos);
  CHECK(replay_error({"out", "--quiet=1"}).find("--quiet") != std::string::npos);
  CHECK(replay_error({"out", "extra"}).find("extra") != std::string::npos);
}

TEST_CASE("ingest flags: valid and hostile") {
  auto v = argv_of({"--connect", "ws://127.0.0.1:9443/stream?streams=btcusdt@trade", "--connect=ws://[::1]:80/ws/a@trade",
                    "--channel-capacity", "16", "--duration", "1.5", "--expect", "10", "--once", "--sink-delay-us", "3",
                    "--busy-poll-us", "250", "--workers", "1", "--flight-recorder", "4096"});
  auto c = app::parse_ingest_args(v);
  REQUIRE(c);
  CHECK(c->flight_recorder == 4096);
  CHECK(c->connect.size() == 2);
  CHECK(c->connect[0].connect_addr == "127.0.0.1:9443");
  CHECK(c->connect[0].target == "/stream?streams=btcusdt@trade");
  CHECK(c->duration_ms == 1500);
  CHECK(c->channel_capacity == 16);
  CHECK(c->busy_poll_us == 250);
  CHECK(c->workers == 1);
  CHECK(c->once);
  CHECK(ingest_error({}).find("--connect") != std::string::npos);  // nothing to read from
  CHECK(!ingest_error({"--connect", "http://x:1/"}).empty());
  CHECK(!ingest_error({"--connect", "wss//127.0.0.1:1/"}).empty());
  CHECK(!ingest_error({"--connect", "ws://exa mple.com:1/"}).empty());
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--tls-ca", "ca.pem"}).find("--tls-ca") != std::string::npos);
  CHECK(ingest_error({"--connect", "wss://127.0.0.1:1/", "--tls-ca", ""}).find("--tls-ca") != std::string::npos);
  CHECK(!ingest_error({"--connect", "ws://127.0.0.1:1/a b"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--channel-capacity", "0"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--duration", "-1"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--duration", "1e3"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--expect", "0"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--max-message-size", "1"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--backoff-initial", "10", "--backoff-max", "1"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--once=1"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--wat"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--busy-poll-us", "1000001"}).empty());  // above 1 s
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--busy-poll-us", "-1"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--flight-recorder", "0"}).empty());         // off is the default
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--flight-recorder", "16777217"}).empty());  // above 16 Mi
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--flight-recorder", "x"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--workers", "0"}).empty());
  CHECK(!ingest_error({"--listen", "0.0.0.0:1", "--workers", "1025"}).empty());
  // --metrics: an address, as --listen's.
  auto metrics = argv_of({"--connect", "ws://127.0.0.1:1/", "--metrics", "127.0.0.1:0"});
  auto mc = app::parse_ingest_args(metrics);
  REQUIRE(mc);
  CHECK(mc->metrics_listen == "127.0.0.1:0");
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--metrics", "localhost"}).find("--metrics") != std::string::npos);
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--metrics", "1.2.3.4:99999"}).find("--metrics") !=
        std::string::npos);
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--metrics"}).find("--metrics") != std::string::npos);
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--metrics", ""}).find("--metrics") != std::string::npos);
  // --rotate-before: with --backfill (which drops the overlap), shorter than the session limit.
  auto rotating = argv_of({"--connect", "ws://127.0.0.1:1/", "--backfill", "--rotate-before", "0.5", "--session-max-s", "2"});
  auto rc = app::parse_ingest_args(rotating);
  REQUIRE(rc);
  CHECK(rc->rotate_before_ms == 500);
  CHECK(rc->session_max_ms == 2000);
  auto plain = argv_of({"--connect", "ws://127.0.0.1:1/"});
  auto pc = app::parse_ingest_args(plain);
  REQUIRE(pc);
  CHECK(pc->rotate_before_ms == 0);
  CHECK(pc->session_max_ms == 24 * 3600 * 1000);  // Binance's
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--rotate-before", "60"}).find("--backfill") != std::string::npos);
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--backfill", "--rotate-before", "60", "--once"}).find("--once") !=
        std::string::npos);
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--backfill", "--rotate-before", "2", "--session-max-s", "2"})
            .find("shorter") != std::string::npos);
  CHECK(ingest_error({"--connect", "ws://127.0.0.1:1/", "--backfill", "--session-max-s", "2"}).find("--rotate-before") !=
        std::string::npos);
  CHECK(!ingest_error({"--connect", "ws://127.0.0.1:1/", "--backfill", "--rotate-before", "0"}).empty());
}

TEST_CASE("ingest flags: Parquet output") {
  auto none = argv_of({"--listen", "127.0.0.1:0"});
  auto d = app::parse_ingest_args(none);
  REQUIRE(d);
  CHECK(d->parquet.dir.empty());  // without --out: the counting sink only
  CHECK(d->parquet.codec == pw_parquet::compression::snappy);

  auto v = argv_of({"--listen", "127.0.0.1:0", "--out", "data/ticks", "--codec=zstd", "--row-group-rows", "1000",
                    "--file-rows", "5000", "--max-open-files", "200"});
  auto c = app::parse_ingest_args(v);
  REQUIRE(c);
  CHECK(c->parquet.dir == "data/ticks");
  CHECK(c->parquet.codec == pw_parquet::compression::zstd);
  CHECK(c->parquet.rows_per_row_group == 1000);
  CHECK(c->parquet.max_rows_per_file == 5000);
  CHECK(c->parquet.max_open_files == 200);
  for (const char* codec : {"none", "uncompressed"}) {
    auto u = argv_of({"--listen", "127.0.0.1:0", "--out", "x", "--codec", codec});
    auto r = app::parse_ingest_args(u);
    REQUIRE(r);
    CHECK(r->parquet.codec == pw_parquet::compression::uncompressed);
  }

  const char* l[] = {"--listen", "127.0.0.1:0"};
  const auto err = [&](std::initializer_list<const char*> extra) {
    std::vector<const char*> a(std::begin(l), std::end(l));
    a.insert(a.end(), extra.begin(), extra.end());
    auto r = app::parse_ingest_args(a);
    return r ? std::string() : r.error().message;
  };
  CHECK(err({"--codec", "lz4", "--out", "x"}).find("--codec: 'lz4' is not snappy, zstd or none") != std::string::npos);
  CHECK(!err({"--out", "x", "--codec", "SNAPPY"}).empty());
  CHECK(!err({"--out", "x", "--codec", ""}).empty());
  CHECK(!err({"--out", "x", "--codec", "snappy "}).empty());
  CHECK(err({"--out", "x", "--codec"}).find("needs a value") != std::string::npos);
  CHECK(err({"--out", ""}).find("--out: needs a directory name") != std::string::npos);
  CHECK(err({"--out="}).find("--out") != std::string::npos);
  CHECK(err({"--out"}).find("needs a value") != std::string::npos);
  CHECK(err({"--out", "x", "--row-group-rows", "0"}).find("--row-group-rows") != std::string::npos);
  CHECK(!err({"--out", "x", "--row-group-rows", "16777217"}).empty());
  CHECK(!err({"--out", "x", "--row-group-rows", "-5"}).empty());
  CHECK(!err({"--out", "x", "--file-rows", "1e6"}).empty());
  CHECK(!err({"--out", "x", "--file-rows", "99999999999999999999999"}).empty());
  CHECK(err({"--out", "x", "--max-open-files", "0"}).find("--max-open-files") != std::string::npos);
  CHECK(!err({"--out", "x", "--max-open-files", "10001"}).empty());
  // The knobs mean nothing without --out: refused, naming the first one given.
  CHECK(err({"--codec", "zstd"}).find("--codec: only with --out DIR") != std::string::npos);
  CHECK(err({"--file-rows", "10", "--codec", "zstd"}).find("--file-rows: only with --out") != std::string::npos);
}

TEST_CASE("ingest flags: --publish and its knobs") {
  auto v = argv_of({"--listen", "127.0.0.1:0", "--publish", "unix:/tmp/t.sock", "--publish-queue", "16",
                    "--publish-stall", "0.5", "--publish-max", "3", "--publish-wait", "2"});
  auto c = app::parse_ingest_args(v);
  REQUIRE(c);
  CHECK(c->publish.address == "unix:/tmp/t.sock");
  CHECK(c->publish.queue_batches == 16);
  CHECK(c->publish.stall_timeout_ms == 500);
  CHECK(c->publish.max_subscribers == 3);
  CHECK(c->publish.wait_for == 2);
  auto t = argv_of({"--listen", "127.0.0.1:0", "--publish", "tcp:127.0.0.1:0"});
  auto tc = app::parse_ingest_args(t);
  REQUIRE(tc);
  CHECK(tc->publish.address == "tcp:127.0.0.1:0");
  CHECK(tc->publish.wait_for == 0);

  CHECK(ingest_error({"--listen", "127.0.0.1:0", "--publish", "/tmp/t.sock"})
            .find("expected unix:PATH, tcp:HOST:PORT or nats://HOST:PORT") != std::string::npos);
  CHECK(ingest_error({"--listen", "127.0.0.1:0", "--publish", "unix:a", "--publish", "tcp:127.0.0.1:1"})
            .find("one unix: or tcp: address at most") != std::string::npos);
  CHECK(!ingest_error({"--listen", "127.0.0.1:0", "--publish", ""}).empty());
  CHECK(ingest_error({"--listen", "127.0.0.1:0", "--publish"}).find("needs a value") != std::string::npos);
  CHECK(!ingest_error({"--listen", "127.0.0.1:0", "--publish", "unix:x", "--publish-queue", "0"}).empty());
  CHECK(!ingest_error({"--listen", "127.0.0.1:0", "--publish", "unix:x", "--publish-max", "-1"}).empty());
  CHECK(!ingest_error({"--listen", "127.0.0.1:0", "--publish", "unix:x", "--publish-stall", "soon"}).empty());
  // The knobs mean nothing without --publish: refused, naming the first one given.
  CHECK(ingest_error({"--listen", "127.0.0.1:0", "--publish-wait", "1", "--publish-queue", "2"})
            .find("--publish-wait: only with --publish unix:PATH or tcp:HOST:PORT") != std::string::npos);
  // A bus publish does not make the subscribers' knobs meaningful.
  CHECK(ingest_error({"--listen", "127.0.0.1:0", "--publish", "nats://127.0.0.1:4222", "--publish-wait", "1"})
            .find("--publish-wait: only with --publish unix:PATH or tcp:HOST:PORT") != std::string::npos);
}

TEST_CASE("ingest flags: --publish nats:// and the bus's knobs") {
  auto v = argv_of({"--connect", "ws://feed.example:9443/ws/btcusdt@trade", "--publish", "unix:/tmp/t.sock", "--publish",
                    "nats://127.0.0.1:4222,nats://127.0.0.1:4223", "--nats-stream", "TICKS_2", "--nats-replicas", "1",
                    "--nats-window", "8", "--nats-compression", "zstd"});
  auto c = app::parse_ingest_args(v);
  REQUIRE(c);
  CHECK(c->bus_compression == ticks::arrow_ipc::body_compression::zstd);
  CHECK(c->publish.address == "unix:/tmp/t.sock");  // both feeds at once
  CHECK(c->bus.servers == "nats://127.0.0.1:4222,nats://127.0.0.1:4223");
  CHECK(c->bus.stream == "TICKS_2");
  CHECK(c->bus.replicas == 1);
  CHECK(c->bus.window == 8);
  CHECK(c->bus_source == "feed.example:9443");  // the first feed, by default
  auto d = argv_of({"--listen", "127.0.0.1:9500", "--publish", "nats://h:1", "--nats-source", "eu-1"});
  auto dc = app::parse_ingest_args(d);
  REQUIRE(dc);
  CHECK(dc->bus.stream == "TICKS");
  CHECK(dc->bus.replicas == 3);
  CHECK(dc->bus_compression == ticks::arrow_ipc::body_compression::none);
  CHECK(dc->bus_source == "eu-1");
  auto l = argv_of({"--listen", "127.0.0.1:9500", "--publish", "nats://h:1"});
  auto lc = app::parse_ingest_args(l);
  REQUIRE(lc);
  CHECK(lc->bus_source == "listen-127.0.0.1:9500");

  const auto refused = [](std::initializer_list<const char*> args, const char* why) {
    const std::string e = ingest_error(args);
    CHECK_MESSAGE(e.find(why) != std::string::npos, e);
  };
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h"}, "expected nats://HOST:PORT");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:0"}, "from 1 to 65535");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1,tcp://g:2"}, "expected nats://HOST:PORT");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--publish", "nats://g:1"}, "one nats:// bus at most");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--nats-stream", "A.B"}, "--nats-stream:");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--nats-replicas", "6"}, "--nats-replicas");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--nats-window", "0"}, "--nats-window");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--nats-source", "a/b"}, "--nats-source:");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--nats-source", ""}, "--nats-source:");
  refused({"--listen", "127.0.0.1:0", "--publish", "nats://h:1", "--nats-compression", "lz4"},
          "--nats-compression: none or zstd, not 'lz4'");
  refused({"--listen", "127.0.0.1:0", "--publish", "unix:x", "--nats-compression", "zstd"},
          "--nats-compression: only with --publish nats://HOST:PORT");
  // --backfill resumes from one place: the bus or --out.
  refused({"--connect", "ws://127.0.0.1:9000/ws/btcusdt@trade", "--publish", "nats://h:1", "--backfill", "--out", "/tmp/o"},
          "--backfill: with --out or with --publish nats://, not both");
  auto b = argv_of({"--connect", "ws://127.0.0.1:9000/ws/btcusdt@trade", "--publish", "nats://h:1", "--backfill"});
  CHECK(app::parse_ingest_args(b));
  // The knobs mean nothing without a bus: refused, naming the first one given.
  refused({"--listen", "127.0.0.1:0", "--publish", "unix:x", "--nats-replicas", "1", "--nats-stream", "S"},
          "--nats-replicas: only with --publish nats://HOST:PORT");
}

TEST_CASE("sink flags: what polarway-sink takes and refuses") {
  auto v = argv_of({"--from", "nats://127.0.0.1:4222", "--consumer", "sink-a", "--out", "/tmp/o", "--partition", "1/3",
                    "--commit-interval", "2", "--ack-wait", "30", "--max-pending", "1000", "--idle-exit", "5",
                    "--codec", "zstd", "--nats-stream", "T2"});
  auto c = app::parse_bus_sink_args(v);
  REQUIRE(c);
  CHECK(c->bus.servers == "nats://127.0.0.1:4222");
  CHECK(c->bus.stream == "T2");
  CHECK(c->consumer.name == "sink-a");
  CHECK(c->parquet.dir == "/tmp/o");
  CHECK(c->parquet.codec == pw_parquet::compression::zstd);
  CHECK(c->parquet.origin_label == "nats:T2 partition 1/3");
  CHECK(c->partition == 1);
  CHECK(c->partitions == 3);
  CHECK(c->commit_interval_ms == 2000);
  CHECK(c->consumer.ack_wait_ms == 30000);
  CHECK(c->consumer.max_ack_pending == 1000);
  CHECK(c->idle_exit_ms == 5000);

  const auto refused = [](std::initializer_list<const char*> args, const char* why) {
    std::vector<const char*> a(args);
    auto r = app::parse_bus_sink_args(std::span<const char* const>(a.data(), a.size()));
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().message.find(why) != std::string::npos, r.error().message);
  };
  refused({"--consumer", "c", "--out", "o"}, "--from nats://HOST:PORT is required");
  refused({"--from", "nats://h:1", "--out", "o"}, "--consumer NAME is required");
  refused({"--from", "nats://h:1", "--consumer", "c"}, "--out DIR is required");
  refused({"--from", "ws://h:1", "--consumer", "c", "--out", "o"}, "--from:");
  refused({"--from", "nats://h:1", "--consumer", "a.b", "--out", "o"}, "--consumer:");
  for (const char* p : {"2/2", "1", "/2", "1/", "0/0", "a/2", "0/1025", "-1/2"})
    refused({"--from", "nats://h:1", "--consumer", "c", "--out", "o", "--partition", p}, "--partition");
  refused({"--from", "nats://h:1", "--consumer", "c", "--out", "o", "--commit-interval", "10", "--ack-wait", "20"},
          "--ack-wait: must be more than twice --commit-interval");
  refused({"--from", "nats://h:1", "--consumer", "c", "--out", "o", "--max-pending", "3"}, "--max-pending");
  refused({"--from", "nats://h:1", "--consumer", "c", "--out", "o", "--bogus"}, "--bogus");
  refused({"--from", "nats://h:1", "--consumer", "c", "--out", "o", "extra"}, "");
}

TEST_CASE("ws_url: schemes, hosts, default ports, targets") {
  auto u = app::ws_url::parse("ws://localhost:9000");
  REQUIRE(u);
  CHECK(!u->tls);
  CHECK(u->target == "/");
  CHECK(u->host == "localhost");
  CHECK(u->port == 9000);
  CHECK(u->host_header == "localhost:9000");
  auto q = app::ws_url::parse("ws://127.0.0.1?x");
  REQUIRE(q);
  CHECK(q->connect_addr == "127.0.0.1:80");
  CHECK(q->target == "/?x");
  auto s = app::ws_url::parse("wss://stream.binance.com/stream?streams=btcusdt@trade/ethusdt@trade");
  REQUIRE(s);
  CHECK(s->tls);
  CHECK(s->host == "stream.binance.com");
  CHECK(s->port == 443);
  CHECK(s->connect_addr == "stream.binance.com:443");
  CHECK(s->host_header == "stream.binance.com");
  CHECK(s->target == "/stream?streams=btcusdt@trade/ethusdt@trade");
  CHECK(s->to_string() == "wss://stream.binance.com:443/stream?streams=btcusdt@trade/ethusdt@trade");
  auto v6 = app::ws_url::parse("WSS://[::1]:9443/ws/btcusdt@trade");
  REQUIRE(v6);
  CHECK(v6->tls);
  CHECK(v6->host == "::1");
  CHECK(v6->connect_addr == "[::1]:9443");
  auto v6d = app::ws_url::parse("ws://[::1]");
  REQUIRE(v6d);
  CHECK(v6d->connect_addr == "[::1]:80");
  auto named = app::ws_url::parse("wss://feed-1.example.org.:65535");
  REQUIRE(named);
  CHECK(named->port == 65535);
}

TEST_CASE("ws_url: hostile input gets a typed error") {
  const auto code = [](std::string_view text) -> std::optional<app::ws_url_errc> {
    auto u = app::ws_url::parse(text);
    if (u) return std::nullopt;
    CHECK(!u.error().message().empty());
    return u.error().code;
  };
  using e = app::ws_url_errc;
  CHECK(code("http://127.0.0.1/") == e::unknown_scheme);
  CHECK(code("wss:/127.0.0.1/") == e::unknown_scheme);
  CHECK(code("") == e::unknown_scheme);
  CHECK(code("://host") == e::unknown_scheme);
  CHECK(code("ws://") == e::empty_host);
  CHECK(code("ws://:80/") == e::empty_host);
  CHECK(code("wss://[]:80/") == e::empty_host);
  CHECK(code("ws://user:pw@host/") == e::user_info);
  CHECK(code("ws://host:/") == e::bad_port);
  CHECK(code("ws://host:0/") == e::bad_port);
  CHECK(code("ws://host:65536/") == e::bad_port);
  CHECK(code("ws://host:99999999999999999999/") == e::bad_port);
  CHECK(code("ws://host:-1/") == e::bad_port);
  CHECK(code("ws://host:8o/") == e::bad_port);
  CHECK(code("ws://host:80:81/") == e::bad_port);
  CHECK(code("ws://ex ample.com/") == e::bad_host);
  CHECK(code("ws://-bad.com/") == e::bad_host);
  CHECK(code("ws://bad-.com/") == e::bad_host);
  CHECK(code("ws://a..b/") == e::bad_host);
  CHECK(code("ws://caf\xc3\xa9.example/") == e::bad_host);
  CHECK(code(std::string_view("ws://a\0b/", 9)) == e::bad_host);
  CHECK(code("ws://" + std::string(64, 'a') + ".com/") == e::bad_host);  // a label over 63
  CHECK(code("ws://1.2.3.999/") == e::bad_host);
  CHECK(code("ws://1.2.3/") == e::bad_host);
  CHECK(code("ws://[::1/") == e::bad_host);
  CHECK(code("ws://[127.0.0.1]/") == e::bad_host);
  CHECK(code("ws://[::1]x/") == e::bad_host);
  CHECK(code("ws://host%2e.com/") == e::bad_host);
  CHECK(code("ws://host/a b") == e::bad_target);
  CHECK(code("ws://host/a\r\nX: y") == e::bad_target);
  CHECK(code("ws://host/#frag") == e::bad_target);
  CHECK(code("ws://host#frag") == e::bad_target);
  CHECK(code("ws://host/" + std::string(5000, 'a')) == e::too_long);
}
