#include "server/http_api.hpp"
#include "server/role_statements.hpp"
#include "server/roles.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/format.hpp"
#include "common/types.hpp"
#include "kafka/sasl.hpp"
#include "server/console_assets.hpp"
#include "server/coordinator.hpp"
#include "server/metrics.hpp"
#include "server/session.hpp"

namespace freshet::server {

// ---- console seam (console_assets.hpp) -------------------------------------------------

namespace {

std::atomic<ConsoleAssetLookup> g_console_assets{nullptr};
// Set once before the listener starts, read-only afterwards (console_assets.hpp).
ConsoleAuthenticator& console_authenticator() {
  static ConsoleAuthenticator a;
  return a;
}
kafka::HttpHandler& console_handler() {
  static kafka::HttpHandler h;
  return h;
}

}  // namespace

void set_console_assets(ConsoleAssetLookup lookup) { g_console_assets.store(lookup); }
bool console_assets_registered() { return g_console_assets.load() != nullptr; }
const StaticAsset* find_console_asset(std::string_view path) {
  ConsoleAssetLookup f = g_console_assets.load();
  return f ? f(path) : nullptr;
}
void set_console_authenticator(ConsoleAuthenticator authenticator) { console_authenticator() = std::move(authenticator); }
void set_console_handler(kafka::HttpHandler handler) { console_handler() = std::move(handler); }

// ---- request parsing: parse_sql_api_request is in http_api_request.cpp --------------

// ---- helpers ---------------------------------------------------------------------------

namespace {

using kafka::HttpExchange;
using kafka::HttpRequest;
using kafka::HttpResponse;

HttpResponse json_response(int status, std::string body) { return HttpResponse{status, "application/json", std::move(body), {}}; }
HttpResponse text_response(int status, std::string body) {
  return HttpResponse{status, "text/plain; charset=utf-8", std::move(body), {}};
}

// PostgreSQL's atttypmod as the wire shows it (RowDescription), as pgwire sends it.
int32_t wire_typmod(Type t) {
  if (t.typmod < 0) return -1;
  switch (t.id) {
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kNumeric:
      return t.typmod + 4;
    case TypeId::kRecord:
      return -1;
    default:
      return t.typmod;
  }
}

void column_json(const Column& c, std::string& out) {
  out += "{\"name\":";
  json_quote(c.name, out);
  out += ",\"type_oid\":" + std::to_string(type_oid(c.type.id)) + ",\"type_len\":" + std::to_string(type_len(c.type.id)) +
         ",\"type_mod\":" + std::to_string(wire_typmod(c.type)) + "}";
}

// A value as JSON: numbers for integers and floats (NaN and the infinities as strings, which
// JSON has no number for), booleans, jsonb as JSON, null; everything else (numeric, text,
// dates, intervals, arrays, ...) as its PostgreSQL text form in a string.
void value_json(const Datum& d, Type t, Session& session, std::string& out) {
  if (d.is_null()) {
    out += "null";
    return;
  }
  switch (t.id) {
    case TypeId::kBool:
      out += d.as_bool() ? "true" : "false";
      return;
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
    case TypeId::kOid:
      out += std::to_string(d.as_int());
      return;
    case TypeId::kFloat4:
    case TypeId::kFloat8: {
      std::string text;
      format_datum(d, t, text);
      if (std::isfinite(d.as_float())) out += text;
      else json_quote(text, out);
      return;
    }
    case TypeId::kJsonb:
      format_datum(d, t, out);
      return;
    default: {
      std::string text;
      session.format_value(d, t, text);
      json_quote(text, out);
    }
  }
}

void error_json(const SqlError& e, std::string& out) {
  out += "{\"message\":";
  json_quote(e.message(), out);
  out += ",\"code\":";
  json_quote(e.sqlstate(), out);
  if (!e.detail().empty()) {
    out += ",\"detail\":";
    json_quote(e.detail(), out);
  }
  if (!e.hint().empty()) {
    out += ",\"hint\":";
    json_quote(e.hint(), out);
  }
  out += "}";
}

// The first keyword of a statement, lower-cased (after blanks and comments).
std::string first_keyword(std::string_view sql) {
  size_t i = 0;
  while (i < sql.size()) {
    if (std::isspace(static_cast<unsigned char>(sql[i]))) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      size_t nl = sql.find('\n', i);
      i = nl == std::string_view::npos ? sql.size() : nl + 1;
    } else if (sql.substr(i, 2) == "/*") {
      size_t end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  std::string word;
  while (i < sql.size() && (std::isalpha(static_cast<unsigned char>(sql[i])) || sql[i] == '_'))
    word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(sql[i++]))));
  return word;
}

