// The freshet executable: `freshet <command> [options]`. Commands are dispatched from
// kCommands below; add new ones (e.g. `freshet demo`) there.

#include <pthread.h>
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <thread>
#include <charconv>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "console/assets.hpp"
#include "common/format.hpp"
#include "common/sql_dialect.hpp"
#include "server/session.hpp"
#include "server/kafka_backend.hpp"
#include "kafka/kafka_server.hpp"
#include "dataflow/workers.hpp"
#include "server/maintained.hpp"
#include "kafka/schema_registry.hpp"
#include "common/metrics.hpp"
#include "server/http_api.hpp"
#include "pgwire/pg_server.hpp"
#include "server/coordinator.hpp"
#include "storage/repair.hpp"

namespace {

using freshet::server::AuthConfig;

// A bad command line: printed with a pointer to --help, exit status 2.
struct UsageError {
  std::string message;
};

constexpr const char* kUsage =
    "usage: freshet <command> [options]\n"
    "\n"
    "commands:\n"
    "  serve    run the server\n"
    "  demo     run the server with the sales workload and show its anomalies live\n"
    "  repair   salvage a data directory whose files are damaged (the server refuses to start)\n"
    "\n"
    "Run 'freshet <command> --help' for the options of a command.\n";

constexpr const char* kServeUsage =
    "usage: freshet serve [options]\n"
    "\n"
    "options:\n"
    "  --data-dir DIR              where Freshet keeps its data (default: freshet-data)\n"
    "  --pg-listen HOST:PORT       PostgreSQL protocol address (default: 127.0.0.1:6875)\n"
    "  --secret-key-file FILE      key that encrypts CREATE SECRET values at rest; created (mode\n"
    "                              0600) when missing (default: DIR/secret.key)\n"
    "  --password-file FILE        require SCRAM-SHA-256 passwords; FILE has one USER:PASSWORD\n"
    "                              per line ('#' starts a comment line)\n"
    "  --user-password USER:PASS   require passwords and give USER the password PASS\n"
    "                              (may be repeated)\n"
    "  --max-connections N         PostgreSQL connections served at once (default: 1000)\n"
    "  --workers N                 shards of every dataflow, run in parallel on N threads\n"
    "                              (default: the number of cores)\n"
    "  --sql-dialect NAME          postgres (default) or materialize: whose conventions of\n"
    "                              output and arithmetic the server follows where the two differ\n"
    "                              (jsonb and interval text, numeric digits; src/common/README.md)\n"
    "  --dataflow-memory-budget-mb N  memory one maintained dataflow (index, materialized view,\n"
    "                              SUBSCRIBE, sink) may hold; past it the dataflow is stopped\n"
    "                              (53200); 0: no budget (default: half of the machine's memory)\n"
    "  --authentication-timeout D  PostgreSQL startup and authentication must finish within D\n"
    "                              (default: 60s; e.g. 500ms, 30s, 2m)\n"
    "  --kafka-listen HOST:PORT    Kafka protocol address (default: 127.0.0.1:9092; 'off' disables)\n"
    "  --kafka-advertise HOST:PORT address told to Kafka clients (default: the listen address)\n"
    "  --kafka-partitions N        partitions per topic (default: 1)\n"
    "  --kafka-sasl                require SASL (PLAIN or SCRAM-SHA-256) on the Kafka listener\n"
    "  --tls-cert FILE --tls-key FILE  serve TLS on the Kafka listener (SSL / SASL_SSL)\n"
    "  --kafka-idle-timeout D      close Kafka connections idle for D (default: 10m,\n"
    "                              Kafka's connections.max.idle.ms)\n"
    "  --http-listen HOST:PORT     HTTP address: SQL API, /metrics, /health, console, schema\n"
    "                              registry (default: 127.0.0.1:6876; 'off')\n"
    "  --http-tls                  serve HTTPS on it with --tls-cert/--tls-key\n"
    "  --http-allow-no-password    allow a non-loopback --http-listen without passwords\n"
    "  --http-request-timeout D    an HTTP request must arrive within D of its first byte (default: 10s)\n"
    "  --http-idle-timeout D       close keep-alive HTTP connections idle for D (default: 60s)\n"
    "  -h, --help                  show this help\n"
    "\n"
    "HOST may be an IPv4 address, [IPv6] or a name; it is never empty (0.0.0.0 listens on\n"
    "every interface). Without a password option every role is accepted without a password\n"
    "(trust); --kafka-sasl needs one.\n"
    "SIGTERM or SIGINT stops the server gracefully.\n";

constexpr const char* kRepairUsage =
    "usage: freshet repair --data-dir DIR\n"
    "\n"
    "Checks every collection of DIR frame by frame, with the server stopped. A damaged segment\n"
    "file is rewritten with every intact frame it holds; a damaged MANIFEST is rebuilt from the\n"
    "segments. The damaged originals are moved to DIR/damaged/<collection>/, never deleted.\n"
    "Prints what was lost (collection, file, byte range, record offsets). Exit status: 0 when\n"
    "nothing was damaged, 1 when something was repaired, 2 on an error (nothing more changed).\n"
    "\n"
    "options:\n"
    "  --data-dir DIR   the data directory (default: freshet-data)\n"
    "  -h, --help       show this help\n";

// Reads "--name value" or "--name=value" at argv[i]; advances i past what it used.
class ArgReader {
 public:
  ArgReader(int argc, char** argv, int first) : argc_(argc), argv_(argv), i_(first) {}
  bool done() const { return i_ >= argc_; }
  std::string_view peek() const { return argv_[i_]; }
  // True when the current argument is the flag `name`; then value() gives its value.
  bool flag(std::string_view name) {
    std::string_view a = argv_[i_];
    if (a == name) {
      if (i_ + 1 >= argc_) throw UsageError{std::string(name) + " needs a value"};
      value_ = argv_[i_ + 1];
      i_ += 2;
      return true;
    }
    if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=') {
      value_ = std::string(a.substr(name.size() + 1));
      i_ += 1;
      return true;
    }
    return false;
  }
  bool option(std::string_view name) {
    if (peek() != name) return false;
    ++i_;
    return true;
  }
  const std::string& value() const { return value_; }

