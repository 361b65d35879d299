#include "server/session.hpp"
#include "server/as_of.hpp"
#include "server/subscribe_output.hpp"

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
#include "sql/streaming_parser.hpp"
#include "server/kafka_backend.hpp"
#include "server/transaction.hpp"
#include "server/role_statements.hpp"
#include "server/prepared_sql.hpp"
#include "server/schemas.hpp"
#include "dataflow/update.hpp"
#include "sql/mutually_recursive.hpp"

namespace freshet::server {

struct PreparedPlan {
  std::shared_ptr<sql::ParseTree> tree;
  std::optional<sql::StreamingStatement> streaming;
};

namespace {

using sql::HExpr;
using sql::HRel;
using sql::HRelKind;
using sql::HRelPtr;
using sql::ObjectInfo;
using sql::ObjectKind;

int64_t now_pg_micros() {
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

std::unique_ptr<Execution> done(std::string tag) {
  return std::make_unique<MaterializedExecution>(std::vector<Column>{}, std::vector<Row>{}, std::move(tag));
}

std::string str_of(const PgQuery__Node* n) {
  if (n && n->node_case == PG_QUERY__NODE__NODE_STRING) return n->string->sval;
  return "";
}

struct Setting {
  const char* name;
  const char* value;
  bool reported;
};

constexpr Setting kDefaultSettings[] = {
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
};

// The default memory budget of a query: 1/16 of the machine's memory, between 256 MB and 4 GB.
uint64_t default_query_budget_mb() {
  long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  uint64_t mem_mb = pages > 0 && page > 0 ? static_cast<uint64_t>(pages) * static_cast<uint64_t>(page) >> 20 : 4096;
  return std::clamp<uint64_t>(mem_mb / 16, 256, 4096);
}

std::string setting_default(const Setting& s) {
  if (std::string_view(s.name) == "query_memory_budget_mb") return std::to_string(default_query_budget_mb());
  return s.value;
}

// A duration setting (statement_timeout) in ms: an integer (ms) or a number with a unit (us,
// ms, s, min, h, d), as PostgreSQL reads it. nullopt when malformed.
std::optional<uint64_t> parse_duration_ms(std::string v) {
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
std::string display_name(const std::string& lower) {
  if (lower == "datestyle") return "DateStyle";
  if (lower == "intervalstyle") return "IntervalStyle";
  if (lower == "timezone") return "TimeZone";
  return lower;
}

}  // namespace

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
  // The block is a multi-statement query's implicit one (Session::begin_implicit_block).
  bool implicit = false;
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

Session::Session(Coordinator& coordinator, SessionOptions options)
    : coordinator_(coordinator), state_(std::make_unique<State>()) {
  state_->options = std::move(options);
  for (const auto& s : kDefaultSettings) state_->settings[s.name] = setting_default(s);
  state_->settings["application_name"] = state_->options.application_name;
  state_->settings["session_authorization"] = state_->options.user;
  state_->client = true;
  {
    std::shared_lock lock(coordinator.state().mu);
    const Catalog& c = coordinator.state().catalog;
    state_->settings["is_superuser"] = is_superuser(c.roles(), role_for_name(c, state_->options.user)) ? "on" : "off";
  }
  for (const auto& [k, v] : state_->options.startup_params) {
    std::string key = sql::lower_ident(k);
    if (key == "user" || key == "database" || key == "options" || key == "replication") continue;
    // The session runs in UTC whatever zone the client asks for at start-up (pgJDBC sends its
    // host's zone; refusing it would refuse the connection): say so in ParameterStatus and
    // SHOW, rather than echo a zone that is not applied. SET TimeZone refuses other zones.
    if (key == "timezone") {
      state_->settings[key] = "UTC";
      continue;
    }
    state_->settings[key] = v;
  }
}

Session::~Session() = default;

TransactionStatus Session::transaction_status() const { return state_->txn; }

std::optional<std::string> Session::setting(std::string_view name) const {
  auto it = state_->settings.find(sql::lower_ident(name));
  if (it == state_->settings.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, std::string>> Session::reported_settings() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : kDefaultSettings)
    if (s.reported) out.push_back({display_name(s.name), state_->settings.at(s.name)});
  return out;
}

std::vector<std::pair<std::string, std::string>> Session::take_changed_settings() {
  auto out = std::move(state_->changed);
  state_->changed.clear();
  return out;
}

void Session::cancel() { state_->cancelled.store(true); }

void Session::set_backend(int32_t pid, std::function<bool(int32_t, bool)> signal) {
  state_->backend_pid = pid;
  state_->signal_backend = std::move(signal);
}

Datum Session::parse_parameter(std::string_view text, Type t, Arena& arena) const {
  if (!is_reg_type(t.id)) return parse_datum(text, t, arena);
  auto& cs = coordinator_.state();
  std::shared_lock lock(cs.mu);
  EvalContext ctx;
  ctx.arena = &arena;
  ctx.catalog = sql::catalog_access(cs.catalog);
  return cast_datum(Datum::from_string(text), Type(TypeId::kText), t, ctx);
}

void Session::format_value(const Datum& d, Type t, std::string& out) const {
  if (!is_reg_type(t.id) || d.is_null()) {
    format_datum(d, t, out);
    return;
  }
  auto& cs = coordinator_.state();
  std::shared_lock lock(cs.mu);
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  ctx.catalog = sql::catalog_access(cs.catalog);
  out += cast_datum(d, t, Type(TypeId::kText), ctx).as_string();
}

void Session::close() {
  state_->cursors.close_all();
  state_->pending.clear();
  state_->block.reset();
  state_->savepoints.clear();
  state_->implicit = false;
  state_->txn = TransactionStatus::kIdle;
}

std::vector<std::string> Session::split(std::string_view sql) {
  std::shared_ptr<sql::ParseTree> tree;
  try {
    tree = sql::ParseTree::parse(sql);
  } catch (const SqlError&) {
    // Freshet's own statements (SUBSCRIBE, SHOW VIEWS, ...) are not PostgreSQL grammar: split
    // by hand and check every piece, so that a real syntax error is still reported.
    auto parts = sql::split_statements(sql);
    for (const auto& part : parts)
      if (!sql::parse_streaming(part)) {
        auto grant = rewrite_object_grant(part);  // GRANT ... ON SECRET (role_statements.hpp)
        sql::ParseTree::parse(grant ? *grant : part);
      }
    return parts;
  }
  std::vector<std::string> out;
  for (size_t i = 0; i < tree->size(); ++i) out.push_back(tree->statement_text(i));
  // A query of one statement is prepared right after: keep its parse (a 1,000-row INSERT's
  // parse tree costs more to build than to run).
  // Only when the statement starts the text, so that positions in errors stay the same.
  if (out.size() == 1 && sql.substr(0, out[0].size()) == out[0]) {
    state_->split_tree = tree;
    state_->split_text = out[0];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Statement execution

namespace {

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
    ctx_.catalog = sql::catalog_access(*catalog_);  // reg* types and pg_get_*def read the catalog
    ctx_.backend_pid = st_.backend_pid;
    if (st_.signal_backend) ctx_.signal_backend = &st_.signal_backend;
  }

  std::unique_ptr<Execution> run(const PgQuery__Node* stmt);
  // What a sink follows (sinks.hpp, attach_sink_input). REQUIRES: mu held exclusively.
  SinkInput sink_input(const SinkEntry& e);
  // Only binds: for Describe at prepare time.
  std::vector<Column> describe(const PgQuery__Node* stmt, bool& returns_rows);
  // PREPARE's parameter types; EXECUTE's arguments, evaluated and cast (assignment) to types.
  std::vector<Type> bind_types(PgQuery__Node** nodes, size_t n);
  Row eval_execute_args(const PgQuery__ExecuteStmt* s, const std::vector<Type>& types);

 private:
  std::unique_ptr<Execution> run_select(const PgQuery__SelectStmt* s);
  std::unique_ptr<Execution> run_select_with(const std::function<sql::BoundQuery(sql::Binder&)>& bind);
  // Binds a query's text: a SELECT, or a WITH MUTUALLY RECURSIVE query. keep owns the parse.
  sql::BoundQuery bind_query_text(sql::Binder& binder, const std::string& text, std::shared_ptr<sql::ParseTree>& keep);
  std::unique_ptr<Execution> run_insert(const PgQuery__InsertStmt* s);
  std::unique_ptr<Execution> run_update(const PgQuery__UpdateStmt* s);
  std::unique_ptr<Execution> run_delete(const PgQuery__DeleteStmt* s);
  std::unique_ptr<Execution> run_create_table(const PgQuery__CreateStmt* s);
  std::unique_ptr<Execution> run_create_table_as(const PgQuery__CreateTableAsStmt* s);
  std::unique_ptr<Execution> run_create_view(const PgQuery__ViewStmt* s);
  std::unique_ptr<Execution> run_create_index(const PgQuery__IndexStmt* s);
  std::unique_ptr<Execution> run_drop(const PgQuery__DropStmt* s);
  // CREATE SCHEMA / DATABASE, DROP DATABASE (DROP SCHEMA is run_drop's); schemas.cpp has
  // what does not need the executor.
  std::unique_ptr<Execution> run_create_schema(const PgQuery__CreateSchemaStmt* s);
  std::unique_ptr<Execution> run_create_database(const PgQuery__CreatedbStmt* s);
  std::unique_ptr<Execution> run_drop_database(const PgQuery__DropdbStmt* s);
  // ALTER TABLE | VIEW | MATERIALIZED VIEW | INDEX ... RENAME TO.
  std::unique_ptr<Execution> run_rename(const PgQuery__RenameStmt* s);
  std::unique_ptr<Execution> rename_schema(const PgQuery__RenameStmt* s);
  // The schema a CREATE puts rv in: its own (which must exist) or the search path's first.
  std::string target_schema(const PgQuery__RangeVar* rv);
  // The session's search_path as a view records it (ObjectInfo::search_path): empty for the
  // default.
  std::string current_search_path_setting() const {
    auto it = st_.settings.find("search_path");
    return it == st_.settings.end() || it->second == "public" ? std::string() : it->second;
  }
  std::unique_ptr<Execution> run_transaction(const PgQuery__TransactionStmt* s);
  // Transaction blocks with DDL (transaction.hpp). begin_block_ddl: in a block, before its first
  // DDL statement, copies the catalog for the block. commit_block: COMMIT of such a block.
  void begin_block_ddl();
 public:
  // COMMIT of the open block (nothing when there is none), ROLLBACK of it. In an implicit block
  // the next statements start another one.
  void commit_open_block();
  void rollback_block();

 private:
  // DROP's effects on one object (its dataflows, its stored data) and its removal from the
  // catalog. REQUIRES: DdlLock held.
  void drop_object(uint64_t id, bool write_table_deletes);
  // The records that delete a table's stored rows (none for other objects).
  std::vector<storage::Change> table_delete_records(uint64_t id);
  void commit_block();
  std::unique_ptr<Execution> run_savepoint(const PgQuery__TransactionStmt* s);
  std::unique_ptr<Execution> run_set(const PgQuery__VariableSetStmt* s);
  std::unique_ptr<Execution> run_show(const PgQuery__VariableShowStmt* s);
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
  void commit_staged();
  // The same for a caller holding write_mu only (mu released): DDL that writes rows.
  void commit_staged_holding(std::unique_lock<std::mutex>& wlock);
  std::unique_lock<std::mutex> wlock_;
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
                                          bool unique = false);
  // CREATE INDEX on a view that is not maintained yet, and CREATE MATERIALIZED VIEW: releases
  // the lock while the dataflow is hydrated and caught up (Coordinator::State::Hydration),
  // retakes it before returning. A materialized view's collection must exist; its contents
  // are stored as they are computed. Meanwhile reads of it compute its query (snapshot_fn).
  void hydrate_in_background(DdlLock& lock, ObjectInfo& view, const std::vector<uint32_t>& key);
  std::unique_ptr<Execution> create_materialized_view(DdlLock& lock, const PgQuery__CreateTableAsStmt* s);
  std::unique_ptr<Execution> create_source(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> create_sink(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> create_view_from_text(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> drop_streaming_object(const sql::StreamingStatement& st);
  void validate_connection_options(const ObjectInfo& conn);

  std::vector<Column> describe_streaming(const sql::StreamingStatement& st, bool& returns_rows);

 private:
  Maintained& maintain_view(ObjectInfo& view);
  dataflow::RelExpr plan_for_object(const ObjectInfo& obj);
  bool try_fast_path(const dataflow::RelExpr& plan, std::vector<std::pair<Row, int64_t>>& out);
  std::string fast_path_index(const dataflow::RelExpr& plan);
  // Replaces a table read under a filter that fixes the table's primary key to constants by the
  // rows found in the key index: a point lookup instead of a scan (UPDATE/DELETE/SELECT ... WHERE
  // id = $1).
  void rewrite_point_lookups(dataflow::RelExpr& plan);
  std::unique_ptr<Execution> subscribe(const sql::StreamingStatement& st);
  std::unique_ptr<Execution> show(const sql::StreamingStatement& st);
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
  // Unqualified names resolve in the session's search_path while the executor lives.
  Catalog::SearchPathScope search_path_;
  static std::vector<std::string> session_search_path(const Session::State& st) {
    auto it = st.settings.find("search_path");
    return it == st.settings.end() ? std::vector<std::string>{"public"} : Catalog::parse_search_path(it->second);
  }
};

dataflow::SnapshotFn Executor::snapshot_fn() {
  return [this](uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
    Catalog& cat = *catalog_;
    if (const SystemView* v = cat.system_view(id)) {
      std::vector<Row> rows;
      if (v->info.name == "pg_cursors" && v->info.schema == "pg_catalog") {
        // The session's own cursors (PostgreSQL's view lists only the current session's).
        for (const auto& [name, c] : st_.cursors.all()) {
          std::vector<Datum> d{Datum::from_string(name), Datum::from_string(c.statement), Datum::from_bool(c.hold),
                               Datum::from_bool(false), Datum::from_bool(c.scroll),
                               Datum::from_timestamp(c.creation_time_us)};
          rows.push_back(Row::pack(d));
        }
      }
      v->rows(cat, rows);
      for (const auto& r : rows) emit(r, 1);
      return;
    }
    if (TableData* t = cat.table_data(id)) {
      if (const ObjectInfo* o = cat.find(id)) cs_.check_table_readable(*o);
      if (writer_view_) {
        for (const auto& [row, n] : t->rows) emit(row, n);
      } else {
        cs_.published_rows(id, *t, emit);
      }
    }
    if (Maintained* m = cs_.read_maintained(id, &st_.cancelled, id != no_wait_id_)) {
      std::shared_lock sl(m->state_mu);
      m->for_each([&](RowRef row, int64_t n) { emit(Row(std::string(row.bytes())), n); });
    } else if (const ObjectInfo* o = catalog_->find(id); o && o->kind == ObjectKind::kMaterializedView) {
      // A materialized view without its dataflow: created by the open block (maintained from
      // COMMIT on), or being hydrated (CREATE MATERIALIZED VIEW in progress): computed here.
      for (const auto& [row, n] : dataflow::run_oneshot(plan_for_object(*o), snapshot_fn(), ctx_, query_limits())) emit(row, n);
    }
    auto it = st_.pending.find(id);
    if (it != st_.pending.end())
      for (const auto& [row, n] : it->second) emit(row, n);
  };
}

dataflow::PartitionFn Executor::partition_fn() {
  return [this](uint64_t id, size_t parts) -> std::optional<dataflow::PartitionedSnapshot> {
    Catalog& cat = *catalog_;
    TableData* t = cat.table_data(id);
    if (t == nullptr || cat.system_view(id) != nullptr || st_.pending.contains(id)) return std::nullopt;
    for (const auto& m : cs_.maintained)
      if (m->id() == id) return std::nullopt;
    const ObjectInfo* o = cat.find(id);
    if (o == nullptr || o->kind != ObjectKind::kTable) return std::nullopt;
    cs_.check_table_readable(*o);
    return cs_.published_parts(id, *t, parts, writer_view_);
  };
}

std::vector<std::pair<Row, int64_t>> Executor::evaluate(const HRel& rel) {
  dataflow::RelExpr plan = sql::optimize(sql::lower(rel));
  ctx_.logical_time_ms = cs_.now_ts;
  rewrite_point_lookups(plan);
  return dataflow::run_oneshot(plan, snapshot_fn(), ctx_, query_limits(), partition_fn());
}

std::vector<Column> Executor::describe(const PgQuery__Node* stmt, bool& returns_rows) {
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
    for (size_t i = 0; i < t.columns.size(); ++i) scope.items.push_back({alias, t.columns[i].name, t.columns[i].type, static_cast<uint32_t>(i)});
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
      for (size_t r = 0; r < s->select_stmt->select_stmt->n_values_lists; ++r) {
        const auto* l = s->select_stmt->select_stmt->values_lists[r]->list;
        for (size_t k = 0; k < l->n_items && k < targets.size(); ++k) {
          if (l->items[k]->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) continue;
          HExpr e = binder.bind_expr_in_scope(l->items[k], empty);
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
          binder.coerce(binder.bind_expr_in_scope(rt->val, scope), t.columns[c].type, CastContext::kAssignment);
    }
    if (s->where_clause) binder.bind_expr_in_scope(s->where_clause, scope);
    ret = s->returning_list;
    nret = s->n_returning_list;
  } else if (stmt->node_case == PG_QUERY__NODE__NODE_DELETE_STMT) {
    const auto* s = stmt->delete_stmt;
    bind_table_scope(s->relation, scope);
    if (s->where_clause) binder.bind_expr_in_scope(s->where_clause, scope);
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
    HExpr e = binder.bind_expr_in_scope(rt->val, scope);
    cols.push_back({rt->name && *rt->name ? rt->name : sql::Binder::column_name_for(rt->val), e.type.id == TypeId::kUnknown ? Type(TypeId::kText) : e.type});
  }
  binder.finish_params();
  returns_rows = nret > 0;
  return cols;
}

namespace {
// ALTER SYSTEM SET of Materialize's feature flags whose features Freshet always has (its
// sqllogictest files turn them on first): accepted, nothing to change. Anything else, or
// turning one off, is 0A000.
void check_alter_system(const PgQuery__AlterSystemStmt* a) {
  static const char* const kAlwaysOn[] = {"enable_envelope_debezium_in_subscribe",
                                          "enable_within_timestamp_order_by_in_subscribe", "unsafe_enable_table_keys"};
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

std::unique_ptr<Execution> Executor::run(const PgQuery__Node* stmt) {
  bool in_failed = st_.txn == TransactionStatus::kFailed;
  if (in_failed && stmt->node_case != PG_QUERY__NODE__NODE_TRANSACTION_STMT)
    throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_CREATE_STMT:
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT:
    case PG_QUERY__NODE__NODE_VIEW_STMT:
    case PG_QUERY__NODE__NODE_INDEX_STMT:
    case PG_QUERY__NODE__NODE_DROP_STMT:
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT:
    case PG_QUERY__NODE__NODE_CREATEDB_STMT:
    case PG_QUERY__NODE__NODE_DROPDB_STMT:
    case PG_QUERY__NODE__NODE_RENAME_STMT:
      begin_block_ddl();
      break;
    default:
      break;
  }
  if (st_.client) check_statement_privileges(cs_, *catalog_, role_name_, stmt);
  if (stmt->node_case == PG_QUERY__NODE__NODE_VARIABLE_SET_STMT)
    if (auto e = run_roles(stmt)) return e;
  switch (stmt->node_case) {
    case PG_QUERY__NODE__NODE_SELECT_STMT: return run_select(stmt->select_stmt);
    case PG_QUERY__NODE__NODE_INSERT_STMT: return run_insert(stmt->insert_stmt);
    case PG_QUERY__NODE__NODE_UPDATE_STMT: return run_update(stmt->update_stmt);
    case PG_QUERY__NODE__NODE_DELETE_STMT: return run_delete(stmt->delete_stmt);
    case PG_QUERY__NODE__NODE_CREATE_STMT: return run_create_table(stmt->create_stmt);
    case PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT: return run_create_table_as(stmt->create_table_as_stmt);
    case PG_QUERY__NODE__NODE_VIEW_STMT: return run_create_view(stmt->view_stmt);
    case PG_QUERY__NODE__NODE_INDEX_STMT: return run_create_index(stmt->index_stmt);
    case PG_QUERY__NODE__NODE_DROP_STMT: return run_drop(stmt->drop_stmt);
    case PG_QUERY__NODE__NODE_CREATE_SCHEMA_STMT: return run_create_schema(stmt->create_schema_stmt);
    case PG_QUERY__NODE__NODE_CREATEDB_STMT: return run_create_database(stmt->createdb_stmt);
    case PG_QUERY__NODE__NODE_DROPDB_STMT: return run_drop_database(stmt->dropdb_stmt);
    case PG_QUERY__NODE__NODE_RENAME_STMT:
      if (stmt->rename_stmt->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_ROLE)
        if (auto e = run_roles(stmt)) return e;  // ALTER ROLE ... RENAME TO (role_statements.cpp)
      return run_rename(stmt->rename_stmt);
    case PG_QUERY__NODE__NODE_TRANSACTION_STMT: return run_transaction(stmt->transaction_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SET_STMT: return run_set(stmt->variable_set_stmt);
    case PG_QUERY__NODE__NODE_VARIABLE_SHOW_STMT: return run_show(stmt->variable_show_stmt);
    case PG_QUERY__NODE__NODE_EXPLAIN_STMT: return run_explain(stmt->explain_stmt);
    case PG_QUERY__NODE__NODE_TRUNCATE_STMT: return run_truncate(stmt->truncate_stmt);
    case PG_QUERY__NODE__NODE_COPY_STMT: return run_copy(stmt->copy_stmt);
    case PG_QUERY__NODE__NODE_DECLARE_CURSOR_STMT: return run_declare(stmt->declare_cursor_stmt);
    case PG_QUERY__NODE__NODE_FETCH_STMT: return run_fetch(stmt->fetch_stmt);
    case PG_QUERY__NODE__NODE_CLOSE_PORTAL_STMT: {
      if (!stmt->close_portal_stmt->portalname || !*stmt->close_portal_stmt->portalname) {
        st_.cursors.close_all();
        return done("CLOSE CURSOR ALL");
      }
      st_.cursors.close(stmt->close_portal_stmt->portalname);
      return done("CLOSE CURSOR");
    }
    case PG_QUERY__NODE__NODE_DISCARD_STMT:
      if (st_.txn != TransactionStatus::kIdle && stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL)
        throw SqlError(sqlstate::kActiveSqlTransaction, "DISCARD ALL cannot run inside a transaction block");
      if (stmt->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL) st_.serializable_reads = false;
      return done("DISCARD ALL");
    case PG_QUERY__NODE__NODE_DEALLOCATE_STMT: return done("DEALLOCATE");
    case PG_QUERY__NODE__NODE_ALTER_SYSTEM_STMT:
      check_alter_system(stmt->alter_system_stmt);
      return done("ALTER SYSTEM");
    default:
      if (auto e = run_roles(stmt)) return e;
      throw SqlError(sqlstate::kFeatureNotSupported, "this statement is not supported");
  }
}

std::unique_ptr<Execution> Executor::run_roles(const PgQuery__Node* stmt) {
  // In a transaction block a role statement is DDL: it changes the block's catalog (its copy of
  // the roles, its objects' ACLs) and takes effect at COMMIT (transaction.hpp).
  if (is_role_statement(stmt)) begin_block_ddl();
  RoleSession rs = role_session();
  return run_role_statement(rs, stmt);
}

std::unique_ptr<Execution> Executor::run_select(const PgQuery__SelectStmt* s) {
  return run_select_with([&](sql::Binder& b) { return b.bind_query(s); });
}

sql::BoundQuery Executor::bind_query_text(sql::Binder& binder, const std::string& text, std::shared_ptr<sql::ParseTree>& keep) {
  // WITH MUTUALLY RECURSIVE, also nested in parentheses (Binder::bind_mutually_recursive).
  if (sql::find_mutually_recursive(text) != std::string::npos) return binder.bind_mutually_recursive(text);
  keep = sql::ParseTree::parse(text);
  if (keep->size() != 1 || keep->statement(0)->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    throw SqlError(sqlstate::kSyntaxError, "expected a SELECT");
  return binder.bind_query(keep->statement(0)->select_stmt);
}

std::unique_ptr<Execution> Executor::run_select_with(const std::function<sql::BoundQuery(sql::Binder&)>& bind) {
  std::shared_lock lock(cs_.mu);
  sql::Binder binder(*catalog_, param_types_);
  if (as_of_time_) binder.set_inline_views(true);  // AS OF a constant query (server/as_of.hpp)
  sql::BoundQuery q = bind(binder);
  binder.finish_params();
  std::vector<std::pair<Row, int64_t>> result;
  {
    dataflow::RelExpr plan = sql::optimize(sql::lower(*q.rel));
    ctx_.logical_time_ms = as_of_time_.value_or(cs_.now_ts);  // AS OF of a constant query
    no_wait_id_ = serializable_read_of(plan);
    if (!try_fast_path(plan, result)) {
      rewrite_point_lookups(plan);
      result = dataflow::run_oneshot(plan, snapshot_fn(), ctx_, query_limits(), partition_fn());
    }
  }
  // Finishing: ORDER BY, OFFSET, LIMIT, and the visible columns.
  std::vector<std::pair<std::vector<Datum>, const Row*>> rows;
  std::vector<Row> expanded;
  size_t total = 0;
  for (const auto& [r, n] : result) {
    if (n < 0) throw SqlError(sqlstate::kInternalError, "query produced a negative multiplicity");
    total += static_cast<size_t>(n);
  }
  expanded.reserve(total);
  for (auto& [r, n] : result)
    for (int64_t i = 0; i < n; ++i) expanded.push_back(r);
  if (!q.order_by.empty()) {
    std::vector<std::vector<Datum>> keys(expanded.size());
    std::vector<size_t> idx(expanded.size());
    for (size_t i = 0; i < expanded.size(); ++i) {
      keys[i] = expanded[i].unpack();
      idx[i] = i;
    }
    // The sort honours cancellation and statement_timeout too (a comparator may throw).
    const dataflow::StepLimits limits = query_limits();
    dataflow::StepContext check{0, ctx_, limits};
    uint64_t comparisons = 0;
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      if ((++comparisons & 0xffff) == 0) check.check_cancelled();
      for (const auto& k : q.order_by) {
        const Datum& x = keys[a][k.column];
        const Datum& y = keys[b][k.column];
        if (x.is_null() || y.is_null()) {
          if (x.is_null() && y.is_null()) continue;
          return x.is_null() ? k.nulls_first : !k.nulls_first;
        }
        int c = compare_datums(x, y);
        if (c != 0) return k.descending ? c > 0 : c < 0;
      }
      return false;
    });
    std::vector<Row> sorted;
    sorted.reserve(idx.size());
    for (auto i : idx) sorted.push_back(std::move(expanded[i]));
    expanded = std::move(sorted);
  }
  auto eval_count = [&](const std::optional<HExpr>& e, const char* what, const char* state) -> std::optional<int64_t> {
    if (!e) return std::nullopt;
    Datum d = dataflow::eval(sql::lower_constant_expr(*e), {}, ctx_);
    if (d.is_null()) return std::nullopt;
    if (d.as_int() < 0) throw SqlError(state, std::string(what) + " must not be negative");
    return d.as_int();
  };
  int64_t offset = eval_count(q.offset, "OFFSET", sqlstate::kInvalidRowCountInResultOffsetClause).value_or(0);
  std::optional<int64_t> limit = eval_count(q.limit, "LIMIT", sqlstate::kInvalidRowCountInLimitClause);
  size_t begin = std::min(expanded.size(), static_cast<size_t>(offset));
  size_t end = limit ? std::min(expanded.size(), begin + static_cast<size_t>(*limit)) : expanded.size();
  size_t nvis = q.column_names.size();
  auto types = q.types();
  std::vector<Row> out;
  out.reserve(end - begin);
  bool project = q.rel->arity() != nvis;
  std::vector<Datum> buf;
  for (size_t i = begin; i < end; ++i) {
    if (!project) {
      out.push_back(std::move(expanded[i]));
      continue;
    }
    buf.clear();
    expanded[i].unpack_into(buf);
    out.push_back(Row::pack(std::span<const Datum>(buf.data(), nvis)));
  }
  std::vector<Column> cols;
  for (size_t i = 0; i < nvis; ++i) cols.push_back({q.column_names[i], types[i]});
  std::string tag = "SELECT " + std::to_string(out.size());
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(out), std::move(tag));
}

const ObjectInfo& Executor::table_for_write(const PgQuery__RangeVar* rv) {
  std::string schema = rv->schemaname ? rv->schemaname : "";
  if (rv->catalogname && *rv->catalogname && !catalog_->is_current_database(rv->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported,
                   "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "." + schema + "." + rv->relname + "\"",
                   rv->location + 1);
  const ObjectInfo* t = catalog_->lookup(schema, rv->relname);
  if (!t) throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(rv->relname) + "\" does not exist", rv->location + 1);
  if (t->kind != ObjectKind::kTable)
    throw SqlError(sqlstate::kWrongObjectType, "cannot change relation \"" + t->name + "\"", rv->location + 1)
        .with_detail("Only tables can be written to.");
  if (t->source_id != 0)
    throw SqlError(sqlstate::kWrongObjectType, "cannot change source table \"" + t->name + "\"", rv->location + 1)
        .with_detail("Its contents come from its source.");
  return *t;
}

HExpr Executor::default_for(const ObjectInfo& t, size_t col, sql::Binder& binder) {
  const auto& c = t.columns[col];
  if (!c.default_sql) return HExpr::literal_of(Datum::null(), c.type);
  auto tree = sql::ParseTree::parse("SELECT " + *c.default_sql);
  const auto* sel = tree->statement(0)->select_stmt;
  sql::Scope empty;
  HExpr e = binder.bind_expr_in_scope(sel->target_list[0]->res_target->val, empty);
  // The expression's literals are owned by the HExpr (packed rows), not the parse tree.
  return binder.coerce(std::move(e), c.type, CastContext::kAssignment);
}

void Executor::write(const ObjectInfo& t, const std::vector<std::pair<Row, int64_t>>& changes) {
  TableData* data = catalog_->table_data(t.id);
  FRESHET_ASSERT(data != nullptr);
  auto& pending = st_.pending[t.id];
  bool in_block = st_.txn == TransactionStatus::kInBlock;
  // Constraint checks: NOT NULL, then primary key uniqueness over base + pending + changes.
  std::vector<Datum> ds;
  for (const auto& [row, diff] : changes) {
    if (diff <= 0) continue;
    ds.clear();
    row.unpack_into(ds);
    for (size_t i = 0; i < t.columns.size(); ++i)
      if (!t.columns[i].nullable && ds[i].is_null())
        throw SqlError(sqlstate::kNotNullViolation,
                       "null value in column \"" + t.columns[i].name + "\" of relation \"" + t.name + "\" violates not-null constraint");
  }
  // Key constraints: the primary key, then UNIQUE constraints (whose NULL keys never clash).
  std::vector<std::pair<const std::vector<uint32_t>*, std::string>> keys;
  if (!t.primary_key.empty()) keys.push_back({&t.primary_key, t.name + "_pkey"});
  for (const auto& u : t.unique_keys) {
    std::string cname = t.name;
    for (auto c : u) cname += "_" + t.columns[c].name;
    keys.push_back({&u, cname + "_key"});
  }
  for (const auto& u : data->unique_indexes) keys.push_back({&u.columns, u.name});
  if (data->key_counts.size() < keys.size()) data->key_counts.resize(keys.size());
  auto key_of = [&](const Row& r, const std::vector<uint32_t>& cols, bool& has_null) {
    ds.clear();
    r.unpack_into(ds);
    std::vector<Datum> k;
    has_null = false;
    for (auto c : cols) {
      k.push_back(ds[c]);
      has_null |= ds[c].is_null();
    }
    return Row::pack(k);
  };
  for (size_t ki = 0; ki < keys.size(); ++ki) {
    const auto& cols = *keys[ki].first;
    std::unordered_map<Row, int64_t, RowHash> delta;
    if (pending.size() + changes.size() >= kBulkRows) delta.reserve(pending.size() + changes.size());
    bool has_null = false;
    for (const auto& [row, diff] : pending) {
      Row k = key_of(row, cols, has_null);
      if (!has_null) delta[k] += diff;
    }
    for (const auto& [row, diff] : changes) {
      Row k = key_of(row, cols, has_null);
      if (!has_null) delta[k] += diff;
    }
    for (const auto& [key, d] : delta) {
      auto it = data->key_counts[ki].find(key);
      int64_t base = it == data->key_counts[ki].end() ? 0 : it->second;
      if (base + d > 1) {
        std::string names, vals;
        std::vector<Datum> kd = key.unpack();
        for (size_t i = 0; i < cols.size(); ++i) {
          if (i) {
            names += ", ";
            vals += ", ";
          }
          names += t.columns[cols[i]].name;
          vals += format_datum(kd[i], t.columns[cols[i]].type);
        }
        throw SqlError(sqlstate::kUniqueViolation, "duplicate key value violates unique constraint \"" + keys[ki].second + "\"")
            .with_detail("Key (" + names + ")=(" + vals + ") already exists.");
      }
    }
  }
  if (in_block) {
    for (const auto& c : changes) pending.push_back(c);
    return;
  }
  st_.pending.erase(t.id);
  // The statement's (or COMMIT's) changes are staged; commit_staged() makes every table's
  // changes durable in one batch and applies them together (write_path.hpp).
  FRESHET_ASSERT(commit_batch_ != nullptr);
  auto records = table_storage_changes(t, changes);
  commit_records_.insert(commit_records_.end(), std::make_move_iterator(records.begin()), std::make_move_iterator(records.end()));
  auto& all = (*commit_batch_)[t.id];
  all.insert(all.end(), changes.begin(), changes.end());
}

void Executor::begin_write() {
  wlock_ = std::unique_lock(cs_.write_mu);
  rlock_ = std::shared_lock(cs_.mu);
  writer_view_ = true;
  staged_.clear();
  commit_records_.clear();
  commit_batch_ = st_.txn == TransactionStatus::kInBlock ? nullptr : &staged_;
}

void Executor::commit_staged() {
  FRESHET_ASSERT(wlock_.owns_lock());
  commit_batch_ = nullptr;
  rlock_.unlock();
  commit_staged_holding(wlock_);
}

void Executor::commit_staged_holding(std::unique_lock<std::mutex>& wlock) {
  FRESHET_ASSERT(wlock.owns_lock());
  bool empty = true;
  for (const auto& [id, d] : staged_) empty &= d.empty();
  if (empty) {
    wlock.unlock();
    return;
  }
  storage::Batch batch;
  batch.changes = std::move(commit_records_);
  auto w = cs_.stage_write(std::move(staged_), Persistence::kTablesCollection, std::move(batch));
  wlock.unlock();
  writer_view_ = false;
  if (Status s = cs_.finish_write(w); !s) throw storage_write_error("could not make the write durable", s);
}

std::vector<storage::Change> Executor::table_storage_changes(const ObjectInfo& t, const RowDiffs& changes) {
  std::vector<storage::Change> out;
  if (!cs_.persist) return out;
  TableData* data = catalog_->table_data(t.id);
  std::vector<Datum> ds;
  auto pk_of = [&](const Row& r) {
    ds.clear();
    r.unpack_into(ds);
    std::vector<Datum> k;
    for (auto c : t.primary_key) k.push_back(ds[c]);
    return Row::pack(k);
  };
  // Only insertions into a table with a primary key: their keys passed the key check (write()),
  // so each is new and appears once; its record is its row.
  if (!t.primary_key.empty() &&
      std::all_of(changes.begin(), changes.end(), [](const auto& c) { return c.second > 0; })) {
    Persistence::table_insert_records(t, changes, out);
    return out;
  }
  // The state after the change, per key (PK tables) or per row (keyless).
  std::unordered_map<Row, std::optional<Row>, RowHash> after_key;
  std::unordered_map<Row, int64_t, RowHash> count_delta;
  if (changes.size() >= kBulkRows) (t.primary_key.empty() ? count_delta.reserve(changes.size()) : after_key.reserve(changes.size()));
  for (const auto& [row, diff] : changes) {
    if (!t.primary_key.empty()) {
      Row k = pk_of(row);
      auto it = after_key.find(k);
      if (it == after_key.end()) {
        auto cur = data->by_key.find(k);
        it = after_key.emplace(k, cur == data->by_key.end() ? std::nullopt : std::optional<Row>(cur->second)).first;
      }
      if (diff > 0) it->second = row;
      else if (it->second && *it->second == row) it->second.reset();
    } else {
      count_delta[row] += diff;
    }
  }
  Persistence::table_records(
      t, changes, [&](const Row& key) { return after_key[key]; },
      [&](const Row& row) {
        auto it = data->rows.find(row);
        return (it == data->rows.end() ? 0 : it->second) + count_delta[row];
      },
      out);
  return out;
}


std::vector<Row> Executor::returning(const ObjectInfo& t, PgQuery__Node** list, size_t n, const std::vector<Row>& rows,
                                     std::vector<Column>& cols) {
  if (n == 0) return {};
  sql::Scope scope;
  for (size_t i = 0; i < t.columns.size(); ++i) scope.items.push_back({t.name, t.columns[i].name, t.columns[i].type, static_cast<uint32_t>(i)});
  sql::Binder binder(*catalog_, param_types_);
  std::vector<dataflow::ScalarExpr> exprs;
  for (size_t i = 0; i < n; ++i) {
    const auto* rt = list[i]->res_target;
    const auto* v = rt->val;
    if (v->node_case == PG_QUERY__NODE__NODE_COLUMN_REF &&
        v->column_ref->fields[v->column_ref->n_fields - 1]->node_case == PG_QUERY__NODE__NODE_A_STAR) {
      for (size_t c = 0; c < t.columns.size(); ++c) {
        exprs.push_back(dataflow::ScalarExpr::column_ref(static_cast<uint32_t>(c), t.columns[c].type));
        cols.push_back({t.columns[c].name, t.columns[c].type});
      }
      continue;
    }
    HExpr e = binder.bind_expr_in_scope(v, scope);
    if (e.type.id == TypeId::kUnknown) e = binder.coerce(std::move(e), Type(TypeId::kText), CastContext::kImplicit);
    cols.push_back({rt->name && *rt->name ? rt->name : sql::Binder::column_name_for(v), e.type});
    exprs.push_back(sql::lower_simple_expr(e));
  }
  std::vector<Row> out;
  std::vector<Datum> in, res;
  for (const auto& r : rows) {
    in.clear();
    res.clear();
    r.unpack_into(in);
    for (const auto& e : exprs) res.push_back(dataflow::eval(e, in, ctx_));
    out.push_back(Row::pack(res));
    arena_.reset();
  }
  return out;
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
    HExpr e = binder.bind_expr_in_scope(s->params[i], empty);
    e = binder.coerce(std::move(e), types[i], CastContext::kAssignment, 0, "parameter $" + std::to_string(i + 1));
    values.push_back(dataflow::eval(sql::lower_simple_expr(e), {}, ctx_));
  }
  binder.finish_params();
  return Row::pack(values);
}

std::unique_ptr<Execution> Executor::run_insert(const PgQuery__InsertStmt* s) {
  begin_write();
  if (s->on_conflict_clause) throw SqlError(sqlstate::kFeatureNotSupported, "ON CONFLICT is not supported");
  if (s->with_clause) throw SqlError(sqlstate::kFeatureNotSupported, "WITH in INSERT is not supported");
  const ObjectInfo& t = table_for_write(s->relation);
  sql::Binder binder(*catalog_, param_types_);
  // Target columns.
  std::vector<size_t> targets;
  if (s->n_cols == 0) {
    for (size_t i = 0; i < t.columns.size(); ++i) targets.push_back(i);
  } else {
    for (size_t i = 0; i < s->n_cols; ++i) {
      const auto* rt = s->cols[i]->res_target;
      std::string name = rt->name;
      size_t c = 0;
      for (; c < t.columns.size(); ++c)
        if (t.columns[c].name == name) break;
      if (c == t.columns.size())
        throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" of relation \"" + t.name + "\" does not exist", rt->location + 1);
      if (std::find(targets.begin(), targets.end(), c) != targets.end())
        throw SqlError(sqlstate::kDuplicateColumn, "column \"" + name + "\" specified more than once", rt->location + 1);
      targets.push_back(c);
    }
  }
  // The source rows, as a relation with one column per target.
  HRelPtr src;
  const PgQuery__SelectStmt* sel = s->select_stmt ? s->select_stmt->select_stmt : nullptr;
  if (sel && sel->n_values_lists > 0 && sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE) {
    auto c = std::make_shared<HRel>();
    c->kind = HRelKind::kConstant;
    sql::Scope empty;
    for (size_t r = 0; r < sel->n_values_lists; ++r) {
      const auto* l = sel->values_lists[r]->list;
      if (s->n_cols == 0 && l->n_items < targets.size() && r == 0) targets.resize(l->n_items);
      if (l->n_items > targets.size()) throw SqlError(sqlstate::kSyntaxError, "INSERT has more expressions than target columns");
      if (l->n_items < targets.size()) throw SqlError(sqlstate::kSyntaxError, "INSERT has more target columns than expressions");
      std::vector<HExpr> row;
      for (size_t k = 0; k < l->n_items; ++k) {
        const auto& col = t.columns[targets[k]];
        if (l->items[k]->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT) {
          row.push_back(default_for(t, targets[k], binder));
          continue;
        }
        HExpr e = binder.bind_expr_in_scope(l->items[k], empty);
        row.push_back(binder.coerce(std::move(e), col.type, CastContext::kAssignment, 0, "column \"" + col.name + "\""));
      }
      c->rows.push_back(std::move(row));
    }
    for (auto k : targets) c->column_types.push_back(t.columns[k].type);
    src = c;
  } else if (sel) {
    sql::BoundQuery q = binder.bind_query(sel);
    if (q.column_names.size() > targets.size()) throw SqlError(sqlstate::kSyntaxError, "INSERT has more expressions than target columns");
    if (q.column_names.size() < targets.size()) throw SqlError(sqlstate::kSyntaxError, "INSERT has more target columns than expressions");
    HRelPtr rel = q.rel;
    if (!q.order_by.empty() || q.limit || q.offset) {
      // ORDER BY/LIMIT in INSERT ... SELECT: apply as top-k.
      auto tk = std::make_shared<HRel>();
      tk->kind = HRelKind::kTopK;
      tk->inputs = {rel};
      tk->column_types = rel->column_types;
      tk->order_by = q.order_by;
      if (q.limit) tk->limit = static_cast<uint64_t>(dataflow::eval(sql::lower_constant_expr(*q.limit), {}, ctx_).as_int());
      if (q.offset) tk->offset = static_cast<uint64_t>(dataflow::eval(sql::lower_constant_expr(*q.offset), {}, ctx_).as_int());
      rel = tk;
    }
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {rel};
    m->column_types = rel->column_types;
    for (size_t k = 0; k < targets.size(); ++k) {
      const auto& col = t.columns[targets[k]];
      HExpr e = binder.coerce(HExpr::column_ref(0, static_cast<uint32_t>(k), rel->column_types[k]), col.type,
                              CastContext::kAssignment, 0, "column \"" + col.name + "\"");
      m->exprs.push_back(e);
      m->column_types.push_back(col.type);
    }
    auto p = std::make_shared<HRel>();
    p->kind = HRelKind::kProject;
    p->inputs = {m};
    for (size_t k = 0; k < targets.size(); ++k) {
      p->columns.push_back(static_cast<uint32_t>(rel->arity() + k));
      p->column_types.push_back(t.columns[targets[k]].type);
    }
    src = p;
  } else {
    // INSERT ... DEFAULT VALUES
    auto c = std::make_shared<HRel>();
    c->kind = HRelKind::kConstant;
    c->rows.push_back({});
    src = c;
    targets.clear();
  }
  // Complete rows: defaults for the columns not given.
  bool all_given = targets.size() == t.columns.size();
  for (size_t i = 0; all_given && i < targets.size(); ++i) all_given = targets[i] == i;
  HRelPtr full = src;
  if (!all_given) {
    auto m = std::make_shared<HRel>();
    m->kind = HRelKind::kMap;
    m->inputs = {src};
    m->column_types = src->column_types;
    std::vector<uint32_t> cols;
    for (size_t c = 0; c < t.columns.size(); ++c) {
      auto it = std::find(targets.begin(), targets.end(), c);
      if (it != targets.end()) {
        cols.push_back(static_cast<uint32_t>(it - targets.begin()));
      } else {
        m->exprs.push_back(default_for(t, c, binder));
        m->column_types.push_back(t.columns[c].type);
        cols.push_back(static_cast<uint32_t>(m->column_types.size() - 1));
      }
    }
    auto p = std::make_shared<HRel>();
    p->kind = HRelKind::kProject;
    p->inputs = {m};
    p->columns = cols;
    for (auto c : cols) p->column_types.push_back(m->column_types[c]);
    full = p;
  }
  binder.finish_params();
  auto rows = evaluate(*full);
  std::vector<std::pair<Row, int64_t>> changes;
  std::vector<Row> inserted;
  size_t count = 0;
  for (auto& [r, n] : rows) {
    changes.push_back({r, n});
    count += static_cast<size_t>(n);
    if (s->n_returning_list)
      for (int64_t i = 0; i < n; ++i) inserted.push_back(r);
  }
  write(t, changes);
  std::vector<Column> cols;
  auto ret = returning(t, s->returning_list, s->n_returning_list, inserted, cols);
  commit_staged();
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(ret), "INSERT 0 " + std::to_string(count));
}

std::unique_ptr<Execution> Executor::run_update(const PgQuery__UpdateStmt* s) {
  begin_write();
  if (s->n_from_clause) throw SqlError(sqlstate::kFeatureNotSupported, "UPDATE ... FROM is not supported");
  const ObjectInfo& t = table_for_write(s->relation);
  sql::Binder binder(*catalog_, param_types_);
  sql::Scope scope;
  std::string alias = s->relation->alias && *s->relation->alias->aliasname ? s->relation->alias->aliasname : t.name;
  for (size_t i = 0; i < t.columns.size(); ++i) scope.items.push_back({alias, t.columns[i].name, t.columns[i].type, static_cast<uint32_t>(i)});
  auto get = std::make_shared<HRel>();
  get->kind = HRelKind::kGet;
  get->collection_id = t.id;
  for (const auto& c : t.columns) get->column_types.push_back(c.type);
  HRelPtr rel = get;
  if (s->where_clause) {
    auto f = std::make_shared<HRel>();
    f->kind = HRelKind::kFilter;
    f->inputs = {rel};
    f->column_types = rel->column_types;
    HExpr pred = binder.bind_expr_in_scope(s->where_clause, scope);
    if (pred.type.id != TypeId::kBool)
      throw SqlError(sqlstate::kDatatypeMismatch, "argument of WHERE must be type boolean, not type " + type_name(pred.type));
    f->exprs = {pred};
    rel = f;
  }
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
    HExpr e = binder.bind_expr_in_scope(rt->val, scope);
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
  std::string alias = s->relation->alias && *s->relation->alias->aliasname ? s->relation->alias->aliasname : t.name;
  for (size_t i = 0; i < t.columns.size(); ++i) scope.items.push_back({alias, t.columns[i].name, t.columns[i].type, static_cast<uint32_t>(i)});
  auto get = std::make_shared<HRel>();
  get->kind = HRelKind::kGet;
  get->collection_id = t.id;
  for (const auto& c : t.columns) get->column_types.push_back(c.type);
  HRelPtr rel = get;
  if (s->where_clause) {
    auto f = std::make_shared<HRel>();
    f->kind = HRelKind::kFilter;
    f->inputs = {rel};
    f->column_types = rel->column_types;
    HExpr pred = binder.bind_expr_in_scope(s->where_clause, scope);
    if (pred.type.id != TypeId::kBool)
      throw SqlError(sqlstate::kDatatypeMismatch, "argument of WHERE must be type boolean, not type " + type_name(pred.type));
    f->exprs = {pred};
    rel = f;
  }
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

// The text of a DEFAULT expression: deparsed, so that it is stored in canonical SQL.
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
      sql::Binder binder(*catalog_, param_types_);
      sql::ColumnInfo col;
      col.name = cd->colname;
      for (const auto& existing : obj.columns)
        if (existing.name == col.name)
          throw SqlError(sqlstate::kDuplicateColumn, "column \"" + col.name + "\" specified more than once", cd->location + 1);
      col.type = binder.bind_type(cd->type_name);
      if (col.type.id == TypeId::kRecord || col.type.id == TypeId::kUnknown)
        throw SqlError(sqlstate::kDatatypeMismatch, "column \"" + col.name + "\" has pseudo-type " + type_name(col.type));
      col.nullable = !cd->is_not_null;
      for (size_t k = 0; k < cd->n_constraints; ++k) {
        const auto* c = cd->constraints[k]->constraint;
        switch (c->contype) {
          case PG_QUERY__CONSTR_TYPE__CONSTR_NOTNULL: col.nullable = false; break;
          case PG_QUERY__CONSTR_TYPE__CONSTR_NULL: col.nullable = true; break;
          case PG_QUERY__CONSTR_TYPE__CONSTR_DEFAULT: {
            col.default_sql = sql::deparse_expr(c->raw_expr);
            // Validate now: the default must bind and cast to the column type.
            sql::Scope empty;
            HExpr e = binder.bind_expr_in_scope(c->raw_expr, empty);
            binder.coerce(std::move(e), col.type, CastContext::kAssignment, 0, "column \"" + col.name + "\"");
            break;
          }
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
      }
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
  catalog_->add(std::move(obj));
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

std::unique_ptr<Execution> Executor::create_materialized_view(DdlLock& lock, const PgQuery__CreateTableAsStmt* s) {
  const auto* into = s->into;
  std::string name = into->rel->relname;
  std::string schema = target_schema(into->rel);
  if (catalog_->lookup(schema, name)) {
    if (s->if_not_exists) return done("CREATE MATERIALIZED VIEW");
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  }
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  if (!param_types_.empty()) throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $1");
  sql::check_column_aliases(q, into->n_col_names, false);
  ObjectInfo obj;
  obj.name = name;
  obj.schema = schema;
  obj.kind = ObjectKind::kMaterializedView;
  obj.definition_sql = sql::deparse_statement(s->query);
  obj.search_path = current_search_path_setting();
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) {
    std::string cname = i < into->n_col_names ? str_of(into->col_names[i]) : q.column_names[i];
    obj.columns.push_back({cname, types[i], true, std::nullopt});
  }
  if (into->n_col_names > 0) {
    std::string cols;
    for (size_t i = 0; i < obj.columns.size(); ++i) cols += (i ? ", " : "") + std::string("\"") + obj.columns[i].name + "\"";
    obj.definition_sql = "SELECT * FROM (" + obj.definition_sql + ") AS v(" + cols + ")";
  }
  std::vector<uint64_t> deps;
  dataflow::RelExpr plan = sql::optimize(sql::lower(*binder.relation_of(q)));
  std::function<void(const dataflow::RelExpr&)> collect = [&](const dataflow::RelExpr& r) {
    if (r.kind == dataflow::RelKind::kGet) deps.push_back(r.collection_id);
    for (const auto& in : r.inputs) collect(in);
  };
  collect(plan);
  check_maintainable(plan);
  for (auto d : binder.views_read()) deps.push_back(d);
  ObjectInfo& mv = catalog_->add(std::move(obj));
  for (auto d : deps) catalog_->add_dependency(mv.id, d);
  if (st_.block) return done("CREATE MATERIALIZED VIEW");  // maintained from COMMIT on
  const uint64_t id = mv.id;
  try {
    if (cs_.persist) {
      Status ps = cs_.persist->create_mv_collection(id, "mv:" + mv.name);
      if (!ps) throw storage_write_error("could not store materialized view " + mv.name, ps);
    }
    // Hydrated without the locks; meanwhile other statements go on, and reads of it compute
    // its query.
    hydrate_in_background(lock, mv, {});
  } catch (...) {
    if (cs_.find_maintained(id)) cs_.drop_maintained(id);
    if (catalog_->find(id)) {
      if (cs_.persist) (void)cs_.persist->drop_collection(id);
      catalog_->remove(id);
    }
    throw;
  }
  ObjectInfo* now = catalog_->find(id);
  if (!now) {
    // Dropped by another session while it was hydrated.
    if (cs_.find_maintained(id)) cs_.drop_maintained(id);
    throw SqlError(sqlstate::kUndefinedTable, "materialized view \"" + name + "\" was dropped while it was created");
  }
  now->maintained = true;
  catalog_->updated(id);
  return done("CREATE MATERIALIZED VIEW");
}

std::unique_ptr<Execution> Executor::run_create_view(const PgQuery__ViewStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->view->relname;
  std::string schema = target_schema(s->view);
  const ObjectInfo* existing = catalog_->lookup(schema, name);
  if (existing && !s->replace) throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  if (existing && existing->kind != ObjectKind::kView) throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a view");
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  if (!param_types_.empty()) throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $1");
  sql::check_column_aliases(q, s->n_aliases, true);
  ObjectInfo obj;
  obj.name = name;
  obj.schema = schema;
  obj.kind = ObjectKind::kView;
  obj.definition_sql = sql::deparse_statement(s->query);
  obj.search_path = current_search_path_setting();
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) {
    std::string cname = i < s->n_aliases ? str_of(s->aliases[i]) : q.column_names[i];
    obj.columns.push_back({cname, types[i], true, std::nullopt});
  }
  if (s->n_aliases > 0) {
    // Column aliases: wrap the definition so the stored SQL yields the aliased names.
    std::string cols;
    for (size_t i = 0; i < obj.columns.size(); ++i) cols += (i ? ", " : "") + std::string("\"") + obj.columns[i].name + "\"";
    obj.definition_sql = "SELECT * FROM (" + obj.definition_sql + ") AS v(" + cols + ")";
  }
  // Dependencies: every object the view's definition names.
  std::vector<uint64_t> deps;
  std::function<void(const HRel&)> collect = [&](const HRel& r) {
    if (r.kind == HRelKind::kGet) deps.push_back(r.collection_id);
    for (const auto& in : r.inputs) collect(*in);
    auto scan = [&](const HExpr& e, auto& self) -> void {
      if (e.subquery) collect(*e.subquery);
      for (const auto& a : e.args) self(a, self);
    };
    for (const auto& e : r.exprs) scan(e, scan);
  };
  collect(*q.rel);
  for (auto d : binder.views_read())
    if (!existing || d != existing->id) deps.push_back(d);
  if (existing) {
    // CREATE OR REPLACE VIEW: PostgreSQL's rules (the old columns stay, by name and type, new
    // ones may follow). What depends on the view (views, indexes and their dataflows, sinks)
    // holds the old object: refused rather than left computing the old definition.
    if (obj.columns.size() < existing->columns.size())
      throw SqlError(sqlstate::kInvalidTableDefinition, "cannot drop columns from view");
    for (size_t i = 0; i < existing->columns.size(); ++i) {
      const auto& was = existing->columns[i];
      const auto& now = obj.columns[i];
      if (was.name != now.name)
        throw SqlError(sqlstate::kInvalidTableDefinition, "cannot change name of view column \"" + was.name + "\" to \"" + now.name + "\"")
            .with_hint("Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.");
      if (!(was.type == now.type))
        throw SqlError(sqlstate::kInvalidTableDefinition, "cannot change data type of view column \"" + was.name + "\" from " +
                                                              type_name(was.type) + " to " + type_name(now.type));
    }
    for (const auto* d : catalog_->dependents(existing->id))
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot replace view \"" + name + "\": \"" + d->name + "\" depends on it")
          .with_hint("Drop the objects that depend on it first.");
    catalog_->remove(existing->id);
  }
  const ObjectInfo& v = catalog_->add(std::move(obj));
  for (auto d : deps) catalog_->add_dependency(v.id, d);
  return done("CREATE VIEW");
}

std::unique_ptr<Execution> Executor::run_create_index(const PgQuery__IndexStmt* s) {
  DdlLock lock(cs_);
  if (s->relation->catalogname && *s->relation->catalogname && !catalog_->is_current_database(s->relation->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + std::string(s->relation->catalogname) + "\"");
  const ObjectInfo* t = catalog_->lookup(s->relation->schemaname ? s->relation->schemaname : "", s->relation->relname);
  if (!t) throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(s->relation->relname) + "\" does not exist");
  if (t->kind != ObjectKind::kTable && t->kind != ObjectKind::kView && t->kind != ObjectKind::kMaterializedView)
    throw SqlError(sqlstate::kWrongObjectType, "cannot create index on \"" + t->name + "\"");
  if (s->unique && (t->kind != ObjectKind::kTable || t->source_id != 0))
    throw SqlError(sqlstate::kFeatureNotSupported, "unique indexes are supported on tables only")
        .with_hint("A UNIQUE index is a constraint checked by writes; views and source tables take no writes.");
  if (s->unique && s->where_clause) throw SqlError(sqlstate::kFeatureNotSupported, "partial unique indexes are not supported");
  std::vector<uint32_t> key;
  std::string key_names;
  for (size_t i = 0; i < s->n_index_params; ++i) {
    const auto* el = s->index_params[i]->index_elem;
    if (!el->name || !*el->name) throw SqlError(sqlstate::kFeatureNotSupported, "indexes on expressions are not supported; index columns");
    size_t c = 0;
    for (; c < t->columns.size(); ++c)
      if (t->columns[c].name == el->name) break;
    if (c == t->columns.size()) throw SqlError(sqlstate::kUndefinedColumn, "column \"" + std::string(el->name) + "\" does not exist");
    key.push_back(static_cast<uint32_t>(c));
    key_names += (key_names.empty() ? "" : "_") + std::string(el->name);
  }
  std::string name = s->idxname && *s->idxname ? s->idxname : t->name + "_" + (key_names.empty() ? "primary" : key_names) + "_idx";
  if (catalog_->lookup(t->schema, name)) {
    if (s->if_not_exists) return done("CREATE INDEX");
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  }
  return create_index(lock, t->id, name, std::move(key), s->unique);
}

namespace {
void collect_inputs(const dataflow::RelExpr& e, std::vector<uint64_t>& out) {
  if (e.kind == dataflow::RelKind::kGet && std::find(out.begin(), out.end(), e.collection_id) == out.end())
    out.push_back(e.collection_id);
  for (const auto& in : e.inputs) collect_inputs(in, out);
}
}  // namespace

uint64_t Executor::serializable_read_of(const dataflow::RelExpr& plan) {
  if (!st_.serializable_reads) return 0;
  if (st_.block && !st_.pending.empty()) return 0;  // the block's own writes are read too
  std::vector<uint64_t> inputs;
  collect_inputs(plan, inputs);
  if (inputs.size() != 1 || !cs_.find_maintained(inputs[0])) return 0;
  return inputs[0];
}

void Executor::hydrate_in_background(DdlLock& lock, ObjectInfo& view, const std::vector<uint32_t>& key) {
  // Under the lock: the plan, and a snapshot of its inputs at now_ts (copying rows is cheap
  // next to computing the view); the compute thread logs every later change of the inputs.
  const uint64_t id = view.id;
  dataflow::RelExpr plan = plan_for_object(view);
  check_maintainable(plan);
  std::vector<uint64_t> inputs;
  collect_inputs(plan, inputs);
  std::map<uint64_t, RowDiffs> snap;
  auto sf = snapshot_fn();
  for (auto in : inputs) sf(in, [&](const Row& r, int64_t n) { snap[in].push_back({r, n}); });
  auto h = std::make_shared<Coordinator::State::Hydration>();
  h->id = id;
  h->name = view.name;
  h->inputs = inputs;
  h->start_ts = cs_.now_ts;
  {
    std::lock_guard lk(cs_.compute_mu);
    for (const auto& other : cs_.hydrations)
      if (other->id == id)
        throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "\"" + view.name + "\" is being hydrated")
            .with_hint("Wait until its CREATE INDEX or CREATE MATERIALIZED VIEW has finished.");
    h->start_seq = cs_.compute_enqueued_seq;
    cs_.hydrations.push_back(h);
  }
  lock.m.unlock();
  lock.w.unlock();
  auto relock = [&] {
    lock.w.lock();
    lock.m.lock();
  };
  try {
    // Without locks: hydrate, then replay the logged changes until few are left; the compute
    // thread replays the rest and adds the dataflow between two steps.
    RowDiffs initial;
    ctx_.logical_time_ms = h->start_ts;
    auto m = std::make_shared<Maintained>(
        id, h->name, std::move(plan), h->start_ts,
        [&](uint64_t cid, const std::function<void(const Row&, int64_t)>& emit) {
          for (const auto& [r, n] : snap[cid]) emit(r, n);
        },
        ctx_, initial, &st_.cancelled);  // a cancel request stops the hydration (57014)
    const bool mv = view.kind == ObjectKind::kMaterializedView;
    m->compute.is_mv = mv;
    auto store = [&](uint64_t ts, const RowDiffs& delta) {
      if (!mv || !cs_.persist || delta.empty()) return;
      Status ps = cs_.persist->write_mv(id, ts, delta, [&](const Row& r) { return m->count_of(r.ref()); });
      if (!ps) throw storage_write_error("could not store materialized view " + h->name, ps);
    };
    store(h->start_ts, initial);
    if (mv && cs_.persist) {
      // After a restart its collection holds what it stored before: rows gone since go.
      RowDiffs gone;
      if (auto c = cs_.persist->store().get(id))
        if (auto stored = c->snapshot())
          for (auto& rec : stored->records)
            if (rec.value && m->count_of(rec.key.ref()) == 0) gone.push_back({rec.key, -1});
      store(h->start_ts, gone);
    }
    snap.clear();
    initial.clear();
    if (!key.empty()) m->add_index(key);
    m->set_cancel_flag(&st_.cancelled);
    struct Clear {
      Maintained& m;
      ~Clear() { m.set_cancel_flag(nullptr); }  // the drivers step it from here on
    } clear{*m};
    while (true) {
      std::deque<Coordinator::State::ComputeStep> batch;
      {
        std::lock_guard lk(cs_.compute_mu);
        batch.swap(h->log);
      }
      for (auto& e : batch) {
        RowDiffs delta;
        ctx_.logical_time_ms = e.ts;
        m->step(e.ts, e.changes, ctx_, delta);
        store(e.ts, delta);
        arena_.reset();
      }
      if (batch.size() <= 2) break;
    }
    m->set_cancel_flag(nullptr);
    std::unique_lock lk(cs_.compute_mu);
    h->m = m;
    h->ready = true;
    cs_.compute_cv.notify_all();
    cs_.compute_progress_cv.wait(lk, [&] { return h->done || cs_.compute_stopping || cs_.shutting_down; });
    if (!h->done) throw SqlError(sqlstate::kAdminShutdown, "the server is shutting down");
  } catch (...) {
    {
      std::lock_guard lk(cs_.compute_mu);
      std::erase(cs_.hydrations, h);
    }
    relock();
    throw;
  }
  relock();
}

std::unique_ptr<Execution> Executor::create_index(DdlLock& lock, uint64_t on_id, const std::string& name, std::vector<uint32_t> key,
                                                  bool unique) {
  // Indexes on tables change no result and are recorded only; an index on a view or a
  // materialized view arranges its maintained results by the key. A view not yet maintained
  // is hydrated without holding the locks (other statements go on meanwhile).
  ObjectInfo* on = catalog_->find(on_id);
  FRESHET_ASSERT(on != nullptr);
  if (st_.block) {
    // In a transaction block: recorded in the block's catalog; the view is maintained from
    // COMMIT on (until then the block's queries compute it).
  } else if (on->kind == ObjectKind::kView && !cs_.find_maintained(on_id) && st_.txn != TransactionStatus::kInBlock) {
    hydrate_in_background(lock, *on, key);
    on = catalog_->find(on_id);
    if (!on || catalog_->lookup(on->schema, name)) {
      // Dropped, or the index's name taken, while it was being built.
      cs_.drop_maintained(on_id);
      if (!on) throw SqlError(sqlstate::kUndefinedTable, "the view was dropped while its index was being created");
      throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
    }
    if (!on->maintained) {
      on->maintained = true;
      catalog_->updated(on_id);
    }
  } else if (on->kind == ObjectKind::kView || on->kind == ObjectKind::kMaterializedView) {
    if (!cs_.find_maintained(on->id)) check_maintainable(plan_for_object(*on));
    Maintained& m = maintain_view(*on);
    if (m.find_index(key) < 0) m.add_index(key);
  }
  // A unique index on a table: the rows (all of them: write_mu is held, so none is being
  // staged) must not repeat a non-NULL key; writes check it from then on.
  KeyCounts key_counts;
  if (unique && catalog_->table_data(on_id) != nullptr) {  // null: a table created in this block
    key_counts = count_keys(*catalog_->table_data(on_id), key);
    check_unique_index(*on, name, key, key_counts);
  }
  ObjectInfo obj;
  obj.schema = on->schema;  // an index lives in its relation's schema
  obj.name = name;
  obj.kind = ObjectKind::kIndex;
  obj.definition_sql = on->name;
  obj.index_on = on->id;
  obj.index_key = std::move(key);
  obj.index_unique = unique;
  for (auto c : obj.index_key) obj.columns.push_back(on->columns[c]);
  const ObjectInfo& idx = catalog_->add(std::move(obj));
  catalog_->add_dependency(idx.id, on_id);
  // In a transaction block the constraint starts at COMMIT (commit_block), with the index.
  if (unique && !st_.block) add_unique_index(*on, *catalog_->table_data(on_id), idx, std::move(key_counts));
  return done("CREATE INDEX");
}

dataflow::RelExpr Executor::plan_for_object(const ObjectInfo& obj) {
  std::shared_ptr<sql::ParseTree> tree;
  std::vector<Type> no_params;
  sql::Binder binder(*catalog_, no_params);
  dataflow::RelExpr plan;
  catalog_->in_search_path(obj.search_path, [&] {  // as when it was created
    sql::BoundQuery q = bind_query_text(binder, obj.definition_sql, tree);
    plan = sql::optimize(sql::lower(*binder.relation_of(std::move(q))));
  });
  return plan;
}

Maintained& Executor::maintain_view(ObjectInfo& view) {
  if (Maintained* m = cs_.read_maintained(view.id)) return *m;  // idle: its indexes may change
  {
    std::lock_guard lk(cs_.compute_mu);
    for (const auto& h : cs_.hydrations)
      if (h->id == view.id)
        throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "\"" + view.name + "\" is being hydrated")
            .with_hint("Wait until its CREATE INDEX or CREATE MATERIALIZED VIEW has finished.");
  }
  dataflow::RelExpr plan = plan_for_object(view);
  RowDiffs initial;
  ctx_.logical_time_ms = cs_.now_ts;
  auto m = std::make_shared<Maintained>(view.id, view.name, std::move(plan), cs_.now_ts, snapshot_fn(), ctx_, initial);
  m->compute.is_mv = view.kind == ObjectKind::kMaterializedView;
  Maintained& ref = cs_.add_maintained(std::move(m));
  if (view.kind == ObjectKind::kMaterializedView && cs_.persist) {
    Status ps = cs_.persist->create_mv_collection(view.id, "mv:" + view.name);
    if (ps) ps = cs_.persist->write_mv(view.id, cs_.now_ts, initial, [&](const Row& r) { return ref.count_of(r.ref()); });
    if (!ps) throw storage_write_error("could not store materialized view " + view.name, ps);
  }
  if (!view.maintained) {
    view.maintained = true;
    catalog_->updated(view.id);
  }
  return ref;
}

