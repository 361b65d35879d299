#include "dataflow/oneshot.hpp"

#include "dataflow/in_set.hpp"
#include "dataflow/initplan_fold.hpp"

#include <algorithm>
#include <bit>
#include <string_view>
#include <unordered_map>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "common/stack_guard.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/columns_needed.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/flat_index.hpp"
#include "dataflow/operators.hpp"
#include "dataflow/reaper.hpp"
#include "dataflow/render.hpp"
#include "dataflow/row_aggregator.hpp"
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
// Narrows `join` to the columns `used` (join column numbers): each scan input gets a Project
// onto its used columns (fused into the scan), other inputs keep all of theirs; the join's
// column types and equivalences follow. `map` gives each old join column's new position (for
// the columns kept). False, and `join` untouched, when nothing would be dropped.
bool narrow_scan_inputs(RelExpr& join, const std::vector<uint32_t>& used, std::vector<uint32_t>& map) {
  std::vector<bool> is_used(join.arity(), false);
  for (uint32_t c : used) is_used.at(c) = true;
  map.assign(join.arity(), 0);
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
  if (!narrowed) return false;
  join.column_types.clear();
  for (size_t i = 0; i < join.inputs.size(); ++i) {
    RelExpr& in = join.inputs[i];
    if (keep[i].size() < in.arity()) {
      RelExpr p;
      p.kind = RelKind::kProject;
      p.columns = keep[i];
      for (uint32_t c : keep[i]) p.column_types.push_back(in.column_types.at(c));
      p.inputs.push_back(std::move(in));
      in = std::move(p);
    }
    join.column_types.insert(join.column_types.end(), in.column_types.begin(), in.column_types.end());
  }
  for (auto& cls : join.equivalences)
    for (ScalarExpr& x : cls) remap_columns(x, map);
  return true;
}

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
  // Filters right above the join (a maintained join's residual predicates: Nexmark q4's
  // `b.date_time BETWEEN a.date_time AND a.expires`) read the join's columns: they stay,
  // remapped, between the reduce and the narrowed join.
  std::vector<std::vector<ScalarExpr>> filters;  // outermost first
  while (below->kind == RelKind::kFilter && below->inputs.size() == 1) {
    filters.push_back(below->exprs);
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
  for (const auto& f : filters)
    for (const ScalarExpr& x : f) collect_columns(x, used);
  std::vector<uint32_t> map;
  if (!narrow_scan_inputs(join, used, map)) return;
  RelExpr new_join = std::move(join);  // the Projects above it are folded into the reduce
  std::vector<uint32_t> full(through.size());
  for (uint32_t c = 0; c < through.size(); ++c) full[c] = map[through[c]];  // unused ones: never read
  remap_reduce_columns(e, full);
  for (size_t f = filters.size(); f-- > 0;) {
    RelExpr filter;
    filter.kind = RelKind::kFilter;
    filter.exprs = std::move(filters[f]);
    for (ScalarExpr& x : filter.exprs) remap_columns(x, map);
    filter.column_types = new_join.column_types;
    filter.inputs.push_back(std::move(new_join));
    new_join = std::move(filter);
  }
  e.inputs[0] = std::move(new_join);
}

// A Project over a Window over a join (Filters allowed above and below the Window: the
// "top k per group" shape of Nexmark q9) keeps the columns the Project, the Filters, the
// Window's partition, order and arguments and the join's equivalences read: every scan input
// of the join gets a Project onto those, so the join's arrangements and the Window's
// partitions hold narrow rows. The Window's output columns (after its input's) shift with
// its input's arity. Rows that differ only in dropped columns become one row with their
// multiplicities summed: the Window numbers its copies as it numbered the rows, and the
// Project above never showed the difference.
void project_window_join_inputs(RelExpr& e) {
  check_stack_depth();
  for (RelExpr& in : e.inputs) project_window_join_inputs(in);
  if (e.kind != RelKind::kProject || e.inputs.size() != 1) return;
  std::vector<RelExpr*> above, below;
  RelExpr* cur = &e.inputs[0];
  while (cur->kind == RelKind::kFilter && cur->inputs.size() == 1) {
    above.push_back(cur);
    cur = &cur->inputs[0];
  }
  if (cur->kind != RelKind::kWindow || cur->inputs.size() != 1) return;
  RelExpr& win = *cur;
  cur = &win.inputs[0];
  while (cur->kind == RelKind::kFilter && cur->inputs.size() == 1) {
    below.push_back(cur);
    cur = &cur->inputs[0];
  }
  if (cur->kind != RelKind::kJoin || cur->inputs.size() < 2) return;
  RelExpr& join = *cur;
  const uint32_t arity = static_cast<uint32_t>(join.arity());
  const uint32_t funcs = static_cast<uint32_t>(win.window_funcs.size());
  if (win.arity() != arity + funcs) return;
  std::vector<uint32_t> used, above_cols;
  for (uint32_t c : e.columns) above_cols.push_back(c);
  for (const RelExpr* f : above)
    for (const ScalarExpr& x : f->exprs) collect_columns(x, above_cols);
  for (uint32_t c : above_cols)
    if (c < arity) used.push_back(c);
  for (uint32_t c : win.group_columns) used.push_back(c);
  for (const SortKey& k : win.order_by) used.push_back(k.column);
  for (const WindowFunc& f : win.window_funcs)
    for (uint32_t c : f.args) used.push_back(c);
  for (const RelExpr* f : below)
    for (const ScalarExpr& x : f->exprs) collect_columns(x, used);
  for (const auto& cls : join.equivalences)
    for (const ScalarExpr& x : cls) collect_columns(x, used);
  std::vector<uint32_t> map;
  if (!narrow_scan_inputs(join, used, map)) return;
  // The filters below the window: the narrowed columns.
  for (RelExpr* f : below) {
    for (ScalarExpr& x : f->exprs) remap_columns(x, map);
    f->column_types = join.column_types;
  }
  // The window: its references, and its output (the input's columns, then the functions').
  for (uint32_t& c : win.group_columns) c = map.at(c);
  for (SortKey& k : win.order_by) k.column = map.at(k.column);
  for (WindowFunc& f : win.window_funcs)
    for (uint32_t& c : f.args) c = map.at(c);
  std::vector<Type> func_types(win.column_types.begin() + arity, win.column_types.end());
  win.column_types = join.column_types;
  win.column_types.insert(win.column_types.end(), func_types.begin(), func_types.end());
  std::vector<uint32_t> out_map(arity + funcs, 0);
  for (uint32_t c = 0; c < arity; ++c) out_map[c] = map[c];  // unused ones: never read
  const uint32_t kept = static_cast<uint32_t>(join.arity());  // the narrowed join's: the functions' columns follow
  for (uint32_t j = 0; j < funcs; ++j) out_map[arity + j] = kept + j;
  for (RelExpr* f : above) {
    for (ScalarExpr& x : f->exprs) remap_columns(x, out_map);
    f->column_types = win.column_types;
  }
  for (uint32_t& c : e.columns) c = out_map.at(c);
}