 private:
  int argc_;
  char** argv_;
  int i_;
  std::string value_;
};

struct HostPort {
  std::string host;
  uint16_t port = 0;
};

HostPort parse_host_port(std::string_view flag, std::string_view s) {
  auto bad = [&](const std::string& why) -> UsageError {
    return UsageError{std::string(flag) + " " + std::string(s) + ": " + why + " (expected HOST:PORT)"};
  };
  HostPort hp;
  std::string_view port;
  if (!s.empty() && s[0] == '[') {  // [::1]:6875
    size_t close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':') throw bad("malformed address");
    hp.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    size_t colon = s.rfind(':');
    if (colon == std::string_view::npos) throw bad("missing port");
    hp.host = std::string(s.substr(0, colon));
    if (hp.host.find(':') != std::string::npos) throw bad("put an IPv6 address in brackets");
    port = s.substr(colon + 1);
  }
  unsigned v = 0;
  auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (port.empty() || ec != std::errc() || p != port.data() + port.size() || v > 65535) throw bad("invalid port");
  // ":6875" does not silently mean every interface: listening beyond loopback is asked for
  // explicitly (0.0.0.0 or ::), as PostgreSQL's listen_addresses = '*'.
  if (hp.host.empty()) throw bad("missing host; use 127.0.0.1 for loopback only or 0.0.0.0 for every interface");
  hp.port = static_cast<uint16_t>(v);
  return hp;
}

// "30s", "5m", "1h", "250ms" (a bare number is seconds) in milliseconds.
uint64_t parse_duration(const std::string& v, std::string_view flag = "--duration") {
  auto bad = [&] { return UsageError{std::string(flag) + " " + v + ": expected e.g. 30s or 5m"}; };
  size_t i = 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) ++i;
  if (i == 0 || i > 9) throw bad();
  uint64_t n = std::stoull(v.substr(0, i));
  std::string unit = v.substr(i);
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "ms") return n;
  if (unit == "m") return n * 60000;
  if (unit == "h") return n * 3600000;
  throw bad();
}

// A timeout flag: a duration from 1 ms to 24 h, as int milliseconds.
int parse_timeout(const std::string& v, std::string_view flag) {
  uint64_t ms = parse_duration(v, flag);
  if (ms == 0 || ms > 24ull * 3600 * 1000) throw UsageError{std::string(flag) + " " + v + ": expected 1ms to 24h"};
  return static_cast<int>(ms);
}

void add_user_password(AuthConfig& auth, std::string_view entry, const std::string& where) {
  size_t colon = entry.find(':');
  if (colon == std::string_view::npos || colon == 0) {
    throw UsageError{where + ": expected USER:PASSWORD"};
  }
  auth.require_password = true;
  std::string user(entry.substr(0, colon));
  if (auth.bootstrap_role.empty()) auth.bootstrap_role = user;  // the first one (roles.hpp)
  auth.passwords[user] = std::string(entry.substr(colon + 1));
}

void read_password_file(AuthConfig& auth, const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError{"--password-file " + path + ": " + std::strerror(errno)};
  std::string line;
  int lineno = 0;
  bool any = false;
  while (std::getline(in, line)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    add_user_password(auth, line, path + ":" + std::to_string(lineno));
    any = true;
  }
  if (!any) throw UsageError{"--password-file " + path + ": no USER:PASSWORD line"};
  auth.require_password = true;
}

// Blocks SIGINT and SIGTERM in this thread and in every thread started after (they inherit
// the mask), so that only sigwait() below sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return set;
}

// 127.0.0.0/8, ::1 and localhost.
bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// The Kafka listener and the schema registry (src/kafka/), over the coordinator's collections.
struct KafkaFlags {
  bool enabled = true;
  std::string host = "127.0.0.1";
  uint16_t port = 9092;
  std::string advertised_host;
  uint16_t advertised_port = 0;
  int32_t partitions = 1;
  bool sasl = false;
  std::string tls_cert, tls_key;
  int idle_timeout_ms = 10 * 60 * 1000;
  bool http_enabled = true;
  std::string http_host = "127.0.0.1";
  uint16_t http_port = 6876;
  int http_request_timeout_ms = 10'000;
  int http_idle_timeout_ms = 60'000;
  bool http_tls = false;              // HTTPS with --tls-cert/--tls-key
  bool http_allow_no_password = false;  // a non-loopback --http-listen without passwords
};

