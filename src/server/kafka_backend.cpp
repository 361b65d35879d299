#include "server/kafka_backend.hpp"

#include "server/coordinator_state.hpp"

namespace freshet::server {

namespace {
std::string topic_name(const sql::ObjectInfo& o) { return "freshet." + o.schema + "." + o.name; }

kafka::TopicColumn column(const sql::ColumnInfo& c) { return kafka::TopicColumn{c.name, c.type, c.nullable}; }
}  // namespace

CollectionKafkaBackend::CollectionKafkaBackend(Coordinator& coordinator, int32_t partitions)
    : coord_(coordinator), partitions_(partitions < 1 ? 1 : partitions) {
  auto& st = coord_.state();
  if (st.persist) {
    (void)st.persist->load_kafka_offsets([&](std::string g, std::string t, int32_t p, int64_t off, std::string meta) {
      offsets_[g][{t, p}] = {off, meta};
    });
  }
}

std::vector<CollectionKafkaBackend::Route> CollectionKafkaBackend::routes() {
  auto& st = coord_.state();
  std::shared_lock lock(st.mu);
  std::vector<Route> out;
  for (const auto& [id, o] : st.catalog.objects()) {
    Route r;
    r.object_id = id;
    r.info.name = topic_name(*o);
    r.info.partitions = partitions_;
    r.info.format = kafka::TopicFormat::kAvro;
    for (const auto& c : o->columns) r.info.value_columns.push_back(column(c));
    if (o->kind == sql::ObjectKind::kTable && o->source_id == 0) {
      r.collection = Persistence::kTablesCollection;
      r.prefix = static_cast<int64_t>(id);
      r.writable = true;
      if (!o->primary_key.empty()) {
        for (auto c : o->primary_key) r.info.key_columns.push_back(column(o->columns[c]));
      } else {
        r.shape = Route::Shape::kKeyedByRowWithCount;
        r.info.key_columns = r.info.value_columns;
      }
    } else if (o->kind == sql::ObjectKind::kTable && o->source_id != 0) {
      auto s = st.sources.find(o->source_id);
      if (s == st.sources.end()) continue;
      int64_t index = -1;
      for (size_t i = 0; i < s->second->table_ids.size(); ++i)
        if (s->second->table_ids[i] == id) index = static_cast<int64_t>(i);
      if (index < 0) continue;
      r.collection = o->source_id;
      r.prefix = index;
      for (auto c : o->primary_key) r.info.key_columns.push_back(column(o->columns[c]));
    } else if (o->kind == sql::ObjectKind::kMaterializedView) {
      r.collection = id;
      r.shape = Route::Shape::kMaterializedView;
      r.info.key_columns = r.info.value_columns;
    } else {
      continue;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<CollectionKafkaBackend::Route> CollectionKafkaBackend::route(std::string_view topic) {
  for (auto& r : routes())
    if (r.info.name == topic) return r;
  return std::nullopt;
}

std::vector<kafka::TopicInfo> CollectionKafkaBackend::topics() {
  std::vector<kafka::TopicInfo> out;
  for (auto& r : routes()) out.push_back(std::move(r.info));
  return out;
}

std::optional<kafka::TopicInfo> CollectionKafkaBackend::topic(std::string_view name) {
  auto r = route(name);
  if (!r) return std::nullopt;
  return r->info;
}

uint64_t CollectionKafkaBackend::high_watermark(const Route& r, int32_t partition, const storage::Collection& c) {
  uint64_t end = c.bounds().next_offset;
  if (!r.prefix && partitions_ == 1) return end;
  std::lock_guard lock(index_mu_);
  PartitionIndex& idx = index_[r.collection];
  if (idx.scanned_to < end) {
    std::vector<Datum> k;
    (void)c.scan(idx.scanned_to, end, [&](const storage::RecordView& rec) {
      k.clear();
      RowRef(rec.key).unpack_into(k);
      int64_t prefix = -1;
      size_t first = 0;
      if (r.prefix) {
        if (k.empty()) return true;
        prefix = k[0].as_int();
        first = 1;
      }
      Row key = Row::pack(std::span<const Datum>(k.data() + first, k.size() - first));
      idx.ends[{prefix, partition_of(key.ref())}] = rec.offset + 1;
      return true;
    });
    idx.scanned_to = end;
  }
  auto it = idx.ends.find({r.prefix.value_or(-1), partition});
  return it == idx.ends.end() ? 0 : it->second;
}

kafka::OffsetsInfo CollectionKafkaBackend::offsets(std::string_view topic, int32_t partition) {
  kafka::OffsetsInfo info;
  auto r = route(topic);
  auto& st = coord_.state();
  if (!r || partition < 0 || partition >= partitions_ || !st.persist) {
    info.error = 3;  // UNKNOWN_TOPIC_OR_PARTITION
    return info;
  }
  auto c = st.persist->store().get(r->collection);
  if (!c) {
    info.error = 3;
    return info;
  }
  info.log_start = static_cast<int64_t>(c->bounds().start_offset);
  info.high_watermark = static_cast<int64_t>(high_watermark(*r, partition, *c));
  return info;
}

int64_t CollectionKafkaBackend::offset_for_time(std::string_view topic, int32_t partition, int64_t timestamp_ms) {
  auto r = route(topic);
  auto& st = coord_.state();
  if (!r || !st.persist) return 0;
  auto c = st.persist->store().get(r->collection);
  if (!c) return 0;
  uint64_t hw = high_watermark(*r, partition, *c);
  auto off = c->offset_for_time(timestamp_ms < 0 ? 0 : static_cast<uint64_t>(timestamp_ms));
  return static_cast<int64_t>(off ? std::min(*off, hw) : hw);
}

int16_t CollectionKafkaBackend::read(std::string_view topic, int32_t partition, int64_t from, size_t max_bytes,
                                     std::vector<kafka::StoredRecord>& out, int64_t* next_offset) {
  auto r = route(topic);
  auto& st = coord_.state();
  if (!r || partition < 0 || partition >= partitions_ || !st.persist) return 3;
  auto c = st.persist->store().get(r->collection);
  if (!c) return 3;
  // Read up to this partition's high watermark only, so that the positions handed out never
  // pass the watermark Metadata and Fetch report.
  uint64_t hw = high_watermark(*r, partition, *c);
  if (from < 0 || static_cast<uint64_t>(from) > hw) return 1;  // OFFSET_OUT_OF_RANGE
  size_t bytes = 0;
  std::vector<Datum> k;
  bool stopped_early = false;
  uint64_t examined_to = static_cast<uint64_t>(from);
  Status s = c->scan(static_cast<uint64_t>(from), hw, [&](const storage::RecordView& rec) {
    examined_to = rec.offset + 1;
    k.clear();
    RowRef(rec.key).unpack_into(k);
    size_t first = 0;
    if (r->prefix) {
      if (k.empty() || k[0].as_int() != *r->prefix) return true;
      first = 1;
    }
    Row key = Row::pack(std::span<const Datum>(k.data() + first, k.size() - first));
    if (partition_of(key.ref()) != partition) return true;
    kafka::StoredRecord sr;
    sr.offset = static_cast<int64_t>(rec.offset);
    sr.timestamp_ms = static_cast<int64_t>(rec.timestamp_ms);
    if (rec.value) {
      if (r->shape == Route::Shape::kKeyed)
        sr.value = Row(std::string(*rec.value));
      else
        sr.value = key;  // keyed by the row itself; the stored value is its count
    }
    sr.key = std::move(key);
    bytes += rec.size_bytes();
    out.push_back(std::move(sr));
    if (bytes >= max_bytes) stopped_early = true;
    return !stopped_early;
  });
  // Everything up to the high watermark was examined unless the byte budget stopped the scan:
  // the offsets in between belong to other topics or partitions.
  if (next_offset) *next_offset = static_cast<int64_t>(stopped_early ? examined_to : hw);
  return s ? 0 : 1;
}

uint64_t CollectionKafkaBackend::data_version() {
  auto& st = coord_.state();
  return st.persist ? st.persist->store().data_version() : 0;
}

void CollectionKafkaBackend::wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) {
  auto& st = coord_.state();
  if (st.persist) st.persist->store().wait_for_data(seen, deadline);
}

CollectionKafkaBackend::ProduceResult CollectionKafkaBackend::produce(std::string_view topic, int32_t partition,
                                                                      std::vector<kafka::ProducedRecord> records) {
  ProduceResult res;
  auto r = route(topic);
  if (!r || partition < 0 || partition >= partitions_) {
    res.error = 3;
    return res;
  }
  if (!r->writable) {
    res.error = 44;  // POLICY_VIOLATION
    res.message = "topic " + std::string(topic) + " is read-only: only tables can be produced to";
    return res;
  }
  auto& st = coord_.state();
  res.base_offset = static_cast<int64_t>(st.persist->store().get(r->collection)->bounds().next_offset);
  std::vector<std::pair<Row, std::optional<Row>>> rows;
  for (auto& pr : records) rows.push_back({std::move(pr.key), std::move(pr.value)});
  try {
    produce_into_table(st, r->object_id, rows);
  } catch (const SqlError& e) {
    res.error = 87;  // INVALID_RECORD
    res.message = e.message();
  }
  return res;
}

bool CollectionKafkaBackend::authenticate_plain(std::string_view user, std::string_view password) {
  const auto& auth = coord_.auth();
  if (!auth.require_password) return true;
  auto it = auth.passwords.find(std::string(user));
  return it != auth.passwords.end() && it->second == password;
}

std::optional<std::string> CollectionKafkaBackend::scram_password(std::string_view user) {
  const auto& auth = coord_.auth();
  auto it = auth.passwords.find(std::string(user));
  if (it == auth.passwords.end()) return std::nullopt;
  return it->second;
}

Status CollectionKafkaBackend::commit_offsets(std::string_view group, const std::vector<kafka::CommittedOffset>& offsets) {
  auto& st = coord_.state();
  std::lock_guard lock(mu_);
  for (const auto& o : offsets) {
    if (st.persist) {
      Status s = st.persist->put_kafka_offset(std::string(group), o.topic, o.partition, o.offset, o.metadata);
      if (!s) return s;
    }
    offsets_[std::string(group)][{o.topic, o.partition}] = {o.offset, o.metadata};
  }
  return Status::ok();
}

std::vector<kafka::CommittedOffset> CollectionKafkaBackend::committed_offsets(std::string_view group) {
  std::lock_guard lock(mu_);
  std::vector<kafka::CommittedOffset> out;
  auto it = offsets_.find(std::string(group));
  if (it == offsets_.end()) return out;
  for (const auto& [tp, v] : it->second) out.push_back({tp.first, tp.second, v.first, v.second});
  return out;
}

std::vector<kafka::StoredSchema> CollectionKafkaBackend::load_schemas() {
  std::vector<kafka::StoredSchema> out;
  auto& st = coord_.state();
  if (st.persist)
    (void)st.persist->load_schemas([&](int32_t id, std::string subject, int32_t version, std::string schema) {
      out.push_back({id, std::move(subject), version, std::move(schema)});
    });
  return out;
}

Status CollectionKafkaBackend::store_schema(const kafka::StoredSchema& schema) {
  auto& st = coord_.state();
  if (!st.persist) return Status::ok();
  return st.persist->put_schema(schema.id, schema.subject, schema.version, schema.schema);
}

}  // namespace freshet::server
