#pragma once
// What stops a statement that waits inside a function (pg_sleep): its session's cancel flag (a
// CancelRequest, pg_cancel_backend) and its statement_timeout deadline, found by the session's
// backend pid (EvalContext::backend_pid). A session registers them for the time a statement
// executes (server/session.cpp, Session::execute); one-shot operators get the same through
// dataflow::StepLimits. A registry rather than a field of EvalContext so that the functions
// library needs nothing from the server.
//
// Thread-safe; the lookups take one mutex, which is why callers poll it at most every few ms.

#include <atomic>
#include <chrono>
#include <cstdint>

namespace freshet {

struct StatementInterrupt {
  const std::atomic<bool>* cancelled = nullptr;        // must outlive the registration
  std::chrono::steady_clock::time_point deadline{};    // the zero time point: none
};

// Registers (replaces) the running statement of backend_pid; 0 is ignored.
void register_statement_interrupt(int32_t backend_pid, StatementInterrupt s);
void unregister_statement_interrupt(int32_t backend_pid);
// Throws SqlError 57014 ("canceling statement due to user request" / "... due to statement
// timeout") when the statement registered for backend_pid was cancelled or is past its deadline.
void check_statement_interrupt(int32_t backend_pid);

// Registers for its lifetime.
class StatementInterruptScope {
 public:
  StatementInterruptScope(int32_t backend_pid, StatementInterrupt s) : pid_(backend_pid) { register_statement_interrupt(pid_, s); }
  ~StatementInterruptScope() { unregister_statement_interrupt(pid_); }
  StatementInterruptScope(const StatementInterruptScope&) = delete;
  StatementInterruptScope& operator=(const StatementInterruptScope&) = delete;

 private:
  int32_t pid_;
};

}  // namespace freshet
