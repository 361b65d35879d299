#pragma once
// Collection: a keyed, append-only, durable log of changes (one per table, source table,
// materialized view, and the catalog). On-disk format and durability argument:
// src/storage/README.md.
//
// Writes. append() takes a Batch (one transaction) and returns once it is durable: appenders
// queue up, the first in the queue becomes the leader, writes every queued batch (up to
// CollectionOptions::group_commit_max_bytes) with one pwrite and one fdatasync, and wakes the
// others (group commit, as leveldb's DBImpl::Write). Offsets are assigned in queue order.
// A batch becomes visible to readers only once it is durable, and all at once.
//
// Time. upper() is the durable frontier: every record with a timestamp below it is durable and
// visible, and every later append must have timestamp >= upper(). A batch at t moves the upper to
// max(upper, t, batch.upper_ms); advance_upper() moves it without data (a 20-byte tick frame,
// group-committed with concurrent appends).
//
// Reads. read() for the Kafka API (from an offset, up to a byte budget), scan() to stream a range,
// snapshot() for hydration (newest value per key, deletes removed). wait_for_offset() /
// wait_for_upper() block until new data; add_listener() calls back after each commit.
//
// Compaction (compact()) rewrites the sealed segments keeping the newest record per key and
// preserving offsets (gaps appear, as in Kafka); deletes survive as tombstones for
// tombstone_retention_ms (measured against the upper), then go. Store runs it in the background.
//
// Errors. I/O failures are Statuses. After a failed write or fdatasync the collection is
// poisoned: the failed group and every writer queued behind it fail. The next append (or tick,
// or roll) first heals it: it cuts the active segment back to the end of the last group whose
// fdatasync succeeded (nothing past it was acknowledged; the page cache cannot be trusted for
// it after a failed fsync), syncs, removes a half-made segment of a failed roll and rewrites
// the manifest — the state recovery would reach after a restart. When that fails too (the disk
// is still full) the append fails with the original error and the next one tries again; so a
// full disk makes writes fail (io::is_disk_full tells) and they work again once space returns,
// without a restart. Both events are logged to stderr.
//
// Thread-safety: every public member may be called from any thread concurrently.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "storage/format.hpp"
#include "storage/record.hpp"

namespace freshet::storage {

struct CollectionOptions {
  // A segment is sealed (and a new one started) before a write would take it past this size.
  uint64_t segment_bytes = 64u << 20;
  // A leader writes at most this many bytes of queued batches in one group (at least one batch).
  uint64_t group_commit_max_bytes = 16u << 20;
  // Deletes older than this (upper - timestamp) are dropped by compaction.
  uint64_t tombstone_retention_ms = 24ull * 3600 * 1000;
};

struct Bounds {
  uint64_t start_offset = 0;  // always 0: compaction removes records, never offsets' validity
  uint64_t next_offset = 0;   // one past the last durable record (Kafka's high watermark)
  uint64_t upper_ms = 0;      // durable frontier (see above)
};

struct AppendResult {
  uint64_t first_offset = 0;  // the batch's records have offsets [first_offset, next_offset)
  uint64_t next_offset = 0;
};

struct ReadResult {
  std::vector<Record> records;  // ascending offsets, all < bounds.next_offset
  // Where the next read should start: one past the last record returned, or bounds.next_offset
  // when the range up to it held no records (compacted away).
  uint64_t continue_offset = 0;
  Bounds bounds;                // as of the read
};

struct Snapshot {
  std::vector<Record> records;  // the newest upsert of every live key, in offset order
  Bounds bounds;                // the snapshot holds exactly the records below bounds.next_offset
  std::optional<std::string> checkpoint;  // the source checkpoint as of the snapshot
};

// What recovery found when the collection was opened.
struct RecoveryReport {
  uint64_t tail_frames = 0;           // frames replayed from the tail segment(s)
  uint64_t truncated_bytes = 0;       // bytes cut from a torn or corrupt tail
  std::string truncated_segment;      // the file that was cut, when truncated_bytes > 0
  std::string truncation_reason;      // why the first bad frame was bad
  uint64_t removed_files = 0;         // orphan or torn files deleted (unfinished roll/compaction)
  bool clean() const { return truncated_bytes == 0 && removed_files == 0; }
  std::string to_string() const;
};

struct CompactionReport {
  uint64_t segments_in = 0, segments_out = 0;
  uint64_t bytes_in = 0, bytes_out = 0;
  uint64_t records_in = 0, records_out = 0;
  uint64_t tombstones_dropped = 0;
};

struct CollectionStats {
  uint64_t batches = 0;        // appended batches
  uint64_t records = 0;        // appended records
  uint64_t ticks = 0;          // advance_upper() calls that wrote a tick
  uint64_t groups = 0;         // group commits (pwrite + fdatasync)
  uint64_t fsyncs = 0;         // fdatasync/fsync calls on segments (group commits, rolls, compaction)
  uint64_t bytes_written = 0;  // segment bytes written by appends
  uint64_t segments = 0;       // segment files now
  uint64_t sealed_log_bytes = 0;        // sealed, not yet compacted ("dirty")
  uint64_t sealed_compacted_bytes = 0;  // sealed and compacted ("clean")
  uint64_t compactions = 0;
  uint64_t write_failures = 0;  // groups (or rolls) that failed and poisoned the collection
  uint64_t heals = 0;           // recoveries from such a failure without a reopen
};

class Collection {
 public:
  using Clock = std::chrono::steady_clock;

