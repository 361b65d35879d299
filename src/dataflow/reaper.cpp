#include "dataflow/reaper.hpp"

#include "common/error.hpp"
#include "common/trace.hpp"

#include <malloc.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace freshet::dataflow {

namespace {

class Reaper {
 public:
  Reaper() : thread_([this] { run(); }) {}
  ~Reaper() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  // False when the queue is full (the caller keeps d and frees it).
  bool enqueue(std::unique_ptr<Disposable>& d, Reclaim reclaim) {
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= kMaxQueuedDisposals) return false;
      queue_.push_back(std::move(d));
      pending_.fetch_add(1, std::memory_order_relaxed);
      trim_ |= reclaim == Reclaim::kTrim;
    }
    cv_.notify_one();
    return true;
  }

  // False when cancelled first.
  bool wait(size_t at_most, const std::atomic<bool>* cancelled) {
    // Every statement comes here: nothing to wait for costs one load, not the mutex. pending_
    // only grows under mu_, so a count at or under at_most seen here was true at that moment.
    if (pending_.load(std::memory_order_acquire) <= at_most) return true;
    std::unique_lock lock(mu_);
    while (queue_.size() + (busy_ ? 1 : 0) > at_most) {
      if (cancelled != nullptr && cancelled->load(std::memory_order_relaxed)) return false;
      idle_cv_.wait_for(lock, std::chrono::milliseconds(10));
    }
    return true;
  }

 private:
  void run() {
    // Low priority: freeing is never urgent, answering is (per-thread nice on Linux).
    (void)setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 5);
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      std::unique_ptr<Disposable> d = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      const bool trim = queue_.empty() && trim_;
      if (trim) trim_ = false;
      lock.unlock();
      trace_event("reaper: freeing");
      d.reset();
      trace_event("reaper: freed");
      // Give the freed pages back to the system once the queue is drained (all arenas), when
      // a disposal since the last trim asked for it (reaper.hpp: Reclaim).
      if (trim) {
        malloc_trim(0);
        trace_event("reaper: trimmed");
      }
      lock.lock();
      busy_ = false;
      pending_.fetch_sub(1, std::memory_order_release);
      idle_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::unique_ptr<Disposable>> queue_;  // guarded by mu_
  bool busy_ = false;                              // guarded by mu_: freeing one
  bool trim_ = false;                              // guarded by mu_: a queued disposal wants a trim
  bool stop_ = false;                              // guarded by mu_
  // queue_.size() + busy_, changed under mu_ and read without it by wait().
  std::atomic<size_t> pending_{0};
  std::thread thread_;  // last: started after the members it uses
};

Reaper& reaper() {
  static Reaper r;
  return r;
}

}  // namespace

void dispose_in_background(std::unique_ptr<Disposable> d, Reclaim reclaim) {
  if (!reaper().enqueue(d, reclaim)) d.reset();
}

void wait_for_disposals(const std::atomic<bool>* cancelled, size_t at_most) {
  if (!reaper().wait(at_most, cancelled)) {
    trace_event("cancel seen waiting for the reaper");
    throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
  }
}

}  // namespace freshet::dataflow
