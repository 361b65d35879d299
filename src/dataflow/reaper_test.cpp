#include "dataflow/reaper.hpp"

#include "common/error.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace freshet::dataflow {
namespace {

using namespace std::chrono_literals;

struct SlowToFree final : Disposable {
  SlowToFree(std::atomic<int>* freed, std::chrono::milliseconds takes) : freed(freed), takes(takes) {}
  ~SlowToFree() override {
    std::this_thread::sleep_for(takes);
    freed->fetch_add(1);
  }
  std::atomic<int>* freed;
  std::chrono::milliseconds takes;
};

TEST(ReaperTest, WaitForDisposalsReturnsOnlyWhenAtMostThatManyAreLeft) {
  wait_for_disposals(nullptr, 0);  // what earlier tests left
  std::atomic<int> freed{0};
  for (int i = 0; i < 4; ++i)
    dispose_in_background(std::make_unique<SlowToFree>(&freed, 30ms), i % 2 == 0 ? Reclaim::kTrim : Reclaim::kKeep);
  wait_for_disposals(nullptr, 1);  // one may still be queued or being freed
  EXPECT_GE(freed.load(), 3);
  wait_for_disposals(nullptr, 0);
  EXPECT_EQ(freed.load(), 4);
  wait_for_disposals(nullptr);  // idle: returns at once
}

TEST(ReaperTest, WaitingForDisposalsIsCancellable) {
  wait_for_disposals(nullptr, 0);
  std::atomic<int> freed{0};
  for (int i = 0; i < 3; ++i) dispose_in_background(std::make_unique<SlowToFree>(&freed, 200ms), Reclaim::kKeep);
  std::atomic<bool> cancelled{true};
  EXPECT_THROW(wait_for_disposals(&cancelled, 0), SqlError);
  wait_for_disposals(nullptr, 0);
  EXPECT_EQ(freed.load(), 3);
}

}  // namespace
}  // namespace freshet::dataflow
