// The Parquet sink: an LRU of open partitions, each a pw_parquet::file_writer (one row group of
// buffered rows) plus the temporary file its bytes go to. See ticks/parquet_sink.hpp for the
// contract; the comments here explain the order of operations.
#include "ticks/parquet_sink.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <list>
#include <unordered_map>
#include <utility>
#include <variant>

#include <polarway/fs/file.hpp>
#include <polarway/fs/path_ops.hpp>
#include <pw_parquet/errc.hpp>
#include <pw_parquet/file_writer.hpp>
#include <pw_parquet/tick_schemas.hpp>

namespace ticks {

namespace pw = polarway;
namespace pq = pw_parquet;

namespace {

constexpr const char* sink_version = "polarway tick parquet sink 0.1.0";
constexpr const char* lock_name = parquet_sink_lock_file;

std::int64_t realtime_ms() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
}

// pw::error keeps a static context string, so each rejection reason gets its own.
const char* path_error_context(partition::path_errc e) noexcept {
  switch (e) {
    case partition::path_errc::empty_symbol: return "parquet_sink: empty symbol";
    case partition::path_errc::symbol_too_long: return "parquet_sink: symbol too long";
    case partition::path_errc::bad_symbol_character: return "parquet_sink: symbol has a character outside [A-Z0-9]";
    case partition::path_errc::time_out_of_range: return "parquet_sink: time outside 1970-01-01..9999-12-31";
  }
  return "parquet_sink: invalid tick";
}

// Errors append_row reports about the row itself (the tick cannot be represented): the tick is
// rejected and the file goes on. Anything else (a codec failure while flushing a full row group)
// is a fault of the file.
bool is_row_error(const pw::error& e) noexcept {
  if (e.code().category() != pq::parquet_category()) return false;
  switch (static_cast<pq::errc>(e.code().value())) {
    case pq::errc::type_mismatch:
    case pq::errc::wrong_arity:
    case pq::errc::null_in_required:
    case pq::errc::decimal_out_of_range:
    case pq::errc::inexact_conversion:
    case pq::errc::invalid_utf8:
      return true;
    default:
      return false;
  }
}

pq::schema schema_for(message_kind k) {
  switch (k) {
    case message_kind::trade: return pq::ticks::trades_schema();
    case message_kind::agg_trade: return pq::ticks::agg_trades_schema();
    case message_kind::book_ticker: return pq::ticks::book_ticker_schema();
  }
  return pq::ticks::trades_schema();
}

struct partition_key {
  message_kind kind{};
  std::int32_t day = 0;
  symbol sym;
  friend bool operator==(const partition_key&, const partition_key&) = default;
};

struct partition_key_hash {
  std::size_t operator()(const partition_key& k) const noexcept {
    // FNV-1a over the symbol, then the kind and day mixed in.
    std::uint64_t h = 1469598103934665603ull;
    for (const char c : k.sym.view()) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    h ^= (static_cast<std::uint64_t>(static_cast<std::uint32_t>(k.day)) << 8) | static_cast<std::uint64_t>(k.kind);
    h *= 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
};

// A tick's place: its partition and the event time it is stored (and dated) with.
struct placement {
  partition_key key;
  std::int64_t event_ms = 0;
};

struct open_partition {
  partition_key key;
  std::string dir;
  std::uint32_t part = 0;
  std::string temp_path;
  std::string final_path;
  pw::fs::file file;
  pq::file_writer writer;
  std::uint64_t rows = 0;       // rows accepted into this file
  std::uint64_t file_bytes = 0; // bytes written to the file so far
  pw::option<row_origin> first_origin;  // of the rows written with write_from
  pw::option<row_origin> last_origin;
};

std::string join(std::string_view a, std::string_view b) {
  std::string s(a);
  if (!s.empty() && s.back() != '/') s += '/';
  s += b;
  return s;
}

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

bool is_directory(const std::string& path) noexcept {
  struct stat st{};
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// The next free part number in `dir`: one past the highest committed or temporary part. A
// blocking readdir (the runtime has no async one); a partition directory holds few entries.
std::uint32_t next_part_number(const std::string& dir) {
  std::uint32_t next = 0;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return next;
  while (const dirent* e = ::readdir(d)) {
    if (auto p = partition::parse_part_name(e->d_name); p && p->number >= next) next = p->number + 1;
  }
  ::closedir(d);
  return next;
}

// Calls f(name) for each entry of `dir` (blocking).
template <class F>
void for_each_entry(const std::string& dir, F&& f) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != "..") f(name);
  }
  ::closedir(d);
}

