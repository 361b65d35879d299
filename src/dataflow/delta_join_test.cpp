// Delta joins (delta_join.hpp): 3- and 4-way joins maintained under random inserts, deletes
// and updates of every input, in the same and in different steps, checked step by step against
// the left-deep chain of binary joins and, at the end of every step, against the join
// recomputed from the inputs' contents; and the state they keep (no intermediate result).
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <random>

#include "dataflow/delta_join.hpp"
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

// Each input's hydration is large enough (over BorrowedRows::kMin rows, every multiplicity 1)
// for its arrangement to borrow the rows from the input batch instead of copying them
// (borrowed_rows.hpp, SharedArrangement::borrowed); then random inserts and retractions of
// hydrated and new rows in every input copy the borrowed rows away key by key, and then all.
// Every step's output equals the chain of binary joins', and the sum of the outputs equals
// the join of the inputs as they are. Unsharded and over 3 shards.
TEST(DeltaJoinTest, ArrangementsHydratedByBorrowingStayCorrect) {
  for (size_t workers : {1, 3}) {
    Incremental delta(chain3(), true, false, workers), chain(chain3(), false, false, 1);
    std::mt19937 rng(17);
    std::map<uint64_t, std::vector<std::pair<int64_t, int64_t>>> present;
    std::map<std::string, int64_t> acc;
    int64_t next = 0;
    for (uint64_t t = 1; t <= 40; ++t) {
      for (uint64_t id = 1; id <= 3; ++id) {
        Rows rows;
        auto& p = present[id];
        const int n = t == 1 ? 5000 : static_cast<int>(rng() % 300);
        for (int i = 0; i < n; ++i) {
          if (t > 1 && !p.empty() && rng() % 2 == 0) {
            const size_t at = rng() % p.size();
            rows.emplace_back(ints({p[at].first, p[at].second}), -1);
            p[at] = p.back();
            p.pop_back();
            continue;
          }
          // t1 (unique, key b), t2 (b, c), t3 (key c, unique): every row distinct.
          const int64_t r1 = static_cast<int64_t>(rng() % 1500), r2 = static_cast<int64_t>(rng() % 1500);
          const std::pair<int64_t, int64_t> v = id == 1 ? std::pair{next++, r1} : id == 2 ? std::pair{r1, r2} : std::pair{r1, next++};
          if (id == 2 && std::find(p.begin(), p.end(), v) != p.end()) continue;
          p.push_back(v);
          rows.emplace_back(ints({v.first, v.second}), 1);
        }
        delta.feed(id, rows);
        chain.feed(id, rows);
      }
      Strings d = delta.step(t);
      ASSERT_EQ(d, chain.step(t)) << workers << " shards, step " << t;
      for (const std::string& s : d) {
        size_t x = s.rfind(" x");
        acc[s.substr(0, x)] += std::stoll(s.substr(x + 2));
      }
    }
    // The join of the inputs as they are: t1(a, b) ⋈ t2(b, c) ⋈ t3(c, d).
    std::map<std::string, int64_t> want;
    std::multimap<int64_t, std::pair<int64_t, int64_t>> t2_by_b, t3_by_c;
    for (const auto& v : present[2]) t2_by_b.emplace(v.first, v);
    for (const auto& v : present[3]) t3_by_c.emplace(v.first, v);
    for (const auto& a : present[1]) {
      auto [lo, hi] = t2_by_b.equal_range(a.second);
      for (auto it = lo; it != hi; ++it) {
        auto [lo3, hi3] = t3_by_c.equal_range(it->second.second);
        for (auto jt = lo3; jt != hi3; ++jt)
          want[show(ints({a.first, a.second, it->second.first, it->second.second, jt->second.first, jt->second.second}))] += 1;
      }
    }
    std::erase_if(acc, [](const auto& e) { return e.second == 0; });
    EXPECT_EQ(acc, want) << workers << " shards";
    EXPECT_GT(want.size(), 1000u);
  }
}

