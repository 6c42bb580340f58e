// ticks::app::json_object: one JSON object built key by key, for the programs' summaries. Keys
// are the caller's literals (never escaped); string values are escaped, control characters
// dropped.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace ticks::app {

class json_object {
 public:
  json_object& num(const char* key, std::uint64_t v) { return raw(key, std::to_string(v)); }
  json_object& real(const char* key, double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%.3f", v);
    return raw(key, b);
  }
  json_object& boolean(const char* key, bool v) { return raw(key, v ? "true" : "false"); }
  json_object& str(const char* key, std::string_view v) {
    std::string q = "\"";
    for (char ch : v) {
      if (ch == '"' || ch == '\\') q += '\\';
      if (static_cast<unsigned char>(ch) < 0x20) continue;
      q += ch;
    }
    q += '"';
    return raw(key, q);
  }
  json_object& raw(const char* key, std::string_view v) {
    out_ += out_.empty() ? "{" : ",";
    out_ += '"';
    out_ += key;
    out_ += "\":";
    out_ += v;
    return *this;
  }
  std::string done() { return (out_.empty() ? "{" : out_) + "}"; }

 private:
  std::string out_;
};

}  // namespace ticks::app
