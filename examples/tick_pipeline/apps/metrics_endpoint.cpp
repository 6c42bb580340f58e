#include "metrics_endpoint.hpp"

#include <chrono>
#include <cstdio>
#include <utility>

#include <polarway/runtime/join_handle.hpp>
#include <polarway/runtime/runtime.hpp>

#include "prometheus_text.hpp"
#include "serve.hpp"
#include "ticks/rest_request.hpp"
#include "ws_session.hpp"

namespace ticks::app {

namespace pw = polarway;

namespace {

constexpr std::chrono::milliseconds head_deadline{5000};
constexpr std::size_t max_connections = 16;

pw::task<void> answer_plain(pw::net::tcp_stream s, std::string head, const http_pages& pages) {
  const std::string response = metrics_response(head, pages);
  (void)co_await s.write_all(as_bytes(response));
  (void)co_await s.shutdown();
}

pw::task<void> metrics_connection(pw::net::tcp_stream s, http_pages pages) {
  const auto admit = [](std::string_view) -> pw::result<bool, ws_refusal> {
    return pw::err(ws_refusal{404, "no WebSocket here: GET /metrics"});
  };
  auto plain = [&pages](pw::net::tcp_stream t, std::string head, std::vector<std::byte>) {
    return answer_plain(std::move(t), std::move(head), pages);
  };
  // Named, not a temporary in the co_await: g++ 12 mishandles those.
  auto accepting = accept_ws(std::move(s), head_deadline, ws::connection_options{}, admit, plain);
  (void)co_await std::move(accepting);
}

std::string ok_response(std::string_view content_type, const std::string& body) {
  std::string r = "HTTP/1.1 200 OK\r\nContent-Type: ";
  r += content_type;
  r += "\r\nConnection: close\r\nContent-Length: ";
  r += std::to_string(body.size());
  r += "\r\n\r\n";
  r += body;
  return r;
}

}  // namespace

std::string metrics_response(std::string_view request_head, const http_pages& pages) {
  auto request = parse_rest_request(request_head);
  if (!request) {
    switch (request.error().code) {
      case rest_request_errc::bad_target:
        return http_error_response(404, "Not Found", "GET /metrics");
      case rest_request_errc::body_not_allowed:
        return http_error_response(400, "Bad Request", "a GET request has no body");
      default:
        return http_error_response(400, "Bad Request", "malformed request: GET /metrics");
    }
  }
  if (request->method != "GET") return http_error_response(400, "Bad Request", "GET /metrics only");
  if (request->path == "/metrics" && pages.metrics) return ok_response(prometheus_text::content_type, pages.metrics());
  if (request->path == "/debug/tasks" && pages.tasks) return ok_response("text/plain; charset=utf-8", pages.tasks());
  if (request->path == "/debug/trace" && pages.trace) return ok_response("application/json", pages.trace());
  return http_error_response(404, "Not Found", "GET /metrics");
}

pw::task<void> serve_metrics(pw::net::tcp_listener& listener, pw::cancellation_token stop, http_pages pages) {
  auto handler = [pages = std::move(pages)](pw::net::tcp_stream s) { return metrics_connection(std::move(s), pages); };
  auto loop = serve(listener, stop, max_connections, std::move(handler));
  co_await std::move(loop);
}

struct metrics_server::state {
  polarway::net::tcp_listener listener;
  pw::cancellation_token stop;
  pw::option<pw::join_handle<void>> serving;
};

metrics_server::metrics_server(std::unique_ptr<state> s) noexcept : state_(std::move(s)) {}
metrics_server::~metrics_server() = default;

pw::result<std::unique_ptr<metrics_server>, std::string> metrics_server::start(std::string_view program,
                                                                               const std::string& addr,
                                                                               http_pages pages) {
  auto l = pw::net::tcp_listener::bind(addr);
  if (!l) return pw::err("--metrics: cannot listen on " + addr + ": " + l.error().message());
  auto bound = l->local_addr();
  if (!bound) return pw::err("--metrics: cannot listen on " + addr + ": " + bound.error().message());
  std::fprintf(stderr, "%.*s: metrics on http://%s/metrics\n", static_cast<int>(program.size()), program.data(),
               bound->to_string().c_str());
  auto s = std::make_unique<state>(state{std::move(*l), {}, pw::none});
  s->serving = pw::spawn(serve_metrics(s->listener, s->stop, std::move(pages)));
  return std::unique_ptr<metrics_server>(new metrics_server(std::move(s)));
}

pw::task<void> metrics_server::stop() {
  state_->stop.cancel();
  if (state_->serving) (void)co_await std::move(*state_->serving);
  state_->serving = pw::none;
}

}  // namespace ticks::app
