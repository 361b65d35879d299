#include "dataflow/oneshot.hpp"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "common/stack_guard.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/columns_needed.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/operators.hpp"
#include "dataflow/reaper.hpp"
#include "dataflow/render.hpp"
#include "dataflow/workers.hpp"

namespace freshet::dataflow {

namespace {

// Rows a serial scan puts on one shard before moving to the next: contiguous runs keep each
// shard's batch in few blocks, and small inputs stay on one shard.
constexpr size_t kSerialRunRows = 4096;

// Adaptive consolidation in a scan: equal rows (after the chain) become one update with the
// sum of their counts — the same multiset, fewer updates (a projection onto few distinct
// values: a month, a customer id). Tried on the first kConsolidateProbeRows rows of a part
// and kept only while at most one row in kConsolidateMaxDistinct is new (checked again at
// every doubling of the rows offered).
constexpr size_t kConsolidateProbeRows = 16384;
constexpr size_t kConsolidateMaxDistinct = 4;

// Applies one scan's chain to the rows it is given and appends what passes to a batch.
// One per thread. consolidate: all rows go to one batch, so equal ones may be merged.
class ScanSink {
 public:
  ScanSink(const ScanSource& scan, const EvalContext& ctx, uint64_t time, bool borrow, bool consolidate = false)
      : program_(scan.stages), has_stages_(!scan.stages.empty()), eval_(ctx), time_(time),
        borrow_(borrow && program_.filter_only()), consolidate_(consolidate) {
    eval_.arena = &arena_;
    // Filters followed by at most one projection (what a WHERE over a table and the
    // projections of project_reduce_inputs / project_join_inputs give): decoded here, only
    // up to the last column read, instead of by the MfpProgram, which decodes every column.
    simple_ = has_stages_;
    for (size_t i = 0; i < scan.stages.size() && simple_; ++i) {
      const MfpStage& st = scan.stages[i];
      if (st.kind == MfpStage::Kind::kFilter) {
        for (const ScalarExpr& e : st.exprs) {
          predicates_.push_back(&e);
          prefix_ = std::max(prefix_, columns_needed(e));
        }
      } else if (st.kind == MfpStage::Kind::kProject && i + 1 == scan.stages.size()) {
        project_ = &st.columns;
        for (uint32_t c : st.columns) prefix_ = std::max(prefix_, static_cast<size_t>(c) + 1);
      } else {
        simple_ = false;
      }
    }
  }
  // Returns the bytes the kept update added to `out` (0 when a filter rejected the row).
  uint64_t add(RowRef row, int64_t diff, Batch& out) {
    RowRef result = row;
    if (simple_) {
      datums_.clear();
      unpack_prefix_into(row, datums_, prefix_);
      bool keep = true;
      for (const ScalarExpr* p : predicates_)
        if (!eval_predicate(*p, datums_, eval_)) {
          keep = false;
          break;
        }
      arena_.reset();
      if (!keep) return 0;
      if (project_ != nullptr) {
        packed_.clear();
        RowPacker packer(packed_);
        for (uint32_t c : *project_) {
          FRESHET_ASSERT(c < datums_.size());
          packer.push(datums_[c]);
        }
        result = RowRef(packed_);
      }
    } else if (has_stages_) {
      bool keep = program_.apply(row, eval_, result);
      arena_.reset();
      if (!keep) return 0;
    }
    if (consolidate_) {
      ++rows_in_;
      auto it = seen_.find(result.bytes());
      if (it != seen_.end()) {
        out[it->second].diff += diff;
        maybe_stop(out);
        return 0;
      }
    }
    uint64_t bytes = sizeof(Update);
    if (borrow_) {
      out.push_borrowed(result, time_, diff);
    } else {
      out.emplace_back(result, time_, diff);
      bytes += result.size_bytes();
    }
    if (consolidate_) {
      // Keyed by the batch's own copy (or the borrowed bytes): stable while the batch lives.
      seen_.emplace(out.back().row.bytes(), out.size() - 1);
      maybe_stop(out);
    }
    return bytes;
  }

