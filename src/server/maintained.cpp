#include "server/maintained.hpp"

#include <algorithm>
#include <mutex>

#include <pg_query/pg_query.pb-c.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/update.hpp"
#include "dataflow/workers.hpp"

namespace freshet::server {

namespace {
// Splits [0, n) into one range per worker (the pool's threads and the calling thread; at
// least two, so that one worker runs the same code as several) when n is at least
// kParallelRows, else one range, and runs fn(part, lo, hi) for each on the pool.
// Hydration's bulk passes over the output (apply_initial, build_index) use it: below that
// size a hand-over costs more than the second core gives.
constexpr size_t kParallelRows = 65536;
size_t parts_for(size_t n) {
  if (n < kParallelRows) return 1;
  return std::max<size_t>(2, dataflow::WorkerPool::global().threads() + 1);
}
template <typename Fn>
void run_parts(size_t parts, size_t n, Fn&& fn) {
  auto one = [&](size_t p) { fn(p, n * p / parts, n * (p + 1) / parts); };
  if (parts == 1) one(0);
  else dataflow::WorkerPool::global().run(parts, one);
}

// Whether a plan's output can change with time alone (a temporal filter releases or retracts
// rows as mz_now() advances). Other operators only ever react to input changes.
bool depends_on_time(const dataflow::RelExpr& e) {
  if (e.kind == dataflow::RelKind::kTemporalFilter) return true;
  for (const auto& in : e.inputs)
    if (depends_on_time(in)) return true;
  return false;
}
}  // namespace

Maintained::Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t,
                       const dataflow::SnapshotFn& snapshot, EvalContext& ctx, RowDiffs& initial,
                       const std::atomic<bool>* cancelled)
    : Maintained(
          id, std::move(name), std::move(plan), t,
          BatchSnapshotFn([&snapshot](uint64_t cid, uint64_t ts, dataflow::Batch& into) {
            snapshot(cid, [&](const Row& r, int64_t diff) { into.emplace_back(r.ref(), ts, diff); });
          }),
          ctx, &initial, {}, cancelled) {}

Maintained::Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t, const BatchSnapshotFn& snapshot,
                       EvalContext& ctx, RowDiffs* initial, const std::vector<std::vector<uint32_t>>& index_keys,
                       const std::atomic<bool>* cancelled)
    : id_(id), name_(std::move(name)), plan_(std::move(plan)), contents_(0, RefHash{this}, RefEq{this}) {
  {
    dataflow::Batch out = hydrate(t, snapshot, ctx, cancelled);
    apply_initial(out);
  }  // the output batch's blocks are freed before the indexes are built
  for (const auto& key : index_keys)
    if (find_index(key) < 0) indexes_.push_back(build_index(key));
  if (initial) {
    initial->reserve(initial->size() + contents_.size());
    for (uint32_t ref : contents_) initial->push_back({Row(std::string(bytes_at(ref))), count_at(ref)});
    dataflow::consolidate(*initial);  // in row-byte order, as callers saw it before
  }
  check_budget();  // over its budget: the CREATE (or the restart's hydration) fails with 53200
}

