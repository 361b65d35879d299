// The dispatch of a parsed statement to its sequencer, Describe, PREPARE/EXECUTE arguments.
#include <cctype>
#include <optional>

#include "server/sequencer/executor.hpp"

namespace freshet::server {

std::vector<Column> Executor::describe(const PgQuery__Node* stmt, bool& returns_rows, bool literal_rows_after_first) {
  returns_rows = false;
  std::shared_lock lock(cs_.mu);
  if (stmt->node_case == PG_QUERY__NODE__NODE_SELECT_STMT) {
    sql::Binder binder(*catalog_, param_types_);
    sql::BoundQuery q = binder.bind_query(stmt->select_stmt);
    binder.finish_params();
    std::vector<Column> cols;
    auto types = q.types();
    for (size_t i = 0; i < q.column_names.size(); ++i) {
      cols.push_back({q.column_names[i], types[i]});
      if (q.origins.size() == q.column_names.size()) {  // the table column it shows (RowDescription)
        cols.back().table_oid = q.origins[i].first;
        cols.back().attnum = q.origins[i].second;
      }
    }
    returns_rows = true;
    return cols;
  }
  if (stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT) {
    returns_rows = true;
    return {{str_of(nullptr).empty() ? std::string(stmt->variable_show_stmt->name) : "", Type(TypeId::kText)}};
  }
  if (stmt->node_case == PG_QUERY__NODE__NODE_FETCH_STMT && !stmt->fetch_stmt->ismove) {
    returns_rows = true;
    CursorSet::Cursor* c = st_.cursors.find(stmt->fetch_stmt->portalname ? stmt->fetch_stmt->portalname : "");
    return c ? c->columns : std::vector<Column>{};
  }
  if (stmt->node_case == PG_QUERY__NODE__NODE_EXPLAIN_STMT) {
    returns_rows = true;
    return {{"Optimized Plan", Type(TypeId::kText)}};
  }
  // DML: bind to learn parameter types; RETURNING columns.
  auto bind_table_scope = [&](const PgQuery__RangeVar* rv, sql::Scope& scope) -> const ObjectInfo& {
    const ObjectInfo& t = table_for_write(rv);
    std::string alias = rv->alias && *rv->alias->aliasname ? rv->alias->aliasname : t.name;
    for (size_t i = 0; i < t.columns.size(); ++i) scope.items.push_back({alias, t.columns[i].name, t.columns[i].type, static_cast<uint32_t>(i), true, false, t.oid});
    return t;
  };
  std::vector<Column> cols;
  PgQuery__Node** ret = nullptr;
  size_t nret = 0;
  sql::Scope scope;
  sql::Binder binder(*catalog_, param_types_);
  if (stmt->node_case == PG_QUERY__NODE__NODE_INSERT_STMT) {
    const auto* s = stmt->insert_stmt;
    const ObjectInfo& t = bind_table_scope(s->relation, scope);
    // Bind VALUES items against the target columns to type their parameters.
    std::vector<size_t> targets;
    if (s->n_cols == 0)
      for (size_t i = 0; i < t.columns.size(); ++i) targets.push_back(i);
    else
      for (size_t i = 0; i < s->n_cols; ++i) {
        std::string name = s->cols[i]->res_target->name;
        for (size_t c = 0; c < t.columns.size(); ++c)
          if (t.columns[c].name == name) targets.push_back(c);
      }
    if (s->select_stmt && s->select_stmt->select_stmt->n_values_lists > 0) {
      sql::Scope empty;
      const size_t n_rows = literal_rows_after_first ? std::min<size_t>(1, s->select_stmt->select_stmt->n_values_lists)
                                                     : s->select_stmt->select_stmt->n_values_lists;
      for (size_t r = 0; r < n_rows; ++r) {
        const auto* l = s->select_stmt->select_stmt->values_lists[r]->list;
        for (size_t k = 0; k < l->n_items && k < targets.size(); ++k) {
          if (l->items[k]->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) continue;
          HExpr e = binder.bind_expr_in_scope(l->items[k], empty, "VALUES", true);
          binder.coerce(std::move(e), t.columns[targets[k]].type, CastContext::kAssignment);
        }
      }
    } else if (s->select_stmt) {
      binder.bind_query(s->select_stmt->select_stmt);
    }
    ret = s->returning_list;
    nret = s->n_returning_list;
  } else if (stmt->node_case == PG_QUERY__NODE__NODE_UPDATE_STMT) {
    const auto* s = stmt->update_stmt;
    const ObjectInfo& t = bind_table_scope(s->relation, scope);
    for (size_t i = 0; i < s->n_target_list; ++i) {
      const auto* rt = s->target_list[i]->res_target;
      if (rt->val->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) continue;
      for (size_t c = 0; c < t.columns.size(); ++c)
        if (t.columns[c].name == rt->name)
          binder.coerce(binder.bind_expr_in_scope(rt->val, scope, "UPDATE", true), t.columns[c].type, CastContext::kAssignment);
    }
    if (s->where_clause) binder.bind_expr_in_scope(s->where_clause, scope, "WHERE", true);
    ret = s->returning_list;
    nret = s->n_returning_list;
  } else if (stmt->node_case == PG_QUERY__NODE__NODE_DELETE_STMT) {
    const auto* s = stmt->delete_stmt;
    bind_table_scope(s->relation, scope);
    if (s->where_clause) binder.bind_expr_in_scope(s->where_clause, scope, "WHERE", true);
    ret = s->returning_list;
    nret = s->n_returning_list;
  }
  for (size_t i = 0; i < nret; ++i) {
    const auto* rt = ret[i]->res_target;
    // `RETURNING *` (also next to other items, `RETURNING a, *`): every column, as
    // Executor::returning expands it.
    if (rt->val->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        rt->val->column_ref->fields[rt->val->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      for (const auto& item : scope.items) cols.push_back({item.name, item.type});
      continue;
    }
    HExpr e = binder.bind_expr_in_scope(rt->val, scope, "RETURNING", true);
    cols.push_back({rt->name && *rt->name ? rt->name : sql::Binder::column_name_for(rt->val), e.type.id == TypeId::kUnknown ? Type(TypeId::kText) : e.type});
  }
  binder.finish_params();
  returns_rows = nret > 0;
  return cols;
}

namespace {
// ALTER SYSTEM SET unsafe_pause_dataflows = on | off (RESET: off): the benchmark's hook that
// holds the maintained dataflows' steps back (Coordinator::State::dataflows_paused). Empty
// for any other statement.
std::optional<bool> pause_dataflows_setting(const PgQuery__AlterSystemStmt* a, bool superuser) {
  const PgQuery__VariableSetStmt* set = a->setstmt;
  if (!set || !set->name || std::string_view(set->name) != "unsafe_pause_dataflows") return std::nullopt;
  if (!superuser) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to set parameter \"unsafe_pause_dataflows\"");
  if (set->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET || set->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT) return false;
  std::string value;
  if (set->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE && set->n_args == 1 && set->args[0]->node_case == PG_QUERY__NODE__NODE_A_CONST) {
    const auto* c = set->args[0]->a_const;
    if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) value = c->sval->sval;
    else if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) value = c->boolval->boolval ? "on" : "off";
    else if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) value = std::to_string(c->ival->ival);
  }
  for (char& ch : value) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (value == "on" || value == "true" || value == "1") return true;
  if (value == "off" || value == "false" || value == "0") return false;
  throw SqlError(sqlstate::kInvalidParameterValue, "parameter \"unsafe_pause_dataflows\" requires a Boolean value");
}

