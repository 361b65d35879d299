// pg_catalog and information_schema: relations computed from the catalog when read, enough
// for psql's \d family and for drivers. Each view lists its columns (PostgreSQL's names and
// types, a subset of them) and a function that emits its rows.
#include <functional>

#include "server/catalog.hpp"

namespace freshet::server {
namespace {

using sql::ColumnInfo;
using sql::ObjectInfo;
using sql::ObjectKind;

struct RowBuilder {
  std::vector<Datum> ds;
  RowBuilder& i(int64_t v) { ds.push_back(Datum::from_int(v)); return *this; }
  RowBuilder& s(std::string_view v) { ds.push_back(Datum::from_string(v)); return *this; }
  RowBuilder& b(bool v) { ds.push_back(Datum::from_bool(v)); return *this; }
  RowBuilder& null() { ds.push_back(Datum::null()); return *this; }
  Row done() { return Row::pack(ds); }
};

char relkind(ObjectKind k) {
  switch (k) {
    case ObjectKind::kTable: return 'r';
    case ObjectKind::kView: return 'v';
    case ObjectKind::kMaterializedView: return 'm';
    case ObjectKind::kIndex: return 'i';
    case ObjectKind::kSystemView: return 'v';
    default: return 'r';
  }
}

void for_each_relation(const Catalog& c, const std::function<void(const ObjectInfo&)>& f) {
  for (const auto& v : c.system_views()) f(v.info);
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kTable || o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView ||
        o->kind == ObjectKind::kIndex || o->kind == ObjectKind::kSource)
      f(*o);
}

void pg_namespace_rows(const Catalog&, std::vector<Row>& out) {
  out.push_back(RowBuilder().i(Catalog::kPgCatalogNamespaceOid).s("pg_catalog").i(10).done());
  out.push_back(RowBuilder().i(Catalog::kPublicNamespaceOid).s("public").i(10).done());
  out.push_back(RowBuilder().i(Catalog::kInformationSchemaNamespaceOid).s("information_schema").i(10).done());
}

void pg_class_rows(const Catalog& c, std::vector<Row>& out) {
  for_each_relation(c, [&](const ObjectInfo& o) {
    std::string kind(1, relkind(o.kind));
    bool has_index = false;
    for (const auto& [id, x] : c.objects())
      if (x->kind == ObjectKind::kIndex && x->definition_sql == o.name) has_index = true;
    out.push_back(RowBuilder()
                      .i(o.oid)
                      .s(o.name)
                      .i(Catalog::namespace_oid(o.schema))
                      .s(kind)
                      .i(10)
                      .i(o.kind == ObjectKind::kIndex ? 403 : (o.kind == ObjectKind::kTable ? 2 : 0))
                      .i(static_cast<int64_t>(o.columns.size()))
                      .b(has_index || !o.primary_key.empty())
                      .b(false)
                      .s("p")
                      .i(0)
                      .b(false)
                      .b(false)
                      .b(false)
                      .b(false)
                      .s("d")
                      .i(0)
                      .i(0)
                      .i(-1)
                      .null()
                      .null()
                      .done());
  });
}

void pg_attribute_rows(const Catalog& c, std::vector<Row>& out) {
  for_each_relation(c, [&](const ObjectInfo& o) {
    for (size_t i = 0; i < o.columns.size(); ++i) {
      const auto& col = o.columns[i];
      out.push_back(RowBuilder()
                        .i(o.oid)
                        .s(col.name)
                        .i(type_oid(col.type.id))
                        .i(static_cast<int64_t>(i + 1))
                        .i(col.type.typmod)
                        .b(!col.nullable)
                        .b(false)
                        .b(col.default_sql.has_value())
                        .s("")
                        .s("")
                        .i(type_len(col.type.id))
                        .i(is_string_type(col.type.id) ? 100 : 0)
                        .done());
    }
  });
}

void pg_type_rows(const Catalog&, std::vector<Row>& out) {
  static const TypeId kAll[] = {TypeId::kBool, TypeId::kInt2, TypeId::kInt4, TypeId::kInt8, TypeId::kNumeric, TypeId::kFloat4,
                                TypeId::kFloat8, TypeId::kText, TypeId::kVarchar, TypeId::kBpchar, TypeId::kChar, TypeId::kName,
                                TypeId::kBytea, TypeId::kDate, TypeId::kTime, TypeId::kTimestamp, TypeId::kTimestampTz,
                                TypeId::kInterval, TypeId::kUuid, TypeId::kJsonb, TypeId::kOid, TypeId::kRegclass,
                                TypeId::kRegproc, TypeId::kRegtype, TypeId::kTextArray, TypeId::kInt2Array, TypeId::kOidArray,
                                TypeId::kRecord, TypeId::kUnknown};
  for (TypeId t : kAll) {
    std::string cat(1, static_cast<char>(type_category(t)));
    out.push_back(RowBuilder()
                      .i(type_oid(t))
                      .s(type_internal_name(t))
                      .i(Catalog::kPgCatalogNamespaceOid)
                      .i(10)
                      .i(type_len(t))
                      .s(t == TypeId::kRecord || t == TypeId::kUnknown ? "p" : "b")
                      .s(cat)
                      .b(type_is_preferred(t))
                      .i(0)
                      .i(0)
                      .i(-1)
                      .b(false)
                      .done());
  }
}

void pg_database_rows(const Catalog&, std::vector<Row>& out) {
  out.push_back(RowBuilder().i(Catalog::kDatabaseOid).s("freshet").i(10).i(6).s("C").s("C").b(false).b(true).i(-1).null().done());
}

void tables_rows(const Catalog& c, std::vector<Row>& out) {
  for_each_relation(c, [&](const ObjectInfo& o) {
    if (o.kind == ObjectKind::kIndex) return;
    const char* type = o.kind == ObjectKind::kTable ? "BASE TABLE" : "VIEW";
    out.push_back(RowBuilder().s("freshet").s(o.schema).s(o.name).s(type).s(o.kind == ObjectKind::kTable ? "YES" : "NO").done());
  });
}

void columns_rows(const Catalog& c, std::vector<Row>& out) {
  for_each_relation(c, [&](const ObjectInfo& o) {
    if (o.kind == ObjectKind::kIndex) return;
    for (size_t i = 0; i < o.columns.size(); ++i) {
      const auto& col = o.columns[i];
      RowBuilder r;
      r.s("freshet").s(o.schema).s(o.name).s(col.name).i(static_cast<int64_t>(i + 1));
      if (col.default_sql) r.s(*col.default_sql); else r.null();
      r.s(col.nullable ? "YES" : "NO").s(type_name(Type(col.type.id)));
      if ((col.type.id == TypeId::kVarchar || col.type.id == TypeId::kBpchar) && col.type.typmod >= 0) r.i(col.type.typmod); else r.null();
      r.s(type_internal_name(col.type.id));
      out.push_back(r.done());
    }
  });
}

ObjectInfo info(uint64_t id, uint32_t oid, std::string schema, std::string name,
                std::vector<std::pair<std::string, TypeId>> cols) {
  ObjectInfo o;
  o.id = id;
  o.oid = oid;
  o.schema = std::move(schema);
  o.name = std::move(name);
  o.kind = ObjectKind::kSystemView;
  for (auto& [n, t] : cols) o.columns.push_back(ColumnInfo{n, Type(t), true, std::nullopt});
  return o;
}

}  // namespace

