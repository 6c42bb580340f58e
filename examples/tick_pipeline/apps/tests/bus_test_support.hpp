// What the bus tests (jetstream_publisher_test, bus_sink_test) build their messages from: a
// trade whose every field follows from its symbol and id.
#pragma once

#include <cstdint>
#include <string_view>

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

}  // namespace ticks::test
