#include "server/maintained.hpp"

#include <algorithm>
#include <mutex>

#include <pg_query/pg_query.pb-c.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/delta_join.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/update.hpp"
#include "dataflow/workers.hpp"

namespace freshet::server {

namespace {
// Whether a plan's output can change with time alone (a temporal filter releases or retracts
// rows as mz_now() advances). Other operators only ever react to input changes.
bool depends_on_time(const dataflow::RelExpr& e) {
  if (e.kind == dataflow::RelKind::kTemporalFilter) return true;
  for (const auto& in : e.inputs)
    if (depends_on_time(in)) return true;
  return false;
}

// FRESHET_ROUTED_OUTPUT=on: a sharded dataflow splits a step's output by shard_of in its last
// stage (Dataflow::route_output) and step() applies it in one pool round. Off (the default
// until the slt files and a benchmark have run with it on: src/dataflow/README.md),
// step() splits the output in a pool round of its own, then copies and consolidates in a
// second and applies in a third, as before.
bool routed_output_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("FRESHET_ROUTED_OUTPUT");
    return v != nullptr && std::string_view(v) == "on";
  }();
  return on;
}
}  // namespace

Maintained::Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t,
                       const dataflow::SnapshotFn& snapshot, EvalContext& ctx, RowDiffs& initial,
                       const std::atomic<bool>* cancelled, const dataflow::RenderOptions::SharedArrangementFn& shared)
    : Maintained(
          id, std::move(name), std::move(plan), t,
          BatchSnapshotFn([&snapshot](uint64_t cid, uint64_t ts, dataflow::Batch& into) {
            snapshot(cid, [&](const Row& r, int64_t diff) { into.emplace_back(r.ref(), ts, diff); });
          }),
          ctx, &initial, {}, cancelled, shared) {}

Maintained::Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t, const BatchSnapshotFn& snapshot,
                       EvalContext& ctx, RowDiffs* initial, const std::vector<std::vector<uint32_t>>& index_keys,
                       const std::atomic<bool>* cancelled, const dataflow::RenderOptions::SharedArrangementFn& shared,
                       dataflow::Batch* root_output)
    : id_(id), name_(std::move(name)), plan_(std::move(plan)) {
  {
    dataflow::Batch out = hydrate(t, snapshot, ctx, cancelled, shared, root_output);
    // Sharded by the first index's key (the dataflow's shard count, set by hydrate()).
    if (!index_keys.empty() && shards_.size() > 1) {
      shard_columns_ = index_keys[0];
      by_row_ = false;
    }
    apply_initial(out);
  }  // the output batch's blocks are freed before the indexes are built
  for (const auto& key : index_keys)
    if (find_index(key) < 0) {
      for_shards(records() >= 4096, [&](size_t s) { shards_[s]->indexes.push_back(shards_[s]->build_index(key)); });
    }
  if (initial) {
    initial->reserve(initial->size() + records());
    for (const auto& sh : shards_)
      for (uint32_t ref : sh->contents) initial->push_back({Row(std::string(sh->bytes_at(ref))), sh->count_at(ref)});
    dataflow::consolidate(*initial);  // in row-byte order, as callers saw it before
  }
  check_budget();  // over its budget: the CREATE (or the restart's hydration) fails with 53200
}

namespace {
// Whether evaluating e reads only the row (and the session's settings): no mz_now(), no
// parameter, no subplan.
bool reads_only_the_row(const dataflow::ScalarExpr& e) {
  if (e.kind == dataflow::ScalarKind::kMzNow || e.kind == dataflow::ScalarKind::kParam || e.kind == dataflow::ScalarKind::kInSet ||
      e.subplan || e.in_set)
    return false;
  for (const auto& a : e.args)
    if (!reads_only_the_row(a)) return false;
  return true;
}
}  // namespace

std::optional<Maintained::RootScan> Maintained::root_scan(const dataflow::RelExpr& plan) {
  // The chain as render() collects it for a Map/Filter/Project over a Get (render.cpp), outermost
  // first, then reversed.
  using dataflow::RelKind;
  RootScan scan;
  const dataflow::RelExpr* cur = &plan;
  while (cur->kind == RelKind::kMap || cur->kind == RelKind::kFilter || cur->kind == RelKind::kProject) {
    dataflow::MfpStage s;
    if (cur->kind == RelKind::kMap) {
      s.kind = dataflow::MfpStage::Kind::kMap;
      s.exprs = cur->exprs;
    } else if (cur->kind == RelKind::kFilter) {
      s.kind = dataflow::MfpStage::Kind::kFilter;
      s.exprs = cur->exprs;
    } else {
      s.kind = dataflow::MfpStage::Kind::kProject;
      s.columns = cur->columns;
    }
    for (const auto& e : s.exprs)
      if (!reads_only_the_row(e)) return std::nullopt;
    scan.stages.push_back(std::move(s));
    if (cur->inputs.size() != 1) return std::nullopt;
    cur = &cur->inputs[0];
  }
  if (scan.stages.empty() || cur->kind != RelKind::kGet) return std::nullopt;
  std::reverse(scan.stages.begin(), scan.stages.end());
  scan.collection_id = cur->collection_id;
  return scan;
}

