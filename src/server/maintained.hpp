#pragma once
// Maintained dataflows: indexed views, materialized views and subscriptions. Each renders its
// plan once (dataflow/render.hpp) with state kept, is hydrated from a snapshot of its inputs,
// and then receives every later change of its inputs, one timestamp at a time, producing the
// change of its output. Its output is kept consolidated (the "arrangement" of the object),
// with optional indexes by key columns for point lookups.
//
// Thread-safety: one driver steps it (compute.cpp); readers of the contents hold state_mu
// shared. A step splits its output change by shard and applies each shard's part on the
// worker pool (dataflow/workers.hpp) with state_mu held exclusively.

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>
#include <absl/container/inlined_vector.h>
#include <absl/functional/function_ref.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <shared_mutex>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/functions.hpp"
#include "common/huge_pages.hpp"
#include "common/row.hpp"
#include "dataflow/delta_join.hpp"
#include "dataflow/ir.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/render.hpp"
#include "server/history.hpp"

struct PgQuery__VariableSetStmt;

namespace freshet::server {

using RowDiffs = std::vector<std::pair<Row, int64_t>>;
// The changes of one timestamp, per collection id.
using ChangeSet = std::map<uint64_t, RowDiffs>;

// The byte arena of a maintained view's entries: segments of 64 KiB (a bigger entry gets a
// segment of its own), addressed by a 32-bit ref counting 4-byte units (segment number << 14 |
// offset / 4), so an arena holds at most 16 GiB; allocate() throws 53200 past that. Entries
// never move, so refs stay valid as it grows; the last segment grows by doubling from 256 bytes
// up to 64 KiB (its entries keep their offsets), so a small view holds a few hundred bytes and a
// big one at most one partly used segment of slack (with 1 MiB segments that slack was 8 bytes
// a row for 20,000 rows). A std::vector<char> doubled its capacity on growth: right after a
// view's first change its arena was up to twice its entries.
class EntryArena {
 public:
  static constexpr int kShift = 16;
  static constexpr uint64_t kSegment = uint64_t{1} << kShift;
  static constexpr uint32_t kUnit = 4;  // entries start at multiples of this
  static constexpr size_t kMaxSegments = size_t{1} << (34 - kShift);  // 32-bit refs of 4-byte units: 16 GiB
  // Room for n bytes (rounded up to kUnit); returns the ref of the first. Never moves existing
  // bytes. Throws SqlError 53200 when the arena would pass 16 GiB.
  uint32_t allocate(size_t n);
  char* at(uint32_t ref) { return segs_[ref >> (kShift - 2)].data + (uint64_t{ref} << 2 & (kSegment - 1)); }
  const char* at(uint32_t ref) const { return segs_[ref >> (kShift - 2)].data + (uint64_t{ref} << 2 & (kSegment - 1)); }
  // Room for `bytes` more bytes of entries, none over max_entry bytes, in one allocation with
  // transparent huge pages (common/huge_pages.hpp) that later segments are cut from: a
  // hydration knows its entries' total up front. Below kHugeAdviseMin bytes it does nothing
  // (segments come one by one, as before). The reservation counts in capacity_bytes().
  void reserve(size_t bytes, size_t max_entry);
  // Walks every allocation in ref order: fn(ref, bytes) returns the size it was allocated with.
  template <typename Fn>
  void for_each_allocation(Fn&& fn) const {
    for (size_t s = 0; s < segs_.size(); ++s) {
      const Segment& seg = segs_[s];
      if (!seg.data) continue;
      for (size_t off = 0; off < seg.used;)
        off += round_up(fn(static_cast<uint32_t>((s << (kShift - 2)) | (off >> 2)), seg.data + off));
    }
  }
  static size_t round_up(size_t n) { return (n + kUnit - 1) & ~size_t{kUnit - 1}; }
  // Bytes handed out (entries, live or dead) and bytes allocated.
  size_t used_bytes() const { return used_; }
  size_t capacity_bytes() const { return capacity_; }
  bool empty() const { return used_ == 0; }

