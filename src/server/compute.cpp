// The compute thread: steps the maintained dataflows off the write path (coordinator_state.hpp,
// "Compute"). Its rules: it never takes State::mu (readers holding mu wait for it); it reads the
// list of dataflows and the subscriptions under compute_mu, and steps each dataflow without any
// lock, publishing the step it has processed under compute_mu.

#include <chrono>
#include <cstdio>

#include "common/error.hpp"
#include "common/format.hpp"
#include "server/coordinator_state.hpp"

namespace freshet::server {

void Coordinator::State::start_compute() {
  compute_thread = std::thread([this] { compute_loop(); });
}

void Coordinator::State::stop_compute() {
  {
    std::lock_guard lk(compute_mu);
    compute_stopping = true;
  }
  compute_cv.notify_all();
  compute_progress_cv.notify_all();
  if (compute_thread.joinable()) compute_thread.join();
}

void Coordinator::State::compute_loop() {
  Arena arena;
  EvalContext ctx;
  ctx.arena = &arena;
  std::unique_lock lk(compute_mu);
  while (true) {
    auto ready = [&] {
      for (const auto& h : hydrations)
        if (h->ready && !h->done) return true;
      return false;
    };
    compute_cv.wait(lk, [&] { return compute_stopping || !compute_queue.empty() || ready(); });
    if (compute_queue.empty()) {
      if (ready()) {
        finish_ready_hydrations(lk, ctx);
        continue;
      }
      break;  // stopping, and everything queued is done
    }
    ComputeStep step = std::move(compute_queue.front());
    compute_queue.pop_front();
    compute_current = &step;
    std::vector<std::shared_ptr<Maintained>> list = maintained;
    lk.unlock();
    compute_progress_cv.notify_all();  // room in the queue
    ctx.logical_time_ms = step.ts;
    ctx.statement_time_us = static_cast<int64_t>(step.ts) * 1000 - kUnixToPgEpochMicros;
    ChangeSet& changes = step.changes;
    for (const auto& m : list) {
      {
        std::lock_guard g(compute_mu);
        Maintained::ComputeState& c = m->compute;
        if (c.dropped || !c.failed.empty() || c.processed_seq >= step.seq) {
          // Dropped or stopped; or created after this step was queued (its snapshot has it).
          // A failed one whose inputs change is rebuilt (retry_failed_dataflows).
          if (!c.failed.empty() && c.processed_seq < step.seq)
            for (uint64_t in : m->inputs()) c.retry |= changes.count(in) > 0;
          if (c.processed_seq < step.seq) c.processed_seq = step.seq;
          continue;
        }
      }
      RowDiffs delta;
      std::string error;
      try {
        m->step(step.ts, changes, ctx, delta);
      } catch (const SqlError& e) {
        error = e.sqlstate() + " " + e.message();
        std::fprintf(stderr, "freshet: dataflow \"%s\" failed at %llu; it answers the error until its inputs allow it: %s\n",
                     m->name().c_str(),
                     static_cast<unsigned long long>(step.ts), e.message().c_str());
      }
      arena.reset();
      bool dropped;
      {
        std::lock_guard g(compute_mu);
        dropped = m->compute.dropped;  // dropped while it was stepped: its collection may be gone
      }
      if (error.empty() && !delta.empty() && !dropped) {
        if (persist && m->compute.is_mv) {
          Status ps = persist->write_mv(m->id(), step.ts, delta, [&](const Row& r) { return m->count_of(r.ref()); });
          if (!ps)
            std::fprintf(stderr, "freshet: could not store materialized view %s: %s\n", m->name().c_str(), ps.message().c_str());
        }
        changes[m->id()] = std::move(delta);
      }
      std::lock_guard g(compute_mu);
      if (!error.empty()) m->compute.failed = std::move(error);
      m->compute.processed_seq = step.seq;
      compute_progress_cv.notify_all();
    }
    lk.lock();
    for (auto it = subscribers.begin(); it != subscribers.end();) {
      auto& qs = it->second;
      auto c = changes.find(it->first);
      for (auto w = qs.begin(); w != qs.end();) {
        auto q = w->lock();
        if (!q) {
          w = qs.erase(w);
          continue;
        }
        if (q->start_seq < step.seq) {
          if (c != changes.end() && !c->second.empty()) q->push(step.ts, c->second);
          // More transactions may still come at ts: only times before it are complete.
          q->advance(step.ts);
        }
        ++w;
      }
      it = qs.empty() ? subscribers.erase(it) : std::next(it);
    }
    // Dataflows being hydrated get this step's changes of their inputs (also an empty step:
    // time moved).
    for (const auto& h : hydrations) {
      if (h->done || step.seq <= h->start_seq) continue;
      ComputeStep e{step.seq, step.ts, {}};
      for (auto in : h->inputs)
        if (auto c = changes.find(in); c != changes.end()) e.changes[in] = c->second;
      h->log.push_back(std::move(e));
    }
    compute_done_seq = step.seq;
    compute_current = nullptr;
    compute_progress_cv.notify_all();
    finish_ready_hydrations(lk, ctx);
  }
}

void Coordinator::State::finish_ready_hydrations(std::unique_lock<std::mutex>& lk, EvalContext& ctx) {
  std::vector<std::shared_ptr<Hydration>> ready;
  for (const auto& h : hydrations)
    if (h->ready && !h->done) ready.push_back(h);
  for (const auto& h : ready) {
    // Only this thread appends to the log, so it stays empty once replayed.
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
      lk.lock();
      if (!error.empty() && h->m->compute.failed.empty()) h->m->compute.failed = std::move(error);
    }
    h->m->compute.processed_seq = compute_done_seq;
    maintained.push_back(h->m);
    h->done = true;
    std::erase(hydrations, h);
  }
  if (!ready.empty()) compute_progress_cv.notify_all();
}

