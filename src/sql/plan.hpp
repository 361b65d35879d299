// Statement plans: what kind of statement a parse is, as a type (one struct per kind, in
// std::variant `Plan`), made once when a statement is prepared and kept by the prepared
// statement; src/server/sequencer/ executes each kind in its own file.
//
// What a plan fixes at prepare time: the kind, whether it changes the catalog (a transaction
// block runs it in the block's own catalog), and the arguments that do not depend on the
// catalog (transaction control, CLOSE, DISCARD, FETCH/MOVE, SET/SHOW names). Queries and DDL
// keep their typed parse node and are bound by their sequencer when they run: what names
// resolve to depends on the catalog at that moment (a prepared SELECT of a table dropped and
// re-created since binds the new table, as PostgreSQL re-plans).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "sql/parser.hpp"

namespace freshet::sql {

struct SelectPlan { const PgQuery__SelectStmt* stmt; };
struct InsertPlan { const PgQuery__InsertStmt* stmt; };
struct UpdatePlan { const PgQuery__UpdateStmt* stmt; };
struct DeletePlan { const PgQuery__DeleteStmt* stmt; };
struct TruncatePlan { const PgQuery__TruncateStmt* stmt; };
struct CopyPlan { const PgQuery__CopyStmt* stmt; };
struct CreateTablePlan { const PgQuery__CreateStmt* stmt; };
// CREATE TABLE AS and CREATE MATERIALIZED VIEW (one grammar node).
struct CreateTableAsPlan { const PgQuery__CreateTableAsStmt* stmt; bool materialized_view; };
struct CreateViewPlan { const PgQuery__ViewStmt* stmt; };
struct CreateIndexPlan { const PgQuery__IndexStmt* stmt; };
struct DropPlan { const PgQuery__DropStmt* stmt; };
struct CreateSchemaPlan { const PgQuery__CreateSchemaStmt* stmt; };
struct CreateDatabasePlan { const PgQuery__CreatedbStmt* stmt; };
struct DropDatabasePlan { const PgQuery__DropdbStmt* stmt; };
// ALTER ... RENAME of a table, view, materialized view, index or schema (roles: RolePlan).
struct RenamePlan { const PgQuery__RenameStmt* stmt; };
// ALTER TABLE ... ADD COLUMN / DROP COLUMN (OWNER TO is a RolePlan).
struct AlterTablePlan { const PgQuery__AlterTableStmt* stmt; };
// CREATE TYPE name AS (field type, ...) and Materialize's CREATE TYPE name AS LIST (ELEMENT
// TYPE = T), which sql/mz_syntax.hpp rewrites to the former.
struct CreateTypePlan { const PgQuery__CompositeTypeStmt* stmt; };

struct TransactionPlan {
  enum class Kind { kBegin, kStartTransaction, kCommit, kRollback, kSavepoint, kRelease, kRollbackTo, kTwoPhase };
  Kind kind;
  std::string savepoint;  // kSavepoint, kRelease, kRollbackTo
  bool chain = false;     // COMMIT / ROLLBACK AND CHAIN
  const PgQuery__TransactionStmt* stmt = nullptr;  // BEGIN's options (access mode, isolation)
};

// SET / RESET (variable_set_stmt); SET ROLE and SET SESSION AUTHORIZATION are RolePlans.
struct SetPlan { const PgQuery__VariableSetStmt* stmt; std::string name; };
struct ShowPlan { std::string name; };
struct ExplainPlan { const PgQuery__ExplainStmt* stmt; };
struct DeclarePlan { const PgQuery__DeclareCursorStmt* stmt; };
struct FetchPlan { const PgQuery__FetchStmt* stmt; bool move; std::string cursor; };
struct ClosePlan { std::optional<std::string> cursor; };  // nullopt: CLOSE ALL
struct DiscardPlan { bool all; };
// SQL-level PREPARE / EXECUTE / DEALLOCATE (the session runs them: server/prepared_sql.hpp).
struct PreparePlan { const PgQuery__PrepareStmt* stmt; };
struct ExecutePlan { const PgQuery__ExecuteStmt* stmt; };
struct DeallocatePlan { std::optional<std::string> name; };  // nullopt: DEALLOCATE ALL
struct AlterSystemPlan { const PgQuery__AlterSystemStmt* stmt; };
// CREATE/ALTER/DROP ROLE, GRANT/REVOKE, ALTER ... OWNER TO, SET ROLE, SET SESSION
// AUTHORIZATION, ALTER ROLE ... RENAME (server/role_statements.hpp).
struct RolePlan { const PgQuery__Node* stmt; };
// A statement of the grammar Freshet does not run: 0A000 when executed.
struct UnsupportedPlan { const PgQuery__Node* stmt; };

using Plan = std::variant<SelectPlan, InsertPlan, UpdatePlan, DeletePlan, TruncatePlan, CopyPlan, CreateTablePlan,
                          CreateTableAsPlan, CreateViewPlan, CreateIndexPlan, DropPlan, CreateSchemaPlan, CreateDatabasePlan,
                          DropDatabasePlan, RenamePlan, AlterTablePlan, CreateTypePlan, TransactionPlan, SetPlan, ShowPlan, ExplainPlan, DeclarePlan, FetchPlan,
                          ClosePlan, DiscardPlan, PreparePlan, ExecutePlan, DeallocatePlan, AlterSystemPlan, RolePlan,
                          UnsupportedPlan>;

// The plan of one statement of a parse tree. `is_role_statement` says which grammar nodes are
// role statements (server/role_statements.hpp owns that list). The node must outlive the plan.
Plan plan_statement(const PgQuery__Node* stmt, bool (*is_role_statement)(const PgQuery__Node*));

// Statements that change the catalog: inside a transaction block they run in the block's copy
// of the catalog and take effect at COMMIT (server/transaction.hpp). Role statements do too
// (their sequencer says so itself).
bool changes_catalog(const Plan& plan);

// Statements that may run in a failed transaction block (only transaction control).
inline bool runs_in_failed_block(const Plan& plan) { return std::holds_alternative<TransactionPlan>(plan); }

}  // namespace freshet::sql