bool has_let_rec(const RelExpr& e) {
  if (e.kind == RelKind::kLetRec) return true;
  for (const RelExpr& in : e.inputs)
    if (has_let_rec(in)) return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// Scan aggregates: a Reduce over a scan, or over a star join of scans (one fact input, every
// other input joined to it by equalities on its own columns), aggregated while the fact
// input is read. Each part of the fact scan decodes its rows once, looks the other inputs up
// in hash tables built once from their (small) results, and feeds the joined datums straight
// into an aggregator of its own (RowAggregator): no batch of scanned or joined rows, no
// exchange of them, no second decode. Each part emits one row per group it saw; a Reduce
// above combines the parts (sum of counts and sums, min of mins, max of maxes; DISTINCT
// aggregates: each part emits its distinct values, and the original aggregate runs above).
// The parts' rows reach that Reduce as a collection of their own (a Get of a pseudo id).

// Pseudo collection ids: above every catalog id and every local id (2^40 and up).
constexpr uint64_t kScanAggregateIdBase = uint64_t{1} << 62;

struct StarInput {
  RelExpr expr;                      // a scan (a Map/Filter/Project chain over a Get)
  std::vector<ScalarExpr> fact_key;  // over the fact input's columns
  std::vector<ScalarExpr> own_key;   // over this input's columns, in the same order
  uint32_t offset = 0;               // of its columns in the joined row
};

struct ScanAggregate {
  uint64_t id = 0;        // the pseudo collection the combining Reduce reads
  RelExpr fact;           // the scan the parts read
  uint32_t fact_offset = 0;
  uint32_t joined_arity = 0;  // 0: no join (the fact row is the aggregated row)
  std::vector<StarInput> others;
  ReduceSpec spec;        // per part, over the joined row (inputs in the join's order)
};

// The Get under a scan's chain and the chain as MFP stages (innermost first).
uint64_t scan_chain(const RelExpr& e, std::vector<MfpStage>& stages) {
  std::vector<MfpStage> rev;
  const RelExpr* r = &e;
  while (r->kind == RelKind::kMap || r->kind == RelKind::kFilter || r->kind == RelKind::kProject) {
    MfpStage st;
    if (r->kind == RelKind::kMap) {
      st.kind = MfpStage::Kind::kMap;
      st.exprs = r->exprs;
    } else if (r->kind == RelKind::kFilter) {
      st.kind = MfpStage::Kind::kFilter;
      st.exprs = r->exprs;
    } else {
      st.kind = MfpStage::Kind::kProject;
      st.columns = r->columns;
    }
    rev.push_back(std::move(st));
    r = &r->inputs.at(0);
  }
  FRESHET_ASSERT(r->kind == RelKind::kGet);
  stages.assign(std::make_move_iterator(rev.rbegin()), std::make_move_iterator(rev.rend()));
  return r->collection_id;
}

bool reads_only(const ScalarExpr& e, uint32_t lo, uint32_t hi) {
  std::vector<uint32_t> cols;
  collect_columns(e, cols);
  for (uint32_t c : cols)
    if (c < lo || c >= hi) return false;
  return true;
}

// Whether the aggregates can be computed per part and combined above: count, sum of
// integers, numerics and intervals (not floats: the rounding would depend on the split),
// min and max, without DISTINCT or an ORDER BY inside (kind 1); or all DISTINCT over one
// same column, without a filter (kind 2). 0: neither.
int scan_aggregate_kind(const std::vector<AggregateExpr>& aggs) {
  bool all_distinct = !aggs.empty();
  for (const AggregateExpr& a : aggs) {
    all_distinct = all_distinct && a.distinct && !a.filter && a.order_exprs.empty() && a.kind != AggKind::kStringAgg &&
                   a.kind != AggKind::kJsonbObjectAgg &&
                   a.kind != AggKind::kCountStar && a.arg.kind == ScalarKind::kColumn &&
                   aggs[0].arg.kind == ScalarKind::kColumn && a.arg.column == aggs[0].arg.column;
  }
  if (all_distinct) return 2;
  for (const AggregateExpr& a : aggs) {
    if (a.distinct || !a.order_exprs.empty()) return 0;
    switch (a.kind) {
      case AggKind::kCountStar:
      case AggKind::kCount:
      case AggKind::kMin:
      case AggKind::kMax:
        break;
      case AggKind::kSum:
        if (!is_integer_type(a.arg.type.id) && a.arg.type.id != TypeId::kNumeric && a.arg.type.id != TypeId::kInterval)
          return 0;
        break;
      default:
        return 0;
    }
  }
  return 1;
}

// Rewrites every Reduce that a scan aggregate can compute (see above) into a Reduce over a
// pseudo Get, and describes how to compute that Get in `out`. Not inside a kLetRec (its
// bindings are read once per iteration).
void plan_scan_aggregates(RelExpr& e, std::vector<ScanAggregate>& out) {
  check_stack_depth();
  if (e.kind == RelKind::kLetRec) return;
  for (RelExpr& in : e.inputs) plan_scan_aggregates(in, out);
  if (e.kind != RelKind::kReduce || e.inputs.size() != 1) return;
  const int kind = scan_aggregate_kind(e.aggregates);
  if (kind == 0) return;
  ScanAggregate sa;
  ReduceSpec inner{e.group_key, e.aggregates, /*append_only=*/true};
  if (is_scan(e.inputs[0])) {
    sa.fact = e.inputs[0];
  } else {
    // Projects between the Reduce and the Join fold into the Reduce's column references.
    std::vector<const RelExpr*> projects;
    const RelExpr* below = &e.inputs[0];
    while (below->kind == RelKind::kProject && below->inputs.size() == 1) {
      projects.push_back(below);
      below = &below->inputs[0];
    }
    if (below->kind != RelKind::kJoin || below->inputs.size() < 2) return;
    const RelExpr& join = *below;
    const size_t n = join.inputs.size();
    for (const RelExpr& in : join.inputs)
      if (!is_scan(in)) return;
    std::vector<uint32_t> offsets(n + 1, 0);
    for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + static_cast<uint32_t>(join.inputs[i].arity());
    std::vector<uint32_t> through(e.inputs[0].arity());
    for (uint32_t c = 0; c < through.size(); ++c) {
      uint32_t x = c;
      for (const RelExpr* p : projects) x = p->columns.at(x);
      through[c] = x;
    }
    // The inner spec reads the join's columns.
    RelExpr probe;
    probe.group_key = e.group_key;
    probe.aggregates = e.aggregates;
    remap_reduce_columns(probe, through);
    inner.group_key = probe.group_key;
    inner.aggregates = probe.aggregates;
    auto input_of = [&](uint32_t col) {
      return static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), col) - offsets.begin() - 1);
    };
    // The fact input: the one the aggregates read (all of them), else the one the group key
    // does not read, when that is a single input.
    std::vector<bool> agg_reads(n, false), key_reads(n, false);
    {
      std::vector<uint32_t> cols;
      for (const AggregateExpr& a : inner.aggregates) {
        collect_columns(a.arg, cols);
        if (a.filter) collect_columns(*a.filter, cols);
      }
      for (uint32_t c : cols) agg_reads[input_of(c)] = true;
      cols.clear();
      for (const ScalarExpr& k : inner.group_key) collect_columns(k, cols);
      for (uint32_t c : cols) key_reads[input_of(c)] = true;
    }
    size_t fact = n;
    if (std::count(agg_reads.begin(), agg_reads.end(), true) == 1) {
      fact = static_cast<size_t>(std::find(agg_reads.begin(), agg_reads.end(), true) - agg_reads.begin());
    } else if (std::count(agg_reads.begin(), agg_reads.end(), true) == 0 &&
               std::count(key_reads.begin(), key_reads.end(), false) == 1) {
      fact = static_cast<size_t>(std::find(key_reads.begin(), key_reads.end(), false) - key_reads.begin());
    }
    if (fact == n) return;
    // Every equivalence class: one expression over the fact input, the others over one
    // other input each (a star); anything else (a constant, a chain of other inputs, two
    // columns of one input) is left to the join operators.
    std::vector<StarInput> others(n);
    for (const auto& cls : join.equivalences) {
      const ScalarExpr* rep = nullptr;
      std::vector<std::pair<size_t, const ScalarExpr*>> rest;
      for (const ScalarExpr& x : cls) {
        std::vector<uint32_t> cols;
        collect_columns(x, cols);
        if (cols.empty()) return;
        const size_t in = input_of(cols[0]);
        if (!reads_only(x, offsets[in], offsets[in + 1])) return;
        if (in == fact) {
          if (rep != nullptr) return;
          rep = &x;
        } else {
          for (const auto& [j, y] : rest)
            if (j == in) return;
          rest.emplace_back(in, &x);
        }
      }
      if (rep == nullptr) return;
      for (const auto& [j, y] : rest) {
        others[j].fact_key.push_back(shift_columns(*rep, -static_cast<int64_t>(offsets[fact])));
        others[j].own_key.push_back(shift_columns(*y, -static_cast<int64_t>(offsets[j])));
      }
    }
    for (size_t i = 0; i < n; ++i) {
      if (i == fact) continue;
      if (others[i].own_key.empty()) return;  // a cross product: left to the join
      others[i].expr = join.inputs[i];
      others[i].offset = offsets[i];
      sa.others.push_back(std::move(others[i]));
    }
    sa.fact = join.inputs[fact];
    sa.fact_offset = offsets[fact];
    sa.joined_arity = offsets[n];
  }
  // The combining Reduce over the parts' rows: (key columns, one column per aggregate) for
  // kind 1, (key columns, the distinct argument) for kind 2.
  const uint32_t k = static_cast<uint32_t>(e.group_key.size());
  RelExpr get;
  get.kind = RelKind::kGet;
  sa.id = kScanAggregateIdBase + out.size();
  get.collection_id = sa.id;
  for (const ScalarExpr& g : e.group_key) get.column_types.push_back(g.type);
  std::vector<ScalarExpr> outer_key;
  for (uint32_t i = 0; i < k; ++i) outer_key.push_back(ScalarExpr::column_ref(i, e.group_key[i].type));
  std::vector<AggregateExpr> outer_aggs;
  if (kind == 2) {
    const Type t = inner.aggregates[0].arg.type;
    inner.group_key.push_back(inner.aggregates[0].arg);
    inner.aggregates.clear();
    get.column_types.push_back(t);
    for (AggregateExpr a : e.aggregates) {
      a.arg = ScalarExpr::column_ref(k, t);
      outer_aggs.push_back(std::move(a));
    }
  } else {
    for (uint32_t i = 0; i < e.aggregates.size(); ++i) {
      const AggregateExpr& a = e.aggregates[i];
      get.column_types.push_back(a.result_type);
      AggregateExpr o;
      o.kind = a.kind == AggKind::kMin || a.kind == AggKind::kMax ? a.kind : AggKind::kSum;
      o.arg = ScalarExpr::column_ref(k + i, a.result_type);
      o.result_type = a.result_type;
      outer_aggs.push_back(std::move(o));
    }
  }
  sa.spec = std::move(inner);
  e.group_key = std::move(outer_key);
  e.aggregates = std::move(outer_aggs);
  e.inputs.clear();
  e.inputs.push_back(std::move(get));
  out.push_back(std::move(sa));
}

