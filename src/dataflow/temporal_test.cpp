// Temporal filters: rows enter and leave at their validity interval's ends, exactly.
#include <gtest/gtest.h>

#include "common/format.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;

// Rows (id, from_ms, until_ms): valid while from <= mz_now() < until.
RelExpr window() {
  RelExpr e = unary(RelKind::kTemporalFilter, get(1, 3));
  e.temporal_bounds = {{TemporalOp::kGe, col(1)}, {TemporalOp::kLt, col(2)}};
  return e;
}

TEST(TemporalFilterTest, ScheduledInsertionsAndRetractions) {
  Incremental df(window());
  df.feed(1, {{ints({1, 0, 10}), 1}, {ints({2, 20, 30}), 1}, {ints({3, 0, 5}), 1}, {ints({4, 7, std::nullopt}), 1}});
  EXPECT_EQ(df.step(5), (Strings{"1,0,10 x1"}));  // 3 expired at 5 already; 2 and 4 later; NULL never
  EXPECT_EQ(df.step(9), Strings{});
  EXPECT_EQ(df.step(10), (Strings{"1,0,10 x-1"}));
  EXPECT_EQ(df.step(19), Strings{});
  EXPECT_EQ(df.step(20), (Strings{"2,20,30 x1"}));
  df.feed(1, {{ints({5, 0, 100}), 2}});
  EXPECT_EQ(df.step(25), (Strings{"5,0,100 x2"}));
  // A retraction mirrors the insertion: what was queued cancels.
  df.feed(1, {{ints({2, 20, 30}), -1}, {ints({5, 0, 100}), -1}});
  EXPECT_EQ(df.step(26), (Strings{"2,20,30 x-1", "5,0,100 x-1"}));
  EXPECT_EQ(df.step(30), Strings{});
  // Skipped ticks: everything due by then is released at once.
  EXPECT_EQ(df.step(1000), (Strings{"5,0,100 x-1"}));
}

TEST(TemporalFilterTest, EqualityAndStrictBounds) {
  RelExpr e = unary(RelKind::kTemporalFilter, get(1, 2));
  e.temporal_bounds = {{TemporalOp::kEq, col(0)}, {TemporalOp::kGt, col(1)}};
  Incremental df(e);
  df.feed(1, {{ints({3, 1}), 1}, {ints({3, 3}), 1}});
  EXPECT_EQ(df.step(1), Strings{});
  EXPECT_EQ(df.step(3), (Strings{"3,1 x1"}));
  EXPECT_EQ(df.step(4), (Strings{"3,1 x-1"}));
}

TEST(TemporalFilterTest, TimestampBoundsInMilliseconds) {
  // mz_now() <= ts: a timestamp with sub-millisecond precision ends at its millisecond + 1.
  RelExpr e = unary(RelKind::kTemporalFilter, get(1, 1, TypeId::kTimestamp));
  e.temporal_bounds = {{TemporalOp::kLe, col(0, TypeId::kTimestamp)}};
  Incremental df(e);
  int64_t ms = 1'700'000'000'000;  // 2023-11-14 22:13:20 UTC
  int64_t us = ms * 1000 - kUnixToPgEpochMicros + 500;
  Datum d = Datum::from_timestamp(us);
  df.feed(1, {{Row::pack(std::span<const Datum>(&d, 1)), 1}});
  EXPECT_EQ(df.step(ms - 1).size(), 1u);
  EXPECT_EQ(df.step(ms), Strings{});
  EXPECT_EQ(df.step(ms + 1).size(), 1u);  // the retraction
}

TEST(TemporalFilterTest, OneShotKeepsRowsValidAtTheQueryTime) {
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  ctx.logical_time_ms = 22;
  SnapshotFn snap = [](uint64_t, const std::function<void(const Row&, int64_t)>& emit) {
    emit(ints({1, 0, 10}), 1);
    emit(ints({2, 20, 30}), 1);
    emit(ints({3, 22, 23}), 1);
  };
  EXPECT_EQ(show(run_oneshot(window(), snap, ctx)), (Strings{"2,20,30 x1", "3,22,23 x1"}));
}

}  // namespace
}  // namespace freshet::dataflow
