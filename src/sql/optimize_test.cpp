#include "sql/optimize.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <random>

#include "common/error.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::sql {
namespace {

using namespace dataflow;
using namespace dataflow::testing;
using Rows = std::vector<std::pair<Row, int64_t>>;
using Strings = std::vector<std::string>;

class OptimizeTest : public ::testing::Test {
 protected:
  OptimizeTest() { ctx.arena = &arena; }
  Strings run(const RelExpr& plan) {
    SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
      for (const auto& [r, d] : tables[id]) emit(r, d);
    };
    return show(run_oneshot(plan, snap, ctx));
  }
  // The optimized plan gives the same result as the original.
  RelExpr check_same(const RelExpr& plan) {
    RelExpr o = optimize(plan);
    EXPECT_EQ(run(o), run(plan)) << "original:\n" << plan.to_string() << "optimized:\n" << o.to_string();
    EXPECT_EQ(o.column_types, plan.column_types);
    return o;
  }
  std::map<uint64_t, Rows> tables;
  Arena arena;
  EvalContext ctx;
};

RelExpr cross(RelExpr a, RelExpr b) { return join({std::move(a), std::move(b)}, {}); }
ScalarExpr conj(std::vector<ScalarExpr> ps) { return ScalarExpr::make(ScalarKind::kAnd, std::move(ps), TypeId::kBool); }

// exprs_equal (which merges join equivalence classes) compares every field: `x = ANY (a)` and
// `x = ALL (a)` differ only in `column`, and two list functions only in `column`. It treated
// them as equal before (the optimizer's own copy ignored `column` and `fn` of those kinds).
TEST_F(OptimizeTest, ExprsEqualComparesEveryField) {
  auto any_all = [](uint32_t which) {
    ScalarExpr e;
    e.kind = ScalarKind::kArrayCompare;
    e.type = Type(TypeId::kBool);
    e.column = which;
    e.args = {col(0), col(1)};
    return e;
  };
  EXPECT_TRUE(exprs_equal(any_all(0), any_all(0)));
  EXPECT_FALSE(exprs_equal(any_all(0), any_all(1)));
  EXPECT_FALSE(exprs_equal(col(0), col(1)));
  EXPECT_FALSE(exprs_equal(lit(1), lit(2)));
  EXPECT_TRUE(exprs_equal(lit(1), lit(1)));
}

TEST_F(OptimizeTest, FoldsConstants) {
  ScalarExpr e = add(lit(1), add(lit(2), lit(3)));
  optimize_detail::fold_constants(e);
  ASSERT_EQ(e.kind, ScalarKind::kLiteral);
  EXPECT_EQ(e.literal_value().as_int(), 6);
  // An error is left for run time.
  ScalarExpr d = ScalarExpr::call(fn_div(), {lit(1), lit(0)}, int8());
  optimize_detail::fold_constants(d);
  EXPECT_EQ(d.kind, ScalarKind::kCall);
  // AND with TRUE drops it; with FALSE is FALSE; NULL stays.
  ScalarExpr a = conj({ScalarExpr::boolean(true), lt(col(0), lit(1))});
  optimize_detail::fold_constants(a);
  EXPECT_EQ(a.to_string(), "(#0 < 1)");
  ScalarExpr f = conj({lt(col(0), lit(1)), ScalarExpr::boolean(false)});
  optimize_detail::fold_constants(f);
  EXPECT_EQ(f.to_string(), "false");
  ScalarExpr n = conj({lt(col(0), lit(1)), null_bool()});
  optimize_detail::fold_constants(n);
  EXPECT_EQ(n.kind, ScalarKind::kAnd);
}

