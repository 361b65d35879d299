#include "dataflow/workers.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "common/futex.hpp"

namespace freshet::dataflow {

namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
}  // namespace

WorkerPool::WorkerPool(size_t threads) {
  if (const char* v = std::getenv("FRESHET_POOL_SPIN_US")) {
    // "idle,wait" (or "idle:wait", for bench/nexmark.sh WORKERS_LIST entries) in microseconds
    // (workers.hpp): for benchmarks, not a setting to run with.
    unsigned long idle = 0, wait = 0;
    if (std::sscanf(v, "%lu%*[,:]%lu", &idle, &wait) == 2) {
      idle_spin_ = std::chrono::microseconds(idle);
      wait_spin_ = std::chrono::microseconds(wait);
    }
  }
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
}

WorkerPool::~WorkerPool() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void WorkerPool::drain(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Batch>& b) {
  while (b->next < b->n) {
    size_t i = b->next++;
    if (b->next == b->n) {
      // Fully claimed: no longer offered to the pool threads.
      for (auto it = queue_.begin(); it != queue_.end(); ++it)
        if (*it == b) {
          queue_.erase(it);
          queued_.store(queue_.size(), std::memory_order_relaxed);
          break;
        }
    }
    ++b->running;
    lock.unlock();
    std::exception_ptr error;
    try {
      (*b->task)(i);
    } catch (...) {
      error = std::current_exception();
    }
    lock.lock();
    if (error) b->errors[i] = error;
    --b->running;
    // The last task wakes the caller if it sleeps (b stays alive: the caller holds it, and
    // so does every thread in drain()).
    if (b->finished.fetch_add(1, std::memory_order_acq_rel) + 1 == b->n) set_word(b->done, 1);
  }
}

void WorkerPool::run(size_t n, const std::function<void(size_t)>& task) {
  if (n == 0) return;
  if (n == 1 || threads_.empty()) {
    // The caller alone: no hand-over, and exceptions in task order.
    std::exception_ptr first;
    for (size_t i = 0; i < n; ++i) {
      try {
        task(i);
      } catch (...) {
        if (!first) first = std::current_exception();
      }
    }
    if (first) std::rethrow_exception(first);
    return;
  }
  auto b = std::make_shared<Batch>();
  b->task = &task;
  b->n = n;
  b->errors.resize(n);
  std::unique_lock lock(mu_);
  queue_.push_back(b);
  queued_.store(queue_.size(), std::memory_order_relaxed);
  // Spinning pool threads see queued_; only sleeping ones need the condition variable.
  if (sleepers_ != 0) work_cv_.notify_all();
  const auto started = std::chrono::steady_clock::now();
  drain(lock, b);
  lock.unlock();
  if (b->finished.load(std::memory_order_acquire) < n) {
    // The rest runs on pool threads: poll for as long as this thread's own tasks took (they
    // should finish about as soon), at most wait_spin_, then sleep (workers.hpp).
    const auto now = std::chrono::steady_clock::now();
    const auto until = now + std::min<std::chrono::nanoseconds>(wait_spin_, now - started);
    size_t polls = 0;
    while (b->finished.load(std::memory_order_acquire) < n) {
      cpu_relax();
      if ((++polls & 63) == 0 && std::chrono::steady_clock::now() >= until) break;
    }
    while (b->done.load(std::memory_order_acquire) != 1) wait_word_change(b->done, 0);
  }
  // Every task has finished: errors were written before `finished` counted them.
  for (auto& e : b->errors)
    if (e) std::rethrow_exception(e);
}

void WorkerPool::loop() {
  // Named for per-thread profiles and CPU figures (perf --sort comm, bench/nexmark.sh).
  pthread_setname_np(pthread_self(), "fr-worker");
  std::unique_lock lock(mu_);
  while (true) {
    if (queue_.empty() && !stopping_ && idle_spin_.count() > 0) {
      // Out of work: poll a little before sleeping (workers.hpp, kIdleSpin).
      lock.unlock();
      const auto until = std::chrono::steady_clock::now() + idle_spin_;
      size_t polls = 0;
      while (queued_.load(std::memory_order_relaxed) == 0) {
        cpu_relax();
        if ((++polls & 63) == 0 && std::chrono::steady_clock::now() >= until) break;
      }
      lock.lock();
    }
    while (!stopping_ && queue_.empty()) {
      ++sleepers_;
      work_cv_.wait(lock);
      --sleepers_;
    }
    if (stopping_) return;
    std::shared_ptr<Batch> b = queue_.front();
    drain(lock, b);
  }
}

namespace {
std::atomic<size_t> g_workers{1};
std::unique_ptr<WorkerPool> g_pool;
std::once_flag g_pool_once;
}  // namespace

void WorkerPool::configure(size_t workers) { g_workers.store(workers == 0 ? 1 : workers); }

size_t WorkerPool::default_workers() { return g_workers.load(); }

WorkerPool& WorkerPool::global() {
  std::call_once(g_pool_once, [] { g_pool = std::make_unique<WorkerPool>(g_workers.load() - 1); });
  return *g_pool;
}

}  // namespace freshet::dataflow
