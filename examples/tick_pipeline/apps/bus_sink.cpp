#include "bus_sink.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

#include <polarway/runtime.hpp>

#include "committed_origins.hpp"
#include "id_set.hpp"
#include "process_stats.hpp"
#include "ticks/arrow_ipc_reader.hpp"
#include "ticks/parquet_partition.hpp"
#include "ticks/sequencer.hpp"

namespace ticks::app {

namespace pw = polarway;

std::uint32_t symbol_partition(std::string_view symbol, std::uint32_t partitions) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : symbol) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
  return partitions <= 1 ? 0 : static_cast<std::uint32_t>(h % partitions);
}

namespace {

// A delivered message not acknowledged yet: its place in the stream and where its ack goes.
struct unacknowledged {
  std::uint64_t seq;
  std::string reply;
};

// Keeps `pending` in stream order: a message delivered again (below what was taken last) goes
// where its sequence says.
void remember(std::deque<unacknowledged>& pending, const bus_message& m) {
  const std::uint64_t seq = m.stream_seq();
  const auto at = std::upper_bound(pending.begin(), pending.end(), seq,
                                   [](std::uint64_t s, const unacknowledged& u) { return s < u.seq; });
  pending.insert(at, unacknowledged{seq, std::string(m.reply())});
}

// The kind and symbol a subject ticks.<kind>.<SYMBOL> names; none for any other subject.
pw::option<std::pair<message_kind, symbol>> subject_parts(std::string_view subject) {
  constexpr std::string_view prefix = "ticks.";
  if (!subject.starts_with(prefix)) return pw::none;
  subject.remove_prefix(prefix.size());
  const std::size_t dot = subject.find('.');
  if (dot == std::string_view::npos) return pw::none;
  const auto kind = parse_message_kind(subject.substr(0, dot));
  auto sym = symbol::parse(subject.substr(dot + 1));
  if (!kind || !sym) return pw::none;
  return std::pair{*kind, *sym};
}

// Why `m`, on the subject that names `kind` and `sym`, cannot be written, or its rows.
pw::result<arrow_ipc::tick_rows, std::string> read_message(const bus_message& m, message_kind kind, const symbol& sym) {
  auto rows = arrow_ipc::read_tick_stream(m.data());
  if (!rows) return pw::err(rows.error().message());
  if (rows->kind != kind)
    return pw::err("a " + std::string(to_string(rows->kind)) + " stream on " + std::string(m.subject()));
  for (const tick& t : rows->ticks)
    if (symbol_of(t) != sym)
      return pw::err("a row of " + std::string(symbol_of(t).view()) + " on " + std::string(m.subject()));
  return std::move(*rows);
}

// The trade and aggTrade ids the output holds: those of the rows taken in this run, and those
// of the committed files whose rows fill their id range (committed_origin::full_id_ranges). A
// row whose id is among them was published twice under other message ids (a killed ingest's
// last publish stored after its restart read the bus): it repeats a row of the output. Only ids
// known to be held count, so no order of ids on the bus makes a row that is not in the output
// look held. Rows at or before their partition's last committed origin are not judged: the
// Parquet sink skips them (the files hold them; a redelivery). Memory: one id range per hole in
// a stream's ids, whatever its number of rows.
class held_ids {
 public:
  explicit held_ids(const committed_origins& resume) {
    for (const committed_origin& p : resume.partitions) {
      if (p.kind == message_kind::book_ticker) continue;
      stream& s = streams_[stream_key{p.kind, p.sym}];
      s.committed_days_.push_back(committed_day{p.day, p.last});
      for (const auto& [first, last] : p.full_id_ranges) s.ids_.insert(first, last);
    }
    for (auto& [key, s] : streams_)
      std::sort(s.committed_days_.begin(), s.committed_days_.end(),
                [](const committed_day& a, const committed_day& b) { return a.day < b.day; });
  }