 private:
  struct Segment {
    std::unique_ptr<char[]> own;  // null when cut from a reservation (regions_)
    char* data = nullptr;         // null for the units a big entry's segment spans after its first
    size_t capacity = 0;
    size_t used = 0;  // bytes handed out from its start
  };
  std::vector<Segment> segs_;
  std::vector<std::unique_ptr<char[]>> regions_;  // reservations (reserve())
  char* spare_ = nullptr;  // the unused rest of the last reservation
  size_t spare_bytes_ = 0;
  uint64_t end_ = 0;  // the next free byte position (segment << kShift | offset) in the last segment
  size_t used_ = 0, capacity_ = 0;
};

// std::allocator that asks for transparent huge pages on big allocations (common/huge_pages.hpp):
// the hash sets of a hydrated view are reserved at their final size and then filled at random,
// so every one of their pages is touched; with 4 KiB pages each was a fault.
template <typename T>
struct HugeAdvisingAllocator {
  using value_type = T;
  HugeAdvisingAllocator() = default;
  template <typename U>
  HugeAdvisingAllocator(const HugeAdvisingAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator
  T* allocate(size_t n) {
    T* p = std::allocator<T>().allocate(n);
    advise_huge_pages(p, n * sizeof(T));
    return p;
  }
  void deallocate(T* p, size_t n) { std::allocator<T>().deallocate(p, n); }
  template <typename U>
  bool operator==(const HugeAdvisingAllocator<U>&) const { return true; }
};

// Fills `into` with collection cid's contents as updates at time t (diff = multiplicity).
// Appending a batch that shares the rows' blocks (Batch's copy) copies no row bytes.
using BatchSnapshotFn = std::function<void(uint64_t cid, uint64_t t, dataflow::Batch& into)>;

class Maintained {
 public:
  // Renders plan and hydrates it from snapshot at time t (the initial contents come out as the
  // first delta, which is returned in initial). Throws SqlError from evaluation.
  // cancelled, when given, makes the hydration stop with 57014 once set (it is not kept).
  Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t, const dataflow::SnapshotFn& snapshot,
             EvalContext& ctx, RowDiffs& initial, const std::atomic<bool>* cancelled = nullptr,
             const dataflow::RenderOptions::SharedArrangementFn& shared = {});
  // The bulk form (CREATE INDEX and CREATE MATERIALIZED VIEW on a view): the inputs come as
  // batches (no Row per input row), the output goes into the arrangement in one pass sized
  // up front, and the indexes in `index_keys` are built by sorting (src/server/README.md,
  // "Hydration"). initial, when not null, receives the initial contents (a materialized
  // view stores them); without it no Row is made per output row.
  // root_output, when not null: the plan's output at t, computed by the caller from a
  // root_scan(plan) of its table; taken as the hydration's output (snapshot is not called and
  // nothing is pushed into the dataflow, whose one source would feed that chain alone).
  Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t, const BatchSnapshotFn& snapshot,
             EvalContext& ctx, RowDiffs* initial, const std::vector<std::vector<uint32_t>>& index_keys,
             const std::atomic<bool>* cancelled = nullptr, const dataflow::RenderOptions::SharedArrangementFn& shared = {},
             dataflow::Batch* root_output = nullptr);
  // A plan that is a map/filter/project chain right over one collection (a projection of a
  // table: Nexmark q0, q1), as render() renders it: the collection and the chain's stages,
  // innermost first. nullopt for any other plan, and for a chain that reads mz_now() (the
  // hydration's time is not known where the caller evaluates it), parameters or a subplan.
  struct RootScan {
    uint64_t collection_id = 0;
    std::vector<dataflow::MfpStage> stages;
  };
  static std::optional<RootScan> root_scan(const dataflow::RelExpr& plan);
  // shared (both forms): the indexed views' arrangements the dataflow may read instead of
  // arranging their rows (shared_reader); the caller schedules it accordingly (compute.cpp).
  // Makes later steps stop with 57014 once *flag is set (null: never). The flag must outlive
  // those steps: the caller clears it before the flag's owner goes.
  void set_cancel_flag(const std::atomic<bool>* flag) {
    if (df_.dataflow) df_.dataflow->set_cancel_flag(flag);
  }

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const dataflow::RelExpr& plan() const { return plan_; }
  // Collection ids the dataflow reads.
  std::vector<uint64_t> inputs() const;

  // Feeds the changes at time t of the inputs (absent: no change) and steps; appends the
  // output's change to delta. Throws SqlError from evaluation.
  void step(uint64_t t, const ChangeSet& changes, EvalContext& ctx, RowDiffs& delta);
  // The same with the changes given per input collection id (null or absent: no change).
  void step(uint64_t t, const std::map<uint64_t, const RowDiffs*>& changes, EvalContext& ctx, RowDiffs& delta);

