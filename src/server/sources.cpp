#include "server/sources.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <unordered_map>

#include "dataflow/update.hpp"
#include "server/coordinator_state.hpp"
#include "capture/loadgen/loadgen.hpp"
#include "capture/postgres/postgres_source.hpp"
#include "capture/mysql/mysql_source.hpp"
#include "capture/sqlserver/sqlserver_source.hpp"
#include "capture/kafka/kafka_source.hpp"
#include "sql/binder.hpp"

namespace freshet::server {
namespace {

// FOR TABLES (schema.table [AS name], ...) as a connector's table selections.
template <class Selection>
std::vector<Selection> table_selections(const sql::StreamingStatement& stmt) {
  std::vector<Selection> out;
  for (const auto& [up, as] : stmt.tables) {
    Selection t;
    if (auto dot = up.find('.'); dot != std::string::npos) {
      t.schema = up.substr(0, dot);
      t.table = up.substr(dot + 1);
    } else {
      t.table = up;
    }
    t.name = as;
    out.push_back(std::move(t));
  }
  return out;
}


class Sink : public capture::SourceSink {
 public:
  Sink(Coordinator::State& st, std::shared_ptr<SourceEntry> e) : st_(st), e_(std::move(e)) {}

  Status set_schemas(const std::vector<capture::TableSchema>& tables) override {
    std::lock_guard wlock(st_.write_mu);  // catalog changes are DDL (write_path.hpp)
    std::unique_lock lock(st_.mu);
    {
      std::lock_guard g(e_->mu);
      if (e_->dropped) return Status::error("source was dropped");
      if (e_->schemas_set) {
        // Same tables again (a reconnect, a restart) is fine. Other tables: a schema change.
        if (tables.size() != e_->table_ids.size()) return Status::error("the upstream schema changed; drop and recreate the source");
        // A table whose columns changed stops alone (as when the change is seen in the stream):
        // one stopped before, or one changed while the source was not running.
        bool stopped_now = false;
        for (size_t i = 0; i < tables.size(); ++i) {
          const sql::ObjectInfo* o = st_.catalog.find(e_->table_ids[i]);
          if (!o || e_->stopped_tables.count(static_cast<uint32_t>(i))) continue;
          bool same = o->columns.size() == tables[i].columns.size();
          for (size_t c = 0; same && c < tables[i].columns.size(); ++c)
            same = o->columns[c].name == tables[i].columns[c].name && o->columns[c].type.id == tables[i].columns[c].type.id;
          if (same) continue;
          std::string why = "schema of table " + tables[i].upstream_schema + "." + tables[i].upstream_name +
                            " changed upstream while the source was not reading it; its capture stopped, recreate the "
                            "source to capture it again";
          e_->stopped_tables[static_cast<uint32_t>(i)] = why;
          std::fprintf(stderr, "freshet: source %s: %s\n", e_->name.c_str(), why.c_str());
          stopped_now = true;
        }
        if (stopped_now && st_.persist) {
          StoredSource stored{e_->id, e_->name, e_->create_sql, e_->table_ids, e_->single_table_named_after_source, e_->stopped_tables};
          if (Status ps = st_.persist->put_source(st_.now_ts, stored); !ps) return ps;
        }
        return Status::ok();
      }
    }
    // Check every name first, then create: a clash leaves nothing behind.
    std::vector<std::string> names;
    for (const auto& t : tables) {
      std::string name = t.name;
      if (e_->single_table_named_after_source) name = e_->name;
      if (!e_->wanted_tables.empty()) {
        bool wanted = false;
        for (const auto& [up, as] : e_->wanted_tables)
          if (up == t.upstream_name || up == t.upstream_schema + "." + t.upstream_name) {
            name = as;
            wanted = true;
          }
        if (!wanted) {
          names.push_back("");
          continue;
        }
      }
      if (st_.catalog.lookup("public", name)) return Status::error("catalog item \"" + name + "\" already exists");
      names.push_back(name);
    }
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < tables.size(); ++i) {
      if (names[i].empty()) {
        ids.push_back(0);  // not captured
        continue;
      }
      sql::ObjectInfo obj;
      obj.name = names[i];
      obj.kind = sql::ObjectKind::kTable;
      for (const auto& c : tables[i].columns) obj.columns.push_back({c.name, c.type, c.nullable, std::nullopt});
      obj.primary_key = tables[i].key;
      obj.source_id = e_->id;
      const sql::ObjectInfo& added = st_.catalog.add(std::move(obj));
      ids.push_back(added.id);
      if (e_->id != added.id && e_->id != 0) st_.catalog.add_dependency(added.id, e_->id);
    }
    if (st_.persist) {
      Status ps = st_.persist->create_source_collection(e_->id, "source:" + e_->name);
      if (ps) {
        StoredSource stored{e_->id, e_->name, e_->create_sql, ids, e_->single_table_named_after_source, {}};
        ps = st_.persist->put_source(st_.now_ts, stored);
      }
      if (!ps) return ps;
    }
    std::lock_guard g(e_->mu);
    e_->table_ids = std::move(ids);
    e_->schemas_set = true;
    return Status::ok();
  }