 private:
  // At kConsolidateProbeRows rows offered, and at every doubling after: stop merging (and free
  // the map) when more than one row in kConsolidateMaxDistinct was new.
  void maybe_stop(const Batch& out) {
    if (rows_in_ < next_check_) return;
    next_check_ *= 2;
    if (out.size() * kConsolidateMaxDistinct > rows_in_) {
      consolidate_ = false;
      seen_ = {};
    }
  }

  Arena arena_;
  MfpProgram program_;
  bool has_stages_;
  bool simple_ = false;  // filters then at most one projection: decoded here (constructor)
  size_t prefix_ = 0;
  std::vector<const ScalarExpr*> predicates_;
  const std::vector<uint32_t>* project_ = nullptr;
  std::vector<Datum> datums_;
  std::string packed_;
  EvalContext eval_;
  uint64_t time_;
  bool borrow_;
  bool consolidate_;
  std::unordered_map<std::string_view, size_t> seen_;  // row bytes -> index in the batch
  size_t rows_in_ = 0;  // rows offered while consolidating
  size_t next_check_ = kConsolidateProbeRows;
};

// e with every column c replaced by map[c].
void remap_columns(ScalarExpr& e, const std::vector<uint32_t>& map) {
  check_stack_depth();
  if (e.kind == ScalarKind::kColumn) e.column = map.at(e.column);
  for (ScalarExpr& a : e.args) remap_columns(a, map);
}

// A Reduce reading a collection (directly or through a Filter) that uses few of its columns
// reads them through a Project, which the scan fuses: only those columns are packed, and
// rows equal on them merge in the scan (ScanSink's consolidation). count(*) over a table or
// an indexed view then reads no column at all: each part hands the reduce one update.
// Only where the projection drops at least half of the row (a projection is a copy, where
// a filter-only scan borrows the rows).
void project_reduce_inputs(RelExpr& e) {
  check_stack_depth();
  for (RelExpr& in : e.inputs) project_reduce_inputs(in);
  if (e.kind != RelKind::kReduce || e.inputs.size() != 1) return;
  RelExpr* leaf = &e.inputs[0];
  if (leaf->kind == RelKind::kFilter && leaf->inputs.size() == 1) leaf = &leaf->inputs[0];
  if (leaf->kind != RelKind::kGet) return;
  std::vector<uint32_t> used;
  auto use = [&](const ScalarExpr& x) { collect_columns(x, used); };
  for (const ScalarExpr& k : e.group_key) use(k);
  for (const AggregateExpr& a : e.aggregates) {
    use(a.arg);
    use(a.separator);
    for (const ScalarExpr& o : a.order_exprs) use(o);
    if (a.filter) use(*a.filter);
  }
  RelExpr& in = e.inputs[0];  // a Filter below the projection still sees the whole row
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  const size_t arity = leaf->arity();
  if (used.size() * 2 > arity) return;
  std::vector<uint32_t> map(arity, 0);
  for (uint32_t i = 0; i < used.size(); ++i) map[used[i]] = i;
  RelExpr project;
  project.kind = RelKind::kProject;
  project.columns = used;
  for (uint32_t c : used) project.column_types.push_back(in.column_types.at(c));
  project.inputs.push_back(std::move(in));
  in = std::move(project);
  for (ScalarExpr& k : e.group_key) remap_columns(k, map);
  for (AggregateExpr& a : e.aggregates) {
    remap_columns(a.arg, map);
    remap_columns(a.separator, map);
    for (ScalarExpr& o : a.order_exprs) remap_columns(o, map);
    if (a.filter) remap_columns(*a.filter, map);
  }
}

// Whether `e` renders as a fused scan: a Map/Filter/Project chain over a Get.
bool is_scan(const RelExpr& e) {
  const RelExpr* r = &e;
  while ((r->kind == RelKind::kMap || r->kind == RelKind::kFilter || r->kind == RelKind::kProject) && r->inputs.size() == 1)
    r = &r->inputs[0];
  return r->kind == RelKind::kGet;
}

void collect_reduce_columns(const RelExpr& reduce, std::vector<uint32_t>& used) {
  for (const ScalarExpr& k : reduce.group_key) collect_columns(k, used);
  for (const AggregateExpr& a : reduce.aggregates) {
    collect_columns(a.arg, used);
    collect_columns(a.separator, used);
    for (const ScalarExpr& o : a.order_exprs) collect_columns(o, used);
    if (a.filter) collect_columns(*a.filter, used);
  }
}

void remap_reduce_columns(RelExpr& reduce, const std::vector<uint32_t>& map) {
  for (ScalarExpr& k : reduce.group_key) remap_columns(k, map);
  for (AggregateExpr& a : reduce.aggregates) {
    remap_columns(a.arg, map);
    remap_columns(a.separator, map);
    for (ScalarExpr& o : a.order_exprs) remap_columns(o, map);
    if (a.filter) remap_columns(*a.filter, map);
  }
}

// A Reduce over a join of scans (through column-only Projects) keeps only the columns the
// reduce and the join's equivalences read: each scan input gets a Project onto its used
// columns (fused into the scan), so the joined rows carry those columns only: fewer bytes
// concatenated per output row and fewer decoded by the reduce. The Projects between the
// Reduce and the Join are folded into the Reduce's column references.
void project_join_inputs(RelExpr& e) {
  check_stack_depth();
  for (RelExpr& in : e.inputs) project_join_inputs(in);
  if (e.kind != RelKind::kReduce || e.inputs.size() != 1) return;
  // Column references of the reduce, through the Projects, down to the join's columns.
  std::vector<const RelExpr*> projects;
  RelExpr* below = &e.inputs[0];
  while (below->kind == RelKind::kProject && below->inputs.size() == 1) {
    projects.push_back(below);
    below = &below->inputs[0];
  }
  if (below->kind != RelKind::kJoin || below->inputs.size() < 2) return;
  RelExpr& join = *below;
  std::vector<uint32_t> through(e.inputs[0].arity());
  for (uint32_t c = 0; c < through.size(); ++c) {
    uint32_t x = c;
    for (const RelExpr* p : projects) x = p->columns.at(x);
    through[c] = x;
  }
  std::vector<uint32_t> used;
  collect_reduce_columns(e, used);
  for (uint32_t& c : used) c = through.at(c);
  for (const auto& cls : join.equivalences)
    for (const ScalarExpr& x : cls) collect_columns(x, used);
  std::vector<bool> is_used(join.arity(), false);
  for (uint32_t c : used) is_used.at(c) = true;
  // New positions of the join's columns; inputs narrowed only where they are scans.
  std::vector<uint32_t> map(join.arity(), 0);
  std::vector<std::vector<uint32_t>> keep(join.inputs.size());
  bool narrowed = false;
  uint32_t off = 0, next = 0;
  for (size_t i = 0; i < join.inputs.size(); ++i) {
    const uint32_t a = static_cast<uint32_t>(join.inputs[i].arity());
    const bool scan = is_scan(join.inputs[i]);
    for (uint32_t c = 0; c < a; ++c) {
      if (scan && !is_used[off + c]) continue;
      keep[i].push_back(c);
      map[off + c] = next++;
    }
    narrowed = narrowed || keep[i].size() < a;
    off += a;
  }
  if (!narrowed) return;
  RelExpr new_join = std::move(join);  // the Projects above it are folded into the reduce
  new_join.column_types.clear();
  for (size_t i = 0; i < new_join.inputs.size(); ++i) {
    RelExpr& in = new_join.inputs[i];
    if (keep[i].size() < in.arity()) {
      RelExpr p;
      p.kind = RelKind::kProject;
      p.columns = keep[i];
      for (uint32_t c : keep[i]) p.column_types.push_back(in.column_types.at(c));
      p.inputs.push_back(std::move(in));
      in = std::move(p);
    }
    new_join.column_types.insert(new_join.column_types.end(), in.column_types.begin(), in.column_types.end());
  }
  for (auto& cls : new_join.equivalences)
    for (ScalarExpr& x : cls) remap_columns(x, map);
  std::vector<uint32_t> full(through.size());
  for (uint32_t c = 0; c < through.size(); ++c) full[c] = map[through[c]];  // unused ones: never read
  remap_reduce_columns(e, full);
  e.inputs[0] = std::move(new_join);
}

}  // namespace

std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot,
                                                 EvalContext& ctx, const std::atomic<bool>* cancelled,
                                                 uint64_t max_intermediate_rows) {
  StepLimits limits;
  limits.cancelled = cancelled;
  limits.max_batch_rows = max_intermediate_rows;
  return run_oneshot(plan, snapshot, ctx, limits);
}

