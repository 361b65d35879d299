// Delta joins against chains of binary joins, the dataflow engine alone (bench/delta_join.sh,
// bench/README.md "Delta joins"). Nexmark-shaped inputs: person(id, state), auction(id,
// seller, category), bid(auction, bidder, price) in the proportions 1:3:46, as maintained
//   j3  bid ⋈ auction ⋈ person            (b.auction = a.id, a.seller = p.id)
//   j4  bid ⋈ auction ⋈ person ⋈ person   (... and b.bidder = p2.id: person read twice)
// For each: hydration from EVENTS events (one step), then STEPS steps of 1,000 events (20
// persons, 60 auctions, 920 bids on random existing auctions by random existing persons).
// Prints per query and mode the hydration time, the state bytes and entries the operators
// keep (an exact walk), and the steps' events/s (wall and process CPU), the min of RUNS runs.
// Usage: delta_join WORKERS [RUNS]
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

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
double wall_s() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }
size_t env_or(const char* name, size_t def) {
  const char* v = std::getenv(name);
  return v != nullptr ? static_cast<size_t>(std::atoll(v)) : def;
}

struct Gen {
  uint64_t seed = 1;
  int64_t persons = 0, auctions = 0;
  uint64_t next() {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return seed >> 33;
  }
  // n events in Nexmark's proportions, appended to the three batches.
  void events(size_t n, Batch& p, Batch& a, Batch& b) {
    static const char* const kStates[] = {"OR", "ID", "CA", "WA", "NY", "TX"};
    for (size_t i = 0; i < n; ++i) {
      const size_t k = i % 50;
      if (k == 0 || persons == 0) {
        std::vector<Datum> d{Datum::from_int(persons++), Datum::from_string(kStates[next() % 6])};
        p.push_back(Update{Row::pack(d), 0, 1});
      } else if (k <= 3 || auctions == 0) {
        a.push_back(Update{ints({auctions++, static_cast<int64_t>(next() % static_cast<uint64_t>(persons)), static_cast<int64_t>(next() % 20)}), 0, 1});
      } else {
        b.push_back(Update{ints({static_cast<int64_t>(next() % static_cast<uint64_t>(auctions)),
                                 static_cast<int64_t>(next() % static_cast<uint64_t>(persons)), static_cast<int64_t>(next() % 10000)}),
                           0, 1});
      }
    }
  }
};

struct Measured {
  double hydrate_s = 1e9, step_wall_s = 1e9, step_cpu_s = 1e9;
  size_t state_bytes = 0, state_entries = 0, out_rows = 0;
};

Measured run(const RelExpr& plan, bool delta, size_t events, size_t steps) {
  Measured r;
  RenderOptions o;
  o.keep_state = true;
  o.delta_joins = delta;
  o.workers = 0;
  RenderedDataflow df = render(plan, o);
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  Gen g;
  auto feed = [&](size_t n) {
    Batch p, a, b;
    g.events(n, p, a, b);
    for (const auto& [id, node] : df.sources) df.dataflow->push(node, id == 1 ? std::move(b) : id == 2 ? std::move(a) : std::move(p));
  };
  feed(events);
  double w0 = wall_s();
  df.dataflow->step(1, ctx);
  r.out_rows += df.dataflow->take_output(df.output).size();
  r.hydrate_s = wall_s() - w0;
  w0 = wall_s();
  double c0 = cpu_s();
  for (size_t s = 0; s < steps; ++s) {
    feed(1000);
    df.dataflow->step(2 + s, ctx);
    r.out_rows += df.dataflow->take_output(df.output).size();
  }
  r.step_wall_s = wall_s() - w0;
  r.step_cpu_s = cpu_s() - c0;
  df.dataflow->step(2 + steps, ctx);  // a delta join merges the last step's change now
  r.state_bytes = df.dataflow->state_bytes(true);
  r.state_entries = df.dataflow->state_size();
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: delta_join WORKERS [RUNS]\n");
    return 2;
  }
  const size_t workers = static_cast<size_t>(std::atoi(argv[1]));
  const int runs = argc > 2 ? std::atoi(argv[2]) : 3;
  WorkerPool::configure(workers);
  const size_t events = env_or("EVENTS", 500'000), steps = env_or("STEPS", 200);
  Type text(TypeId::kText);
  // Collections: 1 bid(auction, bidder, price), 2 auction(id, seller, category), 3 person(id, state).
  RelExpr bid = get(1, 3), auction = get(2, 3), person = get(3, 2);
  person.column_types[1] = text;
  // Columns: bid 0-2, auction 3-5, person 6-7, person 8-9.
  RelExpr j3 = join({bid, auction, person}, {{col(0), col(3)}, {col(4), col(6)}});
  RelExpr j4 = join({bid, auction, person, person}, {{col(0), col(3)}, {col(4), col(6)}, {col(1), col(8)}});
  for (const auto& [name, plan] : {std::pair<const char*, const RelExpr*>{"j3", &j3}, {"j4", &j4}}) {
    for (bool delta : {false, true}) {
      Measured best;
      for (int i = 0; i < runs; ++i) {
        Measured x = run(*plan, delta, events, steps);
        best.hydrate_s = std::min(best.hydrate_s, x.hydrate_s);
        best.step_wall_s = std::min(best.step_wall_s, x.step_wall_s);
        best.step_cpu_s = std::min(best.step_cpu_s, x.step_cpu_s);
        best.state_bytes = x.state_bytes;
        best.state_entries = x.state_entries;
        best.out_rows = x.out_rows;
      }
      const double ev = static_cast<double>(steps) * 1000;
      std::printf("%s %-5s workers=%zu events=%zu: hydrate %.3f s, state %.1f MB (%zu entries), %zu output updates; "
                  "%zu steps x 1000 events: %.0f events/s wall, %.0f events/s per CPU second\n",
                  name, delta ? "delta" : "chain", workers, events, best.hydrate_s, static_cast<double>(best.state_bytes) / 1048576.0,
                  best.state_entries, best.out_rows, steps, ev / best.step_wall_s, ev / best.step_cpu_s);
      std::fflush(stdout);
    }
  }
  return 0;
}