dataflow::Batch Maintained::hydrate(uint64_t t, const BatchSnapshotFn& snapshot, EvalContext& ctx,
                                    const std::atomic<bool>* cancelled, const dataflow::RenderOptions::SharedArrangementFn& shared,
                                    dataflow::Batch* root_output) {
  dataflow::RenderOptions opts;
  opts.keep_state = true;
  opts.workers = 0;  // sharded over --workers
  // Multi-way joins as delta joins (src/dataflow/delta_join.hpp). FRESHET_DELTA_JOINS=off
  // renders them as left-deep chains of binary joins, as before: for benchmarks comparing the
  // two (bench/README.md, "Delta joins"), not a setting to run with.
  static const bool kDeltaJoins = [] {
    const char* v = std::getenv("FRESHET_DELTA_JOINS");
    return v == nullptr || std::string_view(v) != "off";
  }();
  opts.delta_joins = kDeltaJoins;
  // Joins with an indexed view on its index's key read the index (src/server/README.md, "Views
  // over indexed views read the index"), with FRESHET_SHARED_ARRANGEMENTS=on; by default the
  // join arranges the view's rows again, as before (src/server/README.md says why).
  if (shared_arrangements_enabled() && shared) {
    // One reader per (view, key) for every shard's replica; locked once per view.
    opts.shared_arrangement = [&](uint64_t cid, const std::vector<uint32_t>& cols) -> std::shared_ptr<const dataflow::ArrangementReader> {
      for (const auto& r : offered_)
        if (r.cid == cid && r.columns == cols) return r.reader;
      auto r = shared(cid, cols);
      offered_.push_back(Offered{cid, cols, r});
      return r;
    };
  }
  // Join inputs narrowed to the columns a Reduce above reads (dataflow/oneshot.hpp): the
  // join's arrangements keep those columns only. plan_ stays as planned (EXPLAIN, restart).
  dataflow::RelExpr narrowed = plan_;
  dataflow::narrow_join_inputs(narrowed);
  df_ = dataflow::render(narrowed, opts);
  // The readers of the views it reads (one per view to hold around steps); those offered but
  // not used (their join took another path) are let go.
  for (const auto& [cid, cols] : df_.shared_reads) {
    bool have = false;
    for (const auto& r : readers_) have = have || r.first == cid;
    if (have) continue;
    for (const auto& o : offered_)
      if (o.cid == cid && o.reader) {
        readers_.emplace_back(cid, o.reader);
        break;
      }
  }
  offered_.clear();
  time_dependent_ = depends_on_time(plan_);
  shards_.clear();
  for (size_t s = 0; s < df_.dataflow->num_shards(); ++s) shards_.push_back(std::make_unique<Shard>());
  if (root_output != nullptr) {
    // The caller computed the output (a root_scan of the plan, so one source and one
    // state-free operator): nothing is pushed; the step at t below runs on no input.
    const auto scan = root_scan(narrowed);
    FRESHET_ASSERT(scan && df_.sources.size() == 1 && df_.sources[0].first == scan->collection_id);
  }
  // The later steps' output split by shard_of in the dataflow's own last stage, on the pool
  // (step): shard_of reads shard_columns_ when called, so reshard() needs nothing more.
  if (routed_output_enabled()) df_.dataflow->route_output(df_.output, [this](RowRef r) { return shard_of(r); });
  // Hydration: every input's current contents at time t.
  for (const auto& [cid, node] : df_.sources) {
    if (root_output != nullptr) break;
    dataflow::Batch batch;
    snapshot(cid, t, batch);
    df_.dataflow->push(node, std::move(batch));
  }
  df_.dataflow->set_cancel_flag(cancelled);
  try {
    df_.dataflow->step(t, ctx);
  } catch (...) {
    df_.dataflow->set_cancel_flag(nullptr);
    throw;
  }
  df_.dataflow->set_cancel_flag(nullptr);
  // A dataflow reading shared arrangements: its delta joins' arrangements take in the
  // snapshot now, and the snapshot's rows go, instead of staying beside them as the step's
  // change until the next step (src/server/README.md, "Views over indexed views read the
  // index"). Those reading a view keep their private copy (read_owners frees it).
  if (!df_.external_arrangements.empty()) {
    const auto& as = df_.delta_arrangements;  // one per shard each: on the pool, as the step would
    if (as.size() > 1) dataflow::WorkerPool::global().run(as.size(), [&](size_t i) { as[i]->settle(); });
    else if (!as.empty()) as[0]->settle();
  }
  if (root_output != nullptr) {
    FRESHET_ASSERT(df_.dataflow->take_output(df_.output).empty());
    for (auto& u : *root_output) u.time = t;
    return std::move(*root_output);
  }
  return df_.dataflow->take_output(df_.output);
}

Maintained::Shard::Shard() : contents(0, RefHash{this}, RefEq{this}) {}

size_t Maintained::RefHash::operator()(uint32_t ref) const { return hash_bytes(s->bytes_at(ref)); }
bool Maintained::RefEq::operator()(uint32_t a, std::string_view b) const { return s->bytes_at(a) == b; }

size_t Maintained::shard_of(RowRef row) const {
  const size_t n = shards_.size();
  if (n == 1) return 0;
  // std::hash of the canonical key bytes modulo the shard count: what the dataflow's exchange
  // computes for an arrangement by the same key (dataflow/graph.cpp, Dataflow::partition).
  if (by_row_) return std::hash<std::string_view>{}(row.bytes()) % n;
  thread_local std::string packed;
  key_bytes(row, shard_columns_.data(), shard_columns_.size(), packed);
  return std::hash<std::string_view>{}(packed) % n;
}

void Maintained::for_shards(bool parallel, const std::function<void(size_t)>& task) const {
  if (parallel && shards_.size() > 1) {
    dataflow::WorkerPool::global().run(shards_.size(), task);
    return;
  }
  for (size_t s = 0; s < shards_.size(); ++s) task(s);
}

namespace {
// Below this many rows a step's output is split and applied on the driver alone: handing the
// shards to the pool costs more than it saves (the graph's threshold, dataflow/graph.cpp).
constexpr size_t kParallelRows = 256;
RowRef row_of(const dataflow::Update& u) { return u.row; }
int64_t diff_of(const dataflow::Update& u) { return u.diff; }
}  // namespace

template <typename Row_>
std::vector<std::vector<std::pair<RowRef, int64_t>>> Maintained::split_by_shard(std::span<const Row_> rows) const {
  const size_t n = shards_.size();
  std::vector<std::vector<std::pair<RowRef, int64_t>>> to(n);
  if (n == 1) {
    to[0].reserve(rows.size());
    for (const auto& r : rows) to[0].emplace_back(row_of(r), diff_of(r));
    return to;
  }
  // Slice k of the rows is split by task k into parts[k][dest]; then dest gathers its parts.
  std::vector<std::vector<std::vector<std::pair<RowRef, int64_t>>>> parts(n, std::vector<std::vector<std::pair<RowRef, int64_t>>>(n));
  const size_t per = (rows.size() + n - 1) / n;
  for_shards(rows.size() >= kParallelRows, [&](size_t k) {
    const size_t from = std::min(rows.size(), k * per), until = std::min(rows.size(), from + per);
    for (auto& p : parts[k]) p.reserve((until - from) / n + (until - from) / 4 + 1);
    for (size_t i = from; i < until; ++i) {
      RowRef r = row_of(rows[i]);
      parts[k][shard_of(r)].emplace_back(r, diff_of(rows[i]));
    }
  });
  for (size_t d = 0; d < n; ++d) {
    size_t total = 0;
    for (size_t k = 0; k < n; ++k) total += parts[k][d].size();
    to[d].reserve(total);
    for (size_t k = 0; k < n; ++k) to[d].insert(to[d].end(), parts[k][d].begin(), parts[k][d].end());
  }
  return to;
}

