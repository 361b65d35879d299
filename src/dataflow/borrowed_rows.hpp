#pragma once
// Rows of an arrangement's hydration borrowed from its input batch instead of copied into the
// Arrangement (src/dataflow/README.md, "Joins borrow their hydration's rows"): binary joins
// (operators.cpp) and the delta join's arrangements (delta_join.hpp, SharedArrangement).

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/row.hpp"
#include "dataflow/arrangement.hpp"
#include "dataflow/update.hpp"

namespace freshet::dataflow {

// FRESHET_JOIN_BORROW=off in the server's environment copies a hydration's rows, as before:
// for benchmarks comparing the two (bench/README.md), not a setting to run with.
inline bool join_borrow_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("FRESHET_JOIN_BORROW");
    return v == nullptr || std::string_view(v) != "off";
  }();
  return on;
}

// A join side's hydration rows borrowed from the input batch instead of copied into the
// side's Arrangement (src/dataflow/README.md, "Joins borrow their hydration's rows"): the
// batch's blocks are kept (a table's frozen copy, or the projection that fed the join) and
// each row is one 8-byte entry (its address and length), grouped by key, neither sorted nor
// consolidated (readers sum a row's multiplicities anyway). So the hydration's bulk apply is
// two hash lookups per update: no sort, no row read or copied. Later steps go to the
// Arrangement as before; a key's borrowed rows are copied into it (with that step's updates)
// once the key has had as many updates since, and all of them, the blocks let go, once fewer
// than a quarter are left: the copying is paid for by the updates, and retracted rows do not
// keep a table's old copy alive for ever.
class BorrowedRows {
 public:
  // From this many updates, the first apply of a side may borrow.
  static constexpr size_t kMin = 4096;

  // Borrows the updates' rows (all in `rows`' blocks) when every multiplicity is 1, every row
  // is under 64 KiB and the rows are at least a quarter of the block bytes `rows` accounts for
  // (a filter's output may share a whole table's blocks for a few of its rows); false (nothing
  // kept) otherwise. REQUIRES: nothing borrowed yet.
  bool take(const std::vector<KeyedUpdate>& updates, const Batch& rows) {
    if (updates.size() < kMin || updates.size() > UINT32_MAX || !rows_.empty()) return false;
    size_t bytes = 0;
    for (const KeyedUpdate& u : updates) {
      const uintptr_t p = reinterpret_cast<uintptr_t>(u.row.bytes().data());
      if (u.diff != 1 || u.row.size_bytes() > 0xffff || (p >> 48) != 0) return false;
      bytes += u.row.size_bytes();
    }
    // used_bytes: the blocks the batch accounts for plus its updates (an exchange's batch
    // accounts for its rows only of the producer's blocks it shares).
    const size_t held = rows.used_bytes() - rows.size() * sizeof(Update);
    if (bytes * 4 < held) return false;
    // Each key's count, then its range, then the entries in place.
    for (const KeyedUpdate& u : updates) ++keys_.try_emplace(u.key).first->second.count;
    uint32_t next = 0;
    for (auto& [key, k] : keys_) {
      k.begin = next;
      next += k.count;
      k.count = 0;
    }
    rows_.resize(updates.size());
    for (const KeyedUpdate& u : updates) {
      Key& k = keys_.find(u.key)->second;
      const uint64_t p = reinterpret_cast<uintptr_t>(u.row.bytes().data());
      rows_[k.begin + k.count++] = (p << 16) | u.row.size_bytes();
    }
    blocks_.share_blocks_of(rows);
    held_ = held;
    live_ = updates.size();
    return true;
  }
  // f(row, 1) for each borrowed row of key.
  template <typename F>
  void for_each(std::string_view key, F&& f) const {
    if (live_ == 0) return;
    auto it = keys_.find(key);
    if (it == keys_.end()) return;
    for (uint32_t j = 0; j < it->second.count; ++j) f(row_at(it->second.begin + j), int64_t{1});
  }
  // Counts a step's updates of this side (before the Arrangement applies them) against their
  // keys: a key with as many updates since hydration as borrowed rows has its rows appended
  // to `ups` (the Arrangement's apply copies them with the rest) and is dropped here.
  void settle(std::vector<KeyedUpdate>& ups) {
    if (live_ == 0) return;
    const size_t n = ups.size();
    for (size_t i = 0; i < n; ++i) {
      const std::string_view key = ups[i].key;  // the step's arena: valid through the apply
      auto it = keys_.find(key);
      if (it == keys_.end() || ++it->second.changes < it->second.count) continue;
      for (uint32_t j = 0; j < it->second.count; ++j) ups.push_back({key, row_at(it->second.begin + j), 1});
      live_ -= it->second.count;
      keys_.erase(it);
    }
  }
  // Once fewer than a quarter of the borrowed rows are left: copies them into arr and lets
  // the blocks go.
  void release_if_sparse(Arrangement& arr) {
    if (rows_.empty() || live_ * 4 >= rows_.size()) return;
    std::vector<KeyedUpdate> ups;
    ups.reserve(live_);
    for (const auto& [key, k] : keys_)
      for (uint32_t j = 0; j < k.count; ++j) ups.push_back({key, row_at(k.begin + j), 1});
    arr.apply(ups);
    keys_ = {};
    std::vector<uint64_t>().swap(rows_);
    blocks_.clear();
    held_ = live_ = 0;
  }
  size_t num_rows() const { return live_; }
  // The entries, the keys and the blocks held (counted whole, though a table's frozen copy
  // shares them while the table is unchanged).
  size_t size_bytes() const {
    return rows_.capacity() * sizeof(uint64_t) + keys_.capacity() * (sizeof(std::string) + sizeof(Key) + 1) + held_;
  }

 private:
  struct Key {
    uint32_t begin = 0, count = 0;  // the key's range of rows_
    uint64_t changes = 0;           // updates of the key since hydration
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return hash_bytes(s); }
  };
  static RowRef row_at_entry(uint64_t e) { return RowRef(std::string_view(reinterpret_cast<const char*>(e >> 16), e & 0xffff)); }
  RowRef row_at(size_t i) const { return row_at_entry(rows_[i]); }

  absl::flat_hash_map<std::string, Key, Hash, std::equal_to<>> keys_;
  std::vector<uint64_t> rows_;  // the row's address << 16 | its length, grouped by key
  Batch blocks_;                // references to the blocks that hold them (no updates)
  size_t held_ = 0;             // bytes of those blocks
  size_t live_ = 0;             // rows still borrowed (in keys_)
};

// A side's step updates into its state: borrowed at hydration when they qualify (the rows
// all in `in`'s blocks), else into the Arrangement with the borrowed rows of the keys that
// have had enough updates since.
inline void arrange_borrowing(std::vector<KeyedUpdate>& ups, const Batch& in, Arrangement& arr, BorrowedRows& borrowed) {
  if (join_borrow_enabled() && arr.empty() && borrowed.take(ups, in)) return;
  borrowed.settle(ups);
  arr.apply(ups);
  borrowed.release_if_sparse(arr);
}

}  // namespace freshet::dataflow
