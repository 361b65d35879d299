// The executor of statements: one Executor per statement, its methods in one file per kind of
// statement under src/server/sequencer/ (README.md "The sequencer"). Internal to src/server.
#pragma once

#include "server/session.hpp"
#include "server/as_of.hpp"
#include "server/subscribe_output.hpp"
#include "common/sql_dialect.hpp"
#include "server/sequencer/result_size.hpp"

#include <unistd.h>
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "common/timezone.hpp"
#include "dataflow/eval.hpp"
#include "dataflow/oneshot.hpp"
#include "dataflow/reaper.hpp"
#include "server/catalog.hpp"
#include "server/coordinator.hpp"
#include "server/coordinator_state.hpp"
#include "server/copy.hpp"
#include "server/cursors.hpp"
#include "capture/loadgen/loadgen.hpp"
#include "sql/binder.hpp"
#include "sql/lower.hpp"
#include "sql/optimize.hpp"
#include "sql/parser.hpp"
#include "sql/rename_refs.hpp"
#include "sql/streaming_parser.hpp"
#include "server/kafka_backend.hpp"
#include "server/transaction.hpp"
#include "server/role_statements.hpp"
#include "server/prepared_sql.hpp"
#include "server/schemas.hpp"
#include "dataflow/update.hpp"
#include "sql/mutually_recursive.hpp"
#include "sql/plan.hpp"

namespace freshet::server {


using sql::HExpr;
using sql::HRel;
using sql::HRelKind;
using sql::HRelPtr;
using sql::ObjectInfo;
using sql::ObjectKind;

inline int64_t now_pg_micros() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return us - kUnixToPgEpochMicros;
}

// Results that are computed completely before the first fetch.
class MaterializedExecution : public Execution {
 public:
  MaterializedExecution(std::vector<Column> cols, std::vector<Row> rows, std::string tag)
      : columns_(std::move(cols)), rows_(std::move(rows)), tag_(std::move(tag)) {}
  const std::vector<Column>& columns() const override { return columns_; }
  bool fetch(std::vector<Row>& out, size_t max_rows) override {
    size_t n = max_rows == 0 ? rows_.size() - pos_ : std::min(max_rows, rows_.size() - pos_);
    for (size_t i = 0; i < n; ++i) out.push_back(std::move(rows_[pos_ + i]));
    pos_ += n;
    return pos_ < rows_.size();
  }
  std::string command_tag() const override { return tag_; }

 private:
  std::vector<Column> columns_;
  std::vector<Row> rows_;
  size_t pos_ = 0;
  std::string tag_;
};

inline std::unique_ptr<Execution> done(std::string tag) {
  return std::make_unique<MaterializedExecution>(std::vector<Column>{}, std::vector<Row>{}, std::move(tag));
}

inline std::string str_of(const PgQuery__Node* n) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_STRING) return n->string->sval;
  return "";
}

struct Setting {
  const char* name;
  const char* value;
  bool reported;
};

inline constexpr Setting kDefaultSettings[] = {
    {"server_version", "15.0", true},
    {"server_version_num", "150000", false},
    {"server_encoding", "UTF8", true},
    {"client_encoding", "UTF8", true},
    {"datestyle", "ISO, MDY", true},
    {"intervalstyle", "postgres", true},
    {"timezone", "UTC", true},
    {"integer_datetimes", "on", true},
    {"standard_conforming_strings", "on", true},
    {"application_name", "", true},
    {"is_superuser", "on", true},
    {"session_authorization", "freshet", true},
    {"default_transaction_isolation", "serializable", false},
    {"transaction_isolation", "serializable", false},
    {"default_transaction_read_only", "off", false},
    {"extra_float_digits", "1", false},
    {"search_path", "public", false},
    {"max_identifier_length", "63", false},
    {"statement_timeout", "0", false},
    {"lc_collate", "C", false},
    {"lc_ctype", "C", false},
    {"lc_messages", "C", false},
    {"lc_monetary", "C", false},
    {"lc_numeric", "C", false},
    {"lc_time", "C", false},
    {"bytea_output", "hex", false},
    {"client_min_messages", "notice", false},
    {"cluster", "default", false},
    // Freshet's own: the memory budget of one query (MB); its default comes from the machine.
    {"query_memory_budget_mb", "", false},
    // The server's SQL conventions (freshet serve --sql-dialect; common/sql_dialect.hpp).
    {"sql_dialect", "", false},
    // Materialize's: the largest result a SELECT may return (result_size.hpp).
    {"max_query_result_size", "1GB", false},
};

