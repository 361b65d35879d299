#pragma once
// The dataflow description language (Materialize's MIR, in spirit): relational expressions
// (RelExpr) over scalar expressions (ScalarExpr), with no SQL left in them: names are resolved
// to column positions and collection ids, types are fixed, subqueries are decorrelated into
// joins, outer joins are expanded into inner joins, negation and union. sql/ produces it;
// dataflow/ runs it once over a snapshot (oneshot.hpp) or keeps it up to date incrementally.
//
// Columns of a RelExpr are numbered from 0. Values are plain structs (deep copies).

#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/datum.hpp"
#include "common/functions.hpp"
#include "common/row.hpp"
#include "common/types.hpp"

namespace freshet::dataflow {

enum class ScalarKind : uint8_t {
  kColumn,       // column: input column index
  kLiteral,      // literal: a one-datum row (literal.get(0)); NULL allowed
  kParam,        // column: 0-based parameter index into EvalContext::params
  kCall,         // fn(args...); fn->strict means NULL in -> NULL out
  kCast,         // args[0] cast from args[0].type to type
  kAnd,          // args..., three-valued
  kOr,           // args..., three-valued
  kNot,          // args[0]
  kIsNull,       // args[0] IS NULL
  kIsNotNull,    // args[0] IS NOT NULL
  kIsTrue,       // args[0] IS TRUE (IS NOT TRUE / IS FALSE ... by kNot around these)
  kIsFalse,      // args[0] IS FALSE
  kIsDistinct,   // args[0] IS DISTINCT FROM args[1] (both of one type)
  kCase,         // args = [when1, then1, when2, then2, ..., else]; else may be a NULL literal
  kCoalesce,     // args...
  kNullIf,       // args[0], args[1]: NULL when args[0] = args[1] (fn is the = operator)
  kGreatest,     // args... (NULLs ignored)
  kLeast,        // args...
  kMzNow,        // mz_now(): EvalContext::logical_time_ms as the mz_timestamp type (int8 here)
  // Arrays (types.hpp: an array value is its canonical text form).
  kArray,        // ARRAY[args...]: args of the element type; type is the array type
  kArrayIndex,   // args[0][args[1]]: the element (1-based), NULL when out of range or a NULL arg
  // args[0] fn ANY (args[1]) (column 0) or ALL (column 1): fn, a boolean operator, applied to
  // args[0] and each element of the array args[1], combined with OR / AND three-valued logic
  // as PostgreSQL does (an empty array gives false for ANY, true for ALL; NULL array: NULL).
  kArrayCompare,
  // Materialize's lists (types.hpp TypeId::kList; kArray and kArrayIndex build and index them
  // too): the list function named by column (a ListFn), evaluated with the argument types.
  kListFn,
  // args[0] = ANY (subplan): an uncorrelated `x IN (SELECT y ...)` as PostgreSQL's hashed
  // subplan, for one-shot queries only (sql::LowerOptions::hashed_subplans). `subplan` is a
  // closed one-column relation (no column of the row, no binding of an enclosing kLet);
  // run_oneshot evaluates it once, before the plan runs, into `in_set`, and each row probes
  // it: TRUE when a value equals args[0]; else NULL when args[0] is NULL or the set holds a
  // NULL; else FALSE; an empty set is FALSE without evaluating args[0]. Equality is
  // compare_datums (the join's): args[0] and the set's column have one type whose `=` it
  // agrees with (sql/lower.cpp chooses them). A maintained dataflow never holds one: a set
  // that changes must update the view, which the decorrelated mark join does.
  // `column` tells this from the other kInSets, PostgreSQL's initplans (an uncorrelated scalar
  // subquery or EXISTS, no args): dataflow/in_set.hpp.
  kInSet,
};

struct RelExpr;
// A kInSet's evaluated subplan: its non-NULL values (one-datum rows, sorted by
// compare_datums, distinct), whether it has a NULL, or the error its evaluation raised
// (raised when the first row probes it, as PostgreSQL raises it when the subplan first runs).
struct InSetValues {
  std::vector<Row> values;
  bool has_null = false;
  std::exception_ptr error;
};

enum class ListFn : uint32_t {
  kLength,   // list_length(args[0]) -> int4
  kAppend,   // list_append(args[0] list, args[1] element); NULL list: a list of the element
  kPrepend,  // list_prepend(args[0] element, args[1] list)
  kCat,      // list_cat(args[0], args[1]); a NULL side is the other
  kToJsonb,  // to_jsonb(args[0]): a JSON array, each element as its type's to_jsonb
  // args[0][args[1]:args[2]] (int8 bounds; an absent bound is INT64_MIN / INT64_MAX): the
  // elements from max(lo, 1) to min(hi, length); {} when that is none (Materialize).
  kSlice,
  kNLayers,    // list_n_layers(args[0]) -> int4: the depth of args[0]'s type
  kLengthMax,  // list_length_max(args[0], args[1] int8 layer) -> int4; 22023 outside [1, depth]
  kRemove,     // list_remove(args[0], args[1] element): without the elements equal to it (NULL: NULLs)
  kContains,   // args[0] @> args[1] -> bool: every element of args[1] is in args[0]; a NULL never is
};

struct ScalarExpr {
  ScalarKind kind = ScalarKind::kLiteral;
  Type type;
  uint32_t column = 0;
  SharedRow literal;
  const FunctionImpl* fn = nullptr;
  std::vector<ScalarExpr> args;
  std::shared_ptr<const RelExpr> subplan;     // kInSet: the set's relation (one column)
  std::shared_ptr<const InSetValues> in_set;  // kInSet: subplan's rows, once evaluated

