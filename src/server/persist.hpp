#pragma once
// Persistence of the coordinator's state in durable collections (src/storage/):
//
//   collection 1 "catalog"   key ["object", id] -> [json of the ObjectInfo and its dependencies;
//                            a secret's value sealed with AES-256-GCM under the key file
//                            (secret_box.hpp) in "secret_sealed", never in plaintext]
//                            key ["source", id] -> [json of the source: name, CREATE text, tables]
//                            key ["roles", 0] -> [json of the roles, memberships, schema and
//                            database ACLs (roles.hpp; passwords as SCRAM verifiers only)]
//   collection 2 "tables"    the rows of every user table:
//                              with a primary key:  key [table id, key columns...] -> [row...]
//                              without one:         key [table id, row...] -> [count]
//                            (one collection, so a transaction over several tables is one
//                            atomic batch)
//   collection <source id>   the rows of a source's tables: key [table index, key...] -> [row...],
//                            each upstream transaction one batch carrying its upstream position
//                            as the checkpoint (exactly once: position and data are durable
//                            together)
//   collection <mv id>       a materialized view's contents: key [row...] -> [count]
//   collection <sink id>     what a Kafka sink's topic holds: key [0, KEY columns...] -> [row...]
//                            (without a KEY: key [0, row...] -> [count]); checkpoint
//                            "ts=<timestamp>;offsets=<next offset of each partition>", written by
//                            the sink's thread after the broker acknowledged the batch
//                            (write_source / load_source)
//   collection 3 "kafka_offsets"  consumer-group offsets: key [group, topic, partition] -> [offset, metadata];
//                                 [group, "", -1] -> [owner role oid, "owner"] (kafka_backend.cpp)
//   collection 4 "schemas"   schema registry: key [id, subject] -> [version, schema]
//   collection 5 "kafka_topics"   raw Kafka topics (created by clients): key [name] -> [partitions, number]
//   collection 2^48 + number * 1024 + partition
//                            one partition of raw topic `number`: key [kafka offset] ->
//                            [key bytes|NULL, value bytes|NULL, producer timestamp ms,
//                             header name, header value|NULL, ...]; one record per produced
//                            record, so the Kafka offset is the collection offset (dense from 0)
//                            and keys are unique (compaction keeps every record; a null value is
//                            a stored datum, not a delete). Collections in this range without a
//                            topic entry are dropped on start when empty (a crash during a
//                            create), kept and logged otherwise (a delete that did not finish,
//                            or an entry lost to damage).
//
// Every batch is stamped with the Freshet timestamp of the transaction. On start the catalog is
// replayed in id order, tables and source tables are loaded from their snapshots, sources
// resume from their checkpoints, and indexes and materialized views are rebuilt (hydration).
//
// Thread-safety: calls come with the coordinator's mutex held exclusively (writes) — the store
// itself is thread-safe.

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "server/maintained.hpp"
#include "server/secret_box.hpp"
#include "sql/catalog.hpp"
#include "storage/store.hpp"

namespace freshet::server {

struct StoredSource {
  uint64_t id = 0;
  std::string name;
  std::string create_sql;             // the CREATE SOURCE statement
  std::vector<uint64_t> table_ids;    // catalog ids of its tables, in connector order (0: not captured)
  bool single_table_named_after_source = false;
  std::map<uint32_t, std::string> stopped;  // tables whose capture stopped: index -> why
};

class Persistence {
 public:
  static constexpr uint64_t kCatalogCollection = 1;
  static constexpr uint64_t kTablesCollection = 2;
  static constexpr uint64_t kKafkaOffsetsCollection = 3;  // key [group, topic, partition] -> [offset, metadata]
  static constexpr uint64_t kSchemasCollection = 4;       // key [id, subject] -> [version, schema]
  static constexpr uint64_t kKafkaTopicsCollection = 5;   // key [name] -> [partitions, number]
  static constexpr uint64_t kRawTopicCollectionBase = uint64_t{1} << 48;
  static constexpr uint64_t raw_topic_collection(int64_t number, int32_t partition) {
    return kRawTopicCollectionBase + static_cast<uint64_t>(number) * 1024 + static_cast<uint64_t>(partition);
  }