// The default memory budget of a query: 1/16 of the machine's memory, between 256 MB and 4 GB.
inline uint64_t default_query_budget_mb() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  uint64_t mem_mb = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 20 : 4096;
  return std::clamp<uint64_t>(mem_mb / 16, 256, 4096);
}

inline std::string setting_default(const Setting& s) {
  if (std::string_view(s.name) == "query_memory_budget_mb") return std::to_string(default_query_budget_mb());
  if (std::string_view(s.name) == "sql_dialect") return std::string(sql_dialect_name(sql_dialect()));
  if (std::string_view(s.name) == "cluster") return std::string(cluster_name());
  return s.value;
}

// A duration setting (statement_timeout) in ms: an integer (ms) or a number with a unit (us,
// ms, s, min, h, d), as PostgreSQL reads it. nullopt when malformed.
// The window of a WITH (RETAIN HISTORY FOR 'd') option (the pre-parser spells it
// retain_history = 'd'), in ms; nullopt without one. 22023 for a bad duration.
std::optional<uint64_t> retain_history_option(PgQuery__Node* const* options, size_t n);
inline std::optional<uint64_t> parse_duration_ms(std::string v) {
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  size_t i = 0;
  while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
  size_t start = i;
  while (i < v.size() && (std::isdigit(static_cast<unsigned char>(v[i])) || v[i] == '.')) ++i;
  if (i == start) return std::nullopt;
  double num = std::strtod(v.substr(start, i - start).c_str(), nullptr);
  while (i < v.size() && std::isspace(static_cast<unsigned char>(v[i]))) ++i;
  std::string unit = sql::lower_ident(v.substr(i));
  double ms;
  if (unit.empty() || unit == "ms") ms = num;
  else if (unit == "us") ms = num / 1000;
  else if (unit == "s") ms = num * 1000;
  else if (unit == "min") ms = num * 60'000;
  else if (unit == "h") ms = num * 3'600'000;
  else if (unit == "d") ms = num * 86'400'000;
  else return std::nullopt;
  if (ms < 0 || ms > 2147483647.0) return std::nullopt;
  return static_cast<uint64_t>(ms);
}

// Display names of reported settings (ParameterStatus uses PostgreSQL's spelling).
inline std::string display_name(const std::string& lower) {
  if (lower == "datestyle") return "DateStyle";
  if (lower == "intervalstyle") return "IntervalStyle";
  if (lower == "timezone") return "TimeZone";
  return lower;
}


// An INSERT ... VALUES without RETURNING, ON CONFLICT or WITH whose every item passes
// item_ok (sequencer/insert.cpp).
bool values_insert_of(const PgQuery__InsertStmt* s, bool (*item_ok)(const PgQuery__Node*));

// What a transaction block has done, for Materialize's rule of what one transaction may
// combine (its TransactionOps): reads that read no collection (constant), reads, one SUBSCRIBE,
// writes, DDL run at COMMIT (a CREATE SOURCE in an explicit block; Session::State::mz_deferred).
// A DROP of a source, sink, secret or connection in an explicit block is Materialize's
// SingleStatement (run at COMMIT, alone in its block).
enum class MzTxnOps : uint8_t { kNone, kConstPeeks, kPeeks, kSubscribe, kWrites, kDdl, kSingle };

