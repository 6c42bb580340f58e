// Whole-path file-system operations, awaited: rename (atomic replace within a filesystem),
// remove (a file), create_dir_all (every missing directory of a path). On io_uring they are
// ring operations where the kernel has them; elsewhere they run on the blocking pool.
#pragma once

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>

#include "polarway/detail/file_call.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::fs {

/// Renames `from` to `to`, replacing `to` atomically if it exists.
inline task<result<void>> rename(std::string from, std::string to) {
  const int rc = co_await detail::file_call(
      IORING_OP_RENAMEAT,
      [&](io_uring_sqe* sqe) { io_uring_prep_renameat(sqe, AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), 0); },
      [&]() noexcept { return detail::neg_errno(::rename(from.c_str(), to.c_str())); });
  if (rc < 0) co_return err(error::from_errno(-rc, "fs::rename"));
  co_return ok();
}

/// Removes the file `path` (not a directory).
inline task<result<void>> remove(std::string path) {
  const int rc = co_await detail::file_call(
      IORING_OP_UNLINKAT, [&](io_uring_sqe* sqe) { io_uring_prep_unlinkat(sqe, AT_FDCWD, path.c_str(), 0); },
      [&]() noexcept { return detail::neg_errno(::unlink(path.c_str())); });
  if (rc < 0) co_return err(error::from_errno(-rc, "fs::remove"));
  co_return ok();
}

/// Creates `path` and every missing parent (mode 0755). An existing directory is fine; an
/// existing non-directory in the way is ENOTDIR / EEXIST.
inline task<result<void>> create_dir_all(std::string path) {
  constexpr const char* what = "fs::create_dir_all";
  if (path.empty()) co_return err(error(errc::invalid_input, "fs::create_dir_all: empty path"));
  for (std::size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    std::string prefix = path.substr(0, pos);
    if (prefix.back() == '/') continue;
    const int rc = co_await detail::file_call(
        IORING_OP_MKDIRAT, [&](io_uring_sqe* sqe) { io_uring_prep_mkdirat(sqe, AT_FDCWD, prefix.c_str(), 0755); },
        [&]() noexcept { return detail::neg_errno(::mkdir(prefix.c_str(), 0755)); });
    if (rc == -EEXIST) {
      struct stat st{};
      if (::stat(prefix.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) continue;  // already there
      co_return err(error::from_errno(pos == path.size() ? EEXIST : ENOTDIR, what));
    }
    if (rc < 0) co_return err(error::from_errno(-rc, what));
  }
  co_return ok();
}

}  // namespace polarway::fs
