#include "ticks/control_message.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ticks::control;

TEST_CASE("requests round-trip through encode and parse_request") {
  const std::vector<request> cases = {
      {method::subscribe, {"btcusdt@aggTrade", "btcusdt@trade"}, request_id::of(1)},
      {method::unsubscribe, {"ethusdt@bookTicker"}, request_id::of(std::string("a-1_b"))},
      {method::list_subscriptions, {}, request_id{}},
      {method::subscribe, {"x@depth@100ms"}, request_id::of(UINT64_MAX)},
  };
  for (const request& r : cases) {
    const std::string text = encode(r);
    auto back = parse_request(text);
    REQUIRE_MESSAGE(back, text);
    CHECK(back->what == r.what);
    CHECK(back->params == r.params);
    CHECK(back->id == r.id);
  }
  CHECK(encode(cases[0]) == R"({"method":"SUBSCRIBE","params":["btcusdt@aggTrade","btcusdt@trade"],"id":1})");
  CHECK(encode(cases[2]) == R"({"method":"LIST_SUBSCRIPTIONS","id":null})");
}

TEST_CASE("replies round-trip through encode and parse_reply") {
  CHECK(encode_done(request_id::of(1)) == R"({"result":null,"id":1})");
  CHECK(encode_list({"btcusdt@aggTrade"}, request_id::of(3)) == R"({"result":["btcusdt@aggTrade"],"id":3})");
  const control_error e{error_code::invalid_request, "Invalid request: \"x\"\n", request_id::of(7)};
  CHECK(encode_error(e) == R"({"error":{"code":2,"msg":"Invalid request: \"x\"\u000a"},"id":7})");

  auto done = parse_reply(encode_done(request_id::of(std::string("abc"))));
  REQUIRE(done);
  CHECK(done->what == reply::kind::done);
  CHECK(done->id == request_id::of(std::string("abc")));
  auto list = parse_reply(encode_list({"a@trade", "b@trade"}, request_id::of(3)));
  REQUIRE(list);
  CHECK(list->what == reply::kind::list);
  CHECK(list->streams == std::vector<std::string>{"a@trade", "b@trade"});
  auto empty = parse_reply(R"({"result":[],"id":4})");
  REQUIRE(empty);
  CHECK(empty->what == reply::kind::list);
  CHECK(empty->streams.empty());
  auto err = parse_reply(encode_error(e));
  REQUIRE(err);
  CHECK(err->what == reply::kind::error);
  CHECK(err->error_code == 2);
  CHECK(err->error_msg == e.msg);
  CHECK(err->id == request_id::of(7));
  // Binance's order of fields and spacing.
  CHECK(parse_reply(R"({ "id": 1, "result": null })"));
}

