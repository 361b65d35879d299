#include "dataflow/render.hpp"
#include "dataflow/eval.hpp"

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <tuple>

#include "common/error.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/delta_join.hpp"
#include "dataflow/join_reduce.hpp"
#include "dataflow/operators.hpp"
#include "dataflow/recursion.hpp"
#include "dataflow/workers.hpp"

namespace freshet::dataflow {

void collect_columns(const ScalarExpr& e, std::vector<uint32_t>& out) {
  if (e.kind == ScalarKind::kColumn) out.push_back(e.column);
  for (const ScalarExpr& a : e.args) collect_columns(a, out);
}

ScalarExpr shift_columns(const ScalarExpr& e, int64_t delta) {
  ScalarExpr r = e;
  struct Walk {
    int64_t delta;
    void operator()(ScalarExpr& x) const {
      if (x.kind == ScalarKind::kColumn) {
        int64_t c = static_cast<int64_t>(x.column) + delta;
        FRESHET_ASSERT(c >= 0);
        x.column = static_cast<uint32_t>(c);
      }
      for (ScalarExpr& a : x.args) (*this)(a);
    }
  };
  Walk{delta}(r);
  return r;
}

std::atomic<bool>& join_reduce_enabled() {
  static std::atomic<bool> enabled{[] {
    const char* v = std::getenv("FRESHET_JOIN_REDUCE");
    return v == nullptr || std::string_view(v) != "off";
  }()};
  return enabled;
}

namespace {

// e with each column c replaced by column map[c].
ScalarExpr map_columns(const ScalarExpr& e, const std::vector<uint32_t>& map) {
  ScalarExpr r = e;
  struct Walk {
    const std::vector<uint32_t>& map;
    void operator()(ScalarExpr& x) const {
      if (x.kind == ScalarKind::kColumn) x.column = map.at(x.column);
      for (ScalarExpr& a : x.args) (*this)(a);
    }
  };
  Walk{map}(r);
  return r;
}

// The row limit a filter right above a window gives it (WindowSpec::row_limit): a conjunct
// `#c <= k`, `#c < k` or `#c = k` (or the literal on the left) where #c is a row_number()
// output of the window and every function of the window is row_number, rank or dense_rank
// (their values at a position read only the positions before it). The filter stays: it
// still removes what the limit keeps (ranks past k, other conjuncts).
std::optional<uint64_t> window_row_limit(const RelExpr& w, const std::vector<ScalarExpr>& preds) {
  for (const WindowFunc& f : w.window_funcs)
    if (f.kind != WindowFuncKind::kRowNumber && f.kind != WindowFuncKind::kRank && f.kind != WindowFuncKind::kDenseRank)
      return std::nullopt;
  const size_t first_func = w.inputs.at(0).column_types.size();
  std::optional<uint64_t> best;
  std::vector<const ScalarExpr*> todo;
  for (const ScalarExpr& p : preds) todo.push_back(&p);
  while (!todo.empty()) {
    const ScalarExpr* e = todo.back();
    todo.pop_back();
    if (e->kind == ScalarKind::kAnd) {
      for (const ScalarExpr& a : e->args) todo.push_back(&a);
      continue;
    }
    if (e->kind != ScalarKind::kCall || e->fn == nullptr || e->args.size() != 2) continue;
    std::string_view op = e->fn->name;
    const ScalarExpr* col = &e->args[0];
    const ScalarExpr* lit = &e->args[1];
    if (col->kind == ScalarKind::kLiteral) {
      std::swap(col, lit);
      op = op == ">=" ? "<=" : op == ">" ? "<" : op == "=" ? "=" : "";
    }
    if (op != "<=" && op != "<" && op != "=") continue;
    if (col->kind != ScalarKind::kColumn || lit->kind != ScalarKind::kLiteral) continue;
    if (col->column < first_func || col->column - first_func >= w.window_funcs.size()) continue;
    if (w.window_funcs[col->column - first_func].kind != WindowFuncKind::kRowNumber) continue;
    Datum k = lit->literal_value();
    if (k.is_null() || k.kind() != PhysicalKind::kInt) continue;
    int64_t v = k.as_int();
    uint64_t limit = op == "<" ? (v <= 0 ? 0 : static_cast<uint64_t>(v) - 1) : (v <= 0 ? 0 : static_cast<uint64_t>(v));
    if (!best || limit < *best) best = limit;
  }
  return best;
}

class Renderer {
 public:
  explicit Renderer(const RenderOptions& opts) : opts_(opts) {
    out_.dataflow = std::make_unique<Dataflow>(opts.limits);
  }

  RenderedDataflow finish(const RelExpr& plan) {
    out_.output = render(plan);
    out_.outputs = {out_.output};
    return std::move(out_);
  }
  RenderedDataflow finish_many(const std::vector<const RelExpr*>& plans) {
    for (const RelExpr* p : plans) out_.outputs.push_back(render(*p));
    if (!out_.outputs.empty()) out_.output = out_.outputs[0];
    return std::move(out_);
  }

 private:
  Dataflow& df() { return *out_.dataflow; }

  // The kLet bindings in scope (innermost last): a kGetLocal of one reads its value's node.
  std::vector<std::pair<uint64_t, Dataflow::NodeId>> lets_;
  // Beside lets_: whether each binding's value is monotone (is_monotone_plan with a scope).
  std::vector<bool> let_monotone_;