std::string Executor::target_schema(const PgQuery__RangeVar* rv) {
  std::string name = rv->relname ? rv->relname : "";
  if (rv->catalogname && *rv->catalogname && !catalog_->is_current_database(rv->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported,
                   "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "." + (rv->schemaname ? rv->schemaname : "") + "." + name + "\"");
  if (rv->schemaname && *rv->schemaname) {
    std::string schema = rv->schemaname;
    if (schema == "pg_catalog" || schema == "information_schema" || schema == "mz_catalog" || schema == "mz_internal")
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied to create \"" + schema + "." + name + "\"")
          .with_detail("System catalog modifications are currently disallowed.");
    if (!catalog_->schema_exists(schema)) throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + schema + "\" does not exist");
    return schema;
  }
  std::string schema = catalog_->creation_schema(st_.options.user);
  if (schema.empty()) throw SqlError(sqlstate::kInvalidSchemaName, "no schema has been selected to create in");
  return schema;
}

std::unique_ptr<Execution> Executor::run_create_schema(const PgQuery__CreateSchemaStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->schemaname ? s->schemaname : "";
  if (name.empty()) throw SqlError(sqlstate::kFeatureNotSupported, "CREATE SCHEMA without a name (AUTHORIZATION only) is not supported");
  if (s->n_schema_elts > 0) throw SqlError(sqlstate::kFeatureNotSupported, "CREATE SCHEMA with schema elements is not supported");
  check_new_schema_name(name);
  if (catalog_->schema_exists(name)) {
    if (s->if_not_exists) return done("CREATE SCHEMA");
    throw SqlError(sqlstate::kDuplicateSchema, "schema \"" + name + "\" already exists");
  }
  ObjectInfo obj;
  obj.schema.clear();
  obj.name = name;
  obj.kind = ObjectKind::kSchema;
  catalog_->add(std::move(obj));
  return done("CREATE SCHEMA");
}

