// pw::fs::file: a file opened for asynchronous reads and writes (io_uring operations, or the
// blocking pool on the epoll backend). Positional calls (read_at, write_at) leave the position
// alone; read, write and write_all use and advance it. The position is kept in the file object
// and every transfer is positional (except appends, which the kernel places at the end): the
// kernel's own file offset is not trusted across io_uring writes that fail half way (after a
// short write followed by EFBIG it was seen not to advance, so a retry rewrote the same bytes). Every failure is a pw::error
// carrying the errno (ENOENT, EACCES, EISDIR, ENOSPC, EFBIG, ...) and the operation's name.
// Operations are not cancel-safe beyond the kernel's own guarantee: an aborted write may have
// written a prefix.
#pragma once

#include <fcntl.h>
#include <liburing.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <utility>

#include "polarway/detail/file_call.hpp"
#include "polarway/error.hpp"
#include "polarway/result.hpp"
#include "polarway/task.hpp"

namespace polarway::fs {

/// How to open a file; fields in this order, for designated initializers:
///   pw::fs::open_options{.write = true, .create = true, .truncate... }
struct open_options {
  bool read = false;
  bool write = false;
  bool append = false;
  bool truncate = false;
  bool create = false;
  bool create_new = false;  // fail with EEXIST if the file exists
  mode_t mode = 0644;

  /// The open(2) flags, or invalid_input for a combination that makes no sense (as Rust's
  /// OpenOptions refuses them): nothing to do, truncate or create without write access,
  /// truncate together with append.
  result<int> to_flags() const {
    constexpr const char* what = "fs::open_options";
    if (!read && !write && !append) return err(error(errc::invalid_input, "fs::open_options: set read, write or append"));
    if (truncate && append) return err(error(errc::invalid_input, "fs::open_options: truncate and append together"));
    if ((truncate || create || create_new) && !write && !append)
      return err(error(errc::invalid_input, "fs::open_options: truncate or create without write access"));
    (void)what;
    int flags = O_CLOEXEC;
    flags |= (read && !(write || append)) ? O_RDONLY : (!read ? O_WRONLY : O_RDWR);
    if (append) flags |= O_APPEND;
    if (truncate) flags |= O_TRUNC;
    if (create_new) flags |= O_CREAT | O_EXCL;
    else if (create) flags |= O_CREAT;
    return flags;
  }
};

class file {
 public:
  file() noexcept = default;
  file(file&& o) noexcept
      : fd_(std::exchange(o.fd_, -1)), pos_(std::exchange(o.pos_, 0)), append_(std::exchange(o.append_, false)) {}
  file& operator=(file&& o) noexcept {
    if (this != &o) {
      close_now();
      fd_ = std::exchange(o.fd_, -1);
      pos_ = std::exchange(o.pos_, 0);
      append_ = std::exchange(o.append_, false);
    }
    return *this;
  }
  /// Closes synchronously if close() was not awaited.
  ~file() { close_now(); }

  /// Opens `path` with `options`.
  static task<result<file>> open(std::string path, open_options options) {
    auto flags = options.to_flags();
    if (!flags) co_return err(flags.error());
    const int f = *flags;
    const mode_t mode = options.mode;
    const int fd = co_await detail::file_call(
        IORING_OP_OPENAT, [&](io_uring_sqe* sqe) { io_uring_prep_openat(sqe, AT_FDCWD, path.c_str(), f, mode); },
        [&]() noexcept { return detail::neg_errno(::open(path.c_str(), f, mode)); });
    if (fd < 0) co_return err(error::from_errno(-fd, "fs::file::open"));
    file opened(fd);
    opened.append_ = options.append;
    co_return opened;
  }

