#pragma once
// The schema registry: SchemaCatalog assigns Confluent schema ids and subject versions to the
// Avro schemas of topics (subjects "<topic>-key" and "<topic>-value") and persists them
// through the backend, so ids are stable across restarts; SchemaRegistryServer serves the
// Confluent REST API subset clients read (GET only) over HTTP/1.1 with optional Basic auth:
//   GET /subjects                             ["t-key", "t-value", ...]
//   GET /subjects/{s}/versions                [1, 2]
//   GET /subjects/{s}/versions/{v|latest}     {"subject", "version", "id", "schema"}
//   GET /schemas/ids/{id}                     {"schema"}
//   GET /config                               {"compatibilityLevel": "NONE"}
// Errors as Confluent's: 404 with {"error_code": 40401 (subject), 40402 (version),
// 40403 (schema), "message"}; 401 {"error_code": 401} without valid credentials.
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

#include "kafka/backend.hpp"
#include "kafka/encoding.hpp"
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

 private:
  Result<int32_t> register_locked(const std::string& subject, const std::string& schema);

  KafkaBackend& backend_;
  std::mutex mutex_;
  // Guarded by mutex_:
  std::map<std::string, std::vector<StoredSchema>> by_subject_;
  std::map<int32_t, std::string> by_id_;
  std::map<std::string, int32_t> id_of_schema_;
  int32_t next_id_ = 1;
  struct CachedCodec {
    std::string signature;
    std::shared_ptr<const TopicCodec> codec;
  };
  std::map<std::string, CachedCodec> codecs_;
};

class SchemaRegistryServer {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 8081;
    bool basic_auth_required = false;  // credentials checked with backend.authenticate_plain
    size_t max_connections = 256;
    size_t max_header_bytes = 64 * 1024;
  };
  SchemaRegistryServer(KafkaBackend& backend, SchemaCatalog& catalog, Options options);
  ~SchemaRegistryServer();

  Status start();
  uint16_t port() const { return port_; }
  void stop();

  // The response (status, JSON body) to a GET of path with an Authorization header value;
  // exposed for tests.
  std::pair<int, std::string> handle(const std::string& method, const std::string& path,
                                     const std::string& authorization);

 private:
  void accept_loop();
  void serve(std::shared_ptr<Connection> conn);

  KafkaBackend& backend_;
  SchemaCatalog& catalog_;
  const Options options_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread accept_thread_;
  std::mutex mutex_;
  // Guarded by mutex_:
  std::map<int, std::shared_ptr<Connection>> connections_;
  size_t active_ = 0;
  std::condition_variable idle_cv_;  // active_ reached 0
};

}  // namespace freshet::kafka