std::unique_ptr<Execution> Executor::run_create_database(const PgQuery__CreatedbStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->dbname ? s->dbname : "";
  check_new_database(name, s->n_options);
  if (name == Catalog::kDefaultDatabase || catalog_->find_database(name))
    throw SqlError(sqlstate::kDuplicateDatabase, "database \"" + name + "\" already exists");
  ObjectInfo obj;
  obj.schema.clear();
  obj.name = name;
  obj.kind = ObjectKind::kDatabase;
  catalog_->add(std::move(obj));
  return done("CREATE DATABASE");
}

std::unique_ptr<Execution> Executor::run_drop_database(const PgQuery__DropdbStmt* s) {
  DdlLock lock(cs_);
  std::string name = s->dbname ? s->dbname : "";
  if (name == st_.options.database)
    throw SqlError(sqlstate::kObjectInUse, "cannot drop the currently open database");
  if (name == Catalog::kDefaultDatabase)
    throw SqlError(sqlstate::kFeatureNotSupported, "cannot drop the built-in database \"" + name + "\"");
  const ObjectInfo* o = catalog_->find_database(name);
  if (!o) {
    if (s->missing_ok) return done("DROP DATABASE");
    throw SqlError(sqlstate::kInvalidCatalogName, "database \"" + name + "\" does not exist");
  }
  uint64_t id = o->id;
  if (!st_.block) cs_.catalog.record_removals({id});
  catalog_->remove(id);
  return done("DROP DATABASE");
}

