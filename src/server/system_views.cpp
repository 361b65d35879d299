// pg_catalog and information_schema: relations computed from the catalog when read, enough
// for psql's \d family (\d, \d+, \dt, \dv, \di, \dn, \df, \du, \l) and for drivers' catalog
// queries. Each relation lists its columns (PostgreSQL's names, order and types, sometimes a
// subset) and a function that emits its rows; the two must agree column for column.
//
// Objects PostgreSQL has and Freshet derives:
//  - every PRIMARY KEY and UNIQUE constraint of a table is shown as PostgreSQL shows it: a
//    pg_constraint row and a unique btree index (t_pkey, t_b_key) in pg_class / pg_index,
//    with synthetic oids (see synthetic oids below) that are stable while the table exists;
//  - each view has its "_RETURN" rule in pg_rewrite;
//  - column defaults are pg_attrdef rows whose adbin is the default's SQL text, which
//    pg_get_expr returns as it is.
// Relations of features Freshet does not have (triggers, policies, publications, inheritance,
// partitioning, extended statistics, foreign tables, sequences) exist and are empty, so that
// psql's queries bind and find nothing.
//
// Catalog functions (pg_get_indexdef, pg_get_constraintdef, pg_get_viewdef, pg_get_ruledef)
// read the catalog at evaluation time through sql/catalog_access.hpp, whose synthetic oids
// these relations use.
#include <algorithm>
#include <cctype>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <tuple>

#include "common/arena.hpp"
#include "common/format.hpp"
#include "common/functions.hpp"
#include "common/type_io_functions.hpp"
#include "sql/catalog_access.hpp"
#include "server/catalog.hpp"

namespace freshet::server {
namespace {

using sql::ColumnInfo;
using sql::ObjectInfo;
using sql::ObjectKind;

constexpr int64_t kRoleOid = 10;           // the bootstrap superuser, named freshet
constexpr int64_t kHeapAmOid = 2;
constexpr int64_t kBtreeAmOid = 403;
constexpr int64_t kDefaultTablespaceOid = 1663;
constexpr int64_t kDefaultCollationOid = 100;
constexpr int64_t kCCollationOid = 950;
constexpr int64_t kPgClassOid = 1259;      // classoid of relations, for pg_description & co.

// Synthetic oids for the objects Freshet derives: shared with the catalog functions
// (sql/catalog_access.hpp), which must name the same objects.
using sql::attrdef_oid;
using sql::key_constraint_oid;
using sql::key_index_oid;
using sql::rewrite_oid;

// Builds one row. Strings are copied into the builder, so a temporary may be passed.
struct RowBuilder {
  std::vector<Datum> ds;
  std::deque<std::string> strings;  // deque: stable addresses for the Datums' views
  RowBuilder& i(int64_t v) { ds.push_back(Datum::from_int(v)); return *this; }
  RowBuilder& f(double v) { ds.push_back(Datum::from_float(v)); return *this; }
  RowBuilder& s(std::string_view v) { ds.push_back(Datum::from_string(strings.emplace_back(v))); return *this; }
  RowBuilder& c(char v) { return s(std::string_view(&v, 1)); }
  RowBuilder& b(bool v) { ds.push_back(Datum::from_bool(v)); return *this; }
  RowBuilder& null() { ds.push_back(Datum::null()); return *this; }
  RowBuilder& nulls(int n) { for (int k = 0; k < n; ++k) ds.push_back(Datum::null()); return *this; }
  RowBuilder& opt(const std::optional<std::string>& v) { return v ? s(*v) : null(); }
  // An array in PostgreSQL's text form ("{a,b}") of type t.
  RowBuilder& arr(const std::string& text, TypeId t = TypeId::kTextArray) {
    ds.push_back(parse_datum(strings.emplace_back(text), Type(t), arena));
    return *this;
  }
  RowBuilder& arr_opt(const std::optional<std::string>& text) { return text ? arr(*text) : null(); }
  Arena arena;
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

// Namespaces: Catalog::namespace_oid (the fixed ones, and an oid derived from any other
// schema's name, so it is the same in every query and in mz_schemas).
uint32_t nsp_oid(const std::string& schema) { return Catalog::namespace_oid(schema); }

std::string quote_ident(std::string_view name) {
  bool plain = !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char ch : name)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_')) plain = false;
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

void for_each_relation(const Catalog& c, const std::function<void(const ObjectInfo&)>& f) {
  for (const auto& v : c.system_views()) f(v.info);
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kTable || o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView ||
        o->kind == ObjectKind::kIndex || o->kind == ObjectKind::kSource)
      f(*o);
}

// An index as pg_index sees it: a table's key constraint, or a CREATE INDEX.
struct IndexEntry {
  uint32_t oid = 0;
  std::string name;
  std::string schema;
  const ObjectInfo* on = nullptr;      // the indexed relation
  std::vector<int64_t> attnums;        // 1-based positions in `on`; empty when unknown
  bool primary = false;
  bool unique = false;
  uint32_t constraint_oid = 0;         // 0 for a plain index
  const ObjectInfo* object = nullptr;  // the kIndex object; null for a key constraint's index

