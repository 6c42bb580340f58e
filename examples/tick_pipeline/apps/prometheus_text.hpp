// ticks::app::prometheus_text: builds a page in the Prometheus text exposition format (version
// 0.0.4, what GET /metrics answers): for each metric family a "# HELP" and a "# TYPE" line,
// then its samples, "name{label="value",...} value", one per line.
//
// Label values and help texts are escaped as the format requires (backslash, double quote and
// line feed in label values; backslash and line feed in help), so a hostile symbol or error text
// cannot break a line or forge a sample. Metric and label names are the caller's constants and
// must match [a-zA-Z_:][a-zA-Z0-9_:]* (labels: no colon); a name that does not is a programming
// error, reported by is_valid_name() for tests and asserted in debug builds.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace ticks::app {

class prometheus_text {
 public:
  using label = std::pair<std::string_view, std::string_view>;

  /// Starts a family: its HELP and TYPE lines. `type`: "counter", "gauge" or "histogram".
  void family(std::string_view name, std::string_view type, std::string_view help);

  /// One sample of the current family (for a counter, `name` ends in "_total").
  void sample(std::string_view name, std::initializer_list<label> labels, std::uint64_t value);
  void sample(std::string_view name, std::initializer_list<label> labels, double value);

  /// A family of one unlabelled sample: its HELP and TYPE lines, then `name value`.
  void single(std::string_view name, std::string_view type, std::string_view help, std::uint64_t value);
  void single(std::string_view name, std::string_view type, std::string_view help, double value);

  /// A histogram's samples: for each bound, the number of observations at or below it
  /// (cumulative, so non-decreasing), then +Inf (the count), the sum and the count. `bounds`
  /// are in the histogram's unit (seconds for a *_seconds histogram) and ascending.
  void histogram(std::string_view name, std::initializer_list<label> labels, std::span<const double> bounds,
                 std::span<const std::uint64_t> cumulative, double sum, std::uint64_t count);

  const std::string& text() const noexcept { return out_; }

  /// The content type a scrape is answered with.
  static constexpr std::string_view content_type = "text/plain; version=0.0.4; charset=utf-8";

  static bool is_valid_name(std::string_view name, bool label_name = false) noexcept;

 private:
  void begin_sample(std::string_view name, std::initializer_list<label> labels, std::string_view extra_name = {},
                    std::string_view extra_value = {});

  std::string out_;
};

}  // namespace ticks::app
