// Media damage (src/storage/repair.hpp): damage followed by intact frames refuses to open and
// leaves the file as it is; repair_data_dir keeps every intact frame, moves the damaged file
// aside and reports what was lost; a torn tail still recovers silently.
#include "storage/repair.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/io.hpp"
#include "storage/store.hpp"
#include "storage/test_util.hpp"

namespace freshet::storage {
namespace {

using testing::make_batch;
using testing::read_all;
using testing::row_text;
using testing::TempDir;

StoreOptions small_segments(uint64_t bytes) {
  StoreOptions o;
  o.background_compaction = false;
  o.collection.segment_bytes = bytes;
  return o;
}

std::string seg_path(const std::string& data, uint64_t id, uint64_t seq) {
  std::string digits = std::to_string(id);
  return data + "/collections/" + std::string(20 - digits.size(), '0') + digits + "/" + format::segment_file_name(seq);
}

void flip(const std::string& path, uint64_t pos) {
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(pos));
  char ch;
  f.get(ch);
  f.seekp(static_cast<std::streamoff>(pos));
  f.put(static_cast<char>(ch ^ 0x40));
}

std::string slurp(const std::string& path) {
  auto b = io::read_file(path);
  return b ? *b : std::string();
}

// Ten one-record batches "k0".."k9" in collection 7.
void fill(const std::string& data, const StoreOptions& o) {
  auto st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  auto c = (*st)->create(7, "t");
  ASSERT_TRUE(c.is_ok());
  for (int i = 0; i < 10; ++i) ASSERT_TRUE((*c)->append(make_batch(10 + i, {{"k" + std::to_string(i), std::string(100, 'v')}})).is_ok());
}

std::string keys(const Collection& c) {
  std::string k;
  for (const auto& r : read_all(c)) k += row_text(r.key) + ",";
  return k;
}

TEST(Repair, DamageInTheActiveSegmentIsNotATornTail) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  StoreOptions o = small_segments(64u << 20);
  fill(data, o);
  std::string seg = seg_path(data, 7, 1);
  // The third frame's body (each frame: 8-byte header + body; the segment header is 48 bytes).
  uint64_t frame = (std::filesystem::file_size(seg) - format::kSegmentHeaderBytes) / 10;
  flip(seg, format::kSegmentHeaderBytes + 2 * frame + 40);
  std::string damaged = slurp(seg);

  auto st = Store::open(data, o);
  ASSERT_FALSE(st.is_ok());
  std::string msg = st.status().message();
  EXPECT_NE(msg.find("\"t\""), std::string::npos) << msg;
  EXPECT_NE(msg.find("damaged at byte " + std::to_string(format::kSegmentHeaderBytes + 2 * frame)), std::string::npos) << msg;
  EXPECT_NE(msg.find("7 intact frames"), std::string::npos) << msg;
  EXPECT_NE(msg.find("offsets 3..9"), std::string::npos) << msg;
  EXPECT_NE(msg.find("freshet repair"), std::string::npos) << msg;
  EXPECT_EQ(slurp(seg), damaged);  // kept as it was

  auto rep = repair_data_dir(data);
  ASSERT_TRUE(rep.is_ok()) << rep.status().message();
  EXPECT_EQ(rep->damaged_files, 1u);
  EXPECT_EQ(rep->kept_frames, 9u);
  std::string all;
  for (const auto& l : rep->lines) all += l + "\n";
  EXPECT_NE(all.find("offsets 2..2 (1 records) lost"), std::string::npos) << all;
  EXPECT_EQ(slurp(data + "/damaged/00000000000000000007/" + format::segment_file_name(1)), damaged);

  st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  auto c = (*st)->get(7);
  EXPECT_TRUE(c->recovery_report().clean()) << c->recovery_report().to_string();
  EXPECT_EQ(keys(*c), "k0,k1,k3,k4,k5,k6,k7,k8,k9,");
  auto r = c->append(make_batch(30, {{"new", "1"}}));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->first_offset, 10u);
  st.value().reset();  // releases the LOCK
  // A second repair finds nothing.
  rep = repair_data_dir(data);
  ASSERT_TRUE(rep.is_ok());
  EXPECT_EQ(rep->damaged_files, 0u);
}

TEST(Repair, TornTailStillRecoversSilently) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  StoreOptions o = small_segments(64u << 20);
  fill(data, o);
  std::string seg = seg_path(data, 7, 1);
  uint64_t size = std::filesystem::file_size(seg);
  flip(seg, size - 10);  // inside the last frame: nothing intact after it
  auto st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(keys(*(*st)->get(7)), "k0,k1,k2,k3,k4,k5,k6,k7,k8,");
}

TEST(Repair, DamageInASealedSegment) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  StoreOptions o = small_segments(400);  // about two batches per segment
  fill(data, o);
  std::string seg = seg_path(data, 7, 1);
  ASSERT_TRUE(std::filesystem::exists(seg_path(data, 7, 3)));  // 1 and 2 are sealed
  flip(seg, format::kSegmentHeaderBytes + 30);  // the first frame
  {
    auto st = Store::open(data, o);  // sealed segments are checked when read
    ASSERT_TRUE(st.is_ok()) << st.status().message();
    auto snap = (*st)->get(7)->snapshot();
    ASSERT_FALSE(snap.is_ok());
    EXPECT_NE(snap.status().message().find("freshet repair"), std::string::npos) << snap.status().message();
  }
  auto rep = repair_data_dir(data);
  ASSERT_TRUE(rep.is_ok()) << rep.status().message();
  EXPECT_EQ(rep->damaged_files, 1u);
  auto st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(keys(*(*st)->get(7)), "k1,k2,k3,k4,k5,k6,k7,k8,k9,");
  ASSERT_TRUE((*st)->get(7)->snapshot().is_ok());
}

