#include "tick_recording.hpp"

#include <algorithm>
#include <set>
#include <utility>

#include <polarway/runtime/yield_now.hpp>
#include <pw_parquet/decimal.hpp>
#include <pw_parquet/tick_schemas.hpp>

#include "parquet_file_reader.hpp"
#include "trade_query.hpp"
#include "ticks/parquet_partition.hpp"

namespace ticks::app {

namespace pw = polarway;
namespace pq = pw_parquet;

std::string stream_name_of(std::string_view symbol, message_kind kind) {
  std::string name(symbol);
  for (char& c : name)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  name += '@';
  name += to_string(kind);
  return name;
}

namespace {

pq::schema schema_of(message_kind kind) {
  switch (kind) {
    case message_kind::trade:
      return pq::ticks::trades_schema();
    case message_kind::agg_trade:
      return pq::ticks::agg_trades_schema();
    case message_kind::book_ticker:
      break;
  }
  return pq::ticks::book_ticker_schema();
}

// The index of the event time and the symbol among a kind's columns (its schema's order).
constexpr std::size_t symbol_position = 1;
constexpr std::size_t time_position(message_kind kind) noexcept {
  return kind == message_kind::book_ticker ? std::size_t{pq::ticks::book_ticker_event_time}
                                           : std::size_t{pq::ticks::trades_event_time};
}

// Where a file keeps a kind's columns, in its schema's order, and how each becomes a tick's
// value: decimals are multiplied up to scale 8, timestamps divided down to milliseconds.
struct tick_columns {
  message_kind kind = message_kind::trade;
  std::vector<std::size_t> indexes;  // into the file's columns
  std::vector<std::int64_t> factor;  // decimals: 10^(8 - scale); timestamps: units per ms
};

std::string quoted(std::string_view name) { return "column \"" + std::string(name) + "\""; }

// The kind a file holds (by its id column) and its columns, each checked against its type.
pw::result<tick_columns, std::string> find_tick_columns(const pq::file_metadata& meta) {
  tick_columns out;
  if (column_index(meta, "trade_id")) {
    out.kind = message_kind::trade;
  } else if (column_index(meta, "agg_trade_id")) {
    out.kind = message_kind::agg_trade;
  } else if (column_index(meta, "update_id")) {
    out.kind = message_kind::book_ticker;
  } else {
    return pw::err(std::string("not a tick file: no column \"trade_id\", \"agg_trade_id\" or \"update_id\""));
  }
  for (const pq::column_spec& spec : schema_of(out.kind).columns) {
    const auto at = column_index(meta, spec.name);
    if (!at)
      return pw::err("no " + quoted(spec.name) + " (a " + std::string(to_string(out.kind)) + " file needs it)");
    const pq::column_descriptor& c = meta.columns[*at];
    std::int64_t factor = 1;
    switch (spec.type) {
      case pq::column_type::boolean:
        if (c.physical != pq::format::physical_type::boolean) return pw::err(quoted(c.name) + " is not a boolean");
        break;
      case pq::column_type::int64:
        if (pq::storage_of(c) != pq::value_storage::int64 || c.logical == pq::logical_kind::decimal ||
            c.logical == pq::logical_kind::timestamp)
          return pw::err(quoted(c.name) + " is not a 64-bit integer");
        break;
      case pq::column_type::string:
        if (pq::storage_of(c) != pq::value_storage::bytes) return pw::err(quoted(c.name) + " is not a string");
        break;
      case pq::column_type::timestamp:
        if (c.logical != pq::logical_kind::timestamp || c.physical != pq::format::physical_type::int64)
          return pw::err(quoted(c.name) + " is not an int64 timestamp");
        factor = c.unit == pq::time_unit::millis ? 1 : c.unit == pq::time_unit::micros ? 1'000 : 1'000'000;
        break;
      case pq::column_type::decimal:
        if (c.logical != pq::logical_kind::decimal || c.precision > pq::max_int64_decimal_precision)
          return pw::err(quoted(c.name) + " is not a decimal of precision 18 or less");
        if (c.scale > price::scale || c.scale < 0)
          return pw::err(quoted(c.name) + " has scale " + std::to_string(c.scale) + "; a tick carries at most " +
                         std::to_string(price::scale) + " decimal places");
        factor = pq::pow10_table[static_cast<std::size_t>(price::scale - c.scale)];
        break;
      default:
        return pw::err(quoted(c.name) + " has a type a tick does not use");
    }
    out.indexes.push_back(*at);
    out.factor.push_back(factor);
  }
  return out;
}

std::string_view text_of(std::span<const std::byte> b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// A time statistic in milliseconds (rounded outwards, so that it stays a bound), if present.
pw::option<std::int64_t> time_bound_ms(const pw::option<pq::byte_vector>& v, std::int64_t units_per_ms, bool upper) {
  const auto raw = int64_statistic(v);
  if (!raw) return pw::none;
  std::int64_t q = *raw / units_per_ms;
  const std::int64_t r = *raw % units_per_ms;
  if (r != 0 && (upper ? r > 0 : r < 0)) q += upper ? 1 : -1;
  return q;
}

// Orders a recording's files: by directory, then part number (as a number), then name.
struct rank_key {
  std::string dir;
  std::uint64_t part = 0;
  std::string name;
  friend auto operator<=>(const rank_key&, const rank_key&) = default;
};
rank_key rank_of(const std::string& path) {
  const auto slash = path.rfind('/');
  rank_key k;
  k.dir = slash == std::string::npos ? std::string() : path.substr(0, slash);
  k.name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (const auto p = partition::parse_part_name(k.name); p && !p->temporary) k.part = p->number;
  return k;
}

// The symbols of one file: its statistics when they name one symbol, else its symbol column.
pw::task<pw::result<std::vector<std::string>, std::string>> symbols_of(parquet_file_reader& r, std::size_t column) {
  const pq::file_metadata& meta = r.metadata();
  pw::option<std::string> only;
  bool single = true;
  for (const pq::row_group_info& rg : meta.row_groups) {
    if (rg.num_rows == 0) continue;
    const auto& st = rg.columns[column].statistics;
    if (!st.min_value || !st.max_value || *st.min_value != *st.max_value ||
        (only && *only != text_of(*st.min_value))) {
      single = false;
      break;
    }
    only = std::string(text_of(*st.min_value));
  }
  std::set<std::string> found;
  if (single) {
    if (only) found.insert(*only);
  } else {
    const std::size_t wanted[] = {column};
    for (std::size_t g = 0; g < meta.row_groups.size(); ++g) {
      auto cols = co_await r.read_row_group(g, wanted);
      if (!cols) co_return pw::err(std::move(cols.error()));
      const pq::column_values& v = (*cols)[0];
      for (std::size_t i = 0; i < v.value_count(); ++i) found.emplace(text_of(v.bytes_at(i)));
    }
  }
  for (const std::string& s : found)
    if (!symbol::parse(s))
      co_return pw::err(r.path() + ": column \"symbol\": \"" + s.substr(0, 40) + "\" is not a symbol ([A-Z0-9]{1,20})");
  co_return pw::ok(std::vector<std::string>(found.begin(), found.end()));
}

bool overlaps(const recorded_file& f, const recording_filter& filter) noexcept {
  if (filter.from_ms && f.max_time_ms < *filter.from_ms) return false;
  if (filter.to_ms && f.min_time_ms >= *filter.to_ms) return false;
  return true;
}

}  // namespace

pw::task<pw::result<tick_recording, std::string>> tick_recording::scan(std::string dir, recording_filter filter) {
  auto listed = list_parquet_files(dir);
  if (!listed) co_return pw::err(std::move(listed.error()));
  if (listed->empty()) co_return pw::err(dir + ": no *.parquet file");
  std::vector<std::pair<rank_key, std::string>> ranked;
  for (std::string& p : *listed) ranked.emplace_back(rank_of(p), std::move(p));
  std::sort(ranked.begin(), ranked.end());

  tick_recording rec;
  rec.filter_ = std::move(filter);
  std::set<std::string> streams;
  for (auto& [key, path] : ranked) {
    auto opened = co_await parquet_file_reader::open(path);
    if (!opened) co_return pw::err(std::move(opened.error()));
    parquet_file_reader& r = *opened;
    auto cols = find_tick_columns(r.metadata());
    if (!cols) co_return pw::err(path + ": " + cols.error());
    recorded_file f;
    f.path = path;
    f.kind = cols->kind;
    const std::size_t time_at = time_position(f.kind);
    const std::size_t time_column = cols->indexes[time_at];
    const std::int64_t units_per_ms = cols->factor[time_at];
    bool bounded = true;
    std::int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (const pq::row_group_info& rg : r.metadata().row_groups) {
      if (rg.num_rows <= 0) continue;
      f.rows += static_cast<std::uint64_t>(rg.num_rows);
      const auto& st = rg.columns[time_column].statistics;
      const auto a = time_bound_ms(st.min_value, units_per_ms, false), b = time_bound_ms(st.max_value, units_per_ms, true);
      if (!a || !b) {
        bounded = false;
        continue;
      }
      lo = std::min(lo, *a);
      hi = std::max(hi, *b);
    }
    if (f.rows == 0) continue;
    if (bounded) {
      f.min_time_ms = lo;
      f.max_time_ms = hi;
    }
    if (!overlaps(f, rec.filter_)) continue;
    auto symbols = co_await symbols_of(r, cols->indexes[symbol_position]);
    if (!symbols) co_return pw::err(std::move(symbols.error()));
    for (std::string& s : *symbols)
      if (rec.filter_.symbols.empty() ||
          std::find(rec.filter_.symbols.begin(), rec.filter_.symbols.end(), s) != rec.filter_.symbols.end())
        f.symbols.push_back(std::move(s));
    if (f.symbols.empty()) continue;
    for (const std::string& s : f.symbols) streams.insert(stream_name_of(s, f.kind));
    rec.files_.push_back(std::move(f));
  }
  rec.streams_.assign(streams.begin(), streams.end());
  co_return pw::ok(std::move(rec));
}

bool tick_recording::has_stream(std::string_view name) const noexcept {
  return std::binary_search(streams_.begin(), streams_.end(), name);
}

std::uint64_t tick_recording::rows() const noexcept {
  std::uint64_t n = 0;
  for (const recorded_file& f : files_) n += f.rows;
  return n;
}

// ---------------------------------------------------------------------------------------------
// The merge

namespace {

// One open file of the merge: its current row group and the row it is at.
struct file_cursor {
  std::size_t rank = 0;
  std::int64_t from_ms = INT64_MIN;  // rows before this are skipped
  pw::option<parquet_file_reader> reader;
  tick_columns columns;
  std::size_t next_group = 0;
  std::span<const pq::column_values> values;
  std::size_t row = 0;
  std::size_t rows = 0;
  // The row at `row`, once advance() found it.
  ticks::tick current;
  std::int64_t time_ms = 0;
  // The last symbol seen, its stream name and whether it is wanted (as of `generation`).
  std::string symbol_text;
  ticks::symbol symbol;
  std::string stream;
  bool wanted = false;
  std::uint64_t generation = UINT64_MAX;
};

// Binance's prices are exact at 8 places; a rescaled value past int64 cannot be one.
bool rescale(std::int64_t v, std::int64_t factor, std::int64_t& out) noexcept {
  return !__builtin_mul_overflow(v, factor, &out);
}

}  // namespace

struct tick_merge::state {
  std::shared_ptr<const tick_recording> recording;
  std::vector<std::string> streams;  // sorted: the rows wanted
  std::uint64_t generation = 0;      // bumped when `streams` changes
  std::vector<bool> covered;         // per file: in the merge (pending, open or read)
  std::vector<std::int64_t> join_from_ms;  // per file: its rows before this are skipped
  std::vector<std::size_t> pending;  // files not yet opened, by (first time, rank)
  std::size_t next_pending = 0;
  std::vector<std::unique_ptr<file_cursor>> open;
  std::vector<file_cursor*> heap;      // cursors with a current row: min-heap by (time, rank)
  std::vector<file_cursor*> needs_io;  // cursors whose row group ran out
  std::int64_t last_time_ms = INT64_MIN;
  std::uint64_t taken = 0;
  pw::option<std::string> error;  // a bad row met by pop() or set_streams(), for refill()
  bool failed = false;

