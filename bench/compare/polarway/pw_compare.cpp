// polarway's side of bench/compare: every workload of WORKLOADS.md, written the way a user
// would write it with polarway's public API, checking its own result (protocol in
// bench/compare/README.md). workers = 1 is a runtime with one worker thread (polarway has no
// separate current-thread mode); the workload runs in a task given to block_on, and only the
// workload is timed.
#include <polarway/runtime.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <algorithm>
#include <cstdint>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "compare_harness.hpp"

namespace pw = polarway;
using compare::Clock;
using compare::Figure;
using compare::seconds_since;
using u64 = std::uint64_t;

namespace {

Figure per_unit(const char* name, double seconds, double count, const char* unit, bool ok, std::string detail) {
  return Figure{name, seconds * 1e9 / count, unit, ok, std::move(detail)};
}
Figure rate(const char* name, double seconds, double count, const char* unit, bool ok, std::string detail) {
  return Figure{name, count / seconds, unit, ok, std::move(detail)};
}

pw::task<std::vector<Figure>> spawn_many(u64 n) {
  std::atomic<u64> counter{0};
  pw::notify done;
  const auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i) {
    (void)pw::spawn([](std::atomic<u64>& c, pw::notify& done, u64 n) -> pw::task<void> {
      if (c.fetch_add(1, std::memory_order_relaxed) + 1 == n) done.notify_one();
      co_return;
    }(counter, done, n));
  }
  co_await done.notified();
  const double s = seconds_since(t0);
  co_return std::vector{per_unit("spawn_many_100k", s, double(n), "ns/task", counter.load() == n,
                                 "counter " + std::to_string(counter.load()))};
}

pw::task<std::vector<Figure>> yield_many(u64 tasks, u64 per_task) {
  std::atomic<u64> yields{0};
  const auto t0 = Clock::now();
  std::vector<pw::join_handle<void>> hs;
  hs.reserve(tasks);
  for (u64 t = 0; t < tasks; ++t)
    hs.push_back(pw::spawn([](u64 k, std::atomic<u64>& y) -> pw::task<void> {
      for (u64 i = 0; i < k; ++i) co_await pw::yield_now();
      y.fetch_add(k, std::memory_order_relaxed);
    }(per_task, yields)));
  bool ok = true;
  for (auto& h : hs) ok = (co_await h).is_ok() && ok;
  const double s = seconds_since(t0);
  const u64 total = tasks * per_task;
  co_return std::vector{per_unit("yield_many_200x1000", s, double(total), "ns/yield", ok && yields.load() == total,
                                 "yields " + std::to_string(yields.load()))};
}

pw::task<std::vector<Figure>> ping_pong(u64 n) {
  auto [to_b, b_in] = pw::mpsc::channel<u64>(1);
  auto [to_a, a_in] = pw::mpsc::channel<u64>(1);
  auto b = pw::spawn([](pw::mpsc::receiver<u64> in, pw::mpsc::sender<u64> out) -> pw::task<void> {
    while (auto v = co_await in.recv())
      if (!(co_await out.send(*v + 1))) co_return;
  }(std::move(b_in), std::move(to_a)));
  const auto t0 = Clock::now();
  bool ok = true;
  u64 last = 0;
  for (u64 i = 0; i < n; ++i) {
    if (!(co_await to_b.send(i))) {
      ok = false;
      break;
    }
    auto r = co_await a_in.recv();
    if (!r || *r != i + 1) {
      ok = false;
      break;
    }
    last = *r;
  }
  const double s = seconds_since(t0);
  { auto closing = std::move(to_b); }  // B sees the channel closed and ends
  ok = (co_await b).is_ok() && ok;
  co_return std::vector{per_unit("ping_pong_100k", s, double(n), "ns/round_trip", ok && last == n,
                                 "final value " + std::to_string(last))};
}

pw::task<void> chain_link(u64 left, pw::notify& done) {
  if (left == 0) {
    done.notify_one();
    co_return;
  }
  (void)pw::spawn(chain_link(left - 1, done));
}

