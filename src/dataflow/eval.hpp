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

}  // namespace freshet::dataflow