TEST_F(OptimizeTest, StrictCallWithNullConstantIsNull) {
  // PostgreSQL's eval_const_expressions: `#0 / 0 = NULL` is NULL without dividing.
  ScalarExpr e = eq(ScalarExpr::call(fn_div(), {col(0), lit(0)}, int8()), ScalarExpr::null_of(int8()));
  optimize_detail::fold_constants(e);
  ASSERT_EQ(e.kind, ScalarKind::kLiteral);
  EXPECT_TRUE(e.literal_value().is_null());
  EXPECT_EQ(e.type.id, TypeId::kBool);
  // Nested: the NULL propagates through strict calls, and a cast of NULL is NULL.
  ScalarExpr cast_null = ScalarExpr::make(ScalarKind::kCast, {ScalarExpr::null_of(int4())}, int8());
  ScalarExpr n = lt(add(col(0), cast_null), col(1));
  optimize_detail::fold_constants(n);
  EXPECT_EQ(n.to_string(), "null");
  // AND keeps its other arguments (a NULL does not decide it).
  ScalarExpr a = conj({lt(ScalarExpr::call(fn_div(), {col(0), lit(0)}, int8()), lit(1)), eq(col(0), ScalarExpr::null_of(int8()))});
  optimize_detail::fold_constants(a);
  EXPECT_EQ(a.kind, ScalarKind::kAnd);
  // As a filter's conjunct it empties the filter: the division never runs.
  tables[1] = {{ints({1}), 1}, {ints({2}), 1}};
  RelExpr f = optimize(filter(get(1, 1), {a}));
  EXPECT_EQ(f.kind, RelKind::kConstant);
  EXPECT_TRUE(run(f).empty());
}

// kInSet (a hashed subplan): the subplan runs once, each row probes its values.
ScalarExpr in_set(ScalarExpr probe, RelExpr subplan) {
  ScalarExpr e = ScalarExpr::make(ScalarKind::kInSet, {std::move(probe)}, TypeId::kBool);
  e.subplan = std::make_shared<const RelExpr>(std::move(subplan));
  return e;
}

TEST_F(OptimizeTest, InSetHasInsNullSemantics) {
  tables[1] = {{ints({1}), 1}, {ints({2}), 1}, {ints({3}), 2}, {ints({std::nullopt}), 1}};
  tables[2] = {{ints({2}), 1}, {ints({5}), 3}};
  RelExpr p = map(get(1, 1), {in_set(col(0), get(2, 1))});
  EXPECT_EQ(run(p), (Strings{"1,f x1", "2,t x1", "3,f x2", "NULL,NULL x1"}));
  // A NULL in the set: no match is NULL.
  tables[2].push_back({ints({std::nullopt}), 1});
  EXPECT_EQ(run(p), (Strings{"1,NULL x1", "2,t x1", "3,NULL x2", "NULL,NULL x1"}));
  // An empty set: FALSE, also for a NULL probe.
  tables[2].clear();
  EXPECT_EQ(run(p), (Strings{"1,f x1", "2,f x1", "3,f x2", "NULL,f x1"}));
  // As a filter, through the optimizer.
  tables[2] = {{ints({1}), 1}, {ints({3}), 1}};
  EXPECT_EQ(run(optimize(filter(get(1, 1), {in_set(col(0), get(2, 1))}))), (Strings{"1 x1", "3 x2"}));
}

TEST_F(OptimizeTest, InSetErrorIsRaisedByTheFirstProbe) {
  tables[2] = {{ints({1}), 1}};
  RelExpr bad = project(map(get(2, 1), {ScalarExpr::call(fn_div(), {col(0), lit(0)}, int8())}), {1});
  RelExpr p = filter(get(1, 1), {in_set(col(0), bad)});
  EXPECT_TRUE(run(p).empty());  // no row probes it
  tables[1] = {{ints({1}), 1}};
  try {
    run(p);
    FAIL() << "expected 22012";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), sqlstate::kDivisionByZero);
  }
}

TEST_F(OptimizeTest, RemovesTrueAndFalseFilters) {
  tables[1] = {{ints({1}), 1}};
  RelExpr t = optimize(filter(get(1, 1), {ScalarExpr::boolean(true)}));
  EXPECT_EQ(t.kind, RelKind::kGet);
  RelExpr f = optimize(filter(get(1, 1), {eq(lit(1), lit(2))}));
  EXPECT_EQ(f.kind, RelKind::kConstant);
  EXPECT_TRUE(f.constant_rows.empty());
  RelExpr nl = optimize(filter(get(1, 1), {null_bool()}));
  EXPECT_EQ(nl.kind, RelKind::kConstant);
}

