#pragma once
// Arrangement: a collection indexed by key, consolidated: for each key (canonical key bytes,
// update.hpp), the multiset of rows with that key as (row, multiplicity) pairs, sorted by row
// bytes, with no zero multiplicities. Joins arrange both inputs; `CREATE INDEX` will keep one
// up to date and share it between dataflows.
//
// Cost: apply() is O(d log d + sum over touched keys of their size) for d updates (the new
// updates are sorted and merged into each touched key's sorted list). Memory per entry: the
// row's packed bytes plus ~40 bytes; per key the key's bytes plus the map node.
// Threads: owned by one dataflow thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/row.hpp"

namespace freshet::dataflow {

// An update with its key, borrowed: the key's and the row's bytes belong to the caller (the
// step's arena and input batch) and must live until apply() returns.
struct KeyedUpdate {
  std::string_view key;  // canonical key bytes
  RowRef row;
  int64_t diff = 0;
};

class Arrangement {
 public:
  using Entries = std::vector<std::pair<Row, int64_t>>;

  // Adds the updates, copying their rows (the vector is consumed).
  void apply(std::vector<KeyedUpdate>& updates);
  // The consolidated rows of a key, or null when it has none.
  const Entries* find(std::string_view key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  size_t num_keys() const { return map_.size(); }
  size_t num_entries() const { return entries_; }
  bool empty() const { return map_.empty(); }
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [k, v] : map_) f(std::string_view(k), v);
  }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return hash_bytes(s); }
  };
  std::unordered_map<std::string, Entries, StringHash, std::equal_to<>> map_;
  size_t entries_ = 0;
};

}  // namespace freshet::dataflow