// fsync of a directory, so that the entries created or renamed in it survive a power cut.
// pw::fs::file opens it O_RDONLY (there is no O_DIRECTORY option; the paths are our own).
pw::task<pw::result<void>> sync_dir(std::string dir) {
  auto f = co_await pw::fs::file::open(std::move(dir), pw::fs::open_options{.read = true});
  if (!f) co_return pw::err(f.error());
  auto s = co_await f->sync_all();
  auto c = co_await f->close();
  if (!s) co_return pw::err(s.error());
  if (!c) co_return pw::err(c.error());
  co_return pw::ok();
}

}  // namespace

struct parquet_sink::state {
  parquet_sink_options options;
  parquet_sink_stats stats;
  pw::option<parquet_sink_error> failure;
  pw::option<parquet_rejection> rejection;
  int lock_fd = -1;
  bool closed = false;
  std::list<open_partition> lru;  // front: most recently used
  std::unordered_map<partition_key, std::list<open_partition>::iterator, partition_key_hash> index;
  // Encoded bytes on their way to one partition's file. One buffer serves every partition: a
  // partition's bytes are written out (drain) before the next tick is taken, so it is empty
  // between ticks, and one per partition kept the capacity of a whole encoded row group (about
  // 400 KB at 16,384 rows) in memory for every open file.
  pq::byte_vector out;
  // The writers' encoding buffers, shared for the same reason: a row group is encoded inside one
  // append or commit, never two at once.
  std::shared_ptr<pq::encode_scratch> scratch;
  // write_from: the last origin each partition took (this run, or from resume_after). One entry
  // per partition ever written with origins.
  std::unordered_map<partition_key, row_origin, partition_key_hash> origin_floor;
  // set_settled_origin(): recorded in files that hold origins, from their commit on.
  std::uint64_t settled_origin = 0;

  ~state() {
    // Dropped without close(): the temps cannot be completed synchronously, so they go (and
    // their rows with them) rather than wait for the next open() to sweep them.
    for (open_partition& p : lru) {
      p.file = pw::fs::file();
      ::unlink(p.temp_path.c_str());
    }
    if (lock_fd >= 0) ::close(lock_fd);
  }

  parquet_stream_counts& counts(message_kind k) noexcept { return stats.streams[static_cast<std::size_t>(k)]; }

  void reject(message_kind kind, std::string_view sym, pw::error e) {
    ++counts(kind).rows_rejected;
    rejection = parquet_rejection{e, kind, std::string(sym)};
  }

  pw::result<placement, pw::error> place(const tick& t) const {
    placement pl;
    pl.key.kind = kind_of(t);
    pl.key.sym = symbol_of(t);
    if (auto v = partition::validate_symbol(pl.key.sym.view()); !v)
      return pw::err(pw::error(pw::errc::invalid_input, path_error_context(v.error())));
    if (const auto* bt = std::get_if<book_ticker>(&t)) {
      pl.event_ms = bt->event_time_ms ? *bt->event_time_ms : (options.clock_ms ? options.clock_ms() : realtime_ms());
    } else {
      const auto* tr = std::get_if<trade>(&t);
      pl.event_ms = tr ? tr->event_time_ms : std::get<agg_trade>(t).event_time_ms;
    }
    auto day = partition::utc_day(pl.event_ms);
    if (!day) return pw::err(pw::error(pw::errc::invalid_input, path_error_context(day.error())));
    pl.key.day = *day;
    return pw::ok(pl);
  }

