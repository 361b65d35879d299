#pragma once
// A SQL Server client connection over FreeTDS's db-lib (README.md, "Protocol"). Every value is
// handed back as text (nullopt for NULL) in the form Freshet's parse_datum reads: integers in
// decimal, bit as t/f, decimal/money in plain decimal, float with round-trip digits, strings
// in UTF-8, binary as "\x" + hex, uniqueidentifier in its canonical form, date/time types as
// ISO 8601 ("2024-01-31 12:00:00.1234567", datetimeoffset with "+hh:mm").
//
// Threads: a TdsConnection is used by one thread at a time. FreeTDS is initialised once per
// process (dbinit); its error and message handlers record into thread-local storage.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "capture/sqlserver/change_rows.hpp"
#include "common/error.hpp"

struct tds_dblib_dbprocess;

namespace freshet::capture::sqlserver {

enum class Encryption : uint8_t {
  kOff,      // SSL MODE disable: never TLS (FreeTDS "encryption = off")
  kRequest,  // SSL MODE prefer (default): TLS when the server offers or requires it
  kRequire,  // SSL MODE require: TLS or fail
};

struct TdsOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 1433;
  std::string database;
  std::string user;
  std::string password;
  Encryption encryption = Encryption::kRequest;
  int login_timeout_s = 10;
  int query_timeout_s = 60;
};

struct ResultSet {
  std::vector<std::string> columns;
  std::vector<TextRow> rows;
};

// A failed statement or connection attempt: SQL Server's message number (0 for client-side
// failures such as an unreachable host) and the text.
struct TdsError {
  int number = 0;
  std::string message;
};

class TdsConnection {
 public:
  TdsConnection() = default;
  ~TdsConnection();
  TdsConnection(const TdsConnection&) = delete;
  TdsConnection& operator=(const TdsConnection&) = delete;

  // Connects and logs in (TDS 7.4). On failure: the server's login error (18456 for a wrong
  // password) or FreeTDS's (unreachable host).
  Status open(const TdsOptions& o);
  bool is_open() const { return proc_ != nullptr; }
  // Runs one batch and returns every result set it produced (statements without rows produce
  // none). On error the error of the statement that failed.
  Result<std::vector<ResultSet>> run(const std::string& batch);
  // The same, streaming: on_result at the start of each result set (its column names), on_row
  // for each of its rows (which it may move from). An error from either cancels the batch and
  // is returned. Memory: one row at a time.
  Status run_each(const std::string& batch, const std::function<Status(std::vector<std::string>)>& on_result,
                  const std::function<Status(TextRow&)>& on_row);
  // The error behind the last failed open()/run().
  const TdsError& last_error() const { return last_error_; }

 private:
  Status fail(const std::string& what);
  tds_dblib_dbprocess* proc_ = nullptr;
  TdsError last_error_;
};

}  // namespace freshet::capture::sqlserver
