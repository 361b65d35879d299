// SUBSCRIBE and SHOW of Materialize's statements.
#include "server/sequencer/executor.hpp"
#include "sql/mz_pretty.hpp"
#include "sql/catalog_access.hpp"
#include "server/sequencer/subscribe_execution.hpp"

namespace freshet::server {

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
  // Materialize's SUBSCRIBE of a query that reads no collection (mz_constant_subscribe) is
  // answered at once, whatever its AS OF: no waiting for that time.
  bool constant = false;
  if (materialize_dialect() && as_of && *as_of > cs_.now_ts) {
    std::shared_lock lock(cs_.mu);
    const ObjectInfo* o = st.object.empty() ? nullptr : catalog_->lookup("", st.object);
    constant = (o == nullptr || o->kind == ObjectKind::kView) && (o != nullptr || st.object.empty()) &&
               !reads_collections(subscribed_plan(st, o));
  }
  if (as_of && !constant) wait_for_time(*as_of);
  DdlLock lock(cs_);
  // AS OF a past time: the snapshot at that time and the changes since, from the subscribed
  // object's kept history (RETAIN HISTORY, server/history.hpp).
  std::optional<uint64_t> past;
  if (as_of && *as_of < cs_.now_ts) past = *as_of;
  auto refuse_past = [&](uint64_t valid_from) {
    throw SqlError(sqlstate::kInvalidParameterValue,
                   "Timestamp (" + std::to_string(*past) + ") is not valid for all inputs: [" + std::to_string(valid_from) + "]")
        .with_detail("A SUBSCRIBE AS OF a past time reads the history its table, indexed view or materialized view keeps (WITH "
                     "(RETAIN HISTORY FOR ...)); this one keeps none that far back.");
  };
  std::vector<std::pair<uint64_t, RowDiffs>> later;  // kept changes after the past time
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
    if (past) {
      auto h = cs_.table_history.find(obj->id);
      if (h == cs_.table_history.end() || !h->second.covers(*past, cs_.now_ts))
        refuse_past(h == cs_.table_history.end() ? cs_.now_ts.load() : h->second.valid_from(cs_.now_ts));
      h->second.rewind(*past, [&](const Row& r, int64_t n) { initial.push_back({r, n}); });
      h->second.for_each_after(*past, [&](uint64_t ts, const RowDiffs& d) { later.emplace_back(ts, d); });
    }
  } else if (obj && cs_.find_maintained(obj->id)) {
    source_id = obj->id;
    Maintained* m = cs_.read_maintained(obj->id);
    std::shared_lock sl(m->state_mu);
    m->for_each([&](RowRef r, int64_t n) { initial.push_back({Row(std::string(r.bytes())), n}); });
    if (past) {
      if (!m->history.covers(*past, cs_.now_ts)) refuse_past(m->history.window_ms ? m->history.valid_from(cs_.now_ts) : cs_.now_ts.load());
      m->history.rewind(*past, [&](const Row& r, int64_t n) { initial.push_back({r, n}); });
      m->history.for_each_after(*past, [&](uint64_t ts, const RowDiffs& d) { later.emplace_back(ts, d); });
    }
  } else {
    if (obj && obj->kind != ObjectKind::kView) throw SqlError(sqlstate::kWrongObjectType, "cannot subscribe to \"" + obj->name + "\"");
    dataflow::RelExpr plan;
    {
      // What the view reads is checked with its owner's rights.
      std::optional<AccessScope> as_owner;
      if (obj && current_access()) as_owner.emplace(catalog_->roles().name_of(owner_of(*obj)));
      plan = subscribed_plan(st, obj);
    }
    std::string name = obj ? "subscribe:" + obj->name : "subscribe";
    if (materialize_dialect() && !reads_collections(plan)) return mz_constant_subscribe(st, std::move(plan), as_of, std::move(cols));
    if (past) refuse_past(cs_.now_ts);  // a query's or a view's own dataflow keeps no history
    check_maintainable(plan);
    source_id = g_next_temp_id++;
    ctx_.logical_time_ms = cs_.now_ts;
    cs_.add_maintained(std::make_shared<Maintained>(source_id, name, std::move(plan), cs_.now_ts, snapshot_fn(), ctx_, initial,
                                                    nullptr, cs_.shared_arrangements()));
    temp = source_id;
  }
  std::vector<Column> data;
  subscribed_columns(st, obj, data);
  SubscribeOutput output = plan_subscribe_output(st, data, cols);
  if (past) dataflow::consolidate(initial);  // the rows at the past time
  if (st.snapshot && !initial.empty()) q->push(past.value_or(cs_.now_ts), initial);
  for (const auto& [ts, d] : later) q->push(ts, d);
  q->advance(cs_.now_ts);
  cs_.add_subscriber(source_id, q);
  return std::make_unique<SubscribeExecution>(cs_, q, std::move(cols), st.progress, temp, &st_.cancelled, std::move(output));
}

