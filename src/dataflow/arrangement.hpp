#pragma once
// Arrangement: a collection indexed by key, consolidated: for each key (canonical key bytes,
// update.hpp), the multiset of rows with that key as (row, multiplicity) pairs, sorted by row
// bytes, with no zero multiplicities. Joins arrange both inputs.
//
// Layout (src/dataflow/README.md, "Data layout"): per key one contiguous buffer of entries,
// each an 8-byte multiplicity, a 4-byte length and the row's packed bytes, in row-byte order.
// No allocation per row: memory per arranged row is its bytes plus 12, and per key the key's
// bytes plus the hash node and the buffer's header (about 100 bytes).
//
// Cost: apply() is O(d log d + sum over touched keys of their bytes) for d updates (the new
// updates are sorted, then each touched key's buffer is merged with them into a new buffer).
// Work per step is proportional to the change and the keys it touches; a key holding many rows
// is rewritten whole when it changes (the price of no per-row allocation, as a merge of sorted
// runs pays it too).
// Threads: owned by one dataflow thread (one shard).

#include <cstdint>
#include <cstring>
#include <optional>
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
  // The entries of one key: iterate as (RowRef row, int64_t multiplicity) pairs. Borrowed from
  // the arrangement: valid until its next apply().
  class Entries {
   public:
    explicit Entries(std::string_view data) : data_(data) {}
    class iterator {
     public:
      explicit iterator(const char* p) : p_(p) {}
      std::pair<RowRef, int64_t> operator*() const {
        int64_t d;
        uint32_t n;
        std::memcpy(&d, p_, 8);
        std::memcpy(&n, p_ + 8, 4);
        return {RowRef(std::string_view(p_ + 12, n)), d};
      }
      iterator& operator++() {
        uint32_t n;
        std::memcpy(&n, p_ + 8, 4);
        p_ += 12 + n;
        return *this;
      }
      bool operator!=(const iterator& o) const { return p_ != o.p_; }
      bool operator==(const iterator& o) const { return p_ == o.p_; }

     private:
      const char* p_;
    };
    iterator begin() const { return iterator(data_.data()); }
    iterator end() const { return iterator(data_.data() + data_.size()); }
    bool empty() const { return data_.empty(); }

   private:
    std::string_view data_;
  };

  // Adds the updates, copying their rows (the vector is consumed).
  void apply(std::vector<KeyedUpdate>& updates);
  // The consolidated rows of a key, or nullopt when it has none.
  std::optional<Entries> find(std::string_view key) const {
    auto it = map_.find(key);
    return it == map_.end() ? std::nullopt : std::optional<Entries>(Entries(it->second.data));
  }
  size_t num_keys() const { return map_.size(); }
  size_t num_entries() const { return entries_; }
  // Bytes held: the entries' buffers (their capacity) and keys, plus an estimate of the hash
  // table's nodes and buckets.
  size_t size_bytes() const;
  bool empty() const { return map_.empty(); }
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [k, v] : map_) f(std::string_view(k), Entries(v.data));
  }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return hash_bytes(s); }
  };
  struct KeyState {
    std::string data;  // entries: int64 diff, uint32 length, row bytes; in row-byte order
    size_t count = 0;
  };
  std::unordered_map<std::string, KeyState, StringHash, std::equal_to<>> map_;
  size_t entries_ = 0;
  size_t data_bytes_ = 0;
};

}  // namespace freshet::dataflow
