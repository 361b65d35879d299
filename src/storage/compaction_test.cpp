#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <thread>

#include "storage/collection.hpp"
#include "storage/test_util.hpp"

namespace freshet::storage {
namespace {

using testing::fresh_collection;
using testing::make_batch;
using testing::read_all;
using testing::reopen;
using testing::row_text;
using testing::TempDir;

// The newest (offset, value) per key of a list of records; nullopt value = deleted.
std::map<std::string, std::pair<uint64_t, std::optional<std::string>>> newest(const std::vector<Record>& rs) {
  std::map<std::string, std::pair<uint64_t, std::optional<std::string>>> m;
  for (const auto& r : rs) m[row_text(r.key)] = {r.offset, r.value ? std::optional(row_text(*r.value)) : std::nullopt};
  return m;
}

TEST(Compaction, KeepsNewestPerKeyAndOffsets) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 2048;
  o.tombstone_retention_ms = 1000;
  auto c = fresh_collection(dir, o);
  for (int i = 0; i < 300; ++i) {
    std::string k = "k" + std::to_string(i % 10);
    std::optional<std::string> v = (i % 37 == 0) ? std::nullopt : std::optional(std::to_string(i));
    ASSERT_TRUE(c->append(make_batch(100 + i, {{k, v}}, "cp" + std::to_string(i))).is_ok());
  }
  auto before = read_all(*c);
  auto snap_before = c->snapshot();
  ASSERT_TRUE(snap_before.is_ok());
  ASSERT_TRUE(c->roll().is_ok());
  CollectionStats st0 = c->stats();
  auto rep = c->compact();
  ASSERT_TRUE(rep.is_ok()) << rep.status().message();
  EXPECT_EQ(rep->records_in, 300u);
  EXPECT_LE(rep->records_out, 10u);
  EXPECT_LT(rep->bytes_out, rep->bytes_in);
  EXPECT_LT(c->stats().segments, st0.segments);

  auto after = read_all(*c);
  // Offsets preserved: each survivor is the very record it was, at the same offset.
  for (const auto& r : after) {
    ASSERT_LT(r.offset, before.size());
    EXPECT_EQ(before[r.offset].key, r.key);
    EXPECT_EQ(before[r.offset].value, r.value);
    EXPECT_EQ(before[r.offset].timestamp_ms, r.timestamp_ms);
  }
  EXPECT_EQ(newest(after), newest(before));  // one record per key: the newest
  EXPECT_EQ(after.size(), 10u);
  EXPECT_EQ(c->bounds().next_offset, 300u);
  auto snap = c->snapshot();
  ASSERT_TRUE(snap.is_ok());
  ASSERT_EQ(snap->records.size(), snap_before->records.size());
  for (size_t i = 0; i < snap->records.size(); ++i) {
    EXPECT_EQ(snap->records[i].offset, snap_before->records[i].offset);
    EXPECT_EQ(snap->records[i].value, snap_before->records[i].value);
  }
  // Reads over gaps: from an offset that was compacted away, the next survivor.
  uint64_t first = after[0].offset;
  auto rr = c->read(first > 0 ? first - 1 : 0, 1 << 20, 1);
  ASSERT_TRUE(rr.is_ok());
  ASSERT_EQ(rr->records.size(), 1u);
  EXPECT_EQ(rr->records[0].offset, first);

  // Survives reopen, checkpoint included; appends continue after the end.
  c.reset();
  c = reopen(dir, o);
  EXPECT_TRUE(c->recovery_report().clean()) << c->recovery_report().to_string();
  EXPECT_EQ(newest(read_all(*c)), newest(before));
  EXPECT_EQ(c->checkpoint(), "cp299");
  auto r = c->append(make_batch(1000, {{"k0", "new"}}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->first_offset, 300u);
}

TEST(Compaction, TombstonesKeptForRetentionThenDropped) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.tombstone_retention_ms = 1000;
  auto c = fresh_collection(dir, o);
  ASSERT_TRUE(c->append(make_batch(100, {{"a", "1"}, {"b", "1"}})).is_ok());
  ASSERT_TRUE(c->append(make_batch(200, {{"a", std::nullopt}})).is_ok());
  ASSERT_TRUE(c->roll().is_ok());
  ASSERT_TRUE(c->compact().is_ok());
  auto all = read_all(*c);
  ASSERT_EQ(all.size(), 2u);  // b=1 and the tombstone of a (the upper, 200, is within retention)
  EXPECT_EQ(all[1].op, Op::kDelete);
  EXPECT_EQ(all[1].offset, 2u);

