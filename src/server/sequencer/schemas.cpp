// CREATE SCHEMA / DATABASE, DROP DATABASE, ALTER ... RENAME.
#include "server/sequencer/executor.hpp"
#include "sql/schema_refs.hpp"

namespace freshet::server {

std::string Executor::target_schema(const PgQuery__RangeVar* rv) {
  std::string name = rv->relname ? rv->relname : "";
  if (rv->catalogname && *rv->catalogname && !catalog_->is_current_database(rv->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported,
                   "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "." + (rv->schemaname ? rv->schemaname : "") + "." + name + "\"");
  if (rv->schemaname && *rv->schemaname) {
    std::string schema = rv->schemaname;
    if (schema == "pg_catalog" || schema == "information_schema" || schema == "mz_catalog" || schema == "mz_internal")
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to create \"" + schema + "." + name + "\"")
          .with_detail("System catalog modifications are currently disallowed.");
    if (!catalog_->schema_exists(schema)) throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + schema + "\" does not exist");
    return schema;
  }
  std::string schema = catalog_->creation_schema(st_.options.user);
  if (schema.empty()) throw SqlError(sqlstate::kInvalidSchemaName, "no schema has been selected to create in");
  return schema;
}

std::unique_ptr<Execution> Executor::run_create_schema(const PgQuery__CreateSchemaStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->schemaname ? s->schemaname : "";
  if (name.empty()) throw SqlError(sqlstate::kFeatureNotSupported, "CREATE SCHEMA without a name (AUTHORIZATION only) is not supported");
  if (s->n_schema_elts > 0) throw SqlError(sqlstate::kFeatureNotSupported, "CREATE SCHEMA with schema elements is not supported");
  check_new_schema_name(name);
  if (catalog_->schema_exists(name)) {
    if (s->if_not_exists) return done("CREATE SCHEMA");
    throw SqlError(sqlstate::kDuplicateSchema, "schema \"" + name + "\" already exists");
  }
  ObjectInfo obj;
  obj.schema.clear();
  obj.name = name;
  obj.kind = ObjectKind::kSchema;
  catalog_->add(std::move(obj));
  return done("CREATE SCHEMA");
}

std::unique_ptr<Execution> Executor::run_create_database(const PgQuery__CreatedbStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->dbname ? s->dbname : "";
  check_new_database(name, s->n_options);
  if (name == Catalog::kDefaultDatabase || catalog_->find_database(name))
    throw SqlError(sqlstate::kDuplicateDatabase, "database \"" + name + "\" already exists");
  ObjectInfo obj;
  obj.schema.clear();
  obj.name = name;
  obj.kind = ObjectKind::kDatabase;
  catalog_->add(std::move(obj));
  return done("CREATE DATABASE");
}

std::unique_ptr<Execution> Executor::run_drop_database(const PgQuery__DropdbStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->dbname ? s->dbname : "";
  if (name == st_.options.database)
    throw SqlError(sqlstate::kObjectInUse, "cannot drop the currently open database");
  if (name == Catalog::kDefaultDatabase)
    throw SqlError(sqlstate::kFeatureNotSupported, "cannot drop the built-in database \"" + name + "\"");
  const ObjectInfo* o = catalog_->find_database(name);
  if (!o) {
    if (s->missing_ok) return done("DROP DATABASE");
    throw SqlError(sqlstate::kInvalidCatalogName, "database \"" + name + "\" does not exist");
  }
  uint64_t id = o->id;
  if (!st_.block) cs_.catalog.record_removals({id});
  catalog_->remove(id);
  return done("DROP DATABASE");
}

// Views, materialized views and sinks keep SQL text that may name a schema (qualified names,
// their recorded search_path): renaming or swapping it is refused while any could, rather than
// leaving them naming what no longer exists, or another schema's objects.
void Executor::check_schema_unnamed(const std::string& name, const char* what) {
  for (const auto& [id, o] : catalog_->objects()) {
    bool text = o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView || o->kind == ObjectKind::kSink;
    if (!text) continue;
    bool names_it = o->schema == name;
    for (const auto& p : Catalog::parse_search_path(o->search_path)) names_it |= p == name;
    for (uint64_t d : catalog_->dependencies_of(o->id))
      if (const ObjectInfo* x = catalog_->find(d); x && x->schema == name) names_it = true;
    if (names_it)
      throw SqlError(sqlstate::kFeatureNotSupported, std::string("cannot ") + what + " schema \"" + name + "\": \"" + o->name + "\" may name it")
          .with_hint("Drop the views, materialized views and sinks that use the schema first; Freshet keeps their SQL text.");
  }
}

