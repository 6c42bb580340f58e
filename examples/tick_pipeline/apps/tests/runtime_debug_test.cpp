// task_dump_text: a header with the count, then one line per task, the oldest first, each
// naming its state, age, polls and site; with a real runtime's dump, the waiting task's line.
#include <doctest/doctest.h>

#include <chrono>
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
