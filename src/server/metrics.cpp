#include "server/metrics.hpp"

#include <mutex>
#include <shared_mutex>
#include <vector>

#include "server/coordinator.hpp"
#include "server/coordinator_state.hpp"
#include "server/maintained.hpp"
#include "server/sources.hpp"

namespace freshet::server {

WriteMetrics& write_metrics() {
  static WriteMetrics m;
  return m;
}

namespace {

using metrics::write_header;
using metrics::write_sample;

std::string text_of(const Datum& d) { return d.is_null() ? std::string() : std::string(d.as_string()); }
double int_of(const Datum& d) { return d.is_null() ? 0.0 : static_cast<double>(d.as_int()); }

}  // namespace

void append_coordinator_metrics(Coordinator& coordinator, std::string& out) {
  Coordinator::State& st = coordinator.state();
  std::vector<Row> sources, dataflows, arrangements, sinks;
  struct TableStat {
    std::string name;
    uint64_t rows_written, bytes_written;
  };
  std::vector<TableStat> tables;
  std::vector<std::pair<std::string, uint64_t>> source_bytes;
  {
    std::shared_lock lock(st.mu);
    Catalog& c = st.catalog;
    for (const auto& [id, e] : st.sources) {
      std::lock_guard g(e->mu);
      source_bytes.emplace_back(e->name, e->bytes_total);
    }
    if (c.source_rows) c.source_rows(sources);
    if (c.dataflow_rows) c.dataflow_rows(dataflows);
    if (c.arrangement_rows) c.arrangement_rows(arrangements);
    if (c.sink_rows) c.sink_rows(sinks);
    for (const auto& [id, obj] : c.objects()) {
      if (obj->kind != sql::ObjectKind::kTable) continue;
      const TableData* data = c.table_data(id);
      if (!data) continue;
      // (Not TableData::size(): it walks every row, too slow to do under mu on each scrape.)
      tables.push_back({obj->schema + "." + obj->name, data->rows_written, data->bytes_written});
    }
  }

  write_header(out, "freshet_up", "1 while the server is serving.", "gauge");
  write_sample(out, "freshet_up", {}, uint64_t{1});

  // Sources (mz_source_statuses).
  write_header(out, "freshet_source_rows_total", "Rows a source has written to its collections since start.", "counter");
  for (const Row& r : sources) {
    auto d = r.unpack();
    write_sample(out, "freshet_source_rows_total", {{"source", text_of(d[0])}, {"type", text_of(d[1])}}, int_of(d[7]));
  }
  write_header(out, "freshet_source_bytes_total", "Encoded bytes (keys and rows) of the changes a source has applied since start.",
               "counter");
  for (const auto& [name, bytes] : source_bytes) write_sample(out, "freshet_source_bytes_total", {{"source", name}}, bytes);
  write_header(out, "freshet_source_rows_per_second", "A source's recent ingest rate (0 after 5 s without rows).", "gauge");
  for (const Row& r : sources) {
    auto d = r.unpack();
    write_sample(out, "freshet_source_rows_per_second", {{"source", text_of(d[0])}}, d[6].is_null() ? 0.0 : d[6].as_float());
  }
  write_header(out, "freshet_source_lag_ms", "How far a source is behind its upstream (ms; absent while unknown).", "gauge");
  for (const Row& r : sources) {
    auto d = r.unpack();
    if (!d[5].is_null()) write_sample(out, "freshet_source_lag_ms", {{"source", text_of(d[0])}}, int_of(d[5]));
  }
  write_header(out, "freshet_source_snapshot_rows", "Snapshot progress of a source: rows done and rows in total.", "gauge");
  for (const Row& r : sources) {
    auto d = r.unpack();
    std::string name = text_of(d[0]);
    write_sample(out, "freshet_source_snapshot_rows", {{"source", name}, {"kind", "done"}}, int_of(d[3]));
    write_sample(out, "freshet_source_snapshot_rows", {{"source", name}, {"kind", "total"}}, int_of(d[4]));
  }
  write_header(out, "freshet_source_up", "1 when a source is running, 0 otherwise (label state: its state).", "gauge");
  for (const Row& r : sources) {
    auto d = r.unpack();
    std::string state = text_of(d[2]);
    write_sample(out, "freshet_source_up", {{"source", text_of(d[0])}, {"state", state}}, uint64_t{state == "running" ? 1u : 0u});
  }

  // Tables: what every writer (sessions, sources, Kafka Produce) wrote into them.
  write_header(out, "freshet_table_rows_written_total", "Row changes written to a table (sources' tables included).", "counter");
  for (const auto& t : tables) write_sample(out, "freshet_table_rows_written_total", {{"table", t.name}}, t.rows_written);
  write_header(out, "freshet_table_bytes_written_total", "Encoded bytes of the row changes written to a table.", "counter");
  for (const auto& t : tables) write_sample(out, "freshet_table_bytes_written_total", {{"table", t.name}}, t.bytes_written);

  // Dataflows (mz_dataflow_frontiers) and arrangements (mz_arrangement_sizes).
  write_header(out, "freshet_dataflow_frontier_lag_ms", "How far a dataflow's frontier is behind the wall clock (ms).", "gauge");
  for (const Row& r : dataflows) {
    auto d = r.unpack();
    std::string id = std::to_string(d[0].as_int());
    write_sample(out, "freshet_dataflow_frontier_lag_ms", {{"id", id}, {"name", text_of(d[1])}}, int_of(d[3]));
  }
  write_header(out, "freshet_dataflow_pending_steps", "Compute steps a dataflow still has to process.", "gauge");
  for (const Row& r : dataflows) {
    auto d = r.unpack();
    std::string id = std::to_string(d[0].as_int());
    write_sample(out, "freshet_dataflow_pending_steps", {{"id", id}, {"name", text_of(d[1])}}, int_of(d[4]));
  }
  write_header(out, "freshet_arrangement_records", "Records held by a maintained arrangement.", "gauge");
  for (const Row& r : arrangements) {
    auto d = r.unpack();
    std::string id = std::to_string(d[0].as_int());
    write_sample(out, "freshet_arrangement_records", {{"id", id}, {"name", text_of(d[1])}, {"type", text_of(d[2])}}, int_of(d[3]));
  }
  write_header(out, "freshet_arrangement_bytes",
               "Bytes held by a maintained dataflow: its output arrangement and its operators' state (what its memory budget counts).",
               "gauge");
  for (const Row& r : arrangements) {
    auto d = r.unpack();
    std::string id = std::to_string(d[0].as_int());
    write_sample(out, "freshet_arrangement_bytes", {{"id", id}, {"name", text_of(d[1])}, {"type", text_of(d[2])}}, int_of(d[4]));
  }
  write_header(out, "freshet_dataflow_operator_bytes", "Bytes of a maintained dataflow's operators' state (joins, groups, top-k, distinct).",
               "gauge");
  for (const Row& r : arrangements) {
    auto d = r.unpack();
    std::string id = std::to_string(d[0].as_int());
    write_sample(out, "freshet_dataflow_operator_bytes", {{"id", id}, {"name", text_of(d[1])}, {"type", text_of(d[2])}}, int_of(d[6]));
  }
  write_header(out, "freshet_dataflow_memory_budget_bytes", "The memory budget of every dataflow (dataflow_memory_budget_mb).", "gauge");
  write_sample(out, "freshet_dataflow_memory_budget_bytes", {}, static_cast<uint64_t>(Maintained::budget_bytes()));
  write_header(out, "freshet_sink_messages_total", "Messages a sink has written.", "counter");
  for (const Row& r : sinks) {
    auto d = r.unpack();
    write_sample(out, "freshet_sink_messages_total", {{"sink", text_of(d[0])}, {"topic", text_of(d[4])}}, int_of(d[5]));
  }

  // Writes.
  WriteMetrics& w = write_metrics();
  write_header(out, "freshet_write_commits_total", "Write transactions made durable and visible.", "counter");
  write_sample(out, "freshet_write_commits_total", {}, w.commits.load(std::memory_order_relaxed));
  write_header(out, "freshet_write_failures_total", "Write transactions that could not be made durable.", "counter");
  write_sample(out, "freshet_write_failures_total", {}, w.failed.load(std::memory_order_relaxed));
  write_header(out, "freshet_write_commit_latency_seconds",
               "Time from a write's staging to its publication (durable and visible: its acknowledgement).", "histogram");
  w.latency_seconds.write(out, "freshet_write_commit_latency_seconds");
  write_header(out, "freshet_write_phase_seconds",
               "Where writes spend their time: waiting for the writer lock, holding it, applying rows under the readers' lock, "
               "staged to durable, durable to published.",
               "histogram");
  w.lock_wait_seconds.write(out, "freshet_write_phase_seconds", {{"phase", "lock_wait"}});
  w.locked_seconds.write(out, "freshet_write_phase_seconds", {{"phase", "locked"}});
  w.apply_seconds.write(out, "freshet_write_phase_seconds", {{"phase", "apply"}});
  w.durable_seconds.write(out, "freshet_write_phase_seconds", {{"phase", "durable"}});
  w.publish_seconds.write(out, "freshet_write_phase_seconds", {{"phase", "publish"}});
}

}  // namespace freshet::server
