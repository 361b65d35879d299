// DROP of every kind of object.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

std::unique_ptr<Execution> Executor::run_drop(const PgQuery__DropStmt* s) {
  DdlLock lock(cs_);
  ObjectKind want;
  const char* what;
  const char* tag;
  switch (s->remove_type) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE: want = ObjectKind::kTable; what = "table"; tag = "DROP TABLE"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW: want = ObjectKind::kView; what = "view"; tag = "DROP VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX: want = ObjectKind::kIndex; what = "index"; tag = "DROP INDEX"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW: want = ObjectKind::kMaterializedView; what = "materialized view"; tag = "DROP MATERIALIZED VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA: want = ObjectKind::kSchema; what = "schema"; tag = "DROP SCHEMA"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_TYPE: want = ObjectKind::kType; what = "type"; tag = "DROP TYPE"; break;
    default: throw SqlError(sqlstate::kFeatureNotSupported, "DROP of this object type is not supported");
  }
  bool cascade = s->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE;
  for (size_t i = 0; i < s->n_objects; ++i) {
    std::string name, schema;
    const ObjectInfo* o = nullptr;
    if (want == ObjectKind::kSchema) {  // DROP SCHEMA names a schema (a String node)
      name = str_of(s->objects[i]);
      if (Catalog::builtin_schema(name))
        throw SqlError(sqlstate::kFeatureNotSupported, "cannot drop the built-in schema \"" + name + "\"");
      o = catalog_->find_schema(name);
      if (!o) {
        if (s->missing_ok) continue;
        throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + name + "\" does not exist");
      }
    } else if (want == ObjectKind::kType) {  // DROP TYPE names a TypeName
      const auto* tn = s->objects[i]->type_name;
      if (s->objects[i]->node_case != PG_QUERY__NODE__NODE_TYPE_NAME || tn->n_names == 0)
        throw SqlError(sqlstate::kSyntaxError, "invalid type name in DROP TYPE");
      name = str_of(tn->names[tn->n_names - 1]);
      schema = tn->n_names > 1 ? str_of(tn->names[tn->n_names - 2]) : "";
      o = catalog_->lookup(schema, name);
      if (o == nullptr || o->kind != ObjectKind::kType) {
        if (s->missing_ok) continue;
        if (sql_type_from_name(name) && schema.empty())
          throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop type " + name + " because it is required by the database system");
        throw SqlError(sqlstate::kUndefinedObject, "type \"" + (schema.empty() ? name : schema + "." + name) + "\" does not exist");
      }
    } else {
      const auto* l = s->objects[i]->list;
      name = str_of(l->items[l->n_items - 1]);
      schema = l->n_items > 1 ? str_of(l->items[l->n_items - 2]) : "";
      if (l->n_items > 2 && !catalog_->is_current_database(str_of(l->items[l->n_items - 3])))
        throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + str_of(l->items[l->n_items - 3]) + "." + schema + "." + name + "\"");
      o = catalog_->lookup(schema, name);
    }
    if (!o || o->kind == ObjectKind::kSystemView) {
      if (s->missing_ok) continue;
      throw SqlError(sqlstate::kUndefinedTable, std::string(what) + " \"" + name + "\" does not exist");
    }
    if (o->kind != want) throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a " + what);
    if (o->source_id != 0)
      throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" belongs to a source").with_hint("Use DROP SOURCE.");
    std::vector<uint64_t> order;
    std::function<void(const ObjectInfo&)> visit = [&](const ObjectInfo& x) {
      for (const auto* d : catalog_->dependents(x.id)) {
        if (!cascade && d->kind != ObjectKind::kIndex)
          throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop " + std::string(what) + " " + name + " because other objects depend on it")
              .with_detail(std::string(d->kind == ObjectKind::kView ? "view " : d->kind == ObjectKind::kSink ? "sink " : d->kind == ObjectKind::kType ? "type " : d->kind == ObjectKind::kTable ? "table " : "object ") + d->name +
                           " depends on " + what + " " + name)
              .with_hint("Use DROP ... CASCADE to drop the dependent objects too.");
        visit(*d);
      }
      if (std::find(order.begin(), order.end(), x.id) == order.end()) order.push_back(x.id);
    };
    visit(*o);
    // Durable first: the objects leave the stored catalog (one batch) before anything in memory
    // is torn down, so a write that fails (a full disk: 53100) leaves every one of them in place.
    // In a transaction block nothing is stored until COMMIT (transaction.hpp).
    if (!st_.block) cs_.catalog.record_removals(order);
    for (auto id : order) {
      st_.pending.erase(id);
      ObjectInfo* x = catalog_->find(id);
      if (st_.block) {  // in a transaction block: only from the block's catalog (COMMIT does the rest)
        if (x && x->kind == ObjectKind::kSink)
          throw SqlError(sqlstate::kActiveSqlTransaction, "DROP ... CASCADE of a sink cannot run inside a transaction block");
        catalog_->remove(id);
        continue;
      }
      drop_object(id, true);
    }
  }
  return done(tag);
}