// Shared arrangements (ArrangementReader): a model of an arrangement kept outside the dataflow,
// by key columns, split into shards as Dataflow::partition splits an arrangement by that key.
// Its owner "steps" it (apply) before the reading dataflow steps, as the server does.
class ModelArrangement final : public ArrangementReader {
 public:
  ModelArrangement(std::vector<uint32_t> columns, size_t shards) : columns_(std::move(columns)), shards_(shards) {}
  size_t num_shards() const override { return shards_.size(); }
  void for_each(size_t shard, std::string_view key, absl::FunctionRef<void(RowRef, int64_t)> f) const override {
    ++reads;
    auto it = shards_.at(shard).find(std::string(key));
    if (it == shards_[shard].end()) return;
    for (const auto& [bytes, rd] : it->second)
      if (rd.second != 0) f(rd.first.ref(), rd.second);
  }
  void apply(const Rows& change) {
    for (const auto& [r, d] : change) {
      std::vector<Datum> ds = r.unpack(), k;
      bool null = false;
      for (uint32_t c : columns_) {
        null = null || ds[c].is_null();
        k.push_back(ds[c]);
      }
      if (null) continue;  // never matched by `=`
      std::string kb;
      append_canonical_key(k, kb);
      auto& e = shards_[std::hash<std::string_view>{}(kb) % shards_.size()][kb][std::string(r.bytes())];
      e.first = r;
      e.second += d;
    }
  }
  mutable std::atomic<size_t> reads{0};

 private:
  std::vector<uint32_t> columns_;
  std::vector<std::map<std::string, std::map<std::string, std::pair<Row, int64_t>>>> shards_;
};

// A dataflow rendered with collection `shared_id` read through a ModelArrangement by
// `columns` (and the same plan without it, the reference): random steps changing either side
// or both, checked step by step; the model is stepped before the dataflow. The first step is
// the hydration and the next ones up to `catch_up` its catch-up, while the owner is elsewhere
// (the model holds more: its owner moved on; it must not be read, the reader keeps a private
// copy); from then on the owner is at the reader's step (owner_at_step), or, for even seeds,
// the reader is told so between two steps (read_owner, as after a hydration). For seeds
// divisible by 3 the arrangements take in the hydration's change right after it (settle).
void check_shared(const RelExpr& plan, const std::vector<size_t>& arities, uint64_t shared_id,
                  std::vector<uint32_t> columns, size_t workers, int steps, uint32_t seed, bool expect_shared = true) {
  auto model = std::make_shared<ModelArrangement>(columns, workers);
  RenderOptions o;
  o.keep_state = true;
  o.workers = workers;
  o.shared_arrangement = [&](uint64_t id, const std::vector<uint32_t>& cols) -> std::shared_ptr<const ArrangementReader> {
    return id == shared_id && cols == columns ? model : nullptr;
  };
  RenderedDataflow shared = render(plan, o);
  ASSERT_EQ(shared.shared_reads.empty(), !expect_shared);
  RenderOptions ro;
  ro.keep_state = true;
  ro.workers = workers;
  RenderedDataflow ref = render(plan, ro);
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  std::mt19937 rng(seed);
  std::map<uint64_t, std::map<std::string, std::pair<Row, int64_t>>> contents;
  auto feed = [](RenderedDataflow& r, uint64_t id, const Rows& rows) {
    for (const auto& [cid, node] : r.sources) {
      if (cid != id) continue;
      Batch b;
      for (const auto& [row, d] : rows) b.push_back(Update{row, 0, d});
      r.dataflow->push(node, std::move(b));
    }
  };
  Rows later;  // changes the owner made after the hydration's snapshot (step 1)
  const int catch_up = 1 + static_cast<int>(seed % 4);
  const bool eager = seed % 2 == 0;
  auto take_back = [&] {
    for (auto& [r, d] : later) d = -d;
    model->apply(later);
    later.clear();
  };
  for (int t = 1; t <= steps; ++t) {
    const bool all = t == 1 || rng() % 3 == 0;
    const uint64_t only = 1 + rng() % arities.size();
    for (uint64_t id = 1; id <= arities.size(); ++id) {
      if (!all && id != only) continue;
      Rows rows;
      const int n = t == 1 ? 30 : static_cast<int>(rng() % 5);
      for (int k = 0; k < n; ++k) {
        auto& c = contents[id];
        if (!c.empty() && rng() % 3 == 0) {
          auto it = c.begin();
          std::advance(it, static_cast<long>(rng() % c.size()));
          if (it->second.second <= 0) continue;
          const int64_t m = std::min<int64_t>(it->second.second, 1 + rng() % 2);
          rows.emplace_back(it->second.first, -m);
          it->second.second -= m;
          if (rng() % 2 == 0) continue;
        }
        std::vector<Datum> ds;
        for (size_t a = 0; a < arities[id - 1]; ++a) {
          int64_t v = static_cast<int64_t>(rng() % 6);
          ds.push_back(v == 5 ? Datum::null() : Datum::from_int(v));
        }
        Row r = Row::pack(ds);
        const int64_t m = 1 + rng() % 3;
        auto& e = c[std::string(r.bytes())];
        e.first = r;
        e.second += m;
        rows.emplace_back(r, m);
      }
      if (id == shared_id) model->apply(rows);
      feed(shared, id, rows);
      feed(ref, id, rows);
    }
    if (t == 1) {
      // The owner is ahead of the snapshot during the hydration (it keeps stepping): a row
      // the dataflow must not see yet, taken back before the next step.
      later = {{Row::pack(std::vector<Datum>(arities[shared_id - 1], Datum::from_int(1))), 7}};
      model->apply(later);
    } else if (t > catch_up && !later.empty()) {
      take_back();
    }
    for (const auto& a : shared.external_arrangements) a->owner_at_step = t > catch_up;
    shared.dataflow->step(static_cast<uint64_t>(t), ctx);
    ref.dataflow->step(static_cast<uint64_t>(t), ctx);
    ASSERT_EQ(show(shared.dataflow->take_output(shared.output)), show(ref.dataflow->take_output(ref.output)))
        << "step " << t << " seed " << seed << " workers " << workers;
    for (const auto& a : shared.external_arrangements) EXPECT_EQ(a->read_external, t > catch_up) << "step " << t;
    if (t == 1 && seed % 3 == 0)
      for (const auto& a : shared.delta_arrangements) a->settle();  // as the server after a hydration
    if (eager && t == catch_up) {
      take_back();  // the owner now where the reader is
      for (const auto& a : shared.external_arrangements) a->read_owner();
    }
  }
  if (expect_shared) {
    EXPECT_GT(model->reads.load(), 0u);
  }
}

