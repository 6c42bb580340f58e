// The libcurl multi-socket driver behind http_client (see http_client.hpp for the design).
#include "http_client.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <mutex>
#include <utility>

#include <polarway/io/async_fd.hpp>
#include <polarway/runtime.hpp>

namespace ticks::app {

namespace pw = polarway;
using clock = std::chrono::steady_clock;

namespace {

using reply_sender = pw::oneshot::sender<pw::result<http_response, rest_error>>;

struct pending_request {
  http_request request;
  reply_sender reply;
};

// A watcher's report: the socket is ready for what curl asked (CURL_CSELECT_* flags).
struct readiness {
  int fd = -1;
  int flags = 0;
  std::uint64_t generation = 0;
};

// A socket curl asked us to watch (or has just stopped watching, or asked to close).
struct watched_socket {
  int fd = -1;
  int what = 0;  // CURL_POLL_IN / OUT / INOUT; 0 once removed
  pw::option<pw::io::async_fd> afd;
  pw::option<pw::join_handle<void>> watcher;
  std::uint64_t generation = 0;  // of the current watcher
  bool dirty = true;             // the watcher must be replaced (or the socket let go)
  bool close_pending = false;    // curl asked to close it: done once nothing watches it
};

// One request on the multi handle.
struct transfer {
  transfer(pending_request p, std::size_t max) : pending(std::move(p)), max_body(max) {}
  transfer(const transfer&) = delete;
  transfer& operator=(const transfer&) = delete;

  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  pending_request pending;
  std::string body;
  std::size_t max_body = 0;
  bool too_large = false;
  char errbuf[CURL_ERROR_SIZE] = {};

  ~transfer() {
    if (easy) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
};

struct driver {
  driver(http_client_options o, pw::mpsc::sender<readiness> ev) : options(std::move(o)), events(std::move(ev)) {}
  driver(const driver&) = delete;
  driver& operator=(const driver&) = delete;

  http_client_options options;
  CURLM* multi = nullptr;
  std::map<int, std::unique_ptr<watched_socket>> sockets;
  pw::option<clock::time_point> deadline;  // curl's timer
  std::size_t in_flight = 0;
  std::uint64_t next_generation = 0;
  pw::mpsc::sender<readiness> events;

