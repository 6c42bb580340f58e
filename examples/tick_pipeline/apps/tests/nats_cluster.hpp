// A real NATS JetStream cluster on loopback for the tests: `nodes` nats-server processes (the
// path in PW_TEST_NATS_SERVER, set by CMake, so nothing is looked up in PATH at run time), each
// with its own config file, log file and file store under one fresh temporary directory, and
// client, route and monitoring ports that the kernel picked free. The test can kill, pause,
// resume and restart single nodes; the destructor kills every node, reaps it and removes the
// directory.
//
// Ready means checked, not assumed: nats-server 2.9's plain GET /healthz answers 200 only once
// the server accepts clients, JetStream is on, it knows a meta leader, its copy of the meta log
// is current, and so is every stream and consumer replica placed on it (?js-enabled-only=true
// checks none of that beyond JetStream being on). On top of that, wait_ready() (which start()
// and restart() end with) requires routes between all live nodes and one meta leader that all
// of them name.
//
// A node must not outlive the test, even one that crashes or is killed by CTest's timeout. A
// process started with posix_spawn cannot set its own parent-death signal, so each node is
// started through util-linux's setpriv (PW_TEST_SETPRIV) as `setpriv --pdeathsig KILL --
// nats-server -c CONFIG`: setpriv sets PR_SET_PDEATHSIG and execs the server, which keeps it.
// The kernel sends that signal when the *thread* that spawned the node ends, so start() and
// restart() belong on a thread that outlives the cluster (a doctest case's own thread is).
// A test process killed in the microseconds between a spawn and setpriv's prctl would leave
// that one node running; the temporary directory of a crashed test stays behind.
//
// Synchronous and single-threaded: no coroutine, no exception (it builds with -fno-exceptions);
// errors come back as values with the node's name and the tail of its log.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <polarway/result.hpp>

#if !defined(PW_TEST_NATS_SERVER) || !defined(PW_TEST_SETPRIV)
#error "nats_cluster.hpp needs PW_TEST_NATS_SERVER and PW_TEST_SETPRIV: link the tick_nats_cluster_fixture target"
#endif

extern char** environ;

namespace ticks::test {

namespace pw = polarway;

/// One answer of a node's monitoring endpoint; status 0 when none came (`failure` says why).
struct http_answer {
  int status = 0;
  std::string body;
  std::string failure;
};

/// GET `path` from 127.0.0.1:`port` over HTTP/1.0 (the server closes after its answer). A
/// stopped (SIGSTOP) server accepts the connection in the kernel and never answers, so the
/// whole exchange is bounded by `timeout`.
inline http_answer http_get(std::uint16_t port, std::string_view path,
                            std::chrono::milliseconds timeout = std::chrono::milliseconds(1000)) {
  http_answer answer;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    answer.failure = std::string("socket: ") + std::strerror(errno);
    return answer;
  }
  // Linux applies SO_SNDTIMEO to connect() as well.
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    answer.failure = "connect to 127.0.0.1:" + std::to_string(port) + ": " + std::strerror(errno);
    ::close(fd);
    return answer;
  }
  const std::string request = "GET " + std::string(path) + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  std::string_view unsent = request;
  while (!unsent.empty()) {
    const ssize_t n = ::send(fd, unsent.data(), unsent.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      answer.failure = std::string("send: ") + std::strerror(errno);
      ::close(fd);
      return answer;
    }
    unsent.remove_prefix(static_cast<std::size_t>(n));
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string raw;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n > 0) {
      raw.append(buf, static_cast<std::size_t>(n));
      if (std::chrono::steady_clock::now() < deadline) continue;
      answer.failure = "answer not complete within " + std::to_string(timeout.count()) + " ms";
      ::close(fd);
      return answer;
    }
    if (n == 0) break;
    if (errno == EINTR) continue;
    answer.failure = (errno == EAGAIN || errno == EWOULDBLOCK)
                         ? "no answer within " + std::to_string(timeout.count()) + " ms"
                         : std::string("recv: ") + std::strerror(errno);
    ::close(fd);
    return answer;
  }
  ::close(fd);
  // "HTTP/1.x NNN ...\r\n<headers>\r\n\r\n<body>"
  const std::size_t space = raw.find(' ');
  const std::size_t head_end = raw.find("\r\n\r\n");
  if (raw.compare(0, 5, "HTTP/") != 0 || space == std::string::npos || head_end == std::string::npos ||
      raw.size() < space + 4) {
    answer.failure = "not an HTTP answer: " + raw.substr(0, 200);
    return answer;
  }
  answer.status = std::atoi(raw.c_str() + space + 1);
  answer.body = raw.substr(head_end + 4);
  return answer;
}

