#pragma once
// The contract between a capture connector (PostgreSQL logical replication, MySQL/MariaDB
// binlog, load generators) and the coordinator that stores what it captures.
//
// A connector runs on its own thread. It first describes the upstream tables (schemas), then
// delivers upstream transactions in commit order, each with the upstream position just past
// it (a PostgreSQL LSN, a MariaDB GTID, ...). SourceSink::apply returns only when the
// transaction is durable in Freshet; only then may the connector acknowledge the position
// upstream (PostgreSQL: confirm the LSN to the slot). After a restart the coordinator hands
// the last durable position back to start(): the connector resumes there and must skip
// anything at or before it, so that every upstream change lands exactly once.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/row.hpp"
#include "common/types.hpp"

namespace freshet::capture {

struct ColumnSchema {
  std::string name;
  Type type;
  bool nullable = true;
};

struct TableSchema {
  std::string upstream_schema;   // "public", or the MySQL database
  std::string upstream_name;     // the upstream table name
  std::string name;              // the name in Freshet (FOR TABLES (t AS name))
  std::vector<ColumnSchema> columns;
  std::vector<uint32_t> key;     // primary key / replica identity columns; never empty
};

struct Change {
  enum class Op : uint8_t { kUpsert, kDelete };
  Op op = Op::kUpsert;
  uint32_t table = 0;  // index into the schemas given to SourceSink::set_schemas
  Row key;             // the key columns' values, in key order
  Row value;           // the whole row (kUpsert only)
};

struct Transaction {
  // May be empty: a position-only transaction records that the upstream moved on with nothing
  // for us (a PostgreSQL source confirms an idle stream's WAL end this way).
  std::vector<Change> changes;
  std::string position;          // opaque, connector-defined, ordered by commit
  uint64_t commit_time_ms = 0;   // upstream commit time (0 when unknown), for lag metrics
  bool snapshot = false;         // part of the initial snapshot
  // Tables whose capture stops with this transaction (table index, why: an incompatible schema
  // change upstream). The source goes on with its other tables; no later change of these is
  // delivered. Made durable with the transaction's position.
  std::vector<std::pair<uint32_t, std::string>> stopped_tables;
};

struct SourceStatus {
  std::string state;             // "starting", "snapshotting", "running", "error", "stopped"
  uint64_t snapshot_rows_done = 0;
  uint64_t snapshot_rows_total = 0;
  std::string last_error;
};

class SourceSink {
 public:
  virtual ~SourceSink() = default;
  // The upstream tables, once, before any transaction (and again if they change, with the
  // same order for unchanged tables). Returns an error status to stop the source.
  virtual Status set_schemas(const std::vector<TableSchema>& tables) = 0;
  // Makes the transaction durable and visible at one Freshet timestamp. Blocks until durable.
  virtual Status apply(Transaction txn) = 0;
  virtual void report(const SourceStatus& status) = 0;
};

class Source {
 public:
  virtual ~Source() = default;
  // Starts the connector thread. resume_position: the last durable position (nullopt: start
  // with a snapshot). Connection errors at start are returned; later ones are reported and
  // retried with backoff.
  virtual Status start(SourceSink& sink, std::optional<std::string> resume_position) = 0;
  // Stops and joins the thread. Idempotent.
  virtual void stop() = 0;
};

}  // namespace freshet::capture
