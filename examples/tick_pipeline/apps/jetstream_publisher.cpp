#include "jetstream_publisher.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <polarway/runtime.hpp>

#include "nats_connect.hpp"
#include "nats_library.hpp"
#include "reconnect_backoff.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

bool publish_retriable(natsStatus s) noexcept {
  // Closed for good (or never usable): re-sending cannot help.
  return s != NATS_CONNECTION_CLOSED && s != NATS_INVALID_ARG && s != NATS_INVALID_SUBJECT &&
         s != NATS_MAX_PAYLOAD;
}

std::span<const std::byte> payload_of(natsMsg* m) noexcept {
  return {reinterpret_cast<const std::byte*>(natsMsg_GetData(m)), static_cast<std::size_t>(natsMsg_GetDataLength(m))};
}

// The message's Nats-Msg-Id; empty if it has none.
std::string_view id_of(natsMsg* m) noexcept {
  const char* id = nullptr;
  if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || id == nullptr) return {};
  return id;
}

// A message to publish on `subject` with `id` as its Nats-Msg-Id; null in *out on failure.
natsStatus make_message(natsMsg** out, const char* subject, const char* id, std::span<const std::byte> payload) {
  natsMsg* m = nullptr;
  natsStatus s = natsMsg_Create(&m, subject, nullptr, reinterpret_cast<const char*>(payload.data()),
                                static_cast<int>(payload.size()));
  if (s == NATS_OK) s = natsMsgHeader_Set(m, "Nats-Msg-Id", id);
  if (s != NATS_OK) {
    natsMsg_Destroy(m);
    m = nullptr;
  }
  *out = m;
  return s;
}

}  // namespace

pw::result<std::vector<std::string>, std::string> parse_nats_servers(std::string_view servers) {
  if (servers.empty()) return pw::err(std::string("no server given"));
  std::vector<std::string> list;
  std::size_t start = 0;
  for (;;) {
    const std::size_t comma = servers.find(',', start);
    const std::string_view one = servers.substr(start, comma == std::string_view::npos ? servers.npos : comma - start);
    if (!one.starts_with("nats://"))
      return pw::err("'" + std::string(one) + "': expected nats://HOST:PORT");
    const std::string_view authority = one.substr(7);
    const std::size_t colon = authority.rfind(':');
    if (authority.empty() || colon == std::string_view::npos || colon == 0 || colon + 1 == authority.size() ||
        authority.find('/') != std::string_view::npos)
      return pw::err("'" + std::string(one) + "': expected nats://HOST:PORT");
    std::uint64_t port = 0;
    for (char c : authority.substr(colon + 1)) {
      if (c < '0' || c > '9' || (port = port * 10 + static_cast<std::uint64_t>(c - '0')) > 65535)
        return pw::err("'" + std::string(one) + "': the port must be a number from 1 to 65535");
    }
    if (port == 0) return pw::err("'" + std::string(one) + "': the port must be a number from 1 to 65535");
    list.emplace_back(one);
    if (comma == std::string_view::npos) return list;
    start = comma + 1;
  }
}

pw::result<void, std::string> check_jetstream_name(std::string_view name) {
  const bool valid = !name.empty() && name.size() <= 255 && std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
  });
  if (!valid) return pw::err("'" + std::string(name) + "': 1 to 255 letters, digits, '-' and '_'");
  return pw::ok();
}

struct jetstream_publisher::state {
  state(bus_options o, log_fn l, merge_fn m, compact_fn c)
      : options(std::move(o)), log(std::move(l)), merge(std::move(m)), compact(std::move(c)), window(options.window) {}
  state(const state&) = delete;
  state& operator=(const state&) = delete;
  ~state() {
    for (natsMsg* m : failed) natsMsg_Destroy(m);
    for (auto& group : released)
      for (natsMsg* m : group) natsMsg_Destroy(m);
    for (auto& [subject, waiting] : behind)
      for (natsMsg* m : waiting) natsMsg_Destroy(m);
  }

