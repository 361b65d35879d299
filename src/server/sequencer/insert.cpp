// INSERT.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

bool values_insert_of(const PgQuery__InsertStmt* s, bool (*item_ok)(const PgQuery__Node*)) {
  if (s->n_returning_list != 0 || s->on_conflict_clause || s->with_clause || !s->select_stmt) return false;
  const PgQuery__SelectStmt* sel = s->select_stmt->select_stmt;
  if (!sel || sel->n_values_lists == 0 || sel->op != PG_QUERY__SET_OPERATION__SETOP_NONE || sel->with_clause) return false;
  for (size_t r = 0; r < sel->n_values_lists; ++r) {
    const auto* l = sel->values_lists[r]->list;
    for (size_t k = 0; k < l->n_items; ++k)
      if (!item_ok(l->items[k])) return false;
  }
  return true;
}

namespace {
// A VALUES item whose value needs no relation: a literal, a parameter, a cast of one, DEFAULT.
bool literal_item(const PgQuery__Node* n) {
  if (n == nullptr) return false;
  switch (n->node_case) {
    case PG_QUERY__NODE__NODE_A_CONST:
    case PG_QUERY__NODE__NODE_PARAM_REF:
    case PG_QUERY__NODE__NODE_SET_TO_DEFAULT:
      return true;
    case PG_QUERY__NODE__NODE_TYPE_CAST:
      return literal_item(n->type_cast->arg);
    default:
      return false;
  }
}

// INSERT ... VALUES of literal rows, without RETURNING: its rows depend on the table's columns
// only, not on any relation's contents.
bool literal_values(const PgQuery__InsertStmt* s) { return values_insert_of(s, [](const PgQuery__Node* n) { return literal_item(n); }); }

// INSERT ... VALUES whose rows give every column of t, in order, each by a literal, a
// parameter or a cast of one (no DEFAULT): Executor::insert_rows packs them row by row.
bool literal_rows(const PgQuery__InsertStmt* s, const ObjectInfo& t, const std::vector<size_t>& targets) {
  if (targets.size() != t.columns.size()) return false;
  for (size_t i = 0; i < targets.size(); ++i)
    if (targets[i] != i) return false;
  const PgQuery__SelectStmt* sel = s->select_stmt->select_stmt;
  if (sel->with_clause) return false;
  for (size_t r = 0; r < sel->n_values_lists; ++r) {
    if (sel->values_lists[r]->node_case != PG_QUERY__NODE__NODE_LIST) return false;
    const auto* l = sel->values_lists[r]->list;
    if (l->n_items != targets.size()) return false;  // the general path reports it (or fills in defaults)
    for (size_t k = 0; k < l->n_items; ++k)
      if (l->items[k]->node_case == PG_QUERY__NODE__NODE_SET_TO_DEFAULT || !literal_item(l->items[k])) return false;
  }
  return true;
}

bool same_columns(const std::vector<sql::ColumnInfo>& a, const std::vector<sql::ColumnInfo>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i].name != b[i].name || a[i].type != b[i].type || a[i].nullable != b[i].nullable || a[i].default_sql != b[i].default_sql)
      return false;
  return true;
}
}  // namespace

