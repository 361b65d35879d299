#pragma once
// Rendering: turns a RelExpr (ir.hpp) into a Dataflow (graph.hpp) of operators
// (operators.hpp). The one-shot path renders with keep_state = false and runs one step; the
// incremental engine renders with keep_state = true and steps once per tick, pushing each
// collection's changes into its source node.
//
// Shapes: chains of Map/Filter/Project fuse into one MFP operator; an n-input Join becomes a
// left-deep chain of binary joins in input order (the optimizer orders the inputs), each keyed
// by the equivalence classes that connect what is joined so far with the next input, with the
// remaining equalities checked on the joined row; in a maintained dataflow a Join of 3 or more
// inputs becomes a delta join instead (delta_join.hpp): each input arranged once per key it is
// looked up by, one path of lookups per input, no intermediate arrangement. Get nodes of one
// collection share a source.

#include <cstdint>
#include <functional>
#include <memory>
#include <utility>
#include <vector>

#include "dataflow/graph.hpp"
#include "dataflow/ir.hpp"
#include "dataflow/operators.hpp"

namespace freshet::dataflow {

class ArrangementReader;

struct RenderOptions {
  // Joins keep their arrangements between steps (false: the plan runs for one step only).
  bool keep_state = true;
  StepLimits limits;
  // Shards (graph.hpp): 0 = WorkerPool::default_workers() (--workers); 1 = unsharded. Nested
  // dataflows (inside LetRec) are never sharded.
  size_t workers = 1;
  // One-shot queries (oneshot.hpp): a Map/Filter/Project chain directly over a Get renders as a
  // scan source of its own (RenderedDataflow::scans) whose driver applies the chain while
  // reading the collection, instead of a source shared by the collection's Gets followed by an
  // MFP operator. Only the top-level plan (never the inside of a kLetRec).
  bool fuse_scans = false;
  // One-shot queries over shards: a Reduce whose aggregates all merge exactly
  // (partial_aggregate_ok) renders as a partial reduce on every shard's own input followed
  // by a merge exchanged by the group key (ReduceSpec::Phase), so a shard sends one row per
  // group instead of its rows. Only with workers > 1 and never inside a kLetRec (whose
  // bodies step repeatedly).
  bool partial_aggregates = false;
  // Maintained dataflows (keep_state): a Join of 3 or more inputs renders as a delta join
  // (delta_join.hpp, uses_delta_join) instead of a left-deep chain of binary joins. Off
  // inside a kLetRec (recursion.cpp).
  bool delta_joins = true;
  // Maintained dataflows over shards (workers > 1 and keep_state; off by default: measured
  // not to pay at Nexmark's 1,000-event steps, bench/README.md "Catch-up with 1 and 2
  // workers", so only IncrementalTest.HotMinMaxOverCrossJoinWithConstant turns it on): a
  // Reduce whose aggregates are all min/max (no DISTINCT) and whose group key is not empty
  // renders in two phases, as Materialize's hierarchical reductions and Feldera's
  // partial/final aggregates do: a local Reduce on every shard's own input (each shard's
  // min/max per group, kept with its multiset), then a Reduce exchanged by the group key over
  // those per-shard extremes (at most one row per shard per group). A group that takes most
  // updates (Nexmark q5 and q7: the max per window, one window at a time) is then worked on by
  // every shard instead of one. Off inside a kLetRec (recursion.cpp).
  bool hierarchical_min_max = false;
  // Shared arrangements (src/dataflow/README.md, "Shared arrangements"; delta_join.hpp,
  // ArrangementReader): given a collection's id and the columns a join looks it up by, an
  // arrangement of that collection by exactly those columns kept outside the dataflow (an
  // indexed view's index), or null. A join input that is the bare Get of such a collection,
  // looked up by exactly those columns (no cast), is then read there instead of being
  // arranged by the join, and a join with such an input renders as a delta join even with
  // two inputs. Only with keep_state, and only a reader with as many shards as the dataflow.
  // Called while rendering only.
  using SharedArrangementFn =
      std::function<std::shared_ptr<const ArrangementReader>(uint64_t collection_id, const std::vector<uint32_t>& columns)>;
  SharedArrangementFn shared_arrangement;
  // Set by render() for each replica: the shard it is and the shard count.
  size_t shard = 0;
  size_t shards = 1;
};


// A source that reads one collection through a fused map/filter/project (fuse_scans).
// `stages` is empty for a Get read as it is.
struct ScanSource {
  uint64_t collection_id = 0;
  std::vector<MfpStage> stages;
  Dataflow::NodeId node = 0;
};

struct RenderedDataflow {
  std::unique_ptr<Dataflow> dataflow;
  // The shared arrangements the dataflow reads (RenderOptions::shared_arrangement): collection
  // id and key columns, once each.
  std::vector<std::pair<uint64_t, std::vector<uint32_t>>> shared_reads;
  Dataflow::NodeId output = 0;
  // One source per collection the plan reads.
  std::vector<std::pair<uint64_t, Dataflow::NodeId>> sources;
  // fuse_scans: the scans (a collection may have several, each with its own node; `sources`
  // then holds none of the collections read this way).
  std::vector<ScanSource> scans;
  // One source per recursive binding (kGetLocal id) the plan reads without binding it: only
  // when rendering the inside of a kLetRec (recursion.hpp); a top-level plan has none.
  std::vector<std::pair<uint64_t, Dataflow::NodeId>> local_sources;
  // render_many: one output node per plan.
  std::vector<Dataflow::NodeId> outputs;
};

RenderedDataflow render(const RelExpr& plan, const RenderOptions& options);
// Renders several plans into one dataflow sharing its sources (the bindings of a kLetRec).
RenderedDataflow render_many(const std::vector<const RelExpr*>& plans, const RenderOptions& options);

// Column helpers shared with the optimizer.
// Appends every column index e reads.
void collect_columns(const ScalarExpr& e, std::vector<uint32_t>& out);
// e with every column index c replaced by c + delta. REQUIRES: no index becomes negative.
ScalarExpr shift_columns(const ScalarExpr& e, int64_t delta);

}  // namespace freshet::dataflow
