// A task dump's await chain (detail/await_chain.hpp, task_info::await_chain) and
// pw::code_address_text: the coroutines a waiting task is suspended in, innermost first, up to
// its own; a coroutine of another type ends the chain without its frame being misread; a deep
// chain is cut at task_info::max_await_chain; the addresses name the right functions; and dumps
// taken while tasks suspend and resume through nested awaits on two workers never read a frame
// a worker is using (the point of the TSan build) nor lose a wake-up.
#include <doctest/doctest.h>
#include <dlfcn.h>

#include <atomic>
#include <chrono>
#include <coroutine>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "polarway/detail/await_chain.hpp"
#include "polarway/runtime.hpp"
#include "polarway/runtime/await_chain_text.hpp"
#include "polarway/sync/mpsc.hpp"
#include "polarway/time/sleep.hpp"

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

// The code address of the coroutine that awaits it (it does not suspend).
struct own_code {
  const void* code = nullptr;
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> self) noexcept {
    code = pw::detail::resume_function_of(self.address());
    return false;
  }
  const void* await_resume() const noexcept { return code; }
};

// A lazy coroutine type that is not a pw::task: awaited by symmetric transfer, it resumes its
// awaiter when it ends, as task does, but its promise is laid out differently.
struct other_coroutine {
  struct promise_type {
    std::coroutine_handle<> awaiter;
    other_coroutine get_return_object() noexcept {
      return other_coroutine{std::coroutine_handle<promise_type>::from_promise(*this)};
    }
    std::suspend_always initial_suspend() noexcept { return {}; }
    struct resume_awaiter {
      bool await_ready() noexcept { return false; }
      std::coroutine_handle<> await_suspend(std::coroutine_handle<promise_type> self) noexcept {
        return self.promise().awaiter;
      }
      void await_resume() noexcept {}
    };
    resume_awaiter final_suspend() noexcept { return {}; }
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::abort(); }
  };
  explicit other_coroutine(std::coroutine_handle<promise_type> h) noexcept : h_(h) {}
  other_coroutine(other_coroutine&& o) noexcept : h_(std::exchange(o.h_, {})) {}
  ~other_coroutine() {
    if (h_) h_.destroy();
  }
  bool await_ready() const noexcept { return false; }
  std::coroutine_handle<> await_suspend(std::coroutine_handle<> caller) noexcept {
    h_.promise().awaiter = caller;
    return h_;
  }
  void await_resume() const noexcept {}

 private:
  std::coroutine_handle<promise_type> h_;
};

using codes = std::vector<std::atomic<const void*>>;

pw::task<void> innermost(pw::mpsc::receiver<int>& rx, codes& at) {
  at[0] = co_await own_code{};
  (void)co_await rx.recv();
}
pw::task<void> middle(pw::mpsc::receiver<int>& rx, codes& at) {
  at[1] = co_await own_code{};
  co_await innermost(rx, at);
}
pw::task<void> outer(pw::mpsc::receiver<int> rx, codes& at) {
  at[2] = co_await own_code{};
  co_await middle(rx, at);
}

other_coroutine sleep_in_other(codes& at) {
  at[0] = co_await own_code{};
  co_await pw::sleep(1h);
}
pw::task<void> sleep_in_task(codes& at) {
  at[0] = co_await own_code{};
  co_await pw::sleep(1h);
}
other_coroutine task_in_other(codes& at) {
  at[1] = co_await own_code{};
  co_await sleep_in_task(at);
}
pw::task<void> awaits_other(bool task_inside, codes& at) {
  if (task_inside) co_await task_in_other(at);
  else co_await sleep_in_other(at);
}

pw::task<void> nest(int depth) {
  if (depth == 0) co_await pw::sleep(1h);
  else co_await nest(depth - 1);
}

// The one task of the dump once it is waiting with an await chain; empty after 20 s.
pw::task_info waiting_task(pw::runtime& rt) {
  for (int i = 0; i < 2'000; ++i) {
    auto dump = rt.dump_tasks();
    if (dump.size() == 1 && dump[0].state == pw::task_state::waiting && !dump[0].await_chain.empty())
      return dump[0];
    std::this_thread::sleep_for(10ms);
  }
  return {};
}

