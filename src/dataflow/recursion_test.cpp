// Recursion (kLetRec): fixpoints, incremental inserts and retractions, limits.
#include <gtest/gtest.h>

#include "common/error.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/recursion.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

RelExpr get_local(uint64_t id, size_t arity) {
  RelExpr e;
  e.kind = RelKind::kGetLocal;
  e.local_id = id;
  e.column_types.assign(arity, int8());
  return e;
}
RelExpr union2(RelExpr a, RelExpr b) {
  RelExpr e;
  e.kind = RelKind::kUnion;
  e.column_types = a.column_types;
  e.inputs.push_back(std::move(a));
  e.inputs.push_back(std::move(b));
  return e;
}
RelExpr let_rec(std::vector<uint64_t> ids, std::vector<RelExpr> bindings, RelExpr body, RecursionLimit limit = {1000, false}) {
  RelExpr e;
  e.kind = RelKind::kLetRec;
  e.column_types = body.column_types;
  e.local_ids = std::move(ids);
  e.inputs = std::move(bindings);
  e.inputs.push_back(std::move(body));
  e.recursion_limit = limit;
  return e;
}
const FunctionImpl* fn_min2() {
  static FunctionImpl f = detail::make_fn("-", [](std::span<const Datum> a, EvalContext&) { return Datum::from_int(a[0].as_int() - a[1].as_int()); }, TypeId::kInt8);
  return &f;
}

// reach(node) = {1} ∪ {dst | (src, dst) ∈ edges(1), src ∈ reach}, as a set.
RelExpr reachability() {
  RelExpr step = project(join({get_local(7, 1), get(1, 2)}, {{col(0), col(1)}}), {2});
  RelExpr binding = unary(RelKind::kDistinct, union2(constant(1, {{ints({1}), 1}}), std::move(step)));
  return let_rec({7}, {std::move(binding)}, get_local(7, 1));
}

