#include "common/conn_gate.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

namespace freshet {
namespace {

// A connected socket pair; the gate shuts down first, the test reads second.
struct Pair {
  int fds[2] = {-1, -1};
  Pair() { EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0); }
  ~Pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  bool shut_down() const {
    char c;
    return ::recv(fds[0], &c, 1, MSG_DONTWAIT) == 0;  // EOF: shutdown(2) reached it
  }
};

TEST(ConnectionGateTest, EvictsOldestPendingNeverEstablished) {
  ConnectionGate gate(2, 10);
  Pair a, b, c, d;
  auto ta = gate.admit(a.fds[0]);
  auto tb = gate.admit(b.fds[0]);
  EXPECT_EQ(gate.promote(*tb), ConnectionGate::Promote::kOk);
  auto tc = gate.admit(c.fds[0]);
  EXPECT_EQ(gate.pending(), 2u);
  auto td = gate.admit(d.fds[0]);  // evicts a (oldest pending), not b (established)
  EXPECT_TRUE(a.shut_down());
  EXPECT_FALSE(b.shut_down());
  EXPECT_FALSE(c.shut_down());
  EXPECT_TRUE(gate.evicted(*ta));
  EXPECT_EQ(gate.promote(*ta), ConnectionGate::Promote::kEvicted);
  EXPECT_EQ(gate.pending(), 2u);
  EXPECT_EQ(gate.established(), 1u);
  EXPECT_EQ(gate.evictions(), 1u);
  for (auto* t : {ta.get(), tb.get(), tc.get(), td.get()}) gate.release(*t);
  EXPECT_EQ(gate.pending(), 0u);
  EXPECT_EQ(gate.established(), 0u);
}

TEST(ConnectionGateTest, EstablishedLimitAndDemote) {
  ConnectionGate gate(4, 1);
  Pair a, b;
  auto ta = gate.admit(a.fds[0]);
  auto tb = gate.admit(b.fds[0]);
  EXPECT_EQ(gate.promote(*ta), ConnectionGate::Promote::kOk);
  EXPECT_EQ(gate.promote(*tb), ConnectionGate::Promote::kFull);
  EXPECT_TRUE(gate.demote(*ta));
  EXPECT_EQ(gate.established(), 0u);
  EXPECT_EQ(gate.pending(), 2u);
  EXPECT_EQ(gate.promote(*tb), ConnectionGate::Promote::kOk);
  gate.release(*ta);
  gate.release(*tb);
  EXPECT_EQ(gate.established(), 0u);
}

TEST(ConnectionGateTest, ReleasedTicketIsNeverShutDown) {
  ConnectionGate gate(1, 1);
  Pair a, b;
  auto ta = gate.admit(a.fds[0]);
  gate.release(*ta);
  auto tb = gate.admit(b.fds[0]);
  EXPECT_FALSE(a.shut_down());
  EXPECT_EQ(gate.evictions(), 0u);
  gate.release(*tb);
}

}  // namespace
}  // namespace freshet