std::vector<const void*> loaded(const codes& at) {
  std::vector<const void*> out;
  for (const auto& code : at) out.push_back(code.load());
  return out;
}

}  // namespace

TEST_CASE("the promise of a task is found from its frame's address, whatever the task's value") {
  auto check = [](auto t) {
    auto h = t.handle();
    using base = pw::detail::task_promise_base;
    const base* typed = &h.promise();
    const base* found = &std::coroutine_handle<base>::from_address(h.address()).promise();
    CHECK(typed == found);
  };
  struct alignas(16) wide {
    long double x;
  };
  check([]() -> pw::task<void> { co_return; }());
  check([]() -> pw::task<char> { co_return 'a'; }());
  check([]() -> pw::task<long double> { co_return 1.0L; }());
  check([]() -> pw::task<wide> { co_return wide{2.0L}; }());
  static_assert(pw::detail::is_task_promise<pw::task<wide>::promise_type>);
  struct alignas(64) wider {
    char c;
  };
  // A promise aligned past the frame's leading pointers sits elsewhere: not read by a dump.
  static_assert(!pw::detail::is_task_promise<pw::task<wider>::promise_type>);
  static_assert(!pw::detail::is_task_promise<other_coroutine::promise_type>);
  static_assert(!pw::detail::is_task_promise<void>);
}

TEST_CASE("a waiting task's await chain lists its coroutines, innermost first, up to its own") {
  pw::runtime rt(pw::runtime_options{.workers = 2});
  codes at(3);
  auto [tx, rx] = pw::mpsc::channel<int>(1);
  auto handle = rt.spawn(outer(std::move(rx), at));
  const pw::task_info t = waiting_task(rt);
  CHECK(t.waiting_on == pw::wait_kind::channel);
  CHECK(t.await_chain == loaded(at));
  CHECK(t.await_chain_whole);
  const std::string text = pw::await_chain_text(t, "  ");
  CHECK(text.find("  in await_chain_test+0x") == 0);
  CHECK(text.find("not a pw::task") == std::string::npos);
  REQUIRE(rt.block_on([](pw::mpsc::sender<int> tx) -> pw::task<bool> { co_return (co_await tx.send(1)).has_value(); }(
      std::move(tx))));
  CHECK(rt.block_on([](pw::join_handle<void> h) -> pw::task<bool> { co_return (co_await std::move(h)).has_value(); }(
      std::move(handle))));
}

TEST_CASE("a coroutine that is not a pw::task ends the chain, and its frame is not read as a task's") {
  for (const bool task_inside : {false, true}) {
    CAPTURE(task_inside);
    pw::runtime rt(pw::runtime_options{.workers = 1});
    codes at(task_inside ? 2 : 1);
    rt.spawn(awaits_other(task_inside, at)).detach();
    const pw::task_info t = waiting_task(rt);
    CHECK(t.waiting_on == pw::wait_kind::timer);
    // [the coroutine in pw::sleep] or [the task in pw::sleep, the other coroutine awaiting it]
    CHECK(t.await_chain == loaded(at));
    CHECK_FALSE(t.await_chain_whole);
    CHECK(pw::await_chain_text(t).find("in (awaited by a coroutine that is not a pw::task)\n") != std::string::npos);
  }  // shutdown aborts the task: its frames are destroyed, the other coroutine's with them
}

TEST_CASE("a chain deeper than max_await_chain is cut there") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  rt.spawn(nest(100)).detach();
  const pw::task_info t = waiting_task(rt);
  CHECK(t.await_chain.size() == pw::task_info::max_await_chain);
  CHECK_FALSE(t.await_chain_whole);
  // Every level is the same coroutine function.
  for (const void* code : t.await_chain) CHECK(code == t.await_chain.back());
  const std::string text = pw::await_chain_text(t);
  const std::string last_line = "    in (more coroutines)\n";
  REQUIRE(text.size() > last_line.size());
  CHECK(text.substr(text.size() - last_line.size()) == last_line);
}

