#pragma once
// The records of a collection and the limits on them. A collection (collection.hpp) is a keyed,
// append-only log of Records; a Batch of Changes appended together is one transaction.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/row.hpp"

namespace freshet::storage {

enum class Op : uint8_t {
  kUpsert = 1,  // insert or replace the value of a key; value present
  kDelete = 2,  // remove the key; no value (a tombstone, as Kafka's null value)
};

// One change as an appender supplies it; its offset is assigned on append.
struct Change {
  Op op = Op::kUpsert;
  Row key;                   // packed Row bytes (common/row.hpp)
  std::optional<Row> value;  // present iff op == kUpsert

  static Change upsert(Row key, Row value) { return Change{Op::kUpsert, std::move(key), std::move(value)}; }
  static Change del(Row key) { return Change{Op::kDelete, std::move(key), std::nullopt}; }
};

// One transaction: durable and visible all-or-nothing, with its source checkpoint.
struct Batch {
  uint64_t timestamp_ms = 0;  // every change of the batch has it; REQUIRES: >= the upper
  std::vector<Change> changes;  // may be empty (a checkpoint-only or upper-only batch)
  // Opaque source position (PostgreSQL LSN, GTID set, Kafka offsets) made durable with the
  // batch: after recovery, Collection::checkpoint() is the checkpoint of the last batch that
  // carried one.
  std::optional<std::string> checkpoint;
  // The upper after this batch; 0 means timestamp_ms (the timestamp stays open for more
  // batches). timestamp_ms + 1 closes it. REQUIRES: 0 or >= timestamp_ms.
  uint64_t upper_ms = 0;
};

// A record as read back. Offsets are dense on append; compaction leaves gaps.
struct Record {
  uint64_t offset = 0;
  uint64_t timestamp_ms = 0;
  Op op = Op::kUpsert;
  Row key;
  std::optional<Row> value;
};

// A record borrowed from a read buffer; valid only during the callback that receives it.
struct RecordView {
  uint64_t offset = 0;
  uint64_t timestamp_ms = 0;
  Op op = Op::kUpsert;
  std::string_view key;
  std::optional<std::string_view> value;

  Record to_record() const {
    Record r{offset, timestamp_ms, op, Row(std::string(key)), std::nullopt};
    if (value) r.value = Row(std::string(*value));
    return r;
  }
  // Bytes a record counts against a read's max_bytes (key + value + fixed overhead).
  size_t size_bytes() const { return key.size() + (value ? value->size() : 0) + 32; }
};

// Limits (STYLE: a limit on everything). Appends over them fail with a Status, not an assertion:
// the Kafka API and SQL INSERT pass user-sized data through.
inline constexpr size_t kMaxRecordBytes = 64u << 20;       // key + value of one record
inline constexpr size_t kMaxBatchBytes = 256u << 20;       // sum of key + value sizes in a batch
inline constexpr size_t kMaxBatchRecords = 1u << 22;       // records in one batch
inline constexpr size_t kMaxCheckpointBytes = 1u << 20;    // one source checkpoint

// Checks a batch against the limits and its own consistency (value iff upsert, upper_ms).
// Does not check the timestamp against the collection's upper (append does that).
Status check_batch(const Batch& batch);

}  // namespace freshet::storage
