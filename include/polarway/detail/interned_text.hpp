// Text that lives as long as the process, for error contexts built at run time (the name of a
// host that did not resolve). pw::error keeps its context as a plain pointer, so that copying
// an error costs nothing and the context must outlive every copy; an interned text does. Each
// distinct text is stored once, and at most `max_interned_texts` are kept, so that input from
// outside cannot grow the table without bound: past that, intern() gives nullptr and the
// caller falls back to a static context.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

namespace polarway::detail {

inline constexpr std::size_t max_interned_texts = 1024;

/// A pointer to a NUL-terminated copy of `text` that is never freed, or nullptr once the table
/// holds max_interned_texts other texts.
inline const char* intern(std::string_view text) {
  struct table {
    std::mutex mu;
    std::unordered_set<std::string> texts;
  };
  // Never destroyed: an error holding one of these may be printed during static destruction.
  static table* const t = new table();
  std::lock_guard lock(t->mu);
  if (auto it = t->texts.find(std::string(text)); it != t->texts.end()) return it->c_str();
  if (t->texts.size() >= max_interned_texts) return nullptr;
  return t->texts.emplace(text).first->c_str();
}

}  // namespace polarway::detail