// ALTER SCHEMA s RENAME TO t (DdlLock held by run_rename). Views, materialized views and sinks
// keep SQL text that may name the schema (qualified names, their recorded search_path): the
// rename is refused while any could, rather than leaving them naming what no longer exists.
std::unique_ptr<Execution> Executor::rename_schema(const PgQuery__RenameStmt* s) {
  std::string name = s->subname ? s->subname : "";
  std::string new_name = s->newname ? s->newname : "";
  if (Catalog::builtin_schema(name)) throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename the built-in schema \"" + name + "\"");
  const ObjectInfo* sch = catalog_->find_schema(name);
  if (!sch) {
    if (s->missing_ok) return done("ALTER SCHEMA");
    throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + name + "\" does not exist");
  }
  check_new_schema_name(new_name);
  if (catalog_->schema_exists(new_name)) throw SqlError(sqlstate::kDuplicateSchema, "schema \"" + new_name + "\" already exists");
  for (const auto& [id, o] : catalog_->objects()) {
    bool text = o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView || o->kind == ObjectKind::kSink;
    if (!text) continue;
    bool names_it = o->schema == name;
    for (const auto& p : Catalog::parse_search_path(o->search_path)) names_it |= p == name;
    for (uint64_t d : catalog_->dependencies_of(o->id))
      if (const ObjectInfo* x = catalog_->find(d); x && x->schema == name) names_it = true;
    if (names_it)
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename schema \"" + name + "\": \"" + o->name + "\" may name it")
          .with_hint("Drop the views, materialized views and sinks that use the schema first; Freshet keeps their SQL text.");
  }
  catalog_->rename_schema(sch->id, new_name);
  return done("ALTER SCHEMA");
}

std::unique_ptr<Execution> Executor::run_rename(const PgQuery__RenameStmt* s) {
  DdlLock lock(cs_);
  const char* tag;
  switch (s->rename_type) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE: tag = "ALTER TABLE"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW: tag = "ALTER VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW: tag = "ALTER MATERIALIZED VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX: tag = "ALTER INDEX"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_COLUMN: throw SqlError(sqlstate::kFeatureNotSupported, "renaming a column is not supported");
    case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA: return rename_schema(s);
    default: throw SqlError(sqlstate::kFeatureNotSupported, "ALTER ... RENAME of this object type is not supported");
  }
  const PgQuery__RangeVar* rv = s->relation;
  if (rv == nullptr || s->newname == nullptr) throw SqlError(sqlstate::kFeatureNotSupported, "ALTER ... RENAME of this object type is not supported");
  if (rv->catalogname && *rv->catalogname && !catalog_->is_current_database(rv->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "\"");
  std::string name = rv->relname;
  const ObjectInfo* o = catalog_->lookup(rv->schemaname ? rv->schemaname : "", name);
  bool relation = o && (o->kind == ObjectKind::kTable || o->kind == ObjectKind::kView ||
                        o->kind == ObjectKind::kMaterializedView || o->kind == ObjectKind::kIndex);
  if (!relation) {
    if (o && o->kind == ObjectKind::kSystemView) throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied: \"" + name + "\" is a system catalog");
    if (s->missing_ok) return done(tag);
    throw SqlError(sqlstate::kUndefinedTable, "relation \"" + name + "\" does not exist");
  }
  // As PostgreSQL: ALTER TABLE and ALTER INDEX rename any relation, ALTER VIEW and ALTER
  // MATERIALIZED VIEW only their own kind.
  if (s->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_VIEW && o->kind != ObjectKind::kView)
    throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a view").with_hint("Use ALTER TABLE instead.");
  if (s->rename_type == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW && o->kind != ObjectKind::kMaterializedView)
    throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a materialized view").with_hint("Use ALTER TABLE instead.");
  if (o->source_id != 0) throw SqlError(sqlstate::kFeatureNotSupported, "renaming a table of a source is not supported");
  std::string new_name = s->newname;
  if (const ObjectInfo* taken = catalog_->lookup(o->schema, new_name); taken && taken->id != o->id)
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + new_name + "\" already exists");
  // Views, materialized views and sinks keep the SQL text that names it: refused rather than
  // left naming what no longer exists (Materialize rewrites them; not done yet).
  for (const auto* d : catalog_->dependents(o->id))
    if (d->kind != ObjectKind::kIndex)
      throw SqlError(sqlstate::kFeatureNotSupported, "cannot rename \"" + name + "\": \"" + d->name + "\" depends on it")
          .with_hint("Drop the objects that depend on it first; Freshet keeps their SQL text, which names it.");
  uint64_t id = o->id;
  bool unique_index = o->kind == ObjectKind::kIndex && o->index_unique;
  uint64_t index_on = o->index_on;
  catalog_->rename(id, new_name);
  // A unique index's constraint is named after it (23505 messages); outside a block the live
  // constraint follows now, in a block it is rebuilt from the index object at start-up.
  if (unique_index && !st_.block)
    if (TableData* data = catalog_->table_data(index_on))
      for (auto& u : data->unique_indexes)
        if (u.index_id == id) u.name = new_name;
  return done(tag);
}

std::unique_ptr<Execution> Executor::run_drop(const PgQuery__DropStmt* s) {
  DdlLock lock(cs_);
  ObjectKind want;
  const char* what;
  const char* tag;
  switch (s->remove_type) {
    case PG_QUERY__OBJECT_TYPE__OBJECT_TABLE: want = ObjectKind::kTable; what = "table"; tag = "DROP TABLE"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_VIEW: want = ObjectKind::kView; what = "view"; tag = "DROP VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_INDEX: want = ObjectKind::kIndex; what = "index"; tag = "DROP INDEX"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW: want = ObjectKind::kMaterializedView; what = "materialized view"; tag = "DROP MATERIALIZED VIEW"; break;
    case PG_QUERY__OBJECT_TYPE__OBJECT_SCHEMA: want = ObjectKind::kSchema; what = "schema"; tag = "DROP SCHEMA"; break;
    default: throw SqlError(sqlstate::kFeatureNotSupported, "DROP of this object type is not supported");
  }
  bool cascade = s->behavior == PG_QUERY__DROP_BEHAVIOR__DROP_CASCADE;
  for (size_t i = 0; i < s->n_objects; ++i) {
    std::string name, schema;
    const ObjectInfo* o = nullptr;
    if (want == ObjectKind::kSchema) {  // DROP SCHEMA names a schema (a String node)
      name = str_of(s->objects[i]);
      if (Catalog::builtin_schema(name))
        throw SqlError(sqlstate::kFeatureNotSupported, "cannot drop the built-in schema \"" + name + "\"");
      o = catalog_->find_schema(name);
      if (!o) {
        if (s->missing_ok) continue;
        throw SqlError(sqlstate::kInvalidSchemaName, "schema \"" + name + "\" does not exist");
      }
    } else {
      const auto* l = s->objects[i]->list;
      name = str_of(l->items[l->n_items - 1]);
      schema = l->n_items > 1 ? str_of(l->items[l->n_items - 2]) : "";
      if (l->n_items > 2 && !catalog_->is_current_database(str_of(l->items[l->n_items - 3])))
        throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + str_of(l->items[l->n_items - 3]) + "." + schema + "." + name + "\"");
      o = catalog_->lookup(schema, name);
    }
    if (!o || o->kind == ObjectKind::kSystemView) {
      if (s->missing_ok) continue;
      throw SqlError(sqlstate::kUndefinedTable, std::string(what) + " \"" + name + "\" does not exist");
    }
    if (o->kind != want) throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" is not a " + what);
    if (o->source_id != 0)
      throw SqlError(sqlstate::kWrongObjectType, "\"" + name + "\" belongs to a source").with_hint("Use DROP SOURCE.");
    std::vector<uint64_t> order;
    std::function<void(const ObjectInfo&)> visit = [&](const ObjectInfo& x) {
      for (const auto* d : catalog_->dependents(x.id)) {
        if (!cascade && d->kind != ObjectKind::kIndex)
          throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop " + std::string(what) + " " + name + " because other objects depend on it")
              .with_detail(std::string(d->kind == ObjectKind::kView ? "view " : d->kind == ObjectKind::kSink ? "sink " : "object ") + d->name +
                           " depends on " + what + " " + name)
              .with_hint("Use DROP ... CASCADE to drop the dependent objects too.");
        visit(*d);
      }
      if (std::find(order.begin(), order.end(), x.id) == order.end()) order.push_back(x.id);
    };
    visit(*o);
    // Durable first: the objects leave the stored catalog (one batch) before anything in memory
    // is torn down, so a write that fails (a full disk: 53100) leaves every one of them in place.
    // In a transaction block nothing is stored until COMMIT (transaction.hpp).
    if (!st_.block) cs_.catalog.record_removals(order);
    for (auto id : order) {
      st_.pending.erase(id);
      ObjectInfo* x = catalog_->find(id);
      if (st_.block) {  // in a transaction block: only from the block's catalog (COMMIT does the rest)
        if (x && x->kind == ObjectKind::kSink)
          throw SqlError(sqlstate::kActiveSqlTransaction, "DROP ... CASCADE of a sink cannot run inside a transaction block");
        catalog_->remove(id);
        continue;
      }
      drop_object(id, true);
    }
  }
  return done(tag);
}

std::vector<storage::Change> Executor::table_delete_records(uint64_t id) {
  std::vector<storage::Change> dels;
  const ObjectInfo* x = catalog_->find(id);
  if (!cs_.persist || !x || x->kind != ObjectKind::kTable) return dels;
  RowDiffs all;
  for (const auto& [r, n] : catalog_->table_data(id)->rows) all.push_back({r, -n});
  Persistence::table_records(*x, all, [](const Row&) { return std::optional<Row>(); }, [](const Row&) { return int64_t{0}; }, dels);
  return dels;
}

void Executor::drop_object(uint64_t id, bool write_table_deletes) {
  ObjectInfo* x = catalog_->find(id);
  if (x && x->kind == ObjectKind::kIndex && x->index_unique) {
    const ObjectInfo* on = catalog_->find(x->index_on);
    if (TableData* data = catalog_->table_data(x->index_on); on && data) drop_unique_index(*on, *data, id);
  }
  if (x && x->kind == ObjectKind::kIndex) {
    Maintained* m = nullptr;
    try {
      m = cs_.read_maintained(x->index_on);  // idle while its indexes change
    } catch (const SqlError&) {
      m = cs_.find_maintained(x->index_on);  // stopped with an error: not stepped any more
    }
    if (m) {
      m->drop_index(x->index_key);
      ObjectInfo* on = catalog_->find(x->index_on);
      bool read_by_others = false;
      {
        std::lock_guard lk(cs_.compute_mu);  // a driver may add a hydrated dataflow meanwhile
        for (const auto& other : cs_.maintained)
          for (auto in : other->inputs()) read_by_others |= in == x->index_on;
      }
      if (on && on->kind == ObjectKind::kView && m->num_indexes() == 0 && !read_by_others) {
        cs_.drop_maintained(x->index_on);
        on->maintained = false;
      }
    }
  }
  if (x && x->kind == ObjectKind::kSink) cs_.drop_sink(id);  // its thread ends on its own
  if (cs_.find_maintained(id) && !(x && x->kind == ObjectKind::kSink)) cs_.drop_maintained(id);
  if (write_table_deletes && cs_.persist && x && x->kind == ObjectKind::kTable) {
    // The table is gone from the stored catalog already: rows left by a failed delete are
    // never loaded again (load_tables skips unknown tables; ids are not reused).
    if (Status ps = cs_.persist->write_tables(cs_.next_write_ts(), table_delete_records(id)); !ps)
      std::fprintf(stderr, "freshet: dropped table %s: its rows stay on disk, unused: %s\n", x->name.c_str(), ps.message().c_str());
  }
  if (cs_.persist && x && x->kind == ObjectKind::kMaterializedView)
    if (Status ps = cs_.persist->drop_collection(id); !ps)
      std::fprintf(stderr, "freshet: dropped materialized view %s: its collection stays on disk, unused: %s\n", x->name.c_str(),
                   ps.message().c_str());
  catalog_->remove(id);
}

std::unique_ptr<Execution> Executor::run_transaction(const PgQuery__TransactionStmt* s) {
  switch (s->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_START:
      if (st_.txn == TransactionStatus::kIdle) st_.txn = TransactionStatus::kInBlock;
      st_.implicit = false;  // BEGIN in an implicit block makes it explicit, with what ran before
      return done(s->kind == PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_BEGIN ? "BEGIN" : "START TRANSACTION");
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_COMMIT: {
      if (st_.txn == TransactionStatus::kFailed) {
        rollback_block();
        return done("ROLLBACK");
      }
      commit_open_block();
      return done("COMMIT");
    }
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK:
      rollback_block();
      return done("ROLLBACK");
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE:
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_ROLLBACK_TO:
      return run_savepoint(s);
    default:
      throw SqlError(sqlstate::kFeatureNotSupported, "two-phase commit is not supported");
  }
}

void Executor::rollback_block() {
  st_.cursors.end_transaction(false);
  st_.pending.clear();
  st_.block.reset();
  st_.savepoints.clear();
  // In an implicit block (a multi-statement query), the next statements start another.
  st_.txn = st_.implicit ? TransactionStatus::kInBlock : TransactionStatus::kIdle;
}

void Executor::commit_open_block() {
  st_.cursors.end_transaction(true);
  st_.savepoints.clear();
  if (st_.txn == TransactionStatus::kInBlock && st_.block) {
    st_.txn = TransactionStatus::kIdle;
    commit_block();
  } else if (st_.txn == TransactionStatus::kInBlock) {
    st_.txn = TransactionStatus::kIdle;
    auto pending = std::move(st_.pending);
    st_.pending.clear();
    begin_write();
    // Check every table's constraints and compute the durable records first: nothing is
    // applied unless everything can be (an error leaves the staged changes unapplied).
    for (auto& [id, changes] : pending) {
      const ObjectInfo* t = catalog_->find(id);
      if (!t || changes.empty()) continue;  // dropped meanwhile
      write(*t, changes);
    }
    commit_staged();
  }
  if (st_.implicit) st_.txn = TransactionStatus::kInBlock;  // the rest of the query: another implicit block
}

std::unique_ptr<Execution> Executor::run_savepoint(const PgQuery__TransactionStmt* s) {
  const std::string name = s->savepoint_name ? s->savepoint_name : "";
  const bool failed = st_.txn == TransactionStatus::kFailed;
  const bool no_block = st_.txn == TransactionStatus::kIdle || st_.implicit;
  auto find = [&] {
    for (size_t i = st_.savepoints.size(); i-- > 0;)
      if (st_.savepoints[i].name == name) return i;
    throw SqlError(kInvalidSavepointSpecification, "savepoint \"" + name + "\" does not exist");
  };
  auto aborted = [] {
    return SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
  };
  switch (s->kind) {
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_SAVEPOINT: {
      if (no_block)
        throw SqlError(sqlstate::kNoActiveSqlTransaction, "SAVEPOINT can only be used in transaction blocks");
      if (failed) throw aborted();
      Savepoint sp;
      sp.name = name;
      sp.pending = st_.pending;
      if (st_.block) sp.block = st_.block->copy();
      st_.savepoints.push_back(std::move(sp));
      return done("SAVEPOINT");
    }
    case PG_QUERY__TRANSACTION_STMT_KIND__TRANS_STMT_RELEASE: {
      if (no_block)
        throw SqlError(sqlstate::kNoActiveSqlTransaction, "RELEASE SAVEPOINT can only be used in transaction blocks");
      if (failed) throw aborted();
      size_t i = find();
      st_.savepoints.erase(st_.savepoints.begin() + static_cast<ptrdiff_t>(i), st_.savepoints.end());
      return done("RELEASE");
    }
    default: {  // ROLLBACK TO: undoes the writes and DDL after the savepoint, keeps the savepoint
      if (no_block)
        throw SqlError(sqlstate::kNoActiveSqlTransaction, "ROLLBACK TO SAVEPOINT can only be used in transaction blocks");
      size_t i = find();
      st_.savepoints.erase(st_.savepoints.begin() + static_cast<ptrdiff_t>(i) + 1, st_.savepoints.end());
      const Savepoint& sp = st_.savepoints[i];
      st_.pending = sp.pending;
      st_.block = sp.block ? sp.block->copy() : nullptr;
      st_.txn = TransactionStatus::kInBlock;
      return done("ROLLBACK");
    }
  }
}

void Executor::begin_block_ddl() {
  if (st_.txn != TransactionStatus::kInBlock || st_.block) return;
  std::shared_lock lock(cs_.mu);
  st_.block = BlockCatalog::make(cs_.catalog);
  catalog_ = st_.block->catalog.get();
  ctx_.catalog = sql::catalog_access(*catalog_);
}

void Executor::commit_block() {
  // The design (one durable catalog batch as the commit point, a redo record for the table
  // writes) is in transaction.hpp and src/server/README.md, "Transaction blocks".
  std::unique_ptr<BlockCatalog> block = std::move(st_.block);
  ChangeSet pending = std::move(st_.pending);
  st_.pending.clear();
  DdlLock lock(cs_);
  // The writes staged before this COMMIT are published first (no new one can be staged: this
  // holds write_mu), so that the block's catalog changes and rows become visible together,
  // below, in one critical section after them.
  if (!cs_.published_cv.wait_for(lock.m, std::chrono::seconds(30), [&] { return cs_.unpublished.empty(); }))
    throw SqlError(sqlstate::kIoError, "could not commit: earlier writes are not durable yet");
  if (cs_.last_block_unapplied)
    throw SqlError(sqlstate::kIoError, "could not commit: the rows of an earlier transaction could not be stored")
        .with_hint("Restart the server: it writes them at start.");
  BlockDiff diff = block_diff(*block, cs_.catalog);
  // Role changes of the block: the shared roles must not have changed since it began.
  if (block->catalog->roles_changed() && block->catalog->roles_version() != cs_.catalog.roles_version())
    throw SqlError(sqlstate::kSerializationFailure, "could not serialize access due to concurrent update")
        .with_detail("Roles or privileges were changed by another transaction.");
  // The block's table writes, checked against what the block sees (its own catalog: the tables
  // it created are empty, the others are the shared ones) and turned into records. Nothing is
  // applied yet.
  catalog_ = block->catalog.get();
  ctx_.catalog = sql::catalog_access(*catalog_);
  writer_view_ = true;
  staged_.clear();
  commit_records_.clear();
  commit_batch_ = &staged_;
  for (auto& [id, changes] : pending) {
    const ObjectInfo* t = catalog_->find(id);
    if (!t || changes.empty()) continue;
    write(*t, changes);
  }
  commit_batch_ = nullptr;
  // Unique indexes the block created: the table's rows with the block's writes must not
  // repeat a key (the block's own writes were not checked against them).
  for (uint64_t id : diff.added) {
    const ObjectInfo* idx = block->catalog->find(id);
    if (!idx || idx->kind != ObjectKind::kIndex || !idx->index_unique) continue;
    const ObjectInfo* t = block->catalog->find(idx->index_on);
    TableData* data = cs_.catalog.table_data(idx->index_on);  // null: created in the block
    KeyCounts counts = data ? count_keys(*data, idx->index_key) : KeyCounts{};
    if (auto it = staged_.find(idx->index_on); it != staged_.end()) count_keys(counts, it->second, idx->index_key);
    if (t) check_unique_index(*t, idx->name, idx->index_key, counts);
  }
  catalog_ = &cs_.catalog;
  ctx_.catalog = sql::catalog_access(*catalog_);
  for (uint64_t id : diff.dropped) {
    auto dels = table_delete_records(id);
    commit_records_.insert(commit_records_.end(), std::make_move_iterator(dels.begin()), std::make_move_iterator(dels.end()));
  }
  const uint64_t ts = cs_.next_write_ts();
  Status stored = Status::ok();
  if (cs_.persist) {
    size_t bytes = 0;
    for (const auto& c : commit_records_) bytes += 9 + c.key.size_bytes() + (c.value ? c.value->size_bytes() : 0);
    if (bytes + 4096 > storage::kMaxRecordBytes)
      throw SqlError(sqlstate::kProgramLimitExceeded, "a transaction block with DDL may write at most 64 MB of rows")
          .with_hint("Commit the DDL first, then write the rows in their own transactions.");
    const uint64_t seq = cs_.last_block_seq + 1;
    auto records = block_catalog_records(diff, *block, *cs_.persist);
    if (block->catalog->roles_changed()) records.push_back(Persistence::roles_record(block->catalog->roles().to_json()));
    records.push_back(Persistence::block_redo_record(seq, commit_records_));
    // The commit point: the catalog changes and the redo record of the rows, one durable batch.
    if (Status ps = cs_.persist->write_catalog(ts, std::move(records)); !ps)
      throw SqlError(sqlstate::kIoError, "could not commit the transaction: " + ps.message());
    cs_.last_block_seq = seq;
    fault_point("after_catalog_before_tables");
    commit_records_.push_back(Persistence::block_applied_record(seq));
    stored = cs_.persist->write_tables(ts, std::move(commit_records_));
    commit_records_.clear();
    cs_.last_block_unapplied = !stored;
    if (stored) fault_point("after_durable_before_ack");
  }
  // In memory, under both locks: the catalog (its records are written: no change hook), then
  // the rows at ts, then the dataflows of new materialized views and indexes.
  {
    auto hook = std::move(cs_.catalog.on_change);
    cs_.catalog.on_change = nullptr;
    struct RestoreHook {
      Catalog& c;
      decltype(Catalog::on_change)& h;
      ~RestoreHook() { c.on_change = std::move(h); }
    } restore_hook{cs_.catalog, hook};
    for (uint64_t id : diff.dropped) drop_object(id, false);
    for (uint64_t id : diff.added) cs_.catalog.restore(*block->catalog->find(id), block->catalog->dependencies_of(id));
    for (uint64_t id : diff.added) {
      const ObjectInfo* idx = cs_.catalog.find(id);
      if (!idx || idx->kind != ObjectKind::kIndex || !idx->index_unique) continue;
      const ObjectInfo* t = cs_.catalog.find(idx->index_on);
      if (TableData* data = cs_.catalog.table_data(idx->index_on); t && data)
        add_unique_index(*t, *data, *idx, count_keys(*data, idx->index_key));
    }
    for (uint64_t id : diff.changed) cs_.catalog.replace_committed(id, *block->catalog->find(id));  // maybe renamed
    if (block->catalog->roles_changed()) cs_.catalog.restore_roles(block->catalog->roles());
  }
  for (auto& [id, d] : staged_) {
    dataflow::consolidate(d);
    const ObjectInfo* t = cs_.catalog.find(id);
    TableData* data = cs_.catalog.table_data(id);
    if (t && data) apply_table_diffs(*t, *data, d);
  }
  cs_.advance(ts, std::move(staged_));
  staged_.clear();
  for (uint64_t id : diff.added) {
    ObjectInfo* o = cs_.catalog.find(id);
    if (!o) continue;
    if (o->kind == ObjectKind::kMaterializedView) {
      maintain_view(*o);
    } else if (o->kind == ObjectKind::kIndex) {
      ObjectInfo* on = cs_.catalog.find(o->index_on);
      if (on && (on->kind == ObjectKind::kView || on->kind == ObjectKind::kMaterializedView)) {
        Maintained& m = maintain_view(*on);
        if (m.find_index(o->index_key) < 0) m.add_index(o->index_key);
      }
    }
  }
  writer_view_ = false;
  if (!stored)
    throw SqlError(sqlstate::kIoError, "the transaction is committed but its rows could not be stored yet: " + stored.message())
        .with_hint("They are written when the server starts again.");
}

