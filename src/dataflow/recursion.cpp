#include "dataflow/recursion.hpp"

#include <algorithm>
#include <string>
#include <unordered_map>
#include <utility>

#include "common/error.hpp"

namespace freshet::dataflow {

namespace {

void collect_inputs(const RelExpr& e, std::vector<uint64_t>& bound, std::vector<LetRecInput>& out) {
  auto add = [&](bool local, uint64_t id) {
    for (const LetRecInput& x : out) {
      if (x.is_local == local && x.id == id) return;
    }
    out.push_back(LetRecInput{local, id});
  };
  switch (e.kind) {
    case RelKind::kGet:
      add(false, e.collection_id);
      return;
    case RelKind::kGetLocal:
      if (std::find(bound.begin(), bound.end(), e.local_id) == bound.end()) add(true, e.local_id);
      return;
    case RelKind::kLet: {
      collect_inputs(e.inputs.at(0), bound, out);
      bound.push_back(e.local_ids.at(0));
      collect_inputs(e.inputs.at(1), bound, out);
      bound.pop_back();
      return;
    }
    case RelKind::kLetRec: {
      size_t n = bound.size();
      bound.insert(bound.end(), e.local_ids.begin(), e.local_ids.end());
      for (const RelExpr& in : e.inputs) collect_inputs(in, bound, out);
      bound.resize(n);
      return;
    }
    default:
      for (const RelExpr& in : e.inputs) collect_inputs(in, bound, out);
  }
}

using Contents = std::unordered_map<Row, int64_t>;

void apply_to(Contents& c, const Batch& b) {
  for (const Update& u : b) {
    auto [it, inserted] = c.try_emplace(u.row, 0);
    it->second = add_diffs(it->second, u.diff);
    if (it->second == 0) c.erase(it);
  }
}

// Where each source of a rendered nested dataflow gets its updates from.
struct Feed {
  Dataflow::NodeId node = 0;
  bool from_binding = false;  // true: binding index; false: operator input index
  size_t index = 0;
};

class LetRecOp final : public Operator {
 public:
  LetRecOp(const RelExpr& e, std::vector<LetRecInput> inputs, const RenderOptions& opts)
      : inputs_(std::move(inputs)), ids_(e.local_ids), limit_(e.recursion_limit), opts_(opts) {
    opts_.fuse_scans = false;  // the nested dataflows are fed through their sources (feeds_of)
    opts_.partial_aggregates = false;  // the bodies step once per iteration
    opts_.delta_joins = false;  // left-deep chains inside recursion (README, "Delta joins")
    opts_.shared_arrangement = nullptr;  // a body steps many times per step of the reader's owner
    opts_.hierarchical_min_max = false;  // nested dataflows are not sharded
    FRESHET_ASSERT(e.kind == RelKind::kLetRec && e.inputs.size() == e.local_ids.size() + 1);
    bindings_plan_.assign(e.inputs.begin(), e.inputs.end() - 1);
    monotone_ = true;
    for (const RelExpr& b : bindings_plan_) monotone_ = monotone_ && is_monotone_plan(b);
    contents_.resize(ids_.size());
    if (opts_.keep_state) inputs_contents_.resize(inputs_.size());
    bindings_ = render_bindings(bindings_feeds_);
    RenderOptions body_opts = opts_;
    body_ = render(e.inputs.back(), body_opts);
    body_feeds_ = feeds_of(body_);
  }

  std::string name() const override { return "LetRec"; }
  // The fixpoint is computed in one place: the operator runs on shard 0 with all its input.
  Exchange exchange(size_t) const override { return Exchange{Exchange::Kind::kSingle}; }

  // Cheap: the nested dataflows' own estimates plus each contents map's entries times its
  // average entry, sampled from up to 16 entries (the fixpoint can outgrow the input, so it is
  // asked after every step rather than walked by input volume).
  size_t state_bytes() const override {
    size_t b = bindings_.dataflow->state_bytes() + body_.dataflow->state_bytes();
    auto contents_bytes = [](const Contents& c) {
      size_t sampled = 0, n = 0;
      for (auto it = c.begin(); it != c.end() && n < 16; ++it, ++n) sampled += row_heap_bytes(it->first);
      size_t per = kMapNodeBytes + sizeof(Row) + sizeof(int64_t) + (n ? sampled / n : 0);
      return c.bucket_count() * sizeof(void*) + c.size() * per;
    };
    for (const Contents& c : contents_) b += contents_bytes(c);
    for (const Contents& c : inputs_contents_) b += contents_bytes(c);
    return b;
  }
  bool state_bytes_cheap() const override { return true; }

