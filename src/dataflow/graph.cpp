#include "dataflow/graph.hpp"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "common/row_prefix.hpp"
#include "dataflow/columns_needed.hpp"
#include "common/trace.hpp"
#include "dataflow/reaper.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/workers.hpp"

namespace freshet::dataflow {

void StepContext::check_cancelled() const {
  if (limits.cancelled != nullptr && limits.cancelled->load(std::memory_order_relaxed)) {
    trace_event("cancel seen by the dataflow");
    throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
  }
  if (limits.deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() >= limits.deadline) {
    throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to statement timeout");
  }
}

void StepContext::check_memory(uint64_t pending_bytes) const {
  if (limits.memory_budget_bytes != 0 && live_bytes + pending_bytes > limits.memory_budget_bytes) {
    throw SqlError(sqlstate::kOutOfMemory, "the query needs more than its memory budget of " +
                                               std::to_string(limits.memory_budget_bytes >> 20) + " MB")
        .with_hint("Add filters or join conditions, or raise the budget with SET query_memory_budget_mb.");
  }
}

void StepContext::reserve_output(Batch& out, size_t& reserved) const {
  if (limits.memory_budget_bytes == 0 || out.size() + kPollRows <= reserved) return;
  const uint64_t rows = std::min<uint64_t>(limits.max_batch_rows, limits.memory_budget_bytes / sizeof(Update)) + kPollRows;
  if (out.size() >= rows) return;  // over the budget: check_memory throws
  out.reserve(static_cast<size_t>(rows));
  reserved = static_cast<size_t>(rows);
}

namespace {
// O(1): a batch knows the bytes of its blocks. Reserved room not yet used is not counted
// (reserve_output reserves up to the whole budget).
uint64_t batch_bytes(const Batch& b, const StepContext&) { return b.used_bytes(); }

// Inputs an operator is done with: a big one is freed on the reaper thread, so that freeing
// millions of rows does not delay this query's next cancellation check (or its answer).
// Without a malloc_trim (reaper.hpp): the query, or the next, reuses the memory.
void release_inputs(std::vector<Batch>& inputs) {
  size_t rows = 0;
  for (const Batch& b : inputs) rows += b.size();
  if (rows >= (size_t{1} << 16)) destroy_in_background(std::move(inputs), Reclaim::kKeep);
  inputs.clear();
}
}  // namespace

void StepContext::check_size(size_t n) const {
  if (n > limits.max_batch_rows) {
    throw SqlError(sqlstate::kProgramLimitExceeded,
                   "intermediate result exceeds " + std::to_string(limits.max_batch_rows) + " rows")
        .with_hint("Add join conditions or filters to the query.");
  }
}

Dataflow::NodeId Dataflow::add_source() {
  nodes_.emplace_back();
  return nodes_.size() - 1;
}

Dataflow::NodeId Dataflow::add_operator(std::unique_ptr<Operator> op, std::vector<NodeId> inputs) {
  for (NodeId i : inputs) {
    FRESHET_ASSERT(i < nodes_.size());
    nodes_[i].consumers++;
  }
  Node n;
  n.op = std::move(op);
  n.inputs = std::move(inputs);
  nodes_.push_back(std::move(n));
  return nodes_.size() - 1;
}

void Dataflow::order_after(NodeId reader, NodeId writer) {
  FRESHET_ASSERT(writer < reader && reader < nodes_.size());
  nodes_[reader].after.push_back(writer);
}

void Dataflow::push(NodeId source, Batch batch) {
  if (!shards_.empty()) {
    // Any spread will do: every stateful operator exchanges its input by key. Contiguous
    // slices, starting at a rotating shard so that small batches do not all land on shard 0.
    const size_t n = shards_.size();
    const size_t per = (batch.size() + n - 1) / n;
    if (batch.size() < 64 || per == 0) {
      shards_[next_push_shard_++ % n]->push(source, std::move(batch));
      return;
    }
    for (size_t s = 0; s < n; ++s) {
      size_t lo = std::min(batch.size(), s * per), hi = std::min(batch.size(), lo + per);
      Batch slice;  // the updates are copied, the rows' bytes shared (update.hpp)
      slice.reserve(hi - lo);
      slice.share_blocks_of(batch);
      for (size_t i = lo; i < hi; ++i) slice.push_shared(batch[i]);
      shards_[(next_push_shard_ + s) % n]->push(source, std::move(slice));
    }
    ++next_push_shard_;
    return;
  }
  FRESHET_ASSERT(source < nodes_.size() && nodes_[source].op == nullptr);
  nodes_[source].pending.append(std::move(batch));
}

void Dataflow::push_to_shard(NodeId source, size_t shard, Batch batch) {
  if (shards_.empty()) {
    FRESHET_ASSERT(shard == 0);
    push(source, std::move(batch));
    return;
  }
  FRESHET_ASSERT(shard < shards_.size());
  shards_[shard]->push(source, std::move(batch));
}

void Dataflow::step(uint64_t t, const EvalContext& ectx) {
  if (!shards_.empty()) {
    step_sharded(t, ectx);
    return;
  }
  EvalContext local = ectx;
  local.arena = &arena_;
  local.logical_time_ms = t;
  StepContext ctx{t, local, limits_};
  for (Node& n : nodes_) n.output.clear();
  // How many consumers still have to read each node's output this step: the last one may
  // move from it, the others copy.
  std::vector<size_t> unread(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) unread[i] = nodes_[i].consumers;
  std::vector<Batch> inputs;
  // Memory accounting, only with a budget (one-shot queries): bytes of each node's output.
  const bool budget = limits_.memory_budget_bytes != 0;
  std::vector<uint64_t> out_bytes(budget ? nodes_.size() : 0);
  for (size_t i = 0; i < nodes_.size(); ++i) {
    Node& n = nodes_[i];
    ctx.check_cancelled();
    if (n.op == nullptr) {
      n.output = std::move(n.pending);
      n.pending.clear();
      for (Update& u : n.output) u.time = t;
      if (budget) {
        out_bytes[i] = batch_bytes(n.output, ctx);
        ctx.live_bytes += out_bytes[i];
        ctx.check_memory(0);
      }
      continue;
    }
    inputs.clear();
    inputs.resize(n.inputs.size());
    uint64_t input_bytes = 0;  // freed when the operator is done with its inputs
    for (size_t k = 0; k < n.inputs.size(); ++k) {
      Node& in = nodes_[n.inputs[k]];
      if (--unread[n.inputs[k]] == 0) {
        inputs[k] = std::move(in.output);
        in.output.clear();
        if (budget) input_bytes += out_bytes[n.inputs[k]];
      } else {
        inputs[k] = in.output;
        if (budget) {
          ctx.live_bytes += out_bytes[n.inputs[k]];  // a copy
          input_bytes += out_bytes[n.inputs[k]];
          ctx.check_memory(0);
        }
      }
    }
    note_input(n, inputs);
    try {
      n.op->step(ctx, inputs, n.output);
    } catch (...) {
      // Kept (not freed while unwinding) so that the owner can free them off the thread that
      // reports the error (reaper.hpp).
      for (Batch& b : inputs) abandoned_.push_back(std::move(b));
      throw;
    }
    ctx.check_size(n.output.size());
    if (budget) {
      release_inputs(inputs);
      out_bytes[i] = batch_bytes(n.output, ctx);
      ctx.live_bytes = ctx.live_bytes - input_bytes + out_bytes[i];
      ctx.check_memory(0);
    }
    arena_.reset();
  }
}

Batch Dataflow::take_output(NodeId n) {
  if (!shards_.empty()) {
    Batch all = shards_[0]->take_output(n);
    for (size_t s = 1; s < shards_.size(); ++s) all.append(shards_[s]->take_output(n));
    for (auto& shard : shards_) {  // a routed output not read by its consumer (a throw)
      Node& node = shard->nodes_[n];
      for (Batch& b : node.routed) all.append(std::move(b));
      node.routed.clear();
      node.is_routed = false;
    }
    return all;
  }
  FRESHET_ASSERT(n < nodes_.size());
  Batch b = std::move(nodes_[n].output);
  nodes_[n].output.clear();
  return b;
}

size_t Dataflow::state_size() const {
  size_t s = 0;
  for (const auto& shard : shards_) s += shard->state_size();
  for (const Node& n : nodes_) {
    if (n.op) s += n.op->state_size();
  }
  return s;
}

std::optional<uint64_t> Dataflow::next_due() const {
  std::optional<uint64_t> due;
  auto take = [&](std::optional<uint64_t> t) {
    if (t && (!due || *t < *due)) due = t;
  };
  for (const auto& shard : shards_) take(shard->next_due());
  for (const Node& n : nodes_)
    if (n.op) take(n.op->next_due());
  return due;
}

size_t Dataflow::state_bytes(bool exact) const {
  // A walk is due once the input consumed since the last one may have doubled the state (at
  // least 64 KB): the walk's O(state) is paid by that much input. In between, the estimate
  // follows the input at the learned growth factor.
  constexpr uint64_t kMinWalkBytes = 64 << 10;
  size_t s = 0;
  for (const auto& shard : shards_) s += shard->state_bytes(exact);
  for (const Node& n : nodes_) {
    if (!n.op) continue;
    uint64_t grown = n.input_bytes_since * n.growth;
    if (exact || n.op->state_bytes_cheap() || grown >= std::max<uint64_t>(kMinWalkBytes, n.measured_bytes)) {
      uint64_t now = n.op->state_bytes();
      if (n.input_bytes_since != 0 && now > n.measured_bytes) {
        // Twice the growth seen, so that a step of costlier rows stays covered.
        n.growth = std::clamp<uint64_t>((2 * (now - n.measured_bytes) + n.input_bytes_since - 1) / n.input_bytes_since + 1, 1, 64);
      } else if (n.input_bytes_since != 0) {
        // Churn (retractions as many as insertions): walks get rarer, down to one per half the
        // state's bytes of input.
        n.growth = std::max<uint64_t>(1, n.growth / 2);
      }
      n.measured_bytes = now;
      n.input_bytes_since = 0;
      grown = 0;
    }
    s += n.measured_bytes + grown;
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// Sharded dataflows.

bool Dataflow::route_output(NodeId n, OutputRouter dest) {
  if (shards_.empty()) return false;
  FRESHET_ASSERT(n < shards_[0]->nodes_.size());
  if (shards_[0]->nodes_[n].consumers != 0) return false;
  routed_output_ = static_cast<int64_t>(n);
  output_router_ = std::move(dest);
  return true;
}

bool Dataflow::take_routed_output(NodeId n, std::vector<std::vector<Batch>>& by_producer) {
  if (shards_.empty() || routed_output_ != static_cast<int64_t>(n)) return false;
  for (auto& shard : shards_)
    if (!shard->nodes_[n].is_routed) return false;
  by_producer.resize(shards_.size());
  for (size_t p = 0; p < shards_.size(); ++p) {
    Node& node = shards_[p]->nodes_[n];
    FRESHET_ASSERT(node.output.empty() && node.routed.size() == shards_.size());
    by_producer[p] = std::move(node.routed);
    node.routed.clear();
    node.is_routed = false;
  }
  return true;
}

std::unique_ptr<Dataflow> Dataflow::sharded(std::vector<std::unique_ptr<Dataflow>> replicas, StepLimits limits) {
  FRESHET_ASSERT(replicas.size() >= 2);
  for (const auto& r : replicas) FRESHET_ASSERT(r->nodes_.size() == replicas[0]->nodes_.size() && r->shards_.empty());
  auto d = std::make_unique<Dataflow>(limits);
  d->shards_ = std::move(replicas);
  return d;
}

void Dataflow::partition(const Exchange& ex, Batch& from, const StepContext& sctx, std::vector<Batch>& to) const {
  const size_t n = to.size();
  EvalContext& ctx = sctx.eval;
  std::vector<Datum> row, key;
  std::string bytes;
  std::hash<std::string_view> hash;
  const bool no_key = ex.kind == Exchange::Kind::kSingle ||
                      (ex.key_exprs.empty() && ex.key_columns.empty() && !ex.whole_row);
  if (no_key) {
    to[0].append(std::move(from));
    return;
  }
  // Only the columns the key reads are decoded.
  size_t prefix = columns_needed(ex.key_exprs);
  for (uint32_t c : ex.key_columns) prefix = std::max(prefix, static_cast<size_t>(c) + 1);
  // Room for an even spread and a quarter more, so that a big input is not reallocated
  // (an uninterruptible move) unless its keys are skewed.
  if (from.size() >= kBigBatchRows)
    for (Batch& b : to) b.reserve(from.size() / n + from.size() / 4);
  // Each update goes to its bucket as a 32-byte view; the buckets share from's blocks, so no
  // row's bytes are copied (update.hpp, push_shared).
  for (Batch& b : to) b.share_blocks_of(from);
  size_t i = 0;
  for (Update& u : from) {
    if ((++i & kPollMask) == 0) sctx.check_cancelled();
    bytes.clear();
    if (ex.whole_row) {
      // The row's own bytes unless a datum needs its canonical form (canonical_row).
      row.clear();
      u.row.unpack_into(row);
      bool canon = false;
      for (const Datum& d : row) canon = canon || needs_canonical(d);
      if (canon) {
        append_canonical_key(row, bytes);
      } else {
        bytes.assign(u.row.bytes());
      }
      ctx.arena->reset();
    } else {
      row.clear();
      unpack_prefix_into(u.row, row, prefix);
      key.clear();
      if (!ex.key_exprs.empty()) {
        for (const ScalarExpr& e : ex.key_exprs) key.push_back(eval(e, row, ctx));
      } else {
        for (uint32_t c : ex.key_columns) key.push_back(row[c]);
      }
      append_canonical_key(key, bytes);
      ctx.arena->reset();
    }
    to[hash(bytes) % n].push_shared(u);
  }
  from.clear();
}

namespace {
// Exchanged by key with an empty key: every update to one shard.
bool empty_key(const Exchange& ex) {
  return ex.kind == Exchange::Kind::kByKey && ex.key_exprs.empty() && ex.key_columns.empty() && !ex.whole_row;
}
}  // namespace

Exchange Dataflow::planned_exchange(size_t i, size_t j) const {
  if (i < in_place_.size() && in_place_[i][j] != 0) return Exchange{};
  return asked_exchange(i, j);
}

Exchange Dataflow::asked_exchange(size_t i, size_t j) const {
  const Node& pn = shards_[0]->nodes_[i];
  if (broadcast_input_[i] >= 0) {
    if (static_cast<size_t>(broadcast_input_[i]) == j) return Exchange{Exchange::Kind::kBroadcast};
    // The other input is spread by the whole row, not left where it arrived: a row's
    // retraction must meet its insertion in the same shard's arrangement, or neither would
    // ever be consolidated away.
    Exchange x;
    x.kind = Exchange::Kind::kByKey;
    x.whole_row = true;
    return x;
  }
  return pn.op->exchange(j);
}

namespace {
// The columns an exchange by key hashes, when its key is plain columns; else none.
std::optional<Partitioning> key_columns_of(const Exchange& ex) {
  if (ex.kind != Exchange::Kind::kByKey || ex.whole_row) return std::nullopt;
  if (!ex.key_exprs.empty()) {
    Partitioning cols;
    for (const ScalarExpr& e : ex.key_exprs) {
      if (e.kind != ScalarKind::kColumn) return std::nullopt;
      cols.push_back(e.column);
    }
    return cols;
  }
  if (ex.key_columns.empty()) return std::nullopt;  // the empty key: one shard
  return ex.key_columns;
}
}  // namespace

// Placement (src/dataflow/README.md, "Placement"): an exchange by key K sends an update to
// shard hash(canonical K) % n, and so does every operator after it that leaves its output on
// the shard where its input was and copies K's columns into it. A later exchange by exactly
// those columns (in that order: the same hash) would send every update to the shard it is
// already on, so the consumer reads its input in place: Nexmark q9's window partitioned by
// the auction id right after the join on it. Exact placement, not mere co-location (a key
// holding K's columns among others would also keep equal keys together), so that state
// read out of band (a shared arrangement looked up by hash) is where a lookup expects it.
void Dataflow::plan_placement() {
  // FRESHET_PLACEMENT=off exchanges every input as its operator asks: for benchmarks comparing
  // the two in one binary (bench/README.md), not a setting to run with.
  static const bool enabled = [] {
    const char* v = std::getenv("FRESHET_PLACEMENT");
    return v == nullptr || std::string_view(v) != "off";
  }();
  const std::vector<Node>& proto = shards_[0]->nodes_;
  placement_.assign(proto.size(), {});
  in_place_.assign(proto.size(), {});
  if (!enabled) {
    for (size_t c = 0; c < proto.size(); ++c) in_place_[c].assign(proto[c].inputs.size(), 0);
    return;
  }
  for (size_t c = 0; c < proto.size(); ++c) {
    const Node& cn = proto[c];
    in_place_[c].assign(cn.inputs.size(), 0);
    if (cn.op == nullptr || cn.inputs.empty()) continue;  // sources and constants: unknown
    bool single = false;
    for (size_t j = 0; j < cn.inputs.size(); ++j) single |= cn.op->exchange(j).kind == Exchange::Kind::kSingle;
    if (single) continue;  // everything on shard 0
    std::vector<InputPlacement> ins(cn.inputs.size());
    for (size_t j = 0; j < cn.inputs.size(); ++j) {
      if (broadcast_input_[c] >= 0) continue;  // replicated or spread by the whole row: unknown
      const NodeId p = cn.inputs[j];
      const std::vector<Partitioning>& prod = placement_[p];
      const Exchange asked = asked_exchange(c, j);
      ins[j].as_asked = true;
      if (asked.kind == Exchange::Kind::kLocal) {
        ins[j].parts = prod;
        continue;
      }
      std::optional<Partitioning> key = key_columns_of(asked);
      if (key && proto[p].op != nullptr && std::find(prod.begin(), prod.end(), *key) != prod.end()) {
        in_place_[c][j] = 1;
        ins[j].parts = prod;
      } else if (key) {
        ins[j].parts.push_back(std::move(*key));
      }
    }
    placement_[c] = cn.op->output_partitioning(ins);
  }
}

void Dataflow::plan_routes() {
  const std::vector<Node>& proto = shards_[0]->nodes_;
  routes_.assign(proto.size(), Route{});
  broadcast_input_.assign(proto.size(), -1);
  // Nodes computed from constants only (no source upstream): they emit at the first step and
  // seldom after, on shard 0, so replicating them costs little.
  std::vector<bool> constant(proto.size(), false);
  for (size_t c = 0; c < proto.size(); ++c) {
    const Node& cn = proto[c];
    if (cn.op == nullptr) continue;
    bool all = true;
    for (NodeId in : cn.inputs) all = all && constant[in];
    constant[c] = all;
  }
  for (size_t c = 0; c < proto.size(); ++c) {
    const Node& cn = proto[c];
    if (cn.op == nullptr || cn.inputs.size() != 2 || !cn.op->bilinear()) continue;
    if (!empty_key(cn.op->exchange(0)) || !empty_key(cn.op->exchange(1))) continue;
    const bool c0 = constant[cn.inputs[0]], c1 = constant[cn.inputs[1]];
    if (c0 != c1) broadcast_input_[c] = c0 ? 0 : 1;
  }
  plan_placement();
  for (size_t c = 0; c < proto.size(); ++c) {
    const Node& cn = proto[c];
    if (cn.op == nullptr || cn.inputs.empty()) continue;
    bool single = false;
    for (size_t j = 0; j < cn.inputs.size(); ++j) single |= cn.op->exchange(j).kind == Exchange::Kind::kSingle;
    if (single) continue;
    for (size_t j = 0; j < cn.inputs.size(); ++j) {
      const NodeId in = cn.inputs[j];
      // Producers with an operator (sources are filled by push(), not by a shard task) and
      // exactly one reader: this input of this consumer.
      if (proto[in].op == nullptr || proto[in].consumers != 1) continue;
      Exchange ex = planned_exchange(c, j);
      if (ex.kind != Exchange::Kind::kByKey) continue;
      routes_[in] = Route{true, c, j, std::move(ex)};
    }
  }
  routes_planned_ = true;
}

namespace {
// A stage whose shards take fewer input updates than this runs its shards one after the other
// on the calling thread (as kParallelMin per node in step_node_sharded).
constexpr size_t kStageParallelMin = 256;
// FRESHET_STAGE_PARALLEL_MIN=n sets that threshold instead: for benchmarks comparing
// thresholds in one binary (bench/README.md), not a setting to run with.
size_t stage_parallel_min() {
  static const size_t n = [] {
    const char* v = std::getenv("FRESHET_STAGE_PARALLEL_MIN");
    if (v == nullptr) return kStageParallelMin;
    char* end = nullptr;
    const unsigned long long x = std::strtoull(v, &end, 10);
    return end != v && *end == '\0' ? static_cast<size_t>(x) : kStageParallelMin;
  }();
  return n;
}

// FRESHET_STAGED_STEPS=off runs every sharded step node by node, as before: for benchmarks
// comparing the two (bench/README.md, "Staged steps"), not a setting to run with.
bool staged_steps_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("FRESHET_STAGED_STEPS");
    return v == nullptr || std::string_view(v) != "off";
  }();
  return on;
}
}  // namespace

void Dataflow::step_sharded(uint64_t t, const EvalContext& ectx) {
  const size_t n = shards_.size();
  // Staged steps (src/dataflow/README.md, "Staged steps"). The node-by-node scheme below pays
  // one pool round (a hand-over and a barrier) per operator. A staged step cuts the graph into
  // stages at its exchanges, as timely dataflow's workers each run their shard of the whole
  // graph and meet the others only where data changes shards: a node is in the stage of its
  // inputs when it reads them in place (kLocal), one later when an input is exchanged (by
  // key, to shard 0, or broadcast). Each shard runs all nodes of a stage in one task, in index
  // (topological) order; a node whose output is exchanged splits it by destination at the end
  // of its own task (partition(): the buckets share the output's blocks, no row is copied),
  // and the consuming shard takes its buckets from every producer in a later stage, after the
  // barrier that ends the producers' stage. A step costs one pool round per stage.
  // Used for every step without a memory budget after the first (routes_planned_: a
  // maintained view's steady state). The first step (a maintained view's hydration) and
  // one-shot queries (whose budget counts the bytes alive across all shards before every
  // node) run node by node.
  // A local class, since it reaches the shards' nodes (Dataflow's private members).
  struct Staged {
    // An input read through an exchange: buckets[p][d], what producing shard p sends shard d,
    // filled by p's task at the end of the producer's node, taken by d's task in a later
    // stage.
    struct Edge {
      NodeId producer = 0;
      Exchange ex;
      std::vector<std::vector<Batch>> buckets;
    };
    Dataflow& df;
    size_t n;
    std::vector<uint32_t> stage_of;                // per node
    std::vector<std::vector<NodeId>> nodes;        // per stage, in index order
    std::vector<std::vector<int32_t>> in_edge;     // per node, per input: its Edge, or -1 (in place)
    std::vector<std::vector<uint32_t>> out_edges;  // per node: the Edges it feeds
    std::vector<uint32_t> local_readers;           // per node: inputs reading it in place
    std::vector<uint8_t> single;                   // per node: runs on shard 0 only
    std::vector<Edge> edges;

    // O(nodes + inputs), each step: the exchanges are asked of the operators, as the
    // node-by-node scheme does.
    void plan() {
      const std::vector<Node>& proto = df.shards_[0]->nodes_;
      const size_t count = proto.size();
      stage_of.assign(count, 0);
      in_edge.assign(count, {});
      out_edges.assign(count, {});
      local_readers.assign(count, 0);
      single.assign(count, 0);
      uint32_t stages = 1;
      for (size_t c = 0; c < count; ++c) {
        const Node& cn = proto[c];
        if (cn.op == nullptr) continue;  // a source: stage 0
        bool one = cn.inputs.empty();     // constants: shard 0 only
        for (size_t j = 0; j < cn.inputs.size(); ++j) one |= cn.op->exchange(j).kind == Exchange::Kind::kSingle;
        single[c] = one ? 1 : 0;
        in_edge[c].assign(cn.inputs.size(), -1);
        uint32_t stage = 0;
        for (size_t j = 0; j < cn.inputs.size(); ++j) {
          const NodeId p = cn.inputs[j];
          Exchange ex = one ? Exchange{Exchange::Kind::kSingle} : df.planned_exchange(c, j);
          if (ex.kind == Exchange::Kind::kLocal) {
            ++local_readers[p];
            stage = std::max(stage, stage_of[p]);
            continue;
          }
          in_edge[c][j] = static_cast<int32_t>(edges.size());
          out_edges[p].push_back(static_cast<uint32_t>(edges.size()));
          edges.push_back(Edge{p, std::move(ex), std::vector<std::vector<Batch>>(n, std::vector<Batch>(n))});
          stage = std::max(stage, stage_of[p] + 1);
        }
        // State read out of band: in its writer's stage (after it: index order) or later.
        for (NodeId w : cn.after) stage = std::max(stage, stage_of[w]);
        stage_of[c] = stage;
        stages = std::max(stages, stage + 1);
      }
      nodes.assign(stages, {});
      for (size_t i = 0; i < count; ++i) nodes[stage_of[i]].push_back(i);
    }

    // The updates entering stage k: pushed, exchanged to it, or read in place from an earlier
    // stage. Called between stages (no task runs).
    size_t stage_input(size_t k) const {
      size_t total = 0;
      for (NodeId i : nodes[k]) {
        const Node& pn = df.shards_[0]->nodes_[i];
        if (pn.op == nullptr) {
          for (const auto& shard : df.shards_) total += shard->nodes_[i].pending.size();
          continue;
        }
        for (size_t j = 0; j < pn.inputs.size(); ++j) {
          if (in_edge[i][j] >= 0) {
            for (const auto& per_producer : edges[in_edge[i][j]].buckets)
              for (const Batch& b : per_producer) total += b.size();
          } else if (stage_of[pn.inputs[j]] < k) {
            for (const auto& shard : df.shards_) total += shard->nodes_[pn.inputs[j]].output.size();
          }
        }
      }
      return total;
    }

    // Stage k's nodes on shard s (one pool task). unread: the in-place readers still to come
    // on this shard, per node; inputs: scratch.
    void run_shard(size_t k, size_t s, StepContext& ctx, std::vector<uint32_t>& unread, std::vector<Batch>& inputs) {
      Dataflow& shard = *df.shards_[s];
      for (NodeId i : nodes[k]) {
        Node& node = shard.nodes_[i];
        ctx.check_cancelled();
        if (node.op == nullptr) {
          node.output = std::move(node.pending);
          node.pending.clear();
          for (Update& u : node.output) u.time = ctx.time;
        } else {
          if (single[i] != 0 && s != 0) continue;  // its inputs all went to shard 0
          inputs.clear();
          inputs.resize(node.inputs.size());
          for (size_t j = 0; j < node.inputs.size(); ++j) {
            const NodeId in = node.inputs[j];
            if (in_edge[i][j] < 0) {
              // In place: the last reader on this shard moves the output, others copy the
              // updates (sharing the rows' blocks).
              Node& src = shard.nodes_[in];
              if (--unread[in] == 0) {
                inputs[j] = std::move(src.output);
                src.output.clear();
              } else {
                inputs[j] = src.output;
              }
              continue;
            }
            // Exchanged: what every producing shard sent this one (written before the barrier
            // that ended the producer's stage; each bucket is taken by this shard's task only).
            Edge& edge = edges[in_edge[i][j]];
            size_t rows = 0;
            for (size_t p = 0; p < n; ++p) rows += edge.buckets[p][s].size();
            if (rows >= kBigBatchRows) inputs[j].reserve(rows);
            for (size_t p = 0; p < n; ++p) inputs[j].append(std::move(edge.buckets[p][s]));
          }
          note_input(node, inputs);
          node.op->step(ctx, inputs, node.output);
          ctx.check_size(node.output.size());
          inputs.clear();
          shard.arena_.reset();
        }
        // Exchanged readers: the output split by destination here, on this shard's task. The
        // last of them takes the output itself when nothing on this shard reads it in place.
        const std::vector<uint32_t>& outs = out_edges[i];
        for (size_t q = 0; q < outs.size(); ++q) {
          Edge& edge = edges[outs[q]];
          std::vector<Batch>& to = edge.buckets[s];
          const bool last = q + 1 == outs.size() && local_readers[i] == 0;
          if (edge.ex.kind == Exchange::Kind::kBroadcast) {
            // A broadcast join's constant side: all of it to every shard (few rows, seldom).
            for (size_t d = 0; d < n; ++d) to[d] = node.output;
            if (last) node.output.clear();
          } else if (last) {
            df.partition(edge.ex, node.output, ctx, to);  // leaves node.output empty
          } else {
            Batch copy = node.output;  // the updates only: the rows' blocks are shared
            df.partition(edge.ex, copy, ctx, to);
          }
        }
        // The driver's output (route_output): split for it here, on this shard's task, as an
        // exchange's producer splits (the buckets share the output's blocks).
        if (static_cast<int64_t>(i) == df.routed_output_ && (single[i] == 0 || s == 0)) {
          node.routed.assign(n, Batch());
          for (Batch& b : node.routed) b.share_blocks_of(node.output);
          for (const Update& u : node.output) {
            const size_t d = df.output_router_(u.row);
            FRESHET_ASSERT(d < n);
            node.routed[d].push_shared(u);
          }
          node.output.clear();
          node.is_routed = true;
        }
      }
    }
  };
  // Per shard: its evaluation context (its own arena) and step context.
  std::vector<EvalContext> evals(n, ectx);
  std::vector<std::unique_ptr<StepContext>> ctxs;
  for (size_t s = 0; s < n; ++s) {
    evals[s].arena = &shards_[s]->arena_;
    evals[s].logical_time_ms = t;
    ctxs.push_back(std::make_unique<StepContext>(StepContext{t, evals[s], shards_[s]->limits_}));
  }
  if (routes_planned_ && limits_.memory_budget_bytes == 0 && staged_steps_enabled()) {
    Staged st{*this, n, {}, {}, {}, {}, {}, {}, {}};
    st.plan();
    for (auto& shard : shards_)
      for (Node& node : shard->nodes_) {
        node.output.clear();
        node.routed.clear();
        node.is_routed = false;
      }
    std::vector<std::vector<uint32_t>> unread(n, st.local_readers);
    std::vector<std::vector<Batch>> inputs(n);
    WorkerPool& pool = WorkerPool::global();
    try {
      for (size_t k = 0; k < st.nodes.size(); ++k) {
        auto task = [&](size_t s) { st.run_shard(k, s, *ctxs[s], unread[s], inputs[s]); };
        if (st.stage_input(k) >= stage_parallel_min()) {
          pool.run(n, task);
        } else {
          for (size_t s = 0; s < n; ++s) task(s);
        }
      }
    } catch (...) {
      // As below: what the step held is freed with the dataflow, not while unwinding.
      for (auto& per_shard : inputs)
        for (Batch& b : per_shard)
          if (!b.empty()) abandoned_.push_back(std::move(b));
      for (auto& edge : st.edges)
        for (auto& per_producer : edge.buckets)
          for (Batch& b : per_producer)
            if (!b.empty()) abandoned_.push_back(std::move(b));
      throw;
    }
    return;
  }
  if (!routes_planned_) plan_routes();
  const std::vector<Node>& proto = shards_[0]->nodes_;
  const size_t nodes = proto.size();
  for (auto& shard : shards_)
    for (Node& node : shard->nodes_) {
      node.output.clear();
      node.routed.clear();
      node.is_routed = false;
    }
  std::vector<size_t> unread(nodes);
  for (size_t i = 0; i < nodes; ++i) unread[i] = proto[i].consumers;
  std::vector<std::vector<Batch>> inputs(n);     // per shard, per input
  std::vector<std::vector<Batch>> buckets(n);    // per producing shard, per consuming shard
  std::vector<Batch> from(n);                    // per producing shard: the input being exchanged
  try {
    for (size_t i = 0; i < nodes; ++i) step_node_sharded(i, t, ctxs, unread, inputs, buckets, from);
  } catch (...) {
    // Cancelled, timed out, over budget: what the step held is freed with the dataflow, which
    // a one-shot query frees off the thread that answers (reaper.hpp), not while unwinding.
    for (auto* v : {&inputs, &buckets})
      for (auto& per_shard : *v)
        for (Batch& b : per_shard)
          if (!b.empty()) abandoned_.push_back(std::move(b));
    for (Batch& b : from)
      if (!b.empty()) abandoned_.push_back(std::move(b));
    throw;
  }
}

void Dataflow::step_node_sharded(size_t i, uint64_t t, std::vector<std::unique_ptr<StepContext>>& ctxs,
                                 std::vector<size_t>& unread, std::vector<std::vector<Batch>>& inputs,
                                 std::vector<std::vector<Batch>>& buckets, std::vector<Batch>& from) {
  const size_t n = shards_.size();
  const std::vector<Node>& proto = shards_[0]->nodes_;
  const bool budget = limits_.memory_budget_bytes != 0;
  WorkerPool& pool = WorkerPool::global();
  // Below this many input updates a node's shards run one after the other on this thread:
  // handing work to the pool costs more than it saves. With rows in per-batch blocks
  // (update.hpp) a shard's work no longer frees rows another thread allocated, and the caller
  // runs any shard the pool has not claimed yet, so the hand-over costs a lock and a wake-up:
  // a few microseconds against ~1 us per update (src/dataflow/README.md, "Data layout").
  constexpr size_t kParallelMin = 256;
  ctxs[0]->check_cancelled();
  const Node& pn = proto[i];
  if (pn.op == nullptr) {
    for (auto& shard : shards_) {
      Node& node = shard->nodes_[i];
      node.output = std::move(node.pending);
      node.pending.clear();
      for (Update& u : node.output) u.time = t;
    }
    return;
  }
  const size_t k = pn.inputs.size();
  bool single = k == 0;
  for (size_t j = 0; j < k; ++j) single |= pn.op->exchange(j).kind == Exchange::Kind::kSingle;
  size_t total = 0;
  for (size_t s = 0; s < n; ++s) {
    inputs[s].clear();
    inputs[s].resize(k);
  }
  for (size_t j = 0; j < k; ++j) {
    const NodeId in = pn.inputs[j];
    const bool last = --unread[in] == 0;
    if (shards_[0]->nodes_[in].is_routed) {
      // Split by the producer's own task (Route): shard s takes what every producer sent it.
      for (size_t s = 0; s < n; ++s) {
        Batch& dst = inputs[s][j];
        for (size_t p = 0; p < n; ++p) {
          Node& src = shards_[p]->nodes_[in];
          total += src.routed[s].size();
          dst.append(std::move(src.routed[s]));  // takes the bucket's blocks, copies no row
        }
      }
      for (size_t p = 0; p < n; ++p) {
        shards_[p]->nodes_[in].routed.clear();
        shards_[p]->nodes_[in].is_routed = false;
      }
      ctxs[0]->check_cancelled();
      continue;
    }
    Exchange ex = single ? Exchange{Exchange::Kind::kSingle} : planned_exchange(i, j);
    // Each shard's output of the input: moved by its last reader, else copied.
    for (size_t s = 0; s < n; ++s) {
      Node& src = shards_[s]->nodes_[in];
      if (last) {
        from[s] = std::move(src.output);
        src.output.clear();
      } else {
        from[s] = src.output;
      }
      total += from[s].size();
    }
    if (ex.kind == Exchange::Kind::kLocal) {
      for (size_t s = 0; s < n; ++s) {
        inputs[s][j] = std::move(from[s]);
        from[s].clear();
      }
      continue;
    }
    if (ex.kind == Exchange::Kind::kBroadcast) {
      // A broadcast join's constant side: every shard gets all of it (a copy of its rows; it
      // is small and changes seldom).
      Batch all;
      for (size_t s = 0; s < n; ++s) {
        all.append(std::move(from[s]));
        from[s].clear();
      }
      for (size_t s = 0; s + 1 < n; ++s) inputs[s][j] = all;
      total += all.size() * (n - 1);
      inputs[n - 1][j] = std::move(all);
      continue;
    }
    // Exchange: each producing shard splits its updates by key, then each consuming shard
    // concatenates what every producer sent it.
    auto split = [&](size_t s) {
      buckets[s].assign(n, Batch());
      partition(ex, from[s], *ctxs[s], buckets[s]);
    };
    if (total >= kParallelMin) {
      pool.run(n, split);
    } else {
      for (size_t s = 0; s < n; ++s) split(s);
    }
    for (size_t s = 0; s < n; ++s) {
      Batch& dst = inputs[s][j];
      size_t rows = 0;
      for (size_t p = 0; p < n; ++p) rows += buckets[p][s].size();
      // Reserved up front, so that a big input is not reallocated (an uninterruptible move).
      if (rows >= kBigBatchRows) dst.reserve(rows);
      for (size_t p = 0; p < n; ++p) {
        dst.append(std::move(buckets[p][s]));  // takes the bucket's buffers, copies no row
        ctxs[0]->check_cancelled();
      }
    }
  }
  if (budget) {
    uint64_t live = 0;
    for (size_t s = 0; s < n; ++s)
      for (const Batch& b : inputs[s]) live += batch_bytes(b, *ctxs[s]);
    for (size_t s = 0; s < n; ++s) ctxs[s]->live_bytes = live;
    ctxs[0]->check_memory(0);
  }
  const Route& route = routes_[i];
  auto run = [&](size_t s) {
    if (single && s != 0) return;
    Dataflow& shard = *shards_[s];
    Node& node = shard.nodes_[i];
    note_input(node, inputs[s]);
    node.op->step(*ctxs[s], inputs[s], node.output);
    ctxs[s]->check_size(node.output.size());
    if (route.on && !single) {
      // The only consumer exchanges this output by key: split it here, on this shard's task.
      node.routed.assign(n, Batch());
      partition(route.ex, node.output, *ctxs[s], node.routed);
      node.is_routed = true;
    }
    if (budget) {
      release_inputs(inputs[s]);  // big ones freed on the reaper thread
    } else {
      inputs[s].clear();
    }
    shard.arena_.reset();
  };
  if (total >= kParallelMin && !single) {
    pool.run(n, run);
  } else {
    for (size_t s = 0; s < n; ++s) run(s);
  }
}

}  // namespace freshet::dataflow
