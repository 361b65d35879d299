// CREATE INDEX, hydration of maintained dataflows (in the background, without the locks).
#include "server/sequencer/executor.hpp"

#include "common/thread_priority.hpp"

#include <optional>

namespace freshet::server {

namespace {
// How much lower a hydration runs than the sessions (nice values: weight 110 against 1024).
constexpr int kHydrationNiceIncrement = 10;
}  // namespace

std::unique_ptr<Execution> Executor::run_create_index(const PgQuery__IndexStmt* s) {
  DdlLock lock(cs_);
  if (s->relation->catalogname && *s->relation->catalogname && !catalog_->is_current_database(s->relation->catalogname))
    throw SqlError(sqlstate::kFeatureNotSupported, "cross-database references are not implemented: \"" + std::string(s->relation->catalogname) + "\"");
  const ObjectInfo* t = catalog_->lookup(s->relation->schemaname ? s->relation->schemaname : "", s->relation->relname);
  if (!t) throw SqlError(sqlstate::kUndefinedTable, "relation \"" + std::string(s->relation->relname) + "\" does not exist");
  if (t->kind != ObjectKind::kTable && t->kind != ObjectKind::kView && t->kind != ObjectKind::kMaterializedView)
    throw SqlError(sqlstate::kWrongObjectType, "cannot create index on \"" + t->name + "\"");
  if (s->unique && (t->kind != ObjectKind::kTable || t->source_id != 0))
    throw SqlError(sqlstate::kFeatureNotSupported, "unique indexes are supported on tables only")
        .with_hint("A UNIQUE index is a constraint checked by writes; views and source tables take no writes.");
  if (s->unique && s->where_clause) throw SqlError(sqlstate::kFeatureNotSupported, "partial unique indexes are not supported");
  std::vector<uint32_t> key;
  std::string key_names;
  for (size_t i = 0; i < s->n_index_params; ++i) {
    const auto* el = s->index_params[i]->index_elem;
    if (!el->name || !*el->name) throw SqlError(sqlstate::kFeatureNotSupported, "indexes on expressions are not supported; index columns");
    size_t c = 0;
    for (; c < t->columns.size(); ++c)
      if (t->columns[c].name == el->name) break;
    if (c == t->columns.size()) throw SqlError(sqlstate::kUndefinedColumn, "column \"" + std::string(el->name) + "\" does not exist");
    key.push_back(static_cast<uint32_t>(c));
    key_names += (key_names.empty() ? "" : "_") + std::string(el->name);
  }
  std::string name = s->idxname && *s->idxname ? s->idxname : t->name + "_" + (key_names.empty() ? "primary" : key_names) + "_idx";
  if (catalog_->lookup(t->schema, name)) {
    if (s->if_not_exists) return done("CREATE INDEX");
    throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
  }
  return create_index(lock, t->id, name, std::move(key), s->unique, retain_history_option(s->options, s->n_options).value_or(0));
}

void Executor::hydrate_in_background(DdlLock& lock, ObjectInfo& view, const std::vector<uint32_t>& key) {
  // Under the locks: the plan, and a snapshot of its inputs at now_ts; the compute thread logs
  // every later change of the inputs. A table without unpublished writes is taken as its
  // frozen copy (TableData::frozen, shared with one-shot scans; nothing copied when it is
  // current), built when stale with write_mu alone: data.rows only changes under write_mu,
  // and without mu readers (lookups, scans) and publishing (the acknowledgement of durable
  // writes) go on meanwhile. Copying every row under both locks stalled every commit and
  // lookup for seconds at 10M rows (bench/concurrency.sh, "loaded"). Its rows are copied into
  // the dataflow without the locks. Other inputs (a table with unpublished writes, views,
  // system views) are copied here, under both locks.
  const uint64_t id = view.id;
  dataflow::RelExpr plan = plan_for_object(view);
  check_maintainable(plan);
  std::vector<uint64_t> inputs;
  collect_inputs(plan, inputs);
  std::map<uint64_t, const TableData*> freezable;
  for (auto in : inputs) {
    const TableData* t = catalog_->table_data(in);
    const ObjectInfo* o = catalog_->find(in);
    if (!t || !o || o->kind != ObjectKind::kTable || catalog_->system_view(in) || st_.pending.contains(in) ||
        cs_.find_maintained(in))
      continue;
    cs_.check_table_readable(*o);
    bool unpublished = false;
    if (!writer_view_)  // a writer's view reads the newest rows, published or not
      for (const auto& u : cs_.unpublished) unpublished |= !u->undone && u->changes.contains(in);
    if (!unpublished) freezable.emplace(in, t);
  }
  // Holding write_mu, no write is staged (nor undone) meanwhile: the frozen rows are the
  // published ones until write_mu is released, even if earlier writes of other tables are
  // published while mu is free.
  // A view that is a map/filter/project of one such table (Maintained::root_scan: a
  // projection, Nexmark q0 and q1): its output is computed here, from the table's rows, in one
  // copy, instead of the frozen copy and then the dataflow's projection of it (src/server/
  // README.md, "A projection of a table hydrates in one copy").
  std::optional<Maintained::RootScan> root = Maintained::root_scan(plan);
  if (root && !freezable.contains(root->collection_id)) root.reset();
  dataflow::Batch root_output;
  std::map<uint64_t, std::shared_ptr<const FrozenRows>> frozen;
  if (!freezable.empty()) {
    lock.m.unlock();
    try {
      for (const auto& [in, t] : freezable) {
        if (root && in == root->collection_id) root_output = mapped_table_rows(*t, root->stages, ctx_, &st_.cancelled);
        else frozen.emplace(in, Coordinator::State::frozen_rows(*t));
      }
    } catch (...) {
      lock.m.lock();
      throw;
    }
    lock.m.lock();
  }
  std::map<uint64_t, RowDiffs> snap;
  auto sf = snapshot_fn();
  for (auto in : inputs)
    if (!frozen.contains(in) && !(root && in == root->collection_id)) sf(in, [&](const Row& r, int64_t n) { snap[in].push_back({r, n}); });
  auto h = std::make_shared<Coordinator::State::Hydration>();
  h->id = id;
  h->name = view.name;
  h->inputs = inputs;
  h->start_ts = cs_.now_ts;
  {
    std::lock_guard lk(cs_.compute_mu);
    for (const auto& other : cs_.hydrations)
      if (other->id == id)
        throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "\"" + view.name + "\" is being hydrated")
            .with_hint("Wait until its CREATE INDEX or CREATE MATERIALIZED VIEW has finished.");
    h->start_seq = cs_.compute_enqueued_seq;
    cs_.hydrations.push_back(h);
  }
  lock.m.unlock();
  lock.w.unlock();
  auto relock = [&] {
    lock.w.lock();
    lock.m.lock();
  };
  try {
    // Without locks: hydrate, then replay the logged changes until few are left; the compute
    // thread replays the rest and adds the dataflow between two steps. At a lower priority
    // (nice +10 on this thread, common/thread_priority.hpp): the sessions committing and
    // reading meanwhile get the CPU first (bench/README.md, "Concurrency").
    std::optional<LowerThreadPriority> low;
    low.emplace(kHydrationNiceIncrement);
    RowDiffs initial;
    ctx_.logical_time_ms = h->start_ts;
    const bool mv = view.kind == ObjectKind::kMaterializedView;
    // The bulk hydration (maintained.hpp): a table's frozen copy goes in as a batch sharing its
    // row blocks (no row is copied), and the index is built by sorting once the contents are
    // in; the initial rows are made only for a materialized view, which stores them.
    std::vector<std::vector<uint32_t>> index_keys;
    if (!key.empty()) index_keys.push_back(key);
    auto m = std::make_shared<Maintained>(
        id, h->name, std::move(plan), h->start_ts,
        [&](uint64_t cid, uint64_t ts, dataflow::Batch& into) {
          if (auto f = frozen.find(cid); f != frozen.end()) {
            into = f->second->rows;  // shares the blocks
            for (auto& u : into) u.time = ts;
            return;
          }
          const RowDiffs& rows = snap[cid];
          into.reserve(rows.size());
          for (const auto& [r, n] : rows) into.emplace_back(r.ref(), ts, n);
        },
        ctx_, mv ? &initial : nullptr, index_keys, &st_.cancelled,  // a cancel request stops the hydration (57014)
        cs_.shared_arrangements(), root ? &root_output : nullptr);
    m->compute.is_mv = mv;
    auto store = [&](uint64_t ts, const RowDiffs& delta) {
      if (!mv || !cs_.persist || delta.empty()) return;
      Status ps = cs_.persist->write_mv(id, ts, delta, [&](const Row& r) { return m->count_of(r.ref()); });
      if (!ps) throw storage_write_error("could not store materialized view " + h->name, ps);
    };
    store(h->start_ts, initial);
    if (mv && cs_.persist) {
      // After a restart its collection holds what it stored before: rows gone since go.
      RowDiffs gone;
      if (auto c = cs_.persist->store().get(id))
        if (auto stored = c->snapshot())
          for (auto& rec : stored->records)
            if (rec.value && m->count_of(rec.key.ref()) == 0) gone.push_back({rec.key, -1});
      store(h->start_ts, gone);
    }
    snap.clear();
    frozen.clear();  // the copy itself lives on in TableData::frozen until the table changes
    initial.clear();
    m->set_cancel_flag(&st_.cancelled);
    struct Clear {
      Maintained& m;
      ~Clear() { m.set_cancel_flag(nullptr); }  // the drivers step it from here on
    } clear{*m};
    while (true) {
      std::deque<Coordinator::State::ComputeStep> batch;
      {
        std::lock_guard lk(cs_.compute_mu);
        batch.swap(h->log);
      }
      for (auto& e : batch) {
        RowDiffs delta;
        ctx_.logical_time_ms = e.ts;
        m->step(e.ts, e.changes, ctx_, delta);
        store(e.ts, delta);
        arena_.reset();
      }
      if (batch.size() <= 2) break;
    }
    m->set_cancel_flag(nullptr);
    low.reset();  // back to the session's priority before taking compute_mu
    std::unique_lock lk(cs_.compute_mu);
    h->m = m;
    h->ready = true;
    cs_.compute_cv.notify_all();
    cs_.compute_progress_cv.wait(lk, [&] { return h->done || cs_.compute_stopping || cs_.shutting_down; });
    if (!h->done) throw SqlError(sqlstate::kAdminShutdown, "the server is shutting down");
  } catch (...) {
    {
      std::lock_guard lk(cs_.compute_mu);
      std::erase(cs_.hydrations, h);
    }
    cs_.compute_cv.notify_all();
    relock();
    throw;
  }
  relock();
}

