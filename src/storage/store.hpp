#pragma once
// Store: the collections of one data directory, by numeric id (names are for debugging).
//
//   <data_dir>/LOCK                      flock()ed while a Store has it open (one process only)
//   <data_dir>/collections/<id:020>/     one directory per collection (collection.hpp, README.md)
//
// Creating a collection builds it in "<id>.creating" and renames it into place, so a crash
// leaves either no collection or a complete empty one; dropping renames it to "<id>.dropped"
// before deleting it. open() removes leftovers of both and opens (recovers) every collection.
//
// Threads: one background thread, owned by the Store, compacts collections whose sealed,
// uncompacted ("dirty") bytes have grown to half their compacted ("clean") bytes; it is stopped
// and joined by close() / the destructor. Every public member is thread-safe.

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "storage/collection.hpp"

namespace freshet::storage {

struct StoreOptions {
  CollectionOptions collection;
  bool background_compaction = true;
  std::chrono::milliseconds compaction_interval{10'000};
};

struct CollectionInfo {
  uint64_t id = 0;
  std::string name;
  Bounds bounds;
  CollectionStats stats;
};

class Store {
 public:
  // Opens (creating if needed) a data directory and recovers every collection in it. Fails if
  // another process holds it or a collection cannot be recovered (the message names it).
  static Result<std::unique_ptr<Store>> open(const std::string& data_dir, const StoreOptions& options = {});
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;
  ~Store();  // close()

  // Creates an empty collection. Fails if the id exists.
  Result<std::shared_ptr<Collection>> create(uint64_t id, std::string_view name);
  // The collection with this id, or nullptr.
  std::shared_ptr<Collection> get(uint64_t id) const;
  // Closes the collection and deletes its files. Holders of the shared_ptr can still read what
  // they had (open descriptors) but appends fail.
  Status drop(uint64_t id);
  std::vector<CollectionInfo> list() const;  // by id
  // What recovery did to each collection whose recovery was not clean, as of open().
  std::vector<std::pair<uint64_t, RecoveryReport>> recovery_reports() const;

  // A counter that grows whenever any collection commits (for the Kafka API's Fetch wait);
  // wait_for_data blocks until it exceeds seen, the deadline passes, or the store closes.
  uint64_t data_version() const;
  void wait_for_data(uint64_t seen, std::chrono::steady_clock::time_point deadline) const;

  // One compaction pass over every collection (force: compact any sealed data, not only where
  // the dirty/clean ratio asks for it). Returns the number of collections compacted; errors are
  // reported through last_compaction_error() and do not stop the pass.
  size_t compact_now(bool force = false);
  std::string last_compaction_error() const;

  // Stops the background thread and closes every collection. Idempotent.
  void close();

  const std::string& data_dir() const { return data_dir_; }

 private:
  Store(std::string data_dir, const StoreOptions& options);
  std::string collection_dir(uint64_t id) const;
  void compaction_loop();
  // Adds the listener that bumps data_version_. REQUIRES: mu_ not held (the listener takes it
  // under the collection's listener lock).
  Collection::ListenerId watch(const std::shared_ptr<Collection>& c);

  // Constant after construction.
  const std::string data_dir_;
  const std::string collections_dir_;
  const StoreOptions options_;
  int lock_fd_ = -1;

  mutable std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<Collection>> collections_;  // guarded by mu_
  std::map<uint64_t, Collection::ListenerId> listener_ids_;       // guarded by mu_
  uint64_t data_version_ = 0;                                     // guarded by mu_
  mutable std::condition_variable data_cv_;
  std::vector<std::pair<uint64_t, RecoveryReport>> reports_;     // guarded by mu_
  std::string last_compaction_error_;                            // guarded by mu_
  bool stopping_ = false;                                        // guarded by mu_
  std::condition_variable stop_cv_;
  std::mutex ddl_mu_;  // serializes create/drop (held across their file operations)
  std::thread compactor_;
};

}  // namespace freshet::storage
