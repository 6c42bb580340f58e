// pw::broadcast: one producer, several consumers, each of which sees every value (Tokio's
// broadcast channel). Here a price feed fans out to two consumers that start at once and to one
// that subscribes but only starts reading once everything was sent: it is told how many values
// the ring overwrote before it read them, then continues from the oldest one kept. Whatever
// the scheduling, every consumer reads or is told of all 100 prices.
#include <polarway/runtime.hpp>

#include <cstdint>
#include <cstdio>
#include <utility>
#include <vector>

namespace pw = polarway;

struct tally {
  long sum = 0;
  std::uint64_t received = 0;
  std::uint64_t missed = 0;
};

// Waits for `start`, then reads until the channel closes.
pw::task<tally> consume(pw::broadcast::receiver<int> rx, pw::cancellation_token start) {
  co_await start.cancelled();
  tally t;
  for (;;) {
    auto price = co_await rx.recv();
    if (price) {
      t.sum += *price;
      ++t.received;
    } else if (price.error().is_lagged()) {
      t.missed += price.error().missed();  // skipped; the next recv gives the oldest kept value
    } else {
      break;  // closed: every sender is gone and everything was read
    }
  }
  co_return t;
}

pw::task<int> run() {
  constexpr int prices = 100;
  constexpr int kept = 32;
  auto [tx, rx] = pw::broadcast::channel<int>(kept);  // keeps the last 32 values
  pw::cancellation_token now, all_sent;
  now.cancel();
  std::vector<pw::join_handle<tally>> consumers;
  consumers.push_back(pw::spawn(consume(std::move(rx), now)));
  consumers.push_back(pw::spawn(consume(tx.subscribe(), now)));
  consumers.push_back(pw::spawn(consume(tx.subscribe(), all_sent)));  // the laggard

  for (int price = 1; price <= prices; ++price) {
    auto receivers = tx.send(price);  // never waits; says how many receivers will see it
    if (!receivers || *receivers != 3) co_return 1;
    if (price % 4 == 0) co_await pw::yield_now();
  }
  { auto done = std::move(tx); }  // the last sender goes: the consumers drain, then see closed
  all_sent.cancel();

  int failures = 0;
  std::vector<tally> tallies;
  for (auto& c : consumers) tallies.push_back((co_await c).unwrap());
  for (std::size_t i = 0; i < tallies.size(); ++i) {
    const tally& t = tallies[i];
    std::printf("consumer %zu: received %llu (sum %ld), missed %llu\n", i, static_cast<unsigned long long>(t.received),
                t.sum, static_cast<unsigned long long>(t.missed));
    if (t.received + t.missed != prices) ++failures;  // every value was read or reported missed
  }
  // The laggard read only the last 32 prices, 69..100, and was told of the 68 before them.
  const tally& late = tallies[2];
  if (late.missed != prices - kept || late.sum != (prices - kept + 1 + prices) * kept / 2) ++failures;
  co_return failures == 0 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
