#include "signals.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <utility>

namespace pw = polarway;

namespace ticks::app {

stop_signals::stop_signals()
    : interrupt_(pw::signal::signal(SIGINT)),
      terminate_(pw::signal::signal(SIGTERM)) {}

pw::task<void> stop_signals::watch(pw::cancellation_token stop, std::atomic<bool>* by_signal) {
  auto first = co_await pw::race(interrupt_.recv(), terminate_.recv());
  const pw::result<void>& got = first.index() == 0 ? first.get<0>() : first.get<1>();
  if (!got) {  // the listeners could not be set up: the signals keep their default action
    std::fprintf(stderr, "cannot listen to SIGINT/SIGTERM: %s\n", got.error().message().c_str());
    co_return;
  }
  if (by_signal) by_signal->store(true);
  stop.cancel();
  // Both arms completed: SIGINT and SIGTERM both came, and that is a second signal already.
  if (!(first.completed<0>() && first.completed<1>())) (void)co_await pw::race(interrupt_.recv(), terminate_.recv());
  std::_Exit(130);
}

}  // namespace ticks::app