  static ScalarExpr column_ref(uint32_t c, Type t) {
    ScalarExpr e;
    e.kind = ScalarKind::kColumn;
    e.column = c;
    e.type = t;
    return e;
  }
  static ScalarExpr literal_of(const Datum& d, Type t) {
    ScalarExpr e;
    e.kind = ScalarKind::kLiteral;
    e.literal = Row::pack(std::span<const Datum>(&d, 1));
    e.type = t;
    return e;
  }
  static ScalarExpr null_of(Type t) { return literal_of(Datum::null(), t); }
  static ScalarExpr boolean(bool b) { return literal_of(Datum::from_bool(b), TypeId::kBool); }
  static ScalarExpr call(const FunctionImpl* f, std::vector<ScalarExpr> a, Type result) {
    ScalarExpr e;
    e.kind = ScalarKind::kCall;
    e.fn = f;
    e.args = std::move(a);
    e.type = result;
    return e;
  }
  static ScalarExpr make(ScalarKind k, std::vector<ScalarExpr> a, Type t) {
    ScalarExpr e;
    e.kind = k;
    e.args = std::move(a);
    e.type = t;
    return e;
  }
  Datum literal_value() const { return literal.get(0); }
  bool is_literal_true() const { return kind == ScalarKind::kLiteral && !literal_value().is_null() && type.id == TypeId::kBool && literal_value().as_bool(); }

