#include "dataflow/initplan_fold.hpp"

#include <string_view>
#include <utility>
#include <vector>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "common/stack_guard.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/in_set.hpp"

namespace freshet::dataflow {

bool may_raise(const ScalarExpr& e) {
  switch (e.kind) {
    case ScalarKind::kColumn:
    case ScalarKind::kLiteral:
    case ScalarKind::kParam:
    case ScalarKind::kMzNow:
      return false;
    case ScalarKind::kAnd:
    case ScalarKind::kOr:
    case ScalarKind::kNot:
    case ScalarKind::kIsNull:
    case ScalarKind::kIsNotNull:
    case ScalarKind::kIsTrue:
    case ScalarKind::kIsFalse:
      break;
    case ScalarKind::kCall: {
      // Comparisons of one type compare_datums-like; they raise nothing.
      if (e.fn == nullptr || e.args.size() != 2 || !(e.args[0].type == e.args[1].type)) return true;
      const std::string_view n = e.fn->name;
      if (n != "=" && n != "<>" && n != "<" && n != "<=" && n != ">" && n != ">=") return true;
      break;
    }
    default:
      return true;
  }
  for (const ScalarExpr& a : e.args)
    if (may_raise(a)) return true;
  return false;
}

namespace {

bool is_null_literal(const ScalarExpr& e) { return e.kind == ScalarKind::kLiteral && e.literal_value().is_null(); }

bool is_bool_literal(const ScalarExpr& e, bool v) {
  if (e.kind != ScalarKind::kLiteral) return false;
  Datum d = e.literal_value();
  return !d.is_null() && d.kind() == PhysicalKind::kBool && d.as_bool() == v;
}

// The value of an initplan that ran without error and gave at most one row; nullopt otherwise.
std::optional<ScalarExpr> known_value(const ScalarExpr& e) {
  if (e.kind != ScalarKind::kInSet || e.in_set == nullptr || e.in_set->error) return std::nullopt;
  const InSetValues& set = *e.in_set;
  if (e.column == kInSetExists) return ScalarExpr::boolean(!set.values.empty());
  if (e.column != kInSetValue || set.values.size() > 1) return std::nullopt;  // a second row raises 21000 where read
  if (set.values.empty()) return ScalarExpr::null_of(e.type);
  return ScalarExpr::literal_of(set.values[0].get(0), e.type);
}

// AND (is_and) or OR after its arguments were folded: `decides` is FALSE for AND, TRUE for OR.
void simplify_connective(ScalarExpr& e) {
  const bool is_and = e.kind == ScalarKind::kAnd;
  std::vector<ScalarExpr> kept;
  bool decided = false, raise_before = false;
  for (ScalarExpr& a : e.args) {
    if (is_bool_literal(a, is_and)) continue;  // TRUE in AND, FALSE in OR: no effect
    if (is_bool_literal(a, !is_and)) {
      decided = true;  // the arguments after it are never evaluated
      if (!raise_before) {
        e = ScalarExpr::boolean(!is_and);
        return;
      }
      kept.push_back(std::move(a));
      break;
    }
    raise_before = raise_before || may_raise(a);
    kept.push_back(std::move(a));
  }
  if (kept.empty()) {
    e = ScalarExpr::boolean(is_and);
    return;
  }
  if (kept.size() == 1 && !decided && kept[0].type.id == TypeId::kBool) {
    ScalarExpr only = std::move(kept[0]);
    e = std::move(only);
    return;
  }
  e.args = std::move(kept);
}

// CASE [when, then]... else: arms whose condition is a FALSE or NULL literal are never taken;
// a TRUE literal condition is taken whenever it is reached (its result becomes the else).
void simplify_case(ScalarExpr& e) {
  std::vector<ScalarExpr> args;
  const size_t arms = e.args.size() / 2;
  ScalarExpr otherwise = std::move(e.args.back());
  for (size_t i = 0; i < arms; ++i) {
    ScalarExpr& when = e.args[2 * i];
    if (when.kind == ScalarKind::kLiteral) {
      if (is_bool_literal(when, true)) {
        otherwise = std::move(e.args[2 * i + 1]);
        break;
      }
      continue;  // FALSE or NULL
    }
    args.push_back(std::move(when));
    args.push_back(std::move(e.args[2 * i + 1]));
  }
  if (args.empty() && otherwise.type == e.type) {
    e = std::move(otherwise);
    return;
  }
  args.push_back(std::move(otherwise));  // no arm left: a CASE of its ELSE alone
  e.args = std::move(args);
}

// COALESCE: NULL literals are skipped; a non-NULL literal ends it.
void simplify_coalesce(ScalarExpr& e) {
  std::vector<ScalarExpr> args;
  for (ScalarExpr& a : e.args) {
    if (is_null_literal(a)) continue;
    const bool ends = a.kind == ScalarKind::kLiteral;
    args.push_back(std::move(a));
    if (ends) break;
  }
  if (args.empty()) {
    e = ScalarExpr::null_of(e.type);
    return;
  }
  if (args.size() == 1 && args[0].type == e.type) {
    ScalarExpr only = std::move(args[0]);
    e = std::move(only);
    return;
  }
  e.args = std::move(args);
}

// Folds e, one of whose arguments changed, without raising and without skipping what a row
// would raise (initplan_fold.hpp).
void simplify(ScalarExpr& e) {
  switch (e.kind) {
    case ScalarKind::kAnd:
    case ScalarKind::kOr:
      simplify_connective(e);
      break;
    case ScalarKind::kCase:
      simplify_case(e);
      break;
    case ScalarKind::kCoalesce:
      simplify_coalesce(e);
      break;
    case ScalarKind::kCall:
    case ScalarKind::kCast:
      if (e.kind == ScalarKind::kCast || (e.fn != nullptr && e.fn->strict)) {
        bool has_null = false, raises = false;
        for (const ScalarExpr& a : e.args) {
          if (is_null_literal(a)) has_null = true;
          else raises = raises || may_raise(a);
        }
        if (has_null && !raises) {
          e = ScalarExpr::null_of(e.type);
          return;
        }
      }
      break;
    default:
      break;
  }
  if (e.kind == ScalarKind::kLiteral || !is_constant_expr(e)) return;
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  try {
    Datum d = eval(e, {}, ctx);
    e = ScalarExpr::literal_of(d, e.type);
  } catch (const SqlError&) {
    // Left for the rows that reach it.
  }
}

// Replaces the known initplans in e; folds the expressions that contain one. Returns the
// number replaced.
size_t fold(ScalarExpr& e) {
  check_stack_depth();
  if (e.kind == ScalarKind::kInSet) {
    if (std::optional<ScalarExpr> v = known_value(e)) {
      e = std::move(*v);
      return 1;
    }
  }
  size_t n = 0;
  for (ScalarExpr& a : e.args) n += fold(a);
  if (n > 0) simplify(e);
  return n;
}

// A Filter whose conjuncts were folded: TRUE conjuncts dropped, the ones after a FALSE or NULL
// one dropped (never evaluated); empty when nothing before it can raise and it reads a Get
// (whose rows raise nothing).
void simplify_filter(RelExpr& e) {
  std::vector<ScalarExpr> kept;
  bool raise_before = false;
  for (ScalarExpr& p : e.exprs) {
    if (is_bool_literal(p, true)) continue;
    if (p.kind == ScalarKind::kLiteral) {
      if (!raise_before && e.inputs[0].kind == RelKind::kGet) {
        RelExpr empty;
        empty.kind = RelKind::kConstant;
        empty.column_types = e.column_types;
        e = std::move(empty);
        return;
      }
      kept.push_back(std::move(p));
      break;
    }
    raise_before = raise_before || may_raise(p);
    kept.push_back(std::move(p));
  }
  if (kept.empty()) {
    RelExpr in = std::move(e.inputs[0]);
    e = std::move(in);
    return;
  }
  e.exprs = std::move(kept);
}

size_t fold_rel(RelExpr& e) {
  check_stack_depth();
  size_t n = 0;
  for (RelExpr& in : e.inputs) n += fold_rel(in);
  size_t here = 0;
  for (ScalarExpr& x : e.exprs) here += fold(x);
  for (auto& cls : e.equivalences)
    for (ScalarExpr& x : cls) here += fold(x);
  for (ScalarExpr& x : e.group_key) here += fold(x);
  for (AggregateExpr& a : e.aggregates) {
    here += fold(a.arg);
    here += fold(a.separator);
    for (ScalarExpr& x : a.order_exprs) here += fold(x);
    if (a.filter) here += fold(*a.filter);
  }
  for (auto& b : e.temporal_bounds) here += fold(b.expr);
  if (here > 0 && e.kind == RelKind::kFilter) simplify_filter(e);
  return n + here;
}

}  // namespace

size_t fold_initplans(RelExpr& plan) { return fold_rel(plan); }

}  // namespace freshet::dataflow
