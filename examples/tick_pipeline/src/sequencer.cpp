#include "ticks/sequencer.hpp"

#include <cstdint>
#include <utility>

namespace ticks {

namespace pw = polarway;

namespace {

// b - a for b > a, exact: the difference of two int64 fits a uint64.
std::uint64_t distance(std::int64_t a, std::int64_t b) noexcept {
  return static_cast<std::uint64_t>(b) - static_cast<std::uint64_t>(a);
}

}  // namespace

pw::option<stream_key> sequenced_stream(const tick& t) noexcept {
  if (const auto* tr = std::get_if<trade>(&t)) return stream_key{message_kind::trade, tr->symbol};
  if (const auto* ag = std::get_if<agg_trade>(&t)) return stream_key{message_kind::agg_trade, ag->symbol};
  return pw::none;
}

pw::option<std::int64_t> sequence_id(const tick& t) noexcept {
  if (const auto* tr = std::get_if<trade>(&t)) return tr->trade_id;
  if (const auto* ag = std::get_if<agg_trade>(&t)) return ag->agg_trade_id;
  return pw::none;
}

sequencer::sequencer(sequencer_options options) : options_(options) {
  if (options_.max_held == 0) options_.max_held = 1;
}

sequencer::stream_state* sequencer::find_or_add(const stream_key& key) {
  if (auto it = streams_.find(key); it != streams_.end()) return &it->second;
  if (streams_.size() >= options_.max_streams) return nullptr;
  return &streams_.emplace(key, stream_state{}).first->second;
}

bool sequencer::start_at(const stream_key& key, std::int64_t next_id, bool catch_up) {
  stream_state* s = find_or_add(key);
  if (s == nullptr || s->last || !s->held.empty()) return false;
  // No id precedes INT64_MIN: then the first tick sets the baseline, which accepts it as well,
  // and there is no baseline to catch up from.
  if (next_id != INT64_MIN) {
    s->last = next_id - 1;
    s->catching_up = catch_up;
  }
  return true;
}

bool sequencer::has_gap(const stream_state& s) noexcept {
  return !s.held.empty() || (s.catching_up && *s.last != INT64_MAX);
}

void sequencer::drain(stream_state& s, std::vector<tick>& out) {
  while (!s.held.empty() && distance(*s.last, s.held.begin()->first) == 1) {
    auto node = s.held.extract(s.held.begin());
    s.last = node.key();
    out.push_back(std::move(node.mapped()));
    --held_;
  }
}

void sequencer::skip_first_gap(stream_state& s, std::vector<tick>& out) {
  if (s.held.empty()) return;
  const std::int64_t front = s.held.begin()->first;
  ++stats_.gaps_unfilled;
  stats_.ids_unfilled += distance(*s.last, front) - 1;
  s.last = front - 1;  // front > last + 1 > INT64_MIN
  drain(s, out);
}

offer_result sequencer::offer(const tick& t, std::vector<tick>& out) {
  const auto key = sequenced_stream(t);
  if (!key) {
    out.push_back(t);
    return offer_result::released;
  }
  stream_state* s = find_or_add(*key);
  if (s == nullptr) {
    ++stats_.untracked;
    out.push_back(t);
    return offer_result::released;
  }
  const std::int64_t id = *sequence_id(t);
  s->catching_up = false;
  if (!s->last) {
    s->last = id;
    out.push_back(t);
    return offer_result::released;
  }
  const std::int64_t last = *s->last;
  if (id <= last || s->held.contains(id)) {
    ++stats_.duplicates_dropped;
    return offer_result::duplicate;
  }
  if (distance(last, id) == 1) {
    s->last = id;
    out.push_back(t);
    drain(*s, out);
    return offer_result::released;
  }
  const std::int64_t highest = s->held.empty() ? last : s->held.rbegin()->first;
  const std::uint64_t jump = id > highest ? distance(highest, id) - 1 : 0;  // ids skipped past all we know
  if (jump > options_.max_gap) {
    ++stats_.gaps_found;
    stats_.ids_missing += jump;
    ++stats_.gaps_unfilled;
    stats_.ids_unfilled += jump;
    while (!s->held.empty()) skip_first_gap(*s, out);
    s->last = id;
    out.push_back(t);
    return offer_result::released;
  }
  if (held_ >= options_.max_held) return offer_result::full;
  s->held.emplace(id, t);
  ++held_;
  if (jump > 0) {
    ++stats_.gaps_found;
    stats_.ids_missing += jump;
  }
  return offer_result::held;
}

pw::option<id_range> sequencer::gap(const stream_key& key) const {
  const auto it = streams_.find(key);
  if (it == streams_.end() || !has_gap(it->second)) return pw::none;
  const stream_state& s = it->second;
  if (s.held.empty()) return id_range{*s.last + 1, INT64_MAX, true};
  return id_range{*s.last + 1, s.held.begin()->first - 1};
}

std::size_t sequencer::fill(const stream_key& key, std::span<const tick> rows, std::vector<tick>& out) {
  const auto it = streams_.find(key);
  // The gap's end as the page was asked for: the first held tick, none for an open gap (rows
  // this page itself holds do not narrow it).
  pw::option<std::int64_t> end;
  if (it != streams_.end() && !it->second.held.empty()) end = it->second.held.begin()->first;
  std::size_t accepted = 0;
  for (const tick& row : rows) {
    const auto row_key = sequenced_stream(row);
    if (it == streams_.end() || !has_gap(it->second) || !row_key || !(*row_key == key)) {
      ++stats_.backfill_rejected;
      continue;
    }
    stream_state& s = it->second;
    const std::int64_t id = *sequence_id(row);
    // Inside the gap: above what was released, below its end.
    if (id <= *s.last || (end && id >= *end)) {
      ++stats_.backfill_rejected;
      continue;
    }
    if (distance(*s.last, id) == 1) {
      s.last = id;
      out.push_back(row);
      drain(s, out);
    } else if (held_ < options_.max_held && s.held.emplace(id, row).second) {
      ++held_;
    } else {
      ++stats_.backfill_rejected;
      continue;
    }
    ++stats_.ticks_backfilled;
    ++accepted;
  }
  return accepted;
}

void sequencer::give_up(const stream_key& key, std::vector<tick>& out) {
  const auto it = streams_.find(key);
  if (it == streams_.end()) return;
  if (it->second.held.empty()) it->second.catching_up = false;
  else skip_first_gap(it->second, out);
}

std::vector<stream_key> sequencer::streams_with_gaps() const {
  std::vector<stream_key> keys;
  for (const auto& [key, s] : streams_)
    if (has_gap(s)) keys.push_back(key);
  return keys;
}

}  // namespace ticks
