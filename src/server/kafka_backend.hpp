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
// Thread-safety: all methods, from any thread (coordinator lock taken inside as needed).

#include <map>
#include <memory>
#include <mutex>

#include "kafka/backend.hpp"
#include "server/coordinator.hpp"

namespace freshet::server {

class CollectionKafkaBackend : public kafka::KafkaBackend {
 public:
  CollectionKafkaBackend(Coordinator& coordinator, int32_t partitions);

  std::vector<kafka::TopicInfo> topics() override;
  std::optional<kafka::TopicInfo> topic(std::string_view name) override;
  kafka::OffsetsInfo offsets(std::string_view topic, int32_t partition) override;
  int64_t offset_for_time(std::string_view topic, int32_t partition, int64_t timestamp_ms) override;
  int16_t read(std::string_view topic, int32_t partition, int64_t from, size_t max_bytes,
               std::vector<kafka::StoredRecord>& out, int64_t* next_offset = nullptr) override;
  uint64_t data_version() override;
  void wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) override;
  ProduceResult produce(std::string_view topic, int32_t partition, std::vector<kafka::ProducedRecord> records) override;
  bool authenticate_plain(std::string_view user, std::string_view password) override;
  std::optional<std::string> scram_password(std::string_view user) override;
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
  std::optional<Route> route(std::string_view topic);
  std::vector<Route> routes();

  Coordinator& coord_;
  const int32_t partitions_;
  std::mutex mu_;
  // group -> (topic, partition) -> offset, metadata. Guarded by mu_.
  std::map<std::string, std::map<std::pair<std::string, int32_t>, std::pair<int64_t, std::string>>> offsets_;
};

// The Kafka API's Produce into a user table, as one transaction: each (key, value) upserts by
// key (value nullopt: deletes the key). Defined in session.cpp. Throws SqlError.
void produce_into_table(Coordinator::State& cs, uint64_t table_id, const std::vector<std::pair<Row, std::optional<Row>>>& records);

}  // namespace freshet::server
