// ALTER TABLE ... ADD COLUMN / DROP COLUMN (src/server/README.md, "ALTER TABLE ADD and DROP
// COLUMN"). OWNER TO is a role statement; RENAME is run_rename's.
//
// The table is rewritten: every row takes its new shape, in memory and durably. The catalog
// record and a redo record of the rewritten rows are one durable batch (the commit point, as a
// transaction block with DDL commits); the rows follow in the tables collection with the
// block-applied marker, and a start-up after a crash between the two redoes them
// (redo_block_commit). Refused while anything reads the table (views, indexes, materialized
// views, sinks, running SUBSCRIBEs): their dataflows and stored texts hold its columns.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

namespace {

const char* subtype_name(PgQuery__AlterTableType t) {
  switch (t) {
    case PG_QUERY__ALTER_TABLE_TYPE__AT_ColumnDefault: return "ALTER COLUMN ... SET/DROP DEFAULT";
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropNotNull: return "ALTER COLUMN ... DROP NOT NULL";
    case PG_QUERY__ALTER_TABLE_TYPE__AT_SetNotNull: return "ALTER COLUMN ... SET NOT NULL";
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AlterColumnType: return "ALTER COLUMN ... TYPE";
    case PG_QUERY__ALTER_TABLE_TYPE__AT_AddConstraint: return "ADD CONSTRAINT";
    case PG_QUERY__ALTER_TABLE_TYPE__AT_DropConstraint: return "DROP CONSTRAINT";
    default: return "this form of ALTER TABLE";
  }
}

// A column's new position after dropping `dropped`, or -1 for the dropped one itself.
int64_t moved(uint32_t c, uint32_t dropped) {
  if (c == dropped) return -1;
  return c > dropped ? int64_t{c} - 1 : int64_t{c};
}

}  // namespace

std::optional<uint64_t> retain_history_option(PgQuery__Node* const* options, size_t n) {
  std::optional<uint64_t> out;
  for (size_t i = 0; i < n; ++i) {
    if (options[i]->node_case != PG_QUERY__NODE__NODE_DEF_ELEM) continue;
    const auto* d = options[i]->def_elem;
    if (std::string_view(d->defname ? d->defname : "") != "retain_history") continue;
    if (d->arg == nullptr || d->arg->node_case != PG_QUERY__NODE__NODE_STRING)
      throw SqlError(sqlstate::kInvalidParameterValue, "RETAIN HISTORY FOR takes a duration in quotes, such as '1h'");
    std::string text = d->arg->string->sval;
    Interval iv;
    try {
      iv = parse_interval(text);
    } catch (const SqlError&) {
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid RETAIN HISTORY duration: \"" + text + "\"");
    }
    if (iv.months != 0 || iv.days < 0 || iv.micros < 0 || (iv.days == 0 && iv.micros < 1000))
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid RETAIN HISTORY duration: \"" + text + "\"")
          .with_detail("The duration must be at least 1 ms, in days, hours, minutes, seconds or milliseconds.");
    out = static_cast<uint64_t>(iv.days) * 86'400'000 + static_cast<uint64_t>(iv.micros / 1000);
  }
  return out;
}

// ALTER TABLE | INDEX | MATERIALIZED VIEW x SET (RETAIN HISTORY [=] FOR 'd') / RESET (RETAIN
// HISTORY): the window changes from now on (a longer one answers further back only as the
// history it keeps grows).
std::unique_ptr<Execution> Executor::alter_retain_history(const PgQuery__AlterTableStmt* s) {
  const PgQuery__RangeVar* rv = s->relation;
  const char* tag = s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX     ? "ALTER INDEX"
                    : s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW ? "ALTER MATERIALIZED VIEW"
                                                                         : "ALTER TABLE";
  if (st_.txn != TransactionStatus::kIdle)
    throw SqlError(sqlstate::kActiveSqlTransaction, std::string(tag) + " ... SET (RETAIN HISTORY) cannot run inside a transaction block");
  DdlLock lock(cs_);
  ObjectInfo* o = cs_.catalog.find(0);
  if (const ObjectInfo* f = catalog_->lookup(rv->schemaname ? rv->schemaname : "", rv->relname)) o = cs_.catalog.find(f->id);
  if (o == nullptr) {
    if (s->missing_ok) return done(tag);
    throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(rv->relname) + "\" does not exist", rv->location + 1);
  }
  const bool ok_kind = (s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_TABLE && o->kind == ObjectKind::kTable) ||
                       (s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX && o->kind == ObjectKind::kIndex) ||
                       (s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW && o->kind == ObjectKind::kMaterializedView);
  if (!ok_kind) throw SqlError(sqlstate::kWrongObjectType, "\"" + o->name + "\" is not " +
                                   (s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_INDEX ? "an index" : s->objtype == PG_QUERY__OBJECT_TYPE__OBJECT_MATVIEW ? "a materialized view" : "a table"));
  uint64_t window = o->retain_history_ms;
  for (size_t i = 0; i < s->n_cmds; ++i) {
    const auto* cmd = s->cmds[i]->alter_table_cmd;
    const auto* list = cmd->def && cmd->def->node_case == PG_QUERY__NODE__NODE_LIST ? cmd->def->list : nullptr;
    size_t n = list ? list->n_items : 0;
    for (size_t k = 0; k < n; ++k) {
      const auto* d = list->items[k]->node_case == PG_QUERY__NODE__NODE_DEF_ELEM ? list->items[k]->def_elem : nullptr;
      if (d == nullptr || std::string_view(d->defname ? d->defname : "") != "retain_history")
        throw SqlError(sqlstate::kFeatureNotSupported, std::string(tag) + " ... SET/RESET supports only RETAIN HISTORY");
    }
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ResetRelOptions) {
      window = 0;
    } else if (auto w = retain_history_option(list ? list->items : nullptr, n)) {
      window = *w;
    }
  }
  if (window != o->retain_history_ms) {
    o->retain_history_ms = window;
    cs_.catalog.updated(o->id);  // durable, or reverted and thrown
    cs_.apply_history_windows();
  }
  return done(tag);
}

