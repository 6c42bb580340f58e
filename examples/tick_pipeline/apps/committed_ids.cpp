#include "committed_ids.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <span>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <pw_parquet/footer_reader.hpp>

#include "previous_output.hpp"
#include "ticks/parquet_partition.hpp"

namespace ticks::app {

namespace pw = polarway;
namespace pq = pw_parquet;

namespace {

// <dir>/<stream>/symbol=<S>/date=<D>/part-<n>.parquet -> (kind, symbol); none for bookTicker
// (not sequenced). scan_previous_output checked the layout, so the components are there.
pw::option<stream_key> stream_of(std::string_view path) {
  std::array<std::string_view, 4> last{};  // the part file, date=, symbol=, the stream
  for (std::string_view& c : last) {
    const auto slash = path.rfind('/');
    c = slash == std::string_view::npos ? path : path.substr(slash + 1);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
  }
  std::string_view symbol_dir = last[2];
  symbol_dir.remove_prefix(std::min(symbol_dir.size(), std::string_view("symbol=").size()));
  const auto kind = parse_message_kind(last[3]);
  auto symbol = ticks::symbol::parse(symbol_dir);
  if (!kind || *kind == message_kind::book_ticker || !symbol) return pw::none;
  return stream_key{*kind, *symbol};
}

// What a stream's part files hold together, `files` sorted by their first id.
committed_stream summarize(const stream_key& key, std::vector<part_file_ids>& files) {
  std::sort(files.begin(), files.end(), [](const part_file_ids& a, const part_file_ids& b) { return a.min < b.min; });
  committed_stream s{.key = key, .first_id = files.front().min, .last_id = files.front().max};
  for (std::size_t i = 0; i < files.size(); ++i) {
    const part_file_ids& f = files[i];
    // Ids between the ranges covered so far and this file's first one.
    const std::uint64_t step = static_cast<std::uint64_t>(f.min) - static_cast<std::uint64_t>(s.last_id);
    if (i > 0 && f.min > s.last_id && step > 1) s.ids_missing += step - 1;
    // Inside the file, ids its range spans but its rows cannot all fill.
    if (f.span() > f.rows) s.ids_missing += f.span() - f.rows;
    s.last_id = std::max(s.last_id, f.max);
    s.rows += f.rows;
  }
  return s;
}

std::string_view id_column(message_kind k) { return k == message_kind::trade ? "trade_id" : "agg_trade_id"; }

}  // namespace

pw::result<part_file_ids, std::string> read_part_file_ids(const parquet_file_reader& file, message_kind kind) {
  const std::string& path = file.path();
  const std::string_view name = id_column(kind);
  const auto index = file.column_index(name);
  if (!index || file.metadata().columns[*index].physical != pq::format::physical_type::int64)
    return pw::err(path + ": no int64 column \"" + std::string(name) + "\"");
  part_file_ids ids;
  bool any = false;
  for (const pq::row_group_info& rg : file.metadata().row_groups) {
    if (rg.num_rows == 0) continue;
    const auto& stats = rg.columns[*index].statistics;
    const auto lo = int64_statistic(stats.min_value), hi = int64_statistic(stats.max_value);
    if (!lo || !hi || *lo > *hi)
      return pw::err(path + ": column \"" + std::string(name) + "\" has no min/max statistics to resume from");
    ids.min = any ? std::min(ids.min, *lo) : *lo;
    ids.max = any ? std::max(ids.max, *hi) : *hi;
    ids.rows += static_cast<std::uint64_t>(rg.num_rows);
    any = true;
  }
  if (!any) return pw::err(path + ": a part file with no rows");
  return ids;
}

pw::task<pw::result<committed_ids, std::string>> read_committed_ids(std::string dir) {
  auto scanned = scan_previous_output(dir);
  if (!scanned) co_return pw::err(std::move(scanned.error()));
  std::unordered_map<stream_key, std::vector<part_file_ids>, stream_key_hash> by_stream;
  committed_ids out;
  for (const std::string& path : scanned->files) {
    const auto slash = path.rfind('/');
    const auto part = partition::parse_part_name(std::string_view(path).substr(slash + 1));
    if (!part || part->temporary) continue;  // the sink's open() already swept temporaries
    const auto key = stream_of(path);
    if (!key) continue;
    auto file = co_await parquet_file_reader::open(path);
    if (!file) co_return pw::err(std::move(file.error()));
    auto ids = read_part_file_ids(*file, key->kind);
    if (!ids) co_return pw::err(std::move(ids.error()));
    by_stream[*key].push_back(*ids);
    ++out.files;
  }
  for (auto& [key, files] : by_stream) {
    out.streams.push_back(summarize(key, files));
    out.ids_missing += out.streams.back().ids_missing;
  }
  co_return out;
}

}  // namespace ticks::app
