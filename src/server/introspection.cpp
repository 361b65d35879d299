// Freshet's introspection relations (in schema pg_catalog's search path, as Materialize keeps
// them in mz_internal): mz_arrangement_sizes lists every maintained arrangement with the
// records and bytes it holds; mz_source_statuses and mz_sink_statuses the state of every
// source and sink; mz_dataflow_frontiers (and Materialize's mz_wallclock_global_lag and
// mz_hydration_statuses) every dataflow's progress; mz_objects every user object with its
// kind, what it belongs to, its row count and its Kafka topic (the web console's overview).
#include "server/catalog.hpp"

#include <functional>

namespace freshet::server {
namespace {
// Each row of mz_dataflow_frontiers, unpacked (the relations derived from it).
const char* object_type(sql::ObjectKind k) {
  switch (k) {
    case sql::ObjectKind::kTable: return "table";
    case sql::ObjectKind::kView: return "view";
    case sql::ObjectKind::kMaterializedView: return "materialized-view";
    case sql::ObjectKind::kIndex: return "index";
    case sql::ObjectKind::kSystemView: return "system-view";
    case sql::ObjectKind::kSource: return "source";
    case sql::ObjectKind::kSecret: return "secret";
    case sql::ObjectKind::kConnection: return "connection";
    case sql::ObjectKind::kSink: return "sink";
    case sql::ObjectKind::kSchema: return "schema";
    case sql::ObjectKind::kDatabase: return "database";
    case sql::ObjectKind::kType: return "type";
  }
  return "unknown";
}

// A table's row count. With a primary key every row is there once, so the number of distinct
// rows is the count, in O(1) (the console reads this every second, and a source's table may
// hold millions of rows); without one the multiplicities are summed, O(rows).
size_t table_rows(const sql::ObjectInfo& t, const TableData& data) {
  return t.primary_key.empty() ? data.size() : data.rows.size();
}

void each_dataflow_row(const Catalog& c, const std::function<void(const std::vector<Datum>&)>& fn) {
  if (!c.dataflow_rows) return;
  std::vector<Row> rows;
  c.dataflow_rows(rows);
  for (const auto& r : rows) fn(r.unpack());
}
}  // namespace

std::vector<SystemView> make_introspection_views(uint64_t first_id) {
  std::vector<SystemView> v;
  auto add = [&](uint64_t id, uint32_t oid, const char* name, std::vector<sql::ColumnInfo> columns,
                 void (*rows)(const Catalog&, std::vector<Row>&)) {
    SystemView view;
    view.info.id = id;
    view.info.oid = oid;
    view.info.schema = "pg_catalog";
    view.info.name = name;
    view.info.kind = sql::ObjectKind::kSystemView;
    view.info.columns = std::move(columns);
    view.rows = rows;
    v.push_back(std::move(view));
  };
  add(first_id, 16000, "mz_arrangement_sizes",
      {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
       {"object_name", Type(TypeId::kText), false, std::nullopt},
       {"object_type", Type(TypeId::kText), false, std::nullopt},
       {"records", Type(TypeId::kInt8), false, std::nullopt},
       // What the dataflow's memory budget counts: arrangement_bytes (its output, arranged
       // for reads and lookups) plus operator_bytes (its operators' state: join arrangements,
       // groups, top-k and distinct entries, recursion), measured after every step.
       {"bytes", Type(TypeId::kInt8), false, std::nullopt},
       {"arrangement_bytes", Type(TypeId::kInt8), false, std::nullopt},
       {"operator_bytes", Type(TypeId::kInt8), false, std::nullopt},
       {"budget_bytes", Type(TypeId::kInt8), false, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        if (c.arrangement_rows) c.arrangement_rows(out);
      });
  add(first_id + 1, 16001, "mz_source_statuses",
      {{"name", Type(TypeId::kText), false, std::nullopt},
       {"type", Type(TypeId::kText), false, std::nullopt},
       {"state", Type(TypeId::kText), false, std::nullopt},
       {"snapshot_rows_done", Type(TypeId::kInt8), false, std::nullopt},
       {"snapshot_rows_total", Type(TypeId::kInt8), false, std::nullopt},
       {"lag_ms", Type(TypeId::kInt8), true, std::nullopt},
       {"rows_per_second", Type(TypeId::kFloat8), false, std::nullopt},
       {"rows_total", Type(TypeId::kInt8), false, std::nullopt},
       {"position", Type(TypeId::kText), true, std::nullopt},
       {"last_error", Type(TypeId::kText), true, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        if (c.source_rows) c.source_rows(out);
      });
  add(first_id + 2, 16002, "mz_sink_statuses",
      {{"name", Type(TypeId::kText), false, std::nullopt},
       {"type", Type(TypeId::kText), false, std::nullopt},
       {"state", Type(TypeId::kText), false, std::nullopt},
       {"from_name", Type(TypeId::kText), false, std::nullopt},
       {"topic", Type(TypeId::kText), false, std::nullopt},
       {"messages_total", Type(TypeId::kInt8), false, std::nullopt},
       {"committed_ts", Type(TypeId::kInt8), true, std::nullopt},
       {"position", Type(TypeId::kText), true, std::nullopt},
       {"last_error", Type(TypeId::kText), true, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        if (c.sink_rows) c.sink_rows(out);
      });
  // Every maintained dataflow's progress (src/server/README.md, "Threads and locking"):
  // its frontier (every write before it is reflected), how far it is behind the wall clock,
  // the compute steps it still has to process, whether it is hydrated, and its error.
  add(first_id + 3, 16003, "mz_dataflow_frontiers",
      {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
       {"object_name", Type(TypeId::kText), false, std::nullopt},
       {"frontier_ms", Type(TypeId::kInt8), false, std::nullopt},
       {"lag_ms", Type(TypeId::kInt8), false, std::nullopt},
       {"pending_steps", Type(TypeId::kInt8), false, std::nullopt},
       {"hydrated", Type(TypeId::kBool), false, std::nullopt},
       {"error", Type(TypeId::kText), true, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        if (c.dataflow_rows) c.dataflow_rows(out);
      });
  // Materialize's names for two of its columns (mz_internal.mz_wallclock_global_lag and
  // mz_internal.mz_hydration_statuses).
  add(first_id + 4, 16004, "mz_wallclock_global_lag",
      {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
       {"lag", Type(TypeId::kInterval), false, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        each_dataflow_row(c, [&](const std::vector<Datum>& ds) {
          std::vector<Datum> o = {ds[0], Datum::from_interval(Interval{0, 0, ds[3].as_int() * 1000})};
          out.push_back(Row::pack(o));
        });
      });
  add(first_id + 5, 16005, "mz_hydration_statuses",
      {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
       {"hydrated", Type(TypeId::kBool), false, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        each_dataflow_row(c, [&](const std::vector<Datum>& ds) {
          std::vector<Datum> o = {ds[0], ds[5]};
          out.push_back(Row::pack(o));
        });
      });
  // Materialize's mz_catalog.mz_objects, with two columns of Freshet's: `on_name` (an
  // index's relation, a source-fed table's source) and `rows` (a table's current row count;
  // NULL for the others: their sizes are in mz_arrangement_sizes; O(1) for tables with a
  // primary key, O(rows) without). `topic` is the Kafka topic
  // that serves the object (src/server/kafka_backend.cpp: tables and materialized views).
  add(first_id + 6, 16006, "mz_objects",
      {{"id", Type(TypeId::kInt8), false, std::nullopt},
       {"oid", Type(TypeId::kInt8), false, std::nullopt},
       {"schema_name", Type(TypeId::kText), false, std::nullopt},
       {"name", Type(TypeId::kText), false, std::nullopt},
       {"type", Type(TypeId::kText), false, std::nullopt},
       {"on_name", Type(TypeId::kText), true, std::nullopt},
       {"rows", Type(TypeId::kInt8), true, std::nullopt},
       {"topic", Type(TypeId::kText), true, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        for (const auto& [id, o] : c.objects()) {
          if (o->kind == sql::ObjectKind::kSchema || o->kind == sql::ObjectKind::kDatabase) continue;  // not relations
          uint64_t owner = o->kind == sql::ObjectKind::kIndex ? o->index_on : o->source_id;
          const auto owner_it = owner ? c.objects().find(owner) : c.objects().end();
          const TableData* data = o->kind == sql::ObjectKind::kTable ? c.table_data(id) : nullptr;
          bool has_topic = o->kind == sql::ObjectKind::kTable || o->kind == sql::ObjectKind::kMaterializedView;
          const std::string topic = "freshet." + o->schema + "." + o->name;  // outlives the Datum below
          std::vector<Datum> ds = {
              Datum::from_int(static_cast<int64_t>(id)), Datum::from_int(o->oid), Datum::from_string(o->schema),
              Datum::from_string(o->name), Datum::from_string(object_type(o->kind)),
              owner_it == c.objects().end() ? Datum::null() : Datum::from_string(owner_it->second->name),
              data ? Datum::from_int(static_cast<int64_t>(table_rows(*o, *data))) : Datum::null(),
              has_topic ? Datum::from_string(topic) : Datum::null()};
          out.push_back(Row::pack(ds));
        }
      });
  // The Kafka API's consumer groups by their committed offsets (durable, so groups from before
  // a restart are listed too), with the topic's end and the lag for Freshet's own topics
  // (NULL for raw topics created by Kafka clients). Empty without the Kafka API.
  add(first_id + 7, 16007, "mz_kafka_consumer_groups",
      {{"group_id", Type(TypeId::kText), false, std::nullopt},
       {"topic", Type(TypeId::kText), false, std::nullopt},
       {"partition", Type(TypeId::kInt4), false, std::nullopt},
       {"committed_offset", Type(TypeId::kInt8), false, std::nullopt},
       {"end_offset", Type(TypeId::kInt8), true, std::nullopt},
       {"lag", Type(TypeId::kInt8), true, std::nullopt}},
      [](const Catalog& c, std::vector<Row>& out) {
        if (c.kafka_group_rows) c.kafka_group_rows(out);
      });
  return v;
}

}  // namespace freshet::server
