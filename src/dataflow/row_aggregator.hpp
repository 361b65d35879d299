#pragma once
// A Reduce fed one row of datums at a time instead of batches of packed rows: a one-shot scan
// that aggregates while it reads (oneshot.cpp, "scan aggregates") decodes each row once and
// hands the datums over, with no batch, no packed row and no second decode in between. The
// accumulators are the Reduce operator's (operators.cpp), so the results are the same.
// Threads: single-threaded (one per part of a scan). Cost per row: the key's and the
// aggregates' expressions and one hash lookup; memory: one entry per group.

#include <cstdint>
#include <memory>
#include <span>

#include "dataflow/operators.hpp"

namespace freshet::dataflow {

class RowAggregator {
 public:
  virtual ~RowAggregator() = default;
  // How many leading columns of a row the key and the aggregates read.
  virtual size_t input_prefix() const = 0;
  // Adds a row (at least input_prefix() datums) with its diff to its group. Strings the
  // expressions make live in ev.arena, which this resets.
  virtual void add_row(std::span<const Datum> row, int64_t diff, EvalContext& ev) = 0;
  // add_row in two halves, for a caller that knows rows of one group apart (a star join whose
  // group key is columns of one dimension row: the slot is found once per dimension row).
  // group_slot: the row's group (made when new), stable until emit(); the key's expressions
  // are evaluated in ev.arena. add_to_group: add_row for a row of that group; resets ev.arena.
  virtual uint32_t group_slot(std::span<const Datum> row, EvalContext& ev) = 0;
  virtual void add_to_group(uint32_t slot, std::span<const Datum> row, int64_t diff, EvalContext& ev) = 0;
  // Appends one row per group with rows (the key columns, then each aggregate's result) at
  // `time`, as the Reduce operator emits them.
  virtual void emit(uint64_t time, EvalContext& ev, Batch& out) = 0;
  // Bytes held, estimated without walking the groups (polled for the memory budget).
  virtual size_t held_bytes() const = 0;
};
// REQUIRES: spec.phase == kFull.
std::unique_ptr<RowAggregator> make_row_aggregator(ReduceSpec spec);

}  // namespace freshet::dataflow