std::unique_ptr<Execution> Executor::run_set(const PgQuery__VariableSetStmt* s) {
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL) {
    for (const auto& d : kDefaultSettings) st_.settings[d.name] = setting_default(d);
    st_.serializable_reads = false;
    // RESET ALL resets the role, not the session authorization (PostgreSQL's GUC_NO_RESET_ALL).
    st_.set_role.clear();
    if (st_.client) {
      RoleSession rs = role_session();
      report_role_settings(rs);
    }
    return done("RESET");
  }
  std::string name = sql::lower_ident(s->name ? s->name : "");
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI) {
    // SET TRANSACTION ISOLATION LEVEL ... / SET SESSION CHARACTERISTICS
    return done("SET");
  }
  std::string value;
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT || s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET) {
    value = "";
    for (const auto& d : kDefaultSettings)
      if (name == d.name) value = setting_default(d);
  } else {
    for (size_t i = 0; i < s->n_args; ++i) {
      const auto* a = s->args[i];
      std::string part;
      if (a->node_case == PG_QUERY__NODE__NODE_A_CONST) {
        const auto* c = a->a_const;
        if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) part = c->sval->sval;
        else if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) part = std::to_string(c->ival->ival);
        else if (c->val_case == PG_QUERY__A__CONST__VAL_FVAL) part = c->fval->fval;
        else if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) part = c->boolval->boolval ? "on" : "off";
      } else if (a->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && a->type_cast->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                 a->type_cast->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
        part = a->type_cast->arg->a_const->sval->sval;
      }
      value += (i ? ", " : "") + part;
    }
  }
  if (name == "transaction_isolation" || name == "default_transaction_isolation") {
    std::string v = sql::lower_ident(value);
    if (v != "strict serializable" && v != "serializable" && v != "read committed" && v != "repeatable read")
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"" + name + "\": \"" + value + "\"");
    if (name == "transaction_isolation") st_.serializable_reads = v == "serializable" && s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE;
  }
  if (name == "timezone" || name == "time zone") {
    std::string v = sql::lower_ident(value);
    // Any spelling of UTC, including zone names that are UTC at every instant (Etc/UTC,
    // Zulu, GMT0: what a client such as pgJDBC sends from its host's zone); other zones are
    // refused (src/common/README.md "Time zones" says why).
    const TimeZone* tz = nullptr;
    if (v != "utc" && v != "gmt" && v != "etc/utc" && v != "z" && v != "+00" && v != "0" && v != "00:00" &&
        ((tz = find_time_zone(value)) == nullptr || !tz->always_utc()))
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"TimeZone\": \"" + value + "\"")
          .with_detail(tz != nullptr ? "Freshet supports only the time zone UTC for a session; use AT TIME ZONE to convert."
                                     : "Freshet stores and shows times in UTC.");
    value = "UTC";
    name = "timezone";
  }
  if (name == "statement_timeout") {
    auto ms = parse_duration_ms(value);
    if (!ms) throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"statement_timeout\": \"" + value + "\"");
    value = std::to_string(*ms);
  }
  if (name == "query_memory_budget_mb") {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || mb == 0 || mb > (1ull << 30))
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"query_memory_budget_mb\": \"" + value + "\"")
          .with_hint("A positive number of megabytes.");
  }
  if (name == "client_encoding") {
    std::string v = sql::lower_ident(value);
    if (v != "utf8" && v != "utf-8" && v != "unicode")
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"client_encoding\": \"" + value + "\"");
    value = "UTF8";
  }
  st_.settings[name] = value;
  for (const auto& d : kDefaultSettings)
    if (d.reported && name == d.name) st_.changed.push_back({display_name(name), value});
  return done(s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET ? "RESET" : "SET");
}

std::unique_ptr<Execution> Executor::run_show(const PgQuery__VariableShowStmt* s) {
  std::string name = sql::lower_ident(s->name);
  if (name == "all") {
    std::vector<Row> rows;
    for (const auto& [k, v] : st_.settings) {
      std::vector<Datum> ds = {Datum::from_string(k), Datum::from_string(v), Datum::from_string("")};
      rows.push_back(Row::pack(ds));
    }
    return std::make_unique<MaterializedExecution>(
        std::vector<Column>{{"name", Type(TypeId::kText)}, {"setting", Type(TypeId::kText)}, {"description", Type(TypeId::kText)}},
        std::move(rows), "SHOW");
  }
  if (name == "time zone") name = "timezone";
  if (name == "transaction isolation level") name = "transaction_isolation";
  auto it = st_.settings.find(name);
  if (it == st_.settings.end()) throw SqlError(sqlstate::kUndefinedObject, "unrecognized configuration parameter \"" + name + "\"");
  std::vector<Datum> ds = {Datum::from_string(it->second)};
  std::vector<Row> rows = {Row::pack(ds)};
  return std::make_unique<MaterializedExecution>(std::vector<Column>{{s->name, Type(TypeId::kText)}}, std::move(rows), "SHOW");
}

std::unique_ptr<Execution> Executor::run_explain(const PgQuery__ExplainStmt* s) {
  std::shared_lock lock(cs_.mu);
  if (s->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    throw SqlError(sqlstate::kFeatureNotSupported, "EXPLAIN of this statement is not supported");
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_query(s->query->select_stmt);
  binder.finish_params();
  dataflow::RelExpr plan = sql::optimize(sql::lower(*q.rel));
  std::string text = plan.to_string();
  std::vector<Datum> ds = {Datum::from_string(text)};
  std::vector<Row> rows = {Row::pack(ds)};
  return std::make_unique<MaterializedExecution>(std::vector<Column>{{"Optimized Plan", Type(TypeId::kText)}}, std::move(rows), "EXPLAIN");
}


// ---------------------------------------------------------------------------------------------
// SUBSCRIBE

// Streams the changes of one collection: the snapshot first (when asked), then every change
// with its timestamp, and progress rows when asked. fetch() blocks until something arrives.
class SubscribeExecution : public Execution {
 public:
  SubscribeExecution(Coordinator::State& cs, std::shared_ptr<SubscriptionQueue> q, std::vector<Column> cols, bool progress,
                     std::optional<uint64_t> temp_dataflow, const std::atomic<bool>* cancelled, SubscribeOutput output)
      : cs_(cs), q_(std::move(q)), columns_(std::move(cols)), progress_(progress), temp_(temp_dataflow), cancelled_(cancelled),
        output_(std::move(output)) {}
  ~SubscribeExecution() override {
    if (temp_) {
      std::unique_lock lock(cs_.mu);  // only the list of dataflows changes
      cs_.drop_maintained(*temp_);
    }
  }
  const std::vector<Column>& columns() const override { return columns_; }
  bool fetch(std::vector<Row>& out, size_t max_rows) override { return fetch_for(out, max_rows, -1); }
  // timeout_ms < 0: wait until something arrives; otherwise at most that long.
  bool fetch_for(std::vector<Row>& out, size_t max_rows, int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    std::unique_lock lock(q_->mu);
    while (true) {
      if (q_->overflowed) throw SqlError(sqlstate::kProgramLimitExceeded, "subscription fell too far behind and was stopped");
      if (q_->dropped && q_->items.empty()) throw SqlError(sqlstate::kUndefinedTable, "the subscribed object was dropped");
      bool have = !q_->items.empty() || !pending_.empty() || (progress_ && q_->progress > sent_progress_);
      if (have) break;
      if (cancelled_ && cancelled_->load()) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
      if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return true;
      q_->cv.wait_for(lock, std::chrono::milliseconds(50));
    }
    size_t n = 0;
    std::vector<Datum> ds;
    // ENVELOPE / WITHIN TIMESTAMP ORDER BY: each timestamp's changes (queued together by
    // SubscriptionQueue::push) become output rows at once (subscribe_output.hpp).
    while (!output_.plain() && (!q_->items.empty() || !pending_.empty()) && (max_rows == 0 || n < max_rows)) {
      if (pending_.empty()) {
        uint64_t t = q_->items.front().time;
        std::vector<std::pair<Row, int64_t>> changes;
        while (!q_->items.empty() && q_->items.front().time == t) {
          changes.emplace_back(std::move(q_->items.front().row), q_->items.front().diff);
          q_->items.pop_front();
        }
        for (auto& r : output_.rows(std::move(changes))) pending_.emplace_back(t, std::move(r));
        continue;
      }
      auto [t, row] = std::move(pending_.front());
      pending_.pop_front();
      ds.clear();
      ds.push_back(Datum::from_numeric(numeric_from_int(static_cast<int64_t>(t))));
      if (progress_) ds.push_back(Datum::from_bool(false));
      row.unpack_into(ds);
      out.push_back(Row::pack(ds));
      ++n;
      last_time_ = t;
    }
    while (output_.plain() && !q_->items.empty() && (max_rows == 0 || n < max_rows)) {
      auto item = std::move(q_->items.front());
      q_->items.pop_front();
      ds.clear();
      ds.push_back(Datum::from_numeric(numeric_from_int(static_cast<int64_t>(item.time))));
      if (progress_) ds.push_back(Datum::from_bool(false));
      ds.push_back(Datum::from_int(item.diff));
      item.row.unpack_into(ds);
      out.push_back(Row::pack(ds));
      ++n;
      last_time_ = item.time;
    }
    if (progress_ && q_->items.empty() && pending_.empty() && q_->progress > sent_progress_ && (max_rows == 0 || n < max_rows)) {
      sent_progress_ = q_->progress;
      ds.clear();
      ds.push_back(Datum::from_numeric(numeric_from_int(static_cast<int64_t>(sent_progress_))));
      ds.push_back(Datum::from_bool(true));
      ds.push_back(Datum::null());
      for (size_t i = 3; i < columns_.size(); ++i) ds.push_back(Datum::null());
      out.push_back(Row::pack(ds));
    }
    return true;  // a subscription never completes
  }
  std::string command_tag() const override { return "SUBSCRIBE"; }

 private:
  Coordinator::State& cs_;
  std::shared_ptr<SubscriptionQueue> q_;
  std::vector<Column> columns_;
  bool progress_;
  std::optional<uint64_t> temp_;
  const std::atomic<bool>* cancelled_;
  uint64_t sent_progress_ = 0;
  uint64_t last_time_ = 0;
  SubscribeOutput output_;
  std::deque<std::pair<uint64_t, Row>> pending_;  // output rows of a timestamp not yet fetched
};

std::atomic<uint64_t> g_next_temp_id{uint64_t{1} << 40};

void Executor::wait_for_time(uint64_t t) {
  // REQUIRES: no lock held. AS OF a time not yet reached waits for it (bounded: 60 s). A time
  // further ahead than that is refused at once rather than after a minute of waiting (time
  // advances with the wall clock, in milliseconds).
  constexpr uint64_t kMaxWaitMs = 60000;
  for (int i = 0; i < 6000; ++i) {
    {
      std::shared_lock lock(cs_.mu);
      if (cs_.now_ts >= t) return;
      if (t - cs_.now_ts > kMaxWaitMs)
        throw SqlError(sqlstate::kInvalidParameterValue,
                       "timestamp " + std::to_string(t) + " is more than 60 s ahead of the current time (" + std::to_string(cs_.now_ts) + ")")
            .with_detail("AS OF a future time waits for it, at most 60 s.");
    }
    if (st_.cancelled.load()) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  throw SqlError(sqlstate::kInvalidParameterValue, "timestamp " + std::to_string(t) + " was not reached within 60 s");
}

int64_t Executor::fetch_timeout_param(size_t n) const {
  if (n > params_.size() || n > param_types_.size())
    throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $" + std::to_string(n));
  const Datum& d = params_[n - 1];
  if (d.is_null()) return -1;
  Type t = param_types_[n - 1];
  int64_t ms = 0;
  if (t.id == TypeId::kInterval) {
    Interval iv = d.as_interval();
    ms = (iv.micros + (static_cast<int64_t>(iv.days) + static_cast<int64_t>(iv.months) * 30) * 86400000000LL) / 1000;
  } else if (is_integer_type(t.id)) {
    ms = d.as_int() * 1000;
  } else if (t.id == TypeId::kFloat4 || t.id == TypeId::kFloat8) {
    ms = static_cast<int64_t>(d.as_float() * 1000);
  } else if (physical_kind(t.id) == PhysicalKind::kString) {
    ms = sql::parse_interval_ms(std::string(d.as_string()));
  } else {
    throw SqlError(sqlstate::kDatatypeMismatch, "FETCH timeout must be an interval, a number of seconds or a string");
  }
  if (ms < 0) throw SqlError(sqlstate::kInvalidParameterValue, "FETCH timeout must not be negative");
  return ms;
}

// REQUIRES: cs_.mu held (shared or exclusive). obj: the subscribed object, null for a query.
void Executor::subscribed_columns(const sql::StreamingStatement& st, const ObjectInfo* obj, std::vector<Column>& cols) {
  if (obj) {
    for (const auto& c : obj->columns) cols.push_back({c.name, c.type});
    return;
  }
  std::shared_ptr<sql::ParseTree> tree;
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery bq = bind_query_text(binder, st.query, tree);
  auto types = bq.types();
  for (size_t i = 0; i < bq.column_names.size(); ++i) cols.push_back({bq.column_names[i], types[i]});
}

std::unique_ptr<Execution> Executor::subscribe(const sql::StreamingStatement& st) {
  std::optional<uint64_t> as_of = st.as_of;
  if (!st.as_of_expr.empty()) {  // AS OF <expression> (server/as_of.hpp)
    std::shared_lock lock(cs_.mu);
    sql::Binder binder(*catalog_, param_types_);
    as_of = evaluate_as_of(binder, st.as_of_expr);
  }
  if (as_of) wait_for_time(*as_of);
  DdlLock lock(cs_);
  if (as_of && *as_of < cs_.now_ts)
    throw SqlError(sqlstate::kInvalidParameterValue,
                   "Timestamp (" + std::to_string(*as_of) + ") is not valid for all inputs: [" + std::to_string(cs_.now_ts) + "]")
        .with_detail("Freshet keeps no history before the current time; use a later AS OF or none.");
  std::vector<Column> cols;
  cols.push_back({"mz_timestamp", Type(TypeId::kNumeric)});
  if (st.progress) cols.push_back({"mz_progressed", Type(TypeId::kBool)});
  auto q = std::make_shared<SubscriptionQueue>();
  std::optional<uint64_t> temp;
  uint64_t source_id = 0;
  RowDiffs initial;
  const ObjectInfo* obj = st.object.empty() ? nullptr : catalog_->lookup("", st.object);
  if (!st.object.empty() && !obj) throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + st.object + "'");
  if (obj) catalog_->check_read(*obj, nullptr, 0);  // SELECT on it (roles.hpp)
  if (obj && obj->kind == ObjectKind::kTable) {
    source_id = obj->id;
    cs_.published_rows(obj->id, *catalog_->table_data(obj->id), [&](const Row& r, int64_t n) { initial.push_back({r, n}); });
  } else if (obj && cs_.find_maintained(obj->id)) {
    source_id = obj->id;
    cs_.read_maintained(obj->id)->for_each([&](RowRef r, int64_t n) { initial.push_back({Row(std::string(r.bytes())), n}); });
  } else {
    dataflow::RelExpr plan;
    std::string name;
    if (obj) {
      if (obj->kind != ObjectKind::kView) throw SqlError(sqlstate::kWrongObjectType, "cannot subscribe to \"" + obj->name + "\"");
      // What the view reads is checked with its owner's rights.
      std::optional<AccessScope> as_owner;
      if (current_access()) as_owner.emplace(catalog_->roles().name_of(owner_of(*obj)));
      plan = plan_for_object(*obj);
      name = "subscribe:" + obj->name;
    } else {
      std::shared_ptr<sql::ParseTree> tree;
      sql::Binder binder(*catalog_, param_types_);
      sql::BoundQuery bq = bind_query_text(binder, st.query, tree);
      plan = sql::optimize(sql::lower(*binder.relation_of(bq)));
      name = "subscribe";
    }
    check_maintainable(plan);
    source_id = g_next_temp_id++;
    ctx_.logical_time_ms = cs_.now_ts;
    cs_.add_maintained(std::make_shared<Maintained>(source_id, name, std::move(plan), cs_.now_ts, snapshot_fn(), ctx_, initial));
    temp = source_id;
  }
  std::vector<Column> data;
  subscribed_columns(st, obj, data);
  SubscribeOutput output = plan_subscribe_output(st, data, cols);
  if (st.snapshot && !initial.empty()) q->push(cs_.now_ts, initial);
  q->advance(cs_.now_ts);
  cs_.add_subscriber(source_id, q);
  return std::make_unique<SubscribeExecution>(cs_, q, std::move(cols), st.progress, temp, &st_.cancelled, std::move(output));
}

std::unique_ptr<Execution> Executor::show(const sql::StreamingStatement& st) {
  std::shared_lock lock(cs_.mu);
  std::vector<Row> rows;
  std::vector<Column> cols;
  auto add = [&](std::vector<Datum> ds) { rows.push_back(Row::pack(ds)); };
  std::vector<std::string> keep;  // owns strings for datums until packed
  auto kind_name = [](ObjectKind k) -> const char* {
    switch (k) {
      case ObjectKind::kTable: return "table";
      case ObjectKind::kView: return "view";
      case ObjectKind::kMaterializedView: return "materialized-view";
      case ObjectKind::kIndex: return "index";
      case ObjectKind::kSource: return "source";
      case ObjectKind::kSecret: return "secret";
      case ObjectKind::kConnection: return "connection";
      case ObjectKind::kSink: return "sink";
      default: return "system";
    }
  };
  std::vector<const ObjectInfo*> objs;
  for (const auto& [id, o] : catalog_->objects()) objs.push_back(o.get());
  std::sort(objs.begin(), objs.end(), [](const ObjectInfo* a, const ObjectInfo* b) { return a->name < b->name; });
  if (st.what == "indexes") {
    // Materialize's columns; `comment` is empty (COMMENT ON is not supported).
    cols = {{"name", Type(TypeId::kText)}, {"on", Type(TypeId::kText)}, {"cluster", Type(TypeId::kText)}, {"key", Type(TypeId::kText)},
            {"comment", Type(TypeId::kText)}};
    for (const auto* o : objs) {
      if (o->kind != ObjectKind::kIndex) continue;
      if (!st.object.empty() && o->definition_sql != st.object) continue;
      std::string key = "{";
      for (size_t i = 0; i < o->columns.size(); ++i) key += (i ? "," : "") + o->columns[i].name;
      key += "}";
      add({Datum::from_string(o->name), Datum::from_string(o->definition_sql), Datum::from_string("default"), Datum::from_string(key),
           Datum::from_string("")});
    }
  } else if (st.what == "objects") {
    cols = {{"name", Type(TypeId::kText)}, {"type", Type(TypeId::kText)}};
    for (const auto* o : objs)
      if (o->kind != ObjectKind::kSchema && o->kind != ObjectKind::kDatabase) add({Datum::from_string(o->name), Datum::from_string(kind_name(o->kind))});
  } else {
    ObjectKind want = ObjectKind::kView;
    if (st.what == "materialized views") want = ObjectKind::kMaterializedView;
    else if (st.what == "tables") want = ObjectKind::kTable;
    else if (st.what == "sources") {
      cols = {{"name", Type(TypeId::kText)}, {"type", Type(TypeId::kText)}, {"state", Type(TypeId::kText)}};
      std::vector<std::shared_ptr<SourceEntry>> es;
      for (const auto& [id, e] : cs_.sources) es.push_back(e);
      std::sort(es.begin(), es.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
      for (const auto& e : es) {
        std::string state;
        {
          std::lock_guard g(e->mu);
          state = e->status.state;
        }
        keep.push_back(state);
        add({Datum::from_string(e->name), Datum::from_string(e->type), Datum::from_string(keep.back())});
      }
      return std::make_unique<MaterializedExecution>(std::move(cols), std::move(rows), "SHOW");
    }
    else if (st.what == "secrets") want = ObjectKind::kSecret;
    else if (st.what == "connections") want = ObjectKind::kConnection;
    else if (st.what == "sinks") {
      cols = {{"name", Type(TypeId::kText)}, {"type", Type(TypeId::kText)}, {"state", Type(TypeId::kText)}};
      std::vector<std::shared_ptr<SinkEntry>> es;
      for (const auto& [id, e] : cs_.sinks) es.push_back(e);
      std::sort(es.begin(), es.end(), [](const auto& a, const auto& b) { return a->name < b->name; });
      for (const auto& e : es) {
        {
          std::lock_guard g(e->mu);
          keep.push_back(e->state);
        }
        add({Datum::from_string(e->name), Datum::from_string("kafka"), Datum::from_string(keep.back())});
      }
      return std::make_unique<MaterializedExecution>(std::move(cols), std::move(rows), "SHOW");
    }
    else if (st.what == "clusters") want = ObjectKind::kSystemView;  // none
    cols = {{"name", Type(TypeId::kText)}};
    if (want == ObjectKind::kMaterializedView) cols.push_back({"cluster", Type(TypeId::kText)});
    // Materialize's SHOW TABLES / VIEWS / MATERIALIZED VIEWS / SECRETS end with `comment`
    // (empty: COMMENT ON is not supported).
    bool with_comment = st.what != "clusters" && st.what != "connections";
    if (with_comment) cols.push_back({"comment", Type(TypeId::kText)});
    if (st.what == "clusters") {
      add({Datum::from_string("default")});
    } else {
      for (const auto* o : objs) {
        if (o->kind != want) continue;
        std::vector<Datum> ds{Datum::from_string(o->name)};
        if (want == ObjectKind::kMaterializedView) ds.push_back(Datum::from_string("default"));
        if (with_comment) ds.push_back(Datum::from_string(""));
        add(std::move(ds));
      }
    }
  }
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(rows), "SHOW");
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
    dataflow::RelExpr plan = sql::optimize(sql::lower(*q.rel));
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
      text = plan.to_string();
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
    if (const Maintained* m = cs_.find_maintained(target->id))
      text += "\nMaintained: yes, " + std::to_string(m->records()) + " records, " + std::to_string(m->num_indexes()) + " index(es)";
    else
      text += "\nMaintained: no (computed when read)";
  }
  std::vector<Datum> ds = {Datum::from_string(text)};
  std::vector<Row> rows = {Row::pack(ds)};
  return std::make_unique<MaterializedExecution>(std::vector<Column>{{"Optimized Plan", Type(TypeId::kText)}}, std::move(rows), "EXPLAIN");
}

