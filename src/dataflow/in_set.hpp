#pragma once
// What a kInSet expression (dataflow/ir.hpp) computes, by its `column`: the subplan is a
// closed relation that run_oneshot evaluates once, before the plan runs, into `in_set`; an
// error of the data it raised (class 21 or 22) is kept and raised by the first row that
// evaluates the expression, as PostgreSQL raises it when a row first needs the subplan. For
// one-shot queries only (sql::LowerOptions::hashed_subplans): a maintained dataflow never
// holds one.
//
//   kInSetIn      args[0] = ANY (subplan): `x IN (SELECT y ...)` as PostgreSQL's hashed
//                 subplan (ir.hpp, kInSet).
//   kInSetValue   no args: an uncorrelated scalar subquery as PostgreSQL's initplan: the
//                 subplan's one column; NULL for no row, 21000 for a second row (raised where
//                 the value is read). in_set keeps the subplan's first two rows, unsorted,
//                 NULLs among them.
//   kInSetExists  no args: an uncorrelated EXISTS as an initplan: whether the subplan has a
//                 row (a relation of no column; in_set keeps at most two rows).
//
// So a CASE branch, a later COALESCE argument or an AND/OR argument that no row reaches never
// raises the subplan's error, nor does a query over no row (sql/README.md, "Initplans").
// (Kept out of ir.hpp's enum, which every module includes: the same expression kind, told
// apart by `column`.)

#include <cstdint>

namespace freshet::dataflow {

inline constexpr uint32_t kInSetIn = 0;
inline constexpr uint32_t kInSetValue = 1;
inline constexpr uint32_t kInSetExists = 2;

}  // namespace freshet::dataflow
