// What an operator of the pipeline's programs can ask of their runtime while it runs, beside
// the Prometheus page: the stall detector's reports, on stderr under the program's name; a
// dump of the live tasks as text, served at GET /debug/tasks on the --metrics listener and
// written to stderr on SIGUSR1; with the flight recorder on, its trace, served at GET
// /debug/trace and written to a file on SIGUSR1.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/runtime.hpp>

#include "metrics_endpoint.hpp"

namespace ticks::app {

/// runtime_options::on_stall for a program: "<program>: slow poll: ..." on stderr, one write
/// per report so that lines from several threads do not interleave.
std::function<void(const polarway::stall_report&)> stall_log(std::string_view program);

/// A dump as text: a header with the number of tasks, then one line per task
/// (polarway::to_string(task_info)), the oldest first, each followed by its await chain
/// (polarway::await_chain_text); each line starts with `line_prefix`.
std::string task_dump_text(std::vector<polarway::task_info> tasks, std::string_view line_prefix = {});

/// What a program's --metrics listener serves: its `metrics` page, `rt`'s task dump, and with
/// the flight recorder on (`recording`) its trace.
http_pages runtime_pages(polarway::runtime& rt, std::function<std::string()> metrics, bool recording);

/// Listens to SIGUSR1 (from construction on; until then the signal keeps its default action,
/// which ends the process) and writes `rt`'s task dump to stderr at each one. With the flight
/// recorder on, it also writes the trace to trace_dir/<program>.<pid>.<n>.trace.json (n counts
/// from 1), from the blocking pool, and says where on stderr (or why it could not).
class task_dump_signal {
 public:
  task_dump_signal();
  task_dump_signal(const task_dump_signal&) = delete;
  task_dump_signal& operator=(const task_dump_signal&) = delete;

  /// Answers SIGUSR1 until cancelled (the runtime cancels it when it shuts down); the object
  /// and `rt` must outlive the task.
  polarway::task<void> watch(polarway::runtime& rt, std::string program, std::string trace_dir = default_trace_dir());

  /// The system's directory for temporary files (std::filesystem::temp_directory_path:
  /// $TMPDIR, else /tmp); /tmp if $TMPDIR names no directory.
  static std::string default_trace_dir();

 private:
  polarway::signal::listener usr1_;
};

}  // namespace ticks::app
