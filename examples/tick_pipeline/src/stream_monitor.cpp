#include "ticks/stream_monitor.hpp"

#include <cstdio>
#include <cstring>

namespace ticks {

namespace {
constexpr std::int64_t window_ns = 1'000'000'000;
constexpr std::string_view overflow_name = "(other streams)";

// A hash good enough to spread stream names over the cache's slots (not a defence against
// chosen collisions: those only cost map lookups), at a multiply per 8 bytes.
std::uint64_t quick_hash(std::string_view s) noexcept {
  std::uint64_t h = (s.size() + 1) * 0x9E3779B97F4A7C15ull;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
  }
  std::uint64_t tail = 0;
  for (std::size_t k = 0; i + k < s.size(); ++k) tail |= std::uint64_t{static_cast<unsigned char>(s[i + k])} << (8 * k);
  h = (h ^ tail) * 0x94D049BB133111EBull;
  return h ^ (h >> 31);
}
}  // namespace

stream_monitor::stream_monitor(monitor_options options, sink log) : options_(options), log_(std::move(log)) {
  if (!log_) {
    log_ = [](std::string_view line) { std::fprintf(stderr, "%.*s\n", static_cast<int>(line.size()), line.data()); };
  }
}

stream_monitor::map::iterator stream_monitor::lookup(std::string_view stream) {
  const std::uint64_t h = quick_hash(stream);
  cached& slot = cache_[h >> 58];  // 64 slots: the top 6 bits
  if (slot.used && slot.hash == h && slot.it->first == stream) return slot.it;
  auto it = streams_.find(stream);
  if (it == streams_.end()) {
    // A feed that invents stream names must not grow this map without bound.
    it = streams_.try_emplace(std::string(streams_.size() >= options_.max_streams ? overflow_name : stream)).first;
  }
  slot = {h, it, true};  // for "(other streams)", a later lookup misses: it->first differs
  return it;
}

void stream_monitor::close_window(const std::string& name, entry& e) {
  if (e.suppressed_in_window > 0) {
    log_("stream " + name + ": " + std::to_string(e.suppressed_in_window) + " more decode errors suppressed (" +
         std::to_string(e.counters.errors) + " errors, " + std::to_string(e.counters.decoded) + " ticks so far)");
  }
  e.window_open = false;
  e.lines_in_window = 0;
  e.suppressed_in_window = 0;
}

void stream_monitor::record_ok(std::string_view stream) { ++lookup(stream)->second.counters.decoded; }

void stream_monitor::record_error(std::string_view stream, const decode_error& err, std::int64_t now_ns) {
  const auto it = lookup(stream);
  auto& e = it->second;
  ++e.counters.errors;
  if (err.is_schema_error()) ++e.counters.schema_errors;

  if (e.window_open && now_ns - e.window_start_ns >= window_ns) close_window(it->first, e);
  if (!e.window_open) {
    e.window_open = true;
    e.window_start_ns = now_ns;
  }
  if (e.lines_in_window < options_.max_lines_per_second) {
    ++e.lines_in_window;
    std::string line = "stream ";
    line += stream;
    line += ": ";
    line += err.message();
    if (e.counters.only_errors() && e.counters.errors == 1) line += " [first message of this stream failed]";
    log_(line);
  } else {
    ++e.suppressed_in_window;
    ++e.counters.suppressed_lines;
  }
}

void stream_monitor::record(std::string_view connection_label, const polarway::result<decoded, decode_error>& r,
                            std::int64_t now_ns) {
  if (r) {
    record_ok(r->stream.empty() ? connection_label : r->stream.view());
  } else {
    record_error(r.error().stream.empty() ? connection_label : r.error().stream.view(), r.error(), now_ns);
  }
}

void stream_monitor::flush(std::int64_t now_ns) {
  for (auto& [name, e] : streams_)
    if (e.window_open && now_ns - e.window_start_ns >= window_ns) close_window(name, e);
}

polarway::option<stream_counters> stream_monitor::counters(std::string_view stream) const {
  if (auto it = streams_.find(stream); it != streams_.end()) return it->second.counters;
  return polarway::none;
}

std::vector<std::string> stream_monitor::streams_with_only_errors() const {
  std::vector<std::string> out;
  for (const auto& [name, e] : streams_)
    if (e.counters.only_errors()) out.push_back(name);
  return out;
}

stream_counters stream_monitor::totals() const {
  stream_counters t;
  for (const auto& [name, e] : streams_) {
    t.decoded += e.counters.decoded;
    t.errors += e.counters.errors;
    t.schema_errors += e.counters.schema_errors;
    t.suppressed_lines += e.counters.suppressed_lines;
  }
  return t;
}

}  // namespace ticks
