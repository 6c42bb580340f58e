// nats.c driven two ways, side by side, against one JetStream server (nats_cluster.hpp):
//   threads  nats.c as the bus programs use it: its own reader and flusher threads per
//            connection, results handed into the runtime (a semaphore permit, a pw::notify);
//   loop     nats.c on polarway's reactor through its event-loop hooks
//            (natsOptions_SetEventLoop): a driver task per connection waits on the socket with
//            pw::io::async_fd and calls natsConnection_ProcessReadEvent / ProcessWriteEvent; no
//            reader or flusher thread.
// Two workloads, from a task on a default runtime (one worker per core):
//   publish  N JetStream publishes of S bytes, at most W unacknowledged (js_PublishMsgAsync;
//            nats.c's acknowledgement handler gives a permit back), as polarway-ingest's
//            publisher does; the rate and the process's CPU time per publish;
//   request  R sequential requests, on a connection of their own, to an echo on another: the
//            time from the publish to the reply in the task's hands (p50, p99), and CPU time per
//            request. Both ends send at once (natsOptions_SetSendAsap), so what differs is how
//            the reply reaches the task: with the hooks, it is taken from a synchronous
//            subscription right after the driver's read; with threads, nats.c's reader and
//            delivery threads hand it over.
// JetStream acknowledgements reach the handler on nats.c's delivery thread in both modes: the
// hooks move only the socket's reads and writes.
//
// usage: tick_nats_hooks_bench [--rounds K] [--publishes N] [--size S] [--window W] [--requests R]
//                              [--quick]
// Rounds alternate the modes (threads, loop, threads, ...); each row is the median over rounds.
// Exit 1 if a publish is not acknowledged or a reply does not come: --quick (tiny counts, one
// round) is how CTest checks that both modes work, never their timings.
#include <nats/nats.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <polarway/io/async_fd.hpp>
#include <polarway/runtime.hpp>

#include "nats_cluster.hpp"

namespace pw = polarway;
using ticks::test::nats_cluster;

namespace {

// ---- nats.c's event-loop hooks on the runtime ----

// One connection's socket, as nats.c last described it through the hooks. nats.c calls the hooks
// under the connection's lock, from whichever thread it is on: they only record what is asked
// and wake the driver, which calls back into nats.c outside any hook.
// Enough for this benchmark, whose connections neither reconnect nor close before their driver
// is joined, and not beyond it: nats.c 3.4 closes the socket itself right after asking the loop
// to stop polling it (on a disconnection or a close), while the driver's async_fd still holds
// its registration; "stop reading" is not honoured; and a detach may overlap a Process*Event
// call (docs/scaling-out.md, "The ingest's threads").
struct socket_watch {
  natsConnection* nc = nullptr;
  std::atomic<int> fd{-1};
  std::atomic<std::uint32_t> generation{0};  // a new socket (a reconnection) bumps it
  std::atomic<bool> want_write{false};
  std::atomic<bool> detached{false};
  pw::notify changed;      // a hook was called
  pw::notify read_events;  // a read event was processed (for a task polling a sync subscription)
  pw::join_handle<void> driver;
};

class runtime_event_loop {
 public:
  explicit runtime_event_loop(pw::runtime& rt) : rt_(rt) {}

  natsStatus install(natsOptions* opts) { return natsOptions_SetEventLoop(opts, this, attach, read, write, detach); }

  // The watch of the connection attached last.
  socket_watch* last() {
    const std::lock_guard lock(mu_);
    return watches_.empty() ? nullptr : watches_.back().get();
  }

  // Once every connection is closed: waits for the drivers to end.
  pw::task<void> join_drivers() {
    std::vector<pw::join_handle<void>> handles;
    {
      const std::lock_guard lock(mu_);
      for (auto& w : watches_) handles.push_back(std::move(w->driver));
    }
    for (auto& h : handles) (void)co_await std::move(h);  // each ends once detached
  }

