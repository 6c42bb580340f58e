// ticks::app::id_set: a set of int64 ids kept as ranges [first, last], merged when they touch, so
// that a stream's ids, taken in order, stay one range (one more per hole).
#pragma once

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>

namespace ticks::app {

class id_set {
 public:
  bool contains(std::int64_t id) const {
    auto after = ranges_.upper_bound(id);
    return after != ranges_.begin() && std::prev(after)->second >= id;
  }

  /// Adds [first, last]; first <= last.
  void insert(std::int64_t first, std::int64_t last) {
    // The first range that touches [first, last] (ends at first - 1 or later), and every one
    // after it that starts by last + 1, become one.
    auto at = ranges_.upper_bound(first);
    if (at != ranges_.begin() && (std::prev(at)->second >= first || follows(first, std::prev(at)->second))) --at;
    while (at != ranges_.end() && (at->first <= last || follows(at->first, last))) {
      first = std::min(first, at->first);
      last = std::max(last, at->second);
      at = ranges_.erase(at);
    }
    ranges_.emplace(first, last);
  }

  /// The ranges, disjoint and not touching, in order.
  const std::map<std::int64_t, std::int64_t>& ranges() const noexcept { return ranges_; }

 private:
  // a == b + 1, without overflow.
  static bool follows(std::int64_t a, std::int64_t b) noexcept { return b != INT64_MAX && a == b + 1; }

  std::map<std::int64_t, std::int64_t> ranges_;  // first -> last
};

}  // namespace ticks::app
