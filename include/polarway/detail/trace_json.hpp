// The flight recorder's events as a Chrome / Perfetto trace (the JSON "trace event format":
// https://ui.perfetto.dev and chrome://tracing open it): one track per worker, a slice per
// task run (named by the task's spawn site or name) and per park, an instant per spawn, steal
// and I/O collection. Times are microseconds from the earliest event kept.
//
// A ring keeps only the most recent events, so its oldest may end a slice whose beginning was
// overwritten: such an end is dropped, and a slice still open when the trace is taken is
// closed at the worker's last event, so that every slice in the file is balanced.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "polarway/detail/flight_recorder.hpp"
#include "polarway/runtime/spawn_site.hpp"

namespace polarway::detail {

/// `text` as the contents of a JSON string.
inline void append_json_escaped(std::string& out, std::string_view text) {
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\u%04x", c);
      out += esc;
    } else {
      out += ch;
    }
  }
}

/// The trace of `workers[i]`'s events (each oldest first), as one JSON document.
inline std::string trace_json(const std::vector<std::vector<trace_event>>& workers) {
  std::int64_t origin = INT64_MAX;
  for (const auto& events : workers)
    if (!events.empty()) origin = std::min(origin, events.front().ns);
  std::string out = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[";
  bool first = true;
  auto begin_event = [&](std::string_view name, const char* phase, std::size_t tid, std::int64_t ns) {
    if (!first) out += ',';
    first = false;
    out += "\n{\"name\":\"";
    append_json_escaped(out, name);
    char rest[96];
    std::snprintf(rest, sizeof rest, "\",\"ph\":\"%s\",\"pid\":1,\"tid\":%zu,\"ts\":%.3f", phase, tid,
                  static_cast<double>(ns - origin) / 1000.0);
    out += rest;
  };
  auto site_arg = [&](const char* key, std::uint64_t bits) {
    out += ",\"args\":{\"";
    out += key;
    out += "\":\"";
    append_json_escaped(out, spawn_site::from_bits(bits).to_string());
    out += "\"}";
  };
  for (std::size_t tid = 0; tid < workers.size(); ++tid) {
    if (!first) out += ',';
    first = false;
    out += "\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(tid) +
           ",\"args\":{\"name\":\"worker " + std::to_string(tid) + "\"}}";
    const auto& events = workers[tid];
    bool in_run = false, in_park = false;
    for (const trace_event& e : events) {
      switch (e.kind) {
        case trace_kind::run_begin:
          if (in_run) {  // the previous run's end was lost: close it here
            begin_event("run", "E", tid, e.ns);
            out += '}';
          }
          begin_event(spawn_site::from_bits(e.arg).to_string(), "B", tid, e.ns);
          site_arg("task", e.arg);
          out += '}';
          in_run = true;
          break;
        case trace_kind::run_end:
          if (!in_run) break;  // its beginning was overwritten
          begin_event("run", "E", tid, e.ns);
          out += '}';
          in_run = false;
          break;
        case trace_kind::park:
          if (in_park) break;
          begin_event("parked", "B", tid, e.ns);
          out += '}';
          in_park = true;
          break;
        case trace_kind::unpark:
          if (!in_park) break;
          begin_event("parked", "E", tid, e.ns);
          out += e.arg ? ",\"args\":{\"woken_by\":\"another thread\"}}" : ",\"args\":{\"woken_by\":\"io or timer\"}}";
          in_park = false;
          break;
        case trace_kind::spawn:
          begin_event("spawn", "i", tid, e.ns);
          out += ",\"s\":\"t\"";
          site_arg("task", e.arg);
          out += '}';
          break;
        case trace_kind::steal:
          begin_event("steal", "i", tid, e.ns);
          out += ",\"s\":\"t\",\"args\":{\"from_worker\":" + std::to_string(e.arg) + "}}";
          break;
        case trace_kind::io_collected:
          begin_event("io", "i", tid, e.ns);
          out += ",\"s\":\"t\",\"args\":{\"completions\":" + std::to_string(e.arg) + "}}";
          break;
      }
    }
    const std::int64_t last = events.empty() ? origin : events.back().ns;
    if (in_run) {
      begin_event("run", "E", tid, last);
      out += '}';
    }
    if (in_park) {
      begin_event("parked", "E", tid, last);
      out += '}';
    }
  }
  out += "\n]}\n";
  return out;
}

}  // namespace polarway::detail
