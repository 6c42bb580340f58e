#include "bus_resume.hpp"

#include <utility>

#include "jetstream_sink.hpp"

namespace ticks::app {

namespace pw = polarway;

pw::result<bus_positions, std::string> bus_positions_of(const std::vector<last_stored_message>& last,
                                                        std::string_view source) {
  bus_positions out;
  out.subjects = last.size();
  for (const last_stored_message& m : last) {
    // ticks.<kind>.<SYMBOL>, of a kind with ids.
    std::string_view rest = m.subject;
    if (!rest.starts_with("ticks.")) continue;
    rest.remove_prefix(6);
    const std::size_t dot = rest.find('.');
    if (dot == std::string_view::npos) continue;
    const auto kind = parse_message_kind(rest.substr(0, dot));
    if (!kind || *kind == message_kind::book_ticker) continue;
    const std::string where = m.subject + " (stream sequence " + std::to_string(m.seq) + ")";
    const auto name = parse_tick_message_id(m.msg_id);
    if (!name)
      return pw::err(where + ": the last message's Nats-Msg-Id '" + m.msg_id +
                     "' is not <source>/<kind>/<SYMBOL>/<first>-<last>: cannot tell where to resume");
    if (name->source != source) {
      ++out.other_sources;
      continue;
    }
    if (name->kind != *kind || name->sym.view() != rest.substr(dot + 1))
      return pw::err(where + ": the last message's Nats-Msg-Id '" + m.msg_id + "' names another stream");
    out.streams.push_back(committed_stream{.key = stream_key{*kind, name->sym},
                                           .first_id = name->first,
                                           .last_id = name->last,
                                           .rows = 0,
                                           .ids_missing = 0});
  }
  return out;
}

pw::task<pw::result<bus_positions, std::string>> read_bus_positions(jetstream_publisher& bus, std::string source,
                                                                     pw::cancellation_token stop) {
  auto reading = bus.last_messages(bus.options().subjects, std::move(stop));
  auto last = co_await std::move(reading);
  if (!last) co_return pw::err(std::move(last).error());
  co_return bus_positions_of(*last, source);
}

}  // namespace ticks::app
