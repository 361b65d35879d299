#include "server/sinks.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include "capture/kafka/sink_state.hpp"
#include "kafka/wire.hpp"
#include "server/coordinator_state.hpp"
#include "sql/binder.hpp"

namespace freshet::server {
namespace ck = capture::kafka;

namespace {

constexpr size_t kMaxMessagesPerCommit = 100'000;

// A failpoint for the crash tests (test/e2e/kafka_sink_test.sh): with
// FRESHET_FAILPOINT_SINK_EXIT_AFTER_PRODUCE=N in the environment, the process exits at once
// after the N-th acknowledged batch of any sink, before the sink stores its state: the window
// that the read-back after a restart exists for.
void failpoint_after_produce() {
  static const long limit = [] {
    const char* v = std::getenv("FRESHET_FAILPOINT_SINK_EXIT_AFTER_PRODUCE");
    return v ? std::atol(v) : 0L;
  }();
  static std::atomic<long> count{0};
  if (limit > 0 && ++count == limit) {
    std::fprintf(stderr, "freshet: failpoint: exiting after an acknowledged sink batch, before storing the sink's state\n");
    std::_Exit(86);
  }
}
constexpr int kMaxBackoffMs = 30'000;

int32_t parse_int_option(const sql::StreamingStatement::Option& o, int32_t lo, int32_t hi) {
  try {
    size_t used = 0;
    long v = std::stol(o.value, &used);
    if (used != o.value.size() || v < lo || v > hi) throw std::out_of_range("range");
    return static_cast<int32_t>(v);
  } catch (...) {
    throw SqlError(sqlstate::kInvalidParameterValue,
                   "invalid value for " + o.key + ": \"" + o.value + "\" (" + std::to_string(lo) + " to " + std::to_string(hi) + ")");
  }
}

// The stored checkpoint: the timestamp the state is at, and the topic's next offset per
// partition after the messages that got the state there.
std::string encode_checkpoint(uint64_t ts, const std::vector<int64_t>& offsets) {
  std::string out = "ts=" + std::to_string(ts) + ";offsets=";
  for (size_t i = 0; i < offsets.size(); ++i) out += (i ? "," : "") + std::to_string(offsets[i]);
  return out;
}

bool decode_checkpoint(const std::string& s, uint64_t& ts, std::vector<int64_t>& offsets) {
  if (s.rfind("ts=", 0) != 0) return false;
  size_t semi = s.find(";offsets=");
  if (semi == std::string::npos) return false;
  try {
    ts = std::stoull(s.substr(3, semi - 3));
    std::string list = s.substr(semi + 9);
    offsets.clear();
    size_t pos = 0;
    while (pos < list.size()) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      offsets.push_back(std::stoll(list.substr(pos, comma - pos)));
      pos = comma + 1;
    }
  } catch (...) {
    return false;
  }
  return true;
}

std::string describe_offsets(const std::vector<int64_t>& offsets) {
  std::string out;
  for (size_t i = 0; i < offsets.size(); ++i) out += (i ? "," : "") + std::to_string(i) + ":" + std::to_string(offsets[i]);
  return out;
}

// One run of a sink, from its stored state to a failure or a stop.
class SinkRun {
 public:
  SinkRun(Coordinator::State& cs, SinkEntry& e) : cs_(cs), e_(e), state_(e.key, e.types) {}

