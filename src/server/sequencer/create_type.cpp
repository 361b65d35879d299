// CREATE TYPE: PostgreSQL's composite types (CREATE TYPE t AS (a int, b text)) and
// Materialize's named list types (CREATE TYPE t AS LIST (ELEMENT TYPE = int4), which
// sql/mz_syntax.hpp rewrites to a composite type of one marker field). The type is a kType
// catalog object whose columns are the fields (sql::type_of_type_object); it depends on the
// named types it is made of, so DROP TYPE of those is refused while it exists.
#include "server/sequencer/executor.hpp"
#include "sql/mz_syntax.hpp"

namespace freshet::server {

namespace {
// `int4 list list`: a list type by its elements' internal names, as Materialize's messages write it.
std::string type_internal_name_of_list(Type t) {
  if (t.id == TypeId::kList && named_type_oid(t) == 0) return type_internal_name_of_list(list_element_type(t)) + " list";
  if (named_type_oid(t) != 0) return type_name(t);
  return std::string(type_internal_name(t.id));
}
}  // namespace

std::unique_ptr<Execution> Executor::run_create_type(const PgQuery__CompositeTypeStmt* s) {
  DdlLock lock(cs_);
  const PgQuery__RangeVar* rv = s->typevar;
  std::string name = rv->relname ? rv->relname : "";
  std::string schema = target_schema(rv);
  const bool list = s->n_coldeflist == 1 && s->coldeflist[0]->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF &&
                    s->coldeflist[0]->column_def->colname != nullptr &&
                    std::string_view(s->coldeflist[0]->column_def->colname) == sql::kListElementField;
  if (const ObjectInfo* o = catalog_->lookup(schema, name); o != nullptr && o->schema == schema)
    throw SqlError(sqlstate::kDuplicateObject, "type \"" + name + "\" already exists");
  ObjectInfo obj;
  obj.name = name;
  obj.schema = schema;
  obj.kind = ObjectKind::kType;
  sql::Binder binder(*catalog_, param_types_);
  for (size_t i = 0; i < s->n_coldeflist; ++i) {
    const PgQuery__Node* n = s->coldeflist[i];
    if (n->node_case != PG_QUERY__NODE__NODE_COLUMN_DEF || n->column_def->type_name == nullptr)
      throw SqlError(sqlstate::kSyntaxError, "invalid field definition in CREATE TYPE");
    const auto* cd = n->column_def;
    std::string field = cd->colname ? cd->colname : "";
    for (const auto& c : obj.columns)
      if (c.name == field) throw SqlError(sqlstate::kDuplicateColumn, "column \"" + field + "\" specified more than once");
    Type t = binder.bind_type(cd->type_name);
    if (t.id == TypeId::kUnknown || (t.id == TypeId::kRecord && !is_record_value_type(t)))
      throw SqlError(sqlstate::kInvalidTableDefinition, "column \"" + field + "\" has pseudo-type " + type_name(t));
    if (list && t.id == TypeId::kList && named_type_oid(t) == 0)
      throw SqlError(sqlstate::kFeatureNotSupported,
                     "CREATE TYPE ... AS LIST option ELEMENT TYPE can only use named data types, but found unnamed data type pg_catalog." +
                         type_internal_name_of_list(t) + ". Use CREATE TYPE to create a named type first");
    if (list && t.id == TypeId::kBpchar) throw SqlError(sqlstate::kFeatureNotSupported, "char list not yet supported");
    obj.columns.push_back({field, t, true, std::nullopt});
  }
  catalog_->add(std::move(obj));  // depends on the named types of its fields (Catalog::add)
  return done("CREATE TYPE");
}

}  // namespace freshet::server
