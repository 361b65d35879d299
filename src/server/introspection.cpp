// Freshet's introspection relations (in schema pg_catalog's search path, as Materialize keeps
// them in mz_internal): mz_arrangement_sizes lists every maintained arrangement with the
// records and bytes it holds; mz_source_statuses and mz_sink_statuses the state of every
// source and sink.
#include "server/catalog.hpp"

namespace freshet::server {

std::vector<SystemView> make_introspection_views(uint64_t first_id) {
  std::vector<SystemView> v;
  SystemView sizes;
  sizes.info.id = first_id;
  sizes.info.oid = 16000;
  sizes.info.schema = "pg_catalog";
  sizes.info.name = "mz_arrangement_sizes";
  sizes.info.kind = sql::ObjectKind::kSystemView;
  sizes.info.columns = {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
                        {"object_name", Type(TypeId::kText), false, std::nullopt},
                        {"object_type", Type(TypeId::kText), false, std::nullopt},
                        {"records", Type(TypeId::kInt8), false, std::nullopt},
                        {"bytes", Type(TypeId::kInt8), false, std::nullopt}};
  sizes.rows = [](const Catalog& c, std::vector<Row>& out) {
    if (c.arrangement_rows) c.arrangement_rows(out);
  };
  v.push_back(std::move(sizes));
  SystemView sources;
  sources.info.id = first_id + 1;
  sources.info.oid = 16001;
  sources.info.schema = "pg_catalog";
  sources.info.name = "mz_source_statuses";
  sources.info.kind = sql::ObjectKind::kSystemView;
  sources.info.columns = {{"name", Type(TypeId::kText), false, std::nullopt},
                          {"type", Type(TypeId::kText), false, std::nullopt},
                          {"state", Type(TypeId::kText), false, std::nullopt},
                          {"snapshot_rows_done", Type(TypeId::kInt8), false, std::nullopt},
                          {"snapshot_rows_total", Type(TypeId::kInt8), false, std::nullopt},
                          {"lag_ms", Type(TypeId::kInt8), true, std::nullopt},
                          {"rows_per_second", Type(TypeId::kFloat8), false, std::nullopt},
                          {"rows_total", Type(TypeId::kInt8), false, std::nullopt},
                          {"position", Type(TypeId::kText), true, std::nullopt},
                          {"last_error", Type(TypeId::kText), true, std::nullopt}};
  sources.rows = [](const Catalog& c, std::vector<Row>& out) {
    if (c.source_rows) c.source_rows(out);
  };
  v.push_back(std::move(sources));
  SystemView sinks;
  sinks.info.id = first_id + 2;
  sinks.info.oid = 16002;
  sinks.info.schema = "pg_catalog";
  sinks.info.name = "mz_sink_statuses";
  sinks.info.kind = sql::ObjectKind::kSystemView;
  sinks.info.columns = {{"name", Type(TypeId::kText), false, std::nullopt},
                        {"type", Type(TypeId::kText), false, std::nullopt},
                        {"state", Type(TypeId::kText), false, std::nullopt},
                        {"from_name", Type(TypeId::kText), false, std::nullopt},
                        {"topic", Type(TypeId::kText), false, std::nullopt},
                        {"messages_total", Type(TypeId::kInt8), false, std::nullopt},
                        {"committed_ts", Type(TypeId::kInt8), true, std::nullopt},
                        {"position", Type(TypeId::kText), true, std::nullopt},
                        {"last_error", Type(TypeId::kText), true, std::nullopt}};
  sinks.rows = [](const Catalog& c, std::vector<Row>& out) {
    if (c.sink_rows) c.sink_rows(out);
  };
  v.push_back(std::move(sinks));
  // Every maintained dataflow's progress (src/server/README.md, "Threads and locking"):
  // its frontier (every write before it is reflected), how far it is behind the wall clock,
  // the compute steps it still has to process, whether it is hydrated, and its error.
  SystemView frontiers;
  frontiers.info.id = first_id + 3;
  frontiers.info.oid = 16003;
  frontiers.info.schema = "pg_catalog";
  frontiers.info.name = "mz_dataflow_frontiers";
  frontiers.info.kind = sql::ObjectKind::kSystemView;
  frontiers.info.columns = {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
                            {"object_name", Type(TypeId::kText), false, std::nullopt},
                            {"frontier_ms", Type(TypeId::kInt8), false, std::nullopt},
                            {"lag_ms", Type(TypeId::kInt8), false, std::nullopt},
                            {"pending_steps", Type(TypeId::kInt8), false, std::nullopt},
                            {"hydrated", Type(TypeId::kBool), false, std::nullopt},
                            {"error", Type(TypeId::kText), true, std::nullopt}};
  frontiers.rows = [](const Catalog& c, std::vector<Row>& out) {
    if (c.dataflow_rows) c.dataflow_rows(out);
  };
  v.push_back(std::move(frontiers));
  // Materialize's names for two of its columns (mz_internal.mz_wallclock_global_lag and
  // mz_internal.mz_hydration_statuses).
  SystemView lag;
  lag.info.id = first_id + 4;
  lag.info.oid = 16004;
  lag.info.schema = "pg_catalog";
  lag.info.name = "mz_wallclock_global_lag";
  lag.info.kind = sql::ObjectKind::kSystemView;
  lag.info.columns = {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
                      {"lag", Type(TypeId::kInterval), false, std::nullopt}};
  lag.rows = [](const Catalog& c, std::vector<Row>& out) {
    if (!c.dataflow_rows) return;
    std::vector<Row> rows;
    c.dataflow_rows(rows);
    for (const auto& r : rows) {
      auto ds = r.unpack();
      std::vector<Datum> o = {ds[0], Datum::from_interval(Interval{0, 0, ds[3].as_int() * 1000})};
      out.push_back(Row::pack(o));
    }
  };
  v.push_back(std::move(lag));
  SystemView hyd;
  hyd.info.id = first_id + 5;
  hyd.info.oid = 16005;
  hyd.info.schema = "pg_catalog";
  hyd.info.name = "mz_hydration_statuses";
  hyd.info.kind = sql::ObjectKind::kSystemView;
  hyd.info.columns = {{"object_id", Type(TypeId::kInt8), false, std::nullopt},
                      {"hydrated", Type(TypeId::kBool), false, std::nullopt}};
  hyd.rows = [](const Catalog& c, std::vector<Row>& out) {
    if (!c.dataflow_rows) return;
    std::vector<Row> rows;
    c.dataflow_rows(rows);
    for (const auto& r : rows) {
      auto ds = r.unpack();
      std::vector<Datum> o = {ds[0], ds[5]};
      out.push_back(Row::pack(o));
    }
  };
  v.push_back(std::move(hyd));
  return v;
}

}  // namespace freshet::server
