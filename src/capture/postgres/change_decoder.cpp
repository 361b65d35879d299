#include "capture/postgres/change_decoder.hpp"

#include <fmt/format.h>

#include <utility>
#include <variant>

#include "common/format.hpp"

namespace freshet::capture::postgres {

namespace {

// pg_type oids (src/include/catalog/pg_type.dat).
enum : uint32_t {
  kOidBool = 16,
  kOidBytea = 17,
  kOidInt8 = 20,
  kOidInt2 = 21,
  kOidInt4 = 23,
  kOidText = 25,
  kOidOid = 26,
  kOidJson = 114,
  kOidFloat4 = 700,
  kOidFloat8 = 701,
  kOidBpchar = 1042,
  kOidVarchar = 1043,
  kOidDate = 1082,
  kOidTime = 1083,
  kOidTimestamp = 1114,
  kOidTimestampTz = 1184,
  kOidInterval = 1186,
  kOidNumeric = 1700,
  kOidUuid = 2950,
  kOidJsonb = 3802,
};

constexpr int32_t kVarHdrSz = 4;  // PostgreSQL adds VARHDRSZ to varchar/bpchar/numeric typmods

std::string table_label(const TableSchema& s) { return s.upstream_schema + "." + s.upstream_name; }

// A value for an error message: short, one line.
std::string excerpt(std::string_view v) {
  std::string s(v.substr(0, 40));
  for (char& c : s) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  if (v.size() > 40) s += "...";
  return s;
}

}  // namespace

Type map_pg_type(uint32_t oid, int32_t typmod) {
  switch (oid) {
    case kOidBool: return Type(TypeId::kBool);
    case kOidInt2: return Type(TypeId::kInt2);
    case kOidInt4: return Type(TypeId::kInt4);
    case kOidInt8: return Type(TypeId::kInt8);
    case kOidFloat4: return Type(TypeId::kFloat4);
    case kOidFloat8: return Type(TypeId::kFloat8);
    case kOidNumeric: {
      if (typmod < kVarHdrSz) return Type(TypeId::kNumeric);
      int32_t m = typmod - kVarHdrSz;
      int32_t precision = (m >> 16) & 0xffff;
      int32_t scale = ((m & 0x7ff) ^ 0x400) - 0x400;  // PostgreSQL 15 allows a negative scale
      // Freshet's numeric(p, s) needs 0 <= s <= p <= 38; other modifiers are left to the
      // upstream (its values already conform), and an out-of-range value fails to parse.
      if (scale < 0 || scale > precision || precision > 38) return Type(TypeId::kNumeric);
      return Type(TypeId::kNumeric, (precision << 16) | scale);
    }
    case kOidText: return Type(TypeId::kText);
    case kOidVarchar: return Type(TypeId::kVarchar, typmod >= kVarHdrSz ? typmod - kVarHdrSz : -1);
    case kOidBpchar: return Type(TypeId::kBpchar, typmod >= kVarHdrSz ? typmod - kVarHdrSz : -1);
    case kOidBytea: return Type(TypeId::kBytea);
    case kOidDate: return Type(TypeId::kDate);
    case kOidTime: return Type(TypeId::kTime, typmod >= 0 && typmod <= 6 ? typmod : -1);
    case kOidTimestamp: return Type(TypeId::kTimestamp, typmod >= 0 && typmod <= 6 ? typmod : -1);
    case kOidTimestampTz: return Type(TypeId::kTimestampTz, typmod >= 0 && typmod <= 6 ? typmod : -1);
    case kOidInterval: return Type(TypeId::kInterval);
    case kOidUuid: return Type(TypeId::kUuid);
    case kOidJson:
    case kOidJsonb: return Type(TypeId::kJsonb);
    case kOidOid: return Type(TypeId::kOid);
    default: return Type(TypeId::kText);
  }
}

bool pg_type_is_native(uint32_t oid) { return oid == kOidText || map_pg_type(oid, -1).id != TypeId::kText; }

Status decode_row(const CapturedTable& table, std::span<const std::optional<std::string_view>> values,
                  Arena& arena, Row& value, Row& key) {
  const auto& cols = table.schema.columns;
  if (values.size() != cols.size()) {
    return Status::error(fmt::format("table {}: a row has {} columns, expected {}", table_label(table.schema),
                                     values.size(), cols.size()));
  }
  // Per-thread scratch: decoding is the hot path and should not allocate per row.
  thread_local std::vector<Datum> datums;
  thread_local std::vector<Datum> key_datums;
  datums.assign(cols.size(), Datum());
  for (size_t i = 0; i < cols.size(); ++i) {
    if (!values[i]) {
      datums[i] = Datum::null();
      continue;
    }
    try {
      datums[i] = parse_datum(*values[i], cols[i].type, arena);
    } catch (const SqlError& e) {
      return Status::error(fmt::format("table {} column {}: cannot read value '{}' as {}: {}",
                                       table_label(table.schema), cols[i].name, excerpt(*values[i]),
                                       type_name(cols[i].type), e.message()));
    }
  }
  value = Row::pack(datums);
  key_datums.clear();
  for (uint32_t k : table.schema.key) key_datums.push_back(datums[k]);
  key = Row::pack(key_datums);
  return Status::ok();
}

ChangeDecoder::ChangeDecoder(std::vector<CapturedTable> tables, Lsn skip_through, size_t max_transaction_bytes)
    : tables_(std::move(tables)), max_transaction_bytes_(max_transaction_bytes), skip_through_(skip_through) {
  for (size_t i = 0; i < tables_.size(); ++i) {
    FRESHET_ASSERT(!tables_[i].schema.key.empty());
    FRESHET_ASSERT(tables_[i].schema.columns.size() <= kMaxColumns);
    table_by_name_[table_label(tables_[i].schema)] = static_cast<int>(i);
  }
}

void ChangeDecoder::reset_session(Lsn skip_through) {
  skip_through_ = skip_through;
  relations_.clear();
  in_txn_ = false;
  txn_ = Transaction{};
  txn_bytes_ = 0;
  arena_.reset();
}

Result<std::optional<Transaction>> ChangeDecoder::feed(std::string_view payload) {
  PgoutputMessage msg;
  try {
    msg = decode_pgoutput(payload);
  } catch (const SqlError& e) {
    return Status::error(e.message());
  }
  arena_.reset();
  return handle(msg);
}

Status ChangeDecoder::on_relation(const RelationMsg& m) {
  std::string name = fmt::format("{}.{}", m.nspname, m.relname);
  Relation rel;
  rel.name = name;
  for (size_t i = 0; i < tables_.size(); ++i) {
    if (tables_[i].relid == m.relid) rel.table = static_cast<int>(i);
  }
  if (rel.table < 0) {
    auto it = table_by_name_.find(name);
    if (it != table_by_name_.end()) {
      // The name is captured but the relation is another one: dropped and created again.
      return Status::error(fmt::format(
          "table {} was replaced upstream (relation id {} instead of {}); recreate the source", name, m.relid,
          tables_[static_cast<size_t>(it->second)].relid));
    }
    relations_[m.relid] = std::move(rel);
    return Status::ok();
  }
  if (stopped_.count(rel.table)) {
    rel.table = -1;  // stopped earlier: its changes are no longer captured
    relations_[m.relid] = std::move(rel);
    return Status::ok();
  }
  const CapturedTable& t = tables_[static_cast<size_t>(rel.table)];
  std::string why;
  if (name != table_label(t.schema)) {
    why = fmt::format("renamed to {}", name);
  } else if (m.columns.size() != t.schema.columns.size()) {
    why = fmt::format("{} columns instead of {}", m.columns.size(), t.schema.columns.size());
  } else {
    for (size_t i = 0; i < m.columns.size() && why.empty(); ++i) {
      const RelationColumn& c = m.columns[i];
      if (c.name != t.schema.columns[i].name) {
        why = fmt::format("column {} is now {}", t.schema.columns[i].name, c.name);
      } else if (c.type_oid != t.type_oids[i] || c.typmod != t.typmods[i]) {
        why = fmt::format("column {} changed type", c.name);
      }
    }
  }
  if (!why.empty()) {
    // Only this table stops (Materialize's subsource model); the source goes on with the others.
    stop_table(rel.table, fmt::format("schema of table {} changed upstream ({}); its capture stopped, recreate the source "
                                      "to capture it again", table_label(t.schema), why));
    rel.table = -1;
  }
  relations_[m.relid] = std::move(rel);
  return Status::ok();
}

void ChangeDecoder::stop_table(int table, std::string why) {
  stopped_[table] = why;
  pending_stops_.push_back({static_cast<uint32_t>(table), std::move(why)});
}

Result<const ChangeDecoder::Relation*> ChangeDecoder::relation(uint32_t relid, const char* what) {
  if (!in_txn_) return Status::error(fmt::format("replication protocol: {} outside a transaction", what));
  auto it = relations_.find(relid);
  if (it == relations_.end()) {
    return Status::error(fmt::format("replication protocol: {} of relation {} before its Relation message", what, relid));
  }
  return &it->second;
}

Status ChangeDecoder::row_from_tuple(int table, const TupleData& tuple, const TupleData* old_full, Row& value,
                                     Row& key) {
  const CapturedTable& t = tables_[static_cast<size_t>(table)];
  if (tuple.size() != t.schema.columns.size() || (old_full && old_full->size() != tuple.size())) {
    return Status::error(fmt::format("replication protocol: a row of table {} has {} columns, expected {}",
                                     table_label(t.schema), tuple.size(), t.schema.columns.size()));
  }
  scratch_.clear();
  for (size_t i = 0; i < tuple.size(); ++i) {
    const TupleValue* v = &tuple[i];
    if (v->kind == TupleValue::Kind::kUnchangedToast && old_full) v = &(*old_full)[i];
    switch (v->kind) {
      case TupleValue::Kind::kNull: scratch_.emplace_back(std::nullopt); break;
      case TupleValue::Kind::kText: scratch_.emplace_back(v->data); break;
      case TupleValue::Kind::kUnchangedToast:
        return Status::error(fmt::format(
            "table {}: an UPDATE left the large (TOASTed) value of column {} unchanged and PostgreSQL did not send "
            "it; run ALTER TABLE {} REPLICA IDENTITY FULL upstream and recreate the source",
            table_label(t.schema), t.schema.columns[i].name, table_label(t.schema)));
      case TupleValue::Kind::kBinary:
        return Status::error("replication protocol: binary tuple values were not requested");
    }
  }
  return decode_row(t, scratch_, arena_, value, key);
}

Status ChangeDecoder::key_from_old(int table, char old_kind, const TupleData& tuple, Row& key) {
  const CapturedTable& t = tables_[static_cast<size_t>(table)];
  if (tuple.size() != t.schema.columns.size()) {
    return Status::error(fmt::format("replication protocol: an old row of table {} has {} columns, expected {}",
                                     table_label(t.schema), tuple.size(), t.schema.columns.size()));
  }
  thread_local std::vector<Datum> datums;
  datums.assign(t.schema.key.size(), Datum());
  size_t n = 0;
  for (uint32_t col : t.schema.key) {
    const TupleValue& v = tuple[col];
    if (v.kind == TupleValue::Kind::kNull) {
      datums[n++] = Datum::null();
    } else if (v.kind == TupleValue::Kind::kText) {
      try {
        datums[n++] = parse_datum(v.data, t.schema.columns[col].type, arena_);
      } catch (const SqlError& e) {
        return Status::error(fmt::format("table {} column {}: cannot read key value '{}': {}", table_label(t.schema),
                                         t.schema.columns[col].name, excerpt(v.data), e.message()));
      }
    } else {
      return Status::error(fmt::format("table {}: the old row's key column {} was not sent ({})",
                                       table_label(t.schema), t.schema.columns[col].name, old_kind));
    }
  }
  key = Row::pack(datums);
  return Status::ok();
}

Status ChangeDecoder::add(Change c) {
  txn_bytes_ += c.key.size_bytes() + c.value.size_bytes() + 16;
  if (txn_bytes_ > max_transaction_bytes_) {
    return Status::error(fmt::format(
        "an upstream transaction is larger than max_transaction_bytes ({} bytes); raise the limit", max_transaction_bytes_));
  }
  txn_.changes.push_back(std::move(c));
  return Status::ok();
}

namespace {
// A pgoutput commit time (microseconds since 2000-01-01, an i64 off the wire) as Unix
// milliseconds; 0 (unknown) when it is before 1970 or past what int64 milliseconds hold. The
// sum overflowed int64 for times near its maximum (UBSan under fuzz_pgoutput).
uint64_t commit_time_unix_ms(int64_t pg_us) {
  __int128 unix_us = static_cast<__int128>(pg_us) + kUnixToPgEpochMicros;
  if (unix_us < 0) return 0;
  return static_cast<uint64_t>(unix_us / 1000);
}
}  // namespace

Result<std::optional<Transaction>> ChangeDecoder::handle(const PgoutputMessage& msg) {
  using Out = std::optional<Transaction>;
  if (const auto* b = std::get_if<BeginMsg>(&msg)) {
    if (in_txn_) return Status::error("replication protocol: Begin inside a transaction");
    in_txn_ = true;
    txn_ = Transaction{};
    txn_bytes_ = 0;
    txn_.commit_time_ms = commit_time_unix_ms(b->commit_time_us);
    return Out();
  }
  if (const auto* c = std::get_if<CommitMsg>(&msg)) {
    if (!in_txn_) return Status::error("replication protocol: Commit outside a transaction");
    in_txn_ = false;
    if (c->end_lsn <= skip_through_) {
      ++stats_.skipped_transactions;
      return Out();
    }
    // A stopped table is told with the next delivered transaction (a position-only one if need be).
    txn_.stopped_tables = std::move(pending_stops_);
    pending_stops_.clear();
    if (txn_.changes.empty() && txn_.stopped_tables.empty()) {
      ++stats_.empty_transactions;
      return Out();
    }
    ++stats_.transactions;
    txn_.position = format_lsn(c->end_lsn);
    txn_.commit_time_ms = commit_time_unix_ms(c->commit_time_us);
    Transaction out = std::move(txn_);
    txn_ = Transaction{};
    return Out(std::move(out));
  }
  if (const auto* r = std::get_if<RelationMsg>(&msg)) {
    Status s = on_relation(*r);
    if (!s) return s;
    return Out();
  }
  if (const auto* ins = std::get_if<InsertMsg>(&msg)) {
    auto rel = relation(ins->relid, "Insert");
    if (!rel) return rel.status();
    if ((*rel)->table < 0) return Out();
    Change ch;
    ch.table = static_cast<uint32_t>((*rel)->table);
    Status s = row_from_tuple((*rel)->table, ins->new_tuple, nullptr, ch.value, ch.key);
    if (s) s = add(std::move(ch));
    if (!s) return s;
    return Out();
  }
  if (const auto* up = std::get_if<UpdateMsg>(&msg)) {
    auto rel = relation(up->relid, "Update");
    if (!rel) return rel.status();
    int table = (*rel)->table;
    if (table < 0) return Out();
    Change ch;
    ch.table = static_cast<uint32_t>(table);
    Status s = row_from_tuple(table, up->new_tuple, up->old_kind == 'O' ? &up->old_tuple : nullptr, ch.value, ch.key);
    if (!s) return s;
    if (up->old_kind != 0) {
      Row old_key;
      s = key_from_old(table, up->old_kind, up->old_tuple, old_key);
      if (!s) return s;
      if (!(old_key == ch.key)) {
        // The key changed: the old key's row is gone.
        Change del;
        del.op = Change::Op::kDelete;
        del.table = ch.table;
        del.key = std::move(old_key);
        s = add(std::move(del));
        if (!s) return s;
      }
    }
    s = add(std::move(ch));
    if (!s) return s;
    return Out();
  }
  if (const auto* del = std::get_if<DeleteMsg>(&msg)) {
    auto rel = relation(del->relid, "Delete");
    if (!rel) return rel.status();
    if ((*rel)->table < 0) return Out();
    Change ch;
    ch.op = Change::Op::kDelete;
    ch.table = static_cast<uint32_t>((*rel)->table);
    Status s = key_from_old((*rel)->table, del->old_kind, del->old_tuple, ch.key);
    if (s) s = add(std::move(ch));
    if (!s) return s;
    return Out();
  }
  if (const auto* tr = std::get_if<TruncateMsg>(&msg)) {
    for (uint32_t relid : tr->relids) {
      auto rel = relation(relid, "Truncate");
      if (!rel) return rel.status();
      if ((*rel)->table < 0) continue;
      return Status::error(fmt::format(
          "table {} was truncated upstream; Freshet does not replicate TRUNCATE (its rows would stay); recreate "
          "the source",
          (*rel)->name));
    }
    return Out();
  }
  // Origin, Type (custom types are captured as text) and logical messages carry nothing we keep.
  return Out();
}

}  // namespace freshet::capture::postgres
