#pragma once
// FlatKeyIndex: an open-addressing hash index from key bytes to a dense slot number, with the
// keys' bytes in one arena. The per-group state of Reduce lives in flat arrays indexed by the
// slot (src/dataflow/README.md, "Data layout"), so a new group costs no heap allocation of
// its own: the table, the slot array and the key arena grow geometrically (amortized O(1)).
//
// Each slot holds the key's bytes followed by optional `extra` bytes (Reduce keeps the group's
// packed key row there). Erased slots are reused; erased bytes are garbage in the arena until
// it is compacted (when the garbage passes half the arena), which costs O(live bytes) and so
// is amortized over the erases that made the garbage. Work per operation: one hash of the key
// and a short linear probe (the table is kept at most half full, tombstones included).
// Threads: owned by one operator (one shard).

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/row.hpp"

namespace freshet::dataflow {

class FlatKeyIndex {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The slot of key, or kNone.
  uint32_t find(std::string_view key) const {
    if (table_.empty()) return kNone;
    const uint64_t h = hash_bytes(key);
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const Cell& c = table_[i];
      if (c.slot == kEmpty) return kNone;
      if (c.slot != kTomb && c.hash == h && this->key(c.slot) == key) return c.slot;
    }
  }
  // The slot of key, inserting it (with `extra` bytes after it) when absent: (slot, inserted).
  std::pair<uint32_t, bool> insert(std::string_view key, std::string_view extra) {
    if ((used_cells_ + 1) * 2 > table_.size()) rehash();
    const uint64_t h = hash_bytes(key);
    size_t tomb = SIZE_MAX;
    size_t i = h & mask_;
    for (;; i = (i + 1) & mask_) {
      const Cell& c = table_[i];
      if (c.slot == kEmpty) break;
      if (c.slot == kTomb) {
        if (tomb == SIZE_MAX) tomb = i;
        continue;
      }
      if (c.hash == h && this->key(c.slot) == key) return {c.slot, false};
    }
    uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& s = slots_[slot];
    s.offset = bytes_.size();
    s.key_len = static_cast<uint32_t>(key.size());
    s.extra_len = static_cast<uint32_t>(extra.size());
    s.hash = h;
    s.live = true;
    bytes_.append(key);
    bytes_.append(extra);
    if (tomb != SIZE_MAX) {
      i = tomb;
    } else {
      ++used_cells_;
    }
    table_[i] = Cell{h, slot};
    ++size_;
    return {slot, true};
  }
  // REQUIRES: slot is live. Its number may be handed out again by a later insert.
  void erase(uint32_t slot) {
    Slot& s = slots_[slot];
    for (size_t i = s.hash & mask_;; i = (i + 1) & mask_) {
      if (table_[i].slot == slot) {
        table_[i].slot = kTomb;
        break;
      }
    }
    garbage_ += s.key_len + s.extra_len;
    s.live = false;
    free_.push_back(slot);
    --size_;
    if (garbage_ > 4096 && garbage_ * 2 > bytes_.size()) compact();
  }
  std::string_view key(uint32_t slot) const {
    const Slot& s = slots_[slot];
    return std::string_view(bytes_.data() + s.offset, s.key_len);
  }
  std::string_view extra(uint32_t slot) const {
    const Slot& s = slots_[slot];
    return std::string_view(bytes_.data() + s.offset + s.key_len, s.extra_len);
  }
  size_t size() const { return size_; }
  // One past the largest slot number handed out (size arrays indexed by slot to this).
  size_t slot_limit() const { return slots_.size(); }
  size_t size_bytes() const {
    return table_.capacity() * sizeof(Cell) + slots_.capacity() * sizeof(Slot) + bytes_.capacity() +
           free_.capacity() * sizeof(uint32_t);
  }

 private:
  static constexpr uint32_t kEmpty = UINT32_MAX, kTomb = UINT32_MAX - 1;
  struct Cell {
    uint64_t hash = 0;
    uint32_t slot = kEmpty;
  };
  struct Slot {
    size_t offset = 0;
    uint32_t key_len = 0, extra_len = 0;
    uint64_t hash = 0;
    bool live = false;
  };
  void rehash() {
    size_t cap = 16;
    while (cap < (size_ + 1) * 4) cap *= 2;
    std::vector<Cell> t(cap);
    const size_t m = cap - 1;
    for (uint32_t slot = 0; slot < slots_.size(); ++slot) {
      if (!slots_[slot].live) continue;
      size_t i = slots_[slot].hash & m;
      while (t[i].slot != kEmpty) i = (i + 1) & m;
      t[i] = Cell{slots_[slot].hash, slot};
    }
    table_ = std::move(t);
    mask_ = m;
    used_cells_ = size_;
  }
  void compact() {
    std::string b;
    b.reserve(bytes_.size() - garbage_);
    for (Slot& s : slots_) {
      if (!s.live) continue;
      const size_t off = b.size();
      b.append(bytes_, s.offset, s.key_len + s.extra_len);
      s.offset = off;
    }
    bytes_ = std::move(b);
    garbage_ = 0;
  }

  std::vector<Cell> table_;  // power-of-two size, at most half full (tombstones included)
  size_t mask_ = 0;
  size_t used_cells_ = 0;  // live cells and tombstones
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  std::string bytes_;  // every slot's key and extra bytes
  size_t garbage_ = 0;
  size_t size_ = 0;
};

}  // namespace freshet::dataflow
