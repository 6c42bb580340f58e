#include "ticks/rest_request.hpp"

#include "http_head.hpp"

namespace ticks {

namespace pw = polarway;

namespace {

bool is_name_char(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_value_char(char c) noexcept { return is_name_char(c) || c == '.' || c == '-'; }
bool is_path_char(char c) noexcept { return is_value_char(c) || c == '/'; }

template <class Pred>
bool all_of(std::string_view s, Pred ok) noexcept {
  for (const char c : s)
    if (!ok(c)) return false;
  return true;
}

}  // namespace

pw::option<std::string_view> rest_request::param(std::string_view name) const {
  for (const auto& p : params)
    if (p.name == name) return p.value;
  return pw::none;
}

pw::result<std::vector<query_param>, rest_request_error> parse_query(std::string_view query) {
  std::vector<query_param> out;
  if (query.empty()) return out;
  for (;;) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      // Name the parameter when the pair starts with one.
      const std::string_view name = pair.substr(0, eq);
      return pw::err(rest_request_error{rest_request_errc::bad_query, all_of(name, is_name_char) ? name : ""});
    }
    const std::string_view name = pair.substr(0, eq);
    const std::string_view value = pair.substr(eq + 1);
    if (!all_of(name, is_name_char)) return pw::err(rest_request_error{rest_request_errc::bad_query, ""});
    if (!all_of(value, is_value_char)) return pw::err(rest_request_error{rest_request_errc::bad_query, name});
    for (const auto& p : out)
      if (p.name == name) return pw::err(rest_request_error{rest_request_errc::duplicate_param, name});
    if (out.size() == max_query_params) return pw::err(rest_request_error{rest_request_errc::too_many_params, ""});
    out.push_back({name, value});
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

pw::result<rest_request, rest_request_error> parse_rest_request(std::string_view head) {
  auto parsed = detail::parse_http_head(head);
  if (!parsed) return pw::err(rest_request_error{rest_request_errc::malformed, ""});
  const std::string_view line = parsed->start_line;
  // method SP target SP HTTP/1.x, single spaces
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp1 == 0 || sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return pw::err(rest_request_error{rest_request_errc::malformed, ""});
  const std::string_view version = line.substr(sp2 + 1);
  if (version.size() != 8 || !version.starts_with("HTTP/1.") || version[7] < '0' || version[7] > '9')
    return pw::err(rest_request_error{rest_request_errc::malformed, ""});
  rest_request r;
  r.method = line.substr(0, sp1);
  if (!all_of(r.method, detail::is_tchar)) return pw::err(rest_request_error{rest_request_errc::malformed, ""});
  const std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  const auto q = target.find('?');
  r.path = target.substr(0, q);
  if (r.path.empty() || r.path.front() != '/' || !all_of(r.path, is_path_char))
    return pw::err(rest_request_error{rest_request_errc::bad_target, ""});
  if (q != std::string_view::npos) {
    auto params = parse_query(target.substr(q + 1));
    if (!params) return pw::err(params.error());
    r.params = std::move(*params);
  }
  if (parsed->has("Transfer-Encoding")) return pw::err(rest_request_error{rest_request_errc::body_not_allowed, ""});
  if (parsed->has("Content-Length")) {
    const auto len = parsed->single("Content-Length");
    if (!len || *len != "0") return pw::err(rest_request_error{rest_request_errc::body_not_allowed, ""});
  }
  if (auto key = parsed->single("X-MBX-APIKEY")) r.api_key = *key;
  r.keep_alive = version != "HTTP/1.0" && !parsed->has_token("Connection", "close");
  if (version == "HTTP/1.0" && parsed->has_token("Connection", "keep-alive")) r.keep_alive = true;
  return r;
}

}  // namespace ticks