  Dataflow::NodeId render(const RelExpr& e) {
    switch (e.kind) {
      case RelKind::kGet: {
        if (opts_.fuse_scans) {
          Dataflow::NodeId n = df().add_source();
          out_.scans.push_back(ScanSource{e.collection_id, {}, n});
          return n;
        }
        for (const auto& [id, node] : out_.sources) {
          if (id == e.collection_id) return node;
        }
        Dataflow::NodeId n = df().add_source();
        out_.sources.emplace_back(e.collection_id, n);
        return n;
      }
      case RelKind::kConstant:
        return df().add_operator(make_constant(e.constant_rows), {});
      case RelKind::kMap:
      case RelKind::kFilter:
      case RelKind::kProject: {
        std::vector<MfpStage> stages;
        const RelExpr* cur = &e;
        while (cur->kind == RelKind::kMap || cur->kind == RelKind::kFilter || cur->kind == RelKind::kProject) {
          MfpStage s;
          if (cur->kind == RelKind::kMap) {
            s.kind = MfpStage::Kind::kMap;
            s.exprs = cur->exprs;
          } else if (cur->kind == RelKind::kFilter) {
            s.kind = MfpStage::Kind::kFilter;
            s.exprs = cur->exprs;
          } else {
            s.kind = MfpStage::Kind::kProject;
            s.columns = cur->columns;
          }
          stages.push_back(std::move(s));
          FRESHET_ASSERT(cur->inputs.size() == 1);
          cur = &cur->inputs[0];
        }
        std::reverse(stages.begin(), stages.end());
        // A filter right above a join (the optimizer's residual predicates, which read columns
        // of several inputs) is applied inside the join, to each pair as it is found.
        if (cur->kind == RelKind::kJoin && cur->inputs.size() >= 2 && stages.front().kind == MfpStage::Kind::kFilter) {
          std::vector<ScalarExpr> preds = std::move(stages.front().exprs);
          stages.erase(stages.begin());
          Dataflow::NodeId joined = render_join(*cur, std::move(preds));
          if (stages.empty()) return joined;
          return df().add_operator(make_mfp(std::move(stages)), {joined});
        }
        if (cur->kind == RelKind::kWindow && stages.front().kind == MfpStage::Kind::kFilter) {
          WindowSpec w{cur->group_columns, cur->order_by, cur->window_funcs, cur->inputs.at(0).column_types};
          w.row_limit = window_row_limit(*cur, stages.front().exprs);
          Dataflow::NodeId win = df().add_operator(make_window(std::move(w)), {render(cur->inputs.at(0))});
          return df().add_operator(make_mfp(std::move(stages)), {win});
        }
        if (opts_.fuse_scans && cur->kind == RelKind::kGet) {
          Dataflow::NodeId n = df().add_source();
          out_.scans.push_back(ScanSource{cur->collection_id, std::move(stages), n});
          return n;
        }
        Dataflow::NodeId in = render(*cur);
        return df().add_operator(make_mfp(std::move(stages)), {in});
      }
      case RelKind::kJoin:
        return render_join(e);
      case RelKind::kReduce: {
        if (opts_.keep_state && join_reduce_enabled().load(std::memory_order_relaxed) && !opts_.hierarchical_min_max) {
          if (std::optional<Dataflow::NodeId> fused = render_join_reduce(e)) return *fused;
        }
        Dataflow::NodeId in = render(e.inputs.at(0));
        // One step over a monotone input (a one-shot query without negation): min/max need
        // only the extreme (operators.hpp). A kGetLocal counts as monotone in
        // is_monotone_plan (recursive bindings), so the input is checked with the kLet
        // bindings in scope (relation CSE's among them): a read of one whose value is
        // monotone keeps the shortcut, any other local read disables it.
        bool append_only = false;
        if (!opts_.keep_state) {
          std::vector<std::pair<uint64_t, bool>> scope;
          for (size_t i = 0; i < lets_.size(); ++i) scope.emplace_back(lets_[i].first, let_monotone_[i]);
          append_only = is_monotone_plan(e.inputs.at(0), &scope);
        }
        bool partial = opts_.partial_aggregates && !opts_.keep_state;
        for (const AggregateExpr& a : e.aggregates) partial = partial && partial_aggregate_ok(a, append_only);
        bool hierarchical = opts_.hierarchical_min_max && opts_.keep_state && !e.group_key.empty() && !e.aggregates.empty();
        for (const AggregateExpr& a : e.aggregates)
          hierarchical = hierarchical && (a.kind == AggKind::kMin || a.kind == AggKind::kMax) && !a.distinct;
        if (hierarchical) {
          // Each shard's extremes per group where its input is, then the extreme of those by
          // the group key (RenderOptions::hierarchical_min_max).
          ReduceSpec local{e.group_key, e.aggregates, false};
          local.local = true;
          Dataflow::NodeId p = df().add_operator(make_reduce(std::move(local)), {in});
          ReduceSpec final_spec;
          const uint32_t k = static_cast<uint32_t>(e.group_key.size());
          for (uint32_t i = 0; i < k; ++i) final_spec.group_key.push_back(ScalarExpr::column_ref(i, e.group_key[i].type));
          for (uint32_t i = 0; i < e.aggregates.size(); ++i) {
            AggregateExpr a;
            a.kind = e.aggregates[i].kind;
            a.arg = ScalarExpr::column_ref(k + i, e.aggregates[i].result_type);
            a.result_type = e.aggregates[i].result_type;
            final_spec.aggregates.push_back(std::move(a));
          }
          return df().add_operator(make_reduce(std::move(final_spec)), {p});
        }
        if (!partial) return df().add_operator(make_reduce(ReduceSpec{e.group_key, e.aggregates, append_only}), {in});
        ReduceSpec first{e.group_key, e.aggregates, append_only};
        first.phase = ReduceSpec::Phase::kPartial;
        Dataflow::NodeId p = df().add_operator(make_reduce(std::move(first)), {in});
        ReduceSpec merge;
        for (uint32_t i = 0; i < e.group_key.size(); ++i) merge.group_key.push_back(ScalarExpr::column_ref(i, e.group_key[i].type));
        merge.aggregates = e.aggregates;
        merge.append_only = append_only;
        merge.phase = ReduceSpec::Phase::kMerge;
        return df().add_operator(make_reduce(std::move(merge)), {p});
      }
      case RelKind::kTopK: {
        Dataflow::NodeId in = render(e.inputs.at(0));
        return df().add_operator(make_topk(TopKSpec{e.group_columns, e.order_by, e.limit, e.offset}), {in});
      }
      case RelKind::kUnion: {
        std::vector<Dataflow::NodeId> ins;
        for (const RelExpr& i : e.inputs) ins.push_back(render(i));
        return df().add_operator(make_union(), std::move(ins));
      }
      case RelKind::kNegate:
        return df().add_operator(make_negate(), {render(e.inputs.at(0))});
      case RelKind::kThreshold:
        return df().add_operator(make_threshold(), {render(e.inputs.at(0))});
      case RelKind::kDistinct:
        return df().add_operator(make_distinct(), {render(e.inputs.at(0))});
      case RelKind::kLet: {
        FRESHET_ASSERT(e.inputs.size() == 2 && e.local_ids.size() == 1);
        Dataflow::NodeId value = render(e.inputs[0]);
        std::vector<std::pair<uint64_t, bool>> scope;
        for (size_t i = 0; i < lets_.size(); ++i) scope.emplace_back(lets_[i].first, let_monotone_[i]);
        let_monotone_.push_back(is_monotone_plan(e.inputs[0], &scope));
        lets_.emplace_back(e.local_ids[0], value);
        Dataflow::NodeId body = render(e.inputs[1]);
        lets_.pop_back();
        let_monotone_.pop_back();
        return body;
      }
      case RelKind::kGetLocal: {
        for (auto it = lets_.rbegin(); it != lets_.rend(); ++it) {
          if (it->first == e.local_id) return it->second;
        }
        for (const auto& [id, node] : out_.local_sources) {
          if (id == e.local_id) return node;
        }
        Dataflow::NodeId n = df().add_source();
        out_.local_sources.emplace_back(e.local_id, n);
        return n;
      }
      case RelKind::kFlatMap:
        return df().add_operator(make_flat_map(FlatMapSpec{e.table_func, e.exprs, e.with_ordinality}), {render(e.inputs.at(0))});
      case RelKind::kWindow:
        return df().add_operator(make_window(WindowSpec{e.group_columns, e.order_by, e.window_funcs, e.inputs.at(0).column_types}), {render(e.inputs.at(0))});
      case RelKind::kTemporalFilter:
        return df().add_operator(make_temporal_filter(e.temporal_bounds, opts_.keep_state), {render(e.inputs.at(0))});
      case RelKind::kLetRec: {
        // The operator reads the collections and the enclosing bindings that its bindings and
        // result read; it renders those parts itself (recursion.hpp).
        std::vector<LetRecInput> ins;
        collect_let_rec_inputs(e, ins);
        std::vector<Dataflow::NodeId> nodes;
        for (const LetRecInput& in : ins) {
          RelExpr leaf;
          leaf.kind = in.is_local ? RelKind::kGetLocal : RelKind::kGet;
          leaf.collection_id = in.id;
          leaf.local_id = in.id;
          nodes.push_back(render(leaf));
        }
        return df().add_operator(make_let_rec(e, std::move(ins), opts_), std::move(nodes));
      }
    }
    FRESHET_ASSERT(false && "unknown RelKind");
    return 0;
  }

