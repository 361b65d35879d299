// Maintained's index as per-shard arrangements (src/server/README.md, "The index as per-shard
// arrangements"): rows split by the index key as the dataflow's exchange splits an
// arrangement by that key, and every read (scan, count_of, lookups by the shard key and by
// another index) and every step's change equal to a plain model of the contents.
#include "server/maintained.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace freshet::server
