// libFuzzer target: untrusted bytes -> the --publish feed's request line parser, the path every
// byte a subscriber sends before its stream starts takes (up to its first '\n').
//
// Besides the sanitizers' checks it asserts the parser's promises: a request that parses
// formats to one line that parses to the same request; its symbols are sorted and distinct; a
// refusal has a reason, printable, so that it can be sent back as is.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ticks/subscription_request.hpp"

namespace {

void check(bool ok) {
  if (!ok) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  text = text.substr(0, text.find('\n'));
  if (auto r = ticks::parse_subscription_request(text)) {
    check(r->symbols.size() <= ticks::max_subscribed_symbols);
    check(std::adjacent_find(r->symbols.begin(), r->symbols.end(), [](const auto& a, const auto& b) {
            return a.view() >= b.view();
          }) == r->symbols.end());
    const std::string line = ticks::format_subscription_request(*r);
    check(line.back() == '\n');
    auto again = ticks::parse_subscription_request(std::string_view(line).substr(0, line.size() - 1));
    check(again.is_ok());
    check(again->kind == r->kind && again->policy == r->policy && again->symbols == r->symbols);
  } else {
    const std::string& why = r.error().text;
    check(!why.empty());
    check(std::all_of(why.begin(), why.end(), [](char c) { return c >= 0x20 && c < 0x7f; }));
  }
  return 0;
}
