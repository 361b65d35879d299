// BEGIN, COMMIT, ROLLBACK, SAVEPOINT; blocks that ran DDL.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

std::unique_ptr<Execution> Executor::run_transaction(const sql::TransactionPlan& p) {
  using K = sql::TransactionPlan::Kind;
  // COMMIT/ROLLBACK AND CHAIN: a new block starts at once, with the same access mode.
  const std::optional<bool> chain_read_only = st_.txn_read_only;
  auto chain = [&] {
    if (!p.chain) return;
    st_.txn = TransactionStatus::kInBlock;
    st_.txn_read_only = chain_read_only;
  };
  if (p.chain && (st_.txn == TransactionStatus::kIdle || st_.implicit))
    throw SqlError(sqlstate::kNoActiveSqlTransaction,
                   std::string(p.kind == K::kCommit ? "COMMIT" : "ROLLBACK") +
                       " AND CHAIN can only be used in transaction blocks");
  switch (p.kind) {
    case K::kBegin:
    case K::kStartTransaction:
      if (st_.txn == TransactionStatus::kIdle) st_.txn = TransactionStatus::kInBlock;
      st_.implicit = false;  // BEGIN in an implicit block makes it explicit, with what ran before
      // BEGIN inside a block keeps its mode unless it names one (PostgreSQL applies the
      // options of a nested BEGIN, with the same checks as SET TRANSACTION).
      apply_transaction_options(p.stmt->options, p.stmt->n_options);
      return done(p.kind == K::kBegin ? "BEGIN" : "START TRANSACTION");
    case K::kCommit: {
      if (st_.txn == TransactionStatus::kFailed) {
        rollback_block();
        chain();
        return done("ROLLBACK");
      }
      std::vector<sql::StreamingStatement> deferred = std::move(st_.mz_deferred);
      st_.mz_deferred.clear();
      commit_open_block();
      mz_run_deferred(std::move(deferred));
      chain();
      return done("COMMIT");
    }
    case K::kRollback:
      rollback_block();
      chain();
      return done("ROLLBACK");
    case K::kSavepoint:
    case K::kRelease:
    case K::kRollbackTo:
      return run_savepoint(p);
    case K::kTwoPhase:
      break;
  }
  throw SqlError(sqlstate::kFeatureNotSupported, "two-phase commit is not supported");
}

namespace {
bool setting_on(std::string_view v) {
  std::string l = sql::lower_ident(std::string(v));
  return l == "on" || l == "true" || l == "1" || l == "yes" || l == "t";
}
}  // namespace

bool Executor::txn_read_only() const {
  if (st_.txn_read_only) return *st_.txn_read_only;
  auto it = st_.settings.find("default_transaction_read_only");
  return it != st_.settings.end() && setting_on(it->second);
}

void Executor::set_txn_read_only(bool read_only) {
  if (st_.txn != TransactionStatus::kInBlock) return;  // outside a block it has no effect
  if (!read_only && txn_read_only() && st_.txn_queried)
    throw SqlError(sqlstate::kActiveSqlTransaction, "transaction read-write mode must be set before any query");
  st_.txn_read_only = read_only;
}

void Executor::check_isolation_change(std::string_view level) {
  if (st_.txn != TransactionStatus::kInBlock || !st_.txn_queried) return;
  // The level the block runs at: strict serializable unless the session chose serializable.
  const std::string current = st_.serializable_reads ? "serializable" : "strict serializable";
  if (sql::lower_ident(std::string(level)) != current)
    throw SqlError(sqlstate::kActiveSqlTransaction, "SET TRANSACTION ISOLATION LEVEL must be called before any query");
}

void Executor::apply_transaction_options(PgQuery__Node* const* options, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
    const auto* d = options[i]->def_elem;
    const std::string name = d->defname ? d->defname : "";
    const PgQuery__Node* arg = d->arg;
    if (!arg || arg->node_case != PG_QUERY__NODE__NODE_A_CONST) continue;
    const auto* c = arg->a_const;
    if (name == "transaction_read_only" && c->val_case == PG_QUERY__A__CONST__VAL_IVAL)
      set_txn_read_only(c->ival->ival != 0);
    else if (name == "transaction_isolation" && c->val_case == PG_QUERY__A__CONST__VAL_SVAL)
      check_isolation_change(c->sval->sval);
  }
}