  Status apply(capture::Transaction txn) override {
    uint64_t rows = txn.changes.size();
    if (!txn.stopped_tables.empty()) {
      if (Status s = stop_tables(txn.stopped_tables); !s) return s;
    }
    {
      // A stopped table's changes are not applied (the connector may still decode them, with
      // the new schema, after a restart).
      std::lock_guard g(e_->mu);
      if (!e_->stopped_tables.empty()) {
        std::erase_if(txn.changes, [&](const capture::Change& c) { return e_->stopped_tables.count(c.table) > 0; });
        rows = txn.changes.size();
      }
    }
    {
      // The write path (write_path.hpp): under write_mu, the changes against the tables' newest
      // state; durable with the upstream position (exactly once) before they are published.
      std::unique_lock wlock(st_.write_mu);
      {
        std::lock_guard g(e_->mu);
        if (e_->dropped) return Status::error("source was dropped");
        if (!e_->schemas_set) return Status::error("transaction before schemas");
      }
      storage::Batch stored;
      if (st_.persist) {
        stored.checkpoint = txn.position;
        stored.changes.reserve(txn.changes.size());
        for (const auto& ch : txn.changes) {
          if (ch.table >= e_->table_ids.size() || e_->table_ids[ch.table] == 0) continue;
          std::vector<Datum> k = {Datum::from_int(ch.table)};
          ch.key.unpack_into(k);
          Row key = Row::pack(k);
          if (ch.op == capture::Change::Op::kUpsert)
            stored.changes.push_back(storage::Change::upsert(std::move(key), ch.value));
          else
            stored.changes.push_back(storage::Change::del(std::move(key)));
        }
      }
      ChangeSet changes;
      // The row of each touched key as of the changes so far in this transaction.
      std::map<uint64_t, std::unordered_map<Row, std::optional<Row>, RowHash>> now;
      uint64_t bytes = 0;  // the applied changes' encoded keys and rows (/metrics)
      for (auto& ch : txn.changes) {
        if (ch.table >= e_->table_ids.size()) return Status::error("change for an unknown table");
        uint64_t tid = e_->table_ids[ch.table];
        if (tid == 0) continue;
        bytes += ch.key.size_bytes() + ch.value.size_bytes();
        TableData* data = st_.catalog.table_data(tid);
        if (!data) continue;  // dropped meanwhile
        Row key = dataflow::canonical_row(ch.key.ref());
        auto& cur = now[tid];
        auto it = cur.find(key);
        if (it == cur.end()) {
          const Row* f = data->row_by_key(key);
          it = cur.emplace(key, f ? std::optional<Row>(*f) : std::nullopt).first;
        }
        auto& diffs = changes[tid];
        if (it->second) diffs.push_back({*it->second, -1});
        if (ch.op == capture::Change::Op::kUpsert) {
          diffs.push_back({ch.value, 1});
          it->second = std::move(ch.value);
        } else {
          it->second.reset();
        }
      }
      std::shared_ptr<UnpublishedWrite> w;
      try {
        w = st_.stage_write(std::move(changes), e_->id, std::move(stored));
      } catch (const SqlError& err) {
        return Status::error(err.message());
      }
      wlock.unlock();
      if (Status ps = st_.finish_write(w); !ps) return ps;
      std::lock_guard g(e_->mu);
      e_->bytes_total += bytes;
    }
    uint64_t now = wall_clock_ms();
    std::lock_guard g(e_->mu);
    e_->position = txn.position;
    e_->rows_total += rows;
    if (txn.commit_time_ms > 0) e_->lag_ms = static_cast<int64_t>(now) - static_cast<int64_t>(txn.commit_time_ms);
    if (e_->rate_window_start_ms == 0) e_->rate_window_start_ms = now;
    e_->rate_window_rows += rows;
    if (now - e_->rate_window_start_ms >= 1000) {
      e_->rows_per_second = 1000.0 * static_cast<double>(e_->rate_window_rows) / static_cast<double>(now - e_->rate_window_start_ms);
      e_->rate_window_start_ms = now;
      e_->rate_window_rows = 0;
    }
    if (txn.snapshot) e_->status.snapshot_rows_done += rows;
    if (e_->status.state.empty() || e_->status.state == "starting") e_->status.state = "running";
    return Status::ok();
  }