// ALTER SCHEMA s RENAME TO t (DdlLock held by run_rename).
std::unique_ptr<Execution> Executor::rename_schema(const PgQuery__RenameStmt* s) {
  std::string name = s->subname ? s->subname : "";
  std::string new_name = s->newname ? s->newname : "";
  if (Catalog::builtin_schema(name)) throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename the built-in schema \"" + name + "\"");
  const ObjectInfo* sch = catalog_->find_schema(name);
  if (!sch) {
    if (s->missing_ok) return done("ALTER SCHEMA");
    throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + name + "\" does not exist");
  }
  check_new_schema_name(new_name);
  if (catalog_->schema_exists(new_name)) throw SqlError(sqlstate::kDuplicateSchema, "schema \"" + new_name + "\" already exists");
  // Views and materialized views keep SQL text bound again at start-up (and when read): their
  // qualified references to the schema and their recorded search_path are renamed in the same
  // durable batch (Catalog::rename_schema), so that they go on reading the same objects and
  // SHOW CREATE shows the new name, as in Materialize (its rename.slt). Refused: a sink that
  // may name it, a text that cannot be rewritten, and a view whose search_path already lists
  // the new name (its unqualified names could then resolve into the renamed schema).
  for (const auto& [id, o] : catalog_->objects()) {
    bool view = o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView;
    if (!view && o->kind != ObjectKind::kSink) continue;
    bool in_path = false, new_in_path = false;
    for (const auto& p : Catalog::parse_search_path(o->search_path)) {
      in_path |= p == name;
      new_in_path |= p == new_name;
    }
    if (new_in_path)
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename schema \"" + name + "\" to \"" + new_name + "\": the search_path of \"" +
                                                         o->name + "\" lists \"" + new_name + "\"")
          .with_hint("Its unqualified names could then name objects of the renamed schema.");
    bool names_it = o->schema == name || in_path;
    for (uint64_t d : catalog_->dependencies_of(o->id))
      if (const ObjectInfo* x = catalog_->find(d); x && x->schema == name) names_it = true;
    if (names_it && (!view || !sql::rename_schema_refs(o->definition_sql, name, new_name)))
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename schema \"" + name + "\": \"" + o->name + "\" may name it")
          .with_hint("Drop the views, materialized views and sinks that use the schema first; Freshet keeps their SQL text.");
  }
  catalog_->rename_schema(sch->id, new_name);
  return done("ALTER SCHEMA");
}

// ALTER SCHEMA a SWAP WITH b (Materialize's): the two schemas exchange their names, and so
// their objects' qualified names, in one durable batch; their ids stay (mz_schemas shows the
// ids exchanged between the names).
std::unique_ptr<Execution> Executor::swap_schemas(const std::string& a, const std::string& b) {
  DdlLock lock(cs_);
  for (const std::string* n : {&a, &b})
    if (Catalog::builtin_schema(*n)) throw SqlError(sqlstate::kFeatureNotSupported, "cannot swap the built-in schema \"" + *n + "\"");
  const ObjectInfo* sa = catalog_->find_schema(a);
  if (!sa) throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + a + "\" does not exist");
  const ObjectInfo* sb = catalog_->find_schema(b);
  if (!sb) throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + b + "\" does not exist");
  if (sa->id == sb->id) throw SqlError(sqlstate::kInvalidParameterValue, "cannot swap schema \"" + a + "\" with itself");
  check_schema_unnamed(a, "swap");
  check_schema_unnamed(b, "swap");
  catalog_->swap_schemas(sa->id, sb->id);
  return done("ALTER SCHEMA");
}