TEST_F(OptimizeTest, PushesThroughProjectMapAndFuses) {
  // Filter(#0 < 5) over Project(1, 0) over Map(#0 + 1) over Get: the filter reaches the Get.
  RelExpr p = filter(project(map(get(1, 2), {add(col(0), lit(1))}), {1, 0}), {lt(col(1), lit(5))});
  RelExpr o = optimize(p);
  EXPECT_EQ(o.to_string(), "Project (#1, #0)\n  Map ((#0 + 1))\n    Filter (#0 < 5)\n      Get 1\n");
  // A predicate on a mapped column stays above the Map.
  RelExpr q = optimize(filter(map(get(1, 2), {add(col(0), lit(1))}), {lt(col(2), lit(5)), lt(col(1), lit(3))}));
  EXPECT_EQ(q.to_string(), "Filter (#2 < 5)\n  Map ((#0 + 1))\n    Filter (#1 < 3)\n      Get 1\n");
  // Nested projects compose; identity projects vanish.
  RelExpr r = optimize(project(project(get(1, 3), {2, 1, 0}), {2, 1, 0}));
  EXPECT_EQ(r.kind, RelKind::kGet);
}

TEST_F(OptimizeTest, PushesIntoReduceKeysAndUnion) {
  RelExpr red = reduce(get(1, 2), {col(0)}, {agg(AggKind::kCountStar, {}, int8())});
  RelExpr o = optimize(filter(red, {lt(col(0), lit(3)), lt(col(1), lit(2))}));
  EXPECT_EQ(o.to_string(), "Filter (#1 < 2)\n  Reduce group_by=[#0] aggregates=[count(*)]\n    Filter (#0 < 3)\n      Get 1\n");
  RelExpr u;
  u.kind = RelKind::kUnion;
  u.column_types = {int8()};
  u.inputs = {get(1, 1), get(2, 1)};
  RelExpr ou = optimize(filter(u, {lt(col(0), lit(3))}));
  EXPECT_EQ(ou.to_string(), "Union\n  Filter (#0 < 3)\n    Get 1\n  Filter (#0 < 3)\n    Get 2\n");
}

TEST_F(OptimizeTest, WhereJoinBecomesEquivalencesAndIsOrdered) {
  // SELECT * FROM t1, t2, t3, t4 WHERE t1.b = t2.a AND t2.b = t3.a AND t3.b = t4.a AND t4.b = 7
  // (t4 is the most constrained: it should come first; then every step is connected).
  RelExpr j = cross(cross(cross(get(1, 2), get(2, 2)), get(3, 2)), get(4, 2));
  RelExpr p = filter(j, {conj({eq(col(1), col(2)), eq(col(3), col(4)), eq(col(5), col(6)), eq(col(7), lit(7))})});
  RelExpr o = optimize(p);
  ASSERT_EQ(o.kind, RelKind::kProject) << o.to_string();
  const RelExpr& jj = o.inputs[0];
  ASSERT_EQ(jj.kind, RelKind::kJoin) << o.to_string();
  ASSERT_EQ(jj.inputs.size(), 4u);
  EXPECT_EQ(jj.equivalences.size(), 3u);
  EXPECT_EQ(jj.inputs[0].to_string(), "Filter (#1 = 7)\n  Get 4\n");
  EXPECT_EQ(jj.inputs[1].to_string(), "Get 3\n");
  EXPECT_EQ(jj.inputs[2].to_string(), "Get 2\n");
  EXPECT_EQ(jj.inputs[3].to_string(), "Get 1\n");
}