std::vector<storage::Change> Executor::table_delete_records(uint64_t id) {
  std::vector<storage::Change> dels;
  const ObjectInfo* x = catalog_->find(id);
  if (!cs_.persist || !x || x->kind != ObjectKind::kTable) return dels;
  RowDiffs all;
  for (const auto& [r, n] : catalog_->table_data(id)->rows) all.push_back({r, -n});
  Persistence::table_records(*x, all, [](const Row&) { return std::optional<Row>(); }, [](const Row&) { return int64_t{0}; }, dels);
  return dels;
}

void Executor::drop_object(uint64_t id, bool write_table_deletes) {
  ObjectInfo* x = catalog_->find(id);
  if (x && x->kind == ObjectKind::kIndex && x->index_unique) {
    const ObjectInfo* on = catalog_->find(x->index_on);
    if (TableData* data = catalog_->table_data(x->index_on); on && data) drop_unique_index(*on, *data, id);
  }
  if (x && x->kind == ObjectKind::kIndex) {
    Maintained* m = nullptr;
    try {
      m = cs_.read_maintained(x->index_on);  // idle while its indexes change
    } catch (const SqlError&) {
      m = cs_.find_maintained(x->index_on);  // stopped with an error: not stepped any more
    }
    if (m) {
      m->drop_index(x->index_key);
      ObjectInfo* on = catalog_->find(x->index_on);
      bool read_by_others = false;
      {
        std::lock_guard lk(cs_.compute_mu);  // a driver may add a hydrated dataflow meanwhile
        for (const auto& other : cs_.maintained)
          for (auto in : other->inputs()) read_by_others |= in == x->index_on;
      }
      if (on && on->kind == ObjectKind::kView && m->num_indexes() == 0 && !read_by_others) {
        cs_.drop_maintained(x->index_on);
        on->maintained = false;
      }
    }
  }
  if (x && x->kind == ObjectKind::kSink) cs_.drop_sink(id);  // its thread ends on its own
  if (cs_.find_maintained(id) && !(x && x->kind == ObjectKind::kSink)) cs_.drop_maintained(id);
  if (write_table_deletes && cs_.persist && x && x->kind == ObjectKind::kTable) {
    // The table is gone from the stored catalog already: rows left by a failed delete are
    // never loaded again (load_tables skips unknown tables; ids are not reused).
    if (Status ps = cs_.persist->write_tables(cs_.next_write_ts(), table_delete_records(id)); !ps)
      std::fprintf(stderr, "freshet: dropped table %s: its rows stay on disk, unused: %s\n", x->name.c_str(), ps.message().c_str());
  }
  if (cs_.persist && x && x->kind == ObjectKind::kMaterializedView)
    if (Status ps = cs_.persist->drop_collection(id); !ps)
      std::fprintf(stderr, "freshet: dropped materialized view %s: its collection stays on disk, unused: %s\n", x->name.c_str(),
                   ps.message().c_str());
  catalog_->remove(id);
}

