#include "jetstream_consumer.hpp"

#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include <polarway/runtime.hpp>

#include "nats_connect.hpp"

namespace ticks::app {

namespace pw = polarway;

bus_message& bus_message::operator=(bus_message&& o) noexcept {
  if (this != &o) {
    natsMsg_Destroy(msg_);
    msg_ = std::exchange(o.msg_, nullptr);
    seq_ = o.seq_;
    delivered_ = o.delivered_;
  }
  return *this;
}

bus_message::~bus_message() { natsMsg_Destroy(msg_); }

std::string_view bus_message::subject() const noexcept {
  const char* s = natsMsg_GetSubject(msg_);
  return s ? std::string_view(s) : std::string_view();
}

std::span<const std::byte> bus_message::data() const noexcept {
  const char* d = natsMsg_GetData(msg_);
  const int n = natsMsg_GetDataLength(msg_);
  if (d == nullptr || n <= 0) return {};
  return {reinterpret_cast<const std::byte*>(d), static_cast<std::size_t>(n)};
}

std::string_view bus_message::reply() const noexcept {
  const char* r = natsMsg_GetReply(msg_);
  return r ? std::string_view(r) : std::string_view();
}

bool bus_message::read_metadata() noexcept {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg_) != NATS_OK || meta == nullptr) return false;
  seq_ = meta->Sequence.Stream;
  delivered_ = meta->NumDelivered;
  jsMsgMetaData_Destroy(meta);
  return true;
}

struct jetstream_consumer::state {
  bus_options bus;
  consumer_options options;
  jetstream_publisher::log_fn log;
  std::atomic<std::uint64_t> connect_attempts{0};
  std::uint64_t start_seq = 1;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  std::string next_subject;  // where pull requests go: $JS.API.CONSUMER.MSG.NEXT.<stream>.<consumer>

  // The inbox of the current consumer: deliveries, and the server's status answers to pull
  // requests, each on the subject <inbox>.<request number> it was sent with.
  natsSubscription* inbox = nullptr;
  std::string inbox_prefix;                  // "<inbox>."
  std::vector<natsSubscription*> replaced;   // unsubscribed; destroyed once the connection is closed

  // The pull request in progress, if `owed` is not 0 and its deadline has not passed. Touched
  // only by fetch() and subscribe_at_start(), never at the same time.
  std::uint64_t request_number = 0;
  int owed = 0;                         // messages it may still bring
  std::int64_t request_deadline_ms = 0;  // given up after this (a lost request or answer)
  std::int64_t next_request_ms = 0;      // no new request before this (after a refusal)
  std::string refusal;                  // the server's last refusal of a request, for the log

  ~state() {
    // Closed first, so that no message is on its way to a subscription being destroyed.
    if (nc != nullptr) natsConnection_Close(nc);
    natsSubscription_Destroy(inbox);
    for (natsSubscription* r : replaced) natsSubscription_Destroy(r);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
  }
};

