// libFuzzer target: untrusted bytes -> the control-message parsers (a client's request as the
// feed reads it, a server's reply as the ingest reads it) and the streams file parser, the
// paths every control byte and every --streams-file byte takes.
//
// Besides the sanitizers' checks it asserts the codec's promises: what parses re-encodes to
// text that parses to the same value; every request error encodes as an error reply that
// parses back with the same text; a parsed streams file is a set of valid names, and sharding
// it keeps every stream exactly once within the per-connection bound.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ticks/control_message.hpp"
#include "ticks/stream_set.hpp"
#include "ticks/stream_shards.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace ticks::control;
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto req = parse_request(text)) {
    auto again = parse_request(encode(*req));
    check(again.is_ok());
    check(again->what == req->what && again->params == req->params && again->id == req->id);
  } else {
    auto back = parse_reply(encode_error(req.error()));
    check(back.is_ok());
    check(back->what == reply::kind::error && back->error_msg == req.error().msg && back->id == req.error().id);
  }

  if (auto rep = parse_reply(text)) {
    check(is_control_reply(text));
    const std::string again = rep->what == reply::kind::done   ? encode_done(rep->id)
                              : rep->what == reply::kind::list ? encode_list(rep->streams, rep->id)
                                                               : std::string();
    if (!again.empty()) {
      auto back = parse_reply(again);
      check(back.is_ok() && back->what == rep->what && back->streams == rep->streams && back->id == rep->id);
    }
  }

  if (auto set = ticks::parse_streams_file(text)) {
    check(std::is_sorted(set->begin(), set->end()));
    check(std::adjacent_find(set->begin(), set->end()) == set->end());
    for (const auto& name : *set) check(!ticks::stream_name_problem(name) && ticks::stream_kind(name));
    ticks::stream_shards shards(7);
    (void)shards.assign(*set);
    std::size_t total = 0;
    for (const auto& s : shards.shards()) {
      check(!s.streams.empty() && s.streams.size() <= 7);
      total += s.streams.size();
    }
    check(total == set->size());
    check(shards.assign(*set).empty());
  } else {
    check(!set.error().message().empty());
  }
  return 0;
}
