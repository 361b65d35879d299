#pragma once
// A small push-based dataflow graph: operators connected in a DAG, driven one timestamp at a
// time. The driver pushes each source's batch for time t (push()), then calls step(t): every
// operator, in topological (construction) order, consumes its inputs' batches for t and
// produces its own output batch for t, which its consumers read. State (arrangements,
// accumulators) persists across steps, so the same graph serves a one-shot query (one step at
// time 0) and an incrementally maintained view (one step per tick).
//
// Threads: a Dataflow is owned by one thread; operators are single-threaded. A sharded
// Dataflow (Dataflow::sharded) holds N replicas of the same graph, one per shard: each
// stateful operator's inputs are exchanged by the key its state is kept by (Operator::exchange),
// so every shard holds the state of its keys only, and the shards of one operator run in
// parallel on the worker pool (workers.hpp), node by node.
// Limits: StepLimits bounds the size of any one batch (54000) and is polled for cancellation
// (57014) between operators and inside operators that can run long (joins).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <optional>
#include <vector>

#include "common/arena.hpp"
#include "common/functions.hpp"
#include "dataflow/ir.hpp"
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
  // For an operator that may build a huge output batch (table functions, joins): call it
  // where the operator polls (every kPollRows rows). With a memory budget, the first call
  // past `reserved` reserves room for as many updates as the budget allows, so the batch is
  // never reallocated: moving tens of millions of updates to a bigger vector is one call of
  // 100-300 ms that cannot poll for cancellation (bench/README.md, "Cancel latency"). Only
  // address space is taken until the updates are written. Without a budget: nothing.
  void reserve_output(Batch& out, size_t& reserved) const;
  // Bytes of the batches alive in this step (kept by Dataflow::step when there is a budget).
  uint64_t live_bytes = 0;
};

// State accounting helpers (Operator::state_bytes): the heap bytes of a row beyond its own
// object (a short row lives inside the std::string), and the bytes of one node of a node-based
// map or set besides its value (links, colour or cached hash, allocator rounding).
inline size_t row_heap_bytes(const Row& r) {
  return r.bytes().size() > 15 ? r.bytes().size() + 1 : 0;
}
inline size_t string_heap_bytes(const std::string& s) { return s.size() > 15 ? s.capacity() + 1 : 0; }
inline constexpr size_t kMapNodeBytes = 4 * sizeof(void*);

// How often long loops poll for cancellation, the deadline and the memory budget: a mask on
// a row counter, every 1,024 rows. A poll is a relaxed atomic load (and a clock read when a
// statement_timeout is set), so polling this often costs nothing measurable, while the rows
// between two polls bound the cancel latency: at 65,536 rows a filter of md5(md5(md5(x)))
// ran 300 ms between polls and a projection building 3 kB strings 1.2 s (bench/cancel.sh).
inline constexpr size_t kPollMask = 0x3ff;
inline constexpr size_t kPollRows = kPollMask + 1;
// From this many updates on, a batch about to be filled is reserved whole up front (growing a
// vector of millions of updates is an uninterruptible move).
inline constexpr size_t kBigBatchRows = 65536;

// How a sharded dataflow routes an operator's input (Operator::exchange).
struct Exchange {
  enum class Kind : uint8_t {
    kLocal,  // each shard's updates stay on it (the operator is linear in its input)
    kByKey,  // updates with equal keys go to the same shard (the operator keeps state by key)
    kSingle, // everything to shard 0, where the operator alone runs (recursion)
    kBroadcast,  // every update to every shard (planned by the dataflow, not asked by operators)
  };
  Kind kind = Kind::kLocal;
  // kByKey: the key is key_exprs evaluated over the row, or else key_columns, or else (both
  // empty, whole_row false) the empty key: every update on one shard. Compared canonically
  // (append_canonical_key), as the operators compare their keys.
  std::vector<ScalarExpr> key_exprs;
  std::vector<uint32_t> key_columns;
  bool whole_row = false;
  static Exchange by_exprs(std::vector<ScalarExpr> e) {
    Exchange x;
    x.kind = Kind::kByKey;
    x.key_exprs = std::move(e);
    return x;
  }
  static Exchange by_columns(std::vector<uint32_t> c) {
    Exchange x;
    x.kind = Kind::kByKey;
    x.key_columns = std::move(c);
    return x;
  }
};