TEST_CASE("code_address_text gives the file and offset addr2line takes, and a dynamic symbol's name") {
  pw::runtime rt(pw::runtime_options{.workers = 1});
  codes at(3);
  auto [tx, rx] = pw::mpsc::channel<int>(1);
  rt.spawn(outer(std::move(rx), at)).detach();
  const pw::task_info t = waiting_task(rt);
  REQUIRE(t.await_chain.size() == 3);
  // "await_chain_test+0x1234": addr2line, on the test's own file, names the coroutine `middle`.
  const std::string middle_text = pw::code_address_text(t.await_chain[1]);
  const std::string prefix = "await_chain_test+";
  REQUIRE(middle_text.rfind(prefix, 0) == 0);
  Dl_info self{};
  REQUIRE(::dladdr(t.await_chain[1], &self));
  const std::string command =
      "addr2line -Cfe '" + std::string(self.dli_fname) + "' " + middle_text.substr(prefix.size()) + " 2>&1";
  std::string named;
  if (FILE* out = ::popen(command.c_str(), "r")) {
    char line[4096];
    if (std::fgets(line, sizeof line, out)) named = line;
    ::pclose(out);
  }
  CAPTURE(command);
  CHECK(named.find("middle(") != std::string::npos);
  // A function the dynamic symbol table holds: libc's own write() (the sanitizers' runtimes
  // interpose one of their own, which RTLD_DEFAULT would find).
  void* libc = ::dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  REQUIRE(libc);
  const void* write_code = ::dlsym(libc, "write");
  ::dlclose(libc);
  REQUIRE(write_code);
  const std::string write_text = pw::code_address_text(write_code);
  CAPTURE(write_text);
  CHECK(write_text.find("write+0x0 in libc.so.6+0x") != std::string::npos);  // glibc names it __write
  CHECK(pw::code_address_text(nullptr) == "0x0");
  (void)tx;
}

namespace {

// Two tasks pass a counter back and forth, each receiving it `rounds` times, each hand-off
// awaited one to three coroutines deep, so that dumps find them waiting at every depth and
// woken meanwhile.
pw::task<bool> pass_on(pw::mpsc::receiver<int>& from, pw::mpsc::sender<int>& to, int depth) {
  if (depth > 0) co_return co_await pass_on(from, to, depth - 1);
  auto got = co_await from.recv();
  if (!got) co_return false;
  (void)co_await to.send(*got + 1);  // the other player's last send may find this one gone
  co_return true;
}
pw::task<int> player(pw::mpsc::receiver<int> from, pw::mpsc::sender<int> to, int rounds, std::atomic<int>& done) {
  int passed = 0;
  for (int i = 0; i < rounds; ++i) passed += co_await pass_on(from, to, i % 3);
  done.fetch_add(1);
  co_return passed;
}
pw::task<int> sum_of(std::vector<pw::join_handle<int>> handles) {
  int sum = 0;
  for (auto& h : handles) {
    auto got = co_await std::move(h);
    if (got) sum += *got;
  }
  co_return sum;
}

}  // namespace

TEST_CASE("dumps taken while tasks suspend and resume through nested awaits lose nothing") {
  constexpr int pairs = 50, rounds = 400;
  pw::runtime rt(pw::runtime_options{.workers = 2});
  std::atomic<int> done{0};
  std::vector<pw::join_handle<int>> handles;
  for (int p = 0; p < pairs; ++p) {
    auto [a_tx, a_rx] = pw::mpsc::channel<int>(1);
    auto [b_tx, b_rx] = pw::mpsc::channel<int>(1);
    REQUIRE(a_tx.try_send(0));  // the first player starts with the counter
    handles.push_back(rt.spawn(player(std::move(a_rx), std::move(b_tx), rounds, done)));
    handles.push_back(rt.spawn(player(std::move(b_rx), std::move(a_tx), rounds, done)));
  }
  std::size_t dumps = 0, chains = 0;
  bool well_formed = true;
  while (done.load() < 2 * pairs) {
    for (const auto& t : rt.dump_tasks()) {
      if (t.await_chain.empty()) continue;
      ++chains;
      // player <- pass_on x (1..3) [<- sum_of is not listed: it runs in block_on later]
      well_formed = well_formed && t.await_chain_whole && t.await_chain.size() >= 2 && t.await_chain.size() <= 4;
    }
    ++dumps;
  }
  CHECK(well_formed);
  MESSAGE(dumps << " dumps, " << chains << " chains read while the tasks ran");
  CHECK(dumps > 0);
  CHECK(rt.block_on(sum_of(std::move(handles))) == 2 * pairs * rounds);
}