  // The current contents: fn(row, multiplicity) for every row (shard by shard).
  void for_each(const std::function<void(RowRef, int64_t)>& fn) const;
  // The rows of shard s (< num_shards()): those whose shard key hashes to s as the dataflow's
  // exchange hashes it (std::hash of the canonical key bytes, modulo the shard count).
  void for_each_in_shard(size_t s, const std::function<void(RowRef, int64_t)>& fn) const;
  // The multiplicity of a row (0 when absent).
  int64_t count_of(RowRef row) const;
  // An index on key columns; returns its position.
  size_t add_index(std::vector<uint32_t> key_columns);
  void drop_index(const std::vector<uint32_t>& key_columns);
  // Indexes whose key columns are exactly these, or -1.
  int find_index(const std::vector<uint32_t>& key_columns) const;
  const std::vector<uint32_t>& index_columns(size_t i) const { return shards_[0]->indexes[i].columns; }
  size_t num_indexes() const { return shards_[0]->indexes.size(); }
  // Rows of index i with the given key values (canonicalised here).
  void lookup(size_t i, std::span<const Datum> key, RowDiffs& out) const;

  // Shared arrangements (src/server/README.md, "Views over indexed views read the index"):
  // the index by `columns` as an arrangement a dependent's dataflow reads instead of arranging
  // this view's rows itself (dataflow/delta_join.hpp, ArrangementReader), or null unless the
  // shards are split by exactly these columns (or there is one shard) and an index on them
  // exists. The reader keeps
  // `self` alive; from then on dropping that index keeps it maintained, out of sight of
  // lookups, for the reader. Takes state_mu.
  // REQUIRES (the caller's scheduling, compute.cpp): a reader's dataflow steps only when this
  // one has processed the same step and not the next, holding state_mu shared meanwhile.
  // Whether dependents read indexes as shared arrangements: only with
  // FRESHET_SHARED_ARRANGEMENTS=on in the environment, until its costs are paid (catch-up CPU,
  // the owner held at a dependent's snapshot while it hydrates: src/server/README.md).
  static bool shared_arrangements_enabled();
  static std::shared_ptr<const dataflow::ArrangementReader> shared_reader(const std::shared_ptr<Maintained>& self,
                                                                         const std::vector<uint32_t>& columns);
  // The rows of shard `shard` whose key by `columns` (an index, or one kept for readers) has
  // the canonical bytes `key`. REQUIRES: state_mu held (or the scheduling above).
  void for_each_by_key(size_t shard, const std::vector<uint32_t>& columns, std::string_view key,
                       absl::FunctionRef<void(RowRef, int64_t)> f) const;
  // The shared arrangements this dataflow reads (RenderedDataflow::shared_reads): the
  // collection ids and key columns, and the dataflows behind them (held shared while
  // stepping).
  const std::vector<std::pair<uint64_t, std::vector<uint32_t>>>& shared_reads() const { return df_.shared_reads; }
  bool reads_shared(uint64_t id) const {
    for (const auto& [cid, cols] : df_.shared_reads)
      if (cid == id) return true;
    return false;
  }
  // Whether the views it reads as shared arrangements are, for the next step, at that step
  // and stay there until it is over (the driver's scheduling, compute.cpp): from the first
  // step so told on it reads their indexes; until then (its hydration and catch-up, while the
  // views step on without waiting for it) it keeps a private copy of their rows, as a join
  // arranging them would. Applies to the next step only.
  void set_owners_at_step(bool on);
  // Reads the views' indexes from now on, freeing the private copies (right after a
  // hydration, when the views have not moved on). REQUIRES: between steps; every view it
  // reads at the step it processed last, and kept in step with it from now on.
  void read_owners();
  // Whether it still keeps a private copy of a view it reads (tests, introspection).
  bool keeps_owner_copies() const;

  size_t records() const;
  // Shards of the contents (the dataflow's shard count) and the columns they are split by
  // (empty when by the whole row: no index yet).
  size_t num_shards() const { return shards_.size(); }
  const std::vector<uint32_t>& shard_columns() const { return shard_columns_; }
  // Whether time alone can change the output (a temporal filter): stepped on every tick.
  bool time_dependent() const { return time_dependent_; }
  // The earliest time at which a temporal filter has changes queued (Dataflow::next_due).
  std::optional<uint64_t> next_due() const { return df_.dataflow ? df_.dataflow->next_due() : std::nullopt; }

