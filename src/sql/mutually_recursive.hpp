#pragma once
// Materialize's WITH MUTUALLY RECURSIVE, which libpg_query's grammar lacks:
//
//   WITH MUTUALLY RECURSIVE [ ( RETURN | ERROR ) AT RECURSION LIMIT n ) ]
//     name ( column type [, ...] ) AS ( query ) [, ...]
//   final_query
//
// A small pre-parser of our own finds the pieces (skipping strings, quoted identifiers,
// comments and nested parentheses); each query is then parsed by libpg_query (parser.hpp)
// and bound by Binder::bind_mutually_recursive (binder.hpp).
//
// Entry points for the session: is_mutually_recursive(text) for a statement libpg_query
// rejected, then Binder::bind_mutually_recursive(text). find_mutually_recursive locates the
// query inside a larger statement (CREATE VIEW v AS WITH MUTUALLY RECURSIVE ...).
// Cost: linear in the text. Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freshet::sql {

struct MutuallyRecursiveBinding {
  std::string name;         // lower-cased unless quoted
  std::string columns_sql;  // "a int, b text": the column definitions between the parentheses
  std::string query_sql;    // the binding's query
  size_t query_offset = 0;  // where query_sql starts in the statement (0-based)
  int position = 0;         // 1-based position of the name
};

struct MutuallyRecursiveQuery {
  std::optional<uint64_t> limit;  // RECURSION LIMIT n
  bool return_at_limit = false;   // RETURN AT (else ERROR AT)
  std::vector<MutuallyRecursiveBinding> bindings;
  std::string final_sql;
  size_t final_offset = 0;
};

// Whether the statement is a WITH MUTUALLY RECURSIVE query (after whitespace, comments and
// opening parentheses).
bool is_mutually_recursive(std::string_view sql);
// The offset of the first WITH MUTUALLY RECURSIVE outside strings and comments, or npos.
size_t find_mutually_recursive(std::string_view sql);
// Splits a WITH MUTUALLY RECURSIVE query. Throws SqlError 42601 with a position.
MutuallyRecursiveQuery split_mutually_recursive(std::string_view sql);

}  // namespace freshet::sql