  ~driver() {
    if (multi) curl_multi_cleanup(multi);
  }
};

// ---- curl's callbacks: they only record what curl wants; the driver acts after the call ----

int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) {
  auto& d = *static_cast<driver*>(userp);
  auto& s = d.sockets[fd];
  if (!s) {
    s = std::make_unique<watched_socket>();
    s->fd = fd;
  }
  s->what = what == CURL_POLL_REMOVE ? 0 : what;
  s->dirty = true;
  return 0;
}

int on_timer(CURLM*, long timeout_ms, void* userp) {
  auto& d = *static_cast<driver*>(userp);
  if (timeout_ms < 0) d.deadline = pw::none;
  else d.deadline = clock::now() + std::chrono::milliseconds(timeout_ms);
  return 0;
}

// A descriptor something still watches is closed later, by settle(); any other at once.
int on_close(void* clientp, curl_socket_t fd) {
  auto& d = *static_cast<driver*>(clientp);
  if (auto it = d.sockets.find(fd); it != d.sockets.end()) {
    watched_socket& s = *it->second;
    if (s.afd || s.watcher) {
      s.close_pending = true;
      s.what = 0;
      s.dirty = true;
      return 0;
    }
    d.sockets.erase(it);
  }
  return ::close(fd);
}

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* userp) {
  auto& t = *static_cast<transfer*>(userp);
  const std::size_t len = size * n;
  if (len > t.max_body - t.body.size()) {
    t.too_large = true;
    return 0;  // curl ends the transfer: CURLE_WRITE_ERROR
  }
  t.body.append(data, len);
  return len;
}

// ---- the watchers --------------------------------------------------------------------------

pw::task<void> watch_once(pw::io::async_fd* afd, int what, pw::mpsc::sender<readiness> events, int fd,
                          std::uint64_t generation) {
  int flags = 0;
  if (what == CURL_POLL_IN) {
    flags = (co_await afd->readable()) ? CURL_CSELECT_IN : CURL_CSELECT_ERR;
  } else if (what == CURL_POLL_OUT) {
    flags = (co_await afd->writable()) ? CURL_CSELECT_OUT : CURL_CSELECT_ERR;
  } else {
    auto r = co_await pw::race(afd->readable(), afd->writable());
    if (r.completed<0>()) flags |= pw::get<0>(r) ? CURL_CSELECT_IN : CURL_CSELECT_ERR;
    if (r.completed<1>()) flags |= pw::get<1>(r) ? CURL_CSELECT_OUT : CURL_CSELECT_ERR;
  }
  (void)co_await events.send(readiness{fd, flags, generation});
}

// Brings the watchers in line with what curl asked during the last call: replaces a changed
// socket's watcher (the old one aborted and awaited first), lets a removed socket go, and closes
// those curl asked to close once nothing watches them. Sockets it cannot watch get an error
// report in `failed`, for curl to see.
pw::task<void> settle(driver& d, std::vector<readiness>& failed) {
  for (auto it = d.sockets.begin(); it != d.sockets.end();) {
    watched_socket& s = *it->second;
    if (!s.dirty) {
      ++it;
      continue;
    }
    s.dirty = false;
    if (s.watcher) {
      s.watcher->abort();
      (void)co_await *s.watcher;
      s.watcher = pw::none;
    }
    s.generation = ++d.next_generation;
    if (s.what == 0) {
      s.afd = pw::none;  // before the close, as async_fd requires
      if (s.close_pending) ::close(s.fd);
      it = d.sockets.erase(it);
      continue;
    }
    if (!s.afd) {
      auto a = pw::io::async_fd::watch(s.fd);
      if (!a) {
        failed.push_back(readiness{s.fd, CURL_CSELECT_ERR, s.generation});
        ++it;
        continue;
      }
      s.afd = std::move(*a);
    }
    s.watcher = pw::spawn(watch_once(&*s.afd, s.what, d.events, s.fd, s.generation));
    ++it;
  }
}

// ---- transfers -----------------------------------------------------------------------------

rest_error transport_error(const std::string& url, CURLcode code, const char* detail) {
  rest_error e;
  e.what = rest_error::kind::transport;
  e.url = url;
  e.curl_code = static_cast<int>(code);
  e.curl_message = (detail && *detail) ? detail : curl_easy_strerror(code);
  return e;
}

// Retry-After in seconds (the HTTP-date form is not used by Binance and is ignored).
pw::option<std::uint64_t> retry_after(CURL* easy) {
  curl_header* h = nullptr;
  if (curl_easy_header(easy, "Retry-After", 0, CURLH_HEADER, -1, &h) != CURLHE_OK || !h || !h->value) return pw::none;
  std::uint64_t v = 0;
  const char* p = h->value;
  if (*p < '0' || *p > '9') return pw::none;
  for (; *p >= '0' && *p <= '9'; ++p) {
    if (v > 1000000) return pw::none;
    v = v * 10 + static_cast<std::uint64_t>(*p - '0');
  }
  return *p == '\0' ? pw::option<std::uint64_t>(v) : pw::option<std::uint64_t>(pw::none);
}

// Sets up the easy handle; on failure, the curl code of the option refused.
CURLcode configure(driver& d, transfer& t) {
  const http_client_options& o = d.options;
  for (const std::string& h : t.pending.request.headers) {
    curl_slist* next = curl_slist_append(t.headers, h.c_str());
    if (!next) return CURLE_OUT_OF_MEMORY;
    t.headers = next;
  }
  CURL* e = t.easy;
  CURLcode c = CURLE_OK;
  const auto set = [&](CURLoption opt, auto value) {
    if (c == CURLE_OK) c = curl_easy_setopt(e, opt, value);
  };
  set(CURLOPT_URL, t.pending.request.url.c_str());
  set(CURLOPT_PRIVATE, static_cast<void*>(&t));
  set(CURLOPT_WRITEFUNCTION, &on_body);
  set(CURLOPT_WRITEDATA, static_cast<void*>(&t));
  set(CURLOPT_ERRORBUFFER, t.errbuf);
  set(CURLOPT_CLOSESOCKETFUNCTION, &on_close);
  set(CURLOPT_CLOSESOCKETDATA, static_cast<void*>(&d));
  set(CURLOPT_NOSIGNAL, 1L);
  set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout_ms));
  set(CURLOPT_TIMEOUT_MS, static_cast<long>(o.total_timeout_ms));
  set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.max_body_bytes));
  set(CURLOPT_PROTOCOLS_STR, "http,https");
  set(CURLOPT_FOLLOWLOCATION, 0L);
  set(CURLOPT_SSL_VERIFYPEER, 1L);
  set(CURLOPT_SSL_VERIFYHOST, 2L);
  set(CURLOPT_USERAGENT, "polarway-ingest");
  if (t.headers) set(CURLOPT_HTTPHEADER, t.headers);
  if (!o.ca_file.empty()) {
    set(CURLOPT_CAINFO, o.ca_file.c_str());
    set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));  // exactly that file's CAs
  }
  return c;
}