void Maintained::Shard::add_initial(std::string_view b, int64_t d) {
  if (d == 0) return;
  FRESHET_ASSERT(b.size() <= UINT32_MAX);
  bool added = false;
  auto it = contents.lazy_emplace(b, [&](const auto& ctor) {
    added = true;
    ctor(add_entry(b, d));
  });
  if (!added) set_count_at(*it, dataflow::add_diffs(count_at(*it), d));
}

void Maintained::Shard::sweep_initial(const std::string& name) {
  // Updates that cancelled (a row inserted and retracted by the same step) leave rows with
  // no multiplicity: dropped here, as consolidating first would have.
  for (auto it = contents.begin(); it != contents.end();) {
    int64_t n = count_at(*it);
    if (n < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name + "\" reached a negative multiplicity");
    if (n == 0) {
      dead_bytes += EntryArena::round_up(entry_bytes(bytes_at(*it).size()));
      set_count_at(*it, 0);
      contents.erase(it++);
    } else {
      ++it;
    }
  }
  if (dead_bytes > 4096 && dead_bytes > arena.used_bytes() / 2) compact();
}

void Maintained::apply_initial(const dataflow::Batch& out) {
  for (const auto& sh : shards_) FRESHET_ASSERT(sh->contents.empty() && sh->indexes.empty() && sh->arena.empty());
  FRESHET_ASSERT(out.size() <= UINT32_MAX);
  const size_t n = shards_.size();
  // Slice k of the output is split by task k: per shard the positions of its rows (4 bytes a
  // row; the rows were copied out as (row, diff) pairs of 24 bytes before), their entries'
  // bytes and the largest entry, so that each shard reserves its arena and hash set once.
  // One shard: no split, its rows are the output's.
  struct Part {
    std::vector<uint32_t> rows;
    size_t bytes = 0, max_entry = 0;
  };
  std::vector<std::vector<Part>> parts(n, std::vector<Part>(n));
  std::vector<char> retracts(n, 0);
  const size_t per = (out.size() + n - 1) / n;
  for_shards(out.size() >= kParallelRows, [&](size_t k) {
    const size_t from = std::min(out.size(), k * per), until = std::min(out.size(), from + per);
    auto& mine = parts[k];
    if (n > 1)
      for (auto& p : mine) p.rows.reserve((until - from) / n + (until - from) / 4 + 1);
    for (size_t i = from; i < until; ++i) {
      const dataflow::Update& u = out[i];
      Part& p = mine[n == 1 ? 0 : shard_of(u.row)];
      if (n > 1) p.rows.push_back(static_cast<uint32_t>(i));
      const size_t e = EntryArena::round_up(entry_bytes(u.row.size_bytes()));
      p.bytes += e;
      p.max_entry = std::max(p.max_entry, e);
      retracts[k] |= u.diff < 0;
    }
  });
  const bool retractions = std::find(retracts.begin(), retracts.end(), 1) != retracts.end();
  for_shards(out.size() >= kParallelRows, [&](size_t s) {
    Shard& sh = *shards_[s];
    size_t rows = 0, bytes = 0, max_entry = 0;
    for (size_t k = 0; k < n; ++k) {
      const Part& p = parts[k][s];
      rows += n == 1 ? out.size() : p.rows.size();
      bytes += p.bytes;
      max_entry = std::max(max_entry, p.max_entry);
    }
    // The hash set at its final size up front (an output whose updates repeat rows gets a set
    // that is too big: shrunk below), so that the slot of the row a few ahead, prefetched while
    // this one is inserted, stays put: the inserts are random accesses into a set of millions.
    // The arena in one reservation with huge pages (EntryArena::reserve).
    sh.contents.reserve(rows);
    sh.arena.reserve(bytes, max_entry);
    constexpr size_t kAhead = 8;
    auto insert_all = [&](auto&& row_at_pos, size_t count) {
      for (size_t i = 0; i < count; ++i) {
        if (i + kAhead < count) sh.contents.prefetch(row_at_pos(i + kAhead).row.bytes());
        const dataflow::Update& u = row_at_pos(i);
        sh.add_initial(u.row.bytes(), u.diff);
      }
    };
    if (n == 1) {
      insert_all([&](size_t i) -> const dataflow::Update& { return out[i]; }, out.size());
    } else {
      for (size_t k = 0; k < n; ++k) {
        const std::vector<uint32_t>& pos = parts[k][s].rows;
        insert_all([&](size_t i) -> const dataflow::Update& { return out[pos[i]]; }, pos.size());
      }
    }
    if (retractions) sh.sweep_initial(name_);
    if (sh.contents.size() < rows / 2) sh.contents.rehash(0);
  });
}

void Maintained::reshard(const std::vector<uint32_t>& columns) {
  for (const auto& sh : shards_) FRESHET_ASSERT(sh->indexes.empty());
  std::vector<std::unique_ptr<Shard>> old = std::move(shards_);
  shards_.clear();
  for (size_t s = 0; s < old.size(); ++s) shards_.push_back(std::make_unique<Shard>());
  shard_columns_ = columns;
  by_row_ = false;
  for (auto& sh : old) {
    sh->for_each([&](RowRef r, int64_t n) {
      Shard& to = *shards_[shard_of(r)];
      to.contents.insert(to.add_entry(r.bytes(), n));
    });
    sh.reset();  // at most one old shard's rows held twice
  }
}

Maintained::Index Maintained::Shard::empty_index(std::vector<uint32_t> columns) const {
  Index idx;
  idx.columns = std::move(columns);
  const uint32_t* cols = idx.columns.data();
  const size_t n = idx.columns.size();
  idx.keys = decltype(idx.keys)(0, KeyHash{this, cols, n}, KeyEq{this, cols, n});
  return idx;
}

