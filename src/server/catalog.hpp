#pragma once
// The catalog: every object by schema and name, with its columns; and the contents of
// tables (in memory until the storage issue makes them durable collections).
//
// Thread-safety: none of its own. The Coordinator guards it with its shared_mutex: readers
// (binding, snapshots) hold it shared, writers (DDL, commits) exclusively.

#include <absl/container/flat_hash_map.h>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/row.hpp"
#include "dataflow/update.hpp"
#include "server/roles.hpp"
#include "server/row_map.hpp"
#include "sql/catalog.hpp"

namespace freshet::server {

// An immutable copy of a table's rows in contiguous blocks (a Batch: packed rows in a few
// large blocks, one (row, time 0, count) update each), taken at one version of the table.
// One-shot scans read it in index ranges on several threads and hand its rows to the
// dataflow without copying them (Coordinator::State::published_parts): the hash map's nodes
// and rows are scattered over the heap, and reading them was most of a scan's time.
struct FrozenRows {
  uint64_t version = 0;
  dataflow::Batch rows;
};
// The newest FrozenRows of a table, built on the first scan after a change and shared (by
// reference count) by every scan until the next change; a scan keeps the copy it took alive,
// so a writer never waits for it. Copying a TableData copies the pointer (same rows, same
// version). Thread-safety: mu_ guards the pointer (readers under State::mu shared race).
class FrozenRowsCache {
 public:
  FrozenRowsCache() = default;
  FrozenRowsCache(const FrozenRowsCache& o) : frozen_(o.get()) {}
  FrozenRowsCache& operator=(const FrozenRowsCache& o) {
    if (this != &o) {
      auto f = o.get();
      std::lock_guard l(mu_);
      frozen_ = std::move(f);
    }
    return *this;
  }
  std::shared_ptr<const FrozenRows> get() const {
    std::lock_guard l(mu_);
    return frozen_;
  }
  // The frozen rows at `version`, built by build() when the cached ones are older (one
  // builder at a time; the others wait for its copy). Frees an older copy.
  std::shared_ptr<const FrozenRows> get_or_build(uint64_t version,
                                                 const std::function<std::shared_ptr<const FrozenRows>()>& build) const {
    std::lock_guard b(build_mu_);
    if (auto f = get(); f && f->version == version) return f;
    auto f = build();
    std::lock_guard l(mu_);
    frozen_ = f;
    return f;
  }
  void clear() {
    std::lock_guard l(mu_);
    frozen_.reset();
  }

