#include "tick_publisher.hpp"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include <polarway/net/tcp_listener.hpp>
#include <polarway/net/unix_listener.hpp>
#include <polarway/runtime/race.hpp>
#include <polarway/sync/broadcast.hpp>
#include <polarway/sync/cancellation_token.hpp>
#include <polarway/sync/mpsc.hpp>
#include <polarway/sync/notify.hpp>
#include <polarway/time/sleep.hpp>

#include "process_stats.hpp"
#include "serve.hpp"
#include "ticks/arrow_ipc.hpp"
#include "ticks/subscription_request.hpp"

namespace ticks::app {

namespace pw = polarway;
namespace ipc = ticks::arrow_ipc;
using namespace std::chrono_literals;

namespace {

// A batch as published: the ticks one connection decoded from one read, and when the sink task
// took them. Shared by every subscriber's queue.
struct published_batch {
  std::vector<tick> ticks;
  std::int64_t recv_ns = 0;
};
using batch_ptr = std::shared_ptr<const published_batch>;

// A block subscriber's end of the publisher: its queue's sender and the token that cuts it off.
struct block_subscriber {
  pw::mpsc::sender<batch_ptr> tx;
  pw::cancellation_token cut;
};

// Whether a Unix socket at `path` is served by someone (a connect succeeds or is not refused).
bool unix_socket_in_use(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return true;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), std::min(path.size(), sizeof sa.sun_path - 1));
  const bool refused = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) != 0 && errno == ECONNREFUSED;
  ::close(fd);
  return !refused;
}

}  // namespace

struct tick_publisher::state {
  publish_options options;
  std::string address;
  std::string unix_path;  // the socket file to remove at the end; empty for TCP
  std::variant<pw::net::tcp_listener, pw::net::unix_listener> listener;
  publisher_counters counters;
  pw::cancellation_token accepting;  // cancelled by close()
  pw::cancellation_token cut_all;    // cancelled when the drain time is up
  pw::cancellation_token finished;   // cancelled when run() has ended

  std::mutex mu;  // guards the three below
  bool closed = false;
  std::vector<std::shared_ptr<block_subscriber>> blocking;
  pw::option<pw::broadcast::sender<batch_ptr>> lossy;
  pw::notify subscribed;  // notify_waiters() whenever one more is registered

  void cut(const std::shared_ptr<block_subscriber>& s) {
    s->cut.cancel();
    std::lock_guard lock(mu);
    std::erase(blocking, s);
  }
};

namespace {

using state = tick_publisher::state;

// Writes `bytes`, unless the subscriber is cut off first. False when the stream is done for.
template <class Stream>
pw::task<bool> write_or_cut(Stream& s, const std::vector<std::byte>& bytes, const pw::cancellation_token& cut) {
  auto r = co_await pw::race(s.write_all(std::span<const std::byte>(bytes)), cut.cancelled());
  co_return r.index() == 0 && static_cast<bool>(r.template get<0>());
}

// Whether the subscriber has bytes written to it that it has not read yet. On a Unix socket the
// bytes waiting in the reader's queue are still charged to the writer's socket (SIOCOUTQ); over
// TCP the kernel cannot tell, and every batch is written as it comes.
template <class Stream>
bool has_unread(const Stream& s) noexcept {
  if constexpr (std::is_same_v<Stream, pw::net::unix_stream>) {
    int queued = 0;
    return ::ioctl(s.native_handle(), SIOCOUTQ, &queued) == 0 && queued > 0;
  } else {
    return false;
  }
}

// Reads the request line: its text without '\n', or why there is none.
template <class Stream>
pw::task<pw::result<std::string, std::string>> read_request(Stream& s, const state& st) {
  std::string line;
  std::array<std::byte, 512> buf{};
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(st.options.request_timeout_ms);
  for (;;) {
    auto r = co_await pw::race(s.read(std::span<std::byte>(buf)), pw::sleep_until(deadline), st.accepting.cancelled());
    if (r.index() == 1)
      co_return pw::err("no request line within " + std::to_string(st.options.request_timeout_ms) + " ms");
    if (r.index() == 2) co_return pw::err(std::string("ingest is stopping"));
    auto& n = r.template get<0>();
    if (!n) co_return pw::err(std::string("read failed: ") + n.error().message());
    if (*n == 0) co_return pw::err(std::string("connection closed before a request line"));
    line.append(reinterpret_cast<const char*>(buf.data()), *n);
    if (const auto nl = line.find('\n'); nl != std::string::npos) {
      line.resize(nl);
      co_return pw::ok(std::move(line));
    }
    if (line.size() >= max_subscription_request)
      co_return pw::err("request longer than " + std::to_string(max_subscription_request) + " bytes without a newline");
  }
}

// The next thing a subscriber's task has to send.
struct next_item {
  enum class what : std::uint8_t { batch, lagged, closed, idle, cut };
  what kind = what::idle;
  batch_ptr batch;
  std::uint64_t missed = 0;

