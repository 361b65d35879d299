#pragma once
// Materialize's SHOW CREATE text (the materialize SQL dialect, common/sql_dialect.hpp).
//
// Materialize answers SHOW CREATE VIEW | MATERIALIZED VIEW | TABLE | INDEX with its own
// rendering of the statement: every catalog object named database.schema.name (system objects
// schema.name), functions and types qualified by their schema (`pg_catalog.sum(a)`,
// `::pg_catalog.int4`), operators as written (`2 OPERATOR(+) 2`), then laid out by its
// `mz_sql_pretty` crate: a Wadler-style document printer (the Rust `pretty` crate's
// algorithm) at width 100, which keeps a statement on one line when it fits and otherwise
// breaks it into indented clauses. This file is that printer over libpg_query's parse tree:
// a document model with the `pretty` crate's group/nest/line semantics, the document rules of
// mz_sql_pretty (src/sql-pretty/src/doc.rs there) and the flat rules of its AST display.
//
// What PostgreSQL's parse tree does not keep is approximated: parentheses are printed where
// precedence needs them (Materialize keeps those the user wrote); operators are recognized
// as written through their position in the source text. A construct the printer does not
// know (window functions, RangeFunction in FROM, SQL-syntax functions such as EXTRACT, ...)
// makes it give up (nullopt), and the caller prints its plain text instead.
//
// Pure functions of their arguments; any thread.
#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::sql::mz {

// Width of a line, mz_sql_pretty::DEFAULT_WIDTH at the Materialize commit the suite is from.
inline constexpr size_t kPrettyWidth = 100;

// A relation name as the statement wrote it (schema empty when unqualified) to its printed
// qualified form (`materialize.public.t`, `mz_catalog.mz_views`), already quoted; nullopt
// when it names no catalog object.
using RelationResolver = std::function<std::optional<std::string>(std::string_view schema, std::string_view name)>;

// Materialize's identifier display: bare when it matches [a-z_][a-z0-9_]* and is not one of
// its sometimes-reserved keywords, else in double quotes (inner quotes doubled).
std::string ident(std::string_view name);

// `CREATE [MATERIALIZED] VIEW <name> [(cols)] AS <query>;` laid out as Materialize prints it.
// `query` is the view's SelectStmt node, `source` the SQL text whose parse gave it (its
// locations index it). `cluster` is printed as `IN CLUSTER <cluster>` for a materialized
// view. nullopt when the query holds something the printer does not render.
std::optional<std::string> pretty_create_view(bool materialized, const std::string& qualified_name,
                                              const std::vector<std::string>& columns, const PgQuery__Node* query,
                                              std::string_view source, const RelationResolver& resolve,
                                              std::string_view cluster);

// One column of CREATE TABLE: name, Materialize's type name, NOT NULL, DEFAULT.
struct TableColumn {
  std::string name;
  std::string type;                         // already in Materialize's form (type_name())
  bool not_null = false;
  std::optional<std::string> default_sql;  // an expression in PostgreSQL's syntax
};
// `CREATE TABLE <name> (cols, constraints);` laid out as Materialize prints it; a default
// expression the printer does not render is printed as stored.
std::string pretty_create_table(const std::string& qualified_name, const std::vector<TableColumn>& columns,
                                const std::vector<std::string>& constraints, const RelationResolver& resolve);

// `CREATE INDEX <name> IN CLUSTER <cluster> ON <relation> (keys);`
std::string pretty_create_index(const std::string& name, std::string_view cluster, const std::string& on_qualified,
                                const std::vector<std::string>& keys);

// Materialize's name for a type given its PostgreSQL spelling (names as the grammar gives
// them, typmods as text): `pg_catalog.int4`, `pg_catalog.numeric(38, 2)`, `pg_catalog.text[]`;
// nullopt for a type it does not map.
std::optional<std::string> type_name(const std::vector<std::string>& names, const std::vector<std::string>& typmods,
                                     size_t array_dims);

}  // namespace freshet::sql::mz
