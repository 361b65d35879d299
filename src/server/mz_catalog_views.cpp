// Materialize's catalog relations over Freshet's catalog (issue 10): mz_databases, mz_schemas, mz_tables, mz_views,
// mz_materialized_views, mz_indexes, mz_columns, mz_sources, mz_connections, with Materialize's
// leading columns (ids are text). Relations' ids are `u<id>` of Freshet's object ids. Schemas
// and databases are numbered as Materialize numbers them, from counters of their own
// (ObjectInfo::mz_id): the database freshet is `u1` (Materialize's `materialize`), its schema
// public `u3`, the system schemas `s1` mz_catalog, `s2` pg_catalog, `s4` mz_internal, `s5`
// information_schema, and CREATE SCHEMA takes `u9`, `u10`, ... (a CREATE DATABASE takes one
// too, for the public schema Materialize gives it); a number stays with its schema through
// ALTER SCHEMA ... RENAME and SWAP and across restarts. Clusters beyond `u1` and the per-database
// schemas of other databases are not modelled. Rows are computed from the catalog when read,
// like pg_catalog's (system_views.cpp); the columns Materialize has and Freshet cannot fill are
// left out rather than filled with made-up values.
#include "common/sql_dialect.hpp"
#include <deque>
#include <string>
#include <vector>

#include "common/arena.hpp"
#include "common/format.hpp"
#include "server/catalog.hpp"
#include "server/roles.hpp"

