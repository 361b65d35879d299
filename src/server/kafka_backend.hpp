#pragma once
// The Kafka API's view of Freshet (kafka/backend.hpp implemented over durable collections):
// every table, source table and materialized view is a topic named
// <database>.<schema>.<name> ("freshet.public.sales"). A topic's offsets are the offsets of
// the collection that holds it; where a collection holds several topics (all user tables share
// one, a source's tables share the source's) a topic's offsets are sparse, as in a compacted
// Kafka topic. Partitions: `partitions` per topic, a record's partition chosen by the hash of
// its key; a partition's offsets are sparse too.
//
// Keys and values: a table with a primary key is keyed by it and its value is the row; a table
// without one, and a materialized view, are keyed by the whole row. A delete is a tombstone.
// Produce writes into user tables (an upsert by key, or an insert; a tombstone deletes).
//
// Raw topics: topics that Kafka clients create (CreateTopics, or Metadata auto-creation) are
// plain Kafka logs (kafka::TopicFormat::kRaw): each partition is its own collection (layout in
// persist.hpp) holding every produced record as is — key and value bytes (null kept: a
// tombstone is stored, not applied), the producer's timestamp and the headers — at the
// collection's offsets, so a partition's offsets are dense from 0 and Fetch returns exactly
// what Produce stored. The list of raw topics is persisted (collection 5) and reloaded at
// start, offsets unchanged. DeleteTopics drops a raw topic's collections; Freshet's own
// topics cannot be created or deleted through the Kafka API (TOPIC_ALREADY_EXISTS,
// POLICY_VIOLATION).
//
// Thread-safety: all methods, from any thread (coordinator lock taken inside as needed).

#include <map>
#include <memory>
#include <mutex>

#include "kafka/backend.hpp"
#include "storage/collection.hpp"
#include "server/coordinator.hpp"

namespace freshet::server {

class CollectionKafkaBackend : public kafka::KafkaBackend {
 public:
  // Also fills the coordinator's mz_kafka_consumer_groups relation (Catalog::kafka_group_rows)
  // while it lives.
  CollectionKafkaBackend(Coordinator& coordinator, int32_t partitions);
  ~CollectionKafkaBackend() override;

  std::vector<kafka::TopicInfo> topics() override;
  std::optional<kafka::TopicInfo> topic(std::string_view name) override;
  kafka::OffsetsInfo offsets(std::string_view topic, int32_t partition) override;
  int64_t offset_for_time(std::string_view topic, int32_t partition, int64_t timestamp_ms) override;
  int16_t read(std::string_view topic, int32_t partition, int64_t from, size_t max_bytes,
               std::vector<kafka::StoredRecord>& out, int64_t* next_offset = nullptr) override;
  uint64_t data_version() override;
  void wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) override;
  ProduceResult produce(std::string_view topic, int32_t partition, std::vector<kafka::ProducedRecord> records) override;
  int16_t create_topic(std::string_view name, int32_t partitions, bool validate_only, std::string& message) override;
  int16_t delete_topic(std::string_view name, std::string& message) override;
  int32_t default_partitions() override { return partitions_; }
  bool authenticate_plain(std::string_view user, std::string_view password) override;
  std::optional<std::string> scram_password(std::string_view user) override;
  // Roles (roles.hpp): verifiers as stored, and privileges on the topic's relation: Read needs
  // SELECT, Write INSERT, Describe either; raw topics: any role reads, writes and describes
  // them, Create needs CREATE on schema public, Delete a superuser.
  std::optional<kafka::ScramCredential> scram_credential(std::string_view user) override;
  bool authorize(std::string_view principal, std::string_view topic, TopicOperation op) override;
  bool authorize_group(std::string_view principal, std::string_view group, GroupOperation op) override;
  Status commit_offsets(std::string_view group, const std::vector<kafka::CommittedOffset>& offsets) override;
  std::vector<kafka::CommittedOffset> committed_offsets(std::string_view group) override;
  std::vector<kafka::StoredSchema> load_schemas() override;
  Status store_schema(const kafka::StoredSchema& schema) override;

