#pragma once
// The dataflow operators (graph.hpp Operator), each processing one timestamp's batch per step
// and keeping whatever state incremental maintenance needs:
//
//  * linear (no state): map/filter/project fused into one MFP operator, union, negate,
//    equality filter (SQL `=` pairs, for join equivalences within one input);
//  * constant: emits its rows at the first step;
//  * join (binary): arrangements of both inputs keyed by the join key; per step
//    Δ(A⋈B) = ΔA⋈B + A⋈ΔB + ΔA⋈ΔB with A, B the state before the step (the last term through a
//    hash of the smaller delta). A NULL key joins nothing. With keep_state = false (one-shot,
//    a single step) no arrangement is kept;
//  * reduce: per-group accumulators updated by diffs; a group's output row is retracted and
//    re-emitted only when it changes. min/max/string_agg keep an ordered multiset per group so
//    retractions never rescan; DISTINCT aggregates keep a per-group value multiset;
//  * top-k: per group an ordered multiset of rows; emits the diff of the visible window;
//  * window functions: per partition an ordered multiset of rows; a touched partition is
//    recomputed and its output diffed with what it emitted (table_ops.cpp);
//  * distinct / threshold: per-row multiplicity; emit only when it crosses zero;
//  * temporal filter: validity intervals from mz_now() bounds, a time-ordered queue of
//    scheduled insertions and retractions (temporal.cpp);
//  * recursion (kLetRec): nested dataflows iterated to a fixpoint (recursion.hpp).
//
// Threads: single-threaded, owned by their Dataflow. Costs are per operator below.

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "dataflow/graph.hpp"
#include "dataflow/ir.hpp"

namespace freshet::dataflow {

// One stage of a fused map/filter/project over a row of datums.
struct MfpStage {
  enum class Kind : uint8_t { kMap, kFilter, kProject };
  Kind kind = Kind::kMap;
  std::vector<ScalarExpr> exprs;   // kMap: appended columns; kFilter: predicates (all TRUE)
  std::vector<uint32_t> columns;   // kProject
};

std::unique_ptr<Operator> make_mfp(std::vector<MfpStage> stages);

// The per-row work of a fused map/filter/project, for callers that apply it outside an
// operator (a one-shot scan applies it while reading a table, so that rows a filter removes
// and columns a projection drops are never copied; oneshot.hpp). One per thread: it keeps
// scratch buffers. Strings that expressions produce live in ctx.arena; the caller resets it.
class MfpProgram {
 public:
  explicit MfpProgram(std::vector<MfpStage> stages);
  // False when a filter rejects `in`. Otherwise `out` is the resulting row: `in` itself when
  // the stages only filter, else bytes owned by this program (valid until the next apply).
  bool apply(RowRef in, EvalContext& ctx, RowRef& out);
  bool filter_only() const { return filter_only_; }
  const std::vector<MfpStage>& stages() const { return stages_; }

