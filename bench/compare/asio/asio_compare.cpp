// Asio 1.22 (standalone, Debian libasio-dev) C++20-coroutine implementation of the
// side-by-side benchmark workloads defined in /work/shared/WORKLOADS.md; protocol in
// ../README.md.
//
// Threads: one io_context, run by <workers> threads (concurrency hint = workers). Every task is
// an asio::awaitable<> started with asio::co_spawn on the io_context's executor (no strands).
//
// What Asio does not offer and how it is done here (noted in the results table):
//  * "wait for a signal" / joining spawned tasks: a one-shot Event built on
//    asio::async_initiate (an atomic state word plus the stored completion handler, resumed with
//    asio::post); joins are an atomic countdown that sets the Event.
//  * bounded channels: asio::experimental::channel (1 thread) or
//    asio::experimental::concurrent_channel (2 threads), both in 1.22.
//  * semaphore: no primitive in 1.22; a channel of capacity 10 holding 10 tokens
//    (acquire = async_receive, release = try_send).
//  * yield: co_await asio::post(executor, use_awaitable).
//  * UDP: no batched receive (recvmmsg) in Asio; udp_flood's receiver waits for readability
//    (async_wait) and then reads with non-blocking receive() until would_block.
//  * broadcast and watch channels: none in Asio; those rows are not implemented (n/a).
//  * race (Tokio's select!): experimental::make_parallel_group(...).async_wait(wait_for_one())
//    over deferred operations; the group cancels the losers through their cancellation slots.
#include <asio.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/experimental/concurrent_channel.hpp>
#include <asio/experimental/deferred.hpp>
#include <asio/experimental/parallel_group.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../common/compare_harness.hpp"

using asio::awaitable;
using asio::co_spawn;
using asio::detached;
using asio::use_awaitable;
using compare::Clock;
using compare::Figure;
using compare::seconds_since;
using u64 = std::uint64_t;

namespace {

// ---------------------------------------------------------------------------------------------
// One-shot event: set() may be called from any thread, before or after wait() started.
class Event {
  struct Waiter {
    virtual void post() = 0;
    virtual ~Waiter() = default;
  };
  template <class Handler>
  struct WaiterImpl final : Waiter {
    Handler h;
    explicit WaiterImpl(Handler&& x) : h(std::move(x)) {}
    void post() override {
      auto ex = asio::get_associated_executor(h);
      asio::post(ex, std::move(h));
    }
  };
  enum : int { kIdle = 0, kWaiting = 1, kSet = 2 };
  std::atomic<int> state_{kIdle};
  std::unique_ptr<Waiter> waiter_;

 public:
  void set() {
    if (state_.exchange(kSet, std::memory_order_acq_rel) == kWaiting) {
      auto w = std::move(waiter_);  // must not touch *this after posting
      w->post();
    }
  }
  awaitable<void> wait() {
    if (state_.load(std::memory_order_acquire) == kSet) co_return;
    co_await asio::async_initiate<const asio::use_awaitable_t<>&, void()>(
        [this](auto handler) {
          waiter_ = std::make_unique<WaiterImpl<decltype(handler)>>(std::move(handler));
          int expected = kIdle;
          if (!state_.compare_exchange_strong(expected, kWaiting, std::memory_order_acq_rel)) {
            auto w = std::move(waiter_);
            w->post();
          }
        },
        use_awaitable);
  }
};

// Countdown that sets an Event when it reaches zero.
struct Join {
  explicit Join(u64 n) : left(n) {}
  std::atomic<u64> left;
  Event done;
  void arrive() {
    if (left.fetch_sub(1, std::memory_order_acq_rel) == 1) done.set();
  }
};

template <class Sig>
using st_channel = asio::experimental::channel<Sig>;
template <class Sig>
using mt_channel = asio::experimental::concurrent_channel<Sig>;

awaitable<void> yield_now() {
  co_await asio::post(co_await asio::this_coro::executor, use_awaitable);
}

std::string fmt(const char* f, auto... v) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, v...);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// spawn_many_100k
awaitable<void> spawn_many_child(std::atomic<u64>* counter, u64 n, Event* ev) {
  if (counter->fetch_add(1, std::memory_order_acq_rel) + 1 == n) ev->set();
  co_return;
}

