// parse_sql_api_request (http_api.hpp): the POST /api/sql body parser. In a file and library
// of its own (freshet_server_http_request: common and kafka only) so that its fuzz target
// (fuzz_http_api.cpp) builds without the rest of src/server, which matters for the
// sanitizer build of the fuzz drivers (`make fuzz-asan`, test/README.md).

#include "common/format.hpp"
#include "server/http_api.hpp"

namespace freshet::server {

namespace {

const JsonValue* member(const JsonValue& o, std::string_view name) {
  for (const auto& [k, v] : o.object)
    if (k == name) return &v;
  return nullptr;
}

[[noreturn]] void bad_request(const std::string& why) { throw SqlError(sqlstate::kProtocolViolation, why); }

}  // namespace

SqlApiRequest parse_sql_api_request(std::string_view body) {
  JsonValue doc;
  try {
    doc = json_parse(body);
  } catch (const SqlError& e) {
    bad_request("the request body is not JSON: " + e.message());
  }
  if (doc.kind != JsonValue::Kind::kObject) bad_request("the request body must be a JSON object");
  const JsonValue* query = member(doc, "query");
  const JsonValue* queries = member(doc, "queries");
  SqlApiRequest req;
  if ((query != nullptr) == (queries != nullptr)) bad_request("the request body needs exactly one of \"query\" and \"queries\"");
  if (query) {
    if (query->kind != JsonValue::Kind::kString) bad_request("\"query\" must be a string");
    req.queries.push_back({query->str, {}});
    return req;
  }
  req.extended = true;
  if (queries->kind != JsonValue::Kind::kArray) bad_request("\"queries\" must be an array");
  for (const JsonValue& q : queries->array) {
    if (q.kind != JsonValue::Kind::kObject) bad_request("each element of \"queries\" must be an object");
    const JsonValue* text = member(q, "query");
    if (!text || text->kind != JsonValue::Kind::kString) bad_request("each element of \"queries\" needs a \"query\" string");
    SqlApiQuery out{text->str, {}};
    if (const JsonValue* params = member(q, "params"); params && params->kind != JsonValue::Kind::kNull) {
      if (params->kind != JsonValue::Kind::kArray) bad_request("\"params\" must be an array");
      for (const JsonValue& p : params->array) {
        switch (p.kind) {
          case JsonValue::Kind::kNull: out.params.emplace_back(std::nullopt); break;
          case JsonValue::Kind::kString: out.params.emplace_back(p.str); break;
          case JsonValue::Kind::kNumber: out.params.emplace_back(p.str); break;
          case JsonValue::Kind::kBool: out.params.emplace_back(p.b ? "true" : "false"); break;
          default: {
            std::string text_value;
            json_write(p, text_value);  // an object or array: its JSON text (a jsonb parameter)
            out.params.emplace_back(std::move(text_value));
          }
        }
      }
    }
    req.queries.push_back(std::move(out));
  }
  return req;
}

}  // namespace freshet::server
