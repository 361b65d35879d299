// The dataflow engine alone, without the server (bench/dataflow_layout.sh, bench/README.md
// "Data layout"): wall and CPU time of
//   oneshot  a one-shot GROUP BY of ROWS rows (bigint id, int g, text s) into GROUPS groups with
//            count(*), sum(id), min(s), max(s);
//   stream   a maintained join + GROUP BY (bids of auctions, max price and count per category):
//            AUCTIONS auctions first, then STEPS steps of 1,000 bids each (a Nexmark
//            transaction), one step per timestamp.
// Usage: dataflow_layout WORKERS [RUNS]   (prints one line per workload: min of RUNS)
//
// On a shared machine wall time says more about the other processes than about the engine, so
// each line also gives the CPU seconds of every thread of the process (from
// /proc/self/task/*/schedstat, the nanoseconds each thread ran) and the busiest thread's: with
// a free core per worker, a run cannot take less wall time than its busiest thread, so
// cpu(1 worker) / busiest(2 workers) bounds what a second core can give (printed as "cpu bound").
#include <dirent.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "dataflow/oneshot.hpp"
#include "dataflow/test_util.hpp"

using namespace freshet;
using namespace freshet::dataflow;
using namespace freshet::dataflow::testing;

namespace {
double cpu_s() {
  timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}
double wall_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
// Nanoseconds each thread of this process has run, by thread id.
std::map<long, double> thread_cpu_s() {
  std::map<long, double> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream f(std::string("/proc/self/task/") + e->d_name + "/schedstat");
    double ns = 0;
    if (f >> ns) out[std::atol(e->d_name)] = ns / 1e9;
  }
  closedir(d);
  return out;
}
// The busiest thread's CPU seconds between two samples.
double busiest_s(const std::map<long, double>& a, const std::map<long, double>& b) {
  double m = 0;
  for (const auto& [tid, s] : b) {
    auto it = a.find(tid);
    m = std::max(m, s - (it == a.end() ? 0 : it->second));
  }
  return m;
}
size_t env_or(const char* name, size_t def) {
  const char* v = std::getenv(name);
  return v != nullptr ? static_cast<size_t>(std::atoll(v)) : def;
}
Row row3(int64_t id, int64_t g, const std::string& s) {
  std::vector<Datum> d{Datum::from_int(id), Datum::from_int(g), Datum::from_string(s)};
  return Row::pack(d);
}
Row row2(int64_t a, int64_t b) { return ints({a, b}); }
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: dataflow_layout WORKERS [RUNS]\n");
    return 2;
  }
  const size_t workers = static_cast<size_t>(std::atoi(argv[1]));
  const int runs = argc > 2 ? std::atoi(argv[2]) : 5;
  WorkerPool::configure(workers);
  const size_t rows = env_or("ROWS", 1'000'000), groups = env_or("GROUPS", 10'000);
  const size_t auctions = env_or("AUCTIONS", 10'000), steps = env_or("STEPS", 200);
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;

  // One-shot GROUP BY.
  std::vector<Row> table;
  table.reserve(rows);
  for (size_t i = 1; i <= rows; ++i)
    table.push_back(row3(static_cast<int64_t>(i), static_cast<int64_t>(i % groups), "row-" + std::to_string(i * 7919 % rows)));
  Type text(TypeId::kText);
  RelExpr g = reduce(get(1, 3), {col(1)},
                     {agg(AggKind::kCountStar, {}, int8()), agg(AggKind::kSum, col(0), Type(TypeId::kNumeric)),
                      agg(AggKind::kMin, col(2, text), text), agg(AggKind::kMax, col(2, text), text)});
  g.inputs[0].column_types = {int8(), int8(), text};
  double best_wall = 1e9, best_cpu = 1e9, best_busiest = 1e9;
  size_t out_rows = 0;
  for (int r = 0; r < runs; ++r) {
    auto t0 = thread_cpu_s();
    double w0 = wall_s(), c0 = cpu_s();
    auto out = run_oneshot(g, [&](uint64_t, const std::function<void(const Row&, int64_t)>& emit) {
      for (const Row& t : table) emit(t, 1);
    }, ctx, nullptr, 100'000'000);
    best_wall = std::min(best_wall, wall_s() - w0);
    best_cpu = std::min(best_cpu, cpu_s() - c0);
    best_busiest = std::min(best_busiest, busiest_s(t0, thread_cpu_s()));
    out_rows = out.size();
  }
  std::printf("oneshot  workers=%zu rows=%zu groups=%zu out=%zu  wall %.3f s  cpu %.3f s  busiest thread %.3f s\n",
              workers, rows, groups, out_rows, best_wall, best_cpu, best_busiest);

  // Maintained join + GROUP BY: bids(auction, price) JOIN auctions(id, category) -> per
  // category max(price), count(*).
  RelExpr j = join({get(1, 2), get(2, 2)}, {{col(0), col(2)}});
  RelExpr s = reduce(j, {col(3)}, {agg(AggKind::kMax, col(1), int8()), agg(AggKind::kCountStar, {}, int8())});
  best_wall = 1e9;
  best_cpu = 1e9;
  best_busiest = 1e9;
  for (int r = 0; r < runs; ++r) {
    Incremental df(s);
    std::vector<std::pair<Row, int64_t>> a;
    for (size_t i = 0; i < auctions; ++i) a.emplace_back(row2(static_cast<int64_t>(i), static_cast<int64_t>(i % 50)), 1);
    df.feed(2, a);
    df.step(1);
    auto t0 = thread_cpu_s();
    double w0 = wall_s(), c0 = cpu_s();
    uint64_t seed = 1;
    for (size_t st = 0; st < steps; ++st) {
      std::vector<std::pair<Row, int64_t>> bids;
      for (int k = 0; k < 1000; ++k) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        bids.emplace_back(row2(static_cast<int64_t>((seed >> 33) % auctions), static_cast<int64_t>(seed >> 45)), 1);
      }
      df.feed(1, bids);
      df.step(2 + st);
    }
    best_wall = std::min(best_wall, wall_s() - w0);
    best_cpu = std::min(best_cpu, cpu_s() - c0);
    best_busiest = std::min(best_busiest, busiest_s(t0, thread_cpu_s()));
  }
  double updates = static_cast<double>(steps) * 1000;
  std::printf("stream   workers=%zu steps=%zu x 1000 bids  wall %.3f s (%.0f updates/s)  cpu %.3f s  busiest thread %.3f s\n",
              workers, steps, best_wall, updates / best_wall, best_cpu, best_busiest);
  return 0;
}