awaitable<std::vector<Figure>> spawn_many(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.spawn_many();
  std::atomic<u64> counter{0};
  Event ev;
  auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i) co_spawn(ex, spawn_many_child(&counter, n, &ev), detached);
  co_await ev.wait();
  double s = seconds_since(t0);
  u64 c = counter.load();
  co_return std::vector<Figure>{{"spawn_many_100k", s * 1e9 / double(n), "ns/task", c == n,
                                 fmt("%llu tasks, counter=%llu", (unsigned long long)n,
                                     (unsigned long long)c)}};
}

// yield_many_200x1000
awaitable<void> yield_child(u64 yields, std::atomic<u64>* total, Join* j) {
  for (u64 i = 0; i < yields; ++i) co_await yield_now();
  total->fetch_add(yields, std::memory_order_relaxed);
  j->arrive();
}

awaitable<std::vector<Figure>> yield_many(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 tasks = sz.yield_tasks(), per = sz.yield_per_task();
  std::atomic<u64> total{0};
  Join j(tasks);
  auto t0 = Clock::now();
  for (u64 i = 0; i < tasks; ++i) co_spawn(ex, yield_child(per, &total, &j), detached);
  co_await j.done.wait();
  double s = seconds_since(t0);
  bool ok = total.load() == tasks * per;
  co_return std::vector<Figure>{{"yield_many_200x1000", s * 1e9 / double(tasks * per), "ns/yield",
                                 ok, fmt("%llu yields", (unsigned long long)total.load())}};
}

// ping_pong_100k
template <class Chan>
awaitable<void> pong(Chan* in, Chan* out, u64 n, Join* j) {
  for (u64 i = 0; i < n; ++i) {
    u64 v = co_await in->async_receive(use_awaitable);
    co_await out->async_send(asio::error_code{}, v + 1, use_awaitable);
  }
  j->arrive();
}

template <class Chan>
awaitable<std::vector<Figure>> ping_pong(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.ping_pong();
  Chan a2b(ex, 1), b2a(ex, 1);
  Join j(1);
  auto t0 = Clock::now();
  co_spawn(ex, pong(&a2b, &b2a, n, &j), detached);
  u64 v = 0;
  bool ok = true;
  for (u64 i = 0; i < n; ++i) {
    co_await a2b.async_send(asio::error_code{}, v, use_awaitable);
    u64 r = co_await b2a.async_receive(use_awaitable);
    ok = ok && r == v + 1;
    v = r;
  }
  double s = seconds_since(t0);
  co_await j.done.wait();
  ok = ok && v == n;
  co_return std::vector<Figure>{{"ping_pong_100k", s * 1e9 / double(n), "ns/round_trip", ok,
                                 fmt("final value %llu", (unsigned long long)v)}};
}

// chained_spawn_1000x100
awaitable<void> chain(u64 depth, Event* ev, std::atomic<u64>* spawned) {
  if (depth == 0) {
    ev->set();
    co_return;
  }
  spawned->fetch_add(1, std::memory_order_relaxed);
  co_spawn(co_await asio::this_coro::executor, chain(depth - 1, ev, spawned), detached);
}

awaitable<std::vector<Figure>> chained_spawn(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 depth = sz.chain_depth(), reps = sz.chain_reps();
  std::atomic<u64> spawned{0};
  auto t0 = Clock::now();
  for (u64 r = 0; r < reps; ++r) {
    Event ev;
    spawned.fetch_add(1, std::memory_order_relaxed);
    co_spawn(ex, chain(depth - 1, &ev, &spawned), detached);
    co_await ev.wait();
  }
  double s = seconds_since(t0);
  bool ok = spawned.load() == depth * reps;
  co_return std::vector<Figure>{{"chained_spawn_1000x100", s * 1e9 / double(depth * reps),
                                 "ns/spawn", ok,
                                 fmt("%llu spawns", (unsigned long long)spawned.load())}};
}