  size_t state_size() const override {
    size_t s = bindings_.dataflow->state_size() + body_.dataflow->state_size();
    for (const Contents& c : contents_) s += c.size();
    for (const Contents& c : inputs_contents_) s += c.size();
    return s;
  }

  void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) override {
    bool any = false;
    bool retraction = false;
    for (Batch& b : inputs) {
      consolidate(b);
      any = any || !b.empty();
      for (const Update& u : b) retraction = retraction || u.diff < 0;
    }
    if (opts_.keep_state) {
      for (size_t k = 0; k < inputs.size(); ++k) apply_to(inputs_contents_[k], inputs[k]);
    }
    std::vector<Batch> change(ids_.size());
    if (first_ || any) {
      bool recompute = !first_ && (!monotone_ || retraction || limit_.return_at_limit);
      if (!recompute) {
        std::vector<Batch> in(inputs.begin(), inputs.end());
        change = iterate(ctx, bindings_, bindings_feeds_, std::move(in), contents_);
      } else {
        // Start over from empty bindings with the inputs' whole contents.
        std::vector<Feed> feeds;
        RenderedDataflow fresh = render_bindings(feeds);
        std::vector<Batch> in(inputs_contents_.size());
        for (size_t k = 0; k < inputs_contents_.size(); ++k) {
          for (const auto& [row, diff] : inputs_contents_[k]) in[k].push_back(Update{row, ctx.time, diff});
        }
        std::vector<Contents> now(ids_.size());
        iterate(ctx, fresh, feeds, std::move(in), now);
        for (size_t i = 0; i < ids_.size(); ++i) {
          for (const auto& [row, diff] : contents_[i]) change[i].push_back(Update{row, ctx.time, -diff});
          for (const auto& [row, diff] : now[i]) change[i].push_back(Update{row, ctx.time, diff});
          consolidate(change[i]);
        }
        contents_ = std::move(now);
        bindings_ = std::move(fresh);
        bindings_feeds_ = std::move(feeds);
      }
      first_ = false;
    }
    // The result sees the inputs' and the bindings' changes of this timestamp. It is stepped
    // on every tick: temporal filters inside it release their scheduled updates.
    feed(body_, body_feeds_, inputs, change, /*move=*/true);
    body_.dataflow->step(ctx.time, ctx.eval);
    out.append(body_.dataflow->take_output(body_.output));
  }

 private:
  RenderedDataflow render_bindings(std::vector<Feed>& feeds) const {
    RenderOptions o = opts_;
    o.keep_state = true;  // the iterations are steps of one dataflow: state must persist
    std::vector<const RelExpr*> plans;
    for (const RelExpr& b : bindings_plan_) plans.push_back(&b);
    RenderedDataflow r = render_many(plans, o);
    feeds = feeds_of(r);
    return r;
  }

  std::vector<Feed> feeds_of(const RenderedDataflow& r) const {
    std::vector<Feed> feeds;
    for (const auto& [id, node] : r.sources) feeds.push_back(Feed{node, false, input_index(false, id)});
    for (const auto& [id, node] : r.local_sources) {
      auto it = std::find(ids_.begin(), ids_.end(), id);
      if (it != ids_.end()) {
        feeds.push_back(Feed{node, true, static_cast<size_t>(it - ids_.begin())});
      } else {
        feeds.push_back(Feed{node, false, input_index(true, id)});
      }
    }
    return feeds;
  }

  size_t input_index(bool local, uint64_t id) const {
    for (size_t k = 0; k < inputs_.size(); ++k) {
      if (inputs_[k].is_local == local && inputs_[k].id == id) return k;
    }
    FRESHET_ASSERT(false && "LetRec input not found");
    return 0;
  }

  // Pushes the inputs' and bindings' updates into a nested dataflow's sources. A source that
  // is the last reader of a batch may take it (move), the others copy.
  static void feed(RenderedDataflow& r, const std::vector<Feed>& feeds, std::span<Batch> inputs,
                   std::vector<Batch>& bindings, bool move) {
    std::vector<size_t> readers_in(inputs.size()), readers_b(bindings.size());
    for (const Feed& f : feeds) (f.from_binding ? readers_b[f.index] : readers_in[f.index])++;
    for (const Feed& f : feeds) {
      Batch& src = f.from_binding ? bindings[f.index] : inputs[f.index];
      size_t& left = f.from_binding ? readers_b[f.index] : readers_in[f.index];
      if (src.empty()) continue;
      if (--left == 0 && move) {
        r.dataflow->push(f.node, std::move(src));
        src.clear();
      } else {
        r.dataflow->push(f.node, src);
      }
    }
  }

