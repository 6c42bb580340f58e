#include "runtime_debug.hpp"

#include <polarway/runtime/await_chain_text.hpp>

#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

namespace pw = polarway;

namespace ticks::app {

namespace {

void write_stderr(const std::string& text) {
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

std::function<void(const pw::stall_report&)> stall_log(std::string_view program) {
  return [program = std::string(program)](const pw::stall_report& r) {
    write_stderr(program + ": " + pw::to_string(r) + "\n");
  };
}

std::string task_dump_text(std::vector<pw::task_info> tasks, std::string_view line_prefix) {
  std::stable_sort(tasks.begin(), tasks.end(),
                   [](const pw::task_info& a, const pw::task_info& b) { return a.age > b.age; });
  std::string out(line_prefix);
  out += "task dump: " + std::to_string(tasks.size()) + " tasks\n";
  for (const pw::task_info& t : tasks) {
    out += line_prefix;
    out += pw::to_string(t);
    out += '\n';
    out += pw::await_chain_text(t, std::string(line_prefix) + "    ");
  }
  return out;
}

http_pages runtime_pages(pw::runtime& rt, std::function<std::string()> metrics, bool recording) {
  http_pages pages{std::move(metrics), [&rt] { return task_dump_text(rt.dump_tasks()); }, {}};
  if (recording) pages.trace = [&rt] { return rt.trace_json().value_or(std::string()); };
  return pages;
}

task_dump_signal::task_dump_signal() : usr1_(pw::signal::signal(SIGUSR1)) {}

std::string task_dump_signal::default_trace_dir() {
  std::error_code failed;
  const std::filesystem::path dir = std::filesystem::temp_directory_path(failed);
  return failed ? std::string("/tmp") : dir.string();
}

pw::task<void> task_dump_signal::watch(pw::runtime& rt, std::string program, std::string trace_dir) {
  for (unsigned n = 1;; ++n) {
    auto got = co_await usr1_.recv();
    if (!got) {
      write_stderr(program + ": cannot listen to SIGUSR1: " + got.error().message() + "\n");
      co_return;
    }
    // Each line under the program's name, as everything else it writes to stderr.
    write_stderr(task_dump_text(rt.dump_tasks(), program + ": "));
    // A trace can be megabytes: written from the blocking pool, not from a worker.
    const std::string path = trace_dir + "/" + program + "." + std::to_string(::getpid()) + "." + std::to_string(n) +
                             ".trace.json";
    // Named, not temporaries in the co_await: g++ 12 destroys such temporaries twice.
    auto write = [&rt, path] { return rt.write_trace(path); };
    auto writing = rt.spawn_blocking(std::move(write));
    auto written = co_await std::move(writing);
    if (!written) continue;  // the runtime is shutting down
    if (*written) write_stderr(program + ": flight recorder trace written to " + path + "\n");
    else if (written->error().code() != pw::errc::invalid_input)  // invalid_input: the recorder is off
      write_stderr(program + ": cannot write the flight recorder trace to " + path + ": " + written->error().message() + "\n");
  }
}

}  // namespace ticks::app
