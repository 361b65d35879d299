// Crash safety: a child process appends from several threads (with small segments, so rolls
// and background compactions happen all the time) and is killed with SIGKILL at a random
// moment; the parent reopens the store and checks that every acknowledged batch is there
// exactly once, that no partial batch is visible, and that the checkpoint is the last batch's.
// 20 rounds; each round's child resumes after the previous one (as a source would).

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <filesystem>
#include <fstream>
#include <thread>

#include "storage/store.hpp"
#include "storage/test_util.hpp"

namespace freshet::storage {
namespace {

using testing::row_text;
using testing::TempDir;

constexpr uint64_t kCollection = 1;

StoreOptions child_options() {
  StoreOptions o;
  o.collection.segment_bytes = 8192;
  o.background_compaction = true;
  o.compaction_interval = std::chrono::milliseconds(3);
  return o;
}

// Batch id -> number of unique-key records. Keys: "b<id>.<i>"; plus "hot" = id in every batch.
int records_of(uint64_t id) { return 1 + static_cast<int>(id % 5); }

[[noreturn]] void child_main(const std::string& dir, int round, int fd) {
  auto store = Store::open(dir, child_options());
  if (!store) _exit(2);
  auto c = (*store)->get(kCollection);
  if (!c) _exit(3);
  std::atomic<uint64_t> next_id{static_cast<uint64_t>(round + 1) * 1'000'000};
  const uint64_t ts = static_cast<uint64_t>(round + 1) * 1000;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      while (true) {
        uint64_t id = next_id++;
        Batch b;
        b.timestamp_ms = ts;
        for (int i = 0; i < records_of(id); ++i)
          b.changes.push_back(Change::upsert(testing::text_row("b" + std::to_string(id) + "." + std::to_string(i)),
                                             testing::text_row(std::string(1 + id % 300, 'v'))));
        b.changes.push_back(Change::upsert(testing::text_row("hot"), testing::int_row(static_cast<int64_t>(id))));
        if (id % 3 != 0) b.checkpoint = std::to_string(id);
        auto r = c->append(std::move(b));
        if (!r) _exit(4);
        ssize_t w = ::write(fd, &id, sizeof id);  // acknowledged
        if (w != sizeof id) _exit(5);
      }
    });
  }
  for (auto& t : threads) t.join();
  _exit(0);
}

// Appends the first part of a plausible frame (a real length, a wrong CRC, some bytes) to the
// active segment: the newest kLog segment (compaction outputs are newer files but kCompacted).
void append_torn_frame(const std::string& dir, std::mt19937& rng) {
  std::string cdir = dir + "/collections/00000000000000000001";
  std::string path;
  uint64_t best = 0;
  for (const auto& e : std::filesystem::directory_iterator(cdir)) {
    auto seq = format::parse_segment_file_name(e.path().filename().string());
    if (!seq) continue;
    std::string hdr(format::kSegmentHeaderBytes, '\0');
    std::ifstream f(e.path(), std::ios::binary);
    f.read(hdr.data(), static_cast<std::streamsize>(hdr.size()));
    auto h = format::decode_segment_header(hdr);
    if (h && h->kind == format::SegmentKind::kLog && *seq >= best) {
      best = *seq;
      path = e.path().string();
    }
  }
  ASSERT_FALSE(path.empty());
  uint32_t len = 100 + rng() % 400;
  std::string torn(reinterpret_cast<const char*>(&len), 4);
  torn += std::string("\x01\x02\x03\x04", 4);
  torn += std::string(rng() % len, static_cast<char>(rng()));
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << torn;
}

