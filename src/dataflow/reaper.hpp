#pragma once
// Frees, on a background thread, what an abandoned one-shot query held: a cancelled (or timed
// out, or over budget) query's dataflow can hold gigabytes in millions of rows, and freeing
// them takes 100-200 ms that the client would otherwise wait for its 57014 (the cancel
// latency: bench/cancel.sh). The thread that throws hands the state over and answers at once.
//
// The reaper runs at a lower priority (nice 5), so that on a busy machine it does not take
// the CPU from the thread answering the error, and returns freed memory to the system
// (malloc_trim) when its queue runs empty after freeing what a failed query left
// (Reclaim::kTrim): glibc keeps freed small blocks in its arenas (one per thread that
// allocated them), so without it RSS stays at the high-water mark of the biggest failed
// query. A running query's consumed inputs (Reclaim::kKeep, src/dataflow/graph.cpp) are freed
// without a trim, as freeing them inline would: malloc_trim holds each arena's lock while it
// returns that arena's free pages (madvise), up to 1.7 s after a 1M-row INSERT ... SELECT,
// and every thread allocating from a locked arena (connections committing, lookups) waits
// for it (bench/README.md, "Concurrency"); their memory is reused by the next statements.
//
// Memory freed late cannot pile up: the error path never waits (up to kMaxQueuedDisposals
// objects are queued; beyond that, the caller frees inline), and a query about to start
// waits first until at most kMaxPendingBeforeStart objects are left (wait_for_disposals), so
// a client repeating an over-budget query is slowed down to the reaper's pace instead of
// stacking up budgets. Every statement calls wait_for_disposals: when the reaper has no more
// than that left it returns after one atomic load, without the reaper's mutex.
//
// Thread-safe. One reaper thread per process, started on first use.

#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>

namespace freshet::dataflow {

class Disposable {
 public:
  virtual ~Disposable() = default;
};

inline constexpr size_t kMaxQueuedDisposals = 64;
inline constexpr size_t kMaxPendingBeforeStart = 2;

// Whether the reaper returns free memory to the system (malloc_trim) once its queue is empty
// after this disposal: for what an abandoned (failed, cancelled) query held, not for the
// inputs a running query is done with.
enum class Reclaim { kTrim, kKeep };

// Destroys d on the reaper thread (or here, when kMaxQueuedDisposals are waiting).
void dispose_in_background(std::unique_ptr<Disposable> d, Reclaim reclaim = Reclaim::kTrim);

// Blocks until at most `at_most` disposals are queued or being freed, or until *cancelled
// (then throws 57014, polled every 10 ms). Cost: nothing when the reaper is idle.
void wait_for_disposals(const std::atomic<bool>* cancelled, size_t at_most = kMaxPendingBeforeStart);

template <typename T>
void destroy_in_background(T&& value, Reclaim reclaim = Reclaim::kTrim) {
  struct Holder final : Disposable {
    explicit Holder(T&& v) : v(std::move(v)) {}
    std::remove_reference_t<T> v;
  };
  dispose_in_background(std::make_unique<Holder>(std::move(value)), reclaim);
}

}  // namespace freshet::dataflow