// mpsc_*
template <class Chan>
awaitable<void> producer(Chan* ch, u64 first, u64 count, Join* j) {
  for (u64 i = 0; i < count; ++i) co_await ch->async_send(asio::error_code{}, first + i, use_awaitable);
  j->arrive();
}

template <class Chan>
awaitable<std::vector<Figure>> mpsc(const compare::Sizes& sz, const char* name, u64 producers,
                                    u64 per_producer) {
  auto ex = co_await asio::this_coro::executor;
  Chan ch(ex, sz.mpsc_capacity());
  const u64 total = producers * per_producer;
  Join j(producers);
  auto t0 = Clock::now();
  for (u64 p = 0; p < producers; ++p)
    co_spawn(ex, producer(&ch, p * per_producer, per_producer, &j), detached);
  u64 sum = 0;
  for (u64 i = 0; i < total; ++i) sum += co_await ch.async_receive(use_awaitable);
  double s = seconds_since(t0);
  co_await j.done.wait();
  const u64 expect = total * (total - 1) / 2;
  co_return std::vector<Figure>{{name, double(total) / s, "msg/s", sum == expect,
                                 fmt("%llu msgs, sum %llu (expected %llu)", (unsigned long long)total,
                                     (unsigned long long)sum, (unsigned long long)expect)}};
}

// semaphore_1000t_10p_x100 (channel-of-tokens semaphore: Asio 1.22 has no semaphore)
template <class TokenChan>
awaitable<void> sem_task(TokenChan* tokens, u64 iters, std::atomic<u64>* held,
                         std::atomic<u64>* max_held, std::atomic<u64>* acquires, Join* j) {
  for (u64 i = 0; i < iters; ++i) {
    co_await tokens->async_receive(use_awaitable);
    u64 h = held->fetch_add(1, std::memory_order_acq_rel) + 1;
    u64 m = max_held->load(std::memory_order_relaxed);
    while (h > m && !max_held->compare_exchange_weak(m, h, std::memory_order_relaxed)) {
    }
    acquires->fetch_add(1, std::memory_order_relaxed);
    co_await yield_now();
    held->fetch_sub(1, std::memory_order_acq_rel);
    if (!tokens->try_send(asio::error_code{}, u64{1})) std::abort();  // cannot overflow: 10 tokens
  }
  j->arrive();
}

template <class TokenChan>
awaitable<std::vector<Figure>> semaphore(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 tasks = sz.sem_tasks(), permits = sz.sem_permits(), iters = sz.sem_iters();
  TokenChan tokens(ex, permits);
  for (u64 i = 0; i < permits; ++i) tokens.try_send(asio::error_code{}, u64{1});
  std::atomic<u64> held{0}, max_held{0}, acquires{0};
  Join j(tasks);
  auto t0 = Clock::now();
  for (u64 t = 0; t < tasks; ++t)
    co_spawn(ex, sem_task(&tokens, iters, &held, &max_held, &acquires, &j), detached);
  co_await j.done.wait();
  double s = seconds_since(t0);
  bool ok = acquires.load() == tasks * iters && max_held.load() <= permits;
  co_return std::vector<Figure>{
      {"semaphore_1000t_10p_x100", s * 1e9 / double(tasks * iters), "ns/acquire", ok,
       fmt("%llu acquires, max held %llu; semaphore = channel of %llu tokens",
           (unsigned long long)acquires.load(), (unsigned long long)max_held.load(),
           (unsigned long long)permits)}};
}

