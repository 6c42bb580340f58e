// SIGINT / SIGTERM for the pipeline's programs, through pw::signal: construct stop_signals first
// thing in main (from then on the two signals no longer end the process, whatever thread the
// kernel hands them to), and spawn watch(): a task that races Ctrl-C (SIGINT) against SIGTERM
// and, at the first of them, cancels the program's stop token. No thread of its own, nothing
// blocked: the runtime's reactor delivers the signal. A second signal exits at once (status
// 130): the user insisted. The listeners, unlike a pw::signal::ctrl_c() per wait, see a second
// signal however soon it follows the first.
#pragma once

#include <atomic>

#include <polarway/runtime.hpp>

namespace ticks::app {

class stop_signals {
 public:
  /// Starts listening to SIGINT and SIGTERM (no runtime needed yet).
  stop_signals();
  stop_signals(const stop_signals&) = delete;
  stop_signals& operator=(const stop_signals&) = delete;

  /// Cancels `stop` at the first SIGINT or SIGTERM since construction (setting `by_signal`,
  /// if given), then exits the process with status 130 at the next one. Once only; the object
  /// must outlive the task (the runtime cancels it when it shuts down).
  polarway::task<void> watch(polarway::cancellation_token stop, std::atomic<bool>* by_signal = nullptr);

 private:
  polarway::signal::listener interrupt_;
  polarway::signal::listener terminate_;
};

}  // namespace ticks::app