struct Session::State {
  SessionOptions options;
  std::map<std::string, std::string> settings;
  std::vector<std::pair<std::string, std::string>> changed;
  TransactionStatus txn = TransactionStatus::kIdle;
  // Writes of the open transaction block, per table: applied at COMMIT.
  std::map<uint64_t, std::vector<std::pair<Row, int64_t>>> pending;
  // The block's own catalog once it ran DDL (transaction.hpp), and its savepoints, innermost last.
  std::unique_ptr<BlockCatalog> block;
  std::vector<Savepoint> savepoints;
  // Settings in the open block, as PostgreSQL's GUC nesting: all of them as they were before
  // the block's first SET (ROLLBACK restores them), and the names SET LOCAL changed with the
  // value COMMIT gives back (a plain SET of the name in the block drops it from there).
  std::optional<std::map<std::string, std::string>> txn_settings;
  std::map<std::string, std::optional<std::string>> local_settings;
  // The block is a multi-statement query's implicit one (Session::begin_implicit_block).
  bool implicit = false;
  // The open block's access mode (BEGIN READ ONLY, SET TRANSACTION READ WRITE; unset: the
  // default_transaction_read_only setting) and whether a statement other than transaction
  // control, SET, SHOW, FETCH or CLOSE ran in it (PostgreSQL's FirstSnapshotSet): READ WRITE
  // and another isolation level must be set before that. Reset when the block ends.
  std::optional<bool> txn_read_only;
  bool txn_queried = false;
  // Under --sql-dialect materialize, what the open block has done, for Materialize's rule of
  // what one transaction may combine (mz_add_txn_ops). Reset when the block ends.
  MzTxnOps mz_txn_ops = MzTxnOps::kNone;
  // Under --sql-dialect materialize, the CREATE SOURCE, ALTER SOURCE ... RENAME and DROP
  // statements of the open explicit block: answered when given, run when the block commits
  // (Materialize's DDL and single-statement transaction ops), dropped by ROLLBACK.
  std::vector<sql::StreamingStatement> mz_deferred;
  // Every read of a block reads at one timestamp (Materialize's model; src/server/README.md
  // "Transaction blocks"): the first read of the block takes `ts` (now_ts) and the version the
  // next table change will take; the tables it reads are kept (`pinned`) for the later reads.
  // A later read reads pinned tables from their copy, and other tables as they are when no
  // change reached them since `ts`; a view whose inputs changed since is computed from them.
  // Reset when the block ends (and unused once the block wrote: its reads are at the newest
  // time plus its own writes).
  struct BlockReads {
    bool started = false;
    uint64_t ts = 0;
    uint64_t version = 0;
    std::vector<uint64_t> dirty;  // tables with unpublished writes at the first read
    std::map<uint64_t, std::shared_ptr<const FrozenRows>> pinned;
  } block_reads;
  std::atomic<bool> cancelled{false};
  // The session ran SET transaction_isolation = 'serializable' (Materialize's serializable:
  // reads of one dataflow do not wait for it); by default reads are strict serializable.
  bool serializable_reads = false;
  CursorSet cursors;  // server/cursors.hpp
  int32_t backend_pid = 0;
  std::function<bool(int32_t, bool)> signal_backend;
  // The parse of the last one-statement query split(), reused by the prepare() that follows.
  std::shared_ptr<sql::ParseTree> split_tree;
  std::string split_text;
  // A client's session (not start-up's or a writer's stand-in): its statements run as its role
  // (role_statements.hpp): SET SESSION AUTHORIZATION (empty: the login user), SET ROLE (empty: none).
  bool client = false;
  std::string session_auth;
  std::string set_role;
  SqlPreparedStatements sql_prepared;  // PREPARE / EXECUTE / DEALLOCATE (prepared_sql.hpp)
  // The text of the statement running now (pg_cursors.statement).
  std::string statement_text;
};


// The collections a plan reads (kGet), each once.
inline void collect_inputs(const dataflow::RelExpr& e, std::vector<uint64_t>& out) {
  if (e.kind == dataflow::RelKind::kGet && std::find(out.begin(), out.end(), e.collection_id) == out.end())
    out.push_back(e.collection_id);
  for (const auto& in : e.inputs) collect_inputs(in, out);
}
// The same, and the collections of a one-shot plan's hashed subplans (`x IN (SELECT ...)`,
// dataflow::ScalarKind::kInSet).
inline void collect_all_inputs(const dataflow::RelExpr& e, std::vector<uint64_t>& out) {
  collect_inputs(e, out);
  dataflow::for_each_in_set(e, [&](const dataflow::ScalarExpr& s) {
    if (s.subplan != nullptr) collect_all_inputs(*s.subplan, out);
  });
}

// What DDL holds: write_mu (no writer is between evaluating and staging) and mu exclusively.
struct DdlLock {
  explicit DdlLock(Coordinator::State& cs) : w(cs.write_mu), m(cs.mu) {}
  std::unique_lock<std::mutex> w;
  std::unique_lock<std::shared_mutex> m;
};

