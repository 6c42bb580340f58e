// pw::task_info: one live task in a task dump (runtime::dump_tasks): what it is called, what
// it is doing, what it waits on and in which coroutines, how old it is and how often it has
// run. pw::wait_kind is the kind of thing a suspended task waits on; every awaiter of the
// library that suspends a task records one.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "polarway/runtime/spawn_site.hpp"

namespace polarway {

/// What a suspended task waits on.
enum class wait_kind : std::uint8_t {
  none,      // has not suspended yet
  io,        // a socket, file or other descriptor (the reactor)
  timer,     // pw::sleep, an interval, a deadline
  channel,   // mpsc, oneshot, broadcast, watch
  lock,      // mutex, rw_lock, semaphore, barrier, notify
  join,      // another task: a join handle, join_set, join_all, race, timeout
  signal,    // a Unix signal, a cancellation token
  blocking,  // a job on the blocking pool (spawn_blocking, file operations)
};

inline const char* to_string(wait_kind k) noexcept {
  switch (k) {
    case wait_kind::none: return "none";
    case wait_kind::io: return "io";
    case wait_kind::timer: return "timer";
    case wait_kind::channel: return "channel";
    case wait_kind::lock: return "lock";
    case wait_kind::join: return "join";
    case wait_kind::signal: return "signal";
    case wait_kind::blocking: return "blocking";
  }
  return "unknown";
}

/// Where a live task is.
enum class task_state : std::uint8_t {
  running,    // a worker is running it now
  scheduled,  // in a run queue: woken, spawned, or yielded, waiting for a worker
  waiting,    // suspended until something wakes it (see task_info::waiting_on)
};

inline const char* to_string(task_state s) noexcept {
  switch (s) {
    case task_state::running: return "running";
    case task_state::scheduled: return "scheduled";
    case task_state::waiting: return "waiting";
  }
  return "unknown";
}

struct task_info {
  spawn_site site;                // the spawn's file and line, or the task's name
  task_state state = task_state::waiting;
  wait_kind waiting_on = wait_kind::none;  // what it last suspended on (for a waiting task)
  std::chrono::nanoseconds age{0};         // since it was spawned
  std::uint64_t polls = 0;                 // times a worker has run it
  std::optional<std::size_t> worker;       // the worker running it, when running
  /// For a waiting task, the coroutines it is suspended in, innermost first, each as the
  /// address of its code (polarway/runtime/await_chain_text.hpp writes them out): the one
  /// that awaits what the task waits on, the one that awaits that one, and so on up to the
  /// task's own. Up to max_await_chain of them.
  std::vector<const void*> await_chain;
  /// Whether await_chain reaches the task's own coroutine. It stops short at a coroutine that
  /// is not a pw::task (what awaits it cannot be found) or after max_await_chain.
  bool await_chain_whole = false;
  static constexpr std::size_t max_await_chain = 64;
};

/// One line, without a newline, columns aligned for a dump:
/// "waiting on channel      age     12.345 s  polls        7  feed.cpp:120".
inline std::string to_string(const task_info& t) {
  std::string state;
  if (t.state == task_state::waiting) {
    state = "waiting on ";
    state += to_string(t.waiting_on);
  } else if (t.state == task_state::running && t.worker) {
    state = "running on worker " + std::to_string(*t.worker);
  } else {
    state = to_string(t.state);
  }
  char line[96];
  std::snprintf(line, sizeof line, "%-24s age %10.3f s  polls %8llu  ", state.c_str(),
                std::chrono::duration<double>(t.age).count(), static_cast<unsigned long long>(t.polls));
  return line + t.site.to_string();
}

}  // namespace polarway
