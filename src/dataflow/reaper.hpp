#pragma once
// Frees, on a background thread, what an abandoned one-shot query held: a cancelled (or timed
// out, or over budget) query's dataflow can hold gigabytes in millions of rows, and freeing
// them takes 100-200 ms that the client would otherwise wait for its 57014 (the cancel
// latency: bench/cancel.sh). The thread that throws hands the state over and answers at once.
//
// Thread-safe. One reaper thread per process, started on first use; at most kMaxQueued
// objects wait (beyond that the caller frees inline: the memory must not pile up; each can be
// up to a query's memory budget).

#include <cstddef>
#include <memory>
#include <utility>

namespace freshet::dataflow {

class Disposable {
 public:
  virtual ~Disposable() = default;
};

inline constexpr size_t kMaxQueuedDisposals = 8;

// Destroys d on the reaper thread (or here, when kMaxQueuedDisposals are waiting).
void dispose_in_background(std::unique_ptr<Disposable> d);

template <typename T>
void destroy_in_background(T&& value) {
  struct Holder final : Disposable {
    explicit Holder(T&& v) : v(std::move(v)) {}
    std::remove_reference_t<T> v;
  };
  dispose_in_background(std::make_unique<Holder>(std::move(value)));
}

}  // namespace freshet::dataflow
