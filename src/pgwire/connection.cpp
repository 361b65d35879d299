#include "common/sql_dialect.hpp"
#include "pgwire/connection.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/hmac.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <variant>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "common/format.hpp"
#include "common/trace.hpp"
#include "pgwire/binary_format.hpp"
#include "pgwire/copy.hpp"

namespace freshet::pgwire {

// ---- ServerContext ------------------------------------------------------------------------------

ServerContext::ServerContext(SessionFactory factory, const server::AuthConfig& auth, ConnectionLimits limits)
    : factory_(std::move(factory)), limits_(limits), require_password_(auth.require_password), login_lookup_(auth.login_lookup) {
  for (const auto& [role, password] : auth.passwords) {
    if (login_lookup_) break;  // the coordinator's roles hold these passwords' verifiers
    verifiers_.emplace(role, make_scram_verifier(password, random_bytes(16)));
  }
  mock_secret_ = random_bytes(32);
  int rc = ::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK);
  FRESHET_ASSERT(rc == 0);
  uint32_t r = 0;
  std::string b = random_bytes(2);
  std::memcpy(&r, b.data(), 2);
  // Pids look like PostgreSQL's (positive, not tiny); they only need to be unique here.
  next_pid_ = 10000 + static_cast<int32_t>(r % 20000);
}

ServerContext::~ServerContext() {
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

std::optional<ScramVerifier> ServerContext::verifier(const std::string& user) const {
  if (login_lookup_) {
    server::LoginRole r = login_lookup_(user);
    if (!r.exists || !r.has_password) return std::nullopt;
    ScramVerifier v;
    v.salt = r.salt;
    v.iterations = r.iterations;
    v.stored_key = r.stored_key;
    v.server_key = r.server_key;
    return v;
  }
  auto it = verifiers_.find(user);
  if (it == verifiers_.end()) return std::nullopt;
  return it->second;
}

std::optional<server::LoginRole> ServerContext::login_role(const std::string& user) const {
  if (!login_lookup_) return std::nullopt;
  return login_lookup_(user);
}

ScramVerifier ServerContext::mock_verifier(std::string_view user) const {
  uint8_t mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), mock_secret_.data(), static_cast<int>(mock_secret_.size()),
       reinterpret_cast<const uint8_t*>(user.data()), user.size(), mac, &len);
  ScramVerifier v;
  v.salt.assign(reinterpret_cast<const char*>(mac), 16);
  // The keys are never matched: ScramServer is told the exchange cannot succeed.
  return v;
}

std::pair<int32_t, int32_t> ServerContext::register_session(SessionApi* session) {
  return register_session(session, -1, nullptr);
}

bool ServerContext::signal(int32_t pid, bool terminate) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(pid);
  if (it == sessions_.end()) return false;
  if (terminate && it->second.terminated != nullptr) {
    it->second.terminated->store(true);
    if (it->second.fd >= 0) ::shutdown(it->second.fd, SHUT_RD);  // wakes its read with EOF
  }
  it->second.session->cancel();
  return true;
}

std::pair<int32_t, int32_t> ServerContext::register_session(SessionApi* session, int fd, std::atomic<bool>* terminated) {
  std::string b = random_bytes(4);
  int32_t secret;
  std::memcpy(&secret, b.data(), 4);
  std::lock_guard lock(mutex_);
  int32_t pid;
  do {
    pid = next_pid_++;
    if (next_pid_ <= 0 || next_pid_ > 4'000'000) next_pid_ = 10000;
  } while (sessions_.count(pid) != 0);
  sessions_.emplace(pid, Registered{secret, session, fd, terminated});
  if (stopping()) session->cancel();
  return {pid, secret};
}

void ServerContext::unregister_session(int32_t pid) {
  std::lock_guard lock(mutex_);
  sessions_.erase(pid);
}

void ServerContext::cancel(int32_t pid, int32_t secret) {
  std::lock_guard lock(mutex_);
  auto it = sessions_.find(pid);
  if (it != sessions_.end() && it->second.secret == secret) it->second.session->cancel();
}

void ServerContext::begin_stop() {
  stopping_.store(true, std::memory_order_release);
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_pipe_[1], &c, 1);
  std::lock_guard lock(mutex_);
  for (auto& [pid, r] : sessions_) r.session->cancel();
}

// ---- Connection ---------------------------------------------------------------------------------

namespace {

// The server is stopping: the connection ends with FATAL 57P01.
struct ShutdownSignal {};
// The client went away (EOF or a socket error): the connection ends silently.
struct ConnectionClosed {};
// A FATAL error was sent: the connection ends.
struct FatalSent {};
// pg_terminate_backend: the connection ends with FATAL 57P01.
struct Terminated {};

constexpr size_t kFlushThresholdBytes = 64u << 10;

ErrorFields error_fields(const SqlError& e, const char* severity = "ERROR") {
  ErrorFields f;
  f.severity = severity;
  f.sqlstate = e.sqlstate();
  f.message = materialize_dialect() ? materialize_error_text(e.message()) : e.message();
  f.detail = e.detail();
  f.hint = e.hint();
  f.context = e.context();
  f.position = e.position();
  return f;
}

// PostgreSQL's atttypmod on the wire (varchar(n): n + 4; numeric(p,s): ((p << 16) | s) + 4).
int32_t wire_typmod(Type t) {
  if (t.typmod < 0) return -1;
  switch (t.id) {
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kNumeric:
      return t.typmod + 4;
    case TypeId::kRecord:
      return -1;  // the binder's typmod of a record names its fields; not PostgreSQL's
    default:
      return t.typmod;
  }
}

struct Statement {
  bool empty = false;  // the query string had no statement: Execute answers EmptyQueryResponse
  server::PreparedStatement prepared;
};

struct Portal {
  std::shared_ptr<const Statement> statement;
  std::vector<int16_t> result_formats;  // one per column
  // Parameter bytes live in arena; exec is declared after it so that it is destroyed first.
  std::unique_ptr<Arena> arena = std::make_unique<Arena>();
  std::vector<Datum> params;
  std::unique_ptr<server::Execution> exec;
  bool done = false;
  std::string tag;
};

}  // namespace

