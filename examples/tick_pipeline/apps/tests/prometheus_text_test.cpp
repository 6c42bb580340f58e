// prometheus_text: the exposition lines, escaping of hostile label values and help texts (no
// way to break a line or forge a sample), histogram samples, number spellings, and the name
// rule. (promtool checks a whole page from the running ingest in metrics_e2e.py.)
#include <doctest/doctest.h>

#include <array>
#include <limits>
#include <string>

#include "prometheus_text.hpp"

using ticks::app::prometheus_text;

TEST_CASE("prometheus_text: a family, labelled and unlabelled samples") {
  prometheus_text p;
  p.family("polarway_ticks_received_total", "counter", "Ticks decoded from the feeds.");
  p.sample("polarway_ticks_received_total", {}, std::uint64_t{42});
  p.family("polarway_worker_polls_total", "counter", "Task runs per worker.");
  p.sample("polarway_worker_polls_total", {{"worker", "0"}}, std::uint64_t{7});
  p.sample("polarway_worker_polls_total", {{"worker", "1"}, {"kind", "x"}}, std::uint64_t{0});
  CHECK(p.text() ==
        "# HELP polarway_ticks_received_total Ticks decoded from the feeds.\n"
        "# TYPE polarway_ticks_received_total counter\n"
        "polarway_ticks_received_total 42\n"
        "# HELP polarway_worker_polls_total Task runs per worker.\n"
        "# TYPE polarway_worker_polls_total counter\n"
        "polarway_worker_polls_total{worker=\"0\"} 7\n"
        "polarway_worker_polls_total{worker=\"1\",kind=\"x\"} 0\n");
}

TEST_CASE("prometheus_text: hostile label values and help cannot break a line or forge a sample") {
  prometheus_text p;
  p.family("m", "gauge", "a \\ help\nwith a line feed");
  p.sample("m", {{"symbol", "EVIL\"} 1\nforged 99\n\\"}}, std::uint64_t{1});
  CHECK(p.text() ==
        "# HELP m a \\\\ help\\nwith a line feed\n"
        "# TYPE m gauge\n"
        "m{symbol=\"EVIL\\\"} 1\\nforged 99\\n\\\\\"} 1\n");
  // Exactly three lines: nothing the value carried started a new one.
  std::size_t lines = 0;
  for (const char c : p.text()) lines += c == '\n';
  CHECK(lines == 3);
}

TEST_CASE("prometheus_text: histogram samples are cumulative, then +Inf, sum and count") {
  prometheus_text p;
  const std::array<double, 3> bounds{0.0001, 0.001, 0.5};
  const std::array<std::uint64_t, 3> cumulative{1, 5, 9};
  p.family("lat_seconds", "histogram", "h");
  p.histogram("lat_seconds", {{"stage", "sink"}}, bounds, cumulative, 1.25, 10);
  CHECK(p.text() ==
        "# HELP lat_seconds h\n"
        "# TYPE lat_seconds histogram\n"
        "lat_seconds_bucket{stage=\"sink\",le=\"1e-04\"} 1\n"
        "lat_seconds_bucket{stage=\"sink\",le=\"0.001\"} 5\n"
        "lat_seconds_bucket{stage=\"sink\",le=\"0.5\"} 9\n"
        "lat_seconds_bucket{stage=\"sink\",le=\"+Inf\"} 10\n"
        "lat_seconds_sum{stage=\"sink\"} 1.25\n"
        "lat_seconds_count{stage=\"sink\"} 10\n");
}

TEST_CASE("prometheus_text: numbers") {
  prometheus_text p;
  p.sample("a", {}, std::numeric_limits<std::uint64_t>::max());
  p.sample("b", {}, 0.1);
  p.sample("c", {}, std::numeric_limits<double>::infinity());
  p.sample("d", {}, std::numeric_limits<double>::quiet_NaN());
  p.sample("e", {}, 3.0);
  CHECK(p.text() == "a 18446744073709551615\nb 0.1\nc +Inf\nd NaN\ne 3\n");
}

TEST_CASE("prometheus_text: the name rule") {
  CHECK(prometheus_text::is_valid_name("polarway_ticks_total"));
  CHECK(prometheus_text::is_valid_name("a:b_c9"));
  CHECK(prometheus_text::is_valid_name("_x"));
  CHECK_FALSE(prometheus_text::is_valid_name(""));
  CHECK_FALSE(prometheus_text::is_valid_name("9a"));
  CHECK_FALSE(prometheus_text::is_valid_name("a-b"));
  CHECK_FALSE(prometheus_text::is_valid_name("a b"));
  CHECK_FALSE(prometheus_text::is_valid_name("a:b", true));  // no colon in a label name
  CHECK(prometheus_text::is_valid_name("le", true));
}