// How a sharded dataflow's updates are placed on its shards: a list of columns such that every
// update is on the shard an exchange by those columns would send it to (the hash of their
// canonical key bytes, Dataflow::partition), so equal values of them share a shard.
using Partitioning = std::vector<uint32_t>;

// What an operator is told of one input's placement (Operator::output_partitioning).
struct InputPlacement {
  // The input reached the operator as its exchange(j) asks (exchanged so, or read in place
  // because it already was placed so), not replicated or spread by another rule (a broadcast
  // join's inputs).
  bool as_asked = false;
  // Column lists of the input by which its updates are placed (any number, each on its own).
  std::vector<Partitioning> parts;
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
  // Heap bytes of the state the operator keeps across steps (arrangements, groups, counts,
  // queued rows), measured by walking it unless state_bytes_cheap(): O(state). Callers go
  // through Dataflow::state_bytes(), which walks an operator again only after it has consumed
  // input worth half of what it held (amortized O(1) per input byte) and adds the input bytes
  // consumed since as the estimate of its growth (src/dataflow/README.md, "State size").
  virtual size_t state_bytes() const { return 0; }
  // Whether state_bytes() is O(1) (kept as a counter, or the estimate of a nested dataflow):
  // then it is asked after every step. An operator whose state can outgrow its input
  // (recursion) must be cheap.
  virtual bool state_bytes_cheap() const { return false; }
  // How input `input` is distributed over the shards of a sharded dataflow. The default suits
  // operators whose output for a set of updates is the sum of their outputs for each update.
  virtual Exchange exchange(size_t input) const {
    (void)input;
    return {};
  }
  // The earliest later time at which the operator has output due without new input (a
  // temporal filter's queued updates), or none.
  virtual std::optional<uint64_t> next_due() const { return std::nullopt; }
  // Whether the operator has two inputs and its output is bilinear in them (an inner join:
  // out(A + A', B) = out(A, B) + out(A', B), and the same in B), so that one input may be
  // replicated on every shard while the other is spread by any rule that sends a row's
  // retraction where its insertion went (a broadcast join). The
  // sharded dataflow does that for a join with the empty key (a cross join) whose one input
  // comes from constants only: otherwise every update of the other input would go to one
  // shard (Nexmark q5's bids CROSS JOIN VALUES).
  virtual bool bilinear() const { return false; }
  // How the operator's output is placed on the shards, given its inputs' placements: lists of
  // output columns (Partitioning), each of which places every output update. The dataflow
  // reads an input in place instead of exchanging it when its producer's output is already
  // placed by the consumer's exchange key (Dataflow::plan_placement; src/dataflow/README.md,
  // "Placement"). Must hold for every step: an operator whose output stays on the shard of
  // the input update it came from keeps the input columns it copies. Default: unknown.
  virtual std::vector<Partitioning> output_partitioning(std::span<const InputPlacement> inputs) const {
    (void)inputs;
    return {};
  }
};

class Dataflow {
 public:
  using NodeId = size_t;

  explicit Dataflow(StepLimits limits = {}) : limits_(limits) {}

  // A dataflow over shards: replicas of one graph (rendered identically, one per shard).
  // push() spreads a source's updates over the shards; step() runs each node on every shard,
  // exchanging inputs as the node's operator asks, in parallel when there is enough work;
  // take_output() gathers every shard's output. Operators without inputs (constants) and
  // kSingle ones run on shard 0 only. REQUIRES: replicas.size() >= 2, identical graphs.
  static std::unique_ptr<Dataflow> sharded(std::vector<std::unique_ptr<Dataflow>> replicas, StepLimits limits);
  size_t num_shards() const { return shards_.empty() ? 1 : shards_.size(); }

