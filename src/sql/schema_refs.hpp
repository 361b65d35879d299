#pragma once
// ALTER SCHEMA s RENAME TO t when views name s (Materialize allows it and SHOW CREATE shows
// the new name; its rename.slt): the statement or definition with every qualifier `s` renamed
// in relation names (`s.t`, `db.s.t`), column references (`s.t.x`, `s.t.*`), type names
// (`s.ty`) and function names (`s.f(...)`). Unqualified names are left to the view's search
// path, which the caller renames too (server/catalog.cpp Catalog::rename_schema).
//
// Pure function over SQL text; any thread. Cost: one parse and, when something names the
// schema, one deparse. (Implemented in rename_refs.cpp beside rename_relation_refs.)

#include <optional>
#include <string>
#include <string_view>

namespace freshet::sql {

// The text unchanged when nothing names the schema; nullopt when it does not parse (a WITH
// MUTUALLY RECURSIVE definition) or is not one statement.
std::optional<std::string> rename_schema_refs(const std::string& text, std::string_view old_schema, std::string_view new_schema);

}  // namespace freshet::sql
