// ticks::app::append_runtime_metrics: a pw::runtime_metrics snapshot as Prometheus families,
// named polarway_runtime_*: per worker (label worker="0", "1", ...) its counters (*_total) and
// gauges (queue depth, timers pending), and the runtime's global gauges and counters; and the
// process's resident memory. Every program of the pipeline that serves /metrics starts its page
// with these.
#pragma once

#include <polarway/runtime/runtime_metrics.hpp>

#include "prometheus_text.hpp"

namespace ticks::app {

void append_runtime_metrics(prometheus_text& out, const polarway::runtime_metrics& m);

/// polarway_process_resident_memory_bytes (VmRSS) and polarway_process_peak_resident_memory_bytes
/// (VmHWM).
void append_process_metrics(prometheus_text& out);

}  // namespace ticks::app
