// The feed's REST history over real loopback sockets: the answer for an id range is exactly
// the stream's messages with those ids (across a snapshot boundary too), limit is respected,
// ids not produced yet are absent, every error is Binance's reply, keep-alive and pipelined
// requests are answered in order, hostile requests get an error or a closed connection
// while the listener keeps serving, and --rest-limit answers 429 with Retry-After beyond its
// rate.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <polarway/runtime.hpp>

#include "feed_server.hpp"
#include "market_test_support.hpp"
#include "rest_history.hpp"
#include "ticks/bytes.hpp"

namespace pw = polarway;
namespace app = ticks::app;
using namespace std::chrono_literals;

namespace {

struct http_reply {
  int status = 0;
  std::string head;
  std::string body;
};

// Reads one response (head + Content-Length body) from `s`, keeping bytes past it in `buffer`.
pw::task<pw::option<http_reply>> read_reply(pw::net::tcp_stream& s, std::string& buffer) {
  std::vector<std::byte> chunk(65536);
  for (;;) {
    if (const auto end = buffer.find("\r\n\r\n"); end != std::string::npos) {
      http_reply r;
      r.head = buffer.substr(0, end + 4);
      r.status = std::stoi(r.head.substr(9, 3));
      const auto cl = r.head.find("Content-Length: ");
      REQUIRE(cl != std::string::npos);
      const std::size_t len = std::stoul(r.head.substr(cl + 16));
      while (buffer.size() < end + 4 + len) {
        auto n = co_await s.read(chunk);
        if (!n || *n == 0) co_return pw::none;
        buffer.append(reinterpret_cast<const char*>(chunk.data()), *n);
      }
      r.body = buffer.substr(end + 4, len);
      buffer.erase(0, end + 4 + len);
      co_return r;
    }
    auto n = co_await s.read(chunk);
    if (!n || *n == 0) co_return pw::none;
    buffer.append(reinterpret_cast<const char*>(chunk.data()), *n);
  }
}

std::string get(std::string_view target, std::string_view extra = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: feed\r\n" + std::string(extra) + "\r\n";
}

// One request on a fresh connection.
pw::task<http_reply> fetch(pw::net::socket_addr addr, std::string request) {
  auto s = co_await pw::net::tcp_stream::connect(addr);
  REQUIRE(s);
  REQUIRE((co_await s->write_all(ticks::as_bytes(request))).is_ok());
  std::string buffer;
  auto r = co_await read_reply(*s, buffer);
  REQUIRE(r);
  co_return *r;
}

std::string price_text(ticks::price p) {
  char buf[ticks::price::max_chars + 8];
  return std::string(buf, p.to_chars(buf));
}

// The REST object the stream's tick must come back as.
std::string expected_json(const ticks::tick& t) {
  const auto b = [](bool v) { return v ? std::string("true") : std::string("false"); };
  if (const auto* a = std::get_if<ticks::agg_trade>(&t))
    return "{\"a\":" + std::to_string(a->agg_trade_id) + ",\"p\":\"" + price_text(a->price) + "\",\"q\":\"" +
           price_text(a->quantity) + "\",\"f\":" + std::to_string(a->first_trade_id) +
           ",\"l\":" + std::to_string(a->last_trade_id) + ",\"T\":" + std::to_string(a->trade_time_ms) +
           ",\"m\":" + b(a->buyer_is_maker) + ",\"M\":true}";
  const auto& tr = std::get<ticks::trade>(t);
  const auto quote = static_cast<__int128>(tr.price.raw) * tr.quantity.raw;
  const auto q = ticks::price::from_raw(static_cast<std::int64_t>((quote + 50'000'000) / 100'000'000));
  return "{\"id\":" + std::to_string(tr.trade_id) + ",\"price\":\"" + price_text(tr.price) + "\",\"qty\":\"" +
         price_text(tr.quantity) + "\",\"quoteQty\":\"" + price_text(q) + "\",\"time\":" +
         std::to_string(tr.trade_time_ms) + ",\"isBuyerMaker\":" + b(tr.buyer_is_maker) + ",\"isBestMatch\":true}";
}

// The JSON array the stream's ticks of one kind with ids [from, from + n) must come back as.
std::string expected_array(const std::map<std::int64_t, ticks::tick>& by_id, std::int64_t from, std::size_t n) {
  std::string out = "[";
  for (auto it = by_id.lower_bound(from); it != by_id.end() && n > 0; ++it, --n) {
    if (out.size() > 1) out += ',';
    out += expected_json(it->second);
  }
  return out + "]";
}

std::size_t objects(const std::string& body) {
  std::size_t n = 0;
  for (char c : body) n += c == '{';
  return n;
}

app::feed_config rest_config() {
  app::feed_config fc;
  fc.listen = "127.0.0.1:0";
  fc.quiet = true;
  fc.symbols = 2;
  fc.seed = 21;
  fc.rate = 200'000;
  fc.count = 100'000;  // past the first snapshot boundary (2^16)
  fc.handshake_timeout_ms = 2000;
  fc.api_key = "k3y";
  return fc;
}

}  // namespace

