#include "sql/optimize.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "common/stack_guard.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/render.hpp"
#include "sql/cse.hpp"

namespace freshet::sql {

using dataflow::AggregateExpr;
using dataflow::RelExpr;
using dataflow::RelKind;
using dataflow::ScalarExpr;
using dataflow::ScalarKind;

namespace optimize_detail {

namespace {
bool literal_is(const ScalarExpr& e, bool v) {
  if (e.kind != ScalarKind::kLiteral) return false;
  Datum d = e.literal_value();
  return !d.is_null() && d.kind() == PhysicalKind::kBool && d.as_bool() == v;
}
}  // namespace

void fold_constants(ScalarExpr& e) {
  check_stack_depth();
  for (ScalarExpr& a : e.args) fold_constants(a);
  if (e.kind == ScalarKind::kAnd || e.kind == ScalarKind::kOr) {
    bool is_and = e.kind == ScalarKind::kAnd;
    // AND: a FALSE argument decides; TRUE arguments drop out. OR: the reverse.
    std::vector<ScalarExpr> kept;
    for (ScalarExpr& a : e.args) {
      if (literal_is(a, !is_and)) {
        e = ScalarExpr::boolean(!is_and);
        return;
      }
      if (literal_is(a, is_and)) continue;
      // Flatten nested ANDs/ORs of the same kind.
      if (a.kind == e.kind) {
        for (ScalarExpr& x : a.args) kept.push_back(std::move(x));
      } else {
        kept.push_back(std::move(a));
      }
    }
    if (kept.empty()) {
      e = ScalarExpr::boolean(is_and);
      return;
    }
    if (kept.size() == 1 && kept[0].type.id == TypeId::kBool) {
      ScalarExpr only = std::move(kept[0]);
      e = std::move(only);
      return;
    }
    e.args = std::move(kept);
  }
  // PostgreSQL's planner rule (eval_const_expressions -> evaluate_function): a strict function
  // or operator with a NULL constant argument (after its arguments are folded) is never
  // called, so the call is the NULL constant, even when its other arguments read columns or
  // would raise, and whatever its volatility: `col1 / 0 = NULL` is NULL, not 22012, and
  // `x * y BETWEEN NULL AND z` has the conjunct `x * y >= NULL` = NULL, which empties the
  // filter before the product is computed. Casts of NULL are NULL too.
  if ((e.kind == ScalarKind::kCall && e.fn != nullptr && e.fn->strict) || e.kind == ScalarKind::kCast) {
    for (const ScalarExpr& a : e.args) {
      if (a.kind == ScalarKind::kLiteral && a.literal_value().is_null()) {
        e = ScalarExpr::null_of(e.type);
        return;
      }
    }
  }
  if (e.kind == ScalarKind::kLiteral || !dataflow::is_constant_expr(e)) return;
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  try {
    Datum d = dataflow::eval(e, {}, ctx);
    e = ScalarExpr::literal_of(d, e.type);
  } catch (const SqlError&) {
    // Leave it for run time: the error must only be raised if a row reaches it.
  }
}

double estimate_rows(const RelExpr& e) {
  switch (e.kind) {
    case RelKind::kGet:
      return 1000;
    case RelKind::kConstant:
      return static_cast<double>(e.constant_rows.size());
    case RelKind::kFilter: {
      double r = estimate_rows(e.inputs[0]);
      for (const ScalarExpr& p : e.exprs) {
        bool eq_const = p.kind == ScalarKind::kCall && p.fn != nullptr && p.fn->name == "=" && p.args.size() == 2 &&
                        (p.args[0].kind == ScalarKind::kLiteral || p.args[1].kind == ScalarKind::kLiteral ||
                         p.args[0].kind == ScalarKind::kParam || p.args[1].kind == ScalarKind::kParam);
        r *= eq_const ? 0.1 : 0.5;
      }
      return std::max(r, 1.0);
    }
    case RelKind::kMap:
    case RelKind::kProject:
    case RelKind::kNegate:
    case RelKind::kDistinct:
    case RelKind::kThreshold:
    case RelKind::kTemporalFilter:
      return estimate_rows(e.inputs[0]);
    case RelKind::kGetLocal:
      return 1000;
    case RelKind::kFlatMap:
      return estimate_rows(e.inputs[0]) * 10;
    case RelKind::kWindow:
      return estimate_rows(e.inputs[0]);
    case RelKind::kLetRec:
    case RelKind::kLet:
      return estimate_rows(e.inputs.back());
    case RelKind::kUnion: {
      double r = 0;
      for (const RelExpr& i : e.inputs) r += estimate_rows(i);
      return r;
    }
    case RelKind::kReduce:
      return e.group_key.empty() ? 1 : std::max(estimate_rows(e.inputs[0]) / 2, 1.0);
    case RelKind::kTopK: {
      double r = estimate_rows(e.inputs[0]);
      if (e.limit && e.group_columns.empty()) r = std::min(r, static_cast<double>(*e.limit));
      return r;
    }
    case RelKind::kJoin: {
      if (e.inputs.empty()) return 1;
      double r = 1;
      double mx = 1;
      for (const RelExpr& i : e.inputs) {
        double x = estimate_rows(i);
        r *= x;
        mx = std::max(mx, x);
      }
      // Connected joins: assume key-to-key joins that keep about the largest side.
      if (e.equivalences.size() + 1 >= e.inputs.size()) return mx;
      return std::min(r, 1e18);
    }
  }
  return 1000;
}

}  // namespace optimize_detail

namespace {

using optimize_detail::estimate_rows;
using optimize_detail::fold_constants;

ScalarExpr remap(const ScalarExpr& e, const std::function<uint32_t(uint32_t)>& f) {
  ScalarExpr r = e;
  std::function<void(ScalarExpr&)> walk = [&](ScalarExpr& x) {
    if (x.kind == ScalarKind::kColumn) x.column = f(x.column);
    for (ScalarExpr& a : x.args) walk(a);
  };
  walk(r);
  return r;
}

std::vector<uint32_t> columns_of(const ScalarExpr& e) {
  std::vector<uint32_t> cs;
  dataflow::collect_columns(e, cs);
  return cs;
}

bool all_columns_below(const ScalarExpr& e, uint32_t n) {
  for (uint32_t c : columns_of(e)) {
    if (c >= n) return false;
  }
  return true;
}

void split_conjuncts(ScalarExpr e, std::vector<ScalarExpr>& out) {
  if (e.kind == ScalarKind::kAnd) {
    for (ScalarExpr& a : e.args) split_conjuncts(std::move(a), out);
  } else {
    out.push_back(std::move(e));
  }
}

RelExpr empty_like(const RelExpr& e) {
  RelExpr r;
  r.kind = RelKind::kConstant;
  r.column_types = e.column_types;
  return r;
}

RelExpr make_filter(RelExpr in, std::vector<ScalarExpr> preds) {
  if (preds.empty()) return in;
  RelExpr f;
  f.kind = RelKind::kFilter;
  f.column_types = in.column_types;
  f.exprs = std::move(preds);
  f.inputs.push_back(std::move(in));
  return f;
}

RelExpr make_project(RelExpr in, std::vector<uint32_t> cols) {
  RelExpr p;
  p.kind = RelKind::kProject;
  for (uint32_t c : cols) p.column_types.push_back(in.column_types.at(c));
  p.columns = std::move(cols);
  p.inputs.push_back(std::move(in));
  return p;
}

bool is_identity_project(const RelExpr& e) {
  if (e.kind != RelKind::kProject || e.columns.size() != e.inputs[0].arity()) return false;
  for (uint32_t i = 0; i < e.columns.size(); ++i) {
    if (e.columns[i] != i) return false;
  }
  return true;
}

// Whether `pred` is `a = b` that a join may evaluate as a hash-key equality: SQL `=` over
// values whose equality is equality of their canonical key bytes.
bool is_key_equality(const ScalarExpr& pred) {
  if (pred.kind != ScalarKind::kCall || pred.fn == nullptr || pred.fn->name != "=" || pred.args.size() != 2 ||
      !pred.fn->strict) {
    return false;
  }
  TypeId a = pred.args[0].type.id, b = pred.args[1].type.id;
  // bpchar compares ignoring trailing blanks; jsonb and records have their own equality.
  auto plain = [](TypeId t) {
    return t != TypeId::kBpchar && t != TypeId::kJsonb && t != TypeId::kRecord && t != TypeId::kUnknown;
  };
  if (!plain(a) || !plain(b)) return false;
  if (a == b) return true;
  // Cross-type integer comparisons (int4 = int8) compare the same physical integers.
  return is_integer_type(a) && is_integer_type(b);
}

// ---------------------------------------------------------------------------------------------

class Optimizer {
 public:
  // Not inlined into itself: it recurses once per plan level, so its frame must stay small.
  [[gnu::noinline]] RelExpr run(RelExpr e) {
    check_stack_depth();
    if (e.kind == RelKind::kUnion) flatten_union(e);
    for (RelExpr& in : e.inputs) in = run(std::move(in));
    return local(std::move(e));
  }