  static next_item of(what k) {
    next_item n;
    n.kind = k;
    return n;
  }
  static next_item of(batch_ptr b) {
    next_item n = of(what::batch);
    n.batch = std::move(b);
    return n;
  }
  static next_item lag(std::uint64_t missed) {
    next_item n = of(what::lagged);
    n.missed = missed;
    return n;
  }
};

// A subscriber's queue, whichever its policy: its own mpsc channel (block) or the shared ring.
class subscriber_queue {
 public:
  explicit subscriber_queue(pw::mpsc::receiver<batch_ptr> rx) : rx_(std::move(rx)) {}
  explicit subscriber_queue(pw::broadcast::receiver<batch_ptr> rx) : rx_(std::move(rx)) {}

  // Waits for the next batch until `until`.
  pw::task<next_item> next(std::chrono::steady_clock::time_point until, const pw::cancellation_token& cut) {
    if (auto* m = std::get_if<pw::mpsc::receiver<batch_ptr>>(&rx_)) {
      auto r = co_await pw::race(m->recv(), pw::sleep_until(until), cut.cancelled());
      if (r.index() == 1) co_return next_item::of(next_item::what::idle);
      if (r.index() == 2) co_return next_item::of(next_item::what::cut);
      auto& v = r.template get<0>();
      if (!v) co_return next_item::of(next_item::what::closed);
      co_return next_item::of(std::move(*v));
    }
    auto& b = std::get<pw::broadcast::receiver<batch_ptr>>(rx_);
    auto r = co_await pw::race(b.recv(), pw::sleep_until(until), cut.cancelled());
    if (r.index() == 1) co_return next_item::of(next_item::what::idle);
    if (r.index() == 2) co_return next_item::of(next_item::what::cut);
    co_return from(r.template get<0>());
  }

  // The next batch if one is queued now; idle when none is.
  next_item try_next() {
    if (auto* m = std::get_if<pw::mpsc::receiver<batch_ptr>>(&rx_)) {
      auto v = m->try_recv();
      if (v) return next_item::of(std::move(*v));
      return next_item::of(v.error() == pw::mpsc::try_recv_error::empty ? next_item::what::idle : next_item::what::closed);
    }
    auto v = std::get<pw::broadcast::receiver<batch_ptr>>(rx_).try_recv();
    if (v) return next_item::of(std::move(*v));
    if (v.error().is_empty()) return next_item::of(next_item::what::idle);
    if (v.error().is_lagged()) return next_item::lag(v.error().missed());
    return next_item::of(next_item::what::closed);
  }

