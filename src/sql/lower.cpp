#include "sql/lower.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>

#include "common/arena.hpp"
#include "common/sql_dialect.hpp"
#include "common/error.hpp"
#include "common/functions.hpp"
#include "common/numeric.hpp"
#include "common/stack_guard.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/in_set.hpp"
#include "sql/optimize.hpp"

namespace freshet::sql {

using dataflow::RelExpr;
using dataflow::RelKind;
using dataflow::ScalarExpr;
using dataflow::ScalarKind;

namespace {

// Raises PostgreSQL's error for a scalar subquery with more than one row. Called with the
// offending row count, so it is never constant-folded.
Datum raise_cardinality(std::span<const Datum>, EvalContext&) {
  // Materialize's words under its dialect (subquery.slt:75, cte.slt:50).
  if (materialize_dialect()) throw SqlError(sqlstate::kCardinalityViolation, "more than one record produced in subquery");
  throw SqlError(sqlstate::kCardinalityViolation, "more than one row returned by a subquery used as an expression");
}
const FunctionImpl kRaiseCardinality{"raise_cardinality_violation", {Type(TypeId::kInt8)}, Type(TypeId::kBool),
                                     raise_cardinality, true, Volatility::kVolatile, false, 0};

// Where the columns of enclosing queries are: level L >= 1, column c -> position in the
// current relation's prefix.
struct Ctx {
  uint32_t k = 0;  // prefix arity: the outer columns come first in every relation
  std::function<uint32_t(uint32_t, uint32_t)> outer_pos;
};

std::vector<uint32_t> iota(uint32_t from, uint32_t to) {
  std::vector<uint32_t> v;
  for (uint32_t i = from; i < to; ++i) v.push_back(i);
  return v;
}

RelExpr project(RelExpr in, std::vector<uint32_t> cols) {
  bool identity = cols.size() == in.arity();
  for (uint32_t i = 0; identity && i < cols.size(); ++i) identity = cols[i] == i;
  if (identity) return in;
  RelExpr r;
  r.kind = RelKind::kProject;
  for (auto c : cols) r.column_types.push_back(in.column_types[c]);
  r.columns = std::move(cols);
  r.inputs.push_back(std::move(in));
  return r;
}

RelExpr map(RelExpr in, std::vector<ScalarExpr> exprs) {
  if (exprs.empty()) return in;
  RelExpr r;
  r.kind = RelKind::kMap;
  r.column_types = in.column_types;
  for (const auto& e : exprs) r.column_types.push_back(e.type);
  r.exprs = std::move(exprs);
  r.inputs.push_back(std::move(in));
  return r;
}

RelExpr filter(RelExpr in, ScalarExpr pred) {
  if (pred.is_literal_true()) return in;
  RelExpr r;
  r.kind = RelKind::kFilter;
  r.column_types = in.column_types;
  r.exprs.push_back(std::move(pred));
  r.inputs.push_back(std::move(in));
  return r;
}

RelExpr unary(RelKind k, RelExpr in) {
  RelExpr r;
  r.kind = k;
  r.column_types = in.column_types;
  r.inputs.push_back(std::move(in));
  return r;
}

RelExpr union_of(RelExpr a, RelExpr b) {
  RelExpr r;
  r.kind = RelKind::kUnion;
  r.column_types = a.column_types;
  r.inputs.push_back(std::move(a));
  r.inputs.push_back(std::move(b));
  return r;
}

RelExpr cross(RelExpr a, RelExpr b) {
  if (a.kind == RelKind::kConstant && a.arity() == 0 && a.constant_rows.size() == 1 && a.constant_rows[0].second == 1) return b;
  if (b.kind == RelKind::kConstant && b.arity() == 0 && b.constant_rows.size() == 1 && b.constant_rows[0].second == 1) return a;
  RelExpr r;
  r.kind = RelKind::kJoin;
  r.column_types = a.column_types;
  r.column_types.insert(r.column_types.end(), b.column_types.begin(), b.column_types.end());
  r.inputs.push_back(std::move(a));
  r.inputs.push_back(std::move(b));
  return r;
}

RelExpr unit() {
  RelExpr r;
  r.kind = RelKind::kConstant;
  r.constant_rows.push_back({Row(), 1});
  return r;
}

// A value of each type that stands in for NULL in null-safe join keys.
Datum zero_of(Type t) {
  switch (physical_kind(t.id)) {
    case PhysicalKind::kBool: return Datum::from_bool(false);
    case PhysicalKind::kInt: return Datum::from_int(0);
    case PhysicalKind::kFloat: return Datum::from_float(0);
    case PhysicalKind::kNumeric: return Datum::from_numeric(Numeric{});
    case PhysicalKind::kString: return Datum::from_string("");
    case PhysicalKind::kDate: return Datum::from_date(0);
    case PhysicalKind::kTime: return Datum::from_time(0);
    case PhysicalKind::kTimestamp: return Datum::from_timestamp(0);
    case PhysicalKind::kInterval: return Datum::from_interval(Interval{});
    case PhysicalKind::kUuid: return Datum::from_uuid(Uuid{});
    default: return Datum::from_int(0);
  }
}

// Joins a and b where a[a_cols[i]] IS NOT DISTINCT FROM b[b_cols[i]]; output a's then b's
// columns.
RelExpr join_null_safe(RelExpr a, const std::vector<uint32_t>& a_cols, RelExpr b, const std::vector<uint32_t>& b_cols) {
  if (a_cols.empty()) return cross(std::move(a), std::move(b));
  uint32_t an = static_cast<uint32_t>(a.arity()), bn = static_cast<uint32_t>(b.arity());
  auto keys = [](const RelExpr& r, const std::vector<uint32_t>& cols) {
    std::vector<ScalarExpr> ks;
    for (auto c : cols) {
      Type t = r.column_types[c];
      ScalarExpr col = ScalarExpr::column_ref(c, t);
      ks.push_back(ScalarExpr::make(ScalarKind::kIsNull, {col}, Type(TypeId::kBool)));
      ks.push_back(ScalarExpr::make(ScalarKind::kCoalesce, {col, ScalarExpr::literal_of(zero_of(t), t)}, t));
    }
    return ks;
  };
  auto ak = keys(a, a_cols), bk = keys(b, b_cols);
  uint32_t nk = static_cast<uint32_t>(ak.size());
  RelExpr am = map(std::move(a), std::move(ak));
  RelExpr bm = map(std::move(b), std::move(bk));
  RelExpr j;
  j.kind = RelKind::kJoin;
  j.column_types = am.column_types;
  j.column_types.insert(j.column_types.end(), bm.column_types.begin(), bm.column_types.end());
  uint32_t boff = an + nk;
  for (uint32_t i = 0; i < nk; ++i) {
    Type t = am.column_types[an + i];
    j.equivalences.push_back({ScalarExpr::column_ref(an + i, t), ScalarExpr::column_ref(boff + bn + i, t)});
  }
  j.inputs.push_back(std::move(am));
  j.inputs.push_back(std::move(bm));
  std::vector<uint32_t> cols = iota(0, an);
  for (uint32_t i = 0; i < bn; ++i) cols.push_back(boff + i);
  return project(std::move(j), cols);
}

// Rows of `all` (arity n) that do not appear in `some_distinct` (same columns, distinct rows),
// with their multiplicity in `all`.
RelExpr minus_present(RelExpr all, RelExpr present_distinct) {
  uint32_t n = static_cast<uint32_t>(all.arity());
  RelExpr hit = project(join_null_safe(all, iota(0, n), std::move(present_distinct), iota(0, n)), iota(0, n));
  // Threshold consolidates `all - hit` before anything downstream sees it: without it, an
  // expression above (the 1 / count(*) over a global aggregate's empty-input row) would be
  // evaluated on a row that is inserted and retracted in the same batch, and raise an error
  // (22012) for a row that never exists.
  return unary(RelKind::kThreshold, union_of(std::move(all), unary(RelKind::kNegate, std::move(hit))));
}

void collect_refs(const HExpr& e, uint32_t depth, std::vector<std::pair<uint32_t, uint32_t>>& out);

void collect_rel_refs(const HRel& r, uint32_t depth, std::vector<std::pair<uint32_t, uint32_t>>& out) {
  for (size_t i = 0; i < r.inputs.size(); ++i)
    collect_rel_refs(*r.inputs[i], r.kind == HRelKind::kLateral && i == 1 ? depth + 1 : depth, out);
  for (const auto& e : r.exprs) collect_refs(e, depth, out);
  for (const auto& e : r.group_key) collect_refs(e, depth, out);
  for (const auto& a : r.aggregates)
    for (const auto& e : a.args) collect_refs(e, depth, out);
  for (const auto& row : r.rows)
    for (const auto& e : row) collect_refs(e, depth, out);
}

// References from inside a subquery (at `depth` levels below the relation being applied to)
// to that relation or further out, as (level relative to that relation, column).
void collect_refs(const HExpr& e, uint32_t depth, std::vector<std::pair<uint32_t, uint32_t>>& out) {
  if (e.kind == HExprKind::kColumn) {
    if (e.level != 0xffffffffu && e.level >= depth) out.push_back({e.level - depth, e.column});
    return;
  }
  for (const auto& a : e.args) collect_refs(a, depth, out);
  if (e.subquery) collect_rel_refs(*e.subquery, depth + 1, out);
}

bool has_temporal_conjunct(const HExpr& e) {
  if (e.kind != HExprKind::kScalar) return false;
  if (e.op == ScalarKind::kMzNow && e.args.size() == 1) return true;
  if (e.op != ScalarKind::kAnd) return false;
  for (const auto& a : e.args)
    if (has_temporal_conjunct(a)) return true;
  return false;
}

void split_and(const HExpr& e, std::vector<const HExpr*>& out) {
  if (e.kind == HExprKind::kScalar && e.op == ScalarKind::kAnd) {
    for (const auto& a : e.args) split_and(a, out);
    return;
  }
  out.push_back(&e);
}

bool contains_kind(const RelExpr& e, RelKind k) {
  if (e.kind == k) return true;
  for (const auto& in : e.inputs)
    if (contains_kind(in, k)) return true;
  return false;
}

// The plan is a tree: a relation used twice (a correlated subquery's domain, the rows an
// outer join pads) is copied, so nested correlated subqueries multiply its size per level.
// Past kMaxPlanNodes operators the statement is refused (54001) before time and memory go.
constexpr size_t kMaxPlanNodes = 200'000;

void charge_plan(const RelExpr& r) {
  size_t n = 0;
  std::vector<const RelExpr*> todo{&r};
  while (!todo.empty()) {
    const RelExpr* e = todo.back();
    todo.pop_back();
    if (++n > kMaxPlanNodes)
      throw SqlError(sqlstate::kStatementTooComplex,
                     "statement too complex: its plan would exceed " + std::to_string(kMaxPlanNodes) + " operators")
          .with_hint("Nested correlated subqueries multiply the plan; rewrite them as joins.");
    for (const RelExpr& in : e->inputs) todo.push_back(&in);
  }
}

// Relations of at most this many operators are copied where the plan reads them twice.
constexpr size_t kCopyRelNodes = 4;

bool plan_at_most(const RelExpr& r, size_t limit) {
  size_t n = 0;
  std::vector<const RelExpr*> todo{&r};
  while (!todo.empty()) {
    const RelExpr* e = todo.back();
    todo.pop_back();
    if (++n > limit) return false;
    for (const RelExpr& in : e->inputs) todo.push_back(&in);
  }
  return true;
}

// The types whose `=` is compare_datums == 0 (the equality kInSet probes with): not char(n)
// (PostgreSQL's bpchar `=` ignores trailing spaces), jsonb, arrays, records.
bool in_set_type(TypeId t) {
  switch (t) {
    case TypeId::kBool:
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
    case TypeId::kFloat4:
    case TypeId::kFloat8:
    case TypeId::kNumeric:
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kDate:
    case TypeId::kTime:
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz:
    case TypeId::kInterval:
    case TypeId::kUuid:
      return true;
    default:
      return false;
  }
}

bool is_bool_literal(const HExpr& e, std::optional<bool> v) {
  if (!e.is_literal() || e.type.id != TypeId::kBool) return false;
  Datum d = e.literal.get(0);
  if (!v) return d.is_null();
  return !d.is_null() && d.as_bool() == *v;
}

// Whether e reads only columns at `level` (no subquery, no aggregate placeholder).
bool only_level(const HExpr& e, uint32_t level, bool at_least) {
  if (e.kind == HExprKind::kColumn) return at_least ? (e.level >= level && e.level != 0xffffffffu) : e.level == level;
  if (e.kind != HExprKind::kScalar) return false;
  for (const auto& a : e.args)
    if (!only_level(a, level, at_least)) return false;
  return true;
}

HExpr shift_down(const HExpr& e) {
  HExpr out = e;
  if (out.kind == HExprKind::kColumn) {
    --out.level;
    return out;
  }
  for (auto& a : out.args) a = shift_down(a);
  return out;
}

bool expr_reads_binding(const HExpr& e);

// Whether r reads a recursive binding (kGetLocal) anywhere, its subqueries included.
bool reads_binding(const HRel& r) {
  if (r.kind == HRelKind::kGetLocal) return true;
  for (const auto& in : r.inputs)
    if (reads_binding(*in)) return true;
  for (const auto& e : r.exprs)
    if (expr_reads_binding(e)) return true;
  for (const auto& e : r.group_key)
    if (expr_reads_binding(e)) return true;
  for (const auto& a : r.aggregates)
    for (const auto& e : a.args)
      if (expr_reads_binding(e)) return true;
  for (const auto& row : r.rows)
    for (const auto& e : row)
      if (expr_reads_binding(e)) return true;
  return false;
}

bool expr_reads_binding(const HExpr& e) {
  for (const auto& a : e.args)
    if (expr_reads_binding(a)) return true;
  return e.subquery != nullptr && reads_binding(*e.subquery);
}

// Whether every kGetLocal in e reads a binding of a kLet / kLetRec inside e.
bool closed_plan(const RelExpr& e, std::vector<uint64_t>& bound) {
  if (e.kind == RelKind::kGetLocal) return std::find(bound.begin(), bound.end(), e.local_id) != bound.end();
  size_t n = bound.size();
  if (e.kind == RelKind::kLet || e.kind == RelKind::kLetRec) bound.insert(bound.end(), e.local_ids.begin(), e.local_ids.end());
  bool ok = true;
  for (const auto& in : e.inputs) ok = ok && closed_plan(in, bound);
  bound.resize(n);
  return ok;
}

// PostgreSQL's planner folds the constant subexpressions of every query it plans
// (eval_const_expressions), a subquery's included, so `(SELECT 1/0)` raises 22012 when the
// statement is planned even where no row reaches it; a CASE arm whose condition is a constant
// false (or NULL) is dropped first, a constant true one drops the arms after it, a constant
// deciding AND/OR argument the arguments after it, a non-NULL constant COALESCE argument the
// ones after it. A subquery run lazily (a kInSet: initplan or IN set) raises what its constants raise
// here, at planning, as PostgreSQL does.
void raise_constant_errors(const ScalarExpr& e) {
  check_stack_depth();
  if (e.kind == ScalarKind::kLiteral) return;
  auto value = [](const ScalarExpr& c) {
    Arena arena;
    EvalContext ctx;
    ctx.arena = &arena;
    return dataflow::eval(c, {}, ctx);  // throws what it raises
  };
  if (dataflow::is_constant_expr(e)) {
    (void)value(e);  // only the error matters: the optimizer folds the value
    return;
  }
  auto constant_bool = [&](const ScalarExpr& c) -> std::optional<Datum> {
    if (!dataflow::is_constant_expr(c)) return std::nullopt;
    return value(c);
  };
  switch (e.kind) {
    case ScalarKind::kCase: {
      size_t arms = (e.args.size() - 1) / 2;
      for (size_t i = 0; i < arms; ++i) {
        raise_constant_errors(e.args[2 * i]);
        std::optional<Datum> c = constant_bool(e.args[2 * i]);
        if (c && (c->is_null() || !c->as_bool())) continue;  // the arm is dropped
        raise_constant_errors(e.args[2 * i + 1]);
        if (c) return;  // a constant true: the arms after it are dropped
      }
      raise_constant_errors(e.args.back());
      return;
    }
    case ScalarKind::kCoalesce:
      for (const ScalarExpr& a : e.args) {
        raise_constant_errors(a);
        std::optional<Datum> c = constant_bool(a);
        if (c && !c->is_null()) return;
      }
      return;
    case ScalarKind::kAnd:
    case ScalarKind::kOr:
      for (const ScalarExpr& a : e.args) {
        raise_constant_errors(a);
        std::optional<Datum> c = constant_bool(a);
        if (c && !c->is_null() && c->as_bool() == (e.kind == ScalarKind::kOr)) return;
      }
      return;
    case ScalarKind::kInSet:
      // Its subplan was checked when it was made.
      for (const ScalarExpr& a : e.args) raise_constant_errors(a);
      return;
    default:
      for (const ScalarExpr& a : e.args) raise_constant_errors(a);
      return;
  }
}

void raise_constant_errors(const RelExpr& plan) {
  dataflow::for_each_scalar(plan, [](const ScalarExpr& e) { raise_constant_errors(e); });
}

// Whether e reads a column of its query or an enclosing one (a correlated subquery does): a
// WHERE conjunct that does not is PostgreSQL's pseudoconstant qual, a one-time filter that
// runs (with its initplans) before any row is read, even over an empty table.
bool reads_columns(const HExpr& e) {
  if (e.kind == HExprKind::kColumn) return true;
  if (e.kind != HExprKind::kScalar) return e.subquery != nullptr && e.subquery->refers_outside(1);
  for (const auto& a : e.args)
    if (reads_columns(a)) return true;
  return false;
}

// What of an EXISTS subquery runs: PostgreSQL drops its select list before it plans it
// (simplify_EXISTS_query), so `EXISTS (SELECT 1/0)` is true and raises nothing. The select
// list's Map and Project are skipped when what is below them is a plain row source (not an
// aggregate, window, DISTINCT, LIMIT or set operation, whose select list PostgreSQL keeps).
const HRel& exists_body(const HRel& r) {
  const HRel* b = &r;
  while ((b->kind == HRelKind::kProject || b->kind == HRelKind::kMap) && b->inputs.size() == 1) b = b->inputs[0].get();
  switch (b->kind) {
    case HRelKind::kReduce:
    case HRelKind::kTopK:
    case HRelKind::kWindow:
    case HRelKind::kDistinct:
    case HRelKind::kSetOp:
    case HRelKind::kLetRec:
      return r;
    default:
      return *b;
  }
}

// PostgreSQL's order of a WHERE clause's conjuncts (order_qual_clauses: by estimated cost,
// stable): one unit per operator, function or cast, half a unit per uncorrelated subquery
// (its initplan's Param: measured, `x = (SELECT ...)` runs after `x > 100` and before
// `x + 1 > 100`), a correlated subquery (a SubPlan run per row) last. A cast between a string
// type and another is PostgreSQL's CoerceViaIO, an output and an input function: two units
// (measured: `s::bool AND x = (SELECT ...)` runs the comparison first).
double qual_cost(const HExpr& e) {
  if (e.kind == HExprKind::kColumn) return 0;
  if (e.kind == HExprKind::kExists || e.kind == HExprKind::kSubquery) return e.subquery->refers_outside(1) ? 1e6 : 0.5;
  double c = 0;
  switch (e.op) {
    case ScalarKind::kCast:
      c = 1;
      if (e.args.size() == 1 && (type_category(e.type.id) == TypeCategory::kString) !=
                                    (type_category(e.args[0].type.id) == TypeCategory::kString))
        c = 2;
      break;
    case ScalarKind::kCall:
    case ScalarKind::kNullIf:
    case ScalarKind::kArrayCompare:
      c = 1;
      break;
    default:
      break;
  }
  for (const auto& a : e.args) c += qual_cost(a);
  return c;
}

class Lowerer {
 public:
  explicit Lowerer(LowerOptions options = {}) : opts_(options) {}
  // lower() and scalar() recurse once per nesting level of the query: not inlined into
  // themselves, so that their frames stay small (check_stack_depth measures the rest).
  [[gnu::noinline]] RelExpr lower(const HRel& r, const Ctx& ctx, const RelExpr* domain);
  RelExpr lower_node(const HRel& r, const Ctx& ctx, const RelExpr* domain);

