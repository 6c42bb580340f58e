// A spawned task and its join handle: co_await the handle for the task's value; abort() cancels
// it; detach() lets it run on with nobody waiting for it.
#include <polarway/runtime.hpp>

#include <chrono>
#include <cstdio>

namespace pw = polarway;
using namespace std::chrono_literals;

pw::task<int> answer() {
  co_await pw::sleep(1ms);
  co_return 42;
}

pw::task<void> forever() {
  for (;;) co_await pw::sleep(1h);
}

pw::task<int> run() {
  // Joined: the task's value, as a result (an error says it was cancelled or panicked).
  pw::result<int, pw::join_error> value = co_await pw::spawn(answer());
  if (!value || *value != 42) co_return 1;

  // Aborted: the join reports the cancellation.
  pw::join_handle<void> stuck = pw::spawn(forever());
  stuck.abort();
  pw::result<void, pw::join_error> gone = co_await stuck;
  if (gone || !gone.error().is_cancelled()) co_return 2;

  std::printf("joined %d; the aborted task reported cancelled\n", *value);
  co_return 0;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