  Status run() {
    // The broker, the topic, the schemas.
    if (e_.first_connection) {
      conn_ = std::move(e_.first_connection);
    } else {
      auto c = ck::SinkConnection::open(e_.connection, e_.topic);
      if (!c) return c.status();
      conn_ = std::move(c.value());
    }
    if (Status s = register_schemas(*e_.encoder, e_.registry); !s) return s;
    // What the topic holds: the stored state, plus what was written after it was stored.
    std::optional<std::string> checkpoint;
    if (!cs_.persist) return Status::error("sinks need a data directory");
    Status ls = cs_.persist->load_source(
        e_.id, [&](uint32_t, Row key, Row value) { state_.restore(std::move(key), std::move(value)); }, checkpoint);
    if (!ls) return Status::error("cannot read the sink's state: " + ls.message());
    auto hw = conn_->high_watermarks();
    if (!hw) return hw.status();
    bool fresh = !checkpoint;
    uint64_t ts = 0;
    if (fresh) {
      // Nothing written yet: the sink's part of the topic starts at its current end. Stored
      // before anything is produced.
      offsets_ = *hw;
      if (Status s = cs_.persist->write_source(e_.id, 0, {}, encode_checkpoint(0, offsets_)); !s) return s;
    } else {
      if (!decode_checkpoint(*checkpoint, ts, offsets_)) return Status::error("the sink's stored position \"" + *checkpoint + "\" is unreadable");
      if (offsets_.size() != hw->size())
        return Status::error("topic " + e_.topic.topic + " has " + std::to_string(hw->size()) + " partitions, the sink wrote to " +
                             std::to_string(offsets_.size()) + "; recreate the sink");
      uint64_t read_back = 0;
      Status rs = conn_->read_back(
          offsets_, *hw,
          [&](int32_t p, int64_t off, std::optional<std::string_view> k, std::optional<std::string_view> v) -> Status {
            try {
              state_.apply_emitted(e_.encoder->decode(k, v));
            } catch (const freshet::kafka::DecodeError& err) {
              return Status::error("topic " + e_.topic.topic + " partition " + std::to_string(p) + " offset " + std::to_string(off) +
                                   " holds a message this sink cannot have written: " + err.what());
            }
            ++read_back;
            return Status::ok();
          },
          e_.stop);
      if (!rs) return rs;
      if (read_back > 0)
        std::fprintf(stderr, "freshet: sink %s: %llu messages were in the topic but not yet in the sink's state (read back)\n",
                     e_.name.c_str(), static_cast<unsigned long long>(read_back));
      offsets_ = *hw;
    }
    {
      std::lock_guard g(e_.mu);
      e_.committed_ts = ts;
      e_.position = describe_offsets(offsets_);
    }
    // The relation now, and its changes from now on.
    SinkInput in;
    {
      std::unique_lock lock(cs_.mu);
      try {
        in = attach_sink_input(cs_, e_);
      } catch (const SqlError& err) {
        return Status::error(err.message());
      }
    }
    queue_ = in.queue;
    for (auto& [r, d] : in.snapshot) r = e_.encoder->normalize(r);
    std::vector<std::pair<uint64_t, std::vector<ck::SinkMessage>>> batch(1);
    batch[0].first = in.time;
    if (Status s = state_.reconcile(in.snapshot, batch[0].second); !s) return s;
    // WITH (SNAPSHOT = false): until the sink first stores a batch, the state starts as the
    // relation is (also when the first run failed after storing its initial offsets).
    if (ts == 0 && !e_.snapshot) batch[0].second.clear();
    if (Status s = emit(batch, in.time); !s) return s;
    set_running();

    // Every complete timestamp, in order.
    while (!e_.stop) {
      batch.clear();
      uint64_t last = 0;
      size_t messages = 0;
      {
        std::unique_lock lock(queue_->mu);
        queue_->cv.wait_for(lock, std::chrono::milliseconds(100), [&] {
          return e_.stop || queue_->overflowed || queue_->dropped || (!queue_->items.empty() && queue_->items.front().time < queue_->progress);
        });
        if (queue_->overflowed) return Status::error("the sink fell more than 4M changes behind; starting over from the current contents");
        if (queue_->dropped && queue_->items.empty()) return Status::error("the sinked relation's dataflow went away");
        RowDiffs delta;
        while (!queue_->items.empty() && queue_->items.front().time < queue_->progress && messages < kMaxMessagesPerCommit) {
          uint64_t t = queue_->items.front().time;
          delta.clear();
          while (!queue_->items.empty() && queue_->items.front().time == t) {
            auto& item = queue_->items.front();
            delta.push_back({e_.encoder->normalize(item.row), item.diff});
            queue_->items.pop_front();
          }
          batch.push_back({t, {}});
          if (Status s = state_.apply(delta, batch.back().second); !s) return s;
          messages += batch.back().second.size();
          last = t;
        }
      }
      if (batch.empty()) continue;
      if (Status s = emit(batch, last); !s) return s;
    }
    return Status::ok();
  }

 private:
  Status register_schemas(ck::SinkEncoder& enc, const std::optional<ck::RegistryOptions>& registry) {
    if (enc.format() != ck::SinkFormat::kAvro) return Status::ok();
    ck::RegistryClient rc(*registry);
    int32_t key_id = 0;
    if (enc.has_key()) {
      auto k = rc.register_schema(e_.topic.topic + "-key", enc.key_schema());
      if (!k) return Status::error("schema registry " + registry->url + ": " + k.status().message());
      key_id = *k;
    }
    auto v = rc.register_schema(e_.topic.topic + "-value", enc.value_schema());
    if (!v) return Status::error("schema registry " + registry->url + ": " + v.status().message());
    enc.set_schema_ids(key_id, *v);
    return Status::ok();
  }

