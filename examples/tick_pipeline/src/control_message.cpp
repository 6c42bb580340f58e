#include "ticks/control_message.hpp"

#include <simdjson.h>

#include <algorithm>
#include <cstdint>
#include <utility>

#include "ticks/json_text.hpp"
#include "ticks/stream_set.hpp"

#if SIMDJSON_EXCEPTIONS
#error "the codec uses simdjson's error-code API only: build with SIMDJSON_EXCEPTIONS=0"
#endif

namespace ticks::control {

namespace pw = polarway;
namespace od = simdjson::ondemand;

std::string_view to_string(method m) noexcept {
  switch (m) {
    case method::subscribe:
      return "SUBSCRIBE";
    case method::unsubscribe:
      return "UNSUBSCRIBE";
    case method::list_subscriptions:
      return "LIST_SUBSCRIPTIONS";
  }
  return "";
}

std::string control_error::message() const { return "control message: " + msg; }

namespace {

// ---------------------------------------------------------------------------------------------
// Encoding

void append_id(std::string& out, const request_id& id) {
  out += "\"id\":";
  switch (id.what) {
    case request_id::kind::null:
      out += "null";
      break;
    case request_id::kind::number:
      out += std::to_string(id.number);
      break;
    case request_id::kind::text:
      append_json_string(out, id.text);
      break;
  }
  out += '}';
}

void append_list(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
}

// ---------------------------------------------------------------------------------------------
// Parsing

control_error invalid(std::string what, const request_id& id = {}) {
  return control_error{error_code::invalid_request, "Invalid request: " + what, id};
}

control_error bad_json(simdjson::error_code e, const request_id& id = {}) {
  return control_error{error_code::invalid_json, std::string("Invalid JSON: ") + simdjson::error_message(e), id};
}

// INCORRECT_TYPE from On Demand is either a value of another JSON type (a bad request) or no
// valid value at all (bad JSON): the value's type tells them apart.
control_error typed(od::value& v, simdjson::error_code e, const std::string& what, const request_id& id) {
  if (e != simdjson::INCORRECT_TYPE && e != simdjson::NUMBER_OUT_OF_RANGE && e != simdjson::NUMBER_ERROR)
    return bad_json(e, id);
  od::json_type t;
  if (auto te = v.type().get(t)) return bad_json(te, id);
  return invalid(what, id);
}

bool is_id_char(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

constexpr const char* id_rule =
    "request ID must be an unsigned integer, a string of up to 36 letters, digits, '-' or '_', or null";

pw::result<request_id, control_error> read_id(od::value v) {
  od::json_type t;
  if (auto e = v.type().get(t)) return pw::err(bad_json(e));
  switch (t) {
    case od::json_type::null: {
      bool is_null = false;
      if (auto e = v.is_null().get(is_null)) return pw::err(bad_json(e));
      if (!is_null) return pw::err(bad_json(simdjson::N_ATOM_ERROR));
      return request_id{};
    }
    case od::json_type::number: {
      // A negative, fractional or too large number is not an id; "1.0" and "-0" neither.
      std::string_view raw = v.raw_json_token();
      while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\t' || raw.back() == '\n' || raw.back() == '\r'))
        raw.remove_suffix(1);
      if (raw.empty() || !std::all_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return pw::err(invalid(id_rule));
      std::uint64_t n = 0;
      if (auto e = v.get_uint64().get(n)) return pw::err(typed(v, e, id_rule, {}));
      return request_id::of(n);
    }
    case od::json_type::string: {
      std::string_view s;
      if (auto e = v.get_string().get(s)) return pw::err(typed(v, e, id_rule, {}));
      if (s.size() > max_id_text_length || !std::all_of(s.begin(), s.end(), is_id_char))
        return pw::err(invalid(id_rule));
      return request_id::of(std::string(s));
    }
    default:
      return pw::err(invalid(id_rule));
  }
}

// An array of strings: stream names (request params) or a reply's list.
pw::result<std::vector<std::string>, control_error> read_streams(od::value v, const char* field, const request_id& id) {
  std::vector<std::string> out;
  od::array arr;
  if (auto e = v.get_array().get(arr)) return pw::err(typed(v, e, std::string("\"") + field + "\" must be an array", id));
  for (auto item : arr) {
    od::value elem;
    if (auto e = std::move(item).get(elem)) return pw::err(bad_json(e, id));
    std::string_view s;
    if (auto e = elem.get_string().get(s))
      return pw::err(typed(elem, e, std::string("every element of \"") + field + "\" must be a string", id));
    if (out.size() == max_params)
      return pw::err(invalid("more than " + std::to_string(max_params) + " streams in \"" + field + "\"", id));
    if (auto p = stream_name_problem(s)) return pw::err(invalid("invalid stream name " + *p, id));
    out.emplace_back(s);
  }
  return out;
}

// One message being parsed: its padded copy, the parser and the document over it. The id is
// read first of all (find_id), so that any later error can carry it.
struct fields {
  simdjson::padded_string text;
  od::parser parser;
  od::document doc;
};

pw::result<void, control_error> open_object(fields& f, od::object& root) {
  if (auto e = f.parser.iterate(f.text).get(f.doc)) return pw::err(bad_json(e));
  if (auto e = f.doc.get_object().get(root)) {
    // Another JSON value, or none at all ("nul", "[1,"): only a valid one is a bad request.
    if (e != simdjson::INCORRECT_TYPE) return pw::err(bad_json(e));
    od::json_type t;
    if (auto te = f.doc.type().get(t)) return pw::err(bad_json(te));
    simdjson::error_code ve = simdjson::SUCCESS;
    switch (t) {
      case od::json_type::null: {
        bool is_null = false;
        ve = f.doc.is_null().get(is_null);
        if (!ve && !is_null) ve = simdjson::N_ATOM_ERROR;
        break;
      }
      case od::json_type::boolean: {
        bool b = false;
        ve = f.doc.get_bool().get(b);
        break;
      }
      case od::json_type::number: {
        double d = 0;
        ve = f.doc.get_double().get(d);
        if (ve == simdjson::NUMBER_OUT_OF_RANGE || ve == simdjson::INCORRECT_TYPE) ve = simdjson::SUCCESS;
        break;
      }
      case od::json_type::string: {
        std::string_view sv;
        ve = f.doc.get_string().get(sv);
        break;
      }
      case od::json_type::array: {
        od::array arr;
        ve = f.doc.get_array().get(arr);
        // Stop at the first bad element: simdjson must not be advanced past an error.
        if (!ve) {
          for (auto item : arr) {
            ve = item.error();
            if (ve) break;
          }
        }
        break;
      }
      case od::json_type::object:
        break;
    }
    if (ve) return pw::err(bad_json(ve));
    if (f.doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return pw::err(bad_json(simdjson::TRAILING_CONTENT));
    return pw::err(invalid("the message must be a JSON object"));
  }
  return pw::ok();
}

// Finds "id" first (an unordered lookup), then rewinds for the in-order pass.
pw::result<request_id, control_error> find_id(od::object& root, bool required) {
  od::value v;
  const auto found = root.find_field_unordered("id").get(v);
  request_id id;
  if (found == simdjson::SUCCESS) {
    auto r = read_id(v);
    if (!r) return pw::err(std::move(r.error()));
    id = std::move(*r);
  } else if (found != simdjson::NO_SUCH_FIELD) {
    return pw::err(bad_json(found));
  } else if (required) {
    return pw::err(invalid("missing field \"id\""));
  }
  bool ignored;
  if (auto e = root.reset().get(ignored)) return pw::err(bad_json(e, id));
  return id;
}

pw::result<void, control_error> at_end(fields& f, const request_id& id) {
  if (f.doc.current_location().error() != simdjson::OUT_OF_BOUNDS) return pw::err(bad_json(simdjson::TRAILING_CONTENT, id));
  return pw::ok();
}

}  // namespace

std::string encode(const request& r) {
  std::string out = "{\"method\":";
  append_json_string(out, to_string(r.what));
  if (r.what != method::list_subscriptions) {
    out += ",\"params\":";
    append_list(out, r.params);
  }
  out += ',';
  append_id(out, r.id);
  return out;
}

std::string encode_done(const request_id& id) {
  std::string out = "{\"result\":null,";
  append_id(out, id);
  return out;
}

std::string encode_list(const std::vector<std::string>& streams, const request_id& id) {
  std::string out = "{\"result\":";
  append_list(out, streams);
  out += ',';
  append_id(out, id);
  return out;
}

std::string encode_error(const control_error& e) {
  std::string out = "{\"error\":{\"code\":" + std::to_string(static_cast<int>(e.code)) + ",\"msg\":";
  append_json_string(out, e.msg);
  out += "},";
  append_id(out, e.id);
  return out;
}

pw::result<request, control_error> parse_request(std::string_view json) {
  fields f;
  f.text = simdjson::padded_string(json);
  od::object root;
  if (auto o = open_object(f, root); !o) return pw::err(std::move(o.error()));
  auto id = find_id(root, true);
  if (!id) return pw::err(std::move(id.error()));
  request r;
  r.id = std::move(*id);
  bool have_method = false, have_params = false, have_id = false;
  for (auto item : root) {
    od::field field;
    if (auto e = std::move(item).get(field)) return pw::err(bad_json(e, r.id));
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return pw::err(bad_json(e, r.id));
    if (key == "method") {
      if (have_method) return pw::err(invalid("duplicate field \"method\"", r.id));
      have_method = true;
      std::string_view m;
      od::value v = field.value();
      if (auto e = v.get_string().get(m)) return pw::err(typed(v, e, "\"method\" must be a string", r.id));
      if (m == "SUBSCRIBE") r.what = method::subscribe;
      else if (m == "UNSUBSCRIBE") r.what = method::unsubscribe;
      else if (m == "LIST_SUBSCRIPTIONS") r.what = method::list_subscriptions;
      else return pw::err(invalid("unknown method (expected SUBSCRIBE, UNSUBSCRIBE or LIST_SUBSCRIPTIONS)", r.id));
    } else if (key == "params") {
      if (have_params) return pw::err(invalid("duplicate field \"params\"", r.id));
      have_params = true;
      auto p = read_streams(field.value(), "params", r.id);
      if (!p) return pw::err(std::move(p.error()));
      r.params = std::move(*p);
    } else if (key == "id") {
      if (have_id) return pw::err(invalid("duplicate field \"id\"", r.id));
      have_id = true;
      // Read already; its value is skipped here.
    } else {
      return pw::err(invalid("unknown field (expected method, params, id)", r.id));
    }
  }
  if (auto e = at_end(f, r.id); !e) return pw::err(std::move(e.error()));
  if (!have_method) return pw::err(invalid("missing field \"method\"", r.id));
  if (r.what == method::list_subscriptions) {
    if (!r.params.empty()) return pw::err(invalid("LIST_SUBSCRIPTIONS takes no params", r.id));
  } else if (r.params.empty()) {
    return pw::err(invalid(std::string(to_string(r.what)) + " needs at least one stream in \"params\"", r.id));
  }
  return r;
}

pw::result<reply, control_error> parse_reply(std::string_view json) {
  fields f;
  f.text = simdjson::padded_string(json);
  od::object root;
  if (auto o = open_object(f, root); !o) return pw::err(std::move(o.error()));
  auto id = find_id(root, true);
  if (!id) return pw::err(std::move(id.error()));
  reply r;
  r.id = std::move(*id);
  bool have_result = false, have_error = false, have_id = false;
  for (auto item : root) {
    od::field field;
    if (auto e = std::move(item).get(field)) return pw::err(bad_json(e, r.id));
    std::string_view key;
    if (auto e = field.unescaped_key().get(key)) return pw::err(bad_json(e, r.id));
    if (key == "result") {
      if (have_result) return pw::err(invalid("duplicate field \"result\"", r.id));
      have_result = true;
      od::value v = field.value();
      bool is_null = false;
      if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) {
        r.what = reply::kind::done;
      } else {
        auto list = read_streams(v, "result", r.id);
        if (!list) return pw::err(std::move(list.error()));
        r.what = reply::kind::list;
        r.streams = std::move(*list);
      }
    } else if (key == "error") {
      if (have_error) return pw::err(invalid("duplicate field \"error\"", r.id));
      have_error = true;
      r.what = reply::kind::error;
      od::object err;
      od::value v = field.value();
      if (auto e = v.get_object().get(err)) return pw::err(typed(v, e, "\"error\" must be an object", r.id));
      bool have_code = false, have_msg = false;
      for (auto sub : err) {
        od::field ef;
        if (auto e = std::move(sub).get(ef)) return pw::err(bad_json(e, r.id));
        std::string_view ek;
        if (auto e = ef.unescaped_key().get(ek)) return pw::err(bad_json(e, r.id));
        od::value ev = ef.value();
        if (ek == "code" && !have_code) {
          have_code = true;
          std::int64_t code = 0;
          if (auto e = ev.get_int64().get(code)) return pw::err(typed(ev, e, "\"code\" must be an integer", r.id));
          if (code < INT32_MIN || code > INT32_MAX) return pw::err(invalid("\"code\" out of range", r.id));
          r.error_code = static_cast<int>(code);
        } else if (ek == "msg" && !have_msg) {
          have_msg = true;
          std::string_view m;
          if (auto e = ev.get_string().get(m)) return pw::err(typed(ev, e, "\"msg\" must be a string", r.id));
          r.error_msg = std::string(m.substr(0, 1024));
        } else {
          return pw::err(invalid("\"error\" holds \"code\" and \"msg\" once each", r.id));
        }
      }
      if (!have_code || !have_msg) return pw::err(invalid("\"error\" needs \"code\" and \"msg\"", r.id));
    } else if (key == "id") {
      if (have_id) return pw::err(invalid("duplicate field \"id\"", r.id));
      have_id = true;
    } else {
      return pw::err(invalid("unknown field in a reply (expected result or error, and id)", r.id));
    }
  }
  if (auto e = at_end(f, r.id); !e) return pw::err(std::move(e.error()));
  if (have_result == have_error) return pw::err(invalid("a reply holds exactly one of \"result\" and \"error\"", r.id));
  return r;
}

bool is_control_reply(std::string_view json) { return parse_reply(json).is_ok(); }

}  // namespace ticks::control
