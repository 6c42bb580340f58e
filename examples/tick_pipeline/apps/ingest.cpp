// The ingest engine: the sink task and its channel, the connection tasks
// (ingest_sessions.hpp), live stats, and the stop that ends them (see ingest.hpp).
#include "ingest.hpp"

#include <csignal>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <limits>
#include <mutex>
#include <string>

#include <polarway/runtime.hpp>

#include "ingest_sessions.hpp"
#include "process_stats.hpp"
#include "rate_limited_log.hpp"

namespace ticks::app {

namespace pw = polarway;

struct ingest_engine::impl {
  pw::option<pw::net::tcp_listener> listener;
  log_limiter log;
  std::atomic<std::uint64_t> seed{0};
  pw::option<pw::signal::listener> hup;  // --streams-file: SIGHUP re-reads it
  // While the run goes on, a sender of each of its channels, kept only to read their fill
  // (ingest_engine::channels): dropped when the channel's own senders are done, so that it never holds a
  // channel open.
  mutable std::mutex probes_mu;
  pw::option<pw::mpsc::sender<tick_batch>> decoded_probe;    // guarded by probes_mu
  pw::option<pw::mpsc::sender<tick_batch>> sequenced_probe;  // guarded by probes_mu

  void drop_probe(pw::option<pw::mpsc::sender<tick_batch>> impl::*probe) {
    std::lock_guard lock(probes_mu);
    (this->*probe).reset();
  }
};

namespace {

// The sink task: writes each batch as it comes until every sender is gone, then flushes.
pw::task<pw::result<void>> sink_loop(pw::mpsc::receiver<tick_batch> rx, tick_sink& sink,
                                     std::atomic<std::uint64_t>& out, std::uint64_t expect,
                                     pw::cancellation_token stop) {
  while (auto batch = co_await rx.recv()) {
    if (auto w = co_await sink.write(*batch); !w) {
      rx.close();  // senders fail from now on and stop
      co_return pw::err(w.error());
    }
    const std::uint64_t total = out.fetch_add(batch->size(), std::memory_order_relaxed) + batch->size();
    if (expect != 0 && total >= expect && !stop.is_cancelled()) stop.cancel();
  }
  co_return co_await sink.flush();
}

// --api-key-file's key: its first line without the line end; none (and a log line) if the file
// cannot be read or the key is not visible ASCII.
std::string read_api_key(const std::string& path, log_limiter& log) {
  std::FILE* f = std::fopen(path.c_str(), "rbe");
  if (!f) {
    log.line("--api-key-file " + path + ": cannot open; trade gaps will not be backfilled");
    return {};
  }
  char line[256] = {};
  const bool got = std::fgets(line, sizeof line, f) != nullptr;
  std::fclose(f);
  std::string key = got ? std::string(line) : std::string();
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  const bool visible = !key.empty() && std::all_of(key.begin(), key.end(), [](char ch) {
    return static_cast<unsigned char>(ch) > 0x20 && static_cast<unsigned char>(ch) < 0x7F;
  });
  if (!visible) {
    log.line("--api-key-file " + path + ": no key on its first line; trade gaps will not be backfilled");
    return {};
  }
  return key;
}

pw::task<void> live_stats(const ingest_counters& c, const std::atomic<std::uint64_t>& out, pw::cancellation_token done,
                          std::uint64_t interval_ms, bool tty) {
  std::uint64_t prev = 0;
  std::int64_t prev_t = monotonic_ns();
  bool printed = false;
  while (!done.is_cancelled()) {
    (void)co_await pw::race(done.cancelled(), pw::sleep(std::chrono::milliseconds(interval_ms)));
    const std::int64_t now = monotonic_ns();
    const std::uint64_t o = out.load(std::memory_order_relaxed);
    const double rate = static_cast<double>(o - prev) / (static_cast<double>(now - prev_t) * 1e-9);
    prev = o;
    prev_t = now;
    char line[256];
    std::snprintf(line, sizeof line, "in %llu  out %llu  %.2fM ticks/s  errors %llu  sessions %llu  rss %llu MiB",
                  static_cast<unsigned long long>(c.ticks_in.load()), static_cast<unsigned long long>(o), rate / 1e6,
                  static_cast<unsigned long long>(c.decode_errors() + c.ws_error_total()),
                  static_cast<unsigned long long>(c.sessions.load()),
                  static_cast<unsigned long long>(current_rss_kib() / 1024));
    if (tty) std::fprintf(stderr, "\r\x1b[2K%s", line);
    else std::fprintf(stderr, "polarway-ingest: %s\n", line);
    printed = true;
  }
  if (tty && printed) std::fprintf(stderr, "\n");
}

}  // namespace

ingest_engine::ingest_engine(ingest_config config, tick_sink& sink, stream_tick_counts* streams)
    : config_(std::move(config)), sink_(sink), streams_(streams), impl_(new impl()) {
  // Listening from construction on: a SIGHUP from then on re-reads the file, never kills us.
  if (!config_.streams_file.empty()) impl_->hup.emplace(pw::signal::signal(SIGHUP));
  impl_->seed.store(config_.seed != 0 ? config_.seed : static_cast<std::uint64_t>(monotonic_ns()));
}

ingest_engine::~ingest_engine() = default;

pw::result<pw::option<pw::net::socket_addr>> ingest_engine::bind() {
  if (config_.listen.empty()) return pw::option<pw::net::socket_addr>(pw::none);
  auto l = pw::net::tcp_listener::bind(config_.listen);
  if (!l) return pw::err(l.error());
  auto addr = l->local_addr();
  if (!addr) return pw::err(addr.error());
  impl_->listener = std::move(*l);
  return pw::option<pw::net::socket_addr>(*addr);
}

std::vector<ingest_engine::channel_fill> ingest_engine::channels() const {
  std::vector<channel_fill> out;
  std::lock_guard lock(impl_->probes_mu);
  const std::pair<const char*, const pw::option<pw::mpsc::sender<tick_batch>>*> probes[] = {
      {"decoded", &impl_->decoded_probe}, {"sequenced", &impl_->sequenced_probe}};
  for (const auto& [name, probe] : probes) {
    if (!*probe) continue;
    const std::size_t cap = (*probe)->max_capacity();
    out.push_back({name, cap - std::min(cap, (*probe)->capacity()), cap});
  }
  return out;
}

pw::task<ingest_report> ingest_engine::run(pw::cancellation_token stop) {
  const std::int64_t start = monotonic_ns();
  // channel_capacity counts ticks; the channel holds batches of up to batch_max of them.
  const std::size_t batch_max = std::max<std::size_t>(1, std::min(config_.batch_max, config_.channel_capacity));
  const std::size_t capacity = (config_.channel_capacity + batch_max - 1) / batch_max;
  auto [tx, rx] = pw::mpsc::channel<tick_batch>(capacity);
  {
    std::lock_guard lock(impl_->probes_mu);
    impl_->decoded_probe.emplace(tx);
  }
  pw::option<pw::join_handle<void>> sequencing;
  pw::option<pw::join_handle<pw::result<void>>> sink_task;
  if (config_.backfill) {
    // connections -> tx/rx -> sequencing stage -> sink channel -> sink
    auto [stx, srx] = pw::mpsc::channel<tick_batch>(capacity);
    {
      std::lock_guard lock(impl_->probes_mu);
      impl_->sequenced_probe.emplace(stx);
    }
    const ws_url& first = config_.connect.front();
    backfill_options bo{.rest_url = config_.rest_url.empty() ? default_rest_url(first.tls, first.host, first.host_header)
                                                             : config_.rest_url,
                        .api_key = config_.api_key_file.empty() ? std::string() : read_api_key(config_.api_key_file, impl_->log),
                        .ca_file = config_.tls_ca,
                        .batch_max = batch_max,
                        .resume_at = {}};
    for (const committed_stream& s : config_.resume.streams) {
      if (s.last_id == std::numeric_limits<std::int64_t>::max()) continue;  // no id follows it
      bo.resume_at.emplace_back(s.key, s.last_id + 1);
    }
    counters_.backfill.resumed_streams.store(config_.resume.streams.size(), std::memory_order_relaxed);
    counters_.backfill.output_ids_missing.store(config_.resume.ids_missing, std::memory_order_relaxed);
    sink_task = pw::spawn(sink_loop(std::move(srx), sink_, ticks_out_, config_.expect, stop));
    sequencing = pw::spawn(run_sequencing_stage(std::move(rx), std::move(stx), std::move(bo), counters_.backfill, impl_->log));
  } else {
    sink_task = pw::spawn(sink_loop(std::move(rx), sink_, ticks_out_, config_.expect, stop));
  }
  auto& sink = *sink_task;

  pw::cancellation_token done;
  pw::option<pw::join_handle<void>> stats;
  if (!config_.quiet) {
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    const std::uint64_t every = config_.stats_interval_ms ? config_.stats_interval_ms : tty ? 250 : 5000;
    stats = pw::spawn(live_stats(counters_, ticks_out_, done, every, tty));
  }
  pw::option<pw::join_handle<void>> timer;
  if (config_.duration_ms != 0) {
    timer = pw::spawn([](pw::cancellation_token stop, std::uint64_t ms) -> pw::task<void> {
      auto r = co_await pw::race(stop.cancelled(), pw::sleep(std::chrono::milliseconds(ms)));
      if (r.index() == 1) stop.cancel();
    }(stop, config_.duration_ms));
  }

  {
    // Loaded once per run: every wss:// connection shares its context (trust store, CA file).
    // Declared before the join_set, so it outlives every connection task.
    auto tls = load_ingest_tls(config_);
    if (!tls) impl_->log.line(tls.error());
    pw::option<pw::net::tls_config> client_tls = tls ? std::move(*tls) : pw::option<pw::net::tls_config>(pw::none);
    pw::join_set<void> feeds;
    {
      // The connection tasks hold the only senders once this scope ends (but for the probe,
      // dropped as soon as they are done), so the sink sees the end of the channel exactly when
      // the last of them is gone.
      session_ctx ctx{&impl_->log, &impl_->seed, &counters_, &config_, std::move(tx), batch_max, stop,
                      client_tls ? &*client_tls : nullptr, nullptr, nullptr, streams_};
      if (!config_.streams_file.empty()) {
        auto set = read_streams_file(config_.streams_file);
        if (!set) impl_->log.line(set.error());
        feeds.spawn(streams_file_loop(config_.connect.front(), set ? std::move(*set) : std::vector<std::string>(),
                                      *impl_->hup, ctx));
      } else {
        for (const ws_url& u : config_.connect) feeds.spawn(client_loop(u, ctx));
      }
      if (impl_->listener) feeds.spawn(accept_feeds(*impl_->listener, ctx));
    }
    while (co_await feeds.join_next()) {
    }
  }
  impl_->drop_probe(&impl::decoded_probe);  // the connections are done: the channel may end
  if (!stop.is_cancelled()) stop.cancel();  // every --once feed is done

  ingest_report report;
  if (sequencing) (void)co_await *sequencing;  // it ends the sink's channel when it is done
  impl_->drop_probe(&impl::sequenced_probe);
  auto sunk = co_await sink;
  if (sunk.is_ok() && !sunk->is_ok()) report.sink_error = sunk->error();
  done.cancel();
  if (stats) (void)co_await *stats;
  if (timer) (void)co_await *timer;
  report.ticks_in = counters_.ticks_in.load();
  report.ticks_out = ticks_out_.load();
  report.elapsed_s = static_cast<double>(monotonic_ns() - start) * 1e-9;
  co_return report;
}

}  // namespace ticks::app
