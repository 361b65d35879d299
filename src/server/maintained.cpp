#include "server/maintained.hpp"

#include "common/error.hpp"
#include "dataflow/update.hpp"

namespace freshet::server {

Maintained::Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t,
                       const dataflow::SnapshotFn& snapshot, EvalContext& ctx, RowDiffs& initial)
    : id_(id), name_(std::move(name)), plan_(std::move(plan)) {
  dataflow::RenderOptions opts;
  opts.keep_state = true;
  df_ = dataflow::render(plan_, opts);
  // Hydration: every input's current contents at time t.
  for (const auto& [cid, node] : df_.sources) {
    dataflow::Batch batch;
    snapshot(cid, [&](const Row& r, int64_t diff) { batch.push_back({r, t, diff}); });
    df_.dataflow->push(node, std::move(batch));
  }
  df_.dataflow->step(t, ctx);
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
  for (const auto& [cid, node] : df_.sources) {
    auto it = changes.find(cid);
    if (it == changes.end() || it->second.empty()) continue;
    dataflow::Batch batch;
    batch.reserve(it->second.size());
    for (const auto& [r, d] : it->second) batch.push_back({r, t, d});
    df_.dataflow->push(node, std::move(batch));
  }
  df_.dataflow->step(t, ctx);
  dataflow::Batch out = df_.dataflow->take_output(df_.output);
  size_t start = delta.size();
  RowDiffs mine;
  for (auto& u : out) mine.push_back({std::move(u.row), u.diff});
  dataflow::consolidate(mine);
  apply(mine);
  (void)start;
  for (auto& m : mine) delta.push_back(std::move(m));
}

Row Maintained::key_of(const Row& row, const std::vector<uint32_t>& columns) const {
  std::vector<Datum> ds = row.unpack();
  std::vector<Datum> k;
  for (auto c : columns) k.push_back(ds[c]);
  return dataflow::canonical_row(Row::pack(k).ref());
}

void Maintained::apply(const RowDiffs& delta) {
  for (const auto& [r, d] : delta) {
    auto& n = contents_[r];
    n += d;
    if (n < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
    if (n == 0) contents_.erase(r);
    for (auto& idx : indexes_) {
      Row k = key_of(r, idx.columns);
      auto& bucket = idx.map[k];
      auto& m = bucket[r];
      m += d;
      if (m == 0) bucket.erase(r);
      if (bucket.empty()) idx.map.erase(k);
    }
  }
}

size_t Maintained::add_index(std::vector<uint32_t> key_columns) {
  Index idx;
  idx.columns = std::move(key_columns);
  for (const auto& [r, n] : contents_) idx.map[key_of(r, idx.columns)][r] = n;
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
  auto it = indexes_[i].map.find(k);
  if (it == indexes_[i].map.end()) return;
  for (const auto& [r, n] : it->second) out.push_back({r, n});
}

size_t Maintained::bytes() const {
  size_t b = 0;
  for (const auto& [r, n] : contents_) b += r.size_bytes() + sizeof(Row) + sizeof(int64_t);
  for (const auto& idx : indexes_)
    for (const auto& [k, bucket] : idx.map) {
      b += k.size_bytes() + sizeof(Row);
      for (const auto& [r, n] : bucket) b += sizeof(Row) + r.size_bytes() + sizeof(int64_t);
    }
  return b;
}

}  // namespace freshet::server
