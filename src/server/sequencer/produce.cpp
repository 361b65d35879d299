// Kafka Produce into a table's collection: one write transaction through the write path.
#include "server/sequencer/executor.hpp"

namespace freshet::server {

void produce_into_table(Coordinator::State& cs, uint64_t table_id, const std::vector<std::pair<Row, std::optional<Row>>>& records) {
  Session::State dummy;
  std::vector<Type> no_params;
  Executor ex(cs, dummy, {}, no_params);
  ex.begin_produce();
  const sql::ObjectInfo* t = cs.catalog.find(table_id);
  TableData* data = cs.catalog.table_data(table_id);
  if (!t || !data) throw SqlError(sqlstate::kUndefinedTable, "the table was dropped");
  RowDiffs changes;
  // The rows as of the changes made so far in this batch, by key.
  std::unordered_map<Row, std::optional<Row>, RowHash> now;
  std::vector<Datum> ds;
  for (const auto& [key, value] : records) {
    if (value) {
      ds.clear();
      value->unpack_into(ds);
      if (ds.size() != t->columns.size())
        throw SqlError(sqlstate::kDatatypeMismatch, "a record for " + t->name + " has " + std::to_string(ds.size()) +
                                                        " columns; the table has " + std::to_string(t->columns.size()));
    }
    if (t->primary_key.empty()) {
      if (value) changes.push_back({*value, 1});
      else {
        auto it = data->rows.find(key);
        if (it != data->rows.end()) changes.push_back({key, -it->second});
      }
      continue;
    }
    Row k = key;
    if (value) {
      std::vector<Datum> kd;
      for (auto c : t->primary_key) kd.push_back(ds[c]);
      k = Row::pack(kd);
    }
    auto it = now.find(k);
    if (it == now.end()) {
      const Row* cur = data->row_by_key(k);
      it = now.emplace(k, cur ? std::optional<Row>(*cur) : std::nullopt).first;
    }
    if (it->second) changes.push_back({*it->second, -1});
    if (value) changes.push_back({*value, 1});
    it->second = value;
  }
  if (changes.empty()) return;
  ex.write_for_produce(*t, changes);
  ex.commit_produce();
}

}  // namespace freshet::server