namespace {

using state = jetstream_consumer::state;

// The stream may also not exist yet: its publisher creates it.
bool not_ready_yet(natsStatus s, jsErrCode code) noexcept {
  return jetstream_unavailable_for_now(s, code) || code == JSStreamNotFoundErr || s == NATS_NOT_FOUND;
}

std::int64_t steady_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Deletes the consumer of st.options.name (if any), creates it again at st.start_seq, and
// subscribes a new inbox for its deliveries (the old inbox is unsubscribed: nothing the old
// consumer sent reaches the new one's reader).
bus_attempt subscribe_at_start(state& st) {
  if (st.inbox != nullptr) {
    (void)natsSubscription_Unsubscribe(st.inbox);
    st.replaced.push_back(std::exchange(st.inbox, nullptr));
  }
  st.owed = 0;
  st.request_number = 0;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_DeleteConsumer(st.js, st.bus.stream.c_str(), st.options.name.c_str(), nullptr, &code);
  if (s != NATS_OK && s != NATS_NOT_FOUND && code != JSConsumerNotFoundErr) {
    if (not_ready_yet(s, code))
      return bus_attempt{bus_attempt::outcome::retry, "stream " + st.bus.stream + " not ready: " + js_failure(s, code)};
    return bus_attempt{bus_attempt::outcome::fail,
                       "cannot replace consumer " + st.options.name + ": " + js_failure(s, code)};
  }
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = st.options.name.c_str();
  cc.FilterSubject = st.options.filter.c_str();
  cc.DeliverPolicy = js_DeliverByStartSequence;
  cc.OptStartSeq = st.start_seq;
  cc.AckPolicy = js_AckAll;
  cc.AckWait = static_cast<std::int64_t>(st.options.ack_wait_ms) * 1'000'000;
  cc.MaxAckPending = st.options.max_ack_pending;
  code = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  s = js_AddConsumer(&info, st.js, st.bus.stream.c_str(), &cc, nullptr, &code);
  jsConsumerInfo_Destroy(info);
  if (s != NATS_OK) {
    std::string why = js_failure(s, code);
    if (not_ready_yet(s, code))
      return bus_attempt{bus_attempt::outcome::retry, "stream " + st.bus.stream + " not ready: " + why};
    return bus_attempt{bus_attempt::outcome::fail,
                       "cannot consume stream " + st.bus.stream + " as " + st.options.name + ": " + why};
  }
  natsInbox* inbox = nullptr;
  s = natsInbox_Create(&inbox);
  if (s != NATS_OK) return bus_attempt{bus_attempt::outcome::retry, nats_failure(s)};
  st.inbox_prefix = std::string(inbox) + ".";
  natsInbox_Destroy(inbox);
  natsSubscription* sub = nullptr;
  s = natsConnection_SubscribeSync(&sub, st.nc, (st.inbox_prefix + "*").c_str());
  // No pending limit in nats.c: the pull requests bound what can wait (pull_batch messages).
  if (s == NATS_OK) s = natsSubscription_SetPendingLimits(sub, -1, -1);
  if (s != NATS_OK) {
    natsSubscription_Destroy(sub);
    return bus_attempt{bus_attempt::outcome::retry, "cannot subscribe the consumer's inbox: " + nats_failure(s)};
  }
  st.inbox = sub;
  st.next_subject = "$JS.API.CONSUMER.MSG.NEXT." + st.bus.stream + "." + st.options.name;
  return bus_attempt{bus_attempt::outcome::ready, {}};
}

// Sends a pull request for pull_batch messages, answered on <inbox>.<its number>.
natsStatus request_more(state& st, std::int64_t now) {
  const std::uint64_t number = st.request_number + 1;
  const std::string reply = st.inbox_prefix + std::to_string(number);
  const std::string body = "{\"batch\":" + std::to_string(st.options.pull_batch) +
                           ",\"expires\":" + std::to_string(st.options.pull_expires_ms * 1'000'000) + "}";
  const natsStatus s = natsConnection_PublishRequestString(st.nc, st.next_subject.c_str(), reply.c_str(), body.c_str());
  if (s != NATS_OK) return s;
  st.request_number = number;
  st.owed = st.options.pull_batch;
  // The server ends the request at its expiry with a status answer; a request or answer lost
  // to a reconnection or a change of consumer leader is given up a second later.
  st.request_deadline_ms = now + static_cast<std::int64_t>(st.options.pull_expires_ms) + 1'000;
  return NATS_OK;
}

// Takes one message off the inbox: a delivery goes to `got`; a status answer ends the request it
// answers (408: expired; 409: refused, e.g. a leader change or a limit) unless it is a heartbeat.
void take(state& st, natsMsg* m, std::vector<bus_message>& got, std::int64_t now) {
  const char* status = nullptr;
  if (natsMsgHeader_Get(m, "Status", &status) != NATS_OK || status == nullptr) {
    if (st.owed > 0) --st.owed;
    got.emplace_back(m);
    return;
  }
  const char* subject = natsMsg_GetSubject(m);
  const bool current = subject != nullptr && st.inbox_prefix + std::to_string(st.request_number) == subject;
  if (current && std::string_view(status) != "100") {
    st.owed = 0;
    if (std::string_view(status) == "409") {
      const char* why = nullptr;
      (void)natsMsgHeader_Get(m, "Description", &why);
      st.refusal = std::string("409 ") + (why ? why : "");
      st.next_request_ms = now + static_cast<std::int64_t>(st.options.fetch_wait_ms);
    }
  }
  natsMsg_Destroy(m);
}

// What fetch() runs on the blocking pool: a new pull request when none is in progress, then
// what arrives within fetch_wait_ms (at most pull_batch messages).
std::pair<natsStatus, std::vector<bus_message>> pull(state& st) {
  std::vector<bus_message> got;
  std::int64_t now = steady_ms();
  if ((st.owed == 0 || now >= st.request_deadline_ms) && now >= st.next_request_ms) {
    if (const natsStatus s = request_more(st, now); s != NATS_OK) return {s, std::move(got)};
  }
  natsMsg* m = nullptr;
  natsStatus s = natsSubscription_NextMsg(&m, st.inbox, static_cast<std::int64_t>(st.options.fetch_wait_ms));
  while (s == NATS_OK) {
    take(st, m, got, steady_ms());
    if (got.size() >= static_cast<std::size_t>(st.options.pull_batch)) break;
    s = natsSubscription_NextMsg(&m, st.inbox, 0);  // what is already there, without waiting
  }
  return {s == NATS_TIMEOUT ? NATS_OK : s, std::move(got)};
}

bus_attempt try_subscribe(state& st) {
  if (st.nc == nullptr) {
    auto nc = open_nats_connection(st.bus, "polarway-sink");
    if (!nc) return bus_attempt{bus_attempt::outcome::retry, std::move(nc).error()};
    jsCtx* js = nullptr;
    const natsStatus s = natsConnection_JetStream(&js, *nc, nullptr);
    if (s != NATS_OK) {
      natsConnection_Destroy(*nc);
      return bus_attempt{bus_attempt::outcome::retry, nats_failure(s)};
    }
    st.nc = *nc;
    st.js = js;
  }
  return subscribe_at_start(st);
}

// nats.c's ack protocol: a publish of `body` on the message's reply subject.
pw::result<void, std::string> reply_with(state& st, std::string_view reply, const char* body) {
  if (reply.empty()) return pw::err(std::string("the message has no reply subject to acknowledge on"));
  const std::string subject(reply);
  const natsStatus s = natsConnection_PublishString(st.nc, subject.c_str(), body);
  if (s != NATS_OK) return pw::err(std::string(body) + " not sent: " + nats_failure(s));
  return pw::ok();
}

}  // namespace

