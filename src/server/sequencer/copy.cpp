// COPY.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

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

}  // namespace freshet::server