  // Records that these tables' capture stopped, durably (with the source's catalog record)
  // before the transaction that tells it is applied; logged.
  Status stop_tables(const std::vector<std::pair<uint32_t, std::string>>& stops) {
    std::unique_lock wlock(st_.write_mu);
    std::unique_lock lock(st_.mu);
    StoredSource stored;
    {
      std::lock_guard g(e_->mu);
      for (const auto& [i, why] : stops) {
        if (e_->stopped_tables.count(i)) continue;
        e_->stopped_tables[i] = why;
        std::fprintf(stderr, "freshet: source %s: %s\n", e_->name.c_str(), why.c_str());
      }
      stored = StoredSource{e_->id, e_->name, e_->create_sql, e_->table_ids, e_->single_table_named_after_source, e_->stopped_tables};
    }
    if (st_.persist)
      if (Status ps = st_.persist->put_source(st_.now_ts, stored); !ps) return ps;
    return Status::ok();
  }

  void report(const capture::SourceStatus& status) override {
    std::lock_guard g(e_->mu);
    e_->status = status;
  }

 private:
  Coordinator::State& st_;
  std::shared_ptr<SourceEntry> e_;
};

uint64_t parse_duration_ms(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
  if (i == 0) throw SqlError(sqlstate::kInvalidParameterValue, "invalid interval \"" + s + "\"");
  double v = std::stod(s.substr(0, i));
  std::string unit;
  for (size_t k = i; k < s.size(); ++k)
    if (!std::isspace(static_cast<unsigned char>(s[k]))) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(s[k])));
  if (unit.empty() || unit == "s" || unit.rfind("sec", 0) == 0) return static_cast<uint64_t>(v * 1000);
  if (unit == "ms" || unit.rfind("millisecond", 0) == 0) return static_cast<uint64_t>(v);
  if (unit == "m" || unit == "min" || unit.rfind("minute", 0) == 0) return static_cast<uint64_t>(v * 60000);
  throw SqlError(sqlstate::kInvalidParameterValue, "invalid interval \"" + s + "\"");
}

uint64_t parse_count(const sql::StreamingStatement::Option& o) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(o.value, &used);
    if (used != o.value.size()) throw std::invalid_argument("trailing");
    return v;
  } catch (...) {
    throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for " + o.key + ": \"" + o.value + "\"");
  }
}

// A connection's option with SECRET references resolved.
std::optional<std::string> connection_option(Coordinator::State& st, const sql::ObjectInfo& conn, const std::string& key) {
  for (const auto& [k, v] : conn.connection_options)
    if (k == key) {
      if (v.rfind("SECRET ", 0) == 0) {
        const sql::ObjectInfo* sec = st.catalog.lookup("public", v.substr(7));
        if (!sec) throw SqlError(sqlstate::kUndefinedObject, "secret " + v.substr(7) + " was dropped");
        return sec->secret_value;
      }
      return v;
    }
  return std::nullopt;
}

const sql::ObjectInfo& connection_of(Coordinator::State& st, const sql::StreamingStatement& stmt, const char* type) {
  const sql::ObjectInfo* c = st.catalog.lookup("public", stmt.connection);
  if (!c || c->kind != sql::ObjectKind::kConnection) throw SqlError(sqlstate::kUndefinedObject, "unknown connection '" + stmt.connection + "'");
  check_usage(st.catalog, *c);  // roles.hpp
  if (c->connection_type != type)
    throw SqlError(sqlstate::kWrongObjectType, "connection " + stmt.connection + " is a " + c->connection_type + " connection, not " + type);
  return *c;
}

}  // namespace

