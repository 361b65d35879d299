#include "dataflow/oneshot.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <thread>

#include "common/error.hpp"
#include "common/numeric.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Rows = std::vector<std::pair<Row, int64_t>>;
using Strings = std::vector<std::string>;

class OneshotTest : public ::testing::Test {
 protected:
  OneshotTest() { ctx.arena = &arena; }
  Strings run(const RelExpr& plan, uint64_t limit = kDefaultMaxIntermediateRows) {
    SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
      for (const auto& [r, d] : tables[id]) emit(r, d);
    };
    return show(run_oneshot(plan, snap, ctx, cancelled_ptr, limit));
  }
  std::map<uint64_t, Rows> tables;
  Arena arena;
  EvalContext ctx;
  const std::atomic<bool>* cancelled_ptr = nullptr;
};

TEST_F(OneshotTest, GetFilterMapProject) {
  tables[1] = {{ints({1, 10}), 1}, {ints({2, 20}), 2}, {ints({3, std::nullopt}), 1}};
  // SELECT b + 1, a FROM t WHERE a < 3 or b IS NULL
  RelExpr f = filter(get(1, 2), {ScalarExpr::make(ScalarKind::kOr, {lt(col(0), lit(3)), ScalarExpr::make(ScalarKind::kIsNull, {col(1)}, TypeId::kBool)}, TypeId::kBool)});
  RelExpr p = project(map(f, {add(col(1), lit(1))}), {2, 0});
  EXPECT_EQ(run(p), (Strings{"11,1 x1", "21,2 x2", "NULL,3 x1"}));
}

// min/max over a kLet binding (relation CSE binds a subplan read twice): a binding whose value
// has only insertions keeps the insert-only shortcut (only the extreme per group); one whose
// value retracts rows within the step (a union with a negation) must not, or the max would be
// a row the negation removed. Both read the binding twice, as CSE's do.
TEST_F(OneshotTest, MinMaxOverALetBindingSeesItsRetractions) {
  tables[1] = {{ints({1, 10}), 1}, {ints({1, 20}), 1}, {ints({2, 5}), 1}, {ints({2, 30}), 1}};
  auto get_local = [](uint64_t id) {
    RelExpr e;
    e.kind = RelKind::kGetLocal;
    e.local_id = id;
    e.column_types.assign(2, int8());
    return e;
  };
  auto let = [](uint64_t id, RelExpr value, RelExpr body) {
    RelExpr e;
    e.kind = RelKind::kLet;
    e.column_types = body.column_types;
    e.local_ids = {id};
    e.inputs = {std::move(value), std::move(body)};
    return e;
  };
  auto max_by_a_twice = [&](uint64_t id) {
    RelExpr u;
    u.kind = RelKind::kUnion;
    u.inputs = {reduce(get_local(id), {col(0)}, {agg(AggKind::kMax, col(1), int8())}),
                reduce(get_local(id), {col(0)}, {agg(AggKind::kMin, col(1), int8())})};
    u.column_types = u.inputs[0].column_types;
    return u;
  };
  // Monotone: the rows with b > 5.
  EXPECT_EQ(run(let(3, filter(get(1, 2), {lt(lit(5), col(1))}), max_by_a_twice(3))),
            (Strings{"1,10 x1", "1,20 x1", "2,30 x2"}));
  // Not monotone: all rows minus those with b >= 20, in one step.
  RelExpr minus;
  minus.kind = RelKind::kUnion;
  minus.inputs = {get(1, 2), unary(RelKind::kNegate, filter(get(1, 2), {lt(lit(19), col(1))}))};
  minus.column_types = minus.inputs[0].column_types;
  EXPECT_EQ(run(let(4, minus, max_by_a_twice(4))), (Strings{"1,10 x2", "2,5 x2"}));
}

