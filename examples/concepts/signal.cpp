// pw::signal: Unix signals as awaitables. The usual shutdown pattern of a service: one task
// waits for Ctrl-C or SIGTERM (a race of the two) and cancels a stop token; the work watches
// the token and winds down cleanly. Here the program sends SIGTERM to itself once the work is
// under way.
#include <polarway/runtime.hpp>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

namespace pw = polarway;
using namespace std::chrono_literals;

// Cancels `stop` at the first SIGINT or SIGTERM; says which. The listeners are created by the
// caller before anything can raise a signal (a signal that comes before its listener exists
// gets its default action: SIGTERM would end the process).
pw::task<int> stop_on_signal(pw::signal::recv_awaiter interrupt, pw::signal::listener& term, pw::cancellation_token stop) {
  auto r = co_await pw::race(std::move(interrupt), term.recv());
  stop.cancel();
  co_return r.index() == 0 ? SIGINT : SIGTERM;
}

// Work that checks the token between steps, and finishes the step it is in.
pw::task<int> work(pw::cancellation_token stop) {
  int steps = 0;
  while (!stop.is_cancelled()) {
    (void)co_await pw::race(stop.cancelled(), pw::sleep(2ms));  // one step of "work"
    ++steps;
  }
  co_return steps;
}

pw::task<int> run() {
  pw::cancellation_token stop;
  auto term = pw::signal::signal(SIGTERM);
  auto watcher = pw::spawn(stop_on_signal(pw::signal::ctrl_c(), term, stop));
  auto worker = pw::spawn(work(stop));
  co_await pw::sleep(20ms);  // let the work get going
  ::kill(::getpid(), SIGTERM);
  const int which = (co_await watcher).value_or(0);
  const int steps = (co_await worker).value_or(-1);
  std::printf("stopped by %s after %d step(s) of work\n", which == SIGTERM ? "SIGTERM" : "something else", steps);
  co_return which == SIGTERM && steps >= 0 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