  static bool later(const file_cursor* a, const file_cursor* b) noexcept {
    return a->time_ms != b->time_ms ? a->time_ms > b->time_ms : a->rank > b->rank;
  }

  bool wants_stream(std::string_view name) const noexcept {
    return std::binary_search(streams.begin(), streams.end(), name);
  }
  bool wants_file(const recorded_file& f) const {
    return std::any_of(f.symbols.begin(), f.symbols.end(),
                       [&](const std::string& s) { return wants_stream(stream_name_of(s, f.kind)); });
  }

  // Adds the files of wanted streams not yet in the merge; their rows start at `from_ms`.
  void cover(std::int64_t from_ms) {
    const auto& files = recording->files();
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(next_pending));
    next_pending = 0;
    for (std::size_t i = 0; i < files.size(); ++i) {
      if (covered[i] || !wants_file(files[i])) continue;
      covered[i] = true;
      if (from_ms != INT64_MIN && files[i].max_time_ms < from_ms) continue;
      pending.push_back(i);
      join_from_ms[i] = from_ms;
    }
    std::stable_sort(pending.begin(), pending.end(), [&](std::size_t a, std::size_t b) {
      return files[a].min_time_ms != files[b].min_time_ms ? files[a].min_time_ms < files[b].min_time_ms : a < b;
    });
  }

