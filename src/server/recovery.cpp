// Start-up: the catalog and tables loaded, dataflows rebuilt after a restart, failed dataflows
// retried, sources started.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

// Start-up (see coordinator_state.hpp). Runs before any session exists: no locking needed,
// but the executor's helpers expect the lock's discipline, so it is taken anyway.
void Coordinator::State::recover() {
  std::unique_lock lock(mu);
  auto loaded = persist->load_catalog();
  if (!loaded) throw SqlError(sqlstate::kIoError, "cannot read the catalog: " + loaded.status().message());
  size_t nobjects = loaded->objects.size();
  for (auto& [obj, deps] : loaded->objects) catalog.restore(std::move(obj), deps);
  if (loaded->roles) {
    try {
      catalog.restore_roles(RoleState::from_json(*loaded->roles));
    } catch (const std::exception& e) {
      throw SqlError(sqlstate::kIoError, std::string("the catalog's roles record is unreadable: ") + e.what());
    }
  }
  for (const auto& s : loaded->sources) catalog.note_id(s.id);
  // Tables.
  // As apply_table_diffs keeps them (server/write_path.hpp): by_key under table_row_key (a
  // source table's canonically), and the key constraints of user tables counted under
  // canonical_key_of, so that numeric 1.5 and 1.50, float -0.0 and 0.0, '1 day' and '24 hours'
  // are one key after a restart as before it. (The keys were packed as stored, so such a
  // value was a new key after a restart, and even the same value written the same way could
  // be inserted twice when its packed and canonical forms differ.)
  auto load_row = [&](uint64_t tid, const sql::ObjectInfo* t, Row row, int64_t count) {
        TableData* data = catalog.table_data(tid);
        if (!data) return;
        data->rows[row] += count;
        data->version = next_table_version();
        if (!t->primary_key.empty()) data->set_by_key(table_row_key(*t, row), row);
        if (t->source_id != 0) return;  // source tables' keys are not checked (apply_table_diffs)
        size_t nkeys = (t->primary_key.empty() ? 0 : 1) + t->unique_keys.size();
        if (nkeys == 0) return;
        if (data->key_counts.size() < nkeys) data->key_counts.resize(nkeys);
        std::vector<Datum> ds = row.unpack();
        size_t ki = 0;
        auto count_key = [&](const std::vector<uint32_t>& cols) {
          std::vector<Datum> k;
          bool has_null = false;
          for (auto c : cols) {
            k.push_back(ds[c]);
            has_null |= ds[c].is_null();
          }
          if (!has_null) {
            auto& counts = data->key_counts[ki];
            auto it = counts.try_emplace(canonical_key_of(k, key_types(t, cols)), 0).first;
            it->second += count;
            if (it->second == 0) counts.erase(it);
          }
          ++ki;
        };
        if (!t->primary_key.empty()) count_key(t->primary_key);
        for (const auto& u : t->unique_keys) count_key(u);
      };
  auto find_table = [&](uint64_t id) -> const sql::ObjectInfo* { return catalog.find(id); };
  uint64_t applied_block_seq = 0;
  Status ts = persist->load_tables(load_row, find_table, &applied_block_seq);
  if (!ts) throw SqlError(sqlstate::kIoError, "cannot read the tables: " + ts.message());
  // A transaction block with DDL whose catalog batch (its commit point) is durable and whose
  // table records are not: written now, then the tables are read again (transaction.hpp).
  auto redone = redo_block_commit(*persist, *loaded, applied_block_seq);
  if (!redone) throw SqlError(sqlstate::kIoError, "cannot redo a committed transaction: " + redone.status().message());
  if (*redone) {
    for (const auto& [id, o] : catalog.objects())
      if (TableData* data = catalog.table_data(id)) *data = TableData{};
    ts = persist->load_tables(load_row, find_table);
    if (!ts) throw SqlError(sqlstate::kIoError, "cannot read the tables: " + ts.message());
  }
  last_block_seq = std::max(loaded->block_seq, applied_block_seq);
  // Unique indexes check their tables' writes again (in creation order, as they were built).
  for (const auto& [id, o] : catalog.objects()) {
    if (o->kind != sql::ObjectKind::kIndex || !o->index_unique) continue;
    const sql::ObjectInfo* t = catalog.find(o->index_on);
    TableData* data = catalog.table_data(o->index_on);
    if (t && data) add_unique_index(*t, *data, *o, count_keys(t, *data, o->index_key));
  }
  // Sources: their tables' rows, and the position to resume from.
  for (const auto& s : loaded->sources) {
    auto stmt = sql::parse_streaming(s.create_sql);
    if (!stmt) {
      std::fprintf(stderr, "freshet: source %s: its definition no longer parses; skipped\n", s.name.c_str());
      continue;
    }
    auto entry = std::make_shared<SourceEntry>();
    entry->id = s.id;
    entry->name = s.name;
    entry->create_sql = s.create_sql;
    entry->table_ids = s.table_ids;
    entry->schemas_set = true;
    entry->single_table_named_after_source = s.single_table_named_after_source;
    entry->stopped_tables = s.stopped;
    entry->status.state = "starting";
    std::optional<std::string> checkpoint;
    Status ls = persist->load_source(
        s.id,
        [&](uint32_t table, Row key, Row row) {
          if (table >= entry->table_ids.size() || entry->table_ids[table] == 0) return;
          TableData* data = catalog.table_data(entry->table_ids[table]);
          if (!data) return;
          data->rows[row] += 1;
          data->version = next_table_version();
          data->set_by_key(dataflow::canonical_row(key.ref()), row);
        },
        checkpoint);
    if (!ls) {
      entry->status.state = "error";
      entry->status.last_error = "cannot read the source's data: " + ls.message();
      sources[entry->id] = entry;
      continue;
    }
    try {
      build_source(*this, *stmt, *entry);
    } catch (const SqlError& e) {
      entry->status.state = "error";
      entry->status.last_error = e.message();
      sources[entry->id] = entry;
      continue;
    }
    entry->sink = make_source_sink(*this, entry);
    if (checkpoint) entry->position = *checkpoint;  // shown by mz_source_statuses until the next apply
    sources[entry->id] = entry;
    sources_to_start.push_back({entry, checkpoint});
  }
  // Hydration: indexes on views and materialized views, in creation order, by the restart
  // hydrator after start-up (hydrate_after_restart), while the server serves. Until a view's
  // dataflow is there, reads compute it: a view counts as not maintained (in memory only),
  // a materialized view without its dataflow is computed by snapshot_fn.
  for (const auto& [id, o] : catalog.objects()) {
    sql::ObjectInfo* target = o->kind == sql::ObjectKind::kIndex ? catalog.find(o->index_on) : o.get();
    if (!target || (target->kind != sql::ObjectKind::kView && target->kind != sql::ObjectKind::kMaterializedView)) continue;
    if (o->kind != sql::ObjectKind::kMaterializedView && o->kind != sql::ObjectKind::kIndex) continue;
    if (target->kind == sql::ObjectKind::kView) target->maintained = false;
    std::lock_guard lk(compute_mu);
    restart_pending.push_back({id, target->id, target->name});
  }
  // Sinks: rebuilt from their statements; their threads start with the sources.
  for (const auto& [id, o] : catalog.objects()) {
    if (o->kind != sql::ObjectKind::kSink) continue;
    try {
      auto stmt = sql::parse_streaming(o->definition_sql);
      if (!stmt || stmt->kind != sql::StreamingStatement::Kind::kCreateSink) throw SqlError(sqlstate::kInternalError, "its definition no longer parses");
      auto entry = build_sink(*this, *stmt);
      entry->id = id;
      sinks[id] = entry;
    } catch (const SqlError& e) {
      std::fprintf(stderr, "freshet: sink %s cannot be restored: %s\n", o->name.c_str(), e.message().c_str());
    }
  }
  if (nobjects > 0)
    std::fprintf(stderr, "freshet: restored %zu catalog objects, %zu sources, %zu sinks\n", nobjects, loaded->sources.size(), sinks.size());
}