// timers_5k / timers_100k
awaitable<void> timer_task(u64 ms, std::atomic<u64>* early, Join* j) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  auto start = Clock::now();
  t.expires_after(std::chrono::milliseconds(ms));
  co_await t.async_wait(use_awaitable);
  if (Clock::now() - start < std::chrono::milliseconds(ms))
    early->fetch_add(1, std::memory_order_relaxed);
  j->arrive();
}

awaitable<std::vector<Figure>> timers(const std::string& name, u64 n) {
  auto ex = co_await asio::this_coro::executor;
  std::atomic<u64> early{0};
  Join j(n);
  auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i) co_spawn(ex, timer_task(i % 10, &early, &j), detached);
  double sched = seconds_since(t0);
  co_await j.done.wait();
  double total = seconds_since(t0);
  bool ok = early.load() == 0;
  std::string d = fmt("%llu timers, %llu woke early", (unsigned long long)n,
                      (unsigned long long)early.load());
  co_return std::vector<Figure>{{name + "_sched", double(n) / sched, "timers/s", ok, d},
                                {name + "_total", total * 1e3, "ms", ok, d}};
}

// tcp_echo_50c_x2000_64B
awaitable<void> echo_session(asio::ip::tcp::socket sock, u64 bytes) {
  std::vector<char> buf(bytes);
  try {
    for (;;) {
      co_await asio::async_read(sock, asio::buffer(buf), use_awaitable);
      co_await asio::async_write(sock, asio::buffer(buf), use_awaitable);
    }
  } catch (const std::exception&) {
    // EOF: the client is done.
  }
}

awaitable<void> echo_server(asio::ip::tcp::acceptor* acc, u64 conns, u64 bytes) {
  for (u64 i = 0; i < conns; ++i) {
    auto sock = co_await acc->async_accept(use_awaitable);
    sock.set_option(asio::ip::tcp::no_delay(true));
    co_spawn(acc->get_executor(), echo_session(std::move(sock), bytes), detached);
  }
}

awaitable<void> echo_client(asio::ip::tcp::endpoint ep, u64 id, u64 msgs, u64 bytes,
                            std::atomic<u64>* good, std::atomic<u64>* bad, Join* j) {
  try {
    asio::ip::tcp::socket sock(co_await asio::this_coro::executor);
    co_await sock.async_connect(ep, use_awaitable);
    sock.set_option(asio::ip::tcp::no_delay(true));
    std::vector<char> out(bytes), in(bytes);
    for (u64 m = 0; m < msgs; ++m) {
      for (u64 b = 0; b < bytes; ++b) out[b] = char((id * 131 + m * 7 + b) & 0xff);
      co_await asio::async_write(sock, asio::buffer(out), use_awaitable);
      co_await asio::async_read(sock, asio::buffer(in), use_awaitable);
      if (std::memcmp(out.data(), in.data(), bytes) == 0)
        good->fetch_add(1, std::memory_order_relaxed);
      else
        bad->fetch_add(1, std::memory_order_relaxed);
    }
  } catch (const std::exception&) {
    bad->fetch_add(1, std::memory_order_relaxed);
  }
  j->arrive();
}

awaitable<std::vector<Figure>> tcp_echo(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 conns = sz.tcp_conns(), msgs = sz.tcp_msgs(), bytes = sz.tcp_msg_bytes();
  asio::ip::tcp::acceptor acc(ex, {asio::ip::make_address("127.0.0.1"), 0});
  auto ep = acc.local_endpoint();
  std::atomic<u64> good{0}, bad{0};
  Join j(conns);
  auto t0 = Clock::now();
  co_spawn(ex, echo_server(&acc, conns, bytes), detached);
  for (u64 c = 0; c < conns; ++c) co_spawn(ex, echo_client(ep, c, msgs, bytes, &good, &bad, &j), detached);
  co_await j.done.wait();
  double s = seconds_since(t0);
  bool ok = good.load() == conns * msgs && bad.load() == 0;
  co_return std::vector<Figure>{{"tcp_echo_50c_x2000_64B", double(conns * msgs) / s, "msg/s", ok,
                                 fmt("%llu echoes ok, %llu bad", (unsigned long long)good.load(),
                                     (unsigned long long)bad.load())}};
}

