// Fuzz target: the HTTP API's parsers of outside bytes. The input is an HTTP request as it
// arrives on the listener: its head goes through kafka::parse_http_head (the listener's
// request parser), the query string through query_param/url_decode, and the body through
// parse_sql_api_request (POST /api/sql and /api/subscribe bodies). Nothing may crash, leak or
// assert; a malformed input only gives nullopt or SqlError. Build: src/server/README.md
// ("HTTP API").

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/error.hpp"
#include "kafka/http.hpp"
#include "server/http_api.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace freshet;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t end = in.find("\r\n\r\n");
  std::string_view head = in.substr(0, end);
  std::string_view body = end == std::string_view::npos ? in : in.substr(end + 4);
  if (auto req = kafka::parse_http_head(head)) {
    (void)kafka::url_decode(req->path);
    (void)kafka::query_param(req->query, "query");
    (void)kafka::query_param(req->query, "options");
    (void)req->header("authorization");
  }
  try {
    server::SqlApiRequest r = server::parse_sql_api_request(body);
    // {"query": ...} is one query; {"queries": [...]} any number, none included (the answer is
    // then {"results": []}; /api/subscribe refuses it).
    if (!r.extended && r.queries.size() != 1) __builtin_trap();
  } catch (const SqlError&) {
  }
  return 0;
}