// ALTER SYSTEM SET of Materialize's feature flags whose features Freshet always has (its
// sqllogictest files turn them on first): accepted, nothing to change. Anything else, or
// turning one off, is 0A000.
void check_alter_system(const PgQuery__AlterSystemStmt* a, bool superuser) {
  if (a->setstmt && a->setstmt->name && std::string_view(a->setstmt->name) == "dataflow_memory_budget_mb") {
    alter_dataflow_budget(*a->setstmt, superuser);  // maintained.cpp
    return;
  }
  const PgQuery__VariableSetStmt* set = a->setstmt;
  const bool reset = set && (set->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET || set->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT);
  std::string value;
  if (set && set->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE && set->n_args == 1 && set->args[0]->node_case == PG_QUERY__NODE__NODE_A_CONST) {
    const auto* c = set->args[0]->a_const;
    if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) value = std::to_string(c->ival->ival);
    else if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) value = c->sval->sval;
    else if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) value = c->boolval->boolval ? "true" : "false";
  }
  // max_result_size: the largest result of a read (result_size.hpp).
  if (set && set->name && std::string_view(set->name) == "max_result_size") {
    if (!superuser) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to set parameter \"max_result_size\"");
    if (reset) {
      g_max_result_size.store(kDefaultMaxResultSize, std::memory_order_relaxed);
      return;
    }
    std::optional<uint64_t> n = parse_byte_size(value);
    if (!n)
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"max_result_size\": \"" + value + "\"")
          .with_hint("A size in bytes, with an optional unit: B, kB, MB, GB or TB.");
    g_max_result_size.store(*n, std::memory_order_relaxed);
    return;
  }
  // enable_compute_peek_response_stash: where Materialize keeps large results meanwhile;
  // Freshet keeps a result in memory either way, so on, off and RESET all mean that.
  if (set && set->name && std::string_view(set->name) == "enable_compute_peek_response_stash" &&
      (reset || value == "true" || value == "false" || value == "on" || value == "off"))
    return;
  // enable_binary_date_bin: date_bin(stride, source) without an origin (1970-01-01), which
  // Freshet always answers; enable_alter_swap: ALTER SCHEMA ... SWAP WITH; enable_mz_join_core:
  // a choice among Materialize's join implementations, which give the same rows (Freshet has
  // one); enable_session_timelines: the isolation level "strong session serializable" (run at
  // strict serializable, set_show.cpp).
  static const char* const kAlwaysOn[] = {"enable_envelope_debezium_in_subscribe", "enable_within_timestamp_order_by_in_subscribe",
                                          "unsafe_enable_table_keys", "enable_binary_date_bin", "enable_alter_swap",
                                          "enable_mz_join_core", "enable_session_timelines"};
  const PgQuery__VariableSetStmt* v = a->setstmt;
  bool known = false;
  for (const char* f : kAlwaysOn) known = known || (v && v->name && std::string_view(v->name) == f);
  bool on = v && v->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE && v->n_args == 1 &&
            v->args[0]->node_case == PG_QUERY__NODE__NODE_A_CONST &&
            ((v->args[0]->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL &&
              (std::string_view(v->args[0]->a_const->sval->sval) == "true" || std::string_view(v->args[0]->a_const->sval->sval) == "on")) ||
             (v->args[0]->a_const->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL && v->args[0]->a_const->boolval->boolval));
  if (!known || !on) throw SqlError(sqlstate::kFeatureNotSupported, "this statement is not supported");
}
}  // namespace


