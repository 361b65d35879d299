#include "dataflow/workers.hpp"

#include <pthread.h>

#include <atomic>

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
    b->finished.fetch_add(1, std::memory_order_release);
    done_cv_.notify_all();
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
  work_cv_.notify_all();
  drain(lock, b);
  if (b->running != 0) {
    // The rest runs on pool threads: poll a little before sleeping (workers.hpp, kWaitSpin).
    lock.unlock();
    const auto until = std::chrono::steady_clock::now() + kWaitSpin;
    size_t polls = 0;
    while (b->finished.load(std::memory_order_acquire) < n) {
      cpu_relax();
      if ((++polls & 63) == 0 && std::chrono::steady_clock::now() >= until) break;
    }
    lock.lock();
  }
  done_cv_.wait(lock, [&] { return b->running == 0; });
  for (auto& e : b->errors)
    if (e) std::rethrow_exception(e);
}

void WorkerPool::loop() {
  // Named for per-thread profiles and CPU figures (perf --sort comm, bench/nexmark.sh).
  pthread_setname_np(pthread_self(), "fr-worker");
  std::unique_lock lock(mu_);
  while (true) {
    if (queue_.empty() && !stopping_) {
      // Out of work: poll a little before sleeping (workers.hpp, kIdleSpin).
      lock.unlock();
      const auto until = std::chrono::steady_clock::now() + kIdleSpin;
      size_t polls = 0;
      while (queued_.load(std::memory_order_relaxed) == 0) {
        cpu_relax();
        if ((++polls & 63) == 0 && std::chrono::steady_clock::now() >= until) break;
      }
      lock.lock();
    }
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
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
