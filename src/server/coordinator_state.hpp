#pragma once
// The coordinator's shared state (private to src/server/): catalog, table contents,
// maintained dataflows, subscriptions, and the timestamp oracle.
//
// Time and consistency: every write transaction gets one timestamp from the oracle
// (next_write_ts: at least the wall clock in ms and greater than every earlier timestamp),
// and is applied to tables and pushed through every maintained dataflow at that timestamp
// before it is acknowledged, under the exclusive lock. A ticker advances all dataflows to the
// wall clock every tick_ms so that temporal filters release their scheduled changes. A read
// runs at `now_ts` (the last timestamp applied), which is at least every acknowledged write's
// timestamp: reads are strict serializable, and a read never waits.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <optional>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <thread>

#include "server/catalog.hpp"
#include "server/coordinator.hpp"
#include "server/maintained.hpp"
#include "server/sinks.hpp"
#include "server/sources.hpp"
#include "server/persist.hpp"
#include "server/write_path.hpp"

namespace freshet::server {

// The queue a SUBSCRIBE reads: changes (time, row, diff) and progress, bounded.
struct SubscriptionQueue {
  std::mutex mu;
  std::condition_variable cv;
  struct Item {
    uint64_t time;
    Row row;
    int64_t diff;
  };
  std::deque<Item> items;        // guarded by mu
  uint64_t progress = 0;         // guarded by mu: every change before this time was delivered
  bool dropped = false;          // guarded by mu: the object went away
  bool overflowed = false;       // guarded by mu
  static constexpr size_t kMaxItems = 4'000'000;
  void push(uint64_t t, const RowDiffs& changes);
  void advance(uint64_t t);
};

struct Coordinator::State {
  // Lock order: write_mu, then mu. write_mu orders writers and DDL (write_path.hpp); mu guards
  // what readers read (held shared by them, exclusively for short publishes and by DDL).
  std::mutex write_mu;
  std::shared_mutex mu;
  Catalog catalog;                                         // guarded by mu
  std::vector<std::unique_ptr<Maintained>> maintained;     // guarded by mu, creation order
  std::map<uint64_t, std::vector<std::weak_ptr<SubscriptionQueue>>> subscribers;  // guarded by mu
  // The last published timestamp: every write at or before it is visible. Written under mu
  // (exclusively); atomic so that the oracle can read it under write_mu alone.
  std::atomic<uint64_t> now_ts = 0;
  // The write path (write_path.hpp).
  std::deque<std::shared_ptr<UnpublishedWrite>> unpublished;  // guarded by mu, commit order
  uint64_t next_write_seq = 1;                                // guarded by mu
  uint64_t last_write_ts = 0;                                 // guarded by mu
  std::condition_variable_any published_cv;                   // with mu: a publish happened
  std::map<uint64_t, std::shared_ptr<SourceEntry>> sources;  // guarded by mu
  std::map<uint64_t, std::shared_ptr<SinkEntry>> sinks;      // guarded by mu, by catalog id
  // Dropped sinks whose threads may still be finishing (joined at shutdown). Guarded by mu.
  std::vector<std::shared_ptr<SinkEntry>> dropped_sinks;
  std::unique_ptr<Persistence> persist;                     // null only in tests without a data dir
  // Dataflows stopped by an evaluation error (e.g. division by zero on new data): reading the
  // object raises the error instead of showing stale or partial results. Guarded by mu.
  std::map<uint64_t, std::string> failed_dataflows;
  uint64_t tick_ms = 100;

  // The oracle: a timestamp for the next write: the wall clock in ms, never less than the last
  // one (transactions in the same millisecond share it). REQUIRES: mu held exclusively.
  uint64_t next_write_ts();

  // The write path (write_path.hpp). stage_write: REQUIRES write_mu held, mu not held. Takes the
  // timestamp, applies changes to the tables' newest state, registers them as unpublished and
  // enqueues batch (its timestamp set here) on collection (0: nothing to store). Throws SqlError
  // when the batch cannot even be enqueued (then nothing stays applied).
  std::shared_ptr<UnpublishedWrite> stage_write(ChangeSet changes, uint64_t collection, storage::Batch batch);
  // REQUIRES: neither lock held. Waits for durability and publication; a failure has been undone
  // when it returns it.
  Status finish_write(const std::shared_ptr<UnpublishedWrite>& w);
  // The published contents of a table (the newest minus what is not yet published).
  // REQUIRES: mu held (shared or exclusively).
  void published_rows(uint64_t table_id, const TableData& data, const std::function<void(const Row&, int64_t)>& emit) const;
  // The published row of a key of a table with a primary key (key as table_row_key makes it).
  // REQUIRES: mu held.
  std::optional<Row> published_by_key(const sql::ObjectInfo& t, const TableData& data, const Row& key) const;
  // Publishes the finished writes at the front of `unpublished`. REQUIRES: mu held exclusively.
  void publish_ready();
  // Undoes the unpublished writes of a collection from seq on, newest first.
  // REQUIRES: write_mu and mu held exclusively.
  void undo_from(uint64_t collection, uint64_t seq, const Status& why);
  // Applies nothing to tables (the caller did) but pushes the changes at time t through every
  // maintained dataflow in order, delivers to subscribers, and sets now_ts = t.
  // REQUIRES: mu held exclusively; t >= now_ts. Throws SqlError from evaluation (the state is
  // then inconsistent for the failing dataflow; it is reported and the dataflow dropped).
  void advance(uint64_t t, ChangeSet changes);
  Maintained* find_maintained(uint64_t id);
  void drop_maintained(uint64_t id);

  // Start-up: the catalog, table contents and sources' data from disk, then hydration of every
  // index and materialized view (progress on stderr). Sources are started by start_sources().
  void recover();
  void start_sources();
  std::vector<std::pair<std::shared_ptr<SourceEntry>, std::optional<std::string>>> sources_to_start;
  // Marks a sink stopped and dropped (its thread removes its dataflow and data as it ends).
  // REQUIRES: mu held exclusively.
  void drop_sink(uint64_t id);

  // Background ticking.
  void start_ticker();
  void stop_ticker();
  std::thread ticker;
  std::mutex ticker_mu;
  std::condition_variable ticker_cv;
  bool stopping = false;  // guarded by ticker_mu
};

uint64_t wall_clock_ms();

}  // namespace freshet::server