 private:
  static natsStatus attach(void** user, void* loop, natsConnection* nc, natsSock sock) {
    auto* self = static_cast<runtime_event_loop*>(loop);
    auto* w = static_cast<socket_watch*>(*user);
    if (w == nullptr) {
      auto owned = std::make_unique<socket_watch>();
      w = owned.get();
      w->nc = nc;
      w->fd.store(sock, std::memory_order_release);
      {
        const std::lock_guard lock(self->mu_);
        self->watches_.push_back(std::move(owned));
      }
      *user = w;
      w->driver = self->rt_.spawn(drive(*w));
      return NATS_OK;
    }
    w->fd.store(sock, std::memory_order_release);
    w->generation.fetch_add(1, std::memory_order_acq_rel);
    w->changed.notify_one();
    return NATS_OK;
  }
  static natsStatus read(void*, bool) { return NATS_OK; }  // the driver always waits for reads
  static natsStatus write(void* user, bool add) {
    auto* w = static_cast<socket_watch*>(user);
    if (w->want_write.exchange(add, std::memory_order_acq_rel) != add) w->changed.notify_one();
    return NATS_OK;
  }
  static natsStatus detach(void* user) {
    auto* w = static_cast<socket_watch*>(user);
    w->detached.store(true, std::memory_order_release);
    w->changed.notify_one();
    return NATS_OK;
  }

  static pw::task<void> drive(socket_watch& w) {
    std::uint32_t watched = ~0u;
    pw::option<pw::io::async_fd> afd;
    while (!w.detached.load(std::memory_order_acquire)) {
      const std::uint32_t gen = w.generation.load(std::memory_order_acquire);
      if (gen != watched) {
        afd = pw::none;
        auto a = pw::io::async_fd::watch(w.fd.load(std::memory_order_acquire));
        if (!a) {
          co_await w.changed.notified();
          continue;
        }
        afd.emplace(std::move(*a));
        watched = gen;
      }
      bool readable = false, writable = false;
      if (w.want_write.load(std::memory_order_acquire)) {
        auto r = co_await pw::race(afd->readable(), afd->writable(), w.changed.notified());
        readable = r.completed<0>();
        writable = r.completed<1>();
      } else {
        auto r = co_await pw::race(afd->readable(), w.changed.notified());
        readable = r.completed<0>();
      }
      if (writable) natsConnection_ProcessWriteEvent(w.nc);
      if (readable) {
        natsConnection_ProcessReadEvent(w.nc);
        w.read_events.notify_one();
      }
    }
    afd = pw::none;
  }

  pw::runtime& rt_;
  std::mutex mu_;
  std::vector<std::unique_ptr<socket_watch>> watches_;
};

// ---- measuring ----

enum class mode { threads, loop };
const char* name_of(mode m) { return m == mode::threads ? "threads" : "loop"; }

double cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int thread_count() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Threads:", 0) == 0) return std::atoi(line.c_str() + 8);
  return -1;
}

struct options {
  int rounds = 3;
  int publishes = 200'000;
  int size = 256;
  int window = 1024;
  int requests = 20'000;
};

struct round_result {
  double publish_rate = 0;         // publishes acknowledged per second
  double publish_cpu_us = 0;       // process CPU time per publish
  double request_p50_us = 0, request_p99_us = 0;
  double request_cpu_us = 0;
  int threads = 0;                 // the process's threads while connected
  bool complete = false;
};

// send_asap: each publish is written at once, not left for nats.c's flusher thread, which waits
// a millisecond before it writes (for throughput): without it, each request and each reply would
// carry that wait, whatever drives the socket.
natsConnection* connect(const std::string& url, runtime_event_loop* loop, bool send_asap) {
  natsOptions* opts = nullptr;
  natsConnection* nc = nullptr;
  natsStatus s = natsOptions_Create(&opts);
  if (s == NATS_OK) s = natsOptions_SetURL(opts, url.c_str());
  if (s == NATS_OK) s = natsOptions_SetSendAsap(opts, send_asap);
  if (s == NATS_OK && loop != nullptr) s = loop->install(opts);
  if (s == NATS_OK) s = natsConnection_Connect(&nc, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) {
    std::fprintf(stderr, "connect %s: %s\n", url.c_str(), natsStatus_GetText(s));
    return nullptr;
  }
  return nc;
}

