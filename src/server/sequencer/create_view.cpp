// CREATE VIEW, CREATE MATERIALIZED VIEW.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

std::unique_ptr<Execution> Executor::create_materialized_view(DdlLock& lock, const PgQuery__CreateTableAsStmt* s) {
  const auto* into = s->into;
  std::string name = into->rel->relname;
  std::string schema = target_schema(into->rel);
  if (catalog_->lookup(schema, name)) {
    if (s->if_not_exists) return done("CREATE MATERIALIZED VIEW");
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  }
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  if (!param_types_.empty()) throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $1");
  sql::check_column_aliases(q, into->n_col_names, false);
  ObjectInfo obj;
  obj.name = name;
  obj.schema = schema;
  obj.kind = ObjectKind::kMaterializedView;
  obj.retain_history_ms = retain_history_option(into->options, into->n_options).value_or(0);
  obj.definition_sql = sql::deparse_statement(s->query);
  obj.search_path = current_search_path_setting();
  if (materialize_dialect()) obj.source_sql = st_.statement_text;  // SHOW CREATE's text (subscribe.cpp)
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) {
    std::string cname = i < into->n_col_names ? str_of(into->col_names[i]) : q.column_names[i];
    obj.columns.push_back({cname, types[i], true, std::nullopt});
  }
  if (into->n_col_names > 0) {
    std::string cols;
    for (size_t i = 0; i < obj.columns.size(); ++i) cols += (i ? ", " : "") + std::string("\"") + obj.columns[i].name + "\"";
    obj.definition_sql = "SELECT * FROM (" + obj.definition_sql + ") AS v(" + cols + ")";
  }
  std::vector<uint64_t> deps;
  dataflow::RelExpr plan = sql::optimize(sql::lower(*binder.relation_of(q)));
  std::function<void(const dataflow::RelExpr&)> collect = [&](const dataflow::RelExpr& r) {
    if (r.kind == dataflow::RelKind::kGet) deps.push_back(r.collection_id);
    for (const auto& in : r.inputs) collect(in);
  };
  collect(plan);
  check_maintainable(plan);
  for (auto d : binder.views_read()) deps.push_back(d);
  ObjectInfo& mv = catalog_->add(std::move(obj));
  for (auto d : deps) catalog_->add_dependency(mv.id, d);
  if (st_.block) return done("CREATE MATERIALIZED VIEW");  // maintained from COMMIT on
  const uint64_t id = mv.id;
  try {
    if (cs_.persist) {
      Status ps = cs_.persist->create_mv_collection(id, "mv:" + mv.name);
      if (!ps) throw storage_write_error("could not store materialized view " + mv.name, ps);
    }
    // Hydrated without the locks; meanwhile other statements go on, and reads of it compute
    // its query.
    hydrate_in_background(lock, mv, {});
  } catch (...) {
    if (cs_.find_maintained(id)) cs_.drop_maintained(id);
    if (catalog_->find(id)) {
      if (cs_.persist) (void)cs_.persist->drop_collection(id);
      catalog_->remove(id);
    }
    throw;
  }
  ObjectInfo* now = catalog_->find(id);
  if (!now) {
    // Dropped by another session while it was hydrated.
    if (cs_.find_maintained(id)) cs_.drop_maintained(id);
    throw SqlError(sqlstate::kUndefinedTable, "materialized view \"" + name + "\" was dropped while it was created");
  }
  now->maintained = true;
  catalog_->updated(id);
  return done("CREATE MATERIALIZED VIEW");
}