// skynet
struct SumJoin {
  explicit SumJoin(u64 n) : join(n) {}
  std::atomic<u64> sum{0};
  Join join;
};

awaitable<u64> skynet(u64 num, u64 size) {
  if (size == 1) co_return num;
  auto ex = co_await asio::this_coro::executor;
  SumJoin sj(10);
  const u64 child = size / 10;
  for (u64 i = 0; i < 10; ++i)
    co_spawn(ex, skynet(num + i * child, child), [&sj](std::exception_ptr, u64 v) {
      sj.sum.fetch_add(v, std::memory_order_relaxed);
      sj.join.arrive();
    });
  co_await sj.join.done.wait();
  co_return sj.sum.load(std::memory_order_relaxed);
}

awaitable<std::vector<Figure>> skynet_run(const std::string& name, u64 leaves) {
  auto ex = co_await asio::this_coro::executor;
  SumJoin root(1);
  auto t0 = Clock::now();
  co_spawn(ex, skynet(0, leaves), [&root](std::exception_ptr, u64 v) {
    root.sum.store(v, std::memory_order_relaxed);
    root.join.arrive();
  });
  co_await root.join.done.wait();
  double s = seconds_since(t0);
  const u64 tasks = compare::skynet_tasks(leaves);
  const u64 expect = leaves * (leaves - 1) / 2, got = root.sum.load();
  co_return std::vector<Figure>{{name, s * 1e9 / double(tasks), "ns/task", got == expect,
                                 fmt("result %llu (expected %llu), %llu tasks, %.3f s",
                                     (unsigned long long)got, (unsigned long long)expect,
                                     (unsigned long long)tasks, s)}};
}

// fib_30
awaitable<u64> fib(int n) {
  if (n < 2) co_return u64(n);
  auto ex = co_await asio::this_coro::executor;
  SumJoin sj(2);
  auto add = [&sj](std::exception_ptr, u64 v) {
    sj.sum.fetch_add(v, std::memory_order_relaxed);
    sj.join.arrive();
  };
  co_spawn(ex, fib(n - 1), add);
  co_spawn(ex, fib(n - 2), add);
  co_await sj.join.done.wait();
  co_return sj.sum.load(std::memory_order_relaxed);
}

awaitable<std::vector<Figure>> fib_run(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const int n = sz.fib_n();
  SumJoin root(1);
  auto t0 = Clock::now();
  co_spawn(ex, fib(n), [&root](std::exception_ptr, u64 v) {
    root.sum.store(v, std::memory_order_relaxed);
    root.join.arrive();
  });
  co_await root.join.done.wait();
  double s = seconds_since(t0);
  const u64 calls = compare::fib_calls(n), expect = compare::fib_value(n), got = root.sum.load();
  co_return std::vector<Figure>{{"fib_30", s * 1e9 / double(calls), "ns/task", got == expect,
                                 fmt("fib(%d) = %llu (expected %llu), %llu tasks", n,
                                     (unsigned long long)got, (unsigned long long)expect,
                                     (unsigned long long)calls)}};
}

// call_soon_50k: asio::post of no-op handlers (Asio's callback primitive)
awaitable<std::vector<Figure>> call_soon(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.call_soon();
  std::atomic<u64> ran{0};
  Join j(n);
  auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i)
    asio::post(ex, [&ran, &j] {
      ran.fetch_add(1, std::memory_order_relaxed);
      j.arrive();
    });
  co_await j.done.wait();
  double s = seconds_since(t0);
  co_return std::vector<Figure>{{"call_soon_50k", double(n) / s, "ops/s", ran.load() == n,
                                 fmt("%llu callbacks (asio::post)", (unsigned long long)ran.load())}};
}

