#include "storage/store.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "storage/test_util.hpp"

namespace freshet::storage {
namespace {

using testing::make_batch;
using testing::TempDir;

// Every file and directory is owner-only, also files made after start (new segments, the
// manifest rewritten) and those of a data directory an older version made world-readable.
TEST(Store, FilesAreOwnerOnly) {
  namespace fs = std::filesystem;
  TempDir tmp;
  std::string dir = tmp.path() + "/data";
  auto check = [&](const char* when) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      fs::perms p = e.symlink_status().permissions() & fs::perms::mask;
      fs::perms others = fs::perms::group_all | fs::perms::others_all;
      EXPECT_EQ(p & others, fs::perms::none) << when << ": " << e.path() << " is " << std::oct << static_cast<int>(p);
    }
    EXPECT_EQ(fs::status(dir).permissions() & fs::perms::mask, fs::perms::owner_all) << when;
  };
  {
    StoreOptions o;
    o.collection.segment_bytes = 512;  // many sealed segments, then a compaction
    auto st = Store::open(dir, o);
    ASSERT_TRUE(st.is_ok()) << st.status().message();
    auto c = (*st)->create(3, "t");
    ASSERT_TRUE(c.is_ok());
    for (int i = 0; i < 50; ++i) ASSERT_TRUE((*c)->append(make_batch(10 + i, {{"k" + std::to_string(i % 5), "v"}})).is_ok());
    ASSERT_TRUE((*c)->compact().is_ok());
    check("after writes and a compaction");
  }
  // An older data directory: 0755 / 0644 everywhere. Opening tightens it.
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    fs::permissions(e.path(), e.is_directory() ? fs::perms(0755) : fs::perms(0644), fs::perm_options::replace);
  }
  fs::permissions(dir, fs::perms(0755), fs::perm_options::replace);
  {
    auto st = Store::open(dir);
    ASSERT_TRUE(st.is_ok()) << st.status().message();
    check("after reopening an old directory");
  }
}

TEST(Store, CreateListDropReopen) {
  TempDir tmp;
  std::string dir = tmp.path() + "/data";
  {
    auto st = Store::open(dir);
    ASSERT_TRUE(st.is_ok()) << st.status().message();
    Store& s = **st;
    auto a = s.create(1, "catalog");
    ASSERT_TRUE(a.is_ok()) << a.status().message();
    auto b = s.create(42, "shop.public.sales");
    ASSERT_TRUE(b.is_ok());
    EXPECT_FALSE(s.create(42, "again").is_ok());
    ASSERT_TRUE((*b)->append(make_batch(5, {{"k", "v"}})).is_ok());
    auto c = s.create(7, "dropme");
    ASSERT_TRUE(c.is_ok());
    ASSERT_TRUE(s.drop(7).is_ok());
    EXPECT_FALSE((*c)->append(make_batch(1, {{"k", "v"}})).is_ok());  // closed
    EXPECT_FALSE(s.drop(7).is_ok());
    auto l = s.list();
    ASSERT_EQ(l.size(), 2u);
    EXPECT_EQ(l[0].id, 1u);
    EXPECT_EQ(l[1].name, "shop.public.sales");
    EXPECT_EQ(l[1].bounds.next_offset, 1u);
    // A second Store on the same directory is refused.
    EXPECT_FALSE(Store::open(dir).is_ok());
  }
  // Leftovers of a create and a drop that crashed halfway.
  std::filesystem::create_directories(dir + "/collections/00000000000000000009.creating");
  std::filesystem::create_directories(dir + "/collections/00000000000000000008.dropped");
  auto st = Store::open(dir);
  ASSERT_TRUE(st.is_ok()) << st.status().message();
  auto l = (*st)->list();
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[1].id, 42u);
  EXPECT_EQ(l[1].name, "shop.public.sales");
  EXPECT_EQ(l[1].bounds.next_offset, 1u);
  EXPECT_EQ(l[1].bounds.upper_ms, 5u);
  EXPECT_FALSE(std::filesystem::exists(dir + "/collections/00000000000000000009.creating"));
  EXPECT_FALSE(std::filesystem::exists(dir + "/collections/00000000000000000008.dropped"));
  EXPECT_EQ((*st)->get(7), nullptr);
}

TEST(Store, BackgroundCompaction) {
  TempDir tmp;
  StoreOptions o;
  o.collection.segment_bytes = 2048;
  o.compaction_interval = std::chrono::milliseconds(5);
  auto st = Store::open(tmp.path() + "/data", o);
  ASSERT_TRUE(st.is_ok());
  auto c = (*st)->create(3, "t");
  ASSERT_TRUE(c.is_ok());
  for (int i = 0; i < 400; ++i) ASSERT_TRUE((*c)->append(make_batch(i, {{"k" + std::to_string(i % 4), std::to_string(i)}})).is_ok());
  for (int i = 0; i < 400 && (*c)->stats().compactions == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_GT((*c)->stats().compactions, 0u);
  EXPECT_EQ((*st)->last_compaction_error(), "");
  auto snap = (*c)->snapshot();
  ASSERT_TRUE(snap.is_ok());
  EXPECT_EQ(snap->records.size(), 4u);
  (*st)->close();
}

}  // namespace
}  // namespace freshet::storage

namespace freshet::storage {
namespace {

TEST(Store, DataVersionAndOffsetForTime) {
  TempDir tmp;
  auto st = Store::open(tmp.path() + "/data");
  ASSERT_TRUE(st.is_ok());
  auto c = (*st)->create(1, "t");
  ASSERT_TRUE(c.is_ok());
  uint64_t v0 = (*st)->data_version();
  std::thread w([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE((*c)->append(make_batch(100, {{"a", "1"}, {"b", "1"}})).is_ok());
  });
  (*st)->wait_for_data(v0, std::chrono::steady_clock::now() + std::chrono::seconds(10));
  EXPECT_GT((*st)->data_version(), v0);
  w.join();
  ASSERT_TRUE((*c)->append(make_batch(200, {{"c", "1"}})).is_ok());
  ASSERT_TRUE((*c)->roll().is_ok());
  ASSERT_TRUE((*c)->append(make_batch(300, {{"d", "1"}})).is_ok());
  EXPECT_EQ(*(*c)->offset_for_time(0), 0u);
  EXPECT_EQ(*(*c)->offset_for_time(100), 0u);
  EXPECT_EQ(*(*c)->offset_for_time(101), 2u);
  EXPECT_EQ(*(*c)->offset_for_time(250), 3u);
  EXPECT_EQ(*(*c)->offset_for_time(301), 4u);
}

}  // namespace
}  // namespace freshet::storage
