// The SessionApi over server::Session. Kept in its own file (and library target) so that the
// protocol code and its tests do not need the server module to link.

#include "pgwire/pg_server.hpp"
#include "pgwire/session_api.hpp"
#include "server/coordinator.hpp"

namespace freshet::pgwire {
namespace {

class ServerSession final : public SessionApi {
 public:
  ServerSession(server::Coordinator& coordinator, server::SessionOptions options)
      : session_(coordinator, std::move(options)) {}

  std::vector<std::string> split(std::string_view sql) override { return session_.split(sql); }
  server::PreparedStatement prepare(std::string_view sql, std::span<const Type> hints) override {
    return session_.prepare(sql, hints);
  }
  std::unique_ptr<server::Execution> execute(const server::PreparedStatement& stmt,
                                             std::span<const Datum> params) override {
    return session_.execute(stmt, params);
  }
  server::TransactionStatus transaction_status() const override { return session_.transaction_status(); }
  std::vector<std::pair<std::string, std::string>> reported_settings() const override {
    return session_.reported_settings();
  }
  std::vector<std::pair<std::string, std::string>> take_changed_settings() override {
    return session_.take_changed_settings();
  }
  Datum parse_parameter(std::string_view text, Type t, Arena& arena) override {
    return session_.parse_parameter(text, t, arena);
  }
  void format_value(const Datum& d, Type t, std::string& out) override { session_.format_value(d, t, out); }
  std::optional<std::vector<server::Column>> cursor_columns(const std::string& name) override {
    return session_.cursor_columns(name);
  }
  void set_backend(int32_t pid, std::function<bool(int32_t, bool)> signal) override {
    session_.set_backend(pid, std::move(signal));
  }
  void cancel() override { session_.cancel(); }
  void close() override { session_.close(); }
  void begin_implicit_block() override { session_.begin_implicit_block(); }
  void end_implicit_block(bool ok) override { session_.end_implicit_block(ok); }

 private:
  server::Session session_;
};

}  // namespace

PgServer::PgServer(server::Coordinator& coordinator, PgServerOptions options)
    : PgServer([&coordinator](server::SessionOptions o) { return make_server_session(coordinator, std::move(o)); },
               coordinator.auth(), std::move(options)) {}

std::unique_ptr<SessionApi> make_server_session(server::Coordinator& coordinator, server::SessionOptions options) {
  return std::make_unique<ServerSession>(coordinator, std::move(options));
}

}  // namespace freshet::pgwire
