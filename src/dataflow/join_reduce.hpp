#pragma once
// A binary join with the Reduce above it folded into one operator (src/dataflow/README.md,
// "A join folded into the Reduce above it"). Only render.cpp and operators.cpp use this.

#include <atomic>
#include <memory>

#include "dataflow/operators.hpp"

namespace freshet::dataflow {

// A JoinOp whose pairs (those its residuals pass) go into `reduce`'s groups as they are found,
// as the join's columns (left, then right), with no joined row packed, exchanged and decoded
// again; the output is the Reduce's. `reduce` reads the join's output columns. Exchanged by
// the join key, so over shards it is correct only when every group's pairs share one join
// key: render() fuses only when the group key holds the join key's columns. Never a broadcast
// join (not bilinear). REQUIRES: join.keep_state (maintained dataflows), reduce.phase kFull,
// not local, not append_only.
std::unique_ptr<Operator> make_join_reduce(JoinSpec join, ReduceSpec reduce);

// Whether render() folds a Reduce into the binary join below it in maintained dataflows.
// On unless FRESHET_JOIN_REDUCE=off is in the environment at the first render (for
// benchmarks comparing the two); tests set it to render the operators apart. Read at render
// time only: a dataflow keeps the shape it was rendered with. A process-wide switch rather
// than a RenderOptions field so far (a field changes a header that src/server includes
// throughout); the next change to RenderOptions should take it in.
std::atomic<bool>& join_reduce_enabled();

}  // namespace freshet::dataflow