 private:
  // Nested unions become one union of their leaves, in order, before anything else: a chain
  // of n UNION ALLs is flattened in linear time (flattening one level per node after its
  // inputs moved every leaf once per level).
  static void flatten_union(RelExpr& e) {
    std::vector<RelExpr> flat, todo;
    for (auto it = e.inputs.rbegin(); it != e.inputs.rend(); ++it) todo.push_back(std::move(*it));
    while (!todo.empty()) {
      RelExpr x = std::move(todo.back());
      todo.pop_back();
      if (x.kind == RelKind::kUnion) {
        for (auto it = x.inputs.rbegin(); it != x.inputs.rend(); ++it) todo.push_back(std::move(*it));
      } else {
        flat.push_back(std::move(x));
      }
    }
    e.inputs = std::move(flat);
  }

  // Rewrites one node whose inputs are already optimized.
  [[gnu::noinline]] RelExpr local(RelExpr e) {
    switch (e.kind) {
      case RelKind::kProject: {
        if (is_identity_project(e)) return std::move(e.inputs[0]);
        RelExpr& in = e.inputs[0];
        if (in.kind == RelKind::kProject) {
          std::vector<uint32_t> cols;
          for (uint32_t c : e.columns) cols.push_back(in.columns.at(c));
          return local(make_project(std::move(in.inputs[0]), std::move(cols)));
        }
        return e;
      }
      case RelKind::kMap: {
        for (ScalarExpr& x : e.exprs) fold_constants(x);
        if (e.exprs.empty()) return std::move(e.inputs[0]);
        RelExpr& in = e.inputs[0];
        if (in.kind == RelKind::kMap) {
          // Both maps' expressions are numbered over (input, earlier new columns): concatenating
          // them keeps every index valid.
          std::vector<ScalarExpr> exprs = std::move(in.exprs);
          for (ScalarExpr& x : e.exprs) exprs.push_back(std::move(x));
          RelExpr m;
          m.kind = RelKind::kMap;
          m.column_types = e.column_types;
          m.exprs = std::move(exprs);
          m.inputs.push_back(std::move(in.inputs[0]));
          return m;
        }
        return e;
      }
      case RelKind::kFilter:
        return filter(std::move(e.inputs[0]), std::move(e.exprs));
      case RelKind::kJoin:
        return plan_join(std::move(e), {});
      case RelKind::kReduce:
        for (ScalarExpr& x : e.group_key) fold_constants(x);
        for (AggregateExpr& a : e.aggregates) {
          fold_constants(a.arg);
          for (ScalarExpr& o : a.order_exprs) fold_constants(o);
          if (a.filter) fold_constants(*a.filter);
        }
        return e;
      case RelKind::kUnion: {
        // Flatten nested unions; drop empty constants.
        std::vector<RelExpr> ins;
        for (RelExpr& i : e.inputs) {
          if (i.kind == RelKind::kUnion) {
            for (RelExpr& j : i.inputs) ins.push_back(std::move(j));
          } else if (i.kind == RelKind::kConstant && i.constant_rows.empty()) {
            continue;
          } else {
            ins.push_back(std::move(i));
          }
        }
        if (ins.empty()) return empty_like(e);
        if (ins.size() == 1) return std::move(ins[0]);
        e.inputs = std::move(ins);
        return e;
      }
      case RelKind::kNegate:
        if (e.inputs[0].kind == RelKind::kNegate) return std::move(e.inputs[0].inputs[0]);
        return e;
      default:
        return e;
    }
  }