std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                 const StepLimits& limits, const PartitionFn& partition) {
  RenderOptions opts;
  opts.keep_state = false;
  opts.limits = limits;
  opts.workers = 0;  // sharded over --workers
  opts.fuse_scans = true;
  opts.partial_aggregates = true;
  RelExpr projected = plan;
  project_reduce_inputs(projected);
  project_join_inputs(projected);
  RenderedDataflow r = render(projected, opts);
  FRESHET_ASSERT(r.sources.empty());  // every Get is a scan
  // The query runs at its read timestamp: mz_now() is ctx.logical_time_ms.
  const uint64_t t = ctx.logical_time_ms;
  StepContext check{t, ctx, opts.limits};  // limits while the snapshot is copied
  const size_t shards = r.dataflow->num_shards();
  std::vector<Batch> batches;  // one per shard (or part) of the scan being read
  // The partitioned snapshots read: their rows may be borrowed by the dataflow's batches.
  std::vector<PartitionedSnapshot> keep;
  try {
    for (const ScanSource& scan : r.scans) {
      batches.clear();
      std::optional<PartitionedSnapshot> parts;
      if (partition) parts = partition(scan.collection_id, shards);
      if (parts && parts->parts > 0 && parts->scan) {
        // Each part on a worker, into its own batch; the budget is checked against the sum.
        batches.resize(parts->parts);
        std::atomic<uint64_t> total_bytes{0};
        const PartitionedSnapshot& ps = *parts;
        WorkerPool::global().run(ps.parts, [&](size_t p) {
          ScanSink sink(scan, ctx, t, ps.stable_rows, /*consolidate=*/true);
          Batch& out = batches[p];
          // Room for every row of the part at once (a filter's leftover room is only address
          // space): growing a vector of a million updates step by step was a fifth of a scan.
          if (ps.rows_per_part != 0) out.reserve(ps.rows_per_part);
          uint64_t n = 0, bytes = 0;
          ps.scan(p, [&](RowRef row, int64_t diff) {
            bytes += sink.add(row, diff, out);
            if ((++n & kPollMask) == 0) {
              check.check_cancelled();
              check.check_memory(total_bytes.fetch_add(bytes) + bytes);
              bytes = 0;
            }
          });
          check.check_memory(total_bytes.fetch_add(bytes) + bytes);
        });
        check.live_bytes += total_bytes.load();
        keep.push_back(std::move(*parts));
      } else {
        batches.resize(shards);
        ScanSink sink(scan, ctx, t, false);
        uint64_t n = 0, bytes = 0;
        size_t shard = 0, run = 0;
        snapshot(scan.collection_id, [&](const Row& row, int64_t diff) {
          uint64_t b = sink.add(row, diff, batches[shard]);
          bytes += b;
          if (b != 0 && ++run == kSerialRunRows) {
            run = 0;
            shard = (shard + 1) % shards;
          }
          if ((++n & kPollMask) == 0) {
            check.check_cancelled();
            check.check_memory(bytes);
          }
        });
        check.check_memory(bytes);
        check.live_bytes += bytes;
      }
      for (size_t i = 0; i < batches.size(); ++i)
        if (!batches[i].empty()) r.dataflow->push_to_shard(scan.node, i % shards, std::move(batches[i]));
    }
    batches.clear();
    r.dataflow->step(t, ctx);
  } catch (...) {
    // Cancelled, timed out or over budget: answer now, free the rows on the reaper thread.
    for (Batch& b : batches) destroy_in_background(std::move(b));
    destroy_in_background(std::move(r.dataflow));
    destroy_in_background(std::move(keep));
    throw;
  }
  Batch out = r.dataflow->take_output(r.output);
  std::vector<std::pair<Row, int64_t>> result;
  result.reserve(out.size());
  for (Update& u : out) result.emplace_back(std::move(u.row), u.diff);
  consolidate(result);
  return result;
}

}  // namespace freshet::dataflow
