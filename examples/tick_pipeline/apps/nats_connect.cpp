#include "nats_connect.hpp"

#include <chrono>
#include <string_view>
#include <utility>
#include <vector>

#include <polarway/runtime.hpp>

#include "reconnect_backoff.hpp"

namespace ticks::app {

namespace pw = polarway;

std::string nats_failure(natsStatus s) {
  std::string why = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  if (last != s || text == nullptr) return why;
  // nats.c prefixes its detail with its source location, "(conn.c:2088): ".
  std::string_view detail(text);
  if (detail.starts_with('(')) {
    if (const std::size_t end = detail.find("): "); end != std::string_view::npos) detail.remove_prefix(end + 3);
  }
  if (!detail.empty() && detail != why) why += " (" + std::string(detail) + ")";
  return why;
}

std::string js_failure(natsStatus s, jsErrCode code) {
  std::string why = nats_failure(s);
  if (code != 0) why += " [JetStream error " + std::to_string(static_cast<int>(code)) + "]";
  return why;
}

bool jetstream_unavailable_for_now(natsStatus s, jsErrCode code) noexcept {
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || code == JSClusterNotAvailErr || code == JSClusterNotLeaderErr ||
         code == JSStreamOfflineErr;
}

pw::result<natsConnection*, std::string> open_nats_connection(const bus_options& o, const char* client_name) {
  // natsOptions_SetURL takes one URL: the list goes in as servers, tried in the order given.
  auto urls = parse_nats_servers(o.servers);
  if (!urls) return pw::err("cannot reach the bus: " + urls.error());
  std::vector<const char*> list;
  for (const std::string& u : *urls) list.push_back(u.c_str());
  natsOptions* opts = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetServers(opts, list.data(), static_cast<int>(list.size()));
  if (s == NATS_OK) s = natsOptions_SetNoRandomize(opts, true);
  // A server that stops answering (paused, partitioned) is noticed within about two pings and
  // left for another; nats.c's default notices after minutes.
  if (s == NATS_OK) s = natsOptions_SetPingInterval(opts, 1000);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(opts, 2);
  if (s == NATS_OK) s = natsOptions_SetName(opts, client_name);
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts, static_cast<std::int64_t>(o.connect_timeout_ms));
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(opts, static_cast<std::int64_t>(o.retry_initial_ms));
  natsConnection* nc = nullptr;
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  std::string why = s == NATS_OK ? std::string() : nats_failure(s);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return pw::err("cannot reach the bus: " + why);
  return nc;
}

pw::task<pw::result<void, std::string>> retry_bus_attempts(std::function<bus_attempt()> attempt, const bus_options& o,
                                                           pw::cancellation_token stop,
                                                           const jetstream_publisher::log_fn& log,
                                                           std::atomic<std::uint64_t>& attempts) {
  reconnect_backoff backoff(o.retry_initial_ms, o.retry_max_ms,
                            static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  for (;;) {
    attempts.fetch_add(1, std::memory_order_relaxed);
    // Named before the co_await (g++ 12 and closures that own memory in co_await expressions).
    auto attempting = pw::spawn_blocking([&attempt] { return attempt(); });
    auto tried = co_await std::move(attempting);
    if (!tried) co_return pw::err(std::string("the attempt was cancelled"));
    if (tried->what == bus_attempt::outcome::ready) co_return pw::ok();
    if (tried->what == bus_attempt::outcome::fail) co_return pw::err(std::move(tried->why));
    const std::chrono::milliseconds delay = backoff.next_delay();
    log("bus " + o.servers + ": " + tried->why + "; retrying in " + std::to_string(delay.count()) + " ms");
    auto waited = co_await pw::race(pw::sleep(delay), stop.cancelled());
    if (waited.index() == 1) co_return pw::err("stopped before the bus was ready (" + tried->why + ")");
  }
}

}  // namespace ticks::app