// Requests (SQL or streams) whose client left before the end; for /metrics.
std::atomic<uint64_t> g_client_gone{0};

// Cancels the session's running statement once the client has gone, polling every 50 ms on
// a thread of its own (a statement blocks its connection's thread).
class DisconnectWatch {
 public:
  DisconnectWatch(const HttpExchange& exchange, Session& session)
      : thread_([this, &exchange, &session] {
          std::unique_lock lock(mu_);
          while (!stop_) {
            cv_.wait_for(lock, std::chrono::milliseconds(50));
            if (stop_) break;
            if (exchange.client_gone()) {
              if (!gone_.exchange(true)) g_client_gone.fetch_add(1, std::memory_order_relaxed);
              session.cancel();  // again each round: the next statement resets the flag
            }
          }
        }) {}
  ~DisconnectWatch() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool gone() const { return gone_.load(); }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::atomic<bool> gone_{false};
  std::thread thread_;  // last: starts after the members it uses
};

SessionOptions session_options(const HttpRequest& request, const std::string& user) {
  SessionOptions o;
  o.user = user;
  o.application_name = "freshet-http";
  // Materialize's ?options=<url-encoded JSON object> of session settings.
  if (auto opts = kafka::query_param(request.query, "options")) {
    JsonValue doc;
    try {
      doc = json_parse(*opts);
    } catch (const SqlError&) {
      throw SqlError(sqlstate::kProtocolViolation, "the \"options\" parameter is not a JSON object");
    }
    if (doc.kind != JsonValue::Kind::kObject)
      throw SqlError(sqlstate::kProtocolViolation, "the \"options\" parameter is not a JSON object");
    for (const auto& [k, v] : doc.object) {
      std::string value;
      if (v.kind == JsonValue::Kind::kString || v.kind == JsonValue::Kind::kNumber) value = v.str;
      else if (v.kind == JsonValue::Kind::kBool) value = v.b ? "on" : "off";
      else throw SqlError(sqlstate::kProtocolViolation, "option \"" + k + "\" must be a string, number or boolean");
      // Who the session is comes from authentication only.
      std::string key = k;
      for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (key == "user" || key == "database" || key == "session_authorization" || key == "is_superuser" ||
          key == "replication" || key == "options")
        throw SqlError(sqlstate::kProtocolViolation, "option \"" + k + "\" cannot be set through the HTTP API");
      if (key == "application_name") o.application_name = value;
      else o.startup_params[k] = value;
    }
  }
  return o;
}

}  // namespace

// ---- HttpApi ---------------------------------------------------------------------------

HttpApi::HttpApi(Coordinator& coordinator, Options options) : coordinator_(coordinator), options_(options) {}

std::optional<std::string> HttpApi::authenticate(const HttpRequest& request) const {
  if (const auto& extra = console_authenticator()) {
    if (auto user = extra(request)) return user;
  }
  const AuthConfig& auth = coordinator_.auth();
  std::optional<std::string> user, password;
  if (const std::string* h = request.header("authorization"); h && h->size() > 6) {
    std::string scheme = h->substr(0, 6);
    for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (scheme == "basic ") {
      if (auto decoded = kafka::base64_decode(h->substr(6))) {
        size_t colon = decoded->find(':');
        if (colon != std::string::npos) {
          user = decoded->substr(0, colon);
          password = decoded->substr(colon + 1);
        }
      }
    }
  }
  if (!auth.require_password) return user && !user->empty() ? *user : std::string("freshet");
  if (!user || !password) return std::nullopt;
  // The role as stored (roles.hpp): created by SQL or from the configured passwords; its
  // SCRAM verifier checks the password (PBKDF2, constant-time comparison).
  LoginRole r = login_role(coordinator_.state(), *user);
  if (!r.exists || !r.login || !r.has_password || !password_matches(r.verifier, *password)) return std::nullopt;
  return user;
}

