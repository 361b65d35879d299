// EXPLAIN.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

namespace {
// EXPLAIN SELECT shows the plan the SELECT runs: once, with hashed subplans (peek.cpp).
const sql::LowerOptions kOneShot{.hashed_subplans = true};
}  // namespace

std::unique_ptr<Execution> Executor::run_explain(const PgQuery__ExplainStmt* s) {
  std::shared_lock lock(cs_.mu);
  if (s->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    throw SqlError(sqlstate::kFeatureNotSupported, "EXPLAIN of this statement is not supported");
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  binder.finish_params();
  dataflow::RelExpr plan = sql::optimize(sql::lower(*q.rel, kOneShot));
  std::string text = plan.to_string();
  std::vector<Datum> ds = {Datum::from_string(text)};
  std::vector<Row> rows = {Row::pack(ds)};
  return std::make_unique<MaterializedExecution>(std::vector<Column>{{"Optimized Plan", Type(TypeId::kText)}}, std::move(rows), "EXPLAIN");
}



std::unique_ptr<Execution> Executor::explain_object(const sql::StreamingStatement& st) {
  std::shared_lock lock(cs_.mu);
  std::string text;
  if (st.what == "select") {
    auto tree = sql::ParseTree::parse(st.query);
    if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
      throw SqlError(sqlstate::kFeatureNotSupported, "EXPLAIN supports SELECT, VIEW, INDEX and MATERIALIZED VIEW");
    sql::Binder binder(*catalog_, param_types_);
    sql::BoundQuery q = binder.bind_query(tree->statement(0)->select_stmt);
    binder.finish_params();
    dataflow::RelExpr plan = sql::optimize(sql::lower(*q.rel, kOneShot));
    text = plan.to_string();
    std::vector<std::pair<Row, int64_t>> ignored;
    if (fast_path_index(plan).empty())
      text += "\nStrategy: one-shot dataflow over a snapshot";
    else
      text += "\nStrategy: " + fast_path_index(plan);
  } else {
    const ObjectInfo* o = catalog_->lookup("", st.object);
    if (!o) throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + st.object + "'");
    const ObjectInfo* target = o;
    if (st.what == "index") {
      if (o->kind != ObjectKind::kIndex) throw SqlError(sqlstate::kWrongObjectType, "\"" + o->name + "\" is not an index");
      target = catalog_->find(o->index_on);
      if (!target) throw SqlError(sqlstate::kUndefinedTable, "the indexed object is gone");
    } else if ((st.what == "view" && o->kind != ObjectKind::kView) ||
               (st.what == "materialized view" && o->kind != ObjectKind::kMaterializedView)) {
      throw SqlError(sqlstate::kWrongObjectType, "\"" + o->name + "\" is not a " + st.what);
    }
    if (target->kind == ObjectKind::kTable) {
      text = "Get " + target->name + " (an index on a table records the key only)";
    } else {
      dataflow::RelExpr plan = plan_for_object(*target);
      // As rendered for a maintained dataflow (an index, a materialized view, or a view with
      // one): multi-way joins say "(delta join)" (src/dataflow/delta_join.hpp).
      bool maintained = st.what == "index" || target->kind == ObjectKind::kMaterializedView;
      for (const auto& [id, x] : catalog_->objects())
        if (x->kind == ObjectKind::kIndex && x->index_on == target->id) maintained = true;
      text = plan.to_string(0, maintained);
    }
    if (st.what == "index") {
      std::string key;
      for (size_t i = 0; i < o->columns.size(); ++i) key += (i ? ", " : "") + o->columns[i].name;
      text += "\nArrangement: " + target->name + " keyed by (" + key + ")";
    }
    std::string uses;
    for (const auto& [id, x] : catalog_->objects())
      if (x->kind == ObjectKind::kIndex) {
        for (auto d : catalog_->dependents(x->index_on)) (void)d;
      }
    cs_.wait_compute_idle();  // its sizes are read
    if (const Maintained* m = cs_.find_maintained(target->id)) {
      text += "\nMaintained: yes, " + std::to_string(m->records()) + " records, " + std::to_string(m->num_indexes()) + " index(es)";
      // Its arrangement's shards (src/server/README.md, "The index as per-shard arrangements").
      if (m->num_shards() > 1) {
        std::string by;
        for (size_t i = 0; i < m->shard_columns().size(); ++i) {
          const uint32_t c = m->shard_columns()[i];
          by += (i ? ", " : "") + (c < target->columns.size() ? target->columns[c].name : "#" + std::to_string(c));
        }
        text += ", in " + std::to_string(m->num_shards()) + " shards by " + (by.empty() ? std::string("row") : "(" + by + ")");
      }
      // The indexes it reads instead of arranging those views' rows (src/server/README.md,
      // "Views over indexed views read the index").
      for (const auto& [cid, cols] : m->shared_reads()) {
        const ObjectInfo* v = catalog_->find(cid);
        std::string key;
        for (size_t i = 0; i < cols.size(); ++i)
          key += (i ? ", " : "") + (v && cols[i] < v->columns.size() ? v->columns[cols[i]].name : "#" + std::to_string(cols[i]));
        text += "\nShared arrangement: reads " + (v ? v->name : "#" + std::to_string(cid)) + " keyed by (" + key + ")";
      }
    } else
      text += "\nMaintained: no (computed when read)";
  }
  std::vector<Datum> ds = {Datum::from_string(text)};
  std::vector<Row> rows = {Row::pack(ds)};
  return std::make_unique<MaterializedExecution>(std::vector<Column>{{"Optimized Plan", Type(TypeId::kText)}}, std::move(rows), "EXPLAIN");
}

}  // namespace freshet::server
