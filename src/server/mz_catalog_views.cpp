// Materialize's catalog relations over Freshet's catalog (issue 10): mz_databases, mz_tables, mz_views, mz_materialized_views, mz_indexes, mz_columns, mz_sources,
// mz_connections, with Materialize's leading columns (ids are text: `u<id>` for user objects,
// `u1` the database freshet, `u3` its schema public, `s<oid>` the system schemas). Owner and
// privilege columns, clusters beyond `u1` and Materialize's per-database schemas are not
// modelled. Rows are computed from the catalog when read, like pg_catalog's
// (system_views.cpp); the columns Materialize has and Freshet cannot fill are left out rather
// than filled with made-up values. No mz_schemas: Materialize's tests select its ids
// (`u9`, `u10`, numbered by Materialize's own counters), which Freshet cannot reproduce, and a
// query answered with other rows is worse than one refused; pg_namespace lists the schemas.
#include <deque>
#include <string>
#include <vector>

#include "server/catalog.hpp"

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
  Builder& null() {
    ds.push_back(Datum::null());
    return *this;
  }
  Row done() { return Row::pack(ds); }
};

std::string object_id(const ObjectInfo& o) { return "u" + std::to_string(o.id); }

std::string schema_id(const Catalog& c, const std::string& schema) {
  if (schema == "public") return "u3";
  if (const ObjectInfo* s = c.find_schema(schema)) return object_id(*s);
  return "s" + std::to_string(Catalog::namespace_oid(schema));
}

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
        out.push_back(Builder().s("u1").i(Catalog::kDatabaseOid).s(Catalog::kDefaultDatabase).done());
        for (const auto& [id, o] : c.objects())
          if (o->kind == ObjectKind::kDatabase) out.push_back(Builder().s(object_id(*o)).i(o->oid).s(o->name).done());
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
