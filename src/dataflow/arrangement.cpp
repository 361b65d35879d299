#include "dataflow/arrangement.hpp"

#include <algorithm>

#include "dataflow/update.hpp"

namespace freshet::dataflow {

void Arrangement::apply(std::vector<KeyedUpdate>& updates) {
  if (updates.empty()) return;
  std::sort(updates.begin(), updates.end(), [](const KeyedUpdate& a, const KeyedUpdate& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.row.bytes() < b.row.bytes();
  });
  for (size_t i = 0; i < updates.size();) {
    size_t j = i;
    while (j < updates.size() && updates[j].key == updates[i].key) ++j;
    auto it = map_.find(updates[i].key);
    if (it == map_.end()) it = map_.emplace(std::string(updates[i].key), Entries{}).first;
    Entries& e = it->second;
    entries_ -= e.size();
    size_t mid = e.size();
    for (size_t k = i; k < j; ++k) e.emplace_back(Row(updates[k].row), updates[k].diff);
    std::inplace_merge(e.begin(), e.begin() + static_cast<ptrdiff_t>(mid), e.end(),
                       [](const auto& a, const auto& b) { return a.first.bytes() < b.first.bytes(); });
    size_t out = 0;
    for (size_t k = 0; k < e.size();) {
      size_t m = k + 1;
      int64_t d = e[k].second;
      while (m < e.size() && e[m].first == e[k].first) d = add_diffs(d, e[m++].second);
      if (d != 0) {
        if (out != k) e[out] = std::move(e[k]);
        e[out].second = d;
        ++out;
      }
      k = m;
    }
    e.resize(out);
    entries_ += e.size();
    if (e.empty()) map_.erase(it);
    i = j;
  }
  updates.clear();
}

}  // namespace freshet::dataflow