  // Human-readable form for EXPLAIN and tests: "#0", "(#1 + 5)", ...
  std::string to_string() const;
};

// Whether a and b are the same expression: the same tree, every field equal (kind, type,
// column, literal, function, subplan and its evaluated set). Structural only: two calls of a volatile function are
// "the same" here although their values differ.
bool exprs_equal(const ScalarExpr& a, const ScalarExpr& b);

enum class RelKind : uint8_t {
  kGet,        // a collection's contents: collection_id; column_types
  kConstant,   // constant_rows with their diffs
  kMap,        // input columns, then one column per exprs[i] (exprs may refer to earlier new columns)
  kFilter,     // input rows where every exprs[i] is true
  kProject,    // columns[i] of the input, in order (repeats allowed)
  kJoin,       // inner join of inputs: concatenated columns, rows satisfying equivalences
  kReduce,     // group by group_key exprs (over input), then aggregates: key columns then aggs
  kTopK,       // per group_key columns, the first `limit` rows after `offset` by order_by
  kUnion,      // multiset union of inputs (same arity)
  kNegate,     // input with every diff negated
  kThreshold,  // input rows whose total multiplicity is positive, with that multiplicity
  kDistinct,   // each row with positive multiplicity once
  // Recursion (WITH RECURSIVE, WITH MUTUALLY RECURSIVE): inputs = one body per binding, then
  // the result expression (last). Binding i is named local_ids[i]; every expression in the
  // node may read any binding through kGetLocal. The bindings are iterated together from
  // empty collections to a fixpoint (all bindings unchanged by an iteration); recursion_limit
  // bounds the iterations. Column types: the result's.
  kLetRec,
  kGetLocal,   // the current contents of the binding local_id of an enclosing kLetRec or kLet
  // A shared subplan: inputs = [value, body]; the body reads the value through kGetLocal
  // local_ids[0] (any number of times; the value is computed once). Column types: the body's.
  // The lowering uses it where a relation is needed twice (a correlated subquery's domain and
  // the rows it is joined back to), so that the plan stays linear in the query's size.
  kLet,
  // Temporal filter: each input row is valid while mz_now() satisfies every temporal_bounds[i]
  // (evaluated over the row); outside that interval it is absent. Column types: the input's.
  kTemporalFilter,
  // Table function per input row: input columns, then the function's output columns (and an
  // int8 ordinality when with_ordinality), one output row per value the function produces
  // for the row's exprs (the arguments). A retraction of the input row retracts its outputs.
  kFlatMap,
  // Window functions: input columns, then one column per window_funcs[i], computed per
  // partition (group_columns) in order_by order. Column types: input's, then the results'.
  kWindow,
};

// Set-returning functions usable in FROM (kFlatMap).
enum class TableFunc : uint8_t {
  kUnnest,          // unnest(array): its elements (NULLs included)
  kGenerateSeries,  // generate_series(start, stop [, step]): int4/int8/numeric/timestamp[tz]
  // jsonb (PostgreSQL's, objects in jsonb key order): 22023 on the wrong kind of value.
  kJsonbArrayElements,      // jsonb_array_elements(jsonb): value jsonb
  kJsonbArrayElementsText,  // jsonb_array_elements_text(jsonb): value text (JSON null: NULL)
  kJsonbEach,               // jsonb_each(jsonb): key text, value jsonb
  kJsonbEachText,           // jsonb_each_text(jsonb): key text, value text
  kJsonbObjectKeys,         // jsonb_object_keys(jsonb): text
};
// The number of output columns of a table function (before ordinality).
inline size_t table_func_columns(TableFunc f) {
  return f == TableFunc::kJsonbEach || f == TableFunc::kJsonbEachText ? 2 : 1;
}
const char* table_func_name(TableFunc f);

enum class WindowFuncKind : uint8_t {
  kRowNumber, kRank, kDenseRank, kPercentRank, kCumeDist, kNtile,
  kLag, kLead, kFirstValue, kLastValue, kNthValue,
  kAggregate,  // an aggregate over the frame (agg_kind)
};
// A window frame (PostgreSQL's ROWS / RANGE / GROUPS, with EXCLUDE).
// RANGE bounds with an offset need exactly one ORDER BY column; CURRENT ROW in RANGE mode
// means the current row's peers. The default is RANGE UNBOUNDED PRECEDING .. CURRENT ROW.
enum class FrameBoundKind : uint8_t { kUnboundedPreceding, kPreceding, kCurrentRow, kFollowing, kUnboundedFollowing };
struct FrameBound {
  FrameBoundKind kind = FrameBoundKind::kUnboundedPreceding;
  int64_t rows = 0;  // ROWS n PRECEDING/FOLLOWING: n (>= 0)
  Row range;         // RANGE offset PRECEDING/FOLLOWING: the offset packed as one datum (not NULL, >= 0)
  Type range_type;
};
enum class FrameExclude : uint8_t { kNoOthers, kCurrentRow, kGroup, kTies };
struct WindowFrame {
  bool rows = false;    // ROWS; else RANGE (or GROUPS)
  bool groups = false;  // GROUPS: offsets count peer groups (FrameBound::rows)
  FrameBound start;
  FrameBound end{FrameBoundKind::kCurrentRow, 0, Row(), Type()};
  FrameExclude exclude = FrameExclude::kNoOthers;  // EXCLUDE CURRENT ROW / GROUP / TIES
};
struct WindowFunc {
  WindowFuncKind kind = WindowFuncKind::kRowNumber;
  // Input columns of the arguments: lag/lead (value, offset, default), ntile (n), nth_value
  // (value, n), first_value/last_value (value); kAggregate: the aggregate's argument (none for
  // count(*)), string_agg's separator, then the FILTER condition when agg_filter.
  std::vector<uint32_t> args;
  AggKind agg_kind = AggKind::kCountStar;  // kAggregate
  bool agg_filter = false;                 // kAggregate: the last arg is a FILTER condition
  bool ignore_nulls = false;               // lag/lead IGNORE NULLS: count only rows whose value is not NULL
  WindowFrame frame;                       // first/last/nth_value and aggregates
  Type result_type = Type(TypeId::kInt8);
};

// WITH MUTUALLY RECURSIVE's (RETURN | ERROR) AT RECURSION LIMIT n; WITH RECURSIVE gets a
// default limit that errors.
struct RecursionLimit {
  uint64_t max_iterations = 0;
  bool return_at_limit = false;  // RETURN AT: stop and use the state after n iterations
};

// The comparison `mz_now() op expr` of a temporal filter. expr is of type timestamp,
// timestamptz, date (converted to ms since the Unix epoch) or of an integer or numeric type
// (ms since the Unix epoch already). A NULL expr makes the row never valid.
enum class TemporalOp : uint8_t { kEq, kLt, kLe, kGt, kGe };
struct TemporalBound {
  TemporalOp op = TemporalOp::kLe;
  ScalarExpr expr;
};

struct SortKey {
  uint32_t column = 0;
  bool descending = false;
  bool nulls_first = false;  // PostgreSQL's default: NULLS LAST for ASC, NULLS FIRST for DESC
};

struct AggregateExpr {
  AggKind kind = AggKind::kCountStar;
  ScalarExpr arg;                // unused for kCountStar
  ScalarExpr separator;          // string_agg's second argument
  // ORDER BY inside the aggregate (string_agg, array_agg): the sort expressions over the
  // input row, and the directions (SortKey::column indexes order_exprs).
  std::vector<ScalarExpr> order_exprs;
  std::vector<SortKey> order_keys;
  bool distinct = false;
  // FILTER (WHERE p): only rows for which p is true are aggregated (set for array_agg, which
  // cannot use the CASE-to-NULL rewrite because it keeps NULLs).
  std::optional<ScalarExpr> filter;
  Type result_type;
};


struct RelExpr {
  RelKind kind = RelKind::kConstant;
  std::vector<Type> column_types;      // the output schema (arity = size)
  std::vector<RelExpr> inputs;