  // The compute thread's bookkeeping (coordinator_state.hpp), guarded by State::compute_mu.
  struct ComputeState {
    uint64_t processed_seq = 0;  // every compute step up to this one has been applied
    bool dropped = false;        // removed from the list; not stepped again
    std::string failed;          // "SQLSTATE message" of the error that stopped it
    // Failed, and one of its inputs changed since: retry_failed_dataflows() rebuilds it.
    bool retry = false;
    std::chrono::steady_clock::time_point last_retry{};
    std::chrono::steady_clock::duration retry_cost{};  // how long the last failed rebuild took
    bool is_mv = false;          // a materialized view: its output changes are stored
    bool running = false;        // a driver is stepping it (compute.cpp)
  };
  ComputeState compute;
  // Held exclusively while a step applies its output change to the contents, shared by readers
  // of the contents: a serializable read (no waiting) reads them while a driver steps it.
  mutable std::shared_mutex state_mu;
  // Kept history of the contents (RETAIN HISTORY, history.hpp): guarded by state_mu, recorded
  // by step() with the change it applies. The window is set by State::apply_history_windows.
  History history;
  // The time of the step being recorded (now_ts as the coordinator last published it), for
  // trimming the window: guarded by state_mu.
  uint64_t history_now = 0;
  // Heap bytes of the output arrangement (rows, hash set, indexes). O(indexes).
  size_t bytes() const;

  // Memory accounting and the per-dataflow budget (src/server/README.md, "Dataflow memory
  // budget"). After hydration and after every step the dataflow measures its state: the
  // output arrangement (bytes()) plus every operator's state (Dataflow::state_bytes, an
  // estimate that never lags behind growth, amortized O(1) per input byte). Readable from any
  // thread: the figures of the last measurement.
  uint64_t arrangement_bytes() const { return arrangement_bytes_.load(std::memory_order_relaxed); }
  uint64_t operator_bytes() const { return operator_bytes_.load(std::memory_order_relaxed); }
  uint64_t state_bytes() const { return arrangement_bytes() + operator_bytes(); }
  // Whether it was stopped for exceeding its budget (its state is freed; it is not stepped
  // or retried again until it is rebuilt: DROP, restart).
  bool over_budget() const { return over_budget_; }
  // The budget of every dataflow in bytes (0: none), server-wide: `freshet serve
  // --dataflow-memory-budget-mb`, ALTER SYSTEM SET dataflow_memory_budget_mb. Thread-safe.
  static uint64_t budget_bytes();
  // configured: the start-up value, to which ALTER SYSTEM RESET returns.
  static void set_budget_bytes(uint64_t bytes, bool configured = false);
  // The default: half of the machine's memory, at least 512 MB (one dataflow may not take the
  // memory the tables, the other dataflows and the queries need).
  static uint64_t default_budget_mb();

