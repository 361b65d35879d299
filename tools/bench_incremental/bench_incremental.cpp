// The libpq client of bench/incremental.sh. The same binary drives Freshet and PostgreSQL, so
// both engines are measured by the same client code over the same protocol (extended query,
// prepared statements).
//
//   bench_incremental latency --port P --updates N [--rows R]
//       N single-row UPDATEs of sales.qty, each followed by point lookups of the affected
//       (region, category) group of seg_sales until the new sum is visible. Prints p50/p99 of the
//       UPDATE's acknowledgement and of "visible", and how many lookups that took. With --wait 0
//       only the same UPDATEs (same seed), timed to their acknowledgement.
//   bench_incremental lookups --port P --threads T --seconds S --sql SQL --keys K
//       T connections, each a prepared SQL with one int parameter (a key in [1, K]) in a loop.
//       Prints queries/s and per-query p50/p99.
//   bench_incremental exec --port P --runs N --sql SQL
//       Runs SQL N times, prints each time and the median (ms).
//
// The sales -> (customer, product) -> (region, category) mapping is computed from the formulas of
// bench/gen_data.awk, so the client needs no query to find a row's group.
#include <libpq-fe.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string mode;
  std::string host = "127.0.0.1";
  std::string port;
  std::string user = "freshet";
  std::string db = "freshet";
  std::string sql;
  int64_t rows = 1000000;
  int updates = 500;
  int threads = 16;
  double seconds = 10;
  int keys = 10000;
  int runs = 3;
  bool wait = true;  // latency: wait for the change to be visible in seg_sales
};

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "bench_incremental: %s\n", msg.c_str());
  std::exit(2);
}

PGconn* connect(const Options& o) {
  std::string conninfo = "host=" + o.host + " port=" + o.port + " user=" + o.user + " dbname=" + o.db +
                         " application_name=bench_incremental connect_timeout=15";
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) die(std::string("connect: ") + PQerrorMessage(c));
  return c;
}

void prepare(PGconn* c, const char* name, const std::string& sql, int nparams) {
  PGresult* r = PQprepare(c, name, sql.c_str(), nparams, nullptr);
  if (PQresultStatus(r) != PGRES_COMMAND_OK) die("prepare " + sql + ": " + PQresultErrorMessage(r));
  PQclear(r);
}

// Runs a prepared statement; returns the result (caller clears) or dies on error.
PGresult* exec_prepared(PGconn* c, const char* name, std::vector<std::string> const& params) {
  std::vector<const char*> vals;
  vals.reserve(params.size());
  for (const auto& p : params) vals.push_back(p.c_str());
  PGresult* r = PQexecPrepared(c, name, static_cast<int>(vals.size()), vals.data(), nullptr, nullptr, 0);
  ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) die(std::string(name) + ": " + PQresultErrorMessage(r));
  return r;
}

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// bench/gen_data.awk's formulas.
const char* const kRegions[] = {"north", "south", "east", "west", "central"};
const char* const kCategories[] = {"tools", "garden", "kitchen", "toys", "books", "sports", "music", "office"};
int64_t customer_of(int64_t sale) { return (sale * 7919) % 10000 + 1; }
int64_t product_of(int64_t sale) { return (sale * 104729 + sale / 7) % 1000 + 1; }
const char* region_of(int64_t customer) { return kRegions[(customer * 7) % 5]; }
const char* category_of(int64_t product) { return kCategories[(product * 3) % 8]; }

int run_latency(const Options& o) {
  PGconn* c = connect(o);
  prepare(c, "upd", "UPDATE sales SET qty = qty + 1 WHERE id = $1", 1);
  prepare(c, "get", "SELECT units FROM seg_sales WHERE region = $1 AND category = $2", 2);
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int64_t> pick(1, o.rows);
  std::vector<double> ack_ms, visible_ms;
  int64_t lookups_total = 0, max_lookups = 0;
  for (int i = 0; i < o.updates; ++i) {
    int64_t sale = pick(rng);
    std::string region = region_of(customer_of(sale)), category = category_of(product_of(sale));
    PGresult* r = nullptr;
    int64_t before = 0;
    if (o.wait) {
      r = exec_prepared(c, "get", {region, category});
      if (PQntuples(r) != 1) die("group " + region + "/" + category + " not found");
      before = std::atoll(PQgetvalue(r, 0, 0));
      PQclear(r);
    }
    auto t0 = Clock::now();
    r = exec_prepared(c, "upd", {std::to_string(sale)});
    if (std::strcmp(PQcmdTuples(r), "1") != 0) die("UPDATE of sale " + std::to_string(sale) + " touched " + PQcmdTuples(r) + " rows");
    PQclear(r);
    ack_ms.push_back(ms_since(t0));
    if (!o.wait) continue;
    int64_t n = 0;
    while (true) {
      ++n;
      r = exec_prepared(c, "get", {region, category});
      int64_t now = PQntuples(r) == 1 ? std::atoll(PQgetvalue(r, 0, 0)) : -1;
      PQclear(r);
      if (now == before + 1) break;
      if (ms_since(t0) > 30000) die("the update of sale " + std::to_string(sale) + " was not visible after 30 s");
    }
    visible_ms.push_back(ms_since(t0));
    lookups_total += n;
    max_lookups = std::max(max_lookups, n);
  }
  if (!o.wait) visible_ms = ack_ms;
  std::printf("latency updates=%d ack_p50_ms=%.3f ack_p99_ms=%.3f visible_p50_ms=%.3f visible_p99_ms=%.3f "
              "lookups_per_update_avg=%.2f lookups_per_update_max=%lld\n",
              o.updates, percentile(ack_ms, 0.5), percentile(ack_ms, 0.99), percentile(visible_ms, 0.5),
              percentile(visible_ms, 0.99), static_cast<double>(lookups_total) / std::max(o.updates, 1),
              static_cast<long long>(max_lookups));
  PQfinish(c);
  return 0;
}

