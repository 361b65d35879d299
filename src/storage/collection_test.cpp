#include "storage/collection.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "storage/io.hpp"
#include "storage/test_util.hpp"

namespace freshet::storage {
namespace {

using testing::fresh_collection;
using testing::make_batch;
using testing::read_all;
using testing::reopen;
using testing::row_text;
using testing::TempDir;

std::string active_segment_path(const std::string& dir) {
  std::string last;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string n = e.path().filename().string();
    if (format::parse_segment_file_name(n) && n > last) last = n;
  }
  return dir + "/" + last;
}

TEST(Collection, AppendReadRoundTrip) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  auto r1 = c->append(make_batch(100, {{"a", "1"}, {"b", "2"}}));
  ASSERT_TRUE(r1.is_ok()) << r1.status().message();
  EXPECT_EQ(r1->first_offset, 0u);
  EXPECT_EQ(r1->next_offset, 2u);
  auto r2 = c->append(make_batch(101, {{"a", std::nullopt}, {"c", "3"}}));
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->first_offset, 2u);

  auto all = read_all(*c);
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].offset, i);
  EXPECT_EQ(row_text(all[0].key), "a");
  EXPECT_EQ(row_text(*all[1].value), "2");
  EXPECT_EQ(all[2].op, Op::kDelete);
  EXPECT_FALSE(all[2].value.has_value());
  EXPECT_EQ(all[3].timestamp_ms, 101u);
  Bounds b = c->bounds();
  EXPECT_EQ(b.next_offset, 4u);
  EXPECT_EQ(b.upper_ms, 101u);

  // Kafka-style fetch: from an offset, bounded by bytes, always at least one record.
  auto rr = c->read(1, 1);
  ASSERT_TRUE(rr.is_ok());
  ASSERT_EQ(rr->records.size(), 1u);
  EXPECT_EQ(rr->records[0].offset, 1u);
  EXPECT_EQ(rr->continue_offset, 2u);
  rr = c->read(2, 1 << 20);
  ASSERT_EQ(rr->records.size(), 2u);
  EXPECT_EQ(rr->continue_offset, 4u);
  rr = c->read(4, 1 << 20);
  EXPECT_TRUE(rr->records.empty());
  EXPECT_EQ(rr->continue_offset, 4u);

  // Reopen: the same contents, offsets continue.
  c.reset();
  c = reopen(tmp.path() + "/c");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->recovery_report().clean()) << c->recovery_report().to_string();
  EXPECT_EQ(read_all(*c).size(), 4u);
  auto r3 = c->append(make_batch(101, {{"d", "4"}}));
  ASSERT_TRUE(r3.is_ok());
  EXPECT_EQ(r3->first_offset, 4u);
}

TEST(Collection, TimestampsAndTicks) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  ASSERT_TRUE(c->append(make_batch(10, {{"a", "1"}})).is_ok());
  ASSERT_TRUE(c->append(make_batch(10, {{"b", "1"}})).is_ok());  // a timestamp stays open
  ASSERT_TRUE(c->advance_upper(20).is_ok());
  EXPECT_EQ(c->bounds().upper_ms, 20u);
  auto bad = c->append(make_batch(15, {{"c", "1"}}));
  EXPECT_FALSE(bad.is_ok());
  Batch closing = make_batch(20, {{"c", "1"}});
  closing.upper_ms = 21;
  ASSERT_TRUE(c->append(std::move(closing)).is_ok());
  EXPECT_EQ(c->bounds().upper_ms, 21u);
  ASSERT_TRUE(c->advance_upper(5).is_ok());  // behind: no-op
  ASSERT_TRUE(c->advance_upper(30).is_ok());
  uint64_t fsyncs = c->stats().fsyncs;
  c.reset();
  c = reopen(tmp.path() + "/c");
  EXPECT_EQ(c->bounds().upper_ms, 30u);
  EXPECT_EQ(c->bounds().next_offset, 3u);
  EXPECT_GT(fsyncs, 0u);
}