 private:
  [[gnu::noinline]] ScalarExpr scalar(const HExpr& e, RelExpr& rel, const Ctx& ctx);
  [[gnu::noinline]] ScalarExpr subquery(const HExpr& e, RelExpr& rel, const Ctx& ctx);
  // `x IN (SELECT y ...)` as the binder writes it (bind_sublink: CASE WHEN EXISTS (rel WHERE
  // x = y) THEN true WHEN EXISTS (rel WHERE (x = y) IS NULL) THEN NULL ELSE false END), with
  // rel uncorrelated: a kInSet over rel's y (LowerOptions::hashed_subplans); nullopt when e
  // is not of that shape.
  [[gnu::noinline]] std::optional<ScalarExpr> hashed_in(const HExpr& e, RelExpr& rel, const Ctx& ctx);
  [[gnu::noinline]] ScalarExpr case_split(const HExpr& e, RelExpr& rel, const Ctx& ctx);
  // An uncorrelated scalar subquery or EXISTS as PostgreSQL's initplan, for a query that runs
  // once (LowerOptions::hashed_subplans): a kInSet of kInSetValue / kInSetExists
  // (dataflow/in_set.hpp) over the subquery's closed plan, run once and read where a row
  // first needs it; nullopt when the subquery cannot be run that way (it reads a recursive
  // binding).
  [[gnu::noinline]] std::optional<ScalarExpr> initplan(const HExpr& e);
  // The WHERE (or HAVING) predicate of `in`, whose conjuncts hold subqueries, in PostgreSQL's
  // order (qual_cost) and with its pseudoconstant conjuncts first and run eagerly.
  ScalarExpr ordered_quals(const HExpr& pred, RelExpr& in, const Ctx& ctx);
  // Whether a subquery in e would be joined into the rows rather than run as an initplan
  // (initplan()): correlated, reading a recursive binding, in a maintained dataflow or a
  // pseudoconstant qual.
  bool joins_subquery(const HExpr& e) const {
    if (e.kind == HExprKind::kExists || e.kind == HExprKind::kSubquery)
      return !opts_.hashed_subplans || eager_subqueries_ || e.subquery->refers_outside(1) || reads_binding(*e.subquery);
    for (const auto& a : e.args)
      if (joins_subquery(a)) return true;
    return false;
  }
  // CASE / COALESCE arguments after the first that hold subqueries joined into the rows: those
  // need case_split. An initplan is read only by the rows whose branch reads it (eval's CASE
  // and COALESCE evaluate the branch taken), so a CASE of initplans alone stays one
  // expression.
  bool later_args_join_subqueries(const HExpr& e) const {
    for (size_t i = 1; i < e.args.size(); ++i)
      if (joins_subquery(e.args[i])) return true;
    return false;
  }
  std::vector<ScalarExpr> scalars(const std::vector<HExpr>& es, RelExpr& rel, const Ctx& ctx) {
    std::vector<ScalarExpr> out;
    for (const auto& e : es) out.push_back(scalar(e, rel, ctx));
    return out;
  }
  RelExpr lower_join(const HRel& r, const Ctx& ctx, const RelExpr* domain);
  RelExpr lower_lateral(const HRel& r, const Ctx& ctx, const RelExpr* domain);
  // rel's rows joined with q evaluated per distinct value of the columns of rel (and of
  // enclosing queries) that q refers to: q's level 1 is rel's columns after the prefix.
  // Returns [rel's columns, q's columns].
  RelExpr apply(RelExpr rel, const HRel& q, const Ctx& ctx);
  RelExpr lower_reduce(const HRel& r, const Ctx& ctx, const RelExpr* domain);

