// SELECT: one-shot reads (peeks), the fast paths through indexes, and waiting for a timestamp.
#include "common/sql_dialect.hpp"
#include "server/sequencer/executor.hpp"
#include "common/mz_row_order.hpp"

namespace freshet::server {

namespace {
// A peek runs its plan once: uncorrelated IN-subqueries as hashed subplans (sql/lower.hpp).
const sql::LowerOptions kOneShot{.hashed_subplans = true};
}  // namespace

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
    if (history_time_) return history_rows(id, emit);
    if (TableData* t = cat.table_data(id)) {
      if (const ObjectInfo* o = cat.find(id)) cs_.check_table_readable(*o);
      const ObjectInfo* o = cat.find(id);
      if (writer_view_) {
        for (const auto& [row, n] : t->rows) emit(row, n);
      } else if (o && o->kind == ObjectKind::kTable && block_read_at_ts()) {
        for (const auto& u : block_pin(id, *o, *t)->rows) emit(Row(u.row), u.diff);
      } else {
        cs_.published_rows(id, *t, emit);
      }
    }
    if (const ObjectInfo* o = catalog_->find(id);
        o && (o->kind == ObjectKind::kView || o->kind == ObjectKind::kMaterializedView) && block_read_at_ts() &&
        changed_since_block_ts(id)) {
      // A later read of a transaction block, of a view whose inputs changed since the block's
      // first read: computed from the inputs as the block reads them.
      for (const auto& [row, n] : dataflow::run_oneshot(plan_for_object(*o), snapshot_fn(), ctx_, query_limits())) emit(row, n);
    } else if (Maintained* m = cs_.read_maintained(id, &st_.cancelled, id != no_wait_id_)) {
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

void Executor::history_rows(uint64_t id, const std::function<void(const Row&, int64_t)>& emit) {
  const uint64_t t = *history_time_;
  const uint64_t now = cs_.now_ts;
  const ObjectInfo* o = catalog_->find(id);
  const std::string name = o ? o->name : std::to_string(id);
  auto refuse = [&](uint64_t valid_from) {
    throw SqlError(sqlstate::kInvalidParameterValue, "could not find a valid timestamp for the query")
        .with_detail("Timestamp (" + std::to_string(t) + ") is not valid for all inputs: [" + std::to_string(valid_from) + "]; \"" +
                     name + "\" keeps history from " + std::to_string(valid_from) + " on.")
        .with_hint("Keep history with WITH (RETAIN HISTORY FOR '1h') on the table, index or materialized view, or ALTER ... "
                   "SET (RETAIN HISTORY FOR '1h'); history is kept from then on, in memory (not across restarts).");
  };
  if (TableData* data = catalog_->table_data(id)) {
    auto h = cs_.table_history.find(id);
    if (h == cs_.table_history.end() || !h->second.covers(t, now)) refuse(h == cs_.table_history.end() ? now : h->second.valid_from(now));
    if (o) cs_.check_table_readable(*o);
    cs_.published_rows(id, *data, emit);
    h->second.rewind(t, emit);
    return;
  }
  if (Maintained* m = cs_.read_maintained(id, &st_.cancelled, true)) {
    std::shared_lock sl(m->state_mu);
    if (!m->history.covers(t, now)) refuse(m->history.window_ms ? m->history.valid_from(now) : now);
    m->for_each([&](RowRef row, int64_t n) { emit(Row(std::string(row.bytes())), n); });
    m->history.rewind(t, emit);
    return;
  }
  refuse(now);  // a materialized view still hydrating: no history yet
}

dataflow::PartitionFn Executor::partition_fn() {
  return [this](uint64_t id, size_t parts) -> std::optional<dataflow::PartitionedSnapshot> {
    Catalog& cat = *catalog_;
    TableData* t = cat.table_data(id);
    if (cat.system_view(id) != nullptr || st_.pending.contains(id) || history_time_) return std::nullopt;
    if (t == nullptr) {
      // An indexed view (or a materialized view's dataflow): read by a worker straight from
      // its arrangement under the arrangement's read lock, without first copying every row
      // into a Row of its own as the SnapshotFn does. The scan copies only what passes its
      // chain (a count(*) reads no column: nothing), and the lock is held while the part is
      // read, as the SnapshotFn held it while copying. The Maintained lives while the query
      // holds the coordinator's state lock.
      // A later read of a transaction block may have to compute the view at the block's
      // timestamp instead: the SnapshotFn decides (changed_since_block_ts).
      if (block_read_at_ts() && changed_since_block_ts(id)) return std::nullopt;
      Maintained* m = cs_.read_maintained(id, &st_.cancelled, id != no_wait_id_);
      if (m == nullptr) return std::nullopt;
      dataflow::PartitionedSnapshot ps;
      ps.parts = 1;
      ps.stable_rows = false;
      ps.scan = [m](size_t, const std::function<void(RowRef, int64_t)>& emit) {
        std::shared_lock sl(m->state_mu);
        m->for_each(emit);
      };
      return ps;
    }
    for (const auto& m : cs_.maintained)
      if (m->id() == id) return std::nullopt;
    const ObjectInfo* o = cat.find(id);
    if (o == nullptr || o->kind != ObjectKind::kTable) return std::nullopt;
    cs_.check_table_readable(*o);
    if (!writer_view_ && block_read_at_ts()) return frozen_parts(block_pin(id, *o, *t), parts);
    return cs_.published_parts(id, *t, parts, writer_view_);
  };
}

namespace {
// Refuses a result larger than `max` bytes (result_size.hpp).
void check_result_size(const std::vector<std::pair<Row, int64_t>>& rows, uint64_t max) {
  uint64_t total = 0;
  for (const auto& [r, n] : rows) {
    total += r.size_bytes() + 8;
    if (total > max) throw SqlError(sqlstate::kOutOfMemory, "result exceeds max size of " + format_byte_size(max));
  }
}
}  // namespace

std::vector<std::pair<Row, int64_t>> Executor::evaluate(const HRel& rel) {
  dataflow::RelExpr plan = sql::optimize(sql::lower(rel, kOneShot));
  ctx_.logical_time_ms = cs_.now_ts;
  run_initplans(plan);
  rewrite_point_lookups(plan);
  auto rows = dataflow::run_oneshot(plan, snapshot_fn(), ctx_, query_limits(), partition_fn());
  check_result_size(rows, g_max_result_size.load(std::memory_order_relaxed));
  return rows;
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
    dataflow::RelExpr plan = sql::optimize(sql::lower(*q.rel, kOneShot));
    if (materialize_dialect() && st_.txn == TransactionStatus::kInBlock && !explicit_time_read_) {
      std::vector<uint64_t> inputs;
      collect_inputs(plan, inputs);
      mz_add_txn_ops(inputs.empty() ? MzTxnOps::kConstPeeks : MzTxnOps::kPeeks);
    }
    ctx_.logical_time_ms = as_of_time_.value_or(history_time_.value_or(cs_.now_ts));  // AS OF
    if (block_read_at_ts()) ctx_.logical_time_ms = st_.block_reads.ts;  // a block reads at one time
    no_wait_id_ = history_time_ ? 0 : serializable_read_of(plan);
    run_initplans(plan);
    if (history_time_ || !try_fast_path(plan, result)) {
      if (!history_time_) rewrite_point_lookups(plan);
      result = dataflow::run_oneshot(plan, snapshot_fn(), ctx_, query_limits(), partition_fn());
    }
  }
  {
    uint64_t max = g_max_result_size.load(std::memory_order_relaxed);
    if (auto session_max = parse_byte_size(st_.settings["max_query_result_size"])) max = std::min(max, *session_max);
    check_result_size(result, max);
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
    const bool mz_ties = materialize_dialect();
    // Each row's encoding, made when a tie first needs it (empty optional: not yet; a type
    // without an encoding leaves the tie to the result's order).
    std::vector<std::optional<std::string>> mz_enc(mz_ties ? expanded.size() : 0);
    std::vector<bool> mz_enc_failed(mz_ties ? expanded.size() : 0);
    auto mz_encoded = [&](size_t i) -> const std::string* {
      if (mz_enc_failed[i]) return nullptr;
      if (!mz_enc[i]) {
        std::string out;
        const auto& types = q.rel->column_types;
        for (size_t c = 0; c < keys[i].size(); ++c) {
          if (c >= types.size() || !mz_encode_datum(keys[i][c], types[c], out)) {
            mz_enc_failed[i] = true;
            return nullptr;
          }
        }
        mz_enc[i] = std::move(out);
      }
      return &*mz_enc[i];
    };
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      if ((++comparisons & dataflow::kPollMask) == 0) check.check_cancelled();
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
      // Materialize breaks the tie by its order of whole rows: encoded length, then bytes
      // (common/mz_row_order.hpp; window_funcs.slt:6412). Otherwise the result's order stays.
      if (mz_ties) {
        const std::string* ea = mz_encoded(a);
        const std::string* eb = mz_encoded(b);
        if (ea == nullptr || eb == nullptr) return ea != nullptr && eb == nullptr;  // a strict weak order still
        if (ea->size() != eb->size()) return ea->size() < eb->size();
        return *ea < *eb;
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
    if (materialize_dialect() && std::string_view(what) == "OFFSET") sql::mz_check_offset_value(d);
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

uint64_t Executor::serializable_read_of(const dataflow::RelExpr& plan) {
  if (!st_.serializable_reads) return 0;
  if (st_.block && !st_.pending.empty()) return 0;  // the block's own writes are read too
  std::vector<uint64_t> inputs;
  collect_all_inputs(plan, inputs);
  if (inputs.size() != 1 || !cs_.find_maintained(inputs[0])) return 0;
  return inputs[0];
}

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

void Executor::run_initplans(dataflow::RelExpr& plan) {
  bool pending = false;
  dataflow::for_each_in_set(plan, [&](const dataflow::ScalarExpr& s) { pending = pending || s.in_set == nullptr; });
  if (pending) dataflow::run_initplans(plan, snapshot_fn(), ctx_, query_limits(), partition_fn());
}

bool Executor::try_fast_path(const dataflow::RelExpr& plan, std::vector<std::pair<Row, int64_t>>& out) {
  FastPath fp = match_fast_path(plan);
  if (!fp.get) return false;
  bool has_in_set = false;  // its set is evaluated by run_oneshot
  dataflow::for_each_in_set(plan, [&](const dataflow::ScalarExpr&) { has_in_set = true; });
  if (has_in_set) return false;
  if (block_read_at_ts() && changed_since_block_ts(fp.get->collection_id)) return false;  // computed at the block's ts
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


void Executor::rewrite_point_lookups(dataflow::RelExpr& e) {
  for (auto& in : e.inputs) rewrite_point_lookups(in);
  if (e.kind != dataflow::RelKind::kFilter || e.inputs.empty() || e.inputs[0].kind != dataflow::RelKind::kGet) return;
  const dataflow::RelExpr& get = e.inputs[0];
  const ObjectInfo* t = catalog_->find(get.collection_id);
  TableData* data = catalog_->table_data(get.collection_id);
  if (!t || !data || t->kind != ObjectKind::kTable || t->primary_key.empty() || t->source_id != 0) return;
  if (st_.pending.count(t->id)) return;  // the transaction's own writes are not in the index
  if (!writer_view_ && block_read_at_ts()) {
    // A transaction block reads the table as at its first read: the index only while it is
    // unchanged since. The table is kept for the block's later reads when its shared copy is
    // current (free); a lookup does not copy the table (a later read after a change: 40001).
    if (changed_since_block_ts(t->id)) return;
    if (!st_.block_reads.pinned.contains(t->id)) {
      if (auto f = data->frozen.get(); f && f->version == data->version && !cs_.has_unpublished(t->id))
        st_.block_reads.pinned.emplace(t->id, std::move(f));
    }
  }
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
      if (const Row* found = data->row_by_key(k)) rows.constant_rows.push_back({*found, 1});
    } else if (auto found = cs_.published_by_key(*t, *data, k)) {
      rows.constant_rows.push_back({std::move(*found), 1});
    }
  }
  e.inputs[0] = std::move(rows);
}

}  // namespace freshet::server
