#pragma once
// What the binder needs to know of the catalog: objects by name, their columns and kinds.
// The server module implements CatalogView over its catalog (and the pg_catalog /
// information_schema relations, which are computed from it on read).

#include <cstdint>
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

enum class ObjectKind : uint8_t { kTable, kView, kMaterializedView, kIndex, kSystemView, kSource, kSecret, kConnection, kSink };

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
  // kView: an index keeps the view's results up to date, so queries read them (a Get of the
  // view's id) instead of recomputing the definition.
  bool maintained = false;
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
};

class CatalogView {
 public:
  virtual ~CatalogView() = default;
  // schema empty: the search path (public, then pg_catalog, then information_schema).
  virtual const ObjectInfo* lookup(std::string_view schema, std::string_view name) const = 0;
  virtual const ObjectInfo* lookup_oid(uint32_t oid) const = 0;
};

}  // namespace freshet::sql
