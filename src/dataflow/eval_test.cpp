#include <gtest/gtest.h>

#include "common/error.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;

class EvalTest : public ::testing::Test {
 protected:
  EvalTest() { ctx.arena = &arena; }
  // "t", "f" or "NULL"
  std::string ev(const ScalarExpr& e, std::vector<Datum> row = {}) {
    Datum d = eval(e, row, ctx);
    if (d.is_null()) return "NULL";
    if (d.kind() == PhysicalKind::kBool) return d.as_bool() ? "t" : "f";
    if (d.kind() == PhysicalKind::kInt) return std::to_string(d.as_int());
    return "?";
  }
  static ScalarExpr b(std::optional<bool> v) {
    return v ? ScalarExpr::boolean(*v) : ScalarExpr::null_of(TypeId::kBool);
  }
  static ScalarExpr mk(ScalarKind k, std::vector<ScalarExpr> a, Type t = TypeId::kBool) {
    return ScalarExpr::make(k, std::move(a), t);
  }
  // An expression that raises division by zero when evaluated.
  static ScalarExpr boom() {
    return ScalarExpr::call(fn_eq(), {ScalarExpr::call(fn_div(), {lit(1), lit(0)}, int8()), lit(1)}, TypeId::kBool);
  }
  Arena arena;
  EvalContext ctx;
};

TEST_F(EvalTest, ThreeValuedAndOr) {
  EXPECT_EQ(ev(mk(ScalarKind::kAnd, {b(true), b(std::nullopt)})), "NULL");
  EXPECT_EQ(ev(mk(ScalarKind::kAnd, {b(std::nullopt), b(false)})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kAnd, {b(true), b(true)})), "t");
  EXPECT_EQ(ev(mk(ScalarKind::kOr, {b(false), b(std::nullopt)})), "NULL");
  EXPECT_EQ(ev(mk(ScalarKind::kOr, {b(std::nullopt), b(true)})), "t");
  EXPECT_EQ(ev(mk(ScalarKind::kOr, {b(false), b(false)})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kNot, {b(std::nullopt)})), "NULL");
  EXPECT_EQ(ev(mk(ScalarKind::kNot, {b(false)})), "t");
  // Short circuit: FALSE AND error, TRUE OR error.
  EXPECT_EQ(ev(mk(ScalarKind::kAnd, {b(false), boom()})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kOr, {b(true), boom()})), "t");
  EXPECT_THROW(ev(mk(ScalarKind::kAnd, {b(true), boom()})), SqlError);
}

TEST_F(EvalTest, NullTests) {
  EXPECT_EQ(ev(mk(ScalarKind::kIsNull, {b(std::nullopt)})), "t");
  EXPECT_EQ(ev(mk(ScalarKind::kIsNotNull, {b(std::nullopt)})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kIsTrue, {b(std::nullopt)})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kIsFalse, {b(std::nullopt)})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kIsFalse, {b(false)})), "t");
  ScalarExpr n = ScalarExpr::null_of(int8());
  EXPECT_EQ(ev(mk(ScalarKind::kIsDistinct, {n, n})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kIsDistinct, {n, lit(1)})), "t");
  EXPECT_EQ(ev(mk(ScalarKind::kIsDistinct, {lit(1), lit(1)})), "f");
  EXPECT_EQ(ev(mk(ScalarKind::kIsDistinct, {lit(1), lit(2)})), "t");
}

TEST_F(EvalTest, StrictCallsAndColumns) {
  std::vector<Datum> row = {Datum::from_int(3), Datum::null()};
  EXPECT_EQ(ev(add(col(0), lit(4)), row), "7");
  EXPECT_EQ(ev(add(col(0), col(1)), row), "NULL");
  EXPECT_EQ(ev(eq(col(1), col(1)), row), "NULL");
}

TEST_F(EvalTest, CaseCoalesceNullifGreatest) {
  ScalarExpr n = ScalarExpr::null_of(int8());
  // CASE WHEN NULL THEN 1 WHEN true THEN 2 ELSE 3 END
  EXPECT_EQ(ev(mk(ScalarKind::kCase, {b(std::nullopt), lit(1), b(true), lit(2), lit(3)}, int8())), "2");
  EXPECT_EQ(ev(mk(ScalarKind::kCase, {b(false), lit(1), lit(3)}, int8())), "3");
  EXPECT_EQ(ev(mk(ScalarKind::kCase, {b(false), lit(1), n}, int8())), "NULL");
  // The untaken branch is not evaluated.
  EXPECT_EQ(ev(mk(ScalarKind::kCase, {b(true), lit(1), ScalarExpr::call(fn_div(), {lit(1), lit(0)}, int8())}, int8())), "1");
  EXPECT_EQ(ev(mk(ScalarKind::kCoalesce, {n, n, lit(5), lit(6)}, int8())), "5");
  EXPECT_EQ(ev(mk(ScalarKind::kCoalesce, {n}, int8())), "NULL");
  ScalarExpr ni = mk(ScalarKind::kNullIf, {lit(1), lit(1)}, int8());
  ni.fn = fn_eq();
  EXPECT_EQ(ev(ni), "NULL");
  ni.args[1] = lit(2);
  EXPECT_EQ(ev(ni), "1");
  ni.args[1] = n;
  EXPECT_EQ(ev(ni), "1");
  ni.args[0] = n;
  EXPECT_EQ(ev(ni), "NULL");
  EXPECT_EQ(ev(mk(ScalarKind::kGreatest, {lit(1), n, lit(7), lit(3)}, int8())), "7");
  EXPECT_EQ(ev(mk(ScalarKind::kLeast, {lit(4), n, lit(7), lit(3)}, int8())), "3");
  EXPECT_EQ(ev(mk(ScalarKind::kLeast, {n, n}, int8())), "NULL");
}

TEST_F(EvalTest, ParamsAndMzNow) {
  Datum params[1] = {Datum::from_int(42)};
  ctx.params = params;
  ScalarExpr p;
  p.kind = ScalarKind::kParam;
  p.column = 0;
  p.type = int8();
  EXPECT_EQ(ev(p), "42");
  p.column = 1;
  EXPECT_THROW(ev(p), SqlError);
  ctx.logical_time_ms = 1234;
  EXPECT_EQ(ev(mk(ScalarKind::kMzNow, {}, int8())), "1234");
}

TEST_F(EvalTest, ToString) {
  EXPECT_EQ(add(col(1), lit(5)).to_string(), "(#1 + 5)");
  EXPECT_EQ(mk(ScalarKind::kAnd, {eq(col(0), col(2)), mk(ScalarKind::kIsNull, {col(3)})}).to_string(),
            "((#0 = #2) AND (#3 IS NULL))");
  RelExpr e = filter(get(7, 2), {lt(col(0), lit(3))});
  EXPECT_EQ(e.to_string(), "Filter (#0 < 3)\n  Get 7\n");
}

}  // namespace
}  // namespace freshet::dataflow
