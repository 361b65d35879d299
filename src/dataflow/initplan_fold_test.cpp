#include "dataflow/initplan_fold.hpp"

#include <gtest/gtest.h>

#include <map>

#include "common/error.hpp"
#include "dataflow/in_set.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Rows = std::vector<std::pair<Row, int64_t>>;
using Strings = std::vector<std::string>;

// An initplan over collection `id` (one int8 column), evaluated or not.
ScalarExpr initplan(uint64_t id, uint32_t kind = kInSetValue) {
  ScalarExpr e = ScalarExpr::make(ScalarKind::kInSet, {}, kind == kInSetExists ? Type(TypeId::kBool) : int8());
  e.column = kind;
  e.subplan = std::make_shared<const RelExpr>(get(id, 1));
  return e;
}
ScalarExpr with_values(ScalarExpr e, std::vector<std::optional<int64_t>> values, bool error = false) {
  auto set = std::make_shared<InSetValues>();
  for (const auto& v : values) set->values.push_back(ints({v}));
  if (error) set->error = std::make_exception_ptr(SqlError(sqlstate::kDivisionByZero, "division by zero"));
  e.in_set = std::move(set);
  return e;
}
ScalarExpr div(ScalarExpr a, ScalarExpr b) { return ScalarExpr::call(fn_div(), {std::move(a), std::move(b)}, int8()); }
ScalarExpr land(std::vector<ScalarExpr> a) { return ScalarExpr::make(ScalarKind::kAnd, std::move(a), TypeId::kBool); }

class InitplanFoldTest : public ::testing::Test {
 protected:
  InitplanFoldTest() { ctx.arena = &arena; }
  Strings run(const RelExpr& plan) {
    SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
      for (const auto& [r, d] : tables[id]) emit(r, d);
    };
    return show(run_oneshot(plan, snap, ctx));
  }
  std::map<uint64_t, Rows> tables;
  Arena arena;
  EvalContext ctx;
};

TEST_F(InitplanFoldTest, ValueBecomesALiteralAndIsFoldedWithWhatIsAroundIt) {
  // y = v + 1 with v = 41: the filter compares with the literal 42.
  RelExpr plan = filter(get(1, 1), {eq(col(0), add(with_values(initplan(2), {41}), lit(1)))});
  EXPECT_EQ(fold_initplans(plan), 1u);
  ASSERT_EQ(plan.kind, RelKind::kFilter);
  EXPECT_EQ(plan.exprs[0].args[1].kind, ScalarKind::kLiteral);
  EXPECT_EQ(plan.exprs[0].args[1].literal_value().as_int(), 42);
}

TEST_F(InitplanFoldTest, NoRowIsNullAndEmptiesAFilterOverAGet) {
  RelExpr plan = filter(get(1, 1), {eq(col(0), with_values(initplan(2), {}))});
  fold_initplans(plan);
  EXPECT_EQ(plan.kind, RelKind::kConstant);
  EXPECT_TRUE(plan.constant_rows.empty());
}

TEST_F(InitplanFoldTest, SecondRowsAndErrorsAreNotFolded) {
  RelExpr two = filter(get(1, 1), {eq(col(0), with_values(initplan(2), {1, 2}))});
  EXPECT_EQ(fold_initplans(two), 0u);
  EXPECT_EQ(two.exprs[0].args[1].kind, ScalarKind::kInSet);
  RelExpr err = filter(get(1, 1), {eq(col(0), with_values(initplan(2), {}, true))});
  EXPECT_EQ(fold_initplans(err), 0u);
  RelExpr not_run = filter(get(1, 1), {eq(col(0), initplan(2))});
  EXPECT_EQ(fold_initplans(not_run), 0u);
}

