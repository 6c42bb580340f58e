// What the bus tests (jetstream_publisher_test, bus_sink_test) share: the trade their messages
// are built from (every field follows from its symbol and id), and a plain nats.c JetStream
// client for looking at the bus from outside the programs, as an operator's tool would.
#pragma once

#include <nats/nats.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include <polarway/result.hpp>

#include "ticks/tick.hpp"

namespace ticks::test {

inline ticks::trade trade_of(std::string_view sym, std::int64_t id) {
  ticks::trade t;
  t.symbol = ticks::symbol::parse(sym).unwrap();
  t.event_time_ms = 1'732'233'600'000 + id;
  t.trade_id = id;
  t.price = ticks::price::from_raw(9'700'010'000'000 + id);
  t.quantity = ticks::price::from_raw(150'000 + id);
  t.trade_time_ms = t.event_time_ms - 1;
  return t;
}

// A nats.c connection to `urls` (a comma-separated list) and its JetStream context, both
// destroyed with it. Destroy it before nats.c's library is closed.
class jetstream_client {
 public:
  static polarway::result<jetstream_client, std::string> connect(const std::string& urls) {
    jetstream_client c;
    natsStatus s = natsConnection_ConnectTo(&c.nc_, urls.c_str());
    if (s != NATS_OK) return polarway::err(std::string("connect: ") + natsStatus_GetText(s));
    s = natsConnection_JetStream(&c.js_, c.nc_, nullptr);
    if (s != NATS_OK) return polarway::err(std::string("JetStream context: ") + natsStatus_GetText(s));
    return c;
  }

  jetstream_client(jetstream_client&& o) noexcept
      : nc_(std::exchange(o.nc_, nullptr)), js_(std::exchange(o.js_, nullptr)) {}
  jetstream_client& operator=(jetstream_client&&) = delete;
  jetstream_client(const jetstream_client&) = delete;
  jetstream_client& operator=(const jetstream_client&) = delete;
  ~jetstream_client() {
    jsCtx_Destroy(js_);
    natsConnection_Destroy(nc_);
  }

  jsCtx* js() const noexcept { return js_; }

 private:
  jetstream_client() = default;
  natsConnection* nc_ = nullptr;
  jsCtx* js_ = nullptr;
};

}  // namespace ticks::test