std::optional<HttpResponse> HttpApi::handle(const HttpRequest& request, HttpExchange& exchange) {
  const std::string path = kafka::url_decode(request.path);
  if (path == "/health" || path == "/api/health") {
    if (request.method != "GET" && request.method != "HEAD") return text_response(405, "use GET\n");
    return text_response(200, "ok\n");
  }
  if (const auto& h = console_handler()) {
    if (auto r = h(request, exchange)) return r;
    if (exchange.streaming()) return HttpResponse{};
  }
  const bool console = path == "/" || path == "/console" || path.rfind("/console/", 0) == 0;
  const bool api = path == "/api/sql" || path == "/api/subscribe" || path == "/metrics";
  if (!console && !api) return std::nullopt;  // the schema registry's, or its 404
  std::optional<std::string> user = authenticate(request);
  if (!user) {
    HttpResponse r = json_response(401, "{\"error\":{\"message\":\"password authentication failed\",\"code\":\"28P01\"}}");
    r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"freshet\", charset=\"UTF-8\"");
    return r;
  }
  if (LoginRole role = login_role(coordinator_.state(), *user); role.exists && !role.connect) {
    // CONNECT on the database governs this front end's sessions as pgwire's (README.md).
    return json_response(403, "{\"error\":{\"message\":\"permission denied for database\",\"code\":\"42501\","
                              "\"detail\":\"User does not have CONNECT privilege.\"}}");
  }
  if (console) {
    if (request.method != "GET" && request.method != "HEAD") return text_response(405, "use GET\n");
    if (path == "/" || path == "/console") {
      HttpResponse r = text_response(302, "see /console/\n");
      r.headers.emplace_back("Location", "/console/");
      return r;
    }
    if (!console_assets_registered())
      return text_response(404, "console assets not built (this freshet binary has no web console)\n");
    const StaticAsset* asset = find_console_asset(std::string_view(path).substr(9));
    if (!asset) return text_response(404, "no such console asset: " + path + "\n");
    return HttpResponse{200, std::string(asset->content_type), std::string(asset->body), {}};
  }
  if (path == "/metrics") {
    if (request.method != "GET" && request.method != "HEAD") return text_response(405, "use GET\n");
    return metrics();
  }
  if (path == "/api/subscribe") {
    if (request.method != "GET" && request.method != "POST") return text_response(405, "use GET or POST\n");
    return subscribe(request, *user, exchange);
  }
  if (request.method != "POST") return text_response(405, "use POST with a JSON body\n");
  return sql(request, *user, exchange);
}