Maintained* Coordinator::State::read_maintained(uint64_t id, const std::atomic<bool>* cancelled) {
  Maintained* m = find_maintained(id);
  if (!m) return nullptr;
  std::unique_lock lk(compute_mu);
  auto ready = [&] { return m->compute.processed_seq >= compute_enqueued_seq || !m->compute.failed.empty(); };
  // A query waiting for a slow dataflow stays cancellable: the flag is looked at every 20 ms.
  while (!compute_progress_cv.wait_for(lk, std::chrono::milliseconds(20), ready)) {
    if (cancelled && cancelled->load()) throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
  }
  if (!m->compute.failed.empty()) {
    const std::string& f = m->compute.failed;
    throw SqlError(f.substr(0, 5), "the dataflow of \"" + m->name() + "\" stopped with an error: " + f.substr(6))
        .with_hint("It works again by itself once the rows causing the error are gone.");
  }
  return m;
}

uint64_t Coordinator::State::frontier_of(const Maintained& m) const {
  uint64_t next = m.compute.processed_seq + 1;
  if (next > compute_enqueued_seq) return now_ts + 1;  // caught up with everything published
  if (compute_current && compute_current->seq == next) return compute_current->ts;
  for (const auto& s : compute_queue)
    if (s.seq == next) return s.ts;
  return now_ts + 1;
}

void Coordinator::State::wait_compute_idle() {
  std::unique_lock lk(compute_mu);
  compute_progress_cv.wait(lk, [&] { return compute_done_seq >= compute_enqueued_seq; });
}

Maintained& Coordinator::State::add_maintained(std::shared_ptr<Maintained> m) {
  std::lock_guard lk(compute_mu);
  m->compute.processed_seq = compute_enqueued_seq;
  maintained.push_back(std::move(m));
  return *maintained.back();
}

void Coordinator::State::add_subscriber(uint64_t id, std::shared_ptr<SubscriptionQueue> q) {
  std::lock_guard lk(compute_mu);
  q->start_seq = compute_enqueued_seq;
  subscribers[id].push_back(std::move(q));
}

}  // namespace freshet::server
