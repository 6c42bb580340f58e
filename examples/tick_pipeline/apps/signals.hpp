// SIGINT / SIGTERM without async-signal-unsafe handlers and without blocking a worker:
// block_stop_signals() blocks them in the calling thread before the runtime starts (its
// workers inherit the mask, so no worker is ever interrupted), and a plain std::thread waits in
// sigwait() and calls `on_signal` on its own thread, where the application may use any
// thread-safe call (the binaries spawn a task that cancels their stop token through
// runtime::spawn). A second signal exits at once (status 130): the user insisted.
#pragma once

#include <functional>
#include <thread>

namespace ticks::app {

/// Blocks SIGINT, SIGTERM (and SIGUSR2, used to stop the watcher) in this thread; call it
/// first thing in main, before any other thread exists.
void block_stop_signals() noexcept;

class signal_watcher {
 public:
  explicit signal_watcher(std::function<void(int)> on_signal);
  ~signal_watcher();
  signal_watcher(const signal_watcher&) = delete;
  signal_watcher& operator=(const signal_watcher&) = delete;

 private:
  std::thread thread_;
};

}  // namespace ticks::app
