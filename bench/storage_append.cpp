// storage_append: group-commit throughput of a collection (src/storage). N threads append
// small batches to one collection for a few seconds each; prints appends/s, records/s,
// fsyncs/s (group commits), batches per fsync, MB/s and append latency percentiles.
//
//   storage_append [--dir DIR] [--seconds S] [--threads 1,4,16,64] [--records R] [--value-bytes B]
//
// DIR defaults to a fresh directory under $TMPDIR (or /tmp); it is removed afterwards. Run it
// on the disk you care about: the numbers are fdatasync-bound.

#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include "common/datum.hpp"
#include "common/row.hpp"
#include "storage/store.hpp"

using namespace freshet;
using namespace freshet::storage;
using Clock = std::chrono::steady_clock;

namespace {

Row text_row(const std::string& s) {
  Datum d = Datum::from_string(s);
  return Row::pack(std::span<const Datum>(&d, 1));
}

std::vector<int> parse_list(const char* s) {
  std::vector<int> out;
  std::string str(s);
  size_t pos = 0;
  while (pos < str.size()) {
    size_t comma = str.find(',', pos);
    out.push_back(std::stoi(str.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos)));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

// The disk's own rate: 1 s of append-600-bytes + fdatasync on one file, for comparison.
double raw_fdatasync_per_s(const std::string& dir) {
  std::string path = dir + "/probe";
  int fd = ::open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return 0;
  std::string buf(600, 'x');
  auto start = Clock::now();
  int n = 0;
  while (Clock::now() - start < std::chrono::seconds(1)) {
    if (::write(fd, buf.data(), buf.size()) != static_cast<ssize_t>(buf.size()) || ::fdatasync(fd) != 0) break;
    ++n;
  }
  ::close(fd);
  ::unlink(path.c_str());
  return n / std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir;
  double seconds = 2.0;
  std::vector<int> thread_counts = {1, 4, 16, 64};
  int records = 4;
  int value_bytes = 100;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
    else if (!std::strcmp(argv[i], "--seconds")) seconds = std::stod(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--threads")) thread_counts = parse_list(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--records")) records = std::stoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--value-bytes")) value_bytes = std::stoi(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--dir DIR] [--seconds S] [--threads 1,4,16] [--records R] [--value-bytes B]\n", argv[0]);
      return 2;
    }
  }
  bool own_dir = dir.empty();
  if (own_dir) {
    std::string tmpl = (std::filesystem::temp_directory_path() / "freshet-bench-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      std::perror("mkdtemp");
      return 1;
    }
    dir = tmpl;
  }
  StoreOptions opts;
  opts.background_compaction = false;
  auto store = Store::open(dir, opts);
  if (!store) {
    std::fprintf(stderr, "open %s: %s\n", dir.c_str(), store.status().message().c_str());
    return 1;
  }
  std::printf("dir %s, %d records of %d-byte values per batch, %.1f s per run\n", dir.c_str(), records, value_bytes, seconds);
  std::printf("raw disk: %.0f fdatasync/s (600-byte appends, one thread)\n", raw_fdatasync_per_s(dir));
  std::printf("%8s %12s %12s %10s %14s %9s %9s %9s\n", "threads", "appends/s", "records/s", "fsyncs/s", "batches/fsync",
              "MB/s", "p50_us", "p99_us");
  uint64_t id = 1;
  for (int nthreads : thread_counts) {
    auto c = (*store)->create(id, "bench" + std::to_string(id));
    ++id;
    if (!c) {
      std::fprintf(stderr, "create: %s\n", c.status().message().c_str());
      return 1;
    }
    std::atomic<bool> stop{false};
    std::atomic<bool> failed{false};
    std::vector<std::vector<uint32_t>> lat(nthreads);
    std::vector<std::thread> ts;
    CollectionStats before = (*c)->stats();
    auto start = Clock::now();
    for (int t = 0; t < nthreads; ++t) {
      ts.emplace_back([&, t] {
        std::string value(static_cast<size_t>(value_bytes), 'v');
        uint64_t n = 0;
        while (!stop.load(std::memory_order_relaxed)) {
          Batch b;
          b.timestamp_ms = 1;
          for (int r = 0; r < records; ++r)
            b.changes.push_back(Change::upsert(text_row("t" + std::to_string(t) + "-" + std::to_string(n++)), text_row(value)));
          auto t0 = Clock::now();
          auto res = (*c)->append(std::move(b));
          if (!res) {
            std::fprintf(stderr, "append: %s\n", res.status().message().c_str());
            failed = true;
            return;
          }
          lat[t].push_back(static_cast<uint32_t>(std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count()));
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
    stop = true;
    for (auto& th : ts) th.join();
    double el = std::chrono::duration<double>(Clock::now() - start).count();
    if (failed) return 1;
    CollectionStats after = (*c)->stats();
    std::vector<uint32_t> all;
    for (auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    std::sort(all.begin(), all.end());
    auto pct = [&](double p) { return all.empty() ? 0u : all[std::min(all.size() - 1, static_cast<size_t>(p * all.size()))]; };
    double batches = static_cast<double>(after.batches - before.batches);
    double groups = static_cast<double>(after.groups - before.groups);
    std::printf("%8d %12.0f %12.0f %10.0f %14.1f %9.1f %9u %9u\n", nthreads, batches / el,
                static_cast<double>(after.records - before.records) / el, groups / el, groups > 0 ? batches / groups : 0.0,
                static_cast<double>(after.bytes_written - before.bytes_written) / el / 1e6, pct(0.5), pct(0.99));
    std::fflush(stdout);
  }
  (*store)->close();
  store->reset();
  if (own_dir) std::filesystem::remove_all(dir);
  return 0;
}
