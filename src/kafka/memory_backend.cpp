#include "kafka/memory_backend.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>

#include "kafka/errors.hpp"

namespace freshet::kafka {

namespace {
int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One schema entry per line: id \t subject \t version \t schema (schemas have no tabs or
// newlines: we write them compactly ourselves).
std::string schema_line(const StoredSchema& s) {
  return std::to_string(s.id) + "\t" + s.subject + "\t" + std::to_string(s.version) + "\t" + s.schema + "\n";
}
}  // namespace

MemoryBackend::MemoryBackend(std::string schemas_file) : schemas_file_(std::move(schemas_file)) {
  if (schemas_file_.empty()) return;
  std::ifstream in(schemas_file_);
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find('\t');
    size_t b = a == std::string::npos ? a : line.find('\t', a + 1);
    size_t c = b == std::string::npos ? b : line.find('\t', b + 1);
    if (c == std::string::npos) continue;  // torn last line
    StoredSchema s;
    s.id = std::stoi(line.substr(0, a));
    s.subject = line.substr(a + 1, b - a - 1);
    s.version = std::stoi(line.substr(b + 1, c - b - 1));
    s.schema = line.substr(c + 1);
    schemas_.push_back(std::move(s));
  }
}

void MemoryBackend::add_topic(TopicInfo info) {
  std::lock_guard lock(mutex_);
  Topic t;
  t.partitions.resize(static_cast<size_t>(std::max(1, info.partitions)));
  t.info = std::move(info);
  std::string name = t.info.name;
  topics_[name] = std::move(t);
}

void MemoryBackend::add_user(std::string user, std::string password) {
  std::lock_guard lock(mutex_);
  users_[std::move(user)] = std::move(password);
}

void MemoryBackend::set_default_partitions(int32_t n) {
  std::lock_guard lock(mutex_);
  default_partitions_ = n;
}

int32_t MemoryBackend::default_partitions() {
  std::lock_guard lock(mutex_);
  return default_partitions_;
}

int16_t MemoryBackend::create_topic(std::string_view name, int32_t partitions, bool validate_only, std::string& message) {
  std::lock_guard lock(mutex_);
  if (topics_.count(name) != 0) {
    message = "Topic '" + std::string(name) + "' already exists.";
    return error::kTopicAlreadyExists;
  }
  FRESHET_ASSERT(partitions >= 1 && partitions <= kMaxTopicPartitions && valid_topic_name(name));
  if (validate_only) return error::kNone;
  Topic t;
  t.info.name = std::string(name);
  t.info.partitions = partitions;
  t.info.format = TopicFormat::kRaw;
  t.partitions.resize(static_cast<size_t>(partitions));
  topics_[std::string(name)] = std::move(t);
  return error::kNone;
}

int16_t MemoryBackend::delete_topic(std::string_view name, std::string& message) {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return error::kUnknownTopicOrPartition;
  if (it->second.info.format != TopicFormat::kRaw) {
    message = "only topics created through the Kafka API can be deleted";
    return error::kPolicyViolation;
  }
  topics_.erase(it);
  ++version_;
  data_cv_.notify_all();
  return error::kNone;
}

MemoryBackend::Partition* MemoryBackend::find_locked(std::string_view topic, int32_t partition) {
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition < 0 || static_cast<size_t>(partition) >= it->second.partitions.size()) {
    return nullptr;
  }
  return &it->second.partitions[static_cast<size_t>(partition)];
}

int64_t MemoryBackend::append(std::string_view topic, int32_t partition, Row key, std::optional<Row> value,
                              int64_t timestamp_ms) {
  std::lock_guard lock(mutex_);
  Partition* p = find_locked(topic, partition);
  FRESHET_ASSERT(p != nullptr);
  int64_t offset = static_cast<int64_t>(p->log.size());
  p->log.push_back(StoredRecord{offset, timestamp_ms, std::move(key), std::move(value), {}});
  ++version_;
  data_cv_.notify_all();
  return offset;
}

std::vector<TopicInfo> MemoryBackend::topics() {
  std::lock_guard lock(mutex_);
  std::vector<TopicInfo> out;
  for (const auto& [name, t] : topics_) out.push_back(t.info);
  return out;
}

