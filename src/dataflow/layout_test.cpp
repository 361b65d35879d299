// The data layout (README.md, "Data layout"): batches that keep their rows in blocks, and
// join arrangements that keep one buffer of entries per key.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/row.hpp"
#include "dataflow/arrangement.hpp"
#include "dataflow/flat_index.hpp"
#include "dataflow/update.hpp"

namespace freshet::dataflow {
namespace {

Row text_row(const std::string& s, int64_t i) {
  std::vector<Datum> d{Datum::from_string(s), Datum::from_int(i)};
  return Row::pack(d);
}

TEST(BatchTest, RowsSurviveMovesAppendsAndGrowth) {
  Batch a, b;
  std::vector<Row> want;
  for (int i = 0; i < 5000; ++i) {  // many blocks, geometric growth
    Row r = text_row(std::string(static_cast<size_t>(i % 97), 'x'), i);
    (i % 2 ? a : b).push_back(Update{r, 7, i});
    want.push_back(r);
  }
  Row big = text_row(std::string(3 << 20, 'y'), -1);  // larger than any block
  a.push_back(Update{big, 7, 1});
  Batch moved = std::move(a);
  moved.append(std::move(b));
  EXPECT_TRUE(b.empty());
  ASSERT_EQ(moved.size(), 5001u);
  EXPECT_EQ(moved[2500].row, big.ref());
  // Odd rows first, then the big one, then the even rows: views still valid after the moves.
  size_t k = 0;
  for (int i = 1; i < 5000; i += 2) EXPECT_EQ(moved[k++].row, want[static_cast<size_t>(i)].ref());
  ++k;
  for (int i = 0; i < 5000; i += 2) EXPECT_EQ(moved[k++].row, want[static_cast<size_t>(i)].ref());
  // A copy shares the blocks: it stays valid after the original is gone.
  Batch copy = moved;
  moved.clear();
  EXPECT_EQ(copy.size(), 5001u);
  EXPECT_EQ(copy[0].row, want[1].ref());
  EXPECT_EQ(copy[0].diff, 1);
  EXPECT_GE(copy.bytes(), big.size_bytes());
}

// A batch with a big reserved update vector (reserve_output reserves a whole memory budget)
// gives its pages back in slices before freeing it (release_update_pages): moving over it,
// moving it away and destroying it must leave every other batch's rows intact.
TEST(BatchTest, BigReservedBatchesAreFreedInSlices) {
  const size_t n = (size_t{96} << 20) / sizeof(Update);  // 96 MB of updates: above the 64 MB threshold
  Batch big;
  big.reserve(n);
  for (int i = 0; i < 100000; ++i) big.push_back(Update{text_row("r", i), 1, 1});
  Batch other;
  other.push_back(Update{text_row("keep", 42), 2, 3});
  Batch target;
  target.reserve(n);
  target.push_back(Update{text_row("gone", 1), 1, 1});
  target = std::move(big);  // target's own big vector is released first
  ASSERT_EQ(target.size(), 100000u);
  EXPECT_EQ(target[99999].row, text_row("r", 99999).ref());
  Batch moved_away(std::move(target));
  EXPECT_EQ(moved_away[0].row, text_row("r", 0).ref());
  { Batch dying = std::move(moved_away); }
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].row, text_row("keep", 42).ref());
  EXPECT_EQ(other[0].diff, 3);
}

TEST(BatchTest, SharedUpdatesOutliveTheirSourceAndTheSourceKeepsFilling) {
  Batch src;
  for (int i = 0; i < 1000; ++i) src.push_back(Update{text_row("row", i), 1, 1});
  Batch even, odd;  // an exchange's buckets
  even.share_blocks_of(src);
  odd.share_blocks_of(src);
  for (const Update& u : src) (u.row.get(1).as_int() % 2 == 0 ? even : odd).push_shared(u);
  const char* first = src[0].row.bytes().data();
  src.push_back(Update{text_row("later", -1), 1, 1});  // written into src's own block only
  src.clear();
  even.push_back(Update{text_row("own", 5000), 1, 1});  // a block of its own, after the shared
  ASSERT_EQ(even.size(), 501u);
  ASSERT_EQ(odd.size(), 500u);
  EXPECT_EQ(even[0].row.bytes().data(), first);  // the same bytes, not a copy
  for (size_t i = 0; i < 500; ++i) {
    EXPECT_EQ(even[i].row, text_row("row", static_cast<int64_t>(2 * i)).ref());
    EXPECT_EQ(odd[i].row, text_row("row", static_cast<int64_t>(2 * i + 1)).ref());
  }
  EXPECT_EQ(even[500].row, text_row("own", 5000).ref());
  Batch all = std::move(even);
  all.append(std::move(odd));
  EXPECT_TRUE(even.empty());
  EXPECT_EQ(all.size(), 1001u);
  EXPECT_EQ(all[1000].row, text_row("row", 999).ref());
}

TEST(FlatKeyIndexTest, InsertFindEraseReuseAndCompact) {
  FlatKeyIndex idx;
  std::map<std::string, uint32_t> want;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 20000; ++i) {
      std::string k = "key-" + std::to_string(round) + "-" + std::to_string(i) + std::string(static_cast<size_t>(i % 40), 'z');
      auto [slot, inserted] = idx.insert(k, "extra" + std::to_string(i));
      ASSERT_TRUE(inserted);
      want[k] = slot;
    }
    // Erase most of them: slots are reused, garbage is compacted.
    size_t n = 0;
    for (auto it = want.begin(); it != want.end();) {
      if (++n % 4 != 0) {
        idx.erase(it->second);
        it = want.erase(it);
      } else {
        ++it;
      }
    }
    ASSERT_EQ(idx.size(), want.size());
    for (const auto& [k, slot] : want) {
      ASSERT_EQ(idx.find(k), slot);
      ASSERT_EQ(idx.key(slot), k);
      ASSERT_EQ(idx.insert(k, "").second, false);
    }
  }
  EXPECT_EQ(idx.find("absent"), FlatKeyIndex::kNone);
  EXPECT_LE(idx.slot_limit(), 2 * want.size() + 20000);  // freed slots were reused
}

