#pragma once
// PgServer: the PostgreSQL protocol v3 endpoint. One acceptor thread, and one thread per
// connection with blocking sockets (a statement, e.g. SUBSCRIBE, may block its connection's
// thread for as long as it runs). README.md describes threads, limits and the message flow.
//
// Thread: start(), stop() and the destructor from one owner thread; port() and
// connection_count() from any thread.

#include <atomic>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/error.hpp"
#include "pgwire/connection.hpp"

namespace freshet::server {
class Coordinator;
}

namespace freshet::pgwire {

struct PgServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 6875;  // 0: any free port (see port())
  // Authenticated connections. One more is refused with FATAL 53300 once it authenticated.
  size_t max_connections = 1000;
  // Connections still in startup or authentication, counted apart from the authenticated
  // ones: past this many the oldest of them is closed to admit a new one
  // (common/conn_gate.hpp), so half-sent startup packets cannot lock real clients out.
  size_t max_pending_connections = 256;
  ConnectionLimits limits;
};

class PgServer {
 public:
  // Serves sessions of the coordinator, which must outlive the server.
  PgServer(server::Coordinator& coordinator, PgServerOptions options);
  // Serves sessions made by factory (tests use fake sessions).
  PgServer(ServerContext::SessionFactory factory, const server::AuthConfig& auth, PgServerOptions options);
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // Binds and listens, then starts the acceptor thread. Fails when the address cannot be
  // resolved or bound.
  Status start();
  // The bound port (useful with port 0). REQUIRES: start() succeeded.
  uint16_t port() const { return bound_port_; }
  // The address as given, with the bound port: "127.0.0.1:6875".
  std::string address() const;
  size_t connection_count() const;

  // Stops accepting, cancels running statements, ends every connection with FATAL 57P01
  // and joins all threads. Idempotent.
  void stop();

 private:
  struct Slot {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  void accept_loop();
  size_t live_slots() const;  // connection threads not finished
  void reap_finished();  // joins finished connection threads

  // Constant after construction.
  PgServerOptions options_;
  std::unique_ptr<ServerContext> ctx_;

  int listen_fd_ = -1;
  uint16_t bound_port_ = 0;
  std::thread acceptor_;
  bool stopped_ = false;  // owner thread only

  mutable std::mutex mutex_;
  std::list<Slot> slots_;  // guarded by mutex_
  ConnectionGate gate_;    // thread-safe on its own
};

}  // namespace freshet::pgwire