bool parse_kafka_flag(ArgReader& args, KafkaFlags& k) {
  if (args.flag("--kafka-listen")) {
    if (args.value() == "off") {
      k.enabled = false;
    } else {
      HostPort hp = parse_host_port("--kafka-listen", args.value());
      k.host = hp.host;
      k.port = hp.port;
    }
    return true;
  }
  if (args.flag("--kafka-advertise")) {
    HostPort hp = parse_host_port("--kafka-advertise", args.value());
    k.advertised_host = hp.host;
    k.advertised_port = hp.port;
    return true;
  }
  if (args.flag("--kafka-partitions")) {
    int n = 0;
    const std::string& v = args.value();
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n < 1 || n > 1024)
      throw UsageError{"--kafka-partitions " + v + ": expected 1 to 1024"};
    k.partitions = n;
    return true;
  }
  if (args.option("--kafka-sasl")) {
    k.sasl = true;
    return true;
  }
  if (args.flag("--kafka-idle-timeout")) {
    k.idle_timeout_ms = parse_timeout(args.value(), "--kafka-idle-timeout");
    return true;
  }
  if (args.flag("--http-request-timeout")) {
    k.http_request_timeout_ms = parse_timeout(args.value(), "--http-request-timeout");
    return true;
  }
  if (args.flag("--http-idle-timeout")) {
    k.http_idle_timeout_ms = parse_timeout(args.value(), "--http-idle-timeout");
    return true;
  }
  if (args.flag("--tls-cert")) {
    k.tls_cert = args.value();
    return true;
  }
  if (args.flag("--tls-key")) {
    k.tls_key = args.value();
    return true;
  }
  if (args.option("--http-tls")) {
    k.http_tls = true;
    return true;
  }
  if (args.option("--http-allow-no-password")) {
    k.http_allow_no_password = true;
    return true;
  }
  if (args.flag("--http-listen")) {
    if (args.value() == "off") {
      k.http_enabled = false;
    } else {
      HostPort hp = parse_host_port("--http-listen", args.value());
      k.http_host = hp.host;
      k.http_port = hp.port;
    }
    return true;
  }
  return false;
}

struct KafkaEndpoints {
  std::unique_ptr<freshet::server::CollectionKafkaBackend> backend;
  std::unique_ptr<freshet::kafka::SchemaCatalog> schemas;
  std::unique_ptr<freshet::kafka::KafkaServer> server;
  std::unique_ptr<freshet::server::HttpApi> http_api;
  std::unique_ptr<freshet::kafka::SchemaRegistryServer> registry;
  void stop() {
    if (registry) registry->stop();
    if (server) server->stop();
  }
};

// The listeners' own counters on /metrics: connections (pgwire, Kafka, HTTP), Kafka requests
// and bytes by API, HTTP requests.
void append_listener_metrics(const freshet::pgwire::PgServer& pg, KafkaEndpoints& k, std::string& out) {
  using freshet::metrics::write_header;
  using freshet::metrics::write_sample;
  write_header(out, "freshet_connections", "Connections open now, by protocol.", "gauge");
  write_sample(out, "freshet_connections", {{"protocol", "pgwire"}}, static_cast<uint64_t>(pg.connection_count()));
  if (k.server) write_sample(out, "freshet_connections", {{"protocol", "kafka"}}, static_cast<uint64_t>(k.server->open_connections()));
  if (k.registry) write_sample(out, "freshet_connections", {{"protocol", "http"}}, static_cast<uint64_t>(k.registry->open_connections()));
  write_header(out, "freshet_connections_accepted_total", "Connections accepted since start, by protocol.", "counter");
  if (k.server) write_sample(out, "freshet_connections_accepted_total", {{"protocol", "kafka"}}, k.server->accepted_connections());
  if (k.registry) write_sample(out, "freshet_connections_accepted_total", {{"protocol", "http"}}, k.registry->accepted_connections());
  write_header(out, "freshet_http_requests_total", "HTTP requests read since start.", "counter");
  write_sample(out, "freshet_http_requests_total", {}, k.registry ? k.registry->requests() : uint64_t{0});
  if (!k.server) return;
  using Server = freshet::kafka::KafkaServer;
  const char* families[3][2] = {{"freshet_kafka_requests_total", "Kafka requests handled, by API."},
                                {"freshet_kafka_request_bytes_total", "Bytes of Kafka request frames, by API."},
                                {"freshet_kafka_response_bytes_total", "Bytes of Kafka response frames, by API."}};
  for (int f = 0; f < 3; ++f) {
    write_header(out, families[f][0], families[f][1], "counter");
    for (const freshet::kafka::ApiRange& r : freshet::kafka::supported_apis()) {
      const Server::ApiCounters& c = k.server->api_counters(r.api_key);
      uint64_t v = f == 0 ? c.requests.load() : f == 1 ? c.bytes_in.load() : c.bytes_out.load();
      write_sample(out, families[f][0], {{"api", freshet::kafka::api_name(r.api_key)}}, v);
    }
  }
}