TEST_F(InitplanFoldTest, AnExpressionThatRaisesIsLeftForTheRows) {
  // v / 0 with v known: not folded, so only a row that evaluates it raises.
  ScalarExpr e = div(with_values(initplan(2), {7}), lit(0));
  RelExpr plan = map(get(1, 1), {e});
  EXPECT_EQ(fold_initplans(plan), 1u);
  EXPECT_EQ(plan.exprs[0].kind, ScalarKind::kCall);
  EXPECT_EQ(plan.exprs[0].args[0].kind, ScalarKind::kLiteral);
}

TEST_F(InitplanFoldTest, StrictNullKeepsArgumentsThatRaise) {
  // 1/#0 = NULL: PostgreSQL computes 1/#0 first, so the comparison stays.
  RelExpr raises = filter(get(1, 1), {eq(div(lit(1), col(0)), with_values(initplan(2), {std::nullopt}))});
  fold_initplans(raises);
  ASSERT_EQ(raises.kind, RelKind::kFilter);
  EXPECT_EQ(raises.exprs[0].kind, ScalarKind::kCall);
  // #0 = NULL: NULL, and the filter over the Get is empty.
  RelExpr plain = filter(get(1, 1), {eq(col(0), with_values(initplan(2), {std::nullopt}))});
  fold_initplans(plain);
  EXPECT_EQ(plain.kind, RelKind::kConstant);
}

TEST_F(InitplanFoldTest, FalseDecidesAndOnlyAfterWhatCannotRaise) {
  ScalarExpr exists_none = with_values(initplan(2, kInSetExists), {});
  // (#0 < 5 AND EXISTS) -> FALSE.
  ScalarExpr a = land({lt(col(0), lit(5)), exists_none});
  RelExpr p1 = map(get(1, 1), {a});
  fold_initplans(p1);
  EXPECT_TRUE(p1.exprs[0].kind == ScalarKind::kLiteral && !p1.exprs[0].literal_value().as_bool());
  // (1/#0 < 5 AND EXISTS AND #0 < 9): 1/#0 still runs; #0 < 9 never does.
  ScalarExpr b = land({lt(div(lit(1), col(0)), lit(5)), exists_none, lt(col(0), lit(9))});
  RelExpr p2 = map(get(1, 1), {b});
  fold_initplans(p2);
  ASSERT_EQ(p2.exprs[0].kind, ScalarKind::kAnd);
  EXPECT_EQ(p2.exprs[0].args.size(), 2u);
  // A filter: the conjunct before the FALSE one can raise, so the filter stays and ends there.
  RelExpr p3 = filter(get(1, 1), {lt(div(lit(1), col(0)), lit(5)), exists_none, lt(col(0), lit(9))});
  fold_initplans(p3);
  ASSERT_EQ(p3.kind, RelKind::kFilter);
  EXPECT_EQ(p3.exprs.size(), 2u);
}

TEST_F(InitplanFoldTest, RunOneshotFoldsAndRaisesOnlyWhereRowsReach) {
  tables[1] = {{ints({0}), 1}, {ints({1}), 1}, {ints({2}), 1}};
  tables[2] = {{ints({1}), 1}};
  tables[3] = {{ints({1}), 1}, {ints({2}), 1}};
  // #0 = (SELECT y FROM t2) + 1: the row 2.
  EXPECT_EQ(run(filter(get(1, 1), {eq(col(0), add(initplan(2), lit(1)))})), (Strings{"2 x1"}));
  // A second row: raised by the first row that reads it, and not over no row.
  EXPECT_THROW(run(filter(get(1, 1), {eq(col(0), initplan(3))})), SqlError);
  EXPECT_EQ(run(filter(get(4, 1), {eq(col(0), initplan(3))})), Strings{});
  // 1/#0 = (SELECT max of nothing): PostgreSQL divides by the row 0 first.
  tables[5] = {};
  EXPECT_THROW(run(filter(get(1, 1), {eq(div(lit(1), col(0)), initplan(5))})), SqlError);
  EXPECT_EQ(run(filter(get(1, 1), {eq(col(0), initplan(5))})), Strings{});
}

}  // namespace
}  // namespace freshet::dataflow
