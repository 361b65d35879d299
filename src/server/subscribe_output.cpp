#include "server/subscribe_output.hpp"

#include <algorithm>

#include "common/error.hpp"
#include "dataflow/update.hpp"

namespace freshet::server {

namespace {

uint32_t column_index(const std::vector<Column>& data, const std::string& name, const char* what) {
  for (size_t i = 0; i < data.size(); ++i)
    if (data[i].name == name) return static_cast<uint32_t>(i);
  throw SqlError(sqlstate::kUndefinedColumn, std::string("column \"") + name + "\" does not exist (in " + what + ")");
}

// ORDER BY's order of two datums under a sort key (NULLS FIRST/LAST, DESC).
int compare_key(const Datum& a, const Datum& b, const dataflow::SortKey& k) {
  if (a.is_null() || b.is_null()) {
    if (a.is_null() && b.is_null()) return 0;
    return (a.is_null() == k.nulls_first) ? -1 : 1;
  }
  int c = compare_datums(a, b);
  return k.descending ? -c : c;
}

}  // namespace

SubscribeOutput plan_subscribe_output(const sql::StreamingStatement& st, const std::vector<Column>& data,
                                      std::vector<Column>& out) {
  SubscribeOutput o;
  o.arity = data.size();
  if (!st.envelope.empty() && !st.within_order.empty())
    throw SqlError(sqlstate::kFeatureNotSupported, "SUBSCRIBE with both ENVELOPE and WITHIN TIMESTAMP ORDER BY is not supported");
  if (st.envelope.empty()) {
    for (const auto& k : st.within_order) {
      dataflow::SortKey key;
      key.column = k.column == "mz_diff" ? 0 : column_index(data, k.column, "WITHIN TIMESTAMP ORDER BY") + 1;
      key.descending = k.descending;
      key.nulls_first = k.nulls_first.value_or(k.descending);
      o.order.push_back(key);
    }
    if (!o.order.empty()) o.kind = SubscribeOutput::Kind::kOrdered;
    out.push_back({"mz_diff", Type(TypeId::kInt8)});
    out.insert(out.end(), data.begin(), data.end());
    return o;
  }
  o.kind = st.envelope == "debezium" ? SubscribeOutput::Kind::kDebezium : SubscribeOutput::Kind::kUpsert;
  if (st.envelope_key.empty()) throw SqlError(sqlstate::kSyntaxError, "ENVELOPE " + st.envelope + " needs KEY (columns)");
  for (const auto& name : st.envelope_key) {
    uint32_t c = column_index(data, name, "KEY");
    if (std::find(o.key.begin(), o.key.end(), c) != o.key.end())
      throw SqlError(sqlstate::kDuplicateColumn, "column \"" + name + "\" appears more than once in KEY");
    o.key.push_back(c);
  }
  for (uint32_t c = 0; c < data.size(); ++c)
    if (std::find(o.key.begin(), o.key.end(), c) == o.key.end()) o.values.push_back(c);
  out.push_back({"mz_state", Type(TypeId::kText)});
  for (uint32_t c : o.key) out.push_back({data[c].name, data[c].type});
  if (o.kind == SubscribeOutput::Kind::kDebezium) {
    for (uint32_t c : o.values) out.push_back({"before_" + data[c].name, data[c].type});
    for (uint32_t c : o.values) out.push_back({"after_" + data[c].name, data[c].type});
  } else {
    for (uint32_t c : o.values) out.push_back({data[c].name, data[c].type});
  }
  return o;
}

std::vector<Row> SubscribeOutput::rows(std::vector<std::pair<Row, int64_t>> changes) const {
  dataflow::consolidate(changes);
  std::vector<Row> out;
  std::vector<std::vector<Datum>> datums(changes.size());
  for (size_t i = 0; i < changes.size(); ++i) changes[i].first.unpack_into(datums[i]);
  std::vector<size_t> idx(changes.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::vector<Datum> ds;
  if (kind == Kind::kDiffs || kind == Kind::kOrdered) {
    // Sorted by the ORDER BY columns, then by row (and diff) as Materialize breaks ties.
    auto at = [&](size_t i, uint32_t c) { return c == 0 ? Datum::from_int(changes[i].second) : datums[i][c - 1]; };
    std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
      for (const auto& k : order)
        if (int c = compare_key(at(a, k.column), at(b, k.column), k); c != 0) return c < 0;
      if (int c = compare_rows(changes[a].first.ref(), changes[b].first.ref()); c != 0) return c < 0;
      return changes[a].second < changes[b].second;
    });
    for (size_t i : idx) {
      ds.clear();
      ds.push_back(Datum::from_int(changes[i].second));
      ds.insert(ds.end(), datums[i].begin(), datums[i].end());
      out.push_back(Row::pack(ds));
    }
    return out;
  }
  // Envelopes: by key (ascending, NULLs last), then by diff.
  auto key_cmp = [&](size_t a, size_t b) {
    for (uint32_t c : key)
      if (int r = compare_datums(datums[a][c], datums[b][c]); r != 0) return r;
    return 0;
  };
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    if (int c = key_cmp(a, b); c != 0) return c < 0;
    return changes[a].second < changes[b].second;
  });
  bool debezium = kind == Kind::kDebezium;
  for (size_t g = 0; g < idx.size();) {
    size_t e = g + 1;
    while (e < idx.size() && key_cmp(idx[g], idx[e]) == 0) ++e;
    size_t n = e - g;
    const size_t first = idx[g];
    ds.clear();
    auto push_key = [&](size_t i) {
      for (uint32_t c : key) ds.push_back(datums[i][c]);
    };
    auto push_values = [&](size_t i) {
      for (uint32_t c : values) ds.push_back(datums[i][c]);
    };
    auto push_nulls = [&]() {
      for (size_t k = 0; k < values.size(); ++k) ds.push_back(Datum::null());
    };
    if (n == 1 && changes[first].second == 1) {
      ds.push_back(Datum::from_string(debezium ? "insert" : "upsert"));
      push_key(first);
      if (debezium) push_nulls();
      push_values(first);
    } else if (n == 1 && changes[first].second == -1) {
      ds.push_back(Datum::from_string("delete"));
      push_key(first);
      if (debezium) push_values(first);
      push_nulls();
    } else if (n == 2 && changes[first].second == -1 && changes[idx[g + 1]].second == 1) {
      size_t now = idx[g + 1];
      ds.push_back(Datum::from_string("upsert"));
      push_key(now);
      if (debezium) push_values(first);
      push_values(now);
    } else {
      ds.push_back(Datum::from_string("key_violation"));
      push_key(first);
      if (debezium) push_nulls();
      push_nulls();
    }
    out.push_back(Row::pack(ds));
    g = e;
  }
  return out;
}

}  // namespace freshet::server