  ASSERT_TRUE(c->advance_upper(5000).is_ok());
  ASSERT_TRUE(c->append(make_batch(5000, {{"c", "1"}})).is_ok());
  ASSERT_TRUE(c->roll().is_ok());
  auto rep = c->compact();
  ASSERT_TRUE(rep.is_ok());
  EXPECT_EQ(rep->tombstones_dropped, 1u);
  all = read_all(*c);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(row_text(all[0].key), "b");
  EXPECT_EQ(row_text(all[1].key), "c");
  EXPECT_EQ(all[1].offset, 3u);
}

// Compaction maps only the keys of the segments not yet compacted, and keeps a compacted segment
// none of whose records is superseded as it is. Many compactions over writes of new keys,
// overwrites of old ones (already compacted, or not) and deletes leave the newest record of
// every key, at its offset, before and after a reopen.
TEST(Compaction, RepeatedCompactionsKeepTheNewestOfEveryKey) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 2048;
  o.tombstone_retention_ms = 1u << 30;  // tombstones stay: the model below keeps them
  auto c = fresh_collection(dir, o);
  std::map<std::string, std::pair<uint64_t, std::optional<std::string>>> model;
  uint64_t offset = 0;
  uint32_t rng = 12345;
  auto next = [&]() -> uint32_t {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
  };
  int fresh_keys = 0;
  for (int round = 0; round < 12; ++round) {
    for (int i = 0; i < 60; ++i) {
      // Mostly new keys (a load), some overwrites and deletes of keys written any time before.
      std::string k = (next() % 4 != 0 || fresh_keys == 0) ? "n" + std::to_string(fresh_keys++)
                                                              : "n" + std::to_string(next() % fresh_keys);
      std::optional<std::string> v = next() % 9 == 0 ? std::nullopt : std::optional(std::to_string(offset));
      ASSERT_TRUE(c->append(make_batch(100 + offset, {{k, v}})).is_ok());
      model[k] = {offset, v};
      ++offset;
    }
    ASSERT_TRUE(c->roll().is_ok());
    auto rep = c->compact();
    ASSERT_TRUE(rep.is_ok()) << rep.status().message();
    auto all = read_all(*c);
    EXPECT_EQ(newest(all), model) << "round " << round;
    EXPECT_EQ(all.size(), model.size()) << "round " << round;  // one record per key
  }
  c.reset();
  c = reopen(dir, o);
  EXPECT_TRUE(c->recovery_report().clean()) << c->recovery_report().to_string();
  EXPECT_EQ(newest(read_all(*c)), model);
  EXPECT_EQ(c->bounds().next_offset, offset);
}

// snapshot() maps only the keys after the compacted prefix and copies the prefix's records
// out as they are: under random upserts and deletes (tombstones kept and dropped), keys
// rewritten after they were compacted, compactions at random points and uncompacted tails,
// it returns exactly each live key's newest value, in offset order.
TEST(Compaction, SnapshotOverCompactedAndDirtySegmentsIsTheNewestOfEveryKey) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 1024;
  o.tombstone_retention_ms = 50;
  auto c = fresh_collection(dir, o);
  std::map<std::string, std::pair<uint64_t, std::string>> live;  // key -> (offset, value)
  uint64_t offset = 0;
  uint32_t rng = 777;
  auto next = [&]() -> uint32_t {
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
  };
  int keys = 0;
  for (int round = 0; round < 40; ++round) {
    const int n = 1 + static_cast<int>(next() % 80);
    for (int i = 0; i < n; ++i) {
      std::string k = (next() % 3 == 0 || keys == 0) ? "k" + std::to_string(keys++) : "k" + std::to_string(next() % keys);
      const bool del = next() % 7 == 0;
      std::optional<std::string> v = del ? std::nullopt : std::optional(std::to_string(offset));
      ASSERT_TRUE(c->append(make_batch(100 + offset * 10, {{k, v}})).is_ok());
      if (del) live.erase(k);
      else live[k] = {offset, *v};
      ++offset;
    }
    if (next() % 3 != 0) {
      ASSERT_TRUE(c->roll().is_ok());
      auto rep = c->compact();
      ASSERT_TRUE(rep.is_ok()) << rep.status().message();
    }
    auto snap = c->snapshot();
    ASSERT_TRUE(snap.is_ok()) << snap.status().message();
    std::vector<std::pair<uint64_t, std::string>> want, got;
    for (const auto& [k, ov] : live) want.push_back({ov.first, k + "=" + ov.second});
    std::sort(want.begin(), want.end());
    for (const auto& r : snap->records) got.push_back({r.offset, row_text(r.key) + "=" + row_text(*r.value)});
    EXPECT_EQ(got, want) << "round " << round;  // in offset order, as returned
  }
}