// select5's shape: 8 tables of 10 rows joined by a chain of WHERE equalities written as a comma
// join, one table fixed by a literal. Planned well, no intermediate result exceeds a few rows
// (unplanned it is a 10^8-row cross product).
TEST_F(OptimizeTest, EightWayCommaJoinStaysSmall) {
  for (uint64_t t = 1; t <= 8; ++t) {
    Rows rows;
    for (int64_t i = 1; i <= 10; ++i) rows.emplace_back(ints({i, (i + static_cast<int64_t>(t)) % 10 + 1}), 1);
    tables[t] = rows;
  }
  RelExpr j = get(8, 2);
  for (uint64_t t = 7; t >= 1; --t) j = cross(get(t, 2), std::move(j));  // t1, t2, ..., t8
  // b(t) = a(t+1) for t = 1..7, a5 = 7.
  std::vector<ScalarExpr> preds;
  for (uint32_t t = 0; t < 7; ++t) preds.push_back(eq(col(2 * t + 1), col(2 * t + 2)));
  preds.push_back(eq(col(8), lit(7)));
  std::swap(preds[0], preds[5]);
  RelExpr o = optimize(filter(std::move(j), {conj(std::move(preds))}));
  SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
    for (const auto& [r, d] : tables[id]) emit(r, d);
  };
  auto rows = run_oneshot(o, snap, ctx, nullptr, /*max_intermediate_rows=*/100);
  EXPECT_EQ(rows.size(), 1u) << o.to_string();
}

// Random tables with NULLs and duplicates; random join/filter shapes; the optimized plan must
// give exactly the original's result.
TEST_F(OptimizeTest, RandomPlansKeepTheirResults) {
  std::mt19937 rng(42);
  auto val = [&]() -> std::optional<int64_t> {
    int v = static_cast<int>(rng() % 6);
    if (v == 5) return std::nullopt;
    return v;
  };
  for (uint64_t t = 1; t <= 6; ++t) {
    Rows rows;
    for (int i = 0; i < 6; ++i) rows.emplace_back(ints({val(), val()}), 1 + static_cast<int64_t>(rng() % 2));
    tables[t] = rows;
  }
  for (int iter = 0; iter < 60; ++iter) {
    size_t n = 2 + rng() % 4;  // tables joined
    RelExpr j = get(1 + rng() % 6, 2);
    for (size_t i = 1; i < n; ++i) {
      j = cross(std::move(j), get(1 + rng() % 6, 2));
      if (rng() % 3 == 0) {
        std::vector<uint32_t> id(j.arity());
        for (uint32_t c = 0; c < id.size(); ++c) id[c] = c;
        j = project(std::move(j), std::move(id));
      }
    }
    uint32_t w = static_cast<uint32_t>(j.arity());
    std::vector<ScalarExpr> preds;
    size_t np = rng() % (n + 2);
    for (size_t k = 0; k < np; ++k) {
      uint32_t a = rng() % w, b = rng() % w;
      switch (rng() % 5) {
        case 0:
        case 1:
          preds.push_back(eq(col(a), col(b)));
          break;
        case 2:
          preds.push_back(eq(col(a), lit(rng() % 5)));
          break;
        case 3:
          preds.push_back(lt(add(col(a), col(b)), lit(rng() % 8)));
          break;
        default:
          preds.push_back(ScalarExpr::make(ScalarKind::kOr, {eq(col(a), lit(1)), ScalarExpr::make(ScalarKind::kIsNull, {col(b)}, TypeId::kBool)}, TypeId::kBool));
          break;
      }
    }
    RelExpr plan = preds.empty() ? j : filter(std::move(j), {conj(std::move(preds))});
    if (rng() % 2 == 0) {
      plan = reduce(std::move(plan), {col(0)}, {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kMax, col(w - 1), int8())});
      plan = filter(std::move(plan), {lt(col(0), lit(3))});
    }
    check_same(plan);
  }
}


