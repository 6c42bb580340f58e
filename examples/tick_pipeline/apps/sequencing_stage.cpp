#include "sequencing_stage.hpp"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <polarway/runtime.hpp>

#include "http_client.hpp"
#include "rest_error.hpp"
#include "ticks/rest_decoder.hpp"

namespace ticks::app {

namespace pw = polarway;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t page_rows = 1000;  // Binance's largest page

// One page of a backfill, as it came back.
struct page {
  stream_key key;
  std::int64_t limit = 0;  // rows asked for
  pw::result<std::vector<tick>, std::string> rows;
  bool retryable = false;
  bool rate_limited = false;                   // 429 or 418: the exchange asks every request to wait
  pw::option<std::uint64_t> retry_after_s;     // how long, when it said
};

// How long fetching pauses after a rate-limited answer that gave no Retry-After.
constexpr std::chrono::seconds default_rate_limit_pause{1};
// After a transient failure (transport, 5xx), fetching pauses first_retry_pause, doubled for
// each such failure in a row (any answered page ends the run), up to max_retry_pause.
constexpr std::chrono::milliseconds first_retry_pause{250};
constexpr std::chrono::milliseconds max_retry_pause{8000};
// A stopping stage (its input ended) waits out a pause at most this long to settle the gaps it
// holds; a longer one (a ban) gives them up.
constexpr std::chrono::seconds stop_pause_limit{60};

std::string upper(std::string_view s) {
  std::string u(s);
  for (char& ch : u) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return u;
}

// Fetches one page of `key`'s gap from `first` and hands it to the stage.
pw::task<void> fetch_page(http_client& http, const backfill_options& o, stream_key key, id_range gap,
                          pw::mpsc::sender<page> tx) {
  const bool trades = key.kind == message_kind::trade;
  const auto limit = static_cast<std::int64_t>(std::min<std::uint64_t>(gap.count(), page_rows));
  http_request req;
  req.url = o.rest_url + (trades ? "/api/v3/historicalTrades" : "/api/v3/aggTrades") +
            "?symbol=" + upper(key.symbol.view()) + "&fromId=" + std::to_string(gap.first) +
            "&limit=" + std::to_string(limit);
  if (trades) req.headers.push_back("X-MBX-APIKEY: " + o.api_key);
  auto answer = co_await http.get(std::move(req));
  page p{key, limit, pw::err(std::string()), false, false, pw::none};
  // Whether a failure is worth asking again, and whether it is a rate limit, is rest_error's call.
  auto failed = [&p](const rest_error& e, std::string why) {
    p.rows = pw::err(std::move(why));
    p.retryable = e.retryable();
    p.rate_limited = e.rate_limited();
    p.retry_after_s = e.retry_after_s;
  };
  if (!answer) {
    failed(answer.error(), answer.error().message());
  } else if (answer->status != 200) {
    rest_error e;
    e.what = rest_error::kind::http_status;
    e.status = answer->status;
    e.retry_after_s = answer->retry_after_s;
    failed(e, "HTTP " + std::to_string(answer->status) + " for " + std::string(key.symbol.view()));
  } else {
    rest_decoder decoder;
    std::vector<tick> rows;
    auto decoded = decoder.decode(answer->body, key.kind, key.symbol, static_cast<std::size_t>(page_rows), rows);
    if (decoded) p.rows = std::move(rows);
    else p.rows = pw::err(decoded.error().message());
  }
  auto sending = tx.send(std::move(p));
  (void)co_await std::move(sending);
}

class stage {
 public:
  stage(pw::mpsc::sender<tick_batch> out, backfill_options o, backfill_counters& c, log_limiter& log, http_client http)
      : out_(std::move(out)), o_(std::move(o)), c_(c), log_(log), http_(std::move(http)) {
    for (const auto& [key, next_id] : o_.resume_at) (void)seq_.start_at(key, next_id, /*catch_up=*/true);
  }