  // A node that emits what push() gives it.
  NodeId add_source();
  // An operator reading the given nodes' outputs. REQUIRES: inputs were added before.
  NodeId add_operator(std::unique_ptr<Operator> op, std::vector<NodeId> inputs);

  // Node `reader` reads state that node `writer` keeps, out of band (a delta join's lookup
  // reads an ArrangeOp's arrangement): in every step it runs after writer, on each shard after
  // that shard's writer. Node order already does that; a staged step (step_sharded) places
  // reader in writer's stage or a later one. REQUIRES: writer < reader.
  void order_after(NodeId reader, NodeId writer);

  // Queues updates for a source for the next step.
  void push(NodeId source, Batch batch);
  // The same onto one shard (shard < num_shards()), for a driver that built one batch per
  // shard itself (a partitioned scan): nothing is copied.
  void push_to_shard(NodeId source, size_t shard, Batch batch);
  // Runs every operator once for time t. Afterwards output(n) holds node n's updates for t.
  void step(uint64_t t, const EvalContext& ctx);
  // The node's output of the last step (consumers have already read it).
  Batch take_output(NodeId n);

  // Sharded: node n's output split by destination shard at the end of n's own shard task in a
  // staged step (no pool round of its own; src/dataflow/README.md, "Routed output"), for a
  // driver that keeps the output sharded by a key of its own (src/server's Maintained).
  // dest(row) < num_shards(); called on the pool's threads, several at once. Returns false
  // (and routes nothing) when the dataflow is not sharded or an operator reads n.
  using OutputRouter = std::function<size_t(RowRef)>;
  bool route_output(NodeId n, OutputRouter dest);
  // After a step: when node n's output was routed in it (a staged step), by_producer[p][d]
  // holds what shard p's task sent destination d and the result is true; else false and
  // by_producer is left alone (take_output() then has the whole output).
  bool take_routed_output(NodeId n, std::vector<std::vector<Batch>>& by_producer);

  size_t num_nodes() const { return nodes_.size(); }
  // Sharded: how many operator inputs are read in place because their producer is already
  // placed by the operator's exchange key (plan_placement; known after the first step). Tests.
  size_t inputs_read_in_place() const {
    size_t n = 0;
    for (const auto& per_node : in_place_)
      for (uint8_t b : per_node) n += b;
    return n;
  }
  const StepLimits& limits() const { return limits_; }
  // Sets the cancellation flag polled by later steps (null: none), on every shard.
  void set_cancel_flag(const std::atomic<bool>* flag) {
    limits_.cancelled = flag;
    for (auto& s : shards_) s->set_cancel_flag(flag);
  }
  size_t state_size() const;
  // The earliest time at which an operator (of any shard) has output due without new input
  // (Operator::next_due), or none. O(nodes).
  std::optional<uint64_t> next_due() const;
  // Heap bytes of every operator's state (every shard), an estimate meant never to lag behind
  // growth: per operator the bytes of its last walk plus the bytes of input it consumed since
  // times the state bytes per input byte seen between its last two walks, with a margin
  // (Operator::state_bytes). Cost: O(nodes) plus the walks that are due (amortized O(1) per
  // input byte). exact: walk every operator now (O(state)), e.g. before declaring a budget
  // exceeded. Called by the dataflow's owner thread between steps.
  size_t state_bytes(bool exact = false) const;