std::unique_ptr<Execution> Executor::run_insert(const PgQuery__InsertStmt* s) {
  // A bulk INSERT of literal rows computes them (binding and evaluating every literal, most of
  // its work before the key checks) before taking write_mu, holding only mu shared as a reader
  // does: other writers go on meanwhile. Under write_mu the table is looked up again; if DDL
  // changed it in between (its id or columns), the rows are computed again there.
  std::optional<InsertRows> early;
  if (st_.txn != TransactionStatus::kInBlock && !st_.block && literal_values(s)) {
    std::shared_lock r(cs_.mu);
    early = insert_rows(s);
    if (early->used_default) early.reset();  // DEFAULT expressions are computed under write_mu
  }
  begin_write();
  InsertRows in;
  if (early) {
    const ObjectInfo& t = table_for_write(s->relation);
    if (t.id == early->table_id && same_columns(t.columns, early->columns)) {
      in = std::move(*early);
      in.table = &t;
    }
  }
  if (in.table == nullptr) in = insert_rows(s);
  const ObjectInfo& t = *in.table;
  auto& rows = in.rows;
  // The rows are computed: what is left (the key checks, the records, staging) reads only the
  // table's state and the catalog, which change only under write_mu (held). So mu is let go
  // here, and a bulk INSERT's per-row work no longer keeps the writers before it from being
  // published (which takes mu exclusively). RETURNING binds and evaluates expressions that may
  // read other relations (a subquery): it keeps mu until the end.
  if (s->n_returning_list == 0 && st_.txn != TransactionStatus::kInBlock) release_read_lock();
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

Executor::InsertRows Executor::insert_rows(const PgQuery__InsertStmt* s) {
  if (s->on_conflict_clause) throw SqlError(sqlstate::kFeatureNotSupported, "ON CONFLICT is not supported");
  if (s->with_clause) throw SqlError(sqlstate::kFeatureNotSupported, "WITH in INSERT is not supported");
  const ObjectInfo& t = table_for_write(s->relation);
  InsertRows out;
  out.table = &t;
  out.table_id = t.id;
  out.columns = t.columns;
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
  if (sel && sel->n_values_lists > 0 && sel->op == PG_QUERY__SET_OPERATION__SETOP_NONE && literal_rows(s, t, targets)) {
    // Every column given, in order, by a literal, parameter or cast of one (no DEFAULT, no
    // expression over anything else): each row is bound and evaluated item by item and packed
    // as it comes, in VALUES order, without building a constant relation and running it as a
    // one-shot query (lowering, optimizing and running that plan, and a vector of bound
    // expressions per row, cost about half of a 1,000-row INSERT's binding and evaluation).
    // The same binding and coercion as below; constant expressions evaluate as the dataflow's.
    sql::Scope empty;
    ctx_.logical_time_ms = cs_.now_ts;
    // Strings computed for a row live until it is packed: a local arena, emptied per row.
    Arena row_arena;
    Arena* const statement_arena = ctx_.arena;
    ctx_.arena = &row_arena;
    struct RestoreArena {
      EvalContext& ctx;
      Arena* arena;
      ~RestoreArena() { ctx.arena = arena; }
    } restore{ctx_, statement_arena};
    std::vector<Datum> row;
    std::vector<HExpr> bound;  // a row's bound items: its literals' datums point into them
    bound.reserve(targets.size());  // never reallocated (a move would relocate short strings)
    out.rows.reserve(sel->n_values_lists);
    for (size_t r = 0; r < sel->n_values_lists; ++r) {
      const auto* l = sel->values_lists[r]->list;
      row.clear();
      bound.clear();
      for (size_t k = 0; k < l->n_items; ++k) {
        const auto& col = t.columns[targets[k]];
        bound.push_back(binder.coerce(binder.bind_expr_in_scope(l->items[k], empty, "VALUES", true), col.type,
                                      CastContext::kAssignment, 0, "column \"" + col.name + "\""));
        const HExpr& e = bound.back();
        row.push_back(e.is_literal() ? e.literal.get(0) : dataflow::eval(sql::lower_constant_expr(e), {}, ctx_));
      }
      out.rows.emplace_back(Row::pack(row), 1);
      row_arena.reset();
    }
    binder.finish_params();
    return out;
  }
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
          out.used_default = true;
          row.push_back(default_for(t, targets[k], binder));
          continue;
        }
        HExpr e = binder.bind_expr_in_scope(l->items[k], empty, "VALUES", true);
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
        out.used_default |= t.columns[c].default_sql.has_value();
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
  out.rows = evaluate(*full);
  return out;
}

}  // namespace freshet::server