TEST(Repair, DamagedManifestIsRebuilt) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  StoreOptions o = small_segments(400);
  fill(data, o);
  std::string man = data + "/collections/00000000000000000007/MANIFEST";
  flip(man, 20);
  {
    auto st = Store::open(data, o);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.status().message().find("MANIFEST"), std::string::npos) << st.status().message();
    EXPECT_NE(st.status().message().find("freshet repair"), std::string::npos) << st.status().message();
  }
  auto rep = repair_data_dir(data);
  ASSERT_TRUE(rep.is_ok()) << rep.status().message();
  EXPECT_TRUE(std::filesystem::exists(data + "/damaged/00000000000000000007/MANIFEST"));
  auto st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(keys(*(*st)->get(7)), "k0,k1,k2,k3,k4,k5,k6,k7,k8,k9,");
  auto r = (*st)->get(7)->append(make_batch(30, {{"new", "1"}}));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->first_offset, 10u);
}

TEST(Repair, RefusesWhileTheDirectoryIsInUse) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  auto st = Store::open(data, small_segments(64u << 20));
  ASSERT_TRUE(st.is_ok());
  auto rep = repair_data_dir(data);
  ASSERT_FALSE(rep.is_ok());
  EXPECT_NE(rep.status().message().find("in use"), std::string::npos);
}

// After compaction (kind = compacted segments, offsets with gaps), a damaged MANIFEST is rebuilt
// from the segments: the compacted outputs, not the inputs they replaced, then the log tail.
TEST(Repair, ManifestRebuiltAfterCompaction) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  StoreOptions o = small_segments(400);
  std::string want;
  {
    auto st = Store::open(data, o);
    ASSERT_TRUE(st.is_ok());
    auto c = (*st)->create(7, "t");
    ASSERT_TRUE(c.is_ok());
    for (int i = 0; i < 30; ++i)
      ASSERT_TRUE((*c)->append(make_batch(10 + i, {{"k" + std::to_string(i % 4), std::string(60, 'a' + i % 26)}})).is_ok());
    auto rep = (*c)->compact();
    ASSERT_TRUE(rep.is_ok()) << rep.status().message();
    ASSERT_GT(rep->segments_in, 0u);
    for (int i = 30; i < 34; ++i) ASSERT_TRUE((*c)->append(make_batch(10 + i, {{"k" + std::to_string(i % 4), "new"}})).is_ok());
    auto snap = (*c)->snapshot();
    ASSERT_TRUE(snap.is_ok());
    for (const auto& r : snap->records) want += row_text(r.key) + "=" + row_text(*r.value) + ",";
  }
  flip(data + "/collections/00000000000000000007/MANIFEST", 20);
  auto rep = repair_data_dir(data);
  ASSERT_TRUE(rep.is_ok()) << rep.status().message();
  auto st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  auto snap = (*st)->get(7)->snapshot();
  ASSERT_TRUE(snap.is_ok()) << snap.status().message();
  std::string got;
  for (const auto& r : snap->records) got += row_text(r.key) + "=" + row_text(*r.value) + ",";
  EXPECT_EQ(got, want);
  EXPECT_EQ((*st)->get(7)->bounds().next_offset, 34u);
}

// With ACKED kept (the catalog), damage in the last frame is no longer taken for a torn write:
// those records were acknowledged. A real torn write (bytes after the acknowledged end) still is.
TEST(Repair, AckedEndTellsDamagedLastFrameFromTornWrite) {
  TempDir tmp;
  std::string data = tmp.path() + "/d";
  StoreOptions o = small_segments(64u << 20);
  {
    auto st = Store::open(data, o);
    ASSERT_TRUE(st.is_ok());
    auto c = (*st)->create(7, "t");
    ASSERT_TRUE(c.is_ok());
    ASSERT_TRUE((*c)->enable_acked_marker().is_ok());
    for (int i = 0; i < 10; ++i) ASSERT_TRUE((*c)->append(make_batch(10 + i, {{"k" + std::to_string(i), "v"}})).is_ok());
  }
  std::string seg = seg_path(data, 7, 1);
  {  // a torn write after the acknowledged end: cut silently
    std::ofstream f(seg, std::ios::app | std::ios::binary);
    f << std::string("\x40\x00\x00\x00half-a-frame", 16);
  }
  {
    auto st = Store::open(data, o);
    ASSERT_TRUE(st.is_ok()) << st.status().message();
    EXPECT_EQ(keys(*(*st)->get(7)), "k0,k1,k2,k3,k4,k5,k6,k7,k8,k9,");
  }
  flip(seg, std::filesystem::file_size(seg) - 5);  // inside the last (acknowledged) frame
  std::string damaged = slurp(seg);
  {
    auto st = Store::open(data, o);
    ASSERT_FALSE(st.is_ok());
    EXPECT_NE(st.status().message().find("were acknowledged"), std::string::npos) << st.status().message();
    EXPECT_EQ(slurp(seg), damaged);
  }
  auto rep = repair_data_dir(data);
  ASSERT_TRUE(rep.is_ok()) << rep.status().message();
  std::string all;
  for (const auto& l : rep->lines) all += l + "\n";
  EXPECT_NE(all.find("acknowledged records at offsets 9..9 (1 records) lost"), std::string::npos) << all;
  EXPECT_EQ(slurp(data + "/damaged/00000000000000000007/" + format::segment_file_name(1)), damaged);
  auto st = Store::open(data, o);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  EXPECT_EQ(keys(*(*st)->get(7)), "k0,k1,k2,k3,k4,k5,k6,k7,k8,");
  ASSERT_TRUE((*st)->get(7)->append(make_batch(40, {{"new", "1"}})).is_ok());
}

}  // namespace
}  // namespace freshet::storage
