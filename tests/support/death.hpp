// Runs a function in a forked child and reports how the child ended and what it wrote to
// stderr: the way to test that something aborts with a message.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

namespace pw_test {

struct death {
  bool aborted = false;  // the child died of SIGABRT
  int exit_code = -1;    // the child's exit status, if it exited
  std::string stderr_text;
};

template <class F>
death run_in_child(F&& f) {
  int fds[2];
  if (pipe(fds) != 0) std::abort();
  const pid_t pid = fork();
  if (pid < 0) std::abort();
  if (pid == 0) {
    // The test framework's crash handler must not report the expected abort as a failure.
    std::signal(SIGABRT, SIG_DFL);
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    close(fds[0]);
    close(fds[1]);
    f();
    _exit(0);  // f returned: not a death
  }
  close(fds[1]);
  death d;
  char buf[512];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) d.stderr_text.append(buf, static_cast<std::size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  d.aborted = WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT;
  if (WIFEXITED(status)) d.exit_code = WEXITSTATUS(status);
  return d;
}

}  // namespace pw_test
