// pw::race: wait for whichever comes first (Tokio's select!). Here a consumer takes messages
// from a channel until a stop token fires, with a heartbeat when the channel is quiet; the
// awaitables that lose each round are cancelled before the race returns.
#include <polarway/runtime.hpp>

#include <chrono>
#include <cstdio>

namespace pw = polarway;
using namespace std::chrono_literals;

pw::task<int> run() {
  auto [tx, rx] = pw::mpsc::channel<int>(16);
  pw::cancellation_token stop;

  // A producer: three messages, a pause long enough for heartbeats, then the stop.
  pw::join_handle<void> producer = pw::spawn([](pw::mpsc::sender<int> tx, pw::cancellation_token stop) -> pw::task<void> {
    for (int i = 1; i <= 3; ++i) (void)co_await tx.send(i);
    co_await pw::sleep(30ms);
    stop.cancel();
  }(tx, stop));

  int sum = 0, heartbeats = 0;
  for (;;) {
    auto r = co_await pw::race(rx.recv(), stop.cancelled(), pw::sleep(5ms));
    if (r.index() == 0) {
      sum += *r.get<0>();  // a message (the channel stays open: tx is alive here)
    } else if (r.index() == 1) {
      break;  // stopped
    } else {
      ++heartbeats;  // quiet for 5 ms
    }
  }
  (void)co_await producer;
  std::printf("received a sum of %d, %d heartbeat(s), then stopped\n", sum, heartbeats);
  co_return sum == 6 && heartbeats >= 1 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