Maintained::Index Maintained::Shard::build_index(std::vector<uint32_t> columns) const {
  Index idx = empty_index(std::move(columns));
  const uint32_t* cols = idx.columns.data();
  const size_t ncols = idx.columns.size();
  // Per live row, in arena order (sequential reads, where the hash set's order read the arena
  // at random), its key's canonical bytes (kept in one buffer) and their hash: computed once
  // per row, where the sort's pass and the fill each computed it. Then sorted by (key hash,
  // ref): a key's rows together, in arena order.
  struct KeyedRef {
    uint64_t hash;
    uint64_t key;  // offset of the key's bytes in `keys`
    uint32_t ref;
    uint32_t len;
  };
  std::vector<KeyedRef> by_key;
  by_key.reserve(contents.size());
  advise_huge_pages(by_key.data(), by_key.capacity() * sizeof(KeyedRef));
  std::string keys, one;
  arena.for_each_allocation([&](uint32_t ref, const char* p) {
    const std::string_view row = row_at(p);
    if (*p != 0) {
      const uint64_t h = key_bytes(RowRef(row), cols, ncols, one);
      FRESHET_ASSERT(one.size() <= UINT32_MAX);
      by_key.push_back(KeyedRef{h, keys.size(), ref, static_cast<uint32_t>(one.size())});
      keys += one;
    }
    return entry_bytes(row.size());
  });
  FRESHET_ASSERT(by_key.size() == contents.size());
  std::sort(by_key.begin(), by_key.end(),
            [](const KeyedRef& a, const KeyedRef& b) { return a.hash != b.hash ? a.hash < b.hash : a.ref < b.ref; });
  const size_t n = by_key.size();
  auto key_of = [&](size_t i) { return std::string_view(keys).substr(by_key[i].key, by_key[i].len); };
  size_t hashes = 0, multi = 0;
  for (size_t i = 0; i < n; ++i) {
    bool first = i == 0 || by_key[i].hash != by_key[i - 1].hash;
    hashes += first;
    multi += !first && (i < 2 || by_key[i - 1].hash != by_key[i - 2].hash);
  }
  idx.keys.reserve(hashes);
  idx.more.reserve(multi);
  // Each run of equal hashes: its rows split by key (different keys share a hash only by
  // collision). The first row of a key goes into keys, the rest into more, sized exactly. The
  // set's slot of the key a few runs ahead is prefetched (the inserts land at random).
  constexpr size_t kAhead = 8;
  std::vector<uint32_t> rest;
  for (size_t i = 0; i < n;) {
    if (i + kAhead < n) idx.keys.prefetch(KeyProbe{by_key[i + kAhead].hash, key_of(i + kAhead)});
    size_t j = i;
    while (j < n && by_key[j].hash == by_key[i].hash) ++j;
    for (size_t k = i; k < j; ++k) {
      const uint32_t ref = by_key[k].ref;
      if (ref == UINT32_MAX) continue;  // placed with an earlier row of its key
      const std::string_view key = key_of(k);
      const KeyProbe p{by_key[k].hash, key};
      idx.keys.lazy_emplace(p, [&](const auto& ctor) { ctor(ref); });  // new: a key's rows are all in this run
      if (j - k == 1) break;
      // The later rows of this hash with ref's key.
      rest.clear();
      for (size_t l = k + 1; l < j; ++l)
        if (by_key[l].ref != UINT32_MAX && key_of(l) == key) {
          rest.push_back(by_key[l].ref);
          by_key[l].ref = UINT32_MAX;
        }
      if (!rest.empty()) {
        auto& v = idx.more[ref];
        v.reserve(rest.size());  // exactly (inline for up to two)
        v.assign(rest.begin(), rest.end());
        idx.spill_bytes += spill_of(v);
      }
    }
    i = j;
  }
  return idx;
}

namespace {
std::atomic<uint64_t> g_budget_bytes{Maintained::default_budget_mb() << 20};
std::atomic<uint64_t> g_configured_budget_bytes{Maintained::default_budget_mb() << 20};
}  // namespace

uint64_t Maintained::default_budget_mb() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  uint64_t mem_mb = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 20 : 4096;
  return std::max<uint64_t>(mem_mb / 2, 512);
}
uint64_t Maintained::budget_bytes() { return g_budget_bytes.load(std::memory_order_relaxed); }
void Maintained::set_budget_bytes(uint64_t bytes, bool configured) {
  g_budget_bytes.store(bytes, std::memory_order_relaxed);
  if (configured) g_configured_budget_bytes.store(bytes, std::memory_order_relaxed);
}

void alter_dataflow_budget(const PgQuery__VariableSetStmt& set, bool superuser) {
  if (!superuser)
    throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to set parameter \"dataflow_memory_budget_mb\"");
  if (set.kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET || set.kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT) {
    Maintained::set_budget_bytes(g_configured_budget_bytes.load(std::memory_order_relaxed));
    return;
  }
  std::string value;
  if (set.kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE && set.n_args == 1 && set.args[0]->node_case == PG_QUERY__NODE__NODE_A_CONST) {
    const auto* c = set.args[0]->a_const;
    if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) value = std::to_string(c->ival->ival);
    else if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) value = c->sval->sval;
  }
  char* end = nullptr;
  unsigned long long mb = std::strtoull(value.c_str(), &end, 10);
  if (value.empty() || value[0] == '-' || *end != '\0' || mb > (1ull << 30))
    throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"dataflow_memory_budget_mb\": \"" + value + "\"")
        .with_hint("A number of megabytes; 0 for no budget.");
  Maintained::set_budget_bytes(static_cast<uint64_t>(mb) << 20);
}

void Maintained::check_budget() {
  uint64_t ops = df_.dataflow ? df_.dataflow->state_bytes() : 0;
  uint64_t arr = bytes();
  const uint64_t budget = budget_bytes();
  if (budget != 0 && ops + arr > budget && df_.dataflow) ops = df_.dataflow->state_bytes(/*exact=*/true);
  arrangement_bytes_.store(arr, std::memory_order_relaxed);
  operator_bytes_.store(ops, std::memory_order_relaxed);
  if (budget == 0 || ops + arr <= budget) return;
  // Stopped: its state is freed (readers of the contents hold state_mu), only what tells the
  // plan's inputs and the index keys apart is kept; it is not stepped again.
  {
    std::unique_lock sl(state_mu);
    df_.dataflow.reset();
    for (auto& sh : shards_) {
      auto fresh = std::make_unique<Shard>();
      for (auto& idx : sh->indexes) fresh->indexes.push_back(fresh->empty_index(std::move(idx.columns)));
      for (auto& idx : sh->kept) fresh->kept.push_back(fresh->empty_index(std::move(idx.columns)));
      sh = std::move(fresh);
    }
    over_budget_ = true;
  }
  arrangement_bytes_.store(0, std::memory_order_relaxed);
  operator_bytes_.store(0, std::memory_order_relaxed);
  throw SqlError(sqlstate::kOutOfMemory, "dataflow \"" + name_ + "\" needs " + std::to_string((ops + arr) >> 20) +
                                             " MB of memory, more than its budget of " + std::to_string(budget >> 20) +
                                             " MB (dataflow_memory_budget_mb)")
      .with_hint("Make the view hold less (filters, fewer groups), or raise the budget with ALTER SYSTEM SET "
                 "dataflow_memory_budget_mb (or freshet serve --dataflow-memory-budget-mb).");
}

