#pragma once
// The schema registry: SchemaCatalog assigns Confluent schema ids and subject versions to the
// Avro schemas of topics (subjects "<topic>-key" and "<topic>-value") and persists them
// through the backend, so ids are stable across restarts; SchemaRegistryServer serves the
// Confluent REST API subset clients read and register with over HTTP/1.1 with optional Basic
// auth:
//   GET /subjects                             ["t-key", "t-value", ...]
//   GET /subjects/{s}/versions                [1, 2]
//   GET /subjects/{s}/versions/{v|latest}     {"subject", "version", "id", "schema"}
//   GET /schemas/ids/{id}                     {"schema"}
//   GET /config                               {"compatibilityLevel": "NONE"}
//   POST /subjects/{s}/versions {"schema": "<avro json>"[, "schemaType": "AVRO"]}  {"id": N}
//   POST /subjects/{s}  (same body: lookup)   {"subject", "version", "id", "schema"}
// Schemas are compared in a canonical form (parsed and re-serialized: whitespace and object
// key order do not matter). Errors as Confluent's: 404 with {"error_code": 40401 (subject),
// 40402 (version), 40403 (schema), "message"}; 422 42201 (invalid schema, invalid JSON,
// schemaType other than AVRO); 409 (a subject of one of Freshet's own topics takes only the
// topic's derived schema); 401 {"error_code": 401} without valid credentials.
//
// SchemaRegistryServer is Freshet's one HTTP listener (--http-listen): Options::handler answers
// first (src/server/http_api.hpp: the SQL API, /metrics, /health, the console) and the
// registry's routes take what it leaves (README.md "HTTP listener").
//
// Threads: SchemaCatalog is thread-safe (one mutex). The HTTP server has an accept thread and
// a thread per connection (keep-alive), bounded by max_connections.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/conn_gate.hpp"
#include "kafka/backend.hpp"
#include "kafka/encoding.hpp"
#include "kafka/http.hpp"
#include "kafka/net.hpp"

namespace freshet::kafka {

class SchemaCatalog {
 public:
  // Loads the persisted entries.
  explicit SchemaCatalog(KafkaBackend& backend);

  // The id of schema under subject, registering a new version when it differs from the
  // subject's latest. The same schema text has the same id in every subject (as Confluent).
  Result<int32_t> register_schema(const std::string& subject, const std::string& schema);
  // Registers the key and value schemas of every Avro topic.
  Status sync_topics();
  // The codec of a topic (schemas registered on first use, cached while its columns stay the
  // same), or nullptr for an unknown topic. REQUIRES: info from backend.topic().
  Result<std::shared_ptr<const TopicCodec>> codec(const TopicInfo& info);

  std::vector<std::string> subjects();
  std::vector<int32_t> versions(const std::string& subject);
  // version -1 = latest.
  std::optional<StoredSchema> lookup(const std::string& subject, int32_t version);
  std::optional<std::string> schema_by_id(int32_t id);

  // A client's registration (POST /subjects/{s}/versions) of a schema already checked by
  // check_avro_schema: its id, existing or new (a new version of the subject). Fails with
  // http_status 409 when the subject belongs to one of the backend's Avro topics and the
  // schema is not the topic's derived one, 500 when it cannot be stored.
  struct Registration {
    int http_status = 200;
    int32_t id = 0;
    std::string message;
  };
  Registration register_client_schema(const std::string& subject, const std::string& schema);
  // The subject's entry holding this schema (canonical comparison), if any.
  std::optional<StoredSchema> find_in_subject(const std::string& subject, const std::string& schema);

 private:
  Result<int32_t> register_locked(const std::string& subject, const std::string& schema);

  KafkaBackend& backend_;
  std::mutex mutex_;
  // Guarded by mutex_:
  std::map<std::string, std::vector<StoredSchema>> by_subject_;
  std::map<int32_t, std::string> by_id_;
  std::map<std::string, int32_t> id_of_schema_;  // by canonical form
  int32_t next_id_ = 1;
  struct CachedCodec {
    std::string signature;
    std::shared_ptr<const TopicCodec> codec;
  };
  std::map<std::string, CachedCodec> codecs_;
};

// The canonical form schemas are compared in: the JSON parsed and written back (jsonb's
// writer: fixed spacing, keys ordered). Throws SqlError when text is not JSON.
std::string canonical_schema(std::string_view text);
// text without the whitespace between JSON tokens (what is stored for a client's schema: its
// key order kept, one line). REQUIRES: text is JSON.
std::string compact_json(std::string_view text);
// "" when text is a valid Avro schema (JSON, types, names, record fields, enums, fixed,
// arrays, maps, unions), else why not.
std::string check_avro_schema(std::string_view text);

class SchemaRegistryServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 8081;
    bool basic_auth_required = false;  // credentials checked with backend.authenticate_plain
    // Connections handling a request. Connections waiting for one (idle keep-alive, or headers
    // not complete yet) are counted apart, at most max_waiting_connections: past it the one
    // waiting longest is closed to admit a new one (common/conn_gate.hpp), so half-sent
    // headers cannot lock clients out.
    size_t max_connections = 256;
    size_t max_waiting_connections = 256;
    size_t max_header_bytes = 64 * 1024;
    // A request's headers and body must arrive within this once its first byte did
    // (nginx's client_header_timeout; Go's ReadHeaderTimeout).
    int request_timeout_ms = 10'000;
    // A keep-alive connection with no new request for this long is closed.
    int idle_timeout_ms = 60'000;
    // A response (or event stream) write that makes no progress for this long closes the
    // connection: a client that stops reading does not hold its thread forever.
    int write_timeout_ms = 60'000;
    // A larger Content-Length is answered 413 and the connection closed.
    size_t max_body_bytes = 16 * 1024 * 1024;
    // Serves HTTPS when set (PEM files, as the Kafka listener's --tls-cert/--tls-key); the TLS
    // handshake must finish within request_timeout_ms.
    std::string tls_cert_file, tls_key_file;
    // Asked first for every request; nullopt leaves it to the registry. Runs on the
    // connection's thread, without a read deadline (a query or a stream may take long).
    HttpHandler handler;
  };
  SchemaRegistryServer(KafkaBackend& backend, SchemaCatalog& catalog, Options options);
  ~SchemaRegistryServer();

  Status start();
  uint16_t port() const { return port_; }
  bool tls() const { return tls_ != nullptr; }
  void stop();

  // For /metrics: connections open now, accepted so far, and requests read so far.
  size_t open_connections();
  uint64_t accepted_connections() const { return accepted_.load(std::memory_order_relaxed); }
  uint64_t requests() const { return requests_.load(std::memory_order_relaxed); }

  // The response (status, JSON body) to a request (method, path, Authorization header value,
  // body); exposed for tests.
  std::pair<int, std::string> handle(const std::string& method, const std::string& path,
                                     const std::string& authorization, const std::string& body = "");

 private:
  void accept_loop();
  void serve(std::shared_ptr<Connection> conn, ConnectionGate::Ticket& ticket);
  std::pair<int, std::string> handle_post(const std::vector<std::string>& parts, const std::string& body);

  KafkaBackend& backend_;
  SchemaCatalog& catalog_;
  const Options options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  SslCtxPtr tls_;  // constant after start()
  std::atomic<uint64_t> accepted_{0};
  std::atomic<uint64_t> requests_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  // Guarded by mutex_:
  std::map<int, std::shared_ptr<Connection>> connections_;
  size_t active_ = 0;
  std::condition_variable idle_cv_;  // active_ reached 0
  ConnectionGate gate_;              // thread-safe on its own
};

}  // namespace freshet::kafka
