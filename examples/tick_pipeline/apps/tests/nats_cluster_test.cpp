// nats_cluster, the fixture, against nats.c directly: three nodes form a JetStream cluster that
// takes an R3 file stream and its messages; with node 0 killed a publish still lands (after the
// stream's leader election, when node 0 led it); node 0 restarted catches up to every message;
// with node 1 stopped a publish lands through the other two, and node 1 resumed catches up too;
// a pull consumer reads all messages back; the destructor leaves no server and no directory.
// Every wait is bounded by a deadline; publishes carry a message id, so a retried publish whose
// first attempt was stored after all is dropped as a duplicate and the counts stay exact.
#include <doctest/doctest.h>

#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nats_cluster.hpp"

namespace pw = polarway;
using ticks::test::nats_cluster;

namespace {

using clock_type = std::chrono::steady_clock;

// The error of a result, or "" for a value: a check's message.
template <class R>
std::string failure_of(const R& r) {
  return r.is_ok() ? std::string() : std::string(r.error());
}

// nats.c reports a status code; the text of the last error on this thread (and, for JetStream
// API errors, the server's error code) says more. Few calls clear that text, so it is used only
// when its status is the one the call returned.
std::string describe(natsStatus s, jsErrCode js_error = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  natsStatus last_status = NATS_OK;
  const char* last = nats_GetLastError(&last_status);
  if (last != nullptr && *last != '\0' && last_status == s) text += std::string(": ") + last;
  if (js_error != 0) text += " (JetStream error " + std::to_string(static_cast<int>(js_error)) + ")";
  return text;
}

// nats.c's threads and global state live from nats_Open to nats_CloseAndWait: the latter waits
// for them to end, so a sanitizer sees no thread or allocation left behind.
struct nats_library {
  natsStatus opened = nats_Open(-1);
  nats_library() = default;
  nats_library(const nats_library&) = delete;
  nats_library& operator=(const nats_library&) = delete;
  ~nats_library() { nats_CloseAndWait(5000); }
};

struct connection_deleter {
  void operator()(natsConnection* c) const { natsConnection_Destroy(c); }
};
struct context_deleter {
  void operator()(jsCtx* js) const { jsCtx_Destroy(js); }
};
struct subscription_deleter {
  void operator()(natsSubscription* s) const { natsSubscription_Destroy(s); }
};
struct stream_info_deleter {
  void operator()(jsStreamInfo* si) const { jsStreamInfo_Destroy(si); }
};
using connection_ptr = std::unique_ptr<natsConnection, connection_deleter>;
using context_ptr = std::unique_ptr<jsCtx, context_deleter>;
using subscription_ptr = std::unique_ptr<natsSubscription, subscription_deleter>;
using stream_info_ptr = std::unique_ptr<jsStreamInfo, stream_info_deleter>;

constexpr int64_t request_wait_ms = 2000;
constexpr const char* stream_name = "FIXTURE";

// A connection to any of the cluster's nodes. natsOptions_SetURL takes one URL, so the list goes
// through natsOptions_SetServers. A killed node's socket closes and the client moves on at once;
// a stopped node's stays open, and only the pings notice it: one every 500 ms, two unanswered
// close it.
pw::result<connection_ptr, std::string> connect(const nats_cluster& cluster) {
  std::vector<std::string> urls;
  for (std::size_t i = 0; i < cluster.size(); ++i) urls.push_back(cluster.url(i));
  std::vector<const char*> servers;
  for (const auto& u : urls) servers.push_back(u.c_str());
  natsOptions* options = nullptr;
  natsStatus s = natsOptions_Create(&options);
  if (s == NATS_OK) s = natsOptions_SetServers(options, servers.data(), static_cast<int>(servers.size()));
  if (s == NATS_OK) s = natsOptions_SetTimeout(options, request_wait_ms);
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(options, 1000);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(options, 100);
  if (s == NATS_OK) s = natsOptions_SetPingInterval(options, 500);
  if (s == NATS_OK) s = natsOptions_SetMaxPingsOut(options, 2);
  natsConnection* raw = nullptr;
  if (s == NATS_OK) s = natsConnection_Connect(&raw, options);
  const std::string failure = s == NATS_OK ? "" : describe(s);
  natsOptions_Destroy(options);
  if (s != NATS_OK) return pw::err("connect to " + cluster.urls() + ": " + failure);
  return pw::ok(connection_ptr(raw));
}

pw::result<context_ptr, std::string> jetstream(natsConnection* nc) {
  jsOptions options;
  jsOptions_Init(&options);
  options.Wait = request_wait_ms;
  jsCtx* raw = nullptr;
  const natsStatus s = natsConnection_JetStream(&raw, nc, &options);
  if (s != NATS_OK) return pw::err("JetStream context: " + describe(s));
  return pw::ok(context_ptr(raw));
}

// Calls `attempt` until it succeeds or `within` has passed; the last failure says why not.
pw::result<void, std::string> retry(std::chrono::milliseconds within,
                                    const std::function<pw::result<void, std::string>()>& attempt) {
  const auto deadline = clock_type::now() + within;
  int attempts = 0;
  for (;;) {
    ++attempts;
    auto r = attempt();
    if (r) return r;
    if (clock_type::now() >= deadline)
      return pw::err(std::move(r).error() + " (" + std::to_string(attempts) + " attempts over " +
                     std::to_string(within.count()) + " ms)");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

// A leader election after a node is lost takes 4 to 9 s in nats-server 2.9 (its Raft election
// timeout), on top of the client noticing the loss.
constexpr std::chrono::milliseconds failover_within{25000};

pw::result<void, std::string> add_stream(jsCtx* js) {
  const char* subjects[] = {"fixture.>"};
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  config.Name = stream_name;
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Replicas = 3;
  jsStreamInfo* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_AddStream(&raw, js, &config, nullptr, &js_error);
  stream_info_ptr info(raw);
  if (s != NATS_OK) return pw::err("js_AddStream: " + describe(s, js_error));
  return pw::ok();
}

// Publishes to fixture.<n> with message id "m<n>"; the stream's sequence for it.
pw::result<std::uint64_t, std::string> publish(jsCtx* js, int n) {
  const std::string subject = "fixture." + std::to_string(n);
  const std::string id = "m" + std::to_string(n);
  const std::string payload = "tick " + std::to_string(n);
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = id.c_str();
  options.MaxWait = request_wait_ms;
  jsPubAck* ack = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s =
      js_Publish(&ack, js, subject.c_str(), payload.data(), static_cast<int>(payload.size()), &options, &js_error);
  if (s != NATS_OK) return pw::err("js_Publish " + subject + ": " + describe(s, js_error));
  const std::uint64_t sequence = ack->Sequence;
  jsPubAck_Destroy(ack);
  return pw::ok(sequence);
}

pw::result<std::uint64_t, std::string> publish_with_retry(jsCtx* js, int n) {
  std::uint64_t sequence = 0;
  auto done = retry(failover_within, [&]() -> pw::result<void, std::string> {
    auto r = publish(js, n);
    if (!r) return pw::err(std::move(r).error());
    sequence = *r;
    return pw::ok();
  });
  if (!done) return pw::err(std::move(done).error());
  return pw::ok(sequence);
}

struct stream_state {
  std::uint64_t messages = 0;
  std::string leader;
  int replicas = 0;
};

pw::result<stream_state, std::string> stream_info(jsCtx* js) {
  jsStreamInfo* raw = nullptr;
  jsErrCode js_error = static_cast<jsErrCode>(0);
  const natsStatus s = js_GetStreamInfo(&raw, js, stream_name, nullptr, &js_error);
  stream_info_ptr info(raw);
  if (s != NATS_OK) return pw::err("js_GetStreamInfo: " + describe(s, js_error));
  stream_state state;
  state.messages = info->State.Msgs;
  if (info->Cluster != nullptr) {
    state.leader = info->Cluster->Leader != nullptr ? info->Cluster->Leader : "";
    state.replicas = info->Cluster->ReplicasLen;
  }
  return pw::ok(state);
}

// Waits until the stream reports `expected` messages.
pw::result<void, std::string> stream_holds(jsCtx* js, std::uint64_t expected) {
  return retry(failover_within, [&]() -> pw::result<void, std::string> {
    auto state = stream_info(js);
    if (!state) return pw::err(std::move(state).error());
    if (state->messages != expected)
      return pw::err("stream holds " + std::to_string(state->messages) + " messages, not " + std::to_string(expected));
    return pw::ok();
  });
}

// Waits until the node's own /jsz counts `expected` stored messages: its replica caught up.
pw::result<void, std::string> node_holds(const nats_cluster& cluster, std::size_t node, std::uint64_t expected) {
  return retry(std::chrono::milliseconds(10000), [&]() -> pw::result<void, std::string> {
    auto jsz = cluster.monitor(node, "/jsz");
    if (!jsz) return pw::err(std::move(jsz).error());
    const auto messages = ticks::test::json_field(*jsz, "messages");
    if (messages != std::to_string(expected))
      return pw::err(cluster.name(node) + " /jsz messages " + messages.value_or("(none)") + ", not " +
                     std::to_string(expected));
    return pw::ok();
  });
}

// A durable pull consumer fetches the stream's messages and acknowledges each; their subjects.
// The stream is named in the options: without it js_PullSubscribe asks the meta leader which
// stream holds the subject, and nats.c 3.4.1 reports any error answer to that request (such as
// "JetStream system temporarily unavailable" while there is no meta leader) as "no stream
// matches subject". Creating the consumer is retried, as leaders may still be changing.
pw::result<std::vector<std::string>, std::string> read_all(jsCtx* js, int count) {
  jsSubOptions options;
  jsSubOptions_Init(&options);
  options.Stream = stream_name;
  subscription_ptr subscription;
  auto subscribed = retry(failover_within, [&]() -> pw::result<void, std::string> {
    natsSubscription* raw = nullptr;
    jsErrCode js_error = static_cast<jsErrCode>(0);
    const natsStatus s = js_PullSubscribe(&raw, js, "fixture.>", "fixture-reader", nullptr, &options, &js_error);
    if (s != NATS_OK) return pw::err("js_PullSubscribe: " + describe(s, js_error));
    subscription.reset(raw);
    return pw::ok();
  });
  if (!subscribed) return pw::err(std::move(subscribed).error());
  std::vector<std::string> subjects;
  const auto deadline = clock_type::now() + failover_within;
  std::string last_failure = "nothing fetched";
  while (static_cast<int>(subjects.size()) < count && clock_type::now() < deadline) {
    natsMsgList list{};
    jsErrCode js_error = static_cast<jsErrCode>(0);
    // One message per fetch: nats.c 3.4.1's fetch writes past its array when a larger batch
    // meets late deliveries of an earlier one (jetstream_consumer.hpp); a batch of 1 cannot.
    natsStatus s = natsSubscription_Fetch(&list, subscription.get(), 1, request_wait_ms, &js_error);
    if (s != NATS_OK) {
      last_failure = "natsSubscription_Fetch: " + describe(s, js_error);
      continue;
    }
    for (int i = 0; i < list.Count; ++i) {
      subjects.emplace_back(natsMsg_GetSubject(list.Msgs[i]));
      s = natsMsg_AckSync(list.Msgs[i], nullptr, &js_error);
      if (s != NATS_OK) last_failure = "natsMsg_AckSync: " + describe(s, js_error);
    }
    natsMsgList_Destroy(&list);
  }
  if (static_cast<int>(subjects.size()) != count)
    return pw::err("read " + std::to_string(subjects.size()) + " of " + std::to_string(count) + " messages; " +
                   last_failure);
  return pw::ok(std::move(subjects));
}

// A failure's text with what each node says of the meta leader and the end of its log.
std::string explain(const nats_cluster& cluster, const std::string& failure) {
  std::string text = failure;
  for (std::size_t i = 0; i < cluster.size(); ++i) {
    text += "\n" + cluster.name(i) + (cluster.running(i) ? "" : " (not running)") + ": meta leader \"" +
            cluster.meta_leader(i) + "\"\n" + cluster.log_tail(i, 15);
  }
  return text;
}

}  // namespace

TEST_CASE(
    "nats_cluster: a 3-node JetStream cluster keeps an R3 stream through a killed, a restarted and a paused node") {
  std::string directory;
  std::vector<std::uint16_t> monitoring_ports;
  {
    auto started = nats_cluster::start(3);
    if (started.is_err()) FAIL(started.error());
    nats_cluster& cluster = *started;
    directory = cluster.directory();
    REQUIRE(cluster.size() == 3);
    CHECK(std::filesystem::is_directory(directory));
    CHECK(cluster.urls() == cluster.url(0) + "," + cluster.url(1) + "," + cluster.url(2));
    for (std::size_t i = 0; i < cluster.size(); ++i) {
      auto varz = cluster.monitor(i, "/varz");
      REQUIRE_MESSAGE(varz.is_ok(), explain(cluster, failure_of(varz)));
      CHECK(ticks::test::json_field(*varz, "server_name") == cluster.name(i));
      monitoring_ports.push_back(
          static_cast<std::uint16_t>(std::atoi(ticks::test::json_field(*varz, "http_port").value_or("0").c_str())));
    }

    nats_library library;
    REQUIRE(library.opened == NATS_OK);
    auto nc = connect(cluster);
    if (nc.is_err()) FAIL(explain(cluster, nc.error()));
    auto js = jetstream(nc->get());
    if (js.is_err()) FAIL(explain(cluster, js.error()));

    // The stream is placed once the meta leader has all three peers, which start() waited for.
    auto added = retry(std::chrono::milliseconds(10000), [&] { return add_stream(js->get()); });
    if (added.is_err()) FAIL(explain(cluster, added.error()));
    for (int n = 1; n <= 5; ++n) {
      auto sequence = publish_with_retry(js->get(), n);
      if (sequence.is_err()) FAIL(explain(cluster, sequence.error()));
      CHECK(*sequence == static_cast<std::uint64_t>(n));
    }
    auto state = stream_info(js->get());
    if (state.is_err()) FAIL(explain(cluster, state.error()));
    CHECK(state->messages == 5);
    CHECK(!state->leader.empty());
    CHECK(state->replicas == 2);  // the leader plus two followers

    // Node 0 gone: two of three replicas are a quorum.
    cluster.kill(0);
    CHECK(!cluster.running(0));
    CHECK(cluster.monitor(0, "/healthz").is_err());
    {
      auto sequence = publish_with_retry(js->get(), 6);
      if (sequence.is_err()) FAIL(explain(cluster, sequence.error()));
      CHECK(*sequence == 6);
      auto holds = stream_holds(js->get(), 6);
      CHECK_MESSAGE(holds.is_ok(), explain(cluster, failure_of(holds)));
    }

    // Node 0 back with its store: healthy (its replica current) and holding all six.
    {
      auto restarted = cluster.restart(0);
      if (restarted.is_err()) FAIL(explain(cluster, restarted.error()));
      CHECK(cluster.running(0));
      auto holds = node_holds(cluster, 0, 6);
      CHECK_MESSAGE(holds.is_ok(), explain(cluster, failure_of(holds)));
    }

    // Node 1 stopped: it answers nothing, and a publish lands through nodes 0 and 2.
    cluster.pause(1);
    CHECK(cluster.monitor(1, "/healthz").is_err());
    {
      auto sequence = publish_with_retry(js->get(), 7);
      if (sequence.is_err()) FAIL(explain(cluster, sequence.error()));
      CHECK(*sequence == 7);
    }
    // Resumed after longer than an election timeout, node 1 campaigns at once and may depose
    // the leaders; wait_ready() waits until one meta leader is named by all three again.
    cluster.resume(1);
    {
      auto ready = cluster.wait_ready();
      if (ready.is_err()) FAIL(explain(cluster, ready.error()));
      auto holds = node_holds(cluster, 1, 7);
      CHECK_MESSAGE(holds.is_ok(), explain(cluster, failure_of(holds)));
      auto stream_has_all = stream_holds(js->get(), 7);
      CHECK_MESSAGE(stream_has_all.is_ok(), explain(cluster, failure_of(stream_has_all)));
    }

    auto read = read_all(js->get(), 7);
    if (read.is_err()) FAIL(explain(cluster, read.error()));
    const std::vector<std::string> expected{"fixture.1", "fixture.2", "fixture.3", "fixture.4",
                                            "fixture.5", "fixture.6", "fixture.7"};
    CHECK(*read == expected);

    // The client goes before the servers, and nats.c's threads before the cluster.
  }
  // The destructor killed and reaped every node and removed the directory.
  CHECK(!std::filesystem::exists(directory));
  for (const std::uint16_t port : monitoring_ports) {
    const auto answer = ticks::test::http_get(port, "/healthz");
    CHECK_MESSAGE(answer.status == 0, "port " << port << " still answers");
  }
}

TEST_CASE("nats_cluster: one node runs standalone JetStream; no nodes is an error") {
  {
    auto single = nats_cluster::start(1);
    if (single.is_err()) FAIL(single.error());
    CHECK(single->size() == 1);
    CHECK(single->urls() == single->url(0));
    auto jsz = single->monitor(0, "/jsz");
    REQUIRE_MESSAGE(jsz.is_ok(), failure_of(jsz));
    CHECK(jsz->find("\"meta_cluster\"") == std::string::npos);
    CHECK(single->log(0).find("Server is ready") != std::string::npos);
  }
  CHECK(nats_cluster::start(0).is_err());
}
