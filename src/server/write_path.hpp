#pragma once
// The write path: how a write transaction — a session's autocommit statement or COMMIT, a
// source's upstream transaction, a Kafka Produce into a table — becomes durable and visible.
//
// Two locks, always taken in this order: State::write_mu (a std::mutex that orders writers and
// DDL) and State::mu (the readers' shared_mutex). A writer
//   1. under write_mu (and mu shared while it reads): evaluates its statement against the
//      tables' newest state, checks constraints and computes its durable records;
//   2. stage_write(), still under write_mu: with mu held exclusively for a moment, takes the
//      transaction's timestamp from the oracle, applies the changes to the tables' newest state
//      and registers them as *unpublished*; then enqueues the records on its collection
//      (storage::Collection::enqueue: the commit order is fixed here, no I/O yet). A bulk
//      insertion (kPrepareRows or more into a table with a primary key) builds its map nodes
//      before taking mu (prepare_insert), so that only linking them in is left under mu;
//   3. releases write_mu: the next writer evaluates on top of this one's changes while this
//      one's records are being written, so concurrent writers share one fdatasync (the
//      collection's group commit);
//   4. finish_write(), holding no lock: waits until the records are durable, then publishes —
//      with mu held exclusively, in commit order, every transaction at the front of the
//      unpublished queue that is durable (its own, and those whose group commit is done although
//      their writers have not woken yet: Persistence::is_durable): its overlay entry goes away
//      (readers now see it) and its changes are queued for the maintained dataflows at its
//      timestamp — and returns once its own transaction is published. Only then is the write
//      acknowledged. The leader of a group commit publishes the whole group before the
//      collection wakes the group's other writers (publish_durable, called by
//      storage::Collection::wait): they wake once and find themselves published. Others that
//      find their write durable but not published queue on State::publish_mu, not on mu, so
//      readers are not held up by a line of would-be publishers, and a publish wakes only the
//      writers it published (a word per write, common/futex.hpp), not every waiting writer.
// No lock is held across an fdatasync, so readers never wait for a disk.
//
// Readers (one-shot SELECTs, SUBSCRIBE and sink snapshots, primary-key lookups) read the tables
// through published_rows() / published_by_key(), which take the unpublished transactions out
// of the newest state again: a reader never sees a write that is not durable, and sees every
// acknowledged one (strict serializable, as before). Writers holding write_mu read the newest
// state directly (so an UPDATE never loses a concurrent, not yet durable UPDATE).
//
// Failure: when a transaction's records cannot be made durable, its collection is poisoned
// (storage/collection.hpp) and every later transaction queued on it fails too. The first of
// them to notice undoes, under write_mu and mu, all unpublished transactions of that
// collection from itself on, newest first, and each is answered with the error.
//
// Known limit: a writer evaluates on the newest state of every table, so a table write that read
// a source table's not yet durable change is kept even if that source transaction later fails
// (the source is then stopped and restarts from its durable position).
//
// Publishing queues the changes as a compute step (compute.cpp): no write waits for a dataflow.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>

#include "common/error.hpp"
#include "server/catalog.hpp"
#include "server/maintained.hpp"
#include "server/persist.hpp"

