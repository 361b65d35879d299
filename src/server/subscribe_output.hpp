#pragma once
// The shapes of a SUBSCRIBE's output rows after mz_timestamp [, mz_progressed], as
// Materialize's adapter makes them (src/adapter/src/active_compute_sink.rs):
//
//   (default)                        mz_diff, the row's columns
//   WITHIN TIMESTAMP ORDER BY c, ... the same, sorted within each timestamp by the listed
//                                    columns (mz_diff among them) instead of by row
//   ENVELOPE UPSERT (KEY (k, ...))   mz_state, the key columns, the other columns
//   ENVELOPE DEBEZIUM (KEY (k, ...)) mz_state, the key columns, before_<c> ..., after_<c> ...
//
// For the envelopes, the changes of one timestamp are grouped by key (rows ordered by key):
// one insertion is 'upsert' (UPSERT) or 'insert' (DEBEZIUM) with the new values; one
// retraction is 'delete' (DEBEZIUM: with the old values as before_*); a retraction and an
// insertion are 'upsert' (DEBEZIUM: before_* and after_*); anything else (two rows for one
// key, a diff other than +-1) is 'key_violation' with NULL values.
//
// Thread-safety: pure functions. Cost: O(n log n) per timestamp.

#include <cstdint>
#include <utility>
#include <vector>

#include "common/row.hpp"
#include "dataflow/ir.hpp"
#include "server/session.hpp"
#include "sql/streaming_parser.hpp"

namespace freshet::server {

struct SubscribeOutput {
  enum class Kind : uint8_t { kDiffs, kOrdered, kUpsert, kDebezium };
  Kind kind = Kind::kDiffs;
  std::vector<uint32_t> key;     // envelopes: the key's data columns
  std::vector<uint32_t> values;  // envelopes: the other data columns, in table order
  // kOrdered: the sort keys; column 0 is mz_diff, column i + 1 the row's column i.
  std::vector<dataflow::SortKey> order;
  size_t arity = 0;  // data columns

  bool plain() const { return kind == Kind::kDiffs; }
  // The output rows (from mz_diff or mz_state on) of one timestamp's changes. REQUIRES: all
  // the changes of that timestamp.
  std::vector<Row> rows(std::vector<std::pair<Row, int64_t>> changes) const;
};

// Checks the statement's ENVELOPE / WITHIN TIMESTAMP ORDER BY against the subscribed columns
// and appends the output columns that follow mz_timestamp [, mz_progressed] to out.
// Throws SqlError 42703 for an unknown column, 0A000 for both options together.
SubscribeOutput plan_subscribe_output(const sql::StreamingStatement& st, const std::vector<Column>& data,
                                      std::vector<Column>& out);

}  // namespace freshet::server