// The acknowledgement handler's side of the publish window.
struct publish_window {
  explicit publish_window(int permits) : permits(static_cast<std::size_t>(permits)) {}
  pw::semaphore permits;
  std::atomic<std::uint64_t> acknowledged{0};
  std::atomic<std::uint64_t> refused{0};
};

void on_ack(jsCtx*, natsMsg* m, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* win = static_cast<publish_window*>(closure);
  if (pa != nullptr && pae == nullptr) win->acknowledged.fetch_add(1, std::memory_order_relaxed);
  else win->refused.fetch_add(1, std::memory_order_relaxed);
  natsMsg_Destroy(m);
  win->permits.add_permits(1);
}

pw::task<bool> publish_all(jsCtx* js, publish_window& win, const options& o, int round) {
  const std::string payload(static_cast<std::size_t>(o.size), 'x');
  for (int i = 0; i < o.publishes; ++i) {
    auto permit = co_await win.permits.acquire();
    if (!permit) co_return false;
    permit->forget();
    const std::string subject = "bench.js." + std::to_string(i % 16);
    natsMsg* m = nullptr;
    if (natsMsg_Create(&m, subject.c_str(), nullptr, payload.data(), o.size) != NATS_OK) co_return false;
    const std::string id = std::to_string(round) + "/" + std::to_string(i);
    natsMsgHeader_Set(m, "Nats-Msg-Id", id.c_str());
    if (js_PublishMsgAsync(js, &m, nullptr) != NATS_OK) {
      natsMsg_Destroy(m);
      co_return false;
    }
  }
  // Every permit back: every publish answered.
  for (int i = 0; i < o.window; ++i) {
    auto permit = co_await win.permits.acquire();
    if (!permit) co_return false;
    permit->forget();
  }
  co_return true;
}

// The reply slot of the threads mode: nats.c's delivery thread fills it and wakes the task.
struct reply_slot {
  std::mutex mu;
  natsMsg* msg = nullptr;
  pw::notify ready;
};

void on_reply(natsConnection*, natsSubscription*, natsMsg* m, void* closure) {
  auto* slot = static_cast<reply_slot*>(closure);
  {
    const std::lock_guard lock(slot->mu);
    natsMsg_Destroy(slot->msg);
    slot->msg = m;
  }
  slot->ready.notify_one();
}

void on_echo(natsConnection* nc, natsSubscription*, natsMsg* m, void*) {
  if (const char* reply = natsMsg_GetReply(m); reply != nullptr)
    natsConnection_Publish(nc, reply, natsMsg_GetData(m), natsMsg_GetDataLength(m));
  natsMsg_Destroy(m);
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Sequential requests; each one's round trip in `trips` (ns).
pw::task<bool> request_all(natsConnection* nc, mode m, socket_watch* watch, const options& o,
                           std::vector<std::int64_t>& trips) {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) co_return false;
  const std::string reply_to(inbox);
  natsInbox_Destroy(inbox);
  reply_slot slot;
  natsSubscription* sub = nullptr;
  natsStatus s = m == mode::threads ? natsConnection_Subscribe(&sub, nc, reply_to.c_str(), on_reply, &slot)
                                    : natsConnection_SubscribeSync(&sub, nc, reply_to.c_str());
  // Once flushed, the server knows the subscription. A flush blocks until the server's answer is
  // read, which with the hooks is the driver task's job: it must not block a worker.
  if (s == NATS_OK) {
    auto flushing = pw::spawn_blocking([nc] { return natsConnection_Flush(nc); });
    auto flushed = co_await std::move(flushing);
    s = flushed ? *flushed : NATS_ERR;
  }
  bool ok = s == NATS_OK;
  const char body[16] = "ping";
  for (int i = 0; ok && i < o.requests; ++i) {
    const std::int64_t sent = now_ns();
    if (natsConnection_PublishRequest(nc, "bench.echo", reply_to.c_str(), body, sizeof body) != NATS_OK) {
      ok = false;
      break;
    }
    natsMsg* got = nullptr;
    const std::int64_t give_up = sent + 5'000'000'000;
    while (got == nullptr && now_ns() < give_up) {
      if (m == mode::threads) {
        {
          const std::lock_guard lock(slot.mu);
          got = std::exchange(slot.msg, nullptr);
        }
        if (got == nullptr) (void)co_await pw::timeout(std::chrono::seconds(1), slot.ready.notified());
      } else {
        if (natsSubscription_NextMsg(&got, sub, 0) != NATS_OK) {
          got = nullptr;
          (void)co_await pw::timeout(std::chrono::seconds(1), watch->read_events.notified());
        }
      }
    }
    if (got == nullptr) {
      ok = false;
      break;
    }
    trips.push_back(now_ns() - sent);
    natsMsg_Destroy(got);
  }
  natsSubscription_Unsubscribe(sub);
  natsSubscription_Destroy(sub);
  {
    const std::lock_guard lock(slot.mu);
    natsMsg_Destroy(std::exchange(slot.msg, nullptr));
  }
  co_return ok;
}