  pw::result<void> append(open_partition& p, const tick& t, std::int64_t event_ms) {
    constexpr std::int32_t scale = pq::ticks::price_scale;
    const auto dec = [](price v) { return pq::value::decimal(v.raw, scale); };
    if (const auto* tr = std::get_if<trade>(&t)) {
      const pq::value row[] = {pq::value::timestamp_millis(event_ms), pq::value::string(tr->symbol.view()),
                               pq::value::int64(tr->trade_id),         dec(tr->price),
                               dec(tr->quantity),                      pq::value::timestamp_millis(tr->trade_time_ms),
                               pq::value::boolean(tr->buyer_is_maker)};
      return p.writer.append_row(row, out);
    }
    if (const auto* ag = std::get_if<agg_trade>(&t)) {
      const pq::value row[] = {pq::value::timestamp_millis(event_ms), pq::value::string(ag->symbol.view()),
                               pq::value::int64(ag->agg_trade_id),     dec(ag->price),
                               dec(ag->quantity),                      pq::value::int64(ag->first_trade_id),
                               pq::value::int64(ag->last_trade_id),    pq::value::timestamp_millis(ag->trade_time_ms),
                               pq::value::boolean(ag->buyer_is_maker)};
      return p.writer.append_row(row, out);
    }
    const auto& bt = std::get<book_ticker>(t);
    const pq::value row[] = {pq::value::int64(bt.update_id), pq::value::string(bt.symbol.view()),
                             dec(bt.bid_price),              dec(bt.bid_quantity),
                             dec(bt.ask_price),              dec(bt.ask_quantity),
                             pq::value::timestamp_millis(event_ms)};
    return p.writer.append_row(row, out);
  }

  parquet_sink_error error_for(const open_partition& p, pw::error e, std::uint64_t lost = 0) const {
    return parquet_sink_error{p.final_path, e, lost, 0};
  }

  void forget(std::list<open_partition>::iterator it) {
    index.erase(it->key);
    lru.erase(it);
    stats.open_partitions = lru.size();
  }

  // A failed file: close it, remove its temporary name, count its rows lost, forget it.
  pw::task<parquet_sink_error> discard(std::list<open_partition>::iterator it, pw::error e) {
    open_partition& p = *it;
    out.clear();  // whatever of p's bytes were not written go with it (drain leaves them)
    (void)co_await p.file.close();  // the fault is what matters; a close error adds nothing
    // If even the unlink fails the temp stays until the next open() sweeps it; it is hidden
    // and never renamed, so no reader sees it either way.
    if (auto r = co_await pw::fs::remove(p.temp_path); !r) ++stats.temps_not_removed;
    counts(p.key.kind).rows_lost += p.rows;
    parquet_sink_error se = error_for(p, e, p.rows);
    forget(it);
    co_return se;
  }

  // Writes the encoded bytes waiting in `out` (p's), at explicit offsets. Not file::write_all: that
  // writes at the file position, and on io_uring a short write followed by EFBIG/ENOSPC leaves
  // the position where the short write started, so the next call reports the same short count
  // again and write_all "succeeds" without the bytes ever reaching the file (seen with
  // RLIMIT_FSIZE: every later write returned 2,536 while the file stayed at 64 KiB). With
  // offsets, the call after a short write starts at the limit and gets the error.
  // On failure the caller discards p, and discard() clears `out` (p's unwritten bytes must not
  // reach the next partition's file).
  pw::task<pw::result<void>> drain(open_partition& p) {
    std::span<const std::byte> rest(out.data(), out.size());
    while (!rest.empty()) {
      auto n = co_await p.file.write_at(rest, p.file_bytes);
      if (!n) co_return pw::err(n.error());
      if (*n == 0) co_return pw::err(pw::error(pw::errc::write_zero, "parquet_sink: write_at"));
      p.file_bytes += *n;
      rest = rest.subspan(*n);
    }
    out.clear();
    co_return pw::ok();
  }

