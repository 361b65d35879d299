#pragma once
// Delta joins (src/dataflow/README.md, "Delta joins"): a multi-way join of maintained
// dataflows rendered as one path per input instead of a left-deep chain of binary joins.
// Each input is arranged once per join key it is looked up by (an ArrangeOp keeps a
// SharedArrangement that every path reading that input by that key shares); the path of input
// i starts from input i's change and looks up the other inputs' arrangements in turn
// (LookupOp, a half join that keeps no state), so no intermediate join result is ever
// arranged. Model: Materialize's delta joins, differential dataflow's `half_join`.
//
// The timestamp rule in Freshet's step model (one timestamp per step): for the change ΔA_i of
// a step, path i joins the inputs j < i as they are after the step (their arrangement plus
// their change of this step) and the inputs j > i as they were before it (the arrangement
// only). Summed over the paths this is exactly the change of the join,
//   Δ(A_0 ⋈ ... ⋈ A_n-1) = Σ_i A_0' ⋈ ... ⋈ A_i-1' ⋈ ΔA_i ⋈ A_i+1 ⋈ ... ⋈ A_n-1,
// with no pair counted twice. So an ArrangeOp keeps its step's change apart (pending) and
// merges it into its arrangement at the start of its next step, after every lookup of the
// step has run (the graph runs nodes in construction order, and every ArrangeOp is added
// before the lookups that read it).
//
// Threads: one shard's ArrangeOp and LookupOps share a SharedArrangement and run on one
// thread at a time (the graph steps node by node, a barrier between nodes). Sharded, both
// exchange by the same key (the ArrangeOp its input by the arranged key, a LookupOp its
// stream by the matching key), so a shard looks up only the keys it holds.

#include <absl/functional/function_ref.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arena.hpp"
#include "dataflow/arrangement.hpp"
#include "dataflow/borrowed_rows.hpp"
#include "dataflow/graph.hpp"
#include "dataflow/ir.hpp"

namespace freshet::dataflow {

// The keyed updates of one step, indexed by key for lookups: an open-addressing table
// (linear probing, at most half full) of the first update of each key, the others chained.
// Borrows the updates' keys and rows. Cost: O(n) to build, O(1 + matches) per lookup.
class DeltaIndex {
 public:
  // REQUIRES: `updates` outlives the index (or the next build/clear).
  void build(const std::vector<KeyedUpdate>& updates);
  void clear();
  template <typename F>
  void for_each(std::string_view key, F&& f) const {
    if (updates_ == nullptr || updates_->empty()) return;
    const size_t mask = heads_.size() - 1;
    const size_t h = hash_bytes(key);
    size_t pos = h & mask;
    while (heads_[pos] != kNone && (hashes_[heads_[pos]] != h || (*updates_)[heads_[pos]].key != key)) pos = (pos + 1) & mask;
    for (uint32_t i = heads_[pos]; i != kNone; i = next_[i]) f((*updates_)[i].row, (*updates_)[i].diff);
  }
  size_t heap_bytes() const {
    return heads_.capacity() * sizeof(uint32_t) + next_.capacity() * sizeof(uint32_t) + hashes_.capacity() * sizeof(size_t);
  }

