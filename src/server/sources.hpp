#pragma once
// Sources at run time: each CREATE SOURCE owns a capture::Source (a connector thread) and a
// SourceSink that turns its transactions into changes of the source's tables, applied at one
// Freshet timestamp per upstream transaction and pushed through every maintained dataflow.
// Status (state, snapshot progress, lag, rate, last error) is kept here and shown in
// mz_source_statuses and SHOW SOURCES.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "capture/kafka/kafka_source.hpp"
#include "capture/source.hpp"
#include "server/coordinator.hpp"
#include "sql/streaming_parser.hpp"

namespace freshet::server {

struct SourceEntry;

// Creates the SourceSink of a source. `state` is the coordinator's; entry lives as long as the
// sink. Defined in sources.cpp.
std::unique_ptr<capture::SourceSink> make_source_sink(Coordinator::State& state, std::shared_ptr<SourceEntry> entry);

// Builds the connector of a CREATE SOURCE statement into entry (source, type, naming rules).
// REQUIRES: the coordinator's mutex held (it reads connections and secrets). Throws SqlError.
void build_source(Coordinator::State& state, const sql::StreamingStatement& stmt, SourceEntry& entry);

// A KAFKA connection's and a CONFLUENT SCHEMA REGISTRY connection's options, secrets
// resolved (shared by Kafka sources and sinks). REQUIRES: the coordinator's mutex held.
// Throws SqlError for an unknown connection, one of another type, or bad options.
capture::kafka::KafkaConnectionOptions kafka_connection_options(Coordinator::State& state, const std::string& name);
capture::kafka::RegistryOptions registry_options(Coordinator::State& state, const std::string& name);

struct SourceEntry {
  uint64_t id = 0;               // the source's id (its catalog object, or allocated), and collection
  std::string create_sql;        // the CREATE SOURCE statement, persisted to rebuild it at start
  std::string name;
  std::string type;              // "load-generator", "postgres", "mysql", "sql-server", "kafka"
  std::unique_ptr<capture::Source> source;
  std::unique_ptr<capture::SourceSink> sink;
  // Filled by set_schemas (under the coordinator's lock): catalog ids of the tables, in the
  // connector's table order.
  std::vector<uint64_t> table_ids;
  // How set_schemas names tables: the single-table form takes the source's name.
  bool single_table_named_after_source = false;
  std::vector<std::pair<std::string, std::string>> wanted_tables;  // FOR TABLES (up AS name)
  std::function<void()> on_drop;  // e.g. drop the upstream replication slot

  std::mutex mu;  // guards what follows
  capture::SourceStatus status;
  bool schemas_set = false;
  bool dropped = false;
  std::string position;
  uint64_t rows_total = 0;
  uint64_t bytes_total = 0;  // encoded keys and rows of the changes applied
  int64_t lag_ms = -1;
  // Tables whose capture stopped (connector table index -> why; an incompatible upstream schema
  // change): their rows stay as they were, reads of them answer 55000, the other tables go on.
  // Stored with the source (StoredSource::stopped).
  std::map<uint32_t, std::string> stopped_tables;
  double rows_per_second = 0;
  uint64_t rate_window_start_ms = 0;
  uint64_t rate_window_rows = 0;
};

}  // namespace freshet::server
