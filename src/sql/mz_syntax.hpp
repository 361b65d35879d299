#pragma once
// Materialize's syntax that PostgreSQL's grammar (libpg_query) lacks, turned into forms the
// grammar accepts before the statement is parsed again:
//
//   INTERVAL '30' minutes             ->  INTERVAL '30 minutes'  (years, months, days, hours,
//                                         minutes, seconds; only for a whole number, where the
//                                         two mean the same)
//   lag(x) IGNORE NULLS OVER (...)    ->  __mz_lag_ignore_nulls(x) OVER (...)   (also lead)
//   lag(x) RESPECT NULLS OVER (...)   ->  lag(x) OVER (...)                  (the default)
//   LIST[a, [b]]                      ->  (__mz_list(a, (__mz_list(b))))  (Materialize's list
//                                         constructor; parenthesized so that it can be subscripted)
//   x::int4 list list, CAST(x AS numeric(10,2) list)
//                                     ->  x::"int4 list list", CAST(x AS "numeric(10,2) list")
//                                         (the binder reads the element type back; a
//                                         type written after :: or AS only)
//   CREATE TYPE t AS LIST (ELEMENT TYPE = T)
//                                     ->  CREATE TYPE t AS ("__mz_list_element" T), a composite
//                                         type of one marker field, read back as a named list
//                                         type (server/sequencer/create_type.cpp)
//   CREATE TYPE t AS MAP (...)        ->  SqlError 0A000 (Freshet has no map type)
//   SELECT ... QUALIFY cond [WINDOW ...] [ORDER BY ...]
//                                     ->  SELECT ... WINDOW __mz_qualify AS (PARTITION BY (cond)) ...
//
// The binder reads the marker names back (Binder::bind_window_call, bind_select_core). They
// need no quoting, so the deparsed text of a view (its stored definition) parses again; a
// view's shown definition has these forms. Only called for a
// statement the grammar rejected, so ordinary statements pay nothing and keep their
// positions.
//
// Throws SqlError 0A000 for IGNORE/RESPECT NULLS on other functions (as Materialize) and
// 42601 when both are given. Thread-safety: pure function. Cost: linear in the text.

#include <optional>
#include <string>
#include <string_view>

namespace freshet::sql {

// The rewritten statement, or nullopt when it uses none of the forms above.
std::optional<std::string> rewrite_mz_syntax(std::string_view sql);
// Only `expr::T list`, for a statement the grammar took: there `x::int list` is a cast to int
// under the alias "list", which in Materialize is a cast to `int list`. nullopt when absent.
std::optional<std::string> rewrite_mz_list_types(std::string_view sql);

// Only for a server in the Materialize dialect (common/sql_dialect.hpp): `INTERVAL 'x' years`
// (years, months, days, hours, minutes, seconds) -> `INTERVAL 'x' YEAR`, the qualifier
// Materialize reads there (`INTERVAL '10.333' years` is 10 years), where PostgreSQL's grammar
// takes the word as a column alias; `INTERVAL 'x' MONTH TO MINUTE` (any HIGH TO LOW, plurals
// too, SECOND(p) last; PostgreSQL's grammar has seven of them) -> `INTERVAL '<value>'`, the
// literal read at once as Materialize's planner does. Throws the literal's SqlError (22007,
// 22015, 22023 for SECOND(7)). nullopt when absent.
std::optional<std::string> rewrite_mz_interval_units(std::string_view sql);

inline constexpr std::string_view kQualifyWindowName = "__mz_qualify";
// LIST[a, b] is rewritten to __mz_list(a, b); `T list` to the quoted type name "T list".
inline constexpr std::string_view kListConstructor = "__mz_list";
// CREATE TYPE t AS LIST (ELEMENT TYPE = T) is rewritten to CREATE TYPE t AS (__mz_list_element T).
inline constexpr std::string_view kListElementField = "__mz_list_element";

}  // namespace freshet::sql