std::vector<uint64_t> Maintained::inputs() const {
  std::vector<uint64_t> ids;
  for (const auto& [cid, node] : df_.sources) ids.push_back(cid);
  return ids;
}


void Maintained::step(uint64_t t, const ChangeSet& changes, EvalContext& ctx, RowDiffs& delta) {
  std::map<uint64_t, const RowDiffs*> in;
  for (const auto& [cid, node] : df_.sources)
    if (auto it = changes.find(cid); it != changes.end()) in[cid] = &it->second;
  step(t, in, ctx, delta);
}

void Maintained::step(uint64_t t, const std::map<uint64_t, const RowDiffs*>& changes, EvalContext& ctx, RowDiffs& delta) {
  if (!df_.dataflow) throw SqlError(sqlstate::kOutOfMemory, "the dataflow of \"" + name_ + "\" was stopped: it exceeded its memory budget");
  bool any_input = false;
  for (const auto& [cid, node] : df_.sources) {
    auto it = changes.find(cid);
    if (it == changes.end() || !it->second || it->second->empty()) continue;
    any_input = true;
    dataflow::Batch batch;
    batch.reserve(it->second->size());
    for (const auto& [r, d] : *it->second) batch.push_back({r, t, d});
    df_.dataflow->push(node, std::move(batch));
  }
  // A tick with no input change costs nothing unless time alone can change the output.
  if (!any_input && !time_dependent_) {
    set_owners_at_step(false);
    return;
  }
  {
    // The shared arrangements it reads do not change during the step (shared_reader).
    struct Held {
      const std::vector<std::pair<uint64_t, std::shared_ptr<const dataflow::ArrangementReader>>>& rs;
      explicit Held(const std::vector<std::pair<uint64_t, std::shared_ptr<const dataflow::ArrangementReader>>>& r) : rs(r) {
        for (const auto& x : rs) x.second->lock_shared();
      }
      ~Held() {
        for (const auto& x : rs) x.second->unlock_shared();
      }
    } held(readers_);
    struct Reset {
      const std::vector<std::shared_ptr<dataflow::SharedArrangement>>& as;
      ~Reset() {
        for (const auto& a : as) a->owner_at_step = false;  // told again before each step
      }
    } reset{df_.external_arrangements};
    df_.dataflow->step(t, ctx);
  }
  // The output per shard, split by shard_of in the dataflow's last stage (route_output): then
  // one pool round, per shard its rows copied out, consolidated and applied to the shard's
  // contents and indexes, with state_mu held (readers of the contents, serializable reads,
  // wait for the copy and consolidation too; src/server/README.md, "Threads and locking").
  std::vector<std::vector<dataflow::Batch>> routed;  // [producing shard][shard]
  RowDiffs all;
  if (df_.dataflow->take_routed_output(df_.output, routed)) {
    size_t rows = 0;
    for (const auto& per_producer : routed)
      for (const dataflow::Batch& b : per_producer) rows += b.size();
    std::vector<RowDiffs> mine(shards_.size());
    std::unique_lock sl(state_mu);
    for_shards(rows >= kParallelRows, [&](size_t s) {
      size_t count = 0;
      for (const auto& per_producer : routed) count += per_producer[s].size();
      mine[s].reserve(count);
      for (auto& per_producer : routed) {
        for (const dataflow::Update& u : per_producer[s]) mine[s].push_back({Row(u.row), u.diff});
        per_producer[s] = dataflow::Batch();  // freed on this shard's thread
      }
      dataflow::consolidate(mine[s]);
      shards_[s]->apply(mine[s], name_);
    });
    size_t total = 0;
    for (const auto& m : mine) total += m.size();
    all.reserve(total);
    for (auto& m : mine)
      for (auto& rd : m) all.push_back(std::move(rd));
    history_now = std::max(history_now, t);
    history.record(t, all, history_now);
  } else {
    // Not routed (unsharded, a node-by-node step, FRESHET_ROUTED_OUTPUT not on): three rounds,
    // split by shard, then per shard copied out and consolidated (outside the lock), then
    // applied (under it).
    dataflow::Batch out = df_.dataflow->take_output(df_.output);
    const bool parallel = out.size() >= kParallelRows;
    auto parts = split_by_shard(std::span<const dataflow::Update>(out.begin(), out.end()));
    std::vector<RowDiffs> mine(shards_.size());
    for_shards(parallel, [&](size_t s) {
      mine[s].reserve(parts[s].size());
      for (const auto& [r, d] : parts[s]) mine[s].push_back({Row(r), d});
      dataflow::consolidate(mine[s]);
    });
    parts.clear();
    out = dataflow::Batch();
    if (shards_.size() == 1) {
      all = std::move(mine[0]);
    } else {
      size_t total = 0;
      for (const auto& m : mine) total += m.size();
      all.reserve(total);
    }
    std::unique_lock sl(state_mu);  // readers of the contents (serializable reads) wait only for this
    if (shards_.size() == 1) {
      shards_[0]->apply(all, name_);
    } else {
      for_shards(parallel, [&](size_t s) { shards_[s]->apply(mine[s], name_); });
      for (auto& m : mine)
        for (auto& rd : m) all.push_back(std::move(rd));
    }
    history_now = std::max(history_now, t);
    history.record(t, all, history_now);
  }
  check_budget();  // over: stopped, and the step's change is not handed on
  if (delta.empty()) {
    delta = std::move(all);
  } else {
    for (auto& m : all) delta.push_back(std::move(m));
  }
}

