// Operators report the bytes of their state (graph.hpp, Operator::state_bytes), which the
// per-dataflow memory budget counts (src/server/README.md, "Dataflow memory budget"): the
// figure grows with the rows kept, the estimate between walks never lags behind the exact
// walk, and retractions give the bytes back.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>

#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;

// Feeds n rows (i % groups, i) to input 1 (and to input 2 when two_inputs) one batch of
// `batch` rows per step, checking after each step that the estimate covers the exact figure;
// returns the exact figure at the end. Then retracts them all and checks the bytes go back.
void grow_and_shrink(const RelExpr& plan, const char* what, bool two_inputs = false) {
  SCOPED_TRACE(what);
  Incremental df(plan);
  constexpr int64_t kRows = 20000, kBatch = 1000, kGroups = 500;
  uint64_t t = 1;
  size_t before = df.state_bytes(true);
  for (int64_t lo = 0; lo < kRows; lo += kBatch) {
    std::vector<std::pair<Row, int64_t>> rows;
    for (int64_t i = lo; i < lo + kBatch; ++i) rows.push_back({ints({i % kGroups, i * 1000003}), 1});
    df.feed(1, rows);
    if (two_inputs) df.feed(2, rows);
    df.step(t++);
    size_t estimate = df.state_bytes(), exact = df.state_bytes(true);
    EXPECT_GE(estimate, exact) << "after " << lo + kBatch << " rows";
  }
  size_t peak = df.state_bytes(true);
  // Every row is kept (min/max multisets, top-k groups, distinct entries, join arrangements):
  // at least its encoded bytes (about 18), at most a few hundred bytes with its node.
  const size_t kept = two_inputs ? 2 * kRows : kRows;
  EXPECT_GE(peak, before + kept * 16);
  EXPECT_LE(peak, kept * 400);
  for (int64_t lo = 0; lo < kRows; lo += kBatch) {
    std::vector<std::pair<Row, int64_t>> rows;
    for (int64_t i = lo; i < lo + kBatch; ++i) rows.push_back({ints({i % kGroups, i * 1000003}), -1});
    df.feed(1, rows);
    if (two_inputs) df.feed(2, rows);
    df.step(t++);
  }
  // What is left: hash tables keep their bucket arrays (std::unordered_map does not shrink).
  EXPECT_LT(df.state_bytes(true), peak / 4);
}

TEST(StateBytesTest, MinMaxReduce) {
  grow_and_shrink(reduce(get(1, 2), {col(0)}, {agg(AggKind::kMin, col(1), int8()), agg(AggKind::kMax, col(1), int8())}),
                  "min/max");
}

TEST(StateBytesTest, TopK) {
  RelExpr t = unary(RelKind::kTopK, get(1, 2));
  t.group_columns = {0};
  t.order_by = {SortKey{1, false, false}};
  t.limit = 3;
  grow_and_shrink(t, "top-k");
}

TEST(StateBytesTest, Distinct) { grow_and_shrink(unary(RelKind::kDistinct, get(1, 2)), "distinct"); }

TEST(StateBytesTest, Join) {
  // Joined on the row's second column (unique): output one row per input pair, state both
  // sides' arrangements.
  grow_and_shrink(join({get(1, 2), get(2, 2)}, {{col(1), col(3)}}), "join", true);
}

TEST(StateBytesTest, StatelessOperatorsHoldNothing) {
  Incremental df(filter(get(1, 2), {lt(col(0), col(1))}));
  df.feed(1, {{ints({1, 2}), 1}, {ints({3, 2}), 1}});
  df.step(1);
  EXPECT_EQ(df.state_bytes(true), 0u);
}

}  // namespace
}  // namespace freshet::dataflow

namespace freshet::dataflow {
namespace {
using namespace testing;

// A measurement, not a check (run with --gtest_also_run_disabled_tests): the cost of asking
// for the state bytes after every step of a min/max reduce over 100,000 groups under churn
// (each step retracts 1,000 rows and inserts 1,000), against the steps alone.
TEST(StateBytesTest, DISABLED_OverheadUnderChurn) {
  RelExpr plan = reduce(get(1, 2), {col(0)}, {agg(AggKind::kMin, col(1), int8()), agg(AggKind::kMax, col(1), int8())});
  constexpr int64_t kGroups = 100000, kRows = 400000, kBatch = 1000, kSteps = 400;
  for (bool ask : {false, true}) {
    Incremental df(plan);
    std::vector<std::pair<Row, int64_t>> rows;
    for (int64_t i = 0; i < kRows; ++i) rows.push_back({ints({i % kGroups, i}), 1});
    df.feed(1, rows);
    df.step(1);
    auto t0 = std::chrono::steady_clock::now();
    size_t walks_bytes = 0;
    for (int64_t s = 0; s < kSteps; ++s) {
      std::vector<std::pair<Row, int64_t>> churn;
      for (int64_t i = s * kBatch; i < (s + 1) * kBatch; ++i) {
        churn.push_back({ints({i % kGroups, i}), -1});
        churn.push_back({ints({i % kGroups, i + kRows}), 1});
      }
      df.feed(1, churn);
      df.step(static_cast<uint64_t>(s + 2));
      if (ask) walks_bytes += df.state_bytes();
    }
    double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    auto w0 = std::chrono::steady_clock::now();
    size_t exact = df.state_bytes(true);
    double walk_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - w0).count();
    if (ask) std::printf("one walk of %zu MB of state: %.1f ms\n", exact >> 20, walk_ms);
    std::printf("%s: %d steps of %lld updates in %.1f ms (%.2f us/update)\n", ask ? "with state_bytes" : "steps alone",
                static_cast<int>(kSteps), static_cast<long long>(2 * kBatch), ms, 1000 * ms / (kSteps * 2 * kBatch));
    EXPECT_GE(walks_bytes + 1, 1u);
  }
}

}  // namespace
}  // namespace freshet::dataflow