/// The value of the first `"key": value` in a monitoring endpoint's JSON: a string without its
/// quotes, or a number, true, false or null as written. Enough for the flat fields of /jsz,
/// /routez and /healthz, whose string values hold no escapes.
inline std::optional<std::string> json_field(std::string_view json, std::string_view key) {
  const std::string quoted = "\"" + std::string(key) + "\"";
  std::size_t at = json.find(quoted);
  if (at == std::string_view::npos) return std::nullopt;
  at += quoted.size();
  const auto skip_space = [&] {
    while (at < json.size() && (json[at] == ' ' || json[at] == '\n' || json[at] == '\r' || json[at] == '\t')) ++at;
  };
  skip_space();
  if (at >= json.size() || json[at] != ':') return std::nullopt;
  ++at;
  skip_space();
  if (at >= json.size()) return std::nullopt;
  if (json[at] == '"') {
    const std::size_t end = json.find('"', at + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return std::string(json.substr(at + 1, end - at - 1));
  }
  const std::size_t end = json.find_first_of(",}] \n\r\t", at);
  return std::string(json.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at));
}

class nats_cluster {
 public:
  /// How long start(), restart() and wait_ready() wait for the cluster to settle. A lost leader
  /// is replaced after nats-server 2.9's Raft election timeout, 4 to 9 s.
  static constexpr std::chrono::seconds ready_timeout{30};

  /// Starts `nodes` servers (named n0, n1, ...) and returns once wait_ready() holds (a single
  /// node runs standalone JetStream, without a cluster block). The ports were free when picked
  /// but are only bound when the servers start, so a start that lost a port to another process
  /// is retried whole, with new ports and a new directory, up to three times.
  static pw::result<nats_cluster, std::string> start(std::size_t nodes = 3) {
    if (nodes == 0) return pw::err(std::string("nats_cluster::start: no nodes asked for"));
    constexpr int attempts = 3;
    for (int attempt = 1;; ++attempt) {
      bool port_taken = false;
      auto started = start_once(nodes, port_taken);
      if (started || !port_taken || attempt == attempts) return started;
    }
  }

  nats_cluster(nats_cluster&& other) noexcept
      : dir_(std::exchange(other.dir_, std::string())), nodes_(std::exchange(other.nodes_, {})) {}
  nats_cluster& operator=(nats_cluster&& other) noexcept {
    if (this != &other) {
      stop_all();
      dir_ = std::exchange(other.dir_, std::string());
      nodes_ = std::exchange(other.nodes_, {});
    }
    return *this;
  }
  nats_cluster(const nats_cluster&) = delete;
  nats_cluster& operator=(const nats_cluster&) = delete;
  ~nats_cluster() { stop_all(); }

  /// Every node's client URL, comma-separated, in node order.
  std::string urls() const {
    std::string all;
    for (std::size_t i = 0; i < nodes_.size(); ++i) all += (i == 0 ? "" : ",") + url(i);
    return all;
  }
  std::string url(std::size_t node) const { return "nats://127.0.0.1:" + std::to_string(nodes_.at(node).client_port); }
  std::size_t size() const noexcept { return nodes_.size(); }
  /// "n0", "n1", ...: the node's server_name, as /jsz and the logs name it.
  std::string name(std::size_t node) const { return nodes_.at(node).name; }
  /// The temporary directory that holds the configs, logs and stores; gone after destruction.
  std::string directory() const { return dir_; }
  bool running(std::size_t node) const { return nodes_.at(node).pid > 0; }

  /// SIGKILL, then reap: the node's ports are closed when this returns. No-op if not running.
  void kill(std::size_t node) {
    server& s = nodes_.at(node);
    if (s.pid <= 0) return;
    ::kill(s.pid, SIGKILL);
    int status = 0;
    while (::waitpid(s.pid, &status, 0) < 0 && errno == EINTR) {
    }
    s.pid = -1;
    s.paused = false;
  }