void Coordinator::State::hydrate_after_restart() {
  size_t total = 0, done_count = 0;
  bool sinks_started = false;
  Session::State dummy;
  std::vector<Type> no_params;
  {
    std::lock_guard lk(compute_mu);
    hydrator_cancel = &dummy.cancelled;  // set at shutdown: the hydration in progress stops
    if (shutting_down) dummy.cancelled = true;
  }
  struct Unregister {
    State& s;
    ~Unregister() {
      std::lock_guard lk(s.compute_mu);
      s.hydrator_cancel = nullptr;
    }
  } unregister{*this};
  while (true) {
    uint64_t id;
    {
      std::unique_lock lk(compute_mu);
      if (shutting_down) break;
      if (restart_pending.empty() && !sinks_started) {
        // Sinks start once what they read is hydrated (after a restart).
        lk.unlock();
        std::vector<std::shared_ptr<SinkEntry>> to_start;
        {
          std::shared_lock lock(mu);
          for (const auto& [sid, e] : sinks) to_start.push_back(e);
        }
        for (auto& e : to_start) start_sink(*this, e);
        sinks_started = true;
        continue;
      }
      // Later: what COMMIT of a transaction block with DDL queues (Executor::commit_block).
      compute_progress_cv.wait(lk, [&] { return !restart_pending.empty() || shutting_down; });
      if (shutting_down) break;
      id = restart_pending.front().object_id;
      total = std::max(total, done_count + restart_pending.size());
    }
    auto t0 = std::chrono::steady_clock::now();
    std::string name;
    size_t rows = 0;
    try {
      DdlLock lock(*this);
      sql::ObjectInfo* o = catalog.find(id);
      sql::ObjectInfo* target = !o ? nullptr : o->kind == sql::ObjectKind::kIndex ? catalog.find(o->index_on) : o;
      if (o && target) {
        name = o->name;
        Executor hx(*this, dummy, {}, no_params);
        std::vector<uint32_t> key = o->kind == sql::ObjectKind::kIndex ? o->index_key : std::vector<uint32_t>{};
        if (Maintained* m = find_maintained(target->id)) {
          // Hydrated already (an earlier index on the same view, or a statement since start-up).
          Maintained* idle = read_maintained(target->id);
          if (idle && !key.empty() && idle->find_index(key) < 0) idle->add_index(key);
          rows = m->records();
        } else {
          const uint64_t tid = target->id;
          try {
            hx.hydrate_for_restart(lock, *target, key);
          } catch (const SqlError& e) {
            if (e.sqlstate() == sqlstate::kAdminShutdown || dummy.cancelled) throw SqlError(sqlstate::kAdminShutdown, "shutting down");
            // Errors are data: the object answers its error (as it did before the restart)
            // until the rows causing it are gone (retry_failed_dataflows).
            std::fprintf(stderr, "freshet: could not hydrate %s, it answers the error until its data allows it: %s\n",
                         name.c_str(), e.message().c_str());
            if (sql::ObjectInfo* t = catalog.find(tid); t && !find_maintained(tid)) {
              Maintained& m = hx.maintain_failed(*t, e);
              if (!key.empty() && m.find_index(key) < 0) m.add_index(key);
            }
          }
          if (sql::ObjectInfo* t = catalog.find(tid); t && t->kind == sql::ObjectKind::kView) t->maintained = true;
          if (Maintained* m2 = find_maintained(tid)) rows = m2->records();
        }
      }
    } catch (const SqlError& e) {
      if (e.sqlstate() == sqlstate::kAdminShutdown) break;
      std::fprintf(stderr, "freshet: %s cannot be served: %s\n", name.c_str(), e.message().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "freshet: %s cannot be served: %s\n", name.c_str(), e.what());
    }
    {
      std::lock_guard lk(compute_mu);
      if (!restart_pending.empty()) restart_pending.pop_front();
    }
    ++done_count;
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
    if (!name.empty())
      std::fprintf(stderr, "freshet: hydrated %s (%zu of %zu): %zu rows in %lld ms\n", name.c_str(), done_count, total, rows,
                   static_cast<long long>(ms));
  }
}

