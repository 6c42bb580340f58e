#include "http_head.hpp"

namespace ticks::detail {

namespace {
char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Field values may hold visible characters, spaces, tabs and obs-text; never other controls.
bool valid_value(std::string_view v) noexcept {
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7F) return false;
  }
  return true;
}
}  // namespace

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool is_tchar(char c) noexcept {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

polarway::option<std::string_view> http_head::single(std::string_view name) const {
  polarway::option<std::string_view> found;
  for (const auto& f : fields) {
    if (!iequals(f.name, name)) continue;
    if (found) return polarway::none;
    found = f.value;
  }
  return found;
}

bool http_head::has(std::string_view name) const {
  for (const auto& f : fields)
    if (iequals(f.name, name)) return true;
  return false;
}

bool http_head::has_token(std::string_view name, std::string_view token) const {
  for (const auto& f : fields) {
    if (!iequals(f.name, name)) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const auto item = trim(rest.substr(0, comma));
      if (iequals(item, token)) return true;
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return false;
}

polarway::option<http_head> parse_http_head(std::string_view head) {
  http_head out;
  bool first = true;
  while (true) {
    const auto eol = head.find("\r\n");
    if (eol == std::string_view::npos) return polarway::none;
    const auto line = head.substr(0, eol);
    head.remove_prefix(eol + 2);
    if (line.empty()) break;  // the blank line ends the head
    // A lone CR or LF inside a line is how request smuggling starts: refuse it.
    if (line.find_first_of("\r\n") != std::string_view::npos) return polarway::none;
    if (first) {
      out.start_line = line;
      first = false;
      continue;
    }
    // obs-fold (a continuation line) is deprecated by RFC 9112; reject rather than guess.
    if (line.front() == ' ' || line.front() == '\t') return polarway::none;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return polarway::none;
    const auto name = line.substr(0, colon);
    for (const char c : name)
      if (!is_tchar(c)) return polarway::none;
    const auto value = trim(line.substr(colon + 1));
    if (!valid_value(value)) return polarway::none;
    out.fields.push_back({name, value});
  }
  if (first || !head.empty()) return polarway::none;
  return out;
}

}  // namespace ticks::detail