namespace {
// What a read-only transaction refuses, named as PostgreSQL's "cannot execute %s in a
// read-only transaction" names it; nullptr for statements that only read.
const char* write_command_name(const PgQuery__Node* stmt) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_INSERT_STMT: return "INSERT";
    case PG_QUERY__NODE__NODE_UPDATE_STMT: return "UPDATE";
    case PG_QUERY__NODE__NODE_DELETE_STMT: return "DELETE";
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT: return "TRUNCATE TABLE";
    case PG_QUERY__NODE__NODE_COPY_STMT: return stmt->copy_stmt->is_from ? "COPY FROM" : nullptr;
    case PG_QUERY__NODE__NODE_CREATE_STMT: return "CREATE TABLE";
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
      return stmt->create_table_as_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW ? "CREATE MATERIALIZED VIEW"
                                                                                           : "CREATE TABLE AS";
    case PG_QUERY__NODE__NODE_VIEW_STMT: return "CREATE VIEW";
    case PG_QUERY__NODE__NODE_INDEX_STMT: return "CREATE INDEX";
    case PG_QUERY__NODE__NODE_DROP_STMT: return "DROP";
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT: return "CREATE SCHEMA";
    case PG_QUERY__NODE__NODE_CREATEDB_STMT: return "CREATE DATABASE";
    case PG_QUERY__NODE__NODE_DROPDB_STMT: return "DROP DATABASE";
    case PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT: return "CREATE TYPE";
    case PG_QUERY__NODE__NODE_RENAME_STMT: return "ALTER";
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT: return "ALTER TABLE";
    case PG_QUERY__NODE__NODE_GRANT_STMT: return stmt->grant_stmt->is_grant ? "GRANT" : "REVOKE";
    case PG_QUERY__NODE__NODE_CREATE_ROLE_STMT: return "CREATE ROLE";
    case PG_QUERY__NODE__NODE_DROP_ROLE_STMT: return "DROP ROLE";
    case PG_QUERY__NODE__NODE_ALTER_ROLE_STMT: return "ALTER ROLE";
    case PG_QUERY__NODE__NODE_COMMENT_STMT: return "COMMENT";
    default: return nullptr;
  }
}

