#pragma once
// The worker pool that sharded dataflows (graph.hpp) run their shards on.
//
// `freshet serve --workers N` sets the number of shards every dataflow rendered afterwards is
// split into (default: the machine's cores) and starts N - 1 threads; the thread that asks for
// work (the compute thread stepping maintained dataflows, a session running a one-shot query)
// is the N-th: it runs tasks of its own batch while it waits, so a batch always finishes even
// when every pool thread is busy with other callers' batches (no deadlock, no oversubscription
// beyond N + callers).

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace freshet::dataflow {

class WorkerPool {
 public:
  // threads: pool threads besides the callers (0: every batch runs on its caller).
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs task(0) .. task(n - 1), on the pool threads and the caller, and returns when all
  // have finished. If tasks throw, the first exception (by task index) is rethrown after all
  // have finished.
  void run(size_t n, const std::function<void(size_t)>& task);

  size_t threads() const { return threads_.size(); }

  // The process's pool and its shard count (set once at start-up; 1 until then).
  static void configure(size_t workers);
  static size_t default_workers();
  static WorkerPool& global();

 private:
  struct Batch {
    const std::function<void(size_t)>* task = nullptr;
    size_t n = 0;
    size_t next = 0;      // next index to claim; guarded by mu_
    size_t running = 0;   // claimed and not finished; guarded by mu_
    // Tasks finished (counted under mu_, read without it by the caller's spin).
    std::atomic<size_t> finished{0};
    // 1 once every task has finished; the caller sleeps on it (common/futex.hpp), so a pool
    // thread's last task wakes the caller with one syscall only when it sleeps.
    std::atomic<uint32_t> done{0};
    std::vector<std::exception_ptr> errors;  // written under mu_ before `finished` counts the task
  };
  // Spin-then-sleep. A pool thread that runs out of work polls `queued_` for up to
  // idle_spin_ before it sleeps on work_cv_: a sharded step hands the pool one batch per
  // stage, tens to hundreds of microseconds apart, and a sleeping thread's wake-up (tens of
  // microseconds on a free core, far more on a busy one) came so late that the caller had
  // usually run the pool thread's shard itself (src/dataflow/README.md, "Parallelism").
  // A caller whose last task runs on another thread polls `finished` for as long as its own
  // tasks of the batch took, at most wait_spin_, then sleeps on `done`: shards of one stage
  // take about the same time, so a task that is still running after that is late (its thread
  // was preempted, or woke late), and polling on would burn the caller's core for the time
  // the other thread waits for one (src/dataflow/README.md, "Waiting for the pool").
  // FRESHET_POOL_SPIN_US="idle,wait" overrides both (benchmarks comparing them in one binary).
  static constexpr std::chrono::microseconds kIdleSpin{100};
  static constexpr std::chrono::microseconds kWaitSpin{200};
  // Claims and runs tasks of b until none is left to claim. REQUIRES: lock held; returns with it held.
  void drain(std::unique_lock<std::mutex>& lock, const std::shared_ptr<Batch>& b);
  void loop();

  std::chrono::nanoseconds idle_spin_{kIdleSpin};  // constant after construction
  std::chrono::nanoseconds wait_spin_{kWaitSpin};  // constant after construction
  std::mutex mu_;
  std::condition_variable work_cv_;  // a batch has unclaimed tasks, or stopping
  std::deque<std::shared_ptr<Batch>> queue_;  // batches with unclaimed tasks
  std::atomic<size_t> queued_{0};  // queue_.size(), for the idle spin (written under mu_)
  size_t sleepers_ = 0;  // pool threads waiting on work_cv_; guarded by mu_
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace freshet::dataflow
