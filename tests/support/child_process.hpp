// A child process with its standard input and output on pipes (standard error joins standard
// output), for tests that talk to independent programs (openssl s_server, Python). The child
// is killed and reaped when the object dies, so a failing test leaves no process behind.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <string_view>
#include <vector>

extern char** environ;

namespace pw_test {

class child_process {
 public:
  /// Starts argv[0] (searched in PATH) with `argv`; started() says whether it ran.
  explicit child_process(std::vector<std::string> argv) {
    int in[2], out[2];
    if (::pipe2(in, O_CLOEXEC) < 0) return;
    if (::pipe2(out, O_CLOEXEC) < 0) {
      ::close(in[0]);
      ::close(in[1]);
      return;
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDERR_FILENO);
    if (::posix_spawnp(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    stdin_ = in[1];
    stdout_ = out[0];
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process() {
    kill();
    close_stdin();
    if (stdout_ >= 0) ::close(stdout_);
  }

  bool started() const noexcept { return pid_ > 0; }

  /// The next line of output without its newline; what is left at end of output.
  std::string read_line() {
    std::string line;
    char c;
    for (;;) {
      const ssize_t n = ::read(stdout_, &c, 1);
      if (n < 0 && errno == EINTR) continue;
      if (n != 1) {
        eof_ = true;
        return line;
      }
      if (c == '\n') return line;
      line += c;
    }
  }
  /// Everything the child writes until it closes its output.
  std::string read_all() {
    std::string text;
    char buf[4096];
    for (;;) {
      const ssize_t n = ::read(stdout_, buf, sizeof buf);
      if (n > 0) {
        text.append(buf, static_cast<std::size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        return text;
      }
    }
  }
  /// Reads lines until one contains `marker`; that line, or "" at end of output.
  std::string read_line_with(std::string_view marker) {
    for (;;) {
      std::string line = read_line();
      if (line.find(marker) != std::string::npos) return line;
      if (eof_) return "";
    }
  }

  void write_stdin(std::string_view text) {
    while (!text.empty()) {
      const ssize_t n = ::write(stdin_, text.data(), text.size());
      if (n <= 0) return;
      text.remove_prefix(static_cast<std::size_t>(n));
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }

  /// Waits for the child to exit: its exit status, or 128 + the signal that ended it.
  int wait() {
    if (pid_ <= 0) return -1;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    wait();
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
  bool eof_ = false;
};

}  // namespace pw_test
