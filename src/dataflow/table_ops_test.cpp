// FlatMap (table functions), Window (row_number/rank/dense_rank) and array_agg with ORDER BY
// maintained incrementally: inserts, retractions and updates, checking each step's diffs.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

RelExpr series(RelExpr in, std::vector<ScalarExpr> args, bool ordinality = false) {
  RelExpr f = unary(RelKind::kFlatMap, std::move(in));
  f.table_func = TableFunc::kGenerateSeries;
  f.exprs = std::move(args);
  f.with_ordinality = ordinality;
  f.column_types.push_back(int8());
  if (ordinality) f.column_types.push_back(int8());
  return f;
}

TEST(TableOpsTest, GenerateSeriesPerRowRetracts) {
  Incremental df(series(get(1, 2), {col(0), col(1)}));
  df.feed(1, {{ints({1, 3}), 1}, {ints({5, 4}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,3,1 x1", "1,3,2 x1", "1,3,3 x1"}));
  // Updating the row retracts exactly what it produced.
  df.feed(1, {{ints({1, 3}), -1}, {ints({2, 3}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"1,3,1 x-1", "1,3,2 x-1", "1,3,3 x-1", "2,3,2 x1", "2,3,3 x1"}));
  // NULL arguments produce nothing; multiplicities carry through.
  df.feed(1, {{ints({std::nullopt, 3}), 1}, {ints({7, 7}), 2}});
  EXPECT_EQ(df.step(3), (Strings{"7,7,7 x2"}));
}

TEST(TableOpsTest, UnnestWithOrdinality) {
  RelExpr f = unary(RelKind::kFlatMap, get(1, 1, Type(TypeId::kInt4Array)));
  f.table_func = TableFunc::kUnnest;
  f.exprs = {col(0, Type(TypeId::kInt4Array))};
  f.with_ordinality = true;
  f.column_types.push_back(int4());
  f.column_types.push_back(int8());
  Incremental df(f);
  Datum a = Datum::from_string("{5,NULL,7}");
  df.feed(1, {{Row::pack(std::span<const Datum>(&a, 1)), 1}});
  EXPECT_EQ(df.step(1), (Strings{"{5,NULL,7},5,1 x1", "{5,NULL,7},7,3 x1", "{5,NULL,7},NULL,2 x1"}));
  df.feed(1, {{Row::pack(std::span<const Datum>(&a, 1)), -1}});
  EXPECT_EQ(df.step(2), (Strings{"{5,NULL,7},5,1 x-1", "{5,NULL,7},7,3 x-1", "{5,NULL,7},NULL,2 x-1"}));
}

RelExpr window(RelExpr in, std::vector<uint32_t> partition, std::vector<SortKey> order, std::vector<WindowFuncKind> funcs) {
  RelExpr w = unary(RelKind::kWindow, std::move(in));
  w.group_columns = std::move(partition);
  w.order_by = std::move(order);
  for (auto k : funcs) {
    w.window_funcs.push_back(WindowFunc{k});
    w.column_types.push_back(int8());
  }
  return w;
}

TEST(TableOpsTest, RowNumberRankDenseRankPerPartition) {
  // (g, v): row_number, rank, dense_rank by v descending within g.
  Incremental df(window(get(1, 2), {0}, {SortKey{1, true, true}},
                        {WindowFuncKind::kRowNumber, WindowFuncKind::kRank, WindowFuncKind::kDenseRank}));
  df.feed(1, {{ints({1, 10}), 1}, {ints({1, 20}), 2}, {ints({1, 5}), 1}, {ints({2, 1}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,10,3,3,2 x1", "1,20,1,1,1 x1", "1,20,2,1,1 x1", "1,5,4,4,3 x1", "2,1,1,1,1 x1"}));
  // Removing one of the tied rows renumbers only partition 1's later rows.
  df.feed(1, {{ints({1, 20}), -1}});
  EXPECT_EQ(df.step(2), (Strings{"1,10,2,2,2 x1", "1,10,3,3,2 x-1", "1,20,2,1,1 x-1", "1,5,3,3,3 x1", "1,5,4,4,3 x-1"}));
  // Partition 2 alone changes; emptying a partition retracts its rows.
  df.feed(1, {{ints({2, 1}), -1}});
  EXPECT_EQ(df.step(3), (Strings{"2,1,1,1,1 x-1"}));
}

TEST(TableOpsTest, TopKPerGroupThroughRowNumber) {
  // Rows with row_number <= 2 per group: a filter over the window keeps the top 2.
  RelExpr w = window(get(1, 2), {0}, {SortKey{1, true, true}}, {WindowFuncKind::kRowNumber});
  RelExpr top = filter(std::move(w), {lt(col(2), lit(3))});
  Incremental df(top);
  df.feed(1, {{ints({1, 1}), 1}, {ints({1, 2}), 1}, {ints({1, 3}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,2,2 x1", "1,3,1 x1"}));
  df.feed(1, {{ints({1, 9}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"1,2,2 x-1", "1,3,1 x-1", "1,3,2 x1", "1,9,1 x1"}));
}

// A filter `row_number() < k` right above the window gives the window a row limit
// (render.cpp window_row_limit): only the first k - 1 positions are computed and emitted.
// Under random inserts and retractions (duplicates, ties, partitions emptied and refilled),
// every step's output equals that of the same filter behind a projection, which gets no limit.
TEST(TableOpsTest, RowLimitUnderAFilterEqualsTheUnlimitedWindow) {
  auto w = [] {
    return window(get(1, 3), {0}, {SortKey{1, true, true}}, {WindowFuncKind::kRowNumber, WindowFuncKind::kRank});
  };
  Incremental limited(filter(w(), {lt(col(3), lit(4))}));
  Incremental unlimited(filter(project(w(), {0, 1, 2, 3, 4}), {lt(col(3), lit(4))}));
  std::mt19937 rng(7);
  std::map<std::vector<int64_t>, int64_t> present;
  for (uint64_t t = 1; t <= 300; ++t) {
    std::vector<std::pair<Row, int64_t>> in;
    for (int i = 0; i < 12; ++i) {
      std::vector<int64_t> r{static_cast<int64_t>(rng() % 4), static_cast<int64_t>(rng() % 6), static_cast<int64_t>(rng() % 3)};
      int64_t d = 1 + static_cast<int64_t>(rng() % 2);
      if (present[r] > 0 && rng() % 2 == 0) d = -std::min<int64_t>(present[r], d);
      present[r] += d;
      in.emplace_back(ints({r[0], r[1], r[2]}), d);
    }
    limited.feed(1, in);
    unlimited.feed(1, in);
    ASSERT_EQ(limited.step(t), unlimited.step(t)) << "step " << t;
  }
}

// A partition's last output is kept only when recomputing it would cost more than 32 rows
// (WindowOp::keeps_output); smaller partitions recompute it from their rows before a change.
// Under random inserts and retractions that move one partition across that size both ways
// (and, with a row limit of 39, across it within the limit), the sum of every step's output
// equals the window computed afresh over the rows present.
TEST(TableOpsTest, KeptAndRecomputedOutputsEqualAFreshWindow) {
  auto plan = [](bool limited) {
    RelExpr w = window(get(1, 3), {0}, {SortKey{1, true, true}},
                       {WindowFuncKind::kRowNumber, WindowFuncKind::kRank, WindowFuncKind::kDenseRank});
    return limited ? filter(std::move(w), {lt(col(3), lit(40))}) : w;
  };
  for (bool limited : {false, true}) {
    Incremental df(plan(limited));
    std::mt19937 rng(11);
    std::map<std::vector<int64_t>, int64_t> present;
    std::map<std::string, int64_t> shown;
    size_t most_in_zero = 0;  // distinct rows of partition 0
    for (uint64_t t = 1; t <= 240; ++t) {
      // Partition 0 grows to most of its 100 distinct rows, then shrinks again after step 160.
      const bool shrink = t > 160;
      std::vector<std::pair<Row, int64_t>> in;
      for (int i = 0; i < 8; ++i) {
        std::vector<int64_t> r{rng() % 10 < 6 ? 0 : static_cast<int64_t>(1 + rng() % 3), static_cast<int64_t>(rng() % 25),
                               static_cast<int64_t>(rng() % 4)};
        if (shrink) {  // retract some present row of partition 0 from r on, all of it or one
          auto it = present.lower_bound({0, r[1], r[2]});
          if (it == present.end() || it->first[0] != 0) it = present.begin();
          if (it == present.end() || it->first[0] != 0) continue;
          r = it->first;
        }
        int64_t d = 1 + static_cast<int64_t>(rng() % 2);
        if (present[r] > 0 && (shrink || rng() % 3 == 0)) d = -(rng() % 2 ? present[r] : std::min<int64_t>(present[r], d));
        present[r] += d;
        if (present[r] == 0) present.erase(r);
        in.emplace_back(ints({r[0], r[1], r[2]}), d);
      }
      df.feed(1, in);
      accumulate(df.step(t), shown);
      Incremental fresh(plan(limited));
      std::vector<std::pair<Row, int64_t>> all;
      for (const auto& [r, c] : present)
        if (c > 0) all.emplace_back(ints({r[0], r[1], r[2]}), c);
      fresh.feed(1, all);
      std::map<std::string, int64_t> want;
      accumulate(fresh.step(1), want);
      ASSERT_EQ(shown, want) << "step " << t << (limited ? " (row limit)" : "");
      size_t in_zero = 0;
      for (const auto& [r, c] : present) in_zero += r[0] == 0;
      most_in_zero = std::max(most_in_zero, in_zero);
    }
    EXPECT_GT(most_in_zero, 32u) << "partition 0 should have grown past the threshold";
    size_t in_zero = 0;
    for (const auto& [r, c] : present) in_zero += r[0] == 0;
    EXPECT_LT(in_zero, 33u) << "partition 0 should have shrunk below the threshold again";
  }
}

TEST(TableOpsTest, LagAndSlidingSumRecomputeOnlyTheTouchedPartition) {
  // (g, v): lag(v), sum(v) over ROWS 1 PRECEDING .. CURRENT ROW, by v within g.
  RelExpr w = unary(RelKind::kWindow, get(1, 2));
  w.group_columns = {0};
  w.order_by = {SortKey{1, false, false}};
  WindowFunc lag;
  lag.kind = WindowFuncKind::kLag;
  lag.args = {1};
  WindowFunc sum;
  sum.kind = WindowFuncKind::kAggregate;
  sum.agg_kind = AggKind::kSum;
  sum.args = {1};
  sum.frame.rows = true;
  sum.frame.start = FrameBound{FrameBoundKind::kPreceding, 1, Row(), Type()};
  w.window_funcs = {lag, sum};
  w.column_types.push_back(int8());
  w.column_types.push_back(int8());
  Incremental df(w);
  df.feed(1, {{ints({1, 1}), 1}, {ints({1, 2}), 1}, {ints({1, 4}), 1}, {ints({2, 7}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,1,NULL,1 x1", "1,2,1,3 x1", "1,4,2,6 x1", "2,7,NULL,7 x1"}));
  // Inserting into partition 2 leaves partition 1's rows alone.
  df.feed(1, {{ints({2, 8}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"2,8,7,15 x1"}));
  // Deleting a middle row changes its successor's lag and frame.
  df.feed(1, {{ints({1, 2}), -1}});
  EXPECT_EQ(df.step(3), (Strings{"1,2,1,3 x-1", "1,4,1,5 x1", "1,4,2,6 x-1"}));
}

TEST(TableOpsTest, ArrayAggOrderedSurvivesRetractions) {
  // array_agg(v ORDER BY o DESC) per g over (g, v, o).
  AggregateExpr a = agg(AggKind::kArrayAgg, col(1), Type(TypeId::kInt8Array));
  a.order_exprs = {col(2)};
  a.order_keys = {SortKey{0, true, true}};
  RelExpr r = reduce(get(1, 3), {col(0)}, {a});
  Incremental df(r);
  df.feed(1, {{ints({1, 10, 1}), 1}, {ints({1, 20, 3}), 1}, {ints({1, std::nullopt, 2}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,{20,NULL,10} x1"}));
  df.feed(1, {{ints({1, 20, 3}), -1}, {ints({1, 30, 0}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"1,{20,NULL,10} x-1", "1,{NULL,10,30} x1"}));
}

}  // namespace
}  // namespace freshet::dataflow