std::unique_ptr<Execution> Executor::run_alter_table(const PgQuery__AlterTableStmt* s) {
  const PgQuery__RangeVar* rv = s->relation;
  bool reloptions = s->n_cmds > 0;
  for (size_t i = 0; i < s->n_cmds; ++i)
    reloptions &= s->cmds[i]->node_case == PG_QUERY__NODE__NODE_ALTER_TABLE_CMD &&
                  (s->cmds[i]->alter_table_cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_SetRelOptions ||
                   s->cmds[i]->alter_table_cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_ResetRelOptions);
  if (reloptions) return alter_retain_history(s);
  if (s->objtype != PG_QUERY__OBJECT_TYPE__OBJECT_TABLE)
    throw SqlError(sqlstate::kFeatureNotSupported, "this form of ALTER is not supported");
  if (st_.txn != TransactionStatus::kIdle)
    throw SqlError(sqlstate::kActiveSqlTransaction, "ALTER TABLE ... ADD/DROP COLUMN cannot run inside a transaction block");
  DdlLock lock(cs_);
  std::string schema = rv->schemaname ? rv->schemaname : "";
  if (rv->catalogname && *rv->catalogname && !catalog_->is_current_database(rv->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported,
                   "cross-database references are not implemented: \"" + std::string(rv->catalogname) + "." + schema + "." + rv->relname + "\"",
                   rv->location + 1);
  const ObjectInfo* found = catalog_->lookup(schema, rv->relname);
  if (!found || found->kind == ObjectKind::kSystemView) {
    if (s->missing_ok) {
      return done("ALTER TABLE");
    }
    throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(rv->relname) + "\" does not exist", rv->location + 1);
  }
  if (found->kind != ObjectKind::kTable) throw SqlError(sqlstate::kWrongObjectType, "\"" + found->name + "\" is not a table");
  if (found->source_id != 0)
    throw SqlError(sqlstate::kWrongObjectType, "cannot alter source table \"" + found->name + "\"")
        .with_detail("Its columns come from its source.");
  const ObjectInfo old = *found;
  const uint64_t id = old.id;

  // The new shape: the columns and keys after every command, and per new column where its
  // value comes from (an old column, or a DEFAULT evaluated for each row).
  ObjectInfo next = old;
  struct Source {
    int64_t old_column = -1;          // >= 0: that old column's value
    std::optional<size_t> default_of;  // else the default of this new column (NULL without one)
  };
  std::vector<Source> sources;
  for (uint32_t c = 0; c < old.columns.size(); ++c) sources.push_back({c, std::nullopt});
  bool changed = false;
  for (size_t i = 0; i < s->n_cmds; ++i) {
    if (s->cmds[i]->node_case != PG_QUERY__NODE__NODE_ALTER_TABLE_CMD)
      throw SqlError(sqlstate::kFeatureNotSupported, "this form of ALTER TABLE is not supported");
    const auto* cmd = s->cmds[i]->alter_table_cmd;
    if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_AddColumn) {
      const auto* cd = cmd->def->column_def;
      const std::string name = cd->colname;
      bool exists = false;
      for (const auto& c : next.columns) exists |= c.name == name;
      if (exists) {
        if (cmd->missing_ok) continue;
        throw SqlError(sqlstate::kDuplicateColumn, "column \"" + name + "\" of relation \"" + old.name + "\" already exists");
      }
      sql::ColumnInfo col = column_of_def(cd, [](const PgQuery__Constraint* c, sql::ColumnInfo&) {
        throw SqlError(sqlstate::kFeatureNotSupported,
                       "ALTER TABLE ... ADD COLUMN with a PRIMARY KEY, UNIQUE, CHECK or FOREIGN KEY constraint is not supported",
                       c->location + 1)
            .with_hint("Add the column, then create a unique index on it.");
      });
      next.columns.push_back(std::move(col));
      sources.push_back({-1, next.columns.size() - 1});
      changed = true;
    } else if (cmd->subtype == PG_QUERY__ALTER_TABLE_TYPE__AT_DropColumn) {
      std::string name = cmd->name ? cmd->name : "";
      uint32_t c = 0;
      for (; c < next.columns.size(); ++c)
        if (next.columns[c].name == name) break;
      if (c == next.columns.size()) {
        if (cmd->missing_ok) {
          continue;
        }
        throw SqlError(sqlstate::kUndefinedColumn, "column \"" + name + "\" of relation \"" + old.name + "\" does not exist");
      }
      next.columns.erase(next.columns.begin() + c);
      sources.erase(sources.begin() + c);
      for (auto& src : sources)
        if (src.default_of && *src.default_of > c) --*src.default_of;
      // As PostgreSQL: the key constraints that involve the column go with it.
      auto remap = [&](std::vector<uint32_t>& key) {
        std::vector<uint32_t> out;
        for (auto k : key) {
          int64_t m = moved(k, c);
          if (m < 0) return false;
          out.push_back(static_cast<uint32_t>(m));
        }
        key = std::move(out);
        return true;
      };
      if (!remap(next.primary_key)) next.primary_key.clear();
      std::vector<std::vector<uint32_t>> uniques;
      for (auto u : next.unique_keys)
        if (remap(u)) uniques.push_back(std::move(u));
      next.unique_keys = std::move(uniques);
      changed = true;
    } else {
      throw SqlError(sqlstate::kFeatureNotSupported, std::string("ALTER TABLE ... ") + subtype_name(cmd->subtype) + " is not supported");
    }
  }
  if (!changed) return done("ALTER TABLE");

  // What reads the table holds its columns: refused (not yet rebuilt after the change).
  if (auto deps = catalog_->dependents(id); !deps.empty()) {
    const ObjectInfo* d = deps.front();
    const char* kind = d->kind == ObjectKind::kView               ? "view "
                       : d->kind == ObjectKind::kMaterializedView ? "materialized view "
                       : d->kind == ObjectKind::kIndex            ? "index "
                       : d->kind == ObjectKind::kSink             ? "sink "
                                                                  : "object ";
    throw SqlError(sqlstate::kFeatureNotSupported,
                   "ALTER TABLE ... ADD/DROP COLUMN of a table that other objects depend on is not supported")
        .with_detail(std::string(kind) + d->name + " depends on table " + old.name + ".")
        .with_hint("Drop the dependent objects, alter the table, then create them again.");
  }
  {
    std::lock_guard lk(cs_.compute_mu);
    for (const auto& m : cs_.maintained)
      for (auto in : m->inputs())
        if (in == id)
          throw SqlError(sqlstate::kObjectInUse, "cannot alter table \"" + old.name + "\" because a SUBSCRIBE reads it");
  }
  // Earlier writes to it are published first: none is staged with the old shape after this.
  if (!cs_.published_cv.wait_for(lock.m, std::chrono::seconds(30), [&] { return cs_.unpublished.empty(); }))
    throw SqlError(sqlstate::kIoError, "could not alter the table: earlier writes are not durable yet");
  if (cs_.last_block_unapplied)
    throw SqlError(sqlstate::kIoError, "could not alter the table: the rows of an earlier transaction could not be stored")
        .with_hint("Restart the server: it writes them at start.");

  // The rows in their new shape; a DEFAULT is evaluated per row (volatile ones differ).
  TableData* data = cs_.catalog.table_data(id);
  FRESHET_ASSERT(data != nullptr);
  std::vector<std::optional<dataflow::ScalarExpr>> defaults(next.columns.size());
  {
    sql::Binder binder(*catalog_, param_types_);
    for (const auto& src : sources)
      if (src.default_of && next.columns[*src.default_of].default_sql)
        defaults[*src.default_of] = sql::lower_simple_expr(default_for(next, *src.default_of, binder));
  }
  RowDiffs old_rows, new_rows;
  std::unordered_map<Row, int64_t, RowHash> rewritten;
  std::vector<Datum> ds, out;
  for (const auto& [row, n] : data->rows) {
    old_rows.push_back({row, -n});
    ds.clear();
    row.unpack_into(ds);
    out.clear();
    for (size_t c = 0; c < sources.size(); ++c) {
      const auto& src = sources[c];
      Datum v = src.old_column >= 0 ? ds[static_cast<size_t>(src.old_column)]
                : defaults[c]       ? dataflow::eval(*defaults[c], {}, ctx_)
                                    : Datum::null();
      if (v.is_null() && !next.columns[c].nullable)
        throw SqlError(sqlstate::kNotNullViolation,
                       "column \"" + next.columns[c].name + "\" of relation \"" + old.name + "\" contains null values");
      out.push_back(v);
    }
    rewritten[Row::pack(out)] += n;  // a dropped column may make rows equal
  }
  for (auto& [row, n] : rewritten) new_rows.push_back({row, n});
  // The keys that remain must stay unique (a dropped column may have been part of what kept
  // rows apart only in a multi-column key that stays: not possible; checked anyway).
  TableData fresh;
  fresh.rows_written = data->rows_written;
  fresh.bytes_written = data->bytes_written;
  apply_table_diffs(next, fresh, new_rows);
  {
    std::vector<std::pair<const std::vector<uint32_t>*, std::string>> keys;
    if (!next.primary_key.empty()) keys.push_back({&next.primary_key, next.name + "_pkey"});
    for (const auto& u : next.unique_keys) keys.push_back({&u, next.name + "_key"});
    for (size_t k = 0; k < keys.size() && k < fresh.key_counts.size(); ++k)
      for (const auto& [key, count] : fresh.key_counts[k])
        if (count > 1)
          throw SqlError(sqlstate::kUniqueViolation, "could not create unique index \"" + keys[k].second + "\"")
              .with_detail("Key is duplicated.");
  }

  // Durable: the stored rows of the old shape go, those of the new one come; a key both have
  // (a primary key that stays) is written once, with its new row.
  const uint64_t ts = cs_.next_write_ts();
  if (cs_.persist) {
    std::vector<storage::Change> dels, puts;
    Persistence::table_records(old, old_rows, [](const Row&) { return std::optional<Row>(); }, [](const Row&) { return int64_t{0}; },
                               dels);
    Persistence::table_records(
        next, new_rows,
        [&](const Row& key) -> std::optional<Row> {
          const Row* r = fresh.row_by_key(key);
          return r ? std::optional<Row>(*r) : std::nullopt;
        },
        [&](const Row& row) {
          auto it = fresh.rows.find(row);
          return it == fresh.rows.end() ? int64_t{0} : it->second;
        },
        puts);
    std::unordered_map<std::string, bool> put_keys;
    for (const auto& p : puts) put_keys.emplace(std::string(p.key.bytes()), true);
    std::vector<storage::Change> records;
    for (auto& d : dels)
      if (!put_keys.count(std::string(d.key.bytes()))) records.push_back(std::move(d));
    for (auto& p : puts) records.push_back(std::move(p));
    size_t bytes = 0;
    for (const auto& c : records) bytes += 9 + c.key.size_bytes() + (c.value ? c.value->size_bytes() : 0);
    if (bytes + 4096 > storage::kMaxRecordBytes)
      throw SqlError(sqlstate::kProgramLimitExceeded, "ALTER TABLE ... ADD/DROP COLUMN can rewrite at most 64 MB of rows")
          .with_hint("Create a new table with the new columns and copy the rows into it with INSERT ... SELECT.");
    const uint64_t seq = cs_.last_block_seq + 1;
    std::vector<storage::Change> catalog_records;
    catalog_records.push_back(cs_.persist->object_record(next, cs_.catalog.dependencies_of(id)));
    catalog_records.push_back(Persistence::block_redo_record(seq, records));
    // The commit point: the new columns and the redo record of the rows, one durable batch.
    if (Status ps = cs_.persist->write_catalog(ts, std::move(catalog_records)); !ps)
      throw SqlError(sqlstate::kIoError, "could not alter the table: " + ps.message());
    cs_.last_block_seq = seq;
    fault_point("alter_after_catalog_before_tables");
    records.push_back(Persistence::block_applied_record(seq));
    Status stored = cs_.persist->write_tables(ts, std::move(records));
    cs_.last_block_unapplied = !stored;
  }
  // In memory, under both locks.
  cs_.catalog.replace_committed(id, next);
  fresh.unique_indexes = data->unique_indexes;  // none: a unique index is a dependent (refused above)
  *data = std::move(fresh);
  if (auto h = cs_.table_history.find(id); h != cs_.table_history.end()) h->second.reset(ts);  // old rows' shape
  cs_.advance(ts, {});
  return done("ALTER TABLE");
}

}  // namespace freshet::server