TEST_CASE("rest: history is the stream's messages, byte for byte; limit and the head respected") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(rest_config(), [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    // Before any WebSocket client the market has not started: nothing to answer yet.
    CHECK((co_await fetch(addr, get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=0"))).body == "[]");
    auto all = co_await app::test::read_stream(addr, "/stream?streams=btcusdt@aggTrade/btcusdt@trade");
    REQUIRE(all);
    REQUIRE(all->close_code == ticks::ws::close_code::normal);
    std::map<std::int64_t, ticks::tick> aggs, trades;
    std::int64_t agg_at_boundary = 0;
    for (const auto& t : all->ticks) {
      const bool agg = ticks::kind_of(t) == ticks::message_kind::agg_trade;
      (agg ? aggs : trades).emplace(app::test::id_of(t), t);
      if (agg && agg_at_boundary == 0 && app::test::market_index(t) >= app::market::snapshot_interval)
        agg_at_boundary = app::test::id_of(t);
    }
    REQUIRE(aggs.size() > 2000);
    REQUIRE(agg_at_boundary != 0);
    const std::int64_t first_agg = aggs.begin()->first;
    const std::int64_t last_agg = aggs.rbegin()->first;

    for (const std::int64_t from : {first_agg, first_agg + 17, agg_at_boundary - 500}) {
      for (const std::size_t limit : {std::size_t{1}, std::size_t{7}, std::size_t{1000}}) {
        // No CAPTURE across a co_await: doctest keeps it in a thread_local, and the coroutine may
        // resume on the other worker.
        const std::string what = "fromId " + std::to_string(from) + ", limit " + std::to_string(limit);
        const auto r = co_await fetch(addr, get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=" + std::to_string(from) +
                                                "&limit=" + std::to_string(limit)));
        CHECK_MESSAGE(r.status == 200, what);
        CHECK_MESSAGE(r.head.find("Content-Type: application/json") != std::string::npos, what);
        CHECK_MESSAGE(objects(r.body) == limit, what);
        CHECK_MESSAGE(r.body == expected_array(aggs, from, limit), what);
      }
    }
    // The default limit is 500.
    CHECK(objects((co_await fetch(addr, get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=" + std::to_string(first_agg))))
                      .body) == 500);
    // Ids the market has not produced are absent.
    const auto tail = co_await fetch(addr, get("/api/v3/aggTrades?symbol=BTCUSDT&limit=1000&fromId=" +
                                               std::to_string(last_agg - 2)));
    CHECK(tail.body == expected_array(aggs, last_agg - 2, 3));
    CHECK(objects(tail.body) == 3);
    CHECK((co_await fetch(addr, get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=" + std::to_string(last_agg + 1))))
              .body == "[]");
    // historicalTrades: the trade market, with the API key.
    const std::int64_t from_trade = trades.begin()->first + 100;
    const auto h = co_await fetch(addr, get("/api/v3/historicalTrades?symbol=BTCUSDT&limit=300&fromId=" +
                                                std::to_string(from_trade),
                                            "X-MBX-APIKEY: k3y\r\n"));
    CHECK(h.status == 200);
    CHECK(h.body == expected_array(trades, from_trade, 300));
  }));
}

TEST_CASE("rest: errors are Binance's replies") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(rest_config(), [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    struct expect {
      std::string request;
      int status;
      std::string body_starts;
    };
    const std::vector<expect> cases = {
        {get("/api/v3/aggTrades?symbol=NOPEUSDT&fromId=1"), 400, R"({"code":-1121,"msg":"Invalid symbol."})"},
        {get("/api/v3/aggTrades?symbol=btcusdt&fromId=1"), 400, R"({"code":-1100,)"},
        {get("/api/v3/aggTrades?fromId=1"), 400, R"({"code":-1102,"msg":"Mandatory parameter 'symbol')"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT"), 400, R"({"code":-1102,"msg":"Mandatory parameter 'fromId')"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId="), 400, R"({"code":-1102,"msg":"Mandatory parameter 'fromId')"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=12x"), 400, R"({"code":-1100,"msg":"Illegal characters found in parameter 'fromId')"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=99999999999999999999"), 400, R"({"code":-1100,)"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=%31"), 400, R"({"code":-1100,"msg":"Illegal characters found in parameter 'fromId')"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&limit=0"), 400, R"({"code":-1130,)"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&limit=1001"), 400, R"({"code":-1130,)"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&fromId=2"), 400, R"({"code":-1101,)"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1&startTime=5"), 400, R"({"code":-1104,)"},
        {get("/api/v3/aggTrades?symbol=BTCUSDT&&fromId=1"), 400, R"({"code":-1100,)"},
        {get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1"), 401, R"({"code":-2014,"msg":"API-key format invalid."})"},
        {get("/api/v3/historicalTrades?symbol=BTCUSDT&fromId=1", "X-MBX-APIKEY: wrong\r\n"), 401, R"({"code":-2015,)"},
        {get("/api/v3/klines?symbol=BTCUSDT"), 404, R"({"code":-1000,)"},
        {get("/"), 404, R"({"code":-1000,)"},
    };
    for (const auto& c : cases) {
      const auto r = co_await fetch(addr, c.request);  // no CAPTURE across a co_await (see above)
      CHECK_MESSAGE(r.status == c.status, c.request);
      CHECK_MESSAGE(r.body.starts_with(c.body_starts), c.request);
    }
  }));
}

