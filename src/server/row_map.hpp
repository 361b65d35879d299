#pragma once
// RowMap<V>: a hash map from packed rows (Row) to V whose growth is incremental, for the
// contents and key indexes of tables (TableData: `rows`, `by_key`, `key_counts`).
//
// Why not std::unordered_map or absl::flat_hash_map: both rehash every entry at once when they
// grow, and a table's maps grow inside a write's critical section (State::mu held
// exclusively). A one-client loop of 1,000-row INSERTs showed commits of 109, 234 and 556 ms
// at 325k, 659k and 1.34M rows, each time the row count doubled (bench/README.md,
// "Concurrency"). Here no single operation costs more than a bounded amount of work:
//
// - Entries (key, value) live in chunks of 4,096 that never move once full (the first chunk
//   grows by doubling up to 4,096, so small tables stay small), addressed by 32-bit ids. A
//   removed entry's id goes on a free list and is reused. Iteration walks the chunks in id
//   order (dense, no pointer chasing), skipping removed ids (one bit each).
// - The index is an open-addressing table (linear probing) of 8-byte slots: the low 32 bits of
//   the key's hash and the entry's id. A probe compares the stored hash before it touches the
//   entry. Load factor at most 3/4 (tombstones included); after growth 3/8.
// - Growth allocates the new index (calloc: the kernel's zero pages, no memset of the table)
//   and keeps the old one read-only beside it; every later insertion or removal moves the next
//   kMigrateSlots slots of the old index into the new one (the stored hash places them: no
//   key is hashed or compared again). Lookups probe the new index, then the old one, until the
//   old one is drained and freed. A migration finishes long before the new index can fill
//   (it takes cap_old / kMigrateSlots mutations; the next growth needs about 3/8 cap_new);
//   should a growth come first (a table whose index is mostly tombstones), the two are merged
//   at once.
//
// Iterators are (map, id) pairs: they stay valid across insertions and across removals of
// other entries (unlike absl's), and dereference to std::pair<Row, V> (do not change .first).
// References to entries stay valid across insertions except in the first chunk (its vector
// grows until it holds 4,096 entries): hold iterators, not references, across insertions.
//
// Thread-safety: none; the owner's lock (State::mu / write_mu for TableData) guards it.
// Const member functions do not modify anything, so concurrent readers are safe.

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <memory>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/row.hpp"

namespace freshet::server {

template <typename V>
class RowMap {
 public:
  using key_type = Row;
  using mapped_type = V;
  using value_type = std::pair<Row, V>;

  template <bool Const>
  class Iter {
   public:
    using map_type = std::conditional_t<Const, const RowMap, RowMap>;
    using iterator_category = std::forward_iterator_tag;
    using value_type = RowMap::value_type;
    using difference_type = std::ptrdiff_t;
    using reference = std::conditional_t<Const, const value_type&, value_type&>;
    using pointer = std::conditional_t<Const, const value_type*, value_type*>;

    Iter() = default;
    Iter(map_type* m, uint32_t id) : m_(m), id_(id) {}
    operator Iter<true>() const  // NOLINT(google-explicit-constructor)
      requires(!Const)
    {
      return Iter<true>(m_, id_);
    }
    reference operator*() const { return m_->entry(id_); }
    pointer operator->() const { return &m_->entry(id_); }
    Iter& operator++() {
      id_ = m_->next_live(id_ + 1);
      return *this;
    }
    Iter operator++(int) {
      Iter old = *this;
      ++*this;
      return old;
    }
    friend bool operator==(const Iter& a, const Iter& b) { return a.id_ == b.id_; }
    uint32_t id() const { return id_; }

   private:
    map_type* m_ = nullptr;
    uint32_t id_ = 0;
  };
  using iterator = Iter<false>;
  using const_iterator = Iter<true>;

  RowMap() = default;
  RowMap(RowMap&&) noexcept = default;
  RowMap& operator=(RowMap&&) noexcept = default;
  // A copy keeps every entry's id (TableData::by_key holds ids of `rows`).
  RowMap(const RowMap& o)
      : chunks_(o.chunks_), live_bits_(o.live_bits_), free_(o.free_), high_(o.high_), live_(o.live_),
        cur_(o.cur_.copy()), old_(o.old_.copy()), migrate_pos_(o.migrate_pos_), merges_(o.merges_) {}
  RowMap& operator=(const RowMap& o) {
    if (this != &o) {
      RowMap copy(o);
      *this = std::move(copy);
    }
    return *this;
  }

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  iterator begin() { return iterator(this, next_live(0)); }
  iterator end() { return iterator(this, high_); }
  const_iterator begin() const { return const_iterator(this, next_live(0)); }
  const_iterator end() const { return const_iterator(this, high_); }

  // The hash the map uses for a key; try_emplace_hashed() takes it precomputed (computed
  // outside a lock, say).
  static uint64_t hash_of(RowRef key) { return hash_bytes(key.bytes()); }

