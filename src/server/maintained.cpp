#include "server/maintained.hpp"

#include <algorithm>
#include <mutex>

#include <pg_query/pg_query.pb-c.h>
#include <unistd.h>

#include <cstdlib>

#include "common/error.hpp"
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
    : id_(id), name_(std::move(name)), plan_(std::move(plan)), contents_(0, RefHash{this}, RefEq{this}) {
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
  df_ = dataflow::render(plan_, opts);
  time_dependent_ = depends_on_time(plan_);
  // Hydration: every input's current contents at time t.
  for (const auto& [cid, node] : df_.sources) {
    dataflow::Batch batch;
    snapshot(cid, [&](const Row& r, int64_t diff) { batch.push_back({r, t, diff}); });
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
  dataflow::Batch out = df_.dataflow->take_output(df_.output);
  for (auto& u : out) initial.push_back({std::move(u.row), u.diff});
  dataflow::consolidate(initial);
  apply(initial);
  check_budget();  // over its budget: the CREATE (or the restart's hydration) fails with 53200
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
    arena_ = {};
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
  return hash_bytes(key_of(row, columns).bytes());
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
      uint64_t ref = arena_.size();
      uint32_t len = static_cast<uint32_t>(r.size_bytes());
      size_t padded = (12 + len + 7) & ~size_t{7};
      arena_.resize(arena_.size() + padded);
      std::memcpy(arena_.data() + ref, &d, 8);
      std::memcpy(arena_.data() + ref + 8, &len, 4);
      std::memcpy(arena_.data() + ref + 12, r.bytes().data(), len);
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
      dead_bytes_ += (12 + bytes_at(ref).size() + 7) & ~size_t{7};
    }
  }
  if (dead_bytes_ > 4096 && dead_bytes_ > arena_.size() / 2) compact();
}

void Maintained::compact() {
  std::vector<char> fresh;
  fresh.reserve(arena_.size() - dead_bytes_);
  std::vector<uint64_t> refs(contents_.begin(), contents_.end());
  std::sort(refs.begin(), refs.end());
  absl::flat_hash_map<uint64_t, uint64_t> moved;
  moved.reserve(refs.size());
  for (uint64_t ref : refs) {
    size_t padded = (12 + bytes_at(ref).size() + 7) & ~size_t{7};
    uint64_t to = fresh.size();
    fresh.insert(fresh.end(), arena_.begin() + static_cast<ptrdiff_t>(ref), arena_.begin() + static_cast<ptrdiff_t>(ref + padded));
    moved[ref] = to;
  }
  arena_ = std::move(fresh);
  dead_bytes_ = 0;
  contents_.clear();
  for (const auto& [from, to] : moved) contents_.insert(to);
  for (auto& idx : indexes_)
    for (auto& [h, v] : idx.map)
      for (auto& ref : v) ref = moved.at(ref);
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
  size_t b = arena_.capacity() + contents_.capacity() * (sizeof(uint64_t) + 1);
  for (const auto& idx : indexes_)
    b += idx.map.capacity() * (sizeof(uint64_t) + sizeof(absl::InlinedVector<uint64_t, 1>) + 1) + idx.spill_bytes;
  return b;
}

}  // namespace freshet::server