  // Filter(in, preds) with in optimized: simplify, then push down as far as possible.
  RelExpr filter(RelExpr in, std::vector<ScalarExpr> raw) {
    std::vector<ScalarExpr> preds;
    for (ScalarExpr& p : raw) {
      fold_constants(p);
      split_conjuncts(std::move(p), preds);
    }
    std::vector<ScalarExpr> kept;
    for (ScalarExpr& p : preds) {
      if (p.is_literal_true()) continue;
      if (p.kind == ScalarKind::kLiteral) return empty_like(in);  // FALSE or NULL: no row passes
      kept.push_back(std::move(p));
    }
    preds = std::move(kept);
    if (preds.empty()) return in;
    if (in.kind == RelKind::kConstant && in.constant_rows.empty()) return in;

    switch (in.kind) {
      case RelKind::kFilter: {
        std::vector<ScalarExpr> all = std::move(in.exprs);
        for (ScalarExpr& p : preds) all.push_back(std::move(p));
        return filter(std::move(in.inputs[0]), std::move(all));
      }
      case RelKind::kMap: {
        uint32_t n = static_cast<uint32_t>(in.inputs[0].arity());
        std::vector<ScalarExpr> below, above;
        for (ScalarExpr& p : preds) (all_columns_below(p, n) ? below : above).push_back(std::move(p));
        if (below.empty()) return make_filter(std::move(in), std::move(above));
        in.inputs[0] = filter(std::move(in.inputs[0]), std::move(below));
        return make_filter(std::move(in), std::move(above));
      }
      case RelKind::kProject: {
        std::vector<ScalarExpr> below;
        for (ScalarExpr& p : preds) below.push_back(remap(p, [&](uint32_t c) { return in.columns.at(c); }));
        in.inputs[0] = filter(std::move(in.inputs[0]), std::move(below));
        return local(std::move(in));
      }
      case RelKind::kUnion:
        for (RelExpr& i : in.inputs) i = filter(std::move(i), preds);
        return local(std::move(in));
      case RelKind::kNegate:
      case RelKind::kDistinct:
      case RelKind::kThreshold:
      case RelKind::kTemporalFilter:  // row predicates commute with a row's validity interval
        in.inputs[0] = filter(std::move(in.inputs[0]), std::move(preds));
        return in;
      case RelKind::kLet:  // into the body; the value is shared with other readers
        in.inputs[1] = filter(std::move(in.inputs[1]), std::move(preds));
        return in;
      // kLetRec: a predicate on the result is not pushed into the bindings (it would change
      // what the recursion derives); each binding and the result are optimized on their own.
      case RelKind::kReduce: {
        uint32_t nk = static_cast<uint32_t>(in.group_key.size());
        std::vector<ScalarExpr> below, above;
        for (ScalarExpr& p : preds) {
          if (all_columns_below(p, nk)) {
            // Substitute the key expressions: a group passes iff its key does.
            std::function<void(ScalarExpr&)> subst = [&](ScalarExpr& x) {
              if (x.kind == ScalarKind::kColumn) {
                x = in.group_key[x.column];
                return;
              }
              for (ScalarExpr& a : x.args) subst(a);
            };
            ScalarExpr q = p;
            subst(q);
            below.push_back(std::move(q));
          } else {
            above.push_back(std::move(p));
          }
        }
        if (!below.empty()) in.inputs[0] = filter(std::move(in.inputs[0]), std::move(below));
        return make_filter(std::move(in), std::move(above));
      }
      case RelKind::kFlatMap: {
        // Predicates over the input's columns filter the input rows before the function runs.
        uint32_t n = static_cast<uint32_t>(in.inputs[0].arity());
        std::vector<ScalarExpr> below, above;
        for (ScalarExpr& p : preds) (all_columns_below(p, n) ? below : above).push_back(std::move(p));
        if (!below.empty()) in.inputs[0] = filter(std::move(in.inputs[0]), std::move(below));
        return make_filter(std::move(in), std::move(above));
      }
      case RelKind::kWindow:
      case RelKind::kTopK: {
        std::vector<ScalarExpr> below, above;
        for (ScalarExpr& p : preds) {
          bool on_group = true;
          for (uint32_t c : columns_of(p)) {
            on_group = on_group && std::find(in.group_columns.begin(), in.group_columns.end(), c) != in.group_columns.end();
          }
          (on_group ? below : above).push_back(std::move(p));
        }
        if (!below.empty()) in.inputs[0] = filter(std::move(in.inputs[0]), std::move(below));
        return make_filter(std::move(in), std::move(above));
      }
      case RelKind::kJoin:
        return plan_join(std::move(in), std::move(preds));
      default:
        return make_filter(std::move(in), std::move(preds));
    }
  }