int start_kafka(freshet::server::Coordinator& coordinator, const KafkaFlags& k, bool passwords,
                const freshet::pgwire::PgServer& pg, KafkaEndpoints& out) {
  if (!k.enabled && !k.http_enabled) return 0;
  if (k.tls_cert.empty() != k.tls_key.empty()) {
    std::fprintf(stderr, "freshet: --tls-cert and --tls-key go together\n");
    return 2;
  }
  try {
    out.backend = std::make_unique<freshet::server::CollectionKafkaBackend>(coordinator, k.partitions);
  } catch (const freshet::SqlError& e) {  // its durable state cannot be read
    std::fprintf(stderr, "freshet: cannot start: %s\n", e.message().c_str());
    return 1;
  }
  out.schemas = std::make_unique<freshet::kafka::SchemaCatalog>(*out.backend);
  if (k.enabled) {
    freshet::kafka::KafkaServerOptions o;
    o.host = k.host;
    o.port = k.port;
    o.advertised_host = k.advertised_host;
    o.advertised_port = k.advertised_port;
    o.sasl_required = k.sasl || passwords;
    o.tls_cert_file = k.tls_cert;
    o.tls_key_file = k.tls_key;
    o.idle_timeout_ms = k.idle_timeout_ms;
    out.server = std::make_unique<freshet::kafka::KafkaServer>(*out.backend, *out.schemas, o);
    if (freshet::Status s = out.server->start(); !s) {
      std::fprintf(stderr, "freshet: Kafka listener: %s\n", s.message().c_str());
      return 1;
    }
    std::fprintf(stderr, "freshet: listening for Kafka connections on %s:%u%s%s\n", k.host.c_str(),
                 static_cast<unsigned>(out.server->port()), k.tls_cert.empty() ? "" : " (TLS)", o.sasl_required ? " (SASL)" : "");
  }
  if (k.http_enabled) {
    freshet::kafka::SchemaRegistryServer::Options r;
    r.host = k.http_host;
    r.port = k.http_port;
    r.basic_auth_required = passwords;
    r.request_timeout_ms = k.http_request_timeout_ms;
    r.idle_timeout_ms = k.http_idle_timeout_ms;
    if (k.http_tls) {
      r.tls_cert_file = k.tls_cert;
      r.tls_key_file = k.tls_key;
    }
    out.http_api = std::make_unique<freshet::server::HttpApi>(coordinator, freshet::server::HttpApi::Options{});
    out.http_api->set_extra_metrics([&pg, &out](std::string& body) { append_listener_metrics(pg, out, body); });
    r.handler = [api = out.http_api.get()](const freshet::kafka::HttpRequest& req, freshet::kafka::HttpExchange& ex) {
      return api->handle(req, ex);
    };
    out.registry = std::make_unique<freshet::kafka::SchemaRegistryServer>(*out.backend, *out.schemas, r);
    if (freshet::Status s = out.registry->start(); !s) {
      std::fprintf(stderr, "freshet: schema registry: %s\n", s.message().c_str());
      return 1;
    }
    std::fprintf(stderr, "freshet: HTTP (SQL API, /metrics, /health, console, schema registry) on %s://%s:%u\n",
                 k.http_tls ? "https" : "http", k.http_host.c_str(), static_cast<unsigned>(out.registry->port()));
  }
  return 0;
}

// Dataflow shards and worker threads by default: one per core.
size_t default_workers() {
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : std::min<size_t>(n, 64);
}

