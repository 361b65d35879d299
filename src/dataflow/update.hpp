#pragma once
// Updates and batches: the unit of change every operator consumes and produces.
//
// A collection is a multiset that changes over time, carried as updates (row, time, diff): at
// `time`, `row`'s multiplicity changes by `diff` (a Z-set per timestamp, in DBSP's terms). An
// upsert of key k is the retraction of the old row plus the insertion of the new one.
//
// Keys. Arrangements, groups and distinct rows are found by the bytes of a canonical key row
// (canonical_key()), so that values SQL's `=` / GROUP BY consider equal but whose packed bytes
// differ (numeric 1.5 and 1.50, float -0.0 and 0.0, interval '1 day' and '24 hours') fall
// into one bucket. The canonical key is an index only; outputs carry the original rows.

#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "common/datum.hpp"
#include "common/row.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::dataflow {

// One update. `row` borrows bytes that the Batch holding the update owns (its arena): an
// Update outside a Batch is only a way to hand a row to Batch::push_back, which copies it.
struct Update {
  RowRef row;
  uint64_t time = 0;
  int64_t diff = 0;
};

// A batch of updates, the unit operators consume and produce (one timestamp's batch at a
// time). Layout (src/dataflow/README.md, "Data layout"): the rows' packed bytes are appended
// to a few large blocks the batch holds, and the updates are a vector of (row view, time,
// diff), 32 bytes each. So building a batch allocates per block, not per row; moving it, also
// to another thread, moves two vectors; append() concatenates batches by taking the other's
// blocks (no row is copied); freeing it frees its blocks.
// Blocks are reference-counted and immutable once written, so batches can share them: a copy
// (a node's output read by several consumers), a slice (push() spreading a source over the
// shards) and an exchange bucket (`push_shared`, routing an update to another shard) copy
// only the 32-byte updates and take a reference to the source's blocks (`share_blocks_of`),
// never the rows' bytes (src/dataflow/README.md, "Shards and workers"). A block is freed with
// the last batch that holds it. Row views stay valid while the batch lives, across moves,
// copies and append() (blocks never move), but not across clear().
// Threads: one owner at a time (batches are handed between threads whole); batches sharing a
// block may live on different threads (only the block's owner, the batch that allocated it,
// writes into its unused tail; shared bytes are never written again).
class Batch {
 public:
  using value_type = Update;
  using iterator = std::vector<Update>::iterator;
  using const_iterator = std::vector<Update>::const_iterator;

  Batch() = default;
  // A moved-from batch is empty (and may be filled again).
  Batch(Batch&& other) noexcept { *this = std::move(other); }
  Batch& operator=(Batch&& other) noexcept {
    if (this != &other) {
      release_update_pages();
      updates_ = std::move(other.updates_);
      blocks_ = std::move(other.blocks_);
      cur_ = other.cur_;
      remaining_ = other.remaining_;
      last_block_ = other.last_block_;
      block_bytes_ = other.block_bytes_;
      other.updates_.clear();
      other.blocks_.clear();
      other.cur_ = nullptr;
      other.remaining_ = other.last_block_ = other.block_bytes_ = 0;
    }
    return *this;
  }
  ~Batch() { release_update_pages(); }
  // A copy of the updates sharing other's blocks (no row bytes are copied).
  Batch(const Batch& other);
  Batch& operator=(const Batch& other);

  // Appends u, copying its row's bytes into this batch.
  void push_back(const Update& u) { updates_.push_back(Update{copy_row(u.row), u.time, u.diff}); }
  void emplace_back(RowRef row, uint64_t time, int64_t diff) {
    updates_.push_back(Update{copy_row(row), time, diff});
  }
  // Appends an update whose row bytes this batch does not own (nothing is copied).
  // REQUIRES: the bytes stay valid and unchanged while this batch, and every batch its updates
  // are moved or appended into, lives: a one-shot scan of a table under the readers' lock
  // (oneshot.hpp, PartitionedSnapshot::stable_rows).
  void push_borrowed(RowRef row, uint64_t time, int64_t diff) { updates_.push_back(Update{row, time, diff}); }
  // Appends the concatenation of two packed rows (a joined row) without an intermediate copy.
  void push_concat(RowRef a, RowRef b, uint64_t time, int64_t diff) {
    const size_t n = a.size_bytes() + b.size_bytes();
    char* p = allocate(n);
    if (a.size_bytes() != 0) std::memcpy(p, a.bytes().data(), a.size_bytes());
    if (b.size_bytes() != 0) std::memcpy(p + a.size_bytes(), b.bytes().data(), b.size_bytes());
    updates_.push_back(Update{RowRef(std::string_view(p, n)), time, diff});
  }
  // Appends u as it is, its row still in a block of `owner`: REQUIRES share_blocks_of(owner)
  // called on this batch (before or after; once per owner suffices). No row bytes are copied.
  void push_shared(const Update& u) {
    updates_.push_back(u);
    block_bytes_ += u.row.size_bytes();
  }
  // Takes a reference to every block of other, so that updates pushed with push_shared()
  // whose rows live in other stay valid after other is cleared. O(other's blocks).
  void share_blocks_of(const Batch& other);
  // Appends other's updates and takes its blocks (other is left empty). O(other.size()) for
  // the update vector, O(blocks) for the bytes.
  void append(Batch&& other);