dataflow::Batch Maintained::hydrate(uint64_t t, const BatchSnapshotFn& snapshot, EvalContext& ctx,
                                    const std::atomic<bool>* cancelled) {
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
  // Join inputs narrowed to the columns a Reduce above reads (dataflow/oneshot.hpp): the
  // join's arrangements keep those columns only. plan_ stays as planned (EXPLAIN, restart).
  dataflow::RelExpr narrowed = plan_;
  dataflow::narrow_join_inputs(narrowed);
  df_ = dataflow::render(narrowed, opts);
  time_dependent_ = depends_on_time(plan_);
  // Hydration: every input's current contents at time t. A big input of a sharded dataflow is
  // sliced for the shards on the workers, one slice each (the updates are copied, the rows'
  // bytes shared); Dataflow::push would slice it on this thread.
  const size_t shards = df_.dataflow->num_shards();
  for (const auto& [cid, node] : df_.sources) {
    dataflow::Batch batch;
    snapshot(cid, t, batch);
    if (shards == 1 || batch.size() < kParallelRows) {
      df_.dataflow->push(node, std::move(batch));
      continue;
    }
    std::vector<dataflow::Batch> slices(shards);
    const size_t n = batch.size();
    dataflow::WorkerPool::global().run(shards, [&](size_t s) {
      const size_t lo = n * s / shards, hi = n * (s + 1) / shards;
      slices[s].reserve(hi - lo);
      slices[s].share_blocks_of(batch);
      for (size_t i = lo; i < hi; ++i) slices[s].push_shared(batch[i]);
    });
    for (size_t s = 0; s < shards; ++s) df_.dataflow->push_to_shard(node, s, std::move(slices[s]));
  }
  df_.dataflow->set_cancel_flag(cancelled);
  try {
    df_.dataflow->step(t, ctx);
  } catch (...) {
    df_.dataflow->set_cancel_flag(nullptr);
    throw;
  }
  df_.dataflow->set_cancel_flag(nullptr);
  return df_.dataflow->take_output(df_.output);
}

void Maintained::apply_initial(const dataflow::Batch& out) {
  FRESHET_ASSERT(contents_.empty() && indexes_.empty() && arena_.empty());
  bool retractions = false;
  for (const auto& u : out) {
    FRESHET_ASSERT(u.row.size_bytes() <= UINT32_MAX);
    retractions |= u.diff < 0;
  }
  // The hash set at its final size up front (an output whose updates repeat rows gets a set
  // that is too big: shrunk below), so that the slot of the row a few ahead, prefetched while
  // this one is inserted, stays put: the inserts are random accesses into a set of millions.
  const size_t n = out.size();
  contents_.reserve(n);
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < n; ++i) {
    if (i + kAhead < n) contents_.prefetch(out[i + kAhead].row.bytes());
    const auto& u = out[i];
    if (u.diff == 0) continue;
    std::string_view b = u.row.bytes();
    bool added = false;
    auto it = contents_.lazy_emplace(b, [&](const auto& ctor) {
      added = true;
      ctor(add_entry(b, u.diff));
    });
    if (!added) set_count_at(*it, dataflow::add_diffs(count_at(*it), u.diff));
  }
  if (retractions) {
    // Updates that cancelled (a row inserted and retracted by the same step) leave rows with
    // no multiplicity: dropped here, as consolidating first would have.
    for (auto it = contents_.begin(); it != contents_.end();) {
      int64_t count = count_at(*it);
      if (count < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
      if (count == 0) {
        dead_bytes_ += EntryArena::round_up(entry_bytes(bytes_at(*it).size()));
        set_count_at(*it, 0);
        contents_.erase(it++);
      } else {
        ++it;
      }
    }
    if (dead_bytes_ > 4096 && dead_bytes_ > arena_.used_bytes() / 2) compact();
  }
  if (contents_.size() < out.size() / 2) contents_.rehash(0);
}

Maintained::Index Maintained::empty_index(std::vector<uint32_t> columns) const {
  Index idx;
  idx.columns = std::move(columns);
  const uint32_t* cols = idx.columns.data();
  const size_t n = idx.columns.size();
  idx.keys = decltype(idx.keys)(0, KeyHash{this, cols, n}, KeyEq{this, cols, n});
  return idx;
}