TEST(Collection, Limits) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  Batch b;
  b.timestamp_ms = 1;
  b.changes.push_back(Change{Op::kUpsert, testing::text_row("k"), std::nullopt});
  EXPECT_FALSE(c->append(b).is_ok());
  Batch big;
  big.timestamp_ms = 1;
  big.changes.push_back(Change::upsert(Row(std::string(kMaxRecordBytes, 'x')), Row(std::string("y"))));
  EXPECT_FALSE(c->append(std::move(big)).is_ok());
  Batch cp;
  cp.timestamp_ms = 1;
  cp.checkpoint = std::string(kMaxCheckpointBytes + 1, 'c');
  EXPECT_FALSE(c->append(std::move(cp)).is_ok());
  EXPECT_EQ(c->bounds().next_offset, 0u);
}

TEST(Collection, GroupCommitFromManyThreads) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  constexpr int kThreads = 8, kPerThread = 200;
  std::vector<std::thread> ts;
  std::vector<std::vector<AppendResult>> results(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        auto r = c->append(make_batch(1, {{"t" + std::to_string(t) + "-" + std::to_string(i), "v"}, {"x", "y"}}));
        ASSERT_TRUE(r.is_ok()) << r.status().message();
        // Durable and visible on return.
        EXPECT_GE(c->bounds().next_offset, r->next_offset);
        results[t].push_back(*r);
      }
    });
  }
  for (auto& t : ts) t.join();
  CollectionStats st = c->stats();
  EXPECT_EQ(st.batches, uint64_t{kThreads * kPerThread});
  EXPECT_LT(st.groups, st.batches) << "no two appends ever shared an fdatasync";
  std::set<uint64_t> firsts;
  for (const auto& rs : results)
    for (const auto& r : rs) {
      EXPECT_EQ(r.next_offset, r.first_offset + 2);
      EXPECT_TRUE(firsts.insert(r.first_offset).second);
    }
  auto all = read_all(*c);
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread * 2});
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].offset, i);
  // Each batch's two records are adjacent (a batch is never interleaved with another).
  for (uint64_t f : firsts) EXPECT_EQ(row_text(all[f + 1].key), "x");
}

// Two-phase appends (the server's write path): a ticket is durable as soon as its group's
// fdatasync is done, before its own owner calls wait(); Collection::durable() tells without
// waiting, so one writer can publish a whole group.
TEST(Collection, TicketDurableBeforeItsOwnerWaits) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  auto t1 = c->enqueue(make_batch(10, {{"a", "1"}}));
  auto t2 = c->enqueue(make_batch(11, {{"b", "2"}, {"c", "3"}}));
  ASSERT_TRUE(t1.is_ok() && t2.is_ok());
  EXPECT_FALSE(c->durable(**t1));
  EXPECT_FALSE(c->durable(**t2));
  const uint64_t fsyncs_before = c->stats().fsyncs;
  auto r1 = c->wait(**t1);  // leads the group, which takes t2 along
  ASSERT_TRUE(r1.is_ok()) << r1.status().message();
  EXPECT_TRUE(c->durable(**t1));
  EXPECT_TRUE(c->durable(**t2)) << "t2 was queued behind t1: same group, same fdatasync";
  EXPECT_EQ(c->bounds().next_offset, 3u);
  auto r2 = c->wait(**t2);
  ASSERT_TRUE(r2.is_ok()) << r2.status().message();
  EXPECT_EQ(r2->first_offset, 1u);
  EXPECT_EQ(c->stats().fsyncs, fsyncs_before + 1);
}

