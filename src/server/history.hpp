#pragma once
// Kept history of one collection (Materialize's RETAIN HISTORY): the changes of the last
// `window_ms`, so that a read AS OF a recent past time t answers the state at t as the
// current state minus every change after t (src/server/README.md, "History").
//
// Thread-safety: none; a table's is guarded by Coordinator::State::mu (changed under it held
// exclusively, when writes are published), a dataflow's by its Maintained::state_mu (changed
// with its contents, so that contents and history are read together).

#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <utility>

#include <vector>

#include "common/row.hpp"

namespace freshet::server {

using RowDiffs = std::vector<std::pair<Row, int64_t>>;  // as maintained.hpp

struct History {
  uint64_t window_ms = 0;  // 0: nothing kept
  // The earliest time a read may ask for: when the window was set (nothing before it was
  // kept), or the newest change dropped from the window.
  uint64_t since = 0;
  std::deque<std::pair<uint64_t, RowDiffs>> changes;  // ascending time
  // Bytes of the kept rows (and 16 per change); past kMaxBytes the oldest changes go, as if
  // the window were shorter (since advances: reads that far back get 22023), so a busy
  // collection with a long window cannot take the server's memory.
  uint64_t bytes = 0;
  static constexpr uint64_t kMaxBytes = uint64_t{1} << 30;

  // Sets the window at time now (a new window keeps nothing before now).
  void set_window(uint64_t ms, uint64_t now) {
    if (ms == window_ms) return;
    if (window_ms == 0 || ms == 0) {
      changes.clear();
      bytes = 0;
      since = now;
    }
    window_ms = ms;
    trim(now);
  }
  // The first time readable at `now`: within the window and not before since.
  uint64_t valid_from(uint64_t now) const { return std::max(since, now > window_ms ? now - window_ms : 0); }
  bool covers(uint64_t t, uint64_t now) const { return window_ms != 0 && t >= valid_from(now); }
  void record(uint64_t t, const RowDiffs& diffs, uint64_t now) {
    if (window_ms == 0 || diffs.empty()) return;
    if (!changes.empty() && changes.back().first == t) {
      changes.back().second.insert(changes.back().second.end(), diffs.begin(), diffs.end());
    } else {
      changes.emplace_back(t, diffs);
    }
    for (const auto& [row, diff] : diffs) bytes += row.size_bytes() + 16;
    trim(now);
  }
  // Every change after t, negated: added to the current state, the state at t.
  void rewind(uint64_t t, const std::function<void(const Row&, int64_t)>& emit) const {
    for (auto it = changes.rbegin(); it != changes.rend() && it->first > t; ++it)
      for (const auto& [row, diff] : it->second) emit(row, -diff);
  }
  // The kept changes after t, oldest first.
  void for_each_after(uint64_t t, const std::function<void(uint64_t, const RowDiffs&)>& fn) const {
    for (const auto& [ts, d] : changes)
      if (ts > t) fn(ts, d);
  }
  // Forgets everything (the collection's rows changed shape: ALTER TABLE).
  void reset(uint64_t now) {
    changes.clear();
    bytes = 0;
    since = now;
  }

 private:
  void trim(uint64_t now) {
    const uint64_t keep_after = now > window_ms ? now - window_ms : 0;
    while (!changes.empty() && (changes.front().first <= keep_after || bytes > kMaxBytes)) {
      since = std::max(since, changes.front().first);
      for (const auto& [row, diff] : changes.front().second) bytes -= row.size_bytes() + 16;
      changes.pop_front();
    }
  }
};

}  // namespace freshet::server
