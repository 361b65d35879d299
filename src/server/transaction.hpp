#pragma once
// Transaction blocks with DDL: the block's own catalog, savepoints, and what COMMIT checks and
// writes (the design is in src/server/README.md, "Transaction blocks").
//
// A block's first DDL statement copies the catalog (BlockCatalog): that statement and every
// later one of the block bind against the copy and change it, never the shared catalog, so
// other sessions see nothing of the block until COMMIT. The block's table writes are kept apart
// (Session::State::pending) as they always were. COMMIT takes DdlLock, checks that the block's
// changes still fit the shared catalog (block_diff), writes the catalog records, the records of
// every table write and a redo record as ONE durable batch of the catalog collection (the
// commit point), then writes the table records (with an "applied" marker) to the tables
// collection and applies everything in memory, all under the locks. Start-up redoes a block
// whose catalog batch is durable and whose table batch is not (redo_block_commit).
//
// Thread-safety: a BlockCatalog and the savepoints belong to their session's thread. Functions
// that read the shared catalog say which lock they need.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "server/catalog.hpp"
#include "server/maintained.hpp"
#include "server/persist.hpp"

namespace freshet::server {

// SQLSTATE 3B001 (common/error.hpp has no constant for it yet).
inline constexpr const char* kInvalidSavepointSpecification = "3B001";

struct BlockCatalog {
  std::unique_ptr<Catalog> catalog;          // private: the block's DDL applied
  std::map<uint64_t, std::string> base;      // user objects of the shared catalog when copied: id -> name
  std::set<uint64_t> touched;                // ids the block added or changed (its catalog's change hook)

  // REQUIRES: mu held (shared suffices).
  static std::unique_ptr<BlockCatalog> make(Catalog& shared);
  // A copy with its own catalog (for a savepoint, and to roll back to one).
  std::unique_ptr<BlockCatalog> copy() const;

 private:
  void hook();
};

// SAVEPOINT name: the block's state to go back to.
struct Savepoint {
  std::string name;
  ChangeSet pending;                   // the block's table writes at the savepoint
  std::unique_ptr<BlockCatalog> block;  // its catalog then (null: no DDL yet)
  std::map<std::string, std::string> settings;  // the session's settings then
  std::map<std::string, std::optional<std::string>> local_settings;
};

// What COMMIT does to the shared catalog.
struct BlockDiff {
  std::vector<uint64_t> dropped;  // in the shared catalog, not in the block's: newest first (dependents first)
  std::vector<uint64_t> added;    // created by the block, oldest first (dependencies first)
  std::vector<uint64_t> changed;  // in both, changed by the block
};

// Compares the block's catalog with the shared one and checks that the block can still be
// applied: what it drops or changes still exists, and nothing created meanwhile depends on
// it; the names it creates are still free; what its new objects depend on still exists.
// Throws 40001 (serialization failure) when another session's DDL got in the way.
// REQUIRES: write_mu and mu held exclusively (DdlLock).
BlockDiff block_diff(const BlockCatalog& block, Catalog& shared);

// The catalog collection's records for the diff (puts of added/changed objects with their
// dependencies as the block has them, deletes of dropped ones).
std::vector<storage::Change> block_catalog_records(const BlockDiff& diff, const BlockCatalog& block, const Persistence& persist);

// Start-up, after the catalog and the tables were loaded: when the last committed block's
// table records (redo) are not in the tables collection (applied_seq < its seq), writes them
// there with the marker and returns true (the caller reloads the tables).
Result<bool> redo_block_commit(Persistence& persist, const Persistence::LoadedCatalog& loaded, uint64_t applied_seq);

// Test-only fault points (FRESHET_FAULT=<name> in the environment): the process ends with
// _exit(137), as if killed, when it reaches the named point. Used by
// test/e2e/txn_crash_test.sh; never set it in production.
//   after_durable_before_ack   COMMIT of a block: its catalog batch (the commit point) and
//                              table records are durable, nothing is applied or answered yet
//   after_catalog_before_tables COMMIT of a block with DDL: the catalog batch is durable,
//                              the table records are not written (start-up redoes them)
void fault_point(const char* name);

}  // namespace freshet::server