  // What is held of one stream.
  class stream {
   public:
    // Whether the row with `id`, of UTC day `day`, at `origin` repeats a held id; a row that
    // does not is held from then on.
    bool repeats(std::int64_t id, std::int32_t day, row_origin origin) {
      if (day != day_) {
        const auto at = std::lower_bound(committed_days_.begin(), committed_days_.end(), day,
                                         [](const committed_day& c, std::int32_t d) { return c.day < d; });
        day_ = day;
        day_files_ = at != committed_days_.end() && at->day == day ? &*at : nullptr;
      }
      const bool redelivered = day_files_ != nullptr && origin <= day_files_->last;
      if (!redelivered && ids_.contains(id)) return true;
      ids_.insert(id, id);
      return false;
    }

   private:
    friend class held_ids;
    struct committed_day {
      std::int32_t day = 0;
      row_origin last;  // the last origin its files hold
    };
    id_set ids_;
    std::vector<committed_day> committed_days_;  // by day
    std::int32_t day_ = -1;                      // the day of the row judged last (none before 1970)
    const committed_day* day_files_ = nullptr;   // its files' last origin, if it has files
  };

  stream& of(const stream_key& key) { return streams_[key]; }

 private:
  using committed_day = stream::committed_day;
  std::unordered_map<stream_key, stream, stream_key_hash> streams_;
};

// The rows of a message that repeated ids the output holds: how many, the lowest and highest.
struct repeated_rows {
  std::uint64_t rows = 0;
  std::int64_t first_id = 0;
  std::int64_t last_id = 0;
};

// Writes the rows of message `seq` (one kind and symbol) that repeat no id the output holds,
// each at its own origin, and counts the others in `c` and `repeated`.
pw::task<pw::result<void, parquet_sink_error>> write_new_rows(parquet_sink& sink, held_ids& held,
                                                              std::span<const tick> rows, std::uint64_t seq,
                                                              bus_sink_counters& c, repeated_rows& repeated) {
  const auto key = rows.empty() ? pw::option<stream_key>() : sequenced_stream(rows.front());
  if (!key) co_return co_await sink.write_from(rows, row_origin{seq, 0});  // bookTicker: no ids
  held_ids::stream& stream = held.of(*key);
  std::size_t run = 0;  // the first row not written yet
  for (std::size_t i = 0; i <= rows.size(); ++i) {
    pw::option<std::int64_t> repeated_id;
    if (i < rows.size()) {
      const tick& t = rows[i];
      const std::int64_t id = *sequence_id(t);
      const auto* tr = std::get_if<trade>(&t);
      const auto day = partition::utc_day(tr ? tr->event_time_ms : std::get<agg_trade>(t).event_time_ms);
      // A row without a day is the Parquet sink's to reject.
      if (!day || !stream.repeats(id, *day, row_origin{seq, static_cast<std::uint32_t>(i)})) continue;
      repeated_id = id;
    }
    if (i > run) {
      auto written = co_await sink.write_from(rows.subspan(run, i - run), row_origin{seq, static_cast<std::uint32_t>(run)});
      if (!written) co_return pw::err(std::move(written).error());
    }
    if (repeated_id) {
      c.duplicate_rows.fetch_add(1, std::memory_order_relaxed);
      if (repeated.rows++ == 0) repeated.first_id = *repeated_id;
      repeated.last_id = *repeated_id;
    }
    run = i + 1;
  }
  co_return pw::ok();
}

std::int64_t now_ms() noexcept { return monotonic_ns() / 1'000'000; }

// After a commit of every open file: `next` is settled, for the files committed from now on and
// in the output's position file.
pw::task<pw::result<void, std::string>> settle(parquet_sink& sink, const bus_sink_config& cfg, std::uint64_t next,
                                               bus_sink_counters& c) {
  c.commits.fetch_add(1, std::memory_order_relaxed);
  sink.set_settled_origin(next);
  auto saving = save_bus_position(cfg.parquet.dir, cfg.parquet.origin_label, next);
  auto saved = co_await std::move(saving);
  if (!saved) co_return pw::err("cannot record the bus position: " + saved.error());
  co_return pw::ok();
}

}  // namespace

