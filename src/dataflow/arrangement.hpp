#pragma once
// Arrangement: a collection indexed by key, consolidated: for each key (canonical key bytes,
// update.hpp), the multiset of rows with that key as (row, multiplicity) pairs, in the order
// of the rows' hashes (then bytes), with no zero multiplicities. Joins arrange both inputs.
//
// Layout (src/dataflow/README.md, "Data layout"): per key a few sorted runs, each one
// contiguous buffer of entries (the multiplicity and the row's length as varints, then the
// row's packed bytes) ordered by (hash_bytes of the row, row bytes), consolidated within the
// run: readers only iterate a key's entries, and hash order makes the sort and the merges
// compare integers rather than rows that share their key's leading bytes. No allocation per row:
// memory per arranged row is its bytes plus 2 (rows under 128 bytes), and per key the key's
// bytes plus a slot of an open-addressing table (the key string and the first run's header
// inline, about 80 bytes, at most 7/8 full) and one buffer for the run's entries.
//
// Cost: apply() sorts the d updates (O(d log d); from kRadixMin updates, a hydration's bulk
// apply, one counting pass over the key hash's top 16 bits and small sorts) and adds them to each touched key as a new
// run; runs of a key are merged (and consolidated) while the older one is at most twice the
// size of the newer, a spine per key: a key keeps O(log n) runs and each entry is merged
// O(log n) times, so work per step is proportional to the change (amortized), even for a key
// holding every row (a cross join). Entries of one row may sit in several runs until they
// merge: a reader sees every (row, multiplicity) and must sum them (a join's output is a sum
// anyway).
// Threads: owned by one dataflow thread (one shard).

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
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
  // One sorted run of a key's entries: iterate as (RowRef row, int64_t multiplicity) pairs.
  class Run {
   public:
    explicit Run(std::string_view data) : data_(data) {}
    // Entry encoding: the multiplicity as a zigzag varint, the row's length as a varint, the
    // row's bytes (2 bytes of header for a row under 128 bytes with a small multiplicity).
    static void put(std::string& out, std::string_view row, int64_t diff) {
      char buf[20];
      size_t n = put_varint(buf, (static_cast<uint64_t>(diff) << 1) ^ static_cast<uint64_t>(diff >> 63));
      n += put_varint(buf + n, row.size());
      out.append(buf, n);
      out.append(row);
    }
    class iterator {
     public:
      // REQUIRES: p is the start of an entry, or end (then never dereferenced).
      iterator(const char* p, const char* end) : p_(p), end_(end) {
        if (p_ != end) decode();
      }
      std::pair<RowRef, int64_t> operator*() const { return {row_, diff_}; }
      iterator& operator++() {
        p_ = next_;
        if (p_ != end_) decode();
        return *this;
      }
      bool operator!=(const iterator& o) const { return p_ != o.p_; }
      bool operator==(const iterator& o) const { return p_ == o.p_; }

     private:
      void decode() {
        const char* q = p_;
        uint64_t z = get_varint(q);
        uint64_t n = get_varint(q);
        diff_ = static_cast<int64_t>((z >> 1) ^ (~(z & 1) + 1));
        row_ = RowRef(std::string_view(q, n));
        next_ = q + n;
      }
      const char* p_;
      const char* end_;
      const char* next_ = nullptr;
      RowRef row_;
      int64_t diff_ = 0;
    };
    iterator begin() const { return iterator(data_.data(), data_.data() + data_.size()); }
    iterator end() const { return iterator(data_.data() + data_.size(), data_.data() + data_.size()); }
    bool empty() const { return data_.empty(); }

   private:
    static size_t put_varint(char* out, uint64_t v) {
      size_t n = 0;
      while (v >= 0x80) {
        out[n++] = static_cast<char>((v & 0x7f) | 0x80);
        v >>= 7;
      }
      out[n++] = static_cast<char>(v);
      return n;
    }
    static uint64_t get_varint(const char*& p) {
      uint64_t v = 0;
      for (int shift = 0;; shift += 7) {
        uint8_t b = static_cast<uint8_t>(*p++);
        v |= static_cast<uint64_t>(b & 0x7f) << shift;
        if ((b & 0x80) == 0) return v;
      }
    }
    std::string_view data_;
  };
  // The entries of one key: for_each(f) calls f(RowRef row, int64_t multiplicity) for each
  // entry of each run. Borrowed from the arrangement: valid until its next apply().
  class Entries {
   public:
    struct RunData {
      std::string data;  // entries: varint diff, varint length, row bytes; by (row hash, bytes)
      size_t count = 0;  // entries in data
    };
    // A key's runs, oldest (largest) first; the first one inline (most keys have one run).
    using Runs = absl::InlinedVector<RunData, 1>;
    explicit Entries(const Runs* runs) : runs_(runs) {}
    template <typename F>
    void for_each(F&& f) const {
      for (const RunData& r : *runs_)
        for (auto [row, d] : Run(r.data)) f(row, d);
    }
    size_t num_runs() const { return runs_->size(); }

   private:
    const Runs* runs_;
  };

  // Adds the updates, copying their rows (the vector is consumed).
  void apply(std::vector<KeyedUpdate>& updates);
  // The consolidated rows of a key, or nullopt when it has none.
  std::optional<Entries> find(std::string_view key) const {
    auto it = map_.find(key);
    return it == map_.end() ? std::nullopt : std::optional<Entries>(Entries(&it->second.runs));
  }
  size_t num_keys() const { return map_.size(); }
  size_t num_entries() const { return entries_; }
  // Bytes held: the entries' buffers (their capacity) and keys, plus an estimate of the hash
  // table's nodes and buckets. O(1): kept up to date by apply().
  size_t size_bytes() const;
  bool empty() const { return map_.empty(); }
  template <typename F>
  void for_each(F&& f) const {
    for (const auto& [k, v] : map_) f(std::string_view(k), Entries(&v.runs));
  }

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return hash_bytes(s); }
  };
  struct KeyState {
    Entries::Runs runs;  // sorted runs, oldest (largest) first
  };
  // From this many updates, apply() sorts by one counting pass over the key hash's top bits
  // and small sorts per bucket.
  static constexpr size_t kRadixMin = 65536;
  // Merges runs a and b (sorted) into out, summing equal rows; returns the entries written.
  static size_t merge_runs(std::string_view a, std::string_view b, std::string& out);
  // Heap bytes of a key besides its runs' data: a long key's buffer and the runs' headers
  // once they no longer fit inline.
  static size_t key_extra_bytes(const std::string& key, const KeyState& ks) {
    return (key.size() > 15 ? key.capacity() + 1 : 0) + (ks.runs.capacity() > 1 ? ks.runs.capacity() * sizeof(Entries::RunData) : 0);
  }
  // Open addressing (a slot per key, no node): a node-based map allocated a node and a runs
  // vector per key, four allocations for a key of one row (Nexmark q7 arranges 920,000 keys).
  absl::flat_hash_map<std::string, KeyState, StringHash, std::equal_to<>> map_;
  size_t entries_ = 0;
  size_t data_bytes_ = 0;
  size_t extra_bytes_ = 0;  // the sum of key_extra_bytes over the keys
};

}  // namespace freshet::dataflow
