#include "server/sources.hpp"

#include <algorithm>

#include "dataflow/update.hpp"
#include "server/coordinator_state.hpp"

namespace freshet::server {
namespace {

class Sink : public capture::SourceSink {
 public:
  Sink(Coordinator::State& st, std::shared_ptr<SourceEntry> e) : st_(st), e_(std::move(e)) {}

  Status set_schemas(const std::vector<capture::TableSchema>& tables) override {
    std::unique_lock lock(st_.mu);
    {
      std::lock_guard g(e_->mu);
      if (e_->dropped) return Status::error("source was dropped");
      if (e_->schemas_set) {
        // Same tables again (a reconnect) is fine; anything else is a schema change.
        bool same = tables.size() == e_->table_ids.size();
        for (size_t i = 0; same && i < tables.size(); ++i) {
          const sql::ObjectInfo* o = st_.catalog.find(e_->table_ids[i]);
          same = o && o->columns.size() == tables[i].columns.size();
          for (size_t c = 0; same && c < tables[i].columns.size(); ++c)
            same = o->columns[c].name == tables[i].columns[c].name && o->columns[c].type.id == tables[i].columns[c].type.id;
        }
        if (same) return Status::ok();
        return Status::error("the upstream schema changed; drop and recreate the source");
      }
    }
    // Check every name first, then create: a clash leaves nothing behind.
    std::vector<std::string> names;
    for (const auto& t : tables) {
      std::string name = t.name;
      if (e_->single_table_named_after_source) name = e_->name;
      if (!e_->wanted_tables.empty()) {
        bool wanted = false;
        for (const auto& [up, as] : e_->wanted_tables)
          if (up == t.upstream_name || up == t.upstream_schema + "." + t.upstream_name) {
            name = as;
            wanted = true;
          }
        if (!wanted) {
          names.push_back("");
          continue;
        }
      }
      if (st_.catalog.lookup("public", name)) return Status::error("catalog item \"" + name + "\" already exists");
      names.push_back(name);
    }
    std::vector<uint64_t> ids;
    for (size_t i = 0; i < tables.size(); ++i) {
      if (names[i].empty()) {
        ids.push_back(0);  // not captured
        continue;
      }
      sql::ObjectInfo obj;
      obj.name = names[i];
      obj.kind = sql::ObjectKind::kTable;
      for (const auto& c : tables[i].columns) obj.columns.push_back({c.name, c.type, c.nullable, std::nullopt});
      obj.primary_key = tables[i].key;
      obj.source_id = e_->id;
      const sql::ObjectInfo& added = st_.catalog.add(std::move(obj));
      ids.push_back(added.id);
      if (e_->id != added.id && e_->id != 0) st_.catalog.add_dependency(added.id, e_->id);
    }
    std::lock_guard g(e_->mu);
    e_->table_ids = std::move(ids);
    e_->schemas_set = true;
    return Status::ok();
  }

  Status apply(capture::Transaction txn) override {
    uint64_t rows = txn.changes.size();
    {
      std::unique_lock lock(st_.mu);
      {
        std::lock_guard g(e_->mu);
        if (e_->dropped) return Status::error("source was dropped");
        if (!e_->schemas_set) return Status::error("transaction before schemas");
      }
      ChangeSet changes;
      for (auto& ch : txn.changes) {
        if (ch.table >= e_->table_ids.size()) return Status::error("change for an unknown table");
        uint64_t tid = e_->table_ids[ch.table];
        if (tid == 0) continue;
        TableData* data = st_.catalog.table_data(tid);
        if (!data) continue;  // dropped meanwhile
        Row key = dataflow::canonical_row(ch.key.ref());
        auto& diffs = changes[tid];
        auto it = data->by_key.find(key);
        if (it != data->by_key.end()) {
          diffs.push_back({it->second, -1});
          auto r = data->rows.find(it->second);
          if (r != data->rows.end() && --r->second == 0) data->rows.erase(r);
          if (ch.op == capture::Change::Op::kDelete) data->by_key.erase(it);
        }
        if (ch.op == capture::Change::Op::kUpsert) {
          diffs.push_back({ch.value, 1});
          data->rows[ch.value] += 1;
          data->by_key[key] = std::move(ch.value);
        }
      }
      for (auto& [id, d] : changes) dataflow::consolidate(d);
      st_.advance(st_.next_write_ts(), std::move(changes));
    }
    uint64_t now = wall_clock_ms();
    std::lock_guard g(e_->mu);
    e_->position = txn.position;
    e_->rows_total += rows;
    if (txn.commit_time_ms > 0) e_->lag_ms = static_cast<int64_t>(now) - static_cast<int64_t>(txn.commit_time_ms);
    if (e_->rate_window_start_ms == 0) e_->rate_window_start_ms = now;
    e_->rate_window_rows += rows;
    if (now - e_->rate_window_start_ms >= 1000) {
      e_->rows_per_second = 1000.0 * static_cast<double>(e_->rate_window_rows) / static_cast<double>(now - e_->rate_window_start_ms);
      e_->rate_window_start_ms = now;
      e_->rate_window_rows = 0;
    }
    if (txn.snapshot) e_->status.snapshot_rows_done += rows;
    if (e_->status.state.empty() || e_->status.state == "starting") e_->status.state = "running";
    return Status::ok();
  }

  void report(const capture::SourceStatus& status) override {
    std::lock_guard g(e_->mu);
    e_->status = status;
  }

 private:
  Coordinator::State& st_;
  std::shared_ptr<SourceEntry> e_;
};

}  // namespace

std::unique_ptr<capture::SourceSink> make_source_sink(Coordinator::State& state, std::shared_ptr<SourceEntry> entry) {
  return std::make_unique<Sink>(state, std::move(entry));
}

}  // namespace freshet::server