// A SELECT whose plan is [Project] [Filter] Get(x) over an indexed object, with the filter
// fixing every key column of one of its indexes to a constant, is a lookup in that index.
namespace {
struct FastPath {
  const dataflow::RelExpr* get = nullptr;
  const dataflow::RelExpr* filter = nullptr;
  const dataflow::RelExpr* project = nullptr;
};
FastPath match_fast_path(const dataflow::RelExpr& plan) {
  FastPath fp;
  const dataflow::RelExpr* r = &plan;
  if (r->kind == dataflow::RelKind::kProject) {
    fp.project = r;
    r = &r->inputs[0];
  }
  if (r->kind == dataflow::RelKind::kFilter) {
    fp.filter = r;
    r = &r->inputs[0];
  }
  if (r->kind == dataflow::RelKind::kGet) fp.get = r;
  return fp;
}
// A value that fixes a key column: `#c = v` or `#c::wider = v`, with v free of columns.
struct KeyValue {
  const dataflow::ScalarExpr* value = nullptr;
};
// Exact numbers: comparisons between them are exact (no two values of one compare equal to
// one value of another), unlike comparisons with floats.
int exact_rank(TypeId t) {
  switch (t) {
    case TypeId::kInt2: return 1;
    case TypeId::kInt4: return 2;
    case TypeId::kInt8: return 3;
    case TypeId::kNumeric: return 4;
    default: return 0;
  }
}
// Casts that map distinct values to distinct values (so `#c::to = v` holds for exactly the
// rows whose #c equals v cast back to from's type).
bool is_exact_widening(TypeId from, TypeId to) { return exact_rank(from) > 0 && exact_rank(to) > exact_rank(from); }
bool is_constant(const dataflow::ScalarExpr& x) {
  if (x.kind == dataflow::ScalarKind::kLiteral || x.kind == dataflow::ScalarKind::kParam) return true;
  if (x.kind == dataflow::ScalarKind::kCast) return is_constant(x.args[0]);
  return false;
}
// column -> constant expression, from conjuncts `#c = const` (any type that casts to #c's: the
// lookup key is the constant cast to the column's type; rows found are checked against the
// whole filter again, so the lookup only needs to find a superset of the matching rows).
// The value of a key constant in the key column's type; nullopt when no row can match (NULL,
// or a value the column's type cannot hold). A rounding cast is fine: callers check found rows
// against the whole filter again.
std::optional<Datum> key_in_column_type(const KeyValue& kv, Type column_type, EvalContext& ctx) {
  Datum d = dataflow::eval(*kv.value, {}, ctx);
  if (d.is_null()) return std::nullopt;  // `= NULL` matches nothing
  if (kv.value->type.id == column_type.id) return d;
  try {
    d = cast_datum(d, kv.value->type, column_type, ctx);
  } catch (const SqlError&) {
    return std::nullopt;
  }
  if (d.is_null()) return std::nullopt;
  return d;
}

std::map<uint32_t, KeyValue> equalities(const dataflow::RelExpr* filter) {
  std::map<uint32_t, KeyValue> eq;
  if (!filter) return eq;
  for (const auto& e : filter->exprs) {
    if (e.kind != dataflow::ScalarKind::kCall || !e.fn || e.fn->name != "=" || e.args.size() != 2) continue;
    for (int side = 0; side < 2; ++side) {
      const auto& col = e.args[side];
      const auto& val = e.args[1 - side];
      if (!is_constant(val)) continue;
      if (col.kind == dataflow::ScalarKind::kColumn &&
          (col.type.id == val.type.id || (exact_rank(col.type.id) > 0 && exact_rank(val.type.id) > 0))) {
        eq[col.column] = {&val};
        break;
      }
      if (col.kind == dataflow::ScalarKind::kCast && col.args[0].kind == dataflow::ScalarKind::kColumn &&
          is_exact_widening(col.args[0].type.id, col.type.id)) {
        eq[col.args[0].column] = {&val};
        break;
      }
    }
  }
  return eq;
}
}  // namespace

std::string Executor::fast_path_index(const dataflow::RelExpr& plan) {
  FastPath fp = match_fast_path(plan);
  if (!fp.get) return "";
  Maintained* m = cs_.find_maintained(fp.get->collection_id);
  if (!m) return "";
  auto eq = equalities(fp.filter);
  for (size_t i = 0; i < m->num_indexes(); ++i) {
    bool covered = !m->index_columns(i).empty();
    for (auto c : m->index_columns(i)) covered &= eq.count(c) > 0;
    if (covered) return "lookup in the index of \"" + m->name() + "\" (no dataflow)";
  }
  return "read the arrangement of \"" + m->name() + "\"";
}

bool Executor::try_fast_path(const dataflow::RelExpr& plan, std::vector<std::pair<Row, int64_t>>& out) {
  FastPath fp = match_fast_path(plan);
  if (!fp.get) return false;
  Maintained* m = cs_.read_maintained(fp.get->collection_id, &st_.cancelled, fp.get->collection_id != no_wait_id_);
  if (!m) return false;
  std::shared_lock sl(m->state_mu);
  auto eq = equalities(fp.filter);
  int chosen = -1;
  for (size_t i = 0; i < m->num_indexes() && chosen < 0; ++i) {
    bool covered = !m->index_columns(i).empty();
    for (auto c : m->index_columns(i)) covered &= eq.count(c) > 0;
    if (covered) chosen = static_cast<int>(i);
  }
  if (chosen < 0) return false;
  std::vector<Datum> key;
  const auto& key_types = fp.get->column_types;
  for (auto c : m->index_columns(chosen)) {
    FRESHET_ASSERT(c < key_types.size());
    std::optional<Datum> d = key_in_column_type(eq[c], key_types[c], ctx_);
    if (!d) return true;  // no row can match
    key.push_back(*d);
  }
  RowDiffs found;
  m->lookup(static_cast<size_t>(chosen), key, found);
  std::vector<Datum> ds, res;
  for (auto& [r, n] : found) {
    ds.clear();
    r.unpack_into(ds);
    bool keep = true;
    if (fp.filter)
      for (const auto& e : fp.filter->exprs) {
        Datum v = dataflow::eval(e, ds, ctx_);
        if (v.is_null() || !v.as_bool()) {
          keep = false;
          break;
        }
      }
    if (!keep) continue;
    if (fp.project) {
      res.clear();
      for (auto c : fp.project->columns) res.push_back(ds[c]);
      out.push_back({Row::pack(res), n});
    } else {
      out.push_back({r, n});
    }
  }
  arena_.reset();
  return true;
}


void Executor::validate_connection_options(const ObjectInfo& conn) {
  std::vector<std::string> allowed;
  if (conn.connection_type == "postgres")
    allowed = {"HOST", "PORT", "DATABASE", "USER", "PASSWORD", "SSL MODE"};
  else if (conn.connection_type == "mysql")
    allowed = {"HOST", "PORT", "USER", "PASSWORD", "SSL MODE", "DATABASE"};
  else if (conn.connection_type == "sql server")
    allowed = {"HOST", "PORT", "DATABASE", "USER", "PASSWORD", "SSL MODE"};
  else if (conn.connection_type == "kafka")
    allowed = {"BROKER", "BROKERS", "SECURITY PROTOCOL", "SASL MECHANISMS", "SASL USERNAME", "SASL PASSWORD", "SSL CERTIFICATE AUTHORITY", "PROGRESS TOPIC"};
  else
    allowed = {"URL", "USERNAME", "PASSWORD", "SSL CERTIFICATE AUTHORITY"};
  for (const auto& [k, v] : conn.connection_options)
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      throw SqlError(sqlstate::kInvalidParameterValue, "unknown " + conn.connection_type + " connection option " + k);
}

std::unique_ptr<Execution> Executor::create_source(const sql::StreamingStatement& st) {
  auto entry = std::make_shared<SourceEntry>();
  entry->name = st.object;
  {
    DdlLock lock(cs_);
    if (catalog_->lookup("public", st.object)) {
      if (st.if_not_exists) return done("CREATE SOURCE");
      throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
    }
    for (const auto& [id, e] : cs_.sources)
      if (e->name == st.object) throw SqlError(sqlstate::kDuplicateObject, "source '" + st.object + "' already exists");
    entry->create_sql = st.text;
    entry->id = catalog_->allocate_id();
    build_source(cs_, st, *entry);
    if (!entry->single_table_named_after_source) {
      // The source's catalog object keeps the id the connector was built with (a PostgreSQL
      // source's replication slot is named after it, and must be found again after a restart).
      ObjectInfo obj;
      obj.id = entry->id;
      obj.name = st.object;
      obj.kind = ObjectKind::kSource;
      catalog_->add(std::move(obj), /*keep_id=*/true);
    }
    entry->status.state = "starting";
    cs_.sources[entry->id] = entry;
  }
  entry->sink = make_source_sink(cs_, entry);
  Status s = entry->source->start(*entry->sink, std::nullopt);
  auto fail = [&](const std::string& msg) -> std::unique_ptr<Execution> {
    {
      std::lock_guard g(entry->mu);
      entry->dropped = true;
    }
    entry->source->stop();
    if (entry->on_drop) entry->on_drop();
    DdlLock lock(cs_);
    for (auto id : entry->table_ids)
      if (id) catalog_->remove(id);
    if (catalog_->find(entry->id)) catalog_->remove(entry->id);
    cs_.sources.erase(entry->id);
    if (cs_.persist) {
      (void)cs_.persist->delete_source(cs_.now_ts, entry->id);
      (void)cs_.persist->drop_collection(entry->id);
    }
    throw SqlError(sqlstate::kConnectionException, msg);
  };
  if (!s) return fail(s.message());
  // Wait until the connector has described its tables, so they exist when we return.
  for (int i = 0; i < 3000; ++i) {
    std::string error;
    {
      std::lock_guard g(entry->mu);
      if (entry->schemas_set) return done("CREATE SOURCE");
      if (entry->status.state == "error") error = entry->status.last_error;
    }
    if (!error.empty()) return fail(error);  // fail() takes entry->mu itself
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return fail("source did not describe its tables within 30 s");
}

std::unique_ptr<Execution> Executor::create_sink(const sql::StreamingStatement& st) {
  std::shared_ptr<SinkEntry> entry;
  {
    DdlLock lock(cs_);
    if (catalog_->lookup("public", st.object)) {
      if (st.if_not_exists) return done("CREATE SINK");
      throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
    }
    entry = build_sink(cs_, st);
  }
  // The broker, the topic and the registry are checked before the sink exists.
  if (Status s = check_sink(*entry); !s) throw SqlError(sqlstate::kConnectionException, s.message());
  {
    DdlLock lock(cs_);
    if (catalog_->lookup("public", st.object)) throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
    // Connections or the relation may have changed while we were away: build again.
    auto fresh = build_sink(cs_, st);
    fresh->first_connection = std::move(entry->first_connection);
    entry = std::move(fresh);
    ObjectInfo obj;
    obj.name = st.object;
    obj.kind = ObjectKind::kSink;
    obj.definition_sql = st.text;
    const ObjectInfo& added = catalog_->add(std::move(obj));
    entry->id = added.id;
    catalog_->add_dependency(entry->id, entry->from_id);
    for (const auto& name : {st.connection, st.format_connection})
      if (const ObjectInfo* c = name.empty() ? nullptr : catalog_->lookup("public", name)) catalog_->add_dependency(entry->id, c->id);
    if (cs_.persist) {
      if (Status ps = cs_.persist->create_source_collection(entry->id, "sink:" + entry->name); !ps) {
        catalog_->remove(entry->id);
        throw storage_write_error("could not create the sink's collection", ps);
      }
    } else {
      catalog_->remove(entry->id);
      throw SqlError(sqlstate::kFeatureNotSupported, "sinks need a data directory (freshet serve --data-dir)");
    }
    cs_.sinks[entry->id] = entry;
  }
  start_sink(cs_, entry);
  return done("CREATE SINK");
}

SinkInput Executor::sink_input(const SinkEntry& e) {
  Coordinator::State& cs = cs_;
  const ObjectInfo* obj = cs.catalog.find(e.from_id);
  if (!obj) throw SqlError(sqlstate::kUndefinedTable, "the sinked relation " + e.from_name + " was dropped");
  SinkInput in;
  in.time = cs.now_ts;
  in.queue = std::make_shared<SubscriptionQueue>();
  uint64_t source_id = obj->id;
  if (obj->kind == ObjectKind::kTable) {
    cs.published_rows(obj->id, *cs.catalog.table_data(obj->id), [&](const Row& r, int64_t n) { in.snapshot.push_back({r, n}); });
  } else if (Maintained* m = cs.read_maintained(obj->id)) {
    m->for_each([&](RowRef r, int64_t n) { in.snapshot.push_back({Row(std::string(r.bytes())), n}); });
  } else if (Maintained* own = cs.read_maintained(e.id)) {
    // The sink's own dataflow of a view, rendered by an earlier run.
    source_id = e.id;
    own->for_each([&](RowRef r, int64_t n) { in.snapshot.push_back({Row(std::string(r.bytes())), n}); });
  } else {
    if (obj->kind != ObjectKind::kView) throw SqlError(sqlstate::kWrongObjectType, "cannot sink \"" + obj->name + "\"");
    ctx_.logical_time_ms = cs.now_ts;
    cs.add_maintained(std::make_shared<Maintained>(e.id, "sink:" + e.name, plan_for_object(*obj), cs.now_ts, snapshot_fn(), ctx_, in.snapshot));
    source_id = e.id;
  }
  in.queue->advance(cs.now_ts);
  cs.add_subscriber(source_id, in.queue);
  return in;
}

std::unique_ptr<Execution> Executor::drop_streaming_object(const sql::StreamingStatement& st) {
  if (st_.client) check_owner(cs_, *catalog_, role_name_, st.object);
  std::shared_ptr<SourceEntry> entry;
  if (st.what == "sink") {
    std::shared_ptr<SinkEntry> sink;
    {
      DdlLock lock(cs_);
      const ObjectInfo* o = catalog_->lookup("public", st.object);
      if (!o || o->kind != ObjectKind::kSink) {
        if (st.if_exists) return done("DROP SINK");
        throw SqlError(sqlstate::kUndefinedObject, "unknown sink '" + st.object + "'");
      }
      uint64_t id = o->id;
      if (auto it = cs_.sinks.find(id); it != cs_.sinks.end()) sink = it->second;
      cs_.drop_sink(id);
      catalog_->remove(id);
    }
    // Nothing more is produced once DROP SINK returns.
    if (sink) join_sink(*sink);
    return done("DROP SINK");
  }
  {
    DdlLock lock(cs_);
    if (st.what == "source") {
      for (const auto& [id, e] : cs_.sources)
        if (e->name == st.object) entry = e;
      if (!entry) {
        if (st.if_exists) return done("DROP SOURCE");
        throw SqlError(sqlstate::kUndefinedObject, "unknown catalog item '" + st.object + "'");
      }
      // Dependents of its tables (views over them) need CASCADE.
      for (auto tid : entry->table_ids) {
        if (!tid) continue;
        for (const auto* d : catalog_->dependents(tid))
          if (d->kind != ObjectKind::kIndex && !st.cascade)
            throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop source " + st.object + " because other objects depend on it")
                .with_detail(d->name + " depends on it")
                .with_hint("Use DROP ... CASCADE to drop the dependent objects too.");
      }
      // Durable first: the source's record and its objects' leave the stored catalog (one batch)
      // before the connector is stopped or its replication slot dropped, so a write that fails
      // (a full disk: 53100) leaves the source running as it was.
      if (cs_.persist) {
        std::vector<uint64_t> ids;
        std::function<void(uint64_t)> collect = [&](uint64_t id) {
          for (const auto* d : cs_.catalog.dependents(id)) collect(d->id);
          if (cs_.catalog.find(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
        };
        for (auto tid : entry->table_ids)
          if (tid) collect(tid);
        if (cs_.catalog.find(entry->id)) collect(entry->id);
        if (Status ps = cs_.persist->delete_source(cs_.now_ts, entry->id, ids); !ps)
          throw storage_write_error("could not record the dropped source", ps);
        cs_.catalog.removals_recorded(ids);
      }
      {
        std::lock_guard g(entry->mu);
        entry->dropped = true;
      }
      cs_.sources.erase(entry->id);
    } else {
      const ObjectInfo* o = catalog_->lookup("public", st.object);
      ObjectKind want = st.what == "secret" ? ObjectKind::kSecret : ObjectKind::kConnection;
      if (!o || o->kind != want) {
        if (st.if_exists) return done("DROP " + std::string(st.what == "secret" ? "SECRET" : "CONNECTION"));
        throw SqlError(sqlstate::kUndefinedObject, "unknown " + st.what + " '" + st.object + "'");
      }
      auto deps = catalog_->dependents(o->id);
      if (!deps.empty() && !st.cascade)
        throw SqlError(sqlstate::kDependentObjectsStillExist, "cannot drop " + st.what + " " + st.object + " because other objects depend on it")
            .with_detail(deps[0]->name + " depends on it");
      catalog_->remove(o->id);
      return done(st.what == "secret" ? "DROP SECRET" : "DROP CONNECTION");
    }
  }
  // Stop the connector without the lock: its thread may be waiting for it.
  entry->source->stop();
  if (entry->on_drop) entry->on_drop();
  DdlLock lock(cs_);
  if (cs_.persist) {
    // Recorded before the connector stopped (above); the data's removal is best effort.
    if (Status ps = cs_.persist->drop_collection(entry->id); !ps)
      std::fprintf(stderr, "freshet: dropped source %s: its collection stays on disk, unused: %s\n", entry->name.c_str(),
                   ps.message().c_str());
  }
  std::function<void(uint64_t)> drop_with_dependents = [&](uint64_t id) {
    for (const auto* d : catalog_->dependents(id)) drop_with_dependents(d->id);
    if (cs_.find_maintained(id)) cs_.drop_maintained(id);
    catalog_->remove(id);
  };
  for (auto tid : entry->table_ids)
    if (tid && catalog_->find(tid)) drop_with_dependents(tid);
  if (catalog_->find(entry->id)) catalog_->remove(entry->id);
  return done("DROP SOURCE");
}


// CREATE [MATERIALIZED] VIEW v AS WITH MUTUALLY RECURSIVE ...: the definition is stored as its
// text (PostgreSQL's deparser cannot render it).
std::unique_ptr<Execution> Executor::create_view_from_text(const sql::StreamingStatement& st) {
  DdlLock lock(cs_);
  bool mv = st.what == "materialized view";
  if (catalog_->lookup("public", st.object)) throw SqlError(sqlstate::kDuplicateTable, "relation \"" + st.object + "\" already exists");
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery q = binder.bind_mutually_recursive(st.query);
  ObjectInfo obj;
  obj.name = st.object;
  obj.kind = mv ? ObjectKind::kMaterializedView : ObjectKind::kView;
  obj.definition_sql = st.query;
  obj.search_path = current_search_path_setting();
  auto types = q.types();
  for (size_t i = 0; i < q.column_names.size(); ++i) obj.columns.push_back({q.column_names[i], types[i], true, std::nullopt});
  std::vector<uint64_t> deps;
  std::function<void(const dataflow::RelExpr&)> collect = [&](const dataflow::RelExpr& r) {
    if (r.kind == dataflow::RelKind::kGet) deps.push_back(r.collection_id);
    for (const auto& in : r.inputs) collect(in);
  };
  collect(sql::optimize(sql::lower(*binder.relation_of(q))));
  for (auto d : binder.views_read()) deps.push_back(d);
  ObjectInfo& added = catalog_->add(std::move(obj));
  for (auto d : deps) catalog_->add_dependency(added.id, d);
  if (mv) {
    try {
      maintain_view(added);
    } catch (...) {
      catalog_->remove(added.id);
      throw;
    }
  }
  return done(mv ? "CREATE MATERIALIZED VIEW" : "CREATE VIEW");
}


void Executor::rewrite_point_lookups(dataflow::RelExpr& e) {
  for (auto& in : e.inputs) rewrite_point_lookups(in);
  if (e.kind != dataflow::RelKind::kFilter || e.inputs.empty() || e.inputs[0].kind != dataflow::RelKind::kGet) return;
  const dataflow::RelExpr& get = e.inputs[0];
  const ObjectInfo* t = catalog_->find(get.collection_id);
  TableData* data = catalog_->table_data(get.collection_id);
  if (!t || !data || t->kind != ObjectKind::kTable || t->primary_key.empty() || t->source_id != 0) return;
  if (st_.pending.count(t->id)) return;  // the transaction's own writes are not in the index
  auto eq = equalities(&e);
  std::vector<Datum> key;
  bool no_match = false;
  for (auto c : t->primary_key) {
    auto it = eq.find(c);
    if (it == eq.end()) return;
    // Keys whose equal values may differ in bytes (numeric scale, -0.0) are not looked up.
    PhysicalKind k = physical_kind(t->columns[c].type.id);
    if (k == PhysicalKind::kNumeric || k == PhysicalKind::kFloat || k == PhysicalKind::kInterval) return;
    std::optional<Datum> d = key_in_column_type(it->second, t->columns[c].type, ctx_);
    if (!d) {
      no_match = true;
      continue;
    }
    key.push_back(*d);
  }
  dataflow::RelExpr rows;
  rows.kind = dataflow::RelKind::kConstant;
  rows.column_types = get.column_types;
  if (!no_match) {
    Row k = Row::pack(key);
    if (writer_view_) {
      auto found = data->by_key.find(k);
      if (found != data->by_key.end()) rows.constant_rows.push_back({found->second, 1});
    } else if (auto found = cs_.published_by_key(*t, *data, k)) {
      rows.constant_rows.push_back({std::move(*found), 1});
    }
  }
  e.inputs[0] = std::move(rows);
}

std::unique_ptr<Execution> Executor::run_streaming(const sql::StreamingStatement& st) {
  using K = sql::StreamingStatement::Kind;
  if (st_.txn != TransactionStatus::kIdle) {
    // Statements that start external work (connectors, sink threads, connection checks) or
    // change several catalogs at once are not transactional: refused in a block rather than
    // applied before COMMIT. CREATE SECRET and CREATE DEFAULT INDEX are (transaction.hpp).
    const char* refused = nullptr;
    std::string drop_what;
    switch (st.kind) {
      case K::kCreateConnection: refused = "CREATE CONNECTION"; break;
      case K::kCreateSource: refused = "CREATE SOURCE"; break;
      case K::kCreateSink: refused = "CREATE SINK"; break;
      case K::kDrop:
        drop_what = "DROP " + st.what;
        for (auto& ch : drop_what) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        refused = drop_what.c_str();
        break;
      case K::kCreateViewMutuallyRecursive: refused = "CREATE VIEW ... WITH MUTUALLY RECURSIVE"; break;
      case K::kCreateDefaultIndex:
      case K::kCreateSecret: begin_block_ddl(); break;
      case K::kSubscribe:
      case K::kDeclareSubscribe:
        if (st_.block && !st_.implicit)
          throw SqlError(sqlstate::kActiveSqlTransaction, "SUBSCRIBE cannot follow DDL in the same transaction block")
              .with_hint("COMMIT the DDL first.");
        break;
      default: break;
    }
    // A SUBSCRIBE after writes or DDL in a multi-statement query follows what they committed.
    bool subscribe_after_changes =
        (st_.block || !st_.pending.empty()) && (st.kind == K::kSubscribe || st.kind == K::kDeclareSubscribe);
    if ((refused || subscribe_after_changes) && st_.implicit && st_.txn == TransactionStatus::kInBlock) {
      // In a multi-statement query: the implicit block so far is committed and the statement
      // runs on its own; the statements after it start another implicit block.
      st_.implicit = false;
      commit_open_block();
      st_.implicit = true;
      catalog_ = &cs_.catalog;
      ctx_.catalog = sql::catalog_access(*catalog_);
      auto result = run_streaming(st);
      st_.txn = TransactionStatus::kInBlock;
      return result;
    }
    if (refused) throw SqlError(sqlstate::kActiveSqlTransaction, std::string(refused) + " cannot run inside a transaction block");
  }
  switch (st.kind) {
    case K::kSubscribe:
      return subscribe(st);
    case K::kDeclareSubscribe: {
      if (st_.txn != TransactionStatus::kInBlock)
        throw SqlError(sqlstate::kNoActiveSqlTransaction, "DECLARE CURSOR can only be used in transaction blocks");
      if (st_.cursors.contains(st.cursor)) throw SqlError(sqlstate::kDuplicateCursor, "cursor \"" + st.cursor + "\" already exists");
      st_.cursors.declare_stream(st.cursor, subscribe(st), true);
      note_declared(st.cursor);
      return done("DECLARE CURSOR");
    }
    case K::kFetch: {
      CursorSet::Cursor& c = st_.cursors.get(st.cursor);
      std::vector<Row> rows;
      if (!c.stream) {  // a SELECT cursor (server/cursors.cpp)
        st_.cursors.fetch(c, CursorSet::Direction::kForward, st.count == 0 ? CursorSet::kAll : static_cast<int64_t>(st.count), &rows);
        std::string tag = "FETCH " + std::to_string(rows.size());
        return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), tag);
      }
      Execution& ex = *c.stream;
      if (auto* sub = dynamic_cast<SubscribeExecution*>(&ex)) {
        int64_t timeout_ms = st.timeout_ms;
        if (st.timeout_param > 0) timeout_ms = fetch_timeout_param(static_cast<size_t>(st.timeout_param));
        sub->fetch_for(rows, st.count, timeout_ms);
      } else {
        ex.fetch(rows, st.count);
      }
      std::string tag = "FETCH " + std::to_string(rows.size());
      return std::make_unique<MaterializedExecution>(ex.columns(), std::move(rows), tag);
    }
    case K::kCreateDefaultIndex: {
      DdlLock lock(cs_);
      const ObjectInfo* o = catalog_->lookup("", st.object);
      if (!o) throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + st.object + "'");
      std::vector<uint32_t> key;
      if (!o->primary_key.empty()) key = o->primary_key;
      else
        for (uint32_t i = 0; i < o->columns.size(); ++i) key.push_back(i);
      std::string name = o->name + "_primary_idx";
      for (int n = 1; catalog_->lookup(o->schema, name); ++n) name = o->name + "_primary_idx" + std::to_string(n);
      return create_index(lock, o->id, name, std::move(key));
    }
    case K::kShow:
      return show(st);
    case K::kCreateSecret: {
      DdlLock lock(cs_);
      if (const ObjectInfo* o = catalog_->lookup("public", st.object)) {
        if (st.if_not_exists && o->kind == ObjectKind::kSecret) return done("CREATE SECRET");
        throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
      }
      ObjectInfo obj;
      obj.name = st.object;
      obj.kind = ObjectKind::kSecret;
      obj.secret_value = st.value;
      catalog_->add(std::move(obj));
      return done("CREATE SECRET");
    }
    case K::kCreateConnection: {
      DdlLock lock(cs_);
      if (const ObjectInfo* o = catalog_->lookup("public", st.object)) {
        if (st.if_not_exists && o->kind == ObjectKind::kConnection) return done("CREATE CONNECTION");
        throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
      }
      ObjectInfo obj;
      obj.name = st.object;
      obj.kind = ObjectKind::kConnection;
      obj.connection_type = st.what;
      std::vector<uint64_t> deps;
      for (const auto& o : st.options) {
        if (o.secret) {
          const ObjectInfo* sec = catalog_->lookup("public", o.value);
          if (!sec || sec->kind != ObjectKind::kSecret) throw SqlError(sqlstate::kUndefinedObject, "unknown secret '" + o.value + "'");
          check_usage(*catalog_, *sec);  // roles.hpp
          deps.push_back(sec->id);
          obj.connection_options.push_back({o.key, "SECRET " + o.value});
        } else if (o.key == "PASSWORD" || o.key == "SASL PASSWORD") {
          // A literal would be kept in the catalog as written; secrets are sealed at rest.
          throw SqlError(sqlstate::kInvalidParameterValue, "invalid " + o.key + ": must provide a secret value")
              .with_hint("CREATE SECRET " + st.object + "_password AS '...'; then " + o.key + " SECRET " + st.object +
                         "_password");
        } else {
          obj.connection_options.push_back({o.key, o.value});
        }
      }
      validate_connection_options(obj);
      const ObjectInfo& c = catalog_->add(std::move(obj));
      for (auto d : deps) catalog_->add_dependency(c.id, d);
      return done("CREATE CONNECTION");
    }
    case K::kCreateSource:
      return create_source(st);
    case K::kCreateSink:
      return create_sink(st);
    case K::kSelectMutuallyRecursive:
      return run_select_with([&](sql::Binder& b) { return b.bind_mutually_recursive(st.query); });
    case K::kCreateViewMutuallyRecursive:
      return create_view_from_text(st);
    case K::kDrop:
      return drop_streaming_object(st);
    case K::kExplain:
      return explain_object(st);
    case K::kCopySubscribe: {
      // COPY's own option parser reads "COPY (SELECT 1) <the statement's TO STDOUT ...>".
      auto tree = sql::ParseTree::parse("COPY (SELECT 1) " + st.value);
      if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_COPY_STMT)
        throw SqlError(sqlstate::kSyntaxError, "syntax error in COPY (SUBSCRIBE ...) TO STDOUT");
      const PgQuery__CopyStmt& c = *tree->statement(0)->copy_stmt;
      check_copy_source(c);
      std::unique_ptr<Execution> rows = subscribe(st);
      std::vector<std::string> names;
      for (const auto& col : rows->columns()) names.push_back(col.name);
      return make_copy_to(std::move(rows), copy_spec(c, names, ""));
    }
    case K::kSelectAsOf: {
      // server/as_of.hpp: constant queries at any time, others at the present or later.
      check_as_of_query(st.query);
      uint64_t t = 0;
      bool constant = false;
      {
        std::shared_lock lock(cs_.mu);
        sql::Binder binder(*catalog_, param_types_);
        t = st.as_of ? *st.as_of : evaluate_as_of(binder, st.as_of_expr);
        binder.set_inline_views(true);  // a materialized view of constants is constant too
        std::shared_ptr<sql::ParseTree> keep;
        sql::BoundQuery bq = bind_query_text(binder, st.query, keep);
        constant = !reads_collections(sql::lower(*binder.relation_of(bq)));
      }
      auto tree = sql::ParseTree::parse(st.query);
      if (constant && !st.as_of_at_least) {
        as_of_time_ = t;
        struct Reset {
          std::optional<uint64_t>& v;
          ~Reset() { v.reset(); }
        } reset{as_of_time_};
        return run(tree->statement(0));
      }
      if (!constant || t > 0) wait_for_time(t);
      if (!st.as_of_at_least) {
        std::shared_lock lock(cs_.mu);
        if (t < cs_.now_ts)
          throw SqlError(sqlstate::kInvalidParameterValue, "could not find a valid timestamp for the query")
              .with_detail("Timestamp (" + std::to_string(t) + ") is not valid for all inputs: [" + std::to_string(cs_.now_ts) +
                           "]. Freshet keeps no history before the current time.");
      }
      return run(tree->statement(0));
    }
  }
  throw SqlError(sqlstate::kInternalError, "unknown statement");
}

