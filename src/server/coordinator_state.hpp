#pragma once
// The coordinator's shared state (private to src/server/): catalog, table contents,
// maintained dataflows, subscriptions, and the timestamp oracle.
//
// Time and consistency: every write transaction gets one timestamp from the oracle
// (next_write_ts: at least the wall clock in ms and never less than the last one) when the write
// path stages it (write_path.hpp); it is acknowledged once durable and published, and published
// writes are queued for the compute thread (compute.cpp), which steps the maintained dataflows.
// A ticker advances time every tick_ms so that temporal filters release their scheduled
// changes. A read runs at `now_ts` (the last published timestamp), which is at least every
// acknowledged write's timestamp; a read of a dataflow waits until that dataflow has processed
// every queued step: reads are strict serializable.

#include <absl/base/thread_annotations.h>

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
#include <unordered_map>

#include "server/catalog.hpp"
#include "server/coordinator.hpp"
#include "server/maintained.hpp"
#include "server/sinks.hpp"
#include "server/sources.hpp"
#include "server/persist.hpp"
#include "server/write_path.hpp"

namespace freshet::server {

// The FrozenRows parts that worker threads scan (published_parts, a block's pinned tables).
dataflow::PartitionedSnapshot frozen_parts(std::shared_ptr<const FrozenRows> frozen, size_t parts);
// The table's newest rows as the shared FrozenRows (built on the first call after a change).
std::shared_ptr<const FrozenRows> newest_frozen(const TableData& data);
// The table's newest rows through a map/filter/project chain (a view that is one, hydrated:
// Maintained::root_scan), as updates at time 0: read from the frozen copy when it is current,
// else straight from the table's map, in parts on the worker pool, without building the
// frozen copy (src/server/README.md, "A projection of a table hydrates in one copy").
// REQUIRES: write_mu held (the rows do not change meanwhile). Throws what evaluating the
// chain throws, and 57014 once *cancelled is set.
dataflow::Batch mapped_table_rows(const TableData& data, const std::vector<dataflow::MfpStage>& stages, const EvalContext& ctx,
                                  const std::atomic<bool>* cancelled);

// The queue a SUBSCRIBE reads: changes (time, row, diff) and progress, bounded.
struct SubscriptionQueue {
  std::mutex mu;
  std::condition_variable cv;
  struct Item {
    uint64_t time;
    Row row;
    int64_t diff;
  };
  std::deque<Item> items ABSL_GUARDED_BY(mu);
  uint64_t progress ABSL_GUARDED_BY(mu) = 0;  // every change before this time was delivered
  bool dropped ABSL_GUARDED_BY(mu) = false;  // the object went away
  bool overflowed ABSL_GUARDED_BY(mu) = false;
  // Compute steps up to this one are in the snapshot the subscription started from: they are
  // not delivered again. Set at registration. Guarded by State::compute_mu.
  uint64_t start_seq = 0;
  static constexpr size_t kMaxItems = 4'000'000;
  void push(uint64_t t, const RowDiffs& changes);
  void advance(uint64_t t);
};

struct Coordinator::State {
  // Lock order: write_mu, then mu. write_mu orders writers and DDL (write_path.hpp); mu guards
  // what readers read (held shared by them, exclusively for short publishes and by DDL).
  std::mutex write_mu;
  std::shared_mutex mu;
  Catalog catalog ABSL_GUARDED_BY(mu);
  // Kept history of tables with RETAIN HISTORY (history.hpp), by table id: recorded when their
  // writes are published (advance).
  std::unordered_map<uint64_t, History> table_history ABSL_GUARDED_BY(mu);
  // Sets every table's and dataflow's history window from the catalog (RETAIN HISTORY of the
  // table, of the materialized view, of the indexes on a view: the largest). REQUIRES: mu held
  // exclusively. Called after DDL and when a dataflow is added (advance notices it).
  void apply_history_windows();
  size_t history_windows_for = 0;  // maintained.size() when last applied; guarded by mu
  // Maintained dataflows, in creation order: changed with mu held exclusively AND compute_mu;
  // read with either. Their contents are read by readers only through read_maintained().
  std::vector<std::shared_ptr<Maintained>> maintained;
  // Who follows which collection's changes (SUBSCRIBE, sinks). Guarded by compute_mu.
  std::map<uint64_t, std::vector<std::weak_ptr<SubscriptionQueue>>> subscribers;
  // The last published timestamp: every write at or before it is visible. Written under mu
  // (exclusively); atomic so that the oracle can read it under write_mu alone.
  std::atomic<uint64_t> now_ts = 0;
  // The write path (write_path.hpp).
  std::deque<std::shared_ptr<UnpublishedWrite>> unpublished ABSL_GUARDED_BY(mu);  // commit order
  uint64_t next_write_seq ABSL_GUARDED_BY(mu) = 1;
  uint64_t last_write_ts ABSL_GUARDED_BY(mu) = 0;
  // The last transaction block with DDL committed (transaction.hpp). Guarded by write_mu.
  uint64_t last_block_seq = 0;
  // Its table records could not be written (they are redone at the next start); until then no
  // other block with DDL may commit, as its redo record would replace this one's.
  bool last_block_unapplied = false;
  std::condition_variable_any published_cv;                   // with mu: a publish happened
  // Taken by a writer before it takes mu to publish (finish_write): the writers of one group
  // commit line up here and all but the first find themselves published without taking mu.
  // Lock order: publish_mu, then mu; never taken with mu or write_mu held.
  std::mutex publish_mu;
  std::map<uint64_t, std::shared_ptr<SourceEntry>> sources ABSL_GUARDED_BY(mu);
  std::map<uint64_t, std::shared_ptr<SinkEntry>> sinks ABSL_GUARDED_BY(mu);  // by catalog id
  // Dropped sinks whose threads may still be finishing (joined at shutdown). Guarded by mu.
  std::vector<std::shared_ptr<SinkEntry>> dropped_sinks;
  std::unique_ptr<Persistence> persist;                     // null only in tests without a data dir
  // Compute (compute.cpp): the drivers step the maintained dataflows, off the write path.
  // Publishing a write (or a tick) enqueues a step, with mu held exclusively; so while a reader
  // holds mu, no step is added and a dataflow that has processed every enqueued step stays as
  // it is: read_maintained() waits for that, and only for the dataflow it reads. Each dataflow
  // advances on its own: a driver takes any dataflow whose next step is queued and whose
  // inputs that are dataflows have processed that step (their output changes of it are then
  // in the step), so a slow dataflow holds back only itself, what reads it, and (through the
  // queue's bound) publishers once kMaxQueuedSteps are waiting for it. A step that changes none
  // of a dataflow's inputs is passed over for it without a driver (skip_idle_steps), so reads
  // of a dataflow wait only for the steps that change what it reads.
  struct ComputeStep {
    uint64_t seq = 0;
    uint64_t ts = 0;
    ChangeSet changes;  // the tables' changes; not changed once queued
    // The output changes of the dataflows that processed this step (those with any), each
    // added by its dataflow under compute_mu and not changed after.
    ChangeSet outputs;
  };
  // Publishers wait, before they take mu, while this many steps are queued (backpressure:
  // wait_for_queue_space); a publish then queues one step per timestamp it publishes.
  static constexpr size_t kMaxQueuedSteps = 256;
  // advance() itself waits (with mu held: readers wait too) only beyond this: the backstop for
  // callers that did not wait first (the ticker, COMMIT of a block with DDL) and for one
  // publish's many steps.
  static constexpr size_t kMaxQueuedStepsHard = 2 * kMaxQueuedSteps;
  std::mutex compute_mu;
  std::condition_variable compute_cv;           // with compute_mu: a step was queued, a dataflow
                                                // finished one, a hydration is ready, or stop
  std::condition_variable compute_progress_cv;  // with compute_mu: a dataflow or step finished
  // Steps not yet processed by every dataflow, in seq order: the front one is
  // compute_done_seq + 1. Guarded by compute_mu.
  std::deque<std::shared_ptr<ComputeStep>> compute_queue;
  uint64_t compute_enqueued_seq ABSL_GUARDED_BY(compute_mu) = 0;  // grows only under mu too
  uint64_t compute_done_seq ABSL_GUARDED_BY(compute_mu) = 0;  // every step up to it done by all
  // ALTER SYSTEM SET unsafe_pause_dataflows = on (a benchmark's hook, bench/nexmark.sh): the
  // drivers step no maintained dataflow while fewer than kMaxQueuedSteps - 1 steps are queued,
  // so writes queue their steps, which the dataflows then process at full speed once it is
  // off ("catch-up"). A full queue is processed anyway, so publishers never wait for it.
  // Hydrations still finish, and steps that change none of a dataflow's inputs are still passed
  // over (skip_idle_steps). Guarded by compute_mu.
  bool dataflows_paused ABSL_GUARDED_BY(compute_mu) = false;
  void set_dataflows_paused(bool on);
  // A dataflow being hydrated outside the locks (CREATE INDEX on a view): from its snapshot on,
  // every finished step's changes of its inputs are logged for it; the hydrating session
  // replays the log, then marks it ready, and a driver replays the rest and adds it to
  // `maintained` between two steps, so that it misses no change and sees none twice.
  struct Hydration {
    uint64_t id = 0;
    std::string name;
    uint64_t start_seq = 0;            // the snapshot holds every step up to this one
    uint64_t start_ts = 0;             // the snapshot's time
    std::vector<uint64_t> inputs;      // collections the dataflow reads
    std::deque<ComputeStep> log ABSL_GUARDED_BY(compute_mu);  // later steps, its inputs' changes
    std::shared_ptr<Maintained> m ABSL_GUARDED_BY(compute_mu);  // set when ready
    bool ready ABSL_GUARDED_BY(compute_mu) = false;
    bool taken ABSL_GUARDED_BY(compute_mu) = false;  // a driver is finishing it
    bool done ABSL_GUARDED_BY(compute_mu) = false;  // added to `maintained`
  };
  // The indexed views' arrangements a new dataflow may read instead of arranging their rows
  // (Maintained::shared_reader; src/server/README.md, "Views over indexed views read the
  // index"). Takes compute_mu: REQUIRES it not held.
  dataflow::RenderOptions::SharedArrangementFn shared_arrangements();
  // Whether m may step its next step: the dataflows reading its arrangement have processed
  // every step it has (a hydration reading it does not hold it). REQUIRES: compute_mu held.
  bool shared_readers_done(const Maintained& m) const;
  // Whether every view m reads as a shared arrangement is maintained, has processed exactly
  // step `seq` and is not stepping: then m may read their indexes at seq (and, once m is in
  // `maintained`, shared_readers_done keeps them there until m has stepped).
  // REQUIRES: compute_mu held.
  bool shared_owners_at(const Maintained& m, uint64_t seq) const;
  std::vector<std::shared_ptr<Hydration>> hydrations ABSL_GUARDED_BY(compute_mu);
  // The time before which a dataflow reflects every write (exclusive), from its progress.
  // REQUIRES: compute_mu held.
  uint64_t frontier_of(const Maintained& m) const;
  bool compute_stopping ABSL_GUARDED_BY(compute_mu) = false;
  std::vector<std::thread> compute_threads;
  void start_compute();
  void stop_compute();  // processes what is queued, then ends the drivers
  void compute_driver();
  // The drivers' helpers. REQUIRES: compute_mu held via lk (released while stepping).
  bool run_one(std::unique_lock<std::mutex>& lk, EvalContext& ctx);
  void finish_hydration(std::unique_lock<std::mutex>& lk, EvalContext& ctx, const std::shared_ptr<Hydration>& h);
  // Retires the steps every dataflow has processed, logging them for hydrations.
  // REQUIRES: compute_mu held.
  void retire_steps();
  // Marks processed, without stepping it, the steps at m's front that change none of its
  // inputs (stepping it would do nothing: Maintained::step returns at once without input
  // unless m is time-dependent), as long as its inputs that are dataflows have processed them
  // without output. Not for a dataflow that is running, failed, dropped or time-dependent.
  // Returns whether it passed over any (the caller retires them). REQUIRES: compute_mu held.
  bool skip_idle_steps(Maintained& m);
  // skip_idle_steps for every dataflow, then retire_steps when any. REQUIRES: compute_mu held.
  bool skip_all_idle_steps();
  // Waits while kMaxQueuedSteps are queued (or until stop). A publisher calls it before it
  // takes mu, so that readers never wait behind a publisher waiting for a slow dataflow.
  // REQUIRES: neither mu nor compute_mu held.
  void wait_for_queue_space();
  // Delivers a step's changes of id to its subscribers. REQUIRES: compute_mu held.
  void deliver(uint64_t id, const ComputeStep& step);
  // The dataflow of id once it has processed every step enqueued so far (null: none). Throws the
  // dataflow's error when it stopped with one; 57014 when cancelled (looked at every 20 ms while
  // waiting). With wait false (a serializable read), as it is now, without waiting: then its
  // contents may be read only with its state_mu held shared (a driver may be stepping it).
  // REQUIRES: mu held (shared or exclusively).
  Maintained* read_maintained(uint64_t id, const std::atomic<bool>* cancelled = nullptr, bool wait = true);
  // Waits until every dataflow has processed every enqueued step. REQUIRES: mu held.
  void wait_compute_idle();
  // Adds a hydrated dataflow: it starts after every step enqueued so far (its snapshot holds
  // them). REQUIRES: mu held exclusively.
  Maintained& add_maintained(std::shared_ptr<Maintained> m);
  // Registers a subscription to id's changes after every step enqueued so far.
  // REQUIRES: mu held exclusively.
  void add_subscriber(uint64_t id, std::shared_ptr<SubscriptionQueue> q);
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
  // The same split into about `parts` parts that worker threads read at once (runs of
  // the table's rows in its node list's order), handing out the table's own rows (stable while the caller keeps
  // mu; nothing is copied). nullopt when unpublished writes touch the table (published_rows
  // then subtracts them) unless `newest` (a writer's view: the newest state as it is).
  // REQUIRES: mu held (shared or exclusively) until the scan is done.
  std::optional<dataflow::PartitionedSnapshot> published_parts(uint64_t table_id, const TableData& data, size_t parts,
                                                               bool newest) const;
  // The published contents of a table as one immutable copy that a transaction block keeps
  // for its later reads (Executor::block_pin): the shared FrozenRows when no unpublished write
  // touches the table, else a copy of published_rows. REQUIRES: mu held.
  std::shared_ptr<const FrozenRows> published_frozen(uint64_t table_id, const TableData& data) const;
  // Whether an unpublished write touches the table. REQUIRES: mu held.
  bool has_unpublished(uint64_t table_id) const;
  // The table's rows as they are now, as its frozen copy (TableData::frozen, built when it is
  // stale: one pass over the hash map into a few contiguous blocks). REQUIRES: nothing changes
  // data.rows meanwhile: mu held (shared or exclusively), or write_mu (every change of a
  // table's rows is staged or undone with write_mu held) — so a DDL statement can build it
  // holding write_mu alone while readers and publishing go on (hydrate_in_background).
  static std::shared_ptr<const FrozenRows> frozen_rows(const TableData& data);
  // The published row of a key of a table with a primary key (key as table_row_key makes it).
  // REQUIRES: mu held.
  std::optional<Row> published_by_key(const sql::ObjectInfo& t, const TableData& data, const Row& key) const;
  // Publishes the finished writes at the front of `unpublished`. REQUIRES: mu held exclusively.
  // Their writers are woken here, or, when `done` is given, collected there for
  // wake_published() once mu is let go.
  void publish_ready(std::vector<std::shared_ptr<UnpublishedWrite>>* done = nullptr);
  // A group commit's leader, once its group is durable (storage::Collection::wait's
  // after_durable): publishes every finished write at the front and wakes their writers that
  // already wait for it. REQUIRES: neither lock held.
  void publish_durable();
  // Undoes the unpublished writes of a collection from seq on, newest first.
  // REQUIRES: write_mu and mu held exclusively.
  void undo_from(uint64_t collection, uint64_t seq, const Status& why);
  // Sets now_ts = t and enqueues the changes at t (the tables' own, already applied) as a
  // compute step, which pushes them through every maintained dataflow in order and delivers to
  // subscribers. Waits while kMaxQueuedStepsHard are queued (publishers wait for
  // kMaxQueuedSteps before they take mu). REQUIRES: mu held exclusively; t >= now_ts.
  void advance(uint64_t t, ChangeSet changes);
  // The dataflow of id, or null; its contents only through read_maintained(). REQUIRES: mu held.
  Maintained* find_maintained(uint64_t id);
  // REQUIRES: mu held exclusively.
  void drop_maintained(uint64_t id);
  // Throws 55000 when t is a source's table whose capture stopped (an incompatible upstream
  // schema change: its rows are no longer current). REQUIRES: mu held. Defined in sources.cpp.
  void check_table_readable(const sql::ObjectInfo& t);
  // Errors in views are data (Materialize's model): a dataflow whose step failed (a division by
  // zero in a row) answers that error to every read, but is not given up: once a change of one
  // of its inputs has been published (the row causing it may be gone), it is rebuilt from its
  // inputs' current contents (rehydrated); it either works again, with exactly the contents of
  // the data now, or answers the new error. The same after a restart: an index or materialized
  // view that cannot hydrate answers its error until its data allows it. Called after
  // publishing and by the ticker; rebuilds at most every kRetryInterval per dataflow, and at most
  // every 4 x the last attempt's duration (a source writing fast into a failed view's input
  // costs one rehydration per interval, not per transaction, and at most a fifth of the time). A failed dataflow that other dataflows read (a view over it, a subscription)
  // is not rebuilt: it stays failed until dropped (they would miss its changes).
  // REQUIRES: mu held exclusively. Defined in recovery.cpp (it hydrates like CREATE INDEX).
  void retry_failed_dataflows();
  static constexpr std::chrono::milliseconds kRetryInterval{250};

  // Start-up: the catalog, table contents and sources' data from disk, then hydration of every
  // index and materialized view (progress on stderr). Sources are started by start_sources().
  void recover();
  void start_sources();  // also starts the restart hydrator, which starts the sinks
  // The indexes and materialized views to hydrate after a restart or after the COMMIT of a
  // transaction block that created them, in creation order; the
  // restart hydrator thread takes them one by one, without holding the locks while a dataflow
  // hydrates. Guarded by compute_mu.
  struct RestartHydration {
    uint64_t object_id = 0;  // the index or materialized view
    uint64_t dataflow_id = 0;  // the view or materialized view whose dataflow it needs
    std::string name;        // the dataflow's
  };
  std::deque<RestartHydration> restart_pending;
  std::thread hydrator;
  bool shutting_down ABSL_GUARDED_BY(compute_mu) = false;  // hydrations give up (57P01)
  std::atomic<bool>* hydrator_cancel ABSL_GUARDED_BY(compute_mu) = nullptr;  // the restart hydrator's flag
  void hydrate_after_restart();
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
  bool stopping ABSL_GUARDED_BY(ticker_mu) = false;
};

uint64_t wall_clock_ms();

}  // namespace freshet::server
