#pragma once
// The HTTP/1.1 pieces of Freshet's one HTTP listener (SchemaRegistryServer in
// schema_registry.hpp serves the connections): the request as parsed from the wire, the
// response a handler gives back, and the exchange through which a handler may stream instead
// (server-sent events). Handlers other than the registry's (src/server/http_api.hpp: the SQL
// API, /metrics, /health, the console) plug in as an HttpHandler.
//
// Threads: a request and its exchange belong to the connection's thread; nothing here is
// shared.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace freshet::kafka {

struct HttpRequest {
  std::string method;   // "GET", "POST", ... as sent
  std::string target;   // the request target as sent: path and query
  std::string path;     // target before '?', still percent-encoded
  std::string query;    // target after '?', still percent-encoded ("" when none)
  std::string version;  // "HTTP/1.1"
  // Header fields in arrival order, names lower-cased, values trimmed.
  std::vector<std::pair<std::string, std::string>> headers;
  size_t content_length = 0;
  bool close = false;  // the client asked to close after this request (or spoke HTTP/1.0)
  std::string body;

  // The first field of that (lower-case) name, or nullptr.
  const std::string* header(std::string_view name) const;
};

// Parses a request head: the request line and the header fields up to, not including, the
// blank line. nullopt when malformed (no method/target/version, a non-HTTP version, a bad
// Content-Length, Transfer-Encoding (chunked bodies are not accepted), a field line without
// a colon). Never throws on any input; the fuzz target src/kafka/fuzz_http.cpp checks that.
std::optional<HttpRequest> parse_http_head(std::string_view head);

// Percent-decoding; with plus_is_space, '+' decodes to ' ' (form and query encoding).
std::string url_decode(std::string_view s, bool plus_is_space = false);
// The decoded value of the first name=value pair of a query string, or nullopt.
std::optional<std::string> query_param(std::string_view query, std::string_view name);

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields (Location, ...)
};

// The standard reason phrase of a status code ("OK", "Not Found", ...).
const char* http_reason(int status);

// What a handler may do beyond returning a response: stream one (Content-Length unknown; the
// connection closes once the handler returns), and notice that the client went away.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  // Sends the status line and header fields now. false when the client is gone.
  virtual bool begin_stream(int status, std::string_view content_type,
                            const std::vector<std::pair<std::string, std::string>>& headers) = 0;
  // Sends bytes of a begun stream. false when the client is gone.
  virtual bool write(std::string_view data) = 0;
  virtual bool streaming() const = 0;
  // True once the client closed or reset its side of the connection. Never blocks; any thread.
  virtual bool client_gone() const = 0;
};

// A handler answers the requests it owns and returns nullopt for the others (the registry's
// routes then). After begin_stream() its return value is ignored.
using HttpHandler = std::function<std::optional<HttpResponse>(const HttpRequest&, HttpExchange&)>;

}  // namespace freshet::kafka