int run_serve(int argc, char** argv, int first) {
  freshet::server::CoordinatorOptions copts;
  freshet::pgwire::PgServerOptions pgopts;
  KafkaFlags kopts;
  size_t workers = default_workers();
  ArgReader args(argc, argv, first);
  while (!args.done()) {
    if (args.option("-h") || args.option("--help")) {
      std::fputs(kServeUsage, stdout);
      return 0;
    } else if (args.flag("--data-dir")) {
      if (args.value().empty()) throw UsageError{"--data-dir needs a directory"};
      copts.data_dir = args.value();
    } else if (args.flag("--pg-listen")) {
      HostPort hp = parse_host_port("--pg-listen", args.value());
      pgopts.host = hp.host;
      pgopts.port = hp.port;
    } else if (args.flag("--password-file")) {
      read_password_file(copts.auth, args.value());
    } else if (args.flag("--user-password")) {
      add_user_password(copts.auth, args.value(), "--user-password");
    } else if (args.flag("--max-connections")) {
      size_t n = 0;
      const std::string& v = args.value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n == 0) {
        throw UsageError{"--max-connections " + v + ": expected a positive number"};
      }
      pgopts.max_connections = n;
    } else if (args.flag("--workers")) {
      size_t n = 0;
      const std::string& v = args.value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n == 0 || n > 256) {
        throw UsageError{"--workers " + v + ": expected a number from 1 to 256"};
      }
      workers = n;
    } else if (args.flag("--sql-dialect")) {
      std::optional<freshet::SqlDialect> d = freshet::parse_sql_dialect(args.value());
      if (!d) throw UsageError{"--sql-dialect " + args.value() + ": expected postgres or materialize"};
      freshet::set_sql_dialect(*d);
    } else if (args.flag("--dataflow-memory-budget-mb")) {
      uint64_t n = 0;
      const std::string& v = args.value();
      auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
      if (v.empty() || ec != std::errc() || p != v.data() + v.size() || n > (uint64_t{1} << 30)) {
        throw UsageError{"--dataflow-memory-budget-mb " + v + ": expected a number of megabytes (0: no budget)"};
      }
      freshet::server::Maintained::set_budget_bytes(n << 20, /*configured=*/true);
    } else if (args.flag("--secret-key-file")) {
      if (args.value().empty()) throw UsageError{"--secret-key-file needs a file"};
      copts.secret_key_file = args.value();
    } else if (args.flag("--authentication-timeout")) {
      pgopts.limits.startup_timeout_ms = parse_timeout(args.value(), "--authentication-timeout");
    } else if (parse_kafka_flag(args, kopts)) {
    } else {
      throw UsageError{"serve: unknown option " + std::string(args.peek())};
    }
  }
  if (kopts.sasl && kopts.enabled && !copts.auth.require_password) {
    // SASL that accepts any user and password is no SASL at all.
    throw UsageError{"--kafka-sasl needs passwords: add --password-file FILE or --user-password USER:PASS"};
  }
  if (kopts.http_tls && kopts.tls_cert.empty()) throw UsageError{"--http-tls needs --tls-cert and --tls-key"};
  if (kopts.http_enabled && !copts.auth.require_password && !kopts.http_allow_no_password && !is_loopback(kopts.http_host)) {
    // The HTTP API runs any SQL: without passwords it stays on this machine unless asked.
    throw UsageError{"--http-listen " + kopts.http_host + ": beyond loopback the HTTP API (SQL, console, metrics) needs "
                     "passwords (--password-file or --user-password), or --http-allow-no-password"};
  }

  sigset_t stop_signals = block_stop_signals();
  // SIGTERM or SIGINT during start-up (recovery reads every table's rows into memory: minutes
  // at tens of millions of rows) ends the process at once. Start-up only reads the data
  // directory and redoes what a crash may have left half done (a torn tail, a committed
  // transaction's table records), so stopping there leaves it as a crash would, which the
  // next start recovers (the crash tests). Once serving, the signal stops the server
  // gracefully below. The watcher is detached: it may outlive a start-up that fails.
  static std::atomic<int> stop_sig{0};
  static std::atomic<bool> serving{false};
  std::thread([stop_signals] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (!serving.load()) {
      std::fprintf(stderr, "freshet: received %s during start-up, stopping now (the next start recovers the data directory)\n",
                   sig == SIGINT ? "SIGINT" : "SIGTERM");
      std::_Exit(0);
    }
    stop_sig.store(sig);
    stop_sig.notify_all();
  }).detach();
  // Before the coordinator: recovery renders (and hydrates) the maintained dataflows.
  freshet::dataflow::WorkerPool::configure(workers);
  std::optional<freshet::server::Coordinator> coordinator;
  try {
    coordinator.emplace(copts);
  } catch (const freshet::SqlError& e) {
    std::fprintf(stderr, "freshet: cannot start: %s\n", e.message().c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "freshet: cannot start: %s\n", e.what());
    return 1;
  }
  freshet::pgwire::PgServer pg(*coordinator, pgopts);
  if (freshet::Status s = pg.start(); !s) {
    std::fprintf(stderr, "freshet: %s\n", s.message().c_str());
    return 1;
  }
  std::fprintf(stderr, "freshet: listening for PostgreSQL connections on %s\n", pg.address().c_str());
  KafkaEndpoints kafka;
  if (int rc = start_kafka(*coordinator, kopts, copts.auth.require_password, pg, kafka); rc != 0) {
    pg.stop();
    return rc;
  }

  serving.store(true);
  stop_sig.wait(0);
  int sig = stop_sig.load();
  std::fprintf(stderr, "freshet: received %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  kafka.stop();
  pg.stop();
  coordinator.reset();
  std::fprintf(stderr, "freshet: stopped\n");
  return 0;
}

constexpr const char* kDemoUsage =
    "usage: freshet demo [options]\n"
    "\n"
    "Starts Freshet with the SALES load generator, creates the seed tutorial's\n"
    "sales_anomalies view with an index, and prints the view's changes as they happen.\n"
    "\n"
    "options:\n"
    "  --duration D           stop after D (e.g. 30s, 5m; default: run until Ctrl-C)\n"
    "  --rate N               sales changes per tick (default 2000, ticks every 100 ms)\n"
    "  --data-dir DIR         where Freshet keeps its data (default: freshet-demo-data)\n"
    "  --pg-listen HOST:PORT  PostgreSQL protocol address (default: 127.0.0.1:6875)\n"
    "  --kafka-listen HOST:PORT, --http-listen HOST:PORT  Kafka API; HTTP (web console, SQL API,\n"
    "                         schema registry) (defaults 127.0.0.1:9092 and 127.0.0.1:6876, moved\n"
    "                         to free ports when taken; 'off' disables)\n"
    "  -h, --help             show this help\n";