  // A left-deep chain of binary joins in input order. At step k the joined prefix covers
  // inputs 0..k-1 (columns [0, off_k)) and input k is added. For each equivalence class, the
  // expressions whose columns all lie in the prefix were already made equal (their
  // representative `rep`); the expressions over input k alone become key columns (the first
  // against rep) or residual equalities; expressions spanning both become residuals.
  // `preds` (over the join's output columns) are applied at the first step that has every
  // input they read.
  // A Reduce over a binary join, through Filters (the join's residuals) and Projects, as one
  // operator (make_join_reduce; join_reduce_enabled()), when the Reduce's group key
  // holds every column of the join key: then all pairs of a group share one join key, so
  // the shard that finds them (the join is exchanged by its key) holds the whole group.
  // Else the join, the projection and the Reduce as three operators. nullopt (nothing
  // rendered) when the input is not of that shape.
  std::optional<Dataflow::NodeId> render_join_reduce(const RelExpr& e) {
    if (e.aggregates.empty()) return std::nullopt;
    std::vector<const RelExpr*> chain;  // from the Reduce's input down to the join
    const RelExpr* cur = &e.inputs.at(0);
    while (cur->kind == RelKind::kFilter || cur->kind == RelKind::kProject) {
      chain.push_back(cur);
      cur = &cur->inputs.at(0);
    }
    if (cur->kind != RelKind::kJoin || cur->inputs.size() != 2) return std::nullopt;
    if ((opts_.delta_joins && uses_delta_join(*cur)) || reads_shared_arrangement(*cur)) return std::nullopt;
    // Each column of the Reduce's input as a column of the join's output, and the filters
    // over the join's output.
    std::vector<uint32_t> map(cur->arity());
    for (uint32_t c = 0; c < map.size(); ++c) map[c] = c;
    std::vector<ScalarExpr> preds;
    for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
      if ((*it)->kind == RelKind::kFilter) {
        for (const ScalarExpr& p : (*it)->exprs) preds.push_back(map_columns(p, map));
      } else {
        std::vector<uint32_t> next;
        for (uint32_t c : (*it)->columns) next.push_back(map.at(c));
        map = std::move(next);
      }
    }
    ReduceSpec spec{e.group_key, e.aggregates, false};
    for (ScalarExpr& k : spec.group_key) k = map_columns(k, map);
    for (AggregateExpr& a : spec.aggregates) {
      a.arg = map_columns(a.arg, map);
      a.separator = map_columns(a.separator, map);
      for (ScalarExpr& o : a.order_exprs) o = map_columns(o, map);
      if (a.filter) a.filter = map_columns(*a.filter, map);
    }
    bool fused = false;
    Dataflow::NodeId joined = render_join(*cur, std::move(preds), &spec, &fused);
    if (fused) return joined;
    bool identity = map.size() == cur->arity();
    for (uint32_t c = 0; identity && c < map.size(); ++c) identity = map[c] == c;
    if (!identity) {
      MfpStage project;
      project.kind = MfpStage::Kind::kProject;
      project.columns = map;
      std::vector<MfpStage> stages;
      stages.push_back(std::move(project));
      joined = df().add_operator(make_mfp(std::move(stages)), {joined});
    }
    return df().add_operator(make_reduce(ReduceSpec{e.group_key, e.aggregates, false}), {joined});
  }

