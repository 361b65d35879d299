#include "common/conn_gate.hpp"

#include <sys/socket.h>

namespace freshet {

ConnectionGate::TicketPtr ConnectionGate::admit(int fd) {
  auto t = std::make_shared<Ticket>();
  t->fd = fd;
  std::lock_guard lock(mutex_);
  make_pending(*t);
  return t;
}

void ConnectionGate::make_pending(Ticket& t) {
  while (pending_.size() >= max_pending_) evict_oldest();
  t.state = Ticket::State::kPending;
  t.pending_pos = pending_.insert(pending_.end(), &t);
}

void ConnectionGate::evict_oldest() {
  Ticket* victim = pending_.front();
  pending_.pop_front();
  victim->state = Ticket::State::kEvicted;
  // The fd is still open: release() (which precedes close) needs mutex_, which we hold.
  ::shutdown(victim->fd, SHUT_RDWR);
  ++evictions_;
}

ConnectionGate::Promote ConnectionGate::promote(Ticket& t) {
  std::lock_guard lock(mutex_);
  if (t.state == Ticket::State::kEstablished) return Promote::kOk;
  if (t.state != Ticket::State::kPending) return Promote::kEvicted;
  if (established_ >= max_established_) return Promote::kFull;
  pending_.erase(t.pending_pos);
  t.state = Ticket::State::kEstablished;
  ++established_;
  return Promote::kOk;
}

bool ConnectionGate::demote(Ticket& t) {
  std::lock_guard lock(mutex_);
  if (t.state == Ticket::State::kPending) return true;
  if (t.state != Ticket::State::kEstablished) return false;
  --established_;
  make_pending(t);
  return true;
}

bool ConnectionGate::evicted(const Ticket& t) const {
  std::lock_guard lock(mutex_);
  return t.state == Ticket::State::kEvicted;
}

void ConnectionGate::release(Ticket& t) {
  std::lock_guard lock(mutex_);
  if (t.state == Ticket::State::kPending) pending_.erase(t.pending_pos);
  if (t.state == Ticket::State::kEstablished) --established_;
  t.state = Ticket::State::kReleased;
}

size_t ConnectionGate::pending() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

size_t ConnectionGate::established() const {
  std::lock_guard lock(mutex_);
  return established_;
}

uint64_t ConnectionGate::evictions() const {
  std::lock_guard lock(mutex_);
  return evictions_;
}

}  // namespace freshet
