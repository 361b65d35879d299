#include "dataflow/graph.hpp"

#include "common/error.hpp"
#include "dataflow/reaper.hpp"

namespace freshet::dataflow {

void StepContext::check_cancelled() const {
  if (limits.cancelled != nullptr && limits.cancelled->load(std::memory_order_relaxed)) {
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

namespace {
// Polls for cancellation: a batch can hold tens of millions of rows.
uint64_t batch_bytes(const Batch& b, const StepContext& ctx) {
  uint64_t n = b.size() * sizeof(Update);
  size_t i = 0;
  for (const Update& u : b) {
    n += u.row.size_bytes();
    if ((++i & 0xffff) == 0) ctx.check_cancelled();
  }
  return n;
}

// Inputs an operator is done with: a big one is freed on the reaper thread, so that freeing
// millions of rows does not delay this query's next cancellation check (or its answer).
void release_inputs(std::vector<Batch>& inputs) {
  size_t rows = 0;
  for (const Batch& b : inputs) rows += b.size();
  if (rows >= (size_t{1} << 16)) destroy_in_background(std::move(inputs));
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

void Dataflow::push(NodeId source, Batch batch) {
  FRESHET_ASSERT(source < nodes_.size() && nodes_[source].op == nullptr);
  Batch& p = nodes_[source].pending;
  if (p.empty()) {
    p = std::move(batch);
  } else {
    p.insert(p.end(), std::make_move_iterator(batch.begin()), std::make_move_iterator(batch.end()));
  }
}

void Dataflow::step(uint64_t t, const EvalContext& ectx) {
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
  FRESHET_ASSERT(n < nodes_.size());
  Batch b = std::move(nodes_[n].output);
  nodes_[n].output.clear();
  return b;
}

size_t Dataflow::state_size() const {
  size_t s = 0;
  for (const Node& n : nodes_) {
    if (n.op) s += n.op->state_size();
  }
  return s;
}

}  // namespace freshet::dataflow
