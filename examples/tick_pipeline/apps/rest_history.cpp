#include "rest_history.hpp"

#include <charconv>

namespace ticks::app {

namespace {

rest_reply error_reply(int status, int code, std::string_view msg) {
  std::string body = "{\"code\":" + std::to_string(code) + ",\"msg\":\"";
  body += msg;
  body += "\"}";
  return rest_reply{status, std::move(body), polarway::none};
}

rest_reply mandatory(std::string_view name) {
  return error_reply(400, -1102,
                     "Mandatory parameter '" + std::string(name) + "' was not sent, was empty/null, or malformed.");
}

rest_reply illegal(std::string_view name, std::string_view legal) {
  return error_reply(400, -1100,
                     "Illegal characters found in parameter '" + std::string(name) + "'; legal range is '" +
                         std::string(legal) + "'.");
}

// A decimal integer of 1 to 19 digits that fits int64.
polarway::option<std::int64_t> parse_id(std::string_view v) {
  if (v.empty() || v.size() > 19) return polarway::none;
  std::int64_t n = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || n < 0 || v.front() == '-' || v.front() == '+')
    return polarway::none;
  return n;
}

void put_price(std::string& out, price p) {
  char buf[price::max_chars + 8];
  out.append(buf, p.to_chars(buf));
}

void put_int(std::string& out, std::int64_t v) {
  char buf[24];
  const auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

// price * qty, both 8 decimals, rounded half up to 8 decimals (both are positive).
price quote_quantity(price p, price q) {
  const auto product = static_cast<__int128>(p.raw) * q.raw;
  return price::from_raw(static_cast<std::int64_t>((product + price::one / 2) / price::one));
}

void append_json(std::string& out, const agg_trade& a) {
  out += "{\"a\":";
  put_int(out, a.agg_trade_id);
  out += ",\"p\":\"";
  put_price(out, a.price);
  out += "\",\"q\":\"";
  put_price(out, a.quantity);
  out += "\",\"f\":";
  put_int(out, a.first_trade_id);
  out += ",\"l\":";
  put_int(out, a.last_trade_id);
  out += ",\"T\":";
  put_int(out, a.trade_time_ms);
  out += a.buyer_is_maker ? ",\"m\":true" : ",\"m\":false";
  out += ",\"M\":true}";
}

void append_json(std::string& out, const trade& t) {
  out += "{\"id\":";
  put_int(out, t.trade_id);
  out += ",\"price\":\"";
  put_price(out, t.price);
  out += "\",\"qty\":\"";
  put_price(out, t.quantity);
  out += "\",\"quoteQty\":\"";
  put_price(out, quote_quantity(t.price, t.quantity));
  out += "\",\"time\":";
  put_int(out, t.trade_time_ms);
  out += t.buyer_is_maker ? ",\"isBuyerMaker\":true" : ",\"isBuyerMaker\":false";
  out += ",\"isBestMatch\":true}";
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 429:
      return "Too Many Requests";
  }
  return "Error";
}

}  // namespace

rest_history::rest_history(market* m, std::span<const symbol> symbols, std::string api_key)
    : market_(m), api_key_(std::move(api_key)) {
  for (std::size_t i = 0; i < symbols.size(); ++i) symbol_index_.emplace(std::string(symbols[i].view()), i);
}

rest_reply rest_history::reject(const rest_request_error& e) {
  switch (e.code) {
    case rest_request_errc::bad_query:
      if (!e.param.empty()) return illegal(e.param, "^[A-Za-z0-9._-]*$");
      return error_reply(400, -1100, "Illegal characters found in a parameter.");
    case rest_request_errc::duplicate_param:
      return error_reply(400, -1101, "Duplicate values for parameter '" + std::string(e.param) + "'.");
    case rest_request_errc::too_many_params:
      return error_reply(400, -1101, "Too many parameters sent for this endpoint.");
    case rest_request_errc::bad_target:
      return error_reply(404, -1000, "Unknown path.");
    case rest_request_errc::body_not_allowed:
      return error_reply(400, -1000, "A GET request has no body.");
    case rest_request_errc::malformed:
      break;
  }
  return error_reply(400, -1000, "Malformed request.");
}