std::unique_ptr<Execution> Executor::create_index(DdlLock& lock, uint64_t on_id, const std::string& name, std::vector<uint32_t> key,
                                                  bool unique, uint64_t retain_history_ms) {
  // Indexes on tables change no result and are recorded only; an index on a view or a
  // materialized view arranges its maintained results by the key. A view not yet maintained
  // is hydrated without holding the locks (other statements go on meanwhile).
  ObjectInfo* on = catalog_->find(on_id);
  FRESHET_ASSERT(on != nullptr);
  if (st_.block) {
    // In a transaction block: recorded in the block's catalog; the view is maintained from
    // COMMIT on (until then the block's queries compute it).
  } else if (on->kind == ObjectKind::kView && !cs_.find_maintained(on_id) && st_.txn != TransactionStatus::kInBlock) {
    hydrate_in_background(lock, *on, key);
    on = catalog_->find(on_id);
    if (!on || catalog_->lookup(on->schema, name)) {
      // Dropped, or the index's name taken, while it was being built.
      cs_.drop_maintained(on_id);
      if (!on) throw SqlError(sqlstate::kUndefinedTable, "the view was dropped while its index was being created");
      throw SqlError(sqlstate::kDuplicateTable, "relation \"" + name + "\" already exists");
    }
    if (!on->maintained) {
      on->maintained = true;
      catalog_->updated(on_id);
    }
  } else if (on->kind == ObjectKind::kView || on->kind == ObjectKind::kMaterializedView) {
    if (!cs_.find_maintained(on->id)) check_maintainable(plan_for_object(*on));
    Maintained& m = maintain_view(*on);
    if (m.find_index(key) < 0) m.add_index(key);
  }
  // A unique index on a table: the rows (all of them: write_mu is held, so none is being
  // staged) must not repeat a non-NULL key; writes check it from then on.
  KeyCounts key_counts;
  if (unique && catalog_->table_data(on_id) != nullptr) {  // null: a table created in this block
    key_counts = count_keys(on, *catalog_->table_data(on_id), key);
    check_unique_index(*on, name, key, key_counts);
  }
  ObjectInfo obj;
  obj.schema = on->schema;  // an index lives in its relation's schema
  obj.name = name;
  obj.kind = ObjectKind::kIndex;
  obj.definition_sql = on->name;
  obj.index_on = on->id;
  obj.index_key = std::move(key);
  obj.index_unique = unique;
  obj.retain_history_ms = retain_history_ms;
  for (auto c : obj.index_key) obj.columns.push_back(on->columns[c]);
  const ObjectInfo& idx = catalog_->add(std::move(obj));
  catalog_->add_dependency(idx.id, on_id);
  if (!st_.block && lock.m.owns_lock()) cs_.apply_history_windows();
  // In a transaction block the constraint starts at COMMIT (commit_block), with the index.
  if (unique && !st_.block) add_unique_index(*on, *catalog_->table_data(on_id), idx, std::move(key_counts));
  return done("CREATE INDEX");
}