 private:
  struct Node {
    std::unique_ptr<Operator> op;  // null for a source
    std::vector<NodeId> inputs;
    std::vector<NodeId> after;  // order_after: writers of state this node reads
    size_t consumers = 0;
    Batch pending;  // sources: pushed updates
    Batch output;
    // Sharded, when the node's only consumer exchanges it by key (Route): the output already
    // split by destination shard, by the task that produced it (routed[s] goes to shard s).
    std::vector<Batch> routed;
    bool is_routed = false;
    // State accounting (state_bytes): the bytes of the last walk of op's state and the bytes
    // of input op consumed since. Mutable: the walk is a cache refresh, not a change.
    mutable uint64_t measured_bytes = 0;
    mutable uint64_t input_bytes_since = 0;
    // State bytes per input byte, learned at each walk (with a margin): a row kept in two
    // min/max multisets takes several times its bytes in the batch. Starts pessimistic.
    mutable uint64_t growth = 8;
  };
  // Notes the bytes of the inputs an operator is about to consume (state_bytes).
  static void note_input(const Node& node, std::span<const Batch> inputs) {
    for (const Batch& b : inputs) node.input_bytes_since += b.used_bytes();
  }
  // Sharded: a node whose only consumer reads it through a by-key exchange is partitioned at
  // the end of its own shard task, so that the exchange costs no second round on the pool
  // (a barrier and a wake-up per node, src/dataflow/README.md, "Shards and workers").
  struct Route {
    bool on = false;
    NodeId consumer = 0;
    size_t input = 0;
    Exchange ex;
  };
  void plan_routes();
  // The exchange of node i's input j in a sharded step: the operator's, unless plan_routes()
  // chose a broadcast join (Operator::bilinear): then the constant input is kBroadcast and the
  // other spread by the whole row (so a row's retraction meets its insertion); or kLocal when
  // the input's producer is already placed by the operator's key (in_place_).
  Exchange planned_exchange(size_t i, size_t j) const;
  // The exchange node i asks of input j before in-place reading (the operator's, or the
  // broadcast join's).
  Exchange asked_exchange(size_t i, size_t j) const;
  // Per node, how its output is placed (Operator::output_partitioning), and per input whether
  // it is read in place rather than exchanged (plan_routes, once, before the first step).
  void plan_placement();
  void step_sharded(uint64_t t, const EvalContext& ctx);
  // One node of step_sharded (its buffers are the caller's, so that a throw leaves them to it).
  void step_node_sharded(size_t i, uint64_t t, std::vector<std::unique_ptr<StepContext>>& ctxs,
                         std::vector<size_t>& unread, std::vector<std::vector<Batch>>& inputs,
                         std::vector<std::vector<Batch>>& buckets, std::vector<Batch>& from);
  // Splits `from` (updates of one producing shard) into one batch per shard by ex's key.
  // Polls ctx for cancellation.
  void partition(const Exchange& ex, Batch& from, const StepContext& ctx, std::vector<Batch>& to) const;

  StepLimits limits_;
  std::vector<Node> nodes_;
  Arena arena_;
  // The inputs of an operator whose step threw (cancelled, over budget): freed with the
  // dataflow, which a one-shot query frees off its thread (reaper.hpp).
  std::vector<Batch> abandoned_;
  // Sharded: the replicas (nodes_ is then empty); round-robin start for push().
  std::vector<std::unique_ptr<Dataflow>> shards_;
  size_t next_push_shard_ = 0;
  std::vector<Route> routes_;  // sharded: per node (plan_routes, once)
  // Sharded: per node, the input replicated on every shard by a broadcast join (plan_routes),
  // or -1. The node's other input is then spread by the whole row.
  std::vector<int> broadcast_input_;
  std::vector<std::vector<Partitioning>> placement_;  // sharded: per node (plan_placement)
  std::vector<std::vector<uint8_t>> in_place_;        // sharded: per node, per input
  bool routes_planned_ = false;
  // Sharded: route_output's node (or -1) and its destination function.
  int64_t routed_output_ = -1;
  OutputRouter output_router_;
};

}  // namespace freshet::dataflow