uint64_t Maintained::key_bytes(RowRef row, const uint32_t* columns, size_t n, std::string& out) {
  // The key's datums packed (canonical form only when a datum needs it, as canonical_row), so
  // that the bytes equal canonical_row(Row::pack(key)) of a lookup's key.
  thread_local std::vector<Datum> ds, key;
  uint32_t width = 0;
  for (size_t i = 0; i < n; ++i) width = std::max(width, columns[i] + 1);
  ds.clear();
  unpack_prefix_into(row, ds, width);
  key.clear();
  bool canonical = false;
  for (size_t i = 0; i < n; ++i) {
    key.push_back(ds[columns[i]]);
    canonical = canonical || dataflow::needs_canonical(ds[columns[i]]);
  }
  out.clear();
  if (canonical) dataflow::append_canonical_key(key, out);
  else RowPacker(out).push_all(key);
  return hash_bytes(out);
}

uint64_t Maintained::key_hash(RowRef row, const std::vector<uint32_t>& columns) {
  thread_local std::string packed;
  return key_bytes(row, columns.data(), columns.size(), packed);
}

size_t Maintained::KeyHash::operator()(uint32_t ref) const {
  thread_local std::string packed;
  return key_bytes(RowRef(s->bytes_at(ref)), columns, n, packed);
}

bool Maintained::KeyEq::operator()(uint32_t a, const KeyProbe& b) const {
  thread_local std::string packed;
  key_bytes(RowRef(s->bytes_at(a)), columns, n, packed);
  return packed == b.key;
}

bool Maintained::KeyEq::operator()(uint32_t a, uint32_t b) const {
  if (a == b) return true;
  thread_local std::string packed;
  const uint64_t h = key_bytes(RowRef(s->bytes_at(b)), columns, n, packed);
  std::string key_b = packed;
  return (*this)(a, KeyProbe{h, key_b});
}

void Maintained::Shard::index_insert(Index& idx, uint32_t ref) {
  thread_local std::string probe;
  const uint64_t h = key_bytes(RowRef(bytes_at(ref)), idx.columns.data(), idx.columns.size(), probe);
  bool added = false;
  auto it = idx.keys.lazy_emplace(KeyProbe{h, probe}, [&](const auto& ctor) {
    added = true;
    ctor(ref);
  });
  if (added) return;
  auto& v = idx.more[*it];
  idx.spill_bytes -= spill_of(v);
  v.push_back(ref);
  idx.spill_bytes += spill_of(v);
}

void Maintained::Shard::index_erase(Index& idx, uint32_t ref) {
  thread_local std::string probe;
  const uint64_t h = key_bytes(RowRef(bytes_at(ref)), idx.columns.data(), idx.columns.size(), probe);
  auto it = idx.keys.find(KeyProbe{h, probe});
  if (it == idx.keys.end()) return;
  const uint32_t first = *it;
  auto m = idx.more.find(first);
  if (first == ref) {
    idx.keys.erase(it);
    if (m == idx.more.end()) return;
    // Another row of the key becomes its first: the rest move under its ref.
    auto rest = std::move(m->second);
    idx.more.erase(m);
    idx.spill_bytes -= spill_of(rest);
    const uint32_t next = rest.back();
    rest.pop_back();
    idx.keys.insert(next);
    if (!rest.empty()) {
      auto& v = idx.more[next];
      v = std::move(rest);
      idx.spill_bytes += spill_of(v);
    }
    return;
  }
  if (m == idx.more.end()) return;
  auto& v = m->second;
  idx.spill_bytes -= spill_of(v);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == ref) {
      v[i] = v.back();
      v.pop_back();
      break;
    }
  if (v.empty()) idx.more.erase(m);
  else idx.spill_bytes += spill_of(v);
}

void Maintained::Shard::apply(const RowDiffs& delta, const std::string& name) {
  for (const auto& [r, d] : delta) {
    auto it = contents.find(r.bytes());
    if (it == contents.end()) {
      if (d < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name + "\" reached a negative multiplicity");
      if (d == 0) continue;
      FRESHET_ASSERT(r.size_bytes() <= UINT32_MAX);
      uint32_t ref = add_entry(r.bytes(), d);
      contents.insert(ref);
      for (auto& idx : indexes) index_insert(idx, ref);
      for (auto& idx : kept) index_insert(idx, ref);
      continue;
    }
    uint32_t ref = *it;
    int64_t n = dataflow::add_diffs(count_at(ref), d);
    if (n < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name + "\" reached a negative multiplicity");
    if (n == 0) {
      for (auto& idx : indexes) index_erase(idx, ref);
      for (auto& idx : kept) index_erase(idx, ref);
      contents.erase(it);
      dead_bytes += EntryArena::round_up(entry_bytes(bytes_at(ref).size()));
    }
    set_count_at(ref, n);  // 0: the entry is dead
  }
  if (dead_bytes > 4096 && dead_bytes > arena.used_bytes() / 2) compact();
}

void Maintained::Shard::compact() {
  // The live entries copied in their order into a new arena; the hash set and the indexes are
  // rebuilt over the new refs (an index by sorting, as CREATE INDEX builds it).
  EntryArena old = std::move(arena);
  arena = EntryArena();
  absl::flat_hash_map<uint32_t, int64_t> old_big = std::move(big_counts);
  big_counts = {};
  const size_t live = contents.size();
  contents.clear();
  contents.reserve(live);
  old.for_each_allocation([&](uint32_t ref, const char* p) {
    std::string_view row = row_at(p);
    uint8_t b = static_cast<uint8_t>(*p);
    if (b != 0) contents.insert(add_entry(row, b == kBigCount ? old_big.at(ref) : b));
    return entry_bytes(row.size());
  });
  dead_bytes = 0;
  for (auto& idx : indexes) idx = build_index(std::move(idx.columns));
  for (auto& idx : kept) idx = build_index(std::move(idx.columns));
}

void Maintained::Shard::set_count_at(uint32_t ref, int64_t c) {
  char* p = arena.at(ref);
  const bool was_big = static_cast<uint8_t>(*p) == kBigCount;
  if (c >= 0 && c < kBigCount) {
    *p = static_cast<char>(static_cast<uint8_t>(c));
    if (was_big) big_counts.erase(ref);
    return;
  }
  *p = static_cast<char>(kBigCount);
  big_counts[ref] = c;
}