// A collection read in parts by the worker pool (PartitionFn) gives what the one-thread
// snapshot gives: filter-only chains (rows borrowed), map/project chains, a collection read
// twice with different chains, aggregates over the parts, and errors raised inside a part.
TEST_F(OneshotTest, PartitionedScansMatchSnapshot) {
  Rows big;
  for (int i = 0; i < 20000; ++i) big.emplace_back(ints({i % 97, i}), 1 + i % 3);
  tables[1] = big;
  tables[2] = {{ints({1, 7}), 1}, {ints({0, 0}), 1}};
  std::atomic<int> parts_read{0};
  PartitionFn parts = [&](uint64_t id, size_t) -> std::optional<PartitionedSnapshot> {
    if (id == 2) return std::nullopt;  // read through the SnapshotFn
    PartitionedSnapshot ps;
    ps.parts = 5;
    ps.stable_rows = true;
    ps.scan = [this, &parts_read](size_t p, const std::function<void(RowRef, int64_t)>& emit) {
      ++parts_read;
      const Rows& rows = tables[1];
      for (size_t i = p; i < rows.size(); i += 5) emit(rows[i].first, rows[i].second);
    };
    return ps;
  };
  SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
    for (const auto& [r, d] : tables[id]) emit(r, d);
  };
  auto both = [&](const RelExpr& plan) {
    Strings serial = show(run_oneshot(plan, snap, ctx, StepLimits{}));
    Strings parted = show(run_oneshot(plan, snap, ctx, StepLimits{}, parts));
    EXPECT_EQ(serial, parted);
    return parted;
  };
  // Filter only (borrowed rows), then a count per group above it.
  RelExpr f = filter(get(1, 2), {lt(col(0), lit(3))});
  EXPECT_EQ(both(reduce(f, {col(0)}, {agg(AggKind::kCountStar, {}, int8())})),
            (Strings{"0,414 x1", "1,414 x1", "2,414 x1"}));
  EXPECT_EQ(parts_read.load(), 5);  // the partitioned run only
  // A projection onto 97 values: the parts merge equal rows (adaptive consolidation); the
  // counts and sums above must not change.
  EXPECT_EQ(both(reduce(project(get(1, 2), {0}), {}, {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kSum, col(0), TypeId::kNumeric)})),
            both(reduce(get(1, 2), {}, {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kSum, col(0), TypeId::kNumeric)})));
  // Map + project, joined with the same collection read unfiltered and with a table that is
  // not split.
  RelExpr mp = project(map(get(1, 2), {add(col(1), lit(1))}), {0, 2});
  RelExpr j = join({mp, filter(get(1, 2), {lt(col(1), lit(50))}), get(2, 2)},
                   {{col(0), col(2), col(4)}});
  Strings joined = both(reduce(j, {}, {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kSum, col(1), TypeId::kNumeric)}));
  ASSERT_EQ(joined.size(), 1u);
  // Filters then a projection (decoded by the scan itself, only up to the last column read),
  // under a join and a reduce: the same as the one-thread snapshot, also when the filter
  // reads a later column than the projection keeps.
  RelExpr fp = project(filter(get(1, 2), {lt(col(1), lit(9000)), lt(col(0), lit(40))}), {0});
  EXPECT_EQ(both(reduce(fp, {col(0)}, {agg(AggKind::kCountStar, {}, int8())})).size(), 40u);
  Strings fpj = both(reduce(join({fp, project(filter(get(1, 2), {lt(col(1), lit(97))}), {0, 1})}, {{col(0), col(1)}}), {},
                            {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kSum, col(2), TypeId::kNumeric)}));
  ASSERT_EQ(fpj.size(), 1u);
  // An error in a part's filter (1 / 0 = 1 on the rows whose first column is 0).
  RelExpr bad_filter = project(filter(get(1, 2), {ScalarExpr::call(fn_eq(), {ScalarExpr::call(fn_div(), {lit(1), col(0)}, int8()), lit(1)}, TypeId::kBool)}), {1});
  try {
    run_oneshot(bad_filter, snap, ctx, StepLimits{}, parts);
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "22012");
  }
  // An error in a part's expression (1 / 0 on the rows whose first column is 0).
  RelExpr bad = map(get(1, 2), {ScalarExpr::call(fn_div(), {lit(1), col(0)}, int8())});
  try {
    run_oneshot(bad, snap, ctx, StepLimits{}, parts);
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "22012");
  }
  // A memory budget smaller than the scan's output: 53200 from inside the parts.
  StepLimits tight;
  tight.memory_budget_bytes = 64 * 1024;
  Rows huge;
  for (int i = 0; i < 300000; ++i) huge.emplace_back(ints({i, i}), 1);
  tables[1] = huge;
  try {
    run_oneshot(project(map(get(1, 2), {add(col(1), lit(1))}), {2}), snap, ctx, tight, parts);
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "53200");
  }
}