// ---------------------------------------------------------------------------------------------
// Relation CSE (cse.hpp).

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// Nexmark q5's shape: counts per (k, v), joined with the max count per v on (v, count).
RelExpr counts(uint64_t table, int64_t above = 0) {
  RelExpr in = filter(get(table, 2), {lt(lit(above), col(1))});
  return reduce(std::move(in), {col(0), col(1)}, {agg(AggKind::kCountStar, {}, int8())});
}
RelExpr hot_items(RelExpr c, RelExpr g) {
  RelExpr m = reduce(std::move(g), {col(1)}, {agg(AggKind::kMax, col(2), int8())});
  return join({std::move(c), std::move(m)}, {{col(1), col(3)}, {col(2), col(4)}});
}

// Random changes to table 1 (two columns, duplicates, deletions) fed to both dataflows; every
// step must give the same output.
void expect_same_maintained(const RelExpr& a, const RelExpr& b) {
  Incremental x(a), y(b);
  std::mt19937 rng(7);
  std::map<std::pair<int64_t, int64_t>, int64_t> present;
  for (uint64_t t = 1; t <= 60; ++t) {
    Rows in;
    for (int i = 0; i < 5; ++i) {
      int64_t k = static_cast<int64_t>(rng() % 4), v = static_cast<int64_t>(rng() % 3);
      int64_t d = present[{k, v}] > 0 && rng() % 3 == 0 ? -1 : 1;
      present[{k, v}] += d;
      in.emplace_back(ints({k, v}), d);
    }
    x.feed(1, in);
    y.feed(1, in);
    ASSERT_EQ(x.step(t), y.step(t)) << "step " << t;
  }
}

TEST_F(OptimizeTest, IdenticalSubplansAreBoundOnce) {
  tables[1] = {{ints({1, 1}), 1}, {ints({1, 1}), 2}, {ints({2, 1}), 1}, {ints({2, 2}), 1}, {ints({3, 2}), 1},
               {ints({4, 0}), 1}, {Row::pack(std::vector<Datum>{Datum::from_int(5), Datum::null()}), 1}};
  RelExpr plan = hot_items(counts(1), counts(1));
  RelExpr o = check_same(plan);
  const std::string text = o.to_string();
  EXPECT_EQ(count_of(text, "Let l"), 1u) << text;
  EXPECT_EQ(count_of(text, "GetLocal l"), 2u) << text;
  EXPECT_EQ(count_of(text, "count(*)"), 1u) << text;
  EXPECT_EQ(count_of(text, "Get 1"), 1u) << text;
  EXPECT_EQ(run(o), (Strings{"1,1,3,1,3 x1", "2,2,1,2,1 x1", "3,2,1,2,1 x1"}));
  expect_same_maintained(plan, o);
}

TEST_F(OptimizeTest, DifferentSubplansAreNotBound) {
  // Another constant, another table, another column type: three different subplans.
  for (RelExpr other : {counts(1, 1), counts(2), reduce(filter(get(1, 2, int4()), {lt(lit(0, int4()), col(1, int4()))}),
                                                        {col(0, int4()), col(1, int4())},
                                                        {agg(AggKind::kCountStar, {}, int8())})}) {
    RelExpr o = optimize(hot_items(counts(1), std::move(other)));
    EXPECT_EQ(count_of(o.to_string(), "Let l"), 0u) << o.to_string();
  }
  // A Map/Filter/Project chain over a Get read twice is left to the scans.
  RelExpr scan = filter(get(1, 2), {lt(lit(0), col(1))});
  RelExpr self = optimize(join({scan, scan}, {{col(0), col(3)}}));
  EXPECT_EQ(count_of(self.to_string(), "Let l"), 0u) << self.to_string();
}

TEST_F(OptimizeTest, VolatileSubplansAreNotBound) {
  static FunctionImpl random_fn = [] {
    FunctionImpl f = dataflow::testing::detail::make_fn("random", [](std::span<const Datum>, EvalContext&) { return Datum::from_int(4); }, int8());
    f.arg_types.clear();
    f.volatility = Volatility::kVolatile;
    return f;
  }();
  auto noisy = [] {
    RelExpr in = filter(get(1, 2), {lt(ScalarExpr::call(&random_fn, {}, int8()), col(1))});
    return reduce(std::move(in), {col(0), col(1)}, {agg(AggKind::kCountStar, {}, int8())});
  };
  RelExpr o = optimize(hot_items(noisy(), noisy()));
  EXPECT_EQ(count_of(o.to_string(), "Let l"), 0u) << o.to_string();
  // Stable and immutable functions are shared (the same plan with `<`).
  EXPECT_EQ(count_of(optimize(hot_items(counts(1), counts(1))).to_string(), "Let l"), 1u);
}

