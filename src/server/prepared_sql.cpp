#include "server/prepared_sql.hpp"

#include <pg_query.h>
#include <pg_query/pg_query.pb-c.h>

#include "common/error.hpp"

namespace freshet::server {

void SqlPreparedStatements::throw_duplicate(const std::string& name) {
  throw SqlError(sqlstate::kDuplicatePreparedStatement, "prepared statement \"" + name + "\" already exists");
}

void SqlPreparedStatements::add(const std::string& name, PreparedStatement ps) {
  if (map_.count(name)) throw_duplicate(name);
  if (map_.size() >= kMaxStatements)
    throw SqlError(sqlstate::kProgramLimitExceeded, "too many prepared statements (at most " + std::to_string(kMaxStatements) + ")")
        .with_hint("DEALLOCATE the ones no longer needed.");
  map_.emplace(name, std::move(ps));
}

const PreparedStatement& SqlPreparedStatements::get(const std::string& name) const {
  auto it = map_.find(name);
  if (it == map_.end()) throw SqlError(sqlstate::kInvalidSqlStatementName, "prepared statement \"" + name + "\" does not exist");
  return it->second;
}

std::string prepared_statement_text(std::string_view prepare_sql) {
  std::string sql(prepare_sql);
  PgQueryScanResult r = pg_query_scan(sql.c_str());
  if (r.error) {
    pg_query_free_scan_result(r);
    throw SqlError(sqlstate::kSyntaxError, "syntax error in PREPARE");
  }
  PgQuery__ScanResult* scan = pg_query__scan_result__unpack(nullptr, r.pbuf.len, reinterpret_cast<const uint8_t*>(r.pbuf.data));
  pg_query_free_scan_result(r);
  if (scan == nullptr) throw SqlError(sqlstate::kInternalError, "could not decode the scan of PREPARE");
  size_t start = std::string::npos;
  int depth = 0;
  for (size_t i = 0; i < scan->n_tokens; ++i) {
    const auto* t = scan->tokens[i];
    if (t->end - t->start == 1 && sql[static_cast<size_t>(t->start)] == '(') ++depth;
    else if (t->end - t->start == 1 && sql[static_cast<size_t>(t->start)] == ')') --depth;
    else if (depth == 0 && t->token == PG_QUERY__TOKEN__AS) {
      start = static_cast<size_t>(t->end);
      break;
    }
  }
  pg_query__scan_result__free_unpacked(scan, nullptr);
  if (start == std::string::npos) throw SqlError(sqlstate::kSyntaxError, "syntax error in PREPARE: no AS");
  return sql.substr(start);
}

namespace {

class OwnedParamsExecution final : public Execution {
 public:
  OwnedParamsExecution(std::unique_ptr<Execution> inner, std::shared_ptr<const ExecuteArgs> params)
      : params_(std::move(params)), inner_(std::move(inner)) {}
  const std::vector<Column>& columns() const override { return inner_->columns(); }
  bool fetch(std::vector<Row>& out, size_t max_rows) override { return inner_->fetch(out, max_rows); }
  std::string command_tag() const override { return inner_->command_tag(); }
  const CopySpec* copy() const override { return inner_->copy(); }
  void copy_in(std::vector<Row>& rows) override { inner_->copy_in(rows); }

 private:
  // Declared first so that it is destroyed last, after the execution that reads it.
  std::shared_ptr<const ExecuteArgs> params_;
  std::unique_ptr<Execution> inner_;
};

}  // namespace

std::unique_ptr<Execution> with_owned_params(std::unique_ptr<Execution> inner, std::shared_ptr<const ExecuteArgs> params) {
  return std::make_unique<OwnedParamsExecution>(std::move(inner), std::move(params));
}

}  // namespace freshet::server
