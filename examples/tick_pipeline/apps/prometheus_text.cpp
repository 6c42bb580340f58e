#include "prometheus_text.hpp"

#include <cassert>
#include <charconv>
#include <cmath>

namespace ticks::app {

namespace {

void append_escaped(std::string& out, std::string_view s, bool quote) {
  for (const char c : s) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void append_value(std::string& out, std::uint64_t v) {
  char buf[24];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// The shortest text that reads back as the same double (what Go's ParseFloat reads); NaN and
// the infinities have the format's own spellings.
void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

}  // namespace

bool prometheus_text::is_valid_name(std::string_view name, bool label_name) noexcept {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!label_name && c == ':');
    if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

void prometheus_text::family(std::string_view name, std::string_view type, std::string_view help) {
  assert(is_valid_name(name));
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void prometheus_text::begin_sample(std::string_view name, std::initializer_list<label> labels,
                                   std::string_view extra_name, std::string_view extra_value) {
  assert(is_valid_name(name));
  out_ += name;
  if (labels.size() != 0 || !extra_name.empty()) {
    out_ += '{';
    bool first = true;
    const auto one = [&](std::string_view n, std::string_view v) {
      assert(is_valid_name(n, true));
      if (!first) out_ += ',';
      first = false;
      out_ += n;
      out_ += "=\"";
      append_escaped(out_, v, true);
      out_ += '"';
    };
    for (const auto& [n, v] : labels) one(n, v);
    if (!extra_name.empty()) one(extra_name, extra_value);
    out_ += '}';
  }
  out_ += ' ';
}

void prometheus_text::sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value) {
  begin_sample(name, labels);
  append_value(out_, value);
  out_ += '\n';
}

void prometheus_text::sample(std::string_view name, std::initializer_list<label> labels, double value) {
  begin_sample(name, labels);
  append_value(out_, value);
  out_ += '\n';
}

void prometheus_text::single(std::string_view name, std::string_view type, std::string_view help,
                             std::uint64_t value) {
  family(name, type, help);
  sample(name, {}, value);
}

void prometheus_text::single(std::string_view name, std::string_view type, std::string_view help, double value) {
  family(name, type, help);
  sample(name, {}, value);
}

void prometheus_text::histogram(std::string_view name, std::initializer_list<label> labels,
                                std::span<const double> bounds, std::span<const std::uint64_t> cumulative, double sum,
                                std::uint64_t count) {
  assert(bounds.size() == cumulative.size());
  const std::string base(name);
  const std::string bucket = base + "_bucket";
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    std::string le;
    append_value(le, bounds[i]);
    begin_sample(bucket, labels, "le", le);
    append_value(out_, cumulative[i]);
    out_ += '\n';
  }
  begin_sample(bucket, labels, "le", "+Inf");
  append_value(out_, count);
  out_ += '\n';
  begin_sample(base + "_sum", labels);
  append_value(out_, sum);
  out_ += '\n';
  begin_sample(base + "_count", labels);
  append_value(out_, count);
  out_ += '\n';
}

}  // namespace ticks::app
