#include "server/coordinator.hpp"
#include "server/role_statements.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/error.hpp"
#include "common/format.hpp"
#include "server/coordinator_state.hpp"

namespace freshet::server {

uint64_t wall_clock_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

void SubscriptionQueue::push(uint64_t t, const RowDiffs& changes) {
  std::lock_guard lock(mu);
  if (items.size() + changes.size() > kMaxItems) {
    overflowed = true;
  } else {
    for (const auto& [r, d] : changes) items.push_back({t, r, d});
  }
  cv.notify_all();
}

void SubscriptionQueue::advance(uint64_t t) {
  std::lock_guard lock(mu);
  if (t > progress) progress = t;
  cv.notify_all();
}

Coordinator::Coordinator(CoordinatorOptions options) : options_(std::move(options)), state_(std::make_unique<State>()) {
  state_->now_ts = wall_clock_ms();
  State* st = state_.get();
  if (!options_.data_dir.empty()) {
    auto p = Persistence::open(options_.data_dir, options_.secret_key_file);
    if (!p) throw SqlError(sqlstate::kIoError, "cannot open data directory " + options_.data_dir + ": " + p.status().message());
    st->persist = std::move(p.value());
    for (const auto& [id, report] : st->persist->store().recovery_reports())
      std::fprintf(stderr, "freshet: recovered collection %llu: %s\n", static_cast<unsigned long long>(id), report.to_string().c_str());
    uint64_t upper = st->persist->max_upper();
    if (upper >= st->now_ts) st->now_ts = upper + 1;
    st->recover();
    st->catalog.note_id(st->persist->highest_stored_id());
    // Collections of no catalog object or source: a drop whose removal failed (a full disk), or
    // a catalog record lost to damage (`freshet repair` lists those). Said, never used or dropped.
    for (const auto& info : st->persist->store().list()) {
      if (info.id < Catalog::kFirstUserId || info.id >= Persistence::kRawTopicCollectionBase) continue;
      if (st->catalog.find(info.id) || st->sources.count(info.id)) continue;
      std::fprintf(stderr, "freshet: collection %llu (%s) belongs to no catalog object: dropped while its removal failed, or its "
                           "catalog record was lost (see the output of freshet repair); it is kept and not used\n",
                   static_cast<unsigned long long>(info.id), info.name.c_str());
    }
    st->catalog.on_change = [st](const std::vector<Catalog::Change>& changes) {
      std::vector<Persistence::ObjectChange> out;
      for (const auto& [id, obj] : changes) out.push_back({id, obj, obj ? st->catalog.dependencies_of(id) : std::vector<uint64_t>{}});
      if (Status ps = st->persist->write_objects(st->now_ts, out); !ps)
        throw storage_write_error("could not record a catalog change durably", ps);
    };
  }
  // Roles: the bootstrap superuser and the configured users (role_statements.hpp); front ends
  // look roles up at every login.
  bootstrap_roles(*st, options_.auth);
  options_.auth.login_lookup = [st](const std::string& user) { return login_role(*st, user); };
  st->catalog.arrangement_rows = [st](std::vector<Row>& out) {
    // Called with mu held (shared) by the reader; the sizes are read once the compute thread has
    // caught up (it does not step a dataflow while a reader holds mu and nothing is queued).
    st->wait_compute_idle();
    std::vector<std::shared_ptr<Maintained>> list;
    {
      std::lock_guard lk(st->compute_mu);  // a driver may add a hydrated dataflow meanwhile
      list = st->maintained;
    }
    for (const auto& m : list) {
      const sql::ObjectInfo* o = const_cast<Catalog&>(st->catalog).find(m->id());
      std::string type = !o                                             ? "subscribe"
                         : o->kind == sql::ObjectKind::kMaterializedView ? "materialized-view"
                         : o->kind == sql::ObjectKind::kSink             ? "sink"
                                                                         : "index";
      std::vector<Datum> ds = {Datum::from_int(static_cast<int64_t>(m->id())), Datum::from_string(m->name()),
                               Datum::from_string(type), Datum::from_int(static_cast<int64_t>(m->records())),
                               Datum::from_int(static_cast<int64_t>(m->state_bytes())),
                               Datum::from_int(static_cast<int64_t>(m->arrangement_bytes())),
                               Datum::from_int(static_cast<int64_t>(m->operator_bytes())),
                               Datum::from_int(static_cast<int64_t>(Maintained::budget_bytes()))};
      out.push_back(Row::pack(ds));
    }
  };
  st->catalog.dataflow_rows = [st](std::vector<Row>& out) {
    // Called with mu held (shared) by the reader: the list is stable; progress under compute_mu.
    uint64_t wall = wall_clock_ms();
    std::lock_guard lk(st->compute_mu);
    for (const auto& m : st->maintained) {
      uint64_t frontier = st->frontier_of(*m);
      uint64_t pending = st->compute_enqueued_seq - std::min(st->compute_enqueued_seq, m->compute.processed_seq);
      int64_t lag = wall > frontier ? static_cast<int64_t>(wall - frontier) : 0;
      std::vector<Datum> ds = {Datum::from_int(static_cast<int64_t>(m->id())), Datum::from_string(m->name()),
                               Datum::from_int(static_cast<int64_t>(frontier)), Datum::from_int(lag),
                               Datum::from_int(static_cast<int64_t>(pending)),
                               Datum::from_bool(!over_budget(m->compute)),  // stopped by its budget: state freed
                               m->compute.failed.empty() ? Datum::null() : Datum::from_string(m->compute.failed)};
      out.push_back(Row::pack(ds));
    }
    for (const auto& h : st->hydrations) {  // being hydrated (CREATE INDEX in progress)
      int64_t lag = wall > h->start_ts ? static_cast<int64_t>(wall - h->start_ts) : 0;
      std::vector<Datum> ds = {Datum::from_int(static_cast<int64_t>(h->id)), Datum::from_string(h->name),
                               Datum::from_int(static_cast<int64_t>(h->start_ts)), Datum::from_int(lag),
                               Datum::from_int(static_cast<int64_t>(h->log.size())), Datum::from_bool(false), Datum::null()};
      out.push_back(Row::pack(ds));
    }
    std::vector<uint64_t> shown;
    for (const auto& p : st->restart_pending) {  // waiting for the restart hydrator
      bool started = std::find(shown.begin(), shown.end(), p.dataflow_id) != shown.end();
      for (const auto& h : st->hydrations) started |= h->id == p.dataflow_id;
      for (const auto& m : st->maintained) started |= m->id() == p.dataflow_id;
      if (started) continue;
      shown.push_back(p.dataflow_id);
      std::vector<Datum> ds = {Datum::from_int(static_cast<int64_t>(p.dataflow_id)), Datum::from_string(p.name), Datum::from_int(0),
                               Datum::from_int(0), Datum::from_int(0), Datum::from_bool(false), Datum::null()};
      out.push_back(Row::pack(ds));
    }
  };
  st->catalog.source_rows = [st](std::vector<Row>& out) {
    uint64_t now = wall_clock_ms();
    for (const auto& [id, e] : st->sources) {
      std::lock_guard g(e->mu);
      // The source's own error, else the tables whose capture stopped (the source runs on).
      std::string last_error = e->status.last_error;
      if (last_error.empty())
        for (const auto& [i, why] : e->stopped_tables) last_error += (last_error.empty() ? "" : "; ") + why;
      std::vector<Datum> ds = {Datum::from_string(e->name), Datum::from_string(e->type), Datum::from_string(e->status.state),
                               Datum::from_int(static_cast<int64_t>(e->status.snapshot_rows_done)),
                               Datum::from_int(static_cast<int64_t>(e->status.snapshot_rows_total)),
                               e->lag_ms < 0 ? Datum::null() : Datum::from_int(e->lag_ms),
                               // a source that has been quiet for 5 s has no current rate
                               Datum::from_float(now - e->rate_window_start_ms > 5000 ? 0.0 : e->rows_per_second),
                               Datum::from_int(static_cast<int64_t>(e->rows_total)),
                               e->position.empty() ? Datum::null() : Datum::from_string(e->position),
                               last_error.empty() ? Datum::null() : Datum::from_string(last_error)};
      out.push_back(Row::pack(ds));
    }
  };
  st->catalog.sink_rows = [st](std::vector<Row>& out) {
    for (const auto& [id, e] : st->sinks) {
      std::lock_guard g(e->mu);
      std::vector<Datum> ds = {Datum::from_string(e->name), Datum::from_string("kafka"), Datum::from_string(e->state),
                               Datum::from_string(e->from_name), Datum::from_string(e->topic.topic),
                               Datum::from_int(static_cast<int64_t>(e->messages_total)),
                               e->committed_ts == 0 ? Datum::null() : Datum::from_int(static_cast<int64_t>(e->committed_ts)),
                               e->position.empty() ? Datum::null() : Datum::from_string(e->position),
                               e->last_error.empty() ? Datum::null() : Datum::from_string(e->last_error)};
      out.push_back(Row::pack(ds));
    }
  };
  state_->start_compute();
  state_->start_ticker();
  state_->start_sources();
}

Coordinator::~Coordinator() {
  // The restart hydrator first: it stops after the hydration in progress (which ends at once
  // when the drivers are stopping).
  {
    std::lock_guard lk(state_->compute_mu);
    state_->shutting_down = true;
    if (state_->hydrator_cancel) *state_->hydrator_cancel = true;
  }
  state_->compute_progress_cv.notify_all();
  if (state_->hydrator.joinable()) state_->hydrator.join();
  // Stop connector threads first (they call into the state), without holding the lock.
  std::vector<std::shared_ptr<SourceEntry>> sources;
  {
    std::unique_lock lock(state_->mu);
    for (auto& [id, e] : state_->sources) {
      std::lock_guard g(e->mu);
      e->dropped = true;
      sources.push_back(e);
    }
  }
  std::vector<std::shared_ptr<SinkEntry>> sinks;
  {
    std::unique_lock lock(state_->mu);
    for (auto& [id, e] : state_->sinks) sinks.push_back(e);
    for (auto& e : state_->dropped_sinks) sinks.push_back(e);
    for (auto& e : sinks) e->stop = true;
  }
  for (auto& e : sinks) join_sink(*e);
  for (auto& e : sources)
    if (e->source) e->source->stop();
  state_->stop_ticker();
  state_->stop_compute();
}

uint64_t Coordinator::State::next_write_ts() {
  // Transactions within one millisecond share it (each is still applied whole), so that a
  // high commit rate does not push timestamps ahead of the clock.
  // Every timestamp handed out counts (also DDL's), so that none is ever handed out lower.
  last_write_ts = std::max({wall_clock_ms(), now_ts.load(), last_write_ts});
  return last_write_ts;
}

Maintained* Coordinator::State::find_maintained(uint64_t id) {
  std::lock_guard lk(compute_mu);  // a driver may add a hydrated dataflow meanwhile
  for (auto& m : maintained)
    if (m->id() == id) return m.get();
  return nullptr;
}

void Coordinator::State::drop_maintained(uint64_t id) {
  std::lock_guard lk(compute_mu);
  for (auto it = maintained.begin(); it != maintained.end(); ++it)
    if ((*it)->id() == id) {
      (*it)->compute.dropped = true;
      maintained.erase(it);
      break;
    }
  auto s = subscribers.find(id);
  if (s != subscribers.end()) {
    for (auto& w : s->second)
      if (auto q = w.lock()) {
        std::lock_guard lock(q->mu);
        q->dropped = true;
        q->cv.notify_all();
      }
    subscribers.erase(s);
  }
  compute_progress_cv.notify_all();
}

void Coordinator::State::drop_sink(uint64_t id) {
  auto it = sinks.find(id);
  if (it == sinks.end()) return;
  it->second->dropped = true;
  it->second->stop = true;
  dropped_sinks.push_back(it->second);
  sinks.erase(it);
}

void Coordinator::State::apply_history_windows() {
  history_windows_for = maintained.size();
  const uint64_t now = now_ts;
  // A table's window: its own, or an index's on it (the largest).
  std::unordered_map<uint64_t, uint64_t> table_window;
  for (const auto& [id, o] : catalog.objects()) {
    if (o->kind == sql::ObjectKind::kTable && o->retain_history_ms != 0) table_window[id] = std::max(table_window[id], o->retain_history_ms);
    if (o->kind == sql::ObjectKind::kIndex && o->retain_history_ms != 0)
      if (const sql::ObjectInfo* on = catalog.find(o->index_on); on && on->kind == sql::ObjectKind::kTable)
        table_window[on->id] = std::max(table_window[on->id], o->retain_history_ms);
  }
  for (const auto& [id, w] : table_window) table_history[id].set_window(w, now);
  for (auto it = table_history.begin(); it != table_history.end();) {
    if (!table_window.count(it->first)) it = table_history.erase(it);
    else ++it;
  }
  for (const auto& m : maintained) {
    uint64_t window = 0;
    if (const sql::ObjectInfo* o = catalog.find(m->id())) {
      if (o->kind == sql::ObjectKind::kMaterializedView) window = o->retain_history_ms;
      for (const sql::ObjectInfo* d : catalog.dependents(m->id()))
        if (d->kind == sql::ObjectKind::kIndex && d->index_on == m->id()) window = std::max(window, d->retain_history_ms);
    }
    std::unique_lock sl(m->state_mu);
    m->history_now = std::max(m->history_now, now);
    m->history.set_window(window, now);
  }
}

void Coordinator::State::advance(uint64_t t, ChangeSet changes) {
  FRESHET_ASSERT(t >= now_ts);
  now_ts = t;
  // Kept history (RETAIN HISTORY): tables' published changes; a new dataflow's window.
  if (!table_history.empty())
    for (const auto& [id, d] : changes)
      if (auto it = table_history.find(id); it != table_history.end()) it->second.record(t, d, t);
  if (maintained.size() != history_windows_for) apply_history_windows();
  std::unique_lock lk(compute_mu);
  for (const auto& m : maintained) {
    if (m->compute.failed.empty() || m->compute.retry || over_budget(m->compute)) continue;  // budget: not retried
    for (uint64_t in : m->inputs())
      if (changes.count(in)) m->compute.retry = true;
  }
  bool any_time_dependent = false;
  for (const auto& m : maintained) any_time_dependent |= m->time_dependent();
  // Nothing to step: no dataflow reads these changes or needs the time, nobody follows them,
  // no dataflow is being hydrated (it must get every change after its snapshot).
  bool needed = !subscribers.empty() || !hydrations.empty() || any_time_dependent || (!changes.empty() && !maintained.empty());
  if (!needed) return;
  // Publishers wait for queue space before they take mu (wait_for_queue_space); this is the
  // backstop for the other callers (the ticker, COMMIT of a block with DDL) and for the steps
  // of one publish, so that the queue stays bounded even when they outrun the dataflows.
  compute_progress_cv.wait(lk, [&] { return compute_queue.size() < kMaxQueuedStepsHard || compute_stopping; });
  auto step = std::make_shared<ComputeStep>(ComputeStep{++compute_enqueued_seq, t, std::move(changes), {}});
  compute_queue.push_back(step);
  // Followers of collections that are not dataflows (tables) get the step now; those of
  // dataflows get it from their dataflow once it has processed the step.
  std::vector<uint64_t> ids;
  for (const auto& [id, qs] : subscribers) {
    bool is_dataflow = false;
    for (const auto& m : maintained) is_dataflow |= m->id() == id;
    if (!is_dataflow) ids.push_back(id);
  }
  for (uint64_t id : ids) deliver(id, *step);
  // Dataflows that were caught up and whose inputs this step does not change are done with it
  // at once: reads of them need not wait for a driver, and the step retires without them.
  skip_all_idle_steps();
  retire_steps();  // with no dataflow at all, nothing else would
  compute_cv.notify_all();
}

void Coordinator::State::wait_for_queue_space() {
  std::unique_lock lk(compute_mu);
  compute_progress_cv.wait(lk, [&] { return compute_queue.size() < kMaxQueuedSteps || compute_stopping; });
}

void Coordinator::State::start_ticker() {
  ticker = std::thread([this] {
    std::unique_lock lock(ticker_mu);
    while (!stopping) {
      ticker_cv.wait_for(lock, std::chrono::milliseconds(tick_ms));
      if (stopping) break;
      lock.unlock();
      {
        std::unique_lock w(mu);
        // Never past a write that is not yet published: it must still be applied at its time.
        // advance() queues a step only for temporal filters and subscriptions.
        uint64_t t = wall_clock_ms();
        if (!unpublished.empty()) t = std::min(t, unpublished.front()->ts);
        if (t > now_ts) advance(t, {});
        retry_failed_dataflows();
      }
      lock.lock();
    }
  });
}

void Coordinator::State::stop_ticker() {
  {
    std::lock_guard lock(ticker_mu);
    stopping = true;
  }
  ticker_cv.notify_all();
  if (ticker.joinable()) ticker.join();
}

}  // namespace freshet::server
