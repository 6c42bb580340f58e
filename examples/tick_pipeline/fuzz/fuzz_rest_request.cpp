// libFuzzer target: untrusted bytes -> the feed's REST request path: the server handshake's
// head reader (which keeps a plain request whole), then parse_rest_request, and parse_query on
// the raw bytes too. Besides the sanitizers' checks it asserts the parser's promises: every
// returned view lies inside the input, parameter names and values use only their allowed
// characters, and no name appears twice.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ticks/rest_request.hpp"
#include "ticks/ws_handshake.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void check_params(const std::vector<ticks::query_param>& params, std::string_view whole) {
  check(params.size() <= ticks::max_query_params);
  for (std::size_t i = 0; i < params.size(); ++i) {
    check(!params[i].name.empty());
    check(inside(params[i].name, whole) && inside(params[i].value, whole));
    for (const char c : params[i].name) check(c != '&' && c != '=' && c != '%' && c != ' ');
    for (const char c : params[i].value) check(c != '&' && c != '=' && c != '%' && c != ' ');
    for (std::size_t j = 0; j < i; ++j) check(params[j].name != params[i].name);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto q = ticks::parse_query(text)) check_params(*q, text);

  ticks::ws::server_handshake hs;
  auto p = hs.feed(ticks::byte_view(reinterpret_cast<const std::byte*>(data), size));
  const std::string_view head = hs.plain_request();
  if (p || head.empty()) return 0;
  check(hs.plain_request_consumed() <= size);
  check(head.ends_with("\r\n\r\n"));
  auto r = ticks::parse_rest_request(head);
  if (!r) return 0;
  check(inside(r->path, head) && inside(r->method, head));
  check(!r->path.empty() && r->path.front() == '/');
  if (r->api_key) check(inside(*r->api_key, head));
  check_params(r->params, head);
  return 0;
}
