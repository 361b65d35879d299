#include "dataflow/arrangement.hpp"

#include <algorithm>

#include "common/error.hpp"
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

// The bytes Run::put writes for an entry: the zigzag varint of the multiplicity, the varint
// of the row's length, the row.
inline size_t entry_bytes(size_t row_bytes, int64_t diff) {
  auto varint_bytes = [](uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
      v >>= 7;
      ++n;
    }
    return n;
  };
  const uint64_t z = (static_cast<uint64_t>(diff) << 1) ^ static_cast<uint64_t>(diff >> 63);
  return varint_bytes(z) + varint_bytes(row_bytes) + row_bytes;
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
  // a join's hydration. Keys are split by their bytes in the pass below: two keys with one
  // hash (a 64-bit collision) may interleave, and then a key gets two runs from one apply,
  // each sorted and consolidated (equal rows have equal keys, so they are adjacent), which
  // the merges below combine as any two runs.
  struct Order {
    uint64_t key_hash, row_hash;
    size_t i;
  };
  const size_t n = updates.size();
  std::vector<Order> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = Order{hash_bytes(updates[i].key), hash_bytes(updates[i].row.bytes()), i};
  auto less = [&](const Order& a, const Order& b) {
    if (a.key_hash != b.key_hash) return a.key_hash < b.key_hash;
    return row_order(a.row_hash, updates[a.i].row.bytes(), b.row_hash, updates[b.i].row.bytes()) < 0;
  };
  if (n < kRadixMin) {
    std::sort(order.begin(), order.end(), less);
  } else {
    // A bulk apply (a join's hydration: the whole input in one step): one counting pass by
    // the key hash's top bits, then a small sort per bucket, where std::sort over the whole
    // array made ~20 passes over it (0.2 s of 920,000 bids).
    constexpr int kBits = 16;
    std::vector<uint32_t> start(size_t{1} << kBits, 0);
    for (const Order& o : order) ++start[o.key_hash >> (64 - kBits)];
    uint32_t sum = 0;
    for (uint32_t& c : start) {
      uint32_t k = c;
      c = sum;
      sum += k;
    }
    std::vector<Order> sorted(n);
    std::vector<uint32_t> fill = start;
    for (const Order& o : order) sorted[fill[o.key_hash >> (64 - kBits)]++] = o;
    for (size_t b = 0; b < start.size(); ++b) {
      const size_t lo = start[b], hi = fill[b];
      if (hi - lo > 1) std::sort(sorted.begin() + static_cast<ptrdiff_t>(lo), sorted.begin() + static_cast<ptrdiff_t>(hi), less);
    }
    order.swap(sorted);
  }
  auto at = [&](size_t k) -> const KeyedUpdate& { return updates[order[k].i]; };
  // The pass below reads the updates, their keys and rows in sorted order, which is random
  // in memory: prefetched a few entries ahead so that the cache misses overlap.
  constexpr size_t kAhead = 8;
  auto prefetch = [&](size_t k) {
    if (k + 2 * kAhead < n) __builtin_prefetch(&updates[order[k + 2 * kAhead].i]);
    if (k + kAhead < n) {
      const KeyedUpdate& u = at(k + kAhead);
      __builtin_prefetch(u.key.data());
      __builtin_prefetch(u.row.bytes().data());
    }
  };
  // A first apply (hydration) sizes the table for its keys once, not by repeated rehashing.
  if (map_.empty()) {
    size_t groups = 1;
    for (size_t k = 1; k < n; ++k) groups += order[k].key_hash != order[k - 1].key_hash;
    map_.reserve(groups);
  }
  std::string merged;
  std::vector<std::pair<std::string_view, int64_t>> entries;  // a key's consolidated rows
  for (size_t i = 0; i < n;) {
    const std::string_view key = at(i).key;
    prefetch(i);
    size_t j = i + 1;
    while (j < n && order[j].key_hash == order[i].key_hash && at(j).key == key) prefetch(j++);
    // The key's new run: the updates [i, j), consolidated (equal rows are adjacent: equal
    // hashes, then bytes). An update is compared with the first of its run of equal hashes
    // only, never with itself.
    // Consolidated first (row views), then written once into a buffer of the run's exact
    // size: no scratch buffer copied into a fitted one (a second copy of every row).
    entries.clear();
    size_t run_bytes = 0;
    for (size_t k = i; k < j;) {
      const uint64_t row_hash = order[k].row_hash;
      const std::string_view row = at(k).row.bytes();
      int64_t d = at(k++).diff;
      while (k < j && order[k].row_hash == row_hash && at(k).row.bytes() == row) d = add_diffs(d, at(k++).diff);
      if (d != 0) {
        entries.emplace_back(row, d);
        run_bytes += entry_bytes(row.size(), d);
      }
    }
    i = j;
    const size_t count = entries.size();
    if (count == 0) continue;
    std::string run;
    run.reserve(run_bytes);
    for (const auto& [row, d] : entries) Run::put(run, row, d);
    FRESHET_ASSERT(run.size() == run_bytes);
    auto [it, fresh] = map_.try_emplace(key);
    KeyState& ks = it->second;
    if (!fresh) extra_bytes_ -= key_extra_bytes(it->first, ks);
    ks.runs.push_back({std::move(run), count});
    data_bytes_ += ks.runs.back().data.capacity();
    entries_ += count;
    // Merge while the older run is at most twice the newer: O(log n) runs per key.
    while (ks.runs.size() >= 2 && ks.runs[ks.runs.size() - 2].data.size() <= 2 * ks.runs.back().data.size()) {
      Entries::RunData& a = ks.runs[ks.runs.size() - 2];
      Entries::RunData& b = ks.runs.back();
      merged.clear();
      size_t m = merge_runs(a.data, b.data, merged);
      data_bytes_ -= a.data.capacity() + b.data.capacity();
      entries_ -= a.count + b.count;
      ks.runs.pop_back();  // b
      if (m == 0) {
        ks.runs.pop_back();  // a
      } else {
        a.data = std::string(merged);
        a.count = m;
        data_bytes_ += a.data.capacity();
        entries_ += m;
      }
    }
    if (ks.runs.empty()) map_.erase(it);
    else extra_bytes_ += key_extra_bytes(it->first, ks);
  }
  // The table does not shrink by itself: once at most an eighth full, it is rebuilt to fit
  // (O(keys), paid for by the erases that emptied it).
  if (map_.capacity() > 1024 && map_.size() * 8 < map_.capacity()) map_.rehash(0);
  updates.clear();
}

size_t Arrangement::size_bytes() const {
  // The table's slots (the key string and the KeyState with its inline run, plus a control
  // byte each), the long keys' and the runs' buffers.
  const size_t per_slot = sizeof(std::string) + sizeof(KeyState) + 1;
  return data_bytes_ + extra_bytes_ + map_.capacity() * per_slot;
}

}  // namespace freshet::dataflow
