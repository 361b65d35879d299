// CREATE TABLE, CREATE TABLE AS.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

sql::ColumnInfo Executor::column_of_def(const PgQuery__ColumnDef* cd,
                                        const std::function<void(const PgQuery__Constraint*, sql::ColumnInfo&)>& other) {
  sql::Binder binder(*catalog_, param_types_);
  sql::ColumnInfo col;
  col.name = cd->colname;
  col.type = binder.bind_type(cd->type_name);
  if ((col.type.id == TypeId::kRecord && !is_record_value_type(col.type)) || col.type.id == TypeId::kUnknown)
    throw SqlError(sqlstate::kDatatypeMismatch, "column \"" + col.name + "\" has pseudo-type " + type_name(col.type));
  // A list column (Materialize's `l int list`) is stored in the catalog as its non-list
  // element type and depth (server/persist.cpp) and its values as their canonical text.
  col.nullable = !cd->is_not_null;
  for (size_t k = 0; k < cd->n_constraints; ++k) {
    const auto* c = cd->constraints[k]->constraint;
    switch (c->contype) {
      case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL: col.nullable = false; break;
      case PG_QUERY__CONSTR_TYPE__CONSTR_NULL: col.nullable = true; break;
      case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT: {
        // The text of a DEFAULT expression: deparsed, so that it is stored in canonical SQL.
        col.default_sql = sql::deparse_expr(c->raw_expr);
        // Validate now: the default must bind and cast to the column type.
        sql::Scope empty;
        HExpr e = binder.bind_expr_in_scope(c->raw_expr, empty, "DEFAULT expressions");
        binder.coerce(std::move(e), col.type, CastContext::kAssignment, 0, "column \"" + col.name + "\"");
        break;
      }
      default:
        other(c, col);
    }
  }
  return col;
}

std::unique_ptr<Execution> Executor::run_create_table(const PgQuery__CreateStmt* s) {
  DdlLock lock(cs_);
  std::string schema = target_schema(s->relation);
  std::string name = s->relation->relname;
  if (catalog_->lookup(schema, name)) {
    if (s->if_not_exists) return done("CREATE TABLE");
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  }
  ObjectInfo obj;
  obj.schema = schema;
  obj.name = name;
  obj.kind = ObjectKind::kTable;
  std::vector<std::string> pk_names;
  std::vector<std::vector<std::string>> unique_names;
  for (size_t i = 0; i < s->n_table_elts; ++i) {
    const auto* el = s->table_elts[i];
    if (el->node_case == PG_QUERY__NODE__NODE_COLUMN_DEF) {
      const auto* cd = el->column_def;
      for (const auto& existing : obj.columns)
        if (existing.name == cd->colname)
          throw SqlError(sqlstate::kDuplicateColumn, "column \"" + std::string(cd->colname) + "\" specified more than once", cd->location + 1);
      sql::ColumnInfo col = column_of_def(cd, [&](const PgQuery__Constraint* c, sql::ColumnInfo& col) {
        switch (c->contype) {
          case PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY:
            pk_names.push_back(col.name);
            col.nullable = false;
            break;
          case PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE:
            unique_names.push_back({col.name});
            break;
          case PG_QUERY__CONSTR_TYPE__CONSTR_CHECK:
          case PG_QUERY__CONSTR_TYPE__CONSTR_FOREIGN:
            throw SqlError(sqlstate::kFeatureNotSupported, "CHECK and FOREIGN KEY constraints are not supported", c->location + 1);
          default:
            break;
        }
      });
      obj.columns.push_back(std::move(col));
    } else if (el->node_case == PG_QUERY__NODE__NODE_CONSTRAINT) {
      const auto* c = el->constraint;
      if (c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_PRIMARY) {
        for (size_t k = 0; k < c->n_keys; ++k) pk_names.push_back(str_of(c->keys[k]));
      } else if (c->contype == PG_QUERY__CONSTR_TYPE__CONSTR_UNIQUE) {
        std::vector<std::string> u;
        for (size_t k = 0; k < c->n_keys; ++k) u.push_back(str_of(c->keys[k]));
        unique_names.push_back(u);
      } else {
        throw SqlError(sqlstate::kFeatureNotSupported, "CHECK and FOREIGN KEY constraints are not supported", c->location + 1);
      }
    } else {
      throw SqlError(sqlstate::kFeatureNotSupported, "this table element is not supported");
    }
  }
  for (const auto& pk : pk_names) {
    size_t c = 0;
    for (; c < obj.columns.size(); ++c)
      if (obj.columns[c].name == pk) break;
    if (c == obj.columns.size()) throw SqlError(sqlstate::kUndefinedColumn, "column \"" + pk + "\" named in key does not exist");
    if (std::find(obj.primary_key.begin(), obj.primary_key.end(), c) != obj.primary_key.end())
      throw SqlError(sqlstate::kDuplicateColumn, "column \"" + pk + "\" appears twice in primary key constraint");
    obj.primary_key.push_back(static_cast<uint32_t>(c));
    obj.columns[c].nullable = false;
  }
  for (const auto& u : unique_names) {
    std::vector<uint32_t> cols;
    for (const auto& n : u) {
      size_t c = 0;
      for (; c < obj.columns.size(); ++c)
        if (obj.columns[c].name == n) break;
      if (c == obj.columns.size()) throw SqlError(sqlstate::kUndefinedColumn, "column \"" + n + "\" named in key does not exist");
      cols.push_back(static_cast<uint32_t>(c));
    }
    if (cols != obj.primary_key) obj.unique_keys.push_back(cols);
  }
  obj.retain_history_ms = retain_history_option(s->options, s->n_options).value_or(0);
  catalog_->add(std::move(obj));
  if (!st_.block) cs_.apply_history_windows();
  return done("CREATE TABLE");
}

std::unique_ptr<Execution> Executor::run_create_table_as(const PgQuery__CreateTableAsStmt* s) {
  DdlLock lock(cs_);
  if (s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW) return create_materialized_view(lock, s);
  const auto* into = s->into;
  std::string name = into->rel->relname;
  std::string schema = target_schema(into->rel);
  if (catalog_->lookup(schema, name)) {
    if (s->if_not_exists) return done("SELECT 0");
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  }
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  sql::check_column_aliases(q, into->n_col_names, false);
  ObjectInfo obj;
  obj.name = name;
  obj.schema = schema;
  obj.kind = ObjectKind::kTable;
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) {
    std::string cname = i < into->n_col_names ? str_of(into->col_names[i]) : q.column_names[i];
    obj.columns.push_back({cname, types[i], true, std::nullopt});
  }
  auto rows = evaluate(*binder.relation_of(q));
  const ObjectInfo& t = catalog_->add(std::move(obj));
  std::vector<std::pair<Row, int64_t>> changes;
  size_t count = 0;
  std::vector<Datum> ds;
  for (auto& [r, n] : rows) {
    ds.clear();
    r.unpack_into(ds);
    changes.push_back({Row::pack(std::span<const Datum>(ds.data(), t.columns.size())), n});
    count += static_cast<size_t>(n);
  }
  if (st_.block) {  // in a transaction block: the rows are the block's, written at COMMIT
    write(t, changes);
    return done("SELECT " + std::to_string(count));
  }
  // The rows are one write transaction through the write path, after the table exists.
  staged_.clear();
  commit_records_.clear();
  commit_batch_ = &staged_;
  write(t, changes);
  commit_batch_ = nullptr;
  lock.m.unlock();
  commit_staged_holding(lock.w);
  return done("SELECT " + std::to_string(count));
}

}  // namespace freshet::server