TEST_CASE("rest: --rest-limit answers 429 with Retry-After beyond N requests a second") {
  app::rest_rate_limit limit(3);
  const std::int64_t second = 1'000'000'000;
  for (int i = 0; i < 3; ++i) CHECK(limit.admit(5 * second + i).is_none());
  const auto refused = limit.admit(5 * second + 999'999'999);
  REQUIRE(refused.is_some());
  CHECK(refused->status == 429);
  CHECK(refused->body.starts_with(R"({"code":-1003,"msg":"Too many requests;)"));
  CHECK(refused->retry_after_s == pw::option<std::uint64_t>(1));
  const std::string response = app::http_json_response(*refused, true);
  CHECK(response.starts_with("HTTP/1.1 429 Too Many Requests\r\n"));
  CHECK(response.find("\r\nRetry-After: 1\r\n") != std::string::npos);
  CHECK(limit.admit(6 * second).is_none());  // the next second starts afresh
  app::rest_rate_limit unlimited(0);
  for (int i = 0; i < 1000; ++i) CHECK(unlimited.admit(i).is_none());
  // An answer without one sends no Retry-After.
  CHECK(app::http_json_response(app::rest_reply{}, true).find("Retry-After") == std::string::npos);

  // Over a socket: the feed refuses the fourth request of a burst, and counts it.
  auto cfg = rest_config();
  cfg.rest_limit_per_s = 3;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(cfg, [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    int refusals = 0;
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
      const auto r = co_await fetch(addr, get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=0&limit=1"));
      if (r.status == 429) {
        ++refusals;
        CHECK(r.head.find("Retry-After: 1\r\n") != std::string::npos);
      } else {
        CHECK(r.status == 200);
      }
    }
    // Requests within S seconds meet at most floor(S) + 2 of the limit's seconds, 3 each.
    const auto span_s = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start).count();
    const int admitted = 20 - refusals;
    CHECK(admitted <= 3 * (static_cast<int>(span_s) + 2));
    CHECK(admitted >= 3);
    CHECK(feed.counters().rest_rate_limited.load() == static_cast<std::uint64_t>(refusals));
  }));
}