struct Connection::Impl {
  Impl(int fd, ServerContext& ctx, ConnectionGate* gate, ConnectionGate::TicketPtr ticket)
      : fd_(fd),
        ctx_(ctx),
        gate_(gate),
        ticket_(std::move(ticket)),
        decoder_(ctx.limits().max_message_bytes, ctx.limits().max_startup_bytes) {
    startup_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(ctx.limits().startup_timeout_ms);
  }

  void run();

 private:
  // I/O.
  std::optional<Frame> read_frame();
  void flush(bool interruptible = true);
  void maybe_flush() {
    if (out_.size() >= kFlushThresholdBytes) flush();
  }
  void send_fatal(const ErrorFields& e);

  // Phases.
  bool startup();  // false: the connection ends (cancel request, client left)
  void authenticate();
  void serve();

  // Messages.
  void handle_query(std::string_view sql);
  void handle_parse(const ParseMsg& m);
  void handle_bind(const BindMsg& m);
  void handle_describe(const DescribeMsg& m);
  void handle_execute(const ExecuteMsg& m);
  void handle_close(const CloseMsg& m);
  void handle_sync();

  void ready_for_query();
  void send_changed_settings();
  void row_description(const std::vector<server::Column>& columns, const std::vector<int16_t>* formats);
  // Pulls rows from exec and sends DataRows; returns true when exec completed (max_rows 0:
  // no limit).
  bool send_rows(server::Execution& exec, const std::vector<server::Column>& columns,
                 const std::vector<int16_t>* formats, size_t max_rows);
  // The COPY sub-protocol of a COPY statement's execution (exec.copy() set): CopyOutResponse,
  // CopyData per row, CopyDone; or CopyInResponse and the client's CopyData until CopyDone
  // (CopyFail: 57014). The caller sends CommandComplete.
  void run_copy(server::Execution& exec);
  void copy_out(server::Execution& exec, const server::CopySpec& spec);
  void copy_in(server::Execution& exec, const server::CopySpec& spec);
  void send_error(const SqlError& e);
  // Rethrows a cancellation caused by server stop as ShutdownSignal.
  void check_shutdown(const SqlError& e) {
    if (ctx_.stopping() && e.sqlstate() == sqlstate::kQueryCanceled) throw ShutdownSignal{};
  }

  int fd_;
  ServerContext& ctx_;
  ConnectionGate* gate_;              // may be null
  ConnectionGate::TicketPtr ticket_;  // fd's entry in gate_
  bool in_startup_ = true;  // until ReadyForQuery: reads are bounded by startup_deadline_
  std::chrono::steady_clock::time_point startup_deadline_;
  FrameDecoder decoder_;
  MessageWriter out_;
  std::string user_;
  std::string database_;  // the startup packet's (the default when it names none)
  std::unique_ptr<SessionApi> session_;
  int32_t pid_ = 0;
  bool registered_ = false;
  bool ignore_till_sync_ = false;
  std::atomic<bool> terminated_{false};  // pg_terminate_backend (ServerContext::signal)
  std::map<std::string, std::shared_ptr<const Statement>, std::less<>> statements_;
  std::map<std::string, Portal, std::less<>> portals_;
};

Connection::Connection(int fd, ServerContext& ctx, ConnectionGate* gate, ConnectionGate::TicketPtr ticket)
    : impl_(std::make_unique<Impl>(fd, ctx, gate, std::move(ticket))) {}
Connection::~Connection() = default;
void Connection::run() { impl_->run(); }

void Connection::Impl::run() {
  try {
    try {
      if (startup()) serve();
    } catch (const SqlError& e) {
      // Protocol violations and errors outside a statement end the connection.
      check_shutdown(e);
      send_fatal(error_fields(e, "FATAL"));
    }
  } catch (const Terminated&) {
    ErrorFields f;
    f.severity = "FATAL";
    f.sqlstate = sqlstate::kAdminShutdown;
    f.message = "terminating connection due to administrator command";
    try {
      send_fatal(f);
    } catch (...) {
    }
  } catch (const ShutdownSignal&) {
    ErrorFields f;
    f.severity = "FATAL";
    f.sqlstate = sqlstate::kAdminShutdown;
    f.message = "terminating connection due to administrator command";
    try {
      send_fatal(f);
    } catch (...) {
    }
  } catch (const ConnectionClosed&) {
  } catch (const FatalSent&) {
  } catch (const std::exception& e) {
    ErrorFields f;
    f.severity = "FATAL";
    f.sqlstate = sqlstate::kInternalError;
    f.message = std::string("internal error: ") + e.what();
    try {
      send_fatal(f);
    } catch (...) {
    }
  }
  portals_.clear();
  statements_.clear();
  if (registered_) ctx_.unregister_session(pid_);
  if (session_) {
    try {
      session_->close();
    } catch (...) {
    }
    session_.reset();
  }
  if (gate_ != nullptr && ticket_) gate_->release(*ticket_);  // before the fd can be reused
  ::close(fd_);
}