HttpResponse HttpApi::sql(const HttpRequest& request, const std::string& user, HttpExchange& exchange) {
  SqlApiRequest req;
  std::optional<Session> session;
  try {
    req = parse_sql_api_request(request.body);
    session.emplace(coordinator_, session_options(request, user));
  } catch (const SqlError& e) {
    return text_response(400, e.message() + "\n");
  }
  DisconnectWatch watch(exchange, *session);
  std::string out = "{\"results\":[";
  bool first_result = true;
  auto begin_result = [&] {
    if (!first_result) out += ",";
    first_result = false;
  };
  auto run_statement = [&](const std::string& text, const std::vector<std::optional<std::string>>& params) {
    std::string kw = first_keyword(text);
    if (kw == "subscribe" || kw == "copy" || kw == "declare" || kw == "fetch" || kw == "close")
      throw SqlError(sqlstate::kFeatureNotSupported, "unsupported via this API: " + kw + " (use /api/subscribe for SUBSCRIBE)");
    PreparedStatement prepared = session->prepare(text, {});
    if (prepared.param_types.size() != params.size())
      throw SqlError(sqlstate::kProtocolViolation, "request supplied " + std::to_string(params.size()) +
                                                       " parameters, but the statement requires " +
                                                       std::to_string(prepared.param_types.size()));
    Arena arena;
    std::vector<Datum> values;
    values.reserve(params.size());
    for (size_t i = 0; i < params.size(); ++i)
      values.push_back(params[i] ? session->parse_parameter(*params[i], prepared.param_types[i], arena) : Datum::null());
    std::unique_ptr<Execution> exec = session->execute(prepared, values);
    const std::vector<Column>& columns = prepared.returns_rows ? exec->columns() : prepared.columns;
    // Rows go into a buffer of their own, so that an error in the middle leaves only the
    // error result in the answer.
    std::string rows;
    std::vector<Row> batch;
    std::vector<Datum> datums;
    bool more = true;
    bool first_row = true;
    while (more) {
      batch.clear();
      more = exec->fetch(batch, 1024);
      for (const Row& row : batch) {
        datums.clear();
        row.unpack_into(datums);
        rows += first_row ? "[" : ",[";
        first_row = false;
        for (size_t i = 0; i < datums.size() && i < columns.size(); ++i) {
          if (i > 0) rows += ",";
          value_json(datums[i], columns[i].type, *session, rows);
        }
        rows += "]";
      }
      if (out.size() + rows.size() > options_.max_result_bytes)
        throw SqlError(sqlstate::kProgramLimitExceeded, "the result is larger than the HTTP API's limit of " +
                                                             std::to_string(options_.max_result_bytes) + " bytes")
            .with_hint("Use LIMIT, or a PostgreSQL client with a cursor.");
    }
    begin_result();
    if (prepared.returns_rows) {
      out += "{\"tag\":";
      json_quote(exec->command_tag(), out);
      out += ",\"rows\":[" + rows + "],\"desc\":{\"columns\":[";
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i > 0) out += ",";
        column_json(columns[i], out);
      }
      out += "]},\"notices\":[]}";
    } else {
      out += "{\"ok\":";
      json_quote(exec->command_tag(), out);
      out += ",\"notices\":[]}";
    }
  };
  try {
    for (const SqlApiQuery& q : req.queries) {
      if (watch.gone()) break;
      std::vector<std::string> stmts = session->split(q.query);
      if (req.extended && stmts.size() != 1)
        throw SqlError(sqlstate::kSyntaxError, "each query must contain exactly 1 statement, but \"" + q.query +
                                                   "\" contains " + std::to_string(stmts.size()));
      for (const std::string& text : stmts) {
        if (watch.gone()) break;
        run_statement(text, q.params);
      }
    }
  } catch (const SqlError& e) {
    // Processing stops at the first error (as Materialize's API).
    begin_result();
    out += "{\"error\":";
    error_json(e, out);
    out += ",\"notices\":[]}";
  } catch (const std::exception& e) {
    begin_result();
    out += "{\"error\":";
    error_json(SqlError(sqlstate::kInternalError, std::string("internal error: ") + e.what()), out);
    out += ",\"notices\":[]}";
  }
  session->close();
  out += "]}";
  return json_response(200, std::move(out));
}

