#pragma once
// Folding the values of initplans that have run into a one-shot plan (dataflow/in_set.hpp,
// sql/README.md "Initplans"). After run_oneshot's initplan phase (run_initplans in
// oneshot.hpp) every kInSetValue / kInSetExists holds its subplan's rows; one that ran without
// error and returned at most one row has a known value (its row's datum, NULL for no row;
// EXISTS: whether a row came), the same for every row of the query. fold_initplans replaces
// each such expression by a literal of that value and folds the expressions around it again,
// so that `y = (SELECT max(y) FROM u) - 950` is evaluated as `y = 12345` and a key fixed by it
// can be looked up (src/server's rewrite_point_lookups and index fast path).
//
// PostgreSQL does not know an initplan's value when it plans: the expressions around its
// Param are evaluated per row, so their errors are raised only by the rows that reach them.
// The fold keeps that exactly:
//  * an expression whose arguments are all constants becomes a literal only when evaluating
//    it succeeds (an error is left for the rows that reach it: `CASE WHEN x > 5 THEN
//    (SELECT max(y) FROM u) + 9223372036854775807 END` raises 22003 only for x > 5);
//  * a strict call with a NULL argument becomes NULL only when its other arguments cannot
//    raise (PostgreSQL computes every argument before the strictness check: `1/x = (SELECT
//    NULL::int)` still raises 22012 where x = 0);
//  * AND / OR drop TRUE / FALSE arguments; a FALSE / TRUE argument drops the arguments after
//    it (never evaluated) and decides only when the arguments before it cannot raise;
//  * CASE drops arms whose condition became FALSE or NULL and ends at one that became TRUE;
//    COALESCE drops NULL arguments and ends at a non-NULL one (the arguments evaluated before
//    are unchanged);
//  * a Filter drops conjuncts that became TRUE and ends at one that became FALSE or NULL
//    (conjuncts run in order, sql/lower.cpp ordered_quals); it becomes empty only when it
//    reads a Get directly and the conjuncts before cannot raise.
// An initplan whose subplan raised, or returned two rows, is left as it is: the error is raised
// by the first row that reads it (eval.cpp, kInSet).
//
// Thread-safety: a pure rewrite of `plan`; evaluates immutable functions only.

#include <cstddef>

#include "dataflow/ir.hpp"

namespace freshet::dataflow {

// Replaces every evaluated initplan with a known value in plan's expressions (not inside the
// subplans of kInSets: each ran with its own fold) and folds around it as above. Returns the
// number of initplan expressions replaced.
size_t fold_initplans(RelExpr& plan);

// Whether evaluating e can raise an error for some row: false only for columns, literals,
// parameters, mz_now(), comparisons and boolean connectives over those.
bool may_raise(const ScalarExpr& e);

}  // namespace freshet::dataflow