  // Creates the files of an empty collection in dir (which must exist and be empty): the first
  // segment and the manifest, all fsynced (the caller fsyncs dir's parent after linking dir in).
  [[nodiscard]] static Status initialize(const std::string& dir, uint64_t id, std::string_view name);
  // Opens and recovers a collection (see RecoveryReport). One Collection per directory per
  // process (Store guarantees it; a second process is kept out by Store's LOCK file).
  static Result<std::shared_ptr<Collection>> open(const std::string& dir, const CollectionOptions& options = {});

  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;
  ~Collection();  // close()

  uint64_t id() const { return id_; }
  const std::string& name() const { return name_; }
  const std::string& dir() const { return dir_; }
  const RecoveryReport& recovery_report() const { return recovery_; }

  // ---- writes ----
  // Appends one transaction and returns after it is durable. Fails (nothing written) when the
  // batch breaks a limit (check_batch), when batch.timestamp_ms < upper, or when the collection
  // is closed or poisoned. Blocks for one group commit (about one fdatasync).
  Result<AppendResult> append(Batch batch);
  // The same in two steps, for a caller that orders its appends under a lock of its own but
  // must not hold that lock across the fdatasync (the server's write path): enqueue() checks
  // the batch and fixes its place in the commit order (offsets, timestamps) at once; wait()
  // returns when it is durable, leading a group commit when it is at the queue's front. Every
  // ticket must be waited for, promptly: writers queued behind it wait until it is.
  // A ticket's owner waits on a word of its own (a futex), not under mu_: the leader wakes each
  // member of its group once, without the members taking mu_ again one after another.
  // after_durable: when this wait leads a group that succeeds, it is called on this thread,
  // holding no lock of the collection, after every batch of the group is durable (durable()
  // is true for each) and before the group's other tickets are woken — so a caller can publish
  // the whole group before its members wake (one wake-up per commit; the server's write path).
  // The next group may be written meanwhile. An exception from it is passed on to this wait's
  // caller once the group's tickets are woken.
  struct Ticket;
  Result<std::shared_ptr<Ticket>> enqueue(Batch batch);
  Result<AppendResult> wait(Ticket& ticket, const std::function<void()>& after_durable = {});
  // Whether the ticket's batch is durable already (its group's fdatasync succeeded), without
  // waiting and without mu_: a caller may publish a batch whose owner has not returned from
  // wait() yet. False while queued or after a failure.
  bool durable(const Ticket& ticket) const;
  // Moves the upper to upper_ms (no-op if already there) and returns once that is durable.
  Status advance_upper(uint64_t upper_ms);

  // ---- reads (only durable data is ever visible) ----
  Bounds bounds() const;
  // The checkpoint of the last durable batch that carried one.
  std::optional<std::string> checkpoint() const;
  // Records with offset >= from_offset, in order, until their size_bytes() sum reaches max_bytes
  // (at least one record when there is one) or max_records. Cost: a seek in a sparse in-memory
  // index, then sequential reads.
  Result<ReadResult> read(uint64_t from_offset, size_t max_bytes, size_t max_records = SIZE_MAX) const;
  // Calls fn for each record with from_offset <= offset < to_offset (capped at the durable end
  // as of the call), in offset order, until fn returns false. The view is valid during the call.
  Status scan(uint64_t from_offset, uint64_t to_offset, const std::function<bool(const RecordView&)>& fn) const;
  // The current contents: newest value per key, deletes removed. Memory: the live data.
  Result<Snapshot> snapshot() const;

  // The first offset whose record has timestamp >= timestamp_ms, or next_offset when none
  // (Kafka ListOffsets by time). Timestamps never decrease along the log, so this is a search
  // over segment maxima and a scan of one segment.
  Result<uint64_t> offset_for_time(uint64_t timestamp_ms) const;

  // Block until next_offset > offset (resp. upper > upper_ms), the timeout passes, or the
  // collection is closed. Return the bounds then.
  Bounds wait_for_offset(uint64_t offset, std::chrono::milliseconds timeout) const;
  Bounds wait_for_upper(uint64_t upper_ms, std::chrono::milliseconds timeout) const;
  // fn is called after every commit that moved the bounds, on the committing thread, outside
  // the collection's locks; it must be quick and must not call append() or remove_listener()
  // (a Kafka long-poll would post to its event loop here). remove_listener()
  // returns only when no call to fn is running, and fn is not called after it.
  using ListenerId = uint64_t;
  ListenerId add_listener(std::function<void(const Bounds&)> fn);
  void remove_listener(ListenerId id);

