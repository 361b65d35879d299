#pragma once
// The PostgreSQL change-data-capture connector: logical replication with the built-in
// pgoutput plugin (PostgreSQL 10+, tested with 15). README.md in this folder describes the
// protocol flow, positions, the exactly-once argument, the type mapping and the limits.
//
// Usage (the coordinator, on CREATE SOURCE ... FROM POSTGRES):
//
//   PostgresSourceOptions o;
//   o.host = "db"; o.database = "shop"; o.user = "repl"; o.password = secret;
//   o.publication = "freshet";
//   o.slot_name = slot_name_for_source(source_id);   // stable per source, across restarts
//   PostgresSource src(std::move(o));
//   Status s = src.start(sink, stored_position);   // nullopt: snapshot first
//   ...
//   src.stop();
//   // DROP SOURCE: drop_replication_slot(options) so that the upstream frees its WAL.
//
// Threads: start() and stop() from one controlling thread; start() validates synchronously
// (connection, wal_level, publication, privileges, keys, slot) and then runs the snapshot and
// the replication stream on a thread of its own, which calls the SourceSink. stats() from
// any thread.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/source.hpp"
#include "common/error.hpp"

namespace freshet::capture::postgres {

enum class SslMode : uint8_t { kDisable, kPrefer, kRequire };
// "disable" / "prefer" / "require"; nullopt otherwise.
std::optional<SslMode> parse_sslmode(std::string_view s);

// One table to capture: FOR TABLES (schema.table AS name).
struct TableSelection {
  std::string schema = "public";
  std::string table;
  std::string name;  // the name in Freshet; empty: the upstream table name
};

struct PostgresSourceOptions {
  // Connection. host may be a Unix socket directory ("/tmp").
  std::string host = "localhost";
  uint16_t port = 5432;
  std::string database;
  std::string user;
  std::string password;
  SslMode sslmode = SslMode::kPrefer;

  // What to capture: the publication's tables, all of them (tables empty) or the listed ones.
  std::string publication;
  std::vector<TableSelection> tables;

  // The replication slot, owned by this source (slot_name_for_source). REQUIRES: not empty.
  std::string slot_name;

  // Timeouts and limits.
  int connect_timeout_s = 10;
  int query_timeout_ms = 30'000;           // catalog queries (not the snapshot's reads)
  int status_interval_ms = 2'000;          // standby status updates while streaming
  int reconnect_backoff_initial_ms = 100;  // doubled per failed attempt ...
  int reconnect_backoff_max_ms = 10'000;   // ... up to this
  int max_reconnect_attempts = 0;          // consecutive failed attempts before giving up; 0: never
  size_t snapshot_batch_rows = 10'000;     // rows per snapshot Transaction
  size_t snapshot_batch_bytes = 16u << 20;
  size_t max_transaction_bytes = 1u << 30;  // one upstream transaction, held in memory until commit
};

// A replication slot name for a Freshet source id: "freshet_" + the id in lower case with
// every character outside [a-z0-9_] replaced by '_', at most 63 characters (the id's hash
// replaces the tail of a long id so that distinct ids keep distinct names).
std::string slot_name_for_source(std::string_view source_id);

// Drops the source's replication slot (DROP SOURCE). OK when it does not exist.
Status drop_replication_slot(const PostgresSourceOptions& options);

class PostgresSource : public Source {
 public:
  explicit PostgresSource(PostgresSourceOptions options);
  ~PostgresSource() override;  // stop()
  PostgresSource(const PostgresSource&) = delete;
  PostgresSource& operator=(const PostgresSource&) = delete;

  // REQUIRES: not started (start once per object). resume_position: a Transaction::position
  // this source produced earlier and the sink made durable.
  Status start(SourceSink& sink, std::optional<std::string> resume_position) override;
  void stop() override;

  struct Stats {
    uint64_t transactions_applied = 0;  // streamed transactions given to apply() (not the snapshot's)
    uint64_t transactions_skipped = 0;  // replayed by the slot, already durable (exactly once)
    uint64_t snapshot_rows = 0;
    uint64_t reconnects = 0;
    uint64_t durable_lsn = 0;           // what the slot is told (write = flush = apply)
  };
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace freshet::capture::postgres
