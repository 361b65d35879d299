#include "server/transaction.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"

namespace freshet::server {

std::unique_ptr<BlockCatalog> BlockCatalog::make(Catalog& shared) {
  auto b = std::make_unique<BlockCatalog>();
  b->catalog = shared.copy_for_block(shared);
  for (const auto& [id, o] : shared.objects()) b->base[id] = o->name;
  b->hook();
  return b;
}

std::unique_ptr<BlockCatalog> BlockCatalog::copy() const {
  auto b = std::make_unique<BlockCatalog>();
  b->catalog = catalog->clone();
  b->base = base;
  b->touched = touched;
  b->hook();
  return b;
}

void BlockCatalog::hook() {
  // Nothing is written: the block's changes are written at COMMIT, as one batch.
  catalog->on_change = [this](const std::vector<Catalog::Change>& changes) {
    for (const auto& [id, obj] : changes) touched.insert(id);
  };
}

namespace {
[[noreturn]] void conflict(const std::string& detail) {
  throw SqlError(sqlstate::kSerializationFailure, "could not serialize access due to concurrent DDL")
      .with_detail(detail)
      .with_hint("Retry the transaction.");
}
}  // namespace

BlockDiff block_diff(const BlockCatalog& block, Catalog& shared) {
  BlockDiff d;
  const auto& mine = block.catalog->objects();
  std::set<uint64_t> dropped, added;
  for (auto it = block.base.rbegin(); it != block.base.rend(); ++it) {
    const auto& [id, name] = *it;
    if (mine.count(id)) continue;
    if (!shared.find(id)) conflict("\"" + name + "\" was dropped by another transaction.");
    d.dropped.push_back(id);
    dropped.insert(id);
  }
  for (const auto& [id, o] : mine) {
    if (!block.base.count(id)) {
      d.added.push_back(id);
      added.insert(id);
    } else if (block.touched.count(id)) {
      if (!shared.find(id)) conflict("\"" + o->name + "\" was dropped by another transaction.");
      d.changed.push_back(id);
    }
  }
  for (uint64_t id : d.dropped)
    for (const auto* dep : shared.dependents(id))
      if (!dropped.count(dep->id))
        conflict("\"" + dep->name + "\", created by another transaction, depends on \"" + block.base.at(id) + "\".");
  for (uint64_t id : d.added) {
    const sql::ObjectInfo& o = *mine.at(id);
    const sql::ObjectInfo* other = shared.find_same_name(o);
    if (other && !dropped.count(other->id)) conflict("\"" + o.name + "\" was created by another transaction.");
  }
  const std::set<uint64_t> changed(d.changed.begin(), d.changed.end());
  for (uint64_t id : d.changed) {  // renamed in the block: the new name must still be free
    const sql::ObjectInfo* other = shared.find_same_name(*mine.at(id));
    // (Unless the block renamed that one too: ALTER SCHEMA a SWAP WITH b.)
    if (other && other->id != id && !dropped.count(other->id) && !changed.count(other->id)) conflict("\"" + mine.at(id)->name + "\" was created by another transaction.");
  }
  auto check_deps = [&](uint64_t id) {
    for (uint64_t on : block.catalog->dependencies_of(id)) {
      if (added.count(on)) continue;
      if (!shared.find(on) || dropped.count(on))
        conflict("what \"" + mine.at(id)->name + "\" depends on was dropped by another transaction.");
    }
  };
  for (uint64_t id : d.added) check_deps(id);
  for (uint64_t id : d.changed) check_deps(id);
  return d;
}

std::vector<storage::Change> block_catalog_records(const BlockDiff& diff, const BlockCatalog& block, const Persistence& persist) {
  std::vector<storage::Change> out;
  const auto& mine = block.catalog->objects();
  for (uint64_t id : diff.dropped) out.push_back(Persistence::object_delete_record(id));
  for (const auto* ids : {&diff.added, &diff.changed})
    for (uint64_t id : *ids) out.push_back(persist.object_record(*mine.at(id), block.catalog->dependencies_of(id)));
  return out;
}

Result<bool> redo_block_commit(Persistence& persist, const Persistence::LoadedCatalog& loaded, uint64_t applied_seq) {
  if (loaded.block_seq == 0 || loaded.block_seq <= applied_seq) return false;
  std::fprintf(stderr, "freshet: transaction block %llu was committed but its table writes were not all stored: redoing them\n",
               static_cast<unsigned long long>(loaded.block_seq));
  std::vector<storage::Change> changes = loaded.block_redo;
  changes.push_back(Persistence::block_applied_record(loaded.block_seq));
  storage::Batch b;
  b.timestamp_ms = persist.max_upper();
  b.changes = std::move(changes);
  if (Status s = persist.write_tables(b.timestamp_ms, std::move(b.changes)); !s) return s;
  return true;
}

void fault_point(const char* name) {
  static const char* fault = std::getenv("FRESHET_FAULT");
  if (fault != nullptr && std::strcmp(fault, name) == 0) {
    std::fprintf(stderr, "freshet: FRESHET_FAULT=%s reached: exiting as if killed (test only)\n", name);
    std::fflush(stderr);
    _exit(137);
  }
}

}  // namespace freshet::server
