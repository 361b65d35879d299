#pragma once
// HttpApi: the routes of the HTTP listener (--http-listen) other than the schema registry's,
// plugged into kafka::SchemaRegistryServer as its Options::handler (README.md "HTTP API"):
//
//   POST /api/sql          Materialize's SQL-over-HTTP: {"query": "s1; s2"} (simple) or
//                          {"queries": [{"query": "...", "params": [...]}]} (extended), answered
//                          {"results": [{"tag", "rows", "desc", "notices"} | {"ok", "notices"} |
//                          {"error": {"message", "code", "detail"?, "hint"?}, "notices"}]}.
//   GET|POST /api/subscribe  a SUBSCRIBE as server-sent events (text/event-stream).
//   GET /metrics           Prometheus text format 0.0.4 (server/metrics.hpp).
//   GET /health            200 "ok" while serving; never needs a password.
//   GET /, /console/...    the web console (console_assets.hpp).
//
// Every route but /health requires authentication when passwords are configured (the users
// and passwords of pgwire and Kafka SASL): HTTP Basic, or the console's own proof
// (set_console_authenticator). SQL runs in a server::Session of its own per request, as the
// authenticated user, with the session's limits (statement_timeout, memory budget); a client
// that disconnects cancels its statement or subscription.
//
// Threads: handle() runs on the listener's connection threads, any number at once; HttpApi
// holds no state of its own that changes after construction.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "kafka/http.hpp"

namespace freshet::server {

class Coordinator;

// One statement (extended) or statement list (simple) of a POST /api/sql body.
struct SqlApiQuery {
  std::string query;
  std::vector<std::optional<std::string>> params;  // text values; nullopt = NULL
};
struct SqlApiRequest {
  bool extended = false;  // "queries": one statement per query, with params
  std::vector<SqlApiQuery> queries;
};
// Parses a POST /api/sql body. Throws SqlError (08P01) with what is wrong. Any input is safe
// (fuzzed in src/server/fuzz_http_api.cpp).
SqlApiRequest parse_sql_api_request(std::string_view body);

class HttpApi {
 public:
  struct Options {
    // Answers larger than this (the JSON of /api/sql) end in an error result (54000).
    size_t max_result_bytes = 64 * 1024 * 1024;
    // Rows per server-sent event of /api/subscribe.
    size_t subscribe_batch_rows = 1000;
    // A progress event at most this often when no rows changed.
    int progress_interval_ms = 1000;
  };
  HttpApi(Coordinator& coordinator, Options options);

  // The listener's handler: nullopt for the routes it leaves to the schema registry.
  std::optional<kafka::HttpResponse> handle(const kafka::HttpRequest& request, kafka::HttpExchange& exchange);

  // The authenticated user of a request, or nullopt (answer 401). Without passwords
  // configured every request is accepted, as the Basic user name it names or "freshet".
  std::optional<std::string> authenticate(const kafka::HttpRequest& request) const;

  // A /metrics body provider (set by main once the endpoints exist; default: the coordinator's
  // metrics only).
  using MetricsSource = std::function<void(std::string& out)>;
  void set_extra_metrics(MetricsSource source) { extra_metrics_ = std::move(source); }

 private:
  kafka::HttpResponse sql(const kafka::HttpRequest& request, const std::string& user, kafka::HttpExchange& exchange);
  std::optional<kafka::HttpResponse> subscribe(const kafka::HttpRequest& request, const std::string& user,
                                               kafka::HttpExchange& exchange);
  kafka::HttpResponse metrics();

  Coordinator& coordinator_;
  const Options options_;
  MetricsSource extra_metrics_;  // set before the listener starts
};

}  // namespace freshet::server