  // A join flattened into leaves: leaf inputs, the equivalences and predicates over the
  // concatenation of the leaves' columns, and each output column's position in it.
  struct Flat {
    std::vector<RelExpr> leaves;
    std::vector<std::vector<ScalarExpr>> equivalences;
    std::vector<ScalarExpr> preds;
    std::vector<uint32_t> outcols;
    uint32_t width = 0;  // total leaf columns
  };

  static bool joinish(const RelExpr& e) {
    if (e.kind == RelKind::kJoin) return true;
    if (e.kind == RelKind::kFilter || e.kind == RelKind::kProject) return joinish(e.inputs[0]);
    return false;
  }

  void flatten(RelExpr e, Flat& f) {
    if (e.kind == RelKind::kJoin) {
      std::vector<uint32_t> cols;  // this join's output columns -> flat columns
      for (RelExpr& in : e.inputs) {
        Flat sub;
        flatten(std::move(in), sub);
        append(std::move(sub), f, cols);
      }
      auto m = [&](uint32_t c) { return cols.at(c); };
      for (auto& cls : e.equivalences) {
        std::vector<ScalarExpr> c;
        for (ScalarExpr& x : cls) c.push_back(remap(x, m));
        f.equivalences.push_back(std::move(c));
      }
      f.outcols = std::move(cols);
      return;
    }
    if (e.kind == RelKind::kFilter && joinish(e.inputs[0])) {
      flatten(std::move(e.inputs[0]), f);
      for (ScalarExpr& p : e.exprs) {
        fold_constants(p);
        split_conjuncts(remap(p, [&](uint32_t c) { return f.outcols.at(c); }), f.preds);
      }
      return;
    }
    if (e.kind == RelKind::kProject && joinish(e.inputs[0])) {
      flatten(std::move(e.inputs[0]), f);
      std::vector<uint32_t> cols;
      for (uint32_t c : e.columns) cols.push_back(f.outcols.at(c));
      f.outcols = std::move(cols);
      return;
    }
    uint32_t n = static_cast<uint32_t>(e.arity());
    f.outcols.resize(n);
    std::iota(f.outcols.begin(), f.outcols.end(), f.width);
    f.width += n;
    f.leaves.push_back(std::move(e));
  }