std::vector<Column> Executor::describe_streaming(const sql::StreamingStatement& st, bool& returns_rows) {
  using K = sql::StreamingStatement::Kind;
  returns_rows = st.kind == K::kSubscribe || st.kind == K::kFetch || st.kind == K::kShow || st.kind == K::kExplain ||
                 st.kind == K::kSelectAsOf || st.kind == K::kSelectMutuallyRecursive;
  if (st.kind == K::kSelectMutuallyRecursive) {
    std::shared_lock lock(cs_.mu);
    sql::Binder binder(*catalog_, param_types_);
    sql::BoundQuery q = binder.bind_mutually_recursive(st.query);
    binder.finish_params();
    std::vector<Column> cols;
    auto types = q.types();
    for (size_t i = 0; i < q.column_names.size(); ++i) cols.push_back({q.column_names[i], types[i]});
    return cols;
  }
  if (st.kind == K::kSelectAsOf) {
    auto tree = sql::ParseTree::parse(st.query);
    return describe(tree->statement(0), returns_rows);
  }
  if (st.kind == K::kExplain) return {{"Optimized Plan", Type(TypeId::kText)}};
  // The extended protocol describes a statement before it runs (postgres.js reads rows by the
  // statement's description, psycopg and pgJDBC by the portal's), so these say their columns
  // here, as PostgreSQL does for FETCH and SHOW.
  if (st.kind == K::kSubscribe) {
    std::shared_lock lock(cs_.mu);
    std::vector<Column> cols{{"mz_timestamp", Type(TypeId::kNumeric)}};
    if (st.progress) cols.push_back({"mz_progressed", Type(TypeId::kBool)});
    const ObjectInfo* obj = st.object.empty() ? nullptr : catalog_->lookup("", st.object);
    if (!st.object.empty() && !obj) throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + st.object + "'");
    std::vector<Column> data;
    subscribed_columns(st, obj, data);
    plan_subscribe_output(st, data, cols);
    return cols;
  }
  if (st.kind == K::kFetch) {
    if (st.timeout_param > 0) {
      if (param_types_.size() < static_cast<size_t>(st.timeout_param)) param_types_.resize(static_cast<size_t>(st.timeout_param));
    }
    // A cursor declared later (a FETCH prepared ahead of its DECLARE) is described when the
    // FETCH runs; an unknown one is reported then (34000).
    CursorSet::Cursor* c = st_.cursors.find(st.cursor);
    return c ? c->columns : std::vector<Column>{};
  }
  if (st.kind == K::kShow) return show(st)->columns();
  return {};
}

std::unique_ptr<Execution> Executor::run_declare(const PgQuery__DeclareCursorStmt* s) {
  constexpr int32_t kBinary = 0x1, kNoScroll = 0x4, kHold = 0x20;  // PostgreSQL's CURSOR_OPT_*
  std::string name = s->portalname ? s->portalname : "";
  bool hold = (s->options & kHold) != 0;
  if (st_.txn != TransactionStatus::kInBlock && !hold)
    throw SqlError(sqlstate::kNoActiveSqlTransaction, "DECLARE CURSOR can only be used in transaction blocks");
  if (s->options & kBinary) throw SqlError(sqlstate::kFeatureNotSupported, "binary cursors are not supported");
  if (st_.cursors.contains(name)) throw SqlError(sqlstate::kDuplicateCursor, "cursor \"" + name + "\" already exists");
  if (!s->query || s->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
    throw SqlError(sqlstate::kFeatureNotSupported, "DECLARE CURSOR supports SELECT and SUBSCRIBE");
  // The result of the snapshot at DECLARE, kept: FETCH pages through it.
  std::unique_ptr<Execution> rows = run(s->query);
  st_.cursors.declare_rows(name, *rows, (s->options & kNoScroll) == 0, hold, st_.txn == TransactionStatus::kInBlock);
  note_declared(name);
  return done("DECLARE CURSOR");
}

std::unique_ptr<Execution> Executor::run_fetch(const PgQuery__FetchStmt* s) {
  std::string name = s->portalname ? s->portalname : "";
  CursorSet::Cursor& c = st_.cursors.get(name);
  using D = CursorSet::Direction;
  D d = D::kForward;
  switch (s->direction) {
    case PG_QUERY__FETCH_DIRECTION__FETCH_BACKWARD: d = D::kBackward; break;
    case PG_QUERY__FETCH_DIRECTION__FETCH_ABSOLUTE: d = D::kAbsolute; break;
    case PG_QUERY__FETCH_DIRECTION__FETCH_RELATIVE: d = D::kRelative; break;
    default: break;
  }
  int64_t count = s->how_many;
  if (c.stream) {
    if (d != D::kForward || count < 0) throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "cursor can only scan forward");
    std::vector<Row> rows;
    size_t max = count == CursorSet::kAll ? 0 : static_cast<size_t>(count);
    if (s->ismove) throw SqlError(sqlstate::kFeatureNotSupported, "MOVE is not supported on a SUBSCRIBE cursor");
    if (max == 0 && count != CursorSet::kAll) return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), "FETCH 0");
    c.stream->fetch(rows, max);
    std::string tag = "FETCH " + std::to_string(rows.size());
    return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), tag);
  }
  std::vector<Row> rows;
  uint64_t n = st_.cursors.fetch(c, d, count, s->ismove ? nullptr : &rows);
  if (s->ismove) return done("MOVE " + std::to_string(n));
  return std::make_unique<MaterializedExecution>(c.columns, std::move(rows), "FETCH " + std::to_string(n));
}

std::unique_ptr<Execution> Executor::run_copy(const PgQuery__CopyStmt* s) {
  check_copy_source(*s);
  if (!s->is_from) {
    std::unique_ptr<Execution> rows;
    std::string relation;
    if (s->query) {
      if (s->query->node_case != PG_QUERY__NODE__NODE_SELECT_STMT)
        throw SqlError(sqlstate::kFeatureNotSupported, "COPY (query) TO supports only SELECT");
      rows = run(s->query);
    } else {
      // COPY t [(cols)] TO: the table's columns, as a SELECT.
      std::string text = "SELECT ";
      for (size_t i = 0; i < s->n_attlist; ++i) text += (i ? ", " : "") + quote_identifier(str_of(s->attlist[i]));
      if (s->n_attlist == 0) text += "*";
      text += " FROM ";
      if (s->relation->schemaname && *s->relation->schemaname) text += quote_identifier(s->relation->schemaname) + ".";
      text += quote_identifier(s->relation->relname);
      relation = s->relation->relname;
      auto tree = sql::ParseTree::parse(text);
      rows = run(tree->statement(0));
    }
    std::vector<std::string> names;
    for (const auto& c : rows->columns()) names.push_back(c.name);
    CopySpec spec = copy_spec(*s, names, relation);
    return make_copy_to(std::move(rows), std::move(spec));
  }
  std::shared_lock lock(cs_.mu);
  const ObjectInfo& t = table_for_write(s->relation);
  std::vector<size_t> targets;
  for (size_t i = 0; i < s->n_attlist; ++i) {
    std::string name = str_of(s->attlist[i]);
    auto it = std::find_if(t.columns.begin(), t.columns.end(), [&](const auto& c) { return c.name == name; });
    if (it == t.columns.end())
      throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" of relation \"" + t.name + "\" does not exist");
    size_t c = static_cast<size_t>(it - t.columns.begin());
    if (std::find(targets.begin(), targets.end(), c) != targets.end())
      throw SqlError(sqlstate::kDuplicateColumn, "column \"" + name + "\" specified more than once");
    targets.push_back(c);
  }
  if (s->n_attlist == 0)
    for (size_t i = 0; i < t.columns.size(); ++i) targets.push_back(i);
  std::vector<Column> cols;
  std::vector<std::string> names;
  for (size_t c : targets) {
    cols.push_back({t.columns[c].name, t.columns[c].type, static_cast<uint32_t>(t.id), static_cast<int16_t>(c + 1)});
    names.push_back(t.columns[c].name);
  }
  CopySpec spec = copy_spec(*s, names, t.name);
  Coordinator::State* cs = &cs_;
  Session::State* st = &st_;
  auto load = [cs, st, id = t.id, targets](std::vector<Row>& rows) {
    std::vector<Type> no_params;
    Executor ex(*cs, *st, {}, no_params);
    return ex.copy_load(id, targets, rows);
  };
  auto on_error = [st] {
    if (st->txn == TransactionStatus::kInBlock) st->txn = TransactionStatus::kFailed;
  };
  return make_copy_from(std::move(cols), std::move(spec), query_limits().memory_budget_bytes, load, on_error, &st_.cancelled);
}

uint64_t Executor::copy_load(uint64_t table_id, const std::vector<size_t>& targets, std::vector<Row>& rows) {
  begin_write();
  const ObjectInfo* t = catalog_->find(table_id);
  if (!t || t->kind != ObjectKind::kTable) throw SqlError(sqlstate::kUndefinedTable, "the table of this COPY was dropped");
  bool all_given = targets.size() == t->columns.size();
  for (size_t i = 0; all_given && i < targets.size(); ++i) all_given = targets[i] == i;
  std::vector<std::pair<Row, int64_t>> changes;
  changes.reserve(rows.size());
  if (all_given) {
    for (auto& r : rows) changes.emplace_back(std::move(r), 1);
  } else {
    // Columns not given get their defaults, evaluated per row (now(), ...).
    sql::Binder binder(*catalog_, param_types_);
    std::vector<std::optional<dataflow::ScalarExpr>> defaults(t->columns.size());
    std::vector<int> given(t->columns.size(), -1);
    for (size_t k = 0; k < targets.size(); ++k) given[targets[k]] = static_cast<int>(k);
    for (size_t c = 0; c < t->columns.size(); ++c)
      if (given[c] < 0) defaults[c] = sql::lower_simple_expr(default_for(*t, c, binder));
    std::vector<Datum> in, full;
    for (auto& r : rows) {
      in.clear();
      full.clear();
      r.unpack_into(in);
      for (size_t c = 0; c < t->columns.size(); ++c)
        full.push_back(given[c] >= 0 ? in[static_cast<size_t>(given[c])] : dataflow::eval(*defaults[c], in, ctx_));
      changes.emplace_back(Row::pack(full), 1);
      arena_.reset();
    }
  }
  rows.clear();
  dataflow::consolidate(changes);
  uint64_t count = 0;
  for (const auto& [r, n] : changes) count += static_cast<uint64_t>(n);
  write(*t, changes);
  commit_staged();
  return count;
}

}  // namespace

PreparedStatement Session::prepare(std::string_view sql_text, std::span<const Type> param_type_hints) {
  // Any error aborts an open transaction block, also one raised while parsing or binding (as
  // in PostgreSQL: later statements answer 25P02 and COMMIT rolls back).
  try {
    return prepare_in_block(sql_text, param_type_hints);
  } catch (const SqlError&) {
    if (state_->txn == TransactionStatus::kInBlock) state_->txn = TransactionStatus::kFailed;
    throw;
  }
}

