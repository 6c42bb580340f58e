// pw::spawn_blocking: run code that blocks (a blocking system call, a C library that does its
// own I/O, a long computation) on the runtime's blocking pool, so that no worker stalls. Here
// a blocking call waits for three heartbeats of a task on the runtime's only worker (which
// can beat only because the call is not on that worker) and then hashes a buffer; a second
// call, aborted before it could start, never runs.
#include <polarway/runtime.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <vector>

namespace pw = polarway;
using namespace std::chrono_literals;

// FNV-1a over a buffer: stands for any computation that would hold a worker too long.
std::uint64_t slow_hash(const std::vector<std::uint8_t>& data, const std::atomic<int>& beats) {
  while (beats.load() < 3) std::this_thread::sleep_for(1ms);  // blocking: fine here, never in a task
  std::uint64_t h = 1469598103934665603ull;
  for (std::uint8_t b : data) h = (h ^ b) * 1099511628211ull;
  return h;
}

pw::task<int> run() {
  std::vector<std::uint8_t> data(1 << 20, 7);
  std::atomic<bool> hashing_done{false};
  std::atomic<int> beats{0};
  // f runs on another thread: it takes its own copy of the data; the atomics outlive it
  // (this task awaits the handle below).
  pw::join_handle<std::uint64_t> hash = pw::spawn_blocking([data, &hashing_done, &beats] {
    const std::uint64_t h = slow_hash(data, beats);
    hashing_done.store(true);
    return h;
  });

  // Meanwhile the worker is free: a heartbeat ticks while the hash is computed.
  while (!hashing_done.load()) {
    co_await pw::sleep(5ms);
    beats.fetch_add(1);
  }
  pw::result<std::uint64_t, pw::join_error> h = co_await hash;

  // abort() before a call has started means it never runs (once running, it would finish).
  // With one worker, the call cannot have started: its task waits for this one to suspend.
  std::atomic<bool> ran{false};
  pw::join_handle<void> never = pw::spawn_blocking([&ran] { ran.store(true); });
  never.abort();
  const bool cancelled = (co_await never).is_err();

  std::printf("hash %016llx computed on the blocking pool during %d heartbeat(s); aborted call %s\n",
              static_cast<unsigned long long>(h.value_or(0)), beats.load(), ran.load() ? "ran" : "never ran");
  co_return h.is_ok() && beats.load() >= 3 && cancelled && !ran.load() ? 0 : 1;
}

int main() {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  return rt.block_on(run());
}