// Statements after which the block's access mode and isolation level are fixed: all but
// transaction control, SET/RESET/SHOW, FETCH and CLOSE (PostgreSQL takes its first snapshot
// for them).
bool takes_snapshot(const PgQuery__Node* stmt) {
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT:
    case PG_QUERY__NODE__NODE_FETCH_STMT:
    case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT:
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT:
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
      return false;
    default:
      return true;
  }
}
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};
template <class... F>
Overloaded(F...) -> Overloaded<F...>;
}  // namespace


std::unique_ptr<Execution> Executor::run(const sql::Plan& plan, const PgQuery__Node* stmt) {
  if (st_.txn == TransactionStatus::kFailed && !sql::runs_in_failed_block(plan))
    throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
  refuse_write_if_read_only(write_command_name(stmt));
  mz_check_block_statement(plan, stmt);
  if (st_.txn == TransactionStatus::kInBlock && takes_snapshot(stmt)) st_.txn_queried = true;
  if (sql::changes_catalog(plan)) begin_block_ddl();  // in a block: the block's own catalog
  if (st_.client) check_statement_privileges(cs_, *catalog_, role_name_, stmt);
  using R = std::unique_ptr<Execution>;
  return std::visit(
      Overloaded{
          [&](const sql::SelectPlan& p) -> R { return run_select(p.stmt); },
          [&](const sql::InsertPlan& p) -> R { return run_insert(p.stmt); },
          [&](const sql::UpdatePlan& p) -> R { return run_update(p.stmt); },
          [&](const sql::DeletePlan& p) -> R { return run_delete(p.stmt); },
          [&](const sql::TruncatePlan& p) -> R { return run_truncate(p.stmt); },
          [&](const sql::CopyPlan& p) -> R { return run_copy(p.stmt); },
          [&](const sql::CreateTablePlan& p) -> R { return run_create_table(p.stmt); },
          [&](const sql::CreateTableAsPlan& p) -> R { return run_create_table_as(p.stmt); },
          [&](const sql::CreateViewPlan& p) -> R { return run_create_view(p.stmt); },
          [&](const sql::CreateIndexPlan& p) -> R { return run_create_index(p.stmt); },
          [&](const sql::DropPlan& p) -> R { return run_drop(p.stmt); },
          [&](const sql::CreateSchemaPlan& p) -> R { return run_create_schema(p.stmt); },
          [&](const sql::CreateDatabasePlan& p) -> R { return run_create_database(p.stmt); },
          [&](const sql::CreateTypePlan& p) -> R { return run_create_type(p.stmt); },
          [&](const sql::DropDatabasePlan& p) -> R { return run_drop_database(p.stmt); },
          [&](const sql::RenamePlan& p) -> R { return run_rename(p.stmt); },
          [&](const sql::AlterTablePlan& p) -> R { return run_alter_table(p.stmt); },
          [&](const sql::TransactionPlan& p) -> R { return run_transaction(p); },
          [&](const sql::SetPlan& p) -> R { return run_set(p.stmt); },
          [&](const sql::ShowPlan& p) -> R { return run_show(p); },
          [&](const sql::ExplainPlan& p) -> R { return run_explain(p.stmt); },
          [&](const sql::DeclarePlan& p) -> R { return run_declare(p.stmt); },
          [&](const sql::FetchPlan& p) -> R { return run_fetch(p.stmt); },
          [&](const sql::ClosePlan& p) -> R {
            if (!p.cursor) {
              st_.cursors.close_all();
              return done("CLOSE CURSOR ALL");
            }
            st_.cursors.close(*p.cursor);
            return done("CLOSE CURSOR");
          },
          [&](const sql::DiscardPlan& p) -> R {
            if (st_.txn != TransactionStatus::kIdle && p.all)
              throw SqlError(sqlstate::kActiveSqlTransaction, "DISCARD ALL cannot run inside a transaction block");
            if (p.all) st_.serializable_reads = false;
            return done("DISCARD ALL");
          },
          // SQL-level PREPARE / EXECUTE / DEALLOCATE are the session's (Session::execute).
          [&](const sql::PreparePlan&) -> R { return done("PREPARE"); },
          [&](const sql::ExecutePlan&) -> R { return done("EXECUTE"); },
          [&](const sql::DeallocatePlan&) -> R { return done("DEALLOCATE"); },
          [&](const sql::AlterSystemPlan& p) -> R {
            if (std::optional<bool> pause = pause_dataflows_setting(p.stmt, st_.settings["is_superuser"] == "on")) {
              cs_.set_dataflows_paused(*pause);
              return done("ALTER SYSTEM");
            }
            check_alter_system(p.stmt, st_.settings["is_superuser"] == "on");
            return done("ALTER SYSTEM");
          },
          [&](const sql::RolePlan& p) -> R {
            if (auto e = run_roles(p.stmt)) return e;
            throw SqlError(sqlstate::kFeatureNotSupported, "this statement is not supported");
          },
          [&](const sql::UnsupportedPlan&) -> R {
            throw SqlError(sqlstate::kFeatureNotSupported, "this statement is not supported");
          },
      },
      plan);
}

