#include "dataflow/reaper.hpp"

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

 private:
  void run() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      std::unique_ptr<Disposable> d = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      d.reset();
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Disposable>> queue_;  // guarded by mu_
  bool stop_ = false;                              // guarded by mu_
  std::thread thread_;  // last: started after the members it uses
};

}  // namespace

void dispose_in_background(std::unique_ptr<Disposable> d) {
  static Reaper reaper;
  if (!reaper.enqueue(d)) d.reset();
}

}  // namespace freshet::dataflow