// The seed tutorial's view, verbatim.
constexpr const char* kAnomaliesView =
    "create view sales_anomalies as  with recent_sales as (    select * from sales    where mz_now() <= sale_date + interval "
    "'7 days'  ),  rolling_avg as (    select    customer_id,    avg(total_price) as customer_spend_avg    from recent_sales    "
    "group by customer_id  )  select    a.customer_id, a.customer_spend_avg, s.product_id, s.quantity, s.sale_date, s.sale_id, "
    "s.total_price, s.unit_price  from recent_sales s join rolling_avg a using(customer_id)  where s.total_price > 1.5 * "
    "a.customer_spend_avg";

// Runs SQL through an in-process session; returns the rows as text fields.
std::vector<std::vector<std::string>> demo_sql(freshet::server::Session& s, const std::string& sql) {
  std::vector<std::vector<std::string>> out;
  for (const auto& text : s.split(sql)) {
    auto ps = s.prepare(text, {});
    auto ex = s.execute(ps, {});
    std::vector<freshet::Row> rows;
    while (ex->fetch(rows, 0)) {
    }
    out.clear();
    for (const auto& r : rows) {
      std::vector<std::string> fields;
      auto ds = r.unpack();
      for (size_t i = 0; i < ds.size(); ++i)
        fields.push_back(ds[i].is_null() ? "NULL" : freshet::format_datum(ds[i], ex->columns()[i].type));
      out.push_back(std::move(fields));
    }
  }
  return out;
}

