#include "dataflow/arrangement.hpp"

#include <algorithm>

#include "dataflow/update.hpp"

namespace freshet::dataflow {

namespace {

// The order of a run's entries: by the row's hash, then by its bytes. Readers sum every entry
// of a key and never search a run, so any total order that apply() and merge_runs() share
// does; comparing hashes first makes almost every comparison one integer compare where a
// memcmp of row bytes read the rows again (cache misses) and compared the bytes they share:
// the rows of one key start with the same key columns (a hot auction's bids).
inline int row_order(uint64_t ha, std::string_view a, uint64_t hb, std::string_view b) {
  if (ha != hb) return ha < hb ? -1 : 1;
  return a < b ? -1 : (a == b ? 0 : 1);
}

}  // namespace

size_t Arrangement::merge_runs(std::string_view a, std::string_view b, std::string& out) {
  Run ra(a), rb(b);
  auto x = ra.begin(), y = rb.begin();
  const auto xe = ra.end(), ye = rb.end();
  uint64_t hx = x != xe ? hash_bytes((*x).first.bytes()) : 0;
  uint64_t hy = y != ye ? hash_bytes((*y).first.bytes()) : 0;
  size_t n = 0;
  while (x != xe || y != ye) {
    int c = y == ye ? -1 : x == xe ? 1 : row_order(hx, (*x).first.bytes(), hy, (*y).first.bytes());
    std::string_view row;
    int64_t d;
    if (c < 0) {
      row = (*x).first.bytes();
      d = (*x).second;
    } else if (c > 0) {
      row = (*y).first.bytes();
      d = (*y).second;
    } else {
      row = (*x).first.bytes();
      d = add_diffs((*x).second, (*y).second);
    }
    if (d != 0) {
      Run::put(out, row, d);
      ++n;
    }
    if (c <= 0 && ++x != xe) hx = hash_bytes((*x).first.bytes());
    if (c >= 0 && ++y != ye) hy = hash_bytes((*y).first.bytes());
  }
  return n;
}

void Arrangement::apply(std::vector<KeyedUpdate>& updates) {
  if (updates.empty()) return;
  // Sorted by (key hash, row hash, row) through a permutation of 24-byte entries, so that
  // the comparisons are integer compares (row bytes only for equal row hashes, i.e. equal
  // rows) and the updates themselves are not moved. Comparing the keys' bytes in the sort
  // (a memcmp per comparison, the rows of a hot key all compare their equal keys) was 6% of
  // a join's hydration; instead one linear pass checks that the keys of each run of equal
  // key hashes are equal, and a run with a hash collision is sorted again by its key bytes.
  struct Order {
    uint64_t key_hash, row_hash;
    size_t i;
  };
  std::vector<Order> order(updates.size());
  for (size_t i = 0; i < updates.size(); ++i)
    order[i] = Order{hash_bytes(updates[i].key), hash_bytes(updates[i].row.bytes()), i};
  auto by_row = [&](const Order& a, const Order& b) {
    return row_order(a.row_hash, updates[a.i].row.bytes(), b.row_hash, updates[b.i].row.bytes()) < 0;
  };
  std::sort(order.begin(), order.end(), [&](const Order& a, const Order& b) {
    if (a.key_hash != b.key_hash) return a.key_hash < b.key_hash;
    return by_row(a, b);
  });
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    bool collision = false;
    for (; j < order.size() && order[j].key_hash == order[i].key_hash; ++j)
      collision = collision || updates[order[j].i].key != updates[order[i].i].key;
    if (collision) {
      std::sort(order.begin() + static_cast<ptrdiff_t>(i), order.begin() + static_cast<ptrdiff_t>(j), [&](const Order& a, const Order& b) {
        std::string_view ka = updates[a.i].key, kb = updates[b.i].key;
        if (ka != kb) return ka < kb;
        return by_row(a, b);
      });
    }
    i = j;
  }
  auto at = [&](size_t k) -> const KeyedUpdate& { return updates[order[k].i]; };
  std::string run, merged;
  for (size_t i = 0; i < updates.size();) {
    size_t j = i;
    while (j < updates.size() && at(j).key == at(i).key) ++j;
    // The key's new run: the updates [i, j), consolidated.
    run.clear();
    size_t count = 0;
    for (size_t k = i; k < j;) {
      std::string_view row = at(k).row.bytes();
      int64_t d = 0;
      while (k < j && at(k).row.bytes() == row) d = add_diffs(d, at(k++).diff);
      if (d != 0) {
        Run::put(run, row, d);
        ++count;
      }
    }
    i = j;
    if (count == 0) continue;
    auto it = map_.find(at(j - 1).key);
    if (it == map_.end()) it = map_.emplace(std::string(at(j - 1).key), KeyState{}).first;
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