std::unique_ptr<Execution> Executor::drop_streaming_object(const sql::StreamingStatement& st) {
  if (st_.client) check_owner(cs_, *catalog_, role_name_, st.object);
  std::shared_ptr<SourceEntry> entry;
  if (st.what == "sink") {
    std::shared_ptr<SinkEntry> sink;
    {
      DdlLock lock(cs_);
      const ObjectInfo* o = catalog_->lookup("public", st.object);
      if (!o || o->kind != ObjectKind::kSink) {
        if (st.if_exists) return done("DROP SINK");
        throw SqlError(sqlstate::kUndefinedObject, "unknown sink '" + st.object + "'");
      }
      uint64_t id = o->id;
      if (auto it = cs_.sinks.find(id); it != cs_.sinks.end()) sink = it->second;
      cs_.drop_sink(id);
      catalog_->remove(id);
    }
    // Nothing more is produced once DROP SINK returns.
    if (sink) join_sink(*sink);
    return done("DROP SINK");
  }
  {
    DdlLock lock(cs_);
    if (st.what == "source") {
      for (const auto& [id, e] : cs_.sources)
        if (e->name == st.object) entry = e;
      if (!entry) {
        if (st.if_exists) return done("DROP SOURCE");
        throw SqlError(sqlstate::kUndefinedObject, "unknown catalog item '" + st.object + "'");
      }
      // Dependents of its tables (views over them) need CASCADE.
      for (auto tid : entry->table_ids) {
        if (!tid) continue;
        for (const auto* d : catalog_->dependents(tid))
          if (d->kind != ObjectKind::kIndex && !st.cascade)
            throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop source " + st.object + " because other objects depend on it")
                .with_detail(d->name + " depends on it")
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too.");
      }
      // Durable first: the source's record and its objects' leave the stored catalog (one batch)
      // before the connector is stopped or its replication slot dropped, so a write that fails
      // (a full disk: 53100) leaves the source running as it was.
      if (cs_.persist) {
        std::vector<uint64_t> ids;
        std::function<void(uint64_t)> collect = [&](uint64_t id) {
          for (const auto* d : cs_.catalog.dependents(id)) collect(d->id);
          if (cs_.catalog.find(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
        };
        for (auto tid : entry->table_ids)
          if (tid) collect(tid);
        if (cs_.catalog.find(entry->id)) collect(entry->id);
        if (Status ps = cs_.persist->delete_source(cs_.now_ts, entry->id, ids); !ps)
          throw storage_write_error("could not record the dropped source", ps);
        cs_.catalog.removals_recorded(ids);
      }
      {
        std::lock_guard g(entry->mu);
        entry->dropped = true;
      }
      cs_.sources.erase(entry->id);
    } else {
      const ObjectInfo* o = catalog_->lookup("public", st.object);
      ObjectKind want = st.what == "secret" ? ObjectKind::kSecret : ObjectKind::kConnection;
      if (!o || o->kind != want) {
        if (st.if_exists) return done("DROP " + std::string(st.what == "secret" ? "SECRET" : "CONNECTION"));
        throw SqlError(sqlstate::kUndefinedObject, "unknown " + st.what + " '" + st.object + "'");
      }
      auto deps = catalog_->dependents(o->id);
      if (!deps.empty() && !st.cascade)
        throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop " + st.what + " " + st.object + " because other objects depend on it")
            .with_detail(deps[0]->name + " depends on it");
      catalog_->remove(o->id);
      return done(st.what == "secret" ? "DROP SECRET" : "DROP CONNECTION");
    }
  }
  // Stop the connector without the lock: its thread may be waiting for it.
  entry->source->stop();
  if (entry->on_drop) entry->on_drop();
  DdlLock lock(cs_);
  if (cs_.persist) {
    // Recorded before the connector stopped (above); the data's removal is best effort.
    if (Status ps = cs_.persist->drop_collection(entry->id); !ps)
      std::fprintf(stderr, "freshet: dropped source %s: its collection stays on disk, unused: %s\n", entry->name.c_str(),
                   ps.message().c_str());
  }
  std::function<void(uint64_t)> drop_with_dependents = [&](uint64_t id) {
    for (const auto* d : catalog_->dependents(id)) drop_with_dependents(d->id);
    if (cs_.find_maintained(id)) cs_.drop_maintained(id);
    catalog_->remove(id);
  };
  for (auto tid : entry->table_ids)
    if (tid && catalog_->find(tid)) drop_with_dependents(tid);
  if (catalog_->find(entry->id)) catalog_->remove(entry->id);
  return done("DROP SOURCE");
}

}  // namespace freshet::server
