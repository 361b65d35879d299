#pragma once
// Texts that catalog functions (pg_get_indexdef, pg_get_constraintdef, pg_get_viewdef,
// pg_get_ruledef) return for an object oid.
//
// Why a published snapshot: a scalar function sees only its arguments and the EvalContext,
// which carries no catalog. The server's pg_catalog relations (src/server/system_views.cpp)
// rebuild this snapshot from the catalog whenever psql or a driver reads pg_class, pg_index,
// pg_constraint, pg_rewrite or the pg_views/pg_indexes views, which every \d query does
// before it calls these functions. A query that calls e.g. pg_get_viewdef(oid) without having
// read any of those relations since the last DDL can see a stale text (or NULL for an object
// created since). The proper fix is a catalog handle in EvalContext; until then this keeps
// the function library free of a dependency on the server.
//
// Thread-safety: publish and current may be called from any thread; a snapshot is immutable.
// Process-wide: several catalogs in one process (tests) overwrite each other's snapshot.

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace freshet::fn {

struct CatalogTexts {
  struct Index {
    std::string definition;            // CREATE [UNIQUE] INDEX name ON schema.table USING btree (cols)
    std::vector<std::string> columns;  // key column names, for pg_get_indexdef(oid, n, pretty)
  };
  std::unordered_map<uint32_t, Index> indexes;             // by index oid
  std::unordered_map<uint32_t, std::string> constraints;   // by constraint oid: "PRIMARY KEY (a)"
  std::unordered_map<uint32_t, std::string> views;         // by view oid: the SELECT text
  std::unordered_map<uint32_t, std::string> rules;         // by pg_rewrite oid: CREATE RULE ...
  std::unordered_map<std::string, uint32_t> views_by_name; // "schema.name" and "name" -> view oid
};

void publish_catalog_texts(std::shared_ptr<const CatalogTexts> texts);
std::shared_ptr<const CatalogTexts> current_catalog_texts();

}  // namespace freshet::fn