void Executor::refuse_write_if_read_only(const char* what) {
  if (what && txn_read_only()) {
    if (materialize_dialect()) throw SqlError(sqlstate::kReadOnlySqlTransaction, "transaction in read-only mode");
    throw SqlError(sqlstate::kReadOnlySqlTransaction, std::string("cannot execute ") + what + " in a read-only transaction");
  }
}

namespace {
// An INSERT source Materialize runs in a block: VALUES of expressions that read no relation
// (literals, parameters, casts, operators and function calls over them, subqueries without a
// FROM clause).
bool constant_item(const PgQuery__Node* n, int depth = 0);
bool constant_select(const PgQuery__SelectStmt* s, int depth) {
  if (!s || depth > 64 || s->n_from_clause != 0 || s->with_clause || s->op != PG_QUERY__SET_OPERATION__SETOP_NONE) return false;
  for (size_t i = 0; i < s->n_target_list; ++i)
    if (s->target_list[i]->node_case != PG_QUERY__NODE__NODE_RES_TARGET || !constant_item(s->target_list[i]->res_target->val, depth + 1))
      return false;
  if (s->where_clause && !constant_item(s->where_clause, depth + 1)) return false;
  if (s->having_clause && !constant_item(s->having_clause, depth + 1)) return false;
  for (size_t i = 0; i < s->n_sort_clause; ++i)
    if (s->sort_clause[i]->node_case != PG_QUERY__NODE__NODE_SORT_BY || !constant_item(s->sort_clause[i]->sort_by->node, depth + 1))
      return false;
  for (size_t r = 0; r < s->n_values_lists; ++r)
    for (size_t k = 0; k < s->values_lists[r]->list->n_items; ++k)
      if (!constant_item(s->values_lists[r]->list->items[k], depth + 1)) return false;
  return true;
}
bool constant_item(const PgQuery__Node* n, int depth) {
  if (!n || depth > 64) return false;
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
    case PG_QUERY__NODE__NODE_PARAM_REF:
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT:
    case PG_QUERY__NODE__NODE_SQLVALUE_FUNCTION:
      return true;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
      return constant_item(n->type_cast->arg, depth + 1);
    case PG_QUERY__NODE__NODE_A_EXPR:
      return (!n->a_expr->lexpr || constant_item(n->a_expr->lexpr, depth + 1)) &&
             (!n->a_expr->rexpr || constant_item(n->a_expr->rexpr, depth + 1));
    case PG_QUERY__NODE__NODE_SUB_LINK:
      return n->sub_link->subselect && n->sub_link->subselect->node_case == PG_QUERY__NODE__NODE_SELECT_STMT &&
             (!n->sub_link->testexpr || constant_item(n->sub_link->testexpr, depth + 1)) &&
             constant_select(n->sub_link->subselect->select_stmt, depth + 1);
    case PG_QUERY__NODE__NODE_FUNC_CALL:
      for (size_t i = 0; i < n->func_call->n_args; ++i)
        if (!constant_item(n->func_call->args[i], depth + 1)) return false;
      return !n->func_call->agg_filter && !n->func_call->over;
    default:
      return false;
  }
}
bool constant_insert(const PgQuery__InsertStmt* s) {
  return values_insert_of(s, [](const PgQuery__Node* n) { return constant_item(n); });
}
}  // namespace