namespace {
// Materialize's spelling of a column type (`pg_catalog.int4`): Freshet's name for it read back
// by the grammar as a cast's type, then mz::type_name; Freshet's name where it has none.
std::string mz_column_type(Type t) {
  const std::string pg = type_name(t);
  try {
    auto tree = sql::ParseTree::parse("SELECT NULL::" + pg);
    if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_SELECT_STMT) return pg;
    const auto* sel = tree->statement(0)->select_stmt;
    if (sel->n_target_list != 1 || sel->target_list[0]->node_case != PG_QUERY__NODE__NODE_RES_TARGET) return pg;
    const PgQuery__Node* val = sel->target_list[0]->res_target->val;
    if (val == nullptr || val->node_case != PG_QUERY__NODE__NODE_TYPE_CAST) return pg;
    const auto* tc = val->type_cast;
    std::vector<std::string> names, mods;
    for (size_t i = 0; i < tc->type_name->n_names; ++i) names.push_back(tc->type_name->names[i]->string->sval);
    for (size_t i = 0; i < tc->type_name->n_typmods; ++i) {
      const auto* m = tc->type_name->typmods[i];
      if (m->node_case != PG_QUERY__NODE__NODE_A_CONST || m->a_const->val_case != PG_QUERY__A__CONST__VAL_IVAL) return pg;
      mods.push_back(std::to_string(m->a_const->ival->ival));
    }
    return sql::mz::type_name(names, mods, tc->type_name->n_array_bounds).value_or(pg);
  } catch (const SqlError&) {
    return pg;
  }
}

bool system_schema(std::string_view s) {
  return s == "pg_catalog" || s == "mz_catalog" || s == "mz_internal" || s == "information_schema" || s == "mz_introspection" ||
         s == "mz_unsafe";
}

// The query node of a stored CREATE [MATERIALIZED] VIEW statement and its column list; null
// when the text is not one.
const PgQuery__Node* view_query_of(const sql::ParseTree& tree, std::vector<std::string>& columns) {
  if (tree.size() != 1) return nullptr;
  const PgQuery__Node* st = tree.statement(0);
  if (st->node_case == PG_QUERY__NODE__NODE_VIEW_STMT) {
    for (size_t i = 0; i < st->view_stmt->n_aliases; ++i) columns.push_back(st->view_stmt->aliases[i]->string->sval);
    return st->view_stmt->query;
  }
  if (st->node_case == PG_QUERY__NODE__NODE_CREATE_TABLE_AS_STMT && st->create_table_as_stmt->into) {
    const auto* into = st->create_table_as_stmt->into;
    for (size_t i = 0; i < into->n_col_names; ++i) columns.push_back(into->col_names[i]->string->sval);
    return st->create_table_as_stmt->query;
  }
  return nullptr;
}
}  // namespace