  // Whether every column of the join key (spec's left key over the left input's columns,
  // right key over the right input's, at `right_offset` in the join's output) is a column of
  // the group key: then rows of one group have one join key.
  static bool group_key_holds_join_key(const JoinSpec& spec, const std::vector<ScalarExpr>& group_key, uint32_t right_offset) {
    if (spec.left_key.empty()) return false;
    auto in_group = [&](uint32_t col) {
      for (const ScalarExpr& g : group_key)
        if (g.kind == ScalarKind::kColumn && g.column == col) return true;
      return false;
    };
    for (size_t i = 0; i < spec.left_key.size(); ++i) {
      const ScalarExpr& l = spec.left_key[i];
      const ScalarExpr& r = spec.right_key.at(i);
      const bool left_in = l.kind == ScalarKind::kColumn && in_group(l.column);
      const bool right_in = r.kind == ScalarKind::kColumn && in_group(right_offset + r.column);
      if (!left_in && !right_in) return false;
    }
    return true;
  }

  // fuse_reduce (render_join_reduce): a Reduce over the join's output to fold into the last
  // binary join when its group key holds that join's key; *fused says whether it was.
  Dataflow::NodeId render_join(const RelExpr& e, std::vector<ScalarExpr> preds = {}, const ReduceSpec* fuse_reduce = nullptr,
                               bool* fused = nullptr) {
    size_t n = e.inputs.size();
    if (opts_.keep_state && ((opts_.delta_joins && uses_delta_join(e)) || reads_shared_arrangement(e)))
      return render_delta_join(e, std::move(preds));
    if (n == 0) {
      std::vector<std::pair<Row, int64_t>> one;
      one.emplace_back(Row(), 1);
      return df().add_operator(make_constant(std::move(one)), {});
    }
    std::vector<uint32_t> offsets(n + 1, 0);
    for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + static_cast<uint32_t>(e.inputs[i].arity());
    // For each class expression, the highest input it reads and the lowest (-1: no columns).
    auto input_of = [&](uint32_t col) {
      size_t i = std::upper_bound(offsets.begin(), offsets.end(), col) - offsets.begin() - 1;
      return static_cast<int>(i);
    };
    struct ClassExpr {
      const ScalarExpr* expr;
      int lo, hi;  // input range read; lo = hi = -1 when it reads no column
    };
    std::vector<std::vector<ClassExpr>> classes;
    for (const auto& cls : e.equivalences) {
      std::vector<ClassExpr> c;
      for (const ScalarExpr& x : cls) {
        std::vector<uint32_t> cols;
        collect_columns(x, cols);
        int lo = -1, hi = -1;
        for (uint32_t col : cols) {
          int i = input_of(col);
          lo = lo < 0 ? i : std::min(lo, i);
          hi = std::max(hi, i);
        }
        c.push_back(ClassExpr{&x, lo, hi});
      }
      classes.push_back(std::move(c));
    }
    // Stage 0: input 0 alone; expressions over input 0 and constants must be equal.
    std::vector<const ScalarExpr*> rep(classes.size(), nullptr);
    Dataflow::NodeId acc = render(e.inputs[0]);
    {
      std::vector<std::pair<ScalarExpr, ScalarExpr>> eqs;
      for (size_t c = 0; c < classes.size(); ++c) {
        for (const ClassExpr& x : classes[c]) {
          if (x.hi <= 0) {
            if (rep[c] == nullptr) {
              rep[c] = x.expr;
            } else {
              eqs.emplace_back(*rep[c], *x.expr);
            }
          }
        }
      }
      // A class of one expression states nothing; only pairs constrain.
      if (!eqs.empty()) acc = df().add_operator(make_equality_filter(std::move(eqs)), {acc});
    }
    std::vector<std::vector<ScalarExpr>> preds_at(n);
    for (ScalarExpr& p : preds) {
      std::vector<uint32_t> cols;
      collect_columns(p, cols);
      int hi = 1;
      for (uint32_t col : cols) hi = std::max(hi, input_of(col));
      preds_at[static_cast<size_t>(hi)].push_back(std::move(p));
    }
    for (size_t k = 1; k < n; ++k) {
      JoinSpec spec;
      spec.keep_state = opts_.keep_state;
      spec.residual = std::move(preds_at[k]);
      for (size_t c = 0; c < classes.size(); ++c) {
        const ScalarExpr* new_rep = nullptr;
        for (const ClassExpr& x : classes[c]) {
          if (x.hi != static_cast<int>(k)) continue;  // not newly available at this step
          bool only_k = x.lo == static_cast<int>(k);
          if (only_k && rep[c] != nullptr && new_rep == nullptr) {
            spec.left_key.push_back(*rep[c]);
            spec.right_key.push_back(shift_columns(*x.expr, -static_cast<int64_t>(offsets[k])));
            new_rep = x.expr;
          } else if (rep[c] == nullptr && new_rep == nullptr) {
            new_rep = x.expr;
          } else {
            spec.residual_equal.emplace_back(rep[c] != nullptr ? *rep[c] : *new_rep, *x.expr);
          }
        }
        if (rep[c] == nullptr) rep[c] = new_rep;
      }
      spec.left_constant = k == 1 && e.inputs[0].kind == RelKind::kConstant;
      spec.right_constant = e.inputs[k].kind == RelKind::kConstant;
      Dataflow::NodeId right = render(e.inputs[k]);
      if (fuse_reduce != nullptr && k + 1 == n && spec.keep_state && group_key_holds_join_key(spec, fuse_reduce->group_key, offsets[k])) {
        acc = df().add_operator(make_join_reduce(std::move(spec), *fuse_reduce), {acc, right});
        *fused = true;
      } else {
        acc = df().add_operator(make_join(std::move(spec)), {acc, right});
      }
    }
    return acc;
  }


