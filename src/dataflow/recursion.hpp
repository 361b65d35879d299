#pragma once
// Recursion: the operator for a kLetRec node (ir.hpp), WITH RECURSIVE and WITH MUTUALLY
// RECURSIVE.
//
// Design. The operator owns two nested dataflows rendered from its plan: one with the
// bindings (one output per binding; each kGetLocal of a binding is a source fed back from
// that binding's output) and one with the result expression. Within one outer timestamp the
// bindings are iterated semi-naively, DBSP-style: every inner step feeds the operators only
// the change of each binding made by the previous iteration (their state holds the rest), and
// the change they produce is the next iteration's; the fixpoint is reached when an iteration
// changes nothing. The accumulated change of the bindings over the timestamp then goes, with
// the outer inputs' changes, into the result dataflow, whose output is the operator's.
//
// Across timestamps:
//  * the first step iterates from empty bindings (the definition's semantics);
//  * later steps whose input changes are insertions only, into bindings whose plans are
//    monotone (no negation, threshold, reduce, top-k, temporal filter, nested recursion,
//    negative constants) and without RETURN AT RECURSION LIMIT, continue from the previous
//    fixpoint: the inner operators' state stays, and only the new rows and what they derive are
//    processed. Cost: proportional to the derivations the change adds (semi-naive evaluation).
//    For such plans the previous fixpoint lies below the new least fixpoint, so the iteration
//    reaches it (set bindings); linear multiset recursions (UNION ALL) have a unique fixpoint
//    when they terminate, which the iteration reaches from any start;
//  * any other change (retractions, non-monotone plans, RETURN AT) recomputes the fixpoint
//    from empty over the maintained contents of the inputs with freshly rendered bindings and
//    emits the difference from the previous bindings. Cost: the whole fixpoint computation.
//    Memory: the operator keeps each input's consolidated contents and each binding's.
//
// Limits: more iterations than RecursionLimit::max_iterations either stop (RETURN AT) or raise
// SqlError 54000 (ERROR AT, and WITH RECURSIVE's default limit); the inner dataflows share the
// outer StepLimits (batch size 54000, cancellation 57014, polled every iteration). After an
// error the operator's state is unspecified: the dataflow must be dropped.
// Threads: as every operator, owned by its Dataflow's thread.

#include <cstdint>
#include <memory>
#include <vector>

#include "dataflow/graph.hpp"
#include "dataflow/ir.hpp"
#include "dataflow/render.hpp"

namespace freshet::dataflow {

// One input of a kLetRec operator: a collection (kGet) or a binding of an enclosing kLetRec.
struct LetRecInput {
  bool is_local = false;
  uint64_t id = 0;  // collection id or local id
};

// The collections and the enclosing bindings that e (a kLetRec) reads, each once, in order of
// first appearance.
void collect_let_rec_inputs(const RelExpr& e, std::vector<LetRecInput>& out);
// Whether a rise in e's inputs (collections and bindings) can only add rows to e's output.
// A kGetLocal counts as monotone (a recursive binding's rise), unless `scope` is given: then
// it is looked up there (innermost last: a kLet's id and whether its value is monotone; the
// kLets inside e are added as they are met) and one not found is not monotone.
bool is_monotone_plan(const RelExpr& e, std::vector<std::pair<uint64_t, bool>>* scope = nullptr);
// The operator for e (a kLetRec); its inputs are the nodes for `inputs`, in that order.
std::unique_ptr<Operator> make_let_rec(const RelExpr& e, std::vector<LetRecInput> inputs, const RenderOptions& opts);

}  // namespace freshet::dataflow
