// CREATE SOURCE, CREATE SINK, connections.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

void Executor::validate_connection_options(const ObjectInfo& conn) {
  std::vector<std::string> allowed;
  if (conn.connection_type == "postgres")
    allowed = {"HOST", "PORT", "DATABASE", "USER", "PASSWORD", "SSL MODE"};
  else if (conn.connection_type == "mysql")
    allowed = {"HOST", "PORT", "USER", "PASSWORD", "SSL MODE", "DATABASE"};
  else if (conn.connection_type == "sql server")
    allowed = {"HOST", "PORT", "DATABASE", "USER", "PASSWORD", "SSL MODE"};
  else if (conn.connection_type == "kafka")
    allowed = {"BROKER", "BROKERS", "SECURITY PROTOCOL", "SASL MECHANISMS", "SASL USERNAME", "SASL PASSWORD", "SSL CERTIFICATE AUTHORITY", "PROGRESS TOPIC"};
  else
    allowed = {"URL", "USERNAME", "PASSWORD", "SSL CERTIFICATE AUTHORITY"};
  for (const auto& [k, v] : conn.connection_options)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw SqlError(sqlstate::kInvalidParameterValue, "unknown " + conn.connection_type + " connection option " + k);
}

std::unique_ptr<Execution> Executor::create_source(const sql::StreamingStatement& st) {
  auto entry = std::make_shared<SourceEntry>();
  entry->name = st.object;
  {
    DdlLock lock(cs_);
    if (catalog_->lookup("public", st.object)) {
      if (st.if_not_exists) return done("CREATE SOURCE");
      throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
    }
    for (const auto& [id, e] : cs_.sources)
      if (e->name == st.object) throw SqlError(sqlstate::kDuplicateObject, "source '" + st.object + "' already exists");
    entry->create_sql = st.text;
    entry->id = catalog_->allocate_id();
    build_source(cs_, st, *entry);
    if (!entry->single_table_named_after_source) {
      // The source's catalog object keeps the id the connector was built with (a PostgreSQL
      // source's replication slot is named after it, and must be found again after a restart).
      ObjectInfo obj;
      obj.id = entry->id;
      obj.name = st.object;
      obj.kind = ObjectKind::kSource;
      catalog_->add(std::move(obj), /*keep_id=*/true);
    }
    entry->status.state = "starting";
    cs_.sources[entry->id] = entry;
  }
  entry->sink = make_source_sink(cs_, entry);
  Status s = entry->source->start(*entry->sink, std::nullopt);
  auto fail = [&](const std::string& msg) -> std::unique_ptr<Execution> {
    {
      std::lock_guard g(entry->mu);
      entry->dropped = true;
    }
    entry->source->stop();
    if (entry->on_drop) entry->on_drop();
    DdlLock lock(cs_);
    for (auto id : entry->table_ids)
      if (id) catalog_->remove(id);
    if (catalog_->find(entry->id)) catalog_->remove(entry->id);
    cs_.sources.erase(entry->id);
    if (cs_.persist) {
      (void)cs_.persist->delete_source(cs_.now_ts, entry->id);
      (void)cs_.persist->drop_collection(entry->id);
    }
    throw SqlError(sqlstate::kConnectionException, msg);
  };
  if (!s) return fail(s.message());
  // Wait until the connector has described its tables, so they exist when we return.
  for (int i = 0; i < 3000; ++i) {
    std::string error;
    {
      std::lock_guard g(entry->mu);
      if (entry->schemas_set) return done("CREATE SOURCE");
      if (entry->status.state == "error") error = entry->status.last_error;
    }
    if (!error.empty()) return fail(error);  // fail() takes entry->mu itself
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return fail("source did not describe its tables within 30 s");
}

std::unique_ptr<Execution> Executor::create_sink(const sql::StreamingStatement& st) {
  std::shared_ptr<SinkEntry> entry;
  {
    DdlLock lock(cs_);
    if (catalog_->lookup("public", st.object)) {
      if (st.if_not_exists) return done("CREATE SINK");
      throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
    }
    entry = build_sink(cs_, st);
  }
  // The broker, the topic and the registry are checked before the sink exists.
  if (Status s = check_sink(*entry); !s) throw SqlError(sqlstate::kConnectionException, s.message());
  {
    DdlLock lock(cs_);
    if (catalog_->lookup("public", st.object)) throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
    // Connections or the relation may have changed while we were away: build again.
    auto fresh = build_sink(cs_, st);
    fresh->first_connection = std::move(entry->first_connection);
    entry = std::move(fresh);
    ObjectInfo obj;
    obj.name = st.object;
    obj.kind = ObjectKind::kSink;
    obj.definition_sql = st.text;
    const ObjectInfo& added = catalog_->add(std::move(obj));
    entry->id = added.id;
    catalog_->add_dependency(entry->id, entry->from_id);
    for (const auto& name : {st.connection, st.format_connection})
      if (const ObjectInfo* c = name.empty() ? nullptr : catalog_->lookup("public", name)) catalog_->add_dependency(entry->id, c->id);
    if (cs_.persist) {
      if (Status ps = cs_.persist->create_source_collection(entry->id, "sink:" + entry->name); !ps) {
        catalog_->remove(entry->id);
        throw storage_write_error("could not create the sink's collection", ps);
      }
    } else {
      catalog_->remove(entry->id);
      throw SqlError(sqlstate::kFeatureNotSupported, "sinks need a data directory (freshet serve --data-dir)");
    }
    cs_.sinks[entry->id] = entry;
  }
  start_sink(cs_, entry);
  return done("CREATE SINK");
}

SinkInput Executor::sink_input(const SinkEntry& e) {
  Coordinator::State& cs = cs_;
  const ObjectInfo* obj = cs.catalog.find(e.from_id);
  if (!obj) throw SqlError(sqlstate::kUndefinedTable, "the sinked relation " + e.from_name + " was dropped");
  SinkInput in;
  in.time = cs.now_ts;
  in.queue = std::make_shared<SubscriptionQueue>();
  uint64_t source_id = obj->id;
  if (obj->kind == ObjectKind::kTable) {
    cs.published_rows(obj->id, *cs.catalog.table_data(obj->id), [&](const Row& r, int64_t n) { in.snapshot.push_back({r, n}); });
  } else if (Maintained* m = cs.read_maintained(obj->id)) {
    m->for_each([&](RowRef r, int64_t n) { in.snapshot.push_back({Row(std::string(r.bytes())), n}); });
  } else if (Maintained* own = cs.read_maintained(e.id)) {
    // The sink's own dataflow of a view, rendered by an earlier run.
    source_id = e.id;
    own->for_each([&](RowRef r, int64_t n) { in.snapshot.push_back({Row(std::string(r.bytes())), n}); });
  } else {
    if (obj->kind != ObjectKind::kView) throw SqlError(sqlstate::kWrongObjectType, "cannot sink \"" + obj->name + "\"");
    ctx_.logical_time_ms = cs.now_ts;
    cs.add_maintained(std::make_shared<Maintained>(e.id, "sink:" + e.name, plan_for_object(*obj), cs.now_ts, snapshot_fn(), ctx_, in.snapshot));
    source_id = e.id;
  }
  in.queue->advance(cs.now_ts);
  cs.add_subscriber(source_id, in.queue);
  return in;
}

SinkInput attach_sink_input(Coordinator::State& state, const SinkEntry& entry) {
  Session::State dummy;
  std::vector<Type> no_params;
  Executor ex(state, dummy, {}, no_params);
  return ex.sink_input(entry);
}

}  // namespace freshet::server