  // A shared arrangement read through a projection: the rows found are projected as the
  // join's input is (a Project of the Get, e.g. the optimizer keeping the columns the join's
  // output uses), by copying the columns' encoded bytes, as MfpOp's projection does, so that
  // a row found and the same row in the step's change have the same bytes.
  class ProjectedReader final : public ArrangementReader {
   public:
    ProjectedReader(std::shared_ptr<const ArrangementReader> in, std::vector<uint32_t> columns)
        : in_(std::move(in)), columns_(std::move(columns)) {
      for (uint32_t c : columns_) prefix_ = std::max<size_t>(prefix_, c + 1);
    }
    size_t num_shards() const override { return in_->num_shards(); }
    void lock_shared() const override { in_->lock_shared(); }
    void unlock_shared() const override { in_->unlock_shared(); }
    void for_each(size_t shard, std::string_view key, absl::FunctionRef<void(RowRef, int64_t)> f) const override {
      // Per thread: the shards are read in parallel; f copies the row before the next one.
      thread_local std::vector<uint32_t> offsets;
      thread_local std::string packed;
      in_->for_each(shard, key, [&](RowRef r, int64_t d) {
        offsets.resize(prefix_ + 1);
        const size_t n = column_offsets(r, prefix_, offsets.data());
        FRESHET_ASSERT(n == prefix_);
        packed.clear();
        const char* bytes = r.bytes().data();
        for (uint32_t c : columns_) packed.append(bytes + offsets[c], offsets[c + 1] - offsets[c]);
        f(RowRef(packed), d);
      });
    }

   private:
    std::shared_ptr<const ArrangementReader> in_;
    std::vector<uint32_t> columns_;
    size_t prefix_ = 0;
  };

  // The arrangement kept outside the dataflow for join input `in` looked up by `key` (over
  // the input's columns), when the input is the bare Get of a collection that has one by
  // exactly these columns (RenderOptions::shared_arrangement), or a projection of such a Get
  // keeping those columns (the rows found are projected), split into as many shards as this
  // dataflow's; else null.
  std::shared_ptr<const ArrangementReader> shared_reader(const RelExpr& in, const std::vector<ScalarExpr>& key) const {
    if (!opts_.keep_state || !opts_.shared_arrangement || key.empty()) return nullptr;
    const bool projected = in.kind == RelKind::kProject && in.inputs.size() == 1 && in.inputs[0].kind == RelKind::kGet;
    if (in.kind != RelKind::kGet && !projected) return nullptr;
    const RelExpr& get = projected ? in.inputs[0] : in;
    std::vector<uint32_t> cols;
    for (const ScalarExpr& k : key) {
      if (k.kind != ScalarKind::kColumn) return nullptr;
      if (projected && k.column >= in.columns.size()) return nullptr;
      cols.push_back(projected ? in.columns[k.column] : k.column);
    }
    auto r = opts_.shared_arrangement(get.collection_id, cols);
    if (r == nullptr || r->num_shards() != opts_.shards) return nullptr;
    if (projected) return std::make_shared<ProjectedReader>(std::move(r), in.columns);
    return r;
  }