  iterator find(RowRef key) { return iterator(this, find_id(key, hash32(key))); }
  const_iterator find(RowRef key) const { return const_iterator(this, find_id(key, hash32(key))); }
  bool contains(RowRef key) const { return find_id(key, hash32(key)) != high_; }
  // The entry with id `id` (an iterator's id()), which must be live.
  const value_type& at_id(uint32_t id) const { return entry(id); }

  // Inserts (key, V(args...)) unless key is present; the key is copied only when inserted.
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(RowRef key, Args&&... args) {
    const uint32_t h = hash32(key);
    if (uint32_t id = find_id(key, h); id != high_) return {iterator(this, id), false};
    return {iterator(this, insert_new(h, Row(key), V(std::forward<Args>(args)...))), true};
  }
  template <typename... Args>
  std::pair<iterator, bool> try_emplace(Row&& key, Args&&... args) {
    return try_emplace_hashed(hash_of(key), std::move(key), std::forward<Args>(args)...);
  }
  // REQUIRES: hash == hash_of(key).
  template <typename... Args>
  std::pair<iterator, bool> try_emplace_hashed(uint64_t hash, Row&& key, Args&&... args) {
    const auto h = static_cast<uint32_t>(hash);
    if (uint32_t id = find_id(key, h); id != high_) return {iterator(this, id), false};
    return {iterator(this, insert_new(h, std::move(key), V(std::forward<Args>(args)...))), true};
  }
  template <typename M>
  std::pair<iterator, bool> insert_or_assign(Row key, M&& value) {
    auto r = try_emplace(std::move(key));
    r.first->second = std::forward<M>(value);
    return r;
  }
  V& operator[](RowRef key) { return try_emplace(key).first->second; }

  void erase(const_iterator it) { erase_id(it.id()); }
  size_t erase(RowRef key) {
    uint32_t id = find_id(key, hash32(key));
    if (id == high_) return 0;
    erase_id(id);
    return 1;
  }
  void clear() { *this = RowMap(); }
  // Makes room in the index for n entries: a growth (migrated incrementally as any other) now
  // rather than several while a bulk write inserts.
  // Does nothing while a migration is under way (insertions grow the index as needed).
  void reserve(size_t n) {
    if (old_.cap == 0 && n > cur_.cap * 3 / 4) grow(n);
  }

  // How many times a growth found the previous one still migrating and merged the two indexes
  // at once (work proportional to the map); for tests: an insertion-only load never does.
  size_t merges() const { return merges_; }

  // Bytes held (entries, removed-id bits, free list, index), without the keys' and values'
  // own heap allocations.
  size_t memory_bytes() const {
    size_t b = sizeof(*this) + chunks_.capacity() * sizeof(chunks_[0]) + live_bits_.capacity() * 8 +
               free_.capacity() * 4 + (cur_.cap + old_.cap) * sizeof(Slot);
    for (const auto& c : chunks_) b += c.capacity() * sizeof(value_type);
    return b;
  }

 private:
  static constexpr uint32_t kChunkShift = 12;
  static constexpr uint32_t kChunk = 1u << kChunkShift;
  static constexpr uint32_t kEmpty = 0;
  static constexpr uint32_t kTomb = 1;  // slot refs: id + 2
  static constexpr uint32_t kMaxIds = 0xFFFFFFF0u;
  static constexpr size_t kMigrateSlots = 16;

  struct Slot {
    uint32_t hash;
    uint32_t ref;
  };
  struct FreeSlots {
    void operator()(Slot* p) const { std::free(p); }
  };
  struct Table {
    std::unique_ptr<Slot[], FreeSlots> slots;
    size_t cap = 0;   // a power of two, or 0
    size_t used = 0;  // live slots and tombstones
    Table() = default;
    Table(Table&& o) noexcept : slots(std::move(o.slots)), cap(std::exchange(o.cap, 0)), used(std::exchange(o.used, 0)) {}
    Table& operator=(Table&& o) noexcept {
      slots = std::move(o.slots);
      cap = std::exchange(o.cap, 0);
      used = std::exchange(o.used, 0);
      return *this;
    }
    Table copy() const {
      if (cap == 0) return Table();
      Table t = with_capacity(cap);
      std::copy(slots.get(), slots.get() + cap, t.slots.get());
      t.used = used;
      return t;
    }
    static Table with_capacity(size_t cap) {
      Table t;
      t.slots.reset(static_cast<Slot*>(std::calloc(cap, sizeof(Slot))));
      if (!t.slots) throw std::bad_alloc();
      t.cap = cap;
      return t;
    }
  };

  static uint32_t hash32(RowRef key) { return static_cast<uint32_t>(hash_of(key)); }
  static size_t capacity_for(size_t n) {
    size_t cap = 16;
    while (cap * 3 / 8 < n) cap *= 2;
    return cap;
  }

  value_type& entry(uint32_t id) { return chunks_[id >> kChunkShift][id & (kChunk - 1)]; }
  const value_type& entry(uint32_t id) const { return chunks_[id >> kChunkShift][id & (kChunk - 1)]; }
  bool is_live(uint32_t id) const { return (live_bits_[id >> 6] >> (id & 63)) & 1; }