// Appending new keys only (a table's load): a compaction rewrites only the segments written
// since the last one; the compacted ones are kept (not rewritten, not fsynced again).
TEST(Compaction, NewKeysOnlyKeepCompactedSegments) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 4096;
  auto c = fresh_collection(dir, o);
  int k = 0;
  auto load = [&](int n) {
    for (int i = 0; i < n; ++i, ++k) ASSERT_TRUE(c->append(make_batch(100 + k, {{"k" + std::to_string(k), "v"}})).is_ok());
    ASSERT_TRUE(c->roll().is_ok());
  };
  load(400);
  auto first = c->compact();
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->records_out, 400u);
  const uint64_t clean_bytes = c->stats().sealed_compacted_bytes;
  load(100);
  const uint64_t fsyncs0 = c->stats().fsyncs;
  auto second = c->compact();
  ASSERT_TRUE(second.is_ok());
  EXPECT_EQ(second->records_in, 500u);
  EXPECT_EQ(second->records_out, 500u);
  // Only the new records were written again: the output's new bytes are about 100 records'
  // worth, and the fsyncs are those of the new segments and the directory.
  EXPECT_LT(c->stats().sealed_compacted_bytes - clean_bytes, clean_bytes / 2);
  EXPECT_LE(c->stats().fsyncs - fsyncs0, 4u);
  auto all = read_all(*c);
  ASSERT_EQ(all.size(), 500u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].offset, i);
  c.reset();
  c = reopen(dir, o);
  EXPECT_TRUE(c->recovery_report().clean()) << c->recovery_report().to_string();
  EXPECT_EQ(read_all(*c).size(), 500u);
}

TEST(Compaction, ConcurrentWithAppendsAndReaders) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 4096;
  auto c = fresh_collection(dir, o);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 1500; ++i) {
      auto r = c->append(make_batch(i, {{"k" + std::to_string(i % 50), std::to_string(i)}}));
      ASSERT_TRUE(r.is_ok()) << r.status().message();
    }
    stop = true;
  });
  std::thread reader([&] {
    uint64_t at = 0;
    while (!stop) {
      auto rr = c->read(at, 4096);
      ASSERT_TRUE(rr.is_ok()) << rr.status().message();
      for (size_t i = 1; i < rr->records.size(); ++i) ASSERT_LT(rr->records[i - 1].offset, rr->records[i].offset);
      at = rr->continue_offset;
      c->wait_for_offset(at, std::chrono::milliseconds(5));
    }
  });
  int compactions = 0;
  while (!stop) {
    auto r = c->compact();
    ASSERT_TRUE(r.is_ok()) << r.status().message();
    compactions += r->segments_in > 0;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  writer.join();
  reader.join();
  EXPECT_GT(compactions, 0);
  auto snap = c->snapshot();
  ASSERT_TRUE(snap.is_ok());
  ASSERT_EQ(snap->records.size(), 50u);
  for (const auto& r : snap->records) {
    int k = std::stoi(row_text(r.key).substr(1));
    int v = std::stoi(row_text(*r.value));
    EXPECT_EQ(v % 50, k);
    EXPECT_GE(v, 1450);
  }
  c.reset();
  c = reopen(dir, o);
  EXPECT_EQ(c->bounds().next_offset, 1500u);
  EXPECT_EQ(c->snapshot()->records.size(), 50u);
}

}  // namespace
}  // namespace freshet::storage