namespace freshet::server {

namespace {

using sql::ObjectInfo;
using sql::ObjectKind;

struct Builder {
  std::vector<Datum> ds;
  std::deque<std::string> strings;  // stable addresses for the Datums' views
  Builder& s(std::string_view v) {
    ds.push_back(Datum::from_string(strings.emplace_back(v)));
    return *this;
  }
  Builder& i(int64_t v) {
    ds.push_back(Datum::from_int(v));
    return *this;
  }
  Builder& b(bool v) {
    ds.push_back(Datum::from_bool(v));
    return *this;
  }
  // An array in PostgreSQL's text form ("{a,b}") of text.
  Builder& text_array(const std::string& text) {
    ds.push_back(parse_datum(strings.emplace_back(text), Type(TypeId::kTextArray), arena));
    return *this;
  }
  Arena arena;
  Builder& null() {
    ds.push_back(Datum::null());
    return *this;
  }
  Row done() { return Row::pack(ds); }
};

std::string object_id(const ObjectInfo& o) { return "u" + std::to_string(o.id); }

// Materialize's ids of the built-in schemas (src/catalog/src/durable/initialize.rs); "" for a
// schema Materialize does not have.
std::string builtin_schema_id(std::string_view schema) {
  if (schema == "mz_catalog") return "s1";
  if (schema == "pg_catalog") return "s2";
  if (schema == "public") return "u3";
  if (schema == "mz_internal") return "s4";
  if (schema == "information_schema") return "s5";
  return "";
}

std::string schema_id(const Catalog& c, const std::string& schema) {
  if (const ObjectInfo* s = c.find_schema(schema)) return "u" + std::to_string(s->mz_id);
  return builtin_schema_id(schema);
}

// A role as Materialize names it in owner_id: its first user role (`materialize`, Freshet's
// bootstrap role) is u1; Freshet's other roles are `u<oid>` (there is no mz_roles to join).
std::string role_id(uint32_t oid) { return oid == kBootstrapRoleOid ? "u1" : "u" + std::to_string(oid); }

sql::ColumnInfo col(const char* name, TypeId t, bool nullable = false) { return {name, Type(t), nullable, std::nullopt}; }

void relations(const Catalog& c, ObjectKind kind, std::vector<Row>& out, bool with_definition) {
  for (const auto& [id, o] : c.objects()) {
    if (o->kind != kind) continue;
    Builder r;
    r.s(object_id(*o)).i(o->oid).s(schema_id(c, o->schema)).s(o->name);
    if (kind == ObjectKind::kMaterializedView) r.s("u1");  // cluster_id
    if (with_definition) r.s(o->definition_sql);
    out.push_back(r.done());
  }
}

}  // namespace

std::vector<SystemView> make_mz_catalog_views(uint64_t first_id) {
  std::vector<SystemView> v;
  uint32_t oid = 16100;  // system oids of their own (introspection.cpp uses 16000...)
  auto add = [&](const char* name, std::vector<sql::ColumnInfo> columns, void (*rows)(const Catalog&, std::vector<Row>&)) {
    SystemView view;
    view.info.id = first_id + v.size();
    view.info.oid = oid++;
    view.info.schema = "pg_catalog";  // found unqualified, as Materialize's mz_catalog is
    view.info.name = name;
    view.info.kind = ObjectKind::kSystemView;
    view.info.columns = std::move(columns);
    view.rows = rows;
    v.push_back(std::move(view));
  };
  add("mz_databases", {col("id", TypeId::kText), col("oid", TypeId::kOid), col("name", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) {
        // The default database: Materialize's is `materialize` (the Materialize suites connect to it).
        out.push_back(Builder().s("u1").i(Catalog::kDatabaseOid).s(materialize_dialect() ? "materialize" : Catalog::kDefaultDatabase).done());
        for (const auto& [id, o] : c.objects())
          if (o->kind == ObjectKind::kDatabase) out.push_back(Builder().s("u" + std::to_string(o->mz_id)).i(o->oid).s(o->name).done());
      });
  // privileges: PostgreSQL's aclitem text (role names), as pg_namespace.nspacl, not
  // Materialize's mz_aclitem (role ids).
  add("mz_schemas",
      {col("id", TypeId::kText), col("oid", TypeId::kOid), col("database_id", TypeId::kText, true), col("name", TypeId::kText),
       col("owner_id", TypeId::kText), col("privileges", TypeId::kTextArray)},
      [](const Catalog& c, std::vector<Row>& out) {
        const RoleState& rs = c.roles();
        for (const char* s : {"mz_catalog", "pg_catalog", "mz_internal", "information_schema"})
          out.push_back(Builder().s(builtin_schema_id(s)).i(Catalog::namespace_oid(s)).null().s(s).s("s1").text_array("{}").done());
        out.push_back(Builder()
                          .s("u3")
                          .i(Catalog::namespace_oid("public"))
                          .s("u1")
                          .s("public")
                          .s(role_id(kBootstrapRoleOid))
                          .text_array(acl_array_text(rs, schema_acl(rs, "public")))
                          .done());
        for (const auto& [id, o] : c.objects())
          if (o->kind == ObjectKind::kSchema)
            out.push_back(Builder()
                              .s("u" + std::to_string(o->mz_id))
                              .i(Catalog::namespace_oid(o->name))
                              .s("u1")
                              .s(o->name)
                              .s(role_id(owner_of(*o)))
                              .text_array(acl_array_text(rs, schema_acl(rs, o->name)))
                              .done());
      });
  add("mz_tables", {col("id", TypeId::kText), col("oid", TypeId::kOid), col("schema_id", TypeId::kText), col("name", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) { relations(c, ObjectKind::kTable, out, false); });
  add("mz_views",
      {col("id", TypeId::kText), col("oid", TypeId::kOid), col("schema_id", TypeId::kText), col("name", TypeId::kText),
       col("definition", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) { relations(c, ObjectKind::kView, out, true); });
  add("mz_materialized_views",
      {col("id", TypeId::kText), col("oid", TypeId::kOid), col("schema_id", TypeId::kText), col("name", TypeId::kText),
       col("cluster_id", TypeId::kText), col("definition", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) { relations(c, ObjectKind::kMaterializedView, out, true); });
  add("mz_sources",
      {col("id", TypeId::kText), col("oid", TypeId::kOid), col("schema_id", TypeId::kText), col("name", TypeId::kText),
       col("type", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) {
        for (const auto& [id, o] : c.objects())
          if (o->kind == ObjectKind::kSource)
            out.push_back(Builder().s(object_id(*o)).i(o->oid).s(schema_id(c, o->schema)).s(o->name).s(o->connection_type).done());
      });
  add("mz_connections",
      {col("id", TypeId::kText), col("oid", TypeId::kOid), col("schema_id", TypeId::kText), col("name", TypeId::kText),
       col("type", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) {
        for (const auto& [id, o] : c.objects())
          if (o->kind == ObjectKind::kConnection)
            out.push_back(Builder().s(object_id(*o)).i(o->oid).s(schema_id(c, o->schema)).s(o->name).s(o->connection_type).done());
      });
  add("mz_indexes",
      {col("id", TypeId::kText), col("oid", TypeId::kOid), col("name", TypeId::kText), col("on_id", TypeId::kText),
       col("cluster_id", TypeId::kText)},
      [](const Catalog& c, std::vector<Row>& out) {
        for (const auto& [id, o] : c.objects())
          if (o->kind == ObjectKind::kIndex)
            out.push_back(Builder().s(object_id(*o)).i(o->oid).s(o->name).s("u" + std::to_string(o->index_on)).s("u1").done());
      });
  add("mz_columns",
      {col("id", TypeId::kText), col("name", TypeId::kText), col("position", TypeId::kInt8), col("nullable", TypeId::kBool),
       col("type", TypeId::kText), col("default", TypeId::kText, true), col("type_oid", TypeId::kOid)},
      [](const Catalog& c, std::vector<Row>& out) {
        for (const auto& [id, o] : c.objects()) {
          if (o->kind != ObjectKind::kTable && o->kind != ObjectKind::kView && o->kind != ObjectKind::kMaterializedView &&
              o->kind != ObjectKind::kSource)
            continue;
          for (size_t k = 0; k < o->columns.size(); ++k) {
            const auto& cl = o->columns[k];
            Builder r;
            r.s(object_id(*o)).s(cl.name).i(static_cast<int64_t>(k + 1)).b(cl.nullable).s(type_name(cl.type));
            if (cl.default_sql) r.s(*cl.default_sql);
            else r.null();
            r.i(type_oid(cl.type.id));
            out.push_back(r.done());
          }
        }
      });
  return v;
}

}  // namespace freshet::server