int run_demo(int argc, char** argv, int first) {
  freshet::server::CoordinatorOptions copts;
  copts.data_dir = "freshet-demo-data";
  freshet::pgwire::PgServerOptions pgopts;
  uint64_t duration_ms = 0;
  uint64_t rate = 2000;
  KafkaFlags kopts;
  ArgReader args(argc, argv, first);
  while (!args.done()) {
    if (args.option("-h") || args.option("--help")) {
      std::fputs(kDemoUsage, stdout);
      return 0;
    } else if (args.flag("--duration")) {
      duration_ms = parse_duration(args.value());
    } else if (args.flag("--rate")) {
      try {
        rate = std::stoull(args.value());
      } catch (...) {
        throw UsageError{"--rate " + args.value() + ": expected a number"};
      }
    } else if (args.flag("--data-dir")) {
      copts.data_dir = args.value();
    } else if (args.flag("--pg-listen")) {
      HostPort hp = parse_host_port("--pg-listen", args.value());
      pgopts.host = hp.host;
      pgopts.port = hp.port;
    } else if (parse_kafka_flag(args, kopts)) {
    } else {
      throw UsageError{"demo: unknown option " + std::string(args.peek())};
    }
  }
  if (kopts.sasl && kopts.enabled) throw UsageError{"--kafka-sasl needs passwords, which the demo does not take"};
  sigset_t stop_signals = block_stop_signals();
  freshet::dataflow::WorkerPool::configure(default_workers());
  freshet::server::Coordinator coordinator(copts);
  freshet::pgwire::PgServer pg(coordinator, pgopts);
  if (freshet::Status s = pg.start(); !s) {
    std::fprintf(stderr, "freshet: %s\n", s.message().c_str());
    return 1;
  }
  KafkaEndpoints kafka;
  if (start_kafka(coordinator, kopts, false, pg, kafka) != 0) {
    // Another program (or demo) holds a default port: the demo takes free ones instead, and
    // prints them below. Ports given with --kafka-listen/--http-listen are not moved.
    kafka.stop();
    kafka = KafkaEndpoints();
    const KafkaFlags defaults;
    KafkaFlags moved = kopts;
    if (moved.port == defaults.port) moved.port = 0;
    if (moved.http_port == defaults.http_port) moved.http_port = 0;
    if ((moved.port != kopts.port || moved.http_port != kopts.http_port) && start_kafka(coordinator, moved, false, pg, kafka) == 0) {
      std::fprintf(stderr, "freshet demo: a default port was taken; the Kafka API and HTTP moved to free ports\n");
    } else {
      std::fprintf(stderr, "freshet demo: continuing without the Kafka API and HTTP (use --kafka-listen/--http-listen to move them)\n");
      kafka.stop();
      kafka = KafkaEndpoints();
    }
  }
  freshet::server::Session setup(coordinator, {});
  freshet::server::Session watch(coordinator, {});
  try {
    // A data directory from an earlier demo already has the source and the view.
    if (demo_sql(setup, "SELECT count(*) FROM mz_source_statuses WHERE name = 'demo'")[0][0] == "0")
      demo_sql(setup, "CREATE SOURCE demo FROM LOAD GENERATOR SALES (TICK INTERVAL '100ms', RATE " + std::to_string(rate) +
                          ", SEED 42) FOR ALL TABLES");
    if (demo_sql(setup, "SELECT count(*) FROM pg_catalog.pg_class WHERE relname = 'sales_anomalies'")[0][0] == "0") {
      demo_sql(setup, kAnomaliesView);
      demo_sql(setup, "CREATE INDEX ON sales_anomalies (customer_id)");
    }
  } catch (const freshet::SqlError& e) {
    std::fprintf(stderr, "freshet demo: setup failed: %s\n", e.message().c_str());
    return 1;
  }
  // The addresses actually in use (a port may have been moved above, or given as 0).
  const std::string pg_addr = pgopts.host + ":" + std::to_string(pg.port());
  const std::string http_url = kafka.registry ? "http://" + kopts.http_host + ":" + std::to_string(kafka.registry->port()) : "";
  const std::string kafka_addr = kafka.server ? kopts.host + ":" + std::to_string(kafka.server->port()) : "";
  std::printf(
      "Freshet demo: the SALES load generator writes %llu changes every 100 ms into table `sales`;\n"
      "the seed tutorial's view `sales_anomalies` (indexed on customer_id) is kept up to date.\n\n",
      static_cast<unsigned long long>(rate));
  if (!http_url.empty())
    std::printf("Open the web console:  %s/console/\n\n", http_url.c_str());
  else
    std::printf("The web console is off (no HTTP listener).\n\n");
  std::printf(
      "Connect while it runs:\n  psql -h %s -p %u -U freshet freshet\n"
      "and try:\n  SELECT * FROM sales_anomalies WHERE customer_id = 42;\n"
      "  SELECT count(*) FROM sales_anomalies;\n  SELECT * FROM mz_source_statuses;\n\n",
      pgopts.host.c_str(), static_cast<unsigned>(pg.port()));
  if (!kafka_addr.empty())
    std::printf("The sales table is also the Kafka topic freshet.public.sales (Avro; schema registry %s):\n"
                "  kcat -b %s -t freshet.public.sales -C -e\n\n",
                http_url.empty() ? "off" : http_url.c_str(), kafka_addr.c_str());
  std::printf("Addresses: PostgreSQL %s, Kafka %s, HTTP %s\n\n", pg_addr.c_str(), kafka_addr.empty() ? "off" : kafka_addr.c_str(),
              http_url.empty() ? "off" : http_url.c_str());
  std::printf("Changes to sales_anomalies as they happen (+ enters, - leaves):\n");
  std::fflush(stdout);
  // Stop on a signal or after the duration: cancel the watching session's SUBSCRIBE.
  std::atomic<bool> stop{false};
  std::thread stopper([&] {
    if (duration_ms > 0) {
      struct timespec ts;
      ts.tv_sec = static_cast<time_t>(duration_ms / 1000);
      ts.tv_nsec = static_cast<long>((duration_ms % 1000) * 1000000);
      siginfo_t info;
      sigtimedwait(&stop_signals, &info, &ts);
    } else {
      int sig = 0;
      sigwait(&stop_signals, &sig);
    }
    stop = true;
    watch.cancel();
  });
  uint64_t entered = 0, left = 0;
  auto last_summary = std::chrono::steady_clock::now();
  try {
    auto ps = watch.prepare("SUBSCRIBE sales_anomalies WITH (SNAPSHOT = true)", {});
    auto ex = watch.execute(ps, {});
    const auto& cols = ex->columns();
    std::vector<freshet::Row> rows;
    while (!stop) {
      rows.clear();
      ex->fetch(rows, 200);
      for (const auto& r : rows) {
        auto ds = r.unpack();
        // mz_timestamp, mz_diff, customer_id, customer_spend_avg, product_id, quantity, sale_date, sale_id, total_price, unit_price
        auto f = [&](size_t i) { return ds[i].is_null() ? std::string("NULL") : freshet::format_datum(ds[i], cols[i].type); };
        int64_t diff = ds[1].as_int();
        (diff > 0 ? entered : left) += static_cast<uint64_t>(diff > 0 ? diff : -diff);
        std::string avg = f(3);
        if (auto dot = avg.find('.'); dot != std::string::npos && avg.size() > dot + 3) avg = avg.substr(0, dot + 3);
        std::printf("%s customer %5s  sale %7s  total %8s  (customer avg %8s)  product %3s  %s\n", diff > 0 ? "+" : "-",
                    f(2).c_str(), f(7).c_str(), f(8).c_str(), avg.c_str(), f(4).c_str(), f(6).c_str());
      }
      auto now = std::chrono::steady_clock::now();
      if (now - last_summary > std::chrono::seconds(5)) {
        last_summary = now;
        auto n = demo_sql(setup, "SELECT count(*) FROM sales_anomalies");
        auto src = demo_sql(setup, "SELECT round(rows_per_second)::int8, lag_ms, rows_total FROM mz_source_statuses WHERE name = 'demo'");
        auto sales = demo_sql(setup, "SELECT count(*) FROM sales");
        std::printf("-- %s anomalies now (%llu entered, %llu left); sales rows %s; source %s changes/s, lag %s ms\n",
                    n.empty() ? "?" : n[0][0].c_str(), static_cast<unsigned long long>(entered), static_cast<unsigned long long>(left),
                    sales.empty() ? "?" : sales[0][0].c_str(), src.empty() ? "?" : src[0][0].c_str(), src.empty() ? "?" : src[0][1].c_str());
      }
      std::fflush(stdout);
    }
  } catch (const freshet::SqlError& e) {
    if (!stop) std::fprintf(stderr, "freshet demo: %s\n", e.message().c_str());
  }
  stop = true;
  if (duration_ms == 0) {
    // the stopper already returned after a signal
  } else {
    pthread_kill(stopper.native_handle(), SIGTERM);
  }
  stopper.join();
  std::printf("freshet demo: stopped (%llu anomalies entered, %llu left)\n", static_cast<unsigned long long>(entered),
              static_cast<unsigned long long>(left));
  kafka.stop();
  pg.stop();
  return 0;
}

