#pragma once
// One client connection: the protocol v3 state machine over a blocking socket (startup,
// authentication, simple and extended query), and the state all connections of a server
// share (ServerContext: limits, SCRAM verifiers, the cancel-key registry, the stop signal).
// README.md describes the message flow.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/conn_gate.hpp"
#include "pgwire/protocol.hpp"
#include "pgwire/scram.hpp"
#include "pgwire/session_api.hpp"

namespace freshet::pgwire {

struct ConnectionLimits {
  size_t max_message_bytes = kDefaultMaxMessageBytes;
  size_t max_startup_bytes = kDefaultMaxStartupBytes;
  // Any message before authentication succeeded (SASL exchange): FATAL 08P01 past it.
  size_t max_auth_message_bytes = kDefaultMaxAuthMessageBytes;
  // Rows pulled from an Execution per fetch() (and flushed to the client after each batch).
  size_t fetch_batch_rows = 1024;
  // Startup and authentication must finish within this (PostgreSQL's authentication_timeout).
  int startup_timeout_ms = 60'000;
};

// Shared by every connection of one server. Thread-safe.
class ServerContext {
 public:
  using SessionFactory = std::function<std::unique_ptr<SessionApi>(server::SessionOptions)>;

  // Derives the SCRAM verifiers of auth's passwords (PBKDF2, a few ms per role).
  ServerContext(SessionFactory factory, const server::AuthConfig& auth, ConnectionLimits limits = {});
  ~ServerContext();
  ServerContext(const ServerContext&) = delete;
  ServerContext& operator=(const ServerContext&) = delete;

  const ConnectionLimits& limits() const { return limits_; }
  std::unique_ptr<SessionApi> open_session(server::SessionOptions options) const { return factory_(std::move(options)); }

  bool require_password() const { return require_password_; }
  // The role's verifier, or nullopt when the role has no password. With the coordinator's
  // login_lookup (roles created by SQL) it asks that; else the configured passwords.
  std::optional<ScramVerifier> verifier(const std::string& user) const;
  // The role as the server knows it (nullopt without a login_lookup: tests of the protocol).
  std::optional<server::LoginRole> login_role(const std::string& user) const;
  // A made-up verifier for a role without a password, with a salt that is stable per name.
  ScramVerifier mock_verifier(std::string_view user) const;

  // Cancel keys (BackendKeyData). register_session returns (pid, secret); the session must
  // stay alive until unregister_session(pid) returns.
  std::pair<int32_t, int32_t> register_session(SessionApi* session);
  // With the connection's socket and its terminate flag: signal() can end the connection.
  std::pair<int32_t, int32_t> register_session(SessionApi* session, int fd, std::atomic<bool>* terminated);
  void unregister_session(int32_t pid);
  // Cancels the session's running statement when pid and secret match; else does nothing.
  void cancel(int32_t pid, int32_t secret);
  // pg_cancel_backend / pg_terminate_backend: by pid alone (every role is a superuser). Terminate
  // sets the connection's flag, cancels its statement and shuts its socket for reading, so that
  // it sends FATAL 57P01 and closes. False when no session has pid.
  bool signal(int32_t pid, bool terminate);

  // Stop: after begin_stop(), stopping() is true, wake_fd() polls readable, and every
  // registered session's statement is cancelled.
  void begin_stop();
  bool stopping() const { return stopping_.load(std::memory_order_acquire); }
  int wake_fd() const { return wake_pipe_[0]; }

 private:
  // Constant after construction.
  SessionFactory factory_;
  ConnectionLimits limits_;
  bool require_password_ = false;
  std::map<std::string, ScramVerifier> verifiers_;
  std::function<server::LoginRole(const std::string&)> login_lookup_;
  std::string mock_secret_;
  int wake_pipe_[2] = {-1, -1};

  std::atomic<bool> stopping_{false};

  struct Registered {
    int32_t secret;
    SessionApi* session;
    int fd = -1;
    std::atomic<bool>* terminated = nullptr;
  };
  mutable std::mutex mutex_;
  int32_t next_pid_ = 0;                                  // guarded by mutex_
  std::unordered_map<int32_t, Registered> sessions_;      // guarded by mutex_
};

// Serves one connection until the client terminates, the connection breaks, a FATAL error,
// or the server stops. Owns fd and closes it. Runs on the connection's own thread.
class Connection {
 public:
  // With a gate, ticket is fd's entry in it (admitted as pending): once authenticated the
  // connection is promoted, and refused with FATAL 53300 when the gate has max_established
  // connections already, or closed when it was evicted; the ticket is released before fd is
  // closed. Without a gate nothing is counted.
  Connection(int fd, ServerContext& ctx, ConnectionGate* gate = nullptr, ConnectionGate::TicketPtr ticket = nullptr);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  void run();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// Writes a FATAL ErrorResponse to a socket that is not being served and closes it, without
// reading the startup packet (when no connection thread can be afforded). Does not
// block for long.
void reject_connection(int fd, const ErrorFields& error);

}  // namespace freshet::pgwire
