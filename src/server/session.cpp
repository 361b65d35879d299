// Sessions: their settings, transaction state, cursors and prepared statements. Statements are
// executed by the sequencer (sequencer/executor.hpp, one file per kind of statement).
#include "server/session.hpp"
#include "server/sequencer/executor.hpp"

#include <mutex>
#include <shared_mutex>

#include "common/statement_interrupt.hpp"

namespace freshet::server {

// What a prepared statement keeps: its parse and its plan (sql/plan.hpp), or a Materialize
// statement (streaming_parser.hpp).
struct PreparedPlan {
  std::shared_ptr<sql::ParseTree> tree;
  std::optional<sql::Plan> plan;  // of tree's one statement
  std::optional<sql::StreamingStatement> streaming;
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
  state_->txn_read_only.reset();
  state_->txn_queried = false;
  state_->mz_txn_ops = MzTxnOps::kNone;
  state_->mz_deferred.clear();
  state_->block_reads = {};
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
  // The query's one statement as split() parsed it. An INSERT that PostgreSQL's grammar parsed
  // (without WITH) is no streaming statement (none of them starts with INSERT, and WITH
  // MUTUALLY RECURSIVE is not PostgreSQL's grammar): it skips parse_streaming, whose tokenizing
  // the statement twice cost about 16% of a 1,000-row INSERT's server CPU and 6% of a one-row
  // INSERT's.
  std::shared_ptr<sql::ParseTree> tree;
  if (state_->split_tree && state_->split_text == sql_text) tree = std::move(state_->split_tree);
  state_->split_tree.reset();
  state_->split_text.clear();
  const bool plain_insert = tree && tree->size() == 1 && tree->statement(0)->node_case == PG_QUERY__NODE__NODE_INSERT_STMT &&
                            tree->statement(0)->insert_stmt->with_clause == nullptr;
  if (auto st = (tree && (tree->bulk_insert() || plain_insert)) ? std::nullopt : sql::parse_streaming(sql_text)) {
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
  if (!tree) {
    try {
      tree = sql::ParseTree::parse(sql_text);
    } catch (const SqlError&) {
      // GRANT ... ON SECRET|CONNECTION|SOURCE (Materialize's), not PostgreSQL's grammar.
      auto grant = rewrite_object_grant(sql_text);  // role_statements.hpp
      if (!grant) throw;
      tree = sql::ParseTree::parse(*grant);
    }
  }
  if (tree->size() > 1) throw SqlError(sqlstate::kSyntaxError, "cannot insert multiple commands into a prepared statement");
  ps.sql = std::string(sql_text);
  ps.param_types.assign(param_type_hints.begin(), param_type_hints.end());
  auto plan = std::make_shared<PreparedPlan>();
  plan->tree = tree;
  if (tree->size() == 1) plan->plan = sql::plan_statement(tree->statement(0), is_role_statement);
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
  ps.columns = ex.describe(tree->statement(0), ps.returns_rows, tree->bulk_insert());
  for (auto& t : ps.param_types)
    if (t.id == TypeId::kUnknown) t = Type(TypeId::kText);
  return ps;
}

std::optional<std::vector<Column>> Session::cursor_columns(const std::string& name) const {
  CursorSet::Cursor* c = state_->cursors.find(name);
  if (!c) return std::nullopt;
  return c->columns;
}

// A prepared FETCH (Materialize's PREPARE p AS FETCH ...) returns what its cursor returns: when
// the cursor of that name now has other columns than when the FETCH was prepared (a cursor
// declared again), EXECUTE is refused as PostgreSQL refuses a prepared statement whose result
// changed, rather than sending rows of another shape than described.
void Session::check_fetch_result_type(const PreparedStatement& ps) const {
  if (!ps.plan || ps.columns.empty()) return;  // prepared before its cursor existed
  std::string cursor;
  if (ps.plan->streaming && ps.plan->streaming->kind == sql::StreamingStatement::Kind::kFetch) {
    cursor = ps.plan->streaming->cursor;
  } else if (ps.plan->tree && ps.plan->tree->size() == 1 && ps.plan->tree->statement(0)->node_case == PG_QUERY__NODE__NODE_FETCH_STMT) {
    const auto* f = ps.plan->tree->statement(0)->fetch_stmt;
    if (f->ismove || !f->portalname) return;
    cursor = f->portalname;
  } else {
    return;
  }
  std::optional<std::vector<Column>> now = cursor_columns(cursor);
  if (!now) return;  // FETCH reports the missing cursor (34000)
  bool same = now->size() == ps.columns.size();
  for (size_t i = 0; same && i < now->size(); ++i) same = (*now)[i].name == ps.columns[i].name && (*now)[i].type == ps.columns[i].type;
  if (!same) throw SqlError(sqlstate::kFeatureNotSupported, "cached plan must not change result type");
}

std::unique_ptr<Execution> Session::execute(const PreparedStatement& stmt, std::span<const Datum> params) {
  if (!stmt.plan || (!stmt.plan->streaming && stmt.plan->tree->size() == 0)) return done("");
  state_->cancelled.store(false);
  state_->statement_text = stmt.sql;
  std::vector<Type> types = stmt.param_types;
  if (params.size() < types.size())
    throw SqlError(sqlstate::kProtocolViolation, "bind message supplies " + std::to_string(params.size()) + " parameters, but prepared statement requires " + std::to_string(types.size()));
  Executor ex(coordinator_, *state_, params, types);
  // pg_sleep and other waits inside functions stop for a cancel or statement_timeout.
  StatementInterrupt interrupt;
  interrupt.cancelled = &state_->cancelled;
  if (auto it = state_->settings.find("statement_timeout"); it != state_->settings.end())
    if (auto ms = parse_duration_ms(it->second); ms && *ms > 0) interrupt.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(*ms);
  StatementInterruptScope interrupt_scope(state_->backend_pid, interrupt);
  try {
    // What earlier failed queries left to the reaper is freed before this one may allocate
    // (src/dataflow/reaper.hpp): repeated over-budget queries cannot stack up budgets. A
    // cancel meanwhile cancels this statement.
    dataflow::wait_for_disposals(&state_->cancelled);
    if (stmt.plan->streaming) {
      if (state_->txn == TransactionStatus::kFailed)
        throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
      if (stmt.plan->streaming->kind == sql::StreamingStatement::Kind::kPrepareFetch) {
        const auto& st = *stmt.plan->streaming;
        state_->sql_prepared.check_free(st.object);
        state_->sql_prepared.add(st.object, prepare_in_block(st.query, {}));
        return done("PREPARE");
      }
      return ex.run_streaming(*stmt.plan->streaming);
    }
    const PgQuery__Node* node = stmt.plan->tree->statement(0);
    const sql::Plan& plan = *stmt.plan->plan;
    const bool sql_prepared = std::holds_alternative<sql::PreparePlan>(plan) || std::holds_alternative<sql::ExecutePlan>(plan) ||
                              std::holds_alternative<sql::DeallocatePlan>(plan);
    if (sql_prepared && state_->txn == TransactionStatus::kFailed)
      throw SqlError(sqlstate::kInFailedSqlTransaction, "current transaction is aborted, commands ignored until end of transaction block");
    if (const auto* p = std::get_if<sql::PreparePlan>(&plan)) {
      std::vector<Type> hints = ex.bind_types(p->stmt->argtypes, p->stmt->n_argtypes);
      state_->sql_prepared.check_free(p->stmt->name);
      state_->sql_prepared.add(p->stmt->name, prepare_in_block(prepared_statement_text(stmt.sql), hints));
      return done("PREPARE");
    }
    if (const auto* p = std::get_if<sql::DeallocatePlan>(&plan)) {
      if (!p->name) state_->sql_prepared.clear();  // DEALLOCATE ALL
      else state_->sql_prepared.remove(*p->name);
      return done(p->name ? "DEALLOCATE" : "DEALLOCATE ALL");
    }
    if (const auto* p = std::get_if<sql::ExecutePlan>(&plan)) {
      auto args = std::make_shared<ExecuteArgs>();
      args->statement = state_->sql_prepared.get(p->stmt->name);
      check_fetch_result_type(args->statement);
      args->row = ex.eval_execute_args(p->stmt, args->statement.param_types);
      args->row.unpack_into(args->values);
      std::unique_ptr<Execution> inner = execute(args->statement, args->values);
      return with_owned_params(std::move(inner), std::move(args));
    }
    auto exec = ex.run(plan, node);
    if (const auto* d = std::get_if<sql::DiscardPlan>(&plan); d && d->all) state_->sql_prepared.clear();
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

}  // namespace freshet::server