  uint64_t collection_id = 0;          // kGet
  std::vector<std::pair<Row, int64_t>> constant_rows;  // kConstant
  std::vector<ScalarExpr> exprs;       // kMap, kFilter
  std::vector<uint32_t> columns;       // kProject
  // kJoin: each inner vector is a class of expressions over the concatenated input columns
  // that must all be equal (SQL `=`: NULL matches nothing).
  std::vector<std::vector<ScalarExpr>> equivalences;
  std::vector<ScalarExpr> group_key;   // kReduce
  std::vector<AggregateExpr> aggregates;  // kReduce
  std::vector<uint32_t> group_columns; // kTopK
  std::vector<SortKey> order_by;       // kTopK
  std::optional<uint64_t> limit;       // kTopK: none = no limit
  uint64_t offset = 0;                 // kTopK
  std::vector<uint64_t> local_ids;     // kLetRec: binding names, one per binding input; kLet: one
  uint64_t local_id = 0;               // kGetLocal
  RecursionLimit recursion_limit;      // kLetRec
  std::vector<TemporalBound> temporal_bounds;  // kTemporalFilter
  TableFunc table_func = TableFunc::kUnnest;   // kFlatMap (arguments in exprs)
  bool with_ordinality = false;                // kFlatMap
  std::vector<WindowFunc> window_funcs;        // kWindow (partition: group_columns; order_by)

  size_t arity() const { return column_types.size(); }
  // Indented tree for EXPLAIN and tests. `maintained`: as rendered for a maintained dataflow
  // (a Join that renders as a delta join says so; not inside a LetRec).
  std::string to_string(int indent = 0, bool maintained = false) const;
};

// Every ScalarExpr held by a node of e or of its inputs (the top-level ones: exprs,
// equivalences, group keys, aggregates' expressions, temporal bounds; not their arguments
// and not the subplans of kInSet expressions).
void for_each_scalar(RelExpr& e, const std::function<void(ScalarExpr&)>& f);
void for_each_scalar(const RelExpr& e, const std::function<void(const ScalarExpr&)>& f);
// The kInSet expressions anywhere in e's expressions (arguments included; not inside their
// subplans).
void for_each_in_set(RelExpr& e, const std::function<void(ScalarExpr&)>& f);
void for_each_in_set(const RelExpr& e, const std::function<void(const ScalarExpr&)>& f);

// Whether a kJoin renders as a delta join in a maintained dataflow (render.hpp
// RenderOptions::delta_joins, delta_join.hpp): 3 to 64 inputs.
bool uses_delta_join(const RelExpr& join);

}  // namespace freshet::dataflow