  std::string key_list() const {
    std::string out;
    for (auto a : attnums) {
      if (!out.empty()) out += ", ";
      out += quote_ident(on->columns[static_cast<size_t>(a - 1)].name);
    }
    return out;
  }
  std::string definition() const {
    return std::string(unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") + quote_ident(name) + " ON " +
           quote_ident(on->schema) + "." + quote_ident(on->name) + " USING btree (" + key_list() + ")";
  }
  std::string constraint_definition() const {
    return std::string(primary ? "PRIMARY KEY (" : "UNIQUE (") + key_list() + ")";
  }
};

// The derived objects of the current catalog.
struct Model {
  std::vector<IndexEntry> indexes;
  std::set<const ObjectInfo*> indexed;  // relations with at least one index
};

Model build_model(const Catalog& c) {
  Model m;
  for (const auto& [id, o] : c.objects()) {
    if (o->kind != ObjectKind::kTable) continue;
    auto key_entry = [&](const std::vector<uint32_t>& cols, size_t k, bool primary) {
      IndexEntry e;
      e.oid = key_index_oid(o->oid, k);
      e.constraint_oid = key_constraint_oid(o->oid, k);
      e.schema = o->schema;
      e.on = o.get();
      e.primary = primary;
      e.unique = true;
      if (primary) {
        e.name = o->name + "_pkey";
      } else {
        e.name = o->name;
        for (auto col : cols) e.name += "_" + o->columns[col].name;
        e.name += "_key";
      }
      for (auto col : cols) e.attnums.push_back(static_cast<int64_t>(col) + 1);
      m.indexes.push_back(std::move(e));
    };
    if (!o->primary_key.empty()) key_entry(o->primary_key, 0, true);
    for (size_t j = 0; j < o->unique_keys.size(); ++j) key_entry(o->unique_keys[j], j + 1, false);
  }
  for (const auto& [id, o] : c.objects()) {
    if (o->kind != ObjectKind::kIndex) continue;
    // An index records the name of the relation it indexes (in its schema) and copies of
    // its key columns, which are matched to that relation's columns by name.
    const ObjectInfo* on = c.lookup(o->schema, o->definition_sql);
    if (!on) continue;
    IndexEntry e;
    e.oid = o->oid;
    e.name = o->name;
    e.schema = o->schema;
    e.on = on;
    e.object = o.get();
    e.unique = o->index_unique;
    for (const auto& col : o->columns)
      for (size_t k = 0; k < on->columns.size(); ++k)
        if (on->columns[k].name == col.name) {
          e.attnums.push_back(static_cast<int64_t>(k) + 1);
          break;
        }
    m.indexes.push_back(std::move(e));
  }
  for (const auto& e : m.indexes) m.indexed.insert(e.on);
  return m;
}

// A column default as PostgreSQL's pg_get_expr shows it (drivers and ORMs compare it:
// SQLAlchemy, pgJDBC COLUMN_DEF). Freshet keeps the default's SQL text; a plain literal is
// shown as PostgreSQL deparses the constant: an unquoted number keeps its own type (5 and 1.5
// bare, '-2'::integer, '5000000000'::bigint), a quoted one takes the column's ('none'::text,
// 'x'::character varying, '2024-01-01'::date; integer, numeric and boolean bare). Anything
// else is shown as written.
std::string deparse_default(const std::string& sql, Type t) {
  auto labelled = [](std::string_view v, std::string_view type) {
    std::string out = "'";
    for (char c : v) {
      if (c == '\'') out += '\'';
      out += c;
    }
    return out + "'::" + std::string(type);
  };
  auto digits_only = [](std::string_view v, bool decimal) {
    if (v.empty()) return false;
    for (char c : v)
      if (!(std::isdigit(static_cast<unsigned char>(c)) || (decimal && c == '.'))) return false;
    return true;
  };
  std::string lower;
  for (char c : sql) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true" || lower == "false") return lower;
  bool negative = !sql.empty() && sql[0] == '-';
  std::string_view mag = negative ? std::string_view(sql).substr(1) : std::string_view(sql);
  if (digits_only(mag, false)) {
    bool int4 = mag.size() < 10 || (mag.size() == 10 && mag <= (negative ? "2147483648" : "2147483647"));
    if (int4) return negative ? labelled(sql, "integer") : sql;
    if (mag.size() < 19 || (mag.size() == 19 && mag <= "9223372036854775807")) return labelled(sql, "bigint");
    return negative ? labelled(sql, "numeric") : sql;
  }
  if (digits_only(mag, true) && std::count(mag.begin(), mag.end(), '.') == 1)
    return negative ? labelled(sql, "numeric") : sql;
  if (sql.size() < 2 || sql.front() != '\'' || sql.back() != '\'') return sql;
  std::string v;
  for (size_t k = 1; k + 1 < sql.size(); ++k) {
    if (sql[k] == '\'') {
      if (k + 2 < sql.size() && sql[k + 1] == '\'') {
        v += '\'';
        ++k;
        continue;
      }
      return sql;  // not one literal
    }
    v += sql[k];
  }
  switch (t.id) {
    case TypeId::kInt4:
      if (digits_only(v, false)) return v;
      break;
    case TypeId::kNumeric:
      if (digits_only(v, true)) return v;
      break;
    case TypeId::kBool: {
      std::string b;
      for (char c : v) b += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (b == "true" || b == "t" || b == "yes" || b == "on" || b == "1") return "true";
      if (b == "false" || b == "f" || b == "no" || b == "off" || b == "0") return "false";
      break;
    }
    case TypeId::kUnknown:
      return sql;
    default:
      break;
  }
  return labelled(v, type_name(without_typmod(t)));  // a list column: integer list
}

// pg_attribute.atttypmod: PostgreSQL counts the 4-byte varlena header in varchar/bpchar and
// numeric typmods; our Type::typmod does not.
int64_t pg_typmod(const Type& t) {
  // A list's typmod names its element type inside Freshet; the catalog shows it as text.
  if (t.typmod < 0 || t.id == TypeId::kList) return -1;
  switch (t.id) {
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kNumeric:
      return static_cast<int64_t>(t.typmod) + 4;
    default:
      return t.typmod;
  }
}

bool collatable(TypeId t) {
  return t == TypeId::kText || t == TypeId::kVarchar || t == TypeId::kBpchar || t == TypeId::kName;
}
int64_t type_collation(TypeId t) {
  if (t == TypeId::kName) return kCCollationOid;
  return collatable(t) ? kDefaultCollationOid : 0;
}
bool by_value(TypeId t) {
  int16_t len = type_len(t);
  return len == 1 || len == 2 || len == 4 || len == 8;
}
char type_align(TypeId t) {
  switch (type_len(t)) {
    case 1: return 'c';
    case 2: return 's';
    case 8: return 'd';
    default: return 'i';
  }
}
char type_storage(TypeId t) {
  if (type_len(t) != -1) return 'p';
  return t == TypeId::kNumeric ? 'm' : 'x';
}

// ---------------------------------------------------------------------------------------------
// pg_catalog

// The schemas: the built-in ones, those of CREATE SCHEMA, and any other an object lives in.
std::set<std::string> all_schemas(const Catalog& c) {
  std::set<std::string> schemas = {"pg_catalog", "public", "information_schema"};
  for_each_relation(c, [&](const ObjectInfo& o) { schemas.insert(o.schema); });
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kSchema) schemas.insert(o->name);
  return schemas;
}

void pg_namespace_rows(const Catalog& c, std::vector<Row>& out) {
  std::set<std::string> schemas = all_schemas(c);
  const RoleState& rs = c.roles();
  for (const auto& s : schemas) {
    RowBuilder r;
    r.i(nsp_oid(s)).s(s).i(kRoleOid);
    if (s == "pg_catalog" || s == "information_schema") r.null();
    else r.arr(acl_array_text(rs, schema_acl(rs, s)));
    out.push_back(r.done());
  }
}

void pg_class_row(const Catalog& c, const ObjectInfo& o, char kind, int64_t oid, int64_t relam, int64_t natts, bool has_index,
                  std::vector<Row>& out) {
  // relacl: NULL until the first GRANT/REVOKE (the default), as in PostgreSQL; indexes have none.
  std::optional<std::string> acl;
  if (kind != 'i' && o.acl) acl = acl_array_text(c.roles(), *o.acl);
  RowBuilder rb;
  out.push_back(rb
                    .i(oid)
                    .s(o.name)
                    .i(nsp_oid(o.schema))
                    .i(0)                    // reltype
                    .i(0)                    // reloftype
                    .i(o.kind == ObjectKind::kSystemView ? kRoleOid : owner_of(o))  // relowner
                    .i(relam)
                    .i(oid)                  // relfilenode
                    .i(0)                    // reltablespace
                    .i(0)                    // relpages
                    .f(-1)                   // reltuples
                    .i(0)                    // relallvisible
                    .i(0)                    // reltoastrelid
                    .b(has_index)
                    .b(false)                // relisshared
                    .c('p')                  // relpersistence
                    .c(kind)
                    .i(natts)
                    .i(0)                    // relchecks
                    .b(kind == 'v')          // relhasrules: a view's _RETURN rule
                    .b(false)                // relhastriggers
                    .b(false)                // relhassubclass
                    .b(false)                // relrowsecurity
                    .b(false)                // relforcerowsecurity
                    .b(true)                 // relispopulated
                    .c(kind == 'r' || kind == 'm' ? 'd' : 'n')  // relreplident
                    .b(false)                // relispartition
                    .i(0)                    // relrewrite
                    .arr_opt(acl)             // relacl
                    .null()                  // reloptions
                    .null()                  // relpartbound
                    .done());
}

void pg_class_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for_each_relation(c, [&](const ObjectInfo& o) {
    char kind = relkind(o.kind);
    int64_t am = kind == 'i' ? kBtreeAmOid : (kind == 'r' || kind == 'm' ? kHeapAmOid : 0);
    pg_class_row(c, o, kind, o.oid, am, static_cast<int64_t>(o.columns.size()), m.indexed.count(&o) > 0, out);
  });
  for (const auto& e : m.indexes) {
    if (e.object) continue;
    ObjectInfo shown;
    shown.name = e.name;
    shown.schema = e.schema;
    pg_class_row(c, shown, 'i', e.oid, kBtreeAmOid, static_cast<int64_t>(e.attnums.size()), false, out);
  }
}

void pg_attribute_row(int64_t relid, const ColumnInfo& col, int64_t attnum, bool has_default, std::vector<Row>& out) {
  TypeId t = col.type.id;
  out.push_back(RowBuilder()
                    .i(relid)
                    .s(col.name)
                    .i(type_oid(t))
                    .i(-1)                   // attstattarget
                    .i(type_len(t))
                    .i(attnum)
                    .i(0)                    // attndims
                    .i(-1)                   // attcacheoff
                    .i(pg_typmod(col.type))
                    .b(by_value(t))
                    .c(type_align(t))
                    .c(type_storage(t))
                    .s("")                   // attcompression
                    .b(!col.nullable)
                    .b(has_default)
                    .b(false)                // atthasmissing
                    .s("")                   // attidentity
                    .s("")                   // attgenerated
                    .b(false)                // attisdropped
                    .b(true)                 // attislocal
                    .i(0)                    // attinhcount
                    .i(type_collation(t))
                    .null()                  // attacl
                    .null()                  // attoptions
                    .null()                  // attfdwoptions
                    .done());
}

void pg_attribute_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for_each_relation(c, [&](const ObjectInfo& o) {
    for (size_t i = 0; i < o.columns.size(); ++i)
      pg_attribute_row(o.oid, o.columns[i], static_cast<int64_t>(i + 1),
                       o.kind == ObjectKind::kTable && o.columns[i].default_sql.has_value(), out);
  });
  for (const auto& e : m.indexes) {
    if (e.object) continue;
    for (size_t i = 0; i < e.attnums.size(); ++i) {
      ColumnInfo col = e.on->columns[static_cast<size_t>(e.attnums[i] - 1)];
      col.nullable = true;
      pg_attribute_row(e.oid, col, static_cast<int64_t>(i + 1), false, out);
    }
  }
}

void pg_attrdef_rows(const Catalog& c, std::vector<Row>& out) {
  for (const auto& [id, o] : c.objects()) {
    if (o->kind != ObjectKind::kTable) continue;
    for (size_t i = 0; i < o->columns.size(); ++i)
      if (o->columns[i].default_sql)
        out.push_back(RowBuilder()
                          .i(attrdef_oid(o->oid, i + 1))
                          .i(o->oid)
                          .i(static_cast<int64_t>(i + 1))
                          .s(deparse_default(*o->columns[i].default_sql, o->columns[i].type))
                          .done());
  }
}

// An int2vector / oidvector value, stored as an array ("{1,2}"; shown as "1 2").
std::string int2vector(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? "," : "") + std::to_string(v[k]);
  return s + "}";
}
std::string int2array(const std::vector<int64_t>& v) {
  std::string s = "{";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? "," : "") + std::to_string(v[k]);
  return s + "}";
}