  // Footer, write, fsync, close, rename into place, fsync the directory. Until the rename the
  // file is invisible to readers globbing *.parquet; after it, it is whole.
  pw::task<pw::result<void, parquet_sink_error>> commit(std::list<open_partition>::iterator it) {
    open_partition& p = *it;
    if (p.first_origin) {
      p.writer.set_key_value(origin_label_key, options.origin_label);
      p.writer.set_key_value(origin_first_key, to_string(*p.first_origin));
      p.writer.set_key_value(origin_last_key, to_string(*p.last_origin));
      p.writer.set_key_value(origin_settled_key, std::to_string(settled_origin));
    }
    pw::result<void> r = p.writer.finish(out);
    if (r) r = co_await drain(p);
    if (r) r = co_await p.file.sync_all();
    if (r) r = co_await p.file.close();
    if (r) r = co_await pw::fs::rename(p.temp_path, p.final_path);
    if (!r) {
      parquet_sink_error e = co_await discard(it, r.error());
      co_return pw::err(std::move(e));
    }
    parquet_stream_counts& c = counts(p.key.kind);
    c.rows_written += p.rows;
    ++c.files_written;
    c.bytes_written += p.file_bytes;
    const std::string dir = p.dir;
    const std::string final_path = p.final_path;
    forget(it);
    // The file is complete and visible; a failed directory fsync only leaves its name's
    // durability in doubt, so it is reported (and stops the sink) but nothing is counted lost.
    if (auto s = co_await sync_dir(dir); !s) co_return pw::err(parquet_sink_error{final_path, s.error(), 0, 0});
    co_return pw::ok();
  }

  // Commits every open partition, least recently used first; returns the first failure.
  pw::task<pw::result<void, parquet_sink_error>> commit_all() {
    pw::option<parquet_sink_error> first;
    while (!lru.empty()) {
      auto r = co_await commit(std::prev(lru.end()));
      if (!r && !first) first = r.error();
    }
    if (first) co_return pw::err(*first);
    co_return pw::ok();
  }

  // Fail-stop: remember the fault, publish everything else that is open, report the fault.
  pw::task<parquet_sink_error> fail(parquet_sink_error e, std::size_t batch_index) {
    e.batch_index = batch_index;
    if (!failure) failure = e;
    (void)co_await commit_all();
    co_return e;
  }

  // Commits the open files of `key`'s stream and symbol for earlier days, which that stream has
  // moved past.
  pw::task<pw::result<void, parquet_sink_error>> commit_earlier_days(const partition_key& key) {
    for (auto it = lru.begin(); it != lru.end();) {
      const auto next = std::next(it);
      if (it->key.kind == key.kind && it->key.day < key.day && it->key.sym == key.sym) {
        ++stats.day_commits;
        if (auto r = co_await commit(it); !r) co_return pw::err(r.error());
      }
      it = next;
    }
    co_return pw::ok();
  }

