#pragma once
// MySqlSource: change data capture from MariaDB (README.md): a consistent snapshot of the
// selected tables, then the row-based binlog from the snapshot's GTID position, one
// Transaction per upstream transaction, positions = MariaDB GTID positions ("0-1-42").
//
// Threads: start() and stop() are called by the owner (the coordinator); start() validates
// synchronously (connection, binlog settings, privileges, tables, types) and then runs the
// capture on one thread of its own, which is the only caller of the SourceSink after
// set_schemas. Costs: two connections upstream (SQL + replication; the SQL one only during
// start and the snapshot).

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/mysql/binlog.hpp"
#include "capture/mysql/column.hpp"
#include "capture/source.hpp"

namespace freshet::capture::mysql {

struct MySqlTableSelection {
  std::string name;    // upstream table in MySqlOptions::database
  std::string rename;  // its name in Freshet; "" keeps `name`
};

enum class SslMode : uint8_t {
  kDisabled,
  kRequired,        // TLS, server certificate not verified
  kVerifyCa,        // TLS, certificate checked against ssl_ca
  kVerifyIdentity,  // kVerifyCa + host name check
};

struct MySqlOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 3306;
  std::string user;
  std::string password;
  std::string database;                     // the MySQL database (schema) to capture from
  std::vector<MySqlTableSelection> tables;  // empty: every base table of `database`
  // The replica's server id; must differ from the upstream's and from every other replica's.
  // 0: derive_server_id(source_id).
  uint32_t server_id = 0;
  uint64_t source_id = 0;
  SslMode ssl_mode = SslMode::kDisabled;
  std::string ssl_ca;                       // CA file for kVerifyCa / kVerifyIdentity
  uint32_t connect_timeout_s = 10;
  uint32_t read_timeout_s = 30;             // SQL reads; the binlog stream uses 3 heartbeats
  uint32_t heartbeat_ms = 1000;             // @master_heartbeat_period
  uint32_t reconnect_backoff_min_ms = 100;
  uint32_t reconnect_backoff_max_ms = 5000;
  size_t snapshot_batch_rows = 10000;       // rows per snapshot Transaction
  size_t snapshot_batch_bytes = 8u << 20;   // encoded bytes per snapshot Transaction
};

// A server id in [2^31, 2^32) from a source id, away from the small ids servers usually have.
uint32_t derive_server_id(uint64_t source_id);

// True when the statement (a binlog QUERY event, run in default_db) changes or removes one of
// `tables` of `database`: ALTER/TRUNCATE/DROP/RENAME TABLE, CREATE OR REPLACE TABLE, DROP
// DATABASE. Exposed for tests.
bool ddl_touches(std::string_view query, std::string_view default_db, std::string_view database,
                 const std::vector<std::string>& tables);

class MySqlSource final : public Source {
 public:
  explicit MySqlSource(MySqlOptions options);
  ~MySqlSource() override;
  MySqlSource(const MySqlSource&) = delete;
  MySqlSource& operator=(const MySqlSource&) = delete;

  // resume_position: a GTID position this source produced ("" or nullopt: snapshot first).
  // Errors: unreachable server or bad credentials (the client's message), binlog disabled,
  // binlog_format/binlog_row_image not ROW/FULL, missing privileges, a missing table, a table
  // without primary key, an unsupported column type, a malformed resume position, or the
  // sink's set_schemas error. REQUIRES: not started.
  Status start(SourceSink& sink, std::optional<std::string> resume_position) override;
  void stop() override;

  // The captured tables, in the order given to set_schemas. Valid after a successful start().
  const std::vector<TableSchema>& schemas() const { return schemas_; }

 private:
  struct Table {
    std::string upstream_name;
    std::vector<ColumnInfo> columns;
    std::vector<uint32_t> key;
  };
  struct StreamError {
    Status status;
    bool fatal = false;
    bool streamed = false;  // the session got as far as streaming (resets the backoff)
  };
  class Conn;

  void run(std::optional<GtidPosition> resume);
  // The snapshot; returns its GTID position, or nullopt when stopped or failed (reported).
  std::optional<GtidPosition> snapshot();
  // One replication session from pos_ until an error or stop.
  StreamError stream();
  Status apply(Transaction txn);
  void report(std::string state, std::string error = {});
  void sleep_backoff(uint32_t& backoff_ms);
  // Lets stop() break a blocking read: the connection's socket is shut down.
  void set_active(Conn* conn);

  // Constant after start().
  const MySqlOptions options_;
  std::vector<Table> tables_;
  std::vector<TableSchema> schemas_;
  SourceSink* sink_ = nullptr;

  // Owned by the capture thread.
  GtidPosition pos_;
  SourceStatus status_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // wakes backoff sleeps on stop
  int active_fd_ = -1;          // guarded by mu_
  std::thread thread_;
};

}  // namespace freshet::capture::mysql