void pg_index_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& e : m.indexes) {
    auto n = static_cast<int64_t>(e.attnums.size());
    std::vector<int64_t> zeros(e.attnums.size(), 0);
    std::vector<int64_t> colls;
    for (auto a : e.attnums) colls.push_back(type_collation(e.on->columns[static_cast<size_t>(a - 1)].type.id));
    out.push_back(RowBuilder()
                      .i(e.oid)              // indexrelid
                      .i(e.on->oid)          // indrelid
                      .i(n)                  // indnatts
                      .i(n)                  // indnkeyatts
                      .b(e.unique)
                      .b(false)              // indnullsnotdistinct
                      .b(e.primary)
                      .b(false)              // indisexclusion
                      .b(true)               // indimmediate
                      .b(false)              // indisclustered
                      .b(true)               // indisvalid
                      .b(false)              // indcheckxmin
                      .b(true)               // indisready
                      .b(true)               // indislive
                      .b(false)              // indisreplident
                      .s(int2vector(e.attnums))
                      .s(int2vector(colls))  // indcollation
                      .s(int2vector(zeros))  // indclass
                      .s(int2vector(zeros))  // indoption
                      .null()                // indexprs
                      .null()                // indpred
                      .done());
  }
}

void pg_constraint_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& e : m.indexes) {
    if (!e.constraint_oid) continue;
    out.push_back(RowBuilder()
                      .i(e.constraint_oid)
                      .s(e.name)
                      .i(nsp_oid(e.schema))
                      .c(e.primary ? 'p' : 'u')
                      .b(false)              // condeferrable
                      .b(false)              // condeferred
                      .b(true)               // convalidated
                      .i(e.on->oid)          // conrelid
                      .i(0)                  // contypid
                      .i(e.oid)              // conindid
                      .i(0)                  // conparentid
                      .i(0)                  // confrelid
                      .c(' ')                // confupdtype
                      .c(' ')                // confdeltype
                      .c(' ')                // confmatchtype
                      .b(true)               // conislocal
                      .i(0)                  // coninhcount
                      .b(true)               // connoinherit
                      .s(int2array(e.attnums))
                      .null()                // confkey
                      .null()                // conbin
                      .done());
  }
}

void pg_type_rows(const Catalog& c, std::vector<Row>& out) {
  static const TypeId kAll[] = {TypeId::kBool, TypeId::kInt2, TypeId::kInt4, TypeId::kInt8, TypeId::kNumeric, TypeId::kFloat4,
                                TypeId::kFloat8, TypeId::kText, TypeId::kVarchar, TypeId::kBpchar, TypeId::kChar, TypeId::kName,
                                TypeId::kBytea, TypeId::kDate, TypeId::kTime, TypeId::kTimestamp, TypeId::kTimestampTz,
                                TypeId::kInterval, TypeId::kUuid, TypeId::kJsonb, TypeId::kOid, TypeId::kRegclass,
                                TypeId::kRegproc, TypeId::kRegtype, TypeId::kRegnamespace, TypeId::kRegrole,
                                TypeId::kTextArray, TypeId::kInt2Array, TypeId::kOidArray, TypeId::kInt4Array,
                                TypeId::kInt8Array, TypeId::kNameArray, TypeId::kBoolArray, TypeId::kFloat8Array,
                                TypeId::kNumericArray, TypeId::kInt2Vector, TypeId::kOidVector, TypeId::kRecord,
                                TypeId::kUnknown};
  auto elem_of = [](TypeId t) -> int64_t {
    auto e = array_element_type(t);
    return e ? type_oid(*e) : 0;
  };
  auto array_of = [](TypeId t) -> int64_t {
    if (t == TypeId::kRegclass || t == TypeId::kRegproc || t == TypeId::kRegtype || t == TypeId::kRegnamespace ||
        t == TypeId::kRegrole || t == TypeId::kUnknown || t == TypeId::kVarchar || t == TypeId::kBpchar)
      return 0;  // Freshet has no arrays of these (PostgreSQL's _regclass, _varchar, ...)
    auto a = array_type_of(t);
    return a ? type_oid(*a) : 0;
  };
  for (TypeId t : kAll) {
    bool pseudo = t == TypeId::kRecord || t == TypeId::kUnknown;
    TypeIoFunctions io = type_io_functions(type_oid(t));
    out.push_back(RowBuilder()
                      .i(type_oid(t))
                      .s(type_internal_name(t))
                      .i(Catalog::kPgCatalogNamespaceOid)
                      .i(kRoleOid)
                      .i(type_len(t))
                      .b(by_value(t))
                      .c(pseudo ? 'p' : 'b')
                      .c(static_cast<char>(type_category(t)))
                      .b(type_is_preferred(t))
                      .b(true)               // typisdefined
                      .c(',')                // typdelim
                      .i(0)                  // typrelid
                      .i(0)                  // typsubscript
                      .i(elem_of(t))
                      .i(array_of(t))
                      .i(io.input)           // typinput
                      .i(io.output)          // typoutput
                      .i(io.receive)         // typreceive
                      .i(io.send)            // typsend
                      .i(0)                  // typmodin
                      .i(0)                  // typmodout
                      .i(0)                  // typanalyze
                      .c(type_align(t))
                      .c(type_storage(t))
                      .b(false)              // typnotnull
                      .i(0)                  // typbasetype
                      .i(-1)                 // typtypmod
                      .i(elem_of(t) ? 1 : 0) // typndims
                      .i(type_collation(t))
                      .null()                // typdefaultbin
                      .null()                // typdefault
                      .null()                // typacl
                      .done());
  }
  // CREATE TYPE: a composite type as PostgreSQL lists one (typtype 'c', record_in/record_out;
  // no pg_class row, so typrelid 0); a named list type as a base type of the user-defined
  // category, as Materialize shows it.
  for (const auto& [id, o] : c.objects()) {
    if (o->kind != ObjectKind::kType) continue;
    Type t = sql::type_of_type_object(*o);
    bool composite = t.id == TypeId::kRecord;
    out.push_back(RowBuilder()
                      .i(o->oid)
                      .s(o->name)
                      .i(Catalog::namespace_oid(o->schema))
                      .i(o->owner != 0 ? o->owner : kRoleOid)
                      .i(-1)                 // typlen
                      .b(false)              // typbyval
                      .c(composite ? 'c' : 'b')
                      .c(composite ? 'C' : 'U')
                      .b(false)              // typispreferred
                      .b(true)               // typisdefined
                      .c(',')                // typdelim
                      .i(0)                  // typrelid
                      .i(0)                  // typsubscript
                      .i(0)                  // typelem
                      .i(0)                  // typarray
                      .i(composite ? 2290 : 0)  // typinput: record_in
                      .i(composite ? 2291 : 0)  // typoutput: record_out
                      .i(composite ? 2402 : 0)  // typreceive: record_recv
                      .i(composite ? 2403 : 0)  // typsend: record_send
                      .i(0)                  // typmodin
                      .i(0)                  // typmodout
                      .i(0)                  // typanalyze
                      .c('d')                // typalign
                      .c('x')                // typstorage
                      .b(false)              // typnotnull
                      .i(0)                  // typbasetype
                      .i(-1)                 // typtypmod
                      .i(0)                  // typndims
                      .i(0)                  // typcollation
                      .null()                // typdefaultbin
                      .null()                // typdefault
                      .null()                // typacl
                      .done());
  }
}

void pg_database_rows(const Catalog& c, std::vector<Row>& out) {
  std::vector<std::pair<int64_t, std::string>> dbs = {{Catalog::kDatabaseOid, "freshet"}};
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kDatabase) dbs.emplace_back(o->oid, o->name);  // CREATE DATABASE
  for (const auto& [oid, name] : dbs) {
    out.push_back(RowBuilder()
                      .i(oid)
                      .s(name)
                      .i(kRoleOid)
                      .i(6)                    // encoding: UTF8
                      .c('c')                  // datlocprovider: libc
                      .b(false)                // datistemplate
                      .b(true)                 // datallowconn
                      .i(-1)                   // datconnlimit
                      .i(kDefaultTablespaceOid)
                      .s("C")
                      .s("C")
                      .null()                  // daticulocale
                      .null()                  // datcollversion
                      .arr_opt(oid == Catalog::kDatabaseOid && c.roles().database_acl
                                   ? std::optional<std::string>(acl_array_text(c.roles(), *c.roles().database_acl))
                                   : std::nullopt)  // datacl
                      .done());
  }
}

void pg_am_rows(const Catalog&, std::vector<Row>& out) {
  out.push_back(RowBuilder().i(kHeapAmOid).s("heap").i(0).c('t').done());
  out.push_back(RowBuilder().i(kBtreeAmOid).s("btree").i(0).c('i').done());
  out.push_back(RowBuilder().i(405).s("hash").i(0).c('i').done());
}

void pg_roles_rows(const Catalog& c, std::vector<Row>& out) {
  for (const auto& [oid, r] : c.roles().roles) {
    bool boot = oid == kBootstrapRoleOid;
    out.push_back(RowBuilder()
                      .s(r.name)
                      .b(r.superuser).b(r.inherit).b(r.createrole).b(r.createdb).b(r.login).b(boot)
                      .i(-1)                   // rolconnlimit
                      .s("********")           // rolpassword
                      .null()                  // rolvaliduntil
                      .b(boot)                 // rolbypassrls
                      .null()                  // rolconfig
                      .i(oid)
                      .done());
  }
}