  // Opens `key`'s file, first committing what it makes finished (its stream and symbol's earlier
  // days) and, if the limit is still reached, the least recently used file.
  pw::task<pw::result<std::list<open_partition>::iterator, parquet_sink_error>> open_partition_for(const partition_key& key) {
    if (auto r = co_await commit_earlier_days(key); !r) co_return pw::err(r.error());
    if (lru.size() >= options.max_open_partitions) {
      ++stats.evictions;
      if (auto r = co_await commit(std::prev(lru.end())); !r) co_return pw::err(r.error());
    }
    auto dir = partition::partition_dir(options.root, key.kind, key.sym.view(), key.day);
    if (!dir) co_return pw::err(parquet_sink_error{options.root, pw::error(pw::errc::invalid_input, path_error_context(dir.error())), 0, 0});
    // A new directory's own entry lives in its parent: fsync the chain up to the root once.
    if (!is_directory(*dir)) {
      if (auto r = co_await pw::fs::create_dir_all(*dir); !r) co_return pw::err(parquet_sink_error{*dir, r.error(), 0, 0});
      std::string d = *dir;
      for (int up = 0; up < 3; ++up) {
        d = parent_of(d);
        if (auto r = co_await sync_dir(d); !r) co_return pw::err(parquet_sink_error{d, r.error(), 0, 0});
      }
    }
    std::uint32_t n = next_part_number(*dir);
    pw::result<pw::fs::file> f = pw::err(pw::error());
    // O_EXCL on the temp name: if someone raced us to a number, take the next one.
    for (int attempt = 0; attempt < 64; ++attempt, ++n) {
      f = co_await pw::fs::file::open(join(*dir, partition::temp_file_name(n)),
                                      pw::fs::open_options{.write = true, .create_new = true});
      if (f || f.error().code() != std::errc::file_exists) break;
    }
    const std::string final_path = join(*dir, partition::part_file_name(n));
    if (!f) co_return pw::err(parquet_sink_error{final_path, f.error(), 0, 0});

    pq::writer_options wo;
    wo.codec = options.codec;
    wo.zstd_level = options.zstd_level;
    wo.max_rows_per_row_group = options.rows_per_row_group;
    if (!scratch) {
      if (auto sc = pq::encode_scratch::create(options.codec, options.zstd_level)) scratch = std::move(*sc);
    }
    wo.scratch = scratch;  // none if that failed: the writer then makes its own or says why it cannot
    wo.key_value_metadata = {{"polarway.stream", std::string(partition::stream_dir(key.kind))},
                             {"polarway.symbol", std::string(key.sym.view())},
                             {"polarway.date", partition::format_date(key.day)},
                             {"polarway.part", std::to_string(n)},
                             {"polarway.sink", sink_version}};
    auto w = pq::file_writer::create(schema_for(key.kind), std::move(wo));
    if (!w) {
      *f = pw::fs::file();  // closes it, so the empty temp can go
      ::unlink(join(*dir, partition::temp_file_name(n)).c_str());
      co_return pw::err(parquet_sink_error{final_path, w.error(), 0, 0});
    }
    lru.push_front(open_partition{key, *dir, n, join(*dir, partition::temp_file_name(n)), final_path,
                                  std::move(*f), std::move(*w), 0, 0, pw::none, pw::none});
    index.emplace(key, lru.begin());
    ++stats.partitions_opened;
    stats.open_partitions = lru.size();
    if (lru.size() > stats.max_open_partitions_seen) stats.max_open_partitions_seen = lru.size();
    co_return pw::ok(lru.begin());
  }

  bool should_roll(const open_partition& p) const noexcept {
    return p.rows >= options.max_rows_per_file || p.file_bytes + p.writer.buffered_bytes() >= options.max_file_bytes;
  }

  pw::task<pw::result<void, parquet_sink_error>> write(std::span<const tick> batch, pw::option<row_origin> first) {
    if (failure) co_return pw::err(*failure);
    if (closed) co_return pw::err(parquet_sink_error{options.root, pw::error(pw::errc::closed, "parquet_sink::write"), 0, 0});
    for (std::size_t i = 0; i < batch.size(); ++i) {
      const tick& t = batch[i];
      auto pl = place(t);
      if (!pl) {
        reject(kind_of(t), symbol_of(t).view(), pl.error());
        continue;
      }
      pw::option<row_origin> origin;
      if (first) {
        origin = row_origin{first->seq, static_cast<std::uint32_t>(first->row + i)};
        if (auto floor = origin_floor.find(pl->key); floor != origin_floor.end() && *origin <= floor->second) {
          ++counts(pl->key.kind).rows_already_written;
          continue;
        }
      }
      std::list<open_partition>::iterator it;
      if (auto found = index.find(pl->key); found != index.end()) {
        it = found->second;
        if (it != lru.begin()) lru.splice(lru.begin(), lru, it);
      } else {
        auto opened = co_await open_partition_for(pl->key);
        if (!opened) {
          parquet_sink_error e = co_await fail(opened.error(), i);
          co_return pw::err(std::move(e));
        }
        it = *opened;
      }
      if (auto r = append(*it, t, pl->event_ms); !r) {
        if (is_row_error(r.error())) {
          reject(pl->key.kind, pl->key.sym.view(), r.error());
          continue;
        }
        parquet_sink_error lost = co_await discard(it, r.error());
        parquet_sink_error e = co_await fail(std::move(lost), i);
        co_return pw::err(std::move(e));
      }
      ++it->rows;
      ++counts(pl->key.kind).rows_accepted;
      if (origin) {
        if (!it->first_origin) it->first_origin = *origin;
        it->last_origin = *origin;
        origin_floor.insert_or_assign(pl->key, *origin);
      }
      if (!out.empty()) {
        if (auto r = co_await drain(*it); !r) {
          parquet_sink_error lost = co_await discard(it, r.error());
          parquet_sink_error e = co_await fail(std::move(lost), i);
          co_return pw::err(std::move(e));
        }
      }
      if (should_roll(*it)) {
        if (auto r = co_await commit(it); !r) {
          parquet_sink_error e = co_await fail(r.error(), i);
          co_return pw::err(std::move(e));
        }
      }
    }
    co_return pw::ok();
  }

