#include "trade_query.hpp"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <mutex>
#include <system_error>
#include <utility>

#include <polarway/sync/join_set.hpp>
#include <polarway/sync/semaphore.hpp>
#include <pw_parquet/decimal.hpp>

#include "parquet_file_reader.hpp"
#include "ticks/json_text.hpp"

namespace ticks::app {

namespace pw = polarway;
namespace pq = pw_parquet;
namespace fs = std::filesystem;

namespace {

// One set of row-group buffers per file being read: a file's task takes a set as it starts and
// gives it back as it ends, so that the sets are allocated for the first files and reused, grown
// to the largest row group, by all the others. The permits cap the sets in use.
class buffer_pool {
 public:
  class lease {
   public:
    lease(buffer_pool& pool, std::unique_ptr<row_group_buffers> b) : pool_(&pool), buffers_(std::move(b)) {}
    lease(lease&&) = delete;
    ~lease() { pool_->give(std::move(buffers_)); }
    row_group_buffers& operator*() const noexcept { return *buffers_; }

   private:
    buffer_pool* pool_;
    std::unique_ptr<row_group_buffers> buffers_;
  };

  std::unique_ptr<row_group_buffers> take() {
    std::lock_guard<std::mutex> guard(lock_);
    if (free_.empty()) return std::make_unique<row_group_buffers>();
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }

 private:
  void give(std::unique_ptr<row_group_buffers> b) {
    std::lock_guard<std::mutex> guard(lock_);
    free_.push_back(std::move(b));
  }

  std::mutex lock_;
  std::vector<std::unique_ptr<row_group_buffers>> free_;
};

// One file's share of the query.
struct file_part {
  trade_aggregate aggregate;
  std::uint64_t row_groups_read = 0, row_groups_skipped = 0, bytes_read = 0;
};

pw::task<pw::result<file_part, std::string>> aggregate_file(std::string path, const trade_query_options* options,
                                                            pw::semaphore_permit permit, buffer_pool* pool) {
  // The permit and the buffers are given back when this frame is freed, which the runtime does
  // as the task ends, before join_next can report it.
  (void)permit;
  const buffer_pool::lease buffers(*pool, pool->take());
  auto file = co_await parquet_file_reader::open(path, *buffers);
  if (!file) co_return pw::err(std::move(file.error()));
  auto columns = trade_columns::find(file->metadata(), options->time_column);
  if (!columns) co_return pw::err(path + ": " + columns.error());
  file_part part;
  const std::vector<std::size_t> wanted = columns->wanted();
  for (std::size_t rg = 0; rg < file->metadata().row_groups.size(); ++rg) {
    if (ruled_out(file->metadata().row_groups[rg], *columns, options->filter)) {
      ++part.row_groups_skipped;
      continue;
    }
    auto cols = co_await file->read_row_group(rg, wanted);
    if (!cols) co_return pw::err(std::move(cols.error()));
    if (auto added = part.aggregate.add(*cols, *columns, options->filter); !added)
      co_return pw::err(path + ": " + added.error());
    ++part.row_groups_read;
  }
  part.bytes_read = file->bytes_read();
  co_return pw::ok(std::move(part));
}

}  // namespace

pw::result<std::vector<std::string>, std::string> list_parquet_files(const std::string& path) {
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec) return pw::err(path + ": " + ec.message());
  if (fs::is_regular_file(st)) return std::vector<std::string>{path};
  if (!fs::is_directory(st)) return pw::err(path + ": neither a file nor a directory");
  std::vector<std::string> files;
  fs::recursive_directory_iterator it(path, ec), end;
  if (ec) return pw::err(path + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) break;
    const fs::path& p = it->path();
    const std::string name = p.filename().string();
    if (name.starts_with('.')) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (p.extension() == ".parquet" && it->is_regular_file(ec)) files.push_back(p.string());
  }
  if (ec) return pw::err(path + ": " + ec.message());
  std::sort(files.begin(), files.end());
  return files;
}