  // Iterates the bindings dataflow r (whose state corresponds to the contents `state`) to a
  // fixpoint, with the inputs' changes `in` entering at the first iteration. Updates `state`;
  // returns each binding's accumulated change.
  std::vector<Batch> iterate(StepContext& ctx, RenderedDataflow& r, const std::vector<Feed>& feeds,
                             std::vector<Batch> in, std::vector<Contents>& state) const {
    size_t nb = ids_.size();
    std::vector<Batch> total(nb), delta(nb);
    uint64_t iteration = 0;
    for (bool first = true;; first = false) {
      ctx.check_cancelled();
      std::vector<Batch> none;
      std::span<Batch> ins = first ? std::span<Batch>(in) : std::span<Batch>();
      if (!first) none.resize(in.size());
      feed(r, feeds, first ? ins : std::span<Batch>(none), delta, /*move=*/true);
      r.dataflow->step(ctx.time, ctx.eval);
      bool changed = false;
      for (size_t i = 0; i < nb; ++i) {
        delta[i] = r.dataflow->take_output(r.outputs[i]);
        consolidate(delta[i]);
        changed = changed || !delta[i].empty();
      }
      if (!changed) break;
      ++iteration;
      if (iteration > limit_.max_iterations) {
        // Materialize's wording (its sqllogictest files match it).
        throw SqlError(sqlstate::kProgramLimitExceeded,
                       "Evaluation error: Recursive query exceeded the recursion limit " +
                           std::to_string(limit_.max_iterations) +
                           ". (Use RETURN AT RECURSION LIMIT to not error, but return the current state as the final "
                           "result when reaching the limit.)")
            .with_hint("Use WITH MUTUALLY RECURSIVE (RETURN AT RECURSION LIMIT n) to return the state reached at "
                       "the limit instead, or make sure the recursion terminates.");
      }
      for (size_t i = 0; i < nb; ++i) {
        apply_to(state[i], delta[i]);
        ctx.check_size(total[i].size() + delta[i].size());
        total[i].append(Batch(delta[i]));  // a copy: delta[i] feeds the next iteration
      }
      if (limit_.return_at_limit && iteration == limit_.max_iterations) break;
    }
    for (Batch& b : total) consolidate(b);
    return total;
  }

  // Constant after construction.
  std::vector<LetRecInput> inputs_;
  std::vector<uint64_t> ids_;
  RecursionLimit limit_;
  RenderOptions opts_;
  std::vector<RelExpr> bindings_plan_;
  bool monotone_ = true;

  RenderedDataflow bindings_;
  std::vector<Feed> bindings_feeds_;
  RenderedDataflow body_;
  std::vector<Feed> body_feeds_;
  std::vector<Contents> contents_;         // each binding's current contents
  std::vector<Contents> inputs_contents_;  // each input's contents (keep_state only)
  bool first_ = true;
};

}  // namespace

void collect_let_rec_inputs(const RelExpr& e, std::vector<LetRecInput>& out) {
  std::vector<uint64_t> bound;
  collect_inputs(e, bound, out);
}

bool is_monotone_plan(const RelExpr& e, std::vector<std::pair<uint64_t, bool>>* scope) {
  switch (e.kind) {
    case RelKind::kNegate:
    case RelKind::kThreshold:
    case RelKind::kReduce:
    case RelKind::kTopK:
    case RelKind::kWindow:
    case RelKind::kTemporalFilter:
    case RelKind::kLetRec:
      return false;
    case RelKind::kConstant:
      for (const auto& [row, diff] : e.constant_rows) {
        if (diff < 0) return false;
      }
      return true;
    case RelKind::kGetLocal:
      if (scope == nullptr) return true;
      for (auto it = scope->rbegin(); it != scope->rend(); ++it)
        if (it->first == e.local_id) return it->second;
      return false;
    case RelKind::kLet:
      if (scope != nullptr) {
        FRESHET_ASSERT(e.inputs.size() == 2 && e.local_ids.size() == 1);
        scope->emplace_back(e.local_ids[0], is_monotone_plan(e.inputs[0], scope));
        const bool body = is_monotone_plan(e.inputs[1], scope);
        scope->pop_back();
        return body;
      }
      [[fallthrough]];
    default:
      for (const RelExpr& in : e.inputs) {
        if (!is_monotone_plan(in, scope)) return false;
      }
      return true;
  }
}

std::unique_ptr<Operator> make_let_rec(const RelExpr& e, std::vector<LetRecInput> inputs, const RenderOptions& opts) {
  return std::make_unique<LetRecOp>(e, std::move(inputs), opts);
}

}  // namespace freshet::dataflow
