#pragma once
// A guard against running out of stack in recursive code driven by user input (binding,
// lowering, optimizing and evaluating a deeply nested expression or query): it measures the
// calling thread's real stack, not a count of levels, so it holds on any thread whatever its
// stack size.
//
// Thread-safe: each thread learns its own stack bounds on its first call (pthread_getattr_np)
// and keeps them in a thread_local. Cost after that: one comparison.

#include <cstddef>

namespace freshet {

// Throws SqlError 54001 ("statement too complex: stack depth limit exceeded") when less than
// the reserve remains on the calling thread's stack. The reserve is a quarter of the stack,
// at least 128 KiB (and at most half of it): what the callers' deepest non-checking helpers
// and the error path itself still need.
void check_stack_depth();

// Bytes of stack left to the calling thread (for tests).
size_t stack_remaining_bytes();

}  // namespace freshet