uint32_t Maintained::Shard::add_entry(std::string_view row, int64_t n) {
  FRESHET_ASSERT(row.size() <= UINT32_MAX);
  size_t len = row.size();
  uint32_t ref = arena.allocate(entry_bytes(len));
  char* p = arena.at(ref);
  auto* q = reinterpret_cast<uint8_t*>(p + 1);
  *p = 0;
  while (len >= 128) *q++ = static_cast<uint8_t>(len | 0x80), len >>= 7;
  *q++ = static_cast<uint8_t>(len);
  if (!row.empty()) std::memcpy(q, row.data(), row.size());
  set_count_at(ref, n);
  return ref;
}

void EntryArena::reserve(size_t bytes, size_t max_entry) {
  if (bytes < kHugeAdviseMin) return;
  // Entries do not cross segments: each 64 KiB segment may leave less than an entry unused at
  // its end, so the reservation adds that much per segment.
  max_entry = round_up(std::min<size_t>(max_entry, kSegment));
  const size_t total = bytes + (bytes / kSegment + 1) * max_entry;
  auto region = std::make_unique_for_overwrite<char[]>(total);
  advise_huge_pages(region.get(), total);
  spare_ = region.get();
  spare_bytes_ = total;
  capacity_ += total;
  regions_.push_back(std::move(region));
}

uint32_t EntryArena::allocate(size_t n) {
  n = round_up(n);
  const uint64_t seg_end = segs_.size() << kShift;  // the last segment's unit ends here
  const bool fits = !segs_.empty() && end_ + n <= seg_end;
  const size_t units = n > kSegment ? (n + kSegment - 1) >> kShift : 1;
  if (!fits && segs_.size() + units > kMaxSegments)
    throw SqlError(sqlstate::kOutOfMemory, "an arrangement holds at most 16 GiB of rows")
        .with_hint("Make the view hold less (filters, fewer columns), or index a narrower view.");
  used_ += n;
  if (n > kSegment) {
    // A segment of its own, spanning as many units as it needs; the next entry starts after.
    uint64_t at = segs_.size() << kShift;
    auto own = std::make_unique_for_overwrite<char[]>(n);
    char* data = own.get();
    segs_.push_back({std::move(own), data, n, n});
    capacity_ += n;
    for (size_t k = kSegment; k < n; k += kSegment) segs_.push_back({});
    end_ = segs_.size() << kShift;
    return static_cast<uint32_t>(at >> 2);
  }
  if (!fits) {
    // A new unit (the rest of the last one is left unused): cut from the reservation while it
    // lasts (counted in capacity_ when reserved), else allocated.
    end_ = seg_end;
    if (spare_bytes_ >= n) {
      const size_t cap = std::min<size_t>(kSegment, spare_bytes_);
      segs_.push_back({nullptr, spare_, cap, 0});
      spare_ += cap;
      spare_bytes_ -= cap;
    } else {
      size_t cap = std::min<size_t>(kSegment, std::max<size_t>(256, n));
      auto own = std::make_unique_for_overwrite<char[]>(cap);
      char* data = own.get();
      segs_.push_back({std::move(own), data, cap, 0});
      capacity_ += cap;
    }
  }
  Segment& last = segs_.back();
  const size_t off = end_ & (kSegment - 1);
  if (off + n > last.capacity) {
    // Grow the last segment in place of itself (its entries keep their offsets).
    size_t cap = last.capacity;
    while (cap < off + n) cap *= 2;
    cap = std::min<size_t>(cap, kSegment);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    std::memcpy(bigger.get(), last.data, off);
    // A segment cut from a reservation keeps its bytes counted there.
    capacity_ += last.own ? cap - last.capacity : cap;
    last.own = std::move(bigger);
    last.data = last.own.get();
    last.capacity = cap;
  }
  const uint64_t at = end_;
  end_ += n;
  last.used = off + n;
  return static_cast<uint32_t>(at >> 2);
}

void Maintained::Shard::for_each(const std::function<void(RowRef, int64_t)>& fn) const {
  // In arena order (sequential reads), skipping dead entries.
  arena.for_each_allocation([&](uint32_t ref, const char* p) {
    std::string_view row = row_at(p);
    uint8_t b = static_cast<uint8_t>(*p);
    if (b != 0) fn(RowRef(row), b == kBigCount ? big_counts.at(ref) : b);
    return entry_bytes(row.size());
  });
}

void Maintained::for_each(const std::function<void(RowRef, int64_t)>& fn) const {
  for (const auto& sh : shards_) sh->for_each(fn);
}

void Maintained::for_each_in_shard(size_t s, const std::function<void(RowRef, int64_t)>& fn) const {
  FRESHET_ASSERT(s < shards_.size());
  shards_[s]->for_each(fn);
}

size_t Maintained::records() const {
  size_t n = 0;
  for (const auto& sh : shards_) n += sh->contents.size();
  return n;
}

int64_t Maintained::count_of(RowRef row) const {
  const Shard& sh = *shards_[shard_of(row)];
  auto it = sh.contents.find(row.bytes());
  return it == sh.contents.end() ? 0 : sh.count_at(*it);
}

size_t Maintained::add_index(std::vector<uint32_t> key_columns) {
  // Dependents reading a shared arrangement of this view hold state_mu shared while they step.
  std::unique_lock sl(state_mu);
  // An index dropped while read as a shared arrangement is back (it was maintained meanwhile).
  if (!shards_[0]->kept.empty() && std::any_of(shards_[0]->kept.begin(), shards_[0]->kept.end(), [&](const Index& x) { return x.columns == key_columns; })) {
    for (auto& sh : shards_)
      for (auto it = sh->kept.begin(); it != sh->kept.end(); ++it)
        if (it->columns == key_columns) {
          sh->indexes.push_back(std::move(*it));
          sh->kept.erase(it);
          break;
        }
    return num_indexes() - 1;
  }
  // The first index of a view sharded by its rows: the rows move to the shards of its key,
  // so that the index is sharded as the dataflow's arrangements by that key are.
  if (by_row_ && shards_.size() > 1 && num_indexes() == 0) reshard(key_columns);
  for_shards(records() >= 4096, [&](size_t s) { shards_[s]->indexes.push_back(shards_[s]->build_index(key_columns)); });
  return num_indexes() - 1;
}

