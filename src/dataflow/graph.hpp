#pragma once
// A small push-based dataflow graph: operators connected in a DAG, driven one timestamp at a
// time. The driver pushes each source's batch for time t (push()), then calls step(t): every
// operator, in topological (construction) order, consumes its inputs' batches for t and
// produces its own output batch for t, which its consumers read. State (arrangements,
// accumulators) persists across steps, so the same graph serves a one-shot query (one step at
// time 0) and an incrementally maintained view (one step per tick).
//
// Threads: a Dataflow is owned by one thread; operators are single-threaded. (Sharding by key
// across workers, ARCHITECTURE.md, would run one Dataflow per shard with exchanges.)
// Limits: StepLimits bounds the size of any one batch (54000) and is polled for cancellation
// (57014) between operators and inside operators that can run long (joins).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/arena.hpp"
#include "common/functions.hpp"
#include "dataflow/update.hpp"

namespace freshet::dataflow {

struct StepLimits {
  // Largest batch any operator may produce in one step (an absurd intermediate result).
  uint64_t max_batch_rows = 100'000'000;
  const std::atomic<bool>* cancelled = nullptr;
  // statement_timeout: past this instant a step throws 57014 (the zero value: no deadline).
  std::chrono::steady_clock::time_point deadline{};
  // The memory budget (0: none): when the batches alive in a step (operators' inputs being
  // consumed and outputs not yet consumed) take more than this many bytes, the step throws
  // 53200 and everything it held is freed as the exception unwinds.
  uint64_t memory_budget_bytes = 0;
};

// What an operator's step gets besides its inputs. `eval` is a copy of the caller's context
// whose arena belongs to the dataflow and is reset between operators.
struct StepContext {
  uint64_t time = 0;
  EvalContext& eval;
  const StepLimits& limits;
  // Throws 57014 when cancelled.
  void check_cancelled() const;
  // Throws 54000 when a batch of n rows exceeds the limit.
  void check_size(size_t n) const;
  // Throws 53200 when the bytes alive in the step plus pending_bytes (what an operator is
  // building and has not yet handed over) exceed the memory budget.
  void check_memory(uint64_t pending_bytes) const;
  // Bytes of the batches alive in this step (kept by Dataflow::step when there is a budget).
  uint64_t live_bytes = 0;
};

class Operator {
 public:
  virtual ~Operator() = default;
  // Consumes this step's input batches (one per input, all updates at ctx.time; an operator
  // may move from them) and appends its output updates to out.
  virtual void step(StepContext& ctx, std::span<Batch> inputs, Batch& out) = 0;
  // Short name for debugging and metrics.
  virtual std::string name() const = 0;
  // Rows (or entries) of state the operator holds, for metrics and tests.
  virtual size_t state_size() const { return 0; }
};

class Dataflow {
 public:
  using NodeId = size_t;

  explicit Dataflow(StepLimits limits = {}) : limits_(limits) {}

  // A node that emits what push() gives it.
  NodeId add_source();
  // An operator reading the given nodes' outputs. REQUIRES: inputs were added before.
  NodeId add_operator(std::unique_ptr<Operator> op, std::vector<NodeId> inputs);

  // Queues updates for a source for the next step.
  void push(NodeId source, Batch batch);
  // Runs every operator once for time t. Afterwards output(n) holds node n's updates for t.
  void step(uint64_t t, const EvalContext& ctx);
  // The node's output of the last step (consumers have already read it).
  Batch take_output(NodeId n);

  size_t num_nodes() const { return nodes_.size(); }
  const StepLimits& limits() const { return limits_; }
  size_t state_size() const;

 private:
  struct Node {
    std::unique_ptr<Operator> op;  // null for a source
    std::vector<NodeId> inputs;
    size_t consumers = 0;
    Batch pending;  // sources: pushed updates
    Batch output;
  };
  StepLimits limits_;
  std::vector<Node> nodes_;
  Arena arena_;
  // The inputs of an operator whose step threw (cancelled, over budget): freed with the
  // dataflow, which a one-shot query frees off its thread (reaper.hpp).
  std::vector<Batch> abandoned_;
};

}  // namespace freshet::dataflow
