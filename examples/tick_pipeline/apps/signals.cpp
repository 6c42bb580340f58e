#include "signals.hpp"

#include <pthread.h>
#include <signal.h>
#include <unistd.h>

namespace ticks::app {

namespace {
sigset_t stop_set() noexcept {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  sigaddset(&s, SIGTERM);
  sigaddset(&s, SIGUSR2);
  return s;
}
}  // namespace

void block_stop_signals() noexcept {
  const sigset_t s = stop_set();
  pthread_sigmask(SIG_BLOCK, &s, nullptr);
}

signal_watcher::signal_watcher(std::function<void(int)> on_signal)
    : thread_([on_signal = std::move(on_signal)] {
        const sigset_t s = stop_set();
        int seen = 0;
        for (;;) {
          int sig = 0;
          if (sigwait(&s, &sig) != 0) continue;
          if (sig == SIGUSR2) return;  // the destructor: the program is ending on its own
          if (++seen > 1) _exit(130);
          on_signal(sig);
        }
      }) {}

signal_watcher::~signal_watcher() {
  pthread_kill(thread_.native_handle(), SIGUSR2);
  thread_.join();
}

}  // namespace ticks::app
