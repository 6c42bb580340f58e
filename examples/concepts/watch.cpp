// pw::watch: one value that changes over time, read by many tasks (Tokio's watch channel).
// Here a configuration is reloaded a few times; workers wait for changes, read the latest
// configuration, and stop when the configuration source goes away. Intermediate versions may
// be skipped (a watch keeps only the latest), but every worker ends on the last one.
#include <polarway/runtime.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace pw = polarway;
using namespace std::chrono_literals;

struct config {
  int version = 0;
  std::string endpoint;
};

// Follows the configuration until its sender is gone; returns the last version it applied.
pw::task<int> worker(int id, pw::watch::receiver<config> rx) {
  int applied = rx.borrow()->version;  // the current value counts as seen already
  for (;;) {
    if (!(co_await rx.changed())) break;  // errc::closed: no sender left, latest value seen
    auto cfg = rx.borrow_and_update();    // a snapshot: a reload meanwhile does not change it
    applied = cfg->version;
    std::printf("worker %d applies version %d (%s)\n", id, cfg->version, cfg->endpoint.c_str());
  }
  co_return applied;
}

pw::task<int> run() {
  auto [tx, rx] = pw::watch::channel(config{1, "10.0.0.1:9000"});
  std::vector<pw::join_handle<int>> workers;
  for (int id = 0; id < 3; ++id) workers.push_back(pw::spawn(worker(id, rx)));  // receivers copy

  for (int version = 2; version <= 4; ++version) {
    co_await pw::sleep(2ms);
    // Modify in place (no allocation while no worker holds a borrow), then wake the workers.
    tx.send_modify([version](config& c) {
      c.version = version;
      c.endpoint = "10.0.0." + std::to_string(version) + ":9000";
    });
  }
  { auto source_gone = std::move(tx); }  // workers see the last version, then closed

  int failures = 0;
  for (auto& w : workers) failures += (co_await w).unwrap() != 4;
  co_return failures == 0 && rx.borrow()->version == 4 ? 0 : 1;
}

int main() {
  pw::runtime rt;
  return rt.block_on(run());
}
