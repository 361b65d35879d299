#pragma once

// Opt-in event timestamps for latency work (bench/README.md, "Cancel latency"): with
// FRESHET_TRACE=1 in the environment, trace_event("what") writes one line to stderr,
//   freshet-trace <CLOCK_MONOTONIC seconds> <thread id> <what>
// on the same clock as Python's time.monotonic(), so that a client's timestamps and the
// server's line up. Off (one relaxed load and a branch) otherwise. Any thread may call it.

#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace freshet {

inline bool trace_enabled() {
  static const bool enabled = [] {
    const char* v = std::getenv("FRESHET_TRACE");
    return v != nullptr && v[0] != '\0' && v[0] != '0';
  }();
  return enabled;
}

inline void trace_event(const char* what) {
  if (!trace_enabled()) return;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  std::fprintf(stderr, "freshet-trace %ld.%06ld %ld %s\n", static_cast<long>(ts.tv_sec), ts.tv_nsec / 1000,
               static_cast<long>(syscall(SYS_gettid)), what);
}

}  // namespace freshet