// Materialize's create_sql (sql/mz_pretty.hpp): names resolved to database.schema.name, laid
// out at width 100. A view is printed from the statement as written (ObjectInfo::source_sql)
// or else from its stored query; a query the printer does not render keeps Freshet's text.
std::string Executor::mz_show_create(const ObjectInfo& o) {
  auto qualified = [&](const ObjectInfo& x) {
    if (x.kind == ObjectKind::kSystemView || system_schema(x.schema)) return sql::mz::ident(x.schema) + "." + sql::mz::ident(x.name);
    return sql::mz::ident(std::string(Catalog::current_database())) + "." + sql::mz::ident(x.schema) + "." + sql::mz::ident(x.name);
  };
  sql::mz::RelationResolver resolve = [&](std::string_view schema, std::string_view name) -> std::optional<std::string> {
    const ObjectInfo* x = catalog_->lookup(schema, name);
    if (x == nullptr) return std::nullopt;
    return qualified(*x);
  };
  const std::string cluster(cluster_name());  // Freshet's one cluster, as SHOW CLUSTERS names it
  if (o.kind == ObjectKind::kView || o.kind == ObjectKind::kMaterializedView) {
    const bool mv = o.kind == ObjectKind::kMaterializedView;
    std::optional<std::string> out;
    catalog_->in_search_path(o.search_path, [&] {
      std::shared_ptr<sql::ParseTree> tree;
      std::vector<std::string> columns;
      const PgQuery__Node* query = nullptr;
      try {
        if (!o.source_sql.empty()) {
          tree = sql::ParseTree::parse(o.source_sql);
          query = view_query_of(*tree, columns);
        }
      } catch (const SqlError&) {
        query = nullptr;
      }
      if (query != nullptr) out = sql::mz::pretty_create_view(mv, qualified(o), columns, query, tree->sql(), resolve, cluster);
      if (out) return;
      columns.clear();
      try {
        tree = sql::ParseTree::parse(o.definition_sql);
      } catch (const SqlError&) {
        return;
      }
      if (tree->size() == 1) out = sql::mz::pretty_create_view(mv, qualified(o), columns, tree->statement(0), tree->sql(), resolve, cluster);
    });
    if (out) return *out;
    std::string sql = std::string(mv ? "CREATE MATERIALIZED VIEW " : "CREATE VIEW ") + qualified(o) + " AS " + o.definition_sql;
    while (!sql.empty() && (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) sql.pop_back();
    return sql + ";";
  }
  if (o.kind == ObjectKind::kTable) {
    std::vector<sql::mz::TableColumn> cols;
    for (const auto& c : o.columns) cols.push_back({c.name, mz_column_type(c.type), !c.nullable, c.default_sql});
    auto names = [&](const std::vector<uint32_t>& ks) {
      std::string out;
      for (size_t k = 0; k < ks.size(); ++k) out += (k ? ", " : "") + sql::mz::ident(o.columns[ks[k]].name);
      return out;
    };
    std::vector<std::string> constraints;
    if (!o.primary_key.empty()) constraints.push_back("PRIMARY KEY (" + names(o.primary_key) + ")");
    for (const auto& u : o.unique_keys) constraints.push_back("UNIQUE (" + names(u) + ")");
    return sql::mz::pretty_create_table(qualified(o), cols, constraints, resolve);
  }
  const ObjectInfo* on = catalog_->find(o.index_on);
  if (on == nullptr) throw SqlError(sqlstate::kUndefinedTable, "the indexed object is gone");
  std::vector<std::string> keys;
  for (const auto& c : o.columns) keys.push_back(c.name);
  return sql::mz::pretty_create_index(o.name, cluster, qualified(*on), keys);
}

// REQUIRES: cs_.mu held. The plan of a SUBSCRIBE of a view (obj) or of a query.
dataflow::RelExpr Executor::subscribed_plan(const sql::StreamingStatement& st, const ObjectInfo* obj) {
  if (obj) return plan_for_object(*obj);
  std::shared_ptr<sql::ParseTree> tree;
  sql::Binder binder(*catalog_, param_types_);
  sql::BoundQuery bq = bind_query_text(binder, st.query, tree);
  return sql::optimize(sql::lower(*binder.relation_of(bq)));
}

// Materialize's SUBSCRIBE of a query that reads no collection (no table, source, materialized
// view or indexed view; plain views are inlined): its inputs are complete forever (the upper
// of an empty set of collections is the empty frontier; every AS OF is valid, the since being
// the minimum), so the subscription delivers every change up to the end of time at once.
// - Without mz_now() the query has no timeline ("timestamp independent",
//   src/adapter/src/catalog/timeline.rs), and timestamp_or_default() gives it the largest
//   timestamp: its rows come at 18446744073709551615, whatever the AS OF (as_of.slt:184).
// - With a temporal filter, the snapshot is at the AS OF (or now), then the filter's future
//   changes follow at their times, up to 18446744073709551615 (as_of.slt:151).
// Nothing is registered: no change can ever reach it.
std::unique_ptr<Execution> Executor::mz_constant_subscribe(const sql::StreamingStatement& st, dataflow::RelExpr plan,
                                                         std::optional<uint64_t> as_of, std::vector<Column> cols) {
  check_maintainable(plan);
  constexpr uint64_t kLastTime = std::numeric_limits<uint64_t>::max();
  const uint64_t t0 = as_of.value_or(cs_.now_ts);
  ctx_.logical_time_ms = t0;
  RowDiffs initial;
  Maintained m(g_next_temp_id++, "subscribe", std::move(plan), t0, snapshot_fn(), ctx_, initial);
  const bool timestamp_independent = !m.time_dependent();
  std::vector<Column> data;
  subscribed_columns(st, st.object.empty() ? nullptr : catalog_->lookup("", st.object), data);
  SubscribeOutput output = plan_subscribe_output(st, data, cols);
  auto q = std::make_shared<SubscriptionQueue>();
  if (st.snapshot && !initial.empty()) q->push(timestamp_independent ? kLastTime : t0, initial);
  // The temporal filters' queued changes, time by time (at most one step per distinct time at
  // which a row enters or leaves; each row schedules at most two).
  for (std::optional<uint64_t> t = m.next_due(); !timestamp_independent && t && *t > t0; t = m.next_due()) {
    if (st_.cancelled.load()) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
    ctx_.logical_time_ms = *t;
    RowDiffs delta;
    m.step(*t, ChangeSet{}, ctx_, delta);
    if (!delta.empty()) q->push(*t, delta);
    if (*t == kLastTime) break;
  }
  q->advance(kLastTime);
  return std::make_unique<SubscribeExecution>(cs_, q, std::move(cols), st.progress, std::nullopt, &st_.cancelled, std::move(output));
}

// name and create_sql, as Materialize's SHOW CREATE: the object's fully qualified name
// (database.schema.name) and a CREATE statement for it with that name. Freshet keeps a view's
// query as it was written (its own names unqualified), not Materialize's normalized text, so
// create_sql is `CREATE VIEW db.schema.v AS <the query as written>;`; a table's columns are
// listed with their types, NOT NULL, DEFAULT and keys; an index's key columns by name.
std::unique_ptr<Execution> Executor::show_create(const sql::StreamingStatement& st) {
  std::shared_lock lock(cs_.mu);
  std::vector<std::string> parts;
  for (size_t at = 0;;) {
    size_t dot = st.object.find('.', at);
    parts.push_back(st.object.substr(at, dot == std::string::npos ? std::string::npos : dot - at));
    if (dot == std::string::npos) break;
    at = dot + 1;
  }
  if (parts.size() > 3) throw SqlError(sqlstate::kSyntaxError, "improper qualified name (too many dotted names): " + st.object);
  if (parts.size() == 3 && !catalog_->is_current_database(parts[0]))
    throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + st.object + "\"");
  const ObjectInfo* o = catalog_->lookup(parts.size() >= 2 ? parts[parts.size() - 2] : "", parts.back());
  const std::string what = st.what.substr(std::string("create ").size());
  ObjectKind want = what == "view" ? ObjectKind::kView
                    : what == "materialized view" ? ObjectKind::kMaterializedView
                    : what == "table" ? ObjectKind::kTable : ObjectKind::kIndex;
  if (o == nullptr) throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + st.object + "'");
  if (o->kind != want) throw SqlError(sqlstate::kWrongObjectType, st.object + " is not a " + what);
  auto qualified = [&](const ObjectInfo& x) {
    return sql::quote_identifier(std::string(Catalog::current_database())) + "." + sql::quote_identifier(x.schema) + "." +
           sql::quote_identifier(x.name);
  };
  std::string sql;
  if (materialize_dialect()) {
    sql = mz_show_create(*o);
  } else if (want == ObjectKind::kView || want == ObjectKind::kMaterializedView) {
    sql = std::string(want == ObjectKind::kView ? "CREATE VIEW " : "CREATE MATERIALIZED VIEW ") + qualified(*o) + " AS " +
          o->definition_sql;
    while (!sql.empty() && (sql.back() == ';' || std::isspace(static_cast<unsigned char>(sql.back())))) sql.pop_back();
  } else if (want == ObjectKind::kTable) {
    sql = "CREATE TABLE " + qualified(*o) + " (";
    auto names = [&](const std::vector<uint32_t>& cols) {
      std::string out;
      for (size_t k = 0; k < cols.size(); ++k) out += (k ? ", " : "") + sql::quote_identifier(o->columns[cols[k]].name);
      return out;
    };
    for (size_t k = 0; k < o->columns.size(); ++k) {
      const auto& c = o->columns[k];
      sql += (k ? ", " : "") + sql::quote_identifier(c.name) + " " + type_name(c.type);
      if (!c.nullable) sql += " NOT NULL";
      if (c.default_sql) sql += " DEFAULT " + *c.default_sql;
    }
    if (!o->primary_key.empty()) sql += ", PRIMARY KEY (" + names(o->primary_key) + ")";
    for (const auto& u : o->unique_keys) sql += ", UNIQUE (" + names(u) + ")";
    sql += ")";
  } else {
    const ObjectInfo* on = catalog_->find(o->index_on);
    if (on == nullptr) throw SqlError(sqlstate::kUndefinedTable, "the indexed object is gone");
    sql = std::string(o->index_unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ") + sql::quote_identifier(o->name) + " ON " +
          qualified(*on) + " (";
    for (size_t k = 0; k < o->columns.size(); ++k) sql += (k ? ", " : "") + sql::quote_identifier(o->columns[k].name);
    sql += ")";
  }
  if (!materialize_dialect()) sql += ";";
  std::vector<Column> cols = {{"name", Type(TypeId::kText)}, {"create_sql", Type(TypeId::kText)}};
  // Materialize's name column is the full name unquoted (full_name_str).
  std::string name = materialize_dialect() ? std::string(Catalog::current_database()) + "." + o->schema + "." + o->name : qualified(*o);
  std::vector<Row> rows;
  rows.push_back(Row::pack(std::vector<Datum>{Datum::from_string(name), Datum::from_string(sql)}));
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(rows), "SHOW");
}

