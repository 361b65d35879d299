#include "capture/sqlserver/change_rows.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/format.hpp"

namespace freshet::capture::sqlserver {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

std::string excerpt(std::string_view s) {
  if (s.size() <= 40) return std::string(s);
  return std::string(s.substr(0, 40)) + "...";
}

std::optional<int64_t> parse_int(std::string_view s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string table_label(const TableSchema& s) { return s.upstream_schema + "." + s.upstream_name; }

}  // namespace

Result<Lsn> Lsn::parse(std::string_view text) {
  std::string_view h = text;
  if (h.size() >= 2 && (h.substr(0, 2) == "0x" || h.substr(0, 2) == "0X" || h.substr(0, 2) == "\\x")) h.remove_prefix(2);
  if (h.size() != 20) return Status::error("invalid LSN '" + excerpt(text) + "': expected 10 bytes (20 hex digits)");
  Lsn l;
  for (size_t i = 0; i < 10; ++i) {
    int a = hex_value(h[2 * i]), b = hex_value(h[2 * i + 1]);
    if (a < 0 || b < 0) return Status::error("invalid LSN '" + excerpt(text) + "': not hex");
    l.bytes[i] = static_cast<uint8_t>(a * 16 + b);
  }
  return l;
}

std::string Lsn::hex() const {
  static const char* kDigits = "0123456789ABCDEF";
  std::string s;
  s.reserve(20);
  for (uint8_t b : bytes) {
    s.push_back(kDigits[b >> 4]);
    s.push_back(kDigits[b & 15]);
  }
  return s;
}

bool Lsn::is_zero() const {
  return std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

Lsn Lsn::increment() const {
  Lsn l = *this;
  for (size_t i = 10; i-- > 0;) {
    if (++l.bytes[i] != 0) break;
  }
  return l;
}

Result<Position> Position::parse(std::string_view text) {
  size_t colon = text.find(':');
  if (colon == std::string_view::npos) return Status::error("invalid SQL Server source position '" + excerpt(text) + "'");
  Position p;
  auto l = Lsn::parse(text.substr(0, colon));
  if (!l) return l.status();
  p.commit_lsn = *l;
  std::string_view rest = text.substr(colon + 1);
  if (rest == "-snapshot") {
    p.snapshot_in_progress = true;
    return p;
  }
  auto s = Lsn::parse(rest);
  if (!s) return s.status();
  p.seqval = *s;
  return p;
}

std::string Position::to_string() const {
  return commit_lsn.hex() + ":" + (snapshot_in_progress ? std::string("-snapshot") : seqval.hex());
}

Result<Type> map_type(const RawColumn& c, std::string_view table_label) {
  std::string t = lower(c.type_name);
  auto char_len = [&](bool unicode) -> int32_t {
    if (c.max_length < 0) return -1;
    return unicode ? c.max_length / 2 : c.max_length;
  };
  if (t == "bit") return Type(TypeId::kBool);
  if (t == "tinyint" || t == "smallint") return Type(TypeId::kInt2);
  if (t == "int") return Type(TypeId::kInt4);
  if (t == "bigint") return Type(TypeId::kInt8);
  if (t == "decimal" || t == "numeric") {
    if (c.precision < 1 || c.precision > 38 || c.scale < 0 || c.scale > c.precision) return Type(TypeId::kNumeric);
    return Type(TypeId::kNumeric, (c.precision << 16) | c.scale);
  }
  if (t == "money") return Type(TypeId::kNumeric, (19 << 16) | 4);
  if (t == "smallmoney") return Type(TypeId::kNumeric, (10 << 16) | 4);
  if (t == "float") return Type(c.precision > 0 && c.precision <= 24 ? TypeId::kFloat4 : TypeId::kFloat8);
  if (t == "real") return Type(TypeId::kFloat4);
  if (t == "char" || t == "nchar") {
    int32_t n = char_len(t == "nchar");
    return n > 0 ? Type(TypeId::kBpchar, n) : Type(TypeId::kText);
  }
  if (t == "varchar" || t == "nvarchar") {
    int32_t n = char_len(t == "nvarchar");
    return n > 0 ? Type(TypeId::kVarchar, n) : Type(TypeId::kText);
  }
  if (t == "text" || t == "ntext" || t == "sysname") return Type(TypeId::kText);
  if (t == "date") return Type(TypeId::kDate);
  if (t == "time") return Type(TypeId::kTime, std::min(c.scale, 6));
  if (t == "datetime") return Type(TypeId::kTimestamp, 3);
  if (t == "smalldatetime") return Type(TypeId::kTimestamp, 0);
  if (t == "datetime2") return Type(TypeId::kTimestamp, std::min(c.scale, 6));
  if (t == "datetimeoffset") return Type(TypeId::kTimestampTz, std::min(c.scale, 6));
  if (t == "uniqueidentifier") return Type(TypeId::kUuid);
  if (t == "binary" || t == "varbinary" || t == "image") return Type(TypeId::kBytea);
  return Status::error("column " + std::string(table_label) + "." + c.name + " has type " + c.type_name +
                       ", which a SQL Server source cannot capture (supported: bit, tinyint, smallint, int, bigint, "
                       "decimal, numeric, money, smallmoney, float, real, char, varchar, nchar, nvarchar, text, ntext, "
                       "date, time, datetime, datetime2, datetimeoffset, smalldatetime, uniqueidentifier, binary, "
                       "varbinary, image)");
}

Status decode_values(const CapturedTable& t, const TextRow& row, size_t first, Arena& arena, Row& value, Row& key) {
  const auto& cols = t.schema.columns;
  if (row.size() != first + cols.size())
    return Status::error("table " + table_label(t.schema) + ": a row has " + std::to_string(row.size() - std::min(row.size(), first)) +
                         " columns, expected " + std::to_string(cols.size()));
  thread_local std::vector<Datum> datums;
  thread_local std::vector<Datum> key_datums;
  datums.assign(cols.size(), Datum::null());
  for (size_t i = 0; i < cols.size(); ++i) {
    const auto& v = row[first + i];
    if (!v) {
      if (!cols[i].nullable)
        return Status::error("table " + table_label(t.schema) + " column " + cols[i].name + ": NULL in a NOT NULL column");
      continue;
    }
    try {
      datums[i] = parse_datum(*v, cols[i].type, arena);
    } catch (const SqlError& e) {
      return Status::error("table " + table_label(t.schema) + " column " + cols[i].name + ": cannot read value '" +
                           excerpt(*v) + "' as " + type_name(cols[i].type) + ": " + e.message());
    }
  }
  key_datums.clear();
  for (uint32_t k : t.schema.key) {
    if (k >= datums.size()) return Status::error("table " + table_label(t.schema) + ": bad key column");
    if (datums[k].is_null())
      return Status::error("table " + table_label(t.schema) + ": NULL in primary key column " + cols[k].name);
    key_datums.push_back(datums[k]);
  }
  value = Row::pack(datums);
  key = Row::pack(key_datums);
  return Status::ok();
}

Result<ChangeRow> decode_change_row(const CapturedTable& t, uint32_t table, const TextRow& row, Arena& arena) {
  std::string label = table_label(t.schema) + " (capture instance " + t.capture_instance + ")";
  if (row.size() < kChangeMetaColumns) return Status::error("change row of " + label + ": too few columns");
  if (!row[0] || !row[1] || !row[2]) return Status::error("change row of " + label + ": NULL __$start_lsn, __$seqval or __$operation");
  ChangeRow c;
  c.table = table;
  auto l = Lsn::parse(*row[0]);
  if (!l) return Status::error("change row of " + label + ": __$start_lsn: " + l.status().message());
  c.start_lsn = *l;
  auto s = Lsn::parse(*row[1]);
  if (!s) return Status::error("change row of " + label + ": __$seqval: " + s.status().message());
  c.seqval = *s;
  auto op = parse_int(*row[2]);
  if (!op || *op < 1 || *op > 4)
    return Status::error("change row of " + label + ": __$operation '" + excerpt(*row[2]) + "' is not 1, 2, 3 or 4");
  c.operation = static_cast<int>(*op);
  if (row[3]) {
    auto ms = parse_int(*row[3]);
    if (!ms || *ms < 0) return Status::error("change row of " + label + ": bad commit time '" + excerpt(*row[3]) + "'");
    c.commit_time_ms = static_cast<uint64_t>(*ms);
  }
  if (Status st = decode_values(t, row, kChangeMetaColumns, arena, c.value, c.key); !st) return st;
  return c;
}

Status ChangeAssembler::add(ChangeRow row) {
  if (have_prev_) {
    bool ordered = row.start_lsn > prev_lsn_ || (row.start_lsn == prev_lsn_ && row.seqval > prev_seq_) ||
                   (row.start_lsn == prev_lsn_ && row.seqval == prev_seq_ && row.operation > prev_op_);
    if (!ordered)
      return Status::error("change rows out of order: " + row.start_lsn.hex() + ":" + row.seqval.hex() + " after " +
                           prev_lsn_.hex() + ":" + prev_seq_.hex());
  }
  have_prev_ = true;
  prev_lsn_ = row.start_lsn;
  prev_seq_ = row.seqval;
  prev_op_ = row.operation;
  // Exactly once: everything at or before the stored position is already durable.
  if (row.start_lsn < after_.commit_lsn || (row.start_lsn == after_.commit_lsn && row.seqval <= after_.seqval)) return Status::ok();
  if (current_lsn_ && *current_lsn_ != row.start_lsn) close_current();
  if (!current_lsn_) {
    current_lsn_ = row.start_lsn;
    current_ = Transaction();
    current_.commit_time_ms = row.commit_time_ms;
  }
  current_seqval_ = row.seqval;
  if (before_ && (row.operation != 4 || before_->seqval != row.seqval || before_->table != row.table))
    return Status::error("an update's before image (__$operation 3) at " + before_->start_lsn.hex() + ":" + before_->seqval.hex() +
                         " has no after image (__$operation 4)");
  Change ch;
  ch.table = row.table;
  switch (row.operation) {
    case 1:
      ch.op = Change::Op::kDelete;
      ch.key = std::move(row.key);
      current_.changes.push_back(std::move(ch));
      break;
    case 2:
      ch.op = Change::Op::kUpsert;
      ch.key = std::move(row.key);
      ch.value = std::move(row.value);
      current_.changes.push_back(std::move(ch));
      break;
    case 3:
      before_ = std::move(row);
      break;
    case 4:
      if (!before_)
        return Status::error("an update's after image (__$operation 4) at " + row.start_lsn.hex() + ":" + row.seqval.hex() +
                             " has no before image (__$operation 3); the query must use N'all update old'");
      if (before_->key != row.key) {
        Change del;
        del.op = Change::Op::kDelete;
        del.table = row.table;
        del.key = std::move(before_->key);
        current_.changes.push_back(std::move(del));
      }
      before_.reset();
      ch.op = Change::Op::kUpsert;
      ch.key = std::move(row.key);
      ch.value = std::move(row.value);
      current_.changes.push_back(std::move(ch));
      break;
    default:
      return Status::error("__$operation " + std::to_string(row.operation) + " is not 1, 2, 3 or 4");
  }
  return Status::ok();
}

void ChangeAssembler::close_current() {
  if (!current_lsn_) return;
  Position p;
  p.commit_lsn = *current_lsn_;
  p.seqval = current_seqval_;
  current_.position = p.to_string();
  done_.push_back(std::move(current_));
  current_ = Transaction();
  after_ = p;
  current_lsn_.reset();
}

Status ChangeAssembler::finish() {
  if (before_)
    return Status::error("an update's before image (__$operation 3) at " + before_->start_lsn.hex() + ":" + before_->seqval.hex() +
                         " has no after image (__$operation 4)");
  close_current();
  return Status::ok();
}

std::vector<Transaction> ChangeAssembler::take() {
  std::vector<Transaction> out = std::move(done_);
  done_.clear();
  return out;
}

}  // namespace freshet::capture::sqlserver