pw::task<std::vector<Figure>> chained_spawn(u64 depth, u64 reps) {
  pw::notify done;
  const auto t0 = Clock::now();
  for (u64 r = 0; r < reps; ++r) {
    (void)pw::spawn(chain_link(depth - 1, done));  // the first of `depth` spawns
    co_await done.notified();
  }
  const double s = seconds_since(t0);
  co_return std::vector{per_unit("chained_spawn_1000x100", s, double(depth * reps), "ns/spawn", true,
                                 std::to_string(reps) + " chains completed")};
}

pw::task<std::vector<Figure>> mpsc(const char* name, u64 producers, u64 per_producer, u64 capacity) {
  auto [tx, rx] = pw::mpsc::channel<u64>(capacity);
  const auto t0 = Clock::now();
  std::vector<pw::join_handle<bool>> hs;
  for (u64 p = 0; p < producers; ++p)
    hs.push_back(pw::spawn([](pw::mpsc::sender<u64> tx, u64 first, u64 count) -> pw::task<bool> {
      for (u64 v = first; v < first + count; ++v)
        if (!(co_await tx.send(v))) co_return false;
      co_return true;
    }(tx, p * per_producer, per_producer)));
  { auto drop = std::move(tx); }  // only the producers hold senders now
  u64 sum = 0, count = 0;
  while (auto v = co_await rx.recv()) {
    sum += *v;
    ++count;
  }
  const double s = seconds_since(t0);
  bool ok = true;
  for (auto& h : hs) ok = (co_await h).unwrap_or(false) && ok;
  const u64 total = producers * per_producer;
  ok = ok && count == total && sum == total * (total - 1) / 2;
  co_return std::vector{
      rate(name, s, double(total), "msg/s", ok, "received " + std::to_string(count) + ", sum " + std::to_string(sum))};
}

pw::task<std::vector<Figure>> semaphore(u64 tasks, u64 permits, u64 iters) {
  pw::semaphore sem(permits);
  std::atomic<u64> held{0}, high{0}, acquires{0};
  const auto t0 = Clock::now();
  std::vector<pw::join_handle<bool>> hs;
  hs.reserve(tasks);
  for (u64 t = 0; t < tasks; ++t)
    hs.push_back(pw::spawn([](pw::semaphore& sem, u64 iters, std::atomic<u64>& held, std::atomic<u64>& high,
                              std::atomic<u64>& acquires) -> pw::task<bool> {
      for (u64 i = 0; i < iters; ++i) {
        auto permit = co_await sem.acquire();
        if (!permit) co_return false;
        const u64 now = held.fetch_add(1) + 1;
        for (u64 h = high.load(); now > h && !high.compare_exchange_weak(h, now);) {
        }
        acquires.fetch_add(1, std::memory_order_relaxed);
        co_await pw::yield_now();
        held.fetch_sub(1);
      }
      co_return true;
    }(sem, iters, held, high, acquires)));
  bool ok = true;
  for (auto& h : hs) ok = (co_await h).unwrap_or(false) && ok;
  const double s = seconds_since(t0);
  const u64 total = tasks * iters;
  ok = ok && acquires.load() == total && high.load() <= permits;
  co_return std::vector{
      per_unit("semaphore_1000t_10p_x100", s, double(total), "ns/acquire", ok,
               "acquires " + std::to_string(acquires.load()) + ", most held " + std::to_string(high.load()))};
}

