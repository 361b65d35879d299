#include "server/maintained.hpp"

#include <algorithm>
#include <mutex>

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
  std::unique_lock sl(state_mu);  // readers of the contents (serializable reads) wait only for this
  apply(mine);
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

void Maintained::index_insert(Index& idx, uint64_t ref) { idx.map[key_hash(RowRef(bytes_at(ref)), idx.columns)].push_back(ref); }

void Maintained::index_erase(Index& idx, uint64_t ref) {
  auto it = idx.map.find(key_hash(RowRef(bytes_at(ref)), idx.columns));
  if (it == idx.map.end()) return;
  auto& v = it->second;
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == ref) {
      v[i] = v.back();
      v.pop_back();
      break;
    }
  if (v.empty()) idx.map.erase(it);
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
  // out-of-line vectors of colliding or duplicate keys.
  size_t b = arena_.capacity() + contents_.capacity() * (sizeof(uint64_t) + 1);
  for (const auto& idx : indexes_) {
    b += idx.map.capacity() * (sizeof(uint64_t) + sizeof(absl::InlinedVector<uint64_t, 1>) + 1);
    for (const auto& [h, v] : idx.map)
      if (v.size() > 1) b += v.capacity() * sizeof(uint64_t);
  }
  return b;
}

}  // namespace freshet::server