Maintained::Index Maintained::build_index(std::vector<uint32_t> columns) const {
  Index idx = empty_index(std::move(columns));
  const uint32_t* cols = idx.columns.data();
  const size_t ncols = idx.columns.size();
  // The live rows in arena order, so that the workers below read the arena sequentially.
  std::vector<uint32_t> refs;
  refs.reserve(contents_.size());
  arena_.for_each_allocation([&](uint32_t ref, const char* p) {
    std::string_view row = row_at(p);
    if (*p != 0) refs.push_back(ref);
    return entry_bytes(row.size());
  });
  FRESHET_ASSERT(refs.size() == contents_.size());
  // Per row its key's canonical bytes (kept in its part's buffer) and their hash, computed on
  // the workers; each part sorts its range by (key hash, ref), and the sorted ranges are merged:
  // a key's rows together, in arena order.
  struct KeyedRef {
    uint64_t hash;
    uintptr_t key;  // the key's bytes (an offset into the part's buffer until it stops growing)
    uint32_t ref;
    uint32_t len;
  };
  const size_t n = refs.size();
  const size_t parts = parts_for(n);
  std::vector<KeyedRef> by_key(n);
  std::vector<std::string> keys(parts);
  auto before = [](const KeyedRef& a, const KeyedRef& b) { return a.hash != b.hash ? a.hash < b.hash : a.ref < b.ref; };
  run_parts(parts, n, [&](size_t p, size_t lo, size_t hi) {
    std::string& buf = keys[p];
    std::string one;
    for (size_t i = lo; i < hi; ++i) {
      const uint64_t h = key_bytes(RowRef(bytes_at(refs[i])), cols, ncols, one);
      FRESHET_ASSERT(one.size() <= UINT32_MAX);
      by_key[i] = KeyedRef{h, buf.size(), refs[i], static_cast<uint32_t>(one.size())};
      buf += one;
    }
    const auto base = reinterpret_cast<uintptr_t>(buf.data());
    for (size_t i = lo; i < hi; ++i) by_key[i].key += base;
    std::sort(by_key.begin() + static_cast<ptrdiff_t>(lo), by_key.begin() + static_cast<ptrdiff_t>(hi), before);
  });
  for (size_t p = 1; p < parts; ++p)
    std::inplace_merge(by_key.begin(), by_key.begin() + static_cast<ptrdiff_t>(n * p / parts),
                       by_key.begin() + static_cast<ptrdiff_t>(n * (p + 1) / parts), before);
  refs = {};
  auto key_of = [&](size_t i) { return std::string_view(reinterpret_cast<const char*>(by_key[i].key), by_key[i].len); };
  size_t hashes = 0, multi = 0;
  for (size_t i = 0; i < n; ++i) {
    bool first = i == 0 || by_key[i].hash != by_key[i - 1].hash;
    hashes += first;
    multi += !first && (i < 2 || by_key[i - 1].hash != by_key[i - 2].hash);
  }
  idx.keys.reserve(hashes);
  idx.more.reserve(multi);
  // Each run of equal hashes: its rows split by key (different keys share a hash only by
  // collision). The first row of a key goes into keys, the rest into more, sized exactly.
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
    arena_ = EntryArena();
    dead_bytes_ = 0;
    contents_ = decltype(contents_)(0, RefHash{this}, RefEq{this});
    big_counts_ = {};
    for (auto& idx : indexes_) idx = empty_index(std::move(idx.columns));
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
  if (!any_input && !time_dependent_) return;
  df_.dataflow->step(t, ctx);
  dataflow::Batch out = df_.dataflow->take_output(df_.output);
  RowDiffs mine;
  for (auto& u : out) mine.push_back({std::move(u.row), u.diff});
  dataflow::consolidate(mine);
  {
    std::unique_lock sl(state_mu);  // readers of the contents (serializable reads) wait only for this
    apply(mine);
    history_now = std::max(history_now, t);
    history.record(t, mine, history_now);
  }
  check_budget();  // over: stopped, and the step's change is not handed on
  for (auto& m : mine) delta.push_back(std::move(m));
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

uint64_t Maintained::key_hash(RowRef row, const std::vector<uint32_t>& columns) const {
  thread_local std::string packed;
  return key_bytes(row, columns.data(), columns.size(), packed);
}

size_t Maintained::KeyHash::operator()(uint32_t ref) const {
  thread_local std::string packed;
  return key_bytes(RowRef(m->bytes_at(ref)), columns, n, packed);
}

bool Maintained::KeyEq::operator()(uint32_t a, const KeyProbe& b) const {
  thread_local std::string packed;
  key_bytes(RowRef(m->bytes_at(a)), columns, n, packed);
  return packed == b.key;
}

bool Maintained::KeyEq::operator()(uint32_t a, uint32_t b) const {
  if (a == b) return true;
  thread_local std::string packed;
  const uint64_t h = key_bytes(RowRef(m->bytes_at(b)), columns, n, packed);
  std::string key_b = packed;
  return (*this)(a, KeyProbe{h, key_b});
}

void Maintained::index_insert(Index& idx, uint32_t ref) {
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

void Maintained::index_erase(Index& idx, uint32_t ref) {
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

void Maintained::apply(const RowDiffs& delta) {
  for (const auto& [r, d] : delta) {
    auto it = contents_.find(r.bytes());
    if (it == contents_.end()) {
      if (d < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
      if (d == 0) continue;
      FRESHET_ASSERT(r.size_bytes() <= UINT32_MAX);
      uint32_t ref = add_entry(r.bytes(), d);
      contents_.insert(ref);
      for (auto& idx : indexes_) index_insert(idx, ref);
      continue;
    }
    uint32_t ref = *it;
    int64_t n = dataflow::add_diffs(count_at(ref), d);
    if (n < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
    if (n == 0) {
      for (auto& idx : indexes_) index_erase(idx, ref);
      contents_.erase(it);
      dead_bytes_ += EntryArena::round_up(entry_bytes(bytes_at(ref).size()));
    }
    set_count_at(ref, n);  // 0: the entry is dead
  }
  if (dead_bytes_ > 4096 && dead_bytes_ > arena_.used_bytes() / 2) compact();
}

void Maintained::compact() {
  // The live entries copied in their order into a new arena; the hash set and the indexes are
  // rebuilt over the new refs (an index by sorting, as CREATE INDEX builds it).
  EntryArena old = std::move(arena_);
  arena_ = EntryArena();
  absl::flat_hash_map<uint32_t, int64_t> old_big = std::move(big_counts_);
  big_counts_ = {};
  const size_t live = contents_.size();
  contents_.clear();
  contents_.reserve(live);
  old.for_each_allocation([&](uint32_t ref, const char* p) {
    std::string_view row = row_at(p);
    uint8_t b = static_cast<uint8_t>(*p);
    if (b != 0) contents_.insert(add_entry(row, b == kBigCount ? old_big.at(ref) : b));
    return entry_bytes(row.size());
  });
  dead_bytes_ = 0;
  for (auto& idx : indexes_) idx = build_index(std::move(idx.columns));
}

void Maintained::set_count_at(uint32_t ref, int64_t c) {
  char* p = arena_.at(ref);
  const bool was_big = static_cast<uint8_t>(*p) == kBigCount;
  if (c >= 0 && c < kBigCount) {
    *p = static_cast<char>(static_cast<uint8_t>(c));
    if (was_big) big_counts_.erase(ref);
    return;
  }
  *p = static_cast<char>(kBigCount);
  big_counts_[ref] = c;
}

uint32_t Maintained::add_entry(std::string_view row, int64_t n) {
  FRESHET_ASSERT(row.size() <= UINT32_MAX);
  size_t len = row.size();
  uint32_t ref = arena_.allocate(entry_bytes(len));
  char* p = arena_.at(ref);
  auto* q = reinterpret_cast<uint8_t*>(p + 1);
  *p = 0;
  while (len >= 128) *q++ = static_cast<uint8_t>(len | 0x80), len >>= 7;
  *q++ = static_cast<uint8_t>(len);
  if (!row.empty()) std::memcpy(q, row.data(), row.size());
  set_count_at(ref, n);
  return ref;
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
    segs_.push_back({std::make_unique_for_overwrite<char[]>(n), n, n});
    capacity_ += n;
    for (size_t k = kSegment; k < n; k += kSegment) segs_.push_back({});
    end_ = segs_.size() << kShift;
    return static_cast<uint32_t>(at >> 2);
  }
  if (!fits) {
    // A new unit (the rest of the last one is left unused).
    end_ = seg_end;
    size_t cap = std::min<size_t>(kSegment, std::max<size_t>(256, n));
    segs_.push_back({std::make_unique_for_overwrite<char[]>(cap), cap, 0});
    capacity_ += cap;
  }
  Segment& last = segs_.back();
  const size_t off = end_ & (kSegment - 1);
  if (off + n > last.capacity) {
    // Grow the last segment in place of itself (its entries keep their offsets).
    size_t cap = last.capacity;
    while (cap < off + n) cap *= 2;
    cap = std::min<size_t>(cap, kSegment);
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    std::memcpy(bigger.get(), last.data.get(), off);
    capacity_ += cap - last.capacity;
    last.data = std::move(bigger);
    last.capacity = cap;
  }
  const uint64_t at = end_;
  end_ += n;
  last.used = off + n;
  return static_cast<uint32_t>(at >> 2);
}

void Maintained::for_each(const std::function<void(RowRef, int64_t)>& fn) const {
  // In arena order (sequential reads), skipping dead entries.
  arena_.for_each_allocation([&](uint32_t ref, const char* p) {
    std::string_view row = row_at(p);
    uint8_t b = static_cast<uint8_t>(*p);
    if (b != 0) fn(RowRef(row), b == kBigCount ? big_counts_.at(ref) : b);
    return entry_bytes(row.size());
  });
}

int64_t Maintained::count_of(RowRef row) const {
  auto it = contents_.find(row.bytes());
  return it == contents_.end() ? 0 : count_at(*it);
}

size_t Maintained::add_index(std::vector<uint32_t> key_columns) {
  indexes_.push_back(build_index(std::move(key_columns)));
  return indexes_.size() - 1;
}

void Maintained::drop_index(const std::vector<uint32_t>& key_columns) {
  for (auto it = indexes_.begin(); it != indexes_.end(); ++it)
    if (it->columns == key_columns) {
      indexes_.erase(it);
      return;
    }
}

int Maintained::find_index(const std::vector<uint32_t>& key_columns) const {
  for (size_t i = 0; i < indexes_.size(); ++i)
    if (indexes_[i].columns == key_columns) return static_cast<int>(i);
  return -1;
}

void Maintained::lookup(size_t i, std::span<const Datum> key, RowDiffs& out) const {
  Row k = dataflow::canonical_row(Row::pack(key).ref());
  const Index& idx = indexes_[i];
  auto it = idx.keys.find(KeyProbe{hash_bytes(k.bytes()), k.bytes()});
  if (it == idx.keys.end()) return;
  auto emit = [&](uint32_t ref) { out.push_back({Row(std::string(bytes_at(ref))), count_at(ref)}); };
  emit(*it);
  if (auto m = idx.more.find(*it); m != idx.more.end())
    for (uint32_t ref : m->second) emit(ref);
}

size_t Maintained::bytes() const {
  // Heap bytes: the arena, the hash set's slots and control bytes, the big multiplicities, and
  // per index its set, its map of keys with more rows and the vectors that left their inline
  // slots (counted as they change).
  constexpr size_t kMoreSlot = sizeof(std::pair<const uint32_t, absl::InlinedVector<uint32_t, 2>>) + 1;
  size_t b = arena_.capacity_bytes() + contents_.capacity() * (sizeof(uint32_t) + 1) +
             big_counts_.capacity() * (sizeof(std::pair<const uint32_t, int64_t>) + 1);
  for (const auto& idx : indexes_)
    b += idx.keys.capacity() * (sizeof(uint32_t) + 1) + idx.more.capacity() * kMoreSlot + idx.spill_bytes;
  return b;
}

}  // namespace freshet::server