pw::task<std::vector<Figure>> timers(const std::string& prefix, u64 n) {
  std::atomic<u64> early{0};
  const auto t0 = Clock::now();
  std::vector<pw::join_handle<void>> hs;
  hs.reserve(n);
  for (u64 i = 0; i < n; ++i)
    hs.push_back(pw::spawn([](u64 ms, std::atomic<u64>& early) -> pw::task<void> {
      const auto start = Clock::now();
      co_await pw::sleep(std::chrono::milliseconds(ms));
      if (Clock::now() - start < std::chrono::milliseconds(ms)) early.fetch_add(1);
    }(i % 10, early)));
  const double sched = seconds_since(t0);
  bool ok = true;
  for (auto& h : hs) ok = (co_await h).is_ok() && ok;
  const double total = seconds_since(t0);
  ok = ok && early.load() == 0;
  const std::string detail = std::to_string(n) + " timers, " + std::to_string(early.load()) + " woke early";
  co_return std::vector{rate((prefix + "_sched").c_str(), sched, double(n), "timers/s", ok, detail),
                        Figure{prefix + "_total", total * 1e3, "ms", ok, detail}};
}

pw::task<std::vector<Figure>> tcp_echo(u64 conns, u64 msgs, u64 bytes) {
  auto listener = pw::net::tcp_listener::bind("127.0.0.1:0");
  if (!listener)
    co_return std::vector{Figure{"tcp_echo_50c_x2000_64B", -1, "msg/s", false, listener.error().message()}};
  const auto addr = listener->local_addr().unwrap();
  auto server = pw::spawn([](pw::net::tcp_listener& l, u64 conns, u64 bytes) -> pw::task<void> {
    for (u64 c = 0; c < conns; ++c) {
      auto s = co_await l.accept();
      if (!s) co_return;
      (void)s->set_nodelay(true);
      (void)pw::spawn([](pw::net::tcp_stream s, u64 bytes) -> pw::task<void> {
        std::vector<std::byte> buf(bytes);
        while ((co_await s.read_exact(buf)).is_ok())
          if (!(co_await s.write_all(buf))) co_return;
      }(std::move(*s), bytes));
    }
  }(*listener, conns, bytes));
  const auto t0 = Clock::now();
  std::vector<pw::task<bool>> clients;
  for (u64 c = 0; c < conns; ++c)
    clients.push_back([](pw::net::socket_addr addr, u64 msgs, u64 bytes, u64 seed) -> pw::task<bool> {
      auto s = co_await pw::net::tcp_stream::connect(addr);
      if (!s) co_return false;
      (void)s->set_nodelay(true);
      std::vector<std::byte> out(bytes), in(bytes);
      for (u64 m = 0; m < msgs; ++m) {
        for (u64 i = 0; i < bytes; ++i) out[i] = std::byte((seed + m + i) & 0xff);
        if (!(co_await s->write_all(out)) || !(co_await s->read_exact(in)) || in != out) co_return false;
      }
      co_return true;
    }(addr, msgs, bytes, c));
  u64 good = 0;
  for (bool b : co_await pw::join_all(std::move(clients))) good += b;
  const double s = seconds_since(t0);
  (void)co_await server;
  co_return std::vector{rate("tcp_echo_50c_x2000_64B", s, double(conns * msgs), "msg/s", good == conns,
                             std::to_string(good) + " of " + std::to_string(conns) + " clients echoed every message")};
}

// A fixed 10-way fan-out: the children in a std::array, which join_all runs without a heap
// allocation (over a std::vector, the two vectors per node cost 12-15% here).
pw::task<u64> skynet(u64 num, u64 size) {
  if (size == 1) co_return num;
  std::array<pw::task<u64>, 10> children;
  for (u64 i = 0; i < 10; ++i) children[i] = skynet(num + i * (size / 10), size / 10);
  u64 sum = 0;
  for (u64 v : co_await pw::join_all(std::move(children))) sum += v;
  co_return sum;
}

// "VmHWM N kB": this process's peak resident set so far (bench/compare/tmc_side_by_side.py reads it;
// a parent cannot, as its fork's copy of the parent's pages would count too).
std::string peak_rss() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmHWM:", 0) == 0)
      return "VmHWM " + std::to_string(std::strtoull(line.c_str() + 6, nullptr, 10)) + " kB";
  return "VmHWM unknown";
}