PreparedStatement Session::prepare_in_block(std::string_view sql_text, std::span<const Type> param_type_hints) {
  PreparedStatement ps;
  auto refuse_if_failed = [&](bool transaction_statement) {
    if (state_->txn == TransactionStatus::kFailed && !transaction_statement)
      throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
  };
  if (auto st = sql::parse_streaming(sql_text)) {
    refuse_if_failed(false);
    ps.sql = std::string(sql_text);
    ps.param_types.assign(param_type_hints.begin(), param_type_hints.end());
    auto plan = std::make_shared<PreparedPlan>();
    plan->streaming = std::move(st);
    Executor ex(coordinator_, *state_, {}, ps.param_types);
    ps.columns = ex.describe_streaming(*plan->streaming, ps.returns_rows);
    ps.plan = plan;
    for (auto& t : ps.param_types)
      if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
    return ps;
  }
  std::shared_ptr<sql::ParseTree> tree;
  if (state_->split_tree && state_->split_text == sql_text) tree = std::move(state_->split_tree);
  else {
    try {
      tree = sql::ParseTree::parse(sql_text);
    } catch (const SqlError&) {
      // GRANT ... ON SECRET|CONNECTION|SOURCE (Materialize's), not PostgreSQL's grammar.
      auto grant = rewrite_object_grant(sql_text);  // role_statements.hpp
      if (!grant) throw;
      tree = sql::ParseTree::parse(*grant);
    }
  }
  state_->split_tree.reset();
  state_->split_text.clear();
  if (tree->size() > 1) throw SqlError(sqlstate::kSyntaxError, "cannot insert multiple commands into a prepared statement");
  ps.sql = std::string(sql_text);
  ps.param_types.assign(param_type_hints.begin(), param_type_hints.end());
  auto plan = std::make_shared<PreparedPlan>();
  plan->tree = tree;
  ps.plan = plan;
  if (tree->size() == 0) return ps;
  refuse_if_failed(tree->statement(0)->node_case == PG_QUERY__NODE__NODE_TRANSACTION_STMT);
  if (tree->statement(0)->node_case == PG_QUERY__NODE__NODE_EXECUTE_STMT) {
    // EXECUTE returns what its statement returns.
    const PreparedStatement& inner = state_->sql_prepared.get(tree->statement(0)->execute_stmt->name);
    ps.columns = inner.columns;
    ps.returns_rows = inner.returns_rows;
    return ps;
  }
  Executor ex(coordinator_, *state_, {}, ps.param_types);
  ps.columns = ex.describe(tree->statement(0), ps.returns_rows);
  for (auto& t : ps.param_types)
    if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
  return ps;
}

std::optional<std::vector<Column>> Session::cursor_columns(const std::string& name) const {
  CursorSet::Cursor* c = state_->cursors.find(name);
  if (!c) return std::nullopt;
  return c->columns;
}

std::unique_ptr<Execution> Session::execute(const PreparedStatement& stmt, std::span<const Datum> params) {
  if (!stmt.plan || (!stmt.plan->streaming && stmt.plan->tree->size() == 0)) return done("");
  state_->cancelled.store(false);
  state_->statement_text = stmt.sql;
  std::vector<Type> types = stmt.param_types;
  if (params.size() < types.size())
    throw SqlError(sqlstate::kProtocolViolation, "bind message supplies " + std::to_string(params.size()) + " parameters, but prepared statement requires " + std::to_string(types.size()));
  Executor ex(coordinator_, *state_, params, types);
  try {
    // What earlier failed queries left to the reaper is freed before this one may allocate
    // (src/dataflow/reaper.hpp): repeated over-budget queries cannot stack up budgets. A
    // cancel meanwhile cancels this statement.
    dataflow::wait_for_disposals(&state_->cancelled);
    if (stmt.plan->streaming) {
      if (state_->txn == TransactionStatus::kFailed)
        throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
      return ex.run_streaming(*stmt.plan->streaming);
    }
    const PgQuery__Node* node = stmt.plan->tree->statement(0);
    if (node->node_case == PG_QUERY__NODE__NODE_PREPARE_STMT || node->node_case == PG_QUERY__NODE__NODE_EXECUTE_STMT ||
        node->node_case == PG_QUERY__NODE__NODE_DEALLOCATE_STMT) {
      if (state_->txn == TransactionStatus::kFailed)
        throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
      if (node->node_case == PG_QUERY__NODE__NODE_PREPARE_STMT) {
        const auto* p = node->prepare_stmt;
        std::vector<Type> hints = ex.bind_types(p->argtypes, p->n_argtypes);
        state_->sql_prepared.check_free(p->name);
        state_->sql_prepared.add(p->name, prepare_in_block(prepared_statement_text(stmt.sql), hints));
        return done("PREPARE");
      }
      if (node->node_case == PG_QUERY__NODE__NODE_DEALLOCATE_STMT) {
        const char* name = node->deallocate_stmt->name;
        if (name == nullptr || *name == '\0') state_->sql_prepared.clear();  // DEALLOCATE ALL
        else state_->sql_prepared.remove(name);
        return done(name == nullptr || *name == '\0' ? "DEALLOCATE ALL" : "DEALLOCATE");
      }
      auto args = std::make_shared<ExecuteArgs>();
      args->statement = state_->sql_prepared.get(node->execute_stmt->name);
      args->row = ex.eval_execute_args(node->execute_stmt, args->statement.param_types);
      args->row.unpack_into(args->values);
      std::unique_ptr<Execution> inner = execute(args->statement, args->values);
      return with_owned_params(std::move(inner), std::move(args));
    }
    auto exec = ex.run(node);
    if (node->node_case == PG_QUERY__NODE__NODE_DISCARD_STMT && node->discard_stmt->target == PG_QUERY__DISCARD_MODE__DISCARD_ALL)
      state_->sql_prepared.clear();
    return exec;
  } catch (const SqlError&) {
    if (state_->txn == TransactionStatus::kInBlock) state_->txn = TransactionStatus::kFailed;
    throw;
  }
}

void Session::begin_implicit_block() {
  if (state_->txn != TransactionStatus::kIdle) return;  // in an explicit block already
  state_->txn = TransactionStatus::kInBlock;
  state_->implicit = true;
}

void Session::end_implicit_block(bool ok) {
  if (!state_->implicit) return;  // made explicit by a BEGIN: it outlives the query
  state_->implicit = false;
  std::vector<Type> no_params;
  Executor ex(coordinator_, *state_, {}, no_params);
  if (ok && state_->txn == TransactionStatus::kInBlock) {
    try {
      ex.commit_open_block();
    } catch (...) {
      ex.rollback_block();
      throw;
    }
  } else {
    ex.rollback_block();
  }
}

SinkInput attach_sink_input(Coordinator::State& state, const SinkEntry& entry) {
  Session::State dummy;
  std::vector<Type> no_params;
  Executor ex(state, dummy, {}, no_params);
  return ex.sink_input(entry);
}

}  // namespace freshet::server

namespace freshet::server {

// Start-up (see coordinator_state.hpp). Runs before any session exists: no locking needed,
// but the executor's helpers expect the lock's discipline, so it is taken anyway.
void Coordinator::State::recover() {
  std::unique_lock lock(mu);
  auto loaded = persist->load_catalog();
  if (!loaded) throw SqlError(sqlstate::kIoError, "cannot read the catalog: " + loaded.status().message());
  size_t nobjects = loaded->objects.size();
  for (auto& [obj, deps] : loaded->objects) catalog.restore(std::move(obj), deps);
  if (loaded->roles) {
    try {
      catalog.restore_roles(RoleState::from_json(*loaded->roles));
    } catch (const std::exception& e) {
      throw SqlError(sqlstate::kIoError, std::string("the catalog's roles record is unreadable: ") + e.what());
    }
  }
  for (const auto& s : loaded->sources) catalog.note_id(s.id);
  // Tables.
  auto load_row = [&](uint64_t tid, const sql::ObjectInfo* t, Row row, int64_t count) {
        TableData* data = catalog.table_data(tid);
        if (!data) return;
        data->rows[row] += count;
        data->version = next_table_version();
        std::vector<Datum> ds = row.unpack();
        auto key_row = [&](const std::vector<uint32_t>& cols, bool& has_null) {
          std::vector<Datum> k;
          has_null = false;
          for (auto c : cols) {
            k.push_back(ds[c]);
            has_null |= ds[c].is_null();
          }
          return Row::pack(k);
        };
        size_t nkeys = (t->primary_key.empty() ? 0 : 1) + t->unique_keys.size();
        if (data->key_counts.size() < nkeys) data->key_counts.resize(nkeys);
        size_t ki = 0;
        bool has_null = false;
        if (!t->primary_key.empty()) {
          Row k = key_row(t->primary_key, has_null);
          data->by_key[k] = row;
          data->key_counts[ki++][k] += count;
        }
        for (const auto& u : t->unique_keys) {
          Row k = key_row(u, has_null);
          if (!has_null) data->key_counts[ki][k] += count;
          ++ki;
        }
      };
  auto find_table = [&](uint64_t id) -> const sql::ObjectInfo* { return catalog.find(id); };
  uint64_t applied_block_seq = 0;
  Status ts = persist->load_tables(load_row, find_table, &applied_block_seq);
  if (!ts) throw SqlError(sqlstate::kIoError, "cannot read the tables: " + ts.message());
  // A transaction block with DDL whose catalog batch (its commit point) is durable and whose
  // table records are not: written now, then the tables are read again (transaction.hpp).
  auto redone = redo_block_commit(*persist, *loaded, applied_block_seq);
  if (!redone) throw SqlError(sqlstate::kIoError, "cannot redo a committed transaction: " + redone.status().message());
  if (*redone) {
    for (const auto& [id, o] : catalog.objects())
      if (TableData* data = catalog.table_data(id)) *data = TableData{};
    ts = persist->load_tables(load_row, find_table);
    if (!ts) throw SqlError(sqlstate::kIoError, "cannot read the tables: " + ts.message());
  }
  last_block_seq = std::max(loaded->block_seq, applied_block_seq);
  // Unique indexes check their tables' writes again (in creation order, as they were built).
  for (const auto& [id, o] : catalog.objects()) {
    if (o->kind != sql::ObjectKind::kIndex || !o->index_unique) continue;
    const sql::ObjectInfo* t = catalog.find(o->index_on);
    TableData* data = catalog.table_data(o->index_on);
    if (t && data) add_unique_index(*t, *data, *o, count_keys(*data, o->index_key));
  }
  // Sources: their tables' rows, and the position to resume from.
  for (const auto& s : loaded->sources) {
    auto stmt = sql::parse_streaming(s.create_sql);
    if (!stmt) {
      std::fprintf(stderr, "freshet: source %s: its definition no longer parses; skipped\n", s.name.c_str());
      continue;
    }
    auto entry = std::make_shared<SourceEntry>();
    entry->id = s.id;
    entry->name = s.name;
    entry->create_sql = s.create_sql;
    entry->table_ids = s.table_ids;
    entry->schemas_set = true;
    entry->single_table_named_after_source = s.single_table_named_after_source;
    entry->stopped_tables = s.stopped;
    entry->status.state = "starting";
    std::optional<std::string> checkpoint;
    Status ls = persist->load_source(
        s.id,
        [&](uint32_t table, Row key, Row row) {
          if (table >= entry->table_ids.size() || entry->table_ids[table] == 0) return;
          TableData* data = catalog.table_data(entry->table_ids[table]);
          if (!data) return;
          data->rows[row] += 1;
          data->version = next_table_version();
          data->by_key[dataflow::canonical_row(key.ref())] = std::move(row);
        },
        checkpoint);
    if (!ls) {
      entry->status.state = "error";
      entry->status.last_error = "cannot read the source's data: " + ls.message();
      sources[entry->id] = entry;
      continue;
    }
    try {
      build_source(*this, *stmt, *entry);
    } catch (const SqlError& e) {
      entry->status.state = "error";
      entry->status.last_error = e.message();
      sources[entry->id] = entry;
      continue;
    }
    entry->sink = make_source_sink(*this, entry);
    if (checkpoint) entry->position = *checkpoint;  // shown by mz_source_statuses until the next apply
    sources[entry->id] = entry;
    sources_to_start.push_back({entry, checkpoint});
  }
  // Hydration: indexes on views and materialized views, in creation order, by the restart
  // hydrator after start-up (hydrate_after_restart), while the server serves. Until a view's
  // dataflow is there, reads compute it: a view counts as not maintained (in memory only),
  // a materialized view without its dataflow is computed by snapshot_fn.
  for (const auto& [id, o] : catalog.objects()) {
    sql::ObjectInfo* target = o->kind == sql::ObjectKind::kIndex ? catalog.find(o->index_on) : o.get();
    if (!target || (target->kind != sql::ObjectKind::kView && target->kind != sql::ObjectKind::kMaterializedView)) continue;
    if (o->kind != sql::ObjectKind::kMaterializedView && o->kind != sql::ObjectKind::kIndex) continue;
    if (target->kind == sql::ObjectKind::kView) target->maintained = false;
    std::lock_guard lk(compute_mu);
    restart_pending.push_back({id, target->id, target->name});
  }
  // Sinks: rebuilt from their statements; their threads start with the sources.
  for (const auto& [id, o] : catalog.objects()) {
    if (o->kind != sql::ObjectKind::kSink) continue;
    try {
      auto stmt = sql::parse_streaming(o->definition_sql);
      if (!stmt || stmt->kind != sql::StreamingStatement::Kind::kCreateSink) throw SqlError(sqlstate::kInternalError, "its definition no longer parses");
      auto entry = build_sink(*this, *stmt);
      entry->id = id;
      sinks[id] = entry;
    } catch (const SqlError& e) {
      std::fprintf(stderr, "freshet: sink %s cannot be restored: %s\n", o->name.c_str(), e.message().c_str());
    }
  }
  if (nobjects > 0)
    std::fprintf(stderr, "freshet: restored %zu catalog objects, %zu sources, %zu sinks\n", nobjects, loaded->sources.size(), sinks.size());
}

void Coordinator::State::hydrate_after_restart() {
  size_t total, done_count = 0;
  {
    std::lock_guard lk(compute_mu);
    total = restart_pending.size();
  }
  Session::State dummy;
  std::vector<Type> no_params;
  {
    std::lock_guard lk(compute_mu);
    hydrator_cancel = &dummy.cancelled;  // set at shutdown: the hydration in progress stops
    if (shutting_down) dummy.cancelled = true;
  }
  struct Unregister {
    State& s;
    ~Unregister() {
      std::lock_guard lk(s.compute_mu);
      s.hydrator_cancel = nullptr;
    }
  } unregister{*this};
  while (true) {
    uint64_t id;
    {
      std::lock_guard lk(compute_mu);
      if (restart_pending.empty() || shutting_down) break;
      id = restart_pending.front().object_id;
    }
    auto t0 = std::chrono::steady_clock::now();
    std::string name;
    size_t rows = 0;
    try {
      DdlLock lock(*this);
      sql::ObjectInfo* o = catalog.find(id);
      sql::ObjectInfo* target = !o ? nullptr : o->kind == sql::ObjectKind::kIndex ? catalog.find(o->index_on) : o;
      if (o && target) {
        name = o->name;
        Executor hx(*this, dummy, {}, no_params);
        std::vector<uint32_t> key = o->kind == sql::ObjectKind::kIndex ? o->index_key : std::vector<uint32_t>{};
        if (Maintained* m = find_maintained(target->id)) {
          // Hydrated already (an earlier index on the same view, or a statement since start-up).
          Maintained* idle = read_maintained(target->id);
          if (idle && !key.empty() && idle->find_index(key) < 0) idle->add_index(key);
          rows = m->records();
        } else {
          const uint64_t tid = target->id;
          try {
            hx.hydrate_for_restart(lock, *target, key);
          } catch (const SqlError& e) {
            if (e.sqlstate() == sqlstate::kAdminShutdown || dummy.cancelled) throw SqlError(sqlstate::kAdminShutdown, "shutting down");
            // Errors are data: the object answers its error (as it did before the restart)
            // until the rows causing it are gone (retry_failed_dataflows).
            std::fprintf(stderr, "freshet: could not hydrate %s, it answers the error until its data allows it: %s\n",
                         name.c_str(), e.message().c_str());
            if (sql::ObjectInfo* t = catalog.find(tid); t && !find_maintained(tid)) {
              Maintained& m = hx.maintain_failed(*t, e);
              if (!key.empty() && m.find_index(key) < 0) m.add_index(key);
            }
          }
          if (sql::ObjectInfo* t = catalog.find(tid); t && t->kind == sql::ObjectKind::kView) t->maintained = true;
          if (Maintained* m2 = find_maintained(tid)) rows = m2->records();
        }
      }
    } catch (const SqlError& e) {
      if (e.sqlstate() == sqlstate::kAdminShutdown) break;
      std::fprintf(stderr, "freshet: %s cannot be served: %s\n", name.c_str(), e.message().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "freshet: %s cannot be served: %s\n", name.c_str(), e.what());
    }
    {
      std::lock_guard lk(compute_mu);
      if (!restart_pending.empty()) restart_pending.pop_front();
    }
    ++done_count;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!name.empty())
      std::fprintf(stderr, "freshet: hydrated %s (%zu of %zu): %zu rows in %lld ms\n", name.c_str(), done_count, total, rows,
                   static_cast<long long>(ms));
  }
  // Sinks start once what they read is hydrated.
  {
    std::lock_guard lk(compute_mu);
    if (shutting_down) return;
  }
  std::vector<std::shared_ptr<SinkEntry>> to_start;
  {
    std::shared_lock lock(mu);
    for (const auto& [id, e] : sinks) to_start.push_back(e);
  }
  for (auto& e : to_start) start_sink(*this, e);
}

void Coordinator::State::retry_failed_dataflows() {
  auto now = std::chrono::steady_clock::now();
  std::vector<uint64_t> ids;
  {
    std::lock_guard lk(compute_mu);
    for (const auto& m : maintained) {
      Maintained::ComputeState& c = m->compute;
      // At most one attempt per kRetryInterval, and never more than a fifth of the time: a
      // rehydration holds mu exclusively.
      if (c.failed.empty() || !c.retry || c.dropped || now - c.last_retry < std::max<std::chrono::steady_clock::duration>(kRetryInterval, 4 * c.retry_cost))
        continue;
      bool read_by_others = false;
      for (const auto& other : maintained)
        for (auto in : other->inputs()) read_by_others |= in == m->id();
      for (const auto& [id, qs] : subscribers) read_by_others |= id == m->id() && !qs.empty();
      c.retry = false;
      c.last_retry = now;
      if (read_by_others) continue;
      ids.push_back(m->id());
    }
  }
  if (ids.empty()) return;
  wait_compute_idle();  // inputs that are dataflows are read at the newest step
  Session::State dummy;
  std::vector<Type> no_params;
  for (uint64_t id : ids) {
    sql::ObjectInfo* o = catalog.find(id);
    Maintained* old = find_maintained(id);
    if (!o || !old || (o->kind != sql::ObjectKind::kView && o->kind != sql::ObjectKind::kMaterializedView)) continue;
    std::vector<std::vector<uint32_t>> keys;
    for (size_t i = 0; i < old->num_indexes(); ++i) keys.push_back(old->index_columns(i));
    std::string was = old->compute.failed;
    auto t0 = std::chrono::steady_clock::now();
    drop_maintained(id);
    Maintained* m = nullptr;
    try {
      Executor hx(*this, dummy, {}, no_params);
      m = &hx.maintain_for_recovery(*o);
      if (o->kind == sql::ObjectKind::kMaterializedView && persist) {
        // maintain_view stored the new contents; rows stored before that are gone now go too.
        if (auto c = persist->store().get(id)) {
          RowDiffs gone;
          if (auto snap = c->snapshot())
            for (auto& rec : snap->records)
              if (rec.value && m->count_of(rec.key.ref()) == 0) gone.push_back({rec.key, -rec.value->get(0).as_int()});
          if (!gone.empty())
            if (Status ps = persist->write_mv(id, now_ts, gone, [&](const Row& r) { return m->count_of(r.ref()); }); !ps)
              std::fprintf(stderr, "freshet: could not store materialized view %s: %s\n", o->name.c_str(), ps.message().c_str());
        }
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "freshet: dataflow \"%s\" works again (its inputs no longer cause \"%s\"): %zu rows in %lld ms\n",
                   o->name.c_str(), was.c_str(), m->records(), static_cast<long long>(ms));
    } catch (const SqlError& e) {
      try {
        Executor fx(*this, dummy, {}, no_params);
        m = &fx.maintain_failed(*o, e);
        auto t1 = std::chrono::steady_clock::now();
        std::lock_guard lk(compute_mu);
        m->compute.last_retry = t1;  // the next attempt after kRetryInterval (or 4 x its cost)
        m->compute.retry_cost = t1 - t0;
      } catch (const SqlError& e2) {
        std::fprintf(stderr, "freshet: %s cannot be served: %s\n", o->name.c_str(), e2.message().c_str());
        continue;
      }
    }
    for (const auto& k : keys)
      if (m->find_index(k) < 0) m->add_index(k);
  }
}

void Coordinator::State::start_sources() {
  // Sinks are started by the restart hydrator once the dataflows are hydrated.
  hydrator = std::thread([this] { hydrate_after_restart(); });
  auto list = std::move(sources_to_start);
  sources_to_start.clear();
  for (auto& [entry, checkpoint] : list) {
    Status s = entry->source->start(*entry->sink, checkpoint);
    if (!s) {
      std::lock_guard g(entry->mu);
      entry->status.state = "error";
      entry->status.last_error = s.message();
      std::fprintf(stderr, "freshet: source %s could not resume: %s\n", entry->name.c_str(), s.message().c_str());
    }
  }
}

}  // namespace freshet::server

namespace freshet::server {

void produce_into_table(Coordinator::State& cs, uint64_t table_id, const std::vector<std::pair<Row, std::optional<Row>>>& records) {
  Session::State dummy;
  std::vector<Type> no_params;
  Executor ex(cs, dummy, {}, no_params);
  ex.begin_produce();
  const sql::ObjectInfo* t = cs.catalog.find(table_id);
  TableData* data = cs.catalog.table_data(table_id);
  if (!t || !data) throw SqlError(sqlstate::kUndefinedTable, "the table was dropped");
  RowDiffs changes;
  // The rows as of the changes made so far in this batch, by key.
  std::unordered_map<Row, std::optional<Row>, RowHash> now;
  std::vector<Datum> ds;
  for (const auto& [key, value] : records) {
    if (value) {
      ds.clear();
      value->unpack_into(ds);
      if (ds.size() != t->columns.size())
        throw SqlError(sqlstate::kDatatypeMismatch, "a record for " + t->name + " has " + std::to_string(ds.size()) +
                                                        " columns; the table has " + std::to_string(t->columns.size()));
    }
    if (t->primary_key.empty()) {
      if (value) changes.push_back({*value, 1});
      else {
        auto it = data->rows.find(key);
        if (it != data->rows.end()) changes.push_back({key, -it->second});
      }
      continue;
    }
    Row k = key;
    if (value) {
      std::vector<Datum> kd;
      for (auto c : t->primary_key) kd.push_back(ds[c]);
      k = Row::pack(kd);
    }
    auto it = now.find(k);
    if (it == now.end()) {
      auto cur = data->by_key.find(k);
      it = now.emplace(k, cur == data->by_key.end() ? std::nullopt : std::optional<Row>(cur->second)).first;
    }
    if (it->second) changes.push_back({*it->second, -1});
    if (value) changes.push_back({*value, 1});
    it->second = value;
  }
  if (changes.empty()) return;
  ex.write_for_produce(*t, changes);
  ex.commit_produce();
}

}  // namespace freshet::server