 private:
  static next_item from(pw::result<batch_ptr, pw::broadcast::recv_error>& v) {
    if (v) return next_item::of(std::move(*v));
    if (v.error().is_lagged()) return next_item::lag(v.error().missed());
    return next_item::of(next_item::what::closed);
  }
  std::variant<pw::mpsc::receiver<batch_ptr>, pw::broadcast::receiver<batch_ptr>> rx_;
};

// Adds the ticks of `b` this subscriber wants to the builder.
void take(ipc::batch_builder& builder, const subscription_request& req, const published_batch& b, state& st) {
  for (const tick& t : b.ticks) {
    if (kind_of(t) != req.kind || !req.wants(symbol_of(t))) continue;
    if (!builder.add(t, b.recv_ns)) st.counters.unrepresentable.fetch_add(1, std::memory_order_relaxed);
  }
}

template <class Stream>
pw::task<void> refuse(Stream& s, state& st, const std::string& why) {
  st.counters.refused.fetch_add(1, std::memory_order_relaxed);
  std::vector<std::byte> out;
  const ipc::key_value meta[] = {{"polarway.error", why}};
  ipc::append_empty_schema(out, meta);
  ipc::append_end_of_stream(out);
  (void)co_await write_or_cut(s, out, st.cut_all);
  (void)co_await s.shutdown();
}

// One subscriber, from its request to the end of its stream.
template <class Stream>
pw::task<void> serve_subscriber(Stream s, std::shared_ptr<state> stp) {
  state& st = *stp;
  auto line = co_await read_request(s, st);
  if (!line) {
    co_await refuse(s, st, line.error());
    co_return;
  }
  auto parsed = parse_subscription_request(*line);
  if (!parsed) {
    co_await refuse(s, st, parsed.error().text);
    co_return;
  }
  const subscription_request req = std::move(*parsed);

  // Register: from here on every batch published reaches this subscriber's queue.
  pw::cancellation_token cut = st.cut_all.child_token();
  // The publisher's list alone holds a block subscriber's sender, so that dropping the list
  // (close) ends its queue; the task keeps only the address, to leave the list.
  const block_subscriber* blocking = nullptr;
  pw::option<subscriber_queue> queue;
  bool stopping = false;
  {
    std::lock_guard lock(st.mu);
    stopping = st.closed;
    if (!stopping && st.counters.active.load() < st.options.max_subscribers) {
      if (req.policy == delivery_policy::block) {
        auto [tx, rx] = pw::mpsc::channel<batch_ptr>(st.options.queue_batches);
        auto sub = std::make_shared<block_subscriber>(block_subscriber{std::move(tx), cut});
        blocking = sub.get();
        st.blocking.push_back(std::move(sub));
        queue.emplace(std::move(rx));
      } else {
        queue.emplace(st.lossy->subscribe());
      }
      st.counters.active.fetch_add(1, std::memory_order_release);
    }
  }
  if (queue.is_some()) st.subscribed.notify_waiters();
  if (!queue.is_some()) {
    const std::string why = stopping ? std::string("ingest is stopping")
                                     : "too many subscribers (" + std::to_string(st.options.max_subscribers) + ")";
    co_await refuse(s, st, why);
    co_return;
  }
  st.counters.subscribed.fetch_add(1, std::memory_order_relaxed);

  std::vector<std::byte> out;
  const std::string heartbeat_ms = std::to_string(st.options.heartbeat_ms);
  const ipc::key_value schema_meta[] = {{"polarway.kind", to_string(req.kind)},
                                        {"polarway.heartbeat_ms", heartbeat_ms},
                                        {"polarway.policy", to_string(req.policy)}};
  ipc::append_schema(out, req.kind, schema_meta);
  bool alive = co_await write_or_cut(s, out, cut);
  ipc::batch_builder builder(req.kind);
  const auto heartbeat = std::chrono::milliseconds(st.options.heartbeat_ms);
  auto last_write = std::chrono::steady_clock::now();
  std::string closing;
  auto wake_at = last_write + heartbeat;
  std::uint64_t lagged = 0;  // batches lost (lossy) and not reported yet
  while (alive) {
    next_item item = co_await queue->next(wake_at, cut);
    // What is queued now goes out with this batch, up to a message's rows.
    while (item.kind == next_item::what::batch || item.kind == next_item::what::lagged) {
      if (item.kind == next_item::what::batch) {
        take(builder, req, *item.batch, st);
      } else {
        lagged += item.missed;
      }
      if (builder.rows() >= st.options.max_rows_per_message) break;
      item = queue->try_next();
    }
    if (item.kind == next_item::what::cut) break;
    const auto now = std::chrono::steady_clock::now();
    if (item.kind == next_item::what::closed) {
      closing = "ingest stopped";
    } else if (builder.rows() != 0 && builder.rows() < st.options.max_rows_per_message && has_unread(s)) {
      // The subscriber has yet to read what was written last: it could not take this sooner,
      // so it is held, and what comes meanwhile joins it in one message (one decode for the
      // reader instead of many). Looked at again with the next batch, or in a millisecond.
      wake_at = now + 1ms;
      continue;
    }
    out.clear();
    if (lagged != 0) {
      st.counters.lagged_batches.fetch_add(lagged, std::memory_order_relaxed);
      const std::string n = std::to_string(lagged);
      const ipc::key_value meta[] = {{"polarway.lagged", n}};
      ipc::batch_builder(req.kind).append(out, meta);
      lagged = 0;
    }
    if (builder.rows() != 0) {
      st.counters.ticks_sent.fetch_add(builder.rows(), std::memory_order_relaxed);
      st.counters.messages_sent.fetch_add(1, std::memory_order_relaxed);
      builder.append(out);
    }
    if (out.empty() && closing.empty()) {
      if (now < last_write + heartbeat) {  // only ticks this subscriber does not want came
        wake_at = last_write + heartbeat;
        continue;
      }
      const std::string unix_ns = std::to_string(realtime_ns());
      const ipc::key_value meta[] = {{"polarway.heartbeat", unix_ns}};
      builder.append(out, meta);
      st.counters.heartbeats.fetch_add(1, std::memory_order_relaxed);
    }
    if (!closing.empty()) {
      const ipc::key_value meta[] = {{"polarway.closed", closing}};
      builder.append(out, meta);
      ipc::append_end_of_stream(out);
    }
    alive = co_await write_or_cut(s, out, cut);
    last_write = std::chrono::steady_clock::now();
    wake_at = last_write + heartbeat;
    if (!closing.empty()) break;
  }
  if (closing.empty() && !cut.is_cancelled()) st.counters.gone.fetch_add(1, std::memory_order_relaxed);
  if (blocking != nullptr) {
    std::lock_guard lock(st.mu);
    std::erase_if(st.blocking, [blocking](const auto& b) { return b.get() == blocking; });
  }
  queue.reset();
  st.counters.active.fetch_sub(1, std::memory_order_release);
  if (!closing.empty()) (void)co_await s.shutdown();
}

}  // namespace

