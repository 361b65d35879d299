#include "server/write_path.hpp"

#include <algorithm>
#include <cctype>
#include <atomic>
#include <cstdio>

#include "common/arena.hpp"
#include "common/format.hpp"
#include "common/futex.hpp"
#include "dataflow/graph.hpp"
#include "dataflow/operators.hpp"
#include "dataflow/update.hpp"
#include "dataflow/workers.hpp"
#include "server/coordinator_state.hpp"
#include "server/metrics.hpp"

namespace freshet::server {

Row table_row_key(const sql::ObjectInfo& t, const Row& row) {
  std::vector<Datum> ds = row.unpack();
  std::vector<Datum> k;
  k.reserve(t.primary_key.size());
  for (auto c : t.primary_key) k.push_back(ds[c]);
  Row key = Row::pack(k);
  return t.source_id != 0 ? dataflow::canonical_row(key.ref()) : key;
}

namespace {
// The values of a row's (unpacked in ds) key columns, in k; false when one is NULL (a NULL key
// is counted by no key constraint).
bool key_without_null(const std::vector<Datum>& ds, const std::vector<uint32_t>& cols, std::vector<Datum>& k) {
  k.clear();
  for (auto c : cols) {
    if (ds[c].is_null()) return false;
    k.push_back(ds[c]);
  }
  return true;
}

// jsonb and numeric/float array text with every number outside string literals written
// without trailing fractional zeros ("1.50" -> "1.5", "2.0" -> "2", "-0.0" and "-0" -> "0"):
// equal numbers, equal text. Exponent forms are left as they are (PostgreSQL's jsonb and
// numeric output never writes one; float8 output writes the shortest form, unique already).
std::string canonical_number_text(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  bool in_string = false;
  for (size_t i = 0; i < in.size();) {
    char c = in[i];
    if (in_string) {
      out.push_back(c);
      if (c == '\\' && i + 1 < in.size()) out.push_back(in[++i]);
      else if (c == '"') in_string = false;
      ++i;
      continue;
    }
    if (c == '"') {
      in_string = true;
      out.push_back(c);
      ++i;
      continue;
    }
    bool starts_number = (c >= '0' && c <= '9') || (c == '-' && i + 1 < in.size() && in[i + 1] >= '0' && in[i + 1] <= '9');
    bool after_word = !out.empty() && (std::isalnum(static_cast<unsigned char>(out.back())) || out.back() == '.' || out.back() == '_');
    if (!starts_number || after_word) {
      out.push_back(c);
      ++i;
      continue;
    }
    size_t j = i + 1;
    while (j < in.size() && (std::isdigit(static_cast<unsigned char>(in[j])) || in[j] == '.' || in[j] == 'e' || in[j] == 'E' ||
                             ((in[j] == '+' || in[j] == '-') && (in[j - 1] == 'e' || in[j - 1] == 'E'))))
      ++j;
    std::string num(in.substr(i, j - i));
    if (num.find('.') != std::string::npos && num.find_first_of("eE") == std::string::npos) {
      while (num.back() == '0') num.pop_back();
      if (num.back() == '.') num.pop_back();
    }
    if (num == "-0") num = "0";
    out += num;
    i = j;
  }
  return out;
}

bool text_needs_canonical(const Type& t) {
  if (t.id == TypeId::kJsonb) return true;
  auto el = array_element_type(t.id);
  return el && (*el == TypeId::kNumeric || *el == TypeId::kFloat8 || *el == TypeId::kFloat4);
}
}  // namespace

Row canonical_key_of(std::span<const Datum> key, std::span<const Type> types) {
  std::string bytes;
  bool texts = false;
  for (size_t i = 0; i < types.size() && i < key.size(); ++i)
    texts |= text_needs_canonical(types[i]) && key[i].kind() == PhysicalKind::kString;
  if (!texts) {
    dataflow::append_canonical_key(key, bytes);
    return Row(std::move(bytes));
  }
  std::vector<std::string> held;  // the rewritten texts the datums borrow
  held.reserve(key.size());
  std::vector<Datum> ds(key.begin(), key.end());
  for (size_t i = 0; i < types.size() && i < ds.size(); ++i) {
    if (!text_needs_canonical(types[i]) || ds[i].kind() != PhysicalKind::kString) continue;
    held.push_back(canonical_number_text(ds[i].as_string()));
    ds[i] = Datum::from_string(held.back());
  }
  dataflow::append_canonical_key(ds, bytes);
  return Row(std::move(bytes));
}

std::vector<Type> key_types(const sql::ObjectInfo* t, const std::vector<uint32_t>& cols) {
  std::vector<Type> out;
  if (!t) return out;
  for (auto c : cols) out.push_back(c < t->columns.size() ? t->columns[c].type : Type(TypeId::kText));
  return out;
}

namespace {
template <typename Rows>
void add_key_counts(KeyCounts& counts, const Rows& rows, const std::vector<uint32_t>& cols, std::span<const Type> types) {
  std::vector<Datum> ds, k;
  for (const auto& [row, n] : rows) {
    ds.clear();
    row.unpack_into(ds);
    k.clear();
    bool has_null = false;
    for (auto c : cols) {
      k.push_back(ds[c]);
      has_null |= ds[c].is_null();
    }
    if (!has_null) counts[canonical_key_of(k, types)] += n;
  }
}
}  // namespace

KeyCounts count_keys(const sql::ObjectInfo* t, const TableData& data, const std::vector<uint32_t>& cols) {
  KeyCounts counts;
  add_key_counts(counts, data.rows, cols, key_types(t, cols));
  return counts;
}

void count_keys(const sql::ObjectInfo* t, KeyCounts& counts, const RowDiffs& diffs, const std::vector<uint32_t>& cols) {
  add_key_counts(counts, diffs, cols, key_types(t, cols));
}

void check_unique_index(const sql::ObjectInfo& t, const std::string& index, const std::vector<uint32_t>& cols,
                        const KeyCounts& counts) {
  for (const auto& [key, n] : counts) {
    if (n <= 1) continue;
    std::string names, vals;
    std::vector<Datum> kd = key.unpack();
    for (size_t i = 0; i < cols.size(); ++i) {
      names += (i ? ", " : "") + t.columns[cols[i]].name;
      vals += (i ? ", " : "") + format_datum(kd[i], t.columns[cols[i]].type);
    }
    throw SqlError(sqlstate::kUniqueViolation, "could not create unique index \"" + index + "\"")
        .with_detail("Key (" + names + ")=(" + vals + ") is duplicated.");
  }
}

void add_unique_index(const sql::ObjectInfo& t, TableData& data, const sql::ObjectInfo& index, KeyCounts counts) {
  size_t before = (t.primary_key.empty() ? 0 : 1) + t.unique_keys.size() + data.unique_indexes.size();
  if (data.key_counts.size() < before) data.key_counts.resize(before);
  data.key_counts.insert(data.key_counts.begin() + static_cast<std::ptrdiff_t>(before), std::move(counts));
  data.unique_indexes.push_back({index.id, index.index_key, index.name});
}

void drop_unique_index(const sql::ObjectInfo& t, TableData& data, uint64_t index_id) {
  size_t first = (t.primary_key.empty() ? 0 : 1) + t.unique_keys.size();
  for (size_t i = 0; i < data.unique_indexes.size(); ++i) {
    if (data.unique_indexes[i].index_id != index_id) continue;
    if (first + i < data.key_counts.size()) data.key_counts.erase(data.key_counts.begin() + static_cast<std::ptrdiff_t>(first + i));
    data.unique_indexes.erase(data.unique_indexes.begin() + static_cast<std::ptrdiff_t>(i));
    return;
  }
}

namespace {
std::atomic<uint64_t> next_version{1};
}  // namespace

uint64_t next_table_version() { return next_version.fetch_add(1, std::memory_order_relaxed); }

uint64_t peek_table_version() { return next_version.load(std::memory_order_relaxed); }

void apply_table_diffs(const sql::ObjectInfo& t, TableData& data, const RowDiffs& diffs) {
  data.version = next_table_version();
  data.frozen.clear();  // stale now; its memory goes when the last scan using it ends
  // Key constraints (user tables only; source tables are never checked): the primary key,
  // then UNIQUE constraints, in the order Executor::write checks them.
  std::vector<const std::vector<uint32_t>*> keys;
  if (t.source_id == 0) {
    if (!t.primary_key.empty()) keys.push_back(&t.primary_key);
    for (const auto& u : t.unique_keys) keys.push_back(&u);
    for (const auto& u : data.unique_indexes) keys.push_back(&u.columns);
    if (data.key_counts.size() < keys.size()) data.key_counts.resize(keys.size());
  }
  std::vector<Datum> ds, k;
  std::vector<std::vector<Type>> types;
  for (const auto* cols : keys) types.push_back(key_types(&t, *cols));
  if (diffs.size() >= kBulkRows) {
    // A bulk load (COPY, INSERT ... SELECT): one growth of each map's index for it (moved
    // over incrementally, as every growth of a RowMap) rather than several along the way.
    data.rows.reserve(data.rows.size() + diffs.size());
    if (!t.primary_key.empty()) data.by_key.reserve(data.by_key.size() + diffs.size());
    for (size_t ki = 0; ki < keys.size(); ++ki) data.key_counts[ki].reserve(data.key_counts[ki].size() + diffs.size());
  }
  for (int pass = 0; pass < 2; ++pass) {
    for (const auto& [row, diff] : diffs) {
      if (diff == 0 || (diff < 0) != (pass == 0)) continue;
      // One lookup per map (try_emplace), not a find and then an emplace: a bulk load's rows
      // are all new, and each probe of a node-based map is a cache miss (bench/README.md,
      // "COPY FROM STDIN").
      auto rit = data.rows.try_emplace(row, 0).first;
      rit->second += diff;
      const uint32_t row_id = rit.id();  // for by_key; the id stays this row's until the next insertion
      if (rit->second == 0) data.rows.erase(rit);
      // The row is unpacked once for by_key's key and every key constraint's.
      const bool unpacked = !keys.empty();
      if (unpacked) {
        ds.clear();
        row.unpack_into(ds);
      }
      if (!t.primary_key.empty()) {
        Row key;
        if (unpacked && t.source_id == 0) {  // table_row_key's result, without unpacking again
          k.clear();
          for (auto c : t.primary_key) k.push_back(ds[c]);
          key = Row::pack(k);
        } else {
          key = table_row_key(t, row);
        }
        if (diff > 0) {
          data.by_key.insert_or_assign(std::move(key), row_id);
        } else {
          auto it = data.by_key.find(key);
          if (it != data.by_key.end() && it->second == row_id) data.by_key.erase(it);
        }
      }
      if (keys.empty()) continue;
      for (size_t ki = 0; ki < keys.size(); ++ki) {
        if (!key_without_null(ds, *keys[ki], k)) continue;
        auto& counts = data.key_counts[ki];
        auto it = counts.try_emplace(canonical_key_of(k, types[ki]), 0).first;
        it->second += diff;
        if (it->second == 0) counts.erase(it);
      }
    }
  }
}

namespace {
// The key constraints apply_table_diffs counts, in its order.
std::vector<const std::vector<uint32_t>*> counted_keys(const sql::ObjectInfo& t, const TableData& data) {
  std::vector<const std::vector<uint32_t>*> keys;
  if (t.source_id != 0) return keys;
  if (!t.primary_key.empty()) keys.push_back(&t.primary_key);
  for (const auto& u : t.unique_keys) keys.push_back(&u);
  for (const auto& u : data.unique_indexes) keys.push_back(&u.columns);
  return keys;
}
}  // namespace

bool can_prepare_insert(const sql::ObjectInfo& t, const RowDiffs& diffs) {
  if (t.source_id != 0 || t.primary_key.empty() || diffs.empty()) return false;
  for (const auto& [row, diff] : diffs)
    if (diff <= 0) return false;
  return true;
}

PreparedInsert prepare_insert(const sql::ObjectInfo& t, const TableData& data, const RowDiffs& diffs) {
  PreparedInsert p;
  auto keys = counted_keys(t, data);
  std::vector<std::vector<Type>> types;
  for (const auto* cols : keys) types.push_back(key_types(&t, *cols));
  p.rows.reserve(diffs.size());
  p.by_key.reserve(diffs.size());
  p.key_counts.resize(keys.size());
  for (auto& kc : p.key_counts) kc.reserve(diffs.size());
  std::vector<Datum> ds, k;
  for (const auto& [row, diff] : diffs) {  // consolidated: each row once
    p.rows.push_back({RowMap<int64_t>::hash_of(row), row, diff});
    ds.clear();
    row.unpack_into(ds);
    k.clear();
    for (auto c : t.primary_key) k.push_back(ds[c]);
    Row key = Row::pack(k);
    const uint64_t h = RowMap<Row>::hash_of(key);
    p.by_key.push_back({h, std::move(key), 0});
    for (size_t ki = 0; ki < keys.size(); ++ki) {
      if (!key_without_null(ds, *keys[ki], k)) continue;
      Row ck = canonical_key_of(k, types[ki]);
      const uint64_t ch = KeyCountMap::hash_of(ck);
      p.key_counts[ki].push_back({ch, std::move(ck), diff});
    }
  }
  return p;
}

void apply_prepared_insert(const sql::ObjectInfo& /*t*/, TableData& data, PreparedInsert p) {
  data.version = next_table_version();
  data.frozen.clear();
  if (data.key_counts.size() < p.key_counts.size()) data.key_counts.resize(p.key_counts.size());
  // Rows or keys already present are added to, as apply_table_diffs would.
  // p.by_key[i] is the key of p.rows[i].
  for (size_t i = 0; i < p.rows.size(); ++i) {
    auto it = data.rows.try_emplace_hashed(p.rows[i].hash, std::move(p.rows[i].key), 0).first;
    it->second += p.rows[i].value;
    data.by_key.try_emplace_hashed(p.by_key[i].hash, std::move(p.by_key[i].key)).first->second = it.id();
  }
  for (size_t ki = 0; ki < p.key_counts.size(); ++ki)
    for (auto& e : p.key_counts[ki])
      data.key_counts[ki].try_emplace_hashed(e.hash, std::move(e.key), 0).first->second += e.value;
}

std::shared_ptr<UnpublishedWrite> Coordinator::State::stage_write(ChangeSet changes, uint64_t collection, storage::Batch batch) {
  auto w = std::make_shared<UnpublishedWrite>();
  w->collection = persist ? collection : 0;
  for (auto& [id, d] : changes) dataflow::consolidate(d);
  // Insertions into tables with a primary key (bulk INSERTs) get their map nodes built here,
  // before mu: under mu only linking them in is left (a third of a 1,000-row INSERT's server
  // CPU was this function's critical section before).
  std::map<uint64_t, PreparedInsert> prepared;
  for (const auto& [id, d] : changes) {
    const sql::ObjectInfo* t = catalog.find(id);
    const TableData* data = catalog.table_data(id);
    if (t && data && d.size() >= kPrepareRows && can_prepare_insert(*t, d)) prepared.emplace(id, prepare_insert(*t, *data, d));
  }
  {
    const auto apply_start = std::chrono::steady_clock::now();
    std::unique_lock lock(mu);
    // The timestamp is taken here, where the write is registered, so that the ticker (which
    // never advances past the oldest unpublished write) cannot overtake it.
    w->ts = next_write_ts();
    last_write_ts = w->ts;
    w->seq = next_write_seq++;
    for (const auto& [id, d] : changes) {
      const sql::ObjectInfo* t = catalog.find(id);
      TableData* data = catalog.table_data(id);
      if (t && data) {
        if (auto pi = prepared.find(id); pi != prepared.end()) apply_prepared_insert(*t, *data, std::move(pi->second));
        else apply_table_diffs(*t, *data, d);
        for (const auto& [r, n] : d) {
          uint64_t count = static_cast<uint64_t>(n < 0 ? -n : n);
          data->rows_written += count;
          data->bytes_written += count * r.size_bytes();
        }
      }
    }
    w->changes = std::move(changes);
    w->staged_at = std::chrono::steady_clock::now();
    write_metrics().apply_seconds.observe(std::chrono::duration<double>(w->staged_at - apply_start).count());
    unpublished.push_back(w);
  }
  if (w->collection != 0) {
    batch.timestamp_ms = w->ts;
    auto p = persist->enqueue(w->collection, std::move(batch));
    if (!p) {
      std::unique_lock lock(mu);
      undo_from(w->collection, w->seq, p.status());
      publish_ready();
      throw storage_write_error("could not make the write durable", p.status());
    }
    w->append = std::move(p.value());
    w->has_append.store(true, std::memory_order_release);
  } else {
    std::unique_lock lock(mu);
    w->state = UnpublishedWrite::State::kDurable;
  }
  return w;
}

void Coordinator::State::undo_from(uint64_t collection, uint64_t seq, const Status& why) {
  for (auto it = unpublished.rbegin(); it != unpublished.rend(); ++it) {
    UnpublishedWrite& u = **it;
    if (u.seq < seq) break;
    if (u.collection != collection || u.undone) continue;
    for (const auto& [id, d] : u.changes) {
      const sql::ObjectInfo* t = catalog.find(id);
      TableData* data = catalog.table_data(id);
      if (!t || !data) continue;  // dropped meanwhile
      RowDiffs neg;
      neg.reserve(d.size());
      for (const auto& [r, n] : d) neg.push_back({r, -n});
      apply_table_diffs(*t, *data, neg);
    }
    u.undone = true;
    u.state = UnpublishedWrite::State::kFailed;
    if (u.status.is_ok()) u.status = why;
  }
}

void Coordinator::State::publish_durable() {
  std::vector<std::shared_ptr<UnpublishedWrite>> done;
  {
    std::lock_guard pl(publish_mu);
    wait_for_queue_space();  // before mu, as in finish_write
    std::unique_lock lock(mu);
    publish_ready(&done);
    retry_failed_dataflows();
  }
  wake_published(done);
}

void wake_published(const std::vector<std::shared_ptr<UnpublishedWrite>>& done) {
  // Each was set to 1 under mu and found its writer asleep (publish_ready).
  for (const auto& u : done) wake_word(u->published);
}

Status Coordinator::State::finish_write(const std::shared_ptr<UnpublishedWrite>& w) {
  Status durable = Status::ok();
  // The leader of the group commit publishes the whole group (publish_durable) before the
  // collection wakes its other writers: each of them is woken once, finds itself published and
  // returns, where it used to be woken by the collection and then again by a publisher.
  if (w->has_append) durable = persist->wait(w->append, [this] { publish_durable(); });
  const auto durable_at = std::chrono::steady_clock::now();
  if (!durable) {
    // Undo needs write_mu (no writer may evaluate on the state being undone).
    std::lock_guard wl(write_mu);
    std::unique_lock lock(mu);
    if (!w->undone) {
      std::fprintf(stderr, "freshet: a write at %llu could not be made durable and was undone: %s\n",
                   static_cast<unsigned long long>(w->ts), durable.message().c_str());
      undo_from(w->collection, w->seq, durable);
    }
  }
  if (w->published.load(std::memory_order_acquire) != 1) {
    std::vector<std::shared_ptr<UnpublishedWrite>> done;
    {
      std::lock_guard pl(publish_mu);
      if (w->published.load(std::memory_order_acquire) != 1) {
        // Backpressure from a lagging dataflow is taken here, before mu: waiting for queue space
        // with mu held (as advance() did) stalled every reader, lookups of unrelated indexes
        // included, for as long as the slowest dataflow needed to catch up.
        wait_for_queue_space();
        std::unique_lock lock(mu);
        if (durable && w->state == UnpublishedWrite::State::kPending) w->state = UnpublishedWrite::State::kDurable;
        publish_ready(&done);
        retry_failed_dataflows();
      }
    }
    wake_published(done);
  }
  // Published by now, or an earlier write in the queue is not durable yet: its writer publishes
  // this one too once it is (publish_ready takes every finished write at the front).
  for (uint32_t p; (p = w->published.load(std::memory_order_acquire)) != 1;) wait_word_change(w->published, p);
  // state and status were set under mu before `published` (release): read without mu here.
  WriteMetrics& m = write_metrics();
  if (w->state == UnpublishedWrite::State::kFailed) {
    m.failed.fetch_add(1, std::memory_order_relaxed);
  } else {
    m.commits.fetch_add(1, std::memory_order_relaxed);
    const auto now = std::chrono::steady_clock::now();
    m.latency_seconds.observe(std::chrono::duration<double>(now - w->staged_at).count());
    m.durable_seconds.observe(std::chrono::duration<double>(durable_at - w->staged_at).count());
    m.publish_seconds.observe(std::chrono::duration<double>(now - durable_at).count());
  }
  if (w->state == UnpublishedWrite::State::kFailed) return w->status.is_ok() ? Status::error("the write was undone") : w->status;
  return Status::ok();
}

void Coordinator::State::publish_ready(std::vector<std::shared_ptr<UnpublishedWrite>>* done) {
  // In commit order, every write at the front that is finished: durable ones become visible
  // (their changes go through the dataflows at their timestamp), failed ones were undone.
  // Writes at the same timestamp (transactions in one millisecond share it) go to the dataflows
  // as one step: a group commit of 64 single-row writes is a few steps, not 64, so a heavy
  // dataflow's per-step cost is paid per millisecond rather than per transaction. Their
  // changes are concatenated, not consolidated (a dataflow's input need not be).
  std::vector<std::shared_ptr<UnpublishedWrite>> step_writes;
  std::optional<uint64_t> step_ts;
  ChangeSet step_changes;
  auto flush = [&] {
    if (step_ts) advance(*step_ts, std::move(step_changes));
    step_ts.reset();
    step_changes.clear();
  };
  while (!unpublished.empty()) {
    UnpublishedWrite& f = *unpublished.front();
    // A write whose group commit is done is durable, whether or not its writer has woken up.
    if (f.state == UnpublishedWrite::State::kPending && f.has_append.load(std::memory_order_acquire) &&
        Persistence::is_durable(f.append))
      f.state = UnpublishedWrite::State::kDurable;
    if (f.state == UnpublishedWrite::State::kPending) break;
    std::shared_ptr<UnpublishedWrite> u = std::move(unpublished.front());
    unpublished.pop_front();
    if (u->state == UnpublishedWrite::State::kDurable) {
      FRESHET_ASSERT(u->ts >= now_ts && (!step_ts || u->ts >= *step_ts));
      if (step_ts && *step_ts != u->ts) flush();
      if (!step_ts) {
        step_ts = u->ts;
        step_changes = std::move(u->changes);
      } else {
        for (auto& [id, d] : u->changes) {
          RowDiffs& to = step_changes[id];
          if (to.empty()) to = std::move(d);
          else to.insert(to.end(), std::make_move_iterator(d.begin()), std::make_move_iterator(d.end()));
        }
      }
    }
    step_writes.push_back(std::move(u));
  }
  flush();
  // Only now, with every published write's changes queued: a woken writer is acknowledged
  // (its client may then read, once mu is free) only after its step is queued.
  for (auto& u : step_writes) {
    // Its writer only (at most one thread waits on it); after mu is let go when the caller
    // collects them (the reference keeps the write alive until then). `published` is set here
    // all the same, under mu, after state and status (release).
    if (done) {
      if (u->published.exchange(1, std::memory_order_acq_rel) == kWordSleeping) done->push_back(std::move(u));
    } else {
      set_word(u->published, 1);
    }
  }
  if (!step_writes.empty()) published_cv.notify_all();  // COMMIT of a block with DDL waits for an empty queue
}

void Coordinator::State::published_rows(uint64_t table_id, const TableData& data,
                                        const std::function<void(const Row&, int64_t)>& emit) const {
  std::unordered_map<Row, int64_t, RowHash> ahead;  // newest minus published, per row
  for (const auto& u : unpublished) {
    if (u->undone) continue;
    auto it = u->changes.find(table_id);
    if (it == u->changes.end()) continue;
    for (const auto& [r, n] : it->second) ahead[r] += n;
  }
  if (ahead.empty()) {
    for (const auto& [row, n] : data.rows) emit(row, n);
    return;
  }
  for (const auto& [row, n] : data.rows) {
    auto a = ahead.find(row);
    int64_t m = a == ahead.end() ? n : n - a->second;
    if (m > 0) emit(row, m);
  }
  // Rows that unpublished writes removed entirely.
  for (const auto& [row, d] : ahead)
    if (d < 0 && !data.rows.contains(row)) emit(row, -d);
}

std::optional<dataflow::PartitionedSnapshot> Coordinator::State::published_parts(uint64_t table_id, const TableData& data,
                                                                                 size_t parts, bool newest) const {
  if (!newest && has_unpublished(table_id)) return std::nullopt;
  return frozen_parts(newest_frozen(data), parts);
}

bool Coordinator::State::has_unpublished(uint64_t table_id) const {
  for (const auto& u : unpublished)
    if (!u->undone && u->changes.find(table_id) != u->changes.end()) return true;
  return false;
}

std::shared_ptr<const FrozenRows> Coordinator::State::frozen_rows(const TableData& data) { return newest_frozen(data); }

namespace {
// Tables under this many rows are copied (or mapped) by one thread.
constexpr size_t kParallelTableRows = 65536;
// How many parts a table's rows are read in: one per worker (the pool's threads and this one;
// at least two, so that one worker runs the same code), one under kParallelTableRows.
size_t table_parts(size_t rows) {
  return rows < kParallelTableRows ? 1 : std::max<size_t>(2, dataflow::WorkerPool::global().threads() + 1);
}
// Part p of `parts` of a table's rows: a range of the map's entry ids. The rows only change
// under write_mu, which the caller holds, and the map's const reads are safe from several
// threads.
std::pair<RowMap<int64_t>::const_iterator, RowMap<int64_t>::const_iterator> entry_part(const RowMap<int64_t>& rows, size_t p,
                                                                                        size_t parts) {
  const uint64_t ids = rows.end().id();  // entry ids run below this
  // The first live entry with an id at or after `id` (an iterator's ++ skips dead ids).
  auto at = [&](uint64_t id) {
    if (id == 0) return rows.begin();
    RowMap<int64_t>::const_iterator it(&rows, static_cast<uint32_t>(id - 1));
    return ++it;
  };
  return {at(ids * p / parts), p + 1 == parts ? rows.end() : at(ids * (p + 1) / parts)};
}
}  // namespace

dataflow::Batch mapped_table_rows(const TableData& data, const std::vector<dataflow::MfpStage>& stages, const EvalContext& ctx,
                                  const std::atomic<bool>* cancelled) {
  // The frozen copy when it is current (its rows are contiguous), else the map itself: one
  // copy of each row that passes (the chain's output), where building the frozen copy and
  // then running the dataflow's projection over it wrote each row twice.
  const std::shared_ptr<const FrozenRows> frozen = data.frozen.get();
  const bool from_frozen = frozen && frozen->version == data.version;
  const size_t total = from_frozen ? frozen->rows.size() : data.rows.size();
  const size_t parts = table_parts(total);
  std::vector<dataflow::Batch> part(parts);
  auto map = [&](size_t p) {
    dataflow::MfpProgram program(stages);  // one per thread: it keeps scratch buffers
    Arena arena;
    EvalContext ev = ctx;
    ev.arena = &arena;
    dataflow::Batch& out = part[p];
    // Part 0 becomes the whole: room for every part's updates up front (a filter's leftover
    // room is only address space), so that the concatenation does not move them again.
    out.reserve(p == 0 ? total : total / parts + 1);
    size_t n = 0;
    RowRef result;
    auto add = [&](RowRef row, int64_t diff) {
      if ((++n & dataflow::kPollMask) == 0 && cancelled != nullptr && cancelled->load(std::memory_order_relaxed))
        throw SqlError(sqlstate::kQueryCanceled, "canceling statement due to user request");
      if (program.apply(row, ev, result)) out.emplace_back(result, 0, diff);
      arena.reset();
    };
    if (from_frozen) {
      const size_t hi = (p + 1) * total / parts;
      for (size_t i = p * total / parts; i < hi; ++i) add(frozen->rows[i].row, frozen->rows[i].diff);
    } else {
      const auto [lo, hi] = entry_part(data.rows, p, parts);
      for (auto it = lo; it != hi; ++it) add(it->first.ref(), it->second);
    }
  };
  if (parts == 1) map(0);
  else dataflow::WorkerPool::global().run(parts, map);
  dataflow::Batch rows = std::move(part[0]);
  for (size_t p = 1; p < parts; ++p) rows.append(std::move(part[p]));
  return rows;
}

std::shared_ptr<const FrozenRows> newest_frozen(const TableData& data) {
  return data.frozen.get_or_build(data.version, [&] {
    auto f = std::make_shared<FrozenRows>();
    f->version = data.version;
    // One part per worker (table_parts), each a range of the map's entry ids (entry_part)
    // copied into a batch of its own, then concatenated (the parts' blocks are taken, no row
    // is copied twice).
    dataflow::WorkerPool& pool = dataflow::WorkerPool::global();
    const size_t parts = table_parts(data.rows.size());
    const RowMap<int64_t>& rows = data.rows;
    std::vector<dataflow::Batch> part(parts);
    auto copy = [&](size_t p) {
      const auto [lo, hi] = entry_part(rows, p, parts);
      size_t bytes = 0, count = 0;
      for (auto it = lo; it != hi; ++it) bytes += it->first.size_bytes(), ++count;
      // Part 0 becomes the whole copy: room for every part's updates up front, so that the
      // concatenation below does not move its updates again.
      part[p].reserve(p == 0 ? rows.size() : count);
      part[p].reserve_bytes(bytes);
      for (auto it = lo; it != hi; ++it) part[p].emplace_back(it->first, 0, it->second);
    };
    if (parts == 1) copy(0);
    else pool.run(parts, copy);
    f->rows = std::move(part[0]);
    if (parts > 1) {
      f->rows.reserve(data.rows.size());
      for (size_t p = 1; p < parts; ++p) f->rows.append(std::move(part[p]));
    }
    return std::shared_ptr<const FrozenRows>(std::move(f));
  });
}

std::shared_ptr<const FrozenRows> Coordinator::State::published_frozen(uint64_t table_id, const TableData& data) const {
  if (!has_unpublished(table_id)) return newest_frozen(data);
  auto f = std::make_shared<FrozenRows>();
  f->version = data.version;
  published_rows(table_id, data, [&](const Row& row, int64_t n) { f->rows.emplace_back(row, 0, n); });
  return f;
}

dataflow::PartitionedSnapshot frozen_parts(std::shared_ptr<const FrozenRows> frozen, size_t parts) {
  // Below this many rows one thread reads a part faster than the pool starts on it.
  constexpr size_t kRowsPerPart = 16384;
  dataflow::PartitionedSnapshot ps;
  const size_t total = frozen->rows.size();
  ps.parts = std::max<size_t>(1, std::min(parts, total / kRowsPerPart));
  ps.stable_rows = true;  // the scan's copy of `frozen` keeps them
  ps.rows_per_part = total / ps.parts + 1;
  ps.scan = [frozen, total, n = ps.parts](size_t p, const std::function<void(RowRef, int64_t)>& emit) {
    const size_t hi = (p + 1) * total / n;
    for (size_t i = p * total / n; i < hi; ++i) emit(frozen->rows[i].row, frozen->rows[i].diff);
  };
  return ps;
}

std::optional<Row> Coordinator::State::published_by_key(const sql::ObjectInfo& t, const TableData& data, const Row& key) const {
  // The oldest unpublished write that touched the key knows the published row: what it removed.
  for (const auto& u : unpublished) {
    if (u->undone) continue;
    auto it = u->changes.find(t.id);
    if (it == u->changes.end()) continue;
    bool touched = false;
    std::optional<Row> before;
    for (const auto& [r, n] : it->second) {
      if (table_row_key(t, r) != key) continue;
      touched = true;
      if (n < 0) before = r;
    }
    if (touched) return before;
  }
  const Row* f = data.row_by_key(key);
  if (!f) return std::nullopt;
  return *f;
}

}  // namespace freshet::server
