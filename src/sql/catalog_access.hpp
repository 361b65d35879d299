#pragma once
// The evaluation-time catalog (common/functions.hpp CatalogAccess) over the binder's
// CatalogView: what the reg* types and psql's catalog functions (pg_get_indexdef,
// pg_get_constraintdef, pg_get_viewdef, pg_get_ruledef) need, computed on demand from the
// catalog's objects. The server's Executor puts one in every EvalContext it builds; the
// binder uses one to resolve reg* literals ('t'::regclass) at bind time.
//
// Also the oids Freshet synthesises for catalog rows that are not catalog objects (a table's
// key constraints and their indexes, a view's _RETURN rule), shared with the pg_catalog
// relations (src/server/system_views.cpp) so that both agree.
//
// Thread-safety: as the CatalogView it wraps (the server holds its catalog lock while a
// statement runs).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/functions.hpp"
#include "sql/catalog.hpp"

namespace freshet::sql {

// REQUIRES: catalog outlives the result.
std::shared_ptr<const CatalogAccess> catalog_access(const CatalogView& catalog);

// ---- synthetic oids ---------------------------------------------------------------------------
// User oids are handed out from 16385 up, so these ranges (above 2^30) do not meet them while
// there are fewer than 2^25 user objects. An index or constraint oid is its table's oid * 32 + k:
// k = 0 for the primary key, k = j + 1 for the j-th UNIQUE constraint.
inline constexpr uint32_t kRoleOid = 10;  // the bootstrap superuser, named freshet
inline uint32_t key_slot(uint32_t table_oid, size_t k) {
  return ((table_oid & 0x1FFFFFFu) << 5) | static_cast<uint32_t>(k < 31 ? k : 31);
}
inline uint32_t key_index_oid(uint32_t table_oid, size_t k) { return 0x40000000u + key_slot(table_oid, k); }
inline uint32_t key_constraint_oid(uint32_t table_oid, size_t k) { return 0x80000000u + key_slot(table_oid, k); }
inline uint32_t rewrite_oid(uint32_t view_oid) { return 0xC0000000u + (view_oid & 0x0FFFFFFFu); }
inline uint32_t attrdef_oid(uint32_t table_oid, size_t attnum) {
  return 0xE0000000u + ((table_oid & 0x1FFFFu) << 11) + static_cast<uint32_t>(attnum & 0x7FFu);
}
// pg_namespace oids: the three fixed schemas, and any other from a hash of its name.
uint32_t namespace_oid_of(std::string_view schema);

// PostgreSQL's quote_ident: the name as is when it is a plain lower-case identifier.
std::string quote_identifier(std::string_view name);

// A table's key constraint k (0: primary key, j + 1: j-th UNIQUE) as psql shows it.
struct KeyConstraint {
  std::string name;        // t_pkey, t_a_b_key
  std::string definition;  // PRIMARY KEY (a) / UNIQUE (a, b)
  std::string index_definition;  // CREATE UNIQUE INDEX t_pkey ON public.t USING btree (a)
  std::vector<std::string> columns;  // quoted key column names
};
// nullopt when the table has no such key.
std::optional<KeyConstraint> key_constraint(const ObjectInfo& table, size_t k);

}  // namespace freshet::sql