// Materialize runs these only outside a transaction block (or, in an explicit block, an INSERT
// of constant rows): an INSERT that reads relations or returns rows, UPDATE, DELETE, and in a
// multi-statement query's implicit block any statement that changes the catalog. (Freshet's
// own rules, PostgreSQL's, allow them all; src/common/README.md "SQL dialect".)
void Executor::mz_check_block_statement(const sql::Plan& plan, const PgQuery__Node* stmt) {
  if (!materialize_dialect() || st_.txn != TransactionStatus::kInBlock) return;
  auto refuse = [&] {
    std::string text = st_.statement_text;
    while (!text.empty() && (text.back() == ';' || std::isspace(static_cast<unsigned char>(text.back())))) text.pop_back();
    throw SqlError(sqlstate::kActiveSqlTransaction, text + " cannot be run inside a transaction block");
  };
  if (std::holds_alternative<sql::InsertPlan>(plan)) {
    if (!constant_insert(stmt->insert_stmt)) refuse();
    mz_add_txn_ops(MzTxnOps::kWrites);
  } else if (std::holds_alternative<sql::UpdatePlan>(plan) || std::holds_alternative<sql::DeletePlan>(plan)) {
    refuse();
  } else if (st_.implicit && sql::changes_catalog(plan) && !std::holds_alternative<sql::RenamePlan>(plan)) {
    refuse();
  } else if ((st_.mz_txn_ops == MzTxnOps::kDdl || st_.mz_txn_ops == MzTxnOps::kSingle) && sql::changes_catalog(plan)) {
    mz_add_txn_ops(MzTxnOps::kPeeks);  // 25000: only deferred DDL joins a block's deferred DDL
  }
}

// Materialize runs a CREATE SOURCE or an ALTER ... RENAME of an explicit block as the
// block's DDL operations, applied at COMMIT, and a DROP as the block's single statement, run
// at COMMIT; other statements in such a block are refused (25000). Freshet answers them now,
// after the checks that need no connector (names), and runs them when the block commits: a
// source's connector is external work that a ROLLBACK could not undo. A block that already
// changed the catalog (Freshet's transactional DDL, which Materialize runs as a single
// statement at COMMIT) takes none of them.
std::unique_ptr<Execution> Executor::mz_defer(const sql::StreamingStatement& st) {
  using K = sql::StreamingStatement::Kind;
  if (st_.block) throw SqlError(sqlstate::kInvalidTransactionState, "this transaction can only execute a single statement");
  mz_add_txn_ops(st.kind == K::kDrop ? MzTxnOps::kSingle : MzTxnOps::kDdl);
  st_.txn_queried = true;
  std::string tag;
  {
    std::shared_lock lock(cs_.mu);
    // The names as the block's earlier statements leave them.
    auto source_named = [&](const std::string& name) {
      bool found = false;
      for (const auto& [id, e] : cs_.sources) found = found || e->name == name;
      for (const auto& d : st_.mz_deferred) {
        if (d.kind == K::kRenameSource && d.object == name) found = false;
        if ((d.kind == K::kRenameSource && d.value == name) || (d.kind == K::kCreateSource && d.object == name)) found = true;
      }
      return found;
    };
    auto taken = [&](const std::string& name) { return catalog_->lookup("public", name) != nullptr || source_named(name); };
    if (st.kind == K::kCreateSource) {
      tag = "CREATE SOURCE";
      if (taken(st.object)) {
        if (st.if_not_exists) return done(tag);
        throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.object + "' already exists");
      }
    } else if (st.kind == K::kRenameSource) {
      tag = "ALTER SOURCE";
      if (!source_named(st.object)) {
        if (st.if_exists) return done(tag);
        throw SqlError(sqlstate::kUndefinedObject, "unknown catalog item '" + st.object + "'");
      }
      if (st.value != st.object && taken(st.value))
        throw SqlError(sqlstate::kDuplicateObject, "catalog item '" + st.value + "' already exists");
    } else {
      // Materialize neither plans nor checks it before COMMIT.
      tag = "DROP " + st.what;
      for (auto& ch : tag) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    }
  }
  st_.mz_deferred.push_back(st);
  return done(tag);
}

