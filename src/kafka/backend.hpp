#pragma once
// KafkaBackend: what the Kafka API needs from the rest of Freshet. The server (src/server/)
// implements it over durable collections; memory_backend.hpp implements it in memory for
// tests. Everything is in decoded rows: the Kafka module owns the wire and the Avro/JSON
// encodings, the backend owns the data. Raw topics (created by clients: CreateTopics or
// auto-creation) are the exception: their rows just carry the produced bytes (TopicFormat::kRaw).
//
// Threads: every method may be called concurrently from many connection threads (one per
// Kafka client connection) and from the schema registry's HTTP threads; implementations
// synchronize internally. No method may block for long except wait_for_data.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/row.hpp"
#include "common/types.hpp"
#include "kafka/sasl.hpp"

namespace freshet::kafka {

struct TopicColumn {
  std::string name;
  Type type;
  bool nullable = true;
};

// How a topic's keys and values are encoded on the wire (README.md, "Encoding").
enum class TopicFormat : uint8_t {
  kAvro,  // Confluent frame: magic 0, int32 big-endian schema id, Avro binary
  kJson,  // a JSON object per key/value
  // A client-created topic: keys and values are the bytes as produced, never decoded. The
  // key Row is one datum, the key bytes or NULL (a null key); the value Row one datum, the
  // value bytes (a null value is a tombstone: StoredRecord::value == nullopt, kept as any
  // other record). Headers travel in StoredRecord/ProducedRecord::headers.
  kRaw,
};

// Kafka's topic name rule: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
inline bool valid_topic_name(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}
inline constexpr int32_t kMaxTopicPartitions = 1000;  // CreateTopics' limit per topic

using RecordHeaders = std::vector<std::pair<std::string, std::optional<std::string>>>;

struct TopicInfo {
  std::string name;  // <database>.<schema>.<collection>
  int32_t partitions = 1;
  std::vector<TopicColumn> key_columns;
  std::vector<TopicColumn> value_columns;
  TopicFormat format = TopicFormat::kAvro;
};

// One change in a partition's log. value == nullopt is a delete: a tombstone on the wire.
struct StoredRecord {
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
  Row key;
  std::optional<Row> value;
  RecordHeaders headers;  // raw topics only
};

// A decoded record from a Produce request.
struct ProducedRecord {
  Row key;
  std::optional<Row> value;
  int64_t timestamp_ms = 0;
  RecordHeaders headers;  // raw topics only (others drop them)
};

// The answer to a partition request that can fail the Kafka way; error is a Kafka error
// code (errors.hpp), 0 on success.
struct OffsetsInfo {
  int16_t error = 0;
  int64_t log_start = 0;       // first offset still readable
  int64_t high_watermark = 0;  // offset of the next record to be written
};

struct CommittedOffset {
  std::string topic;
  int32_t partition = 0;
  int64_t offset = -1;
  std::string metadata;
};

// A schema-registry entry; ids are global and must stay stable across restarts.
struct StoredSchema {
  int32_t id = 0;
  std::string subject;
  int32_t version = 0;
  std::string schema;  // Avro schema JSON
};

class KafkaBackend {
 public:
  virtual ~KafkaBackend() = default;

  // Every topic (collection) served. Cheap enough to call per Metadata request.
  virtual std::vector<TopicInfo> topics() = 0;
  virtual std::optional<TopicInfo> topic(std::string_view name) = 0;

  // Log start and high watermark. error = UNKNOWN_TOPIC_OR_PARTITION (3) when absent.
  virtual OffsetsInfo offsets(std::string_view topic, int32_t partition) = 0;
  // The first offset whose timestamp is >= timestamp_ms, or the high watermark when none.
  virtual int64_t offset_for_time(std::string_view topic, int32_t partition, int64_t timestamp_ms) = 0;

  // Appends records at offsets >= from in ascending order, stopping once max_bytes (an
  // estimate of encoded size) is reached, but returns at least one record when any exists
  // (KIP-74). Returns a Kafka error code (0, 1 OFFSET_OUT_OF_RANGE, 3 UNKNOWN_TOPIC...).
  // next_offset, when given, is set to where the next read should start: one past the last
  // offset examined. It may be past the last record returned when the partition's offsets are
  // sparse (a topic sharing a collection, or a partition of one): Fetch then covers the gap with
  // the batch's lastOffsetDelta (or an empty batch) so that consumers move past it.
  virtual int16_t read(std::string_view topic, int32_t partition, int64_t from, size_t max_bytes,
                       std::vector<StoredRecord>& out, int64_t* next_offset = nullptr) = 0;