class Executor {
 public:
  Executor(Coordinator& coord, Session::State& st, std::span<const Datum> params, std::vector<Type>& param_types)
      : Executor(coord.state(), st, params, param_types) {}
  Executor(Coordinator::State& cs, Session::State& st, std::span<const Datum> params, std::vector<Type>& param_types)
      : cs_(cs), st_(st), params_(params), param_types_(param_types), search_path_(session_search_path(st), st.options.database) {
    // A transaction block that has run DDL binds against its own catalog (transaction.hpp).
    catalog_ = st_.block ? st_.block->catalog.get() : &cs_.catalog;
    ctx_.arena = &arena_;
    ctx_.statement_time_us = now_pg_micros();
    ctx_.logical_time_ms = static_cast<uint64_t>((ctx_.statement_time_us + kUnixToPgEpochMicros) / 1000);
    ctx_.params = params_;
    ctx_.current_user = role_name_;
    ctx_.session_user = session_user_;
    ctx_.current_database = st_.options.database;
    for (const auto& schema : session_search_path(st_)) {
      std::string name = schema == "$user" ? role_name_ : schema;
      if (catalog_->schema_exists(name) &&
          std::find(existing_search_path_.begin(), existing_search_path_.end(), name) == existing_search_path_.end())
        existing_search_path_.push_back(std::move(name));
    }
    ctx_.search_path = &existing_search_path_;
    ctx_.catalog = sql::catalog_access(*catalog_);  // reg* types and pg_get_*def read the catalog
    ctx_.backend_pid = st_.backend_pid;
    if (st_.signal_backend) ctx_.signal_backend = &st_.signal_backend;
  }

  // Runs one statement: its plan (sql/plan.hpp) and its parse node.
  std::unique_ptr<Execution> run(const sql::Plan& plan, const PgQuery__Node* stmt);
  std::unique_ptr<Execution> run(const PgQuery__Node* stmt) { return run(sql::plan_statement(stmt, is_role_statement), stmt); }
  // What a sink follows (sinks.hpp, attach_sink_input). REQUIRES: mu held exclusively.
  SinkInput sink_input(const SinkEntry& e);
  // Only binds: for Describe at prepare time.
  // literal_rows_after_first: the statement is a bulk INSERT whose VALUES rows after the first
  // are plain constants (sql::ParseTree::bulk_insert()): they hold no parameters to type, so
  // only the first row is bound here (the INSERT binds them all when it runs).
  std::vector<Column> describe(const PgQuery__Node* stmt, bool& returns_rows, bool literal_rows_after_first = false);
  // PREPARE's parameter types; EXECUTE's arguments, evaluated and cast (assignment) to types.
  std::vector<Type> bind_types(PgQuery__Node** nodes, size_t n);
  Row eval_execute_args(const PgQuery__ExecuteStmt* s, const std::vector<Type>& types);