  pw::task<void> run(pw::mpsc::receiver<tick_batch> in) {
    auto [page_tx, page_rx] = pw::mpsc::channel<page>(o_.max_in_flight + 1);
    pw::join_set<void> fetches;
    bool input_open = true;
    tick_batch pending;            // a batch the hold had no room for all of
    std::size_t pending_at = 0;
    start_fetches(fetches, page_tx, input_open);  // resumed streams catch up before any tick
    // Pages and batches, whichever comes; both receives keep a value that arrived as the other
    // won (race's soft cancellation), so nothing is dropped.
    auto take = [&](auto& r) {
      if (r.template completed<0>()) {
        auto& p = r.template get<0>();
        if (p) on_page(std::move(*p));
      }
      if (r.template completed<1>()) {
        auto& batch = r.template get<1>();
        if (!batch) {
          input_open = false;
        } else {
          pending = std::move(*batch);
          pending_at = 0;
        }
      }
    };
    for (;;) {
      // While rate limited with nothing in flight, the end of the pause is an event too: the
      // fetches waiting for it start then.
      const bool waiting_out_pause = fetching_.empty() && paused() && !seq_.streams_with_gaps().empty();
      if (input_open && pending_at == pending.size()) {
        if (waiting_out_pause) {
          auto r = co_await pw::race(page_rx.recv(), in.recv(), pw::sleep_until(*paused_until_));
          take(r);
        } else {
          auto r = co_await pw::race(page_rx.recv(), in.recv());
          take(r);
        }
      } else if (!fetching_.empty()) {
        auto p = co_await page_rx.recv();
        if (p) on_page(std::move(*p));
      } else if (waiting_out_pause && (input_open || *paused_until_ - clock::now() <= stop_pause_limit)) {
        co_await pw::sleep_until(*paused_until_);
      } else if (waiting_out_pause) {
        // Stopping, and the exchange asks for a longer wait than a stop should take.
        for (const stream_key& key : seq_.streams_with_gaps()) give_up(key, "rate limited past the stop");
      } else if (pending_at < pending.size()) {
        // The hold is full and nothing is being fetched to empty it: give up a gap that holds
        // ticks rather than stop for good.
        for (const stream_key& key : seq_.streams_with_gaps()) {
          if (seq_.gap(key)->open) continue;
          give_up(key, "hold full");
          break;
        }
      } else if (!input_open) {
        break;  // input ended, nothing pending or in flight: every gap was settled
      }
      pending_at = offer_from(pending, pending_at);
      if (pending_at == pending.size()) {
        pending.clear();
        pending_at = 0;
      }
      start_fetches(fetches, page_tx, input_open);
      co_await flush();
      publish();
    }
    while (co_await fetches.join_next()) {
    }
    co_await flush();
    publish();
    co_await http_.shutdown();
  }

 private:
  // Offers ticks from `b[at]` on; returns where it stopped (b.size(), or the first the hold
  // had no room for).
  std::size_t offer_from(const tick_batch& b, std::size_t at) {
    for (; at < b.size(); ++at)
      if (seq_.offer(b[at], released_) == offer_result::full) break;
    return at;
  }

  using clock = std::chrono::steady_clock;

  bool paused() const { return paused_until_ && clock::now() < *paused_until_; }

  // No fetch starts until `pause` from now (or later, if an earlier pause lasts longer).
  void pause_for(clock::duration pause) {
    const auto until = clock::now() + pause;
    if (!paused_until_ || *paused_until_ < until) paused_until_ = until;
  }

  void on_page(page p) {
    fetching_.erase(p.key);
    if (p.rate_limited) {
      // Not the stream's failure: the limit is the client's, so every fetch waits it out, and
      // this page is asked again after it. Asking on regardless is what turns a 429 into a ban.
      c_.request_failures.fetch_add(1, std::memory_order_relaxed);
      c_.rate_limited.fetch_add(1, std::memory_order_relaxed);
      const auto pause = p.retry_after_s ? std::chrono::seconds(*p.retry_after_s) : default_rate_limit_pause;
      pause_for(pause);
      log_.line("backfill paused " + std::to_string(pause.count()) + " s: " + p.rows.error());
      return;
    }
    unsigned& failures = attempts_[p.key];
    std::size_t accepted = 0;
    if (p.rows) {
      transient_failures_ = 0;
      accepted = seq_.fill(p.key, *p.rows, released_);
      // A short page of a stream still catching up: the history has nothing after it yet.
      const auto g = seq_.gap(p.key);
      if (g && g->open && p.rows->size() < static_cast<std::size_t>(p.limit)) {
        seq_.give_up(p.key, released_);
        failures = 0;
        return;
      }
    } else {
      c_.request_failures.fetch_add(1, std::memory_order_relaxed);
      log_.line("backfill " + std::string(p.key.symbol.view()) + "@" + std::string(to_string(p.key.kind)) + ": " +
                p.rows.error());
      if (p.retryable) {
        // The server or the path is unwell: ask again after a pause that grows while it lasts,
        // so that the max_attempts attempts outlast a short outage rather than spend themselves
        // in a few milliseconds.
        const unsigned doublings = std::min(transient_failures_++, 5u);
        pause_for(std::min<std::chrono::milliseconds>(first_retry_pause * (1u << doublings), max_retry_pause));
      }
    }
    if (accepted > 0) {
      failures = 0;
    } else if (++failures >= o_.max_attempts || (!p.rows && !p.retryable)) {
      give_up(p.key, p.rows ? "no new ids in " + std::to_string(failures) + " pages" : p.rows.error());
      failures = 0;
    }
  }

