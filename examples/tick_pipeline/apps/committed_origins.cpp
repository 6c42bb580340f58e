#include "committed_origins.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <string_view>
#include <unordered_map>

#include <polarway/runtime.hpp>
#include <utility>

#include "committed_ids.hpp"
#include "parquet_file_reader.hpp"
#include "previous_output.hpp"
#include "ticks/parquet_partition.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

// The partition, last origin and settled sequence one part file names in its footer.
struct file_origin {
  committed_origin partition;
  std::uint64_t settled = 0;
};

pw::task<pw::result<file_origin, std::string>> read_file_origin(std::string path, const std::string& label) {
  auto file = co_await parquet_file_reader::open(path);
  if (!file) co_return pw::err(std::move(file.error()));
  std::unordered_map<std::string_view, std::string_view> kv;
  for (const auto& entry : file->metadata().key_value_metadata) kv.emplace(entry.key, entry.value);
  const auto value = [&kv](const char* key) -> std::string_view {
    const auto at = kv.find(key);
    return at == kv.end() ? std::string_view() : at->second;
  };
  if (value(origin_label_key) != label)
    co_return pw::err(path + ": not written from " + label + " (its " + origin_label_key + " is '" +
                      std::string(value(origin_label_key)) + "'): use a directory of its own");
  const auto kind = parse_message_kind(value("polarway.stream"));
  auto sym = symbol::parse(value("polarway.symbol"));
  const auto day = partition::parse_date(value("polarway.date"));
  const auto last = parse_row_origin(value(origin_last_key));
  // "seq:0" parses a bare sequence number with the same checks.
  const auto settled = parse_row_origin(std::string(value(origin_settled_key)) + ":0");
  if (!kind || !sym || !day || !last || !settled)
    co_return pw::err(path + ": its footer does not name its partition, last origin and settled sequence");
  file_origin out{committed_origin{*kind, *sym, *day, *last, {}}, settled->seq};
  if (*kind != message_kind::book_ticker) {
    auto ids = read_part_file_ids(*file, *kind);
    if (!ids) co_return pw::err(std::move(ids).error());
    if (ids->span() == ids->rows) out.partition.full_id_ranges.emplace_back(ids->min, ids->max);
  }
  co_return out;
}

struct partition_hash {
  std::size_t operator()(const committed_origin& p) const noexcept {
    std::size_t h = std::hash<std::string_view>{}(p.sym.view());
    return h ^ (static_cast<std::size_t>(p.day) << 2) ^ static_cast<std::size_t>(p.kind);
  }
};
struct same_partition {
  bool operator()(const committed_origin& a, const committed_origin& b) const noexcept {
    return a.kind == b.kind && a.sym == b.sym && a.day == b.day;
  }
};

}  // namespace

pw::task<pw::result<void, std::string>> save_bus_position(std::string dir, std::string label, std::uint64_t settled) {
  // Named before the co_await: g++ 12 mishandles closures that own memory in co_await expressions.
  auto saving = pw::spawn_blocking([dir = std::move(dir), label = std::move(label), settled]() -> pw::result<void, std::string> {
    const std::string path = dir + "/" + bus_position_file;
    const std::string temp = path + ".tmp";
    const std::string text = label + "\n" + std::to_string(settled) + "\n";
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return pw::err(temp + ": " + std::strerror(errno));
    const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!written) return pw::err(temp + ": " + std::strerror(saved));
    if (::rename(temp.c_str(), path.c_str()) != 0) return pw::err(path + ": " + std::strerror(errno));
    const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d < 0 || ::fsync(d) != 0) {
      const int why = errno;
      if (d >= 0) ::close(d);
      return pw::err(dir + ": " + std::strerror(why));
    }
    ::close(d);
    return pw::ok();
  });
  auto saved = co_await std::move(saving);
  if (!saved) co_return pw::err(std::string("saving the bus position was cancelled"));
  co_return std::move(*saved);
}

namespace {

// The settled sequence the position file in `dir` records for `label`; 0 without a file.
pw::result<std::uint64_t, std::string> read_bus_position(const std::string& dir, const std::string& label) {
  const std::string path = dir + "/" + bus_position_file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::uint64_t{0};
    return pw::err(path + ": " + std::strerror(errno));
  }
  char buf[512];
  const ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return pw::err(path + ": " + std::strerror(errno));
  const std::string_view text(buf, static_cast<std::size_t>(n));
  const std::size_t first = text.find('\n');
  const std::size_t second = first == std::string_view::npos ? first : text.find('\n', first + 1);
  if (second == std::string_view::npos || second + 1 != text.size())
    return pw::err(path + ": not a position file (two lines: the label, the settled sequence)");
  if (text.substr(0, first) != label)
    return pw::err(path + ": the position of '" + std::string(text.substr(0, first)) + "', not of " + label +
                   ": use a directory of its own");
  const auto settled = parse_row_origin(std::string(text.substr(first + 1, second - first - 1)) + ":0");
  if (!settled) return pw::err(path + ": its settled sequence is not a number");
  return settled->seq;
}

}  // namespace

pw::task<pw::result<committed_origins, std::string>> read_committed_origins(std::string dir, std::string label) {
  auto scanned = scan_previous_output(dir);
  if (!scanned) co_return pw::err(std::move(scanned.error()));
  // Per partition, the greatest last origin of its files, and their full id ranges.
  std::unordered_map<committed_origin, committed_origin, partition_hash, same_partition> last;
  committed_origins out;
  for (const std::string& path : scanned->files) {
    const auto slash = path.rfind('/');
    const auto part = partition::parse_part_name(std::string_view(path).substr(slash + 1));
    if (!part || part->temporary) continue;
    auto origin = co_await read_file_origin(path, label);
    if (!origin) co_return pw::err(std::move(origin.error()));
    const committed_origin& p = origin->partition;
    auto [at, added] = last.try_emplace(p, p);
    if (!added) {
      if (at->second.last < p.last) at->second.last = p.last;
      at->second.full_id_ranges.insert(at->second.full_id_ranges.end(), p.full_id_ranges.begin(),
                                       p.full_id_ranges.end());
    }
    if (origin->settled > out.settled) out.settled = origin->settled;
    ++out.files;
  }
  auto position = read_bus_position(dir, label);
  if (!position) co_return pw::err(std::move(position).error());
  if (*position > out.settled) out.settled = *position;
  for (const auto& [partition, greatest] : last) out.partitions.push_back(greatest);
  co_return out;
}

}  // namespace ticks::app