pw::task<std::vector<Figure>> skynet_run(const char* name, u64 leaves) {
  const auto t0 = Clock::now();
  auto r = co_await pw::spawn(skynet(0, leaves));  // the root is spawned too
  const double s = seconds_since(t0);
  const u64 got = r.unwrap_or(0), want = leaves * (leaves - 1) / 2;
  co_return std::vector{per_unit(name, s, double(compare::skynet_tasks(leaves)), "ns/task", got == want,
                                 "sum " + std::to_string(got) + ", " + peak_rss())};
}

pw::task<u64> fib(int n) {
  if (n < 2) co_return static_cast<u64>(n);
  auto [a, b] = co_await pw::when_all(fib(n - 1), fib(n - 2));
  co_return a + b;
}

pw::task<std::vector<Figure>> fib_run(int n) {
  const auto t0 = Clock::now();
  auto r = co_await pw::spawn(fib(n));
  const double s = seconds_since(t0);
  const u64 got = r.unwrap_or(0);
  co_return std::vector{per_unit("fib_30", s, double(compare::fib_calls(n)), "ns/task", got == compare::fib_value(n),
                                 "fib = " + std::to_string(got) + ", " + peak_rss())};
}

// n queens, one task per partial placement: a task places a queen in row `row` on every column
// that no earlier queen attacks and forks one child per such placement (between 0 and N), then
// sums the children's counts. The children go in a vector reserved to N: join_all's vector form
// takes a run-time count.
template <std::size_t N>
bool attacked(const std::array<signed char, N>& cols, int row, int c) {
  for (int r = 0; r < row; ++r) {
    const int d = row - r;
    if (cols[r] == c || cols[r] == c - d || cols[r] == c + d) return true;
  }
  return false;
}

template <int N>
pw::task<u64> nqueens(int row, std::array<signed char, N> cols) {
  if (row == N) co_return 1;
  std::vector<pw::task<u64>> children;
  children.reserve(N);
  for (int c = 0; c < N; ++c) {
    if (attacked(cols, row, c)) continue;
    cols[row] = static_cast<signed char>(c);
    children.push_back(nqueens<N>(row + 1, cols));
  }
  u64 sum = 0;
  for (u64 v : co_await pw::join_all(std::move(children))) sum += v;
  co_return sum;
}

// Every task of the tree: the root, and one per partial placement that is still legal.
template <int N>
u64 nqueens_tasks(int row, std::array<signed char, N>& cols) {
  u64 tasks = 1;
  if (row == N) return tasks;
  for (int c = 0; c < N; ++c) {
    if (attacked(cols, row, c)) continue;
    cols[row] = static_cast<signed char>(c);
    tasks += nqueens_tasks<N>(row + 1, cols);
  }
  return tasks;
}

template <int N>
pw::task<std::vector<Figure>> nqueens_run(const char* name) {
  const auto t0 = Clock::now();
  auto r = co_await pw::spawn(nqueens<N>(0, {}));  // the root is spawned too
  const double s = seconds_since(t0);
  const u64 got = r.unwrap_or(0), want = compare::nqueens_solutions(N);
  std::array<signed char, N> cols{};
  const u64 tasks = nqueens_tasks<N>(0, cols);
  co_return std::vector{per_unit(name, s, double(tasks), "ns/task", got == want,
                                 std::to_string(got) + " solutions, " + std::to_string(tasks) + " tasks, " + peak_rss())};
}

pw::task<std::vector<Figure>> call_soon(u64 n) {
  const auto t0 = Clock::now();
  std::vector<pw::join_handle<void>> hs;
  hs.reserve(n);
  for (u64 i = 0; i < n; ++i) hs.push_back(pw::spawn([]() -> pw::task<void> { co_return; }()));
  u64 done = 0;
  for (auto& h : hs) done += (co_await h).is_ok();
  const double s = seconds_since(t0);
  co_return std::vector{rate("call_soon_50k", s, double(n), "ops/s", done == n, std::to_string(done) + " tasks ran")};
}