TEST(BatchTest, ConcatAndConsolidate) {
  Batch b;
  Row x = text_row("left", 1), y = text_row("right", 2);
  b.push_concat(x, y, 3, 2);
  b.push_concat(x, y, 3, -2);
  b.push_concat(y, x, 3, 1);
  b.push_back(Update{Row(), 3, 1});  // a zero-column row
  consolidate(b);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].row.size_bytes(), 0u);
  EXPECT_EQ(b[1].row.bytes(), std::string(y.bytes()) + std::string(x.bytes()));
}

TEST(ArrangementTest, ConsolidatesPerKey) {
  Arrangement arr;
  Row r1 = text_row("a", 1), r2 = text_row("b", 2), r3 = text_row("c", 3);
  std::vector<KeyedUpdate> u{{"k1", r2, 1}, {"k1", r1, 2}, {"k2", r3, 1}, {"k1", r2, 1}};
  arr.apply(u);
  EXPECT_EQ(arr.num_keys(), 2u);
  EXPECT_EQ(arr.num_entries(), 3u);
  std::vector<std::pair<std::string, int64_t>> seen;
  std::optional<Arrangement::Entries> k1 = arr.find("k1");
  ASSERT_TRUE(k1.has_value());
  k1->for_each([&](RowRef row, int64_t d) { seen.emplace_back(std::string(row.bytes()), d); });
  ASSERT_EQ(seen.size(), 2u);
  // In the run's order: by the row's hash, then its bytes (arrangement.cpp row_order).
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen[0], (std::pair<std::string, int64_t>{std::string(r1.bytes()), 2}));
  EXPECT_EQ(seen[1], (std::pair<std::string, int64_t>{std::string(r2.bytes()), 2}));
  // Retract everything of k1: the key goes; k2 is untouched.
  std::vector<KeyedUpdate> v{{"k1", r1, -2}, {"k1", r2, -2}, {"k2", r1, 1}};
  arr.apply(v);
  EXPECT_FALSE(arr.find("k1").has_value());
  EXPECT_EQ(arr.num_keys(), 1u);
  EXPECT_EQ(arr.num_entries(), 2u);
}

// One key holding every row (a cross join's state): each step adds a run, runs merge
// geometrically, so the key keeps a few runs and the entries sum to the collection.
TEST(ArrangementTest, OneKeyManyStepsKeepsFewRuns) {
  Arrangement arr;
  std::map<std::string, int64_t> want;
  for (int step = 0; step < 2000; ++step) {
    std::vector<Row> rows;
    std::vector<int64_t> diffs;
    for (int i = 0; i < 10; ++i) {
      rows.push_back(text_row("r", step * 10 + i));
      diffs.push_back(1);
    }
    if (step > 0) {  // retract half of the previous step's rows
      for (int i = 0; i < 5; ++i) {
        rows.push_back(text_row("r", (step - 1) * 10 + i));
        diffs.push_back(-1);
      }
    }
    std::vector<KeyedUpdate> u;
    for (size_t i = 0; i < rows.size(); ++i) {
      u.push_back({"", rows[i], diffs[i]});
      want[std::string(rows[i].bytes())] += diffs[i];
    }
    arr.apply(u);
  }
  std::erase_if(want, [](const auto& e) { return e.second == 0; });
  std::optional<Arrangement::Entries> all = arr.find("");
  ASSERT_TRUE(all.has_value());
  EXPECT_LE(all->num_runs(), 16u);
  std::map<std::string, int64_t> got;
  all->for_each([&](RowRef row, int64_t d) { got[std::string(row.bytes())] += d; });
  std::erase_if(got, [](const auto& e) { return e.second == 0; });
  EXPECT_EQ(got, want);
}

// The goal of issue 9: memory per arranged row at most 1.3x the row's encoded size (rows of
// ~60 bytes, 100 rows per key, as a join's state on a foreign key holds them).
TEST(ArrangementTest, MemoryPerRowCloseToEncodedSize) {
  Arrangement arr;
  size_t encoded = 0;
  for (int step = 0; step < 10; ++step) {
    std::vector<Row> rows;
    std::vector<std::string> keys;
    for (int i = 0; i < 10000; ++i) {
      int id = step * 10000 + i;
      rows.push_back(text_row("bidder-" + std::to_string(id) + "-channel-Google-url-https://x", id));
      keys.push_back("key" + std::to_string(id % 1000));
      encoded += rows.back().size_bytes();
    }
    std::vector<KeyedUpdate> u;
    for (size_t i = 0; i < rows.size(); ++i) u.push_back({keys[i], rows[i], 1});
    arr.apply(u);
  }
  EXPECT_EQ(arr.num_entries(), 100000u);
  double ratio = static_cast<double>(arr.size_bytes()) / static_cast<double>(encoded);
  EXPECT_LE(ratio, 1.3) << arr.size_bytes() << " bytes for " << encoded << " encoded";
  RecordProperty("bytes_per_encoded_byte", std::to_string(ratio));
}

}  // namespace
}  // namespace freshet::dataflow