std::optional<Frame> Connection::Impl::read_frame() {
  while (true) {
    if (auto f = decoder_.next()) return f;
    if (ctx_.stopping()) throw ShutdownSignal{};
    pollfd fds[2] = {{fd_, POLLIN, 0}, {ctx_.wake_fd(), POLLIN, 0}};
    int timeout_ms = -1;
    if (in_startup_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(startup_deadline_ - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw ConnectionClosed{};  // as PostgreSQL: closed without a message
      timeout_ms = static_cast<int>(std::min<int64_t>(left.count(), 60'000)) + 1;
    }
    int n = ::poll(fds, 2, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw ConnectionClosed{};
    }
    if (n == 0) continue;
    if (fds[1].revents != 0) throw ShutdownSignal{};
    if (fds[0].revents == 0) continue;
    char buf[64 * 1024];
    ssize_t got = ::recv(fd_, buf, sizeof buf, 0);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw ConnectionClosed{};
    }
    if (got == 0) {
      if (terminated_.load()) throw Terminated{};
      if (decoder_.buffered() > 0 && decoder_.startup_mode()) return std::nullopt;
      throw ConnectionClosed{};
    }
    decoder_.feed(std::string_view(buf, static_cast<size_t>(got)));
  }
}

void Connection::Impl::flush(bool interruptible) {
  std::string& b = out_.buffer();
  size_t off = 0;
  while (off < b.size()) {
    ssize_t n = ::send(fd_, b.data() + off, b.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      out_.clear();
      throw ConnectionClosed{};
    }
    pollfd fds[2] = {{fd_, POLLOUT, 0}, {ctx_.wake_fd(), POLLIN, 0}};
    int r = ::poll(fds, interruptible ? 2 : 1, interruptible ? -1 : 1000);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0 || (interruptible && fds[1].revents != 0)) {
      out_.clear();
      if (r > 0) throw ShutdownSignal{};
      throw ConnectionClosed{};
    }
    if (fds[0].revents & (POLLERR | POLLHUP)) {
      out_.clear();
      throw ConnectionClosed{};
    }
  }
  out_.clear();
}

void Connection::Impl::send_fatal(const ErrorFields& e) {
  out_.error_response(e);
  flush(false);
  throw FatalSent{};
}

void Connection::Impl::send_error(const SqlError& e) {
  check_shutdown(e);
  out_.error_response(error_fields(e));
  // Sent at once, as PostgreSQL does (elog.c flushes every error): a client that sent Flush
  // rather than Sync (postgres.js .cursor()) waits for this message, and the messages after
  // it up to Sync are discarded, Flush included.
  flush();
  if (trace_enabled()) trace_event(("pgwire: sent error " + e.sqlstate()).c_str());
}

// ---- Startup and authentication ---------------------------------------------------------------

bool Connection::Impl::startup() {
  while (true) {
    std::optional<Frame> f = read_frame();
    if (!f) throw_protocol_violation("incomplete startup packet");
    StartupRequest req = parse_startup(f->body);
    if (std::holds_alternative<SslRequest>(req) || std::holds_alternative<GssEncRequest>(req)) {
      if (decoder_.buffered() > 0) {
        // Bytes after the request would be read as if encrypted (CVE-2021-23214).
        throw_protocol_violation("received unencrypted data after SSL request");
      }
      out_.put_byte('N');
      flush();
      continue;
    }
    if (auto* c = std::get_if<CancelRequest>(&req)) {
      trace_event("pgwire: cancel request read");
      ctx_.cancel(c->pid, c->secret);
      trace_event("pgwire: cancel flag set");
      return false;
    }
    auto& m = std::get<StartupMessage>(req);
    int major = m.protocol >> 16, minor = m.protocol & 0xffff;
    if (major != 3) {
      throw SqlError(sqlstate::kFeatureNotSupported, "unsupported frontend protocol " + std::to_string(major) + "." +
                                                         std::to_string(minor) + ": server supports 3.0 to 3.0");
    }
    server::SessionOptions options;
    bool have_user = false, have_database = false;
    std::vector<std::string> unsupported;
    for (auto& [name, value] : m.params) {
      if (name == "user") {
        options.user = value;
        have_user = true;
      } else if (name == "database") {
        if (!value.empty()) {
          options.database = value;
          have_database = true;
        }
      } else if (name == "application_name") {
        options.application_name = value;
        options.startup_params[name] = value;
      } else if (name.rfind("_pq_.", 0) == 0) {
        unsupported.push_back(name);
      } else {
        options.startup_params[name] = value;
      }
    }
    if (!have_user || options.user.empty()) {
      throw SqlError(sqlstate::kInvalidAuthorizationSpecification,
                     "no PostgreSQL user name specified in startup packet");
    }
    (void)have_database;  // SessionOptions has the default database ("freshet")
    if (minor > 0 || !unsupported.empty()) out_.negotiate_protocol_version(0, unsupported);
    decoder_.set_startup_mode(false);
    user_ = options.user;
    database_ = options.database;

    // Nothing big before authentication: the SASL exchange has its own small limit.
    decoder_.set_max_message_bytes(ctx_.limits().max_auth_message_bytes);
    authenticate();
    decoder_.set_max_message_bytes(ctx_.limits().max_message_bytes);
    if (gate_ != nullptr && ticket_) {
      // Authenticated: from now on counted against max_connections, not among the pending.
      switch (gate_->promote(*ticket_)) {
        case ConnectionGate::Promote::kOk:
          break;
        case ConnectionGate::Promote::kEvicted:
          throw ConnectionClosed{};  // its socket was shut down
        case ConnectionGate::Promote::kFull: {
          ErrorFields e;
          e.severity = "FATAL";
          e.sqlstate = sqlstate::kTooManyConnections;
          e.message = "sorry, too many clients already";
          send_fatal(e);
        }
      }
    }
    out_.authentication_ok();

    session_ = ctx_.open_session(std::move(options));
    auto [pid, secret] = ctx_.register_session(session_.get(), fd_, &terminated_);
    pid_ = pid;
    registered_ = true;
    ServerContext* ctx = &ctx_;  // outlives every connection
    session_->set_backend(pid, [ctx](int32_t target, bool terminate) { return ctx->signal(target, terminate); });
    for (const auto& [name, value] : session_->reported_settings()) out_.parameter_status(name, value);
    session_->take_changed_settings();
    out_.backend_key_data(pid, secret);
    in_startup_ = false;
    ready_for_query();
    return true;
  }
}

void Connection::Impl::authenticate() {
  // A role that exists and lacks LOGIN is refused (28000), after the password exchange when
  // there is one, as PostgreSQL does. A name that is no role gets in only under trust
  // (src/server/README.md, "Roles and privileges").
  std::optional<server::LoginRole> role = ctx_.login_role(user_);
  auto check_login = [&] {
    if (role && role->exists && !role->login)
      throw SqlError(sqlstate::kInvalidAuthorizationSpecification, "role \"" + user_ + "\" is not permitted to log in");
    // PostgreSQL's CheckMyDatabase: CONNECT on the database, superusers exempt.
    if (role && role->exists && !role->connect)
      throw SqlError(sqlstate::kInsufficientPrivilege, "permission denied for database \"" + database_ + "\"")
          .with_detail("User does not have CONNECT privilege.");
  };
  if (!ctx_.require_password()) {
    check_login();
    return;
  }
  std::optional<ScramVerifier> v = ctx_.verifier(user_);
  ScramServer scram(v ? *v : ctx_.mock_verifier(user_), make_scram_nonce(), v.has_value());
  out_.authentication_sasl("SCRAM-SHA-256");
  flush();

  auto expect_password = [&]() {
    std::optional<Frame> f = read_frame();
    if (!f || f->type != 'p') {
      throw_protocol_violation("expected SASL response, got message type " +
                               std::to_string(f ? static_cast<int>(static_cast<uint8_t>(f->type)) : 0));
    }
    return f->body;
  };
  SaslInitialResponse init = parse_sasl_initial(expect_password());
  if (init.mechanism != "SCRAM-SHA-256") {
    throw_protocol_violation("client selected an invalid SASL authentication mechanism");
  }
  if (!init.data) throw SqlError(sqlstate::kProtocolViolation, "malformed SCRAM message");
  out_.authentication_sasl_continue(scram.handle_client_first(*init.data));
  flush();
  std::optional<std::string> final_message = scram.handle_client_final(expect_password());
  if (!final_message) {
    throw SqlError(sqlstate::kInvalidPassword, "password authentication failed for user \"" + user_ + "\"");
  }
  out_.authentication_sasl_final(*final_message);
  check_login();
}

// ---- Message loop -------------------------------------------------------------------------------

void Connection::Impl::serve() {
  flush();
  while (true) {
    std::optional<Frame> f = read_frame();
    if (!f) throw ConnectionClosed{};
    FrontendMessage msg = parse_frontend(*f);
    if (ignore_till_sync_ && !std::holds_alternative<SyncMsg>(msg) && !std::holds_alternative<TerminateMsg>(msg)) {
      continue;
    }
    bool extended = false;
    try {
      if (auto* q = std::get_if<QueryMsg>(&msg)) {
        handle_query(q->sql);
      } else if (auto* p = std::get_if<ParseMsg>(&msg)) {
        extended = true;
        handle_parse(*p);
      } else if (auto* b = std::get_if<BindMsg>(&msg)) {
        extended = true;
        handle_bind(*b);
      } else if (auto* d = std::get_if<DescribeMsg>(&msg)) {
        extended = true;
        handle_describe(*d);
      } else if (auto* e = std::get_if<ExecuteMsg>(&msg)) {
        extended = true;
        handle_execute(*e);
      } else if (auto* c = std::get_if<CloseMsg>(&msg)) {
        extended = true;
        handle_close(*c);
      } else if (std::holds_alternative<SyncMsg>(msg)) {
        ignore_till_sync_ = false;
        handle_sync();
      } else if (std::holds_alternative<FlushMsg>(msg)) {
        flush();
      } else if (std::holds_alternative<TerminateMsg>(msg)) {
        flush();
        return;
      } else if (std::holds_alternative<PasswordMsg>(msg)) {
        throw_protocol_violation("unexpected password message");
      } else if (std::holds_alternative<CopyMsg>(msg)) {
        // Outside COPY these are ignored, as PostgreSQL does.
      } else if (std::holds_alternative<FunctionCallMsg>(msg)) {
        send_error(SqlError(sqlstate::kFeatureNotSupported, "the function call protocol is not supported"));
        ready_for_query();
      }
    } catch (const SqlError& e) {
      // Errors in a well-framed message (including 08P01 ones such as a wrong parameter
      // count) are ordinary ERRORs; framing errors above are FATAL.
      send_error(e);
      if (extended) {
        ignore_till_sync_ = true;
      } else {
        ready_for_query();
      }
    } catch (const std::exception& e) {
      // A bug below the session boundary: report it as an ERROR and keep the connection, as
      // the session's contract is to stay usable after a failed statement.
      send_error(SqlError(sqlstate::kInternalError, std::string("internal error: ") + e.what()));
      if (extended) {
        ignore_till_sync_ = true;
      } else {
        ready_for_query();
      }
    }
    if (ctx_.stopping()) throw ShutdownSignal{};
    maybe_flush();
  }
}

void Connection::Impl::ready_for_query() {
  send_changed_settings();
  out_.ready_for_query(session_ ? static_cast<char>(session_->transaction_status()) : 'I');
  flush();
}

void Connection::Impl::send_changed_settings() {
  if (!session_) return;
  for (const auto& [name, value] : session_->take_changed_settings()) out_.parameter_status(name, value);
}

void Connection::Impl::row_description(const std::vector<server::Column>& columns,
                                       const std::vector<int16_t>* formats) {
  std::vector<MessageWriter::FieldDescription> fields;
  fields.reserve(columns.size());
  for (size_t i = 0; i < columns.size(); ++i) {
    const auto& c = columns[i];
    MessageWriter::FieldDescription f;
    f.name = c.name;
    f.table_oid = c.table_oid;
    f.attnum = c.attnum;
    f.type_oid = type_oid(c.type.id);
    f.type_len = type_len(c.type.id);
    f.typmod = wire_typmod(c.type);
    f.format = formats ? (*formats)[i] : 0;
    fields.push_back(f);
  }
  out_.row_description(fields);
}

bool Connection::Impl::send_rows(server::Execution& exec, const std::vector<server::Column>& columns,
                                 const std::vector<int16_t>* formats, size_t max_rows) {
  std::vector<Row> rows;
  std::vector<Datum> datums;
  size_t sent = 0;
  const size_t batch = ctx_.limits().fetch_batch_rows;
  while (true) {
    size_t want = batch;
    if (max_rows > 0 && max_rows - sent < want) want = max_rows - sent;
    rows.clear();
    bool more;
    try {
      more = exec.fetch(rows, want);
    } catch (const SqlError& e) {
      check_shutdown(e);
      throw;
    }
    for (const Row& row : rows) {
      datums.clear();
      row.unpack_into(datums);
      if (datums.size() != columns.size()) {
        throw SqlError(sqlstate::kInternalError, "internal error: a result row has " + std::to_string(datums.size()) +
                                                     " columns, its description " + std::to_string(columns.size()));
      }
      size_t mark = out_.size();
      try {
        out_.begin_data_row(static_cast<int16_t>(datums.size()));
        std::string& buf = out_.buffer();
        for (size_t i = 0; i < datums.size(); ++i) {
          if (datums[i].is_null()) {
            out_.null_field();
            continue;
          }
          out_.begin_field();
          if (formats && (*formats)[i] == 1) {
            encode_binary(datums[i], columns[i].type, buf);
          } else if (is_reg_type(columns[i].type.id)) {
            session_->format_value(datums[i], columns[i].type, buf);  // a name, from the catalog
          } else {
            format_datum(datums[i], columns[i].type, buf);
          }
          out_.end_field();
        }
        out_.end();
      } catch (...) {
        out_.rollback(mark);
        throw;
      }
      maybe_flush();
    }
    sent += rows.size();
    if (!more) return true;
    if (max_rows > 0 && sent >= max_rows) return false;
    // A fetch that gave fewer rows than asked for may be a SUBSCRIBE waiting for changes:
    // let the client see what there is.
    if (rows.size() < want && out_.size() > 0) flush();
  }
}

void Connection::Impl::run_copy(server::Execution& exec) {
  const server::CopySpec& spec = *exec.copy();
  if (spec.from) copy_in(exec, spec);
  else copy_out(exec, spec);
}

namespace {
std::vector<CopyColumn> copy_columns(const std::vector<server::Column>& columns) {
  std::vector<CopyColumn> out;
  for (const auto& c : columns) out.push_back({c.name, c.type});
  return out;
}
}  // namespace

void Connection::Impl::copy_out(server::Execution& exec, const server::CopySpec& spec) {
  const auto& columns = exec.columns();
  const bool binary = spec.options.format == server::CopyFormat::kBinary;
  if (binary) {
    for (const auto& c : columns)
      if (!has_binary_format(c.type.id))
        throw SqlError(sqlstate::kFeatureNotSupported, "no binary output function available for type " +
                                                           std::string(type_internal_name(c.type.id)));
  }
  CopyEncoder encoder(spec.options, copy_columns(columns),
                      [this](const Datum& d, Type t, std::string& out) { session_->format_value(d, t, out); });
  out_.copy_response('H', binary, static_cast<int16_t>(columns.size()));
  // A COPY that waits for rows (COPY (SUBSCRIBE ...) TO STDOUT) would notice a client that went
  // away only when it next writes: once a batch comes back short, a watcher thread polls the
  // socket for the peer's hangup and cancels the statement (the session's cancel is
  // thread-safe), so that the subscription ends with its client.
  std::atomic<bool> copy_done{false};
  std::thread watcher;
  struct JoinWatcher {
    std::atomic<bool>& done;
    std::thread& t;
    ~JoinWatcher() {
      done.store(true);
      if (t.joinable()) t.join();
    }
  } join_watcher{copy_done, watcher};
  auto watch_hangup = [&] {
    if (watcher.joinable()) return;
    watcher = std::thread([this, &copy_done] {
      while (!copy_done.load()) {
        pollfd p{fd_, POLLRDHUP, 0};
        int r = ::poll(&p, 1, 100);
        if (r > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0) {
          session_->cancel();
          return;
        }
      }
    });
  };
  std::string data;
  encoder.begin(data);
  std::vector<Row> rows;
  std::vector<Datum> datums;
  const size_t batch = ctx_.limits().fetch_batch_rows;
  bool more = true;
  while (more) {
    rows.clear();
    try {
      more = exec.fetch(rows, batch);
    } catch (const SqlError& e) {
      check_shutdown(e);
      throw;
    }
    for (const Row& row : rows) {
      datums.clear();
      row.unpack_into(datums);
      if (datums.size() != columns.size())
        throw SqlError(sqlstate::kInternalError, "internal error: a COPY row has " + std::to_string(datums.size()) +
                                                     " columns, expected " + std::to_string(columns.size()));
      encoder.row(datums, data);
      // One CopyData per row, as PostgreSQL sends them (the header rides with the first).
      out_.copy_data(data);
      data.clear();
      maybe_flush();
    }
    // A short batch may be a SUBSCRIBE waiting for changes: let the client see what there is.
    if (more && rows.size() < batch) {
      if (out_.size() > 0) flush();
      watch_hangup();
    }
  }
  encoder.end(data);
  if (!data.empty()) out_.copy_data(data);
  out_.copy_done();
}

void Connection::Impl::copy_in(server::Execution& exec, const server::CopySpec& spec) {
  const auto& columns = exec.columns();
  const bool binary = spec.options.format == server::CopyFormat::kBinary;
  if (binary) {
    for (const auto& c : columns)
      if (!has_binary_format(c.type.id))
        throw SqlError(sqlstate::kFeatureNotSupported, "no binary input function available for type " +
                                                           std::string(type_internal_name(c.type.id)));
  }
  CopyParser parser(spec, copy_columns(columns),
                    [this](std::string_view text, Type t, Arena& arena) { return session_->parse_parameter(text, t, arena); });
  out_.copy_response('G', binary, static_cast<int16_t>(columns.size()));
  flush();
  // Rows go to the execution in batches (it bounds what it holds by the memory budget).
  constexpr size_t kBatchRows = 8192;
  std::vector<Row> rows;
  while (true) {
    std::optional<Frame> f = read_frame();
    if (!f) throw ConnectionClosed{};
    if (f->type == 'd') {
      parser.feed(f->body, rows);
      if (rows.size() >= kBatchRows) exec.copy_in(rows);
    } else if (f->type == 'c') {
      parser.finish(rows);
      exec.copy_in(rows);
      break;
    } else if (f->type == 'f') {
      std::string_view msg = f->body;
      if (!msg.empty() && msg.back() == '\0') msg.remove_suffix(1);
      throw SqlError(sqlstate::kQueryCanceled, "COPY from stdin failed: " + std::string(msg));
    } else if (f->type == 'H' || f->type == 'S') {
      // Ignored during COPY IN, as PostgreSQL does.
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02X", static_cast<unsigned>(static_cast<uint8_t>(f->type)));
      throw SqlError(sqlstate::kProtocolViolation, std::string("unexpected message type ") + hex + " during COPY from stdin");
    }
    if (ctx_.stopping()) throw ShutdownSignal{};
  }
  try {
    std::vector<Row> none;
    exec.fetch(none, 0);  // loads the rows: one transaction
  } catch (const SqlError& e) {
    check_shutdown(e);
    throw;
  }
}

void Connection::Impl::handle_query(std::string_view sql) {
  // A simple query destroys the unnamed statement and portal, as in PostgreSQL.
  portals_.erase(std::string());
  statements_.erase(std::string());
  try {
    std::vector<std::string> stmts = session_->split(sql);
    if (stmts.empty()) out_.empty_query_response();
    // Several statements are one implicit transaction, committed after the last one and rolled
    // back when one fails (as in PostgreSQL; a BEGIN among them makes the block explicit).
    struct ImplicitBlock {
      SessionApi* session = nullptr;  // set while the implicit block is open
      ~ImplicitBlock() {
        if (session) session->end_implicit_block(false);
      }
    } implicit;
    if (stmts.size() > 1) {
      session_->begin_implicit_block();
      implicit.session = session_.get();
    }
    for (const std::string& text : stmts) {
      server::PreparedStatement prepared = session_->prepare(text, {});
      if (!prepared.param_types.empty()) {
        throw SqlError(sqlstate::kUndefinedParameter, "there is no parameter $1");
      }
      std::unique_ptr<server::Execution> exec = session_->execute(prepared, {});
      if (exec->copy()) {
        run_copy(*exec);
        out_.command_complete(exec->command_tag());
        send_changed_settings();
        maybe_flush();
        continue;
      }
      const std::vector<server::Column>& columns = prepared.returns_rows ? exec->columns() : prepared.columns;
      if (prepared.returns_rows) row_description(columns, nullptr);
      send_rows(*exec, columns, nullptr, 0);
      out_.command_complete(exec->command_tag());
      send_changed_settings();
      maybe_flush();
      if (ctx_.stopping()) throw ShutdownSignal{};
    }
    if (implicit.session) {
      implicit.session = nullptr;
      session_->end_implicit_block(true);
    }
  } catch (const SqlError& e) {
    send_error(e);
  } catch (const std::exception& e) {
    send_error(SqlError(sqlstate::kInternalError, std::string("internal error: ") + e.what()));
  }
  ready_for_query();
}

void Connection::Impl::handle_parse(const ParseMsg& m) {
  if (!m.name.empty() && statements_.count(m.name) != 0) {
    throw SqlError(sqlstate::kDuplicatePreparedStatement, "prepared statement \"" + std::string(m.name) + "\" already exists");
  }
  std::vector<Type> hints;
  hints.reserve(m.param_type_oids.size());
  for (uint32_t oid : m.param_type_oids) {
    if (oid == 0) {
      hints.emplace_back(TypeId::kUnknown);
      continue;
    }
    std::optional<TypeId> t = type_from_oid(oid);
    if (!t) throw SqlError(sqlstate::kUndefinedObject, "type with OID " + std::to_string(oid) + " does not exist");
    hints.emplace_back(*t);
  }
  auto st = std::make_shared<Statement>();
  std::vector<std::string> stmts = session_->split(m.sql);
  if (stmts.size() > 1) {
    throw SqlError(sqlstate::kSyntaxError, "cannot insert multiple commands into a prepared statement");
  }
  if (stmts.empty()) {
    st->empty = true;
  } else {
    st->prepared = session_->prepare(stmts[0], hints);
  }
  statements_[std::string(m.name)] = std::move(st);
  out_.parse_complete();
}

void Connection::Impl::handle_bind(const BindMsg& m) {
  auto sit = statements_.find(m.statement);
  if (sit == statements_.end()) {
    if (m.statement.empty()) throw SqlError(sqlstate::kInvalidSqlStatementName, "unnamed prepared statement does not exist");
    throw SqlError(sqlstate::kInvalidSqlStatementName, "prepared statement \"" + std::string(m.statement) + "\" does not exist");
  }
  if (!m.portal.empty() && portals_.count(m.portal) != 0) {
    throw SqlError(sqlstate::kDuplicateCursor, "portal \"" + std::string(m.portal) + "\" already exists");
  }
  const std::shared_ptr<const Statement>& st = sit->second;
  size_t nparams = st->prepared.param_types.size();
  if (m.param_formats.size() > 1 && m.param_formats.size() != m.params.size()) {
    throw_protocol_violation("bind message has " + std::to_string(m.param_formats.size()) +
                             " parameter formats but " + std::to_string(m.params.size()) + " parameters");
  }
  if (m.params.size() != nparams) {
    throw_protocol_violation("bind message supplies " + std::to_string(m.params.size()) +
                             " parameters, but prepared statement \"" + std::string(m.statement) + "\" requires " +
                             std::to_string(nparams));
  }
  Portal portal;
  portal.statement = st;
  portal.params.reserve(nparams);
  for (size_t i = 0; i < nparams; ++i) {
    int16_t format = m.param_formats.empty() ? 0 : m.param_formats.size() == 1 ? m.param_formats[0] : m.param_formats[i];
    if (format != 0 && format != 1) {
      throw SqlError(sqlstate::kInvalidParameterValue, "unsupported format code: " + std::to_string(format));
    }
    if (!m.params[i]) {
      portal.params.push_back(Datum::null());
      continue;
    }
    Type t = st->prepared.param_types[i];
    if (format == 0) {
      portal.params.push_back(session_->parse_parameter(*m.params[i], t, *portal.arena));
    } else {
      try {
        portal.params.push_back(decode_binary(*m.params[i], t, *portal.arena));
      } catch (const SqlError& e) {
        if (e.sqlstate() != sqlstate::kInvalidBinaryRepresentation) throw;
        throw SqlError(sqlstate::kInvalidBinaryRepresentation,
                       "incorrect binary data format in bind parameter " + std::to_string(i + 1));
      }
    }
  }
  const auto& columns = st->prepared.columns;
  if (m.result_formats.size() > 1 && m.result_formats.size() != columns.size()) {
    throw_protocol_violation("bind message has " + std::to_string(m.result_formats.size()) +
                             " result formats but query has " + std::to_string(columns.size()) + " columns");
  }
  portal.result_formats.resize(columns.size(), 0);
  for (size_t i = 0; i < columns.size(); ++i) {
    int16_t format = m.result_formats.empty() ? 0 : m.result_formats.size() == 1 ? m.result_formats[0] : m.result_formats[i];
    if (format != 0 && format != 1) {
      throw SqlError(sqlstate::kInvalidParameterValue, "unsupported format code: " + std::to_string(format));
    }
    if (format == 1 && !has_binary_format(columns[i].type.id)) {
      throw SqlError(sqlstate::kFeatureNotSupported, "no binary output function available for type " +
                                                         std::string(type_internal_name(columns[i].type.id)));
    }
    portal.result_formats[i] = format;
  }
  portals_.insert_or_assign(std::string(m.portal), std::move(portal));
  out_.bind_complete();
}

void Connection::Impl::handle_describe(const DescribeMsg& m) {
  if (m.kind == 'S') {
    auto it = statements_.find(m.name);
    if (it == statements_.end()) {
      if (m.name.empty()) throw SqlError(sqlstate::kInvalidSqlStatementName, "unnamed prepared statement does not exist");
      throw SqlError(sqlstate::kInvalidSqlStatementName, "prepared statement \"" + std::string(m.name) + "\" does not exist");
    }
    const Statement& st = *it->second;
    std::vector<uint32_t> oids;
    for (const Type& t : st.prepared.param_types) oids.push_back(type_oid(t.id));
    out_.parameter_description(oids);
    if (!st.empty && st.prepared.returns_rows) {
      row_description(st.prepared.columns, nullptr);
    } else {
      out_.no_data();
    }
    return;
  }
  auto it = portals_.find(m.name);
  if (it == portals_.end() && !m.name.empty()) {
    // A SQL cursor is a portal too (psycopg 3 describes its DECLAREd cursor this way).
    if (auto cols = session_->cursor_columns(std::string(m.name))) {
      row_description(*cols, nullptr);
      return;
    }
  }
  if (it == portals_.end()) {
    if (m.name.empty()) throw SqlError(sqlstate::kInvalidCursorName, "portal \"\" does not exist");
    throw SqlError(sqlstate::kInvalidCursorName, "portal \"" + std::string(m.name) + "\" does not exist");
  }
  Portal& p = it->second;
  const auto& prepared = p.statement->prepared;
  if (!p.statement->empty && prepared.returns_rows && prepared.columns.empty()) {
    // Columns that only the execution knows (a FETCH prepared before its DECLARE): the
    // portal starts here, as its Execute would, and is described by what it returns.
    if (!p.exec) {
      try {
        p.exec = session_->execute(prepared, p.params);
      } catch (...) {
        portals_.erase(it);
        throw;
      }
    }
    row_description(p.exec->columns(), nullptr);
  } else if (!p.statement->empty && prepared.returns_rows) {
    row_description(prepared.columns, &p.result_formats);
  } else {
    out_.no_data();
  }
}

void Connection::Impl::handle_execute(const ExecuteMsg& m) {
  auto it = portals_.find(m.portal);
  if (it == portals_.end()) {
    throw SqlError(sqlstate::kInvalidCursorName, "portal \"" + std::string(m.portal) + "\" does not exist");
  }
  Portal& p = it->second;
  if (p.statement->empty) {
    out_.empty_query_response();
    return;
  }
  if (p.done) {
    out_.command_complete(p.tag);
    return;
  }
  try {
    if (!p.exec) p.exec = session_->execute(p.statement->prepared, p.params);
    if (p.exec->copy()) {
      run_copy(*p.exec);
      p.done = true;
      p.tag = p.exec->command_tag();
      p.exec.reset();
      out_.command_complete(p.tag);
      send_changed_settings();
      return;
    }
    // The described columns, so that rows match the RowDescription and result formats; a
    // statement whose columns are known only when it runs was described with none.
    const auto& prepared = p.statement->prepared;
    const auto& columns = prepared.returns_rows && !prepared.columns.empty() ? prepared.columns : p.exec->columns();
    size_t max_rows = m.max_rows > 0 ? static_cast<size_t>(m.max_rows) : 0;
    const std::vector<int16_t>* formats = p.result_formats.size() == columns.size() ? &p.result_formats : nullptr;
    bool complete = send_rows(*p.exec, columns, formats, max_rows);
    if (complete) {
      p.done = true;
      p.tag = p.exec->command_tag();
      p.exec.reset();
      out_.command_complete(p.tag);
      send_changed_settings();
    } else {
      out_.portal_suspended();
    }
  } catch (...) {
    portals_.erase(it);  // a failed portal cannot be resumed
    throw;
  }
}

void Connection::Impl::handle_close(const CloseMsg& m) {
  if (m.kind == 'S') {
    auto it = statements_.find(m.name);
    if (it != statements_.end()) statements_.erase(it);
  } else {
    auto it = portals_.find(m.name);
    if (it != portals_.end()) portals_.erase(it);
  }
  out_.close_complete();
}

void Connection::Impl::handle_sync() {
  // Sync ends an implicit transaction; its portals go with it.
  if (session_->transaction_status() == server::TransactionStatus::kIdle) portals_.clear();
  ready_for_query();
}

// ---- Rejecting ----------------------------------------------------------------------------------

void reject_connection(int fd, const ErrorFields& error) {
  MessageWriter w;
  w.error_response(error);
  // The socket's send buffer is empty, so this does not block.
  [[maybe_unused]] ssize_t n = ::send(fd, w.buffer().data(), w.buffer().size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::shutdown(fd, SHUT_WR);
  // Read what the client already sent, so that close() does not answer it with a reset that
  // could discard the error before the client reads it.
  char buf[1024];
  for (int i = 0; i < 16; ++i) {
    if (::recv(fd, buf, sizeof buf, MSG_DONTWAIT) <= 0) break;
  }
  ::close(fd);
}

}  // namespace freshet::pgwire
