// A transaction block's reads at one timestamp (src/server/README.md "Transaction blocks").
#include "server/sequencer/executor.hpp"

namespace freshet::server {

bool Executor::block_read_at_ts() {
  if (st_.txn != TransactionStatus::kInBlock || writer_view_ || st_.block || !st_.pending.empty() || as_of_time_)
    return false;
  auto& br = st_.block_reads;
  if (!br.started) {
    // The first read of the block: it reads the published state at now_ts (under mu, which
    // no publication changes while this statement holds it).
    br.started = true;
    br.ts = cs_.now_ts;
    br.version = peek_table_version();
    for (const auto& u : cs_.unpublished)
      if (!u->undone)
        for (const auto& [id, d] : u->changes) br.dirty.push_back(id);
    block_reads_started_here_ = true;
  }
  return true;
}

bool Executor::changed_since_block_ts(uint64_t id, int depth) {
  if (block_reads_started_here_) return false;  // this statement reads at the block's ts
  const auto& br = st_.block_reads;
  if (depth > 64) return true;
  if (catalog_->system_view(id)) return false;  // the catalog is read as it is now
  const ObjectInfo* o = catalog_->find(id);
  if (!o) return true;
  if (o->kind == ObjectKind::kTable) {
    const TableData* t = catalog_->table_data(id);
    // A change staged after the first read took a version from br.version on; one staged
    // before it but published after it is in `dirty`.
    return !t || t->version >= br.version || std::find(br.dirty.begin(), br.dirty.end(), id) != br.dirty.end();
  }
  if (o->kind != ObjectKind::kView && o->kind != ObjectKind::kMaterializedView) return true;
  std::vector<uint64_t> inputs;
  collect_inputs(plan_for_object(*o), inputs);
  for (uint64_t in : inputs)
    if (in != id && changed_since_block_ts(in, depth + 1)) return true;
  return false;
}

std::shared_ptr<const FrozenRows> Executor::block_pin(uint64_t id, const ObjectInfo& o, const TableData& data) {
  auto& br = st_.block_reads;
  if (auto it = br.pinned.find(id); it != br.pinned.end()) return it->second;
  if (changed_since_block_ts(id))
    throw SqlError(sqlstate::kSerializationFailure,
                   "could not read \"" + o.name + "\" at the transaction's timestamp")
        .with_detail("\"" + o.name + "\" changed after the transaction's first read, which did not read it; every read of a transaction block reads at the timestamp of its first read.")
        .with_hint("Read it in the transaction's first statement, or run this read in a new transaction.");
  auto f = cs_.published_frozen(id, data);
  br.pinned.emplace(id, f);
  return f;
}

}  // namespace freshet::server
