#include "stream_tick_counts.hpp"

#include <algorithm>
#include <cstring>
#include <tuple>

namespace ticks::app {

stream_tick_counts::writer::~writer() {
  for (const slot& s : table_)
    if (s.x != nullptr) counts_->release(s.x, col_);
  if (other_ != nullptr) counts_->release(other_, col_);
}

stream_tick_counts::writer::packed_key stream_tick_counts::writer::pack(const tick& t) noexcept {
  static_assert(symbol::max_size == 20);
  const symbol& sym = symbol_of(t);
  packed_key k{};
  std::memcpy(&k.w[0], sym.view().data(), 16);  // a symbol's storage is max_size bytes
  std::memcpy(&k.w[2], sym.view().data() + 16, 4);
  k.w[2] |= (std::uint64_t{sym.size()} << 32) | (std::uint64_t{static_cast<std::uint8_t>(kind_of(t))} << 40);
  return k;
}

std::uint64_t stream_tick_counts::writer::hash(const packed_key& k) noexcept {
  const std::uint64_t h = (k.w[0] ^ (k.w[1] * 0x9E3779B97F4A7C15ull) ^ k.w[2]) * 0xBF58476D1CE4E5B9ull;
  return h ^ (h >> 31);
}

// The tick's stream is not in the table; `at` is the empty slot where it would go. The key is
// packed again here rather than passed: passing it by address kept it in memory on the hit path.
stream_tick_counts::cell* stream_tick_counts::writer::cell_on_miss(const tick& t, std::size_t at) {
  cell* x = counts_->claim(stream_key{kind_of(t), symbol_of(t)}, col_, other_);
  if (x->key.symbol.empty()) {
    other_ = x;  // not in the table: endless symbols must not grow it
    return x;
  }
  table_[at] = {pack(t), x};
  if (2 * ++used_ > table_.size()) grow();
  return x;
}

void stream_tick_counts::writer::grow() {
  std::vector<slot> old = std::exchange(table_, std::vector<slot>(std::max<std::size_t>(16, 2 * table_.size())));
  const std::size_t mask = table_.size() - 1;
  for (const slot& s : old) {
    if (s.x == nullptr) continue;
    std::size_t i = hash(s.key) & mask;
    while (table_[i].x != nullptr) i = (i + 1) & mask;
    table_[i] = s;
  }
}

void stream_tick_counts::writer::add(std::span<const tick> batch) {
  if (table_.empty()) [[unlikely]]
    grow();
  const auto c = static_cast<std::size_t>(col_);
  const slot* table = table_.data();  // reloaded after a miss, which may grow the table
  std::size_t mask = table_.size() - 1;
  for (const tick& t : batch) {
    const packed_key key = pack(t);
    std::size_t i = hash(key) & mask;
    while (table[i].x != nullptr && !(table[i].key == key)) i = (i + 1) & mask;
    cell* x = table[i].x;
    if (x == nullptr) [[unlikely]] {
      x = cell_on_miss(t, i);
      table = table_.data();
      mask = table_.size() - 1;
    }
    // This writer holds the cell's column: the only writer of it.
    std::atomic<std::uint64_t>& n = x->n[c];
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