  /// SIGSTOP; returns once the node is stopped. Its sockets stay open but nothing answers.
  void pause(std::size_t node) {
    server& s = nodes_.at(node);
    if (s.pid <= 0 || s.paused) return;
    ::kill(s.pid, SIGSTOP);
    int status = 0;
    while (::waitpid(s.pid, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      s.pid = -1;
      return;
    }
    s.paused = true;
  }

  /// SIGCONT; returns once the node runs again. A node resumed after more than an election
  /// timeout campaigns at once with a higher term and can depose the meta and stream leaders:
  /// wait_ready() waits until the cluster has settled again.
  void resume(std::size_t node) {
    server& s = nodes_.at(node);
    if (s.pid <= 0 || !s.paused) return;
    ::kill(s.pid, SIGCONT);
    int status = 0;
    while (::waitpid(s.pid, &status, WCONTINUED) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) s.pid = -1;
    s.paused = false;
  }

  /// Starts the node again with its config, ports and store (a node still running is killed
  /// first, as a crash would) and waits until wait_ready() holds, so the node is healthy, its
  /// replicas caught up, and routed to the others. Its log goes on in the same file.
  pw::result<void, std::string> restart(std::size_t node) {
    kill(node);
    if (auto spawned = spawn(node); !spawned) return spawned;
    return wait_ready();
  }

  /// Waits until JetStream is usable across the live nodes (running and not paused): each
  /// answers /healthz with 200 and has a route to every other live node, and all of them name
  /// the same meta leader, which is one of them. It must hold on two polls in a row with the
  /// same leader, since a node just resumed can still depose the leader right after the
  /// cluster first looks settled. A node that ended, or the deadline, is an error naming the
  /// node, with the tail of its log.
  pw::result<void, std::string> wait_ready() {
    bool port_taken = false;
    return wait_ready(port_taken);
  }

  /// GET `path` (e.g. "/jsz", "/routez") from the node's monitoring port: the body of a 200
  /// answer, or what went wrong.
  pw::result<std::string, std::string> monitor(std::size_t node, std::string_view path) const {
    http_answer a = http_get(nodes_.at(node).http_port, path);
    if (a.status == 200) return pw::ok(std::move(a.body));
    if (a.status == 0) return pw::err(name(node) + " GET " + std::string(path) + ": " + a.failure);
    return pw::err(name(node) + " GET " + std::string(path) + ": status " + std::to_string(a.status) + " " + a.body);
  }

  /// Everything the node wrote to stdout and stderr, over all of its runs.
  std::string log(std::size_t node) const {
    std::ifstream in(nodes_.at(node).log_path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

  /// The last `lines` lines of log(), under a line naming the file.
  std::string log_tail(std::size_t node, std::size_t lines = 30) const {
    const std::string text = log(node);
    std::size_t start = text.size();
    for (std::size_t seen = 0; start > 0 && seen <= lines;) {
      --start;
      if (text[start] == '\n') ++seen;
    }
    if (start > 0) ++start;
    return "--- last lines of " + nodes_.at(node).log_path + " ---\n" + text.substr(start);
  }

  /// The meta leader's name in the node's /jsz, or "" when it names none or does not answer.
  std::string meta_leader(std::size_t node) const {
    const http_answer jsz = http_get(nodes_.at(node).http_port, "/jsz");
    if (jsz.status != 200) return "";
    const std::size_t meta = jsz.body.find("\"meta_cluster\"");
    if (meta == std::string::npos) return "";
    return json_field(std::string_view(jsz.body).substr(meta), "leader").value_or("");
  }

 private:
  struct server {
    std::string name;
    std::uint16_t client_port = 0;
    std::uint16_t route_port = 0;
    std::uint16_t http_port = 0;
    std::string config_path;
    std::string log_path;
    pid_t pid = -1;
    bool paused = false;
  };

  static constexpr std::chrono::milliseconds poll_interval{100};

  nats_cluster() = default;

  static pw::result<nats_cluster, std::string> start_once(std::size_t nodes, bool& port_taken) {
    nats_cluster cluster;
    auto dir = make_temp_dir();
    if (!dir) return pw::err(std::move(dir).error());
    cluster.dir_ = std::move(*dir);
    auto ports = free_ports(3 * nodes);
    if (!ports) return pw::err(std::move(ports).error());
    for (std::size_t i = 0; i < nodes; ++i) {
      server s;
      s.name = "n" + std::to_string(i);
      s.client_port = (*ports)[3 * i];
      s.route_port = (*ports)[3 * i + 1];
      s.http_port = (*ports)[3 * i + 2];
      s.config_path = cluster.dir_ + "/" + s.name + ".conf";
      s.log_path = cluster.dir_ + "/" + s.name + ".log";
      cluster.nodes_.push_back(std::move(s));
    }
    for (std::size_t i = 0; i < nodes; ++i) {
      if (auto written = cluster.write_config(i); !written) return pw::err(std::move(written).error());
    }
    for (std::size_t i = 0; i < nodes; ++i) {
      if (auto spawned = cluster.spawn(i); !spawned) return pw::err(std::move(spawned).error());
    }
    if (auto ready = cluster.wait_ready(port_taken); !ready) return pw::err(std::move(ready).error());
    return cluster;
  }

  // mkdtemp under $TMPDIR (or /tmp).
  static pw::result<std::string, std::string> make_temp_dir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/pw-nats-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) return pw::err("mkdtemp " + pattern + ": " + std::strerror(errno));
    return pw::ok(std::move(pattern));
  }

  // `count` distinct ports that were free on 127.0.0.1: all bound to port 0 at once (so the
  // kernel hands out different ones), read back, then released for the servers to bind.
  static pw::result<std::vector<std::uint16_t>, std::string> free_ports(std::size_t count) {
    std::vector<int> fds;
    std::vector<std::uint16_t> ports;
    std::string failure;
    for (std::size_t i = 0; i < count && failure.empty(); ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (fd < 0) {
        failure = std::string("socket: ") + std::strerror(errno);
        break;
      }
      fds.push_back(fd);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof addr;
      if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0 ||
          ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
        failure = std::string("bind 127.0.0.1:0: ") + std::strerror(errno);
        break;
      }
      ports.push_back(ntohs(addr.sin_port));
    }
    for (const int fd : fds) ::close(fd);
    if (!failure.empty()) return pw::err(std::move(failure));
    return pw::ok(std::move(ports));
  }

