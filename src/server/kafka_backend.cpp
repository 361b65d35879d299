#include "server/kafka_backend.hpp"
#include "server/role_statements.hpp"

#include <cstdio>
#include <set>

#include "kafka/encoding.hpp"
#include "kafka/errors.hpp"
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
    // A read that fails is never taken for "nothing stored": without the committed offsets
    // consumers would re-read from the start, and without the list of raw topics their
    // partitions would look like leftovers of a crash and be dropped below. Refuse to start.
    Status ls = st.persist->load_kafka_offsets([&](std::string g, std::string t, int32_t p, int64_t off, std::string meta) {
      if (t.empty() && p == -1) {  // the group's owner (no topic is named "")
        group_owner_[g] = static_cast<uint32_t>(off);
        return;
      }
      offsets_[g][{t, p}] = {off, meta};
    });
    if (!ls) throw SqlError(sqlstate::kIoError, "cannot read the Kafka consumer groups' offsets: " + ls.message());
    std::set<uint64_t> live;
    ls = st.persist->load_raw_topics([&](std::string name, int32_t partitions, int64_t number) {
      RawTopic t;
      t.partitions = partitions;
      t.number = number;
      for (int32_t p = 0; p < partitions; ++p) live.insert(Persistence::raw_topic_collection(number, p));
      next_raw_number_ = std::max(next_raw_number_, number + 1);
      raw_[std::move(name)] = std::move(t);
    });
    if (!ls)
      throw SqlError(sqlstate::kIoError, "cannot read the list of Kafka topics (refusing to start rather than take their "
                                         "partitions for leftovers): " + ls.message());
    // Partitions without an entry in the list (read completely above): an empty one is left by
    // a create that did not finish before a crash, and is dropped. One with records is kept
    // (and said): a delete that did not finish, or an entry lost to damage (freshet repair) —
    // never delete data on a guess.
    for (const auto& info : st.persist->store().list()) {
      if (info.id < Persistence::kRawTopicCollectionBase || live.count(info.id) != 0) continue;
      if (info.bounds.next_offset > 0) {
        std::fprintf(stderr, "freshet: collection %llu (%s) holds %llu records of a Kafka topic partition whose topic is not in "
                             "the list (a delete that did not finish, or its entry was lost): kept, not served\n",
                     static_cast<unsigned long long>(info.id), info.name.c_str(),
                     static_cast<unsigned long long>(info.bounds.next_offset));
        // Its number is not handed out again (a new topic would find the collection taken).
        int64_t number = static_cast<int64_t>((info.id - Persistence::kRawTopicCollectionBase) / 1024);
        next_raw_number_ = std::max(next_raw_number_, number + 1);
        continue;
      }
      std::fprintf(stderr, "freshet: dropping collection %llu (%s): an empty Kafka topic partition without a topic (an "
                           "unfinished create)\n", static_cast<unsigned long long>(info.id), info.name.c_str());
      if (Status ds = st.persist->drop_collection(info.id); !ds)
        std::fprintf(stderr, "freshet: could not drop collection %llu: %s\n", static_cast<unsigned long long>(info.id),
                     ds.message().c_str());
    }
  }
  std::unique_lock lock(st.mu);  // relation reads hold it
  st.catalog.kafka_group_rows = [this](std::vector<Row>& out) { group_rows_locked(out); };
}

CollectionKafkaBackend::~CollectionKafkaBackend() {
  auto& st = coord_.state();
  std::unique_lock lock(st.mu);
  st.catalog.kafka_group_rows = nullptr;
}

void CollectionKafkaBackend::group_rows_locked(std::vector<Row>& out) {
  // Lock order: the caller holds the coordinator's mu; mu_ (offsets) and index_mu_ (in
  // high_watermark) are taken inside it, never the other way round. raw_mu_ must not be
  // (it comes before mu), so raw topics have no high watermark here.
  auto& st = coord_.state();
  std::map<std::string, Route, std::less<>> by_topic;
  for (auto& r : routes_locked()) by_topic.emplace(r.info.name, std::move(r));
  std::lock_guard lock(mu_);
  for (const auto& [group, tps] : offsets_) {
    for (const auto& [tp, v] : tps) {
      const auto& [topic, partition] = tp;
      std::optional<int64_t> end;
      auto r = by_topic.find(topic);
      if (r != by_topic.end() && st.persist && partition >= 0 && partition < partitions_)
        if (auto c = st.persist->store().get(r->second.collection))
          end = static_cast<int64_t>(high_watermark(r->second, partition, *c));
      std::vector<Datum> ds = {Datum::from_string(group), Datum::from_string(topic), Datum::from_int(partition),
                               Datum::from_int(v.first), end ? Datum::from_int(*end) : Datum::null(),
                               end ? Datum::from_int(std::max<int64_t>(0, *end - v.first)) : Datum::null()};
      out.push_back(Row::pack(ds));
    }
  }
}