int run_repair(int argc, char** argv, int first) {
  std::string data_dir = "freshet-data";
  ArgReader args(argc, argv, first);
  while (!args.done()) {
    if (args.option("-h") || args.option("--help")) {
      std::fputs(kRepairUsage, stdout);
      return 0;
    } else if (args.flag("--data-dir")) {
      if (args.value().empty()) throw UsageError{"--data-dir needs a directory"};
      data_dir = args.value();
    } else {
      throw UsageError{"unknown option '" + std::string(args.peek()) + "'"};
    }
  }
  auto rep = freshet::storage::repair_data_dir(data_dir);
  if (!rep) {
    std::fprintf(stderr, "freshet repair: %s\n", rep.status().message().c_str());
    return 2;
  }
  for (const auto& line : rep->lines) std::printf("%s\n", line.c_str());
  std::printf("freshet repair: %llu collections checked, %llu damaged files moved aside, %llu bytes lost, %llu intact frames kept\n",
              static_cast<unsigned long long>(rep->collections), static_cast<unsigned long long>(rep->damaged_files),
              static_cast<unsigned long long>(rep->lost_bytes), static_cast<unsigned long long>(rep->kept_frames));
  return rep->damaged_files > 0 ? 1 : 0;
}

struct Command {
  std::string_view name;
  std::function<int(int argc, char** argv, int first)> run;
};

// Subcommands. Later: {"demo", run_demo}, ...
const Command kCommands[] = {
    {"serve", run_serve},
    {"demo", run_demo},
    {"repair", run_repair},
};

}  // namespace

int main(int argc, char** argv) {
  // Large buffers (Fetch responses, big requests, rows) come from mmap and go back to the
  // system when freed. glibc's default raises the mmap threshold after each such free (up to
  // 32 MiB), after which they stay in per-thread arenas: 20 concurrent 64 MiB Fetches then
  // kept ~0.5 GB resident long after they were answered.
  mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  // FRESHET_MALLOC="mmap_kib:trim_kib" sets both thresholds instead: for benchmarks comparing
  // them in one binary (bench/README.md), not a setting to run with.
  if (const char* v = std::getenv("FRESHET_MALLOC")) {
    unsigned long mmap_kib = 0, trim_kib = 0;
    constexpr unsigned long kMaxKib = static_cast<unsigned long>(INT_MAX) / 1024;
    if (std::sscanf(v, "%lu:%lu", &mmap_kib, &trim_kib) == 2 && mmap_kib <= kMaxKib && trim_kib <= kMaxKib) {
      mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_kib * 1024));
      mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_kib * 1024));
    } else {
      std::fprintf(stderr, "freshet: FRESHET_MALLOC=\"%s\" ignored (expected mmap_kib:trim_kib, each at most %lu)\n", v, kMaxKib);
    }
  }
  // Every thread (sessions, workers) gets a 16 MiB stack: reserved address space, committed
  // only as recursion touches it. Binding, lowering and evaluating a nested expression take
  // about 2 KB of stack per level, and the stack guard (common/stack_guard.hpp) keeps a
  // quarter in reserve: with the 8 MiB default, `'a' || 'a' || ...` of 3,000 terms (which
  // PostgreSQL answers) was refused with 54001 as soon as a frame on that path grew.
  {
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) == 0) {
      if (pthread_attr_setstacksize(&attr, size_t{16} << 20) == 0) pthread_setattr_default_np(&attr);
      pthread_attr_destroy(&attr);
    }
  }
  freshet::console::register_console();  // before any HTTP listener starts (console/assets.hpp)
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "-h" || cmd == "--help" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (c.name != cmd) continue;
    try {
      return c.run(argc, argv, 2);
    } catch (const UsageError& e) {
      std::fprintf(stderr, "freshet: %s\nRun 'freshet %s --help' for usage.\n", e.message.c_str(),
                   std::string(cmd).c_str());
      return 2;
    }
  }
  std::fprintf(stderr, "freshet: unknown command '%s'\n\n%s", std::string(cmd).c_str(), kUsage);
  return 2;
}