  bus_options options;
  log_fn log;
  merge_fn merge;
  compact_fn compact;
  bus_counters counters;
  // Held while js is used off the sink's task (the re-sender) and while it is destroyed.
  std::mutex js_mutex;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  // Whether nats.c ever took an asynchronous publish: until it does, it has no list of pending
  // publishes, and js_PublishAsyncGetPendingList (nats.c 3.4) reads through a null pointer.
  std::atomic<bool> took_any{false};
  // One permit per publish that may await its acknowledgement. Taken (and forgotten) by
  // publish(), given back by the acknowledgement handler on nats.c's thread.
  pw::semaphore window;
  std::atomic<std::uint64_t> in_flight{0};
  // Publishes whose acknowledgement failed or timed out, for the re-sender; they keep their
  // window permits until acknowledged.
  std::mutex failed_mutex;
  std::vector<natsMsg*> failed;
  pw::notify failed_ready;
  std::atomic<bool> acknowledged_since_failure{false};
  // Order within a subject: while one of its messages is out (with nats.c, or failed and
  // waiting to be re-sent), later ones wait in `behind`, in order; a subject has an entry there
  // exactly while one of its messages is out. Its acknowledgement moves the next to `released`,
  // for the sender task; with a merge function, the next ones too, up to merge_max_bytes: the
  // sender merges such a group into one message and puts back, in front, what does not merge.
  std::mutex order_mutex;
  std::unordered_map<std::string, std::deque<natsMsg*>> behind;
  std::vector<std::vector<natsMsg*>> released;
  pw::notify released_ready;
  pw::cancellation_token closing;
  // The acknowledgement handler touches the runtime's primitives (the window, the notifies)
  // only under this lock and while `handler_open`. The publisher's destructor closes it first:
  // an acknowledgement nats.c delivers later, on its thread, then wakes no task of a runtime
  // that may be gone by then.
  std::mutex handler_mutex;
  bool handler_open = true;
  // nats.c calls the acknowledgement handler with this state: it is released only with the
  // library (nats_library.hpp), once nats.c's threads are gone.
  std::shared_ptr<state> self;

  void hand_to_resender(natsMsg* m) {
    {
      const std::lock_guard lock(failed_mutex);
      failed.push_back(m);
    }
    failed_ready.notify_one();
  }

  // `subject`'s message is no longer out: the next one waiting behind it is released, with
  // those after it that may merge with it.
  void release_next(const char* subject) {
    bool next = false;
    {
      const std::lock_guard lock(order_mutex);
      const auto it = behind.find(subject == nullptr ? std::string() : std::string(subject));
      if (it == behind.end()) return;
      std::deque<natsMsg*>& waiting = it->second;
      if (waiting.empty()) {
        behind.erase(it);
      } else {
        std::vector<natsMsg*> group;
        std::size_t bytes = 0;
        do {
          bytes += payload_of(waiting.front()).size();
          group.push_back(waiting.front());
          waiting.pop_front();
        } while (merge && !waiting.empty() && bytes + payload_of(waiting.front()).size() <= options.merge_max_bytes);
        released.push_back(std::move(group));
        next = true;
      }
    }
    if (next) released_ready.notify_one();
  }

  // Hands one message to nats.c, which clears `*m` when it takes it.
  natsStatus publish_async(natsMsg** m, jsPubOptions& po) noexcept {
    const natsStatus s = js_PublishMsgAsync(js, m, &po);
    if (s == NATS_OK) took_any.store(true, std::memory_order_relaxed);
    return s;
  }

  jsPubOptions publish_options() const noexcept {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = static_cast<std::int64_t>(options.ack_timeout_ms);
    return po;
  }
};

