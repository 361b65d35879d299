// Each operator maintained incrementally: inserts at t=1, changes at t=2, ..., checking the
// output diffs of every timestamp.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>

#include "common/numeric.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

TEST(IncrementalTest, MinMaxSurviveRetractions) {
  RelExpr r = reduce(get(1, 2), {col(0)}, {agg(AggKind::kMin, col(1), int8()), agg(AggKind::kMax, col(1), int8())});
  Incremental df(r);
  df.feed(1, {{ints({1, 5}), 1}, {ints({1, 3}), 1}, {ints({1, 9}), 1}, {ints({2, 4}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,3,9 x1", "2,4,4 x1"}));
  // Delete the minimum of group 1: min becomes 5; group 2 unchanged emits nothing.
  df.feed(1, {{ints({1, 3}), -1}});
  EXPECT_EQ(df.step(2), (Strings{"1,3,9 x-1", "1,5,9 x1"}));
  // A tick with no data emits nothing.
  EXPECT_EQ(df.step(3), Strings{});
  // Delete the whole group 2: its row is retracted.
  df.feed(1, {{ints({2, 4}), -1}});
  EXPECT_EQ(df.step(4), Strings{"2,4,4 x-1"});
  // An insert and delete of the same row in one timestamp changes nothing.
  df.feed(1, {{ints({1, 1}), 1}, {ints({1, 1}), -1}});
  EXPECT_EQ(df.step(5), Strings{});
}

// A cross join with a constant (rendered as a broadcast join over shards, graph.hpp
// Operator::bilinear) feeding a min/max whose few groups take every update (rendered in two
// phases over shards, render.hpp hierarchical_min_max): Nexmark q5's and q7's shape. Steps
// of 600 rows are past the size from which shards run in parallel. Run unsharded and with
// FRESHET_TEST_WORKERS=3 (dataflow_test_sharded): the same output either way.
TEST(IncrementalTest, HotMinMaxOverCrossJoinWithConstant) {
  RelExpr r = reduce(join({get(1, 2), constant(1, {{ints({0}), 1}, {ints({1}), 1}, {ints({2}), 1}})}, {}), {col(2)},
                     {agg(AggKind::kMin, col(1), int8()), agg(AggKind::kMax, col(1), int8())});
  Incremental df(r, true, /*hierarchical_min_max=*/true);
  std::vector<std::pair<Row, int64_t>> rows;
  for (int64_t v = 1; v <= 600; ++v) rows.push_back({ints({v % 2, v}), 1});
  df.feed(1, rows);
  EXPECT_EQ(df.step(1), (Strings{"0,1,600 x1", "1,1,600 x1", "2,1,600 x1"}));
  // Both extremes retracted, a new maximum.
  df.feed(1, {{ints({0, 600}), -1}, {ints({1, 1}), -1}, {ints({0, 1000}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"0,1,600 x-1", "0,2,1000 x1", "1,1,600 x-1", "1,2,1000 x1", "2,1,600 x-1", "2,2,1000 x1"}));
  // Everything retracted: the groups go.
  rows.clear();
  for (int64_t v = 2; v <= 599; ++v) rows.push_back({ints({v % 2, v}), -1});
  rows.push_back({ints({0, 1000}), -1});
  df.feed(1, rows);
  EXPECT_EQ(df.step(3), (Strings{"0,2,1000 x-1", "1,2,1000 x-1", "2,2,1000 x-1"}));
  EXPECT_EQ(df.step(4), Strings{});
}

// A cross join with a constant (Nexmark q5: bids CROSS JOIN VALUES of 5 rows), the constant
// on either side, unsharded and over 3 shards: after the constant's rows have come the other
// input is no longer arranged (JoinSpec::left_constant), and under random inserts and
// retractions every step still equals the join recomputed, as does a count and a max over it.
TEST(IncrementalTest, CrossJoinWithConstantStepsEqualRecomputation) {
  for (bool constant_left : {true, false}) {
    for (size_t workers : {size_t{1}, size_t{3}}) {
      RelExpr k = constant(1, {{ints({0}), 1}, {ints({1}), 1}, {ints({2}), 2}});
      // Columns: (k, a, v) with the constant on the left, (a, v, k) on the right.
      RelExpr j = constant_left ? join({std::move(k), get(1, 2)}, {}) : join({get(1, 2), std::move(k)}, {});
      const uint32_t ck = constant_left ? 0 : 2, ca = constant_left ? 1 : 0;
      RelExpr win = project(map(std::move(j), {add(col(ca), col(ck))}), {3});  // a + k
      RelExpr counted = reduce(win, {col(0)}, {agg(AggKind::kCountStar, {}, int8())});
      Incremental joined(win, false, false, workers), df(counted, false, false, workers);
      std::mt19937 rng(constant_left ? 3 : 4);
      std::map<std::pair<int64_t, int64_t>, int64_t> present;  // (a, v) -> multiplicity
      std::map<std::string, int64_t> shown_join, shown_count;
      for (uint64_t t = 1; t <= 60; ++t) {
        std::vector<std::pair<Row, int64_t>> changes;
        const size_t n = t == 1 ? 300 : 1 + rng() % 40;
        for (size_t i = 0; i < n; ++i) {
          if (!present.empty() && rng() % 3 == 0) {
            auto it = present.begin();
            std::advance(it, rng() % present.size());
            changes.push_back({ints({it->first.first, it->first.second}), -1});
            if (--it->second == 0) present.erase(it);
          } else {
            const std::pair<int64_t, int64_t> r{static_cast<int64_t>(rng() % 20), static_cast<int64_t>(rng() % 5)};
            changes.push_back({ints({r.first, r.second}), 1});
            ++present[r];
          }
        }
        joined.feed(1, changes);
        df.feed(1, changes);
        for (auto [shown, lines] : {std::pair{&shown_join, joined.step(t)}, std::pair{&shown_count, df.step(t)}}) {
          for (const std::string& line : lines) {
            const size_t x = line.rfind(" x");
            (*shown)[line.substr(0, x)] += std::stoll(line.substr(x + 2));
          }
          std::erase_if(*shown, [](const auto& e) { return e.second == 0; });
        }
        std::map<std::string, int64_t> want_join, want_count;
        std::map<int64_t, int64_t> counts;
        for (const auto& [r, c] : present) {
          const std::pair<int64_t, int64_t> kRows[] = {{0, 1}, {1, 1}, {2, 2}};  // the constant: (k, multiplicity)
          for (auto [kv, m] : kRows) {
            want_join[std::to_string(r.first + kv)] += c * m;
            counts[r.first + kv] += c * m;
          }
        }
        for (const auto& [w, c] : counts) want_count[std::to_string(w) + "," + std::to_string(c)] = 1;
        ASSERT_EQ(shown_join, want_join) << "step " << t << " constant_left " << constant_left << " workers " << workers;
        ASSERT_EQ(shown_count, want_count) << "step " << t << " constant_left " << constant_left << " workers " << workers;
      }
      // The join holds the constant's rows only (one copy per shard at most), not the input.
      EXPECT_LE(joined.state_size(), 3 * workers);
    }
  }
}

// Feeds the same random changes of two 4-column integer inputs (ids 1 and 2; columns 0 and 3
// drawn from [0, m0) and [0, m3), columns 1 and 2 from [0, 7) and [0, 4); retractions only of
// present rows) to `plan` and to `narrowed` for 200 steps and checks every step's output is
// the same.
void expect_same_steps(const RelExpr& plan, const RelExpr& narrowed, unsigned seed, int64_t m0, int64_t m3) {
  Incremental whole(plan), narrow(narrowed);
  std::mt19937 rng(seed);
  std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> present;
  for (uint64_t t = 1; t <= 200; ++t) {
    for (uint64_t id : {1, 2}) {
      std::vector<std::pair<Row, int64_t>> in;
      for (int i = 0; i < 6; ++i) {
        std::vector<int64_t> v{static_cast<int64_t>(rng() % m0), static_cast<int64_t>(rng() % 7),
                               static_cast<int64_t>(rng() % 4), static_cast<int64_t>(rng() % m3)};
        int64_t d = present[{id, v}] > 0 && rng() % 2 == 0 ? -1 : 1;
        present[{id, v}] += d;
        in.emplace_back(ints({v[0], v[1], v[2], v[3]}), d);
      }
      whole.feed(id, in);
      narrow.feed(id, in);
    }
    ASSERT_EQ(whole.step(t), narrow.step(t)) << "step " << t;
  }
}

// narrow_join_inputs (oneshot.hpp), as src/server's Maintained runs it: a Reduce over a
// Filter over a join of two 4-column inputs reads 4 of their 8 columns, so each input is
// projected and the join arranges the narrow rows. Under random inserts and retractions the
// narrowed plan's every step equals the plan's.
TEST(IncrementalTest, NarrowedJoinInputsGiveTheSameSteps) {
  // a(id, x, lo, hi) JOIN b(auction, p, t, y) ON a.id = b.auction WHERE lo < t, max(p) per id.
  RelExpr j = join({get(1, 4), get(2, 4)}, {{col(0), col(4)}});
  RelExpr r = reduce(filter(std::move(j), {lt(col(2), col(6))}), {col(0)}, {agg(AggKind::kMax, col(5), int8())});
  RelExpr narrowed = r;
  narrow_join_inputs(narrowed);
  const RelExpr& f = narrowed.inputs.at(0);
  ASSERT_EQ(f.kind, RelKind::kFilter);
  ASSERT_EQ(f.inputs.at(0).kind, RelKind::kJoin);
  EXPECT_EQ(f.inputs.at(0).arity(), 5u);  // a.id, a.lo; b.auction, b.p, b.t
  expect_same_steps(r, narrowed, 11, 5, 3);
}

// The window shape (Nexmark q9): a Project over a Filter `row_number() <= 2` over a Window
// over a Filter over a join. narrow_join_inputs drops the columns none of them reads; every
// step equals the plan's. The Project shows only the partition and ORDER BY columns (and
// the number), so rows tied in the window order look the same whichever the window picks.
TEST(IncrementalTest, NarrowedJoinInputsUnderAWindowGiveTheSameSteps) {
  // a(id, x, lo, hi) JOIN b(auction, p, t, y) ON a.id = b.auction WHERE lo < t.
  RelExpr j = join({get(1, 4), get(2, 4)}, {{col(0), col(4)}});
  RelExpr w = unary(RelKind::kWindow, filter(std::move(j), {lt(col(2), col(6))}));
  w.group_columns = {0};
  w.order_by = {SortKey{5, true, true}, SortKey{6, false, false}};
  w.window_funcs.push_back(WindowFunc{WindowFuncKind::kRowNumber});
  w.column_types.push_back(int8());
  RelExpr r = project(filter(std::move(w), {lt(col(8), lit(3))}), {0, 5, 6, 8});
  RelExpr narrowed = r;
  narrow_join_inputs(narrowed);
  const RelExpr& win = narrowed.inputs.at(0).inputs.at(0);
  ASSERT_EQ(win.kind, RelKind::kWindow);
  EXPECT_EQ(win.arity(), 6u);  // a.id, a.lo; b.auction, b.p, b.t; row_number
  expect_same_steps(r, narrowed, 5, 4, 5);
}

// A join hydrated from a snapshot large enough that its arrangements borrow the input's rows
// (arrangement.hpp, Arrangement::kBorrowMin), then 80 steps of random inserts and retractions
// in both inputs (which copy the borrowed rows away, key by key and then all): after every
// step the outputs summed so far equal the join of the inputs as they are.
TEST(IncrementalTest, JoinHydratedByBorrowingStaysCorrect) {
  RelExpr r = join({get(1, 2), get(2, 2)}, {{col(0), col(2)}});
  Incremental df(r);
  std::mt19937 rng(3);
  std::map<std::pair<uint64_t, std::pair<int64_t, int64_t>>, int64_t> present;
  std::map<std::string, int64_t> shown;
  auto expected = [&] {
    std::map<std::string, int64_t> want;
    for (const auto& [a, na] : present) {
      if (a.first != 1 || na == 0) continue;
      // input 2's rows with a's key: present is ordered by (input, key, value)
      for (auto it = present.lower_bound({2, {a.second.first, INT64_MIN}}); it != present.end() && it->first.second.first == a.second.first; ++it) {
        if (it->second == 0) continue;
        want[std::to_string(a.second.first) + "," + std::to_string(a.second.second) + "," + std::to_string(it->first.second.first) +
             "," + std::to_string(it->first.second.second)] += na * it->second;
      }
    }
    return want;
  };
  auto add = [&](const Strings& out) {
    for (const std::string& s : out) {
      size_t x = s.rfind(" x");
      shown[s.substr(0, x)] += std::stoll(s.substr(x + 2));
    }
    std::erase_if(shown, [](const auto& e) { return e.second == 0; });
  };
  for (uint64_t t = 1; t <= 80; ++t) {
    for (uint64_t id : {1, 2}) {
      // The first step: 300 rows of input 1, 6,000 of input 2 (borrowed); then 150 per step.
      const int n = t == 1 ? (id == 1 ? 300 : 6000) : 150;
      std::vector<std::pair<Row, int64_t>> in;
      for (int i = 0; i < n; ++i) {
        std::pair<int64_t, int64_t> v{static_cast<int64_t>(rng() % 200), static_cast<int64_t>(rng() % 60)};
        int64_t d = t > 1 && present[{id, v}] > 0 && rng() % 2 == 0 ? -1 : 1;
        present[{id, v}] += d;
        in.emplace_back(ints({v.first, v.second}), d);
      }
      df.feed(id, in);
    }
    add(df.step(t));
    ASSERT_EQ(shown, expected()) << "step " << t;
  }
}

TEST(IncrementalTest, AvgSumCountAfterUpdates) {
  Type num = TypeId::kNumeric;
  RelExpr r = reduce(get(1, 2, int4()), {col(0, int4())},
                     {agg(AggKind::kAvg, col(1, int4()), num), agg(AggKind::kSum, col(1, int4()), int8()),
                      agg(AggKind::kCount, col(1, int4()), int8())});
  Incremental df(r);
  df.feed(1, {{ints({1, 1}), 1}, {ints({1, 2}), 1}});
  EXPECT_EQ(df.step(1), Strings{"1,1.5000000000000000,3,2 x1"});
  // Update 2 -> 4 (retraction + insertion).
  df.feed(1, {{ints({1, 2}), -1}, {ints({1, 4}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"1,1.5000000000000000,3,2 x-1", "1,2.5000000000000000,5,2 x1"}));
  // Set the remaining values to NULL: sum/avg NULL, count 0, group still present.
  df.feed(1, {{ints({1, 1}), -1}, {ints({1, 4}), -1}, {ints({1, std::nullopt}), 1}});
  EXPECT_EQ(df.step(3), (Strings{"1,2.5000000000000000,5,2 x-1", "1,NULL,NULL,0 x1"}));
}

TEST(IncrementalTest, CountDistinctCrossingZero) {
  RelExpr r = reduce(get(1, 2), {col(0)}, {agg(AggKind::kCount, col(1), int8(), true), agg(AggKind::kSum, col(1), TypeId::kNumeric, true)});
  Incremental df(r);
  df.feed(1, {{ints({1, 5}), 2}, {ints({1, 6}), 1}});
  EXPECT_EQ(df.step(1), Strings{"1,2,11 x1"});
  df.feed(1, {{ints({1, 5}), -1}});  // 5 still present once: no change
  EXPECT_EQ(df.step(2), Strings{});
  df.feed(1, {{ints({1, 5}), -1}});  // 5 gone
  EXPECT_EQ(df.step(3), (Strings{"1,1,6 x1", "1,2,11 x-1"}));
}

// count(DISTINCT), sum(DISTINCT) (with and without FILTER), min and max of integers, and
// count(*) (with and without FILTER), maintained over 150 steps of random inserts and retractions (NULLs, values
// repeated in a group, groups emptied and refilled, a value's retraction and insertion in one
// step), checked after every step against the aggregates recomputed from the input's current
// multiset. Steps of a few hundred rows: sharded 3 ways they run on the pool.
TEST(IncrementalTest, DistinctAndMinMaxOfIntegersMatchRecomputation) {
  // Three FILTERs, two of them the same expression (evaluated once per row, ReduceOp).
  AggregateExpr filtered = agg(AggKind::kCount, col(1), int8(), true);
  filtered.filter = lt(col(2), lit(1));
  AggregateExpr filtered_rows = agg(AggKind::kCountStar, {}, int8());
  filtered_rows.filter = lt(col(2), lit(1));
  AggregateExpr filtered_max = agg(AggKind::kMax, col(1), int8());
  filtered_max.filter = lt(col(2), lit(2));
  RelExpr r = reduce(get(1, 3), {col(0)},
                     {agg(AggKind::kCount, col(1), int8(), true), filtered, agg(AggKind::kSum, col(1), TypeId::kNumeric, true),
                      agg(AggKind::kMin, col(1), int8()), agg(AggKind::kMax, col(1), int8()), agg(AggKind::kCountStar, {}, int8()),
                      filtered_rows, filtered_max});
  Incremental df(r);
  std::mt19937 rng(7);
  using Key = std::vector<std::optional<int64_t>>;  // (g, v, w)
  std::map<Key, int64_t> present;
  std::map<std::string, int64_t> shown;  // the view: the output diffs summed
  auto random_row = [&]() -> Key {
    int64_t g = static_cast<int64_t>(rng() % 5);
    std::optional<int64_t> v;
    if (rng() % 8 != 0) v = static_cast<int64_t>(rng() % 40) - 10;
    return {g, v, static_cast<int64_t>(rng() % 3)};
  };
  for (uint64_t t = 1; t <= 150; ++t) {
    std::vector<std::pair<Row, int64_t>> changes;
    const size_t n = t == 1 ? 600 : 1 + rng() % 300;
    // Emptying a group now and then: every row of group (t % 5) retracted.
    const bool empty_group = t % 17 == 0;
    if (empty_group) {
      for (const auto& [k, c] : present)
        if (*k[0] == static_cast<int64_t>(t % 5)) changes.push_back({ints({k[0], k[1], k[2]}), -c});
    }
    std::map<Key, int64_t> next = present;
    if (empty_group) std::erase_if(next, [&](const auto& e) { return *e.first[0] == static_cast<int64_t>(t % 5); });
    for (size_t i = 0; i < n; ++i) {
      if (!next.empty() && rng() % 3 == 0) {
        auto it = next.begin();
        std::advance(it, rng() % next.size());
        const Key k = it->first;
        changes.push_back({ints({k[0], k[1], k[2]}), -1});
        if (--it->second == 0) next.erase(it);
        // Sometimes the same row back in the same step.
        if (rng() % 4 == 0) {
          changes.push_back({ints({k[0], k[1], k[2]}), 1});
          ++next[k];
        }
      } else {
        Key k = random_row();
        const int64_t m = rng() % 6 == 0 ? 2 : 1;
        changes.push_back({ints({k[0], k[1], k[2]}), m});
        next[k] += m;
      }
    }
    present = std::move(next);
    df.feed(1, changes);
    for (const std::string& line : df.step(t)) {
      const size_t x = line.rfind(" x");
      shown[line.substr(0, x)] += std::stoll(line.substr(x + 2));
    }
    std::erase_if(shown, [](const auto& e) { return e.second == 0; });
    // Recomputed.
    std::map<std::string, int64_t> want;
    std::map<int64_t, std::vector<std::pair<Key, int64_t>>> groups;
    for (const auto& [k, c] : present) groups[*k[0]].push_back({k, c});
    for (const auto& [g, rows] : groups) {
      std::set<int64_t> all, low, below2;
      int64_t count = 0, low_rows = 0;
      for (const auto& [k, c] : rows) {
        count += c;
        if (*k[2] < 1) low_rows += c;
        if (!k[1]) continue;
        all.insert(*k[1]);
        if (*k[2] < 1) low.insert(*k[1]);
        if (*k[2] < 2) below2.insert(*k[1]);
      }
      int64_t sum = 0;
      for (int64_t v : all) sum += v;
      std::string row = std::to_string(g) + "," + std::to_string(all.size()) + "," + std::to_string(low.size()) + ",";
      row += all.empty() ? "NULL,NULL,NULL" : std::to_string(sum) + "," + std::to_string(*all.begin()) + "," + std::to_string(*all.rbegin());
      row += "," + std::to_string(count) + "," + std::to_string(low_rows) + ",";
      row += below2.empty() ? "NULL" : std::to_string(*below2.rbegin());
      want[row] = 1;
    }
    ASSERT_EQ(shown, want) << "step " << t;
  }
}

TEST(IncrementalTest, TopKAfterDeletingMember) {
  RelExpr t = unary(RelKind::kTopK, get(1, 2));
  t.group_columns = {0};
  t.order_by = {SortKey{1, false, false}};
  t.limit = 2;
  Incremental df(t);
  df.feed(1, {{ints({1, 5}), 1}, {ints({1, 3}), 1}, {ints({1, 4}), 1}});
  EXPECT_EQ(df.step(1), (Strings{"1,3 x1", "1,4 x1"}));
  df.feed(1, {{ints({1, 3}), -1}});
  EXPECT_EQ(df.step(2), (Strings{"1,3 x-1", "1,5 x1"}));
  // A row outside the window changes nothing.
  df.feed(1, {{ints({1, 10}), 1}});
  EXPECT_EQ(df.step(3), Strings{});
  // A new smallest row pushes out the largest visible one.
  df.feed(1, {{ints({1, 1}), 1}});
  EXPECT_EQ(df.step(4), (Strings{"1,1 x1", "1,5 x-1"}));
}

// TopK recomputes what a group showed before the step's changes (it does not keep it). Under
// random inserts and retractions (duplicates, ties in the ORDER BY, a row inserted and
// retracted in one step, groups emptied and refilled, one group much larger than the limit),
// with an offset and without a limit too, the sum of every step's output equals the top-k
// computed afresh over the rows present.
TEST(IncrementalTest, TopKStepsEqualAFreshTopK) {
  struct Shape {
    std::optional<uint64_t> limit;
    uint64_t offset;
  };
  for (Shape shape : {Shape{3, 0}, Shape{2, 1}, Shape{std::nullopt, 2}, Shape{1, 0}}) {
    auto plan = [&] {
      RelExpr t = unary(RelKind::kTopK, get(1, 3));
      t.group_columns = {0};
      t.order_by = {SortKey{1, true, true}};
      t.limit = shape.limit;
      t.offset = shape.offset;
      return t;
    };
    Incremental df(plan());
    std::mt19937 rng(5);
    std::map<std::vector<int64_t>, int64_t> present;
    std::map<std::string, int64_t> shown;
    for (uint64_t t = 1; t <= 200; ++t) {
      std::vector<std::pair<Row, int64_t>> in;
      for (int i = 0; i < 10; ++i) {
        std::vector<int64_t> r{rng() % 2 ? 0 : static_cast<int64_t>(1 + rng() % 4), static_cast<int64_t>(rng() % 8),
                               static_cast<int64_t>(rng() % 3)};
        int64_t d = 1 + static_cast<int64_t>(rng() % 2);
        if (present[r] > 0 && rng() % 2 == 0) d = -(rng() % 2 ? present[r] : std::min<int64_t>(present[r], d));
        present[r] += d;
        in.emplace_back(ints({r[0], r[1], r[2]}), d);
        if (rng() % 8 == 0) {  // and taken back in the same step
          present[r] -= d;
          in.emplace_back(ints({r[0], r[1], r[2]}), -d);
        }
      }
      df.feed(1, in);
      accumulate(df.step(t), shown);
      Incremental fresh(plan());
      std::vector<std::pair<Row, int64_t>> all;
      for (const auto& [r, c] : present)
        if (c > 0) all.emplace_back(ints({r[0], r[1], r[2]}), c);
      fresh.feed(1, all);
      std::map<std::string, int64_t> want;
      accumulate(fresh.step(1), want);
      ASSERT_EQ(shown, want) << "step " << t << " limit " << shape.limit.value_or(0) << " offset " << shape.offset;
    }
  }
}

TEST(IncrementalTest, DistinctAndThreshold) {
  Incremental d(unary(RelKind::kDistinct, get(1, 1)));
  Incremental th(unary(RelKind::kThreshold, get(1, 1)));
  for (Incremental* df : {&d, &th}) df->feed(1, {{ints({1}), 2}, {ints({2}), 1}});
  EXPECT_EQ(d.step(1), (Strings{"1 x1", "2 x1"}));
  EXPECT_EQ(th.step(1), (Strings{"1 x2", "2 x1"}));
  for (Incremental* df : {&d, &th}) df->feed(1, {{ints({1}), -1}});
  EXPECT_EQ(d.step(2), Strings{});
  EXPECT_EQ(th.step(2), Strings{"1 x-1"});
  for (Incremental* df : {&d, &th}) df->feed(1, {{ints({1}), -2}, {ints({2}), -1}});
  EXPECT_EQ(d.step(3), (Strings{"1 x-1", "2 x-1"}));
  EXPECT_EQ(th.step(3), (Strings{"1 x-1", "2 x-1"}));
  // Row 1's weight is now -1: nothing shows until it turns positive again.
  for (Incremental* df : {&d, &th}) df->feed(1, {{ints({1}), 1}});
  EXPECT_EQ(d.step(4), Strings{});
  EXPECT_EQ(th.step(4), Strings{});
  for (Incremental* df : {&d, &th}) df->feed(1, {{ints({1}), 2}});
  EXPECT_EQ(d.step(5), Strings{"1 x1"});
  EXPECT_EQ(th.step(5), Strings{"1 x2"});
}

// Join keys of consecutive columns are sliced out of the rows (JoinOp::key_slice) unless a
// value is NULL or needs its canonical form; keys that are expressions are evaluated. Both
// kinds must meet: a two-column key sliced on the left (columns 1, 2) against an evaluated key
// on the right (column 0 + 0, column 1), with NULLs, over a first step big enough to borrow and
// steps of inserts and retractions after it, against the join computed from scratch.
TEST(IncrementalTest, SlicedAndEvaluatedJoinKeysMeet) {
  RelExpr r = join({get(1, 3), get(2, 3)}, {{col(1), add(col(3), lit(0))}, {col(2), col(4)}});
  Incremental df(r);
  std::mt19937 rng(5);
  using Vals = std::vector<std::optional<int64_t>>;
  std::map<std::pair<uint64_t, Vals>, int64_t> present;
  std::map<std::string, int64_t> shown;
  auto text = [](const Vals& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + (v[i] ? std::to_string(*v[i]) : std::string("NULL"));
    return s;
  };
  for (uint64_t t = 1; t <= 30; ++t) {
    for (uint64_t id : {1, 2}) {
      const int n = t == 1 ? 5000 : 120;
      std::vector<std::pair<Row, int64_t>> in;
      for (int i = 0; i < n; ++i) {
        auto key = [&]() -> std::optional<int64_t> {
          if (rng() % 40 == 0) return std::nullopt;
          return static_cast<int64_t>(rng() % 30) * (rng() % 2 ? 1 : 1000003);  // 1- and 4-byte ints
        };
        Vals v = id == 1 ? Vals{static_cast<int64_t>(rng() % 7), key(), static_cast<int64_t>(rng() % 3)}
                         : Vals{key(), static_cast<int64_t>(rng() % 3), static_cast<int64_t>(rng() % 5)};
        const int64_t d = t > 1 && present[{id, v}] > 0 && rng() % 2 == 0 ? -1 : 1;
        present[{id, v}] += d;
        std::vector<Datum> ds;
        for (const auto& x : v) ds.push_back(x ? Datum::from_int(*x) : Datum::null());
        in.emplace_back(Row::pack(ds), d);
      }
      df.feed(id, in);
    }
    for (const std::string& line : df.step(t)) {
      const size_t x = line.rfind(" x");
      shown[line.substr(0, x)] += std::stoll(line.substr(x + 2));
    }
    std::erase_if(shown, [](const auto& e) { return e.second == 0; });
    std::map<std::pair<int64_t, int64_t>, std::vector<std::pair<Vals, int64_t>>> right;  // by key
    for (const auto& [b, nb] : present) {
      if (b.first == 2 && nb != 0 && b.second[0] && b.second[1]) right[{*b.second[0], *b.second[1]}].emplace_back(b.second, nb);
    }
    std::map<std::string, int64_t> want;
    for (const auto& [a, na] : present) {
      if (a.first != 1 || na == 0 || !a.second[1] || !a.second[2]) continue;
      auto it = right.find({*a.second[1], *a.second[2]});
      if (it == right.end()) continue;
      for (const auto& [b, nb] : it->second) want[text(a.second) + "," + text(b)] += na * nb;
    }
    ASSERT_EQ(shown, want) << "step " << t;
  }
}

// A numeric key needs its canonical form (1.5 and 1.50 are equal, their bytes are not): the
// sliced path leaves it to the evaluated one, so the rows meet.
TEST(IncrementalTest, JoinKeysNeedingCanonicalFormMeet) {
  const Type num(TypeId::kNumeric);
  RelExpr r = join({get(1, 1, num), get(2, 1, num)}, {{col(0, num), col(1, num)}});
  Incremental df(r);
  auto one = [](const char* v) {
    std::vector<Datum> ds{Datum::from_numeric(numeric_parse(v))};
    return Row::pack(ds);
  };
  std::vector<std::pair<Row, int64_t>> left, right;
  for (int i = 0; i < 5000; ++i) left.emplace_back(one(i == 0 ? "1.5" : "7"), 1);
  right.emplace_back(one("1.50"), 1);
  df.feed(1, left);
  df.feed(2, right);
  EXPECT_EQ(df.step(1), Strings{"1.5,1.50 x1"});
  df.feed(2, {{one("1.500"), 1}});
  EXPECT_EQ(df.step(2), Strings{"1.5,1.500 x1"});
}

TEST(IncrementalTest, JoinBothSidesChangingInOneTimestamp) {
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(0), col(2)}});
  Incremental df(j);
  df.feed(1, {{ints({1, 10}), 1}});
  df.feed(2, {{ints({1, 20}), 1}});
  EXPECT_EQ(df.step(1), Strings{"1,10,1,20 x1"});
  // Both sides change at t=2: ΔA⋈B + A⋈ΔB + ΔA⋈ΔB.
  df.feed(1, {{ints({1, 11}), 1}, {ints({1, 10}), -1}});
  df.feed(2, {{ints({1, 21}), 1}});
  EXPECT_EQ(df.step(2), (Strings{"1,10,1,20 x-1", "1,11,1,20 x1", "1,11,1,21 x1"}));
  // Deleting the right side's rows retracts their matches.
  df.feed(2, {{ints({1, 20}), -1}, {ints({1, 21}), -1}});
  EXPECT_EQ(df.step(3), (Strings{"1,11,1,20 x-1", "1,11,1,21 x-1"}));
  // NULL keys never match, in either direction.
  df.feed(1, {{ints({std::nullopt, 1}), 1}});
  df.feed(2, {{ints({std::nullopt, 2}), 1}});
  EXPECT_EQ(df.step(4), Strings{});
}

TEST(IncrementalTest, ThreeWayJoinIntoReduce) {
  // count(*) per t1.a of t1 ⋈ t2 ⋈ t3, each change propagating through two joins.
  RelExpr j = join({get(1, 1), get(2, 2), get(3, 1)}, {{col(0), col(1)}, {col(2), col(3)}});
  RelExpr r = reduce(j, {col(0)}, {agg(AggKind::kCountStar, {}, int8())});
  Incremental df(r);
  df.feed(1, {{ints({1}), 1}});
  df.feed(2, {{ints({1, 7}), 1}, {ints({1, 8}), 1}});
  EXPECT_EQ(df.step(1), Strings{});
  df.feed(3, {{ints({7}), 1}, {ints({8}), 1}});
  EXPECT_EQ(df.step(2), Strings{"1,2 x1"});
  df.feed(3, {{ints({7}), 1}});
  EXPECT_EQ(df.step(3), (Strings{"1,2 x-1", "1,3 x1"}));
  df.feed(1, {{ints({1}), -1}});
  EXPECT_EQ(df.step(4), Strings{"1,3 x-1"});
}

// Staged steps (staged.cpp): after its first step a sharded dataflow runs each stage (the
// nodes between two exchanges) as one task per shard. A plan with a node read by several
// consumers (a kLet's value: in place by one, by key by others), joins, reduces, a broadcast
// cross join with a constant, a distinct and a negate, sharded 3 ways, gives every step the
// output of the unsharded plan under random inserts and retractions; steps of 1 to 400
// updates, so that stages run both on the pool and on the caller.
TEST(IncrementalTest, ShardedStagedStepsEqualUnsharded) {
  auto get_local = [](uint64_t id, size_t arity) {
    RelExpr e;
    e.kind = RelKind::kGetLocal;
    e.local_id = id;
    e.column_types.assign(arity, int8());
    return e;
  };
  RelExpr v = map(get(1, 3), {add(col(0), col(1))});  // (a, b, c, a + b)
  RelExpr by_join = reduce(join({get_local(7, 4), get(2, 3)}, {{col(0), col(4)}}), {col(1)},
                           {agg(AggKind::kMax, col(3), int8()), agg(AggKind::kCount, col(6), int8())});
  RelExpr by_c = reduce(filter(get_local(7, 4), {lt(col(0), lit(15))}), {col(2)},
                        {agg(AggKind::kMin, col(3), int8()), agg(AggKind::kCount, col(0), int8())});
  RelExpr cross = reduce(join({get(2, 3), constant(1, {{ints({0}), 1}, {ints({1}), 1}})}, {}), {col(3)},
                         {agg(AggKind::kMax, col(0), int8()), agg(AggKind::kCount, col(1), int8())});
  RelExpr distinct = unary(RelKind::kNegate, unary(RelKind::kDistinct, project(get_local(7, 4), {1, 2, 3})));
  RelExpr body;
  body.kind = RelKind::kUnion;
  body.column_types = by_join.column_types;
  body.inputs = {by_join, by_c, cross, distinct};
  RelExpr plan;
  plan.kind = RelKind::kLet;
  plan.column_types = body.column_types;
  plan.local_ids = {7};
  plan.inputs = {v, body};
  Incremental sharded(plan, true, false, 3), serial(plan, true, false, 1);
  std::mt19937 rng(17);
  std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> present;
  for (uint64_t t = 1; t <= 120; ++t) {
    for (uint64_t id : {1, 2}) {
      std::vector<std::pair<Row, int64_t>> in;
      const size_t rows = 1 + rng() % (t % 3 == 0 ? 400 : 20);
      for (size_t i = 0; i < rows; ++i) {
        std::vector<int64_t> r{static_cast<int64_t>(rng() % 20), static_cast<int64_t>(rng() % 7),
                               static_cast<int64_t>(rng() % 5)};
        int64_t d = present[{id, r}] > 0 && rng() % 2 == 0 ? -1 : 1;
        present[{id, r}] += d;
        in.emplace_back(ints({r[0], r[1], r[2]}), d);
      }
      sharded.feed(id, in);
      serial.feed(id, in);
    }
    ASSERT_EQ(sharded.step(t), serial.step(t)) << "step " << t;
  }
}

// Dataflow::route_output: the output split by the driver's function at the end of the last
// stage's tasks (src/server's Maintained keeps its contents sharded by the index key). Every
// update lands in the bucket of its destination, and the buckets together equal the unsharded
// output; the first step (node by node) is not routed and take_output() has it whole.
TEST(IncrementalTest, ShardedRoutedOutputEqualsUnsharded) {
  RelExpr plan = reduce(join({get(1, 3), get(2, 3)}, {{col(0), col(3)}}), {col(1)},
                        {agg(AggKind::kMax, col(2), int8()), agg(AggKind::kCount, col(5), int8())});
  for (size_t workers : {2, 3}) {
    Incremental sharded(plan, true, false, workers), serial(plan, true, false, 1);
    RenderedDataflow& r = sharded.rendered();
    auto dest = [workers](RowRef row) { return std::hash<std::string_view>{}(row.bytes()) % workers; };
    ASSERT_TRUE(r.dataflow->route_output(r.output, dest));
    std::mt19937 rng(29);
    std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> present;
    size_t routed_steps = 0;
    for (uint64_t t = 1; t <= 60; ++t) {
      for (uint64_t id : {1, 2}) {
        std::vector<std::pair<Row, int64_t>> in;
        const size_t rows = 1 + rng() % (t % 4 == 0 ? 600 : 30);
        for (size_t i = 0; i < rows; ++i) {
          std::vector<int64_t> row{static_cast<int64_t>(rng() % 25), static_cast<int64_t>(rng() % 9),
                                   static_cast<int64_t>(rng() % 100)};
          int64_t d = present[{id, row}] > 0 && rng() % 2 == 0 ? -1 : 1;
          present[{id, row}] += d;
          in.emplace_back(ints({row[0], row[1], row[2]}), d);
        }
        sharded.feed(id, in);
        serial.feed(id, in);
      }
      r.dataflow->step(t, sharded.context());
      std::vector<std::vector<Batch>> by_producer;
      Batch all;
      if (r.dataflow->take_routed_output(r.output, by_producer)) {
        ++routed_steps;
        ASSERT_EQ(by_producer.size(), workers);
        for (auto& per_producer : by_producer) {
          ASSERT_EQ(per_producer.size(), workers);
          for (size_t d = 0; d < workers; ++d) {
            for (const Update& u : per_producer[d]) ASSERT_EQ(dest(u.row), d) << "step " << t;
            all.append(std::move(per_producer[d]));
          }
        }
        EXPECT_TRUE(r.dataflow->take_output(r.output).empty());
      } else {
        all = r.dataflow->take_output(r.output);
      }
      ASSERT_EQ(show(all), serial.step(t)) << "step " << t;
    }
    EXPECT_GE(routed_steps, 59u);  // every step after the first
  }
}

// Placement (graph.cpp, plan_placement): an operator whose exchange key is exactly the
// columns by which its input is already placed reads that input in place. Each plan is
// stepped over 2 and 3 shards against the unsharded dataflow, with random inserts and
// retractions in both inputs; in_place says whether an input is read in place (the window
// over the join on its key, as Nexmark q9, the Reduce by the join key, a TopK by the Reduce's
// key through a projection that moves it) or not (keys in another order or of other columns:
// exchanged, and still right).
TEST(IncrementalTest, InputsAlreadyPlacedByTheKeyAreReadInPlace) {
  // a(id, x, lo, hi) JOIN b(auction, p, t, y) ON a.id = b.auction.
  auto joined = [] { return join({get(1, 4), get(2, 4)}, {{col(0), col(4)}}); };
  auto window_over = [](RelExpr in, std::vector<uint32_t> partition) {
    RelExpr w = unary(RelKind::kWindow, std::move(in));
    w.group_columns = std::move(partition);
    w.order_by = {SortKey{1, true, true}, SortKey{2, false, false}};
    w.window_funcs.push_back(WindowFunc{WindowFuncKind::kRowNumber});
    w.column_types.push_back(int8());
    return w;
  };
  struct Case {
    const char* name;
    RelExpr plan;
    bool in_place;
  };
  std::vector<Case> cases;
  // (p, id, t, x): the join key moved to column 1; the window partitioned by it.
  cases.push_back({"window on the join key", window_over(project(joined(), {5, 0, 6, 1}), {1}), true});
  cases.push_back({"window on another column", window_over(project(joined(), {5, 0, 6, 1}), {3}), false});
  cases.push_back({"reduce by the join key",
                   reduce(filter(joined(), {lt(col(2), col(6))}), {col(0)}, {agg(AggKind::kMax, col(5), int8())}), true});
  cases.push_back({"reduce by the key and another column",
                   reduce(joined(), {col(1), col(0)}, {agg(AggKind::kCount, col(5), int8())}), false});
  {
    // max(p) per (id, x), then the top 2 groups per id after a projection (x, id, max).
    RelExpr red = reduce(joined(), {col(0), col(1)}, {agg(AggKind::kMax, col(5), int8())});
    RelExpr by_id = reduce(project(std::move(red), {1, 0, 2}), {col(1)}, {agg(AggKind::kSum, col(2), int8())});
    cases.push_back({"reduce by a column of an earlier reduce's key", std::move(by_id), false});
  }
  {
    RelExpr red = reduce(joined(), {col(0)}, {agg(AggKind::kMax, col(5), int8()), agg(AggKind::kCount, col(5), int8())});
    RelExpr top = unary(RelKind::kTopK, project(std::move(red), {2, 0, 1}));
    top.group_columns = {1};
    top.order_by = {SortKey{2, true, true}};
    top.limit = 1;
    cases.push_back({"topk by the reduce's key", std::move(top), true});
  }
  for (const Case& c : cases) {
    for (size_t workers : {2, 3}) {
      Incremental sharded(c.plan, true, false, workers, false), serial(c.plan, true, false, 1, false);
      std::mt19937 rng(41);
      std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> present;
      for (uint64_t t = 1; t <= 30; ++t) {
        for (uint64_t id : {1, 2}) {
          std::vector<std::pair<Row, int64_t>> in;
          const size_t rows = t == 1 ? 400 : 1 + rng() % (t % 5 == 0 ? 300 : 30);
          for (size_t i = 0; i < rows; ++i) {
            std::vector<int64_t> row{static_cast<int64_t>(rng() % 120), static_cast<int64_t>(rng() % 7),
                                     static_cast<int64_t>(rng() % 50), static_cast<int64_t>(rng() % 50)};
            int64_t d = present[{id, row}] > 0 && rng() % 2 == 0 ? -1 : 1;
            present[{id, row}] += d;
            in.emplace_back(ints({row[0], row[1], row[2], row[3]}), d);
          }
          sharded.feed(id, in);
          serial.feed(id, in);
        }
        ASSERT_EQ(sharded.step(t), serial.step(t)) << c.name << ", " << workers << " shards, step " << t;
      }
      const size_t in_place = sharded.rendered().dataflow->inputs_read_in_place();
      if (c.in_place) {
        EXPECT_GE(in_place, 1u) << c.name;
      } else {
        EXPECT_EQ(in_place, 0u) << c.name;
      }
    }
  }
}

// A Reduce over a join whose group key holds the join key renders as one operator
// (make_join_reduce), through the join's residual filter and a projection: grouped by the
// left input's key column and by the right's. Every step, hydrated from a snapshot large
// enough for the join to borrow its rows and then under random inserts and retractions in
// both inputs, equals the join, projection and Reduce rendered apart, unsharded and over 3
// shards (the shard that finds a group's pairs must hold the whole group).
TEST(IncrementalTest, JoinFoldedIntoReduceEqualsJoinThenReduce) {
  // a(id, x, lo, hi) JOIN b(auction, p, t, y) ON a.id = b.auction WHERE lo < t AND t < hi,
  // projected onto (x, p, id, t, auction).
  RelExpr j = join({get(1, 4), get(2, 4)}, {{col(0), col(4)}});
  RelExpr in = project(filter(std::move(j), {lt(col(2), col(6)), lt(col(6), col(3))}), {1, 5, 0, 6, 4});
  const std::vector<AggregateExpr> aggs = {agg(AggKind::kMax, col(1), int8()), agg(AggKind::kMin, col(3), int8()),
                                           agg(AggKind::kCount, col(3), int8())};
  for (uint32_t key_col : {2u, 4u}) {  // a.id, b.auction
    SCOPED_TRACE(key_col);
    RelExpr plan = reduce(in, {col(key_col), col(0)}, aggs);
    Incremental fused(plan, true, false, 1), fused3(plan, true, false, 3), apart(plan, true, false, 1, false);
    EXPECT_LT(fused.num_nodes(), apart.num_nodes());  // the Reduce and the projection are in the join
    std::mt19937 rng(23 + key_col);
    std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> present;
    for (uint64_t t = 1; t <= 60; ++t) {
      for (uint64_t id : {1, 2}) {
        const int n = t == 1 ? (id == 1 ? 400 : 6000) : 1 + static_cast<int>(rng() % (t % 4 == 0 ? 300 : 30));
        std::vector<std::pair<Row, int64_t>> rows;
        for (int i = 0; i < n; ++i) {
          const int64_t k = static_cast<int64_t>(rng() % 60), lo = static_cast<int64_t>(rng() % 50);
          std::vector<int64_t> r = id == 1 ? std::vector<int64_t>{k, static_cast<int64_t>(rng() % 3), lo, lo + static_cast<int64_t>(rng() % 30)}
                                           : std::vector<int64_t>{k, static_cast<int64_t>(rng() % 1000), static_cast<int64_t>(rng() % 80),
                                                                  static_cast<int64_t>(rng() % 2)};
          int64_t d = t > 1 && present[{id, r}] > 0 && rng() % 2 == 0 ? -1 : 1;
          present[{id, r}] += d;
          std::vector<Datum> ds;
          for (int64_t v : r) ds.push_back(Datum::from_int(v));
          rows.emplace_back(Row::pack(ds), d);
        }
        fused.feed(id, rows);
        fused3.feed(id, rows);
        apart.feed(id, rows);
      }
      Strings want = apart.step(t);
      ASSERT_EQ(fused.step(t), want) << "step " << t;
      ASSERT_EQ(fused3.step(t), want) << "step " << t;
    }
  }
}

// A delta join whose input is several exchanges deep (a min over a distinct, as a scalar
// subquery's value), next to inputs read straight from sources: in a staged step a lookup must
// not run before the ArrangeOp of the arrangement it reads (Dataflow::order_after), or it
// reads the state before the step's change as the state after it (before: the paths from the
// shallow inputs lost their rows and a later retraction went negative). Cross and keyed
// joins, sharded 2 and 3 ways, equal the unsharded plan under random changes to every input.
TEST(IncrementalTest, ShardedDeltaJoinOverADeepInputEqualsUnsharded) {
  RelExpr deep = reduce(unary(RelKind::kDistinct, project(get(3, 2), {0})), {}, {agg(AggKind::kMin, col(0), int8())});
  for (bool keyed : {false, true}) {
    RelExpr plan = keyed ? join({get(1, 2), get(2, 2), deep}, {{col(0), col(2)}}) : join({get(1, 2), get(2, 2), deep}, {});
    for (size_t workers : {2, 3}) {
      Incremental sharded(plan, true, false, workers), serial(plan, true, false, 1);
      std::mt19937 rng(23);
      std::map<std::pair<uint64_t, std::vector<int64_t>>, int64_t> present;
      for (uint64_t t = 1; t <= 80; ++t) {
        for (uint64_t id : {1, 2, 3}) {
          if (rng() % 3 == 0) continue;  // steps where only some inputs change
          std::vector<std::pair<Row, int64_t>> in;
          const size_t rows = 1 + rng() % 4;
          for (size_t i = 0; i < rows; ++i) {
            std::vector<int64_t> r{static_cast<int64_t>(rng() % 5), static_cast<int64_t>(rng() % 3)};
            int64_t d = present[{id, r}] > 0 && rng() % 2 == 0 ? -1 : 1;
            present[{id, r}] += d;
            in.emplace_back(ints({r[0], r[1]}), d);
          }
          sharded.feed(id, in);
          serial.feed(id, in);
        }
        ASSERT_EQ(sharded.step(t), serial.step(t)) << "step " << t << " workers " << workers << (keyed ? " keyed" : " cross");
      }
    }
  }
}

TEST(IncrementalTest, LinearOperatorsAndConstant) {
  RelExpr a = project(map(filter(get(1, 1), {lt(col(0), lit(10))}), {add(col(0), lit(100))}), {1});
  RelExpr u;
  u.kind = RelKind::kUnion;
  u.column_types = a.column_types;
  u.inputs = {a, unary(RelKind::kNegate, constant(1, {{ints({101}), 1}}))};
  Incremental df(u);
  df.feed(1, {{ints({1}), 1}, {ints({20}), 1}});
  EXPECT_EQ(df.step(1), Strings{});  // 101 - 101 cancels
  df.feed(1, {{ints({2}), 1}});
  EXPECT_EQ(df.step(2), Strings{"102 x1"});  // the constant is not re-emitted
  df.feed(1, {{ints({1}), -1}});
  EXPECT_EQ(df.step(3), Strings{"101 x-1"});
}

}  // namespace
}  // namespace freshet::dataflow