  // A counter that increases whenever any partition gets data; wait_for_data blocks until it
  // exceeds seen or the deadline passes (Fetch's max_wait_ms / min_bytes).
  virtual uint64_t data_version() = 0;
  virtual void wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) = 0;

  // Appends decoded records to a partition (durably before returning); returns the offset of
  // the first, or a Kafka error code (3 unknown partition, 87 INVALID_RECORD, ...) with a
  // message. The backend may refuse topics that are not writable (e.g. views).
  struct ProduceResult {
    int16_t error = 0;
    int64_t base_offset = -1;
    std::string message;
  };
  virtual ProduceResult produce(std::string_view topic, int32_t partition, std::vector<ProducedRecord> records) = 0;

  // Raw topics (TopicFormat::kRaw; README.md "Encoding"). A raw topic stores each produced
  // record as is (key, value, producer timestamp, headers) at dense offsets per partition
  // starting at 0 (base_offset of produce = the partition's high watermark before it), its
  // log start is 0, and it survives a restart with the same offsets.
  //
  // create_topic creates one durably (partitions: 1..kMaxTopicPartitions, name valid: the
  // caller checks both). Returns a Kafka error code: 0, TOPIC_ALREADY_EXISTS (36) when any
  // topic (raw or not) has that name, or another with message set. validate_only: check only.
  // delete_topic drops a raw topic and its records: 0, UNKNOWN_TOPIC_OR_PARTITION (3), or
  // POLICY_VIOLATION (44) for a topic the backend derives from its own objects.
  // The defaults refuse (a backend without raw topics).
  virtual int16_t create_topic(std::string_view name, int32_t partitions, bool validate_only, std::string& message) {
    (void)name, (void)partitions, (void)validate_only;
    message = "this broker does not create topics";
    return 44;
  }
  virtual int16_t delete_topic(std::string_view name, std::string& message) {
    (void)name;
    message = "this broker does not delete topics";
    return 44;
  }
  // The partition count of a topic created with num_partitions -1 or by auto-creation.
  virtual int32_t default_partitions() { return 1; }

  // SASL credentials. authenticate_plain checks a password (SASL/PLAIN); scram_password gives
  // the password a SCRAM-SHA-256 exchange verifies against (nullopt: unknown user).
  virtual bool authenticate_plain(std::string_view user, std::string_view password) = 0;
  virtual std::optional<std::string> scram_password(std::string_view user) = 0;
  // The SCRAM-SHA-256 credential to verify against (nullopt: unknown user). The default
  // derives it from scram_password; a backend that stores verifiers (not passwords) overrides it.
  virtual std::optional<ScramCredential> scram_credential(std::string_view user) {
    auto password = scram_password(user);
    if (!password) return std::nullopt;
    return make_scram_credential(*password, "freshet-salt:" + std::string(user));
  }

  // Authorization (README.md "Authorization"): whether `principal` (the SASL user; "" on a
  // listener without SASL) may do `op` on a topic. Answered per request, so that a GRANT or
  // REVOKE takes effect on open connections. The default allows everything.
  enum class TopicOperation : uint8_t { kRead, kWrite, kDescribe, kCreate, kDelete };
  virtual bool authorize(std::string_view principal, std::string_view topic, TopicOperation op) {
    (void)principal, (void)topic, (void)op;
    return true;
  }

  // Consumer-group authorization (README.md "Authorization"): whether `principal` may use a
  // group. kRead (JoinGroup, SyncGroup, Heartbeat, LeaveGroup, OffsetCommit) may claim a group no
  // one owns yet for the principal; kDescribe (FindCoordinator, OffsetFetch, DescribeGroups,
  // ListGroups) never claims. The default allows everything.
  enum class GroupOperation : uint8_t { kRead, kDescribe };
  virtual bool authorize_group(std::string_view principal, std::string_view group, GroupOperation op) {
    (void)principal, (void)group, (void)op;
    return true;
  }

  // Consumer-group offsets, durable once commit_offsets returns ok.
  virtual Status commit_offsets(std::string_view group, const std::vector<CommittedOffset>& offsets) = 0;
  virtual std::vector<CommittedOffset> committed_offsets(std::string_view group) = 0;

  // Schema-registry persistence: load everything at start, append new entries durably.
  virtual std::vector<StoredSchema> load_schemas() = 0;
  virtual Status store_schema(const StoredSchema& schema) = 0;
};

}  // namespace freshet::kafka