pw::task<std::vector<Figure>> loop_overhead(u64 n) {
  const auto t0 = Clock::now();
  u64 sum = 0;
  for (u64 i = 0; i < n; ++i) sum += (co_await pw::spawn([](u64 i) -> pw::task<u64> { co_return i; }(i))).unwrap_or(0);
  const double s = seconds_since(t0);
  co_return std::vector{
      per_unit("loop_overhead_10k", s, double(n), "ns/iter", sum == n * (n - 1) / 2, "sum " + std::to_string(sum))};
}

// UDP rows: two sockets on loopback, each connected to the other.
pw::result<std::pair<pw::net::udp_socket, pw::net::udp_socket>> udp_pair() {
  auto a = pw::net::udp_socket::bind("127.0.0.1:0");
  if (!a) return pw::err(a.error());
  auto b = pw::net::udp_socket::bind("127.0.0.1:0");
  if (!b) return pw::err(b.error());
  auto a_addr = a->local_addr();
  if (!a_addr) return pw::err(a_addr.error());
  auto b_addr = b->local_addr();
  if (!b_addr) return pw::err(b_addr.error());
  if (auto r = a->connect(*b_addr); !r) return pw::err(r.error());
  if (auto r = b->connect(*a_addr); !r) return pw::err(r.error());
  return std::pair{std::move(*a), std::move(*b)};
}

const unsigned char* bytes_of(std::span<const std::byte> s) { return reinterpret_cast<const unsigned char*>(s.data()); }

pw::task<std::vector<Figure>> udp_pingpong(u64 n, u64 bytes) {
  auto pair = udp_pair();
  if (!pair) co_return std::vector{Figure{"udp_pingpong_64B", -1, "ns/round_trip", false, pair.error().message()}};
  auto& [a, b] = *pair;
  const auto t0 = Clock::now();
  auto echo = pw::spawn([](pw::net::udp_socket& b, u64 n) -> pw::task<bool> {
    std::array<std::byte, 2048> buf;
    for (u64 i = 0; i < n; ++i) {
      auto len = co_await b.recv(buf);
      if (!len || !(co_await b.send(std::span(buf).first(*len)))) co_return false;
    }
    co_return true;
  }(b, n));
  std::vector<std::byte> out(bytes), back(2048);
  u64 good = 0;
  for (u64 m = 0; m < n; ++m) {
    compare::fill_datagram(reinterpret_cast<unsigned char*>(out.data()), bytes, m);
    if (!(co_await a.send(out))) break;
    auto len = co_await a.recv(back);
    if (!len) break;
    good += *len == bytes && std::equal(out.begin(), out.end(), back.begin());
  }
  const double s = seconds_since(t0);
  if (good != n) echo.abort();  // it may wait for a datagram that never comes
  const bool echoed = (co_await echo).unwrap_or(false);
  co_return std::vector{per_unit("udp_pingpong_64B", s, double(n), "ns/round_trip", good == n && echoed,
                                 std::to_string(good) + " of " + std::to_string(n) + " echoes matched")};
}

// Receives the flood in batches (recv_many) until the end marker, acknowledging the last
// datagram of every window and the end marker.
pw::task<bool> flood_receiver(pw::net::udp_socket& s, compare::FloodTally& tally, u64 bytes) {
  constexpr std::size_t batch = 128, room = 2048;
  std::vector<std::byte> storage(batch * room);
  std::vector<pw::net::datagram> records(batch);
  for (std::size_t i = 0; i < batch; ++i) records[i].buffer = std::span(storage).subspan(i * room, room);
  std::array<unsigned char, 8> ack;
  while (!tally.ended) {
    auto got = co_await s.recv_many(records);
    if (!got) co_return false;
    for (std::size_t i = 0; i < *got && !tally.ended; ++i) {
      const auto seq = tally.record(bytes_of(records[i].data()), records[i].size, bytes);
      if (!seq) continue;
      compare::put_u64le(ack.data(), *seq);
      if (!(co_await s.send(std::as_bytes(std::span(ack))))) co_return false;
    }
  }
  co_return true;
}