  // Whether a join of two inputs has one that reads a shared arrangement (shared_reader):
  // it then renders as a delta join (render_delta_join), whose path for the other input
  // looks the shared arrangement up, so that the join arranges only the other input. The
  // key is what render_delta_join's lookup of input j uses: per equivalence class with a
  // member over the other input (or constants) and one over j alone, j's first such member,
  // in the order of their text. Only for inputs without equalities among their own columns
  // (those are filtered before being arranged).
  bool reads_shared_arrangement(const RelExpr& e) const {
    if (!opts_.keep_state || !opts_.shared_arrangement || e.kind != RelKind::kJoin || e.inputs.size() != 2) return false;
    const uint32_t a0 = static_cast<uint32_t>(e.inputs[0].arity());
    for (size_t j = 0; j < 2; ++j) {
      if (e.inputs[j].kind != RelKind::kGet && e.inputs[j].kind != RelKind::kProject) continue;
      const uint64_t bit = uint64_t{1} << j, other = uint64_t{1} << (1 - j);
      std::vector<ScalarExpr> key;
      bool ok = true;
      for (const auto& cls : e.equivalences) {
        const ScalarExpr* mine = nullptr;
        bool has_other = false;
        size_t own = 0;
        for (const ScalarExpr& x : cls) {
          std::vector<uint32_t> cols;
          collect_columns(x, cols);
          uint64_t m = 0;
          for (uint32_t c : cols) m |= c < a0 ? 1u : 2u;
          if (m == bit || m == 0) ++own;  // a constant too makes j's input filtered first
          if (m == bit && mine == nullptr) mine = &x;
          if ((m & ~other) == 0) has_other = true;
        }
        if (own > 1) ok = false;  // equalities among j's own columns (or constants): filtered first
        if (mine != nullptr && has_other) key.push_back(shift_columns(*mine, j == 0 ? 0 : -static_cast<int64_t>(a0)));
      }
      if (!ok) continue;
      std::sort(key.begin(), key.end(), [](const ScalarExpr& a, const ScalarExpr& b) { return a.to_string() < b.to_string(); });
      if (shared_reader(e.inputs[j], key) != nullptr) return true;
    }
    return false;
  }