// Readable by superusers only (Catalog::check_read): it holds the verifiers.
void pg_authid_rows(const Catalog& c, std::vector<Row>& out) {
  for (const auto& [oid, r] : c.roles().roles) {
    bool boot = oid == kBootstrapRoleOid;
    RowBuilder b;
    b.i(oid).s(r.name).b(r.superuser).b(r.inherit).b(r.createrole).b(r.createdb).b(r.login).b(boot).b(boot).i(-1);
    if (r.password.empty()) b.null(); else b.s(r.password);
    out.push_back(b.null().done());
  }
}

void pg_user_rows(const Catalog& c, std::vector<Row>& out) {
  for (const auto& [oid, r] : c.roles().roles) {
    if (!r.login) continue;
    bool boot = oid == kBootstrapRoleOid;
    out.push_back(RowBuilder().s(r.name).i(oid).b(r.createdb).b(r.superuser).b(boot).b(boot).s("********").null().null().done());
  }
}

void pg_auth_members_rows(const Catalog& c, std::vector<Row>& out) {
  for (const auto& m : c.roles().members)
    out.push_back(RowBuilder().i(m.role).i(m.member).i(m.grantor).b(m.admin).done());
}

void pg_collation_rows(const Catalog&, std::vector<Row>& out) {
  auto row = [&](int64_t oid, const char* name, char provider, const char* coll) {
    RowBuilder r;
    r.i(oid).s(name).i(Catalog::kPgCatalogNamespaceOid).i(kRoleOid).c(provider).b(true).i(-1);
    if (coll) r.s(coll).s(coll); else r.null().null();
    out.push_back(r.null().null().done());
  };
  row(kDefaultCollationOid, "default", 'd', nullptr);
  row(kCCollationOid, "C", 'c', "C");
  row(951, "POSIX", 'c', "POSIX");
}

void pg_tablespace_rows(const Catalog&, std::vector<Row>& out) {
  out.push_back(RowBuilder().i(kDefaultTablespaceOid).s("pg_default").i(kRoleOid).null().null().done());
  out.push_back(RowBuilder().i(1664).s("pg_global").i(kRoleOid).null().null().done());
}

// pg_get_keywords(): PostgreSQL 15's SQL keywords (pgJDBC's getSQLKeywords reads them), as
// "word:catcode" with a trailing '-' when the word cannot be a bare column label.
void pg_get_keywords_rows(const Catalog&, std::vector<Row>& out) {
  static constexpr std::string_view kKeywords =
      "abort:U absolute:U access:U action:U add:U admin:U after:U aggregate:U all:R also:U alter:U "
      "always:U analyse:R analyze:R and:R any:R array:R- as:R- asc:R asensitive:U assertion:U assignment:U "
      "asymmetric:R at:U atomic:U attach:U attribute:U authorization:T backward:U before:U begin:U "
      "between:C bigint:C binary:T bit:C boolean:C both:R breadth:U by:U cache:U call:U called:U cascade:U "
      "cascaded:U case:R cast:R catalog:U chain:U char:C- character:C- characteristics:U check:R "
      "checkpoint:U class:U close:U cluster:U coalesce:C collate:R collation:T column:R columns:U "
      "comment:U comments:U commit:U committed:U compression:U concurrently:T configuration:U conflict:U "
      "connection:U constraint:R constraints:U content:U continue:U conversion:U copy:U cost:U create:R- "
      "cross:T csv:U cube:U current:U current_catalog:R current_date:R current_role:R current_schema:T "
      "current_time:R current_timestamp:R current_user:R cursor:U cycle:U data:U database:U day:U- "
      "deallocate:U dec:C decimal:C declare:U default:R defaults:U deferrable:R deferred:U definer:U "
      "delete:U delimiter:U delimiters:U depends:U depth:U desc:R detach:U dictionary:U disable:U "
      "discard:U distinct:R do:R document:U domain:U double:U drop:U each:U else:R enable:U encoding:U "
      "encrypted:U end:R enum:U escape:U event:U except:R- exclude:U excluding:U exclusive:U execute:U "
      "exists:C explain:U expression:U extension:U external:U extract:C false:R family:U fetch:R- "
      "filter:U- finalize:U first:U float:C following:U for:R- force:U foreign:R forward:U freeze:T "
      "from:R- full:T function:U functions:U generated:U global:U grant:R- granted:U greatest:C group:R- "
      "grouping:C groups:U handler:U having:R- header:U hold:U hour:U- identity:U if:U ilike:T immediate:U "
      "immutable:U implicit:U import:U in:R include:U including:U increment:U index:U indexes:U inherit:U "
      "inherits:U initially:R inline:U inner:T inout:C input:U insensitive:U insert:U instead:U int:C "
      "integer:C intersect:R- interval:C into:R- invoker:U is:T isnull:T- isolation:U join:T key:U label:U "
      "language:U large:U last:U lateral:R leading:R leakproof:U least:C left:T level:U like:T limit:R- "
      "listen:U load:U local:U localtime:R localtimestamp:R location:U lock:U locked:U logged:U mapping:U "
      "match:U matched:U materialized:U maxvalue:U merge:U method:U minute:U- minvalue:U mode:U month:U- "
      "move:U name:U names:U national:C natural:T nchar:C new:U next:U nfc:U nfd:U nfkc:U nfkd:U no:U "
      "none:C normalize:C normalized:U not:R nothing:U notify:U notnull:T- nowait:U null:R nullif:C "
      "nulls:U numeric:C object:U of:U off:U offset:R- oids:U old:U on:R- only:R operator:U option:U "
      "options:U or:R order:R- ordinality:U others:U out:C outer:T over:U- overlaps:T- overlay:C "
      "overriding:U owned:U owner:U parallel:U parameter:U parser:U partial:U partition:U passing:U "
      "password:U placing:R plans:U policy:U position:C preceding:U precision:C- prepare:U prepared:U "
      "preserve:U primary:R prior:U privileges:U procedural:U procedure:U procedures:U program:U "
      "publication:U quote:U range:U read:U real:C reassign:U recheck:U recursive:U ref:U references:R "
      "referencing:U refresh:U reindex:U relative:U release:U rename:U repeatable:U replace:U replica:U "
      "reset:U restart:U restrict:U return:U returning:R- returns:U revoke:U right:T role:U rollback:U "
      "rollup:U routine:U routines:U row:C rows:U rule:U savepoint:U schema:U schemas:U scroll:U search:U "
      "second:U- security:U select:R sequence:U sequences:U serializable:U server:U session:U "
      "session_user:R set:U setof:C sets:U share:U show:U similar:T simple:U skip:U smallint:C snapshot:U "
      "some:R sql:U stable:U standalone:U start:U statement:U statistics:U stdin:U stdout:U storage:U "
      "stored:U strict:U strip:U subscription:U substring:C support:U symmetric:R sysid:U system:U table:R "
      "tables:U tablesample:T tablespace:U temp:U template:U temporary:U text:U then:R ties:U time:C "
      "timestamp:C to:R- trailing:R transaction:U transform:U treat:C trigger:U trim:C true:R truncate:U "
      "trusted:U type:U types:U uescape:U unbounded:U uncommitted:U unencrypted:U union:R- unique:R "
      "unknown:U unlisten:U unlogged:U until:U update:U user:R using:R vacuum:U valid:U validate:U "
      "validator:U value:U values:C varchar:C variadic:R varying:U- verbose:T version:U view:U views:U "
      "volatile:U when:R where:R- whitespace:U window:R- with:R- within:U- without:U- work:U wrapper:U "
      "write:U xml:U xmlattributes:C xmlconcat:C xmlelement:C xmlexists:C xmlforest:C xmlnamespaces:C "
      "xmlparse:C xmlpi:C xmlroot:C xmlserialize:C xmltable:C year:U- yes:U zone:U ";
  size_t i = 0;
  while (i < kKeywords.size()) {
    size_t j = kKeywords.find(' ', i);
    if (j == std::string_view::npos) j = kKeywords.size();
    std::string_view item = kKeywords.substr(i, j - i);
    i = j + 1;
    if (item.empty()) continue;
    size_t colon = item.find(':');
    std::string_view word = item.substr(0, colon);
    char code = item[colon + 1];
    bool bare = item.back() != '-';
    const char* desc = code == 'R' ? "reserved" : code == 'U' ? "unreserved" : code == 'C' ? "unreserved (cannot be function or type name)" : "reserved (can be function or type name)";
    out.push_back(RowBuilder().s(word).c(code).b(bare).s(desc).s(bare ? "can be bare label" : "requires AS").done());
  }
}

