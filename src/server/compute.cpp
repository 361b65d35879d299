// The compute drivers: step the maintained dataflows off the write path (coordinator_state.hpp,
// "Compute"). Their rules: they never take State::mu (readers holding mu wait for them); they
// pick a dataflow and its next step under compute_mu, step it without any lock (no other
// driver steps the same dataflow: `running`), and publish the step it has processed, its
// output changes and its deliveries to subscribers under compute_mu.

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "common/error.hpp"
#include "common/format.hpp"
#include "dataflow/workers.hpp"
#include "server/coordinator_state.hpp"

namespace freshet::server {

bool over_budget(const Maintained::ComputeState& c) { return c.failed.starts_with(sqlstate::kOutOfMemory); }

void Coordinator::State::start_compute() {
  // At least two drivers, so that one slow dataflow does not hold back the others; a dataflow's
  // shards run on the worker pool besides.
  size_t n = std::max<size_t>(2, dataflow::WorkerPool::global().threads() + 1);
  for (size_t i = 0; i < n; ++i) compute_threads.emplace_back([this] { compute_driver(); });
}

void Coordinator::State::stop_compute() {
  {
    std::lock_guard lk(compute_mu);
    compute_stopping = true;
  }
  compute_cv.notify_all();
  compute_progress_cv.notify_all();
  for (auto& t : compute_threads)
    if (t.joinable()) t.join();
  compute_threads.clear();
}

void Coordinator::State::compute_driver() {
  // Named for per-thread profiles and CPU figures (perf --sort comm, bench/nexmark.sh).
  pthread_setname_np(pthread_self(), "fr-compute");
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  std::unique_lock lk(compute_mu);
  while (true) {
    if (run_one(lk, ctx)) continue;
    // Nothing runnable: stop once everything queued is done (another driver may be stepping).
    if (compute_stopping && compute_done_seq >= compute_enqueued_seq) {
      bool busy = false;
      for (const auto& m : maintained) busy |= m->compute.running;
      if (!busy) break;
    }
    compute_cv.wait(lk);
  }
  compute_cv.notify_all();
}

bool Coordinator::State::skip_idle_steps(Maintained& m) {
  Maintained::ComputeState& c = m.compute;
  if (c.running || c.dropped || !c.failed.empty() || m.time_dependent()) return false;
  const std::vector<uint64_t> ins = m.inputs();
  bool any = false;
  while (true) {
    const uint64_t next = c.processed_seq + 1;
    if (next > compute_enqueued_seq || next <= compute_done_seq) break;
    const ComputeStep& s = *compute_queue[next - compute_done_seq - 1];
    bool idle = true;
    for (uint64_t in : ins) {
      if (s.changes.count(in) || s.outputs.count(in)) idle = false;
      // An input that is a dataflow must have processed the step (its output changes of it,
      // if any, are then in `outputs`); one stopped by its budget stops this one at its step.
      for (const auto& other : maintained)
        if (other->id() == in && other.get() != &m && (other->compute.processed_seq < next || over_budget(other->compute)))
          idle = false;
      if (!idle) break;
    }
    if (!idle) break;
    c.processed_seq = next;
    deliver(m.id(), s);
    any = true;
  }
  return any;
}

bool Coordinator::State::skip_all_idle_steps() {
  bool any = false;
  // In creation order: a dataflow's inputs that are dataflows come before it, so a chain of
  // idle dataflows is skipped in one pass.
  for (const auto& m : maintained) any |= skip_idle_steps(*m);
  if (any) {
    retire_steps();
    compute_progress_cv.notify_all();
  }
  return any;
}

bool Coordinator::State::run_one(std::unique_lock<std::mutex>& lk, EvalContext& ctx) {
  for (const auto& h : hydrations)
    if (h->ready && !h->taken && !h->done) {
      finish_hydration(lk, ctx, h);
      return true;
    }
  skip_all_idle_steps();
  if (dataflows_paused && !compute_stopping && compute_queue.size() + 1 < kMaxQueuedSteps) return false;
  std::shared_ptr<Maintained> pick;
  std::shared_ptr<ComputeStep> step;
  for (const auto& m : maintained) {
    Maintained::ComputeState& c = m->compute;
    if (c.running || c.dropped) continue;
    uint64_t next = c.processed_seq + 1;
    if (next > compute_enqueued_seq || next <= compute_done_seq) continue;
    const std::shared_ptr<ComputeStep>& s = compute_queue[next - compute_done_seq - 1];
    if (!c.failed.empty()) {
      // Stopped: it skips the step; a failed one whose inputs change is rebuilt
      // (retry_failed_dataflows). Its followers see no change from it.
      // One stopped by its memory budget is not: it would only grow again (DROP, restart).
      if (!over_budget(c))
        for (uint64_t in : m->inputs()) c.retry |= s->changes.count(in) > 0 || s->outputs.count(in) > 0;
      c.processed_seq = next;
      deliver(m->id(), *s);
      retire_steps();
      compute_progress_cv.notify_all();
      compute_cv.notify_all();
      return true;
    }
    // Its inputs that are dataflows must have processed the step (their changes are in it).
    bool ready = true;
    const Maintained* stopped_input = nullptr;
    for (uint64_t in : m->inputs())
      for (const auto& other : maintained)
        if (other->id() == in && other.get() != m.get()) {
          if (other->compute.processed_seq < next) ready = false;
          if (over_budget(other->compute)) stopped_input = other.get();
        }
    if (stopped_input) {
      // An input stopped by its memory budget sends no more changes: this one would go stale,
      // so it stops too, with the same SQLSTATE (and is not retried either).
      c.failed = std::string(sqlstate::kOutOfMemory) + " it reads \"" + stopped_input->name() +
                 "\", whose dataflow was stopped: " + stopped_input->compute.failed.substr(6);
      std::fprintf(stderr, "freshet: dataflow \"%s\" stopped: %s\n", m->name().c_str(), c.failed.c_str() + 6);
      return true;
    }
    if (!ready) continue;
    if (!shared_readers_done(*m)) continue;
    pick = m;
    step = s;
    break;
  }
  if (!pick) return false;
  pick->compute.running = true;
  // Reading the views' indexes from this step on if they are at it (a dependent that was
  // hydrating while they moved on keeps its private copy until it catches up with them).
  pick->set_owners_at_step(shared_owners_at(*pick, step->seq));
  std::map<uint64_t, const RowDiffs*> in;
  for (uint64_t id : pick->inputs()) {
    if (auto it = step->outputs.find(id); it != step->outputs.end()) in[id] = &it->second;
    else if (auto t = step->changes.find(id); t != step->changes.end()) in[id] = &t->second;
  }
  lk.unlock();
  ctx.logical_time_ms = step->ts;
  ctx.statement_time_us = static_cast<int64_t>(step->ts) * 1000 - kUnixToPgEpochMicros;
  RowDiffs delta;
  std::string error;
  try {
    pick->step(step->ts, in, ctx, delta);
  } catch (const SqlError& e) {
    error = e.sqlstate() + " " + e.message();
    std::fprintf(stderr, "freshet: dataflow \"%s\" failed at %llu; %s: %s\n", pick->name().c_str(),
                 static_cast<unsigned long long>(step->ts),
                 e.sqlstate() == sqlstate::kOutOfMemory ? "it is stopped, its state freed (DROP it, or restart with a larger budget)"
                                                        : "it answers the error until its inputs allow it",
                 e.message().c_str());
  }
  ctx.arena->reset();
  bool dropped;
  {
    std::lock_guard g(compute_mu);
    dropped = pick->compute.dropped;  // dropped while it was stepped: its collection may be gone
  }
  if (error.empty() && !delta.empty() && !dropped && persist && pick->compute.is_mv) {
    Status ps = persist->write_mv(pick->id(), step->ts, delta, [&](const Row& r) { return pick->count_of(r.ref()); });
    if (!ps) std::fprintf(stderr, "freshet: could not store materialized view %s: %s\n", pick->name().c_str(), ps.message().c_str());
  }
  lk.lock();
  Maintained::ComputeState& c = pick->compute;
  if (!error.empty()) c.failed = std::move(error);
  if (error.empty() && !delta.empty() && !dropped) step->outputs[pick->id()] = std::move(delta);
  c.processed_seq = step->seq;
  c.running = false;
  if (!dropped) deliver(pick->id(), *step);
  retire_steps();
  compute_progress_cv.notify_all();
  compute_cv.notify_all();
  return true;
}

void Coordinator::State::set_dataflows_paused(bool on) {
  {
    std::lock_guard lk(compute_mu);
    dataflows_paused = on;
  }
  compute_cv.notify_all();
}

void Coordinator::State::deliver(uint64_t id, const ComputeStep& step) {
  auto it = subscribers.find(id);
  if (it == subscribers.end()) return;
  const RowDiffs* c = nullptr;
  if (auto o = step.outputs.find(id); o != step.outputs.end()) c = &o->second;
  else if (auto t = step.changes.find(id); t != step.changes.end()) c = &t->second;
  auto& qs = it->second;
  for (auto w = qs.begin(); w != qs.end();) {
    auto q = w->lock();
    if (!q) {
      w = qs.erase(w);
      continue;
    }
    if (q->start_seq < step.seq) {
      if (c && !c->empty()) q->push(step.ts, *c);
      // More transactions may still come at ts: only times before it are complete.
      q->advance(step.ts);
    }
    ++w;
  }
  if (qs.empty()) subscribers.erase(it);
}

void Coordinator::State::retire_steps() {
  while (!compute_queue.empty()) {
    const std::shared_ptr<ComputeStep> s = compute_queue.front();
    for (const auto& m : maintained)
      if (!m->compute.dropped && m->compute.processed_seq < s->seq) return;
    // Dataflows being hydrated get this step's changes of their inputs (also an empty step:
    // time moved).
    for (const auto& h : hydrations) {
      if (h->done || s->seq <= h->start_seq) continue;
      ComputeStep e{s->seq, s->ts, {}, {}};
      for (auto in : h->inputs) {
        if (auto c = s->outputs.find(in); c != s->outputs.end()) e.changes[in] = c->second;
        else if (auto t = s->changes.find(in); t != s->changes.end()) e.changes[in] = t->second;
      }
      h->log.push_back(std::move(e));
    }
    compute_queue.pop_front();
    compute_done_seq = s->seq;
    compute_progress_cv.notify_all();
    compute_cv.notify_all();
  }
}

void Coordinator::State::finish_hydration(std::unique_lock<std::mutex>& lk, EvalContext& ctx, const std::shared_ptr<Hydration>& h) {
  h->taken = true;
  // Retired steps are appended to the log meanwhile; the dataflow is added once it is empty,
  // at compute_done_seq (the queued steps after it it processes like any other dataflow).
  while (!h->log.empty()) {
    ComputeStep e = std::move(h->log.front());
    h->log.pop_front();
    lk.unlock();
    RowDiffs delta;
    std::string error;
    ctx.logical_time_ms = e.ts;
    ctx.statement_time_us = static_cast<int64_t>(e.ts) * 1000 - kUnixToPgEpochMicros;
    try {
      h->m->step(e.ts, e.changes, ctx, delta);
    } catch (const SqlError& err) {
      error = err.sqlstate() + " " + err.message();
    }
    ctx.arena->reset();
    if (error.empty() && !delta.empty() && persist && h->m->compute.is_mv) {
      Status ps = persist->write_mv(h->id, e.ts, delta, [&](const Row& r) { return h->m->count_of(r.ref()); });
      if (!ps) std::fprintf(stderr, "freshet: could not store materialized view %s: %s\n", h->name.c_str(), ps.message().c_str());
    }
    lk.lock();
    if (!error.empty() && h->m->compute.failed.empty()) h->m->compute.failed = std::move(error);
  }
  // Its snapshot holds every step up to start_seq, which may not be retired yet (another
  // dataflow still working on it): those steps must not reach it again (the rows of a COMMIT
  // whose block created the view were counted twice when the hydration was that fast).
  h->m->compute.processed_seq = std::max(compute_done_seq, h->start_seq);
  // The views it reads as shared arrangements did not wait for it; if they are where it is,
  // it reads their indexes from now on (shared_readers_done keeps them in step from here),
  // and the private copies its hydration kept are freed now.
  if (!h->m->shared_reads().empty() && shared_owners_at(*h->m, h->m->compute.processed_seq)) h->m->read_owners();
  maintained.push_back(h->m);
  h->done = true;
  std::erase(hydrations, h);
  compute_progress_cv.notify_all();
  compute_cv.notify_all();
}

dataflow::RenderOptions::SharedArrangementFn Coordinator::State::shared_arrangements() {
  return [this](uint64_t id, const std::vector<uint32_t>& cols) -> std::shared_ptr<const dataflow::ArrangementReader> {
    std::shared_ptr<Maintained> v;
    {
      std::lock_guard lk(compute_mu);
      for (const auto& m : maintained)
        if (m->id() == id && !m->compute.dropped && m->compute.failed.empty()) v = m;
    }
    return v ? Maintained::shared_reader(v, cols) : nullptr;
  };
}

bool Coordinator::State::shared_readers_done(const Maintained& m) const {
  // Shared arrangements: a dependent reads m's contents as they are after the step it is
  // processing (Maintained::shared_reader), so m does not start step s+1 before every
  // dependent reading it has processed step s. A hydration does not hold m: it keeps a
  // private copy of m's rows until it is added and finds m at its step (shared_owners_at).
  for (const auto& other : maintained)
    if (other.get() != &m && !other->compute.dropped && other->compute.processed_seq < m.compute.processed_seq &&
        other->reads_shared(m.id()))
      return false;
  return true;
}

bool Coordinator::State::shared_owners_at(const Maintained& m, uint64_t seq) const {
  for (const auto& [cid, cols] : m.shared_reads()) {
    bool at = false;
    for (const auto& other : maintained)
      if (other->id() == cid && other.get() != &m)
        at = !other->compute.dropped && !other->compute.running && other->compute.processed_seq == seq;
    if (!at) return false;
  }
  return true;
}

Maintained* Coordinator::State::read_maintained(uint64_t id, const std::atomic<bool>* cancelled, bool wait) {
  Maintained* m = find_maintained(id);
  if (!m) return nullptr;
  std::unique_lock lk(compute_mu);
  // Steps that change none of its inputs are passed over here, without a driver: a read of a
  // dataflow whose inputs are quiet does not wait for the drivers busy with other dataflows.
  auto ready = [&] {
    if (wait && skip_idle_steps(*m)) {
      retire_steps();
      compute_progress_cv.notify_all();
      compute_cv.notify_all();
    }
    return !wait || m->compute.processed_seq >= compute_enqueued_seq || !m->compute.failed.empty();
  };
  // A query waiting for a slow dataflow stays cancellable: the flag is looked at every 20 ms.
  while (!compute_progress_cv.wait_for(lk, std::chrono::milliseconds(20), ready)) {
    if (cancelled && cancelled->load()) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
  }
  if (m->compute.failed.empty()) {
    // An input stopped by its budget before this one's next step (or before it was hydrated,
    // at a restart): it is stale already.
    for (uint64_t in : m->inputs())
      for (const auto& other : maintained)
        if (other->id() == in && other.get() != m && over_budget(other->compute))
          throw SqlError(sqlstate::kOutOfMemory, "the dataflow of \"" + m->name() + "\" reads \"" + other->name() +
                                                     "\", whose dataflow was stopped: " + other->compute.failed.substr(6))
              .with_hint("Drop or recreate \"" + other->name() + "\" with a larger dataflow_memory_budget_mb.");
  }
  if (!m->compute.failed.empty()) {
    const std::string& f = m->compute.failed;
    if (over_budget(m->compute))
      throw SqlError(f.substr(0, 5), "the dataflow of \"" + m->name() + "\" was stopped: " + f.substr(6))
          .with_hint("Raise ALTER SYSTEM SET dataflow_memory_budget_mb (or freshet serve --dataflow-memory-budget-mb), then "
                     "drop and recreate it or restart the server; or drop it.");
    throw SqlError(f.substr(0, 5), "the dataflow of \"" + m->name() + "\" stopped with an error: " + f.substr(6))
        .with_hint("It works again by itself once the rows causing the error are gone.");
  }
  return m;
}

uint64_t Coordinator::State::frontier_of(const Maintained& m) const {
  uint64_t next = m.compute.processed_seq + 1;
  if (next > compute_enqueued_seq || next <= compute_done_seq) return now_ts + 1;  // caught up
  return compute_queue[next - compute_done_seq - 1]->ts;
}

void Coordinator::State::wait_compute_idle() {
  std::unique_lock lk(compute_mu);
  compute_progress_cv.wait(lk, [&] { return compute_done_seq >= compute_enqueued_seq; });
}

Maintained& Coordinator::State::add_maintained(std::shared_ptr<Maintained> m) {
  std::lock_guard lk(compute_mu);
  m->compute.processed_seq = compute_enqueued_seq;
  // Built under the locks at this step: reading the views' indexes from now on if they are
  // here too (finish_hydration does the same).
  if (!m->shared_reads().empty() && shared_owners_at(*m, m->compute.processed_seq)) m->read_owners();
  maintained.push_back(std::move(m));
  return *maintained.back();
}

void Coordinator::State::add_subscriber(uint64_t id, std::shared_ptr<SubscriptionQueue> q) {
  std::lock_guard lk(compute_mu);
  q->start_seq = compute_enqueued_seq;
  subscribers[id].push_back(std::move(q));
}

}  // namespace freshet::server