// Waits for the acknowledgement of `want` (older ones are skipped); false after 200 ms.
pw::task<bool> await_ack(pw::net::udp_socket& s, u64 want) {
  std::array<std::byte, 64> ack;
  for (;;) {
    auto got = co_await pw::timeout(std::chrono::milliseconds(200), s.recv(ack));
    if (!got || !*got) co_return false;
    if (**got == 8 && compare::get_u64le(bytes_of(ack)) == want) co_return true;
  }
}

pw::task<std::vector<Figure>> udp_flood(u64 n, u64 bytes, u64 window) {
  auto pair = udp_pair();
  if (!pair) co_return std::vector{Figure{"udp_flood_64B", -1, "msg/s", false, pair.error().message()}};
  auto& [tx, rx] = *pair;
  compare::FloodTally tally(n, window);
  const auto t0 = Clock::now();
  auto receiver = pw::spawn(flood_receiver(rx, tally, bytes));
  std::vector<std::byte> out(bytes);
  u64 stalls = 0;
  bool sent = true;
  for (u64 seq = 0; seq < n && sent;) {
    const u64 end = std::min(seq + window, n);
    for (; seq < end && sent; ++seq) {
      compare::fill_datagram(reinterpret_cast<unsigned char*>(out.data()), bytes, seq);
      sent = (co_await tx.send(out)).is_ok();
    }
    if (!co_await await_ack(tx, end - 1)) ++stalls;
  }
  compare::fill_datagram(reinterpret_cast<unsigned char*>(out.data()), bytes, compare::flood_end);
  bool ended = false;
  for (int attempt = 0; attempt < 10 && sent && !ended; ++attempt) {
    sent = (co_await tx.send(out)).is_ok();
    ended = sent && co_await await_ack(tx, compare::flood_end);
  }
  const double s = seconds_since(t0);
  if (!ended) receiver.abort();
  const bool received = (co_await receiver).unwrap_or(false);
  co_return std::vector{tally.figure(s, stalls, ended && received && sent, "recv_many")};
}

// 1 sender, `receivers` receivers, capacity `capacity`. Every receiver must get every value, and
// the channel overwrites rather than make the sender wait, so values go in chunks of half the
// capacity: each receiver counts the chunks it has finished, and before chunk k the sender waits
// until all have finished chunk k-2 (then at most `capacity` values are unread).
pw::task<std::vector<Figure>> broadcast_run(u64 n, u64 receivers, u64 capacity) {
  const u64 chunk = capacity / 2;
  auto [tx, first_rx] = pw::broadcast::channel<u64>(capacity);
  std::array<std::atomic<u64>, 4> finished{};  // per chunk mod 4: receivers done with it
  pw::notify progress;
  struct tally {
    u64 got = 0, sum = 0, lagged = 0;
    bool in_order = true;
  };
  std::vector<pw::join_handle<tally>> hs;
  for (u64 r = 0; r < receivers; ++r) {
    auto rx = r == 0 ? std::move(first_rx) : tx.subscribe();
    hs.push_back(pw::spawn([](pw::broadcast::receiver<u64> rx, u64 chunk, u64 receivers,
                              std::array<std::atomic<u64>, 4>& finished, pw::notify& progress) -> pw::task<tally> {
      tally t;
      for (;;) {
        auto v = co_await rx.recv();
        if (!v) {
          if (!v.error().is_lagged()) break;  // closed: every value was received
          t.lagged += v.error().missed();
          continue;
        }
        t.in_order = t.in_order && *v == t.got;
        ++t.got;
        t.sum += *v;
        if ((*v + 1) % chunk == 0 && finished[(*v / chunk) % 4].fetch_add(1) + 1 == receivers) progress.notify_one();
      }
      co_return t;
    }(std::move(rx), chunk, receivers, finished, progress)));
  }
  const auto t0 = Clock::now();
  bool sent_all = true;
  for (u64 i = 0; i < n && sent_all; ++i) {
    if (i % chunk == 0 && i >= 2 * chunk) {
      auto& done = finished[(i / chunk - 2) % 4];
      while (done.load() < receivers) co_await progress.notified();
      done.store(0);
    }
    sent_all = tx.send(i).is_ok();
  }
  { auto closing = std::move(tx); }  // the receivers see the channel closed once drained
  u64 complete = 0, lagged = 0;
  for (auto& h : hs) {
    const tally t = (co_await h).unwrap_or(tally{.in_order = false});
    complete += t.got == n && t.sum == n * (n - 1) / 2 && t.in_order;
    lagged += t.lagged;
  }
  const double s = seconds_since(t0);
  co_return std::vector{rate("broadcast_1to8_100k", s, double(receivers * n), "msg/s",
                             sent_all && complete == receivers && lagged == 0,
                             std::to_string(complete) + " of " + std::to_string(receivers) + " receivers got all " +
                                 std::to_string(n) + " values in order, " + std::to_string(lagged) + " lagged")};
}