namespace freshet::server {

// A transaction applied to the tables' newest state and not yet published.
struct UnpublishedWrite {
  uint64_t seq = 0;
  uint64_t ts = 0;
  uint64_t collection = 0;  // where its records go; 0 when there is no data directory
  ChangeSet changes;        // per table: the consolidated row diffs applied to the newest state
  enum class State : uint8_t { kPending, kDurable, kFailed };
  State state = State::kPending;  // guarded by State::mu
  bool undone = false;            // guarded by State::mu
  // Set under State::mu (exclusively) when published; its writer waits on it without a lock
  // (wait_word_change, common/futex.hpp: a futex on this address alone), and publish_ready()
  // wakes exactly the writers it published.
  std::atomic<uint32_t> published{0};
  Status status;                  // guarded by State::mu: the failure, for kFailed
  Persistence::PendingAppend append;
  // Set (release) once `append` is: a publisher reads `append` only after seeing it (acquire).
  std::atomic<bool> has_append{false};
  std::chrono::steady_clock::time_point staged_at;  // for the commit-latency histogram
};

// Wakes the writers of publish_ready(&done)'s writes. REQUIRES: State::mu not held.
void wake_published(const std::vector<std::shared_ptr<UnpublishedWrite>>& done);

// The key under which a table's by_key holds a row: its primary-key columns packed (source
// tables: canonically, as their connectors look them up). REQUIRES: t has a primary key.
Row table_row_key(const sql::ObjectInfo& t, const Row& row);

// The key under which key_counts counts a key constraint's values: the key's datums packed in
// their canonical form (dataflow::append_canonical_key), so that values SQL calls equal are one
// key, as in PostgreSQL's unique indexes: numeric 1.5 and 1.50, float -0.0 and 0.0, intervals
// of equal span ('1 day' and '24 hours', '1 mon' and '30 days'); with the key's types, also
// jsonb numbers ('1.0' and '1', '{"a": 1.50}' and '{"a": 1.5}') and numeric and float arrays
// ('{1.5}' and '{1.50}'), whose text keeps the scale as written (canonical_number_text).
Row canonical_key_of(std::span<const Datum> key, std::span<const Type> types = {});
// The key columns' types of a table (empty when t is null).
std::vector<Type> key_types(const sql::ObjectInfo* t, const std::vector<uint32_t>& cols);

// Applies row diffs to a table's contents and key indexes: removals first, then insertions, so
// that an upsert's -old/+new pair leaves the new row under its key in either order.
// REQUIRES: write_mu held and mu held exclusively (or start-up, single-threaded).
void apply_table_diffs(const sql::ObjectInfo& t, TableData& data, const RowDiffs& diffs);

// A pure insertion into a user table with a primary key (every diff positive: a checked
// INSERT's rows), with what it adds to the table's maps made beforehand: the rows copied, the
// keys made, all of them hashed, the allocations done — all without State::mu, so that
// apply_prepared_insert() under mu exclusively only probes the maps and moves them in.
struct PreparedInsert {
  template <typename V>
  struct Entry {
    uint64_t hash;  // RowMap<V>::hash_of(key)
    Row key;
    V value;
  };
  std::vector<Entry<int64_t>> rows;
  std::vector<Entry<uint32_t>> by_key;  // value unused: the id of rows[i]'s entry is taken
  std::vector<std::vector<Entry<int64_t>>> key_counts;  // as TableData::key_counts
};
// Whether `diffs` can take that path (a user table with a primary key, only insertions).
bool can_prepare_insert(const sql::ObjectInfo& t, const RowDiffs& diffs);
// REQUIRES: write_mu held (the table's constraints and catalog entry do not change).
PreparedInsert prepare_insert(const sql::ObjectInfo& t, const TableData& data, const RowDiffs& diffs);
// The same effect as apply_table_diffs(t, data, diffs) for the diffs `p` was prepared from
// (rows or keys already present are added to as it would). REQUIRES: write_mu and mu held
// exclusively; t's constraints unchanged since prepare_insert.
void apply_prepared_insert(const sql::ObjectInfo& t, TableData& data, PreparedInsert p);

// Unique indexes on tables (TableData::unique_indexes). count_keys: how many of the table's
// rows (or of the diffs, added to counts) have each non-NULL value of the columns;
// check_unique_index throws 23505 "could not create unique index" for a repeated key.
// add_unique_index starts checking `index`'s key with those counts; drop_unique_index stops.
// REQUIRES: write_mu and mu held exclusively (or start-up).
using KeyCounts = KeyCountMap;
// A write of at least this many row changes reserves its hash maps up front (bulk loads).
inline constexpr size_t kBulkRows = 1024;
// A write of at least this many insertions builds its tables' map nodes before taking mu
// (prepare_insert); a smaller one applies its rows under mu directly (the extra maps would
// cost more than they save).
inline constexpr size_t kPrepareRows = 64;
KeyCounts count_keys(const sql::ObjectInfo* t, const TableData& data, const std::vector<uint32_t>& cols);
void count_keys(const sql::ObjectInfo* t, KeyCounts& counts, const RowDiffs& diffs, const std::vector<uint32_t>& cols);
void check_unique_index(const sql::ObjectInfo& t, const std::string& index, const std::vector<uint32_t>& cols,
                        const KeyCounts& counts);
void add_unique_index(const sql::ObjectInfo& t, TableData& data, const sql::ObjectInfo& index, KeyCounts counts);
void drop_unique_index(const sql::ObjectInfo& t, TableData& data, uint64_t index_id);

}  // namespace freshet::server
