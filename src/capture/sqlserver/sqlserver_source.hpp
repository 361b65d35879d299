#pragma once
// SqlServerSource: change data capture from SQL Server's CDC change tables (README.md): a
// snapshot of the selected tables under SNAPSHOT isolation at sys.fn_cdc_get_max_lsn(), then
// cdc.fn_cdc_get_all_changes_<instance> polled every poll_interval_ms, one Transaction per
// __$start_lsn, positions "LSN:SEQVAL" (change_rows.hpp).
//
// Threads: start() and stop() are called by the owner (the coordinator); start() validates
// synchronously (connection, CDC on the database and the tables, SNAPSHOT isolation,
// permissions, SQL Server Agent, keys, types) and then captures on one thread of its own,
// the only caller of the SourceSink after set_schemas. Costs: one connection upstream during
// start, one for the snapshot, one for polling; a poll with nothing new is one small batch.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/source.hpp"
#include "capture/sqlserver/change_rows.hpp"
#include "capture/sqlserver/tds_client.hpp"

namespace freshet::capture::sqlserver {

struct SqlServerTableSelection {
  std::string schema = "dbo";
  std::string table;
  std::string name;  // its name in Freshet; "" keeps `table`
};

struct SqlServerOptions {
  TdsOptions connection;
  std::vector<SqlServerTableSelection> tables;  // empty: every table with a capture instance
  uint32_t poll_interval_ms = 100;
  uint32_t metadata_interval_ms = 1000;  // capture instances and SQL Server Agent re-checked
  uint32_t reconnect_backoff_min_ms = 100;
  uint32_t reconnect_backoff_max_ms = 5000;
  size_t snapshot_batch_rows = 10000;
};

class SqlServerSource final : public Source {
 public:
  explicit SqlServerSource(SqlServerOptions options);
  ~SqlServerSource() override;
  SqlServerSource(const SqlServerSource&) = delete;
  SqlServerSource& operator=(const SqlServerSource&) = delete;

  // resume_position: a position this source produced (nullopt or "": snapshot first).
  // Errors (README.md, "Errors"): unreachable host, login failure, CDC not enabled on the
  // database or a table, SNAPSHOT isolation not allowed, missing permissions, SQL Server Agent
  // not running, a table without primary key, an unsupported column type, two capture
  // instances for a table, a bad resume position, the sink's set_schemas error. When resuming
  // and the server cannot be reached, start() succeeds and the connector keeps trying in the
  // background (state "starting" with the reason).
  // REQUIRES: not started.
  Status start(SourceSink& sink, std::optional<std::string> resume_position) override;
  void stop() override;

  const std::vector<TableSchema>& schemas() const { return schemas_; }

 private:
  struct PollError {
    Status status;
    bool fatal = false;
  };
  // Connects and checks everything start() promises; fills tables_ and schemas_.
  // unreachable: the server could not be reached at all (not a login or catalog error).
  Status validate(bool& unreachable);
  void run(std::optional<Position> resume);
  // The snapshot; false when stopped or failed (reported).
  bool snapshot();
  // One polling session from pos_ until an error or stop.
  PollError poll_session();
  void report(std::string state, std::string error = {});
  void sleep_ms(uint32_t ms);
  // The capture instances now; an error when one of ours is gone or a second one appeared
  // (final), or when the query failed (query_failed: retried after a reconnect).
  Status check_instances(TdsConnection& c, bool& query_failed);
  Status check_agent(TdsConnection& c, bool& running);

  // Constant after start().
  const SqlServerOptions options_;
  std::vector<CapturedTable> tables_;
  std::vector<TableSchema> schemas_;
  SourceSink* sink_ = nullptr;

  // Owned by the capture thread.
  Position pos_;
  SourceStatus status_;

  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::condition_variable cv_;  // wakes sleeps on stop
  std::thread thread_;
};

// T-SQL quoting: [name] with ] doubled, and N'literal' with ' doubled.
std::string quote_name(std::string_view s);
std::string quote_literal(std::string_view s);

}  // namespace freshet::capture::sqlserver
