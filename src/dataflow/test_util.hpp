#pragma once
// Helpers for dataflow tests: rows of small ints, hand-built IR, local scalar functions (so
// the tests do not depend on the function library), and a driver for incremental runs.

#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/numeric.hpp"
#include "dataflow/ir.hpp"
#include "dataflow/join_reduce.hpp"
#include "dataflow/render.hpp"
#include "dataflow/update.hpp"
#include "dataflow/workers.hpp"

namespace freshet::dataflow::testing {

using Ints = std::initializer_list<std::optional<int64_t>>;

inline Row ints(Ints vs) {
  std::vector<Datum> ds;
  for (const auto& v : vs) ds.push_back(v ? Datum::from_int(*v) : Datum::null());
  return Row::pack(ds);
}

// A readable form of a row for assertions: "1,NULL,abc".
inline std::string show(const Row& r) {
  std::string s;
  std::vector<Datum> ds = r.unpack();
  for (size_t i = 0; i < ds.size(); ++i) {
    if (i > 0) s += ",";
    const Datum& d = ds[i];
    switch (d.kind()) {
      case PhysicalKind::kNull: s += "NULL"; break;
      case PhysicalKind::kBool: s += d.as_bool() ? "t" : "f"; break;
      case PhysicalKind::kInt: s += std::to_string(d.as_int()); break;
      case PhysicalKind::kFloat: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", d.as_float());
        s += buf;
        break;
      }
      case PhysicalKind::kNumeric: s += numeric_to_string(d.as_numeric()); break;
      case PhysicalKind::kString: s += std::string(d.as_string()); break;
      default: s += "?"; break;
    }
  }
  return s;
}

// Multiset as sorted "row x diff" strings.
inline std::vector<std::string> show(const std::vector<std::pair<Row, int64_t>>& rows) {
  std::vector<std::string> out;
  for (const auto& [r, d] : rows) out.push_back(show(r) + " x" + std::to_string(d));
  std::sort(out.begin(), out.end());
  return out;
}
inline std::vector<std::string> show(const Batch& b) {
  std::vector<std::pair<Row, int64_t>> rows;
  for (const Update& u : b) rows.emplace_back(u.row, u.diff);
  consolidate(rows);
  return show(rows);
}

inline Type int8() { return Type(TypeId::kInt8); }
inline Type int4() { return Type(TypeId::kInt4); }

inline ScalarExpr col(uint32_t c, Type t = Type(TypeId::kInt8)) { return ScalarExpr::column_ref(c, t); }
inline ScalarExpr lit(int64_t v, Type t = Type(TypeId::kInt8)) { return ScalarExpr::literal_of(Datum::from_int(v), t); }
inline ScalarExpr null_bool() { return ScalarExpr::null_of(TypeId::kBool); }

// Local int8 functions.
namespace detail {
inline Datum eq_impl(std::span<const Datum> a, EvalContext&) { return Datum::from_bool(a[0].as_int() == a[1].as_int()); }
inline Datum lt_impl(std::span<const Datum> a, EvalContext&) { return Datum::from_bool(a[0].as_int() < a[1].as_int()); }
inline Datum add_impl(std::span<const Datum> a, EvalContext&) { return Datum::from_int(a[0].as_int() + a[1].as_int()); }
inline Datum div_impl(std::span<const Datum> a, EvalContext&) {
  if (a[1].as_int() == 0) throw SqlError(sqlstate::kDivisionByZero, "division by zero");
  return Datum::from_int(a[0].as_int() / a[1].as_int());
}
inline FunctionImpl make_fn(std::string_view name, ScalarFn f, Type r) {
  FunctionImpl fi;
  fi.name = name;
  fi.arg_types = {TypeId::kInt8, TypeId::kInt8};
  fi.result_type = r;
  fi.fn = f;
  return fi;
}
}  // namespace detail
inline const FunctionImpl* fn_eq() { static FunctionImpl f = detail::make_fn("=", detail::eq_impl, TypeId::kBool); return &f; }
inline const FunctionImpl* fn_lt() { static FunctionImpl f = detail::make_fn("<", detail::lt_impl, TypeId::kBool); return &f; }
inline const FunctionImpl* fn_add() { static FunctionImpl f = detail::make_fn("+", detail::add_impl, TypeId::kInt8); return &f; }
// Errors on division by zero.
inline const FunctionImpl* fn_div() { static FunctionImpl f = detail::make_fn("/", detail::div_impl, TypeId::kInt8); return &f; }

inline ScalarExpr eq(ScalarExpr a, ScalarExpr b) { return ScalarExpr::call(fn_eq(), {std::move(a), std::move(b)}, TypeId::kBool); }
inline ScalarExpr lt(ScalarExpr a, ScalarExpr b) { return ScalarExpr::call(fn_lt(), {std::move(a), std::move(b)}, TypeId::kBool); }
inline ScalarExpr add(ScalarExpr a, ScalarExpr b) { return ScalarExpr::call(fn_add(), {std::move(a), std::move(b)}, int8()); }

