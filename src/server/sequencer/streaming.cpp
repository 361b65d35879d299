// Materialize's statements (streaming_parser.hpp): dispatch and Describe.
#include "server/sequencer/executor.hpp"
#include "server/sequencer/subscribe_execution.hpp"

namespace freshet::server {

std::unique_ptr<Execution> Executor::run_streaming(const sql::StreamingStatement& st) {
  using K = sql::StreamingStatement::Kind;
  switch (st.kind) {
    case K::kCreateDefaultIndex: refuse_write_if_read_only("CREATE INDEX"); break;
    case K::kCreateSecret: refuse_write_if_read_only("CREATE SECRET"); break;
    case K::kCreateConnection: refuse_write_if_read_only("CREATE CONNECTION"); break;
    case K::kCreateSource: refuse_write_if_read_only("CREATE SOURCE"); break;
    case K::kRenameSource: refuse_write_if_read_only("ALTER SOURCE"); break;
    case K::kCreateSink: refuse_write_if_read_only("CREATE SINK"); break;
    case K::kDrop: refuse_write_if_read_only("DROP"); break;
    case K::kSwapSchemas: refuse_write_if_read_only("ALTER SCHEMA"); break;
    case K::kCreateViewMutuallyRecursive: refuse_write_if_read_only("CREATE VIEW"); break;
    default: break;
  }
  if (st_.txn == TransactionStatus::kInBlock && st.kind != K::kFetch && st.kind != K::kPrepareFetch) st_.txn_queried = true;
  if (st_.txn == TransactionStatus::kInBlock && !st_.implicit && materialize_dialect() &&
      (st.kind == K::kCreateSource || st.kind == K::kRenameSource || st.kind == K::kDrop))
    return mz_defer(st);
  if (st_.txn == TransactionStatus::kInBlock && (st_.mz_txn_ops == MzTxnOps::kDdl || st_.mz_txn_ops == MzTxnOps::kSingle) &&
      st.kind != K::kFetch && st.kind != K::kPrepareFetch && st.kind != K::kShow)
    mz_add_txn_ops(MzTxnOps::kPeeks);  // 25000: only deferred DDL joins a block's deferred DDL
  if (st_.txn != TransactionStatus::kIdle) {
    // Statements that start external work (connectors, sink threads, connection checks) or
    // change several catalogs at once are not transactional: refused in a block rather than
    // applied before COMMIT. CREATE SECRET and CREATE DEFAULT INDEX are (transaction.hpp).
    const char* refused = nullptr;
    std::string drop_what;
    switch (st.kind) {
      case K::kCreateConnection: refused = "CREATE CONNECTION"; break;
      case K::kCreateSource: refused = "CREATE SOURCE"; break;
      case K::kRenameSource: refused = "ALTER SOURCE"; break;
      case K::kCreateSink: refused = "CREATE SINK"; break;
      case K::kDrop:
        drop_what = "DROP " + st.what;
        for (auto& ch : drop_what) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        refused = drop_what.c_str();
        break;
      case K::kCreateViewMutuallyRecursive: refused = "CREATE VIEW ... WITH MUTUALLY RECURSIVE"; break;
      case K::kCreateDefaultIndex:
      case K::kSwapSchemas:
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
  // A SUBSCRIBE AS OF a given time does not take the block's time: Materialize leaves it out.
  if ((st.kind == K::kSubscribe || st.kind == K::kDeclareSubscribe) && !st.as_of && st.as_of_expr.empty())
    mz_add_txn_ops(MzTxnOps::kSubscribe);
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
    case K::kDeclareFetch: {
      // The FETCH runs now and the cursor holds its rows (a SELECT cursor over them), as the
      // rows of a DECLARE ... FOR SELECT are those of its snapshot.
      if (st_.txn != TransactionStatus::kInBlock)
        throw SqlError(sqlstate::kNoActiveSqlTransaction, "DECLARE CURSOR can only be used in transaction blocks");
      if (st_.cursors.contains(st.cursor)) throw SqlError(sqlstate::kDuplicateCursor, "cursor \"" + st.cursor + "\" already exists");
      std::unique_ptr<Execution> rows;
      if (auto inner = sql::parse_streaming(st.query); inner && inner->kind == K::kFetch) {
        rows = run_streaming(*inner);
      } else {
        auto tree = sql::ParseTree::parse(st.query);
        if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_FETCH_STMT || tree->statement(0)->fetch_stmt->ismove)
          throw SqlError(sqlstate::kSyntaxError, "DECLARE ... CURSOR FOR FETCH needs one FETCH");
        rows = run_fetch(tree->statement(0)->fetch_stmt);
      }
      st_.cursors.declare_rows(st.cursor, *rows, true, false, true);
      note_declared(st.cursor);
      return done("DECLARE CURSOR");
    }
    case K::kSwapSchemas:
      return swap_schemas(st.object, st.value);
    case K::kCreateViewIfNotExists: {
      // Nothing when a relation of that name exists where the view would be created (as
      // Materialize, which notices it); else the CREATE VIEW itself.
      {
        std::shared_lock lock(cs_.mu);
        std::string schema = catalog_->creation_schema(st_.options.user);
        if (!schema.empty() && catalog_->lookup(schema, st.object)) return done("CREATE VIEW");
      }
      auto tree = sql::ParseTree::parse(st.query);
      if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_VIEW_STMT)
        throw SqlError(sqlstate::kSyntaxError, "CREATE VIEW IF NOT EXISTS needs one view definition");
      return run(tree->statement(0));
    }
    case K::kPrepareFetch:
      throw SqlError(sqlstate::kInternalError, "PREPARE ... AS FETCH runs in the session");  // Session::execute
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
    case K::kRenameSource:
      return rename_source(st);
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
      explicit_time_read_ = true;
      struct ResetExplicit {
        bool& v;
        ~ResetExplicit() { v = false; }
      } reset_explicit{explicit_time_read_};
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
      bool past = false;
      if (!st.as_of_at_least) {
        std::shared_lock lock(cs_.mu);
        past = t < cs_.now_ts;
      }
      if (past) {  // read from the kept history of what it reads (history_rows refuses otherwise)
        history_time_ = t;
        struct Reset {
          std::optional<uint64_t>& v;
          ~Reset() { v.reset(); }
        } reset{history_time_};
        return run(tree->statement(0));
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

}  // namespace freshet::server