namespace {

using state = jetstream_publisher::state;

// nats.c's acknowledgement handler (on its thread): an acknowledged message gives its window
// permit back; a failed or late one goes to the re-sender with its permit.
void on_acknowledgement(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* failure, void* closure) {
  auto* st = static_cast<state*>(closure);
  const std::lock_guard lock(st->handler_mutex);
  if (!st->handler_open) {
    natsMsg_Destroy(msg);
    return;
  }
  if (ack != nullptr) {
    st->counters.acknowledged.fetch_add(1, std::memory_order_relaxed);
    if (ack->Duplicate) st->counters.duplicates.fetch_add(1, std::memory_order_relaxed);
    st->acknowledged_since_failure.store(true, std::memory_order_relaxed);
    st->release_next(natsMsg_GetSubject(msg));
    natsMsg_Destroy(msg);
    st->in_flight.fetch_sub(1, std::memory_order_relaxed);
    st->window.add_permits(1);
    return;
  }
  (void)failure;
  st->hand_to_resender(msg);
}

struct connection {
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
};

// One attempt: connect, then the JetStream context whose handler reports to `st`.
pw::result<connection, std::string> connect_once(state& st) {
  const bus_options& o = st.options;
  auto nc = open_nats_connection(o, "polarway-ingest");
  if (!nc) return pw::err(std::move(nc).error());
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = static_cast<std::int64_t>(o.ack_timeout_ms);
  jo.PublishAsync.MaxPending = static_cast<std::int64_t>(o.window);
  jo.PublishAsync.AckHandler = on_acknowledgement;
  jo.PublishAsync.AckHandlerClosure = &st;
  jsCtx* js = nullptr;
  const natsStatus s = natsConnection_JetStream(&js, *nc, &jo);
  if (s != NATS_OK) {
    std::string why = nats_failure(s);
    natsConnection_Destroy(*nc);
    return pw::err(std::move(why));
  }
  return connection{*nc, js};
}

// What to do after looking the stream up.
enum class stream_check { ready, retry };

// Looks the stream up and creates it if it is missing. An existing stream must match: a
// mismatch is a final error. A bus not ready to answer (no JetStream leader yet) is `retry`.
pw::result<stream_check, std::string> ensure_stream(jsCtx* js, const bus_options& o, std::string& retry_why) {
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, js, o.stream.c_str(), nullptr, &code);
  const std::int64_t window_ns = static_cast<std::int64_t>(o.duplicate_window_ms) * 1'000'000;
  if (s == NATS_OK) {
    const jsStreamConfig& c = *info->Config;
    std::string differs;
    const auto note = [&differs](const std::string& what) { differs += (differs.empty() ? "" : "; ") + what; };
    if (c.SubjectsLen != 1 || c.Subjects == nullptr || o.subjects != c.Subjects[0]) {
      std::string has;
      for (int i = 0; i < c.SubjectsLen; ++i) has += (i ? "," : "") + std::string(c.Subjects[i]);
      note("subjects [" + has + "], not [" + o.subjects + "]");
    }
    if (c.Replicas != o.replicas)
      note("replicas " + std::to_string(c.Replicas) + ", not " + std::to_string(o.replicas));
    if (c.Storage != js_FileStorage) note("memory storage, not file");
    if (c.Duplicates != window_ns)
      note("duplicate window " + std::to_string(c.Duplicates / 1'000'000) + " ms, not " +
           std::to_string(o.duplicate_window_ms) + " ms");
    jsStreamInfo_Destroy(info);
    if (!differs.empty())
      return pw::err("stream " + o.stream + " exists with other settings: " + differs +
                     " (delete it, or run with --nats-stream NAME for another)");
    return stream_check::ready;
  }
  if (jetstream_unavailable_for_now(s, code)) {
    retry_why = "JetStream cannot answer yet: " + js_failure(s, code);
    return stream_check::retry;
  }
  if (code != JSStreamNotFoundErr && s != NATS_NOT_FOUND)
    return pw::err("cannot look up stream " + o.stream + ": " + js_failure(s, code));
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = o.stream.c_str();
  const char* subjects[] = {o.subjects.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = o.replicas;
  cfg.Duplicates = window_ns;
  code = static_cast<jsErrCode>(0);
  s = js_AddStream(&info, js, &cfg, nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return stream_check::ready;
  }
  if (jetstream_unavailable_for_now(s, code)) {
    retry_why = "JetStream cannot answer yet: " + js_failure(s, code);
    return stream_check::retry;
  }
  return pw::err("cannot create stream " + o.stream + ": " + js_failure(s, code));
}

bus_attempt try_connect(state& st) {
  auto c = connect_once(st);
  if (!c) return bus_attempt{bus_attempt::outcome::retry, std::move(c).error()};
  std::string retry_why;
  auto checked = ensure_stream(c->js, st.options, retry_why);
  if (checked && *checked == stream_check::ready) {
    st.nc = c->nc;
    st.js = c->js;
    return bus_attempt{bus_attempt::outcome::ready, {}};
  }
  jsCtx_Destroy(c->js);
  natsConnection_Destroy(c->nc);
  if (!checked) return bus_attempt{bus_attempt::outcome::fail, std::move(checked).error()};
  return bus_attempt{bus_attempt::outcome::retry, std::move(retry_why)};
}

// One attempt of last_messages(), blocking: on success `out` holds the last message of each
// subject; a failure for now (a cluster between leaders) is retried by the caller.
bus_attempt read_last_messages(state& st, const std::string& filter, std::vector<last_stored_message>& out) {
  const std::lock_guard lock(st.js_mutex);
  const std::string& stream = st.options.stream;
  const auto failed = [](natsStatus s, jsErrCode code, std::string what) {
    const bool retry = jetstream_unavailable_for_now(s, code);
    return bus_attempt{retry ? bus_attempt::outcome::retry : bus_attempt::outcome::fail,
                       std::move(what) + ": " + js_failure(s, code)};
  };
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Stream.Info.SubjectsFilter = filter.c_str();
  jsStreamInfo* info = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&info, st.js, stream.c_str(), &jo, &code);
  if (s != NATS_OK) return failed(s, code, "cannot list the subjects of stream " + stream);
  std::vector<std::string> subjects;
  if (const jsStreamStateSubjects* listed = info->State.Subjects; listed != nullptr)
    for (int i = 0; i < listed->Count; ++i) subjects.emplace_back(listed->List[i].Subject);
  jsStreamInfo_Destroy(info);
  out.clear();
  out.reserve(subjects.size());
  for (std::string& subject : subjects) {
    natsMsg* m = nullptr;
    code = static_cast<jsErrCode>(0);
    s = js_GetLastMsg(&m, st.js, stream.c_str(), subject.c_str(), nullptr, &code);
    // 10037: no message on the subject (purged or deleted since the listing).
    if (s == NATS_NOT_FOUND || static_cast<int>(code) == 10037) continue;
    if (s != NATS_OK) return failed(s, code, "cannot read the last message on " + subject + " in stream " + stream);
    out.push_back(last_stored_message{std::move(subject), natsMsg_GetSequence(m), std::string(id_of(m))});
    natsMsg_Destroy(m);
  }
  return bus_attempt{bus_attempt::outcome::ready, {}};
}