tick_publisher::tick_publisher(std::shared_ptr<state> s) noexcept : state_(std::move(s)) {}

tick_publisher::~tick_publisher() {
  if (state_ && !state_->unix_path.empty()) ::unlink(state_->unix_path.c_str());
}

pw::result<std::unique_ptr<tick_publisher>, std::string> tick_publisher::bind(publish_options options) {
  if (options.queue_batches == 0) return pw::err(std::string("--publish-queue must be at least 1"));
  auto st = std::make_shared<state>();
  const std::string_view addr = options.address;
  if (addr.starts_with("unix:")) {
    std::string path(addr.substr(5));
    if (path.empty()) return pw::err(std::string("--publish unix: needs a path"));
    auto l = pw::net::unix_listener::bind(path);
    if (!l && l.error().code() == std::errc::address_in_use && !unix_socket_in_use(path)) {
      ::unlink(path.c_str());  // left by a run that was killed: nobody accepts on it
      l = pw::net::unix_listener::bind(path);
    }
    if (!l) return pw::err("cannot listen on " + options.address + ": " + l.error().message());
    st->listener.emplace<pw::net::unix_listener>(std::move(*l));
    st->unix_path = path;
    st->address = options.address;
  } else if (addr.starts_with("tcp:")) {
    auto l = pw::net::tcp_listener::bind(addr.substr(4));
    if (!l) return pw::err("cannot listen on " + options.address + ": " + l.error().message());
    auto local = l->local_addr();
    if (!local) return pw::err("cannot listen on " + options.address + ": " + local.error().message());
    st->address = "tcp:" + local->to_string();
    st->listener.emplace<pw::net::tcp_listener>(std::move(*l));
  } else {
    return pw::err("--publish takes unix:PATH or tcp:HOST:PORT, not '" + options.address + "'");
  }
  auto [tx, rx] = pw::broadcast::channel<batch_ptr>(options.queue_batches);
  st->lossy.emplace(std::move(tx));  // the ring exists while no lossy subscriber does: rx goes
  st->options = std::move(options);
  return pw::ok(std::unique_ptr<tick_publisher>(new tick_publisher(std::move(st))));
}

