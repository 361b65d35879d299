#include "dataflow/arrangement.hpp"

#include <algorithm>

#include "dataflow/update.hpp"

namespace freshet::dataflow {

namespace {
void put_entry(std::string& out, std::string_view row, int64_t diff) {
  char head[12];
  uint32_t n = static_cast<uint32_t>(row.size());
  std::memcpy(head, &diff, 8);
  std::memcpy(head + 8, &n, 4);
  out.append(head, 12);
  out.append(row);
}
}  // namespace

void Arrangement::apply(std::vector<KeyedUpdate>& updates) {
  if (updates.empty()) return;
  std::sort(updates.begin(), updates.end(), [](const KeyedUpdate& a, const KeyedUpdate& b) {
    if (a.key != b.key) return a.key < b.key;
    return a.row.bytes() < b.row.bytes();
  });
  std::string merged;
  for (size_t i = 0; i < updates.size();) {
    size_t j = i;
    while (j < updates.size() && updates[j].key == updates[i].key) ++j;
    auto it = map_.find(updates[i].key);
    if (it == map_.end()) it = map_.emplace(std::string(updates[i].key), KeyState{}).first;
    KeyState& ks = it->second;
    // Merge the key's sorted entries with the sorted updates [i, j), summing equal rows.
    merged.clear();
    size_t count = 0;
    Entries old(ks.data);
    auto o = old.begin();
    const auto oe = old.end();
    size_t k = i;
    while (o != oe || k < j) {
      std::string_view row;
      int64_t d = 0;
      if (k >= j || (o != oe && (*o).first.bytes() < updates[k].row.bytes())) {
        auto [r, c] = *o;
        row = r.bytes();
        d = c;
        ++o;
      } else {
        row = updates[k].row.bytes();
        if (o != oe && (*o).first.bytes() == row) {
          d = (*o).second;
          ++o;
        }
      }
      while (k < j && updates[k].row.bytes() == row) d = add_diffs(d, updates[k++].diff);
      if (d != 0) {
        put_entry(merged, row, d);
        ++count;
      }
    }
    entries_ = entries_ - ks.count + count;
    data_bytes_ -= ks.data.capacity();
    if (count == 0) {
      map_.erase(it);
    } else {
      // A copy sized to fit (assign() would keep doubling the capacity); merged keeps its
      // capacity for the next key.
      ks.data = std::string(merged);
      ks.count = count;
      data_bytes_ += ks.data.capacity();
    }
    i = j;
  }
  updates.clear();
}

size_t Arrangement::size_bytes() const {
  // A node: the key string and KeyState (2 x 32 + 8) plus the next pointer and cached hash;
  // a bucket pointer per key.
  size_t per_key = sizeof(std::string) + sizeof(KeyState) + 2 * sizeof(void*) + sizeof(void*);
  size_t keys = 0;
  for (const auto& [k, v] : map_) keys += k.size() > 15 ? k.capacity() + 1 : 0;
  return data_bytes_ + keys + map_.size() * per_key;
}

}  // namespace freshet::dataflow