// Reads a scan's rows through its chain and hands over the resulting datums (no packed row
// unless a Map makes one): filters then at most one projection are evaluated over the row's
// prefix up to the last column read, as ScanSink does. One per thread.
class ScanReader {
 public:
  // need: how many leading columns of the chain's output the caller reads.
  ScanReader(std::vector<MfpStage> stages, const EvalContext& ctx, size_t need)
      : program_(stages), eval_(ctx) {
    eval_.arena = &arena_;
    simple_ = true;
    for (size_t i = 0; i < stages.size() && simple_; ++i) {
      const MfpStage& st = stages[i];
      if (st.kind == MfpStage::Kind::kFilter) {
        for (const ScalarExpr& e : st.exprs) {
          predicates_.push_back(e);
          prefix_ = std::max(prefix_, columns_needed(e));
        }
      } else if (st.kind == MfpStage::Kind::kProject && i + 1 == stages.size()) {
        project_ = st.columns;
        has_project_ = true;
        for (uint32_t c : st.columns) prefix_ = std::max(prefix_, static_cast<size_t>(c) + 1);
      } else {
        simple_ = false;
      }
    }
    if (!has_project_) prefix_ = std::max(prefix_, need);
  }
  // False when a filter rejects the row; else `out` holds the chain's output datums (at least
  // `need` of them), valid until the next call.
  bool read(RowRef row, std::span<const Datum>& out) {
    arena_.reset();
    datums_.clear();
    if (!simple_) {
      RowRef result;
      if (!program_.apply(row, eval_, result)) return false;
      result.unpack_into(datums_);
      out = datums_;
      return true;
    }
    unpack_prefix_into(row, datums_, prefix_);
    for (const ScalarExpr& p : predicates_)
      if (!eval_predicate(p, datums_, eval_)) return false;
    if (!has_project_) {
      out = datums_;
      return true;
    }
    projected_.clear();
    for (uint32_t c : project_) projected_.push_back(datums_[c]);
    out = projected_;
    return true;
  }
  // For merging equal rows: the packed bytes of the first `width` datums of the chain's output
  // (what RowPacker gives for them), in `key`, valid until the next call. A chain without
  // filters that is at most a projection of columns (count_sum's `(qty, price)`, monthly's
  // `(sold_at, qty)`) slices them out of the row without decoding a datum (packing is
  // canonical: column_offsets); other chains decode and pack. False when a filter rejects
  // the row. REQUIRES: the same width on every call.
  bool read_key(RowRef row, size_t width, std::string& scratch, std::string_view& key) {
    if (simple_ && predicates_.empty()) {
      if (key_cols_.empty() && width > 0) {
        for (size_t i = 0; i < width; ++i)
          key_cols_.push_back(has_project_ ? project_.at(i) : static_cast<uint32_t>(i));
        contiguous_ = true;
        for (size_t i = 1; i < width; ++i) contiguous_ = contiguous_ && key_cols_[i] == key_cols_[0] + i;
        size_t hi = 0;
        for (uint32_t c : key_cols_) hi = std::max(hi, static_cast<size_t>(c) + 1);
        offsets_.resize(hi + 1);
      }
      if (width == 0) {
        key = {};
        return true;
      }
      const size_t hi = offsets_.size() - 1;
      if (column_offsets(row, hi, offsets_.data()) == hi) {
        const std::string_view b = row.bytes();
        if (contiguous_) {
          key = b.substr(offsets_[key_cols_[0]], offsets_[key_cols_[0] + width] - offsets_[key_cols_[0]]);
          return true;
        }
        scratch.clear();
        for (uint32_t c : key_cols_) scratch.append(b.substr(offsets_[c], offsets_[c + 1] - offsets_[c]));
        key = scratch;
        return true;
      }
      // A row shorter than the columns read (not a table's row): decoded as below.
    }
    std::span<const Datum> r;
    if (!read(row, r)) return false;
    FRESHET_ASSERT(r.size() >= width);
    scratch.clear();
    RowPacker packer(scratch);
    for (size_t i = 0; i < width; ++i) packer.push(r[i]);
    key = scratch;
    return true;
  }

