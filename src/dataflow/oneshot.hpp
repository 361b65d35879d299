#pragma once
// Runs a RelExpr once over a snapshot of its inputs: the same operators the incremental
// engine uses, fed every input row at one timestamp (ctx.logical_time_ms, which mz_now()
// returns), run to completion, consolidated.
// Cost: proportional to the work of the plan; joins build hash arrangements of their inputs.

#include <atomic>
#include <cstdint>
#include <functional>
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
std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                 const StepLimits& limits);

}  // namespace freshet::dataflow