std::optional<CollectionKafkaBackend::RawTopic> CollectionKafkaBackend::raw_topic(std::string_view name) {
  std::lock_guard lock(raw_mu_);
  auto it = raw_.find(name);
  if (it == raw_.end()) return std::nullopt;
  return it->second;
}

std::shared_ptr<storage::Collection> CollectionKafkaBackend::raw_collection(std::string_view topic, int32_t partition) {
  auto t = raw_topic(topic);
  auto& st = coord_.state();
  if (!t || partition < 0 || partition >= t->partitions || !st.persist) return nullptr;
  return st.persist->store().get(Persistence::raw_topic_collection(t->number, partition));
}

int16_t CollectionKafkaBackend::create_topic(std::string_view name, int32_t partitions, bool validate_only,
                                             std::string& message) {
  auto& st = coord_.state();
  std::lock_guard lock(raw_mu_);
  if (raw_.count(name) != 0 || route(name)) {
    message = "Topic '" + std::string(name) + "' already exists.";
    return kafka::error::kTopicAlreadyExists;
  }
  if (!st.persist) {
    message = "this server has no data directory";
    return kafka::error::kKafkaStorageError;
  }
  if (validate_only) return 0;
  RawTopic t;
  t.partitions = partitions;
  t.number = next_raw_number_++;
  for (int32_t p = 0; p < partitions; ++p) {
    uint64_t id = Persistence::raw_topic_collection(t.number, p);
    auto c = st.persist->store().create(id, std::string(name) + "/" + std::to_string(p));
    if (!c) {
      for (int32_t q = 0; q < p; ++q) (void)st.persist->drop_collection(Persistence::raw_topic_collection(t.number, q));
      message = "cannot create the topic's storage: " + c.status().message();
      return kafka::error::kKafkaStorageError;
    }
  }
  Status s = st.persist->put_raw_topic(std::string(name), partitions, t.number);
  if (!s) {
    for (int32_t p = 0; p < partitions; ++p) (void)st.persist->drop_collection(Persistence::raw_topic_collection(t.number, p));
    message = "cannot record the topic: " + s.message();
    return kafka::error::kKafkaStorageError;
  }
  raw_[std::string(name)] = std::move(t);
  return 0;
}

int16_t CollectionKafkaBackend::delete_topic(std::string_view name, std::string& message) {
  auto& st = coord_.state();
  std::lock_guard lock(raw_mu_);
  auto it = raw_.find(name);
  if (it == raw_.end()) {
    if (route(name)) {
      message = "topic " + std::string(name) + " is a Freshet object: drop it with SQL";
      return kafka::error::kPolicyViolation;
    }
    return kafka::error::kUnknownTopicOrPartition;
  }
  // The entry goes first: a crash after it leaves only orphan collections, dropped at start.
  Status s = st.persist->delete_raw_topic(it->first);
  if (!s) {
    message = s.message();
    return kafka::error::kKafkaStorageError;
  }
  RawTopic t = it->second;
  raw_.erase(it);
  std::lock_guard produce_lock(*t.produce_mu);
  for (int32_t p = 0; p < t.partitions; ++p) (void)st.persist->drop_collection(Persistence::raw_topic_collection(t.number, p));
  return 0;
}

CollectionKafkaBackend::ProduceResult CollectionKafkaBackend::produce_raw(std::string_view topic, const RawTopic& t,
                                                                          int32_t partition,
                                                                          std::vector<kafka::ProducedRecord> records) {
  ProduceResult res;
  std::lock_guard lock(*t.produce_mu);
  auto c = raw_collection(topic, partition);
  if (!c) {
    res.error = kafka::error::kUnknownTopicOrPartition;  // deleted meanwhile
    return res;
  }
  const uint64_t first = c->bounds().next_offset;
  storage::Batch b;
  b.timestamp_ms = c->bounds().upper_ms;
  std::vector<Datum> v;
  for (size_t i = 0; i < records.size(); ++i) {
    kafka::ProducedRecord& r = records[i];
    Datum k = Datum::from_int(static_cast<int64_t>(first + i));
    v.clear();
    v.push_back(r.key.empty() ? Datum::null() : r.key.get(0));
    v.push_back(r.value && !r.value->empty() ? r.value->get(0) : Datum::null());
    v.push_back(Datum::from_int(r.timestamp_ms >= 0 ? r.timestamp_ms : static_cast<int64_t>(b.timestamp_ms)));
    for (const auto& [hk, hv] : r.headers) {
      v.push_back(Datum::from_string(hk));
      v.push_back(hv ? Datum::from_string(*hv) : Datum::null());
    }
    b.changes.push_back(storage::Change::upsert(Row::pack(std::span<const Datum>(&k, 1)), Row::pack(v)));
  }
  // A record or batch over the storage limits is the client's mistake: MESSAGE_TOO_LARGE (10),
  // as a broker answers past message.max.bytes, not a storage failure.
  if (Status s = storage::check_batch(b); !s) {
    res.error = kafka::error::kMessageTooLarge;
    res.message = s.message();
    return res;
  }
  auto a = c->append(std::move(b));
  if (!a) {
    res.error = kafka::error::kKafkaStorageError;
    res.message = a.status().message();
    return res;
  }
  FRESHET_ASSERT(a->first_offset == first);  // the only writer of this partition
  res.base_offset = static_cast<int64_t>(first);
  return res;
}