  // Moves `c` to its next row that passes the filter within its row group: false if none.
  pw::result<bool, std::string> advance(file_cursor& c) {
    const recording_filter& filter = recording->filter();
    const std::int64_t from = std::max(c.from_ms, filter.from_ms ? *filter.from_ms : INT64_MIN);
    const std::size_t t_at = time_position(c.columns.kind);
    const std::int64_t units = c.columns.factor[t_at];
    for (; c.row < c.rows; ++c.row) {
      const std::int64_t raw_time = c.values[t_at].int64s[c.row];
      if (raw_time % units != 0)
        return pw::err(where(c, t_at) + "value " + std::to_string(raw_time) + " is not a whole millisecond");
      const std::int64_t t = raw_time / units;
      if (t < from || (filter.to_ms && t >= *filter.to_ms)) continue;
      const std::string_view sym = text_of(c.values[symbol_position].bytes_at(c.row));
      if (c.generation != generation || sym != c.symbol_text) {
        auto parsed = ticks::symbol::parse(sym);
        if (!parsed)
          return pw::err(where(c, symbol_position) + "\"" + std::string(sym.substr(0, 40)) + "\" is not a symbol");
        c.symbol = *parsed;
        c.symbol_text.assign(sym);
        c.stream = stream_name_of(sym, c.columns.kind);
        c.wanted = wants_stream(c.stream);
        c.generation = generation;
      }
      if (!c.wanted) continue;
      if (auto made = make_tick(c, t); !made) return pw::err(std::move(made.error()));
      c.time_ms = t;
      return true;
    }
    return false;
  }