 private:
  std::unique_ptr<Execution> run_select(const PgQuery__SelectStmt* s);
  std::unique_ptr<Execution> run_select_with(const std::function<sql::BoundQuery(sql::Binder&)>& bind);
  // Binds a query's text: a SELECT, or a WITH MUTUALLY RECURSIVE query. keep owns the parse.
  sql::BoundQuery bind_query_text(sql::Binder& binder, const std::string& text, std::shared_ptr<sql::ParseTree>& keep);
  std::unique_ptr<Execution> run_insert(const PgQuery__InsertStmt* s);
  // An INSERT's table and rows (insert.cpp). `columns` and `table_id` as the rows were computed
  // with (run_insert checks them again under write_mu); used_default: a DEFAULT was computed.
  struct InsertRows {
    const ObjectInfo* table = nullptr;
    uint64_t table_id = 0;
    std::vector<sql::ColumnInfo> columns;
    std::vector<std::pair<Row, int64_t>> rows;
    bool used_default = false;
  };
  InsertRows insert_rows(const PgQuery__InsertStmt* s);
  std::unique_ptr<Execution> run_update(const PgQuery__UpdateStmt* s);
  std::unique_ptr<Execution> run_delete(const PgQuery__DeleteStmt* s);
  HRelPtr target_rows(const ObjectInfo& t, const PgQuery__RangeVar* rv, const PgQuery__Node* where, sql::Binder& binder,
                      sql::Scope& scope);
  std::unique_ptr<Execution> run_create_table(const PgQuery__CreateStmt* s);
  // A column definition of CREATE TABLE or ALTER TABLE ... ADD COLUMN: name, type, NULL / NOT
  // NULL, DEFAULT (bound and checked now); `other` gets every other constraint.
  sql::ColumnInfo column_of_def(const PgQuery__ColumnDef* cd,
                                const std::function<void(const PgQuery__Constraint*, sql::ColumnInfo&)>& other);
  std::unique_ptr<Execution> run_create_table_as(const PgQuery__CreateTableAsStmt* s);
  std::unique_ptr<Execution> run_create_view(const PgQuery__ViewStmt* s);
  std::unique_ptr<Execution> run_create_index(const PgQuery__IndexStmt* s);
  std::unique_ptr<Execution> run_drop(const PgQuery__DropStmt* s);
  // CREATE SCHEMA / DATABASE, DROP DATABASE (DROP SCHEMA is run_drop's); schemas.cpp has
  // what does not need the executor.
  std::unique_ptr<Execution> run_create_schema(const PgQuery__CreateSchemaStmt* s);
  // CREATE TYPE (create_type.cpp): composite types and Materialize's named list types.
  std::unique_ptr<Execution> run_create_type(const PgQuery__CompositeTypeStmt* s);
  std::unique_ptr<Execution> run_create_database(const PgQuery__CreatedbStmt* s);
  std::unique_ptr<Execution> run_drop_database(const PgQuery__DropdbStmt* s);
  // ALTER TABLE | VIEW | MATERIALIZED VIEW | INDEX ... RENAME TO.
  std::unique_ptr<Execution> run_rename(const PgQuery__RenameStmt* s);
  std::unique_ptr<Execution> rename_schema(const PgQuery__RenameStmt* s);
  // ALTER TABLE ... ADD COLUMN / DROP COLUMN; ALTER TABLE | INDEX | MATERIALIZED VIEW ... SET
  // (RETAIN HISTORY ...) (alter_table.cpp).
  std::unique_ptr<Execution> run_alter_table(const PgQuery__AlterTableStmt* s);
  std::unique_ptr<Execution> alter_retain_history(const PgQuery__AlterTableStmt* s);
  std::unique_ptr<Execution> swap_schemas(const std::string& a, const std::string& b);
  // 0A000 when a view, materialized view or sink may name the schema (`what`: "rename", "swap").
  void check_schema_unnamed(const std::string& name, const char* what);
  // The schema a CREATE puts rv in: its own (which must exist) or the search path's first.
  std::string target_schema(const PgQuery__RangeVar* rv);
  // The session's search_path as a view records it (ObjectInfo::search_path): empty for the
  // default.
  std::string current_search_path_setting() const {
    auto it = st_.settings.find("search_path");
    return it == st_.settings.end() || it->second == "public" ? std::string() : it->second;
  }
  std::unique_ptr<Execution> run_transaction(const sql::TransactionPlan& p);
  // Transaction blocks with DDL (transaction.hpp). begin_block_ddl: in a block, before its first
  // DDL statement, copies the catalog for the block. commit_block: COMMIT of such a block.
  void begin_block_ddl();
  // Access modes (transaction.cpp). txn_read_only: the mode of the open block or, outside one,
  // of the next statement. set_txn_read_only / check_isolation_change: 25001 after the block's
  // first query, as PostgreSQL's check_transaction_read_only / check_XactIsoLevel.
  // refuse_write_if_read_only: 25006 "cannot execute <what> in a read-only transaction".
  bool txn_read_only() const;
  void set_txn_read_only(bool read_only);
  void check_isolation_change(std::string_view level);
  void apply_transaction_options(PgQuery__Node* const* options, size_t n);
  void refuse_write_if_read_only(const char* what);
  // Under --sql-dialect materialize (nothing otherwise), in a transaction block: Materialize's
  // rules for what a block may hold (transaction.cpp). mz_check_block_statement refuses the
  // statements Materialize runs only outside blocks; mz_add_txn_ops records a read, SUBSCRIBE
  // or write and refuses the combinations Materialize refuses.
  void mz_check_block_statement(const sql::Plan& plan, const PgQuery__Node* stmt);
  void mz_add_txn_ops(MzTxnOps add);
  // A CREATE SOURCE, ALTER SOURCE ... RENAME or DROP SOURCE|SINK|SECRET|CONNECTION in an
  // explicit block under the materialize dialect: checked and answered now, run by COMMIT
  // (mz_run_deferred).
  std::unique_ptr<Execution> mz_defer(const sql::StreamingStatement& st);
  void mz_run_deferred(std::vector<sql::StreamingStatement> deferred);
 public:
  // COMMIT of the open block (nothing when there is none), ROLLBACK of it. In an implicit block
  // the next statements start another one.
  void commit_open_block();
  void rollback_block();
  void end_block_settings(bool commit);
  void commit_open_block_writes();

