#include "stream_tick_counts.hpp"

#include <algorithm>
#include <tuple>

namespace ticks::app {

stream_tick_counts::writer::~writer() {
  for (const auto& [key, x] : cells_) counts_->release(x, col_);
  if (other_ != nullptr) counts_->release(other_, col_);
}

stream_tick_counts::cell* stream_tick_counts::writer::cell_for(const stream_key& key) {
  if (last_ != nullptr && key == last_key_) return last_;
  cell* x;
  if (auto it = cells_.find(key); it != cells_.end()) {
    x = it->second;
  } else {
    x = counts_->claim(key, col_, other_);
    if (!x->key.symbol.empty()) cells_.emplace(key, x);
    else other_ = x;  // not cached per stream: endless symbols must not grow the cache
  }
  last_key_ = key;
  last_ = x;
  return x;
}

void stream_tick_counts::writer::add(std::span<const tick> batch) {
  const auto c = static_cast<std::size_t>(col_);
  for (const tick& t : batch) {
    std::atomic<std::uint64_t>& n = cell_for(stream_key{kind_of(t), symbol_of(t)})->n[c];
    // This writer holds the cell's column: the only writer of it.
    n.store(n.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
}

stream_tick_counts::cell* stream_tick_counts::claim(const stream_key& wanted, column col, cell* other) {
  const auto c = static_cast<std::size_t>(col);
  std::lock_guard lock(mu_);
  stream_key key = wanted;
  const std::size_t tracked = by_key_.size() - (by_key_.contains(stream_key{}) ? 1 : 0);
  if (!by_key_.contains(key) && tracked >= max_streams_) {
    if (other != nullptr) return other;
    key = stream_key{};
  }
  std::vector<cell*>& cells = by_key_[key];
  for (cell* existing : cells) {
    if (!existing->claimed[c]) {
      existing->claimed[c] = true;
      return existing;
    }
  }
  cell& fresh = cells_.emplace_back();
  fresh.key = key;
  fresh.claimed[c] = true;
  cells.push_back(&fresh);
  return &fresh;
}

std::size_t stream_tick_counts::cells() const {
  std::lock_guard lock(mu_);
  return cells_.size();
}

void stream_tick_counts::release(cell* x, column col) {
  std::lock_guard lock(mu_);
  x->claimed[static_cast<std::size_t>(col)] = false;
}

std::vector<stream_tick_counts::row> stream_tick_counts::snapshot() const {
  std::vector<row> rows;
  std::lock_guard lock(mu_);
  rows.reserve(by_key_.size());
  for (const auto& [key, cells] : by_key_) {
    row r{.symbol = key.symbol.empty() ? std::string(other_streams) : std::string(key.symbol.view()), .kind = key.kind};
    for (const cell* x : cells) {
      r.received += x->n[0].load(std::memory_order_relaxed);
      r.written += x->n[1].load(std::memory_order_relaxed);
    }
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const row& a, const row& b) {
    const bool a_other = a.symbol == other_streams, b_other = b.symbol == other_streams;
    return std::tie(a_other, a.symbol, a.kind) < std::tie(b_other, b.symbol, b.kind);
  });
  return rows;
}

}  // namespace ticks::app