TEST_F(OneshotTest, ConstantUnionNegateThreshold) {
  // EXCEPT ALL: {1,1,2} - {1} = {1,2}; {1} - {1,1} = {}
  RelExpr a = constant(1, {{ints({1}), 2}, {ints({2}), 1}});
  RelExpr b = constant(1, {{ints({1}), 1}, {ints({3}), 2}});
  RelExpr u;
  u.kind = RelKind::kUnion;
  u.column_types = a.column_types;
  u.inputs = {a, unary(RelKind::kNegate, b)};
  EXPECT_EQ(run(u), (Strings{"1 x1", "2 x1", "3 x-2"}));
  EXPECT_EQ(run(unary(RelKind::kThreshold, u)), (Strings{"1 x1", "2 x1"}));
  EXPECT_EQ(run(unary(RelKind::kDistinct, a)), (Strings{"1 x1", "2 x1"}));
}

TEST_F(OneshotTest, JoinWithNullKeys) {
  tables[1] = {{ints({1, 100}), 1}, {ints({2, 200}), 1}, {ints({std::nullopt, 300}), 1}};
  tables[2] = {{ints({1, 7}), 2}, {ints({std::nullopt, 8}), 1}, {ints({3, 9}), 1}};
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(0), col(2)}});
  EXPECT_EQ(run(j), (Strings{"1,100,1,7 x2"}));
  // Cross join.
  RelExpr c = join({get(1, 2), get(2, 2)}, {});
  EXPECT_EQ(run(c).size(), 9u);
}

TEST_F(OneshotTest, ThreeWayJoinAndSelfJoin) {
  tables[1] = {{ints({1, 2}), 1}, {ints({2, 3}), 1}};
  tables[2] = {{ints({2, 20}), 1}, {ints({3, 30}), 1}};
  tables[3] = {{ints({20, 5}), 1}, {ints({30, 6}), 1}, {ints({20, 7}), 1}};
  // t1 JOIN t2 ON t1.b = t2.a JOIN t3 ON t2.b = t3.a, plus t3.b = t1.a + 4 (spans inputs)
  RelExpr j = join({get(1, 2), get(2, 2), get(3, 2)}, {{col(1), col(2)}, {col(3), col(4)}, {col(5), add(col(0), lit(4))}});
  EXPECT_EQ(run(j), (Strings{"1,2,2,20,20,5 x1", "2,3,3,30,30,6 x1"}));
  // Self join through one source, plus a class with a constant: t1.a = t1'.b AND t1'.b = 2
  RelExpr s = join({get(1, 2), get(1, 2)}, {{col(0), col(3), lit(2)}});
  EXPECT_EQ(run(s), (Strings{"2,3,1,2 x1"}));
}

TEST_F(OneshotTest, ReduceAggregates) {
  tables[1] = {{ints({1, 10}), 1}, {ints({1, 20}), 1}, {ints({1, std::nullopt}), 1},
               {ints({2, std::nullopt}), 1}, {ints({3, 5}), 2}};
  Type num = TypeId::kNumeric;
  RelExpr r = reduce(get(1, 2, int4()), {col(0, int4())},
                     {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kCount, col(1, int4()), int8()),
                      agg(AggKind::kSum, col(1, int4()), int8()), agg(AggKind::kAvg, col(1, int4()), num),
                      agg(AggKind::kMin, col(1, int4()), int4()), agg(AggKind::kMax, col(1, int4()), int4()),
                      agg(AggKind::kCount, col(1, int4()), int8(), true)});
  EXPECT_EQ(run(r), (Strings{"1,3,2,30,15.0000000000000000,10,20,2 x1", "2,1,0,NULL,NULL,NULL,NULL,0 x1",
                             "3,2,2,10,5.0000000000000000,5,5,1 x1"}));
  // Global aggregate over empty input: nothing (the SQL layer adds the one row).
  tables[2] = {};
  EXPECT_EQ(run(reduce(get(2, 1), {}, {agg(AggKind::kCountStar, {}, int8())})), Strings{});
  // sum(int8) is numeric and does not overflow int64.
  tables[3] = {{ints({INT64_MAX}), 1}, {ints({INT64_MAX}), 1}};
  EXPECT_EQ(run(reduce(get(3, 1), {}, {agg(AggKind::kSum, col(0), num)})), Strings{"18446744073709551614 x1"});
  // sum(int4) is int8 and does overflow-check.
  EXPECT_THROW(run(reduce(get(3, 1, int4()), {}, {agg(AggKind::kSum, col(0, int4()), int8())})), SqlError);
}