std::unique_ptr<Execution> Executor::show(const sql::StreamingStatement& st) {
  if (st.what.rfind("create ", 0) == 0) return show_create(st);
  std::shared_lock lock(cs_.mu);
  // Materialize lists a schema's objects: without FROM, the current schema's, and there must be
  // one (its schemas.slt: SHOW SOURCES / SINKS / INDEXES with no schema of the search path).
  // Freshet lists every schema's, but refuses the same way.
  if (st.object.empty() && st.what != "clusters" && catalog_->creation_schema(role_name_).empty())
    throw SqlError(sqlstate::kInvalidSchemaName, "no valid schema selected");
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
      add({Datum::from_string(o->name), Datum::from_string(o->definition_sql), Datum::from_string(cluster_name()), Datum::from_string(key),
           Datum::from_string("")});
    }
  } else if (st.what == "columns") {
    // Materialize's SHOW COLUMNS FROM|IN r: the relation's columns in order; `comment` is empty
    // (COMMENT ON is not supported).
    const ObjectInfo* o = catalog_->lookup("", st.object);
    if (!o || o->kind == ObjectKind::kIndex || o->kind == ObjectKind::kSchema || o->kind == ObjectKind::kDatabase ||
        o->kind == ObjectKind::kSecret || o->kind == ObjectKind::kConnection)
      throw SqlError(sqlstate::kUndefinedTable, "unknown catalog item '" + st.object + "'");
    // Materialize documents its catalog's columns in `comment`, and names some of their types
    // its own way (uint8): not answered with other rows.
    if (o->kind == ObjectKind::kSystemView)
      throw SqlError(sqlstate::kFeatureNotSupported, "SHOW COLUMNS of a system relation is not supported")
          .with_hint("Query information_schema.columns instead.");
    cols = {{"name", Type(TypeId::kText)}, {"nullable", Type(TypeId::kBool)}, {"type", Type(TypeId::kText)}, {"comment", Type(TypeId::kText)}};
    for (const auto& c : o->columns) {
      keep.push_back(type_name(c.type));
      add({Datum::from_string(c.name), Datum::from_bool(c.nullable), Datum::from_string(keep.back()), Datum::from_string("")});
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
      // Materialize's columns under its dialect (its show.rs: name, type, cluster, comment;
      // `comment` empty, COMMENT ON is not supported); Freshet's own with the source's state.
      const bool mz = materialize_dialect();
      if (mz)
        cols = {{"name", Type(TypeId::kText)}, {"type", Type(TypeId::kText)}, {"cluster", Type(TypeId::kText)}, {"comment", Type(TypeId::kText)}};
      else
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
        if (mz)
          add({Datum::from_string(e->name), Datum::from_string(e->type), Datum::from_string(cluster_name()), Datum::from_string("")});
        else
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
      add({Datum::from_string(cluster_name())});
    } else {
      for (const auto* o : objs) {
        if (o->kind != want) continue;
        std::vector<Datum> ds{Datum::from_string(o->name)};
        if (want == ObjectKind::kMaterializedView) ds.push_back(Datum::from_string(cluster_name()));
        if (with_comment) ds.push_back(Datum::from_string(""));
        add(std::move(ds));
      }
    }
  }
  return std::make_unique<MaterializedExecution>(std::move(cols), std::move(rows), "SHOW");
}

}  // namespace freshet::server