const std::string& tick_publisher::address() const noexcept { return state_->address; }

const publisher_counters& tick_publisher::counters() const noexcept { return state_->counters; }

namespace {

// serve() over the listener, its handler and events made here, outside any co_await (g++ 12
// destroys a coroutine's temporaries of a co_await expression twice).
template <class Stream, class Listener>
pw::task<void> serve_subscribers(Listener& l, std::shared_ptr<state> st) {
  serve_events events;
  events.on_refused = [st] { st->counters.refused.fetch_add(1, std::memory_order_relaxed); };
  // serve()'s own limit is a backstop above max_subscribers: a connection that is still to send
  // its request holds a slot too, and a refusal past max_subscribers is a message, not a reset.
  const std::size_t slots = st->options.max_subscribers * 2 + 8;
  return serve(l, st->accepting, slots, [st](Stream s) { return serve_subscriber(std::move(s), st); }, std::move(events));
}

}  // namespace

pw::task<void> tick_publisher::run() {
  std::shared_ptr<state> st = state_;
  auto serving = std::holds_alternative<pw::net::tcp_listener>(st->listener)
                     ? serve_subscribers<pw::net::tcp_stream>(std::get<pw::net::tcp_listener>(st->listener), st)
                     : serve_subscribers<pw::net::unix_stream>(std::get<pw::net::unix_listener>(st->listener), st);
  co_await std::move(serving);
  st->finished.cancel();
}

pw::task<void> tick_publisher::publish(std::span<const tick> batch) {
  state& st = *state_;
  if (st.counters.active.load(std::memory_order_acquire) == 0 || batch.empty()) co_return;
  auto shared = std::make_shared<published_batch>();
  shared->ticks.assign(batch.begin(), batch.end());
  shared->recv_ns = realtime_ns();
  const batch_ptr p = std::move(shared);
  std::vector<std::shared_ptr<block_subscriber>> blocking;
  {
    std::lock_guard lock(st.mu);
    if (st.closed) co_return;
    if (st.lossy->receiver_count() != 0) (void)st.lossy->send(p);
    blocking = st.blocking;
  }
  const auto stall = std::chrono::milliseconds(st.options.stall_timeout_ms);
  for (const auto& sub : blocking) {
    auto sent = sub->tx.try_send(p);
    if (sent || sent.error().is_closed()) continue;  // queued, or the subscriber is ending
    auto r = co_await pw::race(sub->tx.send(p), pw::sleep(stall), sub->cut.cancelled());
    if (r.index() == 1) {
      st.counters.stalled.fetch_add(1, std::memory_order_relaxed);
      st.cut(sub);
    }
  }
}

pw::task<bool> tick_publisher::wait_for_subscribers(std::size_t n, pw::cancellation_token stop) {
  state& st = *state_;
  for (;;) {
    // Made before the count is read: a registration after the read still wakes it.
    auto changed = st.subscribed.notified();
    if (st.counters.active.load() >= n) co_return true;
    auto r = co_await pw::race(std::move(changed), stop.cancelled());
    if (r.index() == 1) co_return false;
  }
}

void tick_publisher::close() {
  state& st = *state_;
  {
    std::lock_guard lock(st.mu);
    if (st.closed) return;
    st.closed = true;
    // Dropping the senders ends every queue once it is drained.
    st.blocking.clear();
    st.lossy.reset();
  }
  st.accepting.cancel();
}

pw::task<void> tick_publisher::shutdown() {
  close();
  std::shared_ptr<state> st = state_;
  auto r = co_await pw::race(st->finished.cancelled(), pw::sleep(std::chrono::milliseconds(st->options.drain_timeout_ms)));
  if (r.index() == 1) st->cut_all.cancel();
}

pw::task<pw::result<void>> publishing_sink::write(std::span<const ticks::tick> batch) {
  co_await publisher_.publish(batch);
  if (downstream_ != nullptr) co_return co_await downstream_->write(batch);
  co_return pw::ok();
}

pw::task<pw::result<void>> publishing_sink::flush() {
  if (downstream_ != nullptr) co_return co_await downstream_->flush();
  co_return pw::ok();
}

}  // namespace ticks::app
