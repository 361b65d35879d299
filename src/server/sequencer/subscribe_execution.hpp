// SUBSCRIBE's execution (sequencer/subscribe.cpp creates it; run_streaming's FETCH reads it).
#pragma once

#include "server/sequencer/executor.hpp"

namespace freshet::server {

// An mz_timestamp as SUBSCRIBE's numeric column: every uint64, up to 18446744073709551615 (the
// time of a constant query's rows, mz_constant_subscribe).
inline Numeric mz_timestamp_numeric(uint64_t t) {
  if (t <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return numeric_from_int(static_cast<int64_t>(t));
  return numeric_parse_exact(std::to_string(t));
}

// Streams the changes of one collection: the snapshot first (when asked), then every change
// with its timestamp, and progress rows when asked. fetch() blocks until something arrives.
class SubscribeExecution : public Execution {
 public:
  SubscribeExecution(Coordinator::State& cs, std::shared_ptr<SubscriptionQueue> q, std::vector<Column> cols, bool progress,
                     std::optional<uint64_t> temp_dataflow, const std::atomic<bool>* cancelled, SubscribeOutput output)
      : cs_(cs), q_(std::move(q)), columns_(std::move(cols)), progress_(progress), temp_(temp_dataflow), cancelled_(cancelled),
        output_(std::move(output)) {}
  ~SubscribeExecution() override {
    if (temp_) {
      std::unique_lock lock(cs_.mu);  // only the list of dataflows changes
      cs_.drop_maintained(*temp_);
    }
  }
  const std::vector<Column>& columns() const override { return columns_; }
  bool fetch(std::vector<Row>& out, size_t max_rows) override { return fetch_for(out, max_rows, -1); }
  // timeout_ms < 0: wait until something arrives; otherwise at most that long.
  bool fetch_for(std::vector<Row>& out, size_t max_rows, int64_t timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms < 0 ? 0 : timeout_ms);
    std::unique_lock lock(q_->mu);
    while (true) {
      if (q_->overflowed) throw SqlError(sqlstate::kProgramLimitExceeded, "subscription fell too far behind and was stopped");
      if (q_->dropped && q_->items.empty()) throw SqlError(sqlstate::kUndefinedTable, "the subscribed object was dropped");
      bool have = !q_->items.empty() || !pending_.empty() || (progress_ && q_->progress > sent_progress_);
      if (have) break;
      if (cancelled_ && cancelled_->load()) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
      if (timeout_ms >= 0 && std::chrono::steady_clock::now() >= deadline) return true;
      q_->cv.wait_for(lock, std::chrono::milliseconds(50));
    }
    size_t n = 0;
    std::vector<Datum> ds;
    // ENVELOPE / WITHIN TIMESTAMP ORDER BY: each timestamp's changes (queued together by
    // SubscriptionQueue::push) become output rows at once (subscribe_output.hpp).
    while (!output_.plain() && (!q_->items.empty() || !pending_.empty()) && (max_rows == 0 || n < max_rows)) {
      if (pending_.empty()) {
        uint64_t t = q_->items.front().time;
        std::vector<std::pair<Row, int64_t>> changes;
        while (!q_->items.empty() && q_->items.front().time == t) {
          changes.emplace_back(std::move(q_->items.front().row), q_->items.front().diff);
          q_->items.pop_front();
        }
        for (auto& r : output_.rows(std::move(changes))) pending_.emplace_back(t, std::move(r));
        continue;
      }
      auto [t, row] = std::move(pending_.front());
      pending_.pop_front();
      ds.clear();
      ds.push_back(Datum::from_numeric(mz_timestamp_numeric(t)));
      if (progress_) ds.push_back(Datum::from_bool(false));
      row.unpack_into(ds);
      out.push_back(Row::pack(ds));
      ++n;
      last_time_ = t;
    }
    while (output_.plain() && !q_->items.empty() && (max_rows == 0 || n < max_rows)) {
      auto item = std::move(q_->items.front());
      q_->items.pop_front();
      ds.clear();
      ds.push_back(Datum::from_numeric(mz_timestamp_numeric(item.time)));
      if (progress_) ds.push_back(Datum::from_bool(false));
      ds.push_back(Datum::from_int(item.diff));
      item.row.unpack_into(ds);
      out.push_back(Row::pack(ds));
      ++n;
      last_time_ = item.time;
    }
    if (progress_ && q_->items.empty() && pending_.empty() && q_->progress > sent_progress_ && (max_rows == 0 || n < max_rows)) {
      sent_progress_ = q_->progress;
      ds.clear();
      ds.push_back(Datum::from_numeric(mz_timestamp_numeric(sent_progress_)));
      ds.push_back(Datum::from_bool(true));
      ds.push_back(Datum::null());
      for (size_t i = 3; i < columns_.size(); ++i) ds.push_back(Datum::null());
      out.push_back(Row::pack(ds));
    }
    return true;  // a subscription never completes
  }
  std::string command_tag() const override { return "SUBSCRIBE"; }

 private:
  Coordinator::State& cs_;
  std::shared_ptr<SubscriptionQueue> q_;
  std::vector<Column> columns_;
  bool progress_;
  std::optional<uint64_t> temp_;
  const std::atomic<bool>* cancelled_;
  uint64_t sent_progress_ = 0;
  uint64_t last_time_ = 0;
  SubscribeOutput output_;
  std::deque<std::pair<uint64_t, Row>> pending_;  // output rows of a timestamp not yet fetched
};

inline std::atomic<uint64_t> g_next_temp_id{uint64_t{1} << 40};

}  // namespace freshet::server