// Enough rows for every shard to aggregate a part of its own (with FRESHET_TEST_WORKERS=3,
// dataflow_test_sharded: the partial and merge reduces of RenderOptions::partial_aggregates),
// checked against sums computed here: counts with NULLs, integer sum/min/max, numeric sums of
// mixed scales, bool_and/bool_or, an interval sum, and a global aggregate.
TEST_F(OneshotTest, ReduceOverShardsMatchesSerialSums) {
  Rows rows;
  struct Expect {
    int64_t rows = 0, nonnull = 0, sum = 0, cents = 0, days = 0;
    int64_t min = INT64_MAX, max = INT64_MIN;
    bool all = true, any = false;
  };
  std::map<int64_t, Expect> want;
  Expect total;
  for (int64_t i = 0; i < 6000; ++i) {
    int64_t g = i % 7, d = 1 + i % 3;
    bool null = i % 13 == 0;
    int64_t v = i % 101 - 50;
    bool cents = i % 10 == 0;  // "i.25" (scale 2), else "i.5" (scale 1)
    std::string num = std::to_string(i) + (cents ? ".25" : ".5");
    std::vector<Datum> ds = {Datum::from_int(g), null ? Datum::null() : Datum::from_int(v),
                             Datum::from_numeric(numeric_parse(num)), Datum::from_bool(v > -45),
                             Datum::from_interval(Interval{0, static_cast<int32_t>(i % 5), 0})};
    rows.emplace_back(Row::pack(ds), d);
    for (Expect* e : {&want[g], &total}) {
      e->rows += d;
      e->cents += (i * 100 + (cents ? 25 : 50)) * d;
      e->days += (i % 5) * d;
      e->all = e->all && v > -45;
      e->any = e->any || v > -45;
      if (null) continue;
      e->nonnull += d;
      e->sum += v * d;
      e->min = std::min(e->min, v);
      e->max = std::max(e->max, v);
    }
  }
  tables[1] = rows;
  RelExpr g = get(1, 5);
  g.column_types = {int8(), int8(), TypeId::kNumeric, TypeId::kBool, TypeId::kInterval};
  std::vector<AggregateExpr> aggs = {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kCount, col(1), int8()),
                                     agg(AggKind::kSum, col(1), TypeId::kNumeric), agg(AggKind::kMin, col(1), int8()),
                                     agg(AggKind::kMax, col(1), int8()), agg(AggKind::kSum, col(2, TypeId::kNumeric), TypeId::kNumeric),
                                     agg(AggKind::kBoolAnd, col(3, TypeId::kBool), TypeId::kBool),
                                     agg(AggKind::kBoolOr, col(3, TypeId::kBool), TypeId::kBool),
                                     agg(AggKind::kSum, col(4, TypeId::kInterval), TypeId::kInterval)};
  auto line = [](const std::string& key, const Expect& e) {
    std::string cents = std::to_string(e.cents);
    return key + std::to_string(e.rows) + "," + std::to_string(e.nonnull) + "," + std::to_string(e.sum) + "," +
           std::to_string(e.min) + "," + std::to_string(e.max) + "," + cents.substr(0, cents.size() - 2) + "." +
           cents.substr(cents.size() - 2) + "," + (e.all ? "t" : "f") + "," + (e.any ? "t" : "f") + ",? x1";
  };
  Strings expected;
  for (const auto& [k, e] : want) expected.push_back(line(std::to_string(k) + ",", e));
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(run(reduce(g, {col(0)}, aggs)), expected);
  EXPECT_EQ(run(reduce(g, {}, aggs)), Strings{line("", total)});
  // The interval sum itself (show() prints intervals as "?").
  Rows out = run_oneshot(reduce(g, {}, {agg(AggKind::kSum, col(4, TypeId::kInterval), TypeId::kInterval)}),
                         [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
                           for (const auto& [r, d] : tables[id]) emit(r, d);
                         },
                         ctx);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first.get(0).as_interval().days, total.days);
}

