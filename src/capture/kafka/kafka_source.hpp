#pragma once
// The Kafka source connector: CREATE SOURCE s FROM KAFKA CONNECTION k (TOPIC 't'
// [, START OFFSET (o0, o1, ...)]) FORMAT ... [INCLUDE ...] ENVELOPE ... (README.md).
//
// A librdkafka consumer that joins no consumer group: it assigns itself every partition of the
// topic and seeks each to the source's stored position (the next offset per partition, kept
// with the data by SourceSink::apply: exactly once across restarts), else to START OFFSET,
// else to the beginning. The connector thread batches what one poll round returns (at most
// kMaxBatchMessages messages or kBatchWindowMs) into one Transaction whose position is the
// next offset of every partition; offsets are never committed to the broker. Records that share
// a timestamp (one upstream transaction, in Freshet's own topics) are applied in one
// Transaction: the newest timestamp of a partition is held back until the partition is read to
// its high watermark or a later timestamp arrives.
//
// Decoding errors: the message is skipped (its offset is still consumed), the error goes to
// SourceStatus.last_error with its partition and offset, and the source keeps running. Broker
// errors are reported and librdkafka retries (with its own backoff).
//
// Threads: start/stop from the coordinator; everything else on the connector thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/kafka/message_decoder.hpp"
#include "capture/kafka/registry_client.hpp"
#include "capture/source.hpp"

namespace freshet::capture::kafka {

inline constexpr size_t kMaxBatchMessages = 10000;
inline constexpr int kBatchWindowMs = 20;

struct KafkaConnectionOptions {
  std::string brokers;             // BROKER 'h:p' (or BROKERS 'a,b')
  std::string security_protocol;   // PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL (upper case)
  std::string sasl_mechanism;      // PLAIN, SCRAM-SHA-256, SCRAM-SHA-512
  std::string sasl_username;
  std::string sasl_password;
  std::string ssl_ca_pem;          // SSL CERTIFICATE AUTHORITY (PEM text)
  std::string ssl_ca_file;         // else FRESHET_KAFKA_CA_FILE from the server's environment
  bool ssl_verify = true;          // SSL VERIFY = false only on the user's explicit word
};

struct KafkaSourceOptions {
  KafkaConnectionOptions connection;
  std::string topic;
  std::vector<int64_t> start_offsets;  // START OFFSET, per partition
  DecoderConfig decoder;
  std::optional<RegistryOptions> registry;  // FORMAT AVRO
};

// Builds the librdkafka configuration lines (key, value) of a connection; exposed for tests
// and the sink. Throws AvroError for an unknown security protocol.
std::vector<std::pair<std::string, std::string>> librdkafka_config(const KafkaConnectionOptions& o);

class KafkaSource : public Source {
 public:
  explicit KafkaSource(KafkaSourceOptions o);
  ~KafkaSource() override;
  Status start(SourceSink& sink, std::optional<std::string> resume_position) override;
  void stop() override;

 private:
  void run(SourceSink* sink, std::optional<std::string> resume);

  KafkaSourceOptions o_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace freshet::capture::kafka
