// The JSON summary polarway-ingest (and the demo) prints at exit: counts in and out, rate,
// errors by kind, end-to-end latency percentiles and peak RSS. One object on one line, so a
// script can parse the last line of stdout (or the --json-summary file).
#pragma once

#include <string>

#include "counting_sink.hpp"
#include "ingest.hpp"

namespace ticks::app {

std::string ingest_summary_json(const ingest_counters& c, const ingest_report& r, const counting_sink& sink);
/// The human-readable closing lines (for stderr).
std::string ingest_summary_text(const ingest_counters& c, const ingest_report& r, const counting_sink& sink);

}  // namespace ticks::app