std::uint64_t resume_sequence(const committed_origins& resume) noexcept {
  return resume.settled < 1 ? 1 : resume.settled;
}

pw::task<pw::result<bus_sink_report, std::string>> run_bus_sink(jetstream_consumer& consumer, parquet_sink& sink,
                                                                const bus_sink_config& cfg,
                                                                const committed_origins& resume,
                                                                pw::cancellation_token stop,
                                                                bus_sink_counters& c,
                                                                const jetstream_publisher::log_fn& log) {
  for (const committed_origin& p : resume.partitions) sink.resume_after(p.kind, p.sym, p.day, p.last);
  held_ids held(resume);
  bus_sink_report report;
  std::deque<unacknowledged> pending;
  const std::int64_t started = now_ms();
  std::int64_t last_commit = started;
  std::int64_t last_delivery = started;
  const std::size_t pending_cap = static_cast<std::size_t>(cfg.consumer.max_ack_pending) * 3 / 4;
  std::uint64_t expected = resume_sequence(resume);  // the next message to take
  std::uint64_t repositioned_at = 0;  // `expected` when the consumer was last created again for it

  // Acknowledges what is delivered before `oldest` (everything if none): those rows are in
  // committed files, or were passed over.
  const auto acknowledge = [&](pw::option<row_origin> oldest) -> pw::result<void, std::string> {
    const unacknowledged* through = nullptr;
    std::size_t n = 0;
    for (const unacknowledged& u : pending) {
      if (oldest && u.seq >= oldest->seq) break;
      if (!through || u.seq > through->seq) through = &u;
      ++n;
    }
    if (through == nullptr) return pw::ok();
    if (auto sent = consumer.acknowledge_through(through->reply); !sent) return pw::err(sent.error());
    c.acknowledgements.fetch_add(1, std::memory_order_relaxed);
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(n));
    return pw::ok();
  };

  for (;;) {
    if (stop.is_cancelled()) {
      report.stopped_by_signal = true;
      break;
    }
    const std::int64_t now = now_ms();
    if (cfg.duration_ms != 0 && now - started >= static_cast<std::int64_t>(cfg.duration_ms)) break;
    if (cfg.idle_exit_ms != 0 && now - last_delivery >= static_cast<std::int64_t>(cfg.idle_exit_ms)) break;
    if (cfg.expect_rows != 0 && c.rows_taken.load(std::memory_order_relaxed) >= cfg.expect_rows) break;

    auto fetched = co_await consumer.fetch();
    if (!fetched) co_return pw::err(std::move(fetched).error());
    if (!fetched->empty()) last_delivery = now_ms();
    // A fetch holds up to pull_batch messages, each decoded and encoded here: other tasks get
    // their turn every 16 messages or 1,024 rows.
    std::size_t messages_since_yield = 0, rows_since_yield = 0;
    for (bus_message& m : *fetched) {
      if (++messages_since_yield >= 16 || rows_since_yield >= 1024) {
        co_await pw::yield_now();
        messages_since_yield = rows_since_yield = 0;
      }
      c.messages.fetch_add(1, std::memory_order_relaxed);
      if (!m.read_metadata()) {
        // Not a JetStream delivery: nothing to acknowledge, nothing to write.
        c.bad_messages.fetch_add(1, std::memory_order_relaxed);
        report.last_bad_message = "a message on " + std::string(m.subject()) + " without JetStream metadata";
        continue;
      }
      if (m.deliveries() > 1) c.redelivered.fetch_add(1, std::memory_order_relaxed);
      if (m.stream_seq() < expected) {
        // Taken already in this run and delivered again: its acknowledgement was lost (sent to a
        // server that went away), or the consumer was made again from an earlier sequence. It is
        // acknowledged again with the rest once what holds it is committed; left alone, it would
        // come back at every ack wait, for as long as the sink runs.
        remember(pending, m);
        continue;
      }
      if (m.stream_seq() > expected) {
        if (repositioned_at != expected) {
          // Delivered to this consumer but never seen here: read again from the one expected.
          log("stream sequence " + std::to_string(m.stream_seq()) + " came where " + std::to_string(expected) +
              " was expected: reading again from " + std::to_string(expected));
          c.repositions.fetch_add(1, std::memory_order_relaxed);
          repositioned_at = expected;
          auto again = co_await consumer.restart_at(expected, stop);
          if (!again) co_return pw::err(std::move(again).error());
          break;  // the rest of this fetch came from the old consumer
        }
        const std::uint64_t lost = m.stream_seq() - expected;
        c.bus_gaps.fetch_add(lost, std::memory_order_relaxed);
        report.last_bad_message = "the bus no longer holds stream sequences " + std::to_string(expected) + " to " +
                                  std::to_string(m.stream_seq() - 1);
        log(report.last_bad_message);
        expected = m.stream_seq();
      }
      ++expected;
      // The subject says whose message it is: another partition's is passed over unread.
      const auto named = subject_parts(m.subject());
      if (named && symbol_partition(named->second.view(), cfg.partitions) != cfg.partition) {
        c.other_partition.fetch_add(1, std::memory_order_relaxed);
        remember(pending, m);
        continue;
      }
      auto rows = named ? read_message(m, named->first, named->second)
                        : pw::result<arrow_ipc::tick_rows, std::string>(
                              pw::err("subject '" + std::string(m.subject()) + "' is not ticks.<kind>.<SYMBOL>"));
      if (!rows) {
        c.bad_messages.fetch_add(1, std::memory_order_relaxed);
        report.last_bad_message = "stream sequence " + std::to_string(m.stream_seq()) + ": " + rows.error();
        log("refused " + report.last_bad_message);
        if (auto t = consumer.terminate(m.reply()); !t) log(t.error());
        continue;
      }
      const std::size_t n = rows->ticks.size();
      if (n != 0) {
        repeated_rows repeated;
        auto writing = write_new_rows(sink, held, rows->ticks, m.stream_seq(), c, repeated);
        auto written = co_await std::move(writing);
        if (!written) co_return pw::err("the Parquet sink failed: " + written.error().message());
        if (repeated.rows != 0)
          log("stream sequence " + std::to_string(m.stream_seq()) + " on " + std::string(m.subject()) + ": skipped " +
              std::to_string(repeated.rows) + " rows whose ids the output holds (ids " +
              std::to_string(repeated.first_id) + " to " + std::to_string(repeated.last_id) + ")");
        c.rows_taken.fetch_add(n, std::memory_order_relaxed);
        rows_since_yield += n;
      }
      remember(pending, m);
    }
    if (!pending.empty() && (now_ms() - last_commit >= static_cast<std::int64_t>(cfg.commit_interval_ms) ||
                             pending.size() >= pending_cap)) {
      if (auto flushed = co_await sink.flush(); !flushed)
        co_return pw::err("the Parquet sink failed: " + flushed.error().message());
      auto settling = settle(sink, cfg, expected, c);
      if (auto settled = co_await std::move(settling); !settled) co_return pw::err(std::move(settled).error());
      last_commit = now_ms();
    }
    if (auto acked = acknowledge(sink.oldest_uncommitted_origin()); !acked) log("acknowledgement: " + acked.error());
  }
  if (auto flushed = co_await sink.flush(); !flushed)
    co_return pw::err("the Parquet sink failed: " + flushed.error().message());
  auto settling = settle(sink, cfg, expected, c);
  if (auto settled = co_await std::move(settling); !settled) co_return pw::err(std::move(settled).error());
  if (auto acked = acknowledge(pw::none); !acked) log("acknowledgement: " + acked.error());
  co_return report;
}

}  // namespace ticks::app
