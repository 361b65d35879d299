#pragma once
// SessionApi: what a pgwire connection needs from a session, as an interface, so that the
// protocol state machine can be tested (and fuzzed) with a fake session and without a
// coordinator. The real implementation forwards to server::Session (session.hpp documents
// the semantics of each call); make_server_session() builds one.
//
// Thread: owned by one connection thread; cancel() from any thread.

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/format.hpp"
#include "server/session.hpp"

namespace freshet::server {
class Coordinator;
}

namespace freshet::pgwire {

class SessionApi {
 public:
  virtual ~SessionApi() = default;
  virtual std::vector<std::string> split(std::string_view sql) = 0;
  virtual server::PreparedStatement prepare(std::string_view sql, std::span<const Type> param_type_hints) = 0;
  virtual std::unique_ptr<server::Execution> execute(const server::PreparedStatement& stmt,
                                                     std::span<const Datum> params) = 0;
  virtual server::TransactionStatus transaction_status() const = 0;
  virtual std::vector<std::pair<std::string, std::string>> reported_settings() const = 0;
  virtual std::vector<std::pair<std::string, std::string>> take_changed_settings() = 0;
  // Text input of a parameter and text output of a result value (server::Session: the reg*
  // types by name through the catalog). The defaults need no catalog.
  virtual Datum parse_parameter(std::string_view text, Type t, Arena& arena) { return parse_datum(text, t, arena); }
  virtual void format_value(const Datum& d, Type t, std::string& out) { format_datum(d, t, out); }
  // The columns of a SQL-level cursor (DECLARE name CURSOR ...), for Describe of a portal of
  // that name, as PostgreSQL's cursors are portals; nullopt when there is none.
  virtual std::optional<std::vector<server::Column>> cursor_columns(const std::string& name) {
    (void)name;
    return std::nullopt;
  }
  // The BackendKeyData pid and how to signal another session (server::Session::set_backend).
  virtual void set_backend(int32_t pid, std::function<bool(int32_t pid, bool terminate)> signal) {
    (void)pid;
    (void)signal;
  }
  virtual void cancel() = 0;
  virtual void close() = 0;
  // A simple query of several statements is one implicit transaction (server::Session).
  virtual void begin_implicit_block() {}
  virtual void end_implicit_block(bool /*ok*/) {}
};

// A SessionApi over a new server::Session of the coordinator. Throws SqlError when the
// session cannot be opened (unknown database or role).
std::unique_ptr<SessionApi> make_server_session(server::Coordinator& coordinator, server::SessionOptions options);

}  // namespace freshet::pgwire