  // Appends sub's leaves to f (shifting its columns) and sub's output columns to cols.
  static void append(Flat sub, Flat& f, std::vector<uint32_t>& cols) {
    uint32_t off = f.width;
    auto shift = [&](uint32_t c) { return c + off; };
    for (RelExpr& l : sub.leaves) f.leaves.push_back(std::move(l));
    for (auto& cls : sub.equivalences) {
      std::vector<ScalarExpr> c;
      for (ScalarExpr& x : cls) c.push_back(remap(x, shift));
      f.equivalences.push_back(std::move(c));
    }
    for (ScalarExpr& p : sub.preds) f.preds.push_back(remap(p, shift));
    for (uint32_t c : sub.outcols) cols.push_back(c + off);
    f.width += sub.width;
  }

  RelExpr plan_join(RelExpr join, std::vector<ScalarExpr> preds) {
    std::vector<Type> out_types = join.column_types;
    Flat f;
    flatten(std::move(join), f);
    for (ScalarExpr& p : preds) {
      fold_constants(p);
      split_conjuncts(remap(p, [&](uint32_t c) { return f.outcols.at(c); }), f.preds);
    }
    size_t n = f.leaves.size();
    std::vector<uint32_t> offsets(n + 1, 0);
    for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + static_cast<uint32_t>(f.leaves[i].arity());
    auto leaf_of = [&](uint32_t c) {
      return static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), c) - offsets.begin() - 1);
    };
    auto leaves_of = [&](const ScalarExpr& e) {
      std::vector<size_t> ls;
      for (uint32_t c : columns_of(e)) ls.push_back(leaf_of(c));
      std::sort(ls.begin(), ls.end());
      ls.erase(std::unique(ls.begin(), ls.end()), ls.end());
      return ls;
    };