  pw::task<pw::result<void, parquet_sink_error>> flush() {
    if (failure) co_return pw::err(*failure);
    auto r = co_await commit_all();
    if (!r && !failure) failure = r.error();
    co_return r;
  }

  pw::task<pw::result<void, parquet_sink_error>> close() {
    if (closed) co_return failure ? pw::result<void, parquet_sink_error>(pw::err(*failure)) : pw::ok();
    closed = true;
    // After a fault everything healthy was already committed; commit_all has nothing left.
    auto r = co_await commit_all();
    if (!r && !failure) failure = r.error();
    if (lock_fd >= 0) ::close(std::exchange(lock_fd, -1));
    if (failure) co_return pw::err(*failure);
    co_return pw::ok();
  }

  // Removes .part-<n>.parquet.tmp under <root>/<stream>/symbol=<S>/date=<D>/ and nowhere else.
  void sweep_stale_temps() {
    for (const message_kind k : {message_kind::trade, message_kind::agg_trade, message_kind::book_ticker}) {
      const std::string stream = join(options.root, partition::stream_dir(k));
      for_each_entry(stream, [&](std::string_view sym_dir) {
        if (!partition::is_symbol_dir_name(sym_dir)) return;
        const std::string sym_path = join(stream, sym_dir);
        for_each_entry(sym_path, [&](std::string_view date_dir) {
          if (!partition::is_date_dir_name(date_dir)) return;
          const std::string date_path = join(sym_path, date_dir);
          std::vector<std::string> stale;
          for_each_entry(date_path, [&](std::string_view name) {
            if (auto p = partition::parse_part_name(name); p && p->temporary) stale.push_back(join(date_path, name));
          });
          for (const std::string& path : stale)
            if (::unlink(path.c_str()) == 0) ++stats.stale_temps_removed;
        });
      });
    }
  }
};

// Not a coroutine itself, so that `auto t = parquet_sink::open({...}); co_await t;` style calls
// never put a braced temporary into a coroutine's parameter copy. (g++ 12 still mishandles a
// braced temporary written inside a co_await expression of the *calling* coroutine: it destroys
// it twice. Callers build the options as a named local; see the README.)
pw::task<pw::result<parquet_sink, parquet_sink_error>> parquet_sink::open(parquet_sink_options options) {
  return open_impl(std::move(options));
}

