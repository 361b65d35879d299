#pragma once
// Maintained dataflows: indexed views, materialized views and subscriptions. Each renders its
// plan once (dataflow/render.hpp) with state kept, is hydrated from a snapshot of its inputs,
// and then receives every later change of its inputs, one timestamp at a time, producing the
// change of its output. Its output is kept consolidated (the "arrangement" of the object),
// with optional indexes by key columns for point lookups.
//
// Thread-safety: none; the coordinator calls it with its mutex held exclusively for steps and
// shared for reads.

#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/functions.hpp"
#include "common/row.hpp"
#include "dataflow/ir.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/render.hpp"

namespace freshet::server {

using RowDiffs = std::vector<std::pair<Row, int64_t>>;
// The changes of one timestamp, per collection id.
using ChangeSet = std::map<uint64_t, RowDiffs>;

class Maintained {
 public:
  // Renders plan and hydrates it from snapshot at time t (the initial contents come out as the
  // first delta, which is returned in initial). Throws SqlError from evaluation.
  Maintained(uint64_t id, std::string name, dataflow::RelExpr plan, uint64_t t, const dataflow::SnapshotFn& snapshot,
             EvalContext& ctx, RowDiffs& initial);

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const dataflow::RelExpr& plan() const { return plan_; }
  // Collection ids the dataflow reads.
  std::vector<uint64_t> inputs() const;

  // Feeds the changes at time t of the inputs (absent: no change) and steps; appends the
  // output's change to delta. Throws SqlError from evaluation.
  void step(uint64_t t, const ChangeSet& changes, EvalContext& ctx, RowDiffs& delta);

  // The current contents.
  const std::unordered_map<Row, int64_t, RowHash>& contents() const { return contents_; }
  // An index on key columns; returns its position.
  size_t add_index(std::vector<uint32_t> key_columns);
  void drop_index(const std::vector<uint32_t>& key_columns);
  // Indexes whose key columns are exactly these, or -1.
  int find_index(const std::vector<uint32_t>& key_columns) const;
  const std::vector<uint32_t>& index_columns(size_t i) const { return indexes_[i].columns; }
  size_t num_indexes() const { return indexes_.size(); }
  // Rows of index i with the given key values (canonicalised here).
  void lookup(size_t i, std::span<const Datum> key, RowDiffs& out) const;

  size_t records() const { return contents_.size(); }
  size_t bytes() const;

 private:
  // An index holds pointers to the rows in contents_ (whose nodes never move), so a row is
  // stored once however many indexes there are.
  struct Index {
    std::vector<uint32_t> columns;
    std::unordered_map<Row, std::vector<const std::pair<const Row, int64_t>*>, RowHash> map;
  };
  Row key_of(const Row& row, const std::vector<uint32_t>& columns) const;
  void apply(const RowDiffs& delta);

  uint64_t id_;
  std::string name_;
  dataflow::RelExpr plan_;
  dataflow::RenderedDataflow df_;
  std::unordered_map<Row, int64_t, RowHash> contents_;
  std::vector<Index> indexes_;
};

}  // namespace freshet::server
