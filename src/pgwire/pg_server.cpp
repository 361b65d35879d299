#include "pgwire/pg_server.hpp"

#include "common/trace.hpp"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>


namespace freshet::pgwire {

namespace {

int32_t be32(const unsigned char* p) {
  return static_cast<int32_t>((uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]});
}

// A CancelRequest already waiting in a just-accepted socket is handled on the accepting
// thread: no connection thread to create and schedule first (on a busy machine that took up
// to 50-350 ms of a cancel's latency; bench/README.md, "Cancel latency"). Only exactly the
// 16-byte request with nothing after it, peeked without waiting; anything else (not there
// yet, a startup packet, an SSLRequest) goes to a connection thread as before. PostgreSQL
// answers a CancelRequest by closing the connection, and so do we.
bool handled_inline_cancel(int fd, ServerContext& ctx) {
  unsigned char b[17];
  if (::recv(fd, b, sizeof b, MSG_PEEK | MSG_DONTWAIT) != 16) return false;
  if (be32(b) != 16 || be32(b + 4) != kCancelRequestCode) return false;
  if (::recv(fd, b, 16, MSG_DONTWAIT) != 16) return false;  // cannot happen after the peek
  trace_event("pgwire: cancel request read (accepting thread)");
  ctx.cancel(be32(b + 8), be32(b + 12));
  trace_event("pgwire: cancel flag set");
  ::close(fd);
  return true;
}

}  // namespace

PgServer::PgServer(ServerContext::SessionFactory factory, const server::AuthConfig& auth, PgServerOptions options)
    : options_(std::move(options)),
      ctx_(std::make_unique<ServerContext>(std::move(factory), auth, options_.limits)),
      gate_(options_.max_pending_connections, options_.max_connections) {}

PgServer::~PgServer() { stop(); }

Status PgServer::start() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port = std::to_string(options_.port);
  int rc = ::getaddrinfo(options_.host.empty() ? nullptr : options_.host.c_str(), port.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::error("cannot resolve " + options_.host + ": " + ::gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    bound_port_ = ss.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port)
                                           : ntohs(reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    listen_fd_ = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (listen_fd_ < 0) {
    return Status::error("cannot listen on " + options_.host + ":" + port + ": " + last_error);
  }
  acceptor_ = std::thread([this] { accept_loop(); });
  return Status::ok();
}

std::string PgServer::address() const {
  bool v6 = options_.host.find(':') != std::string::npos;
  return (v6 ? "[" + options_.host + "]" : options_.host) + ":" + std::to_string(bound_port_);
}

size_t PgServer::connection_count() const { return gate_.established(); }

size_t PgServer::live_slots() const {
  std::lock_guard lock(mutex_);
  size_t n = 0;
  for (const Slot& s : slots_) n += s.done.load(std::memory_order_acquire) ? 0 : 1;
  return n;
}

void PgServer::reap_finished() {
  std::list<Slot> finished;
  {
    std::lock_guard lock(mutex_);
    for (auto it = slots_.begin(); it != slots_.end();) {
      auto next = std::next(it);
      if (it->done.load(std::memory_order_acquire)) finished.splice(finished.end(), slots_, it);
      it = next;
    }
  }
  for (Slot& s : finished) s.thread.join();
}

void PgServer::accept_loop() {
  while (!ctx_->stopping()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {ctx_->wake_fd(), POLLIN, 0}};
    int n = ::poll(fds, 2, 1000);
    reap_finished();
    if (n < 0 && errno != EINTR) {
      std::fprintf(stderr, "freshet: pgwire: poll: %s\n", std::strerror(errno));
      ::usleep(100 * 1000);
      continue;
    }
    if (n <= 0 || fds[1].revents != 0) continue;
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: back off instead of spinning.
        std::fprintf(stderr, "freshet: pgwire: accept: %s\n", std::strerror(errno));
        ::usleep(100 * 1000);
      }
      continue;
    }
    trace_event("pgwire: accepted a connection");
    if (handled_inline_cancel(fd, *ctx_)) continue;
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Evicted connections' threads end within moments; give them that before refusing.
    const size_t max_threads = options_.max_connections + 2 * options_.max_pending_connections;
    reap_finished();
    for (int i = 0; i < 50 && live_slots() >= max_threads; ++i) {
      ::usleep(2000);
      reap_finished();
    }
    if (live_slots() >= max_threads) {
      // Every thread we allow is taken (established, pending, and evicted ones on their way
      // out): turned away without being read.
      ErrorFields e;
      e.severity = "FATAL";
      e.sqlstate = sqlstate::kTooManyConnections;
      e.message = "sorry, too many clients already";
      reject_connection(fd, e);
      continue;
    }
    ConnectionGate::TicketPtr ticket = gate_.admit(fd);
    std::lock_guard lock(mutex_);
    Slot& slot = slots_.emplace_back();
    ServerContext* ctx = ctx_.get();
    ConnectionGate* gate = &gate_;
    try {
      slot.thread = std::thread([fd, ctx, gate, ticket, &slot] {
        try {
          Connection(fd, *ctx, gate, ticket).run();
        } catch (...) {
          // run() handles everything; nothing may escape a thread.
        }
        slot.done.store(true, std::memory_order_release);
      });
    } catch (const std::system_error& e) {
      slots_.pop_back();
      gate_.release(*ticket);
      ErrorFields err;
      err.severity = "FATAL";
      err.sqlstate = sqlstate::kOutOfMemory;
      err.message = std::string("could not start a connection thread: ") + e.what();
      reject_connection(fd, err);
    }
  }
}

void PgServer::stop() {
  if (stopped_) return;
  stopped_ = true;
  ctx_->begin_stop();
  if (acceptor_.joinable()) acceptor_.join();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    listen_fd_ = -1;
  }
  std::list<Slot> all;
  {
    std::lock_guard lock(mutex_);
    all.splice(all.end(), slots_);
  }
  for (Slot& s : all) {
    if (s.thread.joinable()) s.thread.join();
  }
}

}  // namespace freshet::pgwire