dataflow::RelExpr Executor::plan_for_object(const ObjectInfo& obj) {
  std::shared_ptr<sql::ParseTree> tree;
  std::vector<Type> no_params;
  sql::Binder binder(*catalog_, no_params);
  dataflow::RelExpr plan;
  catalog_->in_search_path(obj.search_path, [&] {  // as when it was created
    sql::BoundQuery q = bind_query_text(binder, obj.definition_sql, tree);
    plan = sql::optimize(sql::lower(*binder.relation_of(std::move(q))));
  });
  return plan;
}

Maintained& Executor::maintain_view(ObjectInfo& view) {
  if (Maintained* m = cs_.read_maintained(view.id)) return *m;  // idle: its indexes may change
  {
    std::lock_guard lk(cs_.compute_mu);
    for (const auto& h : cs_.hydrations)
      if (h->id == view.id)
        throw SqlError(sqlstate::kObjectNotInPrerequisiteState, "\"" + view.name + "\" is being hydrated")
            .with_hint("Wait until its CREATE INDEX or CREATE MATERIALIZED VIEW has finished.");
  }
  dataflow::RelExpr plan = plan_for_object(view);
  RowDiffs initial;
  ctx_.logical_time_ms = cs_.now_ts;
  auto m = std::make_shared<Maintained>(view.id, view.name, std::move(plan), cs_.now_ts, snapshot_fn(), ctx_, initial, nullptr,
                                        cs_.shared_arrangements());
  m->compute.is_mv = view.kind == ObjectKind::kMaterializedView;
  Maintained& ref = cs_.add_maintained(std::move(m));
  if (view.kind == ObjectKind::kMaterializedView && cs_.persist) {
    Status ps = cs_.persist->create_mv_collection(view.id, "mv:" + view.name);
    if (ps) ps = cs_.persist->write_mv(view.id, cs_.now_ts, initial, [&](const Row& r) { return ref.count_of(r.ref()); });
    if (!ps) throw storage_write_error("could not store materialized view " + view.name, ps);
  }
  if (!view.maintained) {
    view.maintained = true;
    catalog_->updated(view.id);
  }
  return ref;
}

}  // namespace freshet::server