  // ---- maintenance ----
  // Compacts the sealed segments that lie entirely below below_offset (all sealed ones by
  // default). The active segment is never compacted; roll() seals it.
  Result<CompactionReport> compact(uint64_t below_offset = UINT64_MAX);
  // Seals the active segment and starts a new one (no-op when it is empty).
  Status roll();
  // From now on, keeps the file ACKED (format.hpp) at the end of what was acknowledged: after
  // every group commit (one more atomic file write, for collections written rarely: the
  // catalog). Recovery then tells damage in the last frames from a torn write: a tail that ends
  // before ACKED lost acknowledged records, and the collection refuses to open. Kept across
  // reopens (the file's presence turns it on). A failed ACKED write is logged, not an error.
  Status enable_acked_marker();
  CollectionStats stats() const;
  // Stops accepting appends, waits for the commit in flight and a running compaction, wakes
  // waiters. Reads keep working. Idempotent.
  void close();

 private:
  struct Segment;
  struct Writer;
  struct View;
  struct DurableState {
    uint64_t next_offset = 0;
    uint64_t upper_ms = 0;
    std::optional<std::string> checkpoint;
  };

  Collection(std::string dir, const format::Manifest& m, const CollectionOptions& options);
  Status recover(const format::Manifest& m);
  Status submit(Writer& w);
  // After a failed write: returns to a durable, consistent state and clears failed_ (see
  // "Errors" above); ok when not failed. Takes manifest_mu_ and mu_.
  Status heal();
  void poison_locked(const Status& s);  // REQUIRES: mu_ held
  Status submit_enqueue_locked(Writer& w);  // REQUIRES: mu_ held
  // Waits (stack writers) or leads (a writer at the front). after_durable: see wait().
  Status submit_wait_locked(Writer& w, std::unique_lock<std::mutex>& lk, const std::function<void()>* after_durable);
  // Wakes the writer at the queue's front (it leads the next group). REQUIRES: mu_ held.
  void wake_front_locked();
  // Fails every queued writer (leader: s, the others failed_) and empties the queue.
  // REQUIRES: mu_ held, the collection poisoned.
  void fail_queue_locked(const Writer* leader, const Status& s);
  // The leader's work, without mu_: encode, roll when needed, pwrite, fdatasync.
  Status write_group(const std::vector<Writer*>& group, uint64_t& bytes_written);
  Status roll_locked_out();  // called by the leader (or roll() at the queue's front) only
  Status write_manifest();
  format::Manifest manifest_locked() const;  // REQUIRES: mu_ held
  View capture() const;
  Status scan_view(const View& v, uint64_t from, uint64_t to, const std::function<bool(const RecordView&)>& fn) const;
  static Status build_index(Segment& seg);
  Status create_segment(uint64_t seq, format::SegmentKind kind, uint64_t base_offset, std::shared_ptr<Segment>& out);
  void notify_listeners(const Bounds& b);

  // Constant after construction.
  const std::string dir_;
  const uint64_t id_;
  const std::string name_;
  const CollectionOptions options_;
  RecoveryReport recovery_;

  mutable std::mutex mu_;
  mutable std::condition_variable data_cv_;  // signalled after every commit and on close
  // Guarded by mu_.
  std::vector<std::shared_ptr<Segment>> segments_;  // sealed..., active (last)
  std::shared_ptr<Segment> active_;  // written only by the leader (under mu_); the leader reads it freely
  DurableState durable_;             // visible state
  DurableState sealed_;              // state at the end of the sealed segments (for the manifest)
  uint64_t pending_next_offset_ = 0;  // including queued batches
  uint64_t pending_upper_ = 0;
  uint64_t next_seq_ = 1;
  std::deque<Writer*> queue_;
  Status failed_;  // not ok once poisoned (until heal())
  std::string failed_roll_path_;  // a segment file a failed roll left behind, removed by heal()
  std::atomic<bool> acked_marker_{false};  // ACKED is kept (enable_acked_marker)
  bool closed_ = false;
  CollectionStats stats_;

  std::string group_buf_;    // owned by the current leader
  std::mutex manifest_mu_;   // serializes manifest writes (taken before mu_, never inside it)
  std::mutex compaction_mu_; // one compaction at a time (taken before manifest_mu_)

  std::mutex listeners_mu_;
  std::map<ListenerId, std::function<void(const Bounds&)>> listeners_;  // guarded by listeners_mu_
  ListenerId next_listener_id_ = 1;                                      // guarded by listeners_mu_
};

}  // namespace freshet::storage