 private:
  std::vector<MfpStage> stages_;
  bool filter_only_ = true;
  // One projection and nothing else: the output row is the chosen datums' encodings copied
  // from the input (rows are their datums' encodings one after the other), with no decoding
  // into Datums and packing again. project_prefix_: the columns up to the last one chosen.
  bool project_only_ = false;
  size_t project_prefix_ = 0;
  std::vector<uint32_t> offsets_;  // column_offsets of the input, project_prefix_ + 1 entries
  std::vector<Datum> row_, tmp_;
  std::string packed_;
};
std::unique_ptr<Operator> make_union();
std::unique_ptr<Operator> make_negate();
std::unique_ptr<Operator> make_constant(std::vector<std::pair<Row, int64_t>> rows);
// Keeps rows where every pair's two sides are SQL-equal (NULL equals nothing).
std::unique_ptr<Operator> make_equality_filter(std::vector<std::pair<ScalarExpr, ScalarExpr>> pairs);

struct JoinSpec {
  std::vector<ScalarExpr> left_key;   // over the left input's columns
  std::vector<ScalarExpr> right_key;  // over the right input's columns (same types, in order)
  // Checked on the concatenated row (left columns, then right).
  std::vector<std::pair<ScalarExpr, ScalarExpr>> residual_equal;
  // Predicates over the concatenated row that a pair must satisfy (true; false and NULL drop
  // it): a filter above the join whose columns come from both sides, applied to each pair as
  // it is found, so that a pair the filter removes is never materialized (render.cpp).
  std::vector<ScalarExpr> residual;
  bool keep_state = true;
};
// Output: left columns then right columns, diff = product. Inputs: [left, right].
std::unique_ptr<Operator> make_join(JoinSpec spec);

struct ReduceSpec {
  std::vector<ScalarExpr> group_key;
  std::vector<AggregateExpr> aggregates;
  // The input only grows and the operator steps once (a one-shot query over a monotone plan):
  // min/max keep only the current extreme instead of every value with its multiplicity.
  bool append_only = false;
  // Two-phase aggregation of a sharded one-shot query (render.cpp, RenderOptions::
  // partial_aggregates): kPartial aggregates each shard's input where it is (no exchange) and
  // emits, per group, the key columns, each aggregate's state encoded as one bytea datum and
  // the group's row count; kMerge (exchanged by the key, group_key = those key columns)
  // combines the states and emits what kFull would. Steps once: a partial reduce emits its
  // whole state at its step. REQUIRES for both: every aggregate partial_aggregate_ok().
  enum class Phase : uint8_t { kFull, kPartial, kMerge };
  Phase phase = Phase::kFull;
  // kFull with the input spread over the shards by the whole row (not by the group key): the
  // first phase of a hierarchical min/max (render.hpp, RenderOptions::hierarchical_min_max);
  // its groups are per shard.
  bool local = false;
};
std::unique_ptr<Operator> make_reduce(ReduceSpec spec);
// Whether the aggregate's state can be computed per shard and merged exactly: count(*),
// count, sum/avg of integers, numerics and intervals (not floats: their sums would round
// differently), bool_and/bool_or, and min/max over an append-only input. Not DISTINCT, not
// with an ORDER BY inside.
bool partial_aggregate_ok(const AggregateExpr& a, bool append_only);

// The canonical bytes of a row's join key (append_canonical_key of `key` evaluated over the
// row's first `prefix` columns), in kbytes; false when a key value is NULL (the row joins
// nothing). cols and k are scratch; the evaluation arena is reset. Joins and delta joins.
bool join_key_bytes(RowRef row, const std::vector<ScalarExpr>& key, size_t prefix, EvalContext& ev,
                    std::vector<Datum>& cols, std::vector<Datum>& k, std::string& kbytes);

// Whether the joined pair (a, b) passes a join's residual predicates: every residual_equal
// pair SQL-equal and every residual true, evaluated over a's columns then b's (scratch holds
// them; the evaluation arena is reset). Joins and delta joins.
bool join_residual_passes(RowRef a, RowRef b, const std::vector<std::pair<ScalarExpr, ScalarExpr>>& residual_equal,
                          const std::vector<ScalarExpr>& residual, EvalContext& ev, std::vector<Datum>& scratch);

struct TopKSpec {
  std::vector<uint32_t> group_columns;
  std::vector<SortKey> order_by;
  std::optional<uint64_t> limit;
  uint64_t offset = 0;
};
std::unique_ptr<Operator> make_topk(TopKSpec spec);

std::unique_ptr<Operator> make_distinct();

// Table functions (table_ops.cpp): per input update, the function's rows appended to the input
// row, each with the update's diff (so a retraction retracts exactly what the insertion
// produced). Stateless; cost is the number of rows produced. 54000 past 10^8 rows per call.
struct FlatMapSpec {
  TableFunc func = TableFunc::kUnnest;
  std::vector<ScalarExpr> args;  // over the input row
  bool with_ordinality = false;
};
std::unique_ptr<Operator> make_flat_map(FlatMapSpec spec);

// One aggregate's accumulator as Reduce keeps it per group, for other operators (window
// aggregates). update() evaluates the aggregate's filter, argument, separator and ORDER BY
// expressions over `row` and adds (diff > 0) or retracts the value. Not thread-safe; `agg`
// must outlive the accumulator. Cost: O(1) for counts and sums, O(log n) for min/max and
// string_agg/array_agg (ordered multisets).
struct AccumulatorState;
class Accumulator {
 public:
  explicit Accumulator(const AggregateExpr& agg);
  ~Accumulator();
  Accumulator(Accumulator&&) noexcept;
  Accumulator& operator=(Accumulator&&) noexcept;
  void clear();
  void update(std::span<const Datum> row, int64_t diff, EvalContext& ctx);
  Datum result(EvalContext& ctx) const;
  // Whether retracting a value leaves exactly the result of accumulating the rest afresh
  // (false for float sums, which round, and numeric sums, which keep the largest scale seen).
  bool exact_retraction() const;

 private:
  const AggregateExpr* agg_;
  std::unique_ptr<AccumulatorState> state_;
};

// Window functions (table_ops.cpp): per partition an ordered multiset of rows; a step
// recomputes the partitions it touched and emits the difference of their output rows.
// Cost of a change: the size of each partition it touches (all of that partition's output
// rows are recomputed and compared with what was emitted); frames slide with invertible
// accumulators, so a partition of n rows costs O(n log n) except float/numeric sums and
// averages over frames whose start moves, which re-accumulate each row's frame.
struct WindowSpec {
  std::vector<uint32_t> partition;
  std::vector<SortKey> order_by;
  std::vector<WindowFunc> funcs;
  std::vector<Type> input_types;  // the input's column types
  // When set, only the rows at a partition's first row_limit positions are output (and kept
  // as emitted). Set by the renderer (render.cpp) for a window whose functions are all
  // row_number, rank or dense_rank under a filter `row_number() <= k` (Nexmark's "top k
  // per group"): the rows past k would be filtered out anyway.
  std::optional<uint64_t> row_limit;
};
std::unique_ptr<Operator> make_window(WindowSpec spec);

// Temporal filter (temporal.cpp): a row is present while mz_now() satisfies all its bounds;
// an update at t enters at max(t, from) and is retracted at until, queued by time and released
// by the step that reaches it. With keep_state = false (one step) only rows valid at the
// step's time pass and nothing is queued.
std::unique_ptr<Operator> make_temporal_filter(std::vector<TemporalBound> bounds, bool keep_state);
std::unique_ptr<Operator> make_threshold();

// Orders rows by sort keys as ORDER BY does (then by bytes, for a deterministic total order).
// Negative/zero/positive.
int compare_by_sort_keys(RowRef a, RowRef b, const std::vector<SortKey>& keys);

}  // namespace freshet::dataflow