void start_transfer(driver& d, pending_request p) {
  auto t = std::make_unique<transfer>(std::move(p), d.options.max_body_bytes);
  t->easy = curl_easy_init();
  const std::string& url = t->pending.request.url;
  if (!t->easy) {
    (void)t->pending.reply.send(pw::err(transport_error(url, CURLE_FAILED_INIT, "curl_easy_init failed")));
    return;
  }
  if (const CURLcode c = configure(d, *t); c != CURLE_OK) {
    (void)t->pending.reply.send(pw::err(transport_error(url, c, nullptr)));
    return;
  }
  if (const CURLMcode m = curl_multi_add_handle(d.multi, t->easy); m != CURLM_OK) {
    (void)t->pending.reply.send(pw::err(transport_error(url, CURLE_FAILED_INIT, curl_multi_strerror(m))));
    return;
  }
  (void)t.release();  // owned by the multi handle until finish_done (through CURLOPT_PRIVATE)
  ++d.in_flight;
}

// Answers every transfer curl has finished.
void finish_done(driver& d) {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(d.multi, &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    void* priv = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
    std::unique_ptr<transfer> t(static_cast<transfer*>(priv));
    const CURLcode code = msg->data.result;
    curl_multi_remove_handle(d.multi, t->easy);
    --d.in_flight;
    const std::string& url = t->pending.request.url;
    if (t->too_large || code == CURLE_FILESIZE_EXCEEDED) {
      rest_error e;
      e.what = rest_error::kind::too_large;
      e.url = url;
      (void)t->pending.reply.send(pw::err(std::move(e)));
    } else if (code != CURLE_OK) {
      (void)t->pending.reply.send(pw::err(transport_error(url, code, t->errbuf)));
    } else {
      http_response r;
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &r.status);
      r.retry_after_s = retry_after(t->easy);
      r.body = std::move(t->body);
      (void)t->pending.reply.send(std::move(r));
    }
  }
}

void socket_action(driver& d, curl_socket_t fd, int flags) {
  int running = 0;
  (void)curl_multi_socket_action(d.multi, fd, flags, &running);
}

// The driver task: see http_client.hpp. Ends once the request channel is closed and every
// transfer has finished.
pw::task<void> drive(std::unique_ptr<driver> owned, pw::mpsc::receiver<pending_request> requests,
                     pw::mpsc::receiver<readiness> events) {
  driver& d = *owned;
  bool accepting = true;
  std::vector<readiness> failed;
  for (;;) {
    finish_done(d);
    co_await settle(d, failed);
    if (!failed.empty()) {
      const readiness r = failed.back();
      failed.pop_back();
      socket_action(d, r.fd, r.flags);
      continue;
    }
    if (!accepting && d.in_flight == 0) break;
    if (d.deadline && *d.deadline <= clock::now()) {
      d.deadline = pw::none;
      socket_action(d, CURL_SOCKET_TIMEOUT, 0);
      continue;
    }
    const auto until = d.deadline.unwrap_or(clock::now() + std::chrono::hours(1));
    pw::option<readiness> ready;
    if (accepting && d.in_flight < d.options.max_in_flight) {
      auto r = co_await pw::race(events.recv(), requests.recv(), pw::sleep_until(until));
      if (r.completed<0>()) ready = pw::get<0>(r);
      if (r.completed<1>()) {
        if (auto& p = pw::get<1>(r)) start_transfer(d, std::move(*p));
        else accepting = false;
      }
    } else {
      auto r = co_await pw::race(events.recv(), pw::sleep_until(until));
      if (r.completed<0>()) ready = pw::get<0>(r);
    }
    if (ready) {
      auto it = d.sockets.find(ready->fd);
      if (it == d.sockets.end() || it->second->generation != ready->generation) continue;  // stale
      it->second->dirty = true;  // that watcher has ended: re-arm after curl's turn
      socket_action(d, ready->fd, ready->flags);
    }
  }
  // Nothing in flight: stop the watchers of idle cached connections before curl closes them.
  for (auto& [fd, s] : d.sockets) {
    if (s->watcher) {
      s->watcher->abort();
      (void)co_await *s->watcher;
      s->watcher = pw::none;
    }
    s->afd = pw::none;
  }
  curl_multi_cleanup(d.multi);  // closes the cached connections through on_close
  d.multi = nullptr;
  for (auto& [fd, s] : d.sockets)
    if (s->close_pending) ::close(fd);
  d.sockets.clear();
}

