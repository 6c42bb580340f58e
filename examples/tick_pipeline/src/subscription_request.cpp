#include "ticks/subscription_request.hpp"

#include <algorithm>

namespace ticks {

namespace pw = polarway;

namespace {

pw::result<subscription_request, subscription_error> refuse(std::string text) {
  return pw::err(subscription_error{std::move(text)});
}

// The text of a byte for an error message: printable as is, anything else as \xNN.
std::string shown(std::string_view s) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char c : s.substr(0, 40)) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  if (s.size() > 40) out += "...";
  return out;
}

}  // namespace

bool subscription_request::wants(const symbol& s) const noexcept {
  return symbols.empty() || std::binary_search(symbols.begin(), symbols.end(), s,
                                               [](const symbol& a, const symbol& b) { return a.view() < b.view(); });
}

pw::result<subscription_request, subscription_error> parse_subscription_request(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.size() + 1 > max_subscription_request)
    return refuse("request longer than " + std::to_string(max_subscription_request) + " bytes");
  for (const char c : line) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u >= 0x7f) return refuse("request has a byte outside printable ASCII: " + shown(line));
  }
  std::vector<std::string_view> words;
  for (std::size_t i = 0; i < line.size();) {
    const std::size_t end = std::min(line.find(' ', i), line.size());
    if (end == i) return refuse("request has an empty word (two spaces, or a leading or trailing one)");
    words.push_back(line.substr(i, end - i));
    i = end + 1;
    if (end + 1 == line.size()) return refuse("request has an empty word (two spaces, or a leading or trailing one)");
  }
  if (words.empty() || words[0] != subscription_protocol)
    return refuse("request does not start with " + std::string(subscription_protocol) + ": " + shown(line));

  subscription_request r;
  bool have_kind = false, have_symbols = false, have_policy = false;
  for (std::size_t w = 1; w < words.size(); ++w) {
    const std::string_view word = words[w];
    const std::size_t eq = word.find('=');
    if (eq == std::string_view::npos || eq == 0) return refuse("expected key=value, got " + shown(word));
    const std::string_view key = word.substr(0, eq);
    const std::string_view value = word.substr(eq + 1);
    if (key == "kind") {
      if (have_kind) return refuse("kind given twice");
      have_kind = true;
      const auto k = parse_message_kind(value);
      if (!k) return refuse("unknown kind " + shown(value) + " (trade, aggTrade or bookTicker)");
      r.kind = *k;
    } else if (key == "symbols") {
      if (have_symbols) return refuse("symbols given twice");
      have_symbols = true;
      for (std::size_t i = 0; i <= value.size();) {
        const std::size_t end = std::min(value.find(',', i), value.size());
        const std::string_view text = value.substr(i, end - i);
        auto s = symbol::parse(text);
        if (!s) return refuse("bad symbol " + shown(text) + ": " + std::string(to_string(s.error())));
        r.symbols.push_back(*s);
        if (r.symbols.size() > max_subscribed_symbols)
          return refuse("more than " + std::to_string(max_subscribed_symbols) + " symbols");
        i = end + 1;
      }
      auto less = [](const symbol& a, const symbol& b) { return a.view() < b.view(); };
      std::sort(r.symbols.begin(), r.symbols.end(), less);
      r.symbols.erase(std::unique(r.symbols.begin(), r.symbols.end()), r.symbols.end());
    } else if (key == "policy") {
      if (have_policy) return refuse("policy given twice");
      have_policy = true;
      if (value == "block") {
        r.policy = delivery_policy::block;
      } else if (value == "lossy") {
        r.policy = delivery_policy::lossy;
      } else {
        return refuse("unknown policy " + shown(value) + " (block or lossy)");
      }
    } else {
      return refuse("unknown key " + shown(key) + " (kind, symbols, policy)");
    }
  }
  if (!have_kind) return refuse("request names no kind (kind=trade, aggTrade or bookTicker)");
  return pw::ok(std::move(r));
}

std::string format_subscription_request(const subscription_request& r) {
  std::string s(subscription_protocol);
  s += " kind=";
  s += to_string(r.kind);
  for (std::size_t i = 0; i < r.symbols.size(); ++i) {
    s += i == 0 ? " symbols=" : ",";
    s += r.symbols[i].view();
  }
  s += " policy=";
  s += to_string(r.policy);
  s += '\n';
  return s;
}

}  // namespace ticks
