#pragma once
// SELECT ... AS OF <expr> (Materialize's syntax; the streaming parser hands over the query and
// the expression's text). Freshet keeps no history, so:
//
// - a query that reads no collection (constant views, VALUES, mz_now()) is valid at every
//   timestamp and runs with mz_now() = the AS OF time, also in the past or the far future;
// - a query that reads collections answers AS OF the present or a later time (after waiting
//   for it), AS OF AT LEAST any time; an earlier time is refused ("could not find a valid
//   timestamp for the query", 22023).
//
// The AS OF expression is a constant cast to mz_timestamp as Materialize casts it: a
// non-negative integral number up to 2^64 - 1, a timestamp / timestamptz / date (milliseconds
// since the Unix epoch) or a string of digits; anything else (NULL, 1.2, -1, an error while
// evaluating) is 22023, and functions whose value depends on the session or the clock (now(),
// current_database(), mz_now(), ...) are 0A000, in the expression and in the query.
// Thread-safety: pure functions over the binder they are given.

#include <cstdint>
#include <string>

#include "dataflow/ir.hpp"
#include "sql/binder.hpp"

namespace freshet::server {

// The AS OF expression's value. Throws SqlError.
uint64_t evaluate_as_of(sql::Binder& binder, const std::string& expr_sql);
// Throws 0A000 when the query calls a function AS OF cannot pin (now(), current_user, ...).
void check_as_of_query(const std::string& query_sql);
// Whether the plan reads any collection (a kGet anywhere).
bool reads_collections(const dataflow::RelExpr& plan);
// A plan about to be maintained (index, materialized view, SUBSCRIBE, sink) must not read
// mz_now() outside a temporal filter: its value would stay that of the moment the dataflow was
// built (`CREATE VIEW v AS SELECT mz_now()` indexed showed a frozen time). Throws 0A000 as
// Materialize does ("cannot materialize call to mz_now()"). One-shot SELECTs may read it.
void check_maintainable(const dataflow::RelExpr& plan);

}  // namespace freshet::server