pw::task<pw::result<parquet_sink, parquet_sink_error>> parquet_sink::open_impl(parquet_sink_options options) {
  const auto invalid = [&](const char* what) {
    return parquet_sink_error{options.root, pw::error(pw::errc::invalid_input, what), 0, 0};
  };
  if (options.root.empty()) co_return pw::err(invalid("parquet_sink::open: empty root"));
  if (options.rows_per_row_group == 0 || options.max_rows_per_file == 0 || options.max_file_bytes == 0 ||
      options.max_open_partitions == 0)
    co_return pw::err(invalid("parquet_sink::open: a limit is zero"));
  if (auto r = co_await pw::fs::create_dir_all(options.root); !r) co_return pw::err(parquet_sink_error{options.root, r.error(), 0, 0});

  auto s = std::make_unique<state>();
  s->options = std::move(options);
  // One sink per root: the sweep below would otherwise delete another live sink's temps.
  const std::string lock_path = join(s->options.root, lock_name);
  s->lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (s->lock_fd < 0) co_return pw::err(parquet_sink_error{s->options.root, pw::error::from_errno(errno, "parquet_sink::open: lock file"), 0, 0});
  if (::flock(s->lock_fd, LOCK_EX | LOCK_NB) != 0)
    co_return pw::err(parquet_sink_error{s->options.root, pw::error::from_errno(errno, "parquet_sink::open: root locked by another sink"), 0, 0});
  if (s->options.remove_stale_temps) s->sweep_stale_temps();
  co_return pw::ok(parquet_sink(std::move(s)));
}

parquet_sink::parquet_sink(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
parquet_sink::parquet_sink(parquet_sink&&) noexcept = default;
parquet_sink& parquet_sink::operator=(parquet_sink&&) noexcept = default;
parquet_sink::~parquet_sink() = default;

pw::task<pw::result<void, parquet_sink_error>> parquet_sink::write(std::span<const tick> batch) {
  return state_->write(batch, pw::none);
}
pw::task<pw::result<void, parquet_sink_error>> parquet_sink::write_from(std::span<const tick> batch, row_origin first) {
  return state_->write(batch, first);
}

void parquet_sink::resume_after(message_kind kind, const symbol& sym, std::int32_t day, row_origin last) {
  const partition_key key{kind, day, sym};
  auto [at, added] = state_->origin_floor.try_emplace(key, last);
  if (!added && at->second < last) at->second = last;
}

pw::option<row_origin> parquet_sink::oldest_uncommitted_origin() const noexcept {
  pw::option<row_origin> oldest;
  for (const open_partition& p : state_->lru)
    if (p.first_origin && (!oldest || *p.first_origin < *oldest)) oldest = *p.first_origin;
  return oldest;
}

void parquet_sink::set_settled_origin(std::uint64_t seq) noexcept {
  if (seq > state_->settled_origin) state_->settled_origin = seq;
}

std::string to_string(const row_origin& o) { return std::to_string(o.seq) + ":" + std::to_string(o.row); }

pw::option<row_origin> parse_row_origin(std::string_view text) noexcept {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return pw::none;
  const auto number = [](std::string_view digits, std::uint64_t max) -> pw::option<std::uint64_t> {
    if (digits.empty() || digits.size() > 20) return pw::none;
    std::uint64_t v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return pw::none;
      const auto d = static_cast<std::uint64_t>(c - '0');
      if (v > (max - d) / 10) return pw::none;
      v = v * 10 + d;
    }
    return v;
  };
  auto seq = number(text.substr(0, colon), UINT64_MAX);
  auto row = number(text.substr(colon + 1), UINT32_MAX);
  if (!seq || !row) return pw::none;
  return row_origin{*seq, static_cast<std::uint32_t>(*row)};
}
pw::task<pw::result<void, parquet_sink_error>> parquet_sink::write(const tick& t) {
  return state_->write(std::span<const tick>(&t, 1), pw::none);
}
pw::task<pw::result<void, parquet_sink_error>> parquet_sink::flush() { return state_->flush(); }
pw::task<pw::result<void, parquet_sink_error>> parquet_sink::close() { return state_->close(); }

const parquet_sink_stats& parquet_sink::stats() const noexcept { return state_->stats; }
const pw::option<parquet_sink_error>& parquet_sink::failure() const noexcept { return state_->failure; }
const pw::option<parquet_rejection>& parquet_sink::last_rejection() const noexcept { return state_->rejection; }
const parquet_sink_options& parquet_sink::options() const noexcept { return state_->options; }

}  // namespace ticks