TEST(SharedArrangementTest, TwoWayJoinOnTheIndexKey) {
  // t1(a, b) ⋈ t2(b, c) on t1.b = t2.b, t2 read from its arrangement by (b) = column 0.
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(1), col(2)}});
  for (size_t w : {1, 2, 3})
    for (uint32_t seed = 1; seed <= 10; ++seed) check_shared(j, {2, 2}, 2, {0}, w, 30, seed);
  // The shared input first in the join.
  RelExpr k = join({get(2, 2), get(1, 2)}, {{col(0), col(3)}});
  for (size_t w : {1, 2})
    for (uint32_t seed = 1; seed <= 10; ++seed) check_shared(k, {2, 2}, 2, {0}, w, 30, seed);
}

TEST(SharedArrangementTest, TwoColumnKeyAndResidual) {
  // t1.a = t2.a AND t1.b = t2.b, and a filter over both: the key (a, b) = columns (0, 1).
  RelExpr j = filter(join({get(1, 3), get(2, 3)}, {{col(0), col(3)}, {col(1), col(4)}}), {lt(col(2), col(5))});
  for (size_t w : {1, 2})
    for (uint32_t seed = 1; seed <= 10; ++seed) check_shared(j, {3, 3}, 2, {0, 1}, w, 30, seed);
}

TEST(SharedArrangementTest, DeltaJoinOverTwoSharedInputs) {
  // A chain t1 ⋈ t2 ⋈ t3 where t2 is looked up by b (column 0) from t1's path and by c
  // (column 1) from t3's: only the arrangement by (b) is shared, the other kept.
  RelExpr j = chain3();
  for (size_t w : {1, 2})
    for (uint32_t seed = 1; seed <= 8; ++seed) check_shared(j, {2, 2, 2}, 2, {0}, w, 30, seed);
  // A star on one key: t3's arrangement by (a) shared.
  RelExpr s = join({get(1, 2), get(2, 2), get(3, 2)}, {{col(0), col(2), col(4)}});
  for (size_t w : {1, 2})
    for (uint32_t seed = 1; seed <= 8; ++seed) check_shared(s, {2, 2, 2}, 3, {0}, w, 30, seed);
}