TEST_CASE("hostile requests get a typed error with the reply's code, and the id when known") {
  struct bad {
    const char* json;
    error_code code;
    const char* mentions;
    request_id id;
  };
  const std::vector<bad> cases = {
      {"", error_code::invalid_json, "Invalid JSON", {}},
      {"{", error_code::invalid_json, "Invalid JSON", {}},
      {"nul", error_code::invalid_json, "Invalid JSON", {}},
      {R"({"method":"SUBSCRIBE","params":["a@trade"],"id":1} x)", error_code::invalid_json, "Invalid JSON", {}},
      {R"({"method":"SUBSCRIBE","params":["a@trade",],"id":1})", error_code::invalid_json, "Invalid JSON", request_id::of(1)},
      {"[]", error_code::invalid_request, "JSON object", {}},
      // A bad separator inside a top-level array: the scan must stop at the first error.
      {R"(["result":["a@trade"],"id":3})", error_code::invalid_json, "Invalid JSON", {}},
      {"42", error_code::invalid_request, "JSON object", {}},
      {R"({"method":"SUBSCRIBE","params":["a@trade"]})", error_code::invalid_request, "missing field \"id\"", {}},
      {R"({"params":["a@trade"],"id":1})", error_code::invalid_request, "missing field \"method\"", request_id::of(1)},
      {R"({"method":"FOO","id":2})", error_code::invalid_request, "unknown method", request_id::of(2)},
      {R"({"method":7,"id":2})", error_code::invalid_request, "\"method\" must be a string", request_id::of(2)},
      {R"({"method":"SUBSCRIBE","params":"a@trade","id":3})", error_code::invalid_request, "must be an array", request_id::of(3)},
      {R"({"method":"SUBSCRIBE","params":[1],"id":3})", error_code::invalid_request, "must be a string", request_id::of(3)},
      {R"({"method":"SUBSCRIBE","params":["BTCUSDT@trade"],"id":3})", error_code::invalid_request, "invalid stream name", request_id::of(3)},
      {R"({"method":"SUBSCRIBE","params":["btcusdt"],"id":3})", error_code::invalid_request, "no '@'", request_id::of(3)},
      {R"({"method":"SUBSCRIBE","params":[],"id":3})", error_code::invalid_request, "at least one stream", request_id::of(3)},
      {R"({"method":"LIST_SUBSCRIPTIONS","params":["a@trade"],"id":3})", error_code::invalid_request, "takes no params", request_id::of(3)},
      {R"({"method":"SUBSCRIBE","method":"UNSUBSCRIBE","params":["a@trade"],"id":4})", error_code::invalid_request, "duplicate", request_id::of(4)},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":4,"id":5})", error_code::invalid_request, "duplicate field \"id\"", request_id::of(4)},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":4,"x":1})", error_code::invalid_request, "unknown field", request_id::of(4)},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":-1})", error_code::invalid_request, "unsigned integer", {}},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":1.5})", error_code::invalid_request, "unsigned integer", {}},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":18446744073709551616})", error_code::invalid_request, "unsigned integer", {}},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":"has space"})", error_code::invalid_request, "unsigned integer", {}},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":"0123456789012345678901234567890123456"})", error_code::invalid_request, "unsigned integer", {}},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":true})", error_code::invalid_request, "unsigned integer", {}},
      {R"({"method":"LIST_SUBSCRIPTIONS","id":{}})", error_code::invalid_request, "unsigned integer", {}},
  };
  for (const bad& b : cases) {
    auto r = parse_request(b.json);
    const std::string json = b.json;
    REQUIRE_MESSAGE(!r, json);
    CHECK_MESSAGE(r.error().code == b.code, json);
    CHECK_MESSAGE(r.error().msg.find(b.mentions) != std::string::npos, json, " -> ", r.error().msg);
    CHECK_MESSAGE(r.error().id == b.id, json, " -> ", r.error().msg);
    // Every error encodes as a reply the ingest side parses back.
    auto back = parse_reply(encode_error(r.error()));
    REQUIRE(back);
    CHECK(back->error_msg == r.error().msg);
  }
}

TEST_CASE("more than 1024 params is refused; 1024 is fine") {
  request r{method::subscribe, {}, request_id::of(9)};
  for (int i = 0; i < 1024; ++i) r.params.push_back("s" + std::to_string(i) + "@trade");
  CHECK(parse_request(encode(r)));
  r.params.push_back("extra@trade");
  auto e = parse_request(encode(r));
  REQUIRE(!e);
  CHECK(e.error().msg.find("more than 1024") != std::string::npos);
  CHECK(e.error().id == request_id::of(9));
}

TEST_CASE("hostile replies are refused; ticks are not replies") {
  for (const char* json : {
           R"({"result":null})", R"({"id":1})", R"({"result":null,"error":{"code":2,"msg":"x"},"id":1})",
           R"({"result":5,"id":1})", R"({"result":[5],"id":1})", R"({"error":{"code":"2","msg":"x"},"id":1})",
           R"({"error":{"code":2},"id":1})", R"({"error":{"code":2,"msg":"x","y":1},"id":1})",
           R"({"error":{"code":99999999999,"msg":"x"},"id":1})", R"({"result":null,"id":1,"extra":0})",
           R"({"result":null,"id":1}{})", "[1]", "",
           R"({"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1.0","q":"1.0","T":1,"m":true})",
           R"({"stream":"btcusdt@trade","data":{"e":"trade"}})"}) {
    CHECK_MESSAGE(!parse_reply(json), json);
    CHECK_MESSAGE(!is_control_reply(json), json);
  }
  CHECK(is_control_reply(R"({"result":null,"id":1})"));
  CHECK(is_control_reply(R"({"error":{"code":2,"msg":"Invalid request: x"},"id":null})"));
}
