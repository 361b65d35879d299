// The write path of one statement: constraint checks, staging, commit (server/write_path.hpp).
#include "server/sequencer/executor.hpp"

#include <chrono>

#include "server/metrics.hpp"

namespace freshet::server {

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
  HExpr e = binder.bind_expr_in_scope(sel->target_list[0]->res_target->val, empty, "DEFAULT expressions");
  // The expression's literals are owned by the HExpr (packed rows), not the parse tree.
  return binder.coerce(std::move(e), c.type, CastContext::kAssignment);
}

void Executor::write(const ObjectInfo& t, const std::vector<std::pair<Row, int64_t>>& changes) {
  TableData* data = catalog_->table_data(t.id);
  FRESHET_ASSERT(data != nullptr);
  auto& pending = st_.pending[t.id];
  bool in_block = st_.txn == TransactionStatus::kInBlock;
  // Rows staged before an ALTER TABLE changed the table's columns (a transaction block's, a
  // COPY's) cannot be written any more.
  for (const auto& [row, diff] : changes)
    if (row.arity() != t.columns.size())
      throw SqlError(sqlstate::kSerializationFailure, "could not serialize access due to concurrent update")
          .with_detail("The columns of table \"" + t.name + "\" were changed by ALTER TABLE.");
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
  std::vector<Datum> k;  // reused: no allocation per row
  // Keys are compared by SQL equality, as PostgreSQL's unique index does: numeric 1.5 and
  // 1.50, float -0.0 and 0.0, intervals of equal span are one key (table_key_of).
  std::vector<Type> types;
  auto key_of = [&](const Row& r, const std::vector<uint32_t>& cols, bool& has_null) {
    ds.clear();
    r.unpack_into(ds);
    k.clear();
    has_null = false;
    for (auto c : cols) {
      k.push_back(ds[c]);
      has_null |= ds[c].is_null();
    }
    return canonical_key_of(k, types);
  };
  // Per canonical key: the change of its count, and the key as the last inserted row has it
  // (PostgreSQL's detail shows the value being inserted: "Key (k)=(1.50) already exists.").
  struct KeyDelta {
    int64_t diff = 0;
    const Row* shown = nullptr;  // in pending or changes, which do not change during the checks
  };
  for (size_t ki = 0; ki < keys.size(); ++ki) {
    const auto& cols = *keys[ki].first;
    types = key_types(&t, cols);
    absl::flat_hash_map<Row, KeyDelta, RowHash> delta;
    if (pending.size() + changes.size() >= kBulkRows) delta.reserve(pending.size() + changes.size());
    bool has_null = false;
    auto add = [&](const Row& row, int64_t diff) {
      Row ck = key_of(row, cols, has_null);
      if (has_null) return;
      KeyDelta& kd = delta[ck];
      kd.diff += diff;
      if (diff > 0) kd.shown = &row;
    };
    for (const auto& [row, diff] : pending) add(row, diff);
    for (const auto& [row, diff] : changes) add(row, diff);
    for (const auto& [key, d] : delta) {
      auto it = data->key_counts[ki].find(key);
      int64_t base = it == data->key_counts[ki].end() ? 0 : it->second;
      if (base + d.diff > 1) {
        std::string names, vals;
        std::vector<Datum> kd;
        if (d.shown) {
          std::vector<Datum> all = d.shown->unpack();
          for (auto c : cols) kd.push_back(all[c]);
        } else {
          kd = key.unpack();
        }
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
  const auto wait_start = std::chrono::steady_clock::now();
  wlock_ = std::unique_lock(cs_.write_mu);
  locked_at_ = std::chrono::steady_clock::now();
  write_metrics().lock_wait_seconds.observe(std::chrono::duration<double>(locked_at_ - wait_start).count());
  rlock_ = std::shared_lock(cs_.mu);
  writer_view_ = true;
  staged_.clear();
  commit_records_.clear();
  commit_batch_ = st_.txn == TransactionStatus::kInBlock ? nullptr : &staged_;
}

void Executor::release_read_lock() {
  FRESHET_ASSERT(wlock_.owns_lock());
  if (rlock_.owns_lock()) rlock_.unlock();
}

void Executor::commit_staged() {
  FRESHET_ASSERT(wlock_.owns_lock());
  commit_batch_ = nullptr;
  if (rlock_.owns_lock()) rlock_.unlock();
  commit_staged_holding(wlock_);
}

void Executor::commit_staged_holding(std::unique_lock<std::mutex>& wlock) {
  FRESHET_ASSERT(wlock.owns_lock());
  bool empty = true;
  for (const auto& [id, d] : staged_) empty &= d.empty();
  if (empty) {
    wlock.unlock();
    locked_at_ = {};
    return;
  }
  storage::Batch batch;
  batch.changes = std::move(commit_records_);
  // A transaction is one durable batch, whose size is bounded (storage/record.hpp): past it the
  // user's statement is too big, which is said as such (54000) before anything is applied,
  // rather than as the I/O error (58030) the collection's append would give.
  if (cs_.persist)
    if (Status s = storage::check_batch(batch); !s)
      throw SqlError(sqlstate::kProgramLimitExceeded, "the transaction is too large to store: " + s.message())
          .with_hint("Write it as several transactions (INSERT ... SELECT over ranges of a key, or COPY in parts).");
  auto w = cs_.stage_write(std::move(staged_), Persistence::kTablesCollection, std::move(batch));
  wlock.unlock();
  if (locked_at_ != std::chrono::steady_clock::time_point{})
    write_metrics().locked_seconds.observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - locked_at_).count());
  locked_at_ = {};
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
        const Row* cur = data->row_by_key(k);
        it = after_key.emplace(k, cur ? std::optional<Row>(*cur) : std::nullopt).first;
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
    HExpr e = binder.bind_expr_in_scope(v, scope, "RETURNING", true);
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

}  // namespace freshet::server
