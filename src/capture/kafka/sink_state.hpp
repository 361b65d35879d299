#pragma once
// What a Kafka sink's consumers have been sent (README.md, "Sinks: exactly once"): with a
// KEY, the row each key currently has in the topic; without one, every row with its
// multiplicity. The sink turns each timestamp's changes of the sinked relation into the
// messages that move a consumer from this state to the relation's new contents, and keeps the
// state durable with its Kafka offsets, so that after a crash it knows exactly what the topic
// already holds.
//
// Thread-safety: none; owned by the sink's thread. Memory: one copy of the sinked relation.

#include <absl/container/flat_hash_map.h>
#include <absl/container/flat_hash_set.h>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "capture/kafka/sink_encoder.hpp"
#include "common/error.hpp"
#include "common/row.hpp"
#include "common/types.hpp"

namespace freshet::capture::kafka {

using RowDiffs = std::vector<std::pair<Row, int64_t>>;

class SinkState {
 public:
  // key: positions of the KEY columns; empty: no key (rows with multiplicities). types: the
  // relation's column types (for error messages).
  SinkState(std::vector<uint32_t> key, std::vector<Type> types) : key_(std::move(key)), types_(std::move(types)) {}

  bool keyed() const { return !key_.empty(); }
  size_t size() const { return keyed() ? by_key_.size() : counts_.size(); }

  // Restores one stored entry: keyed, (key, row); keyless, (row, [count]).
  void restore(Row key, Row value);

  // One timestamp's changes of the relation, consolidated or not: appends the messages that
  // bring a consumer from the state to the new contents and updates the state. Returns an
  // error (and changes nothing) when the changes leave a key with more than one row, or
  // retract what the state does not hold.
  Status apply(const RowDiffs& delta, std::vector<SinkMessage>& out);
  // Makes the state equal to a full snapshot of the relation (rows with multiplicities), with
  // the messages that do it. Same errors as apply.
  Status reconcile(const RowDiffs& snapshot, std::vector<SinkMessage>& out);
  // A message the topic already holds (read back after a crash) that the state does not.
  void apply_emitted(const SinkMessage& m);

  // The entries changed since the last call, in their stored form: keyed (key, row), keyless
  // (row, [count]); nullopt: removed.
  void take_dirty(std::vector<std::pair<Row, std::optional<Row>>>& out);

 private:
  Row key_of(RowRef row) const;
  std::string describe_key(const Row& key) const;
  void set_row(const Row& key, std::optional<Row> row);
  void add_count(const Row& row, int64_t n);

  std::vector<uint32_t> key_;
  std::vector<Type> types_;
  absl::flat_hash_map<Row, Row, RowHash> by_key_;      // keyed
  absl::flat_hash_map<Row, int64_t, RowHash> counts_;  // keyless
  absl::flat_hash_set<Row, RowHash> dirty_;
};

}  // namespace freshet::capture::kafka
