// SET, RESET, SHOW.
#include <cctype>
#include <cmath>
#include <cstdlib>

#include "server/sequencer/executor.hpp"
#include "sql/catalog_access.hpp"

namespace freshet::server {

std::unique_ptr<Execution> Executor::run_set(const PgQuery__VariableSetStmt* s) {
  // In a block (explicit, or a multi-statement query's implicit one) a SET is undone by
  // ROLLBACK and SET LOCAL lasts until the block ends; outside one SET LOCAL does nothing
  // (PostgreSQL warns "SET LOCAL can only be used in transaction blocks").
  const bool in_block = st_.txn != TransactionStatus::kIdle;
  if (s->is_local && !in_block) return done("SET");
  if (in_block && !st_.txn_settings) st_.txn_settings = st_.settings;
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET_ALL) {
    for (const auto& d : kDefaultSettings) st_.settings[d.name] = setting_default(d);
    st_.serializable_reads = false;
    // RESET ALL resets the role, not the session authorization (PostgreSQL's GUC_NO_RESET_ALL).
    st_.set_role.clear();
    if (st_.client) {
      RoleSession rs = role_session();
      report_role_settings(rs);
    }
    return done("RESET");
  }
  std::string name = sql::lower_ident(s->name ? s->name : "");
  if (name == "dataflow_memory_budget_mb")
    throw SqlError("55P02", "parameter \"dataflow_memory_budget_mb\" is server-wide and cannot be changed with SET")
        .with_hint("Use ALTER SYSTEM SET dataflow_memory_budget_mb = <MB>.");
  if (name == "sql_dialect")
    throw SqlError("55P02", "parameter \"sql_dialect\" is server-wide and cannot be changed with SET")
        .with_hint("Start the server with freshet serve --sql-dialect postgres|materialize.");
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_MULTI) {
    // SET TRANSACTION { ISOLATION LEVEL ... | READ ONLY | READ WRITE }: the open block's (no
    // effect outside one). SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY: the default.
    if (name == "transaction") {
      apply_transaction_options(s->args, s->n_args);
    } else if (name == "session characteristics") {
      for (size_t i = 0; i < s->n_args; ++i) {
        const auto* a = s->args[i];
        if (a->node_case != PG_QUERY__NODE__NODE_DEF_ELEM || !a->def_elem->defname || !a->def_elem->arg) continue;
        const auto* v = a->def_elem->arg;
        if (std::string_view(a->def_elem->defname) == "transaction_read_only" && v->node_case == PG_QUERY__NODE__NODE_A_CONST &&
            v->a_const->val_case == PG_QUERY__A__CONST__VAL_IVAL)
          st_.settings["default_transaction_read_only"] = v->a_const->ival->ival ? "on" : "off";
      }
    }
    return done("SET");
  }
  std::string value;
  if (s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_DEFAULT || s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET) {
    value = "";
    for (const auto& d : kDefaultSettings)
      if (name == d.name) value = setting_default(d);
  } else {
    for (size_t i = 0; i < s->n_args; ++i) {
      const auto* a = s->args[i];
      std::string part;
      if (a->node_case == PG_QUERY__NODE__NODE_A_CONST) {
        const auto* c = a->a_const;
        if (c->val_case == PG_QUERY__A__CONST__VAL_SVAL) part = c->sval->sval;
        else if (c->val_case == PG_QUERY__A__CONST__VAL_IVAL) part = std::to_string(c->ival->ival);
        else if (c->val_case == PG_QUERY__A__CONST__VAL_FVAL) part = c->fval->fval;
        else if (c->val_case == PG_QUERY__A__CONST__VAL_BOOLVAL) part = c->boolval->boolval ? "on" : "off";
      } else if (a->node_case == PG_QUERY__NODE__NODE_TYPE_CAST && a->type_cast->arg->node_case == PG_QUERY__NODE__NODE_A_CONST &&
                 a->type_cast->arg->a_const->val_case == PG_QUERY__A__CONST__VAL_SVAL) {
        part = a->type_cast->arg->a_const->sval->sval;
      }
      // search_path is a list of names (PostgreSQL's GUC_LIST_QUOTE): each element is kept
      // as quote_ident gives it, so that `'ba r', foo` reads back as `"ba r", foo` and a name
      // with a comma or capitals stays one name (Catalog::parse_search_path).
      if (name == "search_path") part = sql::quote_identifier(part);
      value += (i ? ", " : "") + part;
    }
  }
  if (name == "transaction_isolation" || name == "default_transaction_isolation") {
    std::string v = sql::lower_ident(value);
    // Materialize's "strong session serializable" (with enable_session_timelines) runs, like
    // read committed and repeatable read, at strict serializable, which gives more.
    if (v != "strict serializable" && v != "serializable" && v != "read committed" && v != "repeatable read" &&
        v != "strong session serializable")
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"" + name + "\": \"" + value + "\"");
    if (name == "transaction_isolation") {
      const bool serializable = v == "serializable" && s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_SET_VALUE;
      check_isolation_change(serializable ? "serializable" : "strict serializable");
      st_.serializable_reads = serializable;
    }
  }
  if (name == "transaction_read_only" || name == "default_transaction_read_only") {
    if (name == "transaction_read_only" && value.empty()) {  // RESET / SET ... TO DEFAULT
      auto d = st_.settings.find("default_transaction_read_only");
      value = d == st_.settings.end() ? "off" : d->second;
    }
    std::string v = sql::lower_ident(value);
    bool on = v == "on" || v == "true" || v == "yes" || v == "1" || v == "t";
    bool off = v == "off" || v == "false" || v == "no" || v == "0" || v == "f";
    if (!on && !off)
      throw SqlError(sqlstate::kInvalidParameterValue, "parameter \"" + name + "\" requires a Boolean value");
    if (name == "transaction_read_only") {
      // The open block's mode (SHOW transaction_read_only reads it from the block).
      set_txn_read_only(on);
      return done(s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET ? "RESET" : "SET");
    }
    value = on ? "on" : "off";
  }
  // Materialize's rule for its `cluster` setting: a block's queries all run on one cluster.
  if (name == "cluster" && st_.txn == TransactionStatus::kInBlock && st_.txn_queried)
    throw SqlError(sqlstate::kActiveSqlTransaction, "SET cluster cannot be called in an active transaction");
  if (name == "timezone" || name == "time zone") {
    std::string v = sql::lower_ident(value);
    // Any spelling of UTC, including zone names that are UTC at every instant (Etc/UTC,
    // Zulu, GMT0: what a client such as pgJDBC sends from its host's zone); other zones are
    // refused (src/common/README.md "Time zones" says why).
    const TimeZone* tz = nullptr;
    if (v != "utc" && v != "gmt" && v != "etc/utc" && v != "z" && v != "+00" && v != "0" && v != "00:00" &&
        ((tz = find_time_zone(value)) == nullptr || !tz->always_utc()))
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"TimeZone\": \"" + value + "\"")
          .with_detail(tz != nullptr ? "Freshet supports only the time zone UTC for a session; use AT TIME ZONE to convert."
                                     : "Freshet stores and shows times in UTC.");
    value = "UTC";
    name = "timezone";
  }
  if (name == "statement_timeout") {
    auto ms = parse_duration_ms(value);
    if (!ms) throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"statement_timeout\": \"" + value + "\"");
    value = std::to_string(*ms);
  }
  if (name == "max_query_result_size" && !parse_byte_size(value))
    throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"max_query_result_size\": \"" + value + "\"")
        .with_hint("A size in bytes, with an optional unit: B, kB, MB, GB or TB.");
  if (name == "query_memory_budget_mb") {
    char* end = nullptr;
    unsigned long long mb = std::strtoull(value.c_str(), &end, 10);
    if (value.empty() || *end != '\0' || mb == 0 || mb > (1ull << 30))
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"query_memory_budget_mb\": \"" + value + "\"")
          .with_hint("A positive number of megabytes.");
  }
  if (name == "extra_float_digits") {
    // PostgreSQL's integer setting: a number rounded to an integer, within -15 .. 3.
    char* end = nullptr;
    double d = std::strtod(value.c_str(), &end);
    while (end && *end == ' ') ++end;
    if (value.empty() || end == nullptr || *end != '\0' || !std::isfinite(d))
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"extra_float_digits\": \"" + value + "\"");
    if (d < -2147483648.0 || d > 2147483647.0)
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"extra_float_digits\": \"" + value + "\"")
          .with_hint("Value exceeds integer range.");
    long long n = std::llround(d);
    if (n < -15 || n > 3)
      throw SqlError(sqlstate::kInvalidParameterValue,
                     std::to_string(n) + " is outside the valid range for parameter \"extra_float_digits\" (-15 .. 3)");
    value = std::to_string(n);
  }
  if (name == "datestyle") {
    // PostgreSQL's check_datestyle: words separated by commas (quoted or not), an output
    // style and an input order, shown as "ISO, MDY". Freshet reads and writes dates only as
    // ISO, MDY, so another style or order is refused rather than set and ignored.
    std::string style, order;
    size_t i = 0;
    while (i <= value.size()) {
      size_t j = value.find(',', i);
      if (j == std::string::npos) j = value.size();
      std::string tok;
      for (char c : value.substr(i, j - i))
        if (c != '"' && c != ' ' && c != '\t') tok += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      i = j + 1;
      if (tok.empty()) continue;
      std::string st, ord;
      if (tok == "iso") st = "ISO";
      else if (tok == "sql") st = "SQL";
      else if (tok == "postgres") st = "Postgres";
      else if (tok == "german") st = "German";
      else if (tok == "ymd") ord = "YMD";
      else if (tok == "dmy" || tok == "euro" || tok == "european") ord = "DMY";
      else if (tok == "mdy" || tok == "us" || tok == "noneuro" || tok == "noneuropean") ord = "MDY";
      else if (tok == "default") st = "ISO", ord = "MDY";
      else
        throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"DateStyle\": \"" + value + "\"")
            .with_detail("Unrecognized key word: \"" + tok + "\".");
      if ((!st.empty() && !style.empty() && st != style) || (!ord.empty() && !order.empty() && ord != order))
        throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"DateStyle\": \"" + value + "\"")
            .with_detail("Conflicting \"datestyle\" specifications.");
      if (!st.empty()) style = st;
      if (!ord.empty()) order = ord;
    }
    if (style.empty()) style = "ISO";
    if (order.empty()) order = style == "German" ? "DMY" : "MDY";
    if (style != "ISO" || order != "MDY")
      throw SqlError(sqlstate::kFeatureNotSupported, "DateStyle \"" + style + ", " + order + "\" is not supported")
          .with_detail("Freshet reads and writes dates as ISO, MDY.");
    value = "ISO, MDY";
  }
  if (name == "client_encoding") {
    std::string v = sql::lower_ident(value);
    if (v != "utf8" && v != "utf-8" && v != "unicode")
      throw SqlError(sqlstate::kInvalidParameterValue, "invalid value for parameter \"client_encoding\": \"" + value + "\"");
    value = "UTF8";
  }
  if (s->is_local) {
    if (!st_.local_settings.count(name)) {
      auto prior = st_.settings.find(name);
      st_.local_settings[name] = prior == st_.settings.end() ? std::nullopt : std::optional<std::string>(prior->second);
    }
  } else {
    st_.local_settings.erase(name);
  }
  st_.settings[name] = value;
  for (const auto& d : kDefaultSettings)
    if (d.reported && name == d.name) st_.changed.push_back({display_name(name), value});
  return done(s->kind == PG_QUERY__VARIABLE_SET_KIND__VAR_RESET ? "RESET" : "SET");
}