int run_lookups(const Options& o) {
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(o.threads));
  std::vector<int64_t> counts(static_cast<size_t>(o.threads), 0), empties(static_cast<size_t>(o.threads), 0);
  std::vector<std::thread> ts;
  std::atomic<int> ready{0};
  for (int t = 0; t < o.threads; ++t) {
    ts.emplace_back([&, t] {
      PGconn* c = connect(o);
      prepare(c, "q", o.sql, 1);
      std::mt19937_64 rng(static_cast<uint64_t>(t) + 1);
      std::uniform_int_distribution<int> pick(1, o.keys);
      auto& l = lat[static_cast<size_t>(t)];
      l.reserve(1 << 20);
      ++ready;
      while (!go.load()) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        auto t0 = Clock::now();
        PGresult* r = exec_prepared(c, "q", {std::to_string(pick(rng))});
        if (PQntuples(r) == 0) ++empties[static_cast<size_t>(t)];
        PQclear(r);
        l.push_back(ms_since(t0));
        ++counts[static_cast<size_t>(t)];
      }
      PQfinish(c);
    });
  }
  while (ready.load() < o.threads) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto t0 = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(o.seconds));
  stop = true;
  for (auto& t : ts) t.join();
  double secs = ms_since(t0) / 1000;
  int64_t total = 0, empty = 0;
  std::vector<double> all;
  for (int t = 0; t < o.threads; ++t) {
    total += counts[static_cast<size_t>(t)];
    empty += empties[static_cast<size_t>(t)];
    all.insert(all.end(), lat[static_cast<size_t>(t)].begin(), lat[static_cast<size_t>(t)].end());
  }
  std::printf("lookups threads=%d queries=%lld qps=%.0f p50_ms=%.3f p99_ms=%.3f empty=%lld\n", o.threads,
              static_cast<long long>(total), static_cast<double>(total) / secs, percentile(all, 0.5),
              percentile(all, 0.99), static_cast<long long>(empty));
  return 0;
}

int run_exec(const Options& o) {
  PGconn* c = connect(o);
  std::vector<double> ms;
  for (int i = 0; i < o.runs; ++i) {
    auto t0 = Clock::now();
    PGresult* r = PQexec(c, o.sql.c_str());
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) die(o.sql + ": " + PQresultErrorMessage(r));
    PQclear(r);
    ms.push_back(ms_since(t0));
  }
  std::printf("exec runs=%d median_ms=%.1f all_ms=", o.runs, percentile(ms, 0.5));
  for (size_t i = 0; i < ms.size(); ++i) std::printf("%s%.1f", i ? "," : "", ms[i]);
  std::printf("\n");
  PQfinish(c);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) die("usage: bench_incremental latency|lookups|exec --port P [options]");
  Options o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) die("missing value for " + a);
    std::string v = argv[++i];
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = v;
    else if (a == "--user") o.user = v;
    else if (a == "--db") o.db = v;
    else if (a == "--sql") o.sql = v;
    else if (a == "--rows") o.rows = std::atoll(v.c_str());
    else if (a == "--updates") o.updates = std::atoi(v.c_str());
    else if (a == "--threads") o.threads = std::atoi(v.c_str());
    else if (a == "--seconds") o.seconds = std::atof(v.c_str());
    else if (a == "--keys") o.keys = std::atoi(v.c_str());
    else if (a == "--runs") o.runs = std::atoi(v.c_str());
    else if (a == "--wait") o.wait = v != "0";
    else die("unknown option " + a);
  }
  if (o.port.empty()) die("--port is required");
  if (o.mode == "latency") return run_latency(o);
  if (o.mode == "lookups") return run_lookups(o);
  if (o.mode == "exec") return run_exec(o);
  die("unknown mode " + o.mode);
}
