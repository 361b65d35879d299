#pragma once
// Session: one client's conversation with the coordinator. pgwire/ (or any other front end)
// owns one Session per connection and calls it from that connection's thread only; cancel()
// is the one call that may come from another thread.
//
// Errors in SQL (syntax, unknown names, evaluation errors) are thrown as SqlError
// (common/error.hpp) and leave the session usable; inside a transaction block they put it in
// the failed state ('E') until ROLLBACK.

#include <array>
#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/row.hpp"
#include "common/types.hpp"
#include "server/copy_spec.hpp"

namespace freshet::server {

class Coordinator;
struct PreparedPlan;  // private to the server module

struct Column {
  std::string name;
  Type type;
  uint32_t table_oid = 0;  // pg RowDescription: the table, when the column is a table's column
  int16_t attnum = 0;
};

// A parsed and bound statement, ready to execute with parameter values.
struct PreparedStatement {
  std::string sql;                 // the statement's own text
  std::vector<Type> param_types;   // $1..$n; kUnknown never appears after prepare()
  std::vector<Column> columns;     // empty when the statement returns no rows
  bool returns_rows = false;
  std::shared_ptr<const PreparedPlan> plan;
};

// The results of one executing statement. Rows are pulled in batches so that a portal can
// be suspended (Execute with a row limit) and a SUBSCRIBE can stream without end.
class Execution {
 public:
  virtual ~Execution() = default;
  virtual const std::vector<Column>& columns() const = 0;
  // Appends up to max_rows rows (max_rows == 0: no limit) to out. Returns true when the
  // statement has more rows to give, false when it is complete (then command_tag() is set).
  // May block (SUBSCRIBE waits for changes). Throws SqlError on evaluation errors or when
  // cancelled (57014).
  virtual bool fetch(std::vector<Row>& out, size_t max_rows) = 0;
  // "SELECT 3", "INSERT 0 1", "CREATE TABLE", ... Valid once fetch() returned false.
  virtual std::string command_tag() const = 0;
  // COPY ... FROM STDIN / TO STDOUT: the direction and data format, for the front end to run
  // the COPY sub-protocol (columns() are the data's columns); null for other statements.
  // COPY TO: fetch() gives the rows to print. COPY FROM: copy_in() takes the parsed rows in
  // batches, then fetch() loads them (one transaction) and completes; dropping the Execution
  // without fetch() (CopyFail, an error) loads nothing.
  virtual const CopySpec* copy() const { return nullptr; }
  // REQUIRES: copy() && copy()->from. May throw SqlError (53200 past the memory budget).
  virtual void copy_in(std::vector<Row>& rows) { (void)rows; }
};

struct SessionOptions {
  std::string user = "freshet";
  std::string database = "freshet";
  std::string application_name;
  // Other startup parameters (options, client_encoding, DateStyle, ...).
  std::map<std::string, std::string> startup_params;
};

enum class TransactionStatus : char { kIdle = 'I', kInBlock = 'T', kFailed = 'E' };

class Session {
 public:
  Session(Coordinator& coordinator, SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Splits a simple-query string into statements and prepares each in turn as it is
  // executed (a later statement may depend on an earlier one's DDL). Returns the statement
  // texts; an empty query yields an empty vector (EmptyQueryResponse). Throws 42601 on a
  // syntax error anywhere in the string (nothing runs then, as in PostgreSQL).
  std::vector<std::string> split(std::string_view sql);

  // Parses and binds one statement. param_type_hints may be shorter than the number of
  // parameters, and may hold kUnknown entries to be inferred. Throws SqlError.
  PreparedStatement prepare(std::string_view sql, std::span<const Type> param_type_hints);

  // Starts executing. params.size() must equal stmt.param_types.size(); their bytes must stay
  // alive until the Execution is destroyed. Throws SqlError.
  std::unique_ptr<Execution> execute(const PreparedStatement& stmt, std::span<const Datum> params);

  TransactionStatus transaction_status() const;

  // Run-time settings (SET/SHOW). Names are case-insensitive.
  std::optional<std::string> setting(std::string_view name) const;
  // The ParameterStatus values a client is told at startup (server_version, server_encoding,
  // client_encoding, DateStyle, IntervalStyle, TimeZone, integer_datetimes,
  // standard_conforming_strings, application_name, is_superuser, session_authorization).
  std::vector<std::pair<std::string, std::string>> reported_settings() const;
  // Settings whose reported value changed since the last call (after a SET), to be sent as
  // ParameterStatus messages before ReadyForQuery.
  std::vector<std::pair<std::string, std::string>> take_changed_settings();

  // The pid the client was given (BackendKeyData) and how to cancel or terminate another
  // session by its pid (pg_cancel_backend, pg_terminate_backend). Called once, after open.
  void set_backend(int32_t pid, std::function<bool(int32_t pid, bool terminate)> signal);

  // Requests cancellation of the statement running now, if any. Any thread.
  void cancel();

  // Text I/O that needs the catalog: the reg* types (regclass, regtype, regproc,
  // regnamespace, regrole) by name, as PostgreSQL's regclassin/regclassout & co. A parameter
  // bound as text ('jsonb' for $1::regtype, psycopg's TypeInfo.fetch) and a result column of
  // such a type ('jsonb'::regtype prints jsonb). Every other type: parse_datum /
  // format_datum. Takes the catalog lock shared; REQUIRES: the caller holds no catalog lock.
  Datum parse_parameter(std::string_view text, Type t, Arena& arena) const;
  void format_value(const Datum& d, Type t, std::string& out) const;

  // The columns of the SQL cursor `name` (DECLARE), or nullopt when there is none: the
  // extended protocol's Describe of a portal by that name (psycopg 3's server-side cursors).
  std::optional<std::vector<Column>> cursor_columns(const std::string& name) const;
  // 0A000 "cached plan must not change result type" when ps is a prepared FETCH whose cursor
  // now has other columns than when it was prepared.
  void check_fetch_result_type(const PreparedStatement& ps) const;

  // Called when the connection ends; rolls back an open transaction.
  void close();

  // A simple query of several statements runs them in one implicit transaction block, as in
  // PostgreSQL: begin_implicit_block() before the first statement, end_implicit_block(ok) after
  // the last one (ok) or after the one that failed (!ok): commits or rolls back what is still
  // implicit. A BEGIN among the statements makes the block explicit (it then outlives the
  // query); COMMIT/ROLLBACK among them end the implicit block so far and start another.
  // A statement that cannot run in a transaction block (CREATE SOURCE, ...) commits the
  // implicit block so far and runs on its own. end_implicit_block(true) throws SqlError when
  // the COMMIT fails (the block is rolled back then).
  void begin_implicit_block();
  void end_implicit_block(bool ok);

  struct State;

 private:
  PreparedStatement prepare_in_block(std::string_view sql, std::span<const Type> param_type_hints);
  Coordinator& coordinator_;
  std::unique_ptr<State> state_;
};

// What a front end learns about a role at login (roles.hpp): whether it exists, may log in,
// and its SCRAM-SHA-256 keys when it has a password.
struct LoginRole {
  bool exists = false;
  bool login = false;
  bool superuser = false;
  // CONNECT on the database (superusers always): checked at every login, pgwire, HTTP and
  // Kafka SASL alike (README.md "Roles and privileges").
  bool connect = true;
  bool has_password = false;
  std::string salt;  // raw bytes
  int iterations = 4096;
  std::array<uint8_t, 32> stored_key{};
  std::array<uint8_t, 32> server_key{};
  std::string verifier;  // rolpassword's text form (password_matches)
};

// Roles and passwords, shared by every front end (pgwire, Kafka SASL, HTTP).
struct AuthConfig {
  // The bootstrap superuser (oid 10): the first user given a password, else `freshet`.
  std::string bootstrap_role;
  // Set by the Coordinator: the role as stored in the catalog (created by SQL or from the
  // configured passwords). Front ends ask it at every login.
  std::function<LoginRole(const std::string& user)> login_lookup;
  // When false, every role is accepted without a password (trust).
  bool require_password = false;
  // role -> password (plain; SCRAM verifiers are derived from it on start).
  std::map<std::string, std::string> passwords;
};

}  // namespace freshet::server
