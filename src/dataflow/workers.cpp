#include "dataflow/workers.hpp"

#include <pthread.h>

#include <atomic>

namespace freshet::dataflow {

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
  work_cv_.notify_all();
  drain(lock, b);
  done_cv_.wait(lock, [&] { return b->running == 0; });
  for (auto& e : b->errors)
    if (e) std::rethrow_exception(e);
}

void WorkerPool::loop() {
  // Named for per-thread profiles and CPU figures (perf --sort comm, bench/nexmark.sh).
  pthread_setname_np(pthread_self(), "fr-worker");
  std::unique_lock lock(mu_);
  while (true) {
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