  // Produces the messages of these timestamps; once the broker has them, stores the state
  // changes with the offsets after them.
  Status emit(std::vector<std::pair<uint64_t, std::vector<ck::SinkMessage>>>& batch, uint64_t upto) {
    std::vector<ck::OutMessage> out;
    for (auto& [t, msgs] : batch) {
      for (const auto& m : msgs) {
        ck::OutMessage o;
        e_.encoder->encode(m, o.key, o.value);
        o.timestamp_ms = static_cast<int64_t>(t);
        if (!e_.encoder->has_key()) {
          // Without a key, a row's insertions and deletions go to one partition, in order.
          const Row& r = m.after ? *m.after : *m.before;
          o.partition = static_cast<int32_t>(hash_bytes(r.bytes()) % static_cast<uint64_t>(conn_->partitions()));
        }
        out.push_back(std::move(o));
      }
    }
    std::vector<std::pair<Row, std::optional<Row>>> dirty;
    state_.take_dirty(dirty);
    if (out.empty() && dirty.empty()) return Status::ok();
    if (!out.empty()) {
      if (Status s = conn_->produce(out, offsets_, e_.stop); !s) return s;
      failpoint_after_produce();
    }
    std::vector<storage::Change> changes;
    changes.reserve(dirty.size());
    std::vector<Datum> k;
    for (auto& [key, value] : dirty) {
      k.clear();
      k.push_back(Datum::from_int(0));
      key.unpack_into(k);
      Row stored = Row::pack(k);
      changes.push_back(value ? storage::Change::upsert(std::move(stored), std::move(*value)) : storage::Change::del(std::move(stored)));
    }
    if (Status s = cs_.persist->write_source(e_.id, upto, std::move(changes), encode_checkpoint(upto, offsets_)); !s)
      return Status::error("storing the sink's progress failed: " + s.message());
    std::lock_guard g(e_.mu);
    e_.messages_total += out.size();
    e_.committed_ts = upto;
    e_.position = describe_offsets(offsets_);
    return Status::ok();
  }

  void set_running() {
    std::lock_guard g(e_.mu);
    e_.state = "running";
    e_.last_error.clear();
  }

  Coordinator::State& cs_;
  SinkEntry& e_;
  ck::SinkState state_;
  std::unique_ptr<ck::SinkConnection> conn_;
  std::vector<int64_t> offsets_;
  std::shared_ptr<SubscriptionQueue> queue_;
};

void run_sink(Coordinator::State& cs, std::shared_ptr<SinkEntry> e) {
  int backoff_ms = 500;
  while (!e->stop) {
    Status s = Status::ok();
    try {
      SinkRun run(cs, *e);
      s = run.run();
    } catch (const SqlError& err) {
      s = Status::error(err.message());
    }
    if (e->stop) break;
    {
      std::lock_guard g(e->mu);
      e->state = "stalled";
      e->last_error = s.message() + " (retrying)";
    }
    std::fprintf(stderr, "freshet: sink %s: %s (retrying in %d ms)\n", e->name.c_str(), s.message().c_str(), backoff_ms);
    for (int waited = 0; waited < backoff_ms && !e->stop; waited += 50) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    backoff_ms = std::min(backoff_ms * 2, kMaxBackoffMs);
  }
  if (e->dropped) {
    std::unique_lock lock(cs.mu);
    if (cs.find_maintained(e->id)) cs.drop_maintained(e->id);
    if (cs.persist) (void)cs.persist->drop_collection(e->id);
  }
}

}  // namespace

