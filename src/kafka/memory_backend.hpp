#pragma once
// MemoryBackend: a KafkaBackend held in memory, for tests and the e2e test server. Topics are
// created up front (add_topic) or by clients as raw topics (create_topic: CreateTopics,
// auto-creation); records are appended with append() (as a collection would be by its
// source) or by Produce. Optionally persists schema-registry entries to a file so
// that ids survive a restart of the test server.
//
// Thread-safe: one mutex guards everything; wait_for_data waits on a condition variable.

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>

#include "kafka/backend.hpp"

namespace freshet::kafka {

class MemoryBackend final : public KafkaBackend {
 public:
  // schemas_file: where to persist schema entries ("" = memory only).
  explicit MemoryBackend(std::string schemas_file = "");

  void add_topic(TopicInfo info);
  void add_user(std::string user, std::string password);
  // The partitions of raw topics created with num_partitions -1 or by auto-creation.
  void set_default_partitions(int32_t n);
  // Appends a change to a partition (what a source would write); returns its offset.
  int64_t append(std::string_view topic, int32_t partition, Row key, std::optional<Row> value,
                 int64_t timestamp_ms);

  std::vector<TopicInfo> topics() override;
  std::optional<TopicInfo> topic(std::string_view name) override;
  OffsetsInfo offsets(std::string_view topic, int32_t partition) override;
  int64_t offset_for_time(std::string_view topic, int32_t partition, int64_t timestamp_ms) override;
  int16_t read(std::string_view topic, int32_t partition, int64_t from, size_t max_bytes,
               std::vector<StoredRecord>& out, int64_t* next_offset = nullptr) override;
  uint64_t data_version() override;
  void wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) override;
  ProduceResult produce(std::string_view topic, int32_t partition, std::vector<ProducedRecord> records) override;
  int16_t create_topic(std::string_view name, int32_t partitions, bool validate_only, std::string& message) override;
  int16_t delete_topic(std::string_view name, std::string& message) override;
  int32_t default_partitions() override;
  bool authenticate_plain(std::string_view user, std::string_view password) override;
  std::optional<std::string> scram_password(std::string_view user) override;
  Status commit_offsets(std::string_view group, const std::vector<CommittedOffset>& offsets) override;
  std::vector<CommittedOffset> committed_offsets(std::string_view group) override;
  std::vector<StoredSchema> load_schemas() override;
  Status store_schema(const StoredSchema& schema) override;

  // Groups every principal is refused (GROUP_AUTHORIZATION_FAILED), for tests of the server's
  // group checks; every other group is allowed. Set before the server starts.
  std::set<std::string, std::less<>> denied_groups;
  bool authorize_group(std::string_view, std::string_view group, GroupOperation) override {
    return denied_groups.find(group) == denied_groups.end();
  }

 private:
  struct Partition {
    std::vector<StoredRecord> log;  // offsets are indexes
  };
  struct Topic {
    TopicInfo info;
    std::vector<Partition> partitions;
  };
  Partition* find_locked(std::string_view topic, int32_t partition);

  const std::string schemas_file_;
  std::mutex mutex_;
  std::condition_variable data_cv_;
  // Guarded by mutex_:
  std::map<std::string, Topic, std::less<>> topics_;
  std::map<std::string, std::string, std::less<>> users_;
  std::map<std::string, std::map<std::pair<std::string, int32_t>, CommittedOffset>, std::less<>> offsets_;
  std::vector<StoredSchema> schemas_;
  uint64_t version_ = 0;
  int32_t default_partitions_ = 1;
};

}  // namespace freshet::kafka