// Hands each message to nats.c (the caller holds js_mutex); one that nats.c does not take (it
// clears the pointer only when it does) goes to the re-sender. Returns whether any did not.
bool hand_to_nats(state& st, std::vector<natsMsg*>& messages) {
  jsPubOptions po = st.publish_options();
  bool kept = false;
  for (natsMsg* m : messages) {
    if (st.publish_async(&m, po) != NATS_OK) {
      const std::lock_guard lock(st.failed_mutex);
      st.failed.push_back(m);
      kept = true;
    }
  }
  return kept;
}

// Re-sends failed publishes after a back-off that grows while nothing is acknowledged.
pw::task<void> resend_failed(std::shared_ptr<state> stp) {
  state& st = *stp;
  reconnect_backoff backoff(st.options.retry_initial_ms, st.options.retry_max_ms, 0x6a09e667f3bcc908ull);
  std::uint64_t streak = 0;
  for (;;) {
    auto woken = co_await pw::race(st.failed_ready.notified(), st.closing.cancelled());
    if (woken.index() == 1) co_return;
    if (st.acknowledged_since_failure.exchange(false, std::memory_order_relaxed)) {
      backoff.reset();
      streak = 0;
    }
    const std::chrono::milliseconds delay = backoff.next_delay();
    if (streak++ == 0 || streak % 20 == 0)
      st.log("bus: publishes not acknowledged; re-sending in " + std::to_string(delay.count()) + " ms");
    auto waited = co_await pw::race(pw::sleep(delay), st.closing.cancelled());
    if (waited.index() == 1) co_return;
    // No co_await from here to the end of the pass: the lock is never held across a suspension.
    const std::lock_guard using_js(st.js_mutex);
    if (st.js == nullptr) co_return;  // closed meanwhile; the state frees what failed
    std::vector<natsMsg*> again;
    {
      const std::lock_guard lock(st.failed_mutex);
      again.swap(st.failed);
    }
    st.counters.resent.fetch_add(again.size(), std::memory_order_relaxed);
    if (hand_to_nats(st, again)) st.failed_ready.notify_one();
  }
}

