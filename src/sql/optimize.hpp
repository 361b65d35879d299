#pragma once
// The dataflow plan optimizer: rewrites a lowered RelExpr (dataflow/ir.hpp) into an equivalent
// one that is cheaper to run once or to maintain. Semantics are preserved exactly, NULLs
// included; rewrites are local and heuristic (no cost-based search):
//
//  * constant folding of literal-only, immutable expressions (an expression that raises an
//    error is left for run time), AND/OR with literal TRUE/FALSE simplified, filters that are
//    always TRUE removed, filters that are FALSE or NULL turned into an empty constant;
//  * fusion of adjacent Maps, Filters and Projects; identity Projects removed;
//  * predicate pushdown through Map (predicates on input columns), Project, Union, Negate,
//    Distinct, Threshold, Reduce (predicates on group keys), TopK (on group columns) and
//    into joins;
//  * join planning: nested inner joins (through filters and projects) flattened into one
//    n-input join; `a = b` conjuncts over different inputs become join equivalences,
//    conjuncts over one input are pushed into it;
//  * recursion (kLetRec): each binding and the result are optimized separately; nothing is
//    pushed across the recursion boundary (into a binding from its readers) or across a
//    kGetLocal, so what the iteration derives is unchanged; inputs ordered greedily: the smallest
//    (most constrained) first, then always an input connected by an equivalence to what is
//    joined so far, cross products last. A Project restores the original column order.
//  * last, relation CSE (cse.hpp): a subplan that occurs twice is bound once with a kLet.
//
// Cost: roughly linear in the plan size (join planning is quadratic in the number of inputs).
// Thread-safety: pure function.

#include "dataflow/ir.hpp"

namespace freshet::sql {

dataflow::RelExpr optimize(dataflow::RelExpr plan);

// Exposed for tests.
namespace optimize_detail {
// Folds constant subexpressions of e in place.
void fold_constants(dataflow::ScalarExpr& e);
// A rough row-count estimate of a plan (Gets count 1000 rows).
double estimate_rows(const dataflow::RelExpr& e);
}  // namespace optimize_detail

}  // namespace freshet::sql