 private:
  // Storage (memory close to the rows' own size; src/server/README.md, "Memory per arranged
  // row"): every row lives once in an append-only byte arena as an entry
  // [multiplicity: 1 byte][length: varint][row bytes], padded to 4 bytes, and is referred to by
  // its 32-bit ref (EntryArena). A multiplicity of 255 or more is kept in big_counts (the
  // entry's byte says 255); a retracted row's byte becomes 0 (dead). contents is a hash set of
  // refs looked up by the bytes they point to (4-byte slots and absl's control byte). An index
  // is a hash set of one ref per key (the key's first row), hashed and compared by the key
  // computed from that row, and per key with more rows the others in `more`. Retracted rows
  // leave dead bytes that compact() reclaims once they outweigh the live ones.
  //
  // Shards (src/server/README.md, "The index as per-shard arrangements"): the contents are
  // split into one Shard per shard of the dataflow, each with its own arena, hash set and
  // indexes, by the shard key: the key of the view's first index, hashed as the dataflow's
  // exchange hashes keys (std::hash of the canonical key bytes, dataflow/graph.cpp
  // partition), so the index's shard s holds exactly the keys the dataflow's shard s holds of
  // an arrangement by that key; without an index, by the row's bytes. A step's output is
  // split, consolidated and applied per shard on the worker pool.
  struct Shard;
  struct RefHash {
    using is_transparent = void;
    const Shard* s;
    size_t operator()(uint32_t ref) const;
    size_t operator()(std::string_view b) const { return hash_bytes(b); }
  };
  struct RefEq {
    using is_transparent = void;
    const Shard* s;
    bool operator()(uint32_t a, uint32_t b) const { return a == b; }
    bool operator()(uint32_t a, std::string_view b) const;
    bool operator()(std::string_view a, uint32_t b) const { return (*this)(b, a); }
  };
  // A key to look up in an index: its canonical packed bytes and their hash.
  struct KeyProbe {
    uint64_t hash;
    std::string_view key;
  };
  // An index's set hashes and compares a ref by its row's key (columns: the heap buffer of
  // Index::columns, which stays put when the Index moves).
  struct KeyHash {
    using is_transparent = void;
    const Shard* s;
    const uint32_t* columns;
    size_t n;
    size_t operator()(uint32_t ref) const;
    size_t operator()(const KeyProbe& p) const { return p.hash; }
  };
  struct KeyEq {
    using is_transparent = void;
    const Shard* s;
    const uint32_t* columns;
    size_t n;
    bool operator()(uint32_t a, uint32_t b) const;
    bool operator()(uint32_t a, const KeyProbe& b) const;
    bool operator()(const KeyProbe& a, uint32_t b) const { return (*this)(b, a); }
  };
  struct Index {
    std::vector<uint32_t> columns;
    // One ref per key: the key's first row.
    absl::flat_hash_set<uint32_t, KeyHash, KeyEq, HugeAdvisingAllocator<uint32_t>> keys;
    // The other rows of keys with more than one, by the first row's ref (two inline).
    absl::flat_hash_map<uint32_t, absl::InlinedVector<uint32_t, 2>> more;
    size_t spill_bytes = 0;  // heap bytes of the vectors of `more` that left their inline slots
  };
  static size_t spill_of(const absl::InlinedVector<uint32_t, 2>& v) { return v.capacity() > 2 ? v.capacity() * sizeof(uint32_t) : 0; }
  // An entry's parts: the multiplicity byte, the varint length, the row.
  static constexpr uint8_t kBigCount = 255;  // the multiplicity is in big_counts
  static size_t varint_bytes(size_t n) {
    size_t b = 1;
    while (n >= 128) n >>= 7, ++b;
    return b;
  }
  static size_t entry_bytes(size_t row_len) { return 1 + varint_bytes(row_len) + row_len; }
  // The row of the entry at p and the entry's size.
  static std::string_view row_at(const char* p) {
    size_t len = 0;
    int shift = 0;
    const auto* q = reinterpret_cast<const uint8_t*>(p + 1);
    while (*q & 0x80) len |= size_t{*q++ & 0x7fu} << shift, shift += 7;
    len |= size_t{*q++} << shift;
    return std::string_view(reinterpret_cast<const char*>(q), len);
  }
  // One shard's part of the contents and of every index. Owned by the Maintained; stepped by
  // one pool task at a time (under state_mu held exclusively by the driver), read under
  // state_mu shared. Never moves (refs to it live in its sets' functors).
  struct Shard {
    Shard();
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;
    EntryArena arena;  // entries back to back (entry_bytes)
    size_t dead_bytes = 0;
    absl::flat_hash_set<uint32_t, RefHash, RefEq, HugeAdvisingAllocator<uint32_t>> contents;
    absl::flat_hash_map<uint32_t, int64_t> big_counts;  // multiplicities of 255 or more, by ref
    std::vector<Index> indexes;
    // Indexes dropped while dependents read them as shared arrangements (drop_index):
    // maintained as the others, but not for lookups.
    std::vector<Index> kept;