TEST(RecursionTest, TransitiveClosureInsertsAndRetractions) {
  RelExpr plan = reachability();
  EXPECT_TRUE(is_monotone_plan(plan.inputs[0]));
  Incremental df(plan);
  df.feed(1, {{ints({1, 2}), 1}, {ints({2, 3}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1 x1", "2 x1", "3 x1"}));
  // An insert extends the fixpoint from where it was.
  df.feed(1, {{ints({3, 4}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"4 x1"}));
  // A cycle back to the start adds nothing; an edge between unreached nodes neither.
  df.feed(1, {{ints({4, 1}), 1}, {ints({8, 9}), 1}});
  EXPECT_EQ(df.step(3), Strings{});
  EXPECT_EQ(df.step(4), Strings{});
  // Cutting 2 -> 3: 3 and 4 are unreachable although 3 -> 4 -> 1 -> 2 still support each
  // other around the cycle (a continuation from the old fixpoint would keep them).
  df.feed(1, {{ints({2, 3}), -1}});
  EXPECT_EQ(df.step(5), (Strings{"3 x-1", "4 x-1"}));
  // And back, plus an edge into 8: 8 and 9 join.
  df.feed(1, {{ints({2, 3}), 1}, {ints({4, 8}), 1}});
  EXPECT_EQ(df.step(6), (Strings{"3 x1", "4 x1", "8 x1", "9 x1"}));
}

TEST(RecursionTest, OneShotCountsUnionAll) {
  // r(n) = {1} + {n + 1 | n ∈ r, n < 5} (UNION ALL): 1..5; result sum via a reduce on top.
  RelExpr step = project(map(filter(get_local(3, 1), {lt(col(0), lit(5))}), {add(col(0), lit(1))}), {1});
  RelExpr plan = let_rec({3}, {union2(constant(1, {{ints({1}), 1}}), std::move(step))}, get_local(3, 1));
  RelExpr sum = reduce(plan, {}, {agg(AggKind::kSum, col(0), TypeId::kNumeric)});
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  SnapshotFn none = [](uint64_t, const std::function<void(const Row&, int64_t)>&) {};
  EXPECT_EQ(show(run_oneshot(sum, none, ctx)), Strings{"15 x1"});
}

RelExpr counter(RecursionLimit limit) {
  // r(n) = {1} + {n + 1 | n ∈ r}: never terminates.
  RelExpr step = project(map(get_local(3, 1), {add(col(0), lit(1))}), {1});
  return let_rec({3}, {union2(constant(1, {{ints({1}), 1}}), std::move(step))}, get_local(3, 1), limit);
}

TEST(RecursionTest, LimitsReturnOrError) {
  Incremental ret(counter({3, true}));
  EXPECT_EQ(ret.step(1), (Strings{"1 x1", "2 x1", "3 x1"}));
  Incremental err(counter({50, false}));
  try {
    err.step(1);
    FAIL() << "no error";
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "54000");
    EXPECT_NE(std::string(e.what()).find("recursion limit 50."), std::string::npos) << e.what();
  }
}

TEST(RecursionTest, MutualRecursion) {
  // even = {0} ∪ {x + 1 | x ∈ odd, x < 6}; odd = {x + 1 | x ∈ even, x < 6}; result even.
  RelExpr even = union2(constant(1, {{ints({0}), 1}}), project(map(filter(get_local(2, 1), {lt(col(0), lit(6))}), {add(col(0), lit(1))}), {1}));
  RelExpr odd = project(map(filter(get_local(1, 1), {lt(col(0), lit(6))}), {add(col(0), lit(1))}), {1});
  Incremental df(let_rec({1, 2}, {std::move(even), std::move(odd)}, get_local(1, 1)));
  EXPECT_EQ(df.step(1), (Strings{"0 x1", "2 x1", "4 x1", "6 x1"}));
  EXPECT_EQ(df.step(2), Strings{});
}

TEST(RecursionTest, NonMonotoneShortestPathsRecompute) {
  // dist(node, d) = min over {(1, 0)} ∪ {(dst, d + 1) | (node, d) ∈ dist, (node, dst) ∈ edges}.
  RelExpr hop = project(map(join({get_local(5, 2), get(1, 2)}, {{col(0), col(2)}}), {add(col(1), lit(1))}), {3, 4});
  RelExpr cand = union2(constant(2, {{ints({1, 0}), 1}}), std::move(hop));
  RelExpr dist = reduce(std::move(cand), {col(0)}, {agg(AggKind::kMin, col(1), int8())});
  RelExpr plan = let_rec({5}, {std::move(dist)}, get_local(5, 2));
  EXPECT_FALSE(is_monotone_plan(plan.inputs[0]));
  Incremental df(plan);
  df.feed(1, {{ints({1, 2}), 1}, {ints({2, 3}), 1}, {ints({3, 4}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,0 x1", "2,1 x1", "3,2 x1", "4,3 x1"}));
  df.feed(1, {{ints({1, 4}), 1}});  // a shortcut
  EXPECT_EQ(df.step(2), (Strings{"4,1 x1", "4,3 x-1"}));
  EXPECT_EQ(df.step(3), Strings{});
  df.feed(1, {{ints({1, 4}), -1}, {ints({2, 3}), -1}});
  EXPECT_EQ(df.step(4), (Strings{"3,2 x-1", "4,1 x-1"}));
}

TEST(RecursionTest, ResultReadsCollectionsAndNestedBindings) {
  // The result joins the binding with a collection; a nested LetRec reads the outer binding.
  RelExpr inner = let_rec({9}, {project(map(get_local(7, 1), {ScalarExpr::call(fn_min2(), {col(0), lit(1)}, int8())}), {1})}, get_local(9, 1));
  RelExpr body = join({std::move(inner), get(2, 1)}, {{col(0), col(1)}});
  RelExpr plan = reachability();
  plan.inputs.back() = std::move(body);
  plan.column_types = plan.inputs.back().column_types;
  Incremental df(plan);
  df.feed(1, {{ints({1, 2}), 1}, {ints({2, 3}), 1}});
  df.feed(2, {{ints({1}), 1}, {ints({2}), 1}});
  // reach = {1, 2, 3}; inner = reach - 1 = {0, 1, 2}; joined with {1, 2}.
  EXPECT_EQ(df.step(1), (Strings{"1,1 x1", "2,2 x1"}));
  df.feed(1, {{ints({3, 4}), 1}});
  df.feed(2, {{ints({3}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"3,3 x1"}));
}

}  // namespace
}  // namespace freshet::dataflow
