#pragma once
// Relation CSE (Materialize's "relation CSE" in spirit): a subplan that occurs more than once
// in a plan, structurally identical (same operators, expressions, column types, constants and
// collection ids), is bound once with a kLet around the whole plan and every occurrence reads
// it through a kGetLocal. The renderer renders a kLet's value once (dataflow/render.cpp), so
// a maintained dataflow keeps one copy of its state and a one-shot query computes it once.
// Nexmark q5 writes the same "bids per auction and window" count twice (`c`, and under `m`'s
// max): the second Reduce over 4.6M exploded rows goes away.
//
// What is shared: subplans with no free kGetLocal (every local they read is bound inside
// them), nothing inside or containing a kLetRec (its bindings are iterated), no volatile
// function (random(), nextval(), clock_timestamp(): PostgreSQL evaluates them per row, so two
// copies may differ; stable ones such as now() are one value per statement and may be
// shared), and at least one operator that keeps state or multiplies rows (Reduce, Join of two
// or more inputs, Distinct, TopK, Threshold, Window, FlatMap). A Map/Filter/Project chain over
// a Get is not shared: it costs one pass over rows that are already there, and left in place
// it keeps the fused scans, index lookups and the inputs' shared arrangements that later
// stages look for. Largest subplans first; what is left inside a bound value is looked at
// again (a repeat inside it that also occurs elsewhere gets a binding of its own, outside).
//
// Runs last in sql::optimize, after the rewrites that make copies identical (predicate
// pushdown may make them differ: those are not shared). Cost: O(n) per binding made, at most
// kMaxBindings bindings (n: plan nodes).
// Thread-safety: pure function.

#include "dataflow/ir.hpp"

namespace freshet::sql {

dataflow::RelExpr bind_common_subexpressions(dataflow::RelExpr plan);

namespace cse_detail {
// Exact structural equality of two plans (every field, column types included).
bool rels_equal(const dataflow::RelExpr& a, const dataflow::RelExpr& b);
}  // namespace cse_detail

}  // namespace freshet::sql
