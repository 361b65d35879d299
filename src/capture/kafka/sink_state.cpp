#include "capture/kafka/sink_state.hpp"

#include "common/format.hpp"

namespace freshet::capture::kafka {

Row SinkState::key_of(RowRef row) const { return project_row(row, key_); }

std::string SinkState::describe_key(const Row& key) const {
  std::vector<Datum> ds = key.unpack();
  std::string out = "(";
  for (size_t i = 0; i < ds.size(); ++i) {
    if (i) out += ", ";
    if (ds[i].is_null()) out += "NULL";
    else if (i < key_.size() && key_[i] < types_.size()) format_datum(ds[i], types_[key_[i]], out);
    else out += "?";
  }
  return out + ")";
}

void SinkState::restore(Row key, Row value) {
  if (keyed()) {
    by_key_[std::move(key)] = std::move(value);
  } else {
    int64_t n = value.get(0).as_int();
    if (n > 0) counts_[std::move(key)] = n;
  }
}

void SinkState::set_row(const Row& key, std::optional<Row> row) {
  if (row) by_key_[key] = std::move(*row);
  else by_key_.erase(key);
  dirty_.insert(key);
}

void SinkState::add_count(const Row& row, int64_t n) {
  auto [it, fresh] = counts_.try_emplace(row, 0);
  it->second += n;
  FRESHET_ASSERT(it->second >= 0);
  if (it->second == 0) counts_.erase(it);
  dirty_.insert(row);
}

Status SinkState::apply(const RowDiffs& delta, std::vector<SinkMessage>& out) {
  if (!keyed()) {
    absl::flat_hash_map<Row, int64_t, RowHash> net;
    for (const auto& [r, d] : delta) net[r] += d;
    for (const auto& [r, d] : net) {
      if (d >= 0) continue;
      auto it = counts_.find(r);
      if (it == counts_.end() || it->second < -d) return Status::error("the changes retract a row that the sink never wrote");
    }
    for (const auto& [r, d] : net) {
      for (int64_t i = 0; i < (d < 0 ? -d : d); ++i) {
        SinkMessage m;
        if (d < 0) m.before = r;
        else m.after = r;
        out.push_back(std::move(m));
      }
      if (d != 0) add_count(r, d);
    }
    return Status::ok();
  }
  // Keyed: every touched key must end with at most one row.
  absl::flat_hash_map<Row, std::vector<std::pair<Row, int64_t>>, RowHash> by;
  for (const auto& [r, d] : delta) by[key_of(r.ref())].push_back({r, d});
  std::vector<std::pair<Row, std::optional<Row>>> outcome;
  outcome.reserve(by.size());
  for (auto& [k, changes] : by) {
    absl::flat_hash_map<Row, int64_t, RowHash> m;
    if (auto it = by_key_.find(k); it != by_key_.end()) m[it->second] += 1;
    for (const auto& [r, d] : changes) m[r] += d;
    std::optional<Row> now;
    for (const auto& [r, n] : m) {
      if (n == 0) continue;
      if (n < 0) return Status::error("the changes retract a row that the sink never wrote (key " + describe_key(k) + ")");
      if (n > 1 || now)
        return Status::error("the sink's KEY is not unique: key " + describe_key(k) + " has more than one row");
      now = r;
    }
    outcome.push_back({k, std::move(now)});
  }
  for (auto& [k, now] : outcome) {
    auto it = by_key_.find(k);
    std::optional<Row> before;
    if (it != by_key_.end()) before = it->second;
    if (before == now) continue;
    out.push_back({k, before, now});
    set_row(k, std::move(now));
  }
  return Status::ok();
}

Status SinkState::reconcile(const RowDiffs& snapshot, std::vector<SinkMessage>& out) {
  // The difference between the snapshot and the state is a delta like any other.
  RowDiffs delta;
  if (keyed()) {
    for (const auto& [k, r] : by_key_) delta.push_back({r, -1});
  } else {
    for (const auto& [r, n] : counts_) delta.push_back({r, -n});
  }
  delta.insert(delta.end(), snapshot.begin(), snapshot.end());
  return apply(delta, out);
}

void SinkState::apply_emitted(const SinkMessage& m) {
  if (keyed()) {
    FRESHET_ASSERT(m.key.has_value());
    set_row(*m.key, m.after);
    return;
  }
  if (m.before) {
    auto it = counts_.find(*m.before);
    if (it != counts_.end()) add_count(*m.before, -1);
  }
  if (m.after) add_count(*m.after, 1);
}

void SinkState::take_dirty(std::vector<std::pair<Row, std::optional<Row>>>& out) {
  for (const auto& k : dirty_) {
    if (keyed()) {
      auto it = by_key_.find(k);
      out.push_back({k, it == by_key_.end() ? std::nullopt : std::optional<Row>(it->second)});
    } else {
      auto it = counts_.find(k);
      if (it == counts_.end()) {
        out.push_back({k, std::nullopt});
      } else {
        std::vector<Datum> c = {Datum::from_int(it->second)};
        out.push_back({k, Row::pack(c)});
      }
    }
  }
  dirty_.clear();
}

}  // namespace freshet::capture::kafka