 private:
  static constexpr uint32_t kNone = UINT32_MAX;
  const std::vector<KeyedUpdate>* updates_ = nullptr;
  std::vector<uint32_t> heads_, next_;
  std::vector<size_t> hashes_;
};

// An arrangement a dataflow reads but does not own (shared arrangements, src/dataflow/README.md
// "Shared arrangements"): a maintained view's index kept by the server (server/maintained.hpp),
// split into shards the way a dataflow's exchange splits an arrangement by the same key (std::hash
// of the canonical key bytes modulo the shard count, Dataflow::partition).
//
// The reader's owner steps before the dataflows that read it, and not again until they have
// stepped (the server's scheduling, src/server/compute.cpp): so during a reader's step the
// arrangement holds the state *after* the step, and the reading dataflow gets the owner's change
// of the step as its input (the state before is the state after minus that change).
// Threads: shard s is read by shard s of the reading dataflow, concurrently with the other
// shards; the reading dataflow's driver keeps the owner from changing it during the step (the
// server holds the owner's state_mu shared around the step).
class ArrangementReader {
 public:
  virtual ~ArrangementReader() = default;
  virtual size_t num_shards() const = 0;
  // Held around a reading dataflow's step by its driver (not by the operators), so that the
  // owner's contents and indexes do not change meanwhile (a DDL statement adding or dropping
  // an index). Defaults: nothing to hold.
  virtual void lock_shared() const {}
  virtual void unlock_shared() const {}
  // f(row, multiplicity) for every row of shard `shard` whose key's canonical bytes (as
  // join_key_bytes makes them) are `key`. Cost: O(1 + matches).
  // REQUIRES: shard < num_shards(); no step of the owner runs meanwhile.
  virtual void for_each(size_t shard, std::string_view key, absl::FunctionRef<void(RowRef, int64_t)> f) const = 0;
};

// One input of a delta join arranged by one key, in one shard: the state before the current
// step (`trace`) and the step's change (`pending`, merged into the trace at the next step).
// Or, with `external` (make_read_arranged), an arrangement the dataflow does not own (shard
// `shard` of it), which is read only while it holds the state after this dataflow's step
// (`read_external`): the state before the step is then that minus `pending`. Until then (the
// reading dataflow's hydration and its catch-up, while the owner may be at another step: the
// owner never waits for a reader's hydration) `trace` keeps a private copy, as an ArrangeOp's
// (the hydration's snapshot plus the changes since), freed once the driver finds the owner at
// the reader's step (owner_at_step, read_owner): from then on the scheduling keeps the two
// in step (src/server/compute.cpp).
struct SharedArrangement {
  std::shared_ptr<const ArrangementReader> external;
  size_t shard = 0;
  bool read_external = false;  // external is read; trace is empty
  // Set by the reading dataflow's driver before each step: the owner's arrangement holds the
  // state after this step (and will until the step is over). Read by the ReadArrangedOp.
  bool owner_at_step = false;
  Arrangement trace;
  // The hydration's rows, borrowed from its input batch instead of copied into `trace` when
  // they qualify (borrowed_rows.hpp, as a binary join's): part of the state before the step.
  BorrowedRows borrowed;
  Batch pending_batch;               // the step's input: owns the rows `pending` borrows
  std::vector<KeyedUpdate> pending;  // the step's change, keyed (keys in `keys`)
  DeltaIndex pending_index;
  Arena keys;
  // f(RowRef row, int64_t multiplicity) for the key's rows before the step, and also for the
  // step's change when `with_change`.
  template <typename F>
  void for_each(std::string_view key, bool with_change, F&& f) const {
    if (read_external) {
      external->for_each(shard, key, f);
      if (!with_change) pending_index.for_each(key, [&](RowRef r, int64_t d) { f(r, -d); });
      return;
    }
    if (auto es = trace.find(key)) es->for_each(f);
    borrowed.for_each(key, f);
    if (with_change) pending_index.for_each(key, f);
  }
  // Whether for_each(key, with_change, f) finds nothing for any key: no state kept before the
  // step (a hydration's first step, before any change was merged) and, with_change, no change.
  bool finds_nothing(bool with_change) const {
    if (read_external) return false;
    return trace.empty() && borrowed.num_rows() == 0 && (!with_change || pending.empty());
  }
  // From now on read `external` (which holds the state after the last step) and free the
  // private copy and the last step's change. REQUIRES: external; between steps; the owner at
  // this dataflow's last step and kept in step from now on.
  void read_owner();
  // Between steps: the last step's change merged into the trace (or, reading the owner,
  // dropped), as the next step would do first, and its rows freed (the hydration's snapshot
  // otherwise stays until the next step, beside the rows the trace copies it into).
  void settle();
  // The last step's change into the state before the next (trace and borrowed rows): the
  // hydration's borrowed when it qualifies. REQUIRES: !read_external.
  void merge_pending() {
    if (!pending.empty()) arrange_borrowing(pending, pending_batch, trace, borrowed);
  }
  size_t size_bytes() const {
    return trace.size_bytes() + borrowed.size_bytes() + pending_batch.used_bytes() + pending.capacity() * sizeof(KeyedUpdate) +
           pending_index.heap_bytes();
  }
};

// Maintains `arr` from its input, arranged by `key` (expressions over the input's columns;
// rows whose key has a NULL are left out: SQL `=` never matches them). Emits nothing.
// Cost per step: keying the change and merging the previous step's change (Arrangement::apply).
std::unique_ptr<Operator> make_arrange(std::vector<ScalarExpr> key, std::shared_ptr<SharedArrangement> arr);

// The same for an arrangement kept outside the dataflow (arr->external, arr->shard set): its
// input must be the external arrangement's own change (the reading dataflow's Get of the
// owner). Until the owner is found at the reader's step (SharedArrangement::owner_at_step) it
// arranges that input as make_arrange does; from then on it keeps only the step's change, for
// lookups of the state before the step. Its input is exchanged by `key`, which must hash as
// the external arrangement's shards are split (the key is the bare key columns, of the same
// types). Emits nothing. Cost per step: keying the change (and merging the last one while
// private). State: the change of one step only, once reading the owner.
std::unique_ptr<Operator> make_read_arranged(std::vector<ScalarExpr> key, std::shared_ptr<SharedArrangement> arr);

struct LookupSpec {
  std::vector<ScalarExpr> stream_key;  // over the stream's columns; matches the arranged key
  // Checked on the concatenated row (stream columns, then the arranged input's), as JoinSpec.
  std::vector<std::pair<ScalarExpr, ScalarExpr>> residual_equal;
  std::vector<ScalarExpr> residual;
  // Also join the arranged input's change of this step (the input comes before the path's
  // own input in the join: the timestamp rule above).
  bool with_change = false;
  std::shared_ptr<SharedArrangement> arranged;
  // The last lookup of a path whose inputs were added out of the join's order: the output
  // row's columns are put back in the join's order by moving whole inputs' byte ranges
  // (no decoding into datums and packing again, as a projection would). segment_arity: the
  // arity of each input in the path's order (the arranged input last); segment_order: the
  // path position of each input in the join's order. Empty: stream columns, then arranged.
  std::vector<size_t> segment_arity;
  std::vector<uint32_t> segment_order;
};
// A half join: for each stream update, every row of the arranged input with the same key;
// output (stream columns, then the arranged input's), diff = product. No state of its own.
// Cost: O(stream + matches) per step.
std::unique_ptr<Operator> make_lookup(LookupSpec spec);

}  // namespace freshet::dataflow
