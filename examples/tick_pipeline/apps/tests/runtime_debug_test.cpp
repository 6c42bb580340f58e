// task_dump_text: a header with the count, then one line per task, the oldest first, each
// naming its state, age, polls and site; with a real runtime's dump, the waiting task's line.
// task_dump_signal: SIGUSR1 writes the flight recorder's trace to a numbered file, once per
// signal, and nothing when the recorder is off.
#include <doctest/doctest.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <polarway/runtime.hpp>
#include <polarway/sync/oneshot.hpp>

#include "runtime_debug.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

TEST_CASE("task_dump_text: the count, then the tasks oldest first") {
  std::vector<pw::task_info> tasks(3);
  tasks[0].site = pw::spawn_site::here("young.cpp", 3);
  tasks[0].age = 1ms;
  tasks[0].state = pw::task_state::scheduled;
  tasks[1].site = pw::spawn_site::named("oldest");
  tasks[1].age = 5s;
  tasks[1].waiting_on = pw::wait_kind::io;
  tasks[1].polls = 42;
  tasks[2].site = pw::spawn_site::here("middle.cpp", 7);
  tasks[2].age = 2s;
  tasks[2].state = pw::task_state::running;
  tasks[2].worker = 1;
  const std::string text = ticks::app::task_dump_text(tasks);
  CHECK(text.starts_with("task dump: 3 tasks\n"));
  const auto oldest = text.find("oldest"), middle = text.find("middle.cpp:7"), young = text.find("young.cpp:3");
  REQUIRE(oldest != std::string::npos);
  REQUIRE(middle != std::string::npos);
  REQUIRE(young != std::string::npos);
  CHECK(oldest < middle);
  CHECK(middle < young);
  CHECK(text.find("waiting on io            age      5.000 s  polls       42  oldest\n") != std::string::npos);
  CHECK(text.find("running on worker 1") != std::string::npos);
  CHECK(text.find("scheduled") != std::string::npos);
  CHECK(ticks::app::task_dump_text({}) == "task dump: 0 tasks\n");
}

namespace {

pw::task<void> wait_for(pw::oneshot::receiver<int> rx) { (void)co_await rx; }

}  // namespace

TEST_CASE("task_dump_text of a live runtime names the waiting task and what it waits on") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  auto [tx, rx] = pw::oneshot::channel<int>();
  auto waiter = rt.spawn_named("order-book", wait_for(std::move(rx)));
  std::string text;
  for (int i = 0; i < 2'000; ++i) {
    text = ticks::app::task_dump_text(rt.dump_tasks());
    if (text.find("waiting on channel") != std::string::npos) break;
    std::this_thread::sleep_for(1ms);
  }
  CHECK(text.starts_with("task dump: 1 tasks\n"));
  CHECK(text.find("waiting on channel") != std::string::npos);
  CHECK(text.find("order-book\n") != std::string::npos);
  (void)tx.send(1);
  waiter.detach();
}

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::string out;
  if (std::FILE* f = std::fopen(p.c_str(), "r")) {
    char chunk[4096];
    for (std::size_t n; (n = std::fread(chunk, 1, sizeof chunk, f)) > 0;) out.append(chunk, n);
    std::fclose(f);
  }
  return out;
}

// Waits up to 20 s for `p` to hold a whole trace (it is written while we look).
bool wait_for_trace(const std::filesystem::path& p) {
  for (int i = 0; i < 2'000; ++i) {
    if (read_file(p).ends_with("]}\n")) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

}  // namespace

TEST_CASE("SIGUSR1 writes the flight recorder's trace to a new numbered file each time") {
  const auto dir = std::filesystem::temp_directory_path() / ("runtime_debug_test." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  {
    ticks::app::task_dump_signal usr1;
    pw::runtime rt(pw::runtime_options{.workers = 1, .flight_recorder = 1024});
    auto watcher = rt.spawn(usr1.watch(rt, "debugged", dir.string()));
    const std::string stem = (dir / ("debugged." + std::to_string(::getpid()))).string();
    REQUIRE(std::raise(SIGUSR1) == 0);
    REQUIRE(wait_for_trace(stem + ".1.trace.json"));
    CHECK(read_file(stem + ".1.trace.json").starts_with("{\"displayTimeUnit\":\"ns\",\"traceEvents\":["));
    REQUIRE(std::raise(SIGUSR1) == 0);
    CHECK(wait_for_trace(stem + ".2.trace.json"));
    watcher.abort();
  }
  {
    ticks::app::task_dump_signal usr1;
    pw::runtime rt(pw::runtime_options{.workers = 1});  // no recorder: a dump, and no file
    auto watcher = rt.spawn(usr1.watch(rt, "unrecorded", dir.string()));
    REQUIRE(std::raise(SIGUSR1) == 0);
    // The dump goes to stderr. The watcher has answered the signal once it waits on the next
    // one after a second run (its first run takes a signal already pending, or waits for it;
    // either way a wait for the blocking job follows).
    bool answered = false;
    for (int i = 0; i < 2'000 && !answered; ++i) {
      for (const auto& t : rt.dump_tasks())
        answered = answered || (t.waiting_on == pw::wait_kind::signal && t.state == pw::task_state::waiting && t.polls >= 2);
      if (!answered) std::this_thread::sleep_for(10ms);
    }
    CHECK(answered);
    watcher.abort();
  }
  std::size_t unrecorded = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    unrecorded += e.path().filename().string().starts_with("unrecorded");
  CHECK(unrecorded == 0);
  std::filesystem::remove_all(dir);
}