void pg_settings_rows(const Catalog&, std::vector<Row>& out) {
  struct S { const char* name; const char* setting; const char* category; const char* context; const char* vartype; };
  static const S kSettings[] = {
      {"application_name", "", "Reporting and Logging / What to Log", "user", "string"},
      {"client_encoding", "UTF8", "Client Connection Defaults / Locale and Formatting", "user", "string"},
      {"DateStyle", "ISO, MDY", "Client Connection Defaults / Locale and Formatting", "user", "string"},
      {"default_transaction_isolation", "serializable", "Client Connection Defaults / Statement Behavior", "user", "enum"},
      {"integer_datetimes", "on", "Preset Options", "internal", "bool"},
      {"IntervalStyle", "postgres", "Client Connection Defaults / Locale and Formatting", "user", "enum"},
      {"is_superuser", "on", "Preset Options", "internal", "bool"},
      {"lc_collate", "C", "Preset Options", "internal", "string"},
      {"lc_ctype", "C", "Preset Options", "internal", "string"},
      {"max_connections", "1000", "Connections and Authentication / Connection Settings", "postmaster", "integer"},
      {"max_identifier_length", "63", "Preset Options", "internal", "integer"},
      {"max_index_keys", "32", "Preset Options", "internal", "integer"},
      {"search_path", "\"$user\", public", "Client Connection Defaults / Statement Behavior", "user", "string"},
      {"server_encoding", "UTF8", "Preset Options", "internal", "string"},
      {"server_version", "15.0", "Preset Options", "internal", "string"},
      {"server_version_num", "150000", "Preset Options", "internal", "integer"},
      {"standard_conforming_strings", "on", "Version and Platform Compatibility", "user", "bool"},
      {"TimeZone", "UTC", "Client Connection Defaults / Locale and Formatting", "user", "string"},
      {"transaction_isolation", "serializable", "Client Connection Defaults / Statement Behavior", "user", "string"},
  };
  for (const auto& s : kSettings)
    out.push_back(RowBuilder()
                      .s(s.name).s(s.setting).null().s(s.category).s("").null().s(s.context).s(s.vartype)
                      .s("default").null().null().null().s(s.setting).s(s.setting).null().null().b(false)
                      .done());
}

// pg_proc: the functions psql completes and drivers look up most; each overload that the
// function library has, with its oid and signature. (The library cannot list all of its
// functions yet.)
void pg_proc_rows(const Catalog&, std::vector<Row>& out) {
  static const char* const kNames[] = {
      "abs", "array_length", "array_to_string", "btrim", "ceil", "coalesce", "concat", "concat_ws", "current_database",
      "current_schema", "current_schemas", "current_setting", "current_user", "date_part", "date_trunc", "floor",
      "format", "format_type", "gen_random_uuid", "has_table_privilege", "jsonb_typeof", "left", "length", "lower",
      "lpad", "ltrim", "md5", "mz_now", "now", "obj_description", "pg_backend_pid", "pg_get_constraintdef",
      "pg_get_expr", "pg_get_indexdef", "pg_get_userbyid", "pg_get_viewdef", "pg_relation_size", "pg_size_pretty",
      "pg_table_is_visible", "position", "quote_ident", "random", "regexp_replace", "repeat", "replace", "right",
      "round", "rpad", "rtrim", "split_part", "sqrt", "string_to_array", "strpos", "substr", "to_char", "to_timestamp",
      "trim", "trunc", "upper", "version"};
  std::set<uint32_t> seen;
  for (const char* name : kNames) {
    for (const FunctionImpl* f : lookup_functions(name)) {
      if (!seen.insert(f->oid).second) continue;
      std::string argtypes;
      for (const auto& t : f->arg_types) argtypes += (argtypes.empty() ? "" : ",") + std::to_string(type_oid(t.id));
      argtypes = "{" + argtypes + "}";  // oidvector, stored as an array
      char vol = f->volatility == Volatility::kImmutable ? 'i' : (f->volatility == Volatility::kStable ? 's' : 'v');
      out.push_back(RowBuilder()
                        .i(f->oid)
                        .s(f->name)
                        .i(Catalog::kPgCatalogNamespaceOid)
                        .i(kRoleOid)
                        .i(12)               // prolang: internal
                        .f(1)                // procost
                        .f(0)                // prorows
                        .i(f->variadic && !f->arg_types.empty() ? type_oid(f->arg_types.back().id) : 0)
                        .i(0)                // prosupport
                        .c('f')              // prokind
                        .b(false)            // prosecdef
                        .b(false)            // proleakproof
                        .b(f->strict)
                        .b(false)            // proretset
                        .c(vol)
                        .c('s')              // proparallel
                        .i(static_cast<int64_t>(f->arg_types.size()))
                        .i(0)                // pronargdefaults
                        .i(type_oid(f->result_type.id))
                        .s(argtypes)         // proargtypes (oidvector)
                        .nulls(4)            // proallargtypes, proargmodes, proargnames, proargdefaults
                        .s(f->name)          // prosrc
                        .nulls(3)            // probin, proconfig, proacl
                        .done());
    }
  }
}

void pg_language_rows(const Catalog&, std::vector<Row>& out) {
  out.push_back(RowBuilder().i(12).s("internal").i(kRoleOid).b(false).b(false).i(0).i(0).i(0).null().done());
  out.push_back(RowBuilder().i(13).s("c").i(kRoleOid).b(false).b(false).i(0).i(0).i(0).null().done());
  out.push_back(RowBuilder().i(14).s("sql").i(kRoleOid).b(false).b(true).i(0).i(0).i(0).null().done());
}

void pg_rewrite_rows(const Catalog& c, std::vector<Row>& out) {
  build_model(c);
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView)
      out.push_back(RowBuilder()
                        .i(rewrite_oid(o->oid))
                        .s("_RETURN")
                        .i(o->oid)
                        .c('1')              // ev_type: SELECT
                        .c('O')              // ev_enabled
                        .b(true)             // is_instead
                        .null()              // ev_qual
                        .null()              // ev_action
                        .done());
}

void empty_rows(const Catalog&, std::vector<Row>&) {}

void pg_tables_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kTable || o->kind == ObjectKind::kSource)
      out.push_back(RowBuilder().s(o->schema).s(o->name).s(c.roles().name_of(owner_of(*o))).null().b(m.indexed.count(o.get()) > 0)
                        .b(false).b(false).b(false).done());
}

void pg_views_rows(const Catalog& c, std::vector<Row>& out) {
  build_model(c);
  for_each_relation(c, [&](const ObjectInfo& o) {
    if (o.kind != ObjectKind::kView && o.kind != ObjectKind::kSystemView) return;
    RowBuilder r;
    r.s(o.schema).s(o.name).s("freshet");
    if (o.kind == ObjectKind::kView) r.s(o.definition_sql); else r.null();
    out.push_back(r.done());
  });
}

void pg_matviews_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kMaterializedView)
      out.push_back(RowBuilder().s(o->schema).s(o->name).s("freshet").null().b(m.indexed.count(o.get()) > 0).b(true)
                        .s(o->definition_sql).done());
}

void pg_indexes_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& e : m.indexes)
    out.push_back(RowBuilder().s(e.on->schema).s(e.on->name).s(e.name).null().s(e.definition()).done());
}

// ---------------------------------------------------------------------------------------------
// information_schema

// information_schema.table_privileges / role_table_grants: one row per privilege of each ACL
// entry of the user's tables and views (materialized views are not listed, as in PostgreSQL)
// whose grantor or grantee is a role the current role has the privileges of (or PUBLIC, for
// table_privileges). The owner's implicit privileges are its default ACL entry.
void table_grants(const Catalog& c, std::vector<Row>& out, bool with_public) {
  const RoleState& rs = c.roles();
  const AccessContext* a = current_access();
  uint32_t me = a != nullptr ? role_oid_or_bootstrap(rs, a->role) : kBootstrapRoleOid;
  static constexpr std::pair<uint32_t, const char*> kPrivs[] = {
      {priv::kInsert, "INSERT"}, {priv::kSelect, "SELECT"}, {priv::kUpdate, "UPDATE"}, {priv::kDelete, "DELETE"},
      {priv::kTruncate, "TRUNCATE"}, {priv::kReferences, "REFERENCES"}, {priv::kTrigger, "TRIGGER"}};
  for (const auto& [id, o] : c.objects()) {
    if (o->kind != ObjectKind::kTable && o->kind != ObjectKind::kView) continue;
    for (const auto& item : effective_acl(*o)) {
      bool mine = has_privs_of_role(rs, me, item.grantor) || (item.grantee != kPublicRoleOid && has_privs_of_role(rs, me, item.grantee)) ||
                  (with_public && item.grantee == kPublicRoleOid);
      if (!mine) continue;
      for (const auto& [bit, word] : kPrivs) {
        if (!(item.privs & bit)) continue;
        bool grantable = (item.grant_options & bit) || (item.grantee != kPublicRoleOid && has_privs_of_role(rs, item.grantee, owner_of(*o)));
        out.push_back(RowBuilder()
                          .s(rs.name_of(item.grantor))
                          .s(item.grantee == kPublicRoleOid ? "PUBLIC" : rs.name_of(item.grantee))
                          .s("freshet")
                          .s(o->schema)
                          .s(o->name)
                          .s(word)
                          .s(grantable ? "YES" : "NO")
                          .s(bit == priv::kSelect ? "YES" : "NO")
                          .done());
      }
    }
  }
}
void table_privileges_rows(const Catalog& c, std::vector<Row>& out) { table_grants(c, out, true); }
void role_table_grants_rows(const Catalog& c, std::vector<Row>& out) { table_grants(c, out, false); }