TEST_F(OneshotTest, ReduceBoolAndStringAgg) {
  std::vector<Datum> r1 = {Datum::from_int(1), Datum::from_bool(true), Datum::from_string("b")};
  std::vector<Datum> r2 = {Datum::from_int(1), Datum::from_bool(false), Datum::from_string("a")};
  std::vector<Datum> r3 = {Datum::from_int(1), Datum::null(), Datum::null()};
  tables[1] = {{Row::pack(r1), 1}, {Row::pack(r2), 1}, {Row::pack(r3), 1}};
  RelExpr g = get(1, 3);
  g.column_types = {int8(), TypeId::kBool, TypeId::kText};
  AggregateExpr sa = agg(AggKind::kStringAgg, col(2, TypeId::kText), TypeId::kText);
  sa.separator = ScalarExpr::literal_of(Datum::from_string(","), TypeId::kText);
  RelExpr r = reduce(g, {col(0)}, {agg(AggKind::kBoolAnd, col(1, TypeId::kBool), TypeId::kBool),
                                   agg(AggKind::kBoolOr, col(1, TypeId::kBool), TypeId::kBool), sa});
  EXPECT_EQ(run(r), Strings{"1,f,t,a,b x1"});
}

TEST_F(OneshotTest, ReduceFloatAndNumeric) {
  std::vector<Datum> a = {Datum::from_float(1.5), Datum::from_numeric(numeric_parse("1.50"))};
  std::vector<Datum> b = {Datum::from_float(2.0), Datum::from_numeric(numeric_parse("2.25"))};
  tables[1] = {{Row::pack(a), 1}, {Row::pack(b), 1}};
  RelExpr g = get(1, 2);
  g.column_types = {TypeId::kFloat8, TypeId::kNumeric};
  RelExpr r = reduce(g, {}, {agg(AggKind::kSum, col(0, TypeId::kFloat8), TypeId::kFloat8),
                             agg(AggKind::kAvg, col(0, TypeId::kFloat8), TypeId::kFloat8),
                             agg(AggKind::kSum, col(1, TypeId::kNumeric), TypeId::kNumeric),
                             agg(AggKind::kAvg, col(1, TypeId::kNumeric), TypeId::kNumeric)});
  EXPECT_EQ(run(r), Strings{"3.5,1.75,3.75,1.8750000000000000 x1"});
}

TEST_F(OneshotTest, GroupByNumericScalesIsOneGroup) {
  std::vector<Datum> a = {Datum::from_numeric(numeric_parse("1.5"))};
  std::vector<Datum> b = {Datum::from_numeric(numeric_parse("1.50"))};
  tables[1] = {{Row::pack(a), 1}, {Row::pack(b), 1}};
  RelExpr g = get(1, 1, TypeId::kNumeric);
  EXPECT_EQ(run(reduce(g, {col(0, TypeId::kNumeric)}, {agg(AggKind::kCountStar, {}, int8())})), Strings{"1.5,2 x1"});
  EXPECT_EQ(run(unary(RelKind::kDistinct, g)).size(), 1u);
  // Join keys compare by value too.
  EXPECT_EQ(run(join({g, g}, {{col(0, TypeId::kNumeric), col(1, TypeId::kNumeric)}})).size(), 4u);
}

