#include "dataflow/arrangement.hpp"

#include <algorithm>

#include "dataflow/update.hpp"

namespace freshet::dataflow {

size_t Arrangement::merge_runs(std::string_view a, std::string_view b, std::string& out) {
  Run ra(a), rb(b);
  auto x = ra.begin(), y = rb.begin();
  const auto xe = ra.end(), ye = rb.end();
  size_t n = 0;
  while (x != xe || y != ye) {
    std::string_view row;
    int64_t d;
    if (y == ye || (x != xe && (*x).first.bytes() < (*y).first.bytes())) {
      row = (*x).first.bytes();
      d = (*x).second;
      ++x;
    } else if (x == xe || (*y).first.bytes() < (*x).first.bytes()) {
      row = (*y).first.bytes();
      d = (*y).second;
      ++y;
    } else {
      row = (*x).first.bytes();
      d = add_diffs((*x).second, (*y).second);
      ++x;
      ++y;
    }
    if (d != 0) {
      Run::put(out, row, d);
      ++n;
    }
  }
  return n;
}

void Arrangement::apply(std::vector<KeyedUpdate>& updates) {
  if (updates.empty()) return;
  std::sort(updates.begin(), updates.end(), [](const KeyedUpdate& a, const KeyedUpdate& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.row.bytes() < b.row.bytes();
  });
  std::string run, merged;
  for (size_t i = 0; i < updates.size();) {
    size_t j = i;
    while (j < updates.size() && updates[j].key == updates[i].key) ++j;
    // The key's new run: the updates [i, j), consolidated.
    run.clear();
    size_t count = 0;
    for (size_t k = i; k < j;) {
      std::string_view row = updates[k].row.bytes();
      int64_t d = 0;
      while (k < j && updates[k].row.bytes() == row) d = add_diffs(d, updates[k++].diff);
      if (d != 0) {
        Run::put(run, row, d);
        ++count;
      }
    }
    i = j;
    if (count == 0) continue;
    auto it = map_.find(updates[j - 1].key);
    if (it == map_.end()) it = map_.emplace(std::string(updates[j - 1].key), KeyState{}).first;
    KeyState& ks = it->second;
    extra_bytes_ -= key_extra_bytes(it->first, ks);
    // Runs sized to fit (a copy; run keeps its capacity for the next key).
    ks.runs.push_back({std::string(run), count});
    data_bytes_ += ks.runs.back().data.capacity();
    entries_ += count;
    // Merge while the older run is at most twice the newer: O(log n) runs per key.
    while (ks.runs.size() >= 2 && ks.runs[ks.runs.size() - 2].data.size() <= 2 * ks.runs.back().data.size()) {
      Entries::RunData& a = ks.runs[ks.runs.size() - 2];
      Entries::RunData& b = ks.runs.back();
      merged.clear();
      size_t n = merge_runs(a.data, b.data, merged);
      data_bytes_ -= a.data.capacity() + b.data.capacity();
      entries_ -= a.count + b.count;
      ks.runs.pop_back();  // b
      if (n == 0) {
        ks.runs.pop_back();  // a
      } else {
        a.data = std::string(merged);
        a.count = n;
        data_bytes_ += a.data.capacity();
        entries_ += n;
      }
    }
    if (ks.runs.empty()) map_.erase(it);
    else extra_bytes_ += key_extra_bytes(it->first, ks);
  }
  updates.clear();
}

size_t Arrangement::size_bytes() const {
  // A node: the key string, the KeyState's vector, the next pointer and the cached hash; a
  // bucket pointer per key; the runs' headers.
  size_t per_key = sizeof(std::string) + sizeof(KeyState) + 3 * sizeof(void*);
  return data_bytes_ + extra_bytes_ + map_.size() * per_key;
}

}  // namespace freshet::dataflow