    // Classify the predicates.
    std::vector<std::vector<ScalarExpr>> pushed(n);
    std::vector<ScalarExpr> residual;
    for (ScalarExpr& p : f.preds) {
      if (p.is_literal_true()) continue;
      if (p.kind == ScalarKind::kLiteral) {
        RelExpr e;
        e.kind = RelKind::kConstant;
        e.column_types = out_types;
        return e;
      }
      std::vector<size_t> ls = leaves_of(p);
      if (ls.size() == 1 || (ls.empty() && n > 0)) {
        size_t l = ls.empty() ? 0 : ls[0];
        pushed[l].push_back(remap(p, [&](uint32_t c) { return c - offsets[l]; }));
        continue;
      }
      if (is_key_equality(p)) {
        std::vector<size_t> a = leaves_of(p.args[0]), b = leaves_of(p.args[1]);
        bool disjoint = !a.empty() && !b.empty();
        for (size_t x : a) disjoint = disjoint && std::find(b.begin(), b.end(), x) == b.end();
        if (disjoint) {
          f.equivalences.push_back({p.args[0], p.args[1]});
          continue;
        }
      }
      residual.push_back(std::move(p));
    }
    for (size_t l = 0; l < n; ++l) {
      if (!pushed[l].empty()) f.leaves[l] = filter(std::move(f.leaves[l]), std::move(pushed[l]));
    }
    merge_classes(f.equivalences);

    // Order the leaves.
    std::vector<size_t> order = order_leaves(f, leaves_of);

