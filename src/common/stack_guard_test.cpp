#include "common/stack_guard.hpp"

#include <gtest/gtest.h>
#include <pthread.h>

#include <string>

#include "common/error.hpp"

namespace freshet {
namespace {

// Recurses until check_stack_depth() refuses (or, were the guard broken, a million levels).
[[gnu::noinline]] int recurse(int depth) {
  volatile char frame[512];
  frame[0] = static_cast<char>(depth);
  check_stack_depth();
  if (depth > 1'000'000) return depth;
  int r = recurse(depth + 1);
  frame[1] = frame[0];  // the frame is live across the call: no tail call, no loop
  return r + frame[1] - frame[0];
}

struct Outcome {
  std::string sqlstate;
  int depth = 0;
  size_t remaining_at_start = 0;
};

void* run(void* p) {
  auto* o = static_cast<Outcome*>(p);
  o->remaining_at_start = stack_remaining_bytes();
  try {
    o->depth = recurse(0);
  } catch (const SqlError& e) {
    o->sqlstate = e.sqlstate();
  }
  return nullptr;
}

// On threads with small and large stacks alike, deep recursion ends in 54001, never a crash,
// and uses most of the stack first.
void check_on_stack(size_t stack_bytes) {
  pthread_attr_t attr;
  ASSERT_EQ(pthread_attr_init(&attr), 0);
  ASSERT_EQ(pthread_attr_setstacksize(&attr, stack_bytes), 0);
  Outcome o;
  pthread_t th;
  ASSERT_EQ(pthread_create(&th, &attr, run, &o), 0);
  pthread_join(th, nullptr);
  pthread_attr_destroy(&attr);
  EXPECT_EQ(o.sqlstate, "54001");
  EXPECT_GT(o.remaining_at_start, stack_bytes / 2);
  EXPECT_LE(o.remaining_at_start, stack_bytes);
}

TEST(StackGuardTest, RefusesBeforeOverflowOnSmallStack) { check_on_stack(256 * 1024); }
TEST(StackGuardTest, RefusesBeforeOverflowOnLargeStack) { check_on_stack(32 * 1024 * 1024); }

TEST(StackGuardTest, ShallowCallsPass) {
  EXPECT_NO_THROW(check_stack_depth());
  EXPECT_GT(stack_remaining_bytes(), 64u * 1024);
}

}  // namespace
}  // namespace freshet
