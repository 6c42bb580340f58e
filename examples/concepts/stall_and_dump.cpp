// The stall detector and a task dump. A task spawned with a name calls a blocking function
// (usleep) inside the runtime, the mistake the detector is for: it is reported, by name, while
// it blocks and again when it is done. Meanwhile three tasks wait on a channel, a timer and a
// notify, and a dump taken from the main thread lists them with what each waits on and the
// coroutines each is suspended in (the timer's waiter two deep), as file+offset addresses that
// `addr2line -Cfe example_stall_and_dump 0x...` names.
#include <polarway/runtime.hpp>
#include <polarway/runtime/await_chain_text.hpp>
#include <polarway/sync/mpsc.hpp>
#include <polarway/sync/notify.hpp>
#include <polarway/time/sleep.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace pw = polarway;
using namespace std::chrono_literals;

pw::task<void> blocks_its_worker() {
  ::usleep(60'000);  // should have been co_await pw::sleep(60ms)
  co_return;
}

pw::task<void> waits_on_channel(pw::mpsc::receiver<int> rx) { (void)co_await rx.recv(); }
pw::task<void> sleeps_an_hour() { co_await pw::sleep(1h); }
pw::task<void> waits_on_timer() { co_await sleeps_an_hour(); }
pw::task<void> waits_on_notify(pw::notify& n) { co_await n.notified(); }

int main() {
  std::mutex mu;
  std::vector<pw::stall_report> reports;
  pw::runtime rt(pw::runtime_options{.workers = 2, .slow_poll = 20ms, .on_stall = [&](const pw::stall_report& r) {
                                       std::printf("%s\n", pw::to_string(r).c_str());
                                       std::lock_guard lock(mu);
                                       reports.push_back(r);
                                     }});

  auto [tx, rx] = pw::mpsc::channel<int>(1);
  pw::notify go;
  auto a = rt.spawn(waits_on_channel(std::move(rx)));
  auto b = rt.spawn(waits_on_timer());
  auto c = rt.spawn_named("waiter", waits_on_notify(go));
  rt.block_on([]() -> pw::task<void> { (void)co_await pw::spawn_named("blocker", blocks_its_worker()); }());

  // The three waiters are listed with their spawn sites (or name) and what they wait on.
  std::vector<pw::task_info> dump;
  for (int i = 0; i < 1000 && dump.size() < 3; ++i) {
    dump = rt.dump_tasks();
    std::this_thread::sleep_for(1ms);
  }
  std::printf("task dump: %zu tasks\n", dump.size());
  int kinds = 0;
  bool timer_chain = false;
  for (const pw::task_info& t : dump) {
    std::printf("  %s\n%s", pw::to_string(t).c_str(), pw::await_chain_text(t).c_str());
    kinds += t.state == pw::task_state::waiting &&
             (t.waiting_on == pw::wait_kind::channel || t.waiting_on == pw::wait_kind::timer ||
              t.waiting_on == pw::wait_kind::lock);
    timer_chain = timer_chain || (t.waiting_on == pw::wait_kind::timer && t.await_chain.size() == 2 && t.await_chain_whole);
  }
  a.abort();
  b.abort();
  c.abort();

  // The detector reports the blocker while it blocks (other runs may be reported too, if the
  // machine preempts a worker for longer than slow_poll).
  std::lock_guard lock(mu);
  bool named = false;
  for (const pw::stall_report& r : reports) named = named || (r.site.to_string() == "blocker" && r.still_running);
  std::printf("%zu reports, one naming the blocker while it blocked: %s\n", reports.size(), named ? "yes" : "no");
  return named && kinds == 3 && timer_chain ? 0 : 1;
}