// The TLS CA is the connection's SSL CERTIFICATE AUTHORITY, else the file named by
// FRESHET_KAFKA_CA_FILE in the server's environment, else the system's; verification is never
// skipped.
capture::kafka::KafkaConnectionOptions kafka_connection_options(Coordinator::State& st, const std::string& name) {
  namespace ck = capture::kafka;
  const sql::ObjectInfo* found = st.catalog.lookup("public", name);
  if (!found || found->kind != sql::ObjectKind::kConnection) throw SqlError(sqlstate::kUndefinedObject, "unknown connection '" + name + "'");
  check_usage(st.catalog, *found);  // roles.hpp
  if (found->connection_type != "kafka")
    throw SqlError(sqlstate::kWrongObjectType, "connection " + name + " is a " + found->connection_type + " connection, not kafka");
  const sql::ObjectInfo& conn = *found;
  ck::KafkaConnectionOptions c;
  c.brokers = connection_option(st, conn, "BROKER").value_or(connection_option(st, conn, "BROKERS").value_or(""));
  if (c.brokers.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "connection " + conn.name + " has no BROKER");
  c.security_protocol = connection_option(st, conn, "SECURITY PROTOCOL").value_or("PLAINTEXT");
  c.sasl_mechanism = connection_option(st, conn, "SASL MECHANISMS").value_or("PLAIN");
  c.sasl_username = connection_option(st, conn, "SASL USERNAME").value_or("");
  c.sasl_password = connection_option(st, conn, "SASL PASSWORD").value_or("");
  c.ssl_ca_pem = connection_option(st, conn, "SSL CERTIFICATE AUTHORITY").value_or("");
  const char* ca_env = std::getenv("FRESHET_KAFKA_CA_FILE");
  c.ssl_ca_file = ca_env ? ca_env : "";
  try {
    (void)ck::librdkafka_config(c);
  } catch (const ck::AvroError& e) {
    throw SqlError(sqlstate::kInvalidParameterValue, e.what());
  }
  return c;
}

capture::kafka::RegistryOptions registry_options(Coordinator::State& st, const std::string& name) {
  const sql::ObjectInfo* csr = st.catalog.lookup("public", name);
  if (!csr || csr->kind != sql::ObjectKind::kConnection) throw SqlError(sqlstate::kUndefinedObject, "unknown connection '" + name + "'");
  check_usage(st.catalog, *csr);  // roles.hpp
  if (csr->connection_type != "confluent schema registry")
    throw SqlError(sqlstate::kWrongObjectType, "connection " + csr->name + " is not a CONFLUENT SCHEMA REGISTRY connection");
  capture::kafka::RegistryOptions r;
  r.url = connection_option(st, *csr, "URL").value_or("");
  if (r.url.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "connection " + csr->name + " has no URL");
  r.username = connection_option(st, *csr, "USERNAME").value_or("");
  r.password = connection_option(st, *csr, "PASSWORD").value_or("");
  r.ca_pem = connection_option(st, *csr, "SSL CERTIFICATE AUTHORITY").value_or("");
  const char* ca_env = std::getenv("FRESHET_KAFKA_CA_FILE");
  r.ca_file = ca_env ? ca_env : "";
  return r;
}