std::once_flag curl_global;

}  // namespace

struct http_client::shared {
  pw::option<pw::mpsc::sender<pending_request>> requests;  // none after shutdown()
  pw::option<pw::join_handle<void>> driver_task;
};

http_client::http_client(std::unique_ptr<shared> s) noexcept : shared_(std::move(s)) {}
http_client::http_client(http_client&&) noexcept = default;
http_client& http_client::operator=(http_client&&) noexcept = default;
http_client::~http_client() = default;

pw::result<http_client, rest_error> http_client::start(http_client_options options) {
  CURLcode global = CURLE_OK;
  std::call_once(curl_global, [&] { global = curl_global_init(CURL_GLOBAL_DEFAULT); });
  if (global != CURLE_OK) return pw::err(transport_error("", global, "curl_global_init failed"));
  if (options.max_in_flight == 0) options.max_in_flight = 1;
  // Readiness reports: at most one per watched socket is outstanding, so this rarely fills.
  auto [events_tx, events_rx] = pw::mpsc::channel<readiness>(64);
  auto d = std::make_unique<driver>(std::move(options), std::move(events_tx));
  d->multi = curl_multi_init();
  if (!d->multi) return pw::err(transport_error("", CURLE_FAILED_INIT, "curl_multi_init failed"));
  curl_multi_setopt(d->multi, CURLMOPT_SOCKETFUNCTION, &on_socket);
  curl_multi_setopt(d->multi, CURLMOPT_SOCKETDATA, static_cast<void*>(d.get()));
  curl_multi_setopt(d->multi, CURLMOPT_TIMERFUNCTION, &on_timer);
  curl_multi_setopt(d->multi, CURLMOPT_TIMERDATA, static_cast<void*>(d.get()));
  auto [requests_tx, requests_rx] = pw::mpsc::channel<pending_request>(64);
  auto s = std::make_unique<shared>();
  s->requests = std::move(requests_tx);
  s->driver_task = pw::spawn(drive(std::move(d), std::move(requests_rx), std::move(events_rx)));
  return http_client(std::move(s));
}

pw::task<pw::result<http_response, rest_error>> http_client::get(http_request request) {
  const std::string url = request.url;
  auto [reply_tx, reply_rx] = pw::oneshot::channel<pw::result<http_response, rest_error>>();
  if (!shared_ || !shared_->requests)
    co_return pw::err(transport_error(url, CURLE_FAILED_INIT, "the HTTP client has shut down"));
  // Built outside the co_await: g++ 12 mishandles temporaries in a co_await expression.
  pending_request p{std::move(request), std::move(reply_tx)};
  auto sending = shared_->requests->send(std::move(p));
  if (!(co_await std::move(sending)))
    co_return pw::err(transport_error(url, CURLE_FAILED_INIT, "the HTTP client has shut down"));
  auto reply = co_await std::move(reply_rx);
  if (!reply) co_return pw::err(transport_error(url, CURLE_FAILED_INIT, "the HTTP client dropped the request"));
  co_return std::move(*reply);
}

pw::task<void> http_client::shutdown() {
  if (!shared_ || !shared_->driver_task) co_return;
  shared_->requests = pw::none;  // the last sender: the driver sees the end of its requests
  (void)co_await *shared_->driver_task;
  shared_->driver_task = pw::none;
}

}  // namespace ticks::app