  uint32_t next_live(uint32_t from) const {
    while (from < high_) {
      uint64_t w = live_bits_[from >> 6] >> (from & 63);
      if (w != 0) {
        from += static_cast<uint32_t>(std::countr_zero(w));
        return from < high_ ? from : high_;
      }
      from = (from | 63) + 1;
    }
    return high_;
  }

  // The id of key's entry, or high_.
  uint32_t find_id(RowRef key, uint32_t h) const {
    if (size_t i = probe(cur_, h, key); i != kNone) return cur_.slots[i].ref - 2;
    if (size_t i = probe(old_, h, key); i != kNone) return old_.slots[i].ref - 2;
    return high_;
  }
  static constexpr size_t kNone = ~size_t{0};
  size_t probe(const Table& t, uint32_t h, RowRef key) const {
    if (t.cap == 0) return kNone;
    const size_t mask = t.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = t.slots[i];
      if (s.ref == kEmpty) return kNone;
      if (s.ref != kTomb && s.hash == h && entry(s.ref - 2).first.bytes() == key.bytes()) return i;
    }
  }
  // The slot that holds ref in t, or kNone.
  static size_t slot_of(const Table& t, uint32_t h, uint32_t ref) {
    if (t.cap == 0) return kNone;
    const size_t mask = t.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      const Slot& s = t.slots[i];
      if (s.ref == kEmpty) return kNone;
      if (s.ref == ref) return i;
    }
  }
  // Puts ref (known to be absent) into t. REQUIRES: t has an empty slot left.
  static void place(Table& t, uint32_t h, uint32_t ref) {
    const size_t mask = t.cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& s = t.slots[i];
      if (s.ref == kEmpty) ++t.used;
      if (s.ref == kEmpty || s.ref == kTomb) {
        s = {h, ref};
        return;
      }
    }
  }
  bool full(const Table& t) const { return t.used + 1 > t.cap * 3 / 4; }

  // Moves the next kMigrateSlots slots of the old index into the new one.
  void step() {
    if (old_.cap == 0) return;
    const size_t end = std::min(old_.cap, migrate_pos_ + kMigrateSlots);
    for (; migrate_pos_ < end; ++migrate_pos_) {
      Slot& s = old_.slots[migrate_pos_];
      if (s.ref < 2) continue;
      if (full(cur_)) {  // the new index filled before the old drained: merge them now
        grow(live_ + 1);
        return;
      }
      place(cur_, s.hash, s.ref);
      s.ref = kTomb;  // keeps the old index's probe sequences intact for its other keys
    }
    if (migrate_pos_ == old_.cap) old_ = Table();
  }

  // A new index for at least n entries. With no migration under way the current index becomes
  // the old one (moved over by step()); otherwise both are merged into the new one now.
  void grow(size_t n) {
    Table t = Table::with_capacity(capacity_for(std::max(n, live_)));
    if (old_.cap != 0) {
      for (const Table* from : {&cur_, &old_})
        for (size_t i = 0; i < from->cap; ++i)
          if (from->slots[i].ref >= 2) place(t, from->slots[i].hash, from->slots[i].ref);
      old_ = Table();
      ++merges_;
    } else {
      old_ = std::move(cur_);
      migrate_pos_ = 0;
      if (old_.used == 0) old_ = Table();
    }
    cur_ = std::move(t);
  }

  uint32_t insert_new(uint32_t h, Row&& key, V&& value) {
    step();
    if (full(cur_)) grow(live_ + 1);
    uint32_t id;
    if (!free_.empty()) {
      id = free_.back();
      free_.pop_back();
    } else {
      if (high_ >= kMaxIds) throw std::length_error("RowMap: more than 2^32 entries");
      id = high_;
      const uint32_t c = id >> kChunkShift;
      if (c == chunks_.size()) {
        chunks_.emplace_back();
        if (c > 0) chunks_.back().reserve(kChunk);
      }
      chunks_[c].emplace_back();
      if ((id >> 6) == live_bits_.size()) live_bits_.push_back(0);
      ++high_;
    }
    value_type& e = entry(id);
    e.first = std::move(key);
    e.second = std::move(value);
    live_bits_[id >> 6] |= uint64_t{1} << (id & 63);
    ++live_;
    place(cur_, h, id + 2);
    return id;
  }

  void erase_id(uint32_t id) {
    value_type& e = entry(id);
    const uint32_t h = hash32(e.first);
    const uint32_t ref = id + 2;
    if (size_t i = slot_of(cur_, h, ref); i != kNone) {
      cur_.slots[i].ref = kTomb;
    } else if (size_t j = slot_of(old_, h, ref); j != kNone) {
      old_.slots[j].ref = kTomb;
    }
    e = value_type();
    live_bits_[id >> 6] &= ~(uint64_t{1} << (id & 63));
    --live_;
    free_.push_back(id);
    step();
  }

  std::vector<std::vector<value_type>> chunks_;
  std::vector<uint64_t> live_bits_;
  std::vector<uint32_t> free_;
  uint32_t high_ = 0;  // ids ever allocated; end()
  size_t live_ = 0;
  Table cur_;
  Table old_;
  size_t migrate_pos_ = 0;
  size_t merges_ = 0;
};

}  // namespace freshet::server