std::unique_ptr<Execution> Executor::run_roles(const PgQuery__Node* stmt) {
  // In a transaction block a role statement is DDL: it changes the block's catalog (its copy of
  // the roles, its objects' ACLs) and takes effect at COMMIT (transaction.hpp).
  if (is_role_statement(stmt)) begin_block_ddl();
  RoleSession rs = role_session();
  return run_role_statement(rs, stmt);
}

std::vector<Type> Executor::bind_types(PgQuery__Node** nodes, size_t n) {
  std::shared_lock lock(cs_.mu);
  sql::Binder binder(*catalog_, param_types_);
  std::vector<Type> out;
  for (size_t i = 0; i < n; ++i) out.push_back(binder.bind_type(nodes[i]->type_name));
  return out;
}

Row Executor::eval_execute_args(const PgQuery__ExecuteStmt* s, const std::vector<Type>& types) {
  if (s->n_params != types.size())
    throw SqlError(sqlstate::kSyntaxError, std::string("wrong number of parameters for prepared statement \"") + s->name + "\"")
        .with_detail("Expected " + std::to_string(types.size()) + " parameters but got " + std::to_string(s->n_params) + ".");
  std::shared_lock lock(cs_.mu);
  sql::Binder binder(*catalog_, param_types_);
  sql::Scope empty;
  std::vector<Datum> values;
  for (size_t i = 0; i < s->n_params; ++i) {
    HExpr e = binder.bind_expr_in_scope(s->params[i], empty, "EXECUTE parameters");
    e = binder.coerce(std::move(e), types[i], CastContext::kAssignment, 0, "parameter $" + std::to_string(i + 1));
    values.push_back(dataflow::eval(sql::lower_simple_expr(e), {}, ctx_));
  }
  binder.finish_params();
  return Row::pack(values);
}

}  // namespace freshet::server
