#pragma once
// Frees, on a background thread, what an abandoned one-shot query held: a cancelled (or timed
// out, or over budget) query's dataflow can hold gigabytes in millions of rows, and freeing
// them takes 100-200 ms that the client would otherwise wait for its 57014 (the cancel
// latency: bench/cancel.sh). The thread that throws hands the state over and answers at once.
//
// The reaper runs at a lower priority (nice 5), so that on a busy machine it does not take
// the CPU from the thread answering the error, and returns freed memory to the system
// (malloc_trim) whenever its queue runs empty: glibc keeps freed small blocks in its arenas
// (one per thread that allocated them), so without it RSS stays at the high-water mark of
// the biggest failed query.
//
// Memory freed late cannot pile up: the error path never waits (up to kMaxQueuedDisposals
// objects are queued; beyond that, the caller frees inline), and a query about to start
// waits first until at most kMaxPendingBeforeStart objects are left (wait_for_disposals), so
// a client repeating an over-budget query is slowed down to the reaper's pace instead of
// stacking up budgets.
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

// Destroys d on the reaper thread (or here, when kMaxQueuedDisposals are waiting).
void dispose_in_background(std::unique_ptr<Disposable> d);

// Blocks until at most `at_most` disposals are queued or being freed, or until *cancelled
// (then throws 57014, polled every 10 ms). Cost: nothing when the reaper is idle.
void wait_for_disposals(const std::atomic<bool>* cancelled, size_t at_most = kMaxPendingBeforeStart);

template <typename T>
void destroy_in_background(T&& value) {
  struct Holder final : Disposable {
    explicit Holder(T&& v) : v(std::move(v)) {}
    std::remove_reference_t<T> v;
  };
  dispose_in_background(std::make_unique<Holder>(std::move(value)));
}

}  // namespace freshet::dataflow