int16_t CollectionKafkaBackend::read_raw(const storage::Collection& c, int64_t from, size_t max_bytes,
                                         std::vector<kafka::StoredRecord>& out, int64_t* next_offset) {
  uint64_t end = c.bounds().next_offset;
  if (from < 0 || static_cast<uint64_t>(from) > end) return kafka::error::kOffsetOutOfRange;
  size_t bytes = 0;
  uint64_t examined_to = static_cast<uint64_t>(from);
  std::vector<Datum> v;
  Status s = c.scan(static_cast<uint64_t>(from), end, [&](const storage::RecordView& rec) {
    examined_to = rec.offset + 1;
    if (!rec.value) return true;  // never written for raw topics
    v.clear();
    RowRef(*rec.value).unpack_into(v);
    if (v.size() < 3) return true;
    kafka::StoredRecord sr;
    sr.offset = static_cast<int64_t>(rec.offset);
    sr.timestamp_ms = v[2].as_int();
    sr.key = Row::pack(std::span<const Datum>(&v[0], 1));
    if (!v[1].is_null()) sr.value = Row::pack(std::span<const Datum>(&v[1], 1));
    for (size_t i = 3; i + 1 < v.size(); i += 2) {
      std::optional<std::string> hv;
      if (!v[i + 1].is_null()) hv = std::string(v[i + 1].as_string());
      sr.headers.emplace_back(std::string(v[i].as_string()), std::move(hv));
    }
    bytes += rec.size_bytes();
    out.push_back(std::move(sr));
    return bytes < max_bytes;
  });
  if (!s) return kafka::error::kKafkaStorageError;
  if (next_offset) *next_offset = static_cast<int64_t>(bytes < max_bytes ? std::max<uint64_t>(examined_to, end) : examined_to);
  return 0;
}

std::vector<CollectionKafkaBackend::Route> CollectionKafkaBackend::routes() {
  std::shared_lock lock(coord_.state().mu);
  return routes_locked();
}