  std::string where(const file_cursor& c, std::size_t position) const {
    const auto& meta = c.reader->metadata();
    return recording->files()[c.rank].path + ": column \"" + meta.columns[c.columns.indexes[position]].name +
           "\", row group " + std::to_string(c.next_group - 1) + ", row " + std::to_string(c.row) + ": ";
  }

  pw::result<void, std::string> make_tick(file_cursor& c, std::int64_t time_ms) {
    const std::size_t r = c.row;
    const auto i64 = [&](std::size_t position) { return c.values[position].int64s[r]; };
    bool ok = true;
    std::size_t bad = 0;
    const auto dec = [&](std::size_t position) {
      std::int64_t v = 0;
      if (!rescale(i64(position), c.columns.factor[position], v) && ok) {
        ok = false;
        bad = position;
      }
      return price::from_raw(v);
    };
    const auto ms = [&](std::size_t position) { return i64(position) / c.columns.factor[position]; };
    switch (c.columns.kind) {
      case message_kind::trade: {
        namespace s = pq::ticks;
        c.current = trade{.symbol = c.symbol,
                          .event_time_ms = time_ms,
                          .trade_id = i64(s::trades_trade_id),
                          .price = dec(s::trades_price),
                          .quantity = dec(s::trades_quantity),
                          .trade_time_ms = ms(s::trades_trade_time),
                          .buyer_is_maker = c.values[s::trades_is_buyer_maker].booleans[r] != 0,
                          .sent_ns = pw::none};
        break;
      }
      case message_kind::agg_trade: {
        namespace s = pq::ticks;
        c.current = agg_trade{.symbol = c.symbol,
                              .event_time_ms = time_ms,
                              .agg_trade_id = i64(s::agg_trades_agg_trade_id),
                              .price = dec(s::agg_trades_price),
                              .quantity = dec(s::agg_trades_quantity),
                              .first_trade_id = i64(s::agg_trades_first_trade_id),
                              .last_trade_id = i64(s::agg_trades_last_trade_id),
                              .trade_time_ms = ms(s::agg_trades_trade_time),
                              .buyer_is_maker = c.values[s::agg_trades_is_buyer_maker].booleans[r] != 0,
                              .sent_ns = pw::none};
        break;
      }
      case message_kind::book_ticker: {
        namespace s = pq::ticks;
        c.current = book_ticker{.symbol = c.symbol,
                                .update_id = i64(s::book_ticker_update_id),
                                .bid_price = dec(s::book_ticker_bid_price),
                                .bid_quantity = dec(s::book_ticker_bid_qty),
                                .ask_price = dec(s::book_ticker_ask_price),
                                .ask_quantity = dec(s::book_ticker_ask_qty),
                                .event_time_ms = time_ms,
                                .sent_ns = pw::none};
        break;
      }
    }
    if (!ok) return pw::err(where(c, bad) + "the value does not fit at 8 decimal places");
    return pw::ok();
  }

