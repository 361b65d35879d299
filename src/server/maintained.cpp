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
    auto [it, inserted] = contents_.try_emplace(r, 0);
    it->second += d;
    if (it->second < 0) throw SqlError(sqlstate::kInternalError, "view \"" + name_ + "\" reached a negative multiplicity");
    if (inserted && it->second != 0) {
      for (auto& idx : indexes_) idx.map[key_of(r, idx.columns)].push_back(&*it);
    } else if (!inserted && it->second == 0) {
      for (auto& idx : indexes_) {
        Row k = key_of(r, idx.columns);
        auto b = idx.map.find(k);
        if (b == idx.map.end()) continue;
        auto& v = b->second;
        for (size_t i = 0; i < v.size(); ++i)
          if (v[i] == &*it) {
            v[i] = v.back();
            v.pop_back();
            break;
          }
        if (v.empty()) idx.map.erase(b);
      }
    }
    if (it->second == 0) contents_.erase(it);
  }
}

size_t Maintained::add_index(std::vector<uint32_t> key_columns) {
  Index idx;
  idx.columns = std::move(key_columns);
  for (const auto& entry : contents_) idx.map[key_of(entry.first, idx.columns)].push_back(&entry);
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
  for (const auto* e : it->second) out.push_back({e->first, e->second});
}

size_t Maintained::bytes() const {
  // Heap bytes: each row's node (the Row, its count, the hash chain) plus its bytes when they
  // do not fit the string's inline buffer, the bucket arrays, and the indexes' entries.
  size_t b = contents_.bucket_count() * sizeof(void*);
  for (const auto& [r, n] : contents_) b += sizeof(void*) + sizeof(Row) + sizeof(int64_t) + (r.size_bytes() > 15 ? r.size_bytes() + 1 : 0);
  for (const auto& idx : indexes_) {
    b += idx.map.bucket_count() * sizeof(void*);
    for (const auto& [k, v] : idx.map)
      b += sizeof(void*) + sizeof(Row) + sizeof(v) + (k.size_bytes() > 15 ? k.size_bytes() + 1 : 0) + v.capacity() * sizeof(void*);
  }
  return b;
}

}  // namespace freshet::server