  void give_up(const stream_key& key, const std::string& why) {
    const auto g = seq_.gap(key);
    if (!g) return;
    const std::string stream = std::string(key.symbol.view()) + "@" + std::string(to_string(key.kind));
    if (g->open)
      log_.line("catch-up stopped: " + stream + " from id " + std::to_string(g->first) + " (" + why +
                "); its next live tick shows what is missing");
    else
      log_.line("gap unfilled: " + stream + " ids " + std::to_string(g->first) + ".." + std::to_string(g->last) + " (" +
                why + ")");
    seq_.give_up(key, released_);
  }

  // Starts a page for every stream with a gap and none in flight, up to the cap (the rest come
  // round as pages answer), and none while a rate limit pauses fetching. Trade gaps without an
  // API key are given up at once. A stopping stage (input ended) settles the gaps it knows of
  // but stops catching up: what it has not fetched is not committed, so the next run resumes
  // there.
  void start_fetches(pw::join_set<void>& fetches, const pw::mpsc::sender<page>& tx, bool input_open) {
    const bool hold_off = paused();
    for (const stream_key& key : seq_.streams_with_gaps()) {
      if (fetching_.count(key)) continue;
      if (!input_open && seq_.gap(key)->open) {
        seq_.give_up(key, released_);
        continue;
      }
      if (key.kind == message_kind::trade && o_.api_key.empty()) {
        if (!warned_no_key_) log_.line("trade gaps cannot be backfilled without --api-key-file (historicalTrades needs a key)");
        warned_no_key_ = true;
        give_up(key, "no API key");
        continue;
      }
      if (hold_off || fetching_.size() >= o_.max_in_flight) continue;
      auto g = seq_.gap(key);
      if (!g) continue;
      fetching_.insert(key);
      c_.requests.fetch_add(1, std::memory_order_relaxed);
      fetches.spawn(fetch_page(http_, o_, key, *g, tx));
    }
  }

  pw::task<void> flush() {
    while (!released_.empty()) {
      const std::size_t n = std::min(released_.size(), o_.batch_max);
      tick_batch b(std::make_move_iterator(released_.begin()), std::make_move_iterator(released_.begin() + static_cast<std::ptrdiff_t>(n)));
      released_.erase(released_.begin(), released_.begin() + static_cast<std::ptrdiff_t>(n));
      auto sending = out_.send(std::move(b));
      if (!(co_await std::move(sending))) {
        released_.clear();  // the sink has failed and closed its channel: it reports that
        co_return;
      }
    }
  }

  void publish() {
    const sequencer_stats& s = seq_.stats();
    c_.gaps_found.store(s.gaps_found, std::memory_order_relaxed);
    c_.ids_missing.store(s.ids_missing, std::memory_order_relaxed);
    c_.ticks_backfilled.store(s.ticks_backfilled, std::memory_order_relaxed);
    c_.gaps_unfilled.store(s.gaps_unfilled, std::memory_order_relaxed);
    c_.ids_unfilled.store(s.ids_unfilled, std::memory_order_relaxed);
    c_.duplicates_dropped.store(s.duplicates_dropped, std::memory_order_relaxed);
  }

  pw::mpsc::sender<tick_batch> out_;
  backfill_options o_;
  backfill_counters& c_;
  log_limiter& log_;
  http_client http_;
  sequencer seq_;
  std::vector<tick> released_;
  std::unordered_set<stream_key, stream_key_hash> fetching_;  // streams with a page in flight
  std::unordered_map<stream_key, unsigned, stream_key_hash> attempts_;
  bool warned_no_key_ = false;
  pw::option<clock::time_point> paused_until_;  // no fetch starts before (a 429's wait, a retry's)
  unsigned transient_failures_ = 0;             // transport / 5xx failures since a page was answered
};

}  // namespace

pw::task<void> run_sequencing_stage(pw::mpsc::receiver<tick_batch> in, pw::mpsc::sender<tick_batch> out,
                                    backfill_options options, backfill_counters& counters, log_limiter& log) {
  auto http = http_client::start(http_client_options{.ca_file = options.ca_file, .total_timeout_ms = 10000});
  if (!http) {
    log.line("backfill disabled: " + http.error().message());
    // Pass everything through in order of arrival: nothing is lost, nothing is sequenced.
    while (auto batch = co_await in.recv()) {
      auto sending = out.send(std::move(*batch));
      if (!(co_await std::move(sending))) co_return;
    }
    co_return;
  }
  stage s(std::move(out), std::move(options), counters, log, std::move(*http));
  co_await s.run(std::move(in));
}

std::string default_rest_url(bool tls, const std::string& host, const std::string& host_header) {
  if (host == "binance.com" || (host.size() > 12 && host.ends_with(".binance.com"))) return "https://api.binance.com";
  return std::string(tls ? "https://" : "http://") + host_header;
}

}  // namespace ticks::app