TEST_F(OptimizeTest, RepeatsInsideABoundValueGetTheirOwnBinding) {
  tables[1] = {{ints({1, 1}), 1}, {ints({1, 2}), 1}, {ints({2, 1}), 3}};
  // u = Union(counts, counts'), read twice; counts is also read on its own: two bindings, the
  // smaller outside (the larger one's value reads it).
  RelExpr u;
  u.kind = RelKind::kUnion;
  u.column_types = counts(1).column_types;
  u.inputs = {counts(1), reduce(get(1, 2), {col(1), col(0)}, {agg(AggKind::kCountStar, {}, int8())})};
  RelExpr top;
  top.kind = RelKind::kUnion;
  top.column_types = u.column_types;
  top.inputs = {u, u, counts(1)};
  RelExpr o = check_same(top);
  const std::string text = o.to_string();
  EXPECT_EQ(count_of(text, "Let l"), 2u) << text;
  EXPECT_EQ(count_of(text, "count(*)"), 2u) << text;
  expect_same_maintained(top, o);
}

TEST_F(OptimizeTest, ADeltaJoinReadsBoundSubplans) {
  // Three inputs (a delta join when maintained): table 1 and the same count twice, joined on
  // the key. The counts are bound once; the join reads the local twice.
  tables[1] = {{ints({1, 1}), 1}, {ints({1, 2}), 2}, {ints({2, 1}), 1}, {ints({3, 3}), 1}};
  RelExpr n = reduce(get(1, 2), {col(0)}, {agg(AggKind::kCountStar, {}, int8())});
  RelExpr plan = join({get(1, 2), n, n}, {{col(0), col(2), col(4)}});
  RelExpr o = check_same(plan);
  const std::string text = o.to_string();
  EXPECT_EQ(count_of(text, "Let l"), 1u) << text;
  EXPECT_EQ(count_of(text, "GetLocal l"), 2u) << text;
  const size_t join_at = text.find("Join");
  ASSERT_NE(join_at, std::string::npos) << text;
  EXPECT_TRUE(uses_delta_join(o.inputs[1].kind == RelKind::kJoin ? o.inputs[1] : o.inputs[1].inputs[0])) << text;
  expect_same_maintained(plan, o);
}

TEST_F(OptimizeTest, SubplansReadingAnOuterLocalAreNotHoisted) {
  // Let l5 = Get 1 in (Reduce(GetLocal l5) twice): the reduces read l5, so they stay below
  // its binding; they are not bound again outside it.
  RelExpr local;
  local.kind = RelKind::kGetLocal;
  local.local_id = 5;
  local.column_types = {int8(), int8()};
  RelExpr r = reduce(local, {col(0)}, {agg(AggKind::kCountStar, {}, int8())});
  RelExpr body;
  body.kind = RelKind::kUnion;
  body.column_types = r.column_types;
  body.inputs = {r, r};
  RelExpr let;
  let.kind = RelKind::kLet;
  let.local_ids = {5};
  let.column_types = body.column_types;
  let.inputs = {reduce(get(1, 2), {col(0), col(1)}, {}), body};
  tables[1] = {{ints({1, 1}), 1}, {ints({1, 2}), 1}, {ints({2, 1}), 3}};
  RelExpr o = check_same(let);
  EXPECT_EQ(o.kind, RelKind::kLet);
  EXPECT_EQ(o.local_ids, std::vector<uint64_t>{5}) << o.to_string();
}

}  // namespace
}  // namespace freshet::sql