std::unique_ptr<Execution> Executor::run_rename(const PgQuery__RenameStmt* s) {
  DdlLock lock(cs_);
  const char* tag;
  switch (s->rename_type) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE: tag = "ALTER TABLE"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW: tag = "ALTER VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW: tag = "ALTER MATERIALIZED VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX: tag = "ALTER INDEX"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN: throw SqlError(sqlstate::kFeatureNotSupported, "renaming a column is not supported");
    case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA: return rename_schema(s);
    default: throw SqlError(sqlstate::kFeatureNotSupported, "ALTER ... RENAME of this object type is not supported");
  }
  const PgQuery__RangeVar* rv = s->relation;
  if (rv == nullptr || s->newname == nullptr) throw SqlError(sqlstate::kFeatureNotSupported, "ALTER ... RENAME of this object type is not supported");
  if (rv->catalogname && *rv->catalogname && !catalog_->is_current_database(rv->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "\"");
  std::string name = rv->relname;
  const ObjectInfo* o = catalog_->lookup(rv->schemaname ? rv->schemaname : "", name);
  bool relation = o && (o->kind == ObjectKind::kTable || o->kind == ObjectKind::kView ||
                        o->kind == ObjectKind::kMaterializedView || o->kind == ObjectKind::kIndex);
  if (!relation) {
    if (o && o->kind == ObjectKind::kSystemView) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied: \"" + name + "\" is a system catalog");
    if (s->missing_ok) return done(tag);
    throw SqlError(sqlstate::kUndefinedTable, "relation \"" + name + "\" does not exist");
  }
  // As PostgreSQL: ALTER TABLE and ALTER INDEX rename any relation, ALTER VIEW and ALTER
  // MATERIALIZED VIEW only their own kind.
  if (s->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW && o->kind != ObjectKind::kView)
    throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a view").with_hint("Use ALTER TABLE instead.");
  if (s->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW && o->kind != ObjectKind::kMaterializedView)
    throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a materialized view").with_hint("Use ALTER TABLE instead.");
  if (o->source_id != 0) throw SqlError(sqlstate::kFeatureNotSupported, "renaming a table of a source is not supported");
  std::string new_name = s->newname;
  if (const ObjectInfo* taken = catalog_->lookup(o->schema, new_name); taken && taken->id != o->id)
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + new_name + "\" already exists");
  // Views and materialized views keep the SQL text that names it (bound again when read and at
  // start-up): their text is rewritten to the new name, in the same durable batch as the
  // rename. Anything else that names it by text (a sink) is refused, as is a text that cannot
  // be rewritten safely (sql/rename_refs.hpp).
  std::vector<std::pair<uint64_t, std::string>> rewritten;
  for (const auto* d : catalog_->dependents(o->id)) {
    if (d->kind == ObjectKind::kIndex) continue;
    std::optional<std::string> text;
    if (d->kind == ObjectKind::kView || d->kind == ObjectKind::kMaterializedView) {
      sql::RenameRefs r;
      r.old_name = name;
      r.new_name = new_name;
      const std::string schema = o->schema;
      const uint64_t oid = o->id;
      catalog_->in_search_path(d->search_path, [&] {
        if (const ObjectInfo* other = catalog_->lookup("", new_name); other && other->id != oid) r.qualify_with = schema;
      });
      r.names_it = [&, schema, oid](std::string_view sch, std::string_view rel) {
        if (!sch.empty()) return sch == schema;
        bool found = false;
        catalog_->in_search_path(d->search_path, [&] {
          const ObjectInfo* x = catalog_->lookup("", rel);
          found = x && x->id == oid;
        });
        return found;
      };
      text = sql::rename_relation_refs(d->definition_sql, r);
    }
    if (!text)
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename \"" + name + "\": \"" + d->name + "\" depends on it")
          .with_hint("Drop the objects that depend on it first; Freshet keeps their SQL text, which names it.");
    if (*text != d->definition_sql) rewritten.emplace_back(d->id, std::move(*text));
  }
  uint64_t id = o->id;
  bool unique_index = o->kind == ObjectKind::kIndex && o->index_unique;
  uint64_t index_on = o->index_on;
  catalog_->rename(id, new_name, rewritten);
  // A unique index's constraint is named after it (23505 messages); outside a block the live
  // constraint follows now, in a block it is rebuilt from the index object at start-up.
  if (unique_index && !st_.block)
    if (TableData* data = catalog_->table_data(index_on))
      for (auto& u : data->unique_indexes)
        if (u.index_id == id) u.name = new_name;
  return done(tag);
}

}  // namespace freshet::server