  // A delta join (delta_join.hpp): every input rendered once and filtered by the equalities
  // among its own expressions (and constants); one path per input i that starts from input
  // i's change and looks up the other inputs' arrangements in turn, each arrangement (input,
  // key) built once and shared by every path that reads it; each path projected back to the
  // join's column order; the paths' union is the join's change.
  //
  // Path order: from the inputs joined so far, the next input is the one connected to them by
  // the most equivalence classes (the lowest index on ties; an unconnected one, as a cross
  // product under the empty key, only when no input is connected). At each lookup, a class
  // that already has a member over the joined inputs (`rep`) and has a member over the new
  // input alone gives one key column; members spanning both are checked on the joined row;
  // other members over the new input alone were made equal by its filter. `preds` go into
  // the first lookup that has every input they read.
  Dataflow::NodeId render_delta_join(const RelExpr& e, std::vector<ScalarExpr> preds) {
    const size_t n = e.inputs.size();
    FRESHET_ASSERT(n >= 2 && n <= 64);
    std::vector<uint32_t> offsets(n + 1, 0);
    for (size_t i = 0; i < n; ++i) offsets[i + 1] = offsets[i] + static_cast<uint32_t>(e.inputs[i].arity());
    auto input_of = [&](uint32_t col) {
      return static_cast<size_t>(std::upper_bound(offsets.begin(), offsets.end(), col) - offsets.begin() - 1);
    };
    auto inputs_read = [&](const ScalarExpr& x) {
      std::vector<uint32_t> cols;
      collect_columns(x, cols);
      uint64_t m = 0;
      for (uint32_t c : cols) m |= uint64_t{1} << input_of(c);
      return m;
    };
    struct ClassExpr {
      const ScalarExpr* expr;
      uint64_t inputs;  // bit i: reads input i (0: a constant)
    };
    std::vector<std::vector<ClassExpr>> classes;
    for (const auto& cls : e.equivalences) {
      std::vector<ClassExpr> c;
      for (const ScalarExpr& x : cls) c.push_back(ClassExpr{&x, inputs_read(x)});
      classes.push_back(std::move(c));
    }
    std::vector<uint64_t> pred_inputs;
    for (const ScalarExpr& p : preds) pred_inputs.push_back(inputs_read(p));

    // Each input, filtered by the equalities among its own members (and constants).
    std::vector<Dataflow::NodeId> in_nodes(n);
    std::vector<bool> bare(n, false);  // the input as it is (no equality filter)
    for (size_t i = 0; i < n; ++i) {
      Dataflow::NodeId node = render(e.inputs[i]);
      const uint64_t bit = uint64_t{1} << i;
      std::vector<std::pair<ScalarExpr, ScalarExpr>> eqs;
      for (const auto& cls : classes) {
        const ScalarExpr* first = nullptr;
        for (const ClassExpr& x : cls) {
          if ((x.inputs & ~bit) != 0) continue;
          ScalarExpr local = shift_columns(*x.expr, -static_cast<int64_t>(offsets[i]));
          if (first == nullptr) {
            first = x.expr;
            continue;
          }
          eqs.emplace_back(shift_columns(*first, -static_cast<int64_t>(offsets[i])), std::move(local));
        }
      }
      bare[i] = eqs.empty();
      if (!eqs.empty()) node = df().add_operator(make_equality_filter(std::move(eqs)), {node});
      in_nodes[i] = node;
    }

    // The arrangements, shared by the paths: (input's node, key text) -> state. Inputs that
    // render to one node (a self-join's Gets of one collection, a kLet read twice) share it,
    // and so do the delta joins of one dataflow (arranged_, e.g. two joins of one UNION).
    // Returns the arrangement and its ArrangeOp's node.
    auto arrangement = [&](size_t j, std::vector<ScalarExpr> key) {
      std::string text;
      for (const ScalarExpr& k : key) text += k.to_string() + "\x1f";
      for (const Arranged& a : arranged_)
        if (a.node == in_nodes[j] && a.key_text == text) return std::make_pair(a.arr, a.arrange_node);
      auto arr = std::make_shared<SharedArrangement>();
      Dataflow::NodeId op;
      if (auto reader = bare[j] ? shared_reader(e.inputs[j], key) : nullptr) {
        // Read where it is kept (a shared arrangement): only the step's change is kept here.
        const RelExpr& in = e.inputs[j];
        const bool projected = in.kind == RelKind::kProject;
        std::vector<uint32_t> cols;
        for (const ScalarExpr& k : key) cols.push_back(projected ? in.columns[k.column] : k.column);
        std::pair<uint64_t, std::vector<uint32_t>> read{projected ? in.inputs[0].collection_id : in.collection_id, std::move(cols)};
        if (std::find(out_.shared_reads.begin(), out_.shared_reads.end(), read) == out_.shared_reads.end())
          out_.shared_reads.push_back(std::move(read));
        arr->external = std::move(reader);
        arr->shard = opts_.shard;
        out_.external_arrangements.push_back(arr);
        op = df().add_operator(make_read_arranged(std::move(key), arr), {in_nodes[j]});
      } else {
        op = df().add_operator(make_arrange(std::move(key), arr), {in_nodes[j]});
      }
      out_.delta_arrangements.push_back(arr);
      arranged_.push_back(Arranged{in_nodes[j], std::move(text), arr, op});
      return std::make_pair(arr, op);
    };

    // Plan every path first (so that every ArrangeOp precedes every lookup in the graph).
    struct Stage {
      size_t input;
      std::vector<ScalarExpr> arranged_key;  // over the input's columns
      LookupSpec spec;                       // without its arrangement yet
      Dataflow::NodeId arrange_node = 0;     // the ArrangeOp that keeps spec.arranged
    };
    struct Path {
      std::vector<Stage> stages;
    };
    std::vector<Path> paths(n);
    for (size_t i = 0; i < n; ++i) {
      Path& path = paths[i];
      std::vector<uint32_t> pos(offsets[n], 0);  // join column -> path column (inputs joined)
      uint32_t arity = 0;
      auto place = [&](size_t j) {
        for (uint32_t c = offsets[j]; c < offsets[j + 1]; ++c) pos[c] = arity++;
      };
      auto remap = [&](const ScalarExpr& x) { return map_columns(x, pos); };
      uint64_t joined = uint64_t{1} << i;
      place(i);
      std::vector<const ScalarExpr*> rep(classes.size(), nullptr);
      for (size_t c = 0; c < classes.size(); ++c)
        for (const ClassExpr& x : classes[c])
          if (rep[c] == nullptr && (x.inputs & ~joined) == 0) rep[c] = x.expr;
      std::vector<bool> placed(preds.size(), false);
      while (joined != (n == 64 ? ~uint64_t{0} : (uint64_t{1} << n) - 1)) {
        // The next input: the most key columns with what is joined.
        size_t best = n;
        size_t best_keys = 0;
        for (size_t j = 0; j < n; ++j) {
          const uint64_t bit = uint64_t{1} << j;
          if ((joined & bit) != 0) continue;
          size_t keys = 0;
          for (size_t c = 0; c < classes.size(); ++c) {
            if (rep[c] == nullptr) continue;
            for (const ClassExpr& x : classes[c])
              if (x.inputs == bit) {
                ++keys;
                break;
              }
          }
          if (best == n || keys > best_keys) {
            best = j;
            best_keys = keys;
          }
        }
        const size_t j = best;
        const uint64_t bit = uint64_t{1} << j;
        Stage st;
        st.input = j;
        st.spec.with_change = j < i;
        std::vector<std::pair<ScalarExpr, ScalarExpr>> keys;  // (stream side, arranged side)
        place(j);
        for (size_t c = 0; c < classes.size(); ++c) {
          const ScalarExpr* new_rep = nullptr;
          bool have_local = false;  // a member over j alone was used (key or rep)
          for (const ClassExpr& x : classes[c]) {
            if ((x.inputs & ~joined) == 0 || (x.inputs & ~(joined | bit)) != 0) continue;  // not new here
            if (x.inputs == bit) {
              if (have_local) continue;  // equal to the first by j's filter
              have_local = true;
              if (rep[c] != nullptr) {
                keys.emplace_back(remap(*rep[c]), shift_columns(*x.expr, -static_cast<int64_t>(offsets[j])));
              } else if (new_rep == nullptr) {
                new_rep = x.expr;
              } else {
                st.spec.residual_equal.emplace_back(remap(*new_rep), remap(*x.expr));
              }
            } else if (rep[c] == nullptr && new_rep == nullptr) {
              new_rep = x.expr;
            } else {
              st.spec.residual_equal.emplace_back(remap(rep[c] != nullptr ? *rep[c] : *new_rep), remap(*x.expr));
            }
          }
          if (rep[c] == nullptr) rep[c] = new_rep;
        }
        joined |= bit;
        for (size_t p = 0; p < preds.size(); ++p) {
          if (placed[p] || (pred_inputs[p] & ~joined) != 0) continue;
          placed[p] = true;
          st.spec.residual.push_back(remap(preds[p]));
        }
        // The key columns in the order of their arranged expressions, so that paths needing
        // the same arrangement of j find it under the same key.
        std::sort(keys.begin(), keys.end(), [](const auto& a, const auto& b) { return a.second.to_string() < b.second.to_string(); });
        for (auto& [s, a] : keys) {
          st.spec.stream_key.push_back(std::move(s));
          st.arranged_key.push_back(std::move(a));
        }
        path.stages.push_back(std::move(st));
      }
      FRESHET_ASSERT(std::all_of(placed.begin(), placed.end(), [](bool b) { return b; }));
    }
    // The arrangements, then the paths' lookups.
    for (Path& path : paths)
      for (Stage& st : path.stages) std::tie(st.spec.arranged, st.arrange_node) = arrangement(st.input, st.arranged_key);
    std::vector<Dataflow::NodeId> outs;
    for (size_t i = 0; i < n; ++i) {
      // The path's inputs in its order; when that is not the join's order, its last lookup
      // writes the inputs' columns back in the join's order.
      std::vector<size_t> order{i};
      for (const Stage& st : paths[i].stages) order.push_back(st.input);
      bool in_order = true;
      for (size_t k = 0; k < n; ++k) in_order = in_order && order[k] == k;
      if (!in_order) {
        LookupSpec& last = paths[i].stages.back().spec;
        last.segment_order.resize(n);
        for (size_t k = 0; k < n; ++k) {
          last.segment_arity.push_back(offsets[order[k] + 1] - offsets[order[k]]);
          last.segment_order[order[k]] = static_cast<uint32_t>(k);
        }
      }
      Dataflow::NodeId cur = in_nodes[i];
      for (Stage& st : paths[i].stages) {
        cur = df().add_operator(make_lookup(std::move(st.spec)), {cur});
        // The lookup reads the arrangement's state of this step (with or without the step's
        // change), which its ArrangeOp writes: not a data edge, but it must run after it.
        df().order_after(cur, st.arrange_node);
      }
      outs.push_back(cur);
    }
    return df().add_operator(make_union(), std::move(outs));
  }

