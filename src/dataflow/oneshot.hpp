#pragma once
// Runs a RelExpr once over a snapshot of its inputs: the same operators the incremental
// engine uses, fed every input row at one timestamp (ctx.logical_time_ms, which mz_now()
// returns), run to completion, consolidated.
// Cost: proportional to the work of the plan; joins build hash arrangements of their inputs.

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "common/functions.hpp"
#include "dataflow/graph.hpp"
#include "common/row.hpp"
#include "dataflow/ir.hpp"

namespace freshet::dataflow {

// Calls emit(row, diff) for every update of a collection's current contents.
using SnapshotFn = std::function<void(uint64_t collection_id,
                                      const std::function<void(const Row&, int64_t)>& emit)>;

// A collection's current contents split into parts that threads may read at the same time
// (a table, read under the readers' lock). scan(p, emit) calls emit for every row of part p
// (0 <= p < parts); every row is in exactly one part. `scan` is called from worker threads,
// several parts at once. stable_rows: the rows emitted stay valid and unchanged while this
// PartitionedSnapshot lives (run_oneshot keeps it until it returns), so the scan may hand
// them to the dataflow without copying them.
struct PartitionedSnapshot {
  size_t parts = 1;
  bool stable_rows = false;
  size_t rows_per_part = 0;  // a hint (0: unknown): the batches reserve room for this many
  std::function<void(size_t part, const std::function<void(RowRef, int64_t)>& emit)> scan;
};
// Asked on the query's thread for each collection read, with the number of parts wanted (the
// dataflow's shards); nullopt: read it through the SnapshotFn instead (one thread, copied).
using PartitionFn = std::function<std::optional<PartitionedSnapshot>(uint64_t collection_id, size_t parts_wanted)>;

// Consolidated result: each distinct row with its (non-zero) multiplicity, ordered by row
// bytes. Throws SqlError on evaluation errors. `cancelled`, when set, is polled between
// operators and inside long ones (57014 when it is true). An intermediate batch of more than
// max_intermediate_rows rows raises 54000 (a runaway cross product, say).
inline constexpr uint64_t kDefaultMaxIntermediateRows = 100'000'000;
std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot,
                                                 EvalContext& ctx,
                                                 const std::atomic<bool>* cancelled = nullptr,
                                                 uint64_t max_intermediate_rows = kDefaultMaxIntermediateRows);
// The same with every limit of StepLimits (statement timeout, memory budget); the snapshot's
// rows count against the budget too.
//
// Scans: every Get, with the Map/Filter/Project chain right above it, is read as one scan
// (RenderOptions::fuse_scans): the chain is applied while the collection is read, so a row a
// filter rejects is never copied and only the projected columns are. A collection that
// `partition` splits is read by the worker pool, one part per shard, each part's rows pushed
// onto its own shard (no second copy for the exchange), and rows that pass a filter-only
// chain unchanged are borrowed, not copied, when the parts' rows are stable.
std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                 const StepLimits& limits, const PartitionFn& partition = {});

// The initplan phase of run_oneshot: evaluates, in place, every kInSet of plan's expressions
// that holds no values yet (IN sets and initplans, dataflow/in_set.hpp; a subplan's own by
// the recursive run), keeping an error of the data for the first row that reads it, then folds
// the value of each initplan that ran without error into the plan (fold_initplans,
// initplan_fold.hpp), so that a key fixed by an initplan is a constant. run_oneshot does this
// on a copy of its plan; a caller that wants to look at the folded plan before running it
// (src/server: a lookup on a primary or index key fixed by `k = (SELECT ...)`) calls it first
// and passes the result, whose kInSets run_oneshot then does not evaluate again. Cancellation,
// timeouts and budgets are raised at once.
void run_initplans(RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx, const StepLimits& limits,
                   const PartitionFn& partition = {});

// A Reduce over a join (through column-only Projects and the Filters right above the join)
// reads only some of the join's columns: every input of the join that is a scan (a Get under
// Map/Filter/Project) gets a Project onto the columns the Reduce, the Filters and the join's
// equivalences read, so the joined rows, and a maintained join's arrangements, carry those
// columns only. Run by run_oneshot, and by src/server's Maintained before rendering a
// maintained dataflow (Nexmark q4 arranged whole bid and auction rows for max(price) per
// auction). The same for a Project over a Window (Filters above and below it) over a join:
// the inputs keep what the Project, the Filters, the Window and the equivalences read (q9).
// Plans with a kLetRec are left alone. Rewrites in place; the same rows result.
void narrow_join_inputs(RelExpr& plan);

}  // namespace freshet::dataflow