 private:
  mutable std::mutex mu_;
  mutable std::mutex build_mu_;
  mutable std::shared_ptr<const FrozenRows> frozen_;
};

// A new version number for a table's rows (unique across tables and resets).
uint64_t next_table_version();
// The version the next change of any table will take: every change after this call has a
// version at least this (a transaction block's first read takes it, Executor::block_pin).
uint64_t peek_table_version();

// A table's rows: a multiset (row -> count), and for each key constraint (the primary key
// first, then UNIQUE constraints) the number of rows per key value, to check uniqueness.
// How many rows have each key of a key constraint. Like the table's rows, a RowMap
// (row_map.hpp): open addressing with the hashes in the index (a bulk INSERT checks and adds
// one key per row, where std::unordered_map's bucket and node chain took 3-4 cache misses a
// lookup), and growth spread over the insertions that follow it, so that no commit rehashes
// the whole table (bench/README.md, "Concurrency").
using KeyCountMap = RowMap<int64_t>;

struct TableData {
  // Every map here is a RowMap (row_map.hpp): its index grows a few slots per insertion, never
  // all at once inside one write's critical section.
  RowMap<int64_t> rows;
  // Per key constraint, in the order checked (the primary key, the UNIQUE constraints, then
  // unique_indexes): how many rows have each non-NULL key. Sized lazily (a table never
  // written may have fewer entries).
  std::vector<KeyCountMap> key_counts;
  // The table's unique indexes (CREATE UNIQUE INDEX), in creation order; in memory only,
  // rebuilt from the index objects at start-up.
  struct UniqueIndex {
    uint64_t index_id = 0;
    std::vector<uint32_t> columns;
    std::string name;
  };
  std::vector<UniqueIndex> unique_indexes;
  // Tables filled by a source: the current row of each (canonical) key.
  // The id of that row's entry in `rows` (RowMap ids are stable while the entry lives): the
  // row is not copied a second time. row_by_key() reads it.
  RowMap<uint32_t> by_key;
  const Row* row_by_key(RowRef key) const {
    auto it = by_key.find(key);
    return it == by_key.end() ? nullptr : &rows.at_id(it->second).first;
  }
  // Points `key` at `row`, which must be in `rows` (else the key is removed).
  void set_by_key(Row key, RowRef row) {
    auto it = rows.find(row);
    if (it == rows.end()) {
      by_key.erase(key);
      return;
    }
    by_key.insert_or_assign(std::move(key), it.id());
  }
  // Written so far (since start): row changes (|diff|) and their encoded bytes, by every
  // writer (sessions, sources, Kafka Produce). Guarded by State::mu (updated where a write is
  // staged, under mu held exclusively anyway); read by /metrics.
  uint64_t rows_written = 0;
  uint64_t bytes_written = 0;
  // Changes with every change of `rows` (apply_table_diffs; start-up recovery), so that
  // `frozen` is known to be stale: next_table_version(), 0 for a table never written.
  uint64_t version = 0;
  FrozenRowsCache frozen;
  size_t size() const {
    size_t n = 0;
    for (const auto& [r, c] : rows) n += static_cast<size_t>(c);
    return n;
  }
};

// System views are computed from the catalog when read.
struct SystemView {
  sql::ObjectInfo info;
  // Emits the rows for the current catalog.
  void (*rows)(const class Catalog& catalog, std::vector<Row>& out) = nullptr;
};

class Catalog : public sql::CatalogView {
 public:
  Catalog();

  // A transaction block's private catalog (transaction.hpp): a copy of this catalog's objects,
  // dependencies and system views, bound to by the block's statements. It holds no table
  // contents of its own: table_data() of a table it shares with `base` is base's (read only
  // through it), and the tables it creates are empty (the block's rows are kept apart). Ids and
  // oids come from `base`, so they never clash with objects created meanwhile.
  // REQUIRES: mu held (shared suffices) while copying; base outlives the copy.
  std::unique_ptr<Catalog> copy_for_block(Catalog& base) const;
  // A copy of a private catalog, for a savepoint; the same base.
  std::unique_ptr<Catalog> clone() const;

  const sql::ObjectInfo* lookup(std::string_view schema, std::string_view name) const override;

  // Schemas (CREATE SCHEMA) and databases (CREATE DATABASE): kSchema / kDatabase objects, or
  // null. builtin_schema: pg_catalog, information_schema, public, mz_catalog, mz_internal.
  const sql::ObjectInfo* find_schema(std::string_view name) const;
  const sql::ObjectInfo* find_database(std::string_view name) const;
  static bool builtin_schema(std::string_view name);
  bool schema_exists(std::string_view name) const { return builtin_schema(name) || find_schema(name) != nullptr; }

  // The search path that unqualified names are looked up in, on this thread: the session's
  // search_path while one of its statements runs (SearchPathScope, set by the session's
  // executor), else {"public"}. A thread-local rather than an argument of lookup() because
  // every binder and catalog reader would otherwise have to carry the session.
  class SearchPathScope {
   public:
    SearchPathScope(std::vector<std::string> path, std::string database);
    ~SearchPathScope();
    SearchPathScope(const SearchPathScope&) = delete;
    SearchPathScope& operator=(const SearchPathScope&) = delete;