  pw::result<void, std::string> write_config(std::size_t node) const {
    const server& s = nodes_[node];
    std::ofstream out(s.config_path);
    out << "# " << s.name << " of a " << nodes_.size() << "-node JetStream cluster for a test (nats_cluster.hpp).\n"
        << "server_name: " << s.name << "\n"
        << "listen: 127.0.0.1:" << s.client_port << "\n"
        << "http: 127.0.0.1:" << s.http_port << "\n";
    if (nodes_.size() > 1) {
      out << "cluster {\n  name: pw-test\n  listen: 127.0.0.1:" << s.route_port << "\n  routes: [\n";
      for (std::size_t peer = 0; peer < nodes_.size(); ++peer)
        if (peer != node) out << "    nats-route://127.0.0.1:" << nodes_[peer].route_port << "\n";
      out << "  ]\n}\n";
    }
    out << "jetstream {\n  store_dir: \"" << dir_ << "/" << s.name << "-store\"\n}\n";
    out.close();
    if (!out) return pw::err("cannot write " + s.config_path);
    return pw::ok();
  }

  // `setpriv --pdeathsig KILL -- nats-server -c CONFIG`, stdin from /dev/null, stdout and stderr
  // appended to the node's log, no other descriptor inherited (a test's client sockets must not
  // stay open in a server), default signal dispositions and an empty signal mask.
  pw::result<void, std::string> spawn(std::size_t node) {
    server& s = nodes_.at(node);
    std::string setpriv = PW_TEST_SETPRIV;
    std::string pdeathsig = "--pdeathsig";
    std::string kill_signal = "KILL";
    std::string end_of_options = "--";
    std::string program = PW_TEST_NATS_SERVER;
    std::string config_flag = "-c";
    std::vector<char*> argv{setpriv.data(), pdeathsig.data(),   kill_signal.data(),   end_of_options.data(),
                            program.data(), config_flag.data(), s.config_path.data(), nullptr};

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, s.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
    posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);
#endif
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (const int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD})
      sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) return pw::err("posix_spawn " + setpriv + " " + program + " for " + s.name + ": " + std::strerror(rc));
    s.pid = pid;
    s.paused = false;
    return pw::ok();
  }

  // If the node's process has ended, reaps it and says how it ended.
  std::optional<std::string> reap_if_exited(std::size_t node) {
    server& s = nodes_.at(node);
    if (s.pid <= 0) return std::string("not running");
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(s.pid, &status, WNOHANG)) < 0 && errno == EINTR) {
    }
    if (r != s.pid || !(WIFEXITED(status) || WIFSIGNALED(status))) return std::nullopt;
    s.pid = -1;
    s.paused = false;
    return WIFEXITED(status) ? "exited with status " + std::to_string(WEXITSTATUS(status))
                             : "ended by signal " + std::to_string(WTERMSIG(status));
  }

  // The nodes that run and are not paused.
  std::vector<std::size_t> live_nodes() const {
    std::vector<std::size_t> live;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (nodes_[i].pid > 0 && !nodes_[i].paused) live.push_back(i);
    return live;
  }

  // "" when the node is healthy with at least `routes` routes, else why not.
  std::string not_ready_because(std::size_t node, std::size_t routes) const {
    const std::uint16_t port = nodes_[node].http_port;
    const http_answer health = http_get(port, "/healthz");
    if (health.status != 200)
      return "/healthz: " + (health.status == 0 ? health.failure : std::to_string(health.status) + " " + health.body);
    if (routes == 0) return "";
    const http_answer routez = http_get(port, "/routez");
    const std::optional<std::string> count =
        routez.status == 200 ? json_field(routez.body, "num_routes") : std::nullopt;
    if (!count) return "/routez: no num_routes (" + routez.failure + ")";
    if (static_cast<std::size_t>(std::atoi(count->c_str())) < routes)
      return *count + " routes of " + std::to_string(routes);
    return "";
  }

  // wait_ready(); sets `port_taken` when a node ended because one of its ports was in use.
  pw::result<void, std::string> wait_ready(bool& port_taken) {
    const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    bool settled_once = false;
    std::string settled_leader;
    for (;;) {
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        if (nodes_[i].pid <= 0) continue;
        if (auto exited = reap_if_exited(i)) {
          port_taken = log(i).find("address already in use") != std::string::npos;
          return pw::err(name(i) + " " + *exited + "\n" + log_tail(i));
        }
      }
      const std::vector<std::size_t> live = live_nodes();
      if (live.empty()) return pw::err(std::string("no node runs unpaused"));
      std::size_t failing = live.front();
      std::string why;
      for (const std::size_t i : live) {
        why = not_ready_because(i, live.size() - 1);
        if (!why.empty()) {
          failing = i;
          break;
        }
      }
      std::string leader;
      if (why.empty() && nodes_.size() > 1) {
        leader = meta_leader(live.front());
        bool leader_is_live = false;
        for (const std::size_t i : live) {
          const std::string seen = i == live.front() ? leader : meta_leader(i);
          if (seen.empty() || seen != leader) {
            why = "meta leader \"" + seen + "\", " + name(live.front()) + " says \"" + leader + "\"";
            failing = i;
            break;
          }
          if (name(i) == leader) leader_is_live = true;
        }
        if (why.empty() && !leader_is_live) why = "meta leader " + leader + " is not running";
      }
      if (why.empty()) {
        if (settled_once && leader == settled_leader) return pw::ok();
        settled_once = true;
        settled_leader = leader;
      } else {
        settled_once = false;
      }
      if (std::chrono::steady_clock::now() >= deadline)
        return pw::err("JetStream cluster not ready within " + std::to_string(ready_timeout.count()) +
                       " s: " + name(failing) + ": " + why + "\n" + log_tail(failing));
      std::this_thread::sleep_for(poll_interval);
    }
  }

  void stop_all() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) kill(i);
    nodes_.clear();
    if (!dir_.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      dir_.clear();
    }
  }

  std::string dir_;
  std::vector<server> nodes_;
};

}  // namespace ticks::test