// loop_overhead_10k
awaitable<u64> noop_task(u64 i) { co_return i; }

awaitable<std::vector<Figure>> loop_overhead(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.loop_overhead();
  u64 sum = 0;
  auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i) sum += co_await co_spawn(ex, noop_task(i), use_awaitable);
  double s = seconds_since(t0);
  co_return std::vector<Figure>{{"loop_overhead_10k", s * 1e9 / double(n), "ns/iter",
                                 sum == n * (n - 1) / 2,
                                 fmt("%llu sequential co_spawn+await", (unsigned long long)n)}};
}

// udp_pingpong_64B / udp_flood_64B
using asio::ip::udp;

// Two UDP sockets on loopback, each connected to the other.
std::pair<udp::socket, udp::socket> udp_pair(const asio::any_io_executor& ex) {
  udp::socket a(ex, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  udp::socket b(ex, udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  a.connect(b.local_endpoint());
  b.connect(a.local_endpoint());
  return {std::move(a), std::move(b)};
}

awaitable<void> udp_echo(udp::socket* s, u64 n, Join* j) {
  std::array<unsigned char, 2048> buf;
  for (u64 i = 0; i < n; ++i) {
    const std::size_t len = co_await s->async_receive(asio::buffer(buf), use_awaitable);
    co_await s->async_send(asio::buffer(buf.data(), len), use_awaitable);
  }
  j->arrive();
}

awaitable<std::vector<Figure>> udp_pingpong(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.udp_round_trips(), bytes = sz.udp_bytes();
  auto [a, b] = udp_pair(ex);
  Join j(1);
  auto t0 = Clock::now();
  co_spawn(ex, udp_echo(&b, n, &j), detached);
  std::vector<unsigned char> out(bytes), back(2048);
  u64 good = 0;
  for (u64 m = 0; m < n; ++m) {
    compare::fill_datagram(out.data(), bytes, m);
    co_await a.async_send(asio::buffer(out), use_awaitable);
    const std::size_t len = co_await a.async_receive(asio::buffer(back), use_awaitable);
    good += len == bytes && std::memcmp(out.data(), back.data(), bytes) == 0;
  }
  double s = seconds_since(t0);
  co_await j.done.wait();
  co_return std::vector<Figure>{{"udp_pingpong_64B", s * 1e9 / double(n), "ns/round_trip", good == n,
                                 fmt("%llu of %llu echoes matched", (unsigned long long)good, (unsigned long long)n)}};
}

// The receiver owns its socket and tally, so that a sender giving up cannot leave it dangling.
awaitable<void> flood_receiver(udp::socket s, std::shared_ptr<compare::FloodTally> tally, u64 bytes, Join* j) {
  std::array<unsigned char, 2048> buf;
  unsigned char ack[8];
  s.non_blocking(true);  // for the synchronous receive() below; async operations are unaffected
  while (!tally->ended) {
    co_await s.async_wait(udp::socket::wait_read, use_awaitable);
    while (!tally->ended) {
      asio::error_code ec;
      const std::size_t len = s.receive(asio::buffer(buf), 0, ec);
      if (ec == asio::error::would_block) break;
      if (ec) throw asio::system_error(ec);
      if (auto seq = tally->record(buf.data(), len, bytes)) {
        compare::put_u64le(ack, *seq);
        co_await s.async_send(asio::buffer(ack), use_awaitable);
      }
    }
  }
  j->arrive();
}

// Waits for the acknowledgement of `want` (older ones are skipped); false after 200 ms.
awaitable<bool> await_ack(udp::socket& s, asio::steady_timer& timer, u64 want) {
  std::array<unsigned char, 64> ack;
  for (;;) {
    timer.expires_after(std::chrono::milliseconds(200));
    auto [order, recv_ec, len, timer_ec] =
        co_await asio::experimental::make_parallel_group(s.async_receive(asio::buffer(ack), asio::experimental::deferred),
                                                         timer.async_wait(asio::experimental::deferred))
            .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    if (order[0] != 0 || recv_ec) co_return false;
    if (len == 8 && compare::get_u64le(ack.data()) == want) co_return true;
  }
}

awaitable<std::vector<Figure>> udp_flood(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.udp_flood(), bytes = sz.udp_bytes(), window = sz.udp_window();
  auto [tx, rx] = udp_pair(ex);
  auto tally = std::make_shared<compare::FloodTally>(n, window);
  asio::steady_timer timer(ex);
  Join j(1);
  auto t0 = Clock::now();
  co_spawn(ex, flood_receiver(std::move(rx), tally, bytes, &j), detached);
  std::vector<unsigned char> out(bytes);
  u64 stalls = 0;
  for (u64 seq = 0; seq < n;) {
    const u64 end = std::min(seq + window, n);
    for (; seq < end; ++seq) {
      compare::fill_datagram(out.data(), bytes, seq);
      co_await tx.async_send(asio::buffer(out), use_awaitable);
    }
    if (!co_await await_ack(tx, timer, end - 1)) ++stalls;
  }
  compare::fill_datagram(out.data(), bytes, compare::flood_end);
  bool ended = false;
  for (int attempt = 0; attempt < 10 && !ended; ++attempt) {
    co_await tx.async_send(asio::buffer(out), use_awaitable);
    ended = co_await await_ack(tx, timer, compare::flood_end);
  }
  double s = seconds_since(t0);
  if (!ended)  // the receiver may still be running: report nothing of its tally
    co_return std::vector<Figure>{compare::FloodTally(n, window).figure(s, stalls, false, "async_wait + receive loop")};
  co_await j.done.wait();
  co_return std::vector<Figure>{tally->figure(s, stalls, true, "async_wait + receive loop")};
}

// race_100k: a receive that is ready (its value queued just before) raced against a 1 s timer.
template <class Chan>
awaitable<std::vector<Figure>> race_ready(const compare::Sizes& sz) {
  auto ex = co_await asio::this_coro::executor;
  const u64 n = sz.races();
  Chan ch(ex, 1);
  asio::steady_timer timer(ex);
  u64 won = 0, sum = 0;
  auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i) {
    if (!ch.try_send(asio::error_code{}, i)) break;
    timer.expires_after(std::chrono::seconds(1));
    auto [order, recv_ec, v, timer_ec] =
        co_await asio::experimental::make_parallel_group(ch.async_receive(asio::experimental::deferred),
                                                         timer.async_wait(asio::experimental::deferred))
            .async_wait(asio::experimental::wait_for_one(), use_awaitable);
    if (order[0] != 0 || recv_ec) break;
    ++won;
    sum += v;
  }
  double s = seconds_since(t0);
  co_return std::vector<Figure>{{"race_100k", s * 1e9 / double(n), "ns/iter", won == n && sum == n * (n - 1) / 2,
                                 fmt("receive won %llu races, sum %llu (parallel_group wait_for_one)",
                                     (unsigned long long)won, (unsigned long long)sum)}};
}

awaitable<std::vector<Figure>> run_workload(compare::Args a) {
  const compare::Sizes sz{a.small};
  const std::string& w = a.workload;
  // 2+ threads need the thread-safe channel; one thread uses the plain one.
  // Note: no co_await inside ?: here -- GCC 12 miscompiles that.
  const bool mt = a.workers > 1;
  using chan_st = st_channel<void(asio::error_code, u64)>;
  using chan_mt = mt_channel<void(asio::error_code, u64)>;
  // Semaphore tokens carry a dummy u64: channel_traits<void(error_code)> is ambiguous in 1.22.
  if (w == "spawn_many_100k") co_return co_await spawn_many(sz);
  if (w == "yield_many_200x1000") co_return co_await yield_many(sz);
  if (w == "ping_pong_100k") {
    if (mt) co_return co_await ping_pong<chan_mt>(sz);
    co_return co_await ping_pong<chan_st>(sz);
  }
  if (w == "chained_spawn_1000x100") co_return co_await chained_spawn(sz);
  if (w == "mpsc_4x250k_cap1024") {
    if (mt) co_return co_await mpsc<chan_mt>(sz, "mpsc_4x250k_cap1024", 4, sz.mpsc4_per_producer());
    co_return co_await mpsc<chan_st>(sz, "mpsc_4x250k_cap1024", 4, sz.mpsc4_per_producer());
  }
  if (w == "mpsc_4x2500k_cap1024") {
    if (mt) co_return co_await mpsc<chan_mt>(sz, "mpsc_4x2500k_cap1024", 4, sz.mpsc4x10m_per_producer());
    co_return co_await mpsc<chan_st>(sz, "mpsc_4x2500k_cap1024", 4, sz.mpsc4x10m_per_producer());
  }
  if (w == "mpsc_1x1M_cap1024") {
    if (mt) co_return co_await mpsc<chan_mt>(sz, "mpsc_1x1M_cap1024", 1, sz.mpsc1_total());
    co_return co_await mpsc<chan_st>(sz, "mpsc_1x1M_cap1024", 1, sz.mpsc1_total());
  }
  if (w == "semaphore_1000t_10p_x100") {
    if (mt) co_return co_await semaphore<chan_mt>(sz);
    co_return co_await semaphore<chan_st>(sz);
  }
  if (w == "timers_5k") co_return co_await timers(w, sz.timers_5k());
  if (w == "timers_100k") co_return co_await timers(w, sz.timers_100k());
  if (w == "tcp_echo_50c_x2000_64B") co_return co_await tcp_echo(sz);
  if (w == "skynet_1M") co_return co_await skynet_run(w, sz.skynet_1m());
  if (w == "skynet_100M") co_return co_await skynet_run(w, sz.skynet_100m());
  if (w == "fib_30") co_return co_await fib_run(sz);
  if (w == "call_soon_50k") co_return co_await call_soon(sz);
  if (w == "loop_overhead_10k") co_return co_await loop_overhead(sz);
  if (w == "udp_pingpong_64B") co_return co_await udp_pingpong(sz);
  if (w == "udp_flood_64B") co_return co_await udp_flood(sz);
  if (w == "race_100k") {
    if (mt) co_return co_await race_ready<chan_mt>(sz);
    co_return co_await race_ready<chan_st>(sz);
  }
  co_return std::vector<Figure>{};
}

}  // namespace