  // Reads `c`'s row groups from its next one until one has a row that passes: false at the end.
  pw::task<pw::result<bool, std::string>> load(file_cursor& c) {
    const recording_filter& filter = recording->filter();
    const pq::file_metadata& meta = c.reader->metadata();
    const std::size_t t_at = time_position(c.columns.kind);
    const std::int64_t from = std::max(c.from_ms, filter.from_ms ? *filter.from_ms : INT64_MIN);
    while (c.next_group < meta.row_groups.size()) {
      const pq::row_group_info& rg = meta.row_groups[c.next_group++];
      if (rg.num_rows <= 0) continue;
      const auto& st = rg.columns[c.columns.indexes[t_at]].statistics;
      const auto lo = time_bound_ms(st.min_value, c.columns.factor[t_at], false);
      const auto hi = time_bound_ms(st.max_value, c.columns.factor[t_at], true);
      if (hi && *hi < from) continue;
      if (lo && filter.to_ms && *lo >= *filter.to_ms) continue;
      auto got = co_await c.reader->read_row_group(c.next_group - 1, c.columns.indexes);
      if (!got) co_return pw::err(std::move(got.error()));
      // Decoding is the CPU work of a whole row group: other tasks get the worker after each.
      co_await pw::yield_now();
      c.values = *got;
      c.rows = static_cast<std::size_t>(rg.num_rows);
      for (std::size_t p = 0; p < c.values.size(); ++p) {
        const pq::column_values& v = c.values[p];
        if (v.rows() != c.rows || v.value_count() != c.rows) {
          c.row = 0;
          co_return pw::err(where(c, p) + "null values or a row count other than the row group's (" +
                            std::to_string(v.value_count()) + " values, " + std::to_string(c.rows) + " rows)");
        }
      }
      c.row = 0;
      auto found = advance(c);
      if (!found) co_return pw::err(std::move(found.error()));
      if (*found) co_return true;
    }
    co_return false;
  }

  void close(file_cursor* c) {
    std::erase_if(open, [c](const std::unique_ptr<file_cursor>& p) { return p.get() == c; });
  }

  void push(file_cursor* c) {
    heap.push_back(c);
    std::push_heap(heap.begin(), heap.end(), later);
  }

  // After advance() failed on `c`: the error waits for refill(); the merge stops here.
  void hold_error(file_cursor* c, std::string e) {
    error = std::move(e);
    close(c);
  }