std::unique_ptr<Execution> Executor::run_show(const sql::ShowPlan& p) {
  std::string name = sql::lower_ident(p.name);
  if (name == "all") {
    std::vector<Row> rows;
    for (const auto& [k, v] : st_.settings) {
      std::vector<Datum> ds = {Datum::from_string(k), Datum::from_string(v), Datum::from_string("")};
      rows.push_back(Row::pack(ds));
    }
    return std::make_unique<MaterializedExecution>(
        std::vector<Column>{{"name", Type(TypeId::kText)}, {"setting", Type(TypeId::kText)}, {"description", Type(TypeId::kText)}},
        std::move(rows), "SHOW");
  }
  if (name == "time zone") name = "timezone";
  if (name == "transaction isolation level") name = "transaction_isolation";
  if (name == "transaction_read_only") {
    std::vector<Datum> ds = {Datum::from_string(txn_read_only() ? "on" : "off")};
    std::vector<Row> rows = {Row::pack(ds)};
    return std::make_unique<MaterializedExecution>(std::vector<Column>{{p.name, Type(TypeId::kText)}}, std::move(rows), "SHOW");
  }
  if (name == "dataflow_memory_budget_mb") {  // server-wide (Maintained::budget_bytes)
    std::vector<Datum> ds = {Datum::from_string(std::to_string(Maintained::budget_bytes() >> 20))};
    return std::make_unique<MaterializedExecution>(std::vector<Column>{{p.name, Type(TypeId::kText)}}, std::vector<Row>{Row::pack(ds)}, "SHOW");
  }
  auto it = st_.settings.find(name);
  if (it == st_.settings.end()) throw SqlError(sqlstate::kUndefinedObject, "unrecognized configuration parameter \"" + name + "\"");
  std::vector<Datum> ds = {Datum::from_string(it->second)};
  std::vector<Row> rows = {Row::pack(ds)};
  return std::make_unique<MaterializedExecution>(std::vector<Column>{{p.name, Type(TypeId::kText)}}, std::move(rows), "SHOW");
}

}  // namespace freshet::server