void schemata_rows(const Catalog& c, std::vector<Row>& out) {
  std::set<std::string> schemas = all_schemas(c);
  for (const auto& s : schemas) out.push_back(RowBuilder().s("freshet").s(s).s("freshet").nulls(3).null().done());
}

void tables_rows(const Catalog& c, std::vector<Row>& out) {
  for_each_relation(c, [&](const ObjectInfo& o) {
    if (o.kind == ObjectKind::kIndex) return;
    const char* type = o.kind == ObjectKind::kTable || o.kind == ObjectKind::kSource ? "BASE TABLE" : "VIEW";
    out.push_back(RowBuilder()
                      .s("freshet").s(o.schema).s(o.name).s(type)
                      .nulls(5)
                      .s(o.kind == ObjectKind::kTable ? "YES" : "NO")
                      .s("NO")
                      .null()
                      .done());
  });
}

void columns_rows(const Catalog& c, std::vector<Row>& out) {
  for_each_relation(c, [&](const ObjectInfo& o) {
    if (o.kind == ObjectKind::kIndex) return;
    for (size_t i = 0; i < o.columns.size(); ++i) {
      const auto& col = o.columns[i];
      TypeId t = col.type.id;
      int32_t tm = col.type.typmod;
      RowBuilder r;
      r.s("freshet").s(o.schema).s(o.name).s(col.name).i(static_cast<int64_t>(i + 1));
      if (col.default_sql) r.s(deparse_default(*col.default_sql, col.type));
      else r.null();
      r.s(col.nullable ? "YES" : "NO").s(type_name(Type(t)));
      bool chars = t == TypeId::kVarchar || t == TypeId::kBpchar;
      if (chars && tm >= 0) r.i(tm); else r.null();                 // character_maximum_length
      if (chars || t == TypeId::kText) r.i(chars && tm >= 0 ? tm * 4 : 1073741824); else r.null();
      // numeric_precision, numeric_precision_radix, numeric_scale
      switch (t) {
        case TypeId::kInt2: r.i(16).i(2).i(0); break;
        case TypeId::kInt4: r.i(32).i(2).i(0); break;
        case TypeId::kInt8: r.i(64).i(2).i(0); break;
        case TypeId::kFloat4: r.i(24).i(2).null(); break;
        case TypeId::kFloat8: r.i(53).i(2).null(); break;
        case TypeId::kNumeric:
          if (tm >= 0) r.i((tm >> 16) & 0xFFFF).i(10).i(tm & 0xFFFF); else r.null().i(10).null();
          break;
        default: r.nulls(3); break;
      }
      bool dt = t == TypeId::kDate || t == TypeId::kTime || t == TypeId::kTimestamp || t == TypeId::kTimestampTz ||
                t == TypeId::kInterval;
      if (dt) r.i(t == TypeId::kDate ? 0 : (tm >= 0 ? tm : 6)); else r.null();  // datetime_precision
      r.null();                                                                  // interval_type
      r.s("freshet").s("pg_catalog").s(type_internal_name(t));                    // udt_*
      r.s(std::to_string(i + 1));                                                // dtd_identifier
      r.s("NO").s("NEVER").s(o.kind == ObjectKind::kTable ? "YES" : "NO");
      out.push_back(r.done());
    }
  });
}

void views_rows(const Catalog& c, std::vector<Row>& out) {
  for (const auto& [id, o] : c.objects())
    if (o->kind == ObjectKind::kView)
      out.push_back(RowBuilder().s("freshet").s(o->schema).s(o->name).s(o->definition_sql).s("NONE")
                        .s("NO").s("NO").s("NO").s("NO").s("NO").done());
}

void table_constraints_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& e : m.indexes) {
    if (!e.constraint_oid) continue;
    out.push_back(RowBuilder().s("freshet").s(e.schema).s(e.name).s("freshet").s(e.on->schema).s(e.on->name)
                      .s(e.primary ? "PRIMARY KEY" : "UNIQUE").s("NO").s("NO").s("YES")
                      .opt(e.primary ? std::nullopt : std::optional<std::string>("YES")).done());
  }
}

