#include "sql/plan.hpp"

#include "sql/binder.hpp"
#include "common/error.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::sql {

namespace {

std::string str(const char* s) { return s ? s : ""; }

TransactionPlan transaction_plan(const PgQuery__TransactionStmt* s) {
  using K = TransactionPlan::Kind;
  TransactionPlan p{K::kTwoPhase, str(s->savepoint_name), s->chain != 0, s};
  switch (s->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN: p.kind = K::kBegin; break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START: p.kind = K::kStartTransaction; break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT: p.kind = K::kCommit; break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK: p.kind = K::kRollback; break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT: p.kind = K::kSavepoint; break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE: p.kind = K::kRelease; break;
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO: p.kind = K::kRollbackTo; break;
    default: break;  // PREPARE TRANSACTION, COMMIT/ROLLBACK PREPARED
  }
  return p;
}

// Materialize's grammar has RETURNING only on INSERT (returning.slt:112, 115).
[[noreturn]] void mz_no_returning() {
  throw SqlError(sqlstate::kSyntaxError, "Expected end of statement, found RETURNING");
}

}  // namespace

Plan plan_statement(const PgQuery__Node* n, bool (*is_role_statement)(const PgQuery__Node*)) {
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT: return SelectPlan{n->select_stmt};
    case PG_QUERY__NODE__NODE_INSERT_STMT: return InsertPlan{n->insert_stmt};
    case PG_QUERY__NODE__NODE_UPDATE_STMT:
      if (materialize_dialect() && n->update_stmt->n_returning_list > 0) mz_no_returning();
      return UpdatePlan{n->update_stmt};
    case PG_QUERY__NODE__NODE_DELETE_STMT:
      if (materialize_dialect() && n->delete_stmt->n_returning_list > 0) mz_no_returning();
      return DeletePlan{n->delete_stmt};
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT: return TruncatePlan{n->truncate_stmt};
    case PG_QUERY__NODE__NODE_COPY_STMT: return CopyPlan{n->copy_stmt};
    case PG_QUERY__NODE__NODE_CREATE_STMT: return CreateTablePlan{n->create_stmt};
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
      return CreateTableAsPlan{n->create_table_as_stmt, n->create_table_as_stmt->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW};
    case PG_QUERY__NODE__NODE_VIEW_STMT: return CreateViewPlan{n->view_stmt};
    case PG_QUERY__NODE__NODE_INDEX_STMT: return CreateIndexPlan{n->index_stmt};
    case PG_QUERY__NODE__NODE_DROP_STMT: return DropPlan{n->drop_stmt};
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT: return CreateSchemaPlan{n->create_schema_stmt};
    case PG_QUERY__NODE__NODE_CREATEDB_STMT: return CreateDatabasePlan{n->createdb_stmt};
    case PG_QUERY__NODE__NODE_DROPDB_STMT: return DropDatabasePlan{n->dropdb_stmt};
    case PG_QUERY__NODE__NODE_COMPOSITE_TYPE_STMT: return CreateTypePlan{n->composite_type_stmt};
    case PG_QUERY__NODE__NODE_RENAME_STMT:
      if (n->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_ROLE) return RolePlan{n};
      return RenamePlan{n->rename_stmt};
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT: return transaction_plan(n->transaction_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT:
    {
      // SET ROLE and SET SESSION AUTHORIZATION (and their RESETs) are role statements.
      std::string name = lower_ident(str(n->variable_set_stmt->name));
      if (name == "role" || name == "session_authorization") return RolePlan{n};
      return SetPlan{n->variable_set_stmt, std::move(name)};
    }
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT: return ShowPlan{str(n->variable_show_stmt->name)};
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: return ExplainPlan{n->explain_stmt};
    case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT: return DeclarePlan{n->declare_cursor_stmt};
    case PG_QUERY__NODE__NODE_FETCH_STMT:
      return FetchPlan{n->fetch_stmt, n->fetch_stmt->ismove != 0, str(n->fetch_stmt->portalname)};
    case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT: {
      std::string name = str(n->close_portal_stmt->portalname);
      return ClosePlan{name.empty() ? std::nullopt : std::optional<std::string>(name)};
    }
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
      return DiscardPlan{n->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL};
    case PG_QUERY__NODE__NODE_PREPARE_STMT: return PreparePlan{n->prepare_stmt};
    case PG_QUERY__NODE__NODE_EXECUTE_STMT: return ExecutePlan{n->execute_stmt};
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT: {
      std::string name = str(n->deallocate_stmt->name);
      return DeallocatePlan{name.empty() ? std::nullopt : std::optional<std::string>(name)};
    }
    case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT: return AlterSystemPlan{n->alter_system_stmt};
    case PG_QUERY__NODE__NODE_ALTER_TABLE_STMT:
      if (is_role_statement(n)) return RolePlan{n};
      return AlterTablePlan{n->alter_table_stmt};
    default:
      if (is_role_statement(n)) return RolePlan{n};
      return UnsupportedPlan{n};
  }
}

bool changes_catalog(const Plan& plan) {
  return std::holds_alternative<CreateTablePlan>(plan) || std::holds_alternative<CreateTableAsPlan>(plan) ||
         std::holds_alternative<CreateViewPlan>(plan) || std::holds_alternative<CreateIndexPlan>(plan) ||
         std::holds_alternative<DropPlan>(plan) || std::holds_alternative<CreateSchemaPlan>(plan) ||
         std::holds_alternative<CreateDatabasePlan>(plan) || std::holds_alternative<DropDatabasePlan>(plan) ||
         std::holds_alternative<RenamePlan>(plan) || std::holds_alternative<CreateTypePlan>(plan);
}

}  // namespace freshet::sql