   private:
    std::vector<std::string> path_;
    std::string database_;
    const std::vector<std::string>* previous_;
    const std::string* previous_database_;
  };
  static const std::vector<std::string>& search_path();
  // The session's database on this thread (SearchPathScope), else "freshet".
  static const std::string& current_database();
  bool is_current_database(std::string_view name) const override { return name == current_database(); }
  std::vector<std::string> search_path_schemas(std::string_view user) const override {
    std::vector<std::string> out;
    for (const auto& p : search_path()) {
      std::string name = p == "$user" ? std::string(user) : p;
      if (schema_exists(name) && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
    return out;
  }
  void in_search_path(std::string_view search_path, const std::function<void()>& f) const override {
    SearchPathScope scope(search_path.empty() ? std::vector<std::string>{"public"} : parse_search_path(search_path), current_database());
    f();
  }
  // search_path's text (`"$user", public`, `a,b`) as schema names; `$user` is kept (a schema of
  // the user's name, when there is one).
  static std::vector<std::string> parse_search_path(std::string_view text);
  // Where CREATE puts an unqualified name: the first schema of the search path that exists
  // (`$user` as user), or "" when there is none.
  std::string creation_schema(std::string_view user) const;
  const sql::ObjectInfo* lookup_oid(uint32_t oid) const override;
  // Privilege check of every relation a statement reads (roles.hpp, AccessScope): SELECT for
  // the statement's role, or for the view's owner inside a view. Nothing without a scope.
  void check_read(const sql::ObjectInfo& obj, const sql::ObjectInfo* in_view, int position) const override;
  std::optional<std::string> role_name(uint32_t oid) const override;
  std::optional<uint32_t> role_oid(std::string_view name) const override;
  // has_table_privilege & co., pg_has_role (roles.cpp).
  bool has_privilege(char kind, std::string_view user, std::string_view object_name, uint32_t object_oid,
                     std::string_view privilege) const override;

  // 42501 unless `role` may create obj: CREATE on its schema (an index: owning its relation).
  // Catalog::add checks it when a statement's role is set (AccessScope).
  void check_create(const sql::ObjectInfo& obj, uint32_t role) const;
  // Roles, memberships and the schemas' and database's ACLs (roles.hpp). A transaction
  // block's catalog has its own copy, taken when the block's first DDL statement ran.
  const RoleState& roles() const { return roles_; }
  // Changes them durably first (on_roles_change), then in memory; when the write fails
  // nothing changes and the hook's SqlError is thrown. REQUIRES: mu held exclusively. In a
  // block's catalog: its copy only (COMMIT stores and applies it, roles_changed()).
  void change_roles(const std::function<void(RoleState&)>& fn);
  bool roles_changed() const { return roles_changed_; }
  // Counts the shared catalog's role changes: a block whose roles changed commits only when
  // no other change came in meanwhile (else 40001).
  uint64_t roles_version() const { return roles_version_; }
  std::function<void(const RoleState&)> on_roles_change;
  // At start-up: the stored state, no hook.
  void restore_roles(RoleState rs);
  // An oid from the same counter as objects' (roles, like PostgreSQL's, share the space).
  uint32_t allocate_oid() { return base_ != nullptr ? base_->allocate_oid() : next_oid_++; }

  // Every change below is durable before it is visible, or not made at all: the change hook
  // (on_change) writes it and throws SqlError when it cannot (a full disk: 53100), and then the
  // catalog in memory is as it was before the call (an add is taken back, a remove not done,
  // an in-place modification reverted to the stored object).
  //
  // Adds a user object; assigns its oid, and its id unless keep_id (an id from allocate_id()).
  // Returns the stored object.
  sql::ObjectInfo& add(sql::ObjectInfo obj, bool keep_id = false);
  // Re-adds an object as stored (keeping its id and oid) at start-up; no change hook.
  sql::ObjectInfo& restore(sql::ObjectInfo obj, const std::vector<uint64_t>& deps);
  sql::ObjectInfo* find(uint64_t id);
  // Tells the change hook that a found object was modified in place. When that cannot be made
  // durable, the object is put back as last stored (references to it stay valid) and it throws.
  void updated(uint64_t id);
  // Renames an object (ALTER ... RENAME TO) and points the indexes on it at the new name, and
  // gives the views in `definitions` their rewritten SQL text (views naming it), durably in one
  // batch (reverted and throws like the hook when that fails).
  // REQUIRES: the new name is free in the object's schema; the ids of `definitions` exist.
  void rename(uint64_t id, const std::string& new_name, const std::vector<std::pair<uint64_t, std::string>>& definitions = {});
  // Renames a schema (a kSchema object) and moves every object in it, durably in one batch.
  // REQUIRES: the new name is free; nothing names the schema in SQL text (the caller checks).
  void rename_schema(uint64_t schema_id, const std::string& new_name);
  // Exchanges the names of two schemas (Materialize's ALTER SCHEMA a SWAP WITH b) and moves
  // the objects of each into the other's new name, durably in one batch.
  // REQUIRES: both are kSchema objects; nothing names either in SQL text (the caller checks).
  void swap_schemas(uint64_t a_id, uint64_t b_id);
  // COMMIT of a transaction block: the object takes the block's version, whose name may differ.
  // In memory only (the block's records are written already). REQUIRES: id exists.
  void replace_committed(uint64_t id, const sql::ObjectInfo& o);
  // An id for something that is not a catalog object (a source's own state).
  uint64_t allocate_id() { return base_ != nullptr ? base_->allocate_id() : next_id_++; }
  void note_id(uint64_t id) {
    if (id >= next_id_ && id < (uint64_t{1} << 40)) next_id_ = id + 1;
  }
  std::vector<uint64_t> dependencies_of(uint64_t id) const {
    auto it = deps_.find(id);
    return it == deps_.end() ? std::vector<uint64_t>{} : it->second;
  }
  // Called for every change of objects (obj == nullptr: removed), with the coordinator's lock
  // held, before the change is visible to anyone else; it makes all the changes of one call
  // durable together (one batch) and throws SqlError when it cannot.
  using Change = std::pair<uint64_t, const sql::ObjectInfo*>;
  std::function<void(const std::vector<Change>& changes)> on_change;
  // Removes an object: durably first (unless record_removals() did), then in memory.
  void remove(uint64_t id);
  // Makes the removal of several objects durable at once, before any of them is touched in
  // memory (DROP ... CASCADE tears them down afterwards and calls remove() for each, which then
  // writes nothing). Throws like the hook, with nothing changed.
  void record_removals(const std::vector<uint64_t>& ids);
  // The same when the caller made the removals durable itself (in one batch with other records:
  // DROP SOURCE removes the source's record with its tables').
  void removals_recorded(const std::vector<uint64_t>& ids) {
    for (uint64_t id : ids)
      if (objects_.count(id)) removal_recorded_[id] = true;
  }
  // Objects that depend on `id` (views naming it, indexes on it).
  std::vector<const sql::ObjectInfo*> dependents(uint64_t id) const;
  void add_dependency(uint64_t dependent, uint64_t on);

  const std::map<uint64_t, std::unique_ptr<sql::ObjectInfo>>& objects() const { return objects_; }
  TableData* table_data(uint64_t id);
  const TableData* table_data(uint64_t id) const { return const_cast<Catalog*>(this)->table_data(id); }
  const SystemView* system_view(uint64_t id) const;
  const std::vector<SystemView>& system_views() const { return system_views_; }
  // Rows of the arrangement-size relation, filled by the coordinator (it owns the dataflows).
  std::function<void(std::vector<Row>&)> arrangement_rows;
  // Rows of the source-status relation, filled by the coordinator.
  std::function<void(std::vector<Row>&)> source_rows;
  // mz_dataflow_frontiers: (object_id, object_name, frontier_ms, lag_ms, pending_steps,
  // hydrated, error) per maintained dataflow.
  std::function<void(std::vector<Row>&)> dataflow_rows;
  // Rows of the sink-status relation, filled by the coordinator.
  std::function<void(std::vector<Row>&)> sink_rows;
  // mz_kafka_consumer_groups: (group_id, topic, partition, committed_offset, end_offset, lag),
  // filled by the Kafka API's backend while it runs (kafka_backend.hpp).
  std::function<void(std::vector<Row>&)> kafka_group_rows;

  static constexpr uint64_t kFirstUserId = 1 << 20;
  static constexpr uint32_t kFirstUserOid = 16384;
  static constexpr uint32_t kPublicNamespaceOid = 2200;
  static constexpr uint32_t kPgCatalogNamespaceOid = 11;
  static constexpr uint32_t kInformationSchemaNamespaceOid = 13000;
  static constexpr uint32_t kDatabaseOid = 16384 - 1;
  static constexpr uint64_t kFirstMzSchemaId = 9;
  static constexpr const char* kDefaultDatabase = "freshet";
  static uint32_t namespace_oid(const std::string& schema);

 private:
  struct NoSystemViews {};
  explicit Catalog(NoSystemViews) {}
  std::map<uint64_t, std::unique_ptr<sql::ObjectInfo>> objects_;
  std::map<std::pair<std::string, std::string>, uint64_t> by_name_;  // by name_key()
  // The key of an object in by_name_: (schema, name); schemas and databases in namespaces of
  // their own (no relation's schema is empty).
  static std::pair<std::string, std::string> name_key(const sql::ObjectInfo& o);

 public:
  // The object whose name o would take (same kind of namespace), or null.
  const sql::ObjectInfo* find_same_name(const sql::ObjectInfo& o) const {
    auto it = by_name_.find(name_key(o));
    return it == by_name_.end() ? nullptr : objects_.at(it->second).get();
  }

 private:
  std::unordered_map<uint64_t, TableData> tables_;
  std::map<uint64_t, std::vector<uint64_t>> deps_;
  // The object as last made durable (what updated() reverts to when a write fails).
  std::unordered_map<uint64_t, sql::ObjectInfo> stored_;
  std::unordered_map<uint64_t, bool> removal_recorded_;  // by record_removals(), not yet removed
  void erase_in_memory(uint64_t id);
  void write(const std::vector<Change>& changes) {
    if (on_change) on_change(changes);
  }
  std::vector<SystemView> system_views_;
  RoleState roles_;
  bool roles_changed_ = false;  // a block's copy: changed by the block
  uint64_t roles_version_ = 0;  // the shared catalog's count; a block's copy: the count at its start
  uint64_t next_id_ = kFirstUserId;
  // Materialize's per-kind counters (ObjectInfo::mz_id): its schemas s1..s8 and u3 (public)
  // are built in, so user schemas start at u9; its database materialize is u1.
  uint64_t next_mz_schema_id_ = kFirstMzSchemaId;
  uint64_t next_mz_database_id_ = 2;
  // Numbers a kSchema / kDatabase object that has none (new, or stored before mz_id existed).
  void assign_mz_ids(sql::ObjectInfo& o);
  uint32_t next_oid_ = kFirstUserOid + 1;
  // A private catalog's real one (copy_for_block); null for the real catalog.
  Catalog* base_ = nullptr;
};

// Defined in system_views.cpp.
std::vector<SystemView> make_system_views();
// Freshet's own introspection relations (introspection.cpp).
std::vector<SystemView> make_introspection_views(uint64_t first_id);
// Materialize's catalog relations: mz_databases, mz_schemas, mz_tables, ... (mz_catalog_views.cpp).
std::vector<SystemView> make_mz_catalog_views(uint64_t first_id);

}  // namespace freshet::server