 private:
  // DROP's effects on one object (its dataflows, its stored data) and its removal from the
  // catalog. REQUIRES: DdlLock held.
  void drop_object(uint64_t id, bool write_table_deletes);
  // The records that delete a table's stored rows (none for other objects).
  std::vector<storage::Change> table_delete_records(uint64_t id);
  void commit_block();
  std::unique_ptr<Execution> run_savepoint(const sql::TransactionPlan& p);
  std::unique_ptr<Execution> run_set(const PgQuery__VariableSetStmt* s);
  std::unique_ptr<Execution> run_show(const sql::ShowPlan& p);
  std::unique_ptr<Execution> run_explain(const PgQuery__ExplainStmt* s);
  std::unique_ptr<Execution> run_truncate(const PgQuery__TruncateStmt* s);
  // COPY (server/copy.hpp): TO STDOUT runs the query; FROM STDIN returns an Execution that
  // takes the rows and, at the end, copy_load()s them as one transaction (or into the block).
  std::unique_ptr<Execution> run_copy(const PgQuery__CopyStmt* s);
  uint64_t copy_load(uint64_t table_id, const std::vector<size_t>& targets, std::vector<Row>& rows);
  // DECLARE ... CURSOR FOR SELECT, FETCH/MOVE in any direction (server/cursors.hpp).
  std::unique_ptr<Execution> run_declare(const PgQuery__DeclareCursorStmt* s);
  // Records what pg_cursors shows of a cursor just declared: the statement and its start.
  void note_declared(const std::string& name) {
    if (CursorSet::Cursor* c = st_.cursors.find(name)) {
      c->statement = st_.statement_text;
      c->creation_time_us = ctx_.statement_time_us;
    }
  }
  std::unique_ptr<Execution> run_fetch(const PgQuery__FetchStmt* s);

  // Runs a relation once; returns consolidated rows.
  std::vector<std::pair<Row, int64_t>> evaluate(const HRel& rel);
  dataflow::SnapshotFn snapshot_fn();
  // Tables read by worker threads in parts (published_parts); other collections: nullopt.
  dataflow::PartitionFn partition_fn();
  const ObjectInfo& table_for_write(const PgQuery__RangeVar* rv);
  // Applies inserts/deletes to a table after constraint checks (or to the pending set).
  void write(const ObjectInfo& t, const std::vector<std::pair<Row, int64_t>>& changes);
  HExpr default_for(const ObjectInfo& t, size_t col, sql::Binder& binder);
  std::vector<Row> returning(const ObjectInfo& t, PgQuery__Node** list, size_t n, const std::vector<Row>& rows,
                             std::vector<Column>& cols);
  void require_write_lock() {}
  std::vector<storage::Change> table_storage_changes(const ObjectInfo& t, const RowDiffs& changes);
  // Writes (write_path.hpp). begin_write() takes write_mu and mu (shared) for a statement that
  // writes (or COMMIT); write() checks and stages changes; commit_staged() makes what was staged
  // durable and visible and releases both locks. Outside a transaction block a statement's
  // writes are one transaction; inside one they go to the session's pending changes instead.
  void begin_write();
  // Lets go of mu (shared) before the rest of a write, keeping write_mu: for a statement whose
  // remaining work reads only the tables' state and the catalog (both change only under
  // write_mu), so that publishing (mu exclusively) need not wait for it. REQUIRES: write_mu.
  void release_read_lock();
  void commit_staged();
  // The same for a caller holding write_mu only (mu released): DDL that writes rows.
  void commit_staged_holding(std::unique_lock<std::mutex>& wlock);
  std::unique_lock<std::mutex> wlock_;
  std::chrono::steady_clock::time_point locked_at_{};  // when begin_write got write_mu (metrics)
  std::shared_lock<std::shared_mutex> rlock_;
  // Reads see the tables' newest state (a writer holding write_mu) rather than the published.
  bool writer_view_ = false;
  ChangeSet staged_;
  // The changes of all tables staged by this statement or COMMIT (applied after they are
  // durable, at one timestamp) and their durable records; null inside a transaction block.
  ChangeSet* commit_batch_ = nullptr;
  std::vector<storage::Change> commit_records_;

