#include "server/as_of.hpp"

#include <limits>
#include <string_view>

#include "common/unsigned_int.hpp"
#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "dataflow/eval.hpp"
#include "sql/lower.hpp"
#include "sql/parser.hpp"
#include "sql/sql_tokens.hpp"

namespace freshet::server {

namespace {

// Functions whose value is not fixed by the AS OF time (Materialize's "unmaterializable").
bool unmaterializable(std::string_view w) {
  static const char* const kNames[] = {
      "now", "current_timestamp", "localtimestamp", "current_time", "localtime", "current_date", "statement_timestamp",
      "transaction_timestamp", "clock_timestamp", "timeofday", "current_database", "current_catalog", "current_user",
      "session_user", "current_role", "user", "current_schema", "current_schemas", "current_setting", "pg_backend_pid",
      "random", "gen_random_uuid", "mz_now", "version", "pg_postmaster_start_time", "inet_server_addr"};
  for (const char* n : kNames)
    if (w == n) return true;
  return false;
}

// The unmaterializable function the text calls (outside strings), or "".
std::string calls_unmaterializable(const std::string& sql) {
  std::vector<sql::Token> t = sql::tokenize(sql);
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i].kind != sql::Token::Kind::kWord || !unmaterializable(t[i].text)) continue;
    bool call = i + 1 < t.size() && t[i + 1].kind == sql::Token::Kind::kPunct && t[i + 1].text == "(";
    bool keyword = t[i].text.starts_with("current_") || t[i].text.starts_with("local") || t[i].text == "session_user" ||
                   t[i].text == "user";
    // A column named like a function (x.now) is not a call: only a call or a bare SQL keyword.
    bool qualified = i > 0 && t[i - 1].kind == sql::Token::Kind::kOther && t[i - 1].text == ".";
    if (!qualified && (call || keyword)) return t[i].text;
  }
  return "";
}

[[noreturn]] void not_castable() {
  throw SqlError(sqlstate::kInvalidParameterValue, "AS OF or UP TO should be castable to a (non-null) mz_timestamp value");
}

// A string of decimal digits (and an optional fraction of zeros) as uint64, else not_castable.
uint64_t parse_unsigned(std::string_view s) {
  if (size_t dot = s.find('.'); dot != std::string_view::npos) {
    for (char c : s.substr(dot + 1))
      if (c != '0') not_castable();
    s = s.substr(0, dot);
  }
  if (s.empty() || s.size() > 20) not_castable();
  unsigned __int128 v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') not_castable();
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v > std::numeric_limits<uint64_t>::max()) not_castable();
  return static_cast<uint64_t>(v);
}

}  // namespace

uint64_t evaluate_as_of(sql::Binder& binder, const std::string& expr_sql) {
  if (std::string f = calls_unmaterializable(expr_sql); !f.empty())
    throw SqlError(sqlstate::kFeatureNotSupported, "calling an unmaterializable function in AS OF or UP TO not yet supported");
  auto tree = sql::ParseTree::parse("SELECT " + expr_sql);
  if (tree->size() != 1 || tree->statement(0)->node_case != PG_QUERY__NODE__NODE_SELECT_STMT ||
      tree->statement(0)->select_stmt->n_target_list != 1 || tree->statement(0)->select_stmt->n_from_clause != 0)
    throw SqlError(sqlstate::kSyntaxError, "AS OF takes one expression");
  sql::Scope empty;
  sql::HExpr e;
  try {
    e = binder.bind_expr_in_scope(tree->statement(0)->select_stmt->target_list[0]->res_target->val, empty);
  } catch (const SqlError& err) {
    // A value that cannot be formed (22xxx: 1E38 past numeric's range, a bad literal) cannot
    // be a timestamp either; names and types that do not exist keep their own errors.
    if (std::string_view(err.sqlstate()).starts_with("22")) not_castable();
    throw;
  }
  dataflow::ScalarExpr se = sql::lower_constant_expr(e);
  if (!dataflow::is_constant_expr(se)) not_castable();
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  Datum d;
  try {
    d = dataflow::eval(se, {}, ctx);
  } catch (const SqlError&) {
    not_castable();  // 7/0 and the like, as Materialize reports them
  }
  if (d.is_null()) not_castable();
  TypeId t = e.type.id;
  if (is_integer_type(t)) {
    if (d.as_int() < 0) not_castable();
    return static_cast<uint64_t>(d.as_int());
  }
  if (t == TypeId::kNumeric) return parse_unsigned(numeric_to_string(d.as_numeric()));
  if (t == TypeId::kMzTimestamp) return uint_value(d, TypeId::kUInt8);
  if (t == TypeId::kTimestamp || t == TypeId::kTimestampTz) {
    int64_t us = d.as_int();
    if (us < -kUnixToPgEpochMicros) not_castable();
    return static_cast<uint64_t>((us + kUnixToPgEpochMicros) / 1000);
  }
  if (t == TypeId::kDate) {
    int64_t days = d.as_int() + 10957;  // 2000-01-01 is day 10957 after the Unix epoch
    if (days < 0) not_castable();
    return static_cast<uint64_t>(days) * 86'400'000ULL;
  }
  if (t == TypeId::kText || t == TypeId::kUnknown || t == TypeId::kVarchar) return parse_unsigned(d.as_string());
  throw SqlError(sqlstate::kCannotCoerce, "AS OF or UP TO does not support casting from " + type_name(e.type) + " to mz_timestamp");
}

void check_as_of_query(const std::string& query_sql) {
  std::string f = calls_unmaterializable(query_sql);
  if (!f.empty() && f != "mz_now")
    throw SqlError(sqlstate::kFeatureNotSupported, "unmaterializable function (except `mz_now`) in an AS OF query not yet supported");
}

bool reads_collections(const dataflow::RelExpr& plan) {
  if (plan.kind == dataflow::RelKind::kGet) return true;
  for (const auto& in : plan.inputs)
    if (reads_collections(in)) return true;
  return false;
}

namespace {
bool scalar_reads_mz_now(const dataflow::ScalarExpr& e) {
  if (e.kind == dataflow::ScalarKind::kMzNow) return true;
  for (const auto& a : e.args)
    if (scalar_reads_mz_now(a)) return true;
  return false;
}
bool plan_reads_mz_now(const dataflow::RelExpr& r) {
  auto any = [](const std::vector<dataflow::ScalarExpr>& es) {
    for (const auto& e : es)
      if (scalar_reads_mz_now(e)) return true;
    return false;
  };
  if (any(r.exprs) || any(r.group_key)) return true;
  for (const auto& c : r.equivalences)
    if (any(c)) return true;
  for (const auto& a : r.aggregates)
    if (scalar_reads_mz_now(a.arg) || scalar_reads_mz_now(a.separator) || any(a.order_exprs) ||
        (a.filter && scalar_reads_mz_now(*a.filter)))
      return true;
  for (const auto& b : r.temporal_bounds)
    if (scalar_reads_mz_now(b.expr)) return true;
  for (const auto& in : r.inputs)
    if (plan_reads_mz_now(in)) return true;
  return false;
}
}  // namespace

void check_maintainable(const dataflow::RelExpr& plan) {
  if (plan_reads_mz_now(plan))
    throw SqlError(sqlstate::kFeatureNotSupported, "cannot materialize call to mz_now()")
        .with_hint("mz_now() may only be compared with an expression in a WHERE or HAVING condition (a temporal filter) "
                   "of a view that is indexed, materialized or subscribed to.");
}

}  // namespace freshet::server