jetstream_consumer::jetstream_consumer(std::unique_ptr<state> st) noexcept : state_(std::move(st)) {}
jetstream_consumer::~jetstream_consumer() = default;

pw::task<pw::result<std::unique_ptr<jetstream_consumer>, std::string>> jetstream_consumer::connect(
    bus_options bus, consumer_options options, std::uint64_t start_seq, pw::cancellation_token stop,
    jetstream_publisher::log_fn log) {
  if (auto servers = parse_nats_servers(bus.servers); !servers) co_return pw::err("--from " + bus.servers + ": " + servers.error());
  if (options.name.empty() || options.name.find_first_of(".*> \t") != std::string::npos)
    co_return pw::err("consumer name '" + options.name + "': no '.', '*', '>' or spaces");
  auto st = std::make_unique<state>();
  st->bus = std::move(bus);
  st->options = std::move(options);
  st->log = std::move(log);
  st->start_seq = start_seq < 1 ? 1 : start_seq;
  state& s = *st;
  // Named before the co_await: g++ 12 mishandles temporaries in a co_await expression.
  auto retrying = retry_bus_attempts([&s] { return try_subscribe(s); }, s.bus, std::move(stop), s.log, s.connect_attempts);
  auto ready = co_await std::move(retrying);
  if (!ready) co_return pw::err(s.bus.servers + ": " + ready.error());
  co_return std::unique_ptr<jetstream_consumer>(new jetstream_consumer(std::move(st)));
}

pw::task<pw::result<std::vector<bus_message>, std::string>> jetstream_consumer::fetch() {
  state& st = *state_;
  // Named before the co_await (see connect()).
  auto pulling = pw::spawn_blocking([&st] { return pull(st); });
  auto pulled = co_await std::move(pulling);
  if (!pulled) co_return pw::err(std::string("the fetch was cancelled"));
  auto& [status, messages] = *pulled;
  if (!st.refusal.empty() && st.log) st.log("the server refused a pull request: " + std::exchange(st.refusal, std::string()));
  if (status == NATS_CONNECTION_CLOSED || status == NATS_INVALID_SUBSCRIPTION)
    co_return pw::err("the consumer's connection is closed: " + std::string(natsStatus_GetText(status)));
  // Anything else (a disconnection, a slow-consumer report) is transient: nats.c reconnects, and
  // a delivery it dropped shows as a skipped stream sequence, which the caller reads again.
  co_return std::move(messages);
}

pw::task<pw::result<void, std::string>> jetstream_consumer::restart_at(std::uint64_t start_seq,
                                                                     pw::cancellation_token stop) {
  state& st = *state_;
  st.start_seq = start_seq < 1 ? 1 : start_seq;
  // Named before the co_await (see connect()).
  auto retrying = retry_bus_attempts([&st] { return subscribe_at_start(st); }, st.bus, std::move(stop), st.log,
                                     st.connect_attempts);
  co_return co_await std::move(retrying);
}

pw::result<void, std::string> jetstream_consumer::acknowledge_through(std::string_view reply) {
  return reply_with(*state_, reply, "+ACK");
}

pw::result<void, std::string> jetstream_consumer::terminate(std::string_view reply) {
  return reply_with(*state_, reply, "+TERM");
}

std::uint64_t jetstream_consumer::connect_attempts() const noexcept {
  return state_->connect_attempts.load(std::memory_order_relaxed);
}

}  // namespace ticks::app