 public:
  std::unique_ptr<Execution> run_streaming(const sql::StreamingStatement& st);
  Maintained& maintain_for_recovery(ObjectInfo& view) { return maintain_view(view); }
  void hydrate_for_restart(DdlLock& lock, ObjectInfo& view, const std::vector<uint32_t>& key) {
    hydrate_in_background(lock, view, key);
  }
  // The dataflow of a view or materialized view whose hydration failed (errors are data): its
  // plan rendered over nothing, answering `error` to reads until retry_failed_dataflows()
  // rebuilds it. Throws SqlError when even that cannot be built. REQUIRES: mu held exclusively.
  Maintained& maintain_failed(ObjectInfo& view, const SqlError& error) {
    RowDiffs none;
    dataflow::SnapshotFn nothing = [](uint64_t, const std::function<void(const Row&, int64_t)>&) {};
    ctx_.logical_time_ms = cs_.now_ts;
    auto m = std::make_shared<Maintained>(view.id, view.name, plan_for_object(view), cs_.now_ts, nothing, ctx_, none);
    m->compute.is_mv = view.kind == ObjectKind::kMaterializedView;
    m->compute.failed = error.sqlstate() + " " + error.message();
    return cs_.add_maintained(std::move(m));
  }
  // REQUIRES: the coordinator's mutex held exclusively.
  void write_for_produce(const ObjectInfo& t, const RowDiffs& changes) {
    RowDiffs c = changes;
    dataflow::consolidate(c);
    write(t, c);
  }
  void begin_produce() { begin_write(); }
  void commit_produce() { commit_staged(); }
  std::unique_ptr<Execution> create_index(DdlLock& lock, uint64_t on_id, const std::string& name, std::vector<uint32_t> key,
                                          bool unique = false, uint64_t retain_history_ms = 0);
  // CREATE INDEX on a view that is not maintained yet, and CREATE MATERIALIZED VIEW: releases
  // the lock while the dataflow is hydrated and caught up (Coordinator::State::Hydration),
  // retakes it before returning. A materialized view's collection must exist; its contents
  // are stored as they are computed. Meanwhile reads of it compute its query (snapshot_fn).
  void hydrate_in_background(DdlLock& lock, ObjectInfo& view, const std::vector<uint32_t>& key);
  std::unique_ptr<Execution> create_materialized_view(DdlLock& lock, const PgQuery__CreateTableAsStmt* s);
  std::unique_ptr<Execution> create_source(const sql::StreamingStatement& st);
  // ALTER SOURCE s RENAME TO t (Materialize's): the source's name, its catalog object (the
  // table named after it, or its source object) and its stored record.
  std::unique_ptr<Execution> rename_source(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> create_sink(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> create_view_from_text(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> drop_streaming_object(const sql::StreamingStatement& st);
  void validate_connection_options(const ObjectInfo& conn);

  std::vector<Column> describe_streaming(const sql::StreamingStatement& st, bool& returns_rows);

 private:
  Maintained& maintain_view(ObjectInfo& view);
  dataflow::RelExpr plan_for_object(const ObjectInfo& obj);
  // SUBSCRIBE (subscribe.cpp): the plan of the subscribed view or query, and Materialize's
  // SUBSCRIBE of a query that reads no collection. REQUIRES: cs_.mu held.
  dataflow::RelExpr subscribed_plan(const sql::StreamingStatement& st, const ObjectInfo* obj);
  std::unique_ptr<Execution> mz_constant_subscribe(const sql::StreamingStatement& st, dataflow::RelExpr plan,
                                                   std::optional<uint64_t> as_of, std::vector<Column> cols);
  // A one-shot plan's initplans and IN sets run once before it (dataflow::run_initplans), and
  // the initplans' values that came without error are folded into it as constants, so that
  // try_fast_path and rewrite_point_lookups see `k = (SELECT max(k) FROM t)` as `k = <value>`
  // (PostgreSQL's index scan with the initplan's Param). REQUIRES: cs_.mu held.
  void run_initplans(dataflow::RelExpr& plan);
  bool try_fast_path(const dataflow::RelExpr& plan, std::vector<std::pair<Row, int64_t>>& out);
  std::string fast_path_index(const dataflow::RelExpr& plan);
  // Replaces a table read under a filter that fixes the table's primary key to constants by the
  // rows found in the key index: a point lookup instead of a scan (UPDATE/DELETE/SELECT ... WHERE
  // id = $1).
  void rewrite_point_lookups(dataflow::RelExpr& plan);
  std::unique_ptr<Execution> subscribe(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> show(const sql::StreamingStatement& st);
  // Materialize's SHOW CREATE VIEW | MATERIALIZED VIEW | TABLE | INDEX (subscribe.cpp).
  std::unique_ptr<Execution> show_create(const sql::StreamingStatement& st);
  // Its create_sql under the materialize dialect: Materialize's text (sql/mz_pretty.hpp).
  std::string mz_show_create(const ObjectInfo& o);
  void subscribed_columns(const sql::StreamingStatement& st, const ObjectInfo* obj, std::vector<Column>& cols);
  // FETCH ... WITH (timeout = $n): the parameter as an interval, a number of seconds or a
  // string such as '1s' / '500ms'.
  int64_t fetch_timeout_param(size_t n) const;
  std::unique_ptr<Execution> explain_object(const sql::StreamingStatement& st);
  void wait_for_time(uint64_t t);

  // The limits of a one-shot query: cancellation, statement_timeout, the memory budget.
  dataflow::StepLimits query_limits() const {
    dataflow::StepLimits l;
    l.cancelled = &st_.cancelled;
    auto get = [&](const char* name) -> std::string {
      auto it = st_.settings.find(name);
      return it == st_.settings.end() ? std::string() : it->second;
    };
    if (auto ms = parse_duration_ms(get("statement_timeout")); ms && *ms > 0) l.deadline = started_ + std::chrono::milliseconds(*ms);
    uint64_t mb = std::strtoull(get("query_memory_budget_mb").c_str(), nullptr, 10);
    l.memory_budget_bytes = (mb == 0 ? default_query_budget_mb() : mb) << 20;
    return l;
  }
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  // Serializable reads (transaction_isolation = 'serializable'): a SELECT that reads one
  // maintained dataflow and nothing else reads it as it is, without waiting for it to catch up
  // with the latest write (Materialize's serializable: the answer is the view's contents at
  // its own frontier, a consistent past state). A query reading anything more waits as strict
  // serializable reads do (there is no history to read the others at the same past time).
  // Returns that dataflow's id, or 0.
  uint64_t serializable_read_of(const dataflow::RelExpr& plan);
  uint64_t no_wait_id_ = 0;

  // A transaction block's reads at one timestamp (Session::State::BlockReads; block_reads.cpp).
  // Whether this read is one of them: in a block that has not written nor run DDL, not a
  // writer's evaluation. Starts the block's reads at this statement when it is the first.
  // REQUIRES: mu held (shared or exclusively) for the whole statement.
  bool block_read_at_ts();
  // The table as the block reads it: its pinned copy, or (pinned now) its published contents
  // when no change reached it since the block's first read; 40001 otherwise.
  std::shared_ptr<const FrozenRows> block_pin(uint64_t id, const ObjectInfo& o, const TableData& data);
  // Whether the contents of id (a table, or a view through its inputs) may differ from those
  // at the block's timestamp.
  bool changed_since_block_ts(uint64_t id, int depth = 0);
  bool block_reads_started_here_ = false;  // this statement is the block's first read

  Coordinator::State& cs_;
  Session::State& st_;
  // The role the statement runs as, and the scope that makes binding check its privileges.
  RoleSession role_session() { return {cs_, *catalog_, st_.options.user, st_.session_auth, st_.set_role, st_.settings, st_.changed, st_.txn != TransactionStatus::kIdle}; }
  std::string session_user_ = st_.session_auth.empty() ? st_.options.user : st_.session_auth;
  std::string role_name_ = st_.set_role.empty() ? (st_.session_auth.empty() ? st_.options.user : st_.session_auth) : st_.set_role;
  std::optional<AccessScope> access_ = st_.client ? std::optional<AccessScope>(std::in_place, role_name_) : std::nullopt;
  std::unique_ptr<Execution> run_roles(const PgQuery__Node* stmt);
  // The catalog statements bind against and DDL changes: the shared one, or the block's own.
  Catalog* catalog_ = nullptr;
  std::span<const Datum> params_;
  std::vector<Type>& param_types_;
  Arena arena_;
  EvalContext ctx_;
  // SELECT ... AS OF t of a query that reads no collection: mz_now() is t (server/as_of.hpp).
  std::optional<uint64_t> as_of_time_;
  // The statement is a SELECT ... AS OF [AT LEAST]: it does not take the block's time
  // (mz_add_txn_ops leaves it out, as Materialize does).
  bool explicit_time_read_ = false;
  // SELECT ... AS OF a past time: every collection is read from its kept history (RETAIN
  // HISTORY, server/history.hpp) at this time (history_rows).
  std::optional<uint64_t> history_time_;
  void history_rows(uint64_t id, const std::function<void(const Row&, int64_t)>& emit);
  // Unqualified names resolve in the session's search_path while the executor lives.
  Catalog::SearchPathScope search_path_;
  // The schemas of the search path that exist (EvalContext::search_path).
  std::vector<std::string> existing_search_path_;
  static std::vector<std::string> session_search_path(const Session::State& st) {
    auto it = st.settings.find("search_path");
    return it == st.settings.end() ? std::vector<std::string>{"public"} : Catalog::parse_search_path(it->second);
  }
};

}  // namespace freshet::server
