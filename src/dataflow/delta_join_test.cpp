// Delta joins (delta_join.hpp): 3- and 4-way joins maintained under random inserts, deletes
// and updates of every input, in the same and in different steps, checked step by step against
// the left-deep chain of binary joins and, at the end of every step, against the join
// recomputed from the inputs' contents; and the state they keep (no intermediate result).
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "dataflow/oneshot.hpp"
#include "dataflow/test_util.hpp"

namespace freshet::dataflow {
namespace {

using namespace testing;
using Strings = std::vector<std::string>;
using Rows = std::vector<std::pair<Row, int64_t>>;

// The join recomputed from scratch over the inputs' contents (a one-shot query).
Strings recompute(const RelExpr& plan, const std::map<uint64_t, std::map<std::string, std::pair<Row, int64_t>>>& contents) {
  SnapshotFn snap = [&](uint64_t id, const std::function<void(const Row&, int64_t)>& f) {
    auto it = contents.find(id);
    if (it == contents.end()) return;
    for (const auto& [k, rd] : it->second)
      if (rd.second != 0) f(rd.first, rd.second);
  };
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  return show(run_oneshot(plan, snap, ctx));
}

// Runs `steps` random steps over inputs 1..inputs (arity 2 or 3, values in [0, domain)), a
// few updates per input per step (some steps touch one input, some all), checking the delta
// join's output against the chain's and the accumulated output against a recomputation.
void check_random(const RelExpr& plan, const std::vector<size_t>& arities, int steps, uint32_t seed, int64_t domain = 4) {
  Incremental delta(plan, true);
  Incremental chain(plan, false);
  std::mt19937 rng(seed);
  std::map<uint64_t, std::map<std::string, std::pair<Row, int64_t>>> contents;
  std::map<std::string, int64_t> acc;  // the delta join's output so far
  for (int t = 1; t <= steps; ++t) {
    const bool all = rng() % 3 == 0;
    const uint64_t only = 1 + rng() % arities.size();
    for (uint64_t id = 1; id <= arities.size(); ++id) {
      if (!all && id != only) continue;
      Rows rows;
      const int n = static_cast<int>(rng() % 4);
      for (int k = 0; k < n; ++k) {
        auto& c = contents[id];
        if (!c.empty() && rng() % 3 == 0) {  // delete (or, with an insert, update) a present row
          auto it = c.begin();
          std::advance(it, static_cast<long>(rng() % c.size()));
          if (it->second.second <= 0) continue;
          rows.emplace_back(it->second.first, -1);
          it->second.second -= 1;
          if (rng() % 2 == 0) continue;
        }
        std::vector<Datum> ds;
        for (size_t a = 0; a < arities[id - 1]; ++a) {
          int64_t v = static_cast<int64_t>(rng() % static_cast<uint32_t>(domain + 1));
          ds.push_back(v == domain ? Datum::null() : Datum::from_int(v));  // some NULL keys
        }
        Row r = Row::pack(ds);
        auto& e = c[std::string(r.bytes())];
        e.first = r;
        e.second += 1;
        rows.emplace_back(r, 1);
      }
      delta.feed(id, rows);
      chain.feed(id, rows);
    }
    Strings d = delta.step(static_cast<uint64_t>(t));
    Strings ch = chain.step(static_cast<uint64_t>(t));
    ASSERT_EQ(d, ch) << "step " << t << " seed " << seed;
    for (const std::string& s : d) {
      size_t x = s.rfind(" x");
      acc[s.substr(0, x)] += std::stoll(s.substr(x + 2));
    }
    Strings now;
    for (const auto& [row, m] : acc)
      if (m != 0) now.push_back(row + " x" + std::to_string(m));
    std::sort(now.begin(), now.end());
    ASSERT_EQ(now, recompute(plan, contents)) << "step " << t << " seed " << seed;
  }
}

// t1(a, b) ⋈ t2(b, c) ⋈ t3(c, d): a chain, each input arranged by a different key.
RelExpr chain3() { return join({get(1, 2), get(2, 2), get(3, 2)}, {{col(1), col(2)}, {col(3), col(4)}}); }

TEST(DeltaJoinTest, ChainOfThreeMatchesBinaryJoins) {
  for (uint32_t seed = 1; seed <= 12; ++seed) check_random(chain3(), {2, 2, 2}, 25, seed);
}

TEST(DeltaJoinTest, StarOfThreeOnOneKey) {
  // t1.a = t2.a = t3.a: one class, every input arranged once by it.
  RelExpr j = join({get(1, 2), get(2, 2), get(3, 2)}, {{col(0), col(2), col(4)}});
  for (uint32_t seed = 1; seed <= 8; ++seed) check_random(j, {2, 2, 2}, 25, seed);
}

TEST(DeltaJoinTest, FourWayWithResidualsAndConstants) {
  // t1(a,b) t2(b,c,d) t3(c,e) t4(a,f): a cycle through t1..t4 (t4 joins t1 on a) plus
  // t2.d = 1 (a constant in a class), a class member over two inputs (t1.b = t2.b =
  // t3.e + t4.f),
  // and a filter above the join (t1.a < t3.e).
  RelExpr j = join({get(1, 2), get(2, 3), get(3, 2), get(4, 2)},
                   {{col(1), col(2), add(col(6), col(8))}, {col(3), col(5)}, {col(0), col(7)}, {col(4), lit(1)}});
  RelExpr f = filter(j, {lt(col(0), col(6))});
  for (uint32_t seed = 1; seed <= 8; ++seed) check_random(f, {2, 3, 2, 2}, 30, seed, 3);
}

TEST(DeltaJoinTest, SelfJoinSharesItsArrangement) {
  // t1 ⋈ t1 ⋈ t2 on t1.a = t1'.b, t1'.a = t2.a: one source read twice.
  RelExpr j = join({get(1, 2), get(1, 2), get(2, 2)}, {{col(0), col(3)}, {col(2), col(4)}});
  for (uint32_t seed = 1; seed <= 8; ++seed) check_random(j, {2, 2}, 25, seed);
}

TEST(DeltaJoinTest, CrossProductWhenUnconnected) {
  // t3 is connected to nothing: its lookups use the empty key.
  RelExpr j = join({get(1, 2), get(2, 2), get(3, 1)}, {{col(0), col(2)}});
  for (uint32_t seed = 1; seed <= 6; ++seed) check_random(j, {2, 2, 1}, 20, seed, 3);
}

TEST(DeltaJoinTest, JoinsOfOneDataflowShareArrangements) {
  // Two 3-way joins over the same inputs and keys in one UNION ALL (the second filtered):
  // the second join's lookups read the first join's arrangements.
  RelExpr u;
  u.kind = RelKind::kUnion;
  u.column_types = chain3().column_types;
  u.inputs = {chain3(), filter(chain3(), {lt(col(0), col(5))})};
  for (uint32_t seed = 1; seed <= 6; ++seed) check_random(u, {2, 2, 2}, 20, seed);
  Incremental one(chain3(), true), both(u, true);
  for (uint64_t id = 1; id <= 3; ++id) {
    Rows rows;
    for (int64_t i = 0; i < 50; ++i) rows.emplace_back(ints({i % 5, i % 7}), 1);
    one.feed(id, rows);
    both.feed(id, rows);
  }
  one.step(1);
  both.step(1);
  one.step(2);
  both.step(2);
  EXPECT_EQ(one.state_size(), 4u * 35u);  // t1 by b, t2 by b and by c, t3 by c; 35 distinct rows
  EXPECT_EQ(both.state_size(), one.state_size());
}

TEST(DeltaJoinTest, KeepsNoIntermediateState) {
  // A star on one key: the delta join arranges each input once (3 x 100 entries); the chain
  // also arranges t1 ⋈ t2 (100 x 100 / 10 keys = 1,000 entries).
  RelExpr j = join({get(1, 2), get(2, 2), get(3, 2)}, {{col(0), col(2), col(4)}});
  Incremental delta(j, true);
  Incremental chain(j, false);
  for (uint64_t id = 1; id <= 3; ++id) {
    Rows rows;
    for (int64_t i = 0; i < 100; ++i) rows.emplace_back(ints({i % 10, i}), 1);
    delta.feed(id, rows);
    chain.feed(id, rows);
  }
  EXPECT_EQ(delta.step(1).size(), 10000u);
  EXPECT_EQ(chain.step(1).size(), 10000u);
  delta.step(2);  // the step's change is merged into the arrangements at the next step
  chain.step(2);
  EXPECT_EQ(delta.state_size(), 300u);
  EXPECT_EQ(chain.state_size(), 100u + 100u + 1000u + 100u);
  EXPECT_LT(delta.state_bytes(true), chain.state_bytes(true) / 2);
  // A change to t2 alone: 10 x 10 new rows, from lookups only.
  delta.feed(2, {{ints({3, 1000}), 1}});
  EXPECT_EQ(delta.step(3).size(), 100u);
}

}  // namespace
}  // namespace freshet::dataflow