pw::task<pw::result<trade_query_result, std::string>> run_trade_query(trade_query_options options) {
  trade_query_result out;
  buffer_pool buffers;  // outlives `reads`, whose tasks lease from it
  pw::semaphore permits(std::max<std::size_t>(options.concurrency, 1));
  pw::join_set<pw::result<file_part, std::string>> reads;
  pw::option<std::string> failure;
  const auto take = [&](pw::result<pw::result<file_part, std::string>, pw::join_error>& joined) {
    if (!joined) {
      failure = std::string("a file read ended without a result: ") + joined.error().message();
    } else if (!*joined) {
      failure = std::move(joined->error());
    } else {
      if (auto merged = out.aggregate.merge((*joined)->aggregate); !merged) failure = std::move(merged.error());
      out.row_groups_read += (*joined)->row_groups_read;
      out.row_groups_skipped += (*joined)->row_groups_skipped;
      out.bytes_read += (*joined)->bytes_read;
      ++out.files;
    }
  };
  for (std::string& path : options.files) {
    auto permit = co_await permits.acquire();
    if (!permit) break;  // never closed
    reads.spawn(aggregate_file(std::move(path), &options, std::move(*permit), &buffers));
    while (!failure) {
      auto done = reads.try_join_next();
      if (!done) break;
      take(*done);
    }
    if (failure) break;
  }
  while (!failure) {
    auto done = co_await reads.join_next();
    if (!done) break;
    take(*done);
  }
  if (failure) {
    co_await reads.shutdown();
    co_return pw::err(std::move(*failure));
  }
  co_return pw::ok(std::move(out));
}

std::string trade_query_json(const trade_query_result& r) {
  std::string s = "{\"groups\":[";
  bool first = true;
  for (const auto& [key, t] : r.aggregate.groups()) {
    if (!first) s += ',';
    first = false;
    const auto vwap = t.vwap();
    s += "{\"symbol\":";
    ticks::append_json_string(s, key.symbol);
    s += ",\"day\":\"" + day_text(key.day) +
         "\",\"count\":" + std::to_string(t.count) + ",\"sum_price\":\"" + pq::format_decimal(t.sum_price, t.scale) +
         "\",\"sum_quantity\":\"" + pq::format_decimal(t.sum_quantity, t.scale) + "\",\"notional\":\"" +
         pq::format_decimal(t.notional, t.notional_scale) + "\",\"vwap\":" +
         (vwap ? "\"" + pq::format_decimal(*vwap, t.scale) + "\"" : std::string("null")) + ",\"min_price\":\"" +
         pq::format_decimal(t.min_price, t.scale) + "\",\"max_price\":\"" + pq::format_decimal(t.max_price, t.scale) +
         "\",\"first_time\":\"" + time_text(t.first_time_ns) + "\",\"last_time\":\"" + time_text(t.last_time_ns) + "\"}";
  }
  s += "],\"files\":" + std::to_string(r.files) + ",\"row_groups_read\":" + std::to_string(r.row_groups_read) +
       ",\"row_groups_skipped\":" + std::to_string(r.row_groups_skipped) +
       ",\"rows_read\":" + std::to_string(r.aggregate.rows_seen()) +
       ",\"rows_matched\":" + std::to_string(r.aggregate.rows_matched()) +
       ",\"nulls_skipped\":" + std::to_string(r.aggregate.nulls_skipped()) +
       ",\"bytes_read\":" + std::to_string(r.bytes_read) + "}\n";
  return s;
}

std::string trade_query_table(const trade_query_result& r) {
  std::vector<std::vector<std::string>> rows{{"symbol", "day", "count", "vwap", "min_price", "max_price",
                                              "sum_quantity", "notional", "first_time", "last_time"}};
  for (const auto& [key, t] : r.aggregate.groups()) {
    const auto vwap = t.vwap();
    rows.push_back({key.symbol, day_text(key.day), std::to_string(t.count),
                    vwap ? pq::format_decimal(*vwap, t.scale) : std::string("-"), pq::format_decimal(t.min_price, t.scale),
                    pq::format_decimal(t.max_price, t.scale), pq::format_decimal(t.sum_quantity, t.scale),
                    pq::format_decimal(t.notional, t.notional_scale), time_text(t.first_time_ns),
                    time_text(t.last_time_ns)});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& row : rows)
    for (std::size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string s;
  for (const auto& row : rows) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      // Text left, numbers right; nothing trails the last column.
      const bool last = i + 1 == row.size();
      const std::string pad(width[i] - row[i].size(), ' ');
      const bool left = i < 2 || i >= 8;
      s += left ? row[i] + (last ? "" : pad) : pad + row[i];
      s += last ? "\n" : "  ";
    }
  }
  return s;
}

}  // namespace ticks::app