// COMMIT's part for the block's deferred statements, once the block is committed, in order;
// the first that fails is COMMIT's error (the ones before it stay, as each is its own catalog
// change).
void Executor::mz_run_deferred(std::vector<sql::StreamingStatement> deferred) {
  for (const auto& d : deferred) run_streaming(d);
}

// Materialize's TransactionOps::add_ops: reads combine with reads, writes with writes; reads
// that read no collection combine with either; a SUBSCRIBE is alone.
void Executor::mz_add_txn_ops(MzTxnOps add) {
  if (!materialize_dialect() || st_.txn != TransactionStatus::kInBlock) return;
  MzTxnOps& ops = st_.mz_txn_ops;
  auto read_only = [] {
    return SqlError(sqlstate::kReadOnlySqlTransaction, "transaction in read-only mode")
        .with_detail("SELECT queries cannot be combined with other query types, including SUBSCRIBE.");
  };
  switch (ops) {
    case MzTxnOps::kNone:
      ops = add;
      return;
    case MzTxnOps::kDdl:
      if (add == MzTxnOps::kDdl) return;
      throw SqlError(sqlstate::kInvalidTransactionState, "transactions which modify objects are restricted to just modifying objects");
    case MzTxnOps::kSingle:
      throw SqlError(sqlstate::kInvalidTransactionState, "this transaction can only execute a single statement");
    case MzTxnOps::kConstPeeks:
      if (add == MzTxnOps::kSubscribe || add == MzTxnOps::kDdl || add == MzTxnOps::kSingle) throw read_only();
      if (add != MzTxnOps::kConstPeeks) ops = add;
      return;
    case MzTxnOps::kPeeks:
      if (add == MzTxnOps::kPeeks || add == MzTxnOps::kConstPeeks) return;
      throw read_only();
    case MzTxnOps::kSubscribe:
      throw SqlError(sqlstate::kInvalidTransactionState, "SUBSCRIBE in transactions must be the only read statement");
    case MzTxnOps::kWrites:
      if (add == MzTxnOps::kWrites || add == MzTxnOps::kConstPeeks) return;
      throw SqlError(sqlstate::kInvalidTransactionState, "transaction in write-only mode");
  }
}

// The block's settings undone (ROLLBACK) or its SET LOCALs given back (COMMIT); reported
// settings that change are sent to the client again.
void Executor::end_block_settings(bool commit) {
  std::map<std::string, std::string> before = st_.settings;
  if (!commit && st_.txn_settings) {
    st_.settings = *st_.txn_settings;
  } else if (commit) {
    for (const auto& [name, v] : st_.local_settings) {
      if (v) st_.settings[name] = *v;
      else st_.settings.erase(name);
    }
  }
  st_.txn_settings.reset();
  st_.local_settings.clear();
  for (const auto& d : kDefaultSettings) {
    if (!d.reported) continue;
    auto a = before.find(d.name), b = st_.settings.find(d.name);
    if (b != st_.settings.end() && (a == before.end() || a->second != b->second))
      st_.changed.push_back({display_name(d.name), b->second});
  }
}

void Executor::rollback_block() {
  end_block_settings(false);
  st_.txn_read_only.reset();
  st_.txn_queried = false;
  st_.mz_txn_ops = MzTxnOps::kNone;
  st_.mz_deferred.clear();
  st_.block_reads = {};
  st_.cursors.end_transaction(false);
  st_.pending.clear();
  st_.block.reset();
  st_.savepoints.clear();
  // In an implicit block (a multi-statement query), the next statements start another.
  st_.txn = st_.implicit ? TransactionStatus::kInBlock : TransactionStatus::kIdle;
}

void Executor::commit_open_block() {
  // A COMMIT that fails undoes the block's settings as a ROLLBACK does.
  try {
    commit_open_block_writes();
  } catch (...) {
    end_block_settings(false);
    throw;
  }
  end_block_settings(true);
}