// The one message a released group of a subject goes out as: as many of its messages as merge,
// from the first; the rest go back in front of the subject's queue, in order. Each message
// merged away gives its window slot back.
natsMsg* merge_group(state& st, std::vector<natsMsg*>& group) {
  std::size_t taken = 1;
  natsMsg* out = group.front();
  if (group.size() > 1) {
    std::string id(id_of(out));
    const auto first = payload_of(out);
    std::vector<std::byte> payload(first.begin(), first.end());
    while (taken < group.size() && st.merge(id, payload, id_of(group[taken]), payload_of(group[taken]))) ++taken;
    if (taken > 1) {
      if (st.compact) st.compact(payload);
      natsMsg* m = nullptr;
      if (make_message(&m, natsMsg_GetSubject(out), id.c_str(), payload) == NATS_OK) {
        for (std::size_t i = 0; i < taken; ++i) natsMsg_Destroy(group[i]);
        out = m;
        const std::size_t folded = taken - 1;
        st.counters.merged.fetch_add(folded, std::memory_order_relaxed);
        st.in_flight.fetch_sub(folded, std::memory_order_relaxed);
        st.window.add_permits(folded);
      } else {
        taken = 1;  // no memory for the merged one: the first goes as it is
      }
    }
  }
  if (taken < group.size()) {
    const std::lock_guard lock(st.order_mutex);
    std::deque<natsMsg*>& waiting = st.behind[natsMsg_GetSubject(out)];
    waiting.insert(waiting.begin(), group.begin() + static_cast<std::ptrdiff_t>(taken), group.end());
  }
  return out;
}

// Sends the messages released by their subject's acknowledgement (per-subject order).
pw::task<void> send_released(std::shared_ptr<state> stp) {
  state& st = *stp;
  for (;;) {
    auto woken = co_await pw::race(st.released_ready.notified(), st.closing.cancelled());
    if (woken.index() == 1) co_return;
    // No co_await from here to the end of the pass: the lock is never held across a suspension.
    const std::lock_guard using_js(st.js_mutex);
    if (st.js == nullptr) co_return;  // closed meanwhile; the state frees what waits
    std::vector<std::vector<natsMsg*>> groups;
    {
      const std::lock_guard lock(st.order_mutex);
      groups.swap(st.released);
    }
    std::vector<natsMsg*> next;
    next.reserve(groups.size());
    for (std::vector<natsMsg*>& group : groups) next.push_back(merge_group(st, group));
    if (hand_to_nats(st, next)) st.failed_ready.notify_one();
  }
}

}  // namespace

jetstream_publisher::jetstream_publisher(std::shared_ptr<state> st) noexcept : state_(std::move(st)) {}

jetstream_publisher::~jetstream_publisher() {
  state& st = *state_;
  {
    const std::lock_guard lock(st.handler_mutex);
    st.handler_open = false;
  }
  st.closing.cancel();
  const std::lock_guard using_js(st.js_mutex);
  // Messages nats.c still holds come back and are dropped; a late acknowledgement of one of
  // them is discarded by nats.c without a call.
  natsMsgList pending{};
  if (st.js != nullptr && st.took_any.load(std::memory_order_relaxed) &&
      js_PublishAsyncGetPendingList(&pending, st.js) == NATS_OK)
    natsMsgList_Destroy(&pending);
  jsCtx_Destroy(st.js);
  st.js = nullptr;
  natsConnection_Destroy(st.nc);
  st.nc = nullptr;
  // The state itself, the handler's closure, goes with the library (nats_library.hpp).
  retire_with_nats_library(std::move(st.self));
}