TEST(Collection, WaitAndListen) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  std::atomic<int> calls{0};
  auto id = c->add_listener([&](const Bounds&) { ++calls; });
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    ASSERT_TRUE(c->append(make_batch(5, {{"a", "1"}})).is_ok());
    ASSERT_TRUE(c->advance_upper(9).is_ok());
  });
  Bounds b = c->wait_for_offset(0, std::chrono::seconds(10));
  EXPECT_EQ(b.next_offset, 1u);
  b = c->wait_for_upper(8, std::chrono::seconds(10));
  EXPECT_EQ(b.upper_ms, 9u);
  writer.join();
  EXPECT_EQ(calls.load(), 2);
  c->remove_listener(id);
  ASSERT_TRUE(c->advance_upper(10).is_ok());
  EXPECT_EQ(calls.load(), 2);
  // Timeout without data.
  b = c->wait_for_offset(1, std::chrono::milliseconds(10));
  EXPECT_EQ(b.next_offset, 1u);
}

TEST(Collection, Snapshot) {
  TempDir tmp;
  auto c = fresh_collection(tmp.path() + "/c");
  ASSERT_TRUE(c->append(make_batch(1, {{"a", "1"}, {"b", "1"}, {"c", "1"}}, "cp1")).is_ok());
  ASSERT_TRUE(c->append(make_batch(2, {{"a", "2"}, {"b", std::nullopt}})).is_ok());
  ASSERT_TRUE(c->append(make_batch(3, {{"d", "1"}, {"b", "3"}, {"c", std::nullopt}}, "cp3")).is_ok());
  auto s = c->snapshot();
  ASSERT_TRUE(s.is_ok());
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& r : s->records) got.emplace_back(row_text(r.key), row_text(*r.value));
  std::vector<std::pair<std::string, std::string>> want = {{"a", "2"}, {"d", "1"}, {"b", "3"}};
  EXPECT_EQ(got, want);
  EXPECT_EQ(s->bounds.next_offset, 8u);
  EXPECT_EQ(s->bounds.upper_ms, 3u);
  EXPECT_EQ(s->checkpoint, "cp3");
}

TEST(Collection, CheckpointAtomicWithItsBatch) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  auto c = fresh_collection(dir);
  ASSERT_TRUE(c->append(make_batch(1, {{"a", "1"}}, "lsn-1")).is_ok());
  ASSERT_TRUE(c->append(make_batch(2, {{"b", "1"}})).is_ok());  // no checkpoint: keeps lsn-1
  EXPECT_EQ(c->checkpoint(), "lsn-1");
  ASSERT_TRUE(c->append(make_batch(3, {{"c", "1"}, {"d", "1"}}, "lsn-3")).is_ok());
  EXPECT_EQ(c->checkpoint(), "lsn-3");
  c.reset();
  c = reopen(dir);
  EXPECT_EQ(c->checkpoint(), "lsn-3");
  c.reset();

  // Tear the last batch: its records and its checkpoint go together.
  std::string seg = active_segment_path(dir);
  auto size = std::filesystem::file_size(seg);
  std::filesystem::resize_file(seg, size - 3);
  c = reopen(dir);
  EXPECT_EQ(c->checkpoint(), "lsn-1");
  EXPECT_EQ(c->bounds().next_offset, 2u);
  EXPECT_EQ(c->bounds().upper_ms, 2u);
  EXPECT_GT(c->recovery_report().truncated_bytes, 0u);

  // Checkpoint-only batch (a source that saw a transaction with no changes for this table).
  Batch b;
  b.timestamp_ms = 5;
  b.checkpoint = "lsn-5";
  ASSERT_TRUE(c->append(std::move(b)).is_ok());
  ASSERT_TRUE(c->roll().is_ok());  // the checkpoint now lives in a sealed segment + manifest
  ASSERT_TRUE(c->append(make_batch(6, {{"e", "1"}})).is_ok());
  c.reset();
  c = reopen(dir);
  EXPECT_EQ(c->checkpoint(), "lsn-5");
  EXPECT_EQ(c->bounds().next_offset, 3u);
}

