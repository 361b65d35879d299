#pragma once
// Runs a stretch of work on the calling thread at a lower scheduling priority (a higher nice
// value, per thread on Linux), and puts the thread's priority back when it ends.
//
// Used for background work done on a session's thread without any lock held (a CREATE
// INDEX's hydration): on a busy machine the connections committing and reading, all threads
// of the same process, get the CPU first, and the work takes whatever they leave.
//
// Raising one's nice value is always allowed; lowering it back needs CAP_SYS_NICE or an
// RLIMIT_NICE that allows the old value. Without either, the constructor does nothing (a
// connection thread must not stay slow for the rest of its session). The work must not hold
// a lock other threads wait for (a preempted low-priority holder would hold them up).
//
// Cost: a few syscalls. Not copyable; use on one thread, in one scope.

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace freshet {

class LowerThreadPriority {
 public:
  explicit LowerThreadPriority(int by) : tid_(static_cast<id_t>(syscall(SYS_gettid))) {
    errno = 0;
    const int before = getpriority(PRIO_PROCESS, tid_);
    if (before == -1 && errno != 0) return;
    if (!may_return_to(before)) return;
    if (setpriority(PRIO_PROCESS, tid_, before + by) == 0) before_ = before, lowered_ = true;
  }
  ~LowerThreadPriority() {
    if (lowered_) (void)setpriority(PRIO_PROCESS, tid_, before_);  // checked possible by may_return_to
  }
  LowerThreadPriority(const LowerThreadPriority&) = delete;
  LowerThreadPriority& operator=(const LowerThreadPriority&) = delete;

  bool lowered() const { return lowered_; }

 private:
  static bool may_return_to(int nice) {
    static const bool cap_sys_nice = has_cap_sys_nice();
    if (cap_sys_nice) return true;
    rlimit r{};
    if (getrlimit(RLIMIT_NICE, &r) != 0) return false;
    // RLIMIT_NICE r allows a nice value down to 20 - r.
    return r.rlim_cur == RLIM_INFINITY || 20 - static_cast<long>(r.rlim_cur) <= nice;
  }
  // CAP_SYS_NICE (bit 23) among the effective capabilities (root in a container may lack it).
  static bool has_cap_sys_nice() {
    FILE* f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return false;
    char line[256];
    unsigned long long eff = 0;
    bool found = false;
    while (!found && std::fgets(line, sizeof line, f) != nullptr)
      if (std::strncmp(line, "CapEff:", 7) == 0) found = std::sscanf(line + 7, "%llx", &eff) == 1;
    std::fclose(f);
    return found && ((eff >> 23) & 1) != 0;
  }

  id_t tid_;
  int before_ = 0;
  bool lowered_ = false;
};

}  // namespace freshet