pw::task<pw::result<std::unique_ptr<jetstream_publisher>, std::string>> jetstream_publisher::connect(
    bus_options options, pw::cancellation_token stop, log_fn log, merge_fn merge, compact_fn compact) {
  if (auto servers = parse_nats_servers(options.servers); !servers)
    co_return pw::err("--publish " + options.servers + ": " + servers.error());
  if (options.window == 0) co_return pw::err(std::string("the publish window must hold at least one message"));
  auto stp = std::make_shared<state>(std::move(options), std::move(log), std::move(merge), std::move(compact));
  state& st = *stp;
  // Named before the co_await: g++ 12 mishandles temporaries in a co_await expression.
  auto retrying = retry_bus_attempts([&st] { return try_connect(st); }, st.options, std::move(stop), st.log,
                                     st.counters.connect_attempts);
  auto ready = co_await std::move(retrying);
  if (!ready) co_return pw::err(st.options.servers + ": " + ready.error());
  // nats.c holds the state as its handler's closure from here on.
  stp->self = stp;
  pw::spawn(resend_failed(stp)).detach();
  pw::spawn(send_released(stp)).detach();
  co_return std::unique_ptr<jetstream_publisher>(new jetstream_publisher(std::move(stp)));
}

pw::task<pw::result<void, std::string>> jetstream_publisher::publish(std::string_view subject, std::string_view msg_id,
                                                                     std::span<const std::byte> payload) {
  state& st = *state_;
  auto permit = co_await st.window.acquire();
  if (!permit) co_return pw::err(std::string("the publisher is closed"));
  permit->forget();
  const std::string subj(subject);
  const std::string id(msg_id);
  natsMsg* m = nullptr;
  natsStatus s = make_message(&m, subj.c_str(), id.c_str(), payload);
  if (s != NATS_OK) {
    st.window.add_permits(1);
    co_return pw::err("cannot build the message for " + subj + ": " + nats_failure(s));
  }
  st.in_flight.fetch_add(1, std::memory_order_relaxed);
  bool waits = false;  // one of the subject's messages is out: this one is sent once it is acknowledged
  {
    const std::lock_guard lock(st.order_mutex);
    auto [out, first] = st.behind.try_emplace(subj);
    if (!first) out->second.push_back(m);
    waits = !first;
  }
  if (!waits) {
    jsPubOptions po = st.publish_options();
    s = st.publish_async(&m, po);
    if (s != NATS_OK && !publish_retriable(s)) {
      natsMsg_Destroy(m);
      st.in_flight.fetch_sub(1, std::memory_order_relaxed);
      st.window.add_permits(1);
      st.release_next(subj.c_str());
      co_return pw::err("cannot publish on " + subj + ": " + nats_failure(s));
    }
    // Not taken now (a reconnect's buffer is full, say): the re-sender tries again.
    if (s != NATS_OK) st.hand_to_resender(m);
  }
  st.counters.published.fetch_add(1, std::memory_order_relaxed);
  st.counters.payload_bytes.fetch_add(payload.size(), std::memory_order_relaxed);
  co_return pw::ok();
}

pw::task<pw::result<void, std::string>> jetstream_publisher::drain(std::chrono::milliseconds deadline) {
  state& st = *state_;
  // Every permit back means every publish acknowledged.
  auto all = co_await pw::timeout(deadline, st.window.acquire_many(st.options.window));
  if (all && *all) co_return pw::ok();
  co_return pw::err(std::to_string(st.in_flight.load(std::memory_order_relaxed)) +
                    " publishes still unacknowledged after " + std::to_string(deadline.count()) + " ms");
}

pw::task<pw::result<std::vector<last_stored_message>, std::string>> jetstream_publisher::last_messages(
    std::string filter, pw::cancellation_token stop) {
  state& st = *state_;
  std::vector<last_stored_message> out;
  std::atomic<std::uint64_t> attempts{0};
  // Named before the co_await (see connect()).
  auto reading = retry_bus_attempts([&st, &filter, &out] { return read_last_messages(st, filter, out); }, st.options,
                                    std::move(stop), st.log, attempts);
  auto read = co_await std::move(reading);
  if (!read) co_return pw::err(std::move(read).error());
  co_return out;
}

const bus_counters& jetstream_publisher::counters() const noexcept { return state_->counters; }
const bus_options& jetstream_publisher::options() const noexcept { return state_->options; }

}  // namespace ticks::app