 private:
  Arena arena_;
  MfpProgram program_;
  EvalContext eval_;
  bool simple_ = true;
  bool has_project_ = false;
  size_t prefix_ = 0;
  std::vector<ScalarExpr> predicates_;
  std::vector<uint32_t> project_;
  std::vector<Datum> datums_, projected_;
  // read_key's columns of the row, whether they are one ascending run, and their offsets.
  std::vector<uint32_t> key_cols_;
  bool contiguous_ = false;
  std::vector<uint32_t> offsets_;
};

struct TransparentHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return hash_bytes(s); }
};

// One non-fact input of a star: its rows, decoded into one flat array, found by join key
// through flat arrays (a probe per fact row costs a few cache misses, not a walk through
// nodes and vectors): a direct array indexed by the key when it is one integer over a dense
// range (a serial primary key), else an open-addressing table of canonical key bytes.
class StarTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  std::vector<std::pair<Row, int64_t>> rows;
  size_t arity = 0;
  std::vector<Datum> datums;  // row i at [i * arity, (i + 1) * arity); point into rows' bytes

  // REQUIRES: rows and datums filled; keys[i] the canonical key of row i (nullopt: NULL),
  // ints[i] its value when every key is one integer.
  void build(const std::vector<std::optional<std::string_view>>& keys, const std::vector<std::optional<int64_t>>& ints,
             bool int_keys) {
    next_.assign(rows.size(), kNone);
    int_keys_ = int_keys;
    if (int_keys) {
      int64_t lo = INT64_MAX, hi = INT64_MIN;
      for (const auto& v : ints)
        if (v) {
          lo = std::min(lo, *v);
          hi = std::max(hi, *v);
        }
      const unsigned __int128 range = lo > hi ? 0 : static_cast<unsigned __int128>(static_cast<__int128>(hi) - lo) + 1;
      if (range <= 4 * static_cast<unsigned __int128>(rows.size()) + 1024) {
        dense_ = true;
        lo_ = lo;
        direct_.assign(static_cast<size_t>(range), kNone);
        for (uint32_t i = 0; i < rows.size(); ++i) {
          if (!ints[i]) continue;
          uint32_t& head = direct_[static_cast<size_t>(*ints[i] - lo)];
          next_[i] = head;
          head = i;
        }
        return;
      }
      // Sparse integers: hashed by their canonical bytes.
      std::vector<std::optional<std::string_view>> int_bytes(rows.size());
      std::string kb;
      for (uint32_t i = 0; i < rows.size(); ++i) {
        if (!ints[i]) continue;
        kb.clear();
        Datum d = Datum::from_int(*ints[i]);
        append_canonical_key(std::span<const Datum>(&d, 1), kb);
        int_bytes[i] = key_arena.copy(kb);
      }
      build_hashed(int_bytes);
      return;
    }
    build_hashed(keys);
  }
  void build_hashed(const std::vector<std::optional<std::string_view>>& keys) {
    const size_t cap = std::bit_ceil(std::max<size_t>(16, rows.size() * 2));
    mask_ = cap - 1;
    heads_.assign(cap, kNone);
    hashes_.assign(rows.size(), 0);
    keys_.assign(rows.size(), std::string_view());
    for (uint32_t i = 0; i < rows.size(); ++i) {
      if (!keys[i]) continue;
      keys_[i] = *keys[i];
      const uint64_t h = hash_bytes(*keys[i]);
      hashes_[i] = h;
      size_t pos = h & mask_;
      while (heads_[pos] != kNone && (hashes_[heads_[pos]] != h || keys_[heads_[pos]] != keys_[i])) pos = (pos + 1) & mask_;
      next_[i] = heads_[pos];
      heads_[pos] = i;
    }
  }
  bool int_keys() const { return int_keys_; }
  // The first row with this key (kNone: none); the others through next().
  uint32_t find_int(int64_t v) const {
    if (dense_) {
      if (v < lo_ || static_cast<uint64_t>(v - lo_) >= direct_.size()) return kNone;
      return direct_[static_cast<size_t>(v - lo_)];
    }
    std::string key;
    Datum d = Datum::from_int(v);
    append_canonical_key(std::span<const Datum>(&d, 1), key);
    return find(key);
  }
  uint32_t find(std::string_view key) const {
    if (heads_.empty()) return kNone;
    const uint64_t h = hash_bytes(key);
    size_t pos = h & mask_;
    while (heads_[pos] != kNone && (hashes_[heads_[pos]] != h || keys_[heads_[pos]] != key)) pos = (pos + 1) & mask_;
    return heads_[pos];
  }
  uint32_t next(uint32_t i) const { return next_[i]; }

 private:
  bool int_keys_ = false, dense_ = false;
  int64_t lo_ = 0;
  std::vector<uint32_t> direct_;  // dense: key - lo_ -> first row
  size_t mask_ = 0;
  std::vector<uint32_t> heads_;   // open addressing: first row of each distinct key
  std::vector<uint64_t> hashes_;
  std::vector<std::string_view> keys_;  // canonical keys (in key_arena)
  std::vector<uint32_t> next_;    // the next row with the same key
 public:
  Arena key_arena;
};