  // secret_key_file: the key that seals CREATE SECRET values (secret_box.hpp); "" means
  // DATA_DIR/secret.key. Created when missing.
  static Result<std::unique_ptr<Persistence>> open(const std::string& data_dir, const std::string& secret_key_file = "");

  // ---- catalog ----
  Status put_object(uint64_t ts, const sql::ObjectInfo& obj, const std::vector<uint64_t>& deps);
  Status delete_object(uint64_t ts, uint64_t id);
  // Several objects' changes in one batch (all durable or none): obj == nullptr deletes.
  struct ObjectChange {
    uint64_t id = 0;
    const sql::ObjectInfo* obj = nullptr;
    std::vector<uint64_t> deps;
  };
  Status write_objects(uint64_t ts, const std::vector<ObjectChange>& changes);
  Status put_source(uint64_t ts, const StoredSource& src);
  // The roles' record (roles.hpp), replacing the last one.
  Status put_roles(uint64_t ts, const std::string& json);
  Status delete_source(uint64_t ts, uint64_t id);
  // The source's record and these objects' records deleted in one batch (DROP SOURCE).
  Status delete_source(uint64_t ts, uint64_t id, const std::vector<uint64_t>& object_ids);
  // Everything stored, objects in id order.
  struct LoadedCatalog {
    std::vector<std::pair<sql::ObjectInfo, std::vector<uint64_t>>> objects;
    std::vector<StoredSource> sources;
    std::optional<std::string> roles;  // RoleState JSON; absent in data directories before roles
    // The last committed transaction block with DDL (transaction.hpp): its number and the
    // records of its table writes, to redo when the tables collection lacks them.
    uint64_t block_seq = 0;
    std::vector<storage::Change> block_redo;
  };
  Result<LoadedCatalog> load_catalog();

  // ---- transaction blocks with DDL (transaction.hpp) ----
  // One catalog batch holds a block's object records and its redo record; its table batch
  // holds the "applied" marker (key [0] in the tables collection: no table has id 0).
  storage::Change object_record(const sql::ObjectInfo& obj, const std::vector<uint64_t>& deps) const;
  static storage::Change object_delete_record(uint64_t id);
  // The roles' record (put_roles's), for a block's catalog batch.
  static storage::Change roles_record(const std::string& json);
  // REQUIRES: the records' total size fits one record (storage::kMaxRecordBytes); checked by
  // the caller, which refuses larger blocks.
  static storage::Change block_redo_record(uint64_t seq, const std::vector<storage::Change>& table_changes);
  static storage::Change block_applied_record(uint64_t seq);
  // Appends one batch to the catalog collection and waits until it is durable.
  Status write_catalog(uint64_t ts, std::vector<storage::Change> changes);

  // ---- user tables ----
  // The records for changed rows of table t: after the change, `current_by_key` (PK tables) or
  // `current_count` (keyless) tell the new state of each touched key.
  static void table_records(const sql::ObjectInfo& t, const RowDiffs& diffs,
                            const std::function<std::optional<Row>(const Row& key)>& current_by_key,
                            const std::function<int64_t(const Row& row)>& current_count, std::vector<storage::Change>& out);
  // The records of rows inserted into a table with a primary key whose keys are new (each key
  // once, none in the table before: a write whose key check passed with only insertions), so
  // each row's record is simply its upsert; no per-key state is looked up (bulk loads).
  // REQUIRES: !t.primary_key.empty(), every diff > 0.
  static void table_insert_records(const sql::ObjectInfo& t, const RowDiffs& diffs, std::vector<storage::Change>& out);
  Status write_tables(uint64_t ts, std::vector<storage::Change> changes);
  // Calls fn(table id, row, count) for every stored row of every user table; sets
  // *applied_block_seq to the last transaction block whose table records are stored.
  Status load_tables(const std::function<void(uint64_t table, const sql::ObjectInfo*, Row row, int64_t count)>& fn,
                     const std::function<const sql::ObjectInfo*(uint64_t)>& lookup, uint64_t* applied_block_seq = nullptr);

