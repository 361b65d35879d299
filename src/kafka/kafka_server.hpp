#pragma once
// KafkaServer: the Kafka wire-protocol listener over a KafkaBackend (README.md).
//
// Threads: one accept thread and one thread per connection (bounded by max_connections).
// A connection handles its requests one at a time, in order, as a Kafka broker does; Fetch
// (max_wait_ms/min_bytes), JoinGroup and SyncGroup block their connection's thread. The
// GroupCoordinator and SchemaCatalog are shared and thread-safe.
//
// Limits: a request frame larger than max_request_bytes (max_preauth_request_bytes before
// authentication), a malformed frame, or any request other than ApiVersions/SASL before
// authentication (when SASL is required) closes that connection only. Unauthenticated
// connections are counted apart (ConnectionGate) and idle ones are closed (KafkaServerOptions). An unknown API key or unsupported version gets error 35
// (UNSUPPORTED_VERSION); ApiVersions answers it in its v0 form with the supported versions.

#include <array>
#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/conn_gate.hpp"
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
  // Before SaslAuthenticate succeeds a frame may be at most this (Kafka's
  // sasl.server.max.receive.size). Frame buffers grow as bytes arrive, never from the
  // announced length, so a client announcing 100 MiB costs what it actually sends.
  size_t max_preauth_request_bytes = 512 * 1024;
  // Authenticated connections that have completed a request. Beyond: the connection is closed.
  size_t max_connections = 1024;
  // Connections not yet authenticated (or, without SASL, that have not completed a request),
  // counted apart: past this many the oldest such connection is closed to admit a new one, so
  // silent or half-sent connections never lock authenticated clients out (common/conn_gate.hpp).
  size_t max_pending_connections = 256;
  // A connection with no bytes received for this long is closed (Kafka's
  // connections.max.idle.ms, 10 minutes). A Fetch waiting for data is not idle.
  int idle_timeout_ms = 10 * 60 * 1000;
  // Fetch response bytes materialized at once over all connections; a Fetch gets what is left
  // (at least 1 MiB, waiting for it), so 20 concurrent Fetches of 64 MiB hold this (times about
  // 3 while a response is encoded: records read, the batch, the framed response), not 1.3 GB.
  size_t max_fetch_bytes_in_flight = 64 * 1024 * 1024;
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
    std::string client_host;  // the peer's address, for DescribeGroups
    bool authenticated = false;
    std::string principal;  // the SASL user once authenticated; "" without SASL
    std::string mechanism;  // after SaslHandshake
    std::unique_ptr<ScramServer> scram;
    bool close = false;     // close after sending the response
    bool raw_sasl = false;  // after SaslHandshake v0: the next frames are bare SASL tokens
    size_t fetch_bytes_reserved = 0;  // of max_fetch_bytes_in_flight, until the response is sent
  };
  std::optional<std::string> handle(const Request& req, ConnState& state);

  // For /metrics (relaxed atomics, any thread): per API key, requests handled and the bytes of
  // their frames in and out; connections accepted so far and open now.
  static constexpr int16_t kMaxApiKey = 127;
  struct ApiCounters {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> bytes_in{0};
    std::atomic<uint64_t> bytes_out{0};
  };
  const ApiCounters& api_counters(int16_t api_key) const { return api_counters_[static_cast<size_t>(api_key)]; }
  uint64_t accepted_connections() const { return accepted_.load(std::memory_order_relaxed); }
  size_t open_connections();

 private:
  void accept_loop();
  void serve(std::shared_ptr<Connection> conn, ConnectionGate::Ticket& ticket);

  std::string handle_metadata(const MetadataRequest& r, int16_t v, const std::string& principal);
  std::string handle_list_offsets(const ListOffsetsRequest& r, int16_t v, const std::string& principal);
  std::string handle_fetch(const FetchRequest& r, int16_t v, ConnState& st);
  // Reserves up to want bytes of the fetch budget (at least min(want, 1 MiB), waiting for it
  // until deadline; less than that only when the deadline passed); returns what was granted.
  size_t reserve_fetch_bytes(size_t want, std::chrono::steady_clock::time_point deadline);
  void release_fetch_bytes(ConnState& st);
  // Reads one size-prefixed frame into frame, growing it as bytes arrive; false on EOF, a
  // size over limit, an error or the idle timeout.
  bool read_frame(Connection& conn, std::string& frame, size_t limit, bool raw_sasl);
  std::string handle_produce(const ProduceRequest& r, int16_t v, const std::string& principal);
  std::string handle_offset_commit(const OffsetCommitRequest& r, int16_t v, const std::string& principal);
  std::string handle_offset_fetch(const OffsetFetchRequest& r, int16_t v, const std::string& principal);
  std::string handle_create_topics(const CreateTopicsRequest& r, int16_t v, const std::string& principal);
  std::string handle_delete_topics(const DeleteTopicsRequest& r, int16_t v, const std::string& principal);
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
  std::array<ApiCounters, kMaxApiKey + 1> api_counters_;
  std::atomic<uint64_t> accepted_{0};
  std::thread accept_thread_;
  std::mutex mutex_;
  std::condition_variable idle_cv_;
  // Guarded by mutex_:
  std::map<int, std::shared_ptr<Connection>> connections_;
  size_t active_ = 0;
  size_t fetch_bytes_in_flight_ = 0;
  std::condition_variable fetch_cv_;  // fetch_bytes_in_flight_ went down
  ConnectionGate gate_;  // thread-safe on its own
};

}  // namespace freshet::kafka