// Canonical key bytes of `key` evaluated over `row`; false when a part is NULL (joins nothing).
bool star_key(const std::vector<ScalarExpr>& key, std::span<const Datum> row, EvalContext& ev,
              std::vector<Datum>& scratch, std::string& bytes) {
  scratch.clear();
  for (const ScalarExpr& x : key) {
    Datum d = eval(x, row, ev);
    if (d.is_null()) return false;
    scratch.push_back(d);
  }
  bytes.clear();
  append_canonical_key(scratch, bytes);
  return true;
}

// Computes a scan aggregate's rows: one batch per part of the fact scan.
// A retraction in what a scan aggregate reads (a transaction block's own deletes of the rows it
// reads): the query runs again without scan aggregates (run_oneshot).
struct ScanAggregateRetraction {};

std::vector<Batch> run_scan_aggregate(const ScanAggregate& sa, const SnapshotFn& snapshot, EvalContext& ctx,
                                      const StepLimits& limits, const PartitionFn& partition, size_t shards,
                                      StepContext& check, std::vector<PartitionedSnapshot>& keep) {
  const uint64_t t = ctx.logical_time_ms;
  // The other inputs, each computed whole (a one-shot query of its own) and hashed by key.
  std::vector<std::unique_ptr<StarTable>> tables;
  uint64_t table_bytes = 0;
  for (const StarInput& in : sa.others) {
    auto tab = std::make_unique<StarTable>();
    tab->rows = run_oneshot(in.expr, snapshot, ctx, limits, partition);
    tab->arity = in.expr.arity();
    tab->datums.reserve(tab->rows.size() * tab->arity);
    Arena arena;
    EvalContext ev = ctx;
    ev.arena = &arena;
    std::vector<Datum> scratch;
    std::string kb;
    // One integer key on both sides: compared by value (the canonical form of an integer
    // is its value whatever its width).
    const bool int_keys = in.own_key.size() == 1 && is_integer_type(in.own_key[0].type.id) &&
                          is_integer_type(in.fact_key[0].type.id);
    std::vector<std::optional<std::string_view>> keys(tab->rows.size());
    std::vector<std::optional<int64_t>> ints(int_keys ? tab->rows.size() : 0);
    for (uint32_t i = 0; i < tab->rows.size(); ++i) {
      const Row& r = tab->rows[i].first;
      if (tab->rows[i].second <= 0) throw ScanAggregateRetraction{};
      const size_t at = tab->datums.size();
      r.ref().unpack_into(tab->datums);
      FRESHET_ASSERT(tab->datums.size() == at + tab->arity);
      table_bytes += r.bytes().size() + sizeof(Datum) * tab->arity + 64;
      std::span<const Datum> row(tab->datums.data() + at, tab->arity);
      if (int_keys) {
        Datum d = eval(in.own_key[0], row, ev);
        if (!d.is_null()) ints[i] = d.as_int();
      } else if (star_key(in.own_key, row, ev, scratch, kb)) {
        keys[i] = tab->key_arena.copy(kb);
      }
      arena.reset();
    }
    tab->build(keys, ints, int_keys);
    check.check_memory(table_bytes);
    tables.push_back(std::move(tab));
  }
  check.live_bytes += table_bytes;
  std::vector<MfpStage> stages;
  const uint64_t fact_id = scan_chain(sa.fact, stages);
  const size_t fact_arity = sa.fact.arity();
  std::atomic<uint64_t> total_bytes{0};
  // Groups found per dimension row instead of per fact row: when the group key is plain
  // columns of other inputs only (revenue_by_region's `c.region`, region_x_category_h2's
  // `c.region, p.category`), a joined row's group depends only on the rows of those "key
  // inputs" it joined. Each key input's row gets an id: its index when it is the only key
  // input, else a dense id of its key columns' bytes (equal bytes, equal group); a joined
  // row's combination of ids (mixed radix) indexes a per-part array of group slots, filled
  // on a combination's first row by the aggregator's own lookup (so ids that differ in bytes
  // but not as keys, 1.5 and 1.50, still share the group). Off (every joined row looked up)
  // when the combinations pass kMaxKeyCombos.
  constexpr uint64_t kMaxKeyCombos = uint64_t{1} << 20;
  std::vector<size_t> key_inputs;                 // ascending
  std::vector<std::vector<uint32_t>> key_ids;     // by key input: row -> id
  std::vector<uint64_t> key_stride;               // by key input
  uint64_t key_combos = 0;
  if (!sa.others.empty() && !sa.spec.group_key.empty()) {
    bool ok = true;
    std::vector<std::vector<uint32_t>> key_cols(sa.others.size());  // relative to each input
    for (const ScalarExpr& e : sa.spec.group_key) {
      if (e.kind != ScalarKind::kColumn) {
        ok = false;
        break;
      }
      bool found = false;
      for (size_t k = 0; k < sa.others.size() && !found; ++k) {
        const uint32_t lo = sa.others[k].offset, hi = lo + static_cast<uint32_t>(tables[k]->arity);
        if (e.column >= lo && e.column < hi) {
          key_cols[k].push_back(e.column - lo);
          found = true;
        }
      }
      ok = ok && found;  // a column of the fact: per fact row
    }
    for (size_t k = 0; ok && k < sa.others.size(); ++k)
      if (!key_cols[k].empty()) key_inputs.push_back(k);
    uint64_t combos = 1;
    for (size_t j = 0; ok && j < key_inputs.size(); ++j) {
      const StarTable& tab = *tables[key_inputs[j]];
      std::vector<uint32_t> ids(tab.rows.size());
      uint64_t distinct = tab.rows.size();
      if (key_inputs.size() == 1) {
        for (uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
      } else {
        FlatKeyIndex values;
        std::string b;
        for (uint32_t i = 0; i < ids.size(); ++i) {
          b.clear();
          RowPacker packer(b);
          for (uint32_t c : key_cols[key_inputs[j]]) packer.push(tab.datums[i * tab.arity + c]);
          ids[i] = values.insert(b, {}).first;
        }
        distinct = values.size();
      }
      key_stride.push_back(combos);
      if (distinct > 0 && combos > kMaxKeyCombos / distinct) ok = false;
      combos *= std::max<uint64_t>(distinct, 1);
      key_ids.push_back(std::move(ids));
    }
    if (ok && !key_inputs.empty()) key_combos = combos;
    for (const auto& ids : key_ids) check.live_bytes += ids.size() * sizeof(uint32_t);
  }
  // One part: reads its rows, joins them, aggregates them, emits its groups into `out`.
  auto part = [&](const std::function<void(const std::function<void(RowRef, int64_t)>&)>& scan, Batch& out) {
    std::unique_ptr<RowAggregator> agg = make_row_aggregator(sa.spec);
    const size_t need = sa.others.empty() ? agg->input_prefix() : fact_arity;
    ScanReader reader(stages, ctx, need);
    Arena arena, key_arena;
    EvalContext ev = ctx, kev = ctx;
    ev.arena = &arena;
    kev.arena = &key_arena;
    std::vector<Datum> joined(sa.joined_arity), scratch;
    std::string kb;
    uint64_t n = 0, held = 0, joined_rows = 0;
    std::span<const Datum> f;
    // By combination of the key inputs' row ids: the group slot (kNone until the first joined
    // row). Slots are stable until the aggregator's emit, after the scan.
    std::vector<uint32_t> slot_of(key_combos, StarTable::kNone);
    std::vector<uint32_t> chosen(sa.others.size(), StarTable::kNone);  // each input's row joined
    // Joins the fact row (already in `joined`) with input k onwards, then aggregates.
    std::function<void(size_t, int64_t)> join_from = [&](size_t k, int64_t diff) {
      if (k == sa.others.size()) {
        // Joined rows are polled too: duplicate keys on the other side multiply them.
        if ((++joined_rows & kPollMask) == 0) check.check_cancelled();
        if (key_combos == 0) {
          agg->add_row(joined, diff, ev);
          return;
        }
        uint64_t combo = 0;
        for (size_t j = 0; j < key_inputs.size(); ++j) combo += key_ids[j][chosen[key_inputs[j]]] * key_stride[j];
        uint32_t& slot = slot_of[combo];
        if (slot == StarTable::kNone) {
          // The first row of this combination: the key inputs' datums for the lookup.
          for (size_t ki : key_inputs) {
            const StarTable& kt = *tables[ki];
            std::copy_n(kt.datums.begin() + static_cast<std::ptrdiff_t>(chosen[ki] * kt.arity), kt.arity,
                        joined.begin() + sa.others[ki].offset);
          }
          slot = agg->group_slot(joined, ev);
        }
        agg->add_to_group(slot, joined, diff, ev);
        return;
      }
      const StarInput& in = sa.others[k];
      const StarTable& tab = *tables[k];
      uint32_t first;
      if (tab.int_keys()) {
        Datum d = eval(in.fact_key[0], f, kev);
        key_arena.reset();
        if (d.is_null()) return;
        first = tab.find_int(d.as_int());
      } else {
        bool ok = star_key(in.fact_key, f, kev, scratch, kb);
        key_arena.reset();
        if (!ok) return;
        first = tab.find(kb);
      }
      for (uint32_t i = first; i != StarTable::kNone; i = tab.next(i)) {
        // With groups found per key inputs' rows, nothing reads the other inputs' columns of
        // the joined row per fact row (the aggregates read the fact's only; the key inputs'
        // datums are copied in above on a combination's first row): no copy here.
        if (key_combos == 0)
          std::copy_n(tab.datums.begin() + static_cast<std::ptrdiff_t>(i * tab.arity), tab.arity,
                      joined.begin() + in.offset);
        int64_t both;
        if (__builtin_mul_overflow(diff, tab.rows[i].second, &both))
          throw SqlError(sqlstate::kNumericValueOutOfRange, "multiplicity out of range");
        chosen[k] = i;
        join_from(k + 1, both);
      }
    };
    // The fact row's datums (the first `width` of them) go to the join and the aggregator.
    const size_t width = sa.others.empty() ? need : fact_arity;
    auto consume = [&](std::span<const Datum> row, int64_t diff) {
      if (sa.others.empty()) {
        agg->add_row(row, diff, ev);
        return;
      }
      FRESHET_ASSERT(row.size() >= fact_arity);
      f = row;
      std::copy(row.begin(), row.begin() + static_cast<std::ptrdiff_t>(fact_arity), joined.begin() + sa.fact_offset);
      join_from(0, diff);
    };
    // Adaptive consolidation, as ScanSink's: equal fact rows (on the columns read) are counted
    // once and aggregated once with their summed count, which is cheaper than evaluating the
    // key and the aggregates' expressions per row when values repeat (a month and a quantity);
    // given up (the counted rows handed on) when more than one row in
    // kConsolidateMaxDistinct is new at kConsolidateProbeRows rows and every doubling.
    bool consolidating = true;
    size_t offered = 0, next_check = kConsolidateProbeRows;
    FlatKeyIndex seen;              // the distinct rows (their packed bytes) -> slot
    std::vector<int64_t> counts;    // by slot: the summed diffs
    std::string key_bytes;
    std::vector<Datum> unpacked;
    auto flush = [&] {
      for (uint32_t slot = 0; slot < counts.size(); ++slot) {
        unpacked.clear();
        RowRef(seen.key(slot)).unpack_into(unpacked);
        if ((++n & kPollMask) == 0) check.check_cancelled();
        consume(unpacked, counts[slot]);
      }
      counts = {};
      seen = FlatKeyIndex{};
    };
    scan([&](RowRef row, int64_t diff) {
      if ((++n & kPollMask) == 0) {
        check.check_cancelled();
        const uint64_t now = agg->held_bytes() + seen.size_bytes() + counts.capacity() * sizeof(int64_t) +
                             slot_of.capacity() * sizeof(uint32_t);
        check.check_memory(total_bytes.fetch_add(now - held) + now - held);
        held = now;
      }
      if (diff <= 0) throw ScanAggregateRetraction{};
      if (!consolidating) {
        std::span<const Datum> r;
        if (!reader.read(row, r)) return;
        consume(r, diff);
        return;
      }
      std::string_view key;
      if (!reader.read_key(row, width, key_bytes, key)) return;
      auto [slot, inserted] = seen.insert(key, {});
      if (inserted) {
        counts.push_back(diff);
      } else {
        int64_t& c = counts[slot];
        if (__builtin_add_overflow(c, diff, &c)) throw SqlError(sqlstate::kNumericValueOutOfRange, "multiplicity out of range");
      }
      if (++offered >= next_check) {
        next_check *= 2;
        if (counts.size() * kConsolidateMaxDistinct > offered) {
          consolidating = false;
          flush();
        }
      }
    });
    if (consolidating) flush();
    agg->emit(t, ev, out);
  };
  std::vector<Batch> batches;
  std::optional<PartitionedSnapshot> parts;
  if (partition) parts = partition(fact_id, shards);
  if (parts && parts->parts > 0 && parts->scan) {
    batches.resize(parts->parts);
    const PartitionedSnapshot& ps = *parts;
    WorkerPool::global().run(ps.parts, [&](size_t p) {
      part([&](const std::function<void(RowRef, int64_t)>& emit) { ps.scan(p, emit); }, batches[p]);
    });
    keep.push_back(std::move(*parts));
  } else {
    batches.resize(1);
    part(
        [&](const std::function<void(RowRef, int64_t)>& emit) {
          snapshot(fact_id, [&](const Row& r, int64_t d) { emit(r.ref(), d); });
        },
        batches[0]);
  }
  check.live_bytes += total_bytes.load();
  return batches;
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

namespace {
std::vector<std::pair<Row, int64_t>> run_oneshot_with(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                      const StepLimits& limits, const PartitionFn& partition, bool scan_aggregates);
}  // namespace

namespace {
// Evaluates the subplan of every kInSet (IN sets and initplans, dataflow/in_set.hpp) in plan's
// expressions once (a subplan's own by the recursive run) and stores its values in the
// expression. An evaluation
// error of the data (class 21 or 22: division by zero, a scalar subquery's second row) is
// kept and raised by the first probe, as PostgreSQL raises it only when a row first runs the
// subplan; cancellation, timeouts and budgets are raised at once.
void evaluate_in_sets(RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx, const StepLimits& limits,
                      const PartitionFn& partition) {
  std::unordered_map<const RelExpr*, std::shared_ptr<const InSetValues>> done;
  for_each_in_set(plan, [&](ScalarExpr& s) {
    if (s.in_set != nullptr || s.subplan == nullptr) return;
    auto& slot = done[s.subplan.get()];
    if (slot == nullptr) {
      auto values = std::make_shared<InSetValues>();
      try {
        std::vector<std::pair<Row, int64_t>> rows = run_oneshot(*s.subplan, snapshot, ctx, limits, partition);
        if (s.column == kInSetValue || s.column == kInSetExists) {
          // The first two rows tell a value from none and from too many.
          for (auto& [r, n] : rows)
            for (int64_t i = 0; i < n && values->values.size() < 2; ++i) values->values.push_back(r);
          slot = std::move(values);
          s.in_set = slot;
          return;
        }
        for (auto& [r, n] : rows) {
          if (n <= 0) continue;
          if (r.get(0).is_null()) values->has_null = true;
          else values->values.push_back(std::move(r));
        }
        auto less = [](const Row& a, const Row& b) { return compare_datums(a.get(0), b.get(0)) < 0; };
        std::sort(values->values.begin(), values->values.end(), less);
        auto eq = [](const Row& a, const Row& b) { return compare_datums(a.get(0), b.get(0)) == 0; };
        values->values.erase(std::unique(values->values.begin(), values->values.end(), eq), values->values.end());
      } catch (const SqlError& e) {
        if (e.sqlstate().rfind("22", 0) != 0 && e.sqlstate().rfind("21", 0) != 0) throw;
        values->values.clear();
        values->error = std::current_exception();
      }
      slot = std::move(values);
    }
    s.in_set = slot;
  });
}
}  // namespace

void run_initplans(RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx, const StepLimits& limits,
                   const PartitionFn& partition) {
  evaluate_in_sets(plan, snapshot, ctx, limits, partition);
  fold_initplans(plan);
}

std::vector<std::pair<Row, int64_t>> run_oneshot(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                 const StepLimits& limits, const PartitionFn& partition) {
  bool has_in_set = false;  // and not yet evaluated
  for_each_in_set(plan, [&](const ScalarExpr& s) { has_in_set = has_in_set || s.in_set == nullptr; });
  std::optional<RelExpr> with_sets;
  if (has_in_set) {
    with_sets = plan;
    run_initplans(*with_sets, snapshot, ctx, limits, partition);
  }
  const RelExpr& p = with_sets ? *with_sets : plan;
  try {
    return run_oneshot_with(p, snapshot, ctx, limits, partition, true);
  } catch (const ScanAggregateRetraction&) {
    return run_oneshot_with(p, snapshot, ctx, limits, partition, false);
  }
}

namespace {
std::vector<std::pair<Row, int64_t>> run_oneshot_with(const RelExpr& plan, const SnapshotFn& snapshot, EvalContext& ctx,
                                                      const StepLimits& limits, const PartitionFn& partition, bool scan_aggregates) {
  RenderOptions opts;
  opts.keep_state = false;
  opts.limits = limits;
  opts.workers = 0;  // sharded over --workers
  opts.fuse_scans = true;
  opts.partial_aggregates = true;
  RelExpr projected = plan;
  project_reduce_inputs(projected);
  project_join_inputs(projected);
  std::vector<ScanAggregate> scan_aggs;
  if (scan_aggregates) plan_scan_aggregates(projected, scan_aggs);
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
      if (scan.collection_id >= kScanAggregateIdBase) {
        FRESHET_ASSERT(scan.stages.empty());
        batches = run_scan_aggregate(scan_aggs.at(scan.collection_id - kScanAggregateIdBase), snapshot, ctx,
                                     limits, partition, shards, check, keep);
      } else if (partition) {
        parts = partition(scan.collection_id, shards);
      }
      if (scan.collection_id >= kScanAggregateIdBase) {
        // computed above
      } else if (parts && parts->parts > 0 && parts->scan) {
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
}  // namespace

void narrow_join_inputs(RelExpr& plan) {
  if (has_let_rec(plan)) return;
  project_join_inputs(plan);
  project_window_join_inputs(plan);
}

}  // namespace freshet::dataflow
