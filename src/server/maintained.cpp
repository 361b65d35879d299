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
    for (uint64_t ref : contents_) initial->push_back({Row(std::string(bytes_at(ref))), count_at(ref)});
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
  // Hydration: every input's current contents at time t.
  for (const auto& [cid, node] : df_.sources) {
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
  // that is too big: shrunk below).
  contents_.reserve(out.size());
  for (const auto& u : out) {
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
      int64_t n = count_at(*it);
      if (n < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
      if (n == 0) {
        dead_bytes_ += entry_bytes(bytes_at(*it).size());
        contents_.erase(it++);
      } else {
        ++it;
      }
    }
    if (dead_bytes_ > 4096 && dead_bytes_ > arena_.used_bytes() / 2) compact();
  }
  if (contents_.size() < out.size() / 2) contents_.rehash(0);
}

Maintained::Index Maintained::build_index(std::vector<uint32_t> columns) const {
  Index idx;
  idx.columns = std::move(columns);
  std::vector<std::pair<uint64_t, uint64_t>> by_key;  // (key hash, ref)
  by_key.reserve(contents_.size());
  for (uint64_t ref : contents_) by_key.emplace_back(key_hash(RowRef(bytes_at(ref)), idx.columns), ref);
  std::sort(by_key.begin(), by_key.end());  // a key's rows together, in arena order
  size_t keys = 0;
  for (size_t i = 0; i < by_key.size(); ++i) keys += i == 0 || by_key[i].first != by_key[i - 1].first;
  idx.map.reserve(keys);
  for (size_t i = 0; i < by_key.size();) {
    size_t j = i;
    while (j < by_key.size() && by_key[j].first == by_key[i].first) ++j;
    auto& v = idx.map[by_key[i].first];
    v.reserve(j - i);  // exactly (inline for one row)
    for (size_t k = i; k < j; ++k) v.push_back(by_key[k].second);
    idx.spill_bytes += spill_of(v);
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
    for (auto& idx : indexes_) {
      idx.map = {};
      idx.spill_bytes = 0;
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

Row Maintained::key_of(RowRef row, const std::vector<uint32_t>& columns) const {
  std::vector<Datum> ds = row.unpack();
  std::vector<Datum> k;
  for (auto c : columns) k.push_back(ds[c]);
  return dataflow::canonical_row(Row::pack(k).ref());
}

uint64_t Maintained::key_hash(RowRef row, const std::vector<uint32_t>& columns) const {
  // hash_bytes(key_of(row, columns).bytes()) without its three allocations: the key's datums
  // packed into a reused buffer (canonical form only when a datum needs it, as canonical_row).
  thread_local std::vector<Datum> ds, key;
  thread_local std::string packed;
  uint32_t n = 0;
  for (auto c : columns) n = std::max(n, c + 1);
  ds.clear();
  unpack_prefix_into(row, ds, n);
  key.clear();
  bool canonical = false;
  for (auto c : columns) {
    key.push_back(ds[c]);
    canonical = canonical || dataflow::needs_canonical(ds[c]);
  }
  packed.clear();
  if (canonical) dataflow::append_canonical_key(key, packed);
  else RowPacker(packed).push_all(key);
  return hash_bytes(packed);
}

void Maintained::index_insert(Index& idx, uint64_t ref) {
  auto& v = idx.map[key_hash(RowRef(bytes_at(ref)), idx.columns)];
  idx.spill_bytes -= spill_of(v);
  v.push_back(ref);
  idx.spill_bytes += spill_of(v);
}

void Maintained::index_erase(Index& idx, uint64_t ref) {
  auto it = idx.map.find(key_hash(RowRef(bytes_at(ref)), idx.columns));
  if (it == idx.map.end()) return;
  auto& v = it->second;
  idx.spill_bytes -= spill_of(v);
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == ref) {
      v[i] = v.back();
      v.pop_back();
      break;
    }
  if (v.empty()) idx.map.erase(it);
  else idx.spill_bytes += spill_of(v);
}

void Maintained::apply(const RowDiffs& delta) {
  for (const auto& [r, d] : delta) {
    auto it = contents_.find(r.bytes());
    if (it == contents_.end()) {
      if (d < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
      if (d == 0) continue;
      FRESHET_ASSERT(r.size_bytes() <= UINT32_MAX);
      uint64_t ref = add_entry(r.bytes(), d);
      contents_.insert(ref);
      for (auto& idx : indexes_) index_insert(idx, ref);
      continue;
    }
    uint64_t ref = *it;
    int64_t n = count_at(ref) + d;
    set_count_at(ref, n);
    if (n < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
    if (n == 0) {
      for (auto& idx : indexes_) index_erase(idx, ref);
      contents_.erase(it);
      dead_bytes_ += entry_bytes(bytes_at(ref).size());
    }
  }
  if (dead_bytes_ > 4096 && dead_bytes_ > arena_.used_bytes() / 2) compact();
}

void Maintained::compact() {
  EntryArena old = std::move(arena_);
  arena_ = EntryArena();
  std::vector<uint64_t> refs(contents_.begin(), contents_.end());
  std::sort(refs.begin(), refs.end());  // the live entries in their old order
  absl::flat_hash_map<uint64_t, uint64_t> moved;
  moved.reserve(refs.size());
  for (uint64_t ref : refs) {
    const char* p = old.at(ref);
    int64_t n;
    uint32_t len;
    std::memcpy(&n, p, 8);
    std::memcpy(&len, p + 8, 4);
    moved[ref] = add_entry(std::string_view(p + 12, len), n);
  }
  dead_bytes_ = 0;
  contents_.clear();
  for (const auto& [from, to] : moved) contents_.insert(to);
  for (auto& idx : indexes_)
    for (auto& [h, v] : idx.map)
      for (auto& ref : v) ref = moved.at(ref);
}

uint64_t Maintained::add_entry(std::string_view row, int64_t n) {
  FRESHET_ASSERT(row.size() <= UINT32_MAX);
  uint32_t len = static_cast<uint32_t>(row.size());
  uint64_t ref = arena_.allocate(entry_bytes(len));
  char* p = arena_.at(ref);
  std::memcpy(p, &n, 8);
  std::memcpy(p + 8, &len, 4);
  if (len != 0) std::memcpy(p + 12, row.data(), len);
  return ref;
}

uint64_t EntryArena::allocate(size_t n) {
  used_ += n;
  if (n > kSegment) {
    // A segment of its own, spanning as many units as it needs; the next entry starts after.
    uint64_t ref = segs_.size() << kShift;
    segs_.push_back({std::make_unique_for_overwrite<char[]>(n), n});
    capacity_ += n;
    for (size_t k = kSegment; k < n; k += kSegment) segs_.push_back({});
    end_ = segs_.size() << kShift;
    return ref;
  }
  const uint64_t seg_end = segs_.size() << kShift;  // the last segment's unit ends here
  if (segs_.empty() || end_ + n > seg_end) {
    // A new unit (the rest of the last one is left unused).
    end_ = seg_end;
    size_t cap = std::min<size_t>(kSegment, std::max<size_t>(256, n));
    segs_.push_back({std::make_unique_for_overwrite<char[]>(cap), cap});
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
    last = {std::move(bigger), cap};
  }
  uint64_t ref = end_;
  end_ += n;
  return ref;
}

void Maintained::for_each(const std::function<void(RowRef, int64_t)>& fn) const {
  for (uint64_t ref : contents_) fn(RowRef(bytes_at(ref)), count_at(ref));
}

int64_t Maintained::count_of(RowRef row) const {
  auto it = contents_.find(row.bytes());
  return it == contents_.end() ? 0 : count_at(*it);
}

size_t Maintained::add_index(std::vector<uint32_t> key_columns) {
  Index idx;
  idx.columns = std::move(key_columns);
  for (uint64_t ref : contents_) index_insert(idx, ref);
  indexes_.push_back(std::move(idx));
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
  auto it = idx.map.find(hash_bytes(k.bytes()));
  if (it == idx.map.end()) return;
  for (uint64_t ref : it->second) {
    RowRef row(bytes_at(ref));
    if (key_of(row, idx.columns) == k) out.push_back({Row(std::string(row.bytes())), count_at(ref)});
  }
}

size_t Maintained::bytes() const {
  // Heap bytes: the arena, the hash set's slots and control bytes, each index's slots and the
  // out-of-line vectors of colliding or duplicate keys (counted as they change).
  size_t b = arena_.capacity_bytes() + contents_.capacity() * (sizeof(uint64_t) + 1);
  for (const auto& idx : indexes_)
    b += idx.map.capacity() * (sizeof(uint64_t) + sizeof(absl::InlinedVector<uint64_t, 1>) + 1) + idx.spill_bytes;
  return b;
}

}  // namespace freshet::server