    std::string_view bytes_at(uint32_t ref) const { return row_at(arena.at(ref)); }
    void set_count_at(uint32_t ref, int64_t c);
    int64_t count_at(uint32_t ref) const {
      uint8_t b = static_cast<uint8_t>(*arena.at(ref));
      return b == kBigCount ? big_counts.at(ref) : b;
    }
    // Appends an entry for row with multiplicity n; its ref.
    uint32_t add_entry(std::string_view row, int64_t n);
    // Adds d to row's multiplicity (hydration: no index yet, rows may cancel later).
    void add_initial(std::string_view row, int64_t d);
    // Drops rows whose initial updates cancelled (0) and refuses negative ones.
    void sweep_initial(const std::string& name);
    // Builds an index over the contents by sorting (key hash, ref) pairs: every key's vector
    // gets its exact size and the map its final capacity at once.
    Index build_index(std::vector<uint32_t> columns) const;
    Index empty_index(std::vector<uint32_t> columns) const;
    void index_insert(Index& idx, uint32_t ref);
    void index_erase(Index& idx, uint32_t ref);
    // Applies a consolidated change (rows of this shard only). Throws 'XX000' on a negative
    // multiplicity.
    void apply(const RowDiffs& delta, const std::string& name);
    void compact();
    size_t bytes() const;
    void for_each(const std::function<void(RowRef, int64_t)>& fn) const;
  };
  // The canonical packed key of row (the key columns' datums) into out; its hash.
  static uint64_t key_bytes(RowRef row, const uint32_t* columns, size_t n, std::string& out);
  static uint64_t key_hash(RowRef row, const std::vector<uint32_t>& columns);
  // The shard that holds row (by shard_columns_, or the row's bytes).
  size_t shard_of(RowRef row) const;
  // Renders the plan, pushes the snapshot at t and steps once; the output batch.
  dataflow::Batch hydrate(uint64_t t, const BatchSnapshotFn& snapshot, EvalContext& ctx, const std::atomic<bool>* cancelled,
                          const dataflow::RenderOptions::SharedArrangementFn& shared, dataflow::Batch* root_output = nullptr);
  // The initial contents from the hydration's output (unconsolidated): every row's
  // multiplicity summed in its shard's hash set; then a sweep drops rows whose updates
  // cancelled. REQUIRES: empty contents and no index.
  void apply_initial(const dataflow::Batch& out);
  // Splits rows by shard_of into one list per shard (on the pool when there are many).
  template <typename Row_>
  std::vector<std::vector<std::pair<RowRef, int64_t>>> split_by_shard(std::span<const Row_> rows) const;
  // Moves every row into shards keyed by `columns` (the first index on a view that had none):
  // REQUIRES no index.
  void reshard(const std::vector<uint32_t>& columns);
  // Runs task(s) for every shard, on the worker pool when `parallel`.
  void for_shards(bool parallel, const std::function<void(size_t)>& task) const;
  // Measures the state (above); past the budget (checked again with an exact walk) frees it
  // and throws 53200.
  void check_budget();

  uint64_t id_;
  std::string name_;
  dataflow::RelExpr plan_;
  dataflow::RenderedDataflow df_;
  // The shared arrangements df_ reads (shared_reads): one reader per view, held shared around
  // each step (by collection id). offered_: during rendering only.
  std::vector<std::pair<uint64_t, std::shared_ptr<const dataflow::ArrangementReader>>> readers_;
  struct Offered {
    uint64_t cid;
    std::vector<uint32_t> columns;
    std::shared_ptr<const dataflow::ArrangementReader> reader;
  };
  std::vector<Offered> offered_;
  bool time_dependent_ = false;  // the plan has a temporal filter: it must be stepped every tick
  // Constant after hydration (but reshard()): the shards, one per shard of the dataflow, and
  // the columns rows are sharded by (by_row_: the row's bytes).
  std::vector<std::unique_ptr<Shard>> shards_;
  std::vector<uint32_t> shard_columns_;
  bool by_row_ = true;
  // Key columns handed out as shared arrangements (shared_reader): guarded by state_mu.
  std::vector<std::vector<uint32_t>> shared_keys_;
  std::atomic<uint64_t> arrangement_bytes_{0};
  std::atomic<uint64_t> operator_bytes_{0};
  bool over_budget_ = false;  // set by the thread that steps it
};

// ALTER SYSTEM SET dataflow_memory_budget_mb = N (0: none) / RESET: changes the budget of
// every dataflow, checked at its next step; not kept across a restart (the flag is). Throws
// 42501 unless superuser, 22023 for a bad value.
void alter_dataflow_budget(const PgQuery__VariableSetStmt& set, bool superuser);

// Whether a dataflow's failure is its memory budget (53200): it is then not retried when its
// inputs change (compute.cpp), and reads say how to get it back.
bool over_budget(const Maintained::ComputeState& c);

}  // namespace freshet::server