TEST_F(OneshotTest, TopK) {
  tables[1] = {{ints({1, 5}), 1}, {ints({1, 3}), 1}, {ints({1, std::nullopt}), 1}, {ints({1, 4}), 1},
               {ints({2, 9}), 2}, {ints({2, 8}), 1}};
  RelExpr t = unary(RelKind::kTopK, get(1, 2));
  t.group_columns = {0};
  t.order_by = {SortKey{1, false, false}};
  t.limit = 2;
  EXPECT_EQ(run(t), (Strings{"1,3 x1", "1,4 x1", "2,8 x1", "2,9 x1"}));
  // DESC NULLS FIRST, offset 1, limit 2
  t.order_by = {SortKey{1, true, true}};
  t.offset = 1;
  EXPECT_EQ(run(t), (Strings{"1,4 x1", "1,5 x1", "2,8 x1", "2,9 x1"}));
  // No limit, offset only, no groups.
  RelExpr u = unary(RelKind::kTopK, get(1, 2));
  u.order_by = {SortKey{1, false, false}};
  u.offset = 4;
  EXPECT_EQ(run(u), (Strings{"1,NULL x1", "2,9 x2"}));
}

TEST_F(OneshotTest, Errors) {
  tables[1] = {{ints({1}), 1}, {ints({0}), 1}};
  RelExpr m = map(get(1, 1), {ScalarExpr::call(fn_div(), {lit(1), col(0)}, int8())});
  try {
    run(m);
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "22012");
  }
  // Size guard on an absurd cross product.
  Rows big;
  for (int i = 0; i < 100; ++i) big.emplace_back(ints({i}), 1);
  tables[2] = big;
  RelExpr c = join({get(2, 1), get(2, 1), get(2, 1)}, {});
  try {
    run(c, 50'000);
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "54000");
  }
  EXPECT_EQ(run(c).size(), 1'000'000u);
  std::atomic<bool> cancel{true};
  cancelled_ptr = &cancel;
  try {
    run(c);
    FAIL();
  } catch (const SqlError& e) {
    EXPECT_EQ(e.sqlstate(), "57014");
  }
}

// A cancel in the middle of a join building a huge output (with a memory budget, as one-shot
// queries run) is honoured soon: the output is reserved once (StepContext::reserve_output), so
// no uninterruptible reallocation of tens of millions of updates stands between two polls.
TEST_F(OneshotTest, CancelDuringHugeJoinOutput) {
  Rows big;
  for (int i = 0; i < 20'000; ++i) big.emplace_back(ints({i}), 1);
  tables[3] = big;
  RelExpr c = join({get(3, 1), get(3, 1)}, {});  // 400 M pairs
  StepLimits limits;
  std::atomic<bool> cancel{false};
  limits.cancelled = &cancel;
  limits.memory_budget_bytes = uint64_t{1} << 30;
  SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
    for (const auto& [r, d] : tables[id]) emit(r, d);
  };
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancelled_at = std::chrono::steady_clock::now();
    cancel.store(true);
  });
  std::string state;
  try {
    run_oneshot(c, snap, ctx, limits);
  } catch (const SqlError& e) {
    state = e.sqlstate();
  }
  const auto thrown_at = std::chrono::steady_clock::now();
  canceller.join();
  if (state == "53200") GTEST_SKIP() << "the budget ran out before the cancel (a slow machine)";
  EXPECT_EQ(state, "57014");
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(thrown_at - cancelled_at).count(), 1000);
}