std::optional<TopicInfo> MemoryBackend::topic(std::string_view name) {
  std::lock_guard lock(mutex_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second.info;
}

OffsetsInfo MemoryBackend::offsets(std::string_view topic, int32_t partition) {
  std::lock_guard lock(mutex_);
  Partition* p = find_locked(topic, partition);
  if (p == nullptr) return OffsetsInfo{error::kUnknownTopicOrPartition, -1, -1};
  return OffsetsInfo{0, 0, static_cast<int64_t>(p->log.size())};
}

int64_t MemoryBackend::offset_for_time(std::string_view topic, int32_t partition, int64_t timestamp_ms) {
  std::lock_guard lock(mutex_);
  Partition* p = find_locked(topic, partition);
  if (p == nullptr) return -1;
  for (const StoredRecord& r : p->log) {
    if (r.timestamp_ms >= timestamp_ms) return r.offset;
  }
  return static_cast<int64_t>(p->log.size());
}

int16_t MemoryBackend::read(std::string_view topic, int32_t partition, int64_t from, size_t max_bytes,
                            std::vector<StoredRecord>& out, int64_t* next_offset) {
  std::lock_guard lock(mutex_);
  Partition* p = find_locked(topic, partition);
  if (p == nullptr) return error::kUnknownTopicOrPartition;
  if (from < 0 || from > static_cast<int64_t>(p->log.size())) return error::kOffsetOutOfRange;
  size_t bytes = 0;
  for (size_t i = static_cast<size_t>(from); i < p->log.size(); ++i) {
    const StoredRecord& r = p->log[i];
    size_t size = 24 + r.key.size_bytes() + (r.value ? r.value->size_bytes() : 0);
    if (bytes > 0 && bytes + size > max_bytes) break;
    bytes += size;
    out.push_back(r);
  }
  if (next_offset) *next_offset = out.empty() ? from : out.back().offset + 1;
  return error::kNone;
}

uint64_t MemoryBackend::data_version() {
  std::lock_guard lock(mutex_);
  return version_;
}

void MemoryBackend::wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  data_cv_.wait_until(lock, deadline, [&] { return version_ > seen; });
}

KafkaBackend::ProduceResult MemoryBackend::produce(std::string_view topic, int32_t partition,
                                                   std::vector<ProducedRecord> records) {
  std::lock_guard lock(mutex_);
  Partition* p = find_locked(topic, partition);
  if (p == nullptr) return ProduceResult{error::kUnknownTopicOrPartition, -1, "unknown topic or partition"};
  int64_t base = static_cast<int64_t>(p->log.size());
  for (ProducedRecord& r : records) {
    int64_t offset = static_cast<int64_t>(p->log.size());
    int64_t ts = r.timestamp_ms >= 0 ? r.timestamp_ms : now_ms();
    p->log.push_back(StoredRecord{offset, ts, std::move(r.key), std::move(r.value), std::move(r.headers)});
  }
  ++version_;
  data_cv_.notify_all();
  return ProduceResult{0, base, ""};
}

bool MemoryBackend::authenticate_plain(std::string_view user, std::string_view password) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user);
  return it != users_.end() && it->second == password;
}

std::optional<std::string> MemoryBackend::scram_password(std::string_view user) {
  std::lock_guard lock(mutex_);
  auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  return it->second;
}

Status MemoryBackend::commit_offsets(std::string_view group, const std::vector<CommittedOffset>& offsets) {
  std::lock_guard lock(mutex_);
  auto& g = offsets_[std::string(group)];
  for (const CommittedOffset& o : offsets) g[{o.topic, o.partition}] = o;
  return Status::ok();
}

std::vector<CommittedOffset> MemoryBackend::committed_offsets(std::string_view group) {
  std::lock_guard lock(mutex_);
  std::vector<CommittedOffset> out;
  auto it = offsets_.find(group);
  if (it == offsets_.end()) return out;
  for (const auto& [k, v] : it->second) out.push_back(v);
  return out;
}

std::vector<StoredSchema> MemoryBackend::load_schemas() {
  std::lock_guard lock(mutex_);
  return schemas_;
}

Status MemoryBackend::store_schema(const StoredSchema& schema) {
  std::lock_guard lock(mutex_);
  if (schema.schema.find_first_of("\t\n") != std::string::npos || schema.subject.find_first_of("\t\n") != std::string::npos) {
    return Status::error("schema or subject contains a tab or newline");
  }
  if (!schemas_file_.empty()) {
    std::ofstream out(schemas_file_, std::ios::app);
    out << schema_line(schema);
    out.flush();
    if (!out) return Status::error("cannot write " + schemas_file_);
  }
  schemas_.push_back(schema);
  return Status::ok();
}

}  // namespace freshet::kafka