std::vector<CollectionKafkaBackend::Route> CollectionKafkaBackend::routes_locked() {
  auto& st = coord_.state();
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

namespace {
kafka::TopicInfo raw_info(const std::string& name, int32_t partitions) {
  kafka::TopicInfo info;
  info.name = name;
  info.partitions = partitions;
  info.format = kafka::TopicFormat::kRaw;
  return info;
}
}  // namespace

std::vector<kafka::TopicInfo> CollectionKafkaBackend::topics() {
  std::vector<kafka::TopicInfo> out;
  for (auto& r : routes()) out.push_back(std::move(r.info));
  std::lock_guard lock(raw_mu_);
  for (const auto& [name, t] : raw_) out.push_back(raw_info(name, t.partitions));
  return out;
}

std::optional<kafka::TopicInfo> CollectionKafkaBackend::topic(std::string_view name) {
  if (auto t = raw_topic(name)) return raw_info(std::string(name), t->partitions);
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
  if (raw_topic(topic)) {
    auto c = raw_collection(topic, partition);
    if (!c) {
      info.error = kafka::error::kUnknownTopicOrPartition;
    } else {
      info.high_watermark = static_cast<int64_t>(c->bounds().next_offset);
    }
    return info;
  }
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
  if (raw_topic(topic)) {
    // Producer timestamps need not grow along the log: the first record at or after the time,
    // found by a scan (Kafka keeps a time index; raw topics are test-sized here).
    auto c = raw_collection(topic, partition);
    if (!c) return 0;
    uint64_t end = c->bounds().next_offset;
    uint64_t found = end;
    std::vector<Datum> v;
    (void)c->scan(0, end, [&](const storage::RecordView& rec) {
      if (!rec.value) return true;
      v.clear();
      RowRef(*rec.value).unpack_into(v);
      if (v.size() >= 3 && v[2].as_int() >= timestamp_ms) {
        found = rec.offset;
        return false;
      }
      return true;
    });
    return static_cast<int64_t>(found);
  }
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
  if (raw_topic(topic)) {
    auto c = raw_collection(topic, partition);
    if (!c) return kafka::error::kUnknownTopicOrPartition;
    return read_raw(*c, from, max_bytes, out, next_offset);
  }
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
  if (auto t = raw_topic(topic)) return produce_raw(topic, *t, partition, std::move(records));
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
  LoginRole r = login_role(coord_.state(), std::string(user));
  return r.exists && r.login && r.connect && r.has_password && password_matches(r.verifier, password);
}

std::optional<std::string> CollectionKafkaBackend::scram_password(std::string_view) {
  return std::nullopt;  // verifiers only: scram_credential
}

std::optional<kafka::ScramCredential> CollectionKafkaBackend::scram_credential(std::string_view user) {
  LoginRole r = login_role(coord_.state(), std::string(user));
  if (!r.exists || !r.login || !r.connect || !r.has_password) return std::nullopt;
  kafka::ScramCredential c;
  c.salt = r.salt;
  c.iterations = r.iterations;
  c.stored_key = r.stored_key;
  c.server_key = r.server_key;
  return c;
}

bool CollectionKafkaBackend::authorize(std::string_view principal, std::string_view topic, TopicOperation op) {
  if (principal.empty()) return true;  // no SASL: no passwords configured, trust (README.md)
  auto& st = coord_.state();
  std::shared_lock lock(st.mu);
  const RoleState& rs = st.catalog.roles();
  const Role* role = rs.find(principal);
  if (role == nullptr) return false;
  if (role->superuser) return true;
  if (!has_database_privilege(rs, role->oid, priv::kConnect)) return false;  // CONNECT revoked since login
  const sql::ObjectInfo* obj = nullptr;
  for (const auto& [id, o] : st.catalog.objects())
    if (o->kind != sql::ObjectKind::kIndex && topic_name(*o) == topic) obj = o.get();
  if (obj == nullptr) {  // a raw topic, or none yet
    switch (op) {
      case TopicOperation::kCreate: return has_schema_privilege(rs, "public", role->oid, priv::kCreate);
      case TopicOperation::kDelete: return false;
      default: return true;
    }
  }
  switch (op) {
    case TopicOperation::kRead: return has_object_privilege(rs, *obj, role->oid, priv::kSelect);
    case TopicOperation::kWrite: return has_object_privilege(rs, *obj, role->oid, priv::kInsert);
    case TopicOperation::kDescribe:
      return has_object_privilege(rs, *obj, role->oid, priv::kSelect) || has_object_privilege(rs, *obj, role->oid, priv::kInsert);
    default: return false;
  }
}

bool CollectionKafkaBackend::authorize_group(std::string_view principal, std::string_view group, GroupOperation op) {
  // Kafka's group ACLs in PostgreSQL's terms: a consumer group is an object owned by the role
  // that first joined it or committed to it; its owner, the roles with the owner's privileges
  // (has_privs_of_role: members of the owner that INHERIT) and superusers may use it. Group
  // names are one namespace, so one role cannot read or move another's committed offsets.
  if (principal.empty()) return true;  // no SASL: trust
  auto& st = coord_.state();
  std::shared_lock lock(st.mu);
  const RoleState& rs = st.catalog.roles();
  const Role* role = rs.find(principal);
  if (role == nullptr) return false;
  if (role->superuser) return true;
  if (!has_database_privilege(rs, role->oid, priv::kConnect)) return false;
  std::lock_guard offsets_lock(mu_);  // after the coordinator's mu (group_rows_locked's order)
  auto it = group_owner_.find(group);
  if (it != group_owner_.end()) return has_privs_of_role(rs, role->oid, it->second);
  // No owner yet: a group no one may describe yet is empty; it may be claimed by kRead only,
  // and not when offsets were committed before owners existed (those belong to superusers).
  if (op == GroupOperation::kDescribe) return offsets_.find(std::string(group)) == offsets_.end();
  if (offsets_.find(std::string(group)) != offsets_.end()) return false;
  if (st.persist) {
    if (Status s = st.persist->put_kafka_offset(std::string(group), "", -1, role->oid, "owner"); !s) return false;
  }
  group_owner_.emplace(std::string(group), role->oid);
  return true;
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