  pw::task<pw::result<void, std::string>> refill() {
    if (error) co_return pw::err(std::move(*error));
    std::vector<file_cursor*> again;
    again.swap(needs_io);
    const auto& files = recording->files();
    for (file_cursor* c : again) {
      if (!wants_file(files[c->rank])) {
        covered[c->rank] = false;  // unsubscribed meanwhile; a later SUBSCRIBE covers it again
        close(c);
        continue;
      }
      auto found = co_await load(*c);
      if (!found) co_return pw::err(std::move(found.error()));
      if (*found)
        push(c);
      else
        close(c);
    }
    while (next_pending < pending.size()) {
      const std::size_t f = pending[next_pending];
      if (!heap.empty() && files[f].min_time_ms > heap.front()->time_ms) break;
      ++next_pending;
      if (!wants_file(files[f])) {
        covered[f] = false;
        continue;
      }
      auto opened = co_await parquet_file_reader::open(files[f].path);
      if (!opened) co_return pw::err(std::move(opened.error()));
      auto cols = find_tick_columns(opened->metadata());
      if (!cols) co_return pw::err(files[f].path + ": " + cols.error());
      auto c = std::make_unique<file_cursor>();
      c->rank = f;
      c->from_ms = join_from_ms[f];
      c->reader.emplace(std::move(*opened));
      c->columns = std::move(*cols);
      auto found = co_await load(*c);
      if (!found) co_return pw::err(std::move(found.error()));
      if (*found) {
        push(c.get());
        open.push_back(std::move(c));
      }
    }
    co_return pw::ok();
  }
};

tick_merge::tick_merge(std::shared_ptr<const tick_recording> recording, std::span<const std::string> streams)
    : s_(std::make_unique<state>()) {
  s_->recording = std::move(recording);
  s_->covered.assign(s_->recording->files().size(), false);
  s_->join_from_ms.assign(s_->recording->files().size(), INT64_MIN);
  s_->streams.assign(streams.begin(), streams.end());
  std::sort(s_->streams.begin(), s_->streams.end());
  s_->cover(INT64_MIN);
}

tick_merge::~tick_merge() = default;
tick_merge::tick_merge(tick_merge&&) noexcept = default;
tick_merge& tick_merge::operator=(tick_merge&&) noexcept = default;

bool tick_merge::ready() const noexcept {
  const state& s = *s_;
  if (s.failed || s.error || !s.needs_io.empty() || s.heap.empty()) return false;
  if (s.next_pending == s.pending.size()) return true;
  return s.recording->files()[s.pending[s.next_pending]].min_time_ms > s.heap.front()->time_ms;
}

bool tick_merge::done() const noexcept {
  const state& s = *s_;
  return s.failed || (!s.error && s.heap.empty() && s.needs_io.empty() && s.next_pending == s.pending.size());
}

pw::task<pw::result<void, std::string>> tick_merge::refill() {
  auto r = co_await s_->refill();
  if (!r) {
    s_->failed = true;
    s_->heap.clear();
    s_->needs_io.clear();
    s_->open.clear();
  }
  co_return r;
}

const ticks::tick& tick_merge::front() const noexcept { return s_->heap.front()->current; }
std::string_view tick_merge::front_stream() const noexcept { return s_->heap.front()->stream; }
std::int64_t tick_merge::front_time_ms() const noexcept { return s_->heap.front()->time_ms; }

void tick_merge::pop() {
  state& s = *s_;
  std::pop_heap(s.heap.begin(), s.heap.end(), state::later);
  file_cursor* c = s.heap.back();
  s.heap.pop_back();
  s.last_time_ms = c->time_ms;
  ++s.taken;
  ++c->row;
  auto found = s.advance(*c);
  if (!found)
    s.hold_error(c, std::move(found.error()));
  else if (*found)
    s.push(c);
  else if (c->next_group < c->reader->metadata().row_groups.size())
    s.needs_io.push_back(c);
  else
    s.close(c);
}

void tick_merge::set_streams(std::span<const std::string> streams) {
  state& s = *s_;
  s.streams.assign(streams.begin(), streams.end());
  std::sort(s.streams.begin(), s.streams.end());
  ++s.generation;
  s.cover(s.last_time_ms);
  // Cursors re-judge their current row's stream: one now unwanted moves on.
  std::vector<file_cursor*> current;
  current.swap(s.heap);
  const auto& files = s.recording->files();
  for (file_cursor* c : current) {
    if (s.wants_stream(c->stream)) {
      s.push(c);
      continue;
    }
    if (!s.wants_file(files[c->rank])) {
      // None of its streams is wanted now: a later SUBSCRIBE covers it again.
      s.covered[c->rank] = false;
      s.close(c);
      continue;
    }
    ++c->row;
    auto found = s.advance(*c);
    if (!found)
      s.hold_error(c, std::move(found.error()));
    else if (*found)
      s.push(c);
    else if (c->next_group < c->reader->metadata().row_groups.size())
      s.needs_io.push_back(c);
    else
      s.close(c);
  }
}

std::uint64_t tick_merge::taken() const noexcept { return s_->taken; }

}  // namespace ticks::app