rest_reply rest_history::answer(const rest_request& r, std::int64_t now_ns) const {
  const bool agg = r.path == "/api/v3/aggTrades";
  if ((!agg && r.path != "/api/v3/historicalTrades") || r.method != "GET")
    return error_reply(404, -1000, "Unknown path.");
  if (!market_) return error_reply(404, -1000, "REST history needs a market: start polarway-feed with --rate.");
  if (!agg) {
    if (!r.api_key || r.api_key->empty()) return error_reply(401, -2014, "API-key format invalid.");
    if (!api_key_.empty() && *r.api_key != api_key_)
      return error_reply(401, -2015, "Invalid API-key, IP, or permissions for action.");
  }
  for (const auto& p : r.params)
    if (p.name != "symbol" && p.name != "fromId" && p.name != "limit")
      return error_reply(400, -1104, "Not all sent parameters were read; parameter '" + std::string(p.name) +
                                         "' is not one of symbol, fromId, limit.");
  const auto sym = r.param("symbol");
  if (!sym || sym->empty()) return mandatory("symbol");
  for (const char c : *sym)
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return illegal("symbol", "^[A-Z0-9]{1,20}$");
  const auto it = symbol_index_.find(*sym);
  if (it == symbol_index_.end()) return error_reply(400, -1121, "Invalid symbol.");
  const auto from_text = r.param("fromId");
  if (!from_text || from_text->empty()) return mandatory("fromId");
  const auto from = parse_id(*from_text);
  if (!from) return illegal("fromId", "^[0-9]{1,19}$");
  std::uint64_t limit = 500;
  if (const auto l = r.param("limit")) {
    const auto n = parse_id(*l);
    if (!n) return illegal("limit", "^[0-9]{1,19}$");
    if (*n < 1 || *n > 1000) return error_reply(400, -1130, "Data sent for parameter 'limit' is not valid.");
    limit = static_cast<std::uint64_t>(*n);
  }

  // Scan the kind's market from the last snapshot before fromId up to the head.
  const message_kind kind = agg ? message_kind::agg_trade : message_kind::trade;
  const std::size_t s = it->second;
  const std::uint64_t head = market_->head(now_ns);
  feed_generator gen = market_->generator_at(kind, market_->scan_start(kind, s, *from, head), false, false);
  std::string body = "[";
  std::uint64_t n = 0;
  while (n < limit && gen.produced() < head) {
    gen.skip();
    if (gen.last_symbol_index() != s) continue;
    if (agg) {
      const auto& a = std::get<agg_trade>(gen.last());
      if (a.agg_trade_id < *from) continue;
      if (n++) body += ',';
      append_json(body, a);
    } else {
      const auto& t = std::get<trade>(gen.last());
      if (t.trade_id < *from) continue;
      if (n++) body += ',';
      append_json(body, t);
    }
  }
  body += ']';
  return rest_reply{200, std::move(body), polarway::none};
}

polarway::option<rest_reply> rest_rate_limit::admit(std::int64_t now_ns) {
  if (per_s_ == 0) return polarway::none;
  const std::int64_t second = now_ns / 1'000'000'000;
  std::lock_guard lock(mu_);
  if (second != second_) {
    second_ = second;
    used_ = 0;
  }
  if (used_ < per_s_) {
    ++used_;
    return polarway::none;
  }
  rest_reply r = error_reply(429, -1003,
                             "Too many requests; current limit is " + std::to_string(per_s_) +
                                 " requests per second. Please use the websocket for live updates to avoid polling "
                                 "the API.");
  r.retry_after_s = 1;
  return r;
}

std::string http_json_response(const rest_reply& reply, bool keep_alive) {
  std::string r = "HTTP/1.1 " + std::to_string(reply.status) + " ";
  r += reason_phrase(reply.status);
  r += "\r\nContent-Type: application/json;charset=UTF-8\r\nContent-Length: ";
  r += std::to_string(reply.body.size());
  if (reply.retry_after_s) r += "\r\nRetry-After: " + std::to_string(*reply.retry_after_s);
  r += keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n";
  r += reply.body;
  return r;
}

}  // namespace ticks::app
