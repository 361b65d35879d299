#pragma once
// ALTER TABLE | VIEW | MATERIALIZED VIEW ... RENAME TO when views name the relation: views keep
// their definition as SQL text (a deparsed SELECT, bound again whenever they are read and at
// start-up), so a rename rewrites the text of every view that names the relation, as
// PostgreSQL's pg_get_viewdef shows the new name (PostgreSQL keeps the view's parse tree by oid).
//
// Pure function over SQL text; any thread. Cost: one parse and one deparse of the definition.

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace freshet::sql {

struct RenameRefs {
  // The relation's old and new names.
  std::string old_name;
  std::string new_name;
  // Whether a reference (schema "" when unqualified) names the renamed relation, resolved as
  // the view's definition resolves it (its recorded search_path).
  std::function<bool(std::string_view schema, std::string_view name)> names_it;
  // The schema to qualify a rewritten unqualified reference with when the new name would
  // resolve to another relation in the view's search path; "" to leave it unqualified.
  std::string qualify_with;
};

// The definition with every reference to the relation renamed: FROM items (their alias is
// kept) and, when such an item has no alias, column references qualified by the old name
// (`t.x`, `s.t.x`, `t.*`). The text is returned unchanged when nothing names the relation.
// nullopt when the text cannot be rewritten safely: it does not parse (a WITH MUTUALLY
// RECURSIVE definition is kept verbatim), or the old name is also a CTE, an alias or another
// relation's name in it, so a qualified column reference could mean either.
std::optional<std::string> rename_relation_refs(const std::string& definition, const RenameRefs& r);

}  // namespace freshet::sql
