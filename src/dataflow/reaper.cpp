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
  bool enqueue(std::unique_ptr<Disposable>& d) {
    {
      std::lock_guard lock(mu_);
      if (queue_.size() >= kMaxQueuedDisposals) return false;
      queue_.push_back(std::move(d));
    }
    cv_.notify_one();
    return true;
  }

  // False when cancelled first.
  bool wait(size_t at_most, const std::atomic<bool>* cancelled) {
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
      const bool last = queue_.empty();
      lock.unlock();
      trace_event("reaper: freeing");
      d.reset();
      trace_event("reaper: freed");
      // Give the freed pages back to the system once the queue is drained (all arenas).
      if (last) {
        malloc_trim(0);
        trace_event("reaper: trimmed");
      }
      lock.lock();
      busy_ = false;
      idle_cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::unique_ptr<Disposable>> queue_;  // guarded by mu_
  bool busy_ = false;                              // guarded by mu_: freeing one
  bool stop_ = false;                              // guarded by mu_
  std::thread thread_;  // last: started after the members it uses
};

Reaper& reaper() {
  static Reaper r;
  return r;
}

}  // namespace

void dispose_in_background(std::unique_ptr<Disposable> d) {
  if (!reaper().enqueue(d)) d.reset();
}

void wait_for_disposals(const std::atomic<bool>* cancelled, size_t at_most) {
  if (!reaper().wait(at_most, cancelled)) {
    trace_event("cancel seen waiting for the reaper");
    throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
  }
}

}  // namespace freshet::dataflow
