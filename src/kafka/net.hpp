#pragma once
// Blocking TCP plumbing shared by the Kafka listener and the schema registry: a listening
// socket, and a connection that is plain TCP or TLS (OpenSSL) with exact reads and full
// writes. A Connection is owned by one thread; shutdown() may be called from another thread
// to unblock it.

#include <openssl/ssl.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/error.hpp"

namespace freshet::kafka {

// Binds and listens; port 0 picks a free port (bound_port() tells which).
Result<int> listen_tcp(const std::string& host, uint16_t port);
uint16_t bound_port(int fd);

// A TLS server context from PEM files, or an error message.
struct SslCtxDeleter {
  void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxDeleter>;
Result<SslCtxPtr> make_server_tls(const std::string& cert_file, const std::string& key_file);

class Connection {
 public:
  // Takes ownership of fd. With ctx, performs the TLS handshake in handshake().
  Connection(int fd, SSL_CTX* ctx);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Reads give up (as on EOF) after timeout_ms without a byte (SO_RCVTIMEO); 0: never.
  void set_idle_timeout(int timeout_ms);
  // Writes give up (write_all returns false) after timeout_ms without progress (SO_SNDTIMEO);
  // 0: never.
  void set_write_timeout(int timeout_ms);
  bool handshake();
  // false on EOF or error.
  bool read_exact(char* buf, size_t n);
  // Reads what is available (at least one byte); 0 on EOF or error.
  size_t read_some(char* buf, size_t n);
  bool write_all(std::string_view data);
  // Unblocks a blocked read from another thread (shutdown(2)).
  void shutdown();
  int fd() const { return fd_; }

 private:
  int fd_;
  SSL* ssl_ = nullptr;
};

}  // namespace freshet::kafka
