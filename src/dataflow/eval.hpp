#pragma once
// Scalar expression evaluation (ir.hpp ScalarExpr) over one row of Datums, with SQL's
// three-valued logic. Strict function calls return NULL for a NULL argument without calling
// the function; AND/OR short-circuit (FALSE AND error = FALSE, TRUE OR error = TRUE, as
// PostgreSQL does in practice).
//
// Cost: one recursive walk of the tree; no heap allocation for non-string results (call
// arguments live on the stack up to 8 of them). String results live in ctx.arena, which the
// caller resets when the row has been packed.
// Thread-safety: pure function of its arguments; ctx is mutated only through ctx.arena.
// Errors: SqlError from functions and casts (22012, 22003, 22P02, ...).

#include <span>

#include "common/datum.hpp"
#include "common/functions.hpp"
#include "dataflow/ir.hpp"

namespace freshet::dataflow {

// REQUIRES: every column index of e is < row.size(); ctx.arena is set.
Datum eval(const ScalarExpr& e, std::span<const Datum> row, EvalContext& ctx);

// A predicate's verdict: true only when e evaluates to TRUE (NULL and FALSE both reject).
inline bool eval_predicate(const ScalarExpr& e, std::span<const Datum> row, EvalContext& ctx) {
  Datum d = eval(e, row, ctx);
  return !d.is_null() && d.as_bool();
}

// SQL `=` between two values of one type, as join equivalences use it: NULL equals nothing.
inline bool sql_equal(const Datum& a, const Datum& b) {
  return !a.is_null() && !b.is_null() && compare_datums(a, b) == 0;
}

// True when e reads no column, parameter, mz_now() or non-immutable function: it has the same
// value for every row and time, so it may be folded into a literal.
bool is_constant_expr(const ScalarExpr& e);

// Rewrites, within e and its arguments, `floor(extract(epoch FROM ts) / c)::bigint` (ts a
// timestamp, c a positive integer literal below 10^9: the window number of a tumbling window
// over event time, Nexmark q5/q7's GROUP BY and join key) into an expression that eval
// computes in integers from ts's microseconds: floor((micros since 1970) / (c * 10^6)). The
// numeric path (extract's numeric, numeric division, floor, cast) cost ~500 ns per row. Same
// result: the numeric quotient is rounded at a scale of at least 6 digits (PostgreSQL's
// select_div_scale, as common/numeric.cpp follows), so it differs from the exact quotient by
// at most 0.5e-6 and can only reach the next integer when the exact one is within c/2
// microseconds of it; those rows (and infinite timestamps) are computed by the original
// expression, which the rewrite keeps as its second argument. Used by render() on the plan
// it renders (EXPLAIN shows the plan as written).
void fold_epoch_buckets(ScalarExpr& e);

}  // namespace freshet::dataflow