  // ---- sources ----
  Status create_source_collection(uint64_t id, const std::string& name);
  Status write_source(uint64_t id, uint64_t ts, std::vector<storage::Change> changes, const std::string& checkpoint);
  // The stored rows (table index, row) and the checkpoint.
  Status load_source(uint64_t id, const std::function<void(uint32_t table, Row key, Row row)>& fn,
                     std::optional<std::string>& checkpoint);

  // ---- materialized views ----
  Status create_mv_collection(uint64_t id, const std::string& name);
  Status write_mv(uint64_t id, uint64_t ts, const RowDiffs& delta, const std::function<int64_t(const Row&)>& count_now);

  // ---- the Kafka API's durable state ----
  Status put_kafka_offset(const std::string& group, const std::string& topic, int32_t partition, int64_t offset,
                          const std::string& metadata);
  Status load_kafka_offsets(const std::function<void(std::string group, std::string topic, int32_t partition, int64_t offset,
                                                     std::string metadata)>& fn);
  Status put_schema(int32_t id, const std::string& subject, int32_t version, const std::string& schema);
  Status load_schemas(const std::function<void(int32_t id, std::string subject, int32_t version, std::string schema)>& fn);

  // Raw Kafka topics: the list (collection 5); the partitions' collections are created and
  // dropped by the caller (CollectionKafkaBackend) through store().
  Status put_raw_topic(const std::string& name, int32_t partitions, int64_t number);
  Status delete_raw_topic(const std::string& name);
  Status load_raw_topics(const std::function<void(std::string name, int32_t partitions, int64_t number)>& fn);

  Status drop_collection(uint64_t id);
  // The greatest id that stored data uses below the raw-topic range (collection ids and the
  // table ids of stored rows, seen by load_tables): ids at or below it are never handed out
  // again, so an object created after a restart never finds leftovers of a dropped one (rows or
  // a collection whose removal failed after the catalog forgot it).
  uint64_t highest_stored_id() const;
  // The greatest durable upper of any collection (restart resumes time after it).
  uint64_t max_upper() const;
  storage::Store& store() { return *store_; }

  // Two-phase appends for the write path (write_path.hpp): enqueue() fixes the batch's place in
  // its collection's commit order and returns at once; wait() returns when it is durable. The
  // batch's timestamp is raised to the collection's upper when below it, as append() does.
  struct PendingAppend {
    std::shared_ptr<storage::Collection> collection;
    std::shared_ptr<storage::Collection::Ticket> ticket;
  };
  Result<PendingAppend> enqueue(uint64_t collection, storage::Batch batch);
  // after_durable: storage::Collection::wait's (called by the leader of a group commit before
  // the group's other writers are woken).
  Status wait(PendingAppend& pending, const std::function<void()>& after_durable = {});
  // Whether the batch is durable already (storage::Collection::durable): no waiting, no lock.
  static bool is_durable(const PendingAppend& pending);

 private:
  explicit Persistence(std::unique_ptr<storage::Store> store) : store_(std::move(store)) {}
  Status append(uint64_t collection, storage::Batch batch);
  std::unique_ptr<storage::Store> store_;
  std::optional<SecretBox> secret_box_;  // set by open()
  uint64_t highest_table_id_seen_ = 0;   // by load_tables
};

// SQLSTATE 53100 disk_full (common/error.hpp's list lacks it; kept here to spare every module a
// rebuild for one constant).
inline constexpr const char* kDiskFullSqlstate = "53100";

// The error a statement answers when a durable write failed: 53100 disk_full when the file
// system is full or over quota (storage::io::is_disk_full), 58030 io_error otherwise. Logged to
// stderr with what was being written. Nothing of the statement took effect (the caller's
// contract); writes work again once space returns (storage/collection.hpp, "Errors").
SqlError storage_write_error(const std::string& what, const Status& s);

}  // namespace freshet::server