  // Where a topic's records are: the collection, how its keys are prefixed, its shape.
  struct Route {
    uint64_t object_id = 0;
    uint64_t collection = 0;
    std::optional<int64_t> prefix;  // first key datum selecting this topic (table id / index)
    enum class Shape { kKeyed, kKeyedByRowWithCount, kMaterializedView } shape = Shape::kKeyed;
    bool writable = false;
    kafka::TopicInfo info;
  };

 private:
  // A raw topic: its partitions' collections are raw_topic_collection(number, p).
  struct RawTopic {
    int32_t partitions = 1;
    int64_t number = 0;
    // Serializes produce per topic: the next offset is read, the keys built from it, then
    // the batch appended (one writer, so the append lands exactly there).
    std::shared_ptr<std::mutex> produce_mu = std::make_shared<std::mutex>();
  };
  std::optional<RawTopic> raw_topic(std::string_view name);
  std::shared_ptr<storage::Collection> raw_collection(std::string_view topic, int32_t partition);
  ProduceResult produce_raw(std::string_view topic, const RawTopic& t, int32_t partition,
                            std::vector<kafka::ProducedRecord> records);
  int16_t read_raw(const storage::Collection& c, int64_t from, size_t max_bytes, std::vector<kafka::StoredRecord>& out,
                   int64_t* next_offset);

  std::optional<Route> route(std::string_view topic);
  std::vector<Route> routes();
  std::vector<Route> routes_locked();  // REQUIRES: the coordinator's mu held (shared or not)
  // mz_kafka_consumer_groups: per group, topic and partition the committed offset, and for
  // Freshet's own topics the high watermark and the lag. REQUIRES: mu held (a relation read).
  void group_rows_locked(std::vector<Row>& out);
  // The high watermark of one topic partition: one past the last offset holding one of its
  // records (0 when it has none). Where a topic owns its collection and has one partition, the
  // collection's next offset. Otherwise from a per-collection index of the last offset of every
  // (topic, partition), extended by scanning what was appended since the last call: writes to
  // other topics of a shared collection do not move this topic's watermark, so consumers reach
  // the end of it (kcat -e) while the collection keeps growing.
  uint64_t high_watermark(const Route& r, int32_t partition, const storage::Collection& c);
  int32_t partition_of(RowRef key) const {
    return partitions_ > 1 ? static_cast<int32_t>(hash_bytes(key.bytes()) % static_cast<uint64_t>(partitions_)) : 0;
  }
  struct PartitionIndex {
    uint64_t scanned_to = 0;
    std::map<std::pair<int64_t, int32_t>, uint64_t> ends;  // (prefix or -1, partition) -> last offset + 1
  };
  std::mutex index_mu_;
  std::map<uint64_t, PartitionIndex> index_;  // guarded by index_mu_, by collection

  Coordinator& coord_;
  const int32_t partitions_;
  std::mutex raw_mu_;  // taken before the coordinator's state lock, never inside it
  std::map<std::string, RawTopic, std::less<>> raw_;  // guarded by raw_mu_
  int64_t next_raw_number_ = 0;                        // guarded by raw_mu_
  std::mutex mu_;
  // group -> (topic, partition) -> offset, metadata. Guarded by mu_.
  std::map<std::string, std::map<std::pair<std::string, int32_t>, std::pair<int64_t, std::string>>> offsets_;
  // group -> the oid of the role that owns it (the first to join or commit; README.md
  // "Roles and privileges"), stored as the offset of the row [group, "", -1]. Guarded by mu_.
  std::map<std::string, uint32_t, std::less<>> group_owner_;
};

// The Kafka API's Produce into a user table, as one transaction: each (key, value) upserts by
// key (value nullopt: deletes the key). Defined in sequencer/produce.cpp. Throws SqlError.
void produce_into_table(Coordinator::State& cs, uint64_t table_id, const std::vector<std::pair<Row, std::optional<Row>>>& records);

}  // namespace freshet::server