// `receivers` receivers await changed() and borrow the value until they see the last one; what
// each sees must never decrease. The sends start once every receiver has started waiting.
pw::task<std::vector<Figure>> watch_run(u64 n, u64 receivers) {
  auto [tx, rx] = pw::watch::channel<u64>(0);
  struct tally {
    u64 last = 0, seen = 0;
    bool in_order = true;
  };
  std::atomic<u64> started{0};
  pw::notify all_started;
  std::vector<pw::join_handle<tally>> hs;
  for (u64 r = 0; r < receivers; ++r)
    hs.push_back(pw::spawn([](pw::watch::receiver<u64> rx, u64 n, u64 receivers, std::atomic<u64>& started,
                              pw::notify& all_started) -> pw::task<tally> {
      if (started.fetch_add(1) + 1 == receivers) all_started.notify_one();
      tally t;
      while (t.last != n) {
        if (!(co_await rx.changed())) break;  // closed
        const u64 v = *rx.borrow_and_update();
        t.in_order = t.in_order && v >= t.last;
        t.last = v;
        ++t.seen;
      }
      co_return t;
    }(rx, n, receivers, started, all_started)));
  { auto drop = std::move(rx); }  // only the receiver tasks hold receivers now
  while (started.load() < receivers) co_await all_started.notified();
  const auto t0 = Clock::now();
  bool sent_all = true;
  for (u64 i = 1; i <= n && sent_all; ++i) sent_all = tx.send(i).is_ok();
  u64 complete = 0, seen = 0;
  for (auto& h : hs) {
    const tally t = (co_await h).unwrap_or(tally{.in_order = false});
    complete += t.last == n && t.in_order;
    seen += t.seen;
  }
  const double s = seconds_since(t0);
  co_return std::vector{rate("watch_100k", s, double(n), "ops/s", sent_all && complete == receivers,
                             std::to_string(complete) + " of " + std::to_string(receivers) +
                                 " receivers saw non-decreasing values ending at " + std::to_string(n) + "; " +
                                 std::to_string(seen) + " values seen in all")};
}

// A receive that is ready (its value queued just before) raced against a 1 s sleep: the cost of
// a race whose winner is known at once, and of cancelling the loser.
pw::task<std::vector<Figure>> race_ready(u64 n) {
  auto [tx, rx] = pw::mpsc::channel<u64>(1);
  u64 won = 0, sum = 0;
  const auto t0 = Clock::now();
  for (u64 i = 0; i < n; ++i) {
    if (!tx.try_send(i)) break;
    auto r = co_await pw::race(rx.recv(), pw::sleep(std::chrono::seconds(1)));
    if (r.index() != 0 || !r.get<0>()) break;
    sum += *r.get<0>();
    ++won;
  }
  const double s = seconds_since(t0);
  co_return std::vector{per_unit("race_100k", s, double(n), "ns/iter", won == n && sum == n * (n - 1) / 2,
                                 "receive won " + std::to_string(won) + " races, sum " + std::to_string(sum))};
}

