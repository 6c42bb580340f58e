// pw::rw_lock: many readers at once, or one writer (Tokio's RwLock). Here a table of prices is
// read by several lookup tasks while an updater rewrites it; a reader never sees the table half
// updated, and the updater is not starved by the stream of readers (the lock is FIFO).
#include <polarway/runtime.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace pw = polarway;

using table = std::map<std::string, int>;

// Looks prices up; every consistent table has equal prices for both symbols.
pw::task<int> lookups(pw::rw_lock<table>& prices, int rounds) {
  int inconsistent = 0;
  for (int i = 0; i < rounds; ++i) {
    auto t = co_await prices.read();  // shared with the other readers
    inconsistent += t->at("AAA") != t->at("BBB");
    co_await pw::yield_now();  // a guard may be held across co_await
  }
  co_return inconsistent;
}

pw::task<void> updater(pw::rw_lock<table>& prices, int updates) {
  for (int i = 1; i <= updates; ++i) {
    auto t = co_await prices.write();  // waits for the current readers; later ones wait for it
    (*t)["AAA"] = i;
    co_await pw::yield_now();  // half updated, but nobody can look
    (*t)["BBB"] = i;
  }
}

pw::task<int> run() {
  pw::rw_lock<table> prices(table{{"AAA", 0}, {"BBB", 0}});
  std::vector<pw::join_handle<int>> readers;
  for (int i = 0; i < 4; ++i) readers.push_back(pw::spawn(lookups(prices, 500)));
  auto writer = pw::spawn(updater(prices, 100));

  int inconsistent = 0;
  for (auto& r : readers) inconsistent += (co_await r).unwrap();
  (void)co_await writer;
  auto final_table = co_await prices.read();
  std::printf("final prices AAA=%d BBB=%d, inconsistent reads: %d\n", final_table->at("AAA"), final_table->at("BBB"),
              inconsistent);
  co_return inconsistent == 0 && final_table->at("AAA") == 100 && final_table->at("BBB") == 100 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