std::vector<SystemView> make_system_views() {
  using T = TypeId;
  std::vector<SystemView> v;
  uint64_t id = 1;
  v.push_back({info(id++, 2615, "pg_catalog", "pg_namespace", {{"oid", T::kOid}, {"nspname", T::kName}, {"nspowner", T::kOid}}),
               pg_namespace_rows});
  v.push_back({info(id++, 1259, "pg_catalog", "pg_class",
                    {{"oid", T::kOid}, {"relname", T::kName}, {"relnamespace", T::kOid}, {"relkind", T::kChar},
                     {"relowner", T::kOid}, {"relam", T::kOid}, {"relnatts", T::kInt2}, {"relhasindex", T::kBool},
                     {"relispartition", T::kBool}, {"relpersistence", T::kChar}, {"relchecks", T::kInt2},
                     {"relhasrules", T::kBool}, {"relhastriggers", T::kBool}, {"relrowsecurity", T::kBool},
                     {"relforcerowsecurity", T::kBool}, {"relreplident", T::kChar}, {"reltablespace", T::kOid},
                     {"reloftype", T::kOid}, {"reltuples", T::kFloat4}, {"reloptions", T::kTextArray},
                     {"relpartbound", T::kText}}),
               pg_class_rows});
  v.push_back({info(id++, 1249, "pg_catalog", "pg_attribute",
                    {{"attrelid", T::kOid}, {"attname", T::kName}, {"atttypid", T::kOid}, {"attnum", T::kInt2},
                     {"atttypmod", T::kInt4}, {"attnotnull", T::kBool}, {"attisdropped", T::kBool},
                     {"atthasdef", T::kBool}, {"attidentity", T::kChar}, {"attgenerated", T::kChar},
                     {"attlen", T::kInt2}, {"attcollation", T::kOid}}),
               pg_attribute_rows});
  v.push_back({info(id++, 1247, "pg_catalog", "pg_type",
                    {{"oid", T::kOid}, {"typname", T::kName}, {"typnamespace", T::kOid}, {"typowner", T::kOid},
                     {"typlen", T::kInt2}, {"typtype", T::kChar}, {"typcategory", T::kChar}, {"typispreferred", T::kBool},
                     {"typrelid", T::kOid}, {"typelem", T::kOid}, {"typtypmod", T::kInt4}, {"typnotnull", T::kBool}}),
               pg_type_rows});
  v.push_back({info(id++, 1262, "pg_catalog", "pg_database",
                    {{"oid", T::kOid}, {"datname", T::kName}, {"datdba", T::kOid}, {"encoding", T::kInt4},
                     {"datcollate", T::kText}, {"datctype", T::kText}, {"datistemplate", T::kBool},
                     {"datallowconn", T::kBool}, {"datconnlimit", T::kInt4}, {"datacl", T::kTextArray}}),
               pg_database_rows});
  v.push_back({info(id++, 13001, "information_schema", "tables",
                    {{"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName},
                     {"table_type", T::kText}, {"is_insertable_into", T::kText}}),
               tables_rows});
  v.push_back({info(id++, 13002, "information_schema", "columns",
                    {{"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName},
                     {"column_name", T::kName}, {"ordinal_position", T::kInt4}, {"column_default", T::kText},
                     {"is_nullable", T::kText}, {"data_type", T::kText}, {"character_maximum_length", T::kInt4},
                     {"udt_name", T::kName}}),
               columns_rows});
  return v;
}

}  // namespace freshet::server