inline RelExpr get(uint64_t id, size_t arity, Type t = Type(TypeId::kInt8)) {
  RelExpr e;
  e.kind = RelKind::kGet;
  e.collection_id = id;
  e.column_types.assign(arity, t);
  return e;
}
inline RelExpr unary(RelKind k, RelExpr in) {
  RelExpr e;
  e.kind = k;
  e.column_types = in.column_types;
  e.inputs.push_back(std::move(in));
  return e;
}
inline RelExpr filter(RelExpr in, std::vector<ScalarExpr> preds) {
  RelExpr e = unary(RelKind::kFilter, std::move(in));
  e.exprs = std::move(preds);
  return e;
}
inline RelExpr map(RelExpr in, std::vector<ScalarExpr> exprs) {
  RelExpr e = unary(RelKind::kMap, std::move(in));
  for (const ScalarExpr& x : exprs) e.column_types.push_back(x.type);
  e.exprs = std::move(exprs);
  return e;
}
inline RelExpr project(RelExpr in, std::vector<uint32_t> cols) {
  RelExpr e;
  e.kind = RelKind::kProject;
  for (uint32_t c : cols) e.column_types.push_back(in.column_types.at(c));
  e.columns = std::move(cols);
  e.inputs.push_back(std::move(in));
  return e;
}
inline RelExpr join(std::vector<RelExpr> ins, std::vector<std::vector<ScalarExpr>> eqs) {
  RelExpr e;
  e.kind = RelKind::kJoin;
  for (const RelExpr& i : ins) e.column_types.insert(e.column_types.end(), i.column_types.begin(), i.column_types.end());
  e.inputs = std::move(ins);
  e.equivalences = std::move(eqs);
  return e;
}
inline AggregateExpr agg(AggKind k, ScalarExpr arg, Type result, bool distinct = false) {
  AggregateExpr a;
  a.kind = k;
  a.arg = std::move(arg);
  a.result_type = result;
  a.distinct = distinct;
  return a;
}
inline RelExpr reduce(RelExpr in, std::vector<ScalarExpr> key, std::vector<AggregateExpr> aggs) {
  RelExpr e;
  e.kind = RelKind::kReduce;
  for (const ScalarExpr& k : key) e.column_types.push_back(k.type);
  for (const AggregateExpr& a : aggs) e.column_types.push_back(a.result_type);
  e.inputs.push_back(std::move(in));
  e.group_key = std::move(key);
  e.aggregates = std::move(aggs);
  return e;
}
inline RelExpr constant(size_t arity, std::vector<std::pair<Row, int64_t>> rows) {
  RelExpr e;
  e.kind = RelKind::kConstant;
  e.column_types.assign(arity, int8());
  e.constant_rows = std::move(rows);
  return e;
}

// FRESHET_TEST_WORKERS=N runs every dataflow of the test binary sharded N ways (ctest runs
// dataflow_test once unsharded and once as dataflow_test_sharded).
inline const bool kTestWorkersConfigured = [] {
  const char* w = std::getenv("FRESHET_TEST_WORKERS");
  if (w != nullptr && std::atoi(w) > 0) WorkerPool::configure(static_cast<size_t>(std::atoi(w)));
  return true;
}();

// Drives an incrementally maintained plan: feed(id, rows) then step(t) returns the output diffs.
// Adds a step's output lines ("row xN", as Incremental::step shows them) into a multiset of
// rows (rows whose multiplicity reaches 0 leave): the sum of every step's output so far.
inline void accumulate(const std::vector<std::string>& lines, std::map<std::string, int64_t>& into) {
  for (const std::string& l : lines) {
    const size_t x = l.rfind(" x");
    const std::string row = l.substr(0, x);
    int64_t& c = into[row];
    c += std::stoll(l.substr(x + 2));
    if (c == 0) into.erase(row);
  }
}

class Incremental {
 public:
  // delta_joins = false: multi-way joins as left-deep chains of binary joins (the reference
  // the delta join tests compare with).
  // workers: shards (0: WorkerPool::default_workers(), 1: unsharded).
  // join_reduce = false: a Reduce over a join as separate operators (join_reduce.hpp).
  explicit Incremental(const RelExpr& plan, bool delta_joins = true, bool hierarchical_min_max = false,
                       size_t workers = 0, bool join_reduce = true) {
    RenderOptions o;
    o.keep_state = true;
    o.delta_joins = delta_joins;
    o.hierarchical_min_max = hierarchical_min_max;
    o.workers = workers;
    const bool fuse = join_reduce_enabled().exchange(join_reduce);
    r_ = render(plan, o);
    join_reduce_enabled().store(fuse);
    ctx_.arena = &arena_;
  }
  void feed(uint64_t id, std::vector<std::pair<Row, int64_t>> rows) {
    for (const auto& [cid, node] : r_.sources) {
      if (cid != id) continue;
      Batch b;
      for (auto& [r, d] : rows) b.push_back(Update{r, 0, d});
      r_.dataflow->push(node, std::move(b));
    }
  }
  std::vector<std::string> step(uint64_t t) {
    r_.dataflow->step(t, ctx_);
    return show(r_.dataflow->take_output(r_.output));
  }
  // The rendered dataflow, for tests of the driver's interface (route_output).
  RenderedDataflow& rendered() { return r_; }
  EvalContext& context() { return ctx_; }
  // Dataflow::state_bytes: the amortized estimate, or an exact walk.
  size_t state_bytes(bool exact = false) const { return r_.dataflow->state_bytes(exact); }
  // Entries of state (Dataflow::state_size: arrangement entries, groups, ...).
  size_t state_size() const { return r_.dataflow->state_size(); }
  // Nodes of the graph (sources and operators).
  size_t num_nodes() const { return r_.dataflow->num_nodes(); }

 private:
  RenderedDataflow r_;
  Arena arena_;
  EvalContext ctx_;
};

}  // namespace freshet::dataflow::testing
