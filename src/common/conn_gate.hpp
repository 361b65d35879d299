#pragma once
// ConnectionGate: admission control for a TCP listener that keeps connections which have not
// yet proven anything (not authenticated, or on HTTP not sent a whole request) apart from the
// ones that have, so that a flood of silent or half-sent connections cannot lock real clients
// out (issue 12).
//
// - Every accepted socket enters as *pending*. At most max_pending are pending at once;
//   admitting one more evicts the oldest pending connection: its socket is shut down
//   (shutdown(2)), so its thread's next read sees EOF, and it stops counting. A real client
//   finishes its handshake in milliseconds and so is practically never the oldest one; an
//   attacker has to keep winning a race against every new connection instead of simply
//   holding sockets open.
// - promote() moves a pending connection to *established*, limited by max_established
//   (beyond it the caller refuses the client, e.g. pgwire's 53300).
// - demote() moves an established connection back to pending (HTTP between requests).
// - release() must be called before the socket is closed; after it the gate never touches
//   the fd again (this is what makes the eviction's shutdown(2) safe against fd reuse).
//
// Thread-safe: one mutex; every call is O(1) apart from eviction's shutdown(2) syscall.

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>

namespace freshet {

class ConnectionGate {
 public:
  struct Ticket;
  using TicketPtr = std::shared_ptr<Ticket>;
  enum class Promote { kOk, kEvicted, kFull };

  ConnectionGate(size_t max_pending, size_t max_established)
      : max_pending_(max_pending == 0 ? 1 : max_pending), max_established_(max_established) {}

  // Registers fd (a connected socket) as pending, evicting the oldest pending connection when
  // max_pending are pending already.
  TicketPtr admit(int fd);
  Promote promote(Ticket& t);
  // Back to pending (evicting the oldest other pending connection if needed). false when the
  // ticket was evicted meanwhile.
  bool demote(Ticket& t);
  // True when t was evicted (its socket was shut down).
  bool evicted(const Ticket& t) const;
  void release(Ticket& t);

  size_t pending() const;
  size_t established() const;
  uint64_t evictions() const;

  struct Ticket {
    enum class State { kPending, kEstablished, kEvicted, kReleased };
    int fd = -1;
    State state = State::kPending;            // guarded by the gate's mutex
    std::list<Ticket*>::iterator pending_pos;  // valid while kPending
  };

 private:
  void make_pending(Ticket& t);  // REQUIRES: mutex_ held, t not pending
  void evict_oldest();           // REQUIRES: mutex_ held

  const size_t max_pending_;
  const size_t max_established_;
  mutable std::mutex mutex_;
  std::list<Ticket*> pending_;  // oldest first; guarded by mutex_
  size_t established_ = 0;     // guarded by mutex_
  uint64_t evictions_ = 0;     // guarded by mutex_
};

}  // namespace freshet