std::optional<HttpResponse> HttpApi::subscribe(const HttpRequest& request, const std::string& user,
                                               HttpExchange& exchange) {
  std::string query;
  if (request.method == "GET") {
    auto q = kafka::query_param(request.query, "query");
    if (!q || q->empty()) return text_response(400, "GET /api/subscribe needs ?query=<SQL>\n");
    query = *q;
  } else {
    try {
      SqlApiRequest req = parse_sql_api_request(request.body);
      if (req.extended || req.queries.size() != 1) return text_response(400, "POST /api/subscribe takes {\"query\": \"...\"}\n");
      query = req.queries[0].query;
    } catch (const SqlError& e) {
      return text_response(400, e.message() + "\n");
    }
  }
  while (!query.empty() && (std::isspace(static_cast<unsigned char>(query.back())) || query.back() == ';')) query.pop_back();
  // A SUBSCRIBE runs as written; a query is subscribed to with progress events.
  // (The newline ends a trailing -- comment of the query before the closing parenthesis.)
  std::string text = first_keyword(query) == "subscribe" ? query : "SUBSCRIBE (" + query + "\n) WITH (PROGRESS)";
  std::optional<Session> session;
  std::unique_ptr<Execution> exec;
  std::vector<Column> columns;
  try {
    session.emplace(coordinator_, session_options(request, user));
    PreparedStatement prepared = session->prepare(text, {});
    if (!prepared.param_types.empty()) throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $1");
    if (!prepared.returns_rows || prepared.columns.empty() || prepared.columns[0].name != "mz_timestamp")
      throw SqlError(sqlstate::kWrongObjectType, "/api/subscribe takes a query or a SUBSCRIBE statement");
    exec = session->execute(prepared, {});
    columns = exec->columns();
  } catch (const SqlError& e) {
    std::string out = "{\"error\":";
    error_json(e, out);
    out += "}";
    return json_response(e.sqlstate() == sqlstate::kInsufficientPrivilege ? 403 : 400, std::move(out));
  }
  const bool progress = columns.size() > 1 && columns[1].name == "mz_progressed";
  // The event stream's columns: the subscription's without mz_progressed.
  std::string desc = "{\"columns\":[";
  bool first = true;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (progress && i == 1) continue;
    if (!first) desc += ",";
    first = false;
    column_json(columns[i], desc);
  }
  desc += "]}";
  if (!exchange.begin_stream(200, "text/event-stream", {{"Cache-Control", "no-store"}, {"X-Accel-Buffering", "no"}})) return HttpResponse{};
  if (!exchange.write("retry: 2000\nevent: desc\ndata: " + desc + "\n\n")) return HttpResponse{};
  DisconnectWatch watch(exchange, *session);
  std::vector<Row> batch;
  std::vector<Datum> datums;
  auto last_progress = std::chrono::steady_clock::now() - std::chrono::hours(1);
  try {
    while (!watch.gone()) {
      batch.clear();
      exec->fetch(batch, options_.subscribe_batch_rows);
      std::string events, rows;
      auto flush_rows = [&] {
        if (rows.empty()) return;
        events += "event: rows\ndata: {\"rows\":[" + rows + "]}\n\n";
        rows.clear();
      };
      for (const Row& row : batch) {
        datums.clear();
        row.unpack_into(datums);
        if (datums.size() != columns.size()) continue;
        if (progress && !datums[1].is_null() && datums[1].as_bool()) {
          // Progress comes every tick; the stream passes it on after rows and otherwise at
          // most once per progress_interval_ms (enough for a freshness display).
          auto now = std::chrono::steady_clock::now();
          if (rows.empty() && events.empty() && now - last_progress < std::chrono::milliseconds(options_.progress_interval_ms)) continue;
          last_progress = now;
          flush_rows();
          events += "event: progress\ndata: {\"mz_timestamp\":";
          format_datum(datums[0], columns[0].type, events);
          events += "}\n\n";
          continue;
        }
        rows += rows.empty() ? "[" : ",[";
        bool first_value = true;
        for (size_t i = 0; i < datums.size(); ++i) {
          if (progress && i == 1) continue;
          if (!first_value) rows += ",";
          first_value = false;
          if (i == 0) format_datum(datums[0], columns[0].type, rows);  // mz_timestamp: a number of ms
          else value_json(datums[i], columns[i].type, *session, rows);
        }
        rows += "]";
      }
      flush_rows();
      if (!events.empty() && !exchange.write(events)) break;
    }
  } catch (const SqlError& e) {
    if (!watch.gone()) {
      std::string out = "event: error\ndata: ";
      error_json(e, out);
      (void)exchange.write(out + "\n\n");  // the stream ends either way
    }
  }
  exec.reset();  // ends the subscription before the session goes
  session->close();
  return HttpResponse{};
}

HttpResponse HttpApi::metrics() {
  std::string out;
  append_coordinator_metrics(coordinator_, out);
  metrics::write_header(out, "freshet_http_client_gone_total",
                        "HTTP API requests (SQL or event streams) whose client left before the end; their statement was cancelled.",
                        "counter");
  metrics::write_sample(out, "freshet_http_client_gone_total", {}, g_client_gone.load(std::memory_order_relaxed));
  if (extra_metrics_) extra_metrics_(out);
  return HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8", std::move(out), {}};
}

}  // namespace freshet::server
