#include "previous_output.hpp"

#include "committed_origins.hpp"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "ticks/parquet_partition.hpp"
#include "ticks/parquet_sink.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

std::string join(const std::string& dir, std::string_view name) {
  std::string p = dir;
  if (p.empty() || p.back() != '/') p += '/';
  p += name;
  return p;
}

std::string errno_text(const std::string& path, int e) { return path + ": " + std::strerror(e); }

std::string foreign(const std::string& path) {
  return path + " is not part of the Parquet sink's output (only an empty directory or one holding "
                "nothing but an earlier run's part files is used; choose another --out)";
}

enum class kind { dir, file, other };

pw::result<kind, std::string> kind_of(const std::string& path) {
  struct stat st{};
  if (::lstat(path.c_str(), &st) != 0) return pw::err(errno_text(path, errno));
  if (S_ISDIR(st.st_mode)) return kind::dir;
  if (S_ISREG(st.st_mode)) return kind::file;
  return kind::other;  // symlinks too: never followed, never removed
}

// Calls f(name) for each entry of `dir` but . and ..; stops at the first error f returns.
template <class F>
pw::result<void, std::string> each_entry(const std::string& dir, F&& f) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return pw::err(errno_text(dir, errno));
  pw::result<void, std::string> r = pw::ok();
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (r = f(name); !r) break;
  }
  ::closedir(d);
  return r;
}

// One level of <root>/<stream>/symbol=<S>/date=<D>/<part> (level 0: the root): every entry must
// be the next level's kind of name, or the scan fails.
pw::result<void, std::string> scan_level(const std::string& dir, int level, previous_output& out) {
  return each_entry(dir, [&](std::string_view name) -> pw::result<void, std::string> {
    const std::string path = join(dir, name);
    auto k = kind_of(path);
    if (!k) return pw::err(k.error());
    if (level == 3) {  // inside date=<D>/
      auto part = partition::parse_part_name(name);
      if (*k != kind::file || !part) return pw::err(foreign(path));
      out.files.push_back(path);
      if (!part->temporary) ++out.part_files;
      return pw::ok();
    }
    bool ok = *k == kind::dir;
    if (level == 0) {
      if (*k == kind::file && name == parquet_sink_lock_file) return pw::ok();
      // polarway-sink's position on the bus (committed_origins.hpp), and its temporary.
      if (*k == kind::file && (name == bus_position_file || name == std::string(bus_position_file) + ".tmp")) {
        out.files.push_back(path);
        return pw::ok();
      }
      ok = ok && (name == partition::stream_dir(message_kind::trade) ||
                  name == partition::stream_dir(message_kind::agg_trade) ||
                  name == partition::stream_dir(message_kind::book_ticker));
    } else if (level == 1) {
      ok = ok && partition::is_symbol_dir_name(name);
    } else {
      ok = ok && partition::is_date_dir_name(name);
    }
    if (!ok) return pw::err(foreign(path));
    if (auto below = scan_level(path, level + 1, out); !below) return below;
    out.dirs.push_back(path);  // after its children: deepest first
    return pw::ok();
  });
}

}  // namespace

pw::result<previous_output, std::string> scan_previous_output(const std::string& dir) {
  previous_output out;
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return out;
    return pw::err(errno_text(dir, errno));
  }
  if (!S_ISDIR(st.st_mode)) return pw::err(dir + " is not a directory");
  if (auto r = scan_level(dir, 0, out); !r) return pw::err(r.error());
  return out;
}

pw::result<void, std::string> remove_previous_output(const previous_output& p) {
  for (const std::string& f : p.files)
    if (::unlink(f.c_str()) != 0 && errno != ENOENT) return pw::err(errno_text(f, errno));
  // A directory the sink has written into again since the scan is not empty: it stays.
  for (const std::string& d : p.dirs)
    if (::rmdir(d.c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
      return pw::err(errno_text(d, errno));
  return pw::ok();
}

}  // namespace ticks::app