void key_column_usage_rows(const Catalog& c, std::vector<Row>& out) {
  Model m = build_model(c);
  for (const auto& e : m.indexes) {
    if (!e.constraint_oid) continue;
    for (size_t k = 0; k < e.attnums.size(); ++k)
      out.push_back(RowBuilder().s("freshet").s(e.schema).s(e.name).s("freshet").s(e.on->schema).s(e.on->name)
                        .s(e.on->columns[static_cast<size_t>(e.attnums[k] - 1)].name)
                        .i(static_cast<int64_t>(k + 1))
                        .null()
                        .done());
  }
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
  auto add = [&](uint32_t oid, const char* schema, const char* name, std::vector<std::pair<std::string, TypeId>> cols,
                 void (*rows)(const Catalog&, std::vector<Row>&)) {
    v.push_back({info(id++, oid, schema, name, std::move(cols)), rows});
  };
  const char* pg = "pg_catalog";
  add(2615, pg, "pg_namespace", {{"oid", T::kOid}, {"nspname", T::kName}, {"nspowner", T::kOid}, {"nspacl", T::kTextArray}},
      pg_namespace_rows);
  add(1259, pg, "pg_class",
      {{"oid", T::kOid}, {"relname", T::kName}, {"relnamespace", T::kOid}, {"reltype", T::kOid},
       {"reloftype", T::kOid}, {"relowner", T::kOid}, {"relam", T::kOid}, {"relfilenode", T::kOid},
       {"reltablespace", T::kOid}, {"relpages", T::kInt4}, {"reltuples", T::kFloat4}, {"relallvisible", T::kInt4},
       {"reltoastrelid", T::kOid}, {"relhasindex", T::kBool}, {"relisshared", T::kBool}, {"relpersistence", T::kChar},
       {"relkind", T::kChar}, {"relnatts", T::kInt2}, {"relchecks", T::kInt2}, {"relhasrules", T::kBool},
       {"relhastriggers", T::kBool}, {"relhassubclass", T::kBool}, {"relrowsecurity", T::kBool},
       {"relforcerowsecurity", T::kBool}, {"relispopulated", T::kBool}, {"relreplident", T::kChar},
       {"relispartition", T::kBool}, {"relrewrite", T::kOid}, {"relacl", T::kTextArray},
       {"reloptions", T::kTextArray}, {"relpartbound", T::kText}},
      pg_class_rows);
  add(1249, pg, "pg_attribute",
      {{"attrelid", T::kOid}, {"attname", T::kName}, {"atttypid", T::kOid}, {"attstattarget", T::kInt4},
       {"attlen", T::kInt2}, {"attnum", T::kInt2}, {"attndims", T::kInt4}, {"attcacheoff", T::kInt4},
       {"atttypmod", T::kInt4}, {"attbyval", T::kBool}, {"attalign", T::kChar}, {"attstorage", T::kChar},
       {"attcompression", T::kChar}, {"attnotnull", T::kBool}, {"atthasdef", T::kBool}, {"atthasmissing", T::kBool},
       {"attidentity", T::kChar}, {"attgenerated", T::kChar}, {"attisdropped", T::kBool}, {"attislocal", T::kBool},
       {"attinhcount", T::kInt4}, {"attcollation", T::kOid}, {"attacl", T::kTextArray}, {"attoptions", T::kTextArray},
       {"attfdwoptions", T::kTextArray}},
      pg_attribute_rows);
  add(1247, pg, "pg_type",
      {{"oid", T::kOid}, {"typname", T::kName}, {"typnamespace", T::kOid}, {"typowner", T::kOid},
       {"typlen", T::kInt2}, {"typbyval", T::kBool}, {"typtype", T::kChar}, {"typcategory", T::kChar},
       {"typispreferred", T::kBool}, {"typisdefined", T::kBool}, {"typdelim", T::kChar}, {"typrelid", T::kOid},
       {"typsubscript", T::kOid}, {"typelem", T::kOid}, {"typarray", T::kOid}, {"typinput", T::kRegproc},
       {"typoutput", T::kRegproc}, {"typreceive", T::kRegproc}, {"typsend", T::kRegproc}, {"typmodin", T::kOid},
       {"typmodout", T::kOid}, {"typanalyze", T::kOid}, {"typalign", T::kChar}, {"typstorage", T::kChar},
       {"typnotnull", T::kBool}, {"typbasetype", T::kOid}, {"typtypmod", T::kInt4}, {"typndims", T::kInt4},
       {"typcollation", T::kOid}, {"typdefaultbin", T::kText}, {"typdefault", T::kText}, {"typacl", T::kTextArray}},
      pg_type_rows);
  add(1262, pg, "pg_database",
      {{"oid", T::kOid}, {"datname", T::kName}, {"datdba", T::kOid}, {"encoding", T::kInt4},
       {"datlocprovider", T::kChar}, {"datistemplate", T::kBool}, {"datallowconn", T::kBool},
       {"datconnlimit", T::kInt4}, {"dattablespace", T::kOid}, {"datcollate", T::kText}, {"datctype", T::kText},
       {"daticulocale", T::kText}, {"datcollversion", T::kText}, {"datacl", T::kTextArray}},
      pg_database_rows);
  add(2601, pg, "pg_am", {{"oid", T::kOid}, {"amname", T::kName}, {"amhandler", T::kOid}, {"amtype", T::kChar}},
      pg_am_rows);
  add(2610, pg, "pg_index",
      {{"indexrelid", T::kOid}, {"indrelid", T::kOid}, {"indnatts", T::kInt2}, {"indnkeyatts", T::kInt2},
       {"indisunique", T::kBool}, {"indnullsnotdistinct", T::kBool}, {"indisprimary", T::kBool},
       {"indisexclusion", T::kBool}, {"indimmediate", T::kBool}, {"indisclustered", T::kBool},
       {"indisvalid", T::kBool}, {"indcheckxmin", T::kBool}, {"indisready", T::kBool}, {"indislive", T::kBool},
       {"indisreplident", T::kBool}, {"indkey", T::kInt2Vector}, {"indcollation", T::kOidVector}, {"indclass", T::kOidVector},
       {"indoption", T::kInt2Vector}, {"indexprs", T::kText}, {"indpred", T::kText}},
      pg_index_rows);
  add(2604, pg, "pg_attrdef", {{"oid", T::kOid}, {"adrelid", T::kOid}, {"adnum", T::kInt2}, {"adbin", T::kText}},
      pg_attrdef_rows);
  add(2606, pg, "pg_constraint",
      {{"oid", T::kOid}, {"conname", T::kName}, {"connamespace", T::kOid}, {"contype", T::kChar},
       {"condeferrable", T::kBool}, {"condeferred", T::kBool}, {"convalidated", T::kBool}, {"conrelid", T::kOid},
       {"contypid", T::kOid}, {"conindid", T::kOid}, {"conparentid", T::kOid}, {"confrelid", T::kOid},
       {"confupdtype", T::kChar}, {"confdeltype", T::kChar}, {"confmatchtype", T::kChar}, {"conislocal", T::kBool},
       {"coninhcount", T::kInt4}, {"connoinherit", T::kBool}, {"conkey", T::kInt2Array}, {"confkey", T::kInt2Array},
       {"conbin", T::kText}},
      pg_constraint_rows);
  add(11000, pg, "pg_roles",
      {{"rolname", T::kName}, {"rolsuper", T::kBool}, {"rolinherit", T::kBool}, {"rolcreaterole", T::kBool},
       {"rolcreatedb", T::kBool}, {"rolcanlogin", T::kBool}, {"rolreplication", T::kBool}, {"rolconnlimit", T::kInt4},
       {"rolpassword", T::kText}, {"rolvaliduntil", T::kTimestampTz}, {"rolbypassrls", T::kBool},
       {"rolconfig", T::kTextArray}, {"oid", T::kOid}},
      pg_roles_rows);
  add(1260, pg, "pg_authid",
      {{"oid", T::kOid}, {"rolname", T::kName}, {"rolsuper", T::kBool}, {"rolinherit", T::kBool},
       {"rolcreaterole", T::kBool}, {"rolcreatedb", T::kBool}, {"rolcanlogin", T::kBool},
       {"rolreplication", T::kBool}, {"rolbypassrls", T::kBool}, {"rolconnlimit", T::kInt4},
       {"rolpassword", T::kText}, {"rolvaliduntil", T::kTimestampTz}},
      pg_authid_rows);
  add(11001, pg, "pg_user",
      {{"usename", T::kName}, {"usesysid", T::kOid}, {"usecreatedb", T::kBool}, {"usesuper", T::kBool},
       {"userepl", T::kBool}, {"usebypassrls", T::kBool}, {"passwd", T::kText}, {"valuntil", T::kTimestampTz},
       {"useconfig", T::kTextArray}},
      pg_user_rows);
  add(1261, pg, "pg_auth_members",
      {{"roleid", T::kOid}, {"member", T::kOid}, {"grantor", T::kOid}, {"admin_option", T::kBool}}, pg_auth_members_rows);
  add(2609, pg, "pg_description",
      {{"objoid", T::kOid}, {"classoid", T::kOid}, {"objsubid", T::kInt4}, {"description", T::kText}}, empty_rows);
  add(2396, pg, "pg_shdescription", {{"objoid", T::kOid}, {"classoid", T::kOid}, {"description", T::kText}},
      empty_rows);
  add(2611, pg, "pg_inherits",
      {{"inhrelid", T::kOid}, {"inhparent", T::kOid}, {"inhseqno", T::kInt4}, {"inhdetachpending", T::kBool}},
      empty_rows);
  add(2620, pg, "pg_trigger",
      {{"oid", T::kOid}, {"tgrelid", T::kOid}, {"tgparentid", T::kOid}, {"tgname", T::kName}, {"tgfoid", T::kOid},
       {"tgtype", T::kInt2}, {"tgenabled", T::kChar}, {"tgisinternal", T::kBool}, {"tgconstrrelid", T::kOid},
       {"tgconstrindid", T::kOid}, {"tgconstraint", T::kOid}, {"tgdeferrable", T::kBool},
       {"tginitdeferred", T::kBool}, {"tgnargs", T::kInt2}, {"tgattr", T::kText}, {"tgargs", T::kBytea},
       {"tgqual", T::kText}},
      empty_rows);
  add(3256, pg, "pg_policy",
      {{"oid", T::kOid}, {"polname", T::kName}, {"polrelid", T::kOid}, {"polcmd", T::kChar},
       {"polpermissive", T::kBool}, {"polroles", T::kOidArray}, {"polqual", T::kText}, {"polwithcheck", T::kText}},
      empty_rows);
  add(6104, pg, "pg_publication",
      {{"oid", T::kOid}, {"pubname", T::kName}, {"pubowner", T::kOid}, {"puballtables", T::kBool},
       {"pubinsert", T::kBool}, {"pubupdate", T::kBool}, {"pubdelete", T::kBool}, {"pubtruncate", T::kBool},
       {"pubviaroot", T::kBool}},
      empty_rows);
  add(6106, pg, "pg_publication_rel",
      {{"oid", T::kOid}, {"prpubid", T::kOid}, {"prrelid", T::kOid}, {"prqual", T::kText},
       {"prattrs", T::kInt2Array}},
      empty_rows);
  add(6237, pg, "pg_publication_namespace", {{"oid", T::kOid}, {"pnpubid", T::kOid}, {"pnnspid", T::kOid}},
      empty_rows);
  add(3381, pg, "pg_statistic_ext",
      {{"oid", T::kOid}, {"stxrelid", T::kOid}, {"stxname", T::kName}, {"stxnamespace", T::kOid},
       {"stxowner", T::kOid}, {"stxstattarget", T::kInt4}, {"stxkeys", T::kText}, {"stxkind", T::kTextArray},
       {"stxexprs", T::kText}},
      empty_rows);
  add(3456, pg, "pg_collation",
      {{"oid", T::kOid}, {"collname", T::kName}, {"collnamespace", T::kOid}, {"collowner", T::kOid},
       {"collprovider", T::kChar}, {"collisdeterministic", T::kBool}, {"collencoding", T::kInt4},
       {"collcollate", T::kText}, {"collctype", T::kText}, {"colliculocale", T::kText}, {"collversion", T::kText}},
      pg_collation_rows);
  add(11003, pg, "pg_get_keywords",
      {{"word", T::kText}, {"catcode", T::kChar}, {"barelabel", T::kBool}, {"catdesc", T::kText}, {"baredesc", T::kText}},
      pg_get_keywords_rows);
  // The session's open cursors: the rows come from the session (Executor::snapshot_fn), the
  // catalog adds none.
  add(11007, pg, "pg_cursors",
      {{"name", T::kText}, {"statement", T::kText}, {"is_holdable", T::kBool}, {"is_binary", T::kBool},
       {"is_scrollable", T::kBool}, {"creation_time", T::kTimestampTz}},
      [](const Catalog&, std::vector<Row>&) {});
  add(11002, pg, "pg_settings",
      {{"name", T::kText}, {"setting", T::kText}, {"unit", T::kText}, {"category", T::kText},
       {"short_desc", T::kText}, {"extra_desc", T::kText}, {"context", T::kText}, {"vartype", T::kText},
       {"source", T::kText}, {"min_val", T::kText}, {"max_val", T::kText}, {"enumvals", T::kTextArray},
       {"boot_val", T::kText}, {"reset_val", T::kText}, {"sourcefile", T::kText}, {"sourceline", T::kInt4},
       {"pending_restart", T::kBool}},
      pg_settings_rows);
  add(1213, pg, "pg_tablespace",
      {{"oid", T::kOid}, {"spcname", T::kName}, {"spcowner", T::kOid}, {"spcacl", T::kTextArray},
       {"spcoptions", T::kTextArray}},
      pg_tablespace_rows);
  add(1255, pg, "pg_proc",
      {{"oid", T::kOid}, {"proname", T::kName}, {"pronamespace", T::kOid}, {"proowner", T::kOid},
       {"prolang", T::kOid}, {"procost", T::kFloat4}, {"prorows", T::kFloat4}, {"provariadic", T::kOid},
       {"prosupport", T::kOid}, {"prokind", T::kChar}, {"prosecdef", T::kBool}, {"proleakproof", T::kBool},
       {"proisstrict", T::kBool}, {"proretset", T::kBool}, {"provolatile", T::kChar}, {"proparallel", T::kChar},
       {"pronargs", T::kInt2}, {"pronargdefaults", T::kInt2}, {"prorettype", T::kOid}, {"proargtypes", T::kOidVector},
       {"proallargtypes", T::kOidArray}, {"proargmodes", T::kTextArray}, {"proargnames", T::kTextArray},
       {"proargdefaults", T::kText}, {"prosrc", T::kText}, {"probin", T::kText}, {"proconfig", T::kTextArray},
       {"proacl", T::kTextArray}},
      pg_proc_rows);
  add(2612, pg, "pg_language",
      {{"oid", T::kOid}, {"lanname", T::kName}, {"lanowner", T::kOid}, {"lanispl", T::kBool},
       {"lanpltrusted", T::kBool}, {"lanplcallfoid", T::kOid}, {"laninline", T::kOid}, {"lanvalidator", T::kOid},
       {"lanacl", T::kTextArray}},
      pg_language_rows);
  add(3079, pg, "pg_extension",
      {{"oid", T::kOid}, {"extname", T::kName}, {"extowner", T::kOid}, {"extnamespace", T::kOid},
       {"extrelocatable", T::kBool}, {"extversion", T::kText}, {"extconfig", T::kOidArray},
       {"extcondition", T::kTextArray}},
      empty_rows);
  add(2224, pg, "pg_sequence",
      {{"seqrelid", T::kOid}, {"seqtypid", T::kOid}, {"seqstart", T::kInt8}, {"seqincrement", T::kInt8},
       {"seqmax", T::kInt8}, {"seqmin", T::kInt8}, {"seqcache", T::kInt8}, {"seqcycle", T::kBool}},
      empty_rows);
  add(3118, pg, "pg_foreign_table", {{"ftrelid", T::kOid}, {"ftserver", T::kOid}, {"ftoptions", T::kTextArray}},
      empty_rows);
  add(1417, pg, "pg_foreign_server",
      {{"oid", T::kOid}, {"srvname", T::kName}, {"srvowner", T::kOid}, {"srvfdw", T::kOid}, {"srvtype", T::kText},
       {"srvversion", T::kText}, {"srvacl", T::kTextArray}, {"srvoptions", T::kTextArray}},
      empty_rows);
  add(2328, pg, "pg_foreign_data_wrapper",
      {{"oid", T::kOid}, {"fdwname", T::kName}, {"fdwowner", T::kOid}, {"fdwhandler", T::kOid},
       {"fdwvalidator", T::kOid}, {"fdwacl", T::kTextArray}, {"fdwoptions", T::kTextArray}},
      empty_rows);
  add(3350, pg, "pg_partitioned_table",
      {{"partrelid", T::kOid}, {"partstrat", T::kChar}, {"partnatts", T::kInt2}, {"partdefid", T::kOid},
       {"partattrs", T::kText}, {"partclass", T::kText}, {"partcollation", T::kText}, {"partexprs", T::kText}},
      empty_rows);
  add(2618, pg, "pg_rewrite",
      {{"oid", T::kOid}, {"rulename", T::kName}, {"ev_class", T::kOid}, {"ev_type", T::kChar},
       {"ev_enabled", T::kChar}, {"is_instead", T::kBool}, {"ev_qual", T::kText}, {"ev_action", T::kText}},
      pg_rewrite_rows);
  add(2608, pg, "pg_depend",
      {{"classid", T::kOid}, {"objid", T::kOid}, {"objsubid", T::kInt4}, {"refclassid", T::kOid},
       {"refobjid", T::kOid}, {"refobjsubid", T::kInt4}, {"deptype", T::kChar}},
      empty_rows);
  add(3501, pg, "pg_enum",
      {{"oid", T::kOid}, {"enumtypid", T::kOid}, {"enumsortorder", T::kFloat4}, {"enumlabel", T::kName}},
      empty_rows);
  add(3541, pg, "pg_range",
      {{"rngtypid", T::kOid}, {"rngsubtype", T::kOid}, {"rngmultitypid", T::kOid}, {"rngcollation", T::kOid},
       {"rngsubopc", T::kOid}, {"rngcanonical", T::kOid}, {"rngsubdiff", T::kOid}},
      empty_rows);
  add(3466, pg, "pg_event_trigger",
      {{"oid", T::kOid}, {"evtname", T::kName}, {"evtevent", T::kName}, {"evtowner", T::kOid},
       {"evtfoid", T::kOid}, {"evtenabled", T::kChar}, {"evttags", T::kTextArray}},
      empty_rows);
  add(11003, pg, "pg_tables",
      {{"schemaname", T::kName}, {"tablename", T::kName}, {"tableowner", T::kName}, {"tablespace", T::kName},
       {"hasindexes", T::kBool}, {"hasrules", T::kBool}, {"hastriggers", T::kBool}, {"rowsecurity", T::kBool}},
      pg_tables_rows);
  add(11004, pg, "pg_views",
      {{"schemaname", T::kName}, {"viewname", T::kName}, {"viewowner", T::kName}, {"definition", T::kText}},
      pg_views_rows);
  add(11005, pg, "pg_matviews",
      {{"schemaname", T::kName}, {"matviewname", T::kName}, {"matviewowner", T::kName}, {"tablespace", T::kName},
       {"hasindexes", T::kBool}, {"ispopulated", T::kBool}, {"definition", T::kText}},
      pg_matviews_rows);
  add(11006, pg, "pg_indexes",
      {{"schemaname", T::kName}, {"tablename", T::kName}, {"indexname", T::kName}, {"tablespace", T::kName},
       {"indexdef", T::kText}},
      pg_indexes_rows);

  const char* is = "information_schema";
  add(13001, is, "tables",
      {{"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName}, {"table_type", T::kText},
       {"self_referencing_column_name", T::kName}, {"reference_generation", T::kText},
       {"user_defined_type_catalog", T::kName}, {"user_defined_type_schema", T::kName},
       {"user_defined_type_name", T::kName}, {"is_insertable_into", T::kText}, {"is_typed", T::kText},
       {"commit_action", T::kText}},
      tables_rows);
  add(13002, is, "columns",
      {{"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName},
       {"column_name", T::kName}, {"ordinal_position", T::kInt4}, {"column_default", T::kText},
       {"is_nullable", T::kText}, {"data_type", T::kText}, {"character_maximum_length", T::kInt4},
       {"character_octet_length", T::kInt4}, {"numeric_precision", T::kInt4}, {"numeric_precision_radix", T::kInt4},
       {"numeric_scale", T::kInt4}, {"datetime_precision", T::kInt4}, {"interval_type", T::kText},
       {"udt_catalog", T::kName}, {"udt_schema", T::kName}, {"udt_name", T::kName}, {"dtd_identifier", T::kName},
       {"is_identity", T::kText}, {"is_generated", T::kText}, {"is_updatable", T::kText}},
      columns_rows);
  add(13003, is, "schemata",
      {{"catalog_name", T::kName}, {"schema_name", T::kName}, {"schema_owner", T::kName},
       {"default_character_set_catalog", T::kName}, {"default_character_set_schema", T::kName},
       {"default_character_set_name", T::kName}, {"sql_path", T::kText}},
      schemata_rows);
  add(13004, is, "views",
      {{"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName},
       {"view_definition", T::kText}, {"check_option", T::kText}, {"is_updatable", T::kText},
       {"is_insertable_into", T::kText}, {"is_trigger_updatable", T::kText}, {"is_trigger_deletable", T::kText},
       {"is_trigger_insertable_into", T::kText}},
      views_rows);
  add(13005, is, "table_constraints",
      {{"constraint_catalog", T::kName}, {"constraint_schema", T::kName}, {"constraint_name", T::kName},
       {"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName},
       {"constraint_type", T::kText}, {"is_deferrable", T::kText}, {"initially_deferred", T::kText},
       {"enforced", T::kText}, {"nulls_distinct", T::kText}},
      table_constraints_rows);
  add(13006, is, "key_column_usage",
      {{"constraint_catalog", T::kName}, {"constraint_schema", T::kName}, {"constraint_name", T::kName},
       {"table_catalog", T::kName}, {"table_schema", T::kName}, {"table_name", T::kName},
       {"column_name", T::kName}, {"ordinal_position", T::kInt4}, {"position_in_unique_constraint", T::kInt4}},
      key_column_usage_rows);
  for (auto [oid, name, rows] : {std::tuple{13007u, "table_privileges", &table_privileges_rows},
                                 std::tuple{13008u, "role_table_grants", &role_table_grants_rows}})
    add(oid, is, name,
        {{"grantor", T::kName}, {"grantee", T::kName}, {"table_catalog", T::kName}, {"table_schema", T::kName},
         {"table_name", T::kName}, {"privilege_type", T::kText}, {"is_grantable", T::kText}, {"with_hierarchy", T::kText}},
        rows);
  return v;
}

}  // namespace freshet::server
