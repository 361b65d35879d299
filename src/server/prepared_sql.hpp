#pragma once
// SQL-level prepared statements: PREPARE name [(types)] AS statement, EXECUTE name [(args)],
// DEALLOCATE [PREPARE] name | ALL (PostgreSQL's semantics). A session's statements live in
// its Session::State; the statement itself is prepared and executed through Session like any
// other (session.cpp, sequencer/dispatch.cpp), this file holds what does not need the session: the names, the
// statement text of a PREPARE and the Execution that keeps EXECUTE's argument values alive.
//
// Unlike PostgreSQL, the extended protocol's prepared statements (Parse) are a separate
// namespace (pgwire keeps them), so DEALLOCATE of a name that is not a SQL prepared statement
// succeeds silently: drivers (psycopg) DEALLOCATE their protocol statements by SQL.
//
// Thread: owned by one session; not thread-safe.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/row.hpp"
#include "server/session.hpp"

namespace freshet::server {

class SqlPreparedStatements {
 public:
  // At most this many per session (54000 beyond): each holds a parse tree.
  static constexpr size_t kMaxStatements = 10000;
  // Throws 42P05 when the name is taken, 54000 past kMaxStatements.
  void add(const std::string& name, PreparedStatement ps);
  // Throws 42P05 when the name is taken (checked before preparing the statement).
  void check_free(const std::string& name) const {
    if (map_.count(name)) throw_duplicate(name);
  }
  // Throws 26000 when there is no such statement.
  const PreparedStatement& get(const std::string& name) const;
  void remove(const std::string& name) { map_.erase(name); }
  void clear() { map_.clear(); }

 private:
  [[noreturn]] static void throw_duplicate(const std::string& name);
  std::map<std::string, PreparedStatement> map_;
};

// The text of the statement a PREPARE defines: what follows its first AS outside parentheses
// (found with libpg_query's scanner). Throws 42601 when there is none.
std::string prepared_statement_text(std::string_view prepare_sql);

// What an EXECUTE's execution reads until it is destroyed (Session::execute's contract): the
// statement (its parse tree; a DEALLOCATE meanwhile must not free it) and the evaluated
// arguments.
struct ExecuteArgs {
  PreparedStatement statement;
  Row row;                    // the arguments, packed
  std::vector<Datum> values;  // point into row
};

// An Execution that runs `inner` and keeps `args` alive as long as it.
std::unique_ptr<Execution> with_owned_params(std::unique_ptr<Execution> inner, std::shared_ptr<const ExecuteArgs> args);

}  // namespace freshet::server