// Writes garbage after the last frame, cuts a frame in half, flips a bit in the last frame:
// each time recovery cuts exactly the bad tail and keeps every complete batch.
TEST(Collection, TornTailIsTruncated) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  auto c = fresh_collection(dir);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c->append(make_batch(i, {{"k" + std::to_string(i), "v"}, {"z", "w"}})).is_ok());
  c.reset();
  std::string seg = active_segment_path(dir);
  uint64_t good_size = std::filesystem::file_size(seg);

  {  // garbage appended
    std::ofstream f(seg, std::ios::app | std::ios::binary);
    f << std::string("\x17\x00\x00\x00garbage-garbage-garbage", 30);
  }
  c = reopen(dir);
  EXPECT_EQ(c->recovery_report().truncated_bytes, 30u) << c->recovery_report().to_string();
  EXPECT_EQ(std::filesystem::file_size(seg), good_size);
  EXPECT_EQ(read_all(*c).size(), 20u);
  c.reset();

  {  // zeros appended (a preallocated or partially written page)
    std::ofstream f(seg, std::ios::app | std::ios::binary);
    f << std::string(4096, '\0');
  }
  c = reopen(dir);
  EXPECT_EQ(c->recovery_report().truncated_bytes, 4096u);
  EXPECT_EQ(c->bounds().next_offset, 20u);
  c.reset();

  // a bit flip inside the last frame
  {
    std::fstream f(seg, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(good_size - 5));
    char ch;
    f.seekg(static_cast<std::streamoff>(good_size - 5));
    f.get(ch);
    f.seekp(static_cast<std::streamoff>(good_size - 5));
    f.put(static_cast<char>(ch ^ 0x10));
  }
  c = reopen(dir);
  EXPECT_GT(c->recovery_report().truncated_bytes, 0u);
  EXPECT_NE(c->recovery_report().truncation_reason.find("checksum"), std::string::npos);
  auto all = read_all(*c);
  ASSERT_EQ(all.size(), 18u);  // the last batch (2 records) is gone, entirely
  EXPECT_EQ(c->bounds().upper_ms, 8u);
  // Appending continues at the cut.
  auto r = c->append(make_batch(9, {{"again", "1"}}));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->first_offset, 18u);
  c.reset();

  // truncated in the middle of the frame header and of the body
  for (uint64_t cut : {3u, 20u}) {
    uint64_t size = std::filesystem::file_size(seg);
    std::filesystem::resize_file(seg, size - cut);
    c = reopen(dir);
    EXPECT_GT(c->recovery_report().truncated_bytes, 0u);
    c.reset();
  }
  c = reopen(dir);
  EXPECT_TRUE(c->recovery_report().clean());
  EXPECT_EQ(c->bounds().next_offset, 16u);  // "again" and then batch 8 were cut
}

TEST(Collection, RollsSegmentsAndRecoversUnfinishedRoll) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 4096;
  auto c = fresh_collection(dir, o);
  for (int i = 0; i < 200; ++i)
    ASSERT_TRUE(c->append(make_batch(i, {{"k" + std::to_string(i % 17), std::string(40, 'v')}})).is_ok());
  EXPECT_GT(c->stats().segments, 3u);
  auto rr = c->read(123, 1 << 20, 5);
  ASSERT_TRUE(rr.is_ok());
  ASSERT_EQ(rr->records.size(), 5u);
  EXPECT_EQ(rr->records[0].offset, 123u);
  EXPECT_EQ(rr->continue_offset, 128u);
  // Keep the manifest as it is now, roll and write more, then put the old manifest back: as if
  // the process died after creating the new segment but before the manifest named it.
  std::string old_manifest = *io::read_file(dir + "/MANIFEST");
  ASSERT_TRUE(c->roll().is_ok());
  ASSERT_TRUE(c->append(make_batch(300, {{"after-roll", "1"}}, "cp")).is_ok());
  c.reset();
  ASSERT_TRUE(io::write_file_atomic(dir, "MANIFEST", old_manifest).is_ok());
  c = reopen(dir, o);
  auto all = read_all(*c);
  ASSERT_EQ(all.size(), 201u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].offset, i);
  EXPECT_EQ(c->checkpoint(), "cp");
  EXPECT_EQ(c->bounds().upper_ms, 300u);
}

