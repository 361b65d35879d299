#pragma once
// Lowering: HIR (hir.hpp) to the dataflow IR (dataflow/ir.hpp).
//
// Subqueries are decorrelated as Materialize does: a subquery is evaluated once per distinct
// value of the outer columns it references (its "domain"), as a relation whose first columns
// are those outer values; the result is joined back to the outer rows with null-safe
// equality. Aggregates over an empty group inside such a subquery still give one row
// (count 0, others NULL) by a union with the domain rows that have no group. Outer joins
// become an inner join plus the unmatched rows of the preserved side padded with NULLs.
// The result is a plain dataflow that can run once or be maintained incrementally.

#include "dataflow/ir.hpp"
#include "sql/hir.hpp"

namespace freshet::sql {

struct LowerOptions {
  // For a query that runs once (a SELECT, not a maintained dataflow): an uncorrelated
  // `x IN (SELECT y ...)` becomes a kInSet (PostgreSQL's hashed subplan: the subquery runs
  // once into a set each row probes) instead of a decorrelated mark join over the rows; a
  // maintained dataflow needs the mark join, which updates the view when the set changes.
  bool hashed_subplans = false;
};

dataflow::RelExpr lower(const HRel& rel, const LowerOptions& options = {});
// A scalar expression with no column references (LIMIT, DEFAULT): subqueries not allowed.
dataflow::ScalarExpr lower_constant_expr(const HExpr& e);
// A scalar expression over one relation's columns (level 0 only), no subqueries.
dataflow::ScalarExpr lower_simple_expr(const HExpr& e);

}  // namespace freshet::sql
