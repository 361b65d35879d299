#pragma once
// KafkaServer: the Kafka wire-protocol listener over a KafkaBackend (README.md).
//
// Threads: one accept thread and one thread per connection (bounded by max_connections).
// A connection handles its requests one at a time, in order, as a Kafka broker does; Fetch
// (max_wait_ms/min_bytes), JoinGroup and SyncGroup block their connection's thread. The
// GroupCoordinator and SchemaCatalog are shared and thread-safe.
//
// Limits: a request frame larger than max_request_bytes, a malformed frame, or any request
// other than ApiVersions/SASL before authentication (when SASL is required) closes that
// connection only. An unknown API key or unsupported version gets error 35
// (UNSUPPORTED_VERSION); ApiVersions answers it in its v0 form with the supported versions.

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "kafka/backend.hpp"
#include "kafka/group_coordinator.hpp"
#include "kafka/messages.hpp"
#include "kafka/net.hpp"
#include "kafka/sasl.hpp"
#include "kafka/schema_registry.hpp"

namespace freshet::kafka {

struct KafkaServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 9092;                 // 0 = any free port (port() tells)
  std::string advertised_host;          // "" = host (or 127.0.0.1 when host is a wildcard)
  uint16_t advertised_port = 0;         // 0 = the bound port
  bool sasl_required = false;           // SASL_PLAINTEXT / SASL_SSL
  std::string tls_cert_file;            // both set: TLS on this listener (SSL / SASL_SSL)
  std::string tls_key_file;
  size_t max_request_bytes = 100 * 1024 * 1024;
  size_t max_connections = 1024;
  int32_t max_wait_ms_cap = 30000;      // Fetch max_wait_ms is clamped to this
  size_t max_fetch_response_bytes = 64 * 1024 * 1024;
  GroupCoordinator::Options groups;
  std::string cluster_id = "freshet";
  // Metadata for an unknown topic with allow_auto_topic_creation (v4+; always in v0-3) creates
  // it as a raw topic with the backend's default partitions (Kafka's auto.create.topics.enable).
  bool auto_create_topics = true;
};

class KafkaServer {
 public:
  KafkaServer(KafkaBackend& backend, SchemaCatalog& catalog, KafkaServerOptions options);
  ~KafkaServer();
  KafkaServer(const KafkaServer&) = delete;
  KafkaServer& operator=(const KafkaServer&) = delete;

  // Binds, loads TLS material, starts the accept thread.
  Status start();
  uint16_t port() const { return port_; }
  // Closes the listener and every connection, waits for their threads.
  void stop();

  // Handles one decoded request for a connection; returns the framed response, or nullopt
  // when none is to be sent (Produce with acks=0). Exposed for tests and the fuzz target.
  struct ConnState {
    std::string client_id;
    bool authenticated = false;
    std::string mechanism;  // after SaslHandshake
    std::unique_ptr<ScramServer> scram;
    bool close = false;     // close after sending the response
    bool raw_sasl = false;  // after SaslHandshake v0: the next frames are bare SASL tokens
  };
  std::optional<std::string> handle(const Request& req, ConnState& state);

 private:
  void accept_loop();
  void serve(std::shared_ptr<Connection> conn);

  std::string handle_metadata(const MetadataRequest& r, int16_t v);
  std::string handle_list_offsets(const ListOffsetsRequest& r, int16_t v);
  std::string handle_fetch(const FetchRequest& r, int16_t v);
  std::string handle_produce(const ProduceRequest& r, int16_t v);
  std::string handle_offset_commit(const OffsetCommitRequest& r, int16_t v);
  std::string handle_offset_fetch(const OffsetFetchRequest& r, int16_t v);
  std::string handle_create_topics(const CreateTopicsRequest& r, int16_t v);
  std::string handle_delete_topics(const DeleteTopicsRequest& r, int16_t v);
  SaslAuthenticateResponse sasl_authenticate(const std::string& auth_bytes, ConnState& state);
  std::string advertised_host() const;
  int32_t advertised_port() const;

  KafkaBackend& backend_;
  SchemaCatalog& catalog_;
  const KafkaServerOptions options_;
  GroupCoordinator groups_;
  SslCtxPtr tls_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> next_producer_id_{1000};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::condition_variable idle_cv_;
  // Guarded by mutex_:
  std::map<int, std::shared_ptr<Connection>> connections_;
  size_t active_ = 0;
};

}  // namespace freshet::kafka