TEST(Collection, OrphanFilesAreRemoved) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  auto c = fresh_collection(dir);
  ASSERT_TRUE(c->append(make_batch(1, {{"a", "1"}})).is_ok());
  c.reset();
  // An unfinished compaction output and a roll that died before its header was durable.
  std::string compacted = format::encode_segment_header({format::SegmentKind::kCompacted, 7, 90, 0});
  ASSERT_TRUE(io::write_file_atomic(dir, format::segment_file_name(90), compacted).is_ok());
  ASSERT_TRUE(io::write_file_atomic(dir, format::segment_file_name(91), "FRSH").is_ok());
  c = reopen(dir);
  EXPECT_EQ(c->recovery_report().removed_files, 2u) << c->recovery_report().to_string();
  EXPECT_FALSE(std::filesystem::exists(dir + "/" + format::segment_file_name(90)));
  EXPECT_EQ(read_all(*c).size(), 1u);
}

// A full disk (simulated: io's test-only fault) fails the append and poisons the collection;
// once writes work again the next append heals it (no reopen) and nothing acknowledged is lost,
// nothing failed appears. Also across a roll that fails half-way.
TEST(Collection, RecoversFromFailedWritesWithoutReopen) {
  TempDir tmp;
  std::string dir = tmp.path() + "/c";
  CollectionOptions o;
  o.segment_bytes = 4096;
  auto c = fresh_collection(dir, o);
  ASSERT_TRUE(c->append(make_batch(10, {{"a", "1"}})).is_ok());

  io::set_fail_writes_for_testing(ENOSPC);
  auto failed = c->append(make_batch(11, {{"b", "2"}}));
  ASSERT_FALSE(failed.is_ok());
  EXPECT_TRUE(io::is_disk_full(failed.status())) << failed.status().message();
  auto again = c->append(make_batch(12, {{"b", "2"}}));  // heal fails too: still full
  ASSERT_FALSE(again.is_ok());
  EXPECT_TRUE(io::is_disk_full(again.status())) << again.status().message();
  EXPECT_EQ(read_all(*c).size(), 1u);  // reads go on
  io::set_fail_writes_for_testing(0);

  auto ok = c->append(make_batch(13, {{"c", "3"}}));
  ASSERT_TRUE(ok.is_ok()) << ok.status().message();
  EXPECT_EQ(ok->first_offset, 1u);  // the failed batches took no offsets
  EXPECT_EQ(c->stats().heals, 1u);

  // Fill the segment so that the next group rolls, and fail the roll's segment creation.
  std::string big(1500, 'x');
  ASSERT_TRUE(c->append(make_batch(14, {{"d", big}})).is_ok());
  ASSERT_TRUE(c->append(make_batch(15, {{"e", big}})).is_ok());
  io::set_fail_writes_for_testing(ENOSPC);
  ASSERT_FALSE(c->append(make_batch(16, {{"f", big}})).is_ok());
  io::set_fail_writes_for_testing(0);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->append(make_batch(17 + i, {{"g" + std::to_string(i), big}})).is_ok());
  EXPECT_EQ(c->stats().heals, 2u);

  auto keys = [](const std::vector<Record>& rs) {
    std::string k;
    for (const auto& r : rs) k += row_text(r.key) + ",";
    return k;
  };
  std::string want = "a,c,d,e,g0,g1,g2,g3,g4,";
  EXPECT_EQ(keys(read_all(*c)), want);
  c->close();
  c.reset();
  auto r = reopen(dir, o);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->recovery_report().clean()) << r->recovery_report().to_string();
  EXPECT_EQ(keys(read_all(*r)), want);
}

}  // namespace
}  // namespace freshet::storage