void Coordinator::State::retry_failed_dataflows() {
  auto now = std::chrono::steady_clock::now();
  std::vector<uint64_t> ids;
  {
    std::lock_guard lk(compute_mu);
    for (const auto& m : maintained) {
      Maintained::ComputeState& c = m->compute;
      // At most one attempt per kRetryInterval, and never more than a fifth of the time: a
      // rehydration holds mu exclusively.
      if (c.failed.empty() || !c.retry || c.dropped || now - c.last_retry < std::max<std::chrono::steady_clock::duration>(kRetryInterval, 4 * c.retry_cost))
        continue;
      bool read_by_others = false;
      for (const auto& other : maintained)
        for (auto in : other->inputs()) read_by_others |= in == m->id();
      for (const auto& [id, qs] : subscribers) read_by_others |= id == m->id() && !qs.empty();
      c.retry = false;
      c.last_retry = now;
      if (read_by_others) continue;
      ids.push_back(m->id());
    }
  }
  if (ids.empty()) return;
  wait_compute_idle();  // inputs that are dataflows are read at the newest step
  Session::State dummy;
  std::vector<Type> no_params;
  for (uint64_t id : ids) {
    sql::ObjectInfo* o = catalog.find(id);
    Maintained* old = find_maintained(id);
    if (!o || !old || (o->kind != sql::ObjectKind::kView && o->kind != sql::ObjectKind::kMaterializedView)) continue;
    std::vector<std::vector<uint32_t>> keys;
    for (size_t i = 0; i < old->num_indexes(); ++i) keys.push_back(old->index_columns(i));
    std::string was = old->compute.failed;
    auto t0 = std::chrono::steady_clock::now();
    drop_maintained(id);
    Maintained* m = nullptr;
    try {
      Executor hx(*this, dummy, {}, no_params);
      m = &hx.maintain_for_recovery(*o);
      if (o->kind == sql::ObjectKind::kMaterializedView && persist) {
        // maintain_view stored the new contents; rows stored before that are gone now go too.
        if (auto c = persist->store().get(id)) {
          RowDiffs gone;
          if (auto snap = c->snapshot())
            for (auto& rec : snap->records)
              if (rec.value && m->count_of(rec.key.ref()) == 0) gone.push_back({rec.key, -rec.value->get(0).as_int()});
          if (!gone.empty())
            if (Status ps = persist->write_mv(id, now_ts, gone, [&](const Row& r) { return m->count_of(r.ref()); }); !ps)
              std::fprintf(stderr, "freshet: could not store materialized view %s: %s\n", o->name.c_str(), ps.message().c_str());
        }
      }
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "freshet: dataflow \"%s\" works again (its inputs no longer cause \"%s\"): %zu rows in %lld ms\n",
                   o->name.c_str(), was.c_str(), m->records(), static_cast<long long>(ms));
    } catch (const SqlError& e) {
      try {
        Executor fx(*this, dummy, {}, no_params);
        m = &fx.maintain_failed(*o, e);
        auto t1 = std::chrono::steady_clock::now();
        std::lock_guard lk(compute_mu);
        m->compute.last_retry = t1;  // the next attempt after kRetryInterval (or 4 x its cost)
        m->compute.retry_cost = t1 - t0;
      } catch (const SqlError& e2) {
        std::fprintf(stderr, "freshet: %s cannot be served: %s\n", o->name.c_str(), e2.message().c_str());
        continue;
      }
    }
    for (const auto& k : keys)
      if (m->find_index(k) < 0) m->add_index(k);
  }
}

void Coordinator::State::start_sources() {
  // Sinks are started by the restart hydrator once the dataflows are hydrated.
  hydrator = std::thread([this] { hydrate_after_restart(); });
  auto list = std::move(sources_to_start);
  sources_to_start.clear();
  for (auto& [entry, checkpoint] : list) {
    Status s = entry->source->start(*entry->sink, checkpoint);
    if (!s) {
      std::lock_guard g(entry->mu);
      entry->status.state = "error";
      entry->status.last_error = s.message();
      std::fprintf(stderr, "freshet: source %s could not resume: %s\n", entry->name.c_str(), s.message().c_str());
    }
  }
}

}  // namespace freshet::server