  /// Reads up to buf.size() bytes at `offset`; 0 at end of file.
  task<result<std::size_t>> read_at(std::span<std::byte> buf, std::uint64_t offset) {
    return transfer_read(buf, static_cast<std::int64_t>(offset), "fs::file::read_at");
  }
  /// Writes up to buf.size() bytes at `offset`.
  task<result<std::size_t>> write_at(std::span<const std::byte> buf, std::uint64_t offset) {
    return transfer_write(buf, static_cast<std::int64_t>(offset), "fs::file::write_at");
  }
  /// Reads at the file position and advances it.
  task<result<std::size_t>> read(std::span<std::byte> buf) {
    auto n = co_await transfer_read(buf, static_cast<std::int64_t>(pos_), "fs::file::read");
    if (n) pos_ += *n;
    co_return n;
  }
  /// Writes at the file position (at the end, if opened with append) and advances it.
  task<result<std::size_t>> write(std::span<const std::byte> buf) {
    auto n = co_await transfer_write(buf, append_ ? -1 : static_cast<std::int64_t>(pos_), "fs::file::write");
    if (n) pos_ += *n;
    co_return n;
  }

  /// Writes all of `buf` at the file position, looping over short writes.
  task<result<void>> write_all(std::span<const std::byte> buf) {
    while (!buf.empty()) {
      auto n = co_await write(buf);
      if (!n) co_return err(n.error());
      if (*n == 0) co_return err(error(errc::write_zero, "fs::file::write_all"));
      buf = buf.subspan(*n);
    }
    co_return ok();
  }

  /// Flushes data and metadata to the device (fsync).
  task<result<void>> sync_all() {
    const int fd = fd_;
    const int rc = co_await detail::file_call(
        IORING_OP_FSYNC, [fd](io_uring_sqe* sqe) { io_uring_prep_fsync(sqe, fd, 0); },
        [fd]() noexcept { return detail::neg_errno(::fsync(fd)); });
    if (rc < 0) co_return err(error::from_errno(-rc, "fs::file::sync_all"));
    co_return ok();
  }

  /// Closes the file, reporting the error close(2) may give (e.g. EIO on network filesystems).
  task<result<void>> close() {
    const int fd = std::exchange(fd_, -1);
    if (fd < 0) co_return ok();
    const int rc = co_await detail::file_call(
        IORING_OP_CLOSE, [fd](io_uring_sqe* sqe) { io_uring_prep_close(sqe, fd); },
        [fd]() noexcept { return detail::neg_errno(::close(fd)); });
    if (rc < 0) co_return err(error::from_errno(-rc, "fs::file::close"));
    co_return ok();
  }

  bool is_open() const noexcept { return fd_ >= 0; }
  int native_handle() const noexcept { return fd_; }

 private:
  explicit file(int fd) noexcept : fd_(fd) {}

  void close_now() noexcept {
    if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  }

  // One read or write, retried on EINTR/EAGAIN: `prep` is its io_uring form, `call` its
  // blocking form (both at `offset`, -1 meaning the kernel's position, for appends).
  template <class Prep, class Call>
  static task<result<std::size_t>> transfer(io_uring_op opcode, Prep prep, Call call, const char* what) {
    for (;;) {
      const int rc = co_await detail::file_call(opcode, prep, call);
      if (rc == -EINTR || rc == -EAGAIN) continue;
      if (rc < 0) co_return err(error::from_errno(-rc, what));
      co_return static_cast<std::size_t>(rc);
    }
  }

  task<result<std::size_t>> transfer_read(std::span<std::byte> buf, std::int64_t offset, const char* what) {
    const int fd = fd_;
    return transfer(
        IORING_OP_READ,
        [=](io_uring_sqe* sqe) {
          io_uring_prep_read(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), static_cast<std::uint64_t>(offset));
        },
        [=]() noexcept {
          return detail::neg_errno(offset < 0 ? ::read(fd, buf.data(), buf.size())
                                              : ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(offset)));
        },
        what);
  }

  task<result<std::size_t>> transfer_write(std::span<const std::byte> buf, std::int64_t offset, const char* what) {
    const int fd = fd_;
    return transfer(
        IORING_OP_WRITE,
        [=](io_uring_sqe* sqe) {
          io_uring_prep_write(sqe, fd, buf.data(), static_cast<unsigned>(buf.size()), static_cast<std::uint64_t>(offset));
        },
        [=]() noexcept {
          return detail::neg_errno(offset < 0 ? ::write(fd, buf.data(), buf.size())
                                              : ::pwrite(fd, buf.data(), buf.size(), static_cast<off_t>(offset)));
        },
        what);
  }

  int fd_ = -1;
  std::uint64_t pos_ = 0;  // where read/write continue (ignored by appends)
  bool append_ = false;
};

}  // namespace polarway::fs