  // A relation the plan reads more than once. `ref` reads it: a copy of it when it is small
  // (at most kCopyRelNodes operators), else a kGetLocal of a kLet binding that bind() wraps
  // around the plan that reads it. Without sharing, every relation read twice doubles the
  // plan, per subquery and per level of nesting.
  struct Shared {
    RelExpr ref;
    std::optional<RelExpr> value;
    uint64_t id = 0;
    RelExpr bind(RelExpr body) {
      if (!value) return body;
      RelExpr let;
      let.kind = RelKind::kLet;
      let.local_ids = {id};
      let.column_types = body.column_types;
      let.inputs.push_back(std::move(*value));
      let.inputs.push_back(std::move(body));
      value.reset();
      return let;
    }
  };
  Shared share(RelExpr value) {
    if (plan_at_most(value, kCopyRelNodes)) return Shared{std::move(value)};
    Shared s;
    s.id = next_let_id_++;
    s.ref.kind = RelKind::kGetLocal;
    s.ref.local_id = s.id;
    s.ref.column_types = value.column_types;
    s.value = std::move(value);
    return s;
  }

  // Names of the kLet bindings this lowering introduces: far above the binder's recursive
  // binding ids, which count up from 0.
  uint64_t next_let_id_ = uint64_t{1} << 40;
  LowerOptions opts_;
  // Set while a pseudoconstant WHERE conjunct is lowered: its subqueries are joined in (run
  // whatever the rows), as PostgreSQL runs a one-time filter's initplans before the scan.
  bool eager_subqueries_ = false;
};

std::optional<ScalarExpr> Lowerer::hashed_in(const HExpr& e, RelExpr& rel, const Ctx& ctx) {
  if (e.kind != HExprKind::kScalar || e.op != ScalarKind::kCase || e.args.size() != 5) return std::nullopt;
  const HExpr& hit = e.args[0];
  const HExpr& unknown = e.args[2];
  if (hit.kind != HExprKind::kExists || unknown.kind != HExprKind::kExists || !is_bool_literal(e.args[1], true) ||
      !is_bool_literal(e.args[3], std::nullopt) || !is_bool_literal(e.args[4], false))
    return std::nullopt;
  const HRel& hf = *hit.subquery;
  const HRel& uf = *unknown.subquery;
  if (hf.kind != HRelKind::kFilter || uf.kind != HRelKind::kFilter || hf.inputs.size() != 1 || uf.inputs.size() != 1 ||
      hf.exprs.size() != 1 || uf.exprs.size() != 1 || hf.inputs[0].get() != uf.inputs[0].get())
    return std::nullopt;
  const HExpr& cmp = hf.exprs[0];
  const HExpr& is_null = uf.exprs[0];
  if (cmp.kind != HExprKind::kScalar || cmp.op != ScalarKind::kCall || cmp.fn == nullptr || cmp.fn->name != "=" ||
      !cmp.fn->strict || cmp.args.size() != 2 || cmp.fn->arg_types.size() != 2)
    return std::nullopt;
  if (is_null.kind != HExprKind::kScalar || is_null.op != ScalarKind::kIsNull || is_null.args.size() != 1 || !(is_null.args[0] == cmp))
    return std::nullopt;
  TypeId t = cmp.args[0].type.id;
  if (!in_set_type(t) || cmp.args[1].type.id != t || cmp.fn->arg_types[0].id != t || cmp.fn->arg_types[1].id != t) return std::nullopt;
  const HRel& set_rel = *hf.inputs[0];
  // The probe reads only the rows outside the subquery, the set's expression only the
  // subquery's row; the subquery reads nothing outside itself.
  if (set_rel.refers_outside(1) || !only_level(cmp.args[0], 1, true) || !only_level(cmp.args[1], 0, false)) return std::nullopt;
  // A recursive binding (its own or an enclosing query's): the mark join. Checked before
  // lowering, so that a refusal never lowers the subquery twice (nested, that would double
  // the work per level).
  if (reads_binding(set_rel)) return std::nullopt;
  Ctx plain;
  plain.outer_pos = [](uint32_t, uint32_t) -> uint32_t {
    throw SqlError(sqlstate::kInternalError, "reference to an enclosing query in an uncorrelated subquery");
  };
  RelExpr q = lower(set_rel, plain, nullptr);
  uint32_t n = static_cast<uint32_t>(q.arity());
  ScalarExpr value = scalar(cmp.args[1], q, plain);
  FRESHET_ASSERT(q.arity() == n);  // no subquery in the set's expression
  RelExpr set_plan = project(map(std::move(q), {std::move(value)}), {n});
  std::vector<uint64_t> bound;
  if (!closed_plan(set_plan, bound)) return std::nullopt;  // not expected: the lowering's own kLets are bound inside
  raise_constant_errors(set_plan);
  ScalarExpr probe = scalar(shift_down(cmp.args[0]), rel, ctx);
  ScalarExpr in = ScalarExpr::make(ScalarKind::kInSet, {std::move(probe)}, Type(TypeId::kBool));
  in.subplan = std::make_shared<const RelExpr>(optimize(std::move(set_plan)));
  return in;
}

// CASE / COALESCE arguments after the first that hold subqueries (see case_split).
[[gnu::noinline]] static bool later_args_hold_subqueries(const HExpr& e) {
  if (e.args.size() < 2) return false;
  for (size_t i = 1; i < e.args.size(); ++i)
    if (e.args[i].contains_subquery()) return true;
  return false;
}

ScalarExpr Lowerer::scalar(const HExpr& e, RelExpr& rel, const Ctx& ctx) {
  check_stack_depth();
  switch (e.kind) {
    case HExprKind::kColumn:
      if (e.level == 0) return ScalarExpr::column_ref(ctx.k + e.column, e.type);
      if (e.level == 0xffffffffu) throw SqlError(sqlstate::kInternalError, "aggregate outside of an aggregation");
      return ScalarExpr::column_ref(ctx.outer_pos(e.level, e.column), e.type);
    case HExprKind::kScalar: {
      if (opts_.hashed_subplans && !eager_subqueries_ && e.op == ScalarKind::kCase)
        if (std::optional<ScalarExpr> in = hashed_in(e, rel, ctx)) return std::move(*in);
      if (e.contains_subquery()) {
        // PostgreSQL folds constants before it plans subqueries (eval_const_expressions): an
        // AND with a constant FALSE argument is FALSE, an OR with a TRUE one TRUE, a strict
        // function of a NULL constant NULL, and the subqueries in them are never planned.
        bool is_and = e.op == ScalarKind::kAnd, is_or = e.op == ScalarKind::kOr;
        bool strict = (e.op == ScalarKind::kCall && e.fn != nullptr && e.fn->strict) || e.op == ScalarKind::kCast;
        if (is_and || is_or || strict) {
          for (const auto& a : e.args) {
            if (a.contains_subquery()) continue;
            ScalarExpr folded = scalar(a, rel, ctx);
            optimize_detail::fold_constants(folded);
            if (folded.kind != ScalarKind::kLiteral) continue;
            Datum d = folded.literal_value();
            if (strict && d.is_null()) return ScalarExpr::null_of(e.type);
            if ((is_and || is_or) && !d.is_null() && d.as_bool() == is_or) return ScalarExpr::boolean(is_or);
          }
        }
      }
      if ((e.op == ScalarKind::kCase || e.op == ScalarKind::kCoalesce) && later_args_hold_subqueries(e))
        return case_split(e, rel, ctx);
      ScalarExpr s;
      s.kind = e.op;
      s.type = e.type;
      s.column = e.column;
      s.literal = e.literal;
      s.fn = e.fn;
      for (const auto& a : e.args) s.args.push_back(scalar(a, rel, ctx));
      return s;
    }
    case HExprKind::kExists:
    case HExprKind::kSubquery:
    {
      ScalarExpr s = subquery(e, rel, ctx);
      charge_plan(rel);
      return s;
    }
  }
  throw SqlError(sqlstate::kInternalError, "unknown expression");
}

// A CASE whose branches (or later conditions) hold subqueries. PostgreSQL evaluates a branch
// only for the rows that take it, so the error of a subquery in a branch not taken
// (`1.0 / count(*)` over no rows, Materialize's subquery.slt:625) must not surface. Subqueries
// are joined in for every row of `rel`; so the rows are split by the first condition and each
// part lowers its own branch, the rest of the CASE being the else part. Materialize lowers a
// conditional with subqueries the same way.
ScalarExpr Lowerer::case_split(const HExpr& e, RelExpr& rel, const Ctx& ctx) {
  if (e.op == ScalarKind::kCoalesce && !later_args_join_subqueries(e)) {
    // Initplans only: one COALESCE, up to the first argument that is a non-NULL constant
    // (PostgreSQL drops the arguments after it before it plans their subqueries).
    ScalarExpr out = ScalarExpr::make(ScalarKind::kCoalesce, {}, e.type);
    for (const auto& a : e.args) {
      ScalarExpr v = scalar(a, rel, ctx);
      bool decides = false;
      if (!a.contains_subquery()) {
        ScalarExpr folded = v;
        optimize_detail::fold_constants(folded);
        decides = folded.kind == ScalarKind::kLiteral && !folded.literal_value().is_null();
      }
      out.args.push_back(std::move(v));
      if (decides) break;
    }
    return out;
  }
  if (e.op == ScalarKind::kCoalesce) {
    // COALESCE(a, b, ...) is CASE WHEN a IS NOT NULL THEN a ELSE COALESCE(b, ...) END.
    HExpr rest = e.args.size() == 2
                     ? e.args[1]
                     : HExpr::make(ScalarKind::kCoalesce, std::vector<HExpr>(e.args.begin() + 1, e.args.end()), e.type);
    HExpr present = HExpr::make(ScalarKind::kIsNotNull, {e.args[0]}, Type(TypeId::kBool));
    return case_split(HExpr::make(ScalarKind::kCase, {std::move(present), e.args[0], std::move(rest)}, e.type), rel, ctx);
  }
  const Type bool_type(TypeId::kBool);
  ScalarExpr cond = scalar(e.args[0], rel, ctx);
  // PostgreSQL's planner folds a condition that is constant (eval_const_expressions): a false
  // or NULL one drops its branch, a true one the rest, and their subqueries are never run
  // (`CASE WHEN 1 = 0 THEN (SELECT 1/0) ELSE 1 END` is 1, `COALESCE(1, (SELECT 1/0))` is 1).
  if (!e.args[0].contains_subquery()) {
    ScalarExpr folded = cond;
    optimize_detail::fold_constants(folded);
    if (folded.kind == ScalarKind::kLiteral) {
      Datum d = folded.literal_value();
      if (!d.is_null() && d.as_bool()) return scalar(e.args[1], rel, ctx);
      if (e.args.size() == 2) return ScalarExpr::null_of(e.type);
      if (e.args.size() == 3) return scalar(e.args[2], rel, ctx);
      return scalar(HExpr::make(ScalarKind::kCase, std::vector<HExpr>(e.args.begin() + 2, e.args.end()), e.type), rel, ctx);
    }
  }
  HExpr else_part;
  if (e.args.size() == 2) {
    else_part = HExpr::literal_of(Datum::null(), e.type);
  } else if (e.args.size() == 3) {
    else_part = e.args[2];
  } else {
    else_part = HExpr::make(ScalarKind::kCase, std::vector<HExpr>(e.args.begin() + 2, e.args.end()), e.type);
  }
  if (!later_args_join_subqueries(e)) {
    // Initplans only: CASE evaluates the branch a row takes, so one expression does; the
    // rest is lowered on its own, so that its constant conditions drop their branches.
    ScalarExpr then_value = scalar(e.args[1], rel, ctx);
    ScalarExpr else_value = scalar(else_part, rel, ctx);
    return ScalarExpr::make(ScalarKind::kCase, {std::move(cond), std::move(then_value), std::move(else_value)}, e.type);
  }
  const uint32_t n0 = static_cast<uint32_t>(rel.arity());
  rel = map(std::move(rel), {ScalarExpr::make(ScalarKind::kIsTrue, {std::move(cond)}, bool_type)});
  ScalarExpr flag = ScalarExpr::column_ref(n0, bool_type);
  Shared rel_shared = share(std::move(rel));
  RelExpr taken = filter(rel_shared.ref, flag);
  RelExpr rest = filter(rel_shared.ref, ScalarExpr::make(ScalarKind::kNot, {flag}, bool_type));
  const uint32_t n = n0 + 1;
  auto branch = [&](const HExpr& v, RelExpr part) {
    ScalarExpr value = scalar(v, part, ctx);
    part = map(std::move(part), {std::move(value)});
    std::vector<uint32_t> cols = iota(0, n);
    cols.push_back(static_cast<uint32_t>(part.arity() - 1));
    return project(std::move(part), cols);
  };
  RelExpr a = branch(e.args[1], std::move(taken));
  RelExpr b = branch(else_part, std::move(rest));
  rel = rel_shared.bind(union_of(std::move(a), std::move(b)));
  return ScalarExpr::column_ref(n, e.type);
}

// Out of line so that scalar()'s frame stays small: it recurses once per nesting level.
ScalarExpr Lowerer::subquery(const HExpr& e, RelExpr& rel, const Ctx& ctx) {
  {
    {
      // The columns of `rel` (and beyond) that the subquery refers to form its domain.
      std::vector<std::pair<uint32_t, uint32_t>> refs;
      const HRel& body = e.kind == HExprKind::kExists ? exists_body(*e.subquery) : *e.subquery;
      collect_rel_refs(body, 1, refs);
      std::vector<uint32_t> positions;
      for (auto [level, col] : refs) {
        uint32_t p = level == 0 ? ctx.k + col : ctx.outer_pos(level, col);
        if (std::find(positions.begin(), positions.end(), p) == positions.end()) positions.push_back(p);
      }
      std::sort(positions.begin(), positions.end());
      uint32_t kd = static_cast<uint32_t>(positions.size());
      if (kd == 0 && opts_.hashed_subplans && !eager_subqueries_)
        if (std::optional<ScalarExpr> v = initplan(e)) return std::move(*v);
      // `rel` is read twice: for the subquery's domain and to join the answers back. A small
      // `rel` is copied; a larger one is bound once (kLet) and read through kGetLocal, so that
      // several subqueries over the same rows (`a IN (...) OR b IN (...)`) plan in linear size
      // instead of doubling the plan per subquery.
      Shared rel_shared = kd > 0 ? share(std::move(rel)) : Shared{std::move(rel)};
      RelExpr& shared = rel_shared.ref;
      RelExpr dom = unary(RelKind::kDistinct, project(shared, positions));
      Ctx sub;
      sub.k = kd;
      Ctx outer = ctx;
      sub.outer_pos = [positions, outer](uint32_t level, uint32_t col) -> uint32_t {
        uint32_t p = level == 1 ? outer.k + col : outer.outer_pos(level - 1, col);
        auto it = std::find(positions.begin(), positions.end(), p);
        FRESHET_ASSERT(it != positions.end());
        return static_cast<uint32_t>(it - positions.begin());
      };
      RelExpr q = lower(body, sub, kd > 0 ? &dom : nullptr);
      RelExpr total;
      Type vt = e.type;
      // Without a domain (an uncorrelated subquery), one global Reduce over the subquery's rows
      // plus one constant row answers it, so the subquery's plan appears once: nested
      // subqueries then plan in linear size (the general form below uses it three times).
      AggregateSignature single;
      std::vector<Type> vts{vt};
      auto has_min = [&]() {
        try {
          return resolve_aggregate("min", vts, single) && single.result_type.id == vt.id && single.arg_types[0].id == vt.id;
        } catch (const SqlError&) {
          return false;  // no min() for the type (jsonb, most arrays): the general form
        }
      };
      bool single_ok = kd == 0 && (e.kind == HExprKind::kExists || vt.id == TypeId::kBool || has_min());
      if (single_ok) {
        const FunctionImpl* gt = nullptr;
        for (const FunctionImpl* f : lookup_operators(">", false))
          if (f->arg_types.size() == 2 && f->arg_types[0].id == TypeId::kInt8 && f->arg_types[1].id == TypeId::kInt8) gt = f;
        FRESHET_ASSERT(gt != nullptr);
        bool exists = e.kind == HExprKind::kExists;
        Type val_type = exists ? Type(TypeId::kBool) : vt;
        // Rows: the subquery's (its value, or true for EXISTS) and one (NULL | false) row.
        RelExpr rows;
        if (exists) {
          rows = map(project(std::move(q), {}), {ScalarExpr::boolean(true)});
        } else {
          rows = project(std::move(q), {0});
          rows.column_types[0] = vt;  // unknown-typed subquery output (SELECT 'x') is text
        }
        RelExpr extra;
        extra.kind = RelKind::kConstant;
        extra.column_types = {val_type};
        std::vector<Datum> one{exists ? Datum::from_bool(false) : Datum::null()};
        extra.constant_rows.push_back({Row::pack(one), 1});
        RelExpr red;
        red.kind = RelKind::kReduce;
        red.column_types = {Type(TypeId::kInt8), val_type};
        dataflow::AggregateExpr cnt;
        cnt.kind = AggKind::kCountStar;
        cnt.result_type = Type(TypeId::kInt8);
        dataflow::AggregateExpr val;
        val.kind = exists || vt.id == TypeId::kBool ? AggKind::kBoolOr : single.kind;
        val.arg = ScalarExpr::column_ref(0, val_type);
        val.result_type = val_type;
        red.aggregates = {cnt, val};
        red.inputs.push_back(union_of(std::move(extra), std::move(rows)));
        ScalarExpr cnt_col = ScalarExpr::column_ref(0, Type(TypeId::kInt8));
        ScalarExpr val_col = ScalarExpr::column_ref(1, val_type);
        if (exists) {
          total = project(std::move(red), {1});
        } else {
          // count(*) counts the extra row: more than two is more than one subquery row.
          ScalarExpr too_many = ScalarExpr::call(gt, {cnt_col, ScalarExpr::literal_of(Datum::from_int(2), Type(TypeId::kInt8))}, Type(TypeId::kBool));
          ScalarExpr raise = ScalarExpr::call(&kRaiseCardinality, {cnt_col}, Type(TypeId::kBool));
          ScalarExpr raised = ScalarExpr::make(ScalarKind::kCase, {raise, ScalarExpr::null_of(vt)}, vt);
          ScalarExpr value = ScalarExpr::make(ScalarKind::kCase, {too_many, raised, val_col}, vt);
          total = project(map(std::move(red), {value}), {2});
        }
      } else if (e.kind == HExprKind::kSubquery) {
        std::vector<uint32_t> cols = iota(0, kd);
        cols.push_back(kd);
        RelExpr v_value = project(std::move(q), cols);
        if (v_value.column_types[kd].id != vt.id) {
          // unknown-typed subquery output (SELECT 'x') is text
          v_value.column_types[kd] = vt;
        }
        // v is read three times (answers, missing values, too many rows): shared.
        Shared v_shared = share(std::move(v_value));
        RelExpr& v = v_shared.ref;
        RelExpr present = unary(RelKind::kDistinct, project(v, iota(0, kd)));
        RelExpr missing = minus_present(kd > 0 ? dom : unit(), std::move(present));
        // More than one row for a domain value is an error: count rows per value, and let a
        // filter that only a violation passes call a function that raises.
        RelExpr counts;
        counts.kind = RelKind::kReduce;
        for (uint32_t i = 0; i < kd; ++i) counts.group_key.push_back(ScalarExpr::column_ref(i, v.column_types[i]));
        dataflow::AggregateExpr cnt;
        cnt.kind = AggKind::kCountStar;
        cnt.result_type = Type(TypeId::kInt8);
        counts.aggregates.push_back(cnt);
        for (uint32_t i = 0; i < kd; ++i) counts.column_types.push_back(v.column_types[i]);
        counts.column_types.push_back(Type(TypeId::kInt8));
        counts.inputs.push_back(v);
        ScalarExpr cnt_col = ScalarExpr::column_ref(kd, Type(TypeId::kInt8));
        const FunctionImpl* gt = nullptr;
        for (const FunctionImpl* f : lookup_operators(">", false))
          if (f->arg_types.size() == 2 && f->arg_types[0].id == TypeId::kInt8 && f->arg_types[1].id == TypeId::kInt8) gt = f;
        FRESHET_ASSERT(gt != nullptr);
        ScalarExpr too_many = ScalarExpr::call(gt, {cnt_col, ScalarExpr::literal_of(Datum::from_int(1), Type(TypeId::kInt8))}, Type(TypeId::kBool));
        ScalarExpr raise = ScalarExpr::call(&kRaiseCardinality, {cnt_col}, Type(TypeId::kBool));
        RelExpr violations = filter(filter(std::move(counts), std::move(too_many)), std::move(raise));
        std::vector<uint32_t> vcols = iota(0, kd);
        RelExpr never = map(project(std::move(violations), vcols), {ScalarExpr::null_of(vt)});
        total = v_shared.bind(union_of(union_of(std::move(v), map(std::move(missing), {ScalarExpr::null_of(vt)})), std::move(never)));
      } else {
        // present is read twice (true for its values, false for the rest of the domain).
        Shared present_shared = share(unary(RelKind::kDistinct, project(std::move(q), iota(0, kd))));
        RelExpr& present = present_shared.ref;
        RelExpr missing = minus_present(kd > 0 ? dom : unit(), present);
        total = present_shared.bind(
            union_of(map(std::move(present), {ScalarExpr::boolean(true)}), map(std::move(missing), {ScalarExpr::boolean(false)})));
      }
      uint32_t n = static_cast<uint32_t>(shared.arity());
      RelExpr joined = join_null_safe(std::move(shared), positions, std::move(total), iota(0, kd));
      std::vector<uint32_t> cols = iota(0, n);
      cols.push_back(n + kd);
      rel = rel_shared.bind(project(std::move(joined), cols));
      return ScalarExpr::column_ref(n, vt);
    }
  }
  throw SqlError(sqlstate::kInternalError, "unknown expression");
}

std::optional<ScalarExpr> Lowerer::initplan(const HExpr& e) {
  // A recursive binding (its own or an enclosing query's) changes per iteration: joined in.
  // Checked before lowering, so that a refusal never lowers the subquery twice.
  const HRel& body = e.kind == HExprKind::kExists ? exists_body(*e.subquery) : *e.subquery;
  if (reads_binding(body)) return std::nullopt;
  Ctx plain;
  plain.outer_pos = [](uint32_t, uint32_t) -> uint32_t {
    throw SqlError(sqlstate::kInternalError, "reference to an enclosing query in an uncorrelated subquery");
  };
  RelExpr q = lower(body, plain, nullptr);
  const bool exists = e.kind == HExprKind::kExists;
  RelExpr plan = project(std::move(q), exists ? std::vector<uint32_t>{} : std::vector<uint32_t>{0});
  if (!exists) plan.column_types[0] = e.type;  // unknown-typed subquery output (SELECT 'x') is text
  std::vector<uint64_t> bound;
  const bool closed = closed_plan(plan, bound);
  FRESHET_ASSERT(closed);  // the lowering's own kLets are bound inside
  raise_constant_errors(plan);
  ScalarExpr v = ScalarExpr::make(ScalarKind::kInSet, {}, exists ? Type(TypeId::kBool) : e.type);
  v.column = exists ? dataflow::kInSetExists : dataflow::kInSetValue;
  v.subplan = std::make_shared<const RelExpr>(optimize(std::move(plan)));
  return v;
}

ScalarExpr Lowerer::ordered_quals(const HExpr& pred, RelExpr& in, const Ctx& ctx) {
  std::vector<const HExpr*> conjuncts;
  split_and(pred, conjuncts);
  std::vector<std::pair<double, const HExpr*>> order;
  for (const HExpr* c : conjuncts) {
    bool pseudo = c->contains_subquery() && !reads_columns(*c);
    order.push_back({pseudo ? -1.0 : qual_cost(*c), c});
  }
  std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ScalarExpr> preds;
  for (const auto& [cost, c] : order) {
    bool saved = eager_subqueries_;
    eager_subqueries_ = saved || cost < 0;
    preds.push_back(scalar(*c, in, ctx));
    eager_subqueries_ = saved;
  }
  if (preds.size() == 1) return std::move(preds[0]);
  return ScalarExpr::make(ScalarKind::kAnd, std::move(preds), Type(TypeId::kBool));
}

RelExpr Lowerer::lower(const HRel& r, const Ctx& ctx, const RelExpr* domain) {
  check_stack_depth();
  RelExpr out = lower_node(r, ctx, domain);
  charge_plan(out);
  return out;
}

RelExpr Lowerer::lower_node(const HRel& r, const Ctx& ctx, const RelExpr* domain) {
  if (domain && !r.refers_outside(1)) {
    Ctx top;
    return cross(*domain, lower(r, top, nullptr));
  }
  switch (r.kind) {
    case HRelKind::kGet: {
      RelExpr g;
      g.kind = RelKind::kGet;
      g.collection_id = r.collection_id;
      g.column_types = r.column_types;
      return g;
    }
    case HRelKind::kConstant: {
      bool all_literal = !domain;
      for (const auto& row : r.rows)
        for (const auto& e : row) all_literal &= e.is_literal();
      if (all_literal) {
        RelExpr c;
        c.kind = RelKind::kConstant;
        c.column_types = r.column_types;
        for (const auto& row : r.rows) {
          std::vector<Datum> ds;
          for (const auto& e : row) ds.push_back(e.literal.get(0));
          c.constant_rows.push_back({Row::pack(ds), 1});
        }
        return c;
      }
      RelExpr out;
      bool first = true;
      for (const auto& row : r.rows) {
        RelExpr base = domain ? *domain : unit();
        std::vector<ScalarExpr> es;
        for (const auto& e : row) es.push_back(scalar(e, base, ctx));
        uint32_t n = static_cast<uint32_t>(base.arity());
        RelExpr m = map(std::move(base), std::move(es));
        std::vector<uint32_t> cols = iota(0, ctx.k);
        for (uint32_t i = 0; i < row.size(); ++i) cols.push_back(n + i);
        RelExpr p = project(std::move(m), cols);
        for (size_t i = 0; i < r.column_types.size(); ++i) p.column_types[ctx.k + i] = r.column_types[i];
        out = first ? std::move(p) : union_of(std::move(out), std::move(p));
        first = false;
      }
      if (first) {
        RelExpr c;
        c.kind = RelKind::kConstant;
        c.column_types = r.column_types;
        return c;
      }
      return out;
    }
    case HRelKind::kMap: {
      RelExpr in = lower(*r.inputs[0], ctx, domain);
      uint32_t n = static_cast<uint32_t>(in.arity());
      // Each expression may refer to the columns before it; lower them one at a time so that
      // subquery columns appended to `in` do not disturb earlier positions.
      std::vector<uint32_t> cols = iota(0, n);
      for (const auto& e : r.exprs) {
        ScalarExpr s = scalar(e, in, ctx);
        in = map(std::move(in), {std::move(s)});
        cols.push_back(static_cast<uint32_t>(in.arity() - 1));
      }
      return project(std::move(in), cols);
    }
    case HRelKind::kFilter: {
      RelExpr in = lower(*r.inputs[0], ctx, domain);
      uint32_t n = static_cast<uint32_t>(in.arity());
      if (!has_temporal_conjunct(r.exprs[0])) {
        ScalarExpr pred = opts_.hashed_subplans && r.exprs[0].contains_subquery() ? ordered_quals(r.exprs[0], in, ctx)
                                                                                  : scalar(r.exprs[0], in, ctx);
        return project(filter(std::move(in), std::move(pred)), iota(0, n));
      }
      // The temporal conjuncts (mz_now() op expr) become a temporal filter above the others.
      std::vector<const HExpr*> conjuncts;
      split_and(r.exprs[0], conjuncts);
      std::vector<ScalarExpr> plain;
      std::vector<dataflow::TemporalBound> bounds;
      for (const HExpr* c : conjuncts) {
        if (c->kind == HExprKind::kScalar && c->op == ScalarKind::kMzNow && c->args.size() == 1) {
          bounds.push_back({static_cast<dataflow::TemporalOp>(c->column), scalar(c->args[0], in, ctx)});
        } else {
          plain.push_back(scalar(*c, in, ctx));
        }
      }
      RelExpr out = std::move(in);
      if (!plain.empty()) {
        out = filter(std::move(out), plain.size() == 1 ? std::move(plain[0])
                                                       : ScalarExpr::make(ScalarKind::kAnd, std::move(plain), Type(TypeId::kBool)));
      }
      RelExpr t = unary(RelKind::kTemporalFilter, std::move(out));
      t.temporal_bounds = std::move(bounds);
      return project(std::move(t), iota(0, n));
    }
    case HRelKind::kGetLocal: {
      RelExpr g;
      g.kind = RelKind::kGetLocal;
      g.local_id = r.local_id;
      g.column_types = r.column_types;
      return g;
    }
    case HRelKind::kLetRec: {
      // The bindings never refer to enclosing queries (the binder checks), so they are lowered
      // on their own; the result may be correlated like any relation.
      RelExpr l;
      l.kind = RelKind::kLetRec;
      l.local_ids = r.local_ids;
      l.recursion_limit = r.recursion_limit;
      Ctx plain;
      plain.outer_pos = [](uint32_t, uint32_t) -> uint32_t {
        throw SqlError(sqlstate::kFeatureNotSupported, "recursive queries that refer to an enclosing query are not supported");
      };
      for (size_t i = 0; i + 1 < r.inputs.size(); ++i) {
        RelExpr b = lower(*r.inputs[i], plain, nullptr);
        if (contains_kind(b, RelKind::kTemporalFilter))
          throw SqlError(sqlstate::kFeatureNotSupported, "mz_now() temporal filters inside the bindings of a recursive query are not supported");
        l.inputs.push_back(std::move(b));
      }
      l.inputs.push_back(lower(*r.inputs.back(), ctx, domain));
      l.column_types = l.inputs.back().column_types;
      return l;
    }
    case HRelKind::kProject: {
      RelExpr in = lower(*r.inputs[0], ctx, domain);
      std::vector<uint32_t> cols = iota(0, ctx.k);
      for (auto c : r.columns) cols.push_back(ctx.k + c);
      return project(std::move(in), cols);
    }
    case HRelKind::kJoin:
      return lower_join(r, ctx, domain);
    case HRelKind::kLateral:
      return lower_lateral(r, ctx, domain);
    case HRelKind::kFlatMap: {
      RelExpr in = lower(*r.inputs[0], ctx, domain);
      uint32_t n = static_cast<uint32_t>(in.arity());
      // Arguments with subqueries append columns to `in`; the function's output goes after
      // them and the extra columns are projected away.
      std::vector<ScalarExpr> args = scalars(r.exprs, in, ctx);
      uint32_t m = static_cast<uint32_t>(in.arity());
      RelExpr f = unary(RelKind::kFlatMap, std::move(in));
      f.table_func = r.table_func;
      f.with_ordinality = r.with_ordinality;
      f.exprs = std::move(args);
      size_t outs = r.arity() - r.inputs[0]->arity();
      for (size_t i = 0; i < outs; ++i) f.column_types.push_back(r.column_types[r.inputs[0]->arity() + i]);
      std::vector<uint32_t> cols = iota(0, n);
      for (uint32_t i = 0; i < outs; ++i) cols.push_back(m + i);
      return project(std::move(f), cols);
    }
    case HRelKind::kWindow: {
      RelExpr in = lower(*r.inputs[0], ctx, domain);
      RelExpr w = unary(RelKind::kWindow, std::move(in));
      // Each value of the enclosing queries' columns is its own set of partitions.
      w.group_columns = iota(0, ctx.k);
      for (auto c : r.group_columns) w.group_columns.push_back(ctx.k + c);
      w.order_by = r.order_by;
      for (auto& k : w.order_by) k.column += ctx.k;
      w.window_funcs = r.window_funcs;
      for (auto& f : w.window_funcs)
        for (auto& c : f.args) c += ctx.k;
      for (size_t i = r.inputs[0]->arity(); i < r.arity(); ++i) w.column_types.push_back(r.column_types[i]);
      return w;
    }
    case HRelKind::kReduce:
      return lower_reduce(r, ctx, domain);
    case HRelKind::kDistinct:
      return unary(RelKind::kDistinct, lower(*r.inputs[0], ctx, domain));
    case HRelKind::kTopK: {
      RelExpr in = lower(*r.inputs[0], ctx, domain);
      RelExpr t = unary(RelKind::kTopK, std::move(in));
      t.group_columns = iota(0, ctx.k);
      for (auto c : r.group_columns) t.group_columns.push_back(ctx.k + c);
      t.order_by = r.order_by;
      for (auto& k : t.order_by) k.column += ctx.k;
      t.limit = r.limit;
      t.offset = r.offset;
      return t;
    }
    case HRelKind::kSetOp: {
      RelExpr a = lower(*r.inputs[0], ctx, domain);
      RelExpr b = lower(*r.inputs[1], ctx, domain);
      switch (r.set_op) {
        case SetOpKind::kUnion: {
          RelExpr u = union_of(std::move(a), std::move(b));
          if (r.all) return u;  // not `r.all ? u : ...`: that copies u, a copy per nesting level
          return unary(RelKind::kDistinct, std::move(u));
        }
        case SetOpKind::kExcept:
          if (!r.all) {
            a = unary(RelKind::kDistinct, std::move(a));
            b = unary(RelKind::kDistinct, std::move(b));
          }
          return unary(RelKind::kThreshold, union_of(std::move(a), unary(RelKind::kNegate, std::move(b))));
        case SetOpKind::kIntersect: {
          if (!r.all) {
            a = unary(RelKind::kDistinct, std::move(a));
            b = unary(RelKind::kDistinct, std::move(b));
          }
          RelExpr a_minus_b = unary(RelKind::kThreshold, union_of(a, unary(RelKind::kNegate, std::move(b))));
          return union_of(std::move(a), unary(RelKind::kNegate, std::move(a_minus_b)));
        }
      }
      break;
    }
  }
  throw SqlError(sqlstate::kInternalError, "unknown relation kind");
}

RelExpr Lowerer::lower_join(const HRel& r, const Ctx& ctx, const RelExpr* domain) {
  const HRel& lh = *r.inputs[0];
  const HRel& rh = *r.inputs[1];
  bool lc = domain && lh.refers_outside(1);
  bool rc = domain && rh.refers_outside(1);
  Ctx plain;
  uint32_t k = ctx.k;
  RelExpr L = lc ? lower(lh, ctx, domain) : lower(lh, plain, nullptr);
  RelExpr R = rc ? lower(rh, ctx, domain) : lower(rh, plain, nullptr);
  uint32_t ln = static_cast<uint32_t>(lh.arity()), rn = static_cast<uint32_t>(rh.arity());
  // The preserved sides with the prefix, for outer joins: [prefix, l] and [prefix, r].
  auto with_prefix = [&](const RelExpr& side, bool correlated) { return (domain && !correlated) ? cross(*domain, side) : side; };
  RelExpr Lp = with_prefix(L, lc);
  RelExpr Rp = with_prefix(R, rc);
  // The product [prefix, l, r].
  RelExpr P;
  if (!domain) {
    P = cross(L, R);
  } else if (lc && rc) {
    RelExpr j = join_null_safe(L, iota(0, k), R, iota(0, k));
    std::vector<uint32_t> cols = iota(0, k + ln);
    for (uint32_t i = 0; i < rn; ++i) cols.push_back(k + ln + k + i);
    P = project(std::move(j), cols);
  } else if (lc) {
    P = cross(L, R);
  } else if (rc) {
    RelExpr j = cross(L, R);  // [l, prefix, r]
    std::vector<uint32_t> cols = iota(ln, ln + k);
    for (uint32_t i = 0; i < ln; ++i) cols.push_back(i);
    for (uint32_t i = 0; i < rn; ++i) cols.push_back(ln + k + i);
    P = project(std::move(j), cols);
  } else {
    P = cross(*domain, cross(L, R));
  }
  uint32_t n = static_cast<uint32_t>(P.arity());
  ScalarExpr pred = scalar(r.exprs[0], P, ctx);
  RelExpr matched = project(filter(std::move(P), std::move(pred)), iota(0, n));
  if (r.join_kind == JoinKind::kInner) return matched;
  std::vector<RelExpr> parts;
  parts.push_back(matched);
  if (r.join_kind == JoinKind::kLeft || r.join_kind == JoinKind::kFull) {
    RelExpr present = unary(RelKind::kDistinct, project(matched, iota(0, k + ln)));
    RelExpr missing = minus_present(Lp, std::move(present));
    std::vector<ScalarExpr> nulls;
    for (uint32_t i = 0; i < rn; ++i) nulls.push_back(ScalarExpr::null_of(rh.column_types[i]));
    parts.push_back(map(std::move(missing), std::move(nulls)));
  }
  if (r.join_kind == JoinKind::kRight || r.join_kind == JoinKind::kFull) {
    std::vector<uint32_t> rcols = iota(0, k);
    for (uint32_t i = 0; i < rn; ++i) rcols.push_back(k + ln + i);
    RelExpr present = unary(RelKind::kDistinct, project(matched, rcols));
    RelExpr missing = minus_present(Rp, std::move(present));  // [prefix, r]
    std::vector<ScalarExpr> nulls;
    for (uint32_t i = 0; i < ln; ++i) nulls.push_back(ScalarExpr::null_of(lh.column_types[i]));
    RelExpr m = map(std::move(missing), std::move(nulls));  // [prefix, r, nulls]
    std::vector<uint32_t> cols = iota(0, k);
    for (uint32_t i = 0; i < ln; ++i) cols.push_back(k + rn + i);
    for (uint32_t i = 0; i < rn; ++i) cols.push_back(k + i);
    parts.push_back(project(std::move(m), cols));
  }
  RelExpr out = std::move(parts[0]);
  for (size_t i = 1; i < parts.size(); ++i) out = union_of(std::move(out), std::move(parts[i]));
  return out;
}

RelExpr Lowerer::apply(RelExpr rel, const HRel& q, const Ctx& ctx) {
  std::vector<std::pair<uint32_t, uint32_t>> refs;
  collect_rel_refs(q, 1, refs);
  std::vector<uint32_t> positions;
  for (auto [level, col] : refs) {
    uint32_t p = level == 0 ? ctx.k + col : ctx.outer_pos(level, col);
    if (std::find(positions.begin(), positions.end(), p) == positions.end()) positions.push_back(p);
  }
  std::sort(positions.begin(), positions.end());
  uint32_t kd = static_cast<uint32_t>(positions.size());
  RelExpr dom = unary(RelKind::kDistinct, project(rel, positions));
  Ctx sub;
  sub.k = kd;
  Ctx outer = ctx;
  sub.outer_pos = [positions, outer](uint32_t level, uint32_t col) -> uint32_t {
    uint32_t p = level == 1 ? outer.k + col : outer.outer_pos(level - 1, col);
    auto it = std::find(positions.begin(), positions.end(), p);
    FRESHET_ASSERT(it != positions.end());
    return static_cast<uint32_t>(it - positions.begin());
  };
  RelExpr qr = lower(q, sub, kd > 0 ? &dom : nullptr);
  uint32_t n = static_cast<uint32_t>(rel.arity());
  uint32_t qn = static_cast<uint32_t>(q.arity());
  RelExpr joined = join_null_safe(std::move(rel), positions, std::move(qr), iota(0, kd));
  std::vector<uint32_t> cols = iota(0, n);
  for (uint32_t i = 0; i < qn; ++i) cols.push_back(n + kd + i);
  return project(std::move(joined), cols);
}

RelExpr Lowerer::lower_lateral(const HRel& r, const Ctx& ctx, const RelExpr* domain) {
  // [prefix, left] then the right side per row: [prefix, left, right].
  RelExpr left = lower(*r.inputs[0], ctx, domain);
  Ctx lctx = ctx;
  // Inside the right side, level 1 is the left side's columns: they follow the prefix in
  // `left`, as a level-0 relation's do; enclosing levels move one out.
  return apply(std::move(left), *r.inputs[1], lctx);
}

RelExpr Lowerer::lower_reduce(const HRel& r, const Ctx& ctx, const RelExpr* domain) {
  RelExpr in = lower(*r.inputs[0], ctx, domain);
  std::vector<ScalarExpr> keys;
  for (uint32_t i = 0; i < ctx.k; ++i) keys.push_back(ScalarExpr::column_ref(i, in.column_types[i]));
  for (const auto& g : r.group_key) keys.push_back(scalar(g, in, ctx));
  std::vector<dataflow::AggregateExpr> aggs;
  for (const auto& a : r.aggregates) {
    dataflow::AggregateExpr ag;
    ag.kind = a.kind;
    ag.distinct = a.distinct;
    ag.result_type = a.result_type;
    size_t plain = a.num_plain_args();
    if (plain > 0) ag.arg = scalar(a.args[0], in, ctx);
    if (plain > 1) ag.separator = scalar(a.args[1], in, ctx);
    for (size_t i = plain; i < plain + a.order_keys.size(); ++i) ag.order_exprs.push_back(scalar(a.args[i], in, ctx));
    if (a.has_filter) ag.filter = scalar(a.args.back(), in, ctx);
    ag.order_keys = a.order_keys;
    aggs.push_back(std::move(ag));
  }
  RelExpr red;
  red.kind = RelKind::kReduce;
  for (const auto& k : keys) red.column_types.push_back(k.type);
  for (const auto& a : aggs) red.column_types.push_back(a.result_type);
  red.group_key = std::move(keys);
  red.aggregates = std::move(aggs);
  red.inputs.push_back(std::move(in));
  if (!r.group_key.empty()) return red;
  // A global aggregate has one row even over no input: count 0, everything else NULL. The
  // reduce is read twice (its rows, and whether there are any), so it is bound once (kLet)
  // whatever its size: a copy would scan and aggregate the input twice.
  Shared shared;
  shared.id = next_let_id_++;
  shared.ref.kind = RelKind::kGetLocal;
  shared.ref.local_id = shared.id;
  shared.ref.column_types = red.column_types;
  shared.value = std::move(red);
  const RelExpr& reduced = shared.ref;
  RelExpr present = unary(RelKind::kDistinct, project(reduced, iota(0, ctx.k)));
  RelExpr missing = minus_present(domain ? *domain : unit(), std::move(present));
  std::vector<ScalarExpr> defaults;
  for (const auto& a : r.aggregates) {
    if (a.kind == AggKind::kCount || a.kind == AggKind::kCountStar)
      defaults.push_back(ScalarExpr::literal_of(Datum::from_int(0), a.result_type));
    else
      defaults.push_back(ScalarExpr::null_of(a.result_type));
  }
  return shared.bind(union_of(reduced, map(std::move(missing), std::move(defaults))));
}

}  // namespace

RelExpr lower(const HRel& rel, const LowerOptions& options) {
  Lowerer l(options);
  Ctx top;
  top.outer_pos = [](uint32_t, uint32_t) -> uint32_t {
    throw SqlError(sqlstate::kInternalError, "reference to an enclosing query at the top level");
  };
  return l.lower(rel, top, nullptr);
}

ScalarExpr lower_simple_expr(const HExpr& e) {
  if (e.contains_subquery()) throw SqlError(sqlstate::kFeatureNotSupported, "subqueries are not supported here");
  RelExpr dummy;
  Lowerer l;
  Ctx top;
  top.outer_pos = [](uint32_t, uint32_t) -> uint32_t {
    throw SqlError(sqlstate::kInternalError, "reference to an enclosing query");
  };
  (void)l;
  std::function<ScalarExpr(const HExpr&)> rec = [&](const HExpr& x) -> ScalarExpr {
    if (x.kind == HExprKind::kColumn) {
      if (x.level != 0) throw SqlError(sqlstate::kInternalError, "outer reference in a simple expression");
      return ScalarExpr::column_ref(x.column, x.type);
    }
    ScalarExpr s;
    s.kind = x.op;
    s.type = x.type;
    s.column = x.column;
    s.literal = x.literal;
    s.fn = x.fn;
    for (const auto& a : x.args) s.args.push_back(rec(a));
    return s;
  };
  return rec(e);
}

ScalarExpr lower_constant_expr(const HExpr& e) { return lower_simple_expr(e); }

}  // namespace freshet::sql