    // Rebuild: new column positions of every flat column.
    std::vector<uint32_t> newpos(f.width);
    uint32_t pos = 0;
    for (size_t l : order) {
      for (uint32_t c = offsets[l]; c < offsets[l + 1]; ++c) newpos[c] = pos++;
    }
    auto m = [&](uint32_t c) { return newpos.at(c); };
    RelExpr j;
    j.kind = RelKind::kJoin;
    for (size_t l : order) {
      j.column_types.insert(j.column_types.end(), f.leaves[l].column_types.begin(), f.leaves[l].column_types.end());
      j.inputs.push_back(std::move(f.leaves[l]));
    }
    for (auto& cls : f.equivalences) {
      std::vector<ScalarExpr> c;
      for (ScalarExpr& x : cls) c.push_back(remap(x, m));
      j.equivalences.push_back(std::move(c));
    }
    std::vector<ScalarExpr> res;
    for (ScalarExpr& p : residual) res.push_back(remap(p, m));
    RelExpr body = j.inputs.size() == 1 && j.equivalences.empty() ? std::move(j.inputs[0]) : std::move(j);
    body = make_filter(std::move(body), std::move(res));
    std::vector<uint32_t> outcols;
    for (uint32_t c : f.outcols) outcols.push_back(m(c));
    RelExpr p = make_project(std::move(body), std::move(outcols));
    if (is_identity_project(p)) return std::move(p.inputs[0]);
    return p;
  }

  // Merges classes that share an expression; drops duplicate expressions within a class.
  static void merge_classes(std::vector<std::vector<ScalarExpr>>& classes) {
    bool changed = true;
    while (changed) {
      changed = false;
      for (size_t i = 0; i < classes.size() && !changed; ++i) {
        for (size_t k = i + 1; k < classes.size() && !changed; ++k) {
          bool share = false;
          for (const ScalarExpr& a : classes[i]) {
            for (const ScalarExpr& b : classes[k]) share = share || exprs_equal(a, b);
          }
          if (share) {
            for (ScalarExpr& b : classes[k]) classes[i].push_back(std::move(b));
            classes.erase(classes.begin() + static_cast<ptrdiff_t>(k));
            changed = true;
          }
        }
      }
    }
    for (auto& cls : classes) {
      std::vector<ScalarExpr> uniq;
      for (ScalarExpr& x : cls) {
        bool dup = false;
        for (const ScalarExpr& u : uniq) dup = dup || exprs_equal(u, x);
        if (!dup) uniq.push_back(std::move(x));
      }
      cls = std::move(uniq);
    }
    classes.erase(std::remove_if(classes.begin(), classes.end(), [](const auto& c) { return c.size() < 2; }),
                  classes.end());
  }

  template <typename LeavesOf>
  static std::vector<size_t> order_leaves(const Flat& f, const LeavesOf& leaves_of) {
    size_t n = f.leaves.size();
    std::vector<double> est(n);
    for (size_t i = 0; i < n; ++i) est[i] = estimate_rows(f.leaves[i]);
    // Per class, the leaf sets of its expressions.
    std::vector<std::vector<std::vector<size_t>>> class_leaves;
    for (const auto& cls : f.equivalences) {
      std::vector<std::vector<size_t>> ls;
      for (const ScalarExpr& x : cls) ls.push_back(leaves_of(x));
      class_leaves.push_back(std::move(ls));
    }
    std::vector<bool> joined(n, false);
    auto subset_of_joined = [&](const std::vector<size_t>& ls) {
      for (size_t l : ls) {
        if (!joined[l]) return false;
      }
      return true;
    };
    // Whether candidate c is tied by an equivalence to what is joined so far.
    auto connected = [&](size_t c) {
      for (const auto& cls : class_leaves) {
        bool has_c = false, has_joined = false;
        for (const auto& ls : cls) {
          if (ls.size() == 1 && ls[0] == c) has_c = true;
          if (!ls.empty() && subset_of_joined(ls)) has_joined = true;
        }
        if (has_c && has_joined) return true;
      }
      return false;
    };
    auto degree = [&](size_t c) {
      size_t d = 0;
      for (const auto& cls : class_leaves) {
        for (const auto& ls : cls) {
          if (std::find(ls.begin(), ls.end(), c) != ls.end()) {
            ++d;
            break;
          }
        }
      }
      return d;
    };
    std::vector<size_t> order;
    for (size_t step = 0; step < n; ++step) {
      size_t best = n;
      bool best_conn = false;
      for (size_t c = 0; c < n; ++c) {
        if (joined[c]) continue;
        bool conn = step > 0 && connected(c);
        if (best == n) {
          best = c;
          best_conn = conn;
          continue;
        }
        // Prefer connected inputs, then the smallest estimate, then the best connected one
        // (more equivalences), then the original order.
        if (conn != best_conn) {
          if (conn) {
            best = c;
            best_conn = conn;
          }
          continue;
        }
        if (est[c] < est[best] || (est[c] == est[best] && degree(c) > degree(best))) {
          best = c;
          best_conn = conn;
        }
      }
      joined[best] = true;
      order.push_back(best);
    }
    return order;
  }
};

}  // namespace

RelExpr optimize(RelExpr plan) {
  Optimizer o;
  // Relation CSE last: pushdown and join planning must first make the copies identical.
  return bind_common_subexpressions(o.run(std::move(plan)));
}

}  // namespace freshet::sql
