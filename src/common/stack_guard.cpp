#include "common/stack_guard.hpp"

#include <pthread.h>

#include <algorithm>
#include <cstdint>

#include "common/error.hpp"

namespace freshet {
namespace {

struct StackBounds {
  uintptr_t low = 0;      // lowest usable address (the stack grows down towards it)
  uintptr_t limit = 0;    // low + reserve: below this, check_stack_depth throws
};

thread_local StackBounds t_bounds;

const StackBounds& bounds() {
  if (t_bounds.low == 0) {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    if (addr == nullptr || size == 0) {
      // Unknown: assume the smallest stack we would ever run on below the current frame.
      auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
      size = 512 * 1024;
      addr = reinterpret_cast<void*>(here - size);
    }
    size_t reserve = std::min(std::max<size_t>(size / 4, 128 * 1024), size / 2);
    t_bounds.low = reinterpret_cast<uintptr_t>(addr);
    t_bounds.limit = t_bounds.low + reserve;
  }
  return t_bounds;
}

}  // namespace

void check_stack_depth() {
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (here < bounds().limit) [[unlikely]]
    throw SqlError(sqlstate::kStatementTooComplex, "statement too complex: stack depth limit exceeded")
        .with_hint("Simplify the statement: fewer nested expressions or subqueries.");
}

size_t stack_remaining_bytes() {
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  return here > bounds().low ? here - bounds().low : 0;
}

}  // namespace freshet
