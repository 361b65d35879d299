// Maintained's index as per-shard arrangements (src/server/README.md, "The index as per-shard
// arrangements"): rows split by the index key as the dataflow's exchange splits an
// arrangement by that key, and every read (scan, count_of, lookups by the shard key and by
// another index) and every step's change equal to a plain model of the contents.
#include "server/maintained.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "dataflow/test_util.hpp"
#include "dataflow/update.hpp"
#include "dataflow/workers.hpp"

namespace freshet::server {
namespace {

using dataflow::testing::get;
using dataflow::testing::ints;

constexpr size_t kShards = 3;

// Shared arrangements are off unless the environment turns them on (read once, at the first
// dataflow): this binary tests them, so on before any test runs.
[[maybe_unused]] const bool kSharedArrangementsOn = [] {
  setenv("FRESHET_SHARED_ARRANGEMENTS", "on", 1);
  return true;
}();

// Every dataflow rendered while it lives is split kShards ways (the pool may have fewer
// threads: the shards then run one after another on the caller, with the same result).
struct ShardedWorkers {
  size_t before = dataflow::WorkerPool::default_workers();
  ShardedWorkers() { dataflow::WorkerPool::configure(kShards); }
  ~ShardedWorkers() { dataflow::WorkerPool::configure(before); }
};

using Model = std::map<std::string, int64_t>;  // row bytes -> multiplicity

Model contents_of(const Maintained& m) {
  Model out;
  m.for_each([&](RowRef r, int64_t n) { out[std::string(r.bytes())] += n; });
  return out;
}

// The shard the dataflow's exchange sends a key to (dataflow/graph.cpp, Dataflow::partition):
// std::hash of the canonical key bytes, modulo the shard count.
size_t exchange_shard(RowRef row, const std::vector<uint32_t>& columns) {
  std::vector<Datum> ds = row.unpack(), key;
  for (uint32_t c : columns) key.push_back(ds[c]);
  std::string bytes;
  dataflow::append_canonical_key(key, bytes);
  return std::hash<std::string_view>{}(bytes) % kShards;
}

void expect_split_by(const Maintained& m, const std::vector<uint32_t>& columns) {
  ASSERT_EQ(m.num_shards(), kShards);
  EXPECT_EQ(m.shard_columns(), columns);
  size_t rows = 0;
  for (size_t s = 0; s < kShards; ++s)
    m.for_each_in_shard(s, [&](RowRef r, int64_t) {
      ++rows;
      EXPECT_EQ(exchange_shard(r, columns), s);
    });
  EXPECT_EQ(rows, m.records());
}

// Lookups by every key in 0..keys of index i (on column c) equal the model's rows with that key.
void expect_lookups(const Maintained& m, size_t i, uint32_t c, int64_t keys, const Model& model) {
  for (int64_t k = -1; k <= keys; ++k) {
    RowDiffs got;
    std::vector<Datum> key = {Datum::from_int(k)};
    m.lookup(i, key, got);
    Model g, want;
    for (const auto& [r, n] : got) g[std::string(r.bytes())] += n;
    for (const auto& [b, n] : model)
      if (RowRef(b).unpack()[c].as_int() == k) want[b] = n;
    EXPECT_EQ(g, want) << "key " << k << " of index on column " << c;
  }
}

TEST(MaintainedShardsTest, SplitByTheIndexKeyUnderChanges) {
  ShardedWorkers workers;
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  // Rows (k, v) with k in 0..39; repeated rows (multiplicities, some past 255).
  Model model;
  std::vector<std::pair<Row, int64_t>> initial_rows;
  for (int64_t i = 0; i < 3000; ++i) initial_rows.push_back({ints({i % 40, i % 300}), 1});
  for (int64_t i = 0; i < 600; ++i) initial_rows.push_back({ints({7, 1000}), 1});
  for (const auto& [r, d] : initial_rows) model[std::string(r.bytes())] += d;
  dataflow::SnapshotFn snapshot = [&](uint64_t, const std::function<void(const Row&, int64_t)>& emit) {
    for (const auto& [r, d] : initial_rows) emit(r, d);
  };
  RowDiffs initial;
  Maintained m(1, "v", get(10, 2), 1, snapshot, ctx, initial);
  // No index yet: split by the row.
  EXPECT_EQ(m.num_shards(), kShards);
  EXPECT_TRUE(m.shard_columns().empty());
  EXPECT_EQ(contents_of(m), model);
  EXPECT_EQ(m.records(), model.size());

  // The first index moves the rows to the shards of its key.
  m.add_index({0});
  expect_split_by(m, {0});
  EXPECT_EQ(contents_of(m), model);
  expect_lookups(m, 0, 0, 40, model);
  // A second index, on v: every shard holds part of each v's rows.
  m.add_index({1});
  expect_lookups(m, 1, 1, 300, model);

  // Steps of random changes: inserts, retractions of present rows (to zero too), multiplicities
  // crossing 255; big enough steps to split and apply on the pool.
  std::mt19937_64 rng(42);
  for (uint64_t t = 2; t < 12; ++t) {
    RowDiffs change;
    Model want_delta;
    for (int i = 0; i < 700; ++i) {
      Row r = ints({static_cast<int64_t>(rng() % 45), static_cast<int64_t>(rng() % 320)});
      int64_t d = 1 + static_cast<int64_t>(rng() % 3);
      if (rng() % 3 == 0) {
        auto it = model.find(std::string(r.bytes()));
        if (it == model.end() || it->second == 0) continue;
        d = -std::min<int64_t>(d, it->second);
      }
      model[std::string(r.bytes())] += d;
      want_delta[std::string(r.bytes())] += d;
      change.push_back({r, d});
    }
    if (t == 5) {  // the big multiplicity back under 255 and then gone
      std::string b(ints({7, 1000}).bytes());
      change.push_back({Row(b), -model[b]});
      want_delta[b] -= model[b];
      model[b] = 0;
    }
    for (auto it = model.begin(); it != model.end();) it = it->second == 0 ? model.erase(it) : std::next(it);
    for (auto it = want_delta.begin(); it != want_delta.end();) it = it->second == 0 ? want_delta.erase(it) : std::next(it);
    ChangeSet cs;
    cs[10] = change;
    RowDiffs delta;
    m.step(t, cs, ctx, delta);
    Model got_delta;
    for (const auto& [r, d] : delta) {
      EXPECT_EQ(got_delta.count(std::string(r.bytes())), 0u) << "the step's change is consolidated";
      got_delta[std::string(r.bytes())] += d;
    }
    EXPECT_EQ(got_delta, want_delta) << "at " << t;
    EXPECT_EQ(contents_of(m), model) << "at " << t;
    for (const auto& [b, n] : model) ASSERT_EQ(m.count_of(RowRef(b)), n);
    EXPECT_EQ(m.count_of(ints({99, 99}).ref()), 0);
  }
  expect_split_by(m, {0});
  expect_lookups(m, 0, 0, 45, model);
  expect_lookups(m, 1, 1, 320, model);
  // The shard key's index dropped: the split stays, lookups by the other index still see all.
  m.drop_index({0});
  EXPECT_EQ(m.num_indexes(), 1u);
  expect_split_by(m, {0});
  expect_lookups(m, 0, 1, 320, model);
}

TEST(MaintainedShardsTest, BulkHydrationSplitsByTheFirstIndex) {
  ShardedWorkers workers;
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  Model model;
  std::vector<std::pair<Row, int64_t>> rows;
  for (int64_t i = 0; i < 5000; ++i) rows.push_back({ints({i, i % 97}), 1});
  rows.push_back({ints({3, 3}), -1});  // cancels with the row inserted above
  for (const auto& [r, d] : rows) model[std::string(r.bytes())] += d;
  for (auto it = model.begin(); it != model.end();) it = it->second == 0 ? model.erase(it) : std::next(it);
  BatchSnapshotFn snapshot = [&](uint64_t, uint64_t t, dataflow::Batch& into) {
    for (const auto& [r, d] : rows) into.emplace_back(r.ref(), t, d);
  };
  Maintained m(1, "v", get(10, 2), 1, snapshot, ctx, nullptr, {{1}});
  expect_split_by(m, {1});
  EXPECT_EQ(contents_of(m), model);
  expect_lookups(m, 0, 1, 97, model);
}

// Shared arrangements (src/server/README.md, "Views over indexed views read the index"): a
// dependent joining a table with the indexed view v on v's index key reads v's index instead
// of arranging v, stepped after v at every step (the drivers' order, compute.cpp) once it has
// caught up with v (before, v steps on without it and it keeps a private copy of v's rows),
// and its contents equal those of the same dependent arranging v itself, under random changes
// of both sides (in the same and in different steps, key changes, repeated rows, NULL keys),
// with the index dropped half way (kept for the reader) and a second index added.
TEST(MaintainedShardsTest, DependentReadsTheIndexAsASharedArrangement) {
  ShardedWorkers workers;
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  std::mt19937 rng(7);
  auto random_row = [&] {
    const int64_t k = static_cast<int64_t>(rng() % 12);
    std::vector<Datum> ds = {k == 11 ? Datum::null() : Datum::from_int(k), Datum::from_int(static_cast<int64_t>(rng() % 4))};
    return Row::pack(ds);
  };
  Model table, base;  // collection 20 (the dependent's other input), collection 10 (under v)
  for (int i = 0; i < 200; ++i) base[std::string(random_row().bytes())] += 1;
  for (int i = 0; i < 100; ++i) table[std::string(random_row().bytes())] += 1;
  auto snapshot_of = [](const Model& m) {
    return dataflow::SnapshotFn([&m](uint64_t, const std::function<void(const Row&, int64_t)>& emit) {
      for (const auto& [b, n] : m) emit(Row(b), n);
    });
  };
  RowDiffs initial;
  auto v = std::make_shared<Maintained>(1, "v", get(10, 2), 1, snapshot_of(base), ctx, initial);
  v->add_index({0});
  // d: table(a, b) JOIN v(k, w) ON b = k.
  const dataflow::RelExpr plan = dataflow::testing::join({get(20, 2), get(1, 2)}, {{dataflow::testing::col(1), dataflow::testing::col(2)}});
  auto v_and_table = [&](const Model& vm) {
    return dataflow::SnapshotFn([&](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
      for (const auto& [b, n] : id == 1 ? vm : table) emit(Row(b), n);
    });
  };
  const Model v_contents = contents_of(*v);
  RowDiffs d_initial, ref_initial;
  int offered = 0;
  dataflow::RenderOptions::SharedArrangementFn shared = [&](uint64_t id, const std::vector<uint32_t>& cols) {
    ++offered;
    return id == 1 ? Maintained::shared_reader(v, cols) : nullptr;
  };
  Maintained d(2, "d", plan, 1, v_and_table(v_contents), ctx, d_initial, nullptr, shared);
  Maintained ref(3, "ref", plan, 1, v_and_table(v_contents), ctx, ref_initial);
  ASSERT_GT(offered, 0);
  ASSERT_EQ(d.shared_reads().size(), 1u);
  EXPECT_EQ(d.shared_reads()[0].first, 1u);
  EXPECT_EQ(d.shared_reads()[0].second, std::vector<uint32_t>{0});
  EXPECT_TRUE(ref.shared_reads().empty());
  EXPECT_EQ(contents_of(d), contents_of(ref));
  // (The state kept is compared in dataflow's SharedArrangementTest.KeepsOnlyTheOtherInput:
  // operator_bytes right after a hydration is an estimate that counts d's pending snapshot.)
  // The index on another column than the split key is not offered as a shared arrangement.
  EXPECT_EQ(Maintained::shared_reader(v, {1}), nullptr);
  std::vector<std::pair<uint64_t, ChangeSet>> behind;
  for (uint64_t t = 2; t <= 60; ++t) {
    RowDiffs base_change, table_change;
    const int which = static_cast<int>(rng() % 3);  // 0: v's input, 1: the table, 2: both
    auto change = [&](Model& m, RowDiffs& out) {
      for (int i = 0, n = 1 + static_cast<int>(rng() % 6); i < n; ++i) {
        if (!m.empty() && rng() % 2 == 0) {
          auto it = m.begin();
          std::advance(it, static_cast<long>(rng() % m.size()));
          out.push_back({Row(it->first), -1});
          if (--it->second == 0) m.erase(it);
        } else {
          Row r = random_row();
          m[std::string(r.bytes())] += 1;
          out.push_back({r, 1});
        }
      }
    };
    if (which != 1) change(base, base_change);
    if (which != 0) change(table, table_change);
    // v steps first; then the dependents, with v's change of the step.
    RowDiffs v_delta;
    ChangeSet vin;
    if (!base_change.empty()) vin[10] = base_change;
    v->step(t, vin, ctx, v_delta);
    ChangeSet din;
    if (!v_delta.empty()) din[1] = v_delta;
    if (!table_change.empty()) din[20] = table_change;
    // Steps 2-9: d catches up (as after a background hydration) while v has moved on (v's
    // steps are not held for it): stepped at 9, v at 9, with a private copy of v's rows.
    // From 10 on in step with v (the driver tells it so), reading v's index.
    behind.emplace_back(t, std::move(din));
    if (t < 9) continue;
    for (auto& [bt, bin] : behind) {
      RowDiffs dd, rd;
      d.set_owners_at_step(bt >= 10);
      d.step(bt, bin, ctx, dd);
      ref.step(bt, bin, ctx, rd);
      dataflow::consolidate(dd);
      dataflow::consolidate(rd);
      ASSERT_EQ(dd, rd) << "step " << bt;
      ASSERT_EQ(contents_of(d), contents_of(ref)) << "step " << bt;
      if (bt < 10) {
        EXPECT_TRUE(d.keeps_owner_copies()) << "step " << bt;
      }
    }
    behind.clear();
    if (t == 20) {
      v->drop_index({0});  // kept for d
      EXPECT_EQ(v->num_indexes(), 0u);
    }
    if (t == 30) v->add_index({1});
    if (t == 40) {
      v->add_index({0});  // back from the kept ones
      EXPECT_EQ(v->find_index({0}), 1);
      Model non_null;  // expect_lookups reads every key as an integer
      for (const auto& [b, n] : contents_of(*v))
        if (!RowRef(b).unpack()[0].is_null()) non_null[b] = n;
      Model got;
      for (int64_t k = 0; k < 11; ++k) {
        RowDiffs rows;
        std::vector<Datum> key = {Datum::from_int(k)};
        v->lookup(1, key, rows);
        for (const auto& [r, n] : rows) got[std::string(r.bytes())] += n;
      }
      EXPECT_EQ(got, non_null);
    }
  }
  EXPECT_FALSE(d.keeps_owner_copies());
}

}  // namespace
}  // namespace freshet::server
