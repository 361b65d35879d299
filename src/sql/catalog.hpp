#pragma once
// What the binder needs to know of the catalog: objects by name, their columns and kinds.
// The server module implements CatalogView over its catalog (and the pg_catalog /
// information_schema relations, which are computed from it on read).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/types.hpp"

namespace freshet::sql {

struct ColumnInfo {
  std::string name;
  Type type;
  bool nullable = true;
  std::optional<std::string> default_sql;  // the DEFAULT expression's SQL text
};

// One entry of an access control list (PostgreSQL's aclitem): the privileges `grantee` holds
// (a mask of server/roles.hpp's priv:: bits) and those it may grant on (grant_options), as
// granted by `grantor`. Role oids; grantee 0 is PUBLIC.
struct AclItem {
  uint32_t grantee = 0;
  uint32_t grantor = 0;
  uint32_t privs = 0;
  uint32_t grant_options = 0;
  bool operator==(const AclItem&) const = default;
};

// kSchema and kDatabase (CREATE SCHEMA / DATABASE) are catalog objects too, so that they are
// durable and transactional like the others; their `name` is the schema's or database's name
// and their `schema` is empty. (Stored by number: new kinds go at the end.)
// kType: CREATE TYPE (type_of_type_object).
enum class ObjectKind : uint8_t { kTable, kView, kMaterializedView, kIndex, kSystemView, kSource, kSecret, kConnection, kSink, kSchema, kDatabase, kType };

struct ObjectInfo {
  uint64_t id = 0;       // collection id (kGet) for tables, system views, materialized views
  uint32_t oid = 0;      // pg_class.oid
  std::string schema = "public";
  std::string name;
  ObjectKind kind = ObjectKind::kTable;
  std::vector<ColumnInfo> columns;
  std::vector<uint32_t> primary_key;  // column positions
  // UNIQUE constraints (NULLs are distinct), each a list of column positions.
  std::vector<std::vector<uint32_t>> unique_keys;
  std::string definition_sql;         // kView, kMaterializedView: the SELECT's text
  // kView, kMaterializedView: the search_path setting its definition was bound with (empty:
  // the default, `public`); its text is always bound again with it (CatalogView::in_search_path).
  std::string search_path;
  // kView, kMaterializedView under the materialize dialect: the CREATE statement as the user
  // wrote it, for SHOW CREATE (sql/mz_pretty.hpp prints Materialize's text from it: the tree
  // of definition_sql has lost what only the text keeps, `OPERATOR(+)`). Empty when unknown
  // or when definition_sql was rewritten after (ALTER ... RENAME); then definition_sql is used.
  std::string source_sql;
  // kView: an index keeps the view's results up to date, so queries read them (a Get of the
  // view's id) instead of recomputing the definition.
  bool maintained = false;
  // kTable, kIndex, kMaterializedView: how much history is kept (Materialize's WITH (RETAIN
  // HISTORY FOR '1h')), in milliseconds; 0: none (reads at the present only).
  uint64_t retain_history_ms = 0;
  // kTable filled by a source: the source's id (the table is read-only to users).
  uint64_t source_id = 0;
  // kSecret: the value; kConnection: its type and options (secrets by name).
  std::string secret_value;
  std::string connection_type;
  std::vector<std::pair<std::string, std::string>> connection_options;
  // kIndex: the object it indexes and its key columns.
  uint64_t index_on = 0;
  std::vector<uint32_t> index_key;
  // kIndex on a table: CREATE UNIQUE INDEX, a uniqueness constraint named after the index.
  bool index_unique = false;
  // The owning role's oid (0: stored before owners existed, i.e. the bootstrap role) and the
  // ACL; nullopt until the first GRANT/REVOKE (the default: the owner has every privilege).
  uint32_t owner = 0;
  std::optional<std::vector<AclItem>> acl;
  // kSchema, kDatabase: Materialize's number for it (mz_schemas.id / mz_databases.id `u<n>`),
  // from a counter per kind that never goes back (Catalog::add); kept across renames and SWAP.
  // kDatabase: also the number its own `public` schema takes in Materialize (mz_public_id), so
  // that the schemas created after it are numbered as Materialize numbers them.
  uint64_t mz_id = 0;
  uint64_t mz_public_id = 0;
};

// A kType object's type: a composite type (its columns are the fields) or a named list type
// (one column named kListElementField, sql/mz_syntax.hpp, of the element type). Interned
// (common/types.hpp) by the object's oid and shown name (`name`, or `schema.name` outside
// public), so the same object always gives the same Type.
Type type_of_type_object(const ObjectInfo& o);
// The oids of the named types (CREATE TYPE) a type is made of, itself included: what an
// object with a column of that type depends on.
void collect_named_type_oids(Type t, std::vector<uint32_t>& oids);

class CatalogView {
 public:
  virtual ~CatalogView() = default;
  // schema empty: the search path (pg_catalog's own names first, then the session's
  // search_path, by default public). Never returns a kSchema or kDatabase object.
  virtual const ObjectInfo* lookup(std::string_view schema, std::string_view name) const = 0;
  virtual const ObjectInfo* lookup_oid(uint32_t oid) const = 0;
  // Called by the binder for every catalog relation a query reads (views too, and the
  // relations inside a view's definition): `in_view` is the innermost view being expanded
  // (null at the query's top level), whose owner's rights apply to what it reads, as in
  // PostgreSQL. Throws SqlError (42501) to refuse. The default allows everything.
  virtual void check_read(const ObjectInfo& obj, const ObjectInfo* in_view, int position) const {
    (void)obj, (void)in_view, (void)position;
  }
  // Roles for the reg* types and catalog functions (common/functions.hpp CatalogAccess). The
  // defaults know the bootstrap role only.
  virtual std::optional<std::string> role_name(uint32_t oid) const {
    if (oid == 10) return std::string("freshet");
    return std::nullopt;
  }
  virtual std::optional<uint32_t> role_oid(std::string_view name) const {
    if (name == "freshet") return 10;
    return std::nullopt;
  }
  // See CatalogAccess::has_privilege.
  virtual bool has_privilege(char kind, std::string_view user, std::string_view object_name, uint32_t object_oid,
                             std::string_view privilege) const {
    (void)kind, (void)user, (void)object_name, (void)object_oid, (void)privilege;
    return true;
  }
  // Runs f with unqualified names resolved in `search_path` (a search_path setting's text;
  // empty: the default), as a view's definition must be bound (ObjectInfo::search_path).
  virtual void in_search_path(std::string_view search_path, const std::function<void()>& f) const {
    (void)search_path;
    f();
  }
  // Whether `db.schema.name` names this session's database (other databases' objects cannot be
  // referenced: 0A000, as PostgreSQL).
  // See CatalogAccess::search_path_schemas.
  virtual std::vector<std::string> search_path_schemas(std::string_view user) const {
    (void)user;
    return {"public"};
  }
  virtual bool is_current_database(std::string_view name) const {
    (void)name;
    return true;
  }
};

}  // namespace freshet::sql