namespace {

// CREATE SOURCE ... FROM KAFKA (src/capture/kafka/README.md).
std::unique_ptr<capture::Source> build_kafka_source(Coordinator::State& st, const sql::StreamingStatement& stmt) {
  namespace ck = capture::kafka;
  ck::KafkaSourceOptions o;
  o.connection = kafka_connection_options(st, stmt.connection);
  for (const auto& opt : stmt.options) {
    if (opt.key == "TOPIC") {
      o.topic = opt.value;
    } else if (opt.key == "START OFFSET") {
      size_t pos = 0;
      while (pos <= opt.value.size() && !opt.value.empty()) {
        size_t comma = opt.value.find(',', pos);
        if (comma == std::string::npos) comma = opt.value.size();
        sql::StreamingStatement::Option one{"START OFFSET", opt.value.substr(pos, comma - pos), false};
        o.start_offsets.push_back(static_cast<int64_t>(parse_count(one)));
        pos = comma + 1;
      }
    } else {
      throw SqlError(sqlstate::kInvalidParameterValue, "unknown Kafka source option " + opt.key).with_hint("Use TOPIC and START OFFSET.");
    }
  }
  if (o.topic.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "CREATE SOURCE FROM KAFKA needs (TOPIC '...')");
  if (stmt.all_tables || !stmt.tables.empty()) throw SqlError(sqlstate::kSyntaxError, "a Kafka source has one table; FOR TABLES does not apply");
  auto& d = o.decoder;
  d.table_name = stmt.object;
  d.topic = o.topic;
  std::string format = stmt.format.empty() ? "bytes" : stmt.format;
  if (format == "avro") d.format = ck::KafkaFormat::kAvro;
  else if (format == "json") d.format = ck::KafkaFormat::kJson;
  else if (format == "text") d.format = ck::KafkaFormat::kText;
  else d.format = ck::KafkaFormat::kBytes;
  std::string envelope = sql::lower_ident(stmt.envelope.empty() ? "none" : stmt.envelope);
  if (envelope == "none") d.envelope = ck::KafkaEnvelope::kNone;
  else if (envelope == "upsert") d.envelope = ck::KafkaEnvelope::kUpsert;
  else if (envelope == "debezium") d.envelope = ck::KafkaEnvelope::kDebezium;
  else throw SqlError(sqlstate::kInvalidParameterValue, "unknown ENVELOPE " + stmt.envelope).with_hint("Use NONE, UPSERT or DEBEZIUM.");
  if (d.envelope == ck::KafkaEnvelope::kDebezium && d.format != ck::KafkaFormat::kAvro)
    throw SqlError(sqlstate::kFeatureNotSupported, "ENVELOPE DEBEZIUM needs FORMAT AVRO");
  for (const auto& inc : stmt.include) {
    std::string w = sql::lower_ident(inc);
    if (w == "key") d.include_key = true;
    else if (w == "partition") d.include_partition = true;
    else if (w == "offset") d.include_offset = true;
    else if (w == "timestamp") d.include_timestamp = true;
    else throw SqlError(sqlstate::kInvalidParameterValue, "unknown INCLUDE " + inc).with_hint("Use KEY, PARTITION, OFFSET or TIMESTAMP.");
  }
  if (d.format == ck::KafkaFormat::kAvro) o.registry = registry_options(st, stmt.format_connection);
  return std::make_unique<ck::KafkaSource>(std::move(o));
}

}  // namespace