double percentile_us(std::vector<std::int64_t> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())));
  return static_cast<double>(v[i]) / 1000.0;
}

round_result run_round(const std::string& url, mode m, const options& o, int round) {
  round_result r;
  pw::runtime rt;
  runtime_event_loop loop(rt);
  // The publishes on a connection as polarway-ingest's (buffered), the requests on their own.
  natsConnection* nc = connect(url, m == mode::loop ? &loop : nullptr, false);
  if (nc == nullptr) return r;
  natsConnection* requester = connect(url, m == mode::loop ? &loop : nullptr, true);
  if (requester == nullptr) {
    natsConnection_Destroy(nc);
    return r;
  }
  socket_watch* watch = m == mode::loop ? loop.last() : nullptr;
  publish_window win(o.window);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.AckHandler = on_ack;
  jo.PublishAsync.AckHandlerClosure = &win;
  jo.PublishAsync.MaxPending = o.window;
  jsCtx* js = nullptr;
  bool published = false, requested = false;
  std::vector<std::int64_t> trips;
  if (natsConnection_JetStream(&js, nc, &jo) == NATS_OK) {
    const double cpu0 = cpu_seconds();
    const std::int64_t t0 = now_ns();
    published = rt.block_on(publish_all(js, win, o, round));
    const std::int64_t t1 = now_ns();
    const double cpu1 = cpu_seconds();
    r.threads = thread_count();
    r.publish_rate = static_cast<double>(o.publishes) / (static_cast<double>(t1 - t0) / 1e9);
    r.publish_cpu_us = (cpu1 - cpu0) * 1e6 / o.publishes;
    published = published && win.acknowledged.load() == static_cast<std::uint64_t>(o.publishes) && win.refused.load() == 0;
    if (!published)
      std::fprintf(stderr, "%s: %llu of %d publishes acknowledged, %llu refused\n", name_of(m),
                   static_cast<unsigned long long>(win.acknowledged.load()), o.publishes,
                   static_cast<unsigned long long>(win.refused.load()));
    const double cpu2 = cpu_seconds();
    requested = rt.block_on(request_all(requester, m, watch, o, trips));
    const double cpu3 = cpu_seconds();
    r.request_p50_us = percentile_us(trips, 0.50);
    r.request_p99_us = percentile_us(trips, 0.99);
    r.request_cpu_us = (cpu3 - cpu2) * 1e6 / o.requests;
    if (!requested) std::fprintf(stderr, "%s: %zu of %d replies came\n", name_of(m), trips.size(), o.requests);
    jsCtx_Destroy(js);
  }
  // Closed (detached: the drivers end), then destroyed once no driver can call into them.
  for (natsConnection* c : {requester, nc}) natsConnection_Close(c);
  rt.block_on(loop.join_drivers());
  for (natsConnection* c : {requester, nc}) natsConnection_Destroy(c);
  r.complete = published && requested;
  return r;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

bool parse(int argc, char** argv, options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto number = [&](int& into) {
      if (i + 1 >= argc) return false;
      into = std::atoi(argv[++i]);
      return into > 0;
    };
    if (a == "--quick") {
      o.rounds = 1;
      o.publishes = 2'000;
      o.window = 64;
      o.requests = 200;
    } else if (a == "--rounds") {
      if (!number(o.rounds)) return false;
    } else if (a == "--publishes") {
      if (!number(o.publishes)) return false;
    } else if (a == "--size") {
      if (!number(o.size)) return false;
    } else if (a == "--window") {
      if (!number(o.window)) return false;
    } else if (a == "--requests") {
      if (!number(o.requests)) return false;
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  if (!parse(argc, argv, o)) {
    std::fprintf(stderr,
                 "usage: tick_nats_hooks_bench [--rounds K] [--publishes N] [--size S] [--window W] "
                 "[--requests R] [--quick]\n");
    return 2;
  }
  auto cluster = nats_cluster::start(1);
  if (!cluster) {
    std::fprintf(stderr, "nats-server: %s\n", cluster.error().c_str());
    return 1;
  }
  const std::string url = cluster->url(0);
  // The stream (in memory: the server's disk is not what is compared) and the echo, on a
  // connection of their own with nats.c's threads.
  natsConnection* admin = connect(url, nullptr, true);
  if (admin == nullptr) return 1;
  jsCtx* js = nullptr;
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  const char* subjects[] = {"bench.js.>"};
  sc.Name = "BENCH";
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Storage = js_MemoryStorage;
  sc.MaxMsgs = 100'000;
  jsStreamInfo* si = nullptr;
  natsSubscription* echo = nullptr;
  if (natsConnection_JetStream(&js, admin, nullptr) != NATS_OK || js_AddStream(&si, js, &sc, nullptr, nullptr) != NATS_OK ||
      natsConnection_Subscribe(&echo, admin, "bench.echo", on_echo, nullptr) != NATS_OK ||
      natsConnection_Flush(admin) != NATS_OK) {
    std::fprintf(stderr, "cannot set up the stream and the echo\n");
    return 1;
  }
  jsStreamInfo_Destroy(si);

  std::vector<round_result> results[2];
  bool complete = true;
  for (int round = 0; round < o.rounds; ++round) {
    for (const mode m : {mode::threads, mode::loop}) {
      const round_result r = run_round(url, m, o, round);
      complete = complete && r.complete;
      std::fprintf(stderr,
                   "round %d %-7s: publish %.0f/s (%.2f us CPU each), request p50 %.1f us p99 %.1f us "
                   "(%.2f us CPU each), %d threads\n",
                   round + 1, name_of(m), r.publish_rate, r.publish_cpu_us, r.request_p50_us, r.request_p99_us,
                   r.request_cpu_us, r.threads);
      results[static_cast<int>(m)].push_back(r);
    }
  }
  natsSubscription_Destroy(echo);
  jsCtx_Destroy(js);
  natsConnection_Close(admin);
  natsConnection_Destroy(admin);
  nats_CloseAndWait(10'000);

  std::printf("%d publishes of %d B (window %d), %d requests; medians of %d round(s)\n\n", o.publishes, o.size, o.window,
              o.requests, o.rounds);
  std::printf("| nats.c on | publishes/s | CPU per publish | request p50 | request p99 | CPU per request | threads |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const mode m : {mode::threads, mode::loop}) {
    const auto& rs = results[static_cast<int>(m)];
    auto pick = [&rs](double round_result::*field) {
      std::vector<double> v;
      for (const round_result& r : rs) v.push_back(r.*field);
      return median(v);
    };
    std::vector<double> threads;
    for (const round_result& r : rs) threads.push_back(r.threads);
    std::printf("| %s | %.0f | %.2f us | %.1f us | %.1f us | %.2f us | %.0f |\n",
                m == mode::threads ? "its own threads" : "the runtime's reactor (event-loop hooks)",
                pick(&round_result::publish_rate), pick(&round_result::publish_cpu_us), pick(&round_result::request_p50_us),
                pick(&round_result::request_p99_us), pick(&round_result::request_cpu_us), median(threads));
  }
  if (!complete) {
    std::fprintf(stderr, "FAILED: a publish was not acknowledged or a reply did not come\n");
    return 1;
  }
  return 0;
}