pw::task<std::vector<Figure>> run_once(const compare::Args& a) {
  const compare::Sizes z{a.small};
  const std::string& w = a.workload;
  if (w == "spawn_many_100k") co_return co_await spawn_many(z.spawn_many());
  if (w == "yield_many_200x1000") co_return co_await yield_many(z.yield_tasks(), z.yield_per_task());
  if (w == "ping_pong_100k") co_return co_await ping_pong(z.ping_pong());
  if (w == "chained_spawn_1000x100") co_return co_await chained_spawn(z.chain_depth(), z.chain_reps());
  if (w == "mpsc_4x250k_cap1024") co_return co_await mpsc(w.c_str(), 4, z.mpsc4_per_producer(), z.mpsc_capacity());
  if (w == "mpsc_4x2500k_cap1024") co_return co_await mpsc(w.c_str(), 4, z.mpsc4x10m_per_producer(), z.mpsc_capacity());
  if (w == "mpsc_1x1M_cap1024") co_return co_await mpsc(w.c_str(), 1, z.mpsc1_total(), z.mpsc_capacity());
  if (w == "semaphore_1000t_10p_x100") co_return co_await semaphore(z.sem_tasks(), z.sem_permits(), z.sem_iters());
  if (w == "timers_5k") co_return co_await timers("timers_5k", z.timers_5k());
  if (w == "timers_100k") co_return co_await timers("timers_100k", z.timers_100k());
  if (w == "tcp_echo_50c_x2000_64B") co_return co_await tcp_echo(z.tcp_conns(), z.tcp_msgs(), z.tcp_msg_bytes());
  if (w == "skynet_1M") co_return co_await skynet_run("skynet_1M", z.skynet_1m());
  if (w == "skynet_100M") co_return co_await skynet_run("skynet_100M", z.skynet_100m());
  if (w == "fib_30") co_return co_await fib_run(z.fib_n());
  if (w == "nqueens_14" && a.small) co_return co_await nqueens_run<10>("nqueens_14");
  if (w == "nqueens_14") co_return co_await nqueens_run<14>("nqueens_14");
  if (w == "call_soon_50k") co_return co_await call_soon(z.call_soon());
  if (w == "loop_overhead_10k") co_return co_await loop_overhead(z.loop_overhead());
  if (w == "udp_pingpong_64B") co_return co_await udp_pingpong(z.udp_round_trips(), z.udp_bytes());
  if (w == "udp_flood_64B") co_return co_await udp_flood(z.udp_flood(), z.udp_bytes(), z.udp_window());
  if (w == "broadcast_1to8_100k")
    co_return co_await broadcast_run(z.broadcast_values(), z.broadcast_receivers(), z.broadcast_capacity());
  if (w == "watch_100k") co_return co_await watch_run(z.watch_sends(), z.watch_receivers());
  if (w == "race_100k") co_return co_await race_ready(z.races());
  co_return std::vector<Figure>{};
}

// With --warm, one untimed run first in the same runtime, as TooManyCooks' runtime-benchmarks
// do: the timed run then finds the frame pool and the allocator's free lists grown.
pw::task<std::vector<Figure>> run(const compare::Args& a) {
  if (a.warm) (void)co_await run_once(a);
  co_return co_await run_once(a);
}

}  // namespace

// PW_COMPARE_FLIGHT_RECORDER=N turns the runtime's flight recorder on with N events per worker,
// to measure what it costs when on (docs/benchmarks.md); unset, it is off, as by default.
std::size_t flight_recorder_from_env() {
  const char* env = std::getenv("PW_COMPARE_FLIGHT_RECORDER");
  return env != nullptr ? static_cast<std::size_t>(std::strtoull(env, nullptr, 10)) : 0;
}

int main(int argc, char** argv) {
  const compare::Args a = compare::parse_args(argc, argv);
  std::vector<Figure> figures;
  {
    pw::runtime rt(pw::runtime_options{.workers = static_cast<std::size_t>(a.workers),
                                       .flight_recorder = flight_recorder_from_env()});
    figures = rt.block_on(run(a));
  }
  if (figures.empty()) return compare::not_implemented(a, "unknown workload");
  return compare::emit_all(a, figures);
}