void Maintained::drop_index(const std::vector<uint32_t>& key_columns) {
  // The shards stay split by shard_columns_ (any split is correct; lookups by another index
  // visit every shard). An index a dependent's dataflow reads as a shared arrangement is kept
  // (and maintained) for it, out of sight of lookups: the dependent goes on working.
  std::unique_lock sl(state_mu);
  const bool keep = std::find(shared_keys_.begin(), shared_keys_.end(), key_columns) != shared_keys_.end();
  for (auto& sh : shards_)
    for (auto it = sh->indexes.begin(); it != sh->indexes.end(); ++it)
      if (it->columns == key_columns) {
        if (keep) sh->kept.push_back(std::move(*it));
        sh->indexes.erase(it);
        break;
      }
}

namespace {
// A maintained view's index read as a shared arrangement (dataflow/delta_join.hpp): shard s
// of the reader is shard s of the view; the index is found by its columns at each read (an
// index dropped meanwhile is kept for it: drop_index).
class IndexReader final : public dataflow::ArrangementReader {
 public:
  IndexReader(std::shared_ptr<const Maintained> m, std::vector<uint32_t> columns) : m_(std::move(m)), columns_(std::move(columns)) {}
  size_t num_shards() const override { return m_->num_shards(); }
  void lock_shared() const override { m_->state_mu.lock_shared(); }
  void unlock_shared() const override { m_->state_mu.unlock_shared(); }
  void for_each(size_t shard, std::string_view key, absl::FunctionRef<void(RowRef, int64_t)> f) const override {
    m_->for_each_by_key(shard, columns_, key, f);
  }

 private:
  std::shared_ptr<const Maintained> m_;
  std::vector<uint32_t> columns_;
};
}  // namespace

void Maintained::set_owners_at_step(bool on) {
  for (const auto& a : df_.external_arrangements) a->owner_at_step = on;
}

void Maintained::read_owners() {
  for (const auto& a : df_.external_arrangements)
    if (!a->read_external) a->read_owner();
}

bool Maintained::keeps_owner_copies() const {
  for (const auto& a : df_.external_arrangements)
    if (!a->read_external) return true;
  return false;
}

bool Maintained::shared_arrangements_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("FRESHET_SHARED_ARRANGEMENTS");
    return v != nullptr && std::string_view(v) == "on";
  }();
  return on;
}

std::shared_ptr<const dataflow::ArrangementReader> Maintained::shared_reader(const std::shared_ptr<Maintained>& self,
                                                                            const std::vector<uint32_t>& columns) {
  std::unique_lock sl(self->state_mu);
  // One shard holds every key; several must be split by exactly this key.
  const bool split_so = self->shards_.size() == 1 || (!self->by_row_ && self->shard_columns_ == columns);
  if (!split_so || self->find_index(columns) < 0 || self->over_budget_) return nullptr;
  if (std::find(self->shared_keys_.begin(), self->shared_keys_.end(), columns) == self->shared_keys_.end())
    self->shared_keys_.push_back(columns);
  return std::make_shared<IndexReader>(self, columns);
}

void Maintained::for_each_by_key(size_t shard, const std::vector<uint32_t>& columns, std::string_view key,
                                 absl::FunctionRef<void(RowRef, int64_t)> f) const {
  const Shard& sh = *shards_.at(shard);
  const Index* idx = nullptr;
  for (const auto* list : {&sh.indexes, &sh.kept})
    for (const Index& x : *list)
      if (idx == nullptr && x.columns == columns) idx = &x;
  FRESHET_ASSERT(idx != nullptr);
  const KeyProbe probe{hash_bytes(key), key};
  auto it = idx->keys.find(probe);
  if (it == idx->keys.end()) return;
  auto emit = [&](uint32_t ref) { f(RowRef(sh.bytes_at(ref)), sh.count_at(ref)); };
  emit(*it);
  if (auto m = idx->more.find(*it); m != idx->more.end())
    for (uint32_t ref : m->second) emit(ref);
}

int Maintained::find_index(const std::vector<uint32_t>& key_columns) const {
  const auto& indexes = shards_[0]->indexes;
  for (size_t i = 0; i < indexes.size(); ++i)
    if (indexes[i].columns == key_columns) return static_cast<int>(i);
  return -1;
}

void Maintained::lookup(size_t i, std::span<const Datum> key, RowDiffs& out) const {
  Row k = dataflow::canonical_row(Row::pack(key).ref());
  const KeyProbe probe{hash_bytes(k.bytes()), k.bytes()};
  auto find_in = [&](const Shard& sh) {
    const Index& idx = sh.indexes[i];
    auto it = idx.keys.find(probe);
    if (it == idx.keys.end()) return;
    auto emit = [&](uint32_t ref) { out.push_back({Row(std::string(sh.bytes_at(ref))), sh.count_at(ref)}); };
    emit(*it);
    if (auto m = idx.more.find(*it); m != idx.more.end())
      for (uint32_t ref : m->second) emit(ref);
  };
  // The index the shards are split by: its key lives in one shard (the exchange's hash of
  // the canonical key bytes, shard_of); another index: every shard.
  if (!by_row_ && shards_[0]->indexes[i].columns == shard_columns_) {
    find_in(*shards_[std::hash<std::string_view>{}(k.bytes()) % shards_.size()]);
    return;
  }
  for (const auto& sh : shards_) find_in(*sh);
}

size_t Maintained::bytes() const {
  size_t b = 0;
  for (const auto& sh : shards_) b += sh->bytes();
  return b;
}

size_t Maintained::Shard::bytes() const {
  // Heap bytes: the arena, the hash set's slots and control bytes, the big multiplicities, and
  // per index its set, its map of keys with more rows and the vectors that left their inline
  // slots (counted as they change).
  constexpr size_t kMoreSlot = sizeof(std::pair<const uint32_t, absl::InlinedVector<uint32_t, 2>>) + 1;
  size_t b = arena.capacity_bytes() + contents.capacity() * (sizeof(uint32_t) + 1) +
             big_counts.capacity() * (sizeof(std::pair<const uint32_t, int64_t>) + 1);
  for (const auto* list : {&indexes, &kept})
    for (const auto& idx : *list)
      b += idx.keys.capacity() * (sizeof(uint32_t) + 1) + idx.more.capacity() * kMoreSlot + idx.spill_bytes;
  return b;
}

}  // namespace freshet::server
