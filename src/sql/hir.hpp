#pragma once
// HIR: the binder's output. Like the dataflow IR (dataflow/ir.hpp) but still with SQL's
// shapes: scalar expressions may hold subqueries and references to outer queries' columns,
// joins may be outer joins, set operations are explicit. lower.hpp turns HIR into the
// dataflow IR, decorrelating subqueries on the way.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dataflow/ir.hpp"

namespace freshet::sql {

struct HRel;

enum class HExprKind : uint8_t {
  kColumn,     // level 0: column of the current input; level n: of the n-th enclosing query
  kScalar,     // a dataflow::ScalarExpr kind (op) over args
  kExists,     // EXISTS (subquery)
  kSubquery,   // (subquery): its single column, NULL when it has no row
};
// A temporal predicate `mz_now() op args[0]` is a kScalar of op kMzNow with one argument and
// the dataflow::TemporalOp in `column`; only top-level conjuncts of WHERE and HAVING hold one
// (the binder enforces Materialize's rules), and lowering turns them into a temporal filter.
// A plain mz_now() (no argument) is the logical time, allowed in a SELECT without FROM.

struct HExpr {
  HExprKind kind = HExprKind::kScalar;
  Type type;
  uint32_t level = 0;
  uint32_t column = 0;
  // kScalar: the operation and its payload (literal / fn / param index in column).
  dataflow::ScalarKind op = dataflow::ScalarKind::kLiteral;
  SharedRow literal;
  const FunctionImpl* fn = nullptr;
  std::vector<HExpr> args;
  std::shared_ptr<HRel> subquery;  // kExists, kSubquery

  static HExpr column_ref(uint32_t level, uint32_t column, Type t) {
    HExpr e;
    e.kind = HExprKind::kColumn;
    e.level = level;
    e.column = column;
    e.type = t;
    return e;
  }
  static HExpr literal_of(const Datum& d, Type t) {
    HExpr e;
    e.op = dataflow::ScalarKind::kLiteral;
    e.literal = Row::pack(std::span<const Datum>(&d, 1));
    e.type = t;
    return e;
  }
  static HExpr make(dataflow::ScalarKind op, std::vector<HExpr> args, Type t) {
    HExpr e;
    e.op = op;
    e.args = std::move(args);
    e.type = t;
    return e;
  }
  static HExpr call(const FunctionImpl* f, std::vector<HExpr> args, Type t) {
    HExpr e = make(dataflow::ScalarKind::kCall, std::move(args), t);
    e.fn = f;
    return e;
  }
  bool is_literal() const { return kind == HExprKind::kScalar && op == dataflow::ScalarKind::kLiteral; }
  bool is_null_literal() const { return is_literal() && literal.get(0).is_null(); }
  // Whether the expression (including subqueries) refers to a query `depth` levels out from
  // here or further.
  bool refers_outside(uint32_t depth = 1) const;
  bool contains_subquery() const;
  friend bool operator==(const HExpr& a, const HExpr& b);
};

enum class HRelKind : uint8_t {
  kGet,        // collection_id
  kConstant,   // rows of HExpr (no column refs; may hold subqueries)
  kMap,        // input + exprs
  kFilter,     // input where predicate
  kProject,    // columns of input
  kJoin,       // inputs[0] JOIN inputs[1] ON predicate (kind)
  kReduce,     // group_key exprs then aggregates
  kDistinct,
  kTopK,       // order_by / limit / offset over all rows (group_columns empty) or per group
  kSetOp,      // UNION / INTERSECT / EXCEPT [ALL] of inputs[0], inputs[1]
  kLetRec,     // recursion: inputs = binding bodies (named local_ids), then the result; as
               // dataflow::RelKind::kLetRec
  kGetLocal,   // a binding (local_id) of an enclosing kLetRec
  kFlatMap,    // inputs[0] columns, then table_func(exprs...) (and its ordinality), per input row;
               // exprs are over inputs[0] (level 0) and may refer to enclosing queries
  // LATERAL: inputs[0] joined with inputs[1] evaluated per row of inputs[0]; inside inputs[1],
  // level 1 is inputs[0]'s columns and level n + 1 this node's level n. Columns: both sides'.
  kLateral,
  // Window functions over inputs[0]: its columns, then one per window_funcs[i], partitioned by
  // group_columns and ordered by order_by (both over inputs[0]'s columns).
  kWindow,
};

enum class JoinKind : uint8_t { kInner, kLeft, kRight, kFull };
enum class SetOpKind : uint8_t { kUnion, kIntersect, kExcept };

struct HAggregate {
  AggKind kind = AggKind::kCountStar;
  // The arguments, then the ORDER BY expressions (the last order_keys.size() entries; a key's
  // column indexes them from the first), so that every walk over args sees both.
  std::vector<HExpr> args;
  std::vector<dataflow::SortKey> order_keys;
  bool distinct = false;
  // FILTER (WHERE p) kept as a condition (the last entry of args): array_agg keeps NULLs, so
  // it cannot be written as agg(CASE WHEN p THEN x END) as the other aggregates are.
  bool has_filter = false;
  Type result_type;
  size_t num_plain_args() const { return args.size() - order_keys.size() - (has_filter ? 1 : 0); }
  friend bool operator==(const HAggregate& a, const HAggregate& b) {
    if (a.order_keys.size() != b.order_keys.size()) return false;
    for (size_t i = 0; i < a.order_keys.size(); ++i)
      if (a.order_keys[i].column != b.order_keys[i].column || a.order_keys[i].descending != b.order_keys[i].descending ||
          a.order_keys[i].nulls_first != b.order_keys[i].nulls_first)
        return false;
    return a.kind == b.kind && a.args == b.args && a.distinct == b.distinct && a.has_filter == b.has_filter;
  }
};

struct HRel {
  HRelKind kind = HRelKind::kConstant;
  std::vector<Type> column_types;
  std::vector<std::shared_ptr<HRel>> inputs;
  uint64_t collection_id = 0;
  std::vector<std::vector<HExpr>> rows;  // kConstant
  std::vector<HExpr> exprs;              // kMap; kFilter: exprs[0]; kJoin: exprs[0] (ON)
  std::vector<uint32_t> columns;         // kProject
  JoinKind join_kind = JoinKind::kInner;
  std::vector<HExpr> group_key;          // kReduce
  std::vector<HAggregate> aggregates;    // kReduce
  std::vector<uint32_t> group_columns;   // kTopK
  std::vector<dataflow::SortKey> order_by;  // kTopK
  std::optional<uint64_t> limit;
  uint64_t offset = 0;
  SetOpKind set_op = SetOpKind::kUnion;
  bool all = false;                      // kSetOp
  std::vector<uint64_t> local_ids;       // kLetRec
  uint64_t local_id = 0;                 // kGetLocal
  dataflow::RecursionLimit recursion_limit;  // kLetRec
  dataflow::TableFunc table_func = dataflow::TableFunc::kUnnest;  // kFlatMap
  bool with_ordinality = false;                                   // kFlatMap
  std::vector<dataflow::WindowFunc> window_funcs;                 // kWindow

  size_t arity() const { return column_types.size(); }
  bool refers_outside(uint32_t depth = 1) const;
};

using HRelPtr = std::shared_ptr<HRel>;

}  // namespace freshet::sql