std::unique_ptr<Execution> Executor::run_create_view(const PgQuery__ViewStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->view->relname;
  std::string schema = target_schema(s->view);
  const ObjectInfo* existing = catalog_->lookup(schema, name);
  if (existing && !s->replace) throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  if (existing && existing->kind != ObjectKind::kView) throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a view");
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  if (!param_types_.empty()) throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $1");
  sql::check_column_aliases(q, s->n_aliases, true);
  ObjectInfo obj;
  obj.name = name;
  obj.schema = schema;
  obj.kind = ObjectKind::kView;
  obj.definition_sql = sql::deparse_statement(s->query);
  obj.search_path = current_search_path_setting();
  if (materialize_dialect()) obj.source_sql = st_.statement_text;  // SHOW CREATE's text (subscribe.cpp)
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) {
    std::string cname = i < s->n_aliases ? str_of(s->aliases[i]) : q.column_names[i];
    obj.columns.push_back({cname, types[i], true, std::nullopt});
  }
  if (s->n_aliases > 0) {
    // Column aliases: wrap the definition so the stored SQL yields the aliased names.
    std::string cols;
    for (size_t i = 0; i < obj.columns.size(); ++i) cols += (i ? ", " : "") + std::string("\"") + obj.columns[i].name + "\"";
    obj.definition_sql = "SELECT * FROM (" + obj.definition_sql + ") AS v(" + cols + ")";
  }
  // Dependencies: every object the view's definition names.
  std::vector<uint64_t> deps;
  std::function<void(const HRel&)> collect = [&](const HRel& r) {
    if (r.kind == HRelKind::kGet) deps.push_back(r.collection_id);
    for (const auto& in : r.inputs) collect(*in);
    auto scan = [&](const HExpr& e, auto& self) -> void {
      if (e.subquery) collect(*e.subquery);
      for (const auto& a : e.args) self(a, self);
    };
    for (const auto& e : r.exprs) scan(e, scan);
  };
  collect(*q.rel);
  for (auto d : binder.views_read())
    if (!existing || d != existing->id) deps.push_back(d);
  if (existing) {
    // CREATE OR REPLACE VIEW: PostgreSQL's rules (the old columns stay, by name and type, new
    // ones may follow). What depends on the view (views, indexes and their dataflows, sinks)
    // holds the old object: refused rather than left computing the old definition.
    if (obj.columns.size() < existing->columns.size())
      throw SqlError(sqlstate::kInvalidTableDefinition, "cannot drop columns from view");
    for (size_t i = 0; i < existing->columns.size(); ++i) {
      const auto& was = existing->columns[i];
      const auto& now = obj.columns[i];
      if (was.name != now.name)
        throw SqlError(sqlstate::kInvalidTableDefinition, "cannot change name of view column \"" + was.name + "\" to \"" + now.name + "\"")
            .with_hint("Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.");
      if (!(was.type == now.type))
        throw SqlError(sqlstate::kInvalidTableDefinition, "cannot change data type of view column \"" + was.name + "\" from " +
                                                              type_name(was.type) + " to " + type_name(now.type));
    }
    for (const auto* d : catalog_->dependents(existing->id))
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot replace view \"" + name + "\": \"" + d->name + "\" depends on it")
          .with_hint("Drop the objects that depend on it first.");
    catalog_->remove(existing->id);
  }
  const ObjectInfo& v = catalog_->add(std::move(obj));
  for (auto d : deps) catalog_->add_dependency(v.id, d);
  return done("CREATE VIEW");
}

// CREATE [MATERIALIZED] VIEW v AS WITH MUTUALLY RECURSIVE ...: the definition is stored as its
// text (PostgreSQL's deparser cannot render it).
std::unique_ptr<Execution> Executor::create_view_from_text(const sql::StreamingStatement& st) {
  DdlLock lock(cs_);
  bool mv = st.what == "materialized view";
  if (catalog_->lookup("public", st.object)) throw SqlError(sqlstate::kDuplicateTable, "relation \"" + st.object + "\" already exists");
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_mutually_recursive(st.query);
  ObjectInfo obj;
  obj.name = st.object;
  obj.kind = mv ? ObjectKind::kMaterializedView : ObjectKind::kView;
  obj.definition_sql = st.query;
  obj.search_path = current_search_path_setting();
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) obj.columns.push_back({q.column_names[i], types[i], true, std::nullopt});
  std::vector<uint64_t> deps;
  std::function<void(const dataflow::RelExpr&)> collect = [&](const dataflow::RelExpr& r) {
    if (r.kind == dataflow::RelKind::kGet) deps.push_back(r.collection_id);
    for (const auto& in : r.inputs) collect(in);
  };
  collect(sql::optimize(sql::lower(*binder.relation_of(q))));
  for (auto d : binder.views_read()) deps.push_back(d);
  ObjectInfo& added = catalog_->add(std::move(obj));
  for (auto d : deps) catalog_->add_dependency(added.id, d);
  if (mv) {
    try {
      maintain_view(added);
    } catch (...) {
      catalog_->remove(added.id);
      throw;
    }
  }
  return done(mv ? "CREATE MATERIALIZED VIEW" : "CREATE VIEW");
}

}  // namespace freshet::server
