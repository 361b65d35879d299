#include "common/statement_interrupt.hpp"

#include <mutex>
#include <unordered_map>

#include "common/error.hpp"

namespace freshet {

namespace {
std::mutex& registry_mu() {
  static std::mutex mu;
  return mu;
}
std::unordered_map<int32_t, StatementInterrupt>& registry() {
  static std::unordered_map<int32_t, StatementInterrupt> r;
  return r;
}
}  // namespace

void register_statement_interrupt(int32_t backend_pid, StatementInterrupt s) {
  if (backend_pid == 0) return;
  std::lock_guard lock(registry_mu());
  registry()[backend_pid] = s;
}

void unregister_statement_interrupt(int32_t backend_pid) {
  if (backend_pid == 0) return;
  std::lock_guard lock(registry_mu());
  registry().erase(backend_pid);
}

void check_statement_interrupt(int32_t backend_pid) {
  if (backend_pid == 0) return;
  bool cancelled = false;
  bool timed_out = false;
  {
    std::lock_guard lock(registry_mu());  // the flag outlives its registration
    auto it = registry().find(backend_pid);
    if (it == registry().end()) return;
    cancelled = it->second.cancelled != nullptr && it->second.cancelled->load(std::memory_order_relaxed);
    timed_out = it->second.deadline != std::chrono::steady_clock::time_point{} && std::chrono::steady_clock::now() >= it->second.deadline;
  }
  if (cancelled) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
  if (timed_out) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to statement timeout");
}

}  // namespace freshet