  // The delta joins' arrangements of this dataflow (render_delta_join). An arrangement is
  // valid for any later delta join: its ArrangeOp precedes every node added after it, and
  // what a lookup reads (before or after the step's change) is the lookup's own choice.
  struct Arranged {
    Dataflow::NodeId node;
    std::string key_text;
    std::shared_ptr<SharedArrangement> arr;
    Dataflow::NodeId arrange_node;
  };
  std::vector<Arranged> arranged_;

  const RenderOptions& opts_;
  RenderedDataflow out_;
};

}  // namespace

namespace {
// The plan as rendered: window numbers over event time computed in integers
// (fold_epoch_buckets, eval.hpp).
RelExpr prepare(const RelExpr& plan) {
  RelExpr p = plan;
  for_each_scalar(p, [](ScalarExpr& e) { fold_epoch_buckets(e); });
  return p;
}
}  // namespace

RenderedDataflow render(const RelExpr& input, const RenderOptions& options) {
  const RelExpr plan = prepare(input);
  size_t workers = options.workers == 0 ? WorkerPool::default_workers() : options.workers;
  if (workers <= 1) {
    RenderOptions one = options;
    one.shard = 0;
    one.shards = 1;
    one.partial_aggregates = false;  // nothing to merge across
    return Renderer(one).finish(plan);
  }
  // One replica per shard, rendered identically (node ids agree), under one sharded driver.
  RenderOptions one = options;
  one.workers = 1;
  one.hierarchical_min_max = options.keep_state && options.hierarchical_min_max;
  std::vector<std::unique_ptr<Dataflow>> replicas;
  RenderedDataflow first;
  one.shards = workers;
  for (size_t s = 0; s < workers; ++s) {
    one.shard = s;
    RenderedDataflow r = Renderer(one).finish(plan);
    replicas.push_back(std::move(r.dataflow));
    if (s == 0) {
      first = std::move(r);
    } else {
      for (auto& a : r.external_arrangements) first.external_arrangements.push_back(std::move(a));
      for (auto& a : r.delta_arrangements) first.delta_arrangements.push_back(std::move(a));
    }
  }
  first.dataflow = Dataflow::sharded(std::move(replicas), options.limits);
  return first;
}

RenderedDataflow render_many(const std::vector<const RelExpr*>& inputs, const RenderOptions& options) {
  std::vector<RelExpr> prepared;
  prepared.reserve(inputs.size());
  for (const RelExpr* p : inputs) prepared.push_back(prepare(*p));
  std::vector<const RelExpr*> plans;
  for (const RelExpr& p : prepared) plans.push_back(&p);
  return Renderer(options).finish_many(plans);
}

}  // namespace freshet::dataflow