std::shared_ptr<SinkEntry> build_sink(Coordinator::State& st, const sql::StreamingStatement& stmt) {
  auto e = std::make_shared<SinkEntry>();
  e->name = stmt.object;
  e->create_sql = stmt.text;
  const sql::ObjectInfo* from = st.catalog.lookup("", stmt.sink_from);
  if (!from) throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + stmt.sink_from + "'");
  if (from->kind == sql::ObjectKind::kSource)
    throw SqlError(sqlstate::kWrongObjectType, "\"" + from->name + "\" is a source").with_hint("Sink one of its tables.");
  if (from->kind != sql::ObjectKind::kTable && from->kind != sql::ObjectKind::kView && from->kind != sql::ObjectKind::kMaterializedView)
    throw SqlError(sqlstate::kWrongObjectType, "cannot sink \"" + from->name + "\": it is not a table, view or materialized view");
  e->from_id = from->id;
  e->from_name = from->name;
  std::vector<freshet::kafka::TopicColumn> cols;
  for (const auto& c : from->columns) {
    cols.push_back({c.name, c.type, c.nullable});
    e->types.push_back(c.type);
  }
  for (const auto& name : stmt.sink_key) {
    auto it = std::find_if(from->columns.begin(), from->columns.end(), [&](const sql::ColumnInfo& c) { return c.name == name; });
    if (it == from->columns.end())
      throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" does not exist in " + from->name).with_hint("KEY names columns of the sinked relation.");
    auto pos = static_cast<uint32_t>(it - from->columns.begin());
    if (std::find(e->key.begin(), e->key.end(), pos) != e->key.end())
      throw SqlError(sqlstate::kInvalidParameterValue, "column \"" + name + "\" is named twice in KEY");
    e->key.push_back(pos);
  }
  // Connection and topic.
  if (stmt.what != "kafka") throw SqlError(sqlstate::kFeatureNotSupported, "sinks write to Kafka only");
  e->connection = kafka_connection_options(st, stmt.connection);
  for (const auto& o : stmt.options) {
    if (o.key == "TOPIC") e->topic.topic = o.value;
    else if (o.key == "TOPIC PARTITION COUNT" || o.key == "PARTITION COUNT") e->topic.partitions = parse_int_option(o, 1, 1000);
    else if (o.key == "TOPIC REPLICATION FACTOR" || o.key == "REPLICATION FACTOR") e->topic.replication_factor = parse_int_option(o, 1, 32);
    else
      throw SqlError(sqlstate::kInvalidParameterValue, "unknown Kafka sink option " + o.key)
          .with_hint("Use TOPIC, TOPIC PARTITION COUNT and TOPIC REPLICATION FACTOR.");
  }
  if (e->topic.topic.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "CREATE SINK ... INTO KAFKA needs (TOPIC '...')");
  if (e->topic.topic.size() > 249) throw SqlError(sqlstate::kInvalidParameterValue, "a Kafka topic name has at most 249 characters");
  for (char c : e->topic.topic)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-')
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid Kafka topic name \"" + e->topic.topic + "\"")
          .with_hint("Topic names use letters, digits, '.', '_' and '-'.");
  e->topic.client_id = "freshet-sink-" + e->name;
  // Format and envelope.
  if (stmt.format.empty())
    throw SqlError(sqlstate::kInvalidParameterValue, "CREATE SINK needs a FORMAT")
        .with_hint("Use FORMAT AVRO USING CONFLUENT SCHEMA REGISTRY CONNECTION ... or FORMAT JSON.");
  ck::SinkFormat format = stmt.format == "avro" ? ck::SinkFormat::kAvro : ck::SinkFormat::kJson;
  if (stmt.format != "avro" && stmt.format != "json") throw SqlError(sqlstate::kFeatureNotSupported, "sinks write FORMAT AVRO or JSON");
  if (format == ck::SinkFormat::kAvro) e->registry = registry_options(st, stmt.format_connection);
  std::string envelope = sql::lower_ident(stmt.envelope);
  if (envelope.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "CREATE SINK needs an ENVELOPE").with_hint("Use ENVELOPE UPSERT or ENVELOPE DEBEZIUM.");
  ck::SinkEnvelope env;
  if (envelope == "upsert") env = ck::SinkEnvelope::kUpsert;
  else if (envelope == "debezium") env = ck::SinkEnvelope::kDebezium;
  else throw SqlError(sqlstate::kInvalidParameterValue, "unknown ENVELOPE " + stmt.envelope).with_hint("Use UPSERT or DEBEZIUM.");
  if (env == ck::SinkEnvelope::kUpsert && e->key.empty()) {
    if (from->kind == sql::ObjectKind::kTable && !from->primary_key.empty()) e->key = from->primary_key;
    else
      throw SqlError(sqlstate::kInvalidParameterValue, "ENVELOPE UPSERT needs a KEY: \"" + from->name + "\" has no primary key")
          .with_hint("Add KEY (column, ...) naming columns that are unique in " + from->name + ".");
  }
  e->format_name = stmt.format;
  e->envelope_name = envelope;
  e->snapshot = stmt.snapshot;
  e->encoder = std::make_unique<ck::SinkEncoder>(e->topic.topic, std::move(cols), e->key, format, env);
  return e;
}

Status check_sink(SinkEntry& e) {
  auto c = ck::SinkConnection::open(e.connection, e.topic);
  if (!c) return c.status();
  if (e.encoder->format() == ck::SinkFormat::kAvro) {
    ck::RegistryClient rc(*e.registry);
    if (e.encoder->has_key())
      if (auto k = rc.register_schema(e.topic.topic + "-key", e.encoder->key_schema()); !k)
        return Status::error("schema registry " + e.registry->url + ": " + k.status().message());
    if (auto v = rc.register_schema(e.topic.topic + "-value", e.encoder->value_schema()); !v)
      return Status::error("schema registry " + e.registry->url + ": " + v.status().message());
  }
  e.first_connection = std::move(c.value());
  return Status::ok();
}

void start_sink(Coordinator::State& cs, const std::shared_ptr<SinkEntry>& e) {
  std::lock_guard g(e->join_mu);
  e->thread = std::thread([&cs, e] { run_sink(cs, e); });
}

void join_sink(SinkEntry& e) {
  std::lock_guard g(e.join_mu);
  if (e.thread.joinable()) e.thread.join();
}

}  // namespace freshet::server
