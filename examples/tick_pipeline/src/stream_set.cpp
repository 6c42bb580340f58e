#include "ticks/stream_set.hpp"

#include <algorithm>
#include <iterator>
#include <map>

#include "ticks/stream_shards.hpp"

namespace ticks {

namespace pw = polarway;

namespace {

bool is_lower_alnum(char ch) noexcept { return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'); }
bool is_kind_char(char ch) noexcept {
  return is_lower_alnum(ch) || (ch >= 'A' && ch <= 'Z') || ch == '_' || ch == '@';
}

// A name quoted for a message: printable ASCII as is, anything else as \xNN, at most 64 bytes.
std::string quoted(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string q = "'";
  for (std::size_t i = 0; i < s.size() && i < 64; ++i) {
    const auto ch = static_cast<unsigned char>(s[i]);
    if (ch >= 0x20 && ch < 0x7f) {
      q += static_cast<char>(ch);
    } else {
      q += "\\x";
      q += hex[ch >> 4];
      q += hex[ch & 15];
    }
  }
  if (s.size() > 64) q += "...";
  return q + "'";
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

}  // namespace

pw::option<std::string> stream_name_problem(std::string_view name) {
  const auto at = name.find('@');
  if (at == std::string_view::npos) return quoted(name) + " has no '@' (a stream is <symbol>@<kind>)";
  const std::string_view sym = name.substr(0, at), kind = name.substr(at + 1);
  if (sym.empty() || sym.size() > 20 || !std::all_of(sym.begin(), sym.end(), is_lower_alnum))
    return quoted(name) + ": the symbol must be 1 to 20 lowercase letters or digits";
  if (kind.empty() || kind.size() > 40 || !std::all_of(kind.begin(), kind.end(), is_kind_char))
    return quoted(name) + ": the kind must be 1 to 40 letters, digits, '_' or '@'";
  return pw::none;
}

pw::option<message_kind> stream_kind(std::string_view name) noexcept {
  const auto at = name.find('@');
  if (at == std::string_view::npos) return pw::none;
  return parse_message_kind(name.substr(at + 1));
}

std::string streams_file_error::message() const {
  return line == 0 ? reason : "line " + std::to_string(line) + ": " + reason;
}

pw::result<std::vector<std::string>, streams_file_error> parse_streams_file(std::string_view text) {
  std::map<std::string, std::size_t, std::less<>> seen;  // name -> line
  std::size_t line_number = 0;
  while (!text.empty()) {
    ++line_number;
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (const auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = trim(line);
    if (line.empty()) continue;
    if (line.find_first_of(" \t") != std::string_view::npos)
      return pw::err(streams_file_error{line_number, "one stream per line, found " + quoted(line)});
    if (auto p = stream_name_problem(line)) return pw::err(streams_file_error{line_number, std::move(*p)});
    if (!stream_kind(line))
      return pw::err(streams_file_error{
          line_number, quoted(line) + ": the ingest decodes the kinds trade, aggTrade and bookTicker only"});
    auto [it, fresh] = seen.emplace(std::string(line), line_number);
    if (!fresh)
      return pw::err(streams_file_error{line_number, quoted(line) + " repeats line " + std::to_string(it->second)});
    if (seen.size() > max_streams_in_file)
      return pw::err(streams_file_error{line_number, "more than " + std::to_string(max_streams_in_file) + " streams"});
  }
  std::vector<std::string> set;
  set.reserve(seen.size());
  for (auto& entry : seen) set.push_back(entry.first);
  return set;
}

stream_diff diff_streams(const std::vector<std::string>& from, const std::vector<std::string>& to) {
  stream_diff d;
  std::set_difference(to.begin(), to.end(), from.begin(), from.end(), std::back_inserter(d.added));
  std::set_difference(from.begin(), from.end(), to.begin(), to.end(), std::back_inserter(d.removed));
  return d;
}

std::vector<std::string> make_stream_set(std::vector<std::string> names) {
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

// ---------------------------------------------------------------------------------------------

std::vector<shard_change> stream_shards::assign(const std::vector<std::string>& wanted) {
  std::vector<shard_change> changes(shards_.size());
  std::vector<std::string> placed;
  // 1. What leaves each connection.
  for (std::size_t i = 0; i < shards_.size(); ++i) {
    stream_shard& s = shards_[i];
    changes[i].id = s.id;
    std::vector<std::string> kept;
    for (std::string& name : s.streams) {
      if (std::binary_search(wanted.begin(), wanted.end(), name)) kept.push_back(std::move(name));
      else changes[i].unsubscribe.push_back(std::move(name));
    }
    s.streams = std::move(kept);
    placed.insert(placed.end(), s.streams.begin(), s.streams.end());
  }
  std::sort(placed.begin(), placed.end());
  std::vector<std::string> fresh;
  std::set_difference(wanted.begin(), wanted.end(), placed.begin(), placed.end(), std::back_inserter(fresh));

  // 2. New streams: connections that still carry streams, then the ones just emptied, then new.
  std::size_t next = 0;
  const auto fill = [&](std::size_t i) {
    stream_shard& s = shards_[i];
    while (next < fresh.size() && s.streams.size() < per_connection_) {
      changes[i].subscribe.push_back(fresh[next]);
      s.streams.push_back(std::move(fresh[next++]));
    }
    std::sort(s.streams.begin(), s.streams.end());
  };
  const std::size_t existing = shards_.size();
  for (std::size_t i = 0; i < existing; ++i)
    if (!shards_[i].streams.empty()) fill(i);
  for (std::size_t i = 0; i < existing; ++i)
    if (shards_[i].streams.empty()) fill(i);
  while (next < fresh.size()) {
    shards_.push_back(stream_shard{next_id_++, {}});
    changes.push_back(shard_change{shards_.back().id, true, false, {}, {}});
    fill(shards_.size() - 1);
  }

  // 3. Connections left empty close.
  for (std::size_t i = 0; i < existing; ++i)
    if (shards_[i].streams.empty()) changes[i].closed = true;
  std::erase_if(shards_, [](const stream_shard& s) { return s.streams.empty(); });
  for (shard_change& c : changes) std::sort(c.subscribe.begin(), c.subscribe.end());
  std::erase_if(changes, [](const shard_change& c) {
    return !c.opened && !c.closed && c.subscribe.empty() && c.unsubscribe.empty();
  });
  return changes;
}

}  // namespace ticks