TEST(SharedArrangementTest, ProjectedInputReadsTheRowsProjected) {
  // t1(a, b) ⋈ (t2(k, x, y) projected to (y, k)) on t1.b = k: the index by t2's column 0,
  // each row found projected as the join's input is.
  RelExpr j = join({get(1, 2), project(get(2, 3), {2, 0})}, {{col(1), col(3)}});
  for (size_t w : {1, 2})
    for (uint32_t seed = 1; seed <= 10; ++seed) check_shared(j, {2, 3}, 2, {0}, w, 30, seed);
  // In a three-way join too.
  RelExpr s = join({get(1, 2), project(get(2, 3), {0, 1}), get(3, 2)}, {{col(0), col(2), col(4)}});
  for (size_t w : {1, 2})
    for (uint32_t seed = 1; seed <= 6; ++seed) check_shared(s, {2, 3, 2}, 2, {0}, w, 30, seed);
}

TEST(SharedArrangementTest, NotSharedWhenKeyOrShardsDiffer) {
  // Joined on another column than the arrangement's: t2 arranged here as before.
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(1), col(3)}});
  check_shared(j, {2, 2}, 2, {0}, 2, 10, 1, /*expect_shared=*/false);
  // The input filtered by an equality among its own columns (t2.b = t2.c = t1.b).
  RelExpr f = join({get(1, 2), get(2, 2)}, {{col(1), col(2), col(3)}});
  check_shared(f, {2, 2}, 2, {0}, 2, 10, 1, /*expect_shared=*/false);
  // A reader split into another number of shards than the dataflow's.
  auto model = std::make_shared<ModelArrangement>(std::vector<uint32_t>{0}, 3);
  RenderOptions o;
  o.keep_state = true;
  o.workers = 2;
  o.shared_arrangement = [&](uint64_t, const std::vector<uint32_t>&) -> std::shared_ptr<const ArrangementReader> { return model; };
  EXPECT_TRUE(render(join({get(1, 2), get(2, 2)}, {{col(1), col(2)}}), o).shared_reads.empty());
  // One-shot dataflows never read one.
  o.keep_state = false;
  o.workers = 3;
  EXPECT_TRUE(render(join({get(1, 2), get(2, 2)}, {{col(1), col(2)}}), o).shared_reads.empty());
}

TEST(SharedArrangementTest, KeepsOnlyTheOtherInput) {
  // 1,000 rows on each side: the shared input costs only its step's change (none after the
  // hydration's step), the other input is arranged as before.
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(1), col(2)}});
  auto model = std::make_shared<ModelArrangement>(std::vector<uint32_t>{0}, 1);
  RenderOptions o;
  o.keep_state = true;
  o.workers = 1;
  o.shared_arrangement = [&](uint64_t id, const std::vector<uint32_t>&) -> std::shared_ptr<const ArrangementReader> {
    return id == 2 ? model : nullptr;
  };
  RenderedDataflow shared = render(j, o);
  o.shared_arrangement = nullptr;
  RenderedDataflow own = render(j, o);
  Rows a, b;
  for (int64_t i = 0; i < 1000; ++i) a.emplace_back(ints({i, i % 100}), 1), b.emplace_back(ints({i % 100, i}), 1);
  model->apply(b);
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  for (RenderedDataflow* r : {&shared, &own}) {
    for (const auto& [cid, node] : r->sources) {
      Batch batch;
      for (const auto& [row, d] : cid == 1 ? a : b) batch.push_back(Update{row, 0, d});
      r->dataflow->push(node, std::move(batch));
    }
    r->dataflow->step(1, ctx);
    EXPECT_EQ(r->dataflow->take_output(r->output).size(), 10000u);
    for (const auto& x : r->external_arrangements) x->owner_at_step = true;  // the model is at step 2
    r->dataflow->step(2, ctx);
  }
  EXPECT_EQ(shared.dataflow->state_size(), 1000u);
  EXPECT_EQ(own.dataflow->state_size(), 2000u);
  EXPECT_LT(shared.dataflow->state_bytes(true) * 10, own.dataflow->state_bytes(true) * 6);
}

}  // namespace
}  // namespace freshet::dataflow