void Executor::commit_open_block_writes() {
  st_.txn_read_only.reset();
  st_.txn_queried = false;
  st_.mz_txn_ops = MzTxnOps::kNone;
  st_.mz_deferred.clear();
  st_.block_reads = {};
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

std::unique_ptr<Execution> Executor::run_savepoint(const sql::TransactionPlan& p) {
  using K = sql::TransactionPlan::Kind;
  const std::string& name = p.savepoint;
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
  switch (p.kind) {
    case K::kSavepoint: {
      if (no_block)
        throw SqlError(sqlstate::kNoActiveSqlTransaction, "SAVEPOINT can only be used in transaction blocks");
      if (failed) throw aborted();
      Savepoint sp;
      sp.name = name;
      sp.pending = st_.pending;
      if (st_.block) sp.block = st_.block->copy();
      sp.settings = st_.settings;
      sp.local_settings = st_.local_settings;
      st_.savepoints.push_back(std::move(sp));
      return done("SAVEPOINT");
    }
    case K::kRelease: {
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
      if (st_.txn_settings) {
        st_.settings = sp.settings;
        st_.local_settings = sp.local_settings;
      }
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
    KeyCounts counts = data ? count_keys(t, *data, idx->index_key) : KeyCounts{};
    if (auto it = staged_.find(idx->index_on); it != staged_.end()) count_keys(t, counts, it->second, idx->index_key);
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
        add_unique_index(*t, *data, *idx, count_keys(t, *data, idx->index_key));
    }
    for (uint64_t id : diff.changed) cs_.catalog.replace_committed(id, *block->catalog->find(id));  // maybe renamed
    if (block->catalog->roles_changed()) cs_.catalog.restore_roles(block->catalog->roles());
  }
  cs_.apply_history_windows();  // the block's objects' RETAIN HISTORY
  for (auto& [id, d] : staged_) {
    dataflow::consolidate(d);
    const ObjectInfo* t = cs_.catalog.find(id);
    TableData* data = cs_.catalog.table_data(id);
    if (t && data) apply_table_diffs(*t, *data, d);
  }
  cs_.advance(ts, std::move(staged_));
  staged_.clear();
  // The dataflows of the block's new materialized views and indexes on views hydrate in the
  // background, in creation order, without the locks (the hydrator of recovery.cpp, as after a
  // restart): reads compute them meanwhile, mz_hydration_statuses lists them. An index on a
  // view that already has its dataflow is added at once.
  bool queued = false;
  for (uint64_t id : diff.added) {
    ObjectInfo* o = cs_.catalog.find(id);
    if (!o) continue;
    ObjectInfo* target = o->kind == ObjectKind::kIndex ? cs_.catalog.find(o->index_on) : o;
    if (!target || (target->kind != ObjectKind::kView && target->kind != ObjectKind::kMaterializedView)) continue;
    if (o->kind != ObjectKind::kMaterializedView && o->kind != ObjectKind::kIndex) continue;
    if (Maintained* m = cs_.find_maintained(target->id)) {
      if (o->kind == ObjectKind::kIndex && m->find_index(o->index_key) < 0) m->add_index(o->index_key);
      continue;
    }
    if (target->kind == ObjectKind::kView) target->maintained = false;
    if (o->kind == ObjectKind::kMaterializedView && cs_.persist) {
      // Its contents are stored as they are computed (hydrate_in_background). Should the
      // collection fail to be made, the hydration fails and the view answers that error until
      // retry_failed_dataflows makes it.
      if (Status ps = cs_.persist->create_mv_collection(o->id, "mv:" + o->name); !ps)
        std::fprintf(stderr, "freshet: could not create the collection of materialized view %s: %s\n", o->name.c_str(), ps.message().c_str());
    }
    std::lock_guard lk(cs_.compute_mu);
    cs_.restart_pending.push_back({id, target->id, target->name});
    queued = true;
  }
  if (queued) cs_.compute_progress_cv.notify_all();
  writer_view_ = false;
  if (!stored)
    throw SqlError(sqlstate::kIoError, "the transaction is committed but its rows could not be stored yet: " + stored.message())
        .with_hint("They are written when the server starts again.");
}

}  // namespace freshet::server
