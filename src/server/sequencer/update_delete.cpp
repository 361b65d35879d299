// UPDATE, DELETE, TRUNCATE.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

// The rows of t an UPDATE or DELETE targets: t under its alias in scope, filtered by where.
HRelPtr Executor::target_rows(const ObjectInfo& t, const PgQuery__RangeVar* rv, const PgQuery__Node* where, sql::Binder& binder,
                              sql::Scope& scope) {
  std::string alias = rv->alias && *rv->alias->aliasname ? rv->alias->aliasname : t.name;
  for (size_t i = 0; i < t.columns.size(); ++i) scope.items.push_back({alias, t.columns[i].name, t.columns[i].type, static_cast<uint32_t>(i), true, false, t.oid});
  auto get = std::make_shared<HRel>();
  get->kind = HRelKind::kGet;
  get->collection_id = t.id;
  for (const auto& c : t.columns) get->column_types.push_back(c.type);
  if (!where) return get;
  auto f = std::make_shared<HRel>();
  f->kind = HRelKind::kFilter;
  f->inputs = {get};
  f->column_types = get->column_types;
  HExpr pred = binder.bind_expr_in_scope(where, scope, "WHERE", true);
  if (pred.type.id != TypeId::kBool)
    throw SqlError(sqlstate::kDatatypeMismatch, "argument of WHERE must be type boolean, not type " + type_name(pred.type));
  f->exprs = {pred};
  return f;
}

std::unique_ptr<Execution> Executor::run_update(const PgQuery__UpdateStmt* s) {
  begin_write();
  if (s->n_from_clause) throw SqlError(sqlstate::kFeatureNotSupported, "UPDATE ... FROM is not supported");
  const ObjectInfo& t = table_for_write(s->relation);
  sql::Binder binder(*catalog_, param_types_);
  sql::Scope scope;
  HRelPtr rel = target_rows(t, s->relation, s->where_clause, binder, scope);
  std::vector<HExpr> new_values;
  for (size_t c = 0; c < t.columns.size(); ++c) new_values.push_back(HExpr::column_ref(0, static_cast<uint32_t>(c), t.columns[c].type));
  std::vector<bool> assigned(t.columns.size(), false);
  for (size_t i = 0; i < s->n_target_list; ++i) {
    const auto* rt = s->target_list[i]->res_target;
    size_t c = 0;
    for (; c < t.columns.size(); ++c)
      if (t.columns[c].name == rt->name) break;
    if (c == t.columns.size())
      throw SqlError(sqlstate::kUndefinedColumn, "column \"" + std::string(rt->name) + "\" of relation \"" + t.name + "\" does not exist", rt->location + 1);
    if (assigned[c]) throw SqlError(sqlstate::kSyntaxError, "multiple assignments to same column \"" + std::string(rt->name) + "\"");
    assigned[c] = true;
    if (rt->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) {
      new_values[c] = default_for(t, c, binder);
      continue;
    }
    HExpr e = binder.bind_expr_in_scope(rt->val, scope, "UPDATE", true);
    new_values[c] = binder.coerce(std::move(e), t.columns[c].type, CastContext::kAssignment, 0, "column \"" + t.columns[c].name + "\"");
  }
  auto m = std::make_shared<HRel>();
  m->kind = HRelKind::kMap;
  m->inputs = {rel};
  m->column_types = rel->column_types;
  for (const auto& e : new_values) {
    m->exprs.push_back(e);
    m->column_types.push_back(e.type);
  }
  binder.finish_params();
  auto rows = evaluate(*m);
  size_t n_cols = t.columns.size();
  std::vector<std::pair<Row, int64_t>> changes;
  std::vector<Row> updated;
  size_t count = 0;
  std::vector<Datum> ds;
  for (auto& [r, n] : rows) {
    ds.clear();
    r.unpack_into(ds);
    Row old_row = Row::pack(std::span<const Datum>(ds.data(), n_cols));
    Row new_row = Row::pack(std::span<const Datum>(ds.data() + n_cols, n_cols));
    changes.push_back({old_row, -n});
    changes.push_back({new_row, n});
    count += static_cast<size_t>(n);
    if (s->n_returning_list)
      for (int64_t i = 0; i < n; ++i) updated.push_back(new_row);
  }
  write(t, changes);
  std::vector<Column> cols;
  auto ret = returning(t, s->returning_list, s->n_returning_list, updated, cols);
  commit_staged();
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(ret), "UPDATE " + std::to_string(count));
}

std::unique_ptr<Execution> Executor::run_delete(const PgQuery__DeleteStmt* s) {
  begin_write();
  if (s->n_using_clause) throw SqlError(sqlstate::kFeatureNotSupported, "DELETE ... USING is not supported");
  const ObjectInfo& t = table_for_write(s->relation);
  sql::Binder binder(*catalog_, param_types_);
  sql::Scope scope;
  HRelPtr rel = target_rows(t, s->relation, s->where_clause, binder, scope);
  binder.finish_params();
  auto rows = evaluate(*rel);
  std::vector<std::pair<Row, int64_t>> changes;
  std::vector<Row> deleted;
  size_t count = 0;
  for (auto& [r, n] : rows) {
    changes.push_back({r, -n});
    count += static_cast<size_t>(n);
    if (s->n_returning_list)
      for (int64_t i = 0; i < n; ++i) deleted.push_back(r);
  }
  write(t, changes);
  std::vector<Column> cols;
  auto ret = returning(t, s->returning_list, s->n_returning_list, deleted, cols);
  commit_staged();
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(ret), "DELETE " + std::to_string(count));
}

std::unique_ptr<Execution> Executor::run_truncate(const PgQuery__TruncateStmt* s) {
  begin_write();
  for (size_t i = 0; i < s->n_relations; ++i) {
    const ObjectInfo& t = table_for_write(s->relations[i]->range_var);
    std::vector<std::pair<Row, int64_t>> changes;
    for (const auto& [r, n] : catalog_->table_data(t.id)->rows) changes.push_back({r, -n});
    for (const auto& [r, n] : st_.pending[t.id]) changes.push_back({r, -n});
    write(t, changes);
  }
  commit_staged();
  return done("TRUNCATE TABLE");
}

}  // namespace freshet::server