  size_t size() const { return updates_.size(); }
  bool empty() const { return updates_.empty(); }
  iterator begin() { return updates_.begin(); }
  iterator end() { return updates_.end(); }
  const_iterator begin() const { return updates_.begin(); }
  const_iterator end() const { return updates_.end(); }
  Update& operator[](size_t i) { return updates_[i]; }
  const Update& operator[](size_t i) const { return updates_[i]; }
  Update& back() { return updates_.back(); }
  const Update& back() const { return updates_.back(); }
  void reserve(size_t n) { updates_.reserve(n); }
  // Makes room for n more bytes of rows in one block.
  void reserve_bytes(size_t n);
  // Keeps the first n updates (their bytes stay until clear()). REQUIRES: n <= size().
  void truncate(size_t n) { updates_.resize(n); }
  // Drops every update and frees the blocks. The next block starts small again: a batch
  // cleared and refilled every step (a node's output) doubled its block size at each step
  // until every step's first row took an 8 MB block (an mmap, a huge-page fault and a munmap
  // with its TLB shootdown on every core running the process's threads).
  void clear() {
    updates_.clear();
    blocks_.clear();
    cur_ = nullptr;
    remaining_ = 0;
    last_block_ = 0;
    block_bytes_ = 0;
  }
  // Bytes this batch holds: its blocks plus its update vector (for memory budgets).
  size_t bytes() const { return block_bytes_ + updates_.capacity() * sizeof(Update); }
  // The same for the updates held, not the room reserved for more (StepContext::reserve_output
  // reserves room for a whole memory budget's worth of updates up front, untouched until used).
  size_t used_bytes() const { return block_bytes_ + updates_.size() * sizeof(Update); }

 private:
  RowRef copy_row(RowRef r) {
    const size_t n = r.size_bytes();
    if (n == 0) return RowRef();
    char* p = allocate(n);
    std::memcpy(p, r.bytes().data(), n);
    return RowRef(std::string_view(p, n));
  }
  char* allocate(size_t n) {
    if (n > remaining_) grow(n);
    char* p = cur_;
    cur_ += n;
    remaining_ -= n;
    return p;
  }
  void grow(size_t n);
  // Before a big update vector is freed (StepContext::reserve_output reserves a whole memory
  // budget, up to gigabytes): gives its pages back in 32 MB slices (madvise), so that the
  // munmap that frees it has nothing left to zap. One munmap of a gigabyte of touched pages
  // holds the process's mmap lock for 100-300 ms, and every other thread's mmap (a query's
  // next allocation, a new connection's stack) waits that long: that was the cancel latency's
  // outlier (bench/README.md, "Cancel latency"). A slice holds it for a millisecond or two.
  // No-op below 64 MB. The updates are garbage afterwards: only called before the vector goes.
  void release_update_pages() noexcept;

  std::vector<Update> updates_;
  std::vector<std::shared_ptr<char[]>> blocks_;
  char* cur_ = nullptr;     // free space in blocks_.back()
  size_t remaining_ = 0;
  size_t last_block_ = 0;   // size of the last block allocated (blocks grow geometrically)
  // Bytes of rows this batch accounts for (memory budgets): the blocks it allocated, plus for
  // shared blocks what it holds of them (a copy: the whole source; push_shared: the rows).
  size_t block_bytes_ = 0;
};

// Sums the diffs of equal (time, row) pairs and drops zeros. Order afterwards: unspecified
// but deterministic (by time, then row bytes). Cost: O(n log n).
void consolidate(Batch& batch);
// The same over (row, diff) pairs.
void consolidate(std::vector<std::pair<Row, int64_t>>& rows);

// Appends the canonical key encoding of datums to out (see above).
void append_canonical_key(std::span<const Datum> datums, std::string& out);
// True when d's packed bytes may differ between values that compare equal.
inline bool needs_canonical(const Datum& d) {
  // Intervals key by their span as PostgreSQL compares them; Materialize compares them field
  // by field, so there their packed bytes are the key already.
  return d.kind() == PhysicalKind::kNumeric || d.kind() == PhysicalKind::kFloat ||
         (d.kind() == PhysicalKind::kInterval && !materialize_dialect());
}
// Canonical key of a whole packed row (the row's own bytes when nothing needs rewriting).
Row canonical_row(RowRef row);

// Throws SqlError 22003 when a diff sum overflows int64 (cannot happen with sane inputs, but
// the arithmetic is checked rather than undefined).
int64_t add_diffs(int64_t a, int64_t b);

}  // namespace freshet::dataflow
