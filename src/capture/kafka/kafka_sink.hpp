#pragma once
// The Kafka side of a sink (README.md, "Sinks"): one librdkafka producer writing the sink's
// topic, and what exactly-once across restarts needs from the broker: the topic created when
// missing, each partition's high watermark, and the records written after a given offset read
// back.
//
// The producer is idempotent (acks=all; a broker that supports it drops retried duplicates),
// never compresses, and partitions keyed messages with murmur2 (the Java client's default, so
// other clients agree on where a key lives); messages without a key name their partition.
//
// Threads: a SinkConnection is used by one thread (the sink's). librdkafka runs its own.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/kafka/kafka_source.hpp"
#include "common/error.hpp"

namespace freshet::capture::kafka {

struct SinkTopicOptions {
  std::string topic;
  int32_t partitions = -1;          // when created: -1 = the broker's default
  int32_t replication_factor = -1;  // when created: -1 = the broker's default
  std::string client_id;
};

struct OutMessage {
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a tombstone
  int64_t timestamp_ms = 0;
  int32_t partition = -1;            // -1: by the key's hash
};

class SinkConnection {
 public:
  ~SinkConnection();
  // Connects (the metadata request proves broker, TLS and SASL) and creates the topic when it
  // does not exist. Errors name the broker and the cause.
  static Result<std::unique_ptr<SinkConnection>> open(const KafkaConnectionOptions& conn, const SinkTopicOptions& topic);

  int32_t partitions() const { return partitions_; }
  // The next offset of every partition.
  Result<std::vector<int64_t>> high_watermarks();
  // Calls fn for every record of partition p in [from[p], to[p]), in offset order.
  Status read_back(const std::vector<int64_t>& from, const std::vector<int64_t>& to,
                   const std::function<Status(int32_t partition, int64_t offset, std::optional<std::string_view> key,
                                              std::optional<std::string_view> value)>& fn,
                   const std::atomic<bool>& stop);
  // Produces every message and waits until each is acknowledged; next_offsets[p] becomes one
  // past the highest acknowledged offset of p. On an error some messages may have been written
  // (the caller reads them back).
  Status produce(const std::vector<OutMessage>& msgs, std::vector<int64_t>& next_offsets, const std::atomic<bool>& stop);

 private:
  SinkConnection() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  KafkaConnectionOptions conn_;
  SinkTopicOptions topic_;
  int32_t partitions_ = 0;
};

}  // namespace freshet::capture::kafka