// Scan aggregates (oneshot.cpp): a Reduce over a star join of scans aggregates while the
// fact input is read, probing the other inputs' tables; the answers are the join operators'.
// Fact t1 (k, v) with a NULL key and a key with no match; t2 (k, name) with a duplicate key,
// a NULL key and a sparse key; t3 (k2) joined on v. Counts, sums and min/max per t2 name,
// DISTINCT over the fact column, and a plan the rewrite must leave alone (a class with a
// constant).
TEST_F(OneshotTest, StarJoinAggregates) {
  tables[1] = {{ints({1, 10}), 1}, {ints({1, 20}), 2}, {ints({2, 5}), 1}, {ints({std::nullopt, 7}), 1},
               {ints({9, 1}), 1}, {ints({1000000, 3}), 1}};
  tables[2] = {{ints({1, 100}), 1}, {ints({2, 200}), 1}, {ints({2, 201}), 1}, {ints({std::nullopt, 300}), 1},
               {ints({1000000, 400}), 1}};
  tables[3] = {{ints({10}), 1}, {ints({20}), 1}, {ints({5}), 3}, {ints({3}), 1}};
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(0), col(2)}});
  RelExpr r = reduce(j, {col(3)},
                     {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kSum, col(1), Type(TypeId::kNumeric)),
                      agg(AggKind::kMin, col(1), int8()), agg(AggKind::kMax, col(1), int8())});
  EXPECT_EQ(run(r), (Strings{"100,3,50,10,20 x1", "200,1,5,5,5 x1", "201,1,5,5,5 x1", "400,1,3,3,3 x1"}));
  // Three inputs: t1 JOIN t2 ON k JOIN t3 ON t1.v = t3.k2, grouped by the fact's key.
  RelExpr j3 = join({get(1, 2), get(2, 2), get(3, 1)}, {{col(0), col(2)}, {col(1), col(4)}});
  EXPECT_EQ(run(reduce(j3, {col(0)}, {agg(AggKind::kCountStar, {}, int8())})),
            (Strings{"1,3 x1", "1000000,1 x1", "2,6 x1"}));
  // DISTINCT: each part's distinct values, the aggregate above.
  EXPECT_EQ(run(reduce(j, {}, {agg(AggKind::kCount, col(1), int8(), true)})), (Strings{"4 x1"}));
  // A class with a constant is left to the join operators (same answer).
  RelExpr jc = join({get(1, 2), get(2, 2)}, {{col(0), col(2), lit(1)}});
  EXPECT_EQ(run(reduce(jc, {}, {agg(AggKind::kCountStar, {}, int8())})), (Strings{"3 x1"}));
  // A snapshot with a retraction (a transaction block's own delete) is answered without the
  // scan aggregate, never wrongly.
  tables[4] = {{ints({1, 1}), 1}, {ints({1, 1}), -1}, {ints({1, 2}), 1}};
  EXPECT_EQ(run(reduce(get(4, 2), {col(0)}, {agg(AggKind::kCountStar, {}, int8())})), (Strings{"1,1 x1"}));
}

// A cancel while a star join multiplies rows (every fact row matches every row of the other
// side: 400 M joined rows, none kept: they are aggregated as they are found) is honoured soon.
TEST_F(OneshotTest, CancelDuringStarJoinAggregate) {
  Rows same;
  for (int i = 0; i < 20'000; ++i) same.emplace_back(ints({1, i}), 1);
  tables[5] = same;
  tables[6] = same;
  // Grouped by the other side's column, so that its rows stay distinct (projected onto the
  // key alone they would merge into one row with a count).
  RelExpr r = reduce(join({get(5, 2), get(6, 2)}, {{col(0), col(2)}}), {col(3)}, {agg(AggKind::kSum, col(1), Type(TypeId::kNumeric))});
  StepLimits limits;
  std::atomic<bool> cancel{false};
  limits.cancelled = &cancel;
  SnapshotFn snap = [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
    for (const auto& [row, d] : tables[id]) emit(row, d);
  };
  std::chrono::steady_clock::time_point cancelled_at;
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    cancelled_at = std::chrono::steady_clock::now();
    cancel.store(true);
  });
  std::string state;
  try {
    auto out = run_oneshot(r, snap, ctx, limits);
    state = "finished: " + std::to_string(out.size()) + " rows";
  } catch (const SqlError& e) {
    state = e.sqlstate();
  }
  const auto thrown_at = std::chrono::steady_clock::now();
  canceller.join();
  EXPECT_EQ(state, "57014");
  EXPECT_LT(std::chrono::duration_cast<std::chrono::milliseconds>(thrown_at - cancelled_at).count(), 1000);
}

}  // namespace
}  // namespace freshet::dataflow

namespace freshet::dataflow {
namespace {

TEST(OneshotTimeTest, MzNowIsTheReadTimestamp) {
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  ctx.logical_time_ms = 5000;
  RelExpr m = testing::map(testing::constant(0, {{Row(), 1}}), {ScalarExpr::make(ScalarKind::kMzNow, {}, TypeId::kInt8)});
  auto rows = run_oneshot(m, [](uint64_t, const std::function<void(const Row&, int64_t)>&) {}, ctx);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].first.get(0).as_int(), 5000);
}

}  // namespace
}  // namespace freshet::dataflow
