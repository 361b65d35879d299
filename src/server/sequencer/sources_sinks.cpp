// CREATE SOURCE, CREATE SINK, connections.
#include "server/sequencer/executor.hpp"

#include <cstring>

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
    cs.add_maintained(std::make_shared<Maintained>(e.id, "sink:" + e.name, plan_for_object(*obj), cs.now_ts, snapshot_fn(), ctx_,
                                                   in.snapshot, nullptr, cs.shared_arrangements()));
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

namespace freshet::server {

namespace {
// The CREATE SOURCE text with its name replaced (the stored text builds the connector again at
// start-up and is what the source shows). Unchanged when the name is not found where the
// statement puts it.
std::string renamed_create_sql(const std::string& text, const std::string& old_name, const std::string& new_name) {
  auto parsed = sql::parse_streaming(text);
  if (!parsed || parsed->object != old_name) return text;
  std::string lower = text;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  size_t at = lower.find("source");
  if (at == std::string::npos) return text;
  at += 6;
  auto skip_blanks = [&] {
    while (at < text.size() && std::isspace(static_cast<unsigned char>(text[at]))) ++at;
  };
  skip_blanks();
  if (lower.compare(at, 2, "if") == 0) {  // IF NOT EXISTS
    for (const char* w : {"if", "not", "exists"}) {
      if (lower.compare(at, std::strlen(w), w) != 0) return text;
      at += std::strlen(w);
      skip_blanks();
    }
  }
  size_t end = at;
  if (end < text.size() && text[end] == '"') {
    for (++end; end < text.size(); ++end)
      if (text[end] == '"' && !(end + 1 < text.size() && text[end + 1] == '"')) break;
      else if (text[end] == '"') ++end;
    if (end >= text.size()) return text;
    ++end;
  } else {
    while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_' || text[end] == '$')) ++end;
  }
  std::string out = text.substr(0, at) + sql::quote_identifier(new_name) + text.substr(end);
  auto again = sql::parse_streaming(out);
  return again && again->object == new_name ? out : text;
}
}  // namespace

std::unique_ptr<Execution> Executor::rename_source(const sql::StreamingStatement& st) {
  DdlLock lock(cs_);
  std::shared_ptr<SourceEntry> e;
  for (const auto& [id, x] : cs_.sources)
    if (x->name == st.object) e = x;
  if (!e) {
    if (st.if_exists) return done("ALTER SOURCE");
    throw SqlError(sqlstate::kUndefinedObject, "unknown catalog item '" + st.object + "'");
  }
  if (st.value == st.object) return done("ALTER SOURCE");
  bool taken = catalog_->lookup("public", st.value) != nullptr;
  for (const auto& [id, x] : cs_.sources) taken = taken || x->name == st.value;
  if (taken) throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.value + "' already exists");
  // The catalog object that carries the source's name: the table named after it (a load
  // generator's), or the source object.
  uint64_t named = 0;
  if (e->single_table_named_after_source) {
    for (uint64_t tid : e->table_ids)
      if (const ObjectInfo* t = tid ? catalog_->find(tid) : nullptr; t && t->name == e->name) named = tid;
  } else if (catalog_->find(e->id)) {
    named = e->id;
  }
  if (named)
    for (const auto* d : catalog_->dependents(named))
      if (d->kind != ObjectKind::kIndex)
        throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename \"" + st.object + "\": \"" + d->name + "\" depends on it")
            .with_hint("Drop the objects that depend on it first; Freshet keeps their SQL text, which names it.");
  StoredSource stored;
  {
    std::lock_guard g(e->mu);
    stored = StoredSource{e->id, st.value, renamed_create_sql(e->create_sql, e->name, st.value), e->table_ids,
                          e->single_table_named_after_source, e->stopped_tables};
  }
  // The catalog object first (it reverts and throws by itself when it cannot be stored), then
  // the source's record; when that cannot be stored, the object gets its name back.
  if (named) catalog_->rename(named, st.value);
  if (cs_.persist) {
    if (Status ps = cs_.persist->put_source(cs_.now_ts, stored); !ps) {
      if (named) catalog_->rename(named, st.object);
      throw storage_write_error("could not record the renamed source", ps);
    }
  }
  std::lock_guard g(e->mu);
  e->name = stored.name;
  e->create_sql = stored.create_sql;
  return done("ALTER SOURCE");
}

}  // namespace freshet::server