TEST_CASE("rest: keep-alive, pipelining, Connection: close, and hostile requests") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  rt.block_on(app::test::with_feed(rest_config(), [](app::feed_server& feed) -> pw::task<void> {
    const auto addr = feed.local_addr();
    const std::string bad_symbol = get("/api/v3/aggTrades?symbol=NOPE&fromId=1");
    const std::string unknown = get("/nope");

    {  // several requests on one connection, the last two pipelined in one write, then close
      auto s = co_await pw::net::tcp_stream::connect(addr);
      REQUIRE(s);
      std::string buffer;
      REQUIRE((co_await s->write_all(ticks::as_bytes(bad_symbol))).is_ok());
      auto r1 = co_await read_reply(*s, buffer);
      REQUIRE(r1);
      CHECK(r1->status == 400);
      CHECK(r1->head.find("Connection: close") == std::string::npos);
      const std::string two = unknown + get("/api/v3/aggTrades?symbol=BTCUSDT&fromId=1", "Connection: close\r\n");
      REQUIRE((co_await s->write_all(ticks::as_bytes(two))).is_ok());
      auto r2 = co_await read_reply(*s, buffer);
      auto r3 = co_await read_reply(*s, buffer);
      REQUIRE(r2);
      REQUIRE(r3);
      CHECK(r2->status == 404);
      CHECK(r3->status == 200);
      CHECK(r3->head.find("Connection: close") != std::string::npos);
      CHECK((co_await app::test::read_to_end(*s)).empty());  // the feed closed it
    }
    // Hostile heads: an error reply (or a closed connection), never a hang or a crash.
    const std::vector<std::pair<std::string, std::string>> hostile = {
        {std::string(9000, 'A'), "HTTP/1.1 431"},                                      // oversized head
        {"\x16\x03\x01\x02\x05\x01\xfc\x03\x03\r\n\r\n", "HTTP/1.1 400"},  // garbage (no NUL: a C string)
        {"GET /api/v3/aggTrades?symbol=BTC USDT&fromId=1 HTTP/1.1\r\nHost: f\r\n\r\n", "HTTP/1.1 400"},
        {"GET /api/v3/aggTrades HTTP/1.1\nHost: f\n\n", ""},                            // bare LF: no head end
        {"GET /api/v3/aggTrades?symbol=BTCUSDT&fromId=1 HTTP/1.1\r\nHost: f\r\nContent-Length: 5\r\n\r\nhello",
         "HTTP/1.1 400"},
    };
    for (const auto& h : hostile) {
      const std::string& request = h.first;
      const std::string& reply_starts = h.second;
      auto s = co_await pw::net::tcp_stream::connect(addr);  // no CAPTURE across a co_await (see above)
      REQUIRE(s);
      (void)co_await s->write_all(ticks::as_bytes(request));
      (void)co_await s->shutdown();  // a truncated head ends here: the feed gives up on it
      const std::string got = co_await app::test::read_to_end(*s);
      if (!reply_starts.empty()) CHECK_MESSAGE(got.starts_with(reply_starts), request.substr(0, 60));
    }
    // The listener still serves.
    const auto after = co_await fetch(addr, bad_symbol);
    CHECK(after.status == 400);
    CHECK(feed.counters().rest_requests.load() >= 5);
  }));
}