TEST(Crash, KillDuringAppendsLosesNothingAcknowledged) {
  TempDir tmp;
  std::string dir = tmp.path() + "/data";
  {
    auto store = Store::open(dir, {});
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    ASSERT_TRUE((*store)->create(kCollection, "crash").is_ok());
  }
  std::mt19937 rng(12345);
  std::set<uint64_t> acked_all;
  uint64_t truncations = 0, total_batches = 0;
  for (int round = 0; round < 20; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      child_main(dir, round, fds[1]);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(20'000 + rng() % 150'000));
    ::kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);
    uint64_t id;
    while (::read(fds[0], &id, sizeof id) == sizeof id) acked_all.insert(id);
    ::close(fds[0]);
    // SIGKILL leaves the page cache intact, so it never tears a write by itself. Every other
    // round, add what a power cut could leave after the last fdatasync: a partial frame.
    if (round % 2 == 1) append_torn_frame(dir, rng);

    StoreOptions o;
    o.background_compaction = false;
    auto store = Store::open(dir, o);
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    for (const auto& [cid, rep] : (*store)->recovery_reports()) truncations += rep.truncated_bytes > 0;
    auto c = (*store)->get(kCollection);
    ASSERT_TRUE(c);
    std::map<uint64_t, std::vector<uint64_t>> offsets_by_batch;  // batch id -> offsets of its unique keys
    std::set<std::string> keys;
    uint64_t last_offset = 0, last_hot = 0;
    bool any = false;
    Status s = c->scan(0, UINT64_MAX, [&](const RecordView& rv) {
      EXPECT_TRUE(!any || rv.offset > last_offset);
      any = true;
      last_offset = rv.offset;
      std::string k = row_text(Row(std::string(rv.key)));
      if (k == "hot") {
        last_hot = static_cast<uint64_t>(Row(std::string(*rv.value)).get(0).as_int());
        return true;
      }
      EXPECT_TRUE(keys.insert(k).second) << "duplicate record " << k;  // exactly once
      uint64_t bid = std::stoull(k.substr(1, k.find('.') - 1));
      offsets_by_batch[bid].push_back(rv.offset);
      return true;
    });
    ASSERT_TRUE(s.is_ok()) << s.message();
    for (uint64_t a : acked_all) EXPECT_TRUE(offsets_by_batch.count(a)) << "acknowledged batch " << a << " lost in round " << round;
    std::map<uint64_t, uint64_t> batch_by_first_offset;
    for (const auto& [bid, offs] : offsets_by_batch) {
      ASSERT_EQ(offs.size(), size_t(records_of(bid))) << "partial batch " << bid;
      for (size_t i = 1; i < offs.size(); ++i) EXPECT_EQ(offs[i], offs[i - 1] + 1) << "batch " << bid << " not contiguous";
      batch_by_first_offset[offs[0]] = bid;
    }
    uint64_t last_batch = batch_by_first_offset.empty() ? 0 : batch_by_first_offset.rbegin()->second;
    std::optional<uint64_t> want_cp;  // the last batch, in log order, that carried a checkpoint
    for (auto it = batch_by_first_offset.rbegin(); it != batch_by_first_offset.rend() && !want_cp; ++it)
      if (it->second % 3 != 0) want_cp = it->second;
    total_batches = offsets_by_batch.size();
    // The newest "hot" value and the checkpoint both come from the last batch in the log.
    if (!offsets_by_batch.empty()) {
      EXPECT_EQ(last_hot, last_batch);
      auto cp = c->checkpoint();
      ASSERT_EQ(cp.has_value(), want_cp.has_value());
      if (cp) {
        EXPECT_EQ(std::stoull(*cp), *want_cp);
      }
    }
    EXPECT_EQ(c->bounds().next_offset, last_offset + 1);
  }
  EXPECT_GT(acked_all.size(), 100u);
  EXPECT_GE(truncations, 10u);
  EXPECT_GE(total_batches, acked_all.size());
  std::printf("crash test: %zu acknowledged batches, %llu in the log, %llu rounds truncated a torn tail\n",
              acked_all.size(), static_cast<unsigned long long>(total_batches), static_cast<unsigned long long>(truncations));
}

}  // namespace
}  // namespace freshet::storage