int main(int argc, char** argv) {
  compare::Args args = compare::parse_args(argc, argv);
  bool known = false;
  for (auto& n : compare::all_workloads()) known = known || n == args.workload;
  if (!known) return compare::not_implemented(args, "unknown workload");
  if (args.workload == "broadcast_1to8_100k")
    return compare::not_implemented(args, "Asio has no broadcast channel");
  if (args.workload == "watch_100k") return compare::not_implemented(args, "Asio has no watch channel");

  asio::io_context ctx(args.workers);
  auto guard = asio::make_work_guard(ctx);
  std::vector<Figure> figs;
  std::string error;
  co_spawn(ctx, run_workload(args), [&](std::exception_ptr e, std::vector<Figure> r) {
    if (e) {
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        error = ex.what();
      } catch (...) {
        error = "unknown exception";
      }
    } else {
      figs = std::move(r);
    }
    guard.reset();
    ctx.stop();
  });
  std::vector<std::thread> threads;
  for (int i = 1; i < args.workers; ++i) threads.emplace_back([&ctx] { ctx.run(); });
  ctx.run();
  for (auto& t : threads) t.join();
  if (!error.empty()) {
    compare::emit(args, Figure{args.workload, -1, "", false, "exception: " + error});
    return 1;
  }
  return compare::emit_all(args, figs);
}