void build_source(Coordinator::State& st, const sql::StreamingStatement& stmt, SourceEntry& entry) {
  if (stmt.what == "load generator") {
    capture::LoadGenOptions o;
    o.kind = sql::lower_ident(stmt.generator);
    for (const auto& opt : stmt.options) {
      if (opt.key == "TICK INTERVAL") o.tick_ms = parse_duration_ms(opt.value);
      else if (opt.key == "RATE") o.rate = parse_count(opt);
      else if (opt.key == "SEED") o.seed = parse_count(opt);
      else if (opt.key == "MAX CARDINALITY") o.max_cardinality = parse_count(opt);
      else if (opt.key == "MAX EVENTS") o.max_events = parse_count(opt);
      else throw SqlError(sqlstate::kInvalidParameterValue, "unknown load generator option " + opt.key);
    }
    entry.source = capture::make_load_generator(o);
    auto tables = capture::load_generator_tables(o.kind);
    entry.type = "load-generator";
    if (!stmt.all_tables && stmt.tables.empty()) {
      if (tables.size() != 1)
        throw SqlError(sqlstate::kFeatureNotSupported, "load generator " + stmt.generator + " has several tables")
            .with_hint("Use FOR ALL TABLES.");
      entry.single_table_named_after_source = true;
    }
    entry.wanted_tables = stmt.tables;
    return;
  }
  if (stmt.what == "postgres") {
    const sql::ObjectInfo& conn = connection_of(st, stmt, "postgres");
    capture::postgres::PostgresSourceOptions o;
    o.host = connection_option(st, conn, "HOST").value_or("localhost");
    if (auto p = connection_option(st, conn, "PORT")) {
      try {
        o.port = static_cast<uint16_t>(std::stoul(*p));
      } catch (...) {
        throw SqlError(sqlstate::kInvalidParameterValue, "invalid PORT \"" + *p + "\"");
      }
    }
    o.database = connection_option(st, conn, "DATABASE").value_or("postgres");
    o.user = connection_option(st, conn, "USER").value_or("postgres");
    o.password = connection_option(st, conn, "PASSWORD").value_or("");
    if (auto m = connection_option(st, conn, "SSL MODE")) {
      auto mode = capture::postgres::parse_sslmode(sql::lower_ident(*m));
      if (!mode) throw SqlError(sqlstate::kInvalidParameterValue, "invalid SSL MODE \"" + *m + "\"").with_hint("Use disable, prefer or require.");
      o.sslmode = *mode;
    }
    const auto* pub = stmt.option("PUBLICATION");
    if (!pub) throw SqlError(sqlstate::kInvalidParameterValue, "CREATE SOURCE FROM POSTGRES needs (PUBLICATION '...')");
    o.publication = pub->value;
    for (const auto& opt : stmt.options)
      if (opt.key != "PUBLICATION" && opt.key != "TEXT COLUMNS")
        throw SqlError(sqlstate::kInvalidParameterValue, "unknown PostgreSQL source option " + opt.key);
    if (!stmt.all_tables && stmt.tables.empty())
      throw SqlError(sqlstate::kSyntaxError, "CREATE SOURCE FROM POSTGRES needs FOR ALL TABLES or FOR TABLES (...)");
    o.tables = table_selections<capture::postgres::TableSelection>(stmt);
    o.slot_name = capture::postgres::slot_name_for_source("freshet_" + std::to_string(entry.id));
    entry.type = "postgres";
    entry.source = std::make_unique<capture::postgres::PostgresSource>(o);
    entry.on_drop = [o] { (void)capture::postgres::drop_replication_slot(o); };
    return;
  }
  if (stmt.what == "mysql") {
    const sql::ObjectInfo& conn = connection_of(st, stmt, "mysql");
    capture::mysql::MySqlOptions o;
    o.host = connection_option(st, conn, "HOST").value_or("127.0.0.1");
    if (auto p = connection_option(st, conn, "PORT")) {
      try {
        o.port = static_cast<uint16_t>(std::stoul(*p));
      } catch (...) {
        throw SqlError(sqlstate::kInvalidParameterValue, "invalid PORT \"" + *p + "\"");
      }
    }
    o.user = connection_option(st, conn, "USER").value_or("root");
    o.password = connection_option(st, conn, "PASSWORD").value_or("");
    o.database = connection_option(st, conn, "DATABASE").value_or("");
    if (auto m = connection_option(st, conn, "SSL MODE")) {
      std::string v = sql::lower_ident(*m);
      if (v == "disabled" || v == "disable") o.ssl_mode = capture::mysql::SslMode::kDisabled;
      else if (v == "required" || v == "require") o.ssl_mode = capture::mysql::SslMode::kRequired;
      else throw SqlError(sqlstate::kInvalidParameterValue, "invalid SSL MODE \"" + *m + "\"").with_hint("Use disabled or required.");
    }
    for (const auto& opt : stmt.options) {
      if (opt.key == "DATABASE") o.database = opt.value;
      else throw SqlError(sqlstate::kInvalidParameterValue, "unknown MySQL source option " + opt.key);
    }
    if (!stmt.all_tables && stmt.tables.empty())
      throw SqlError(sqlstate::kSyntaxError, "CREATE SOURCE FROM MYSQL needs FOR ALL TABLES or FOR TABLES (...)");
    for (const auto& [up, as] : stmt.tables) {
      std::string table = up;
      if (auto dot = up.find('.'); dot != std::string::npos) {
        if (o.database.empty()) o.database = up.substr(0, dot);
        table = up.substr(dot + 1);
      }
      o.tables.push_back({table, as == table ? "" : as});
    }
    if (o.database.empty())
      throw SqlError(sqlstate::kInvalidParameterValue, "the MySQL database to capture is not known")
          .with_hint("Give DATABASE in the connection or name tables as database.table.");
    o.source_id = entry.id;
    entry.type = "mysql";
    entry.source = std::make_unique<capture::mysql::MySqlSource>(o);
    return;
  }
  if (stmt.what == "sql server") {
    // src/capture/sqlserver/README.md
    namespace css = capture::sqlserver;
    const sql::ObjectInfo& conn = connection_of(st, stmt, "sql server");
    css::SqlServerOptions o;
    o.connection.host = connection_option(st, conn, "HOST").value_or("127.0.0.1");
    if (auto p = connection_option(st, conn, "PORT")) {
      try {
        o.connection.port = static_cast<uint16_t>(std::stoul(*p));
      } catch (...) {
        throw SqlError(sqlstate::kInvalidParameterValue, "invalid PORT \"" + *p + "\"");
      }
    }
    o.connection.database = connection_option(st, conn, "DATABASE").value_or("");
    o.connection.user = connection_option(st, conn, "USER").value_or("");
    o.connection.password = connection_option(st, conn, "PASSWORD").value_or("");
    if (o.connection.database.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "connection " + conn.name + " has no DATABASE");
    if (o.connection.user.empty()) throw SqlError(sqlstate::kInvalidParameterValue, "connection " + conn.name + " has no USER");
    if (auto m = connection_option(st, conn, "SSL MODE")) {
      std::string v = sql::lower_ident(*m);
      if (v == "disable" || v == "disabled") o.connection.encryption = css::Encryption::kOff;
      else if (v == "prefer" || v == "preferred") o.connection.encryption = css::Encryption::kRequest;
      else if (v == "require" || v == "required") o.connection.encryption = css::Encryption::kRequire;
      else throw SqlError(sqlstate::kInvalidParameterValue, "invalid SSL MODE \"" + *m + "\"").with_hint("Use disable, prefer or require.");
    }
    for (const auto& opt : stmt.options) {
      if (opt.key == "POLL INTERVAL") {
        uint64_t ms = parse_duration_ms(opt.value);
        if (ms < 1 || ms > 3600000) throw SqlError(sqlstate::kInvalidParameterValue, "POLL INTERVAL must be between 1 ms and 1 hour");
        o.poll_interval_ms = static_cast<uint32_t>(ms);
      } else {
        throw SqlError(sqlstate::kInvalidParameterValue, "unknown SQL Server source option " + opt.key).with_hint("Use POLL INTERVAL.");
      }
    }
    if (!stmt.all_tables && stmt.tables.empty())
      throw SqlError(sqlstate::kSyntaxError, "CREATE SOURCE FROM SQL SERVER needs FOR ALL TABLES or FOR TABLES (...)");
    o.tables = table_selections<css::SqlServerTableSelection>(stmt);
    entry.type = "sql-server";
    entry.source = std::make_unique<css::SqlServerSource>(std::move(o));
    return;
  }
  if (stmt.what == "kafka") {
    entry.type = "kafka";
    entry.source = build_kafka_source(st, stmt);
    entry.single_table_named_after_source = true;
    return;
  }
  throw SqlError(sqlstate::kFeatureNotSupported, "sources FROM " + stmt.what + " are not available yet");
}

std::unique_ptr<capture::SourceSink> make_source_sink(Coordinator::State& state, std::shared_ptr<SourceEntry> entry) {
  return std::make_unique<Sink>(state, std::move(entry));
}

}  // namespace freshet::server

namespace freshet::server {

void Coordinator::State::check_table_readable(const sql::ObjectInfo& t) {
  if (t.source_id == 0) return;
  auto it = sources.find(t.source_id);
  if (it == sources.end()) return;
  SourceEntry& e = *it->second;
  std::lock_guard g(e.mu);
  if (e.stopped_tables.empty()) return;
  for (size_t i = 0; i < e.table_ids.size(); ++i) {
    if (e.table_ids[i] != t.id) continue;
    auto s = e.stopped_tables.find(static_cast<uint32_t>(i));
    if (s == e.stopped_tables.end()) return;
    throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "source table \"" + t.name + "\" is stopped: " + s->second)
        .with_hint("DROP SOURCE " + e.name + " CASCADE and create it again to capture the new schema.");
  }
}

}  // namespace freshet::server
