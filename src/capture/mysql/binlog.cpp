#include "capture/mysql/binlog.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cstring>

#include "common/format.hpp"

namespace freshet::capture::mysql {

namespace {

constexpr size_t kHeaderSize = 19;

Status corrupt(std::string_view what) { return Status::error("binlog: malformed event: " + std::string(what)); }

// Bounds-checked little-endian reader over event bytes.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  size_t left() const { return s_.size(); }
  bool skip(size_t n) {
    if (n > s_.size()) return false;
    s_.remove_prefix(n);
    return true;
  }
  bool bytes(size_t n, std::string_view& out) {
    if (n > s_.size()) return false;
    out = s_.substr(0, n);
    s_.remove_prefix(n);
    return true;
  }
  bool le(size_t n, uint64_t& out) {
    if (n > s_.size() || n > 8) return false;
    out = 0;
    for (size_t i = 0; i < n; ++i) out |= static_cast<uint64_t>(static_cast<uint8_t>(s_[i])) << (8 * i);
    s_.remove_prefix(n);
    return true;
  }
  template <typename T>
  bool le_as(size_t n, T& out) {
    uint64_t v = 0;
    if (!le(n, v)) return false;
    out = static_cast<T>(v);
    return true;
  }
  // Length-encoded integer.
  bool lenenc(uint64_t& out) {
    uint8_t first = 0;
    if (!le_as(1, first)) return false;
    if (first < 0xfb) {
      out = first;
      return true;
    }
    if (first == 0xfc) return le(2, out);
    if (first == 0xfd) return le(3, out);
    if (first == 0xfe) return le(8, out);
    return false;
  }
  std::string_view rest() const { return s_; }

 private:
  std::string_view s_;
};

uint64_t be(std::string_view s) {
  uint64_t v = 0;
  for (char ch : s) v = (v << 8) | static_cast<uint8_t>(ch);
  return v;
}

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}

std::vector<bool> read_bitmap(std::string_view bits, uint32_t n) {
  std::vector<bool> v(n);
  for (uint32_t i = 0; i < n; ++i) v[i] = (static_cast<uint8_t>(bits[i / 8]) >> (i % 8)) & 1;
  return v;
}

// Table-map metadata per column type: how many bytes and how they pack into a uint16.
bool read_metadata(Reader& r, uint8_t type, uint16_t& meta) {
  uint64_t a = 0, b = 0;
  switch (type) {
    case field_type::kFloat:
    case field_type::kDouble:
    case field_type::kBlob:
    case field_type::kTinyBlob:
    case field_type::kMediumBlob:
    case field_type::kLongBlob:
    case field_type::kGeometry:
    case field_type::kJson:
    case field_type::kTimestamp2:
    case field_type::kDateTime2:
    case field_type::kTime2:
      if (!r.le(1, a)) return false;
      meta = static_cast<uint16_t>(a);
      return true;
    case field_type::kVarchar:
    case field_type::kVarString:
      if (!r.le(2, a)) return false;
      meta = static_cast<uint16_t>(a);  // max length in bytes
      return true;
    case field_type::kBit:
      // byte 0: bits % 8, byte 1: bits / 8.
      if (!r.le(1, a) || !r.le(1, b)) return false;
      meta = static_cast<uint16_t>(a | (b << 8));
      return true;
    case field_type::kNewDecimal:
    case field_type::kString:
    case field_type::kEnum:
    case field_type::kSet:
      // decimal: precision, scale; string: real type, length (see string_meta).
      if (!r.le(1, a) || !r.le(1, b)) return false;
      meta = static_cast<uint16_t>((a << 8) | b);
      return true;
    default:
      meta = 0;
      return true;
  }
}

// STRING metadata: the real type (STRING, ENUM, SET) and the maximum length in bytes.
void string_meta(uint16_t meta, uint8_t& real_type, uint32_t& max_len) {
  uint8_t b0 = static_cast<uint8_t>(meta >> 8), b1 = static_cast<uint8_t>(meta);
  if ((b0 & 0x30) != 0x30) {
    max_len = b1 | ((static_cast<uint32_t>(b0 & 0x30) ^ 0x30) << 4);
    real_type = static_cast<uint8_t>(b0 | 0x30);
  } else {
    max_len = b1;
    real_type = b0;
  }
}

bool kind_accepts(const ColumnInfo& c, uint8_t type, uint16_t meta) {
  using namespace field_type;
  uint8_t real = 0;
  uint32_t len = 0;
  if (type == kString) string_meta(meta, real, len);
  switch (c.kind) {
    case MyKind::kTinyInt: return type == kTiny;
    case MyKind::kSmallInt: return type == kShort;
    case MyKind::kMediumInt: return type == kInt24;
    case MyKind::kInt: return type == kLong;
    case MyKind::kBigInt: return type == kLongLong;
    case MyKind::kFloat: return type == kFloat;
    case MyKind::kDouble: return type == kDouble;
    case MyKind::kDecimal:
      return type == kNewDecimal && (meta >> 8) == c.precision && (meta & 0xff) == c.scale;
    case MyKind::kDate: return type == kDate || type == kNewDate;
    case MyKind::kTime: return type == kTime || type == kTime2;
    case MyKind::kDateTime: return type == kDateTime || type == kDateTime2;
    case MyKind::kTimestamp: return type == kTimestamp || type == kTimestamp2;
    case MyKind::kYear: return type == kYear;
    case MyKind::kBit: return type == kBit;
    case MyKind::kChar:
    case MyKind::kBinary: return type == kString && real == kString;
    case MyKind::kEnum: return (type == kString && real == kEnum) || type == kEnum;
    case MyKind::kSet: return (type == kString && real == kSet) || type == kSet;
    case MyKind::kVarchar:
    case MyKind::kVarbinary: return type == kVarchar || type == kVarString;
    case MyKind::kText:
    case MyKind::kBlob:
    case MyKind::kJson:
      return type == kBlob || type == kTinyBlob || type == kMediumBlob || type == kLongBlob || type == kJson;
  }
  return false;
}

// Fractional seconds of the MySQL 5.6 temporal formats: (fsp + 1) / 2 big-endian bytes.
bool read_frac(Reader& r, uint16_t fsp, int64_t& micros) {
  std::string_view b;
  switch (fsp) {
    case 0: micros = 0; return true;
    case 1: case 2: if (!r.bytes(1, b)) return false; micros = static_cast<int64_t>(be(b)) * 10000; return true;
    case 3: case 4: if (!r.bytes(2, b)) return false; micros = static_cast<int64_t>(be(b)) * 100; return true;
    case 5: case 6: if (!r.bytes(3, b)) return false; micros = static_cast<int64_t>(be(b)); return true;
    default: return false;
  }
}

Result<Datum> decode_decimal(uint16_t meta, Reader& r) {
  static constexpr int kDigToBytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
  static constexpr uint32_t kPow10[10] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000};
  int precision = meta >> 8, scale = meta & 0xff;
  if (precision < 1 || precision > 38 || scale > precision) return corrupt("decimal precision");
  int intg = precision - scale;
  int intg0 = intg / 9, intg0x = intg % 9, frac0 = scale / 9, frac0x = scale % 9;
  size_t size = static_cast<size_t>(intg0 * 4 + kDigToBytes[intg0x] + frac0 * 4 + kDigToBytes[frac0x]);
  std::string_view raw;
  if (!r.bytes(size, raw)) return corrupt("decimal value");
  std::string buf(raw);
  bool negative = (static_cast<uint8_t>(buf[0]) & 0x80) == 0;
  buf[0] = static_cast<char>(buf[0] ^ 0x80);
  if (negative)
    for (char& ch : buf) ch = static_cast<char>(~ch);
  __int128 mantissa = 0;
  size_t at = 0;
  auto group = [&](int bytes, int digits) -> bool {
    if (bytes == 0) return true;
    uint64_t v = be(std::string_view(buf).substr(at, static_cast<size_t>(bytes)));
    at += static_cast<size_t>(bytes);
    if (v >= kPow10[digits]) return false;
    mantissa = mantissa * kPow10[digits] + static_cast<__int128>(v);
    return true;
  };
  bool ok = group(kDigToBytes[intg0x], intg0x);
  for (int i = 0; ok && i < intg0; ++i) ok = group(4, 9);
  for (int i = 0; ok && i < frac0; ++i) ok = group(4, 9);
  if (ok) ok = group(kDigToBytes[frac0x], frac0x);
  if (!ok) return corrupt("decimal digits");
  Numeric n;
  n.mantissa = negative ? -mantissa : mantissa;
  n.scale = static_cast<int16_t>(scale);
  return Datum::from_numeric(n);
}

Result<Datum> string_value(std::string_view bytes, const ColumnInfo& c, Arena& arena) {
  switch (c.kind) {
    case MyKind::kBinary: {
      // BINARY(n) is stored without its trailing zero bytes; SELECT returns all n.
      if (bytes.size() >= c.char_max_length) return Datum::from_string(arena.copy(bytes));
      char* p = arena.allocate(c.char_max_length);
      std::memcpy(p, bytes.data(), bytes.size());
      std::memset(p + bytes.size(), 0, c.char_max_length - bytes.size());
      return Datum::from_string(std::string_view(p, c.char_max_length));
    }
    case MyKind::kVarbinary:
    case MyKind::kBlob:
      return Datum::from_string(arena.copy(bytes));
    case MyKind::kChar:
    case MyKind::kVarchar:
    case MyKind::kText:
    case MyKind::kJson:
      return text_datum(bytes, c, c.charset, arena);
    default:
      return corrupt("string value for column " + c.name);
  }
}

Result<Datum> enum_value(uint64_t index, const ColumnInfo& c, Arena& arena) {
  if (c.kind != MyKind::kEnum) return corrupt("enum value for column " + c.name);
  if (index == 0) return Datum::from_string(std::string_view());  // the "invalid" value ''
  if (index > c.labels.size()) return corrupt("enum index out of range in column " + c.name);
  return Datum::from_string(arena.copy(c.labels[index - 1]));
}

Result<Datum> set_value(uint64_t bits, const ColumnInfo& c, Arena& arena) {
  if (c.kind != MyKind::kSet) return corrupt("set value for column " + c.name);
  std::string s;
  for (size_t i = 0; i < 64; ++i) {
    if (!((bits >> i) & 1)) continue;
    if (i >= c.labels.size()) return corrupt("set member out of range in column " + c.name);
    if (!s.empty()) s.push_back(',');
    s += c.labels[i];
  }
  return Datum::from_string(arena.copy(s));
}

Datum time_datum(int64_t packed) {
  // packed: (hms << 24) + microseconds, hms = hour << 12 | minute << 6 | second.
  if (packed < 0) return Datum::null();
  int64_t hms = packed >> 24, frac = packed & 0xffffff;
  int64_t hour = (hms >> 12) & 0x3ff, minute = (hms >> 6) & 63, second = hms & 63;
  if (minute > 59 || second > 59 || frac >= kMicrosPerSecond) return Datum::null();
  int64_t us = ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + frac;
  return us < kMicrosPerDay ? Datum::from_time(us) : Datum::null();
}

Status decode_image(Reader& r, const std::vector<bool>& present, const TableMapEvent& tm,
                    std::span<const ColumnInfo> columns, Arena& arena, std::vector<Datum>& out) {
  uint32_t n = static_cast<uint32_t>(present.size());
  uint32_t n_present = 0;
  for (bool b : present) n_present += b ? 1 : 0;
  if (n_present != n)
    return Status::error("binlog: a row image of " + tm.db + "." + tm.table +
                         " lacks columns: set binlog_row_image=FULL on the server");
  std::string_view nulls;
  if (!r.bytes((n + 7) / 8, nulls)) return corrupt("row null bitmap");
  out.assign(n, Datum::null());
  for (uint32_t i = 0; i < n; ++i) {
    if ((static_cast<uint8_t>(nulls[i / 8]) >> (i % 8)) & 1) continue;
    std::string_view rest = r.rest();
    auto v = decode_value(tm.types[i], tm.meta[i], columns[i], rest, arena);
    if (!v) return v.status();
    r.skip(r.left() - rest.size());
    out[i] = *v;
  }
  return Status::ok();
}

}  // namespace

uint32_t crc32(std::string_view bytes) {
  static const std::array<uint32_t, 256> kTable = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  for (char ch : bytes) c = kTable[(c ^ static_cast<uint8_t>(ch)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

std::string Gtid::to_string() const {
  return std::to_string(domain) + "-" + std::to_string(server) + "-" + std::to_string(seq);
}

Result<GtidPosition> GtidPosition::parse(std::string_view text) {
  GtidPosition p;
  auto trim = [](std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\n')) s.remove_suffix(1);
    return s;
  };
  text = trim(text);
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    Gtid g;
    size_t d1 = item.find('-'), d2 = d1 == std::string_view::npos ? d1 : item.find('-', d1 + 1);
    auto num = [](std::string_view s, auto& out) {
      auto r = std::from_chars(s.data(), s.data() + s.size(), out);
      return !s.empty() && r.ec == std::errc() && r.ptr == s.data() + s.size();
    };
    if (d2 == std::string_view::npos || !num(item.substr(0, d1), g.domain) ||
        !num(item.substr(d1 + 1, d2 - d1 - 1), g.server) || !num(item.substr(d2 + 1), g.seq))
      return Status::error("invalid MariaDB GTID position '" + std::string(item) +
                           "' (expected domain-server-sequence[,...])");
    if (p.domains_.count(g.domain)) return Status::error("GTID position names domain " + std::to_string(g.domain) + " twice");
    p.domains_[g.domain] = g;
  }
  return p;
}

std::string GtidPosition::to_string() const {
  std::string s;
  for (const auto& [d, g] : domains_) {
    if (!s.empty()) s.push_back(',');
    s += g.to_string();
  }
  return s;
}

bool GtidPosition::includes(const Gtid& g) const {
  auto it = domains_.find(g.domain);
  return it != domains_.end() && g.seq <= it->second.seq;
}

Result<Event> EventDecoder::decode(std::string_view bytes) {
  Event ev;
  Reader h(bytes);
  EventHeader& hd = ev.header;
  if (!h.le_as(4, hd.timestamp) || !h.le_as(1, hd.type) || !h.le_as(4, hd.server_id) || !h.le_as(4, hd.event_size) ||
      !h.le_as(4, hd.log_pos) || !h.le_as(2, hd.flags))
    return corrupt("short header");
  if (hd.event_size != bytes.size()) return corrupt("event size does not match the packet");
  std::string_view body = bytes.substr(kHeaderSize);

  if (hd.type == event_type::kFormatDescription) {
    // The checksum algorithm is the byte before the trailing CRC (MariaDB always sends it).
    bool crc = false;
    if (body.size() >= 2 + 50 + 4 + 1 + 5) {
      uint64_t stored = 0;
      Reader(bytes.substr(bytes.size() - 4)).le(4, stored);
      crc = bytes[bytes.size() - 5] == 1 && (!verify_ || stored == crc32(bytes.substr(0, bytes.size() - 4)));
    }
    if (crc) body.remove_suffix(5);
    else if (!body.empty()) body.remove_suffix(1);
    FormatDescriptionEvent fd;
    Reader r(body);
    std::string_view version;
    uint8_t header_len = 0;
    if (!r.le_as(2, fd.binlog_version) || !r.bytes(50, version) || !r.skip(4) || !r.le_as(1, header_len))
      return corrupt("format description");
    if (fd.binlog_version != 4 || header_len != kHeaderSize) return corrupt("unsupported binlog version");
    fd.server_version = std::string(version.substr(0, version.find('\0')));
    std::string_view phl = r.rest();
    post_header_len_.assign(phl.begin(), phl.end());
    fd.checksum_alg = crc ? 1 : 0;
    checksum_ = crc;
    ev.body = std::move(fd);
    return ev;
  }

  bool needs_body = hd.type == event_type::kGtid || hd.type == event_type::kQuery || hd.type == event_type::kXid ||
                    hd.type == event_type::kTableMap ||
                    (hd.type >= event_type::kWriteRowsV1 && hd.type <= event_type::kDeleteRowsV1) ||
                    (hd.type >= event_type::kWriteRowsV2 && hd.type <= event_type::kDeleteRowsV2) ||
                    hd.type == event_type::kRotate;
  if (checksum_) {
    bool ok = false;
    if (body.size() >= 4) {
      uint64_t stored = 0;
      Reader(bytes.substr(bytes.size() - 4)).le(4, stored);
      ok = !verify_ || stored == crc32(bytes.substr(0, bytes.size() - 4));
    }
    if (ok) {
      body.remove_suffix(4);
    } else if (needs_body && !(hd.flags & EventHeader::kArtificial)) {
      return Status::error("binlog: checksum mismatch in event type " + std::to_string(hd.type) + " at position " +
                           std::to_string(hd.log_pos));
    }
  }
  if (!needs_body) return ev;

  auto phl = [&](uint8_t type, uint8_t def) -> uint8_t {
    return type - 1u < post_header_len_.size() ? post_header_len_[type - 1u] : def;
  };
  Reader r(body);
  switch (hd.type) {
    case event_type::kRotate: {
      RotateEvent rot;
      if (!r.le(8, rot.position)) return corrupt("rotate");
      rot.file = r.rest();
      ev.body = rot;
      return ev;
    }
    case event_type::kGtid: {
      GtidEvent g;
      if (!r.le(8, g.gtid.seq) || !r.le_as(4, g.gtid.domain) || !r.le_as(1, g.flags2)) return corrupt("gtid");
      g.gtid.server = hd.server_id;
      ev.body = g;
      return ev;
    }
    case event_type::kXid: {
      XidEvent x;
      if (!r.le(8, x.xid)) return corrupt("xid");
      ev.body = x;
      return ev;
    }
    case event_type::kQuery: {
      uint8_t post = phl(event_type::kQuery, 13);
      uint8_t db_len = 0;
      uint16_t status_len = 0;
      if (post < 13 || !r.skip(8) || !r.le_as(1, db_len) || !r.skip(2) || !r.le_as(2, status_len) ||
          !r.skip(post - 13u) || !r.skip(status_len))
        return corrupt("query post-header");
      QueryEvent q;
      if (!r.bytes(db_len, q.db) || !r.skip(1)) return corrupt("query database");
      q.query = r.rest();
      ev.body = q;
      return ev;
    }
    case event_type::kTableMap: {
      TableMapEvent tm;
      size_t id_len = phl(event_type::kTableMap, 8) == 6 ? 4 : 6;
      uint8_t len = 0;
      std::string_view s;
      uint64_t cc = 0, meta_len = 0;
      if (!r.le(id_len, tm.table_id) || !r.skip(2) || !r.le_as(1, len) || !r.bytes(len, s) || !r.skip(1))
        return corrupt("table map header");
      tm.db = std::string(s);
      if (!r.le_as(1, len) || !r.bytes(len, s) || !r.skip(1)) return corrupt("table map name");
      tm.table = std::string(s);
      if (!r.lenenc(cc) || cc == 0 || cc > kMaxColumns || !r.bytes(cc, s)) return corrupt("table map columns");
      tm.types.assign(s.begin(), s.end());
      if (!r.lenenc(meta_len) || !r.bytes(meta_len, s)) return corrupt("table map metadata");
      Reader mr(s);
      tm.meta.resize(cc);
      for (size_t i = 0; i < cc; ++i)
        if (!read_metadata(mr, tm.types[i], tm.meta[i])) return corrupt("table map metadata");
      if (mr.left() != 0) return corrupt("table map metadata length");
      // Then the nullability bitmap and optional metadata: not needed (information_schema).
      ev.body = std::move(tm);
      return ev;
    }
    default: {  // rows events
      RowsEvent re;
      bool v2 = hd.type >= event_type::kWriteRowsV2;
      uint8_t base = v2 ? event_type::kWriteRowsV2 : event_type::kWriteRowsV1;
      re.kind = static_cast<RowsEvent::Kind>(hd.type - base);
      size_t id_len = phl(hd.type, v2 ? 10 : 8) == (v2 ? 8 : 6) ? 4 : 6;
      if (!r.le(id_len, re.table_id) || !r.le_as(2, re.flags)) return corrupt("rows header");
      if (v2) {
        uint16_t extra = 0;
        if (!r.le_as(2, extra) || extra < 2 || !r.skip(extra - 2u)) return corrupt("rows extra data");
      }
      uint64_t cc = 0;
      std::string_view bits;
      if (!r.lenenc(cc) || cc == 0 || cc > kMaxColumns || !r.bytes((cc + 7) / 8, bits)) return corrupt("rows columns");
      re.column_count = static_cast<uint32_t>(cc);
      re.present = read_bitmap(bits, re.column_count);
      if (re.kind == RowsEvent::Kind::kUpdate) {
        if (!r.bytes((cc + 7) / 8, bits)) return corrupt("rows columns");
        re.present_after = read_bitmap(bits, re.column_count);
      }
      re.rows = r.rest();
      ev.body = std::move(re);
      return ev;
    }
  }
}

Status check_table_map(const TableMapEvent& tm, std::span<const ColumnInfo> columns) {
  std::string table = tm.db + "." + tm.table;
  if (tm.types.size() != columns.size())
    return Status::error("table " + table + " changed upstream: the binlog has " + std::to_string(tm.types.size()) +
                         " columns, the captured schema " + std::to_string(columns.size()) +
                         "; drop and re-create the source");
  for (size_t i = 0; i < columns.size(); ++i) {
    if (!kind_accepts(columns[i], tm.types[i], tm.meta[i]))
      return Status::error("table " + table + " changed upstream: column " + std::to_string(i + 1) + " (" +
                           columns[i].name + ") has binlog type " + std::to_string(tm.types[i]) +
                           ", which does not match the captured schema; drop and re-create the source");
  }
  return Status::ok();
}

Result<Datum> decode_value(uint8_t type, uint16_t meta, const ColumnInfo& c, std::string_view& in, Arena& arena) {
  Reader r(in);
  auto done = [&](Datum d) -> Result<Datum> {
    in = r.rest();
    return d;
  };
  auto integer = [&](size_t n) -> Result<Datum> {
    uint64_t u = 0;
    if (!r.le(n, u)) return corrupt("integer value");
    if (c.is_unsigned) {
      if (n == 8 && c.type.id == TypeId::kNumeric) {
        Numeric num;
        num.mantissa = static_cast<__int128>(u);
        return done(Datum::from_numeric(num));
      }
      return done(Datum::from_int(static_cast<int64_t>(u)));
    }
    int shift = static_cast<int>(64 - 8 * n);
    return done(Datum::from_int(static_cast<int64_t>(u << shift) >> shift));
  };
  using namespace field_type;
  switch (type) {
    case kTiny: return integer(1);
    case kShort: return integer(2);
    case kInt24: return integer(3);
    case kLong: return integer(4);
    case kLongLong: return integer(8);
    case kYear: {
      uint64_t y = 0;
      if (!r.le(1, y)) return corrupt("year value");
      return done(Datum::from_int(y == 0 ? 0 : static_cast<int64_t>(y) + 1900));
    }
    case kFloat: {
      uint64_t u = 0;
      if (!r.le(4, u)) return corrupt("float value");
      return done(Datum::from_float(static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(u)))));
    }
    case kDouble: {
      uint64_t u = 0;
      if (!r.le(8, u)) return corrupt("double value");
      return done(Datum::from_float(std::bit_cast<double>(u)));
    }
    case kNewDecimal: {
      auto d = decode_decimal(meta, r);
      if (!d) return d;
      return done(*d);
    }
    case kDate:
    case kNewDate: {
      uint64_t v = 0;
      if (!r.le(3, v)) return corrupt("date value");
      auto d = make_date(static_cast<int>(v >> 9), static_cast<int>((v >> 5) & 15), static_cast<int>(v & 31));
      return done(d ? Datum::from_date(*d) : Datum::null());
    }
    case kTime: {
      uint64_t v = 0;
      if (!r.le(3, v)) return corrupt("time value");
      int64_t s = static_cast<int64_t>(v << 40) >> 40;  // HHMMSS, signed
      if (s < 0) return done(Datum::null());
      int64_t hms = ((s / 10000) << 12) | (((s / 100) % 100) << 6) | (s % 100);
      return done(time_datum(hms << 24));
    }
    case kTime2: {
      std::string_view b;
      int64_t packed = 0;
      if (meta > 6) return corrupt("time fsp");
      if (meta >= 5) {
        if (!r.bytes(6, b)) return corrupt("time value");
        packed = static_cast<int64_t>(be(b)) - 0x800000000000LL;
      } else {
        if (!r.bytes(3, b)) return corrupt("time value");
        int64_t intpart = static_cast<int64_t>(be(b)) - 0x800000;
        int64_t frac = 0;
        std::string_view f;
        if (meta >= 3) {
          if (!r.bytes(2, f)) return corrupt("time value");
          frac = static_cast<int64_t>(be(f));
          if (intpart < 0 && frac) {
            ++intpart;
            frac -= 0x10000;
          }
          frac *= 100;
        } else if (meta >= 1) {
          if (!r.bytes(1, f)) return corrupt("time value");
          frac = static_cast<int64_t>(be(f));
          if (intpart < 0 && frac) {
            ++intpart;
            frac -= 0x100;
          }
          frac *= 10000;
        }
        packed = intpart * (int64_t{1} << 24) + frac;
      }
      return done(time_datum(packed));
    }
    case kDateTime: {
      uint64_t v = 0;
      if (!r.le(8, v)) return corrupt("datetime value");
      uint64_t d = v / 1000000, t = v % 1000000;
      auto ts = make_timestamp(static_cast<int>(d / 10000), static_cast<int>(d / 100 % 100), static_cast<int>(d % 100),
                               static_cast<int>(t / 10000), static_cast<int>(t / 100 % 100), static_cast<int>(t % 100), 0);
      return done(ts ? Datum::from_timestamp(*ts) : Datum::null());
    }
    case kDateTime2: {
      std::string_view b;
      int64_t frac = 0;
      if (!r.bytes(5, b) || !read_frac(r, meta, frac)) return corrupt("datetime value");
      int64_t intpart = static_cast<int64_t>(be(b)) - 0x8000000000LL;
      if (intpart < 0) return done(Datum::null());
      int64_t ymd = intpart >> 17, hms = intpart & 0x1ffff, ym = ymd >> 5;
      auto ts = make_timestamp(static_cast<int>(ym / 13), static_cast<int>(ym % 13), static_cast<int>(ymd & 31),
                               static_cast<int>(hms >> 12), static_cast<int>((hms >> 6) & 63), static_cast<int>(hms & 63),
                               frac);
      return done(ts ? Datum::from_timestamp(*ts) : Datum::null());
    }
    case kTimestamp:
    case kTimestamp2: {
      uint64_t sec = 0;
      int64_t frac = 0;
      if (type == kTimestamp) {
        if (!r.le(4, sec)) return corrupt("timestamp value");
      } else {
        std::string_view b;
        if (!r.bytes(4, b) || !read_frac(r, meta, frac)) return corrupt("timestamp value");
        sec = be(b);
      }
      if (sec == 0 && frac == 0) return done(Datum::null());  // '0000-00-00 00:00:00'
      if (frac >= kMicrosPerSecond) return corrupt("timestamp fraction");
      return done(Datum::from_timestamp(static_cast<int64_t>(sec) * kMicrosPerSecond + frac - kUnixToPgEpochMicros));
    }
    case kBit: {
      size_t bits = meta & 0xff, bytes = meta >> 8;
      size_t n = bytes + (bits ? 1 : 0);
      std::string_view b;
      if (n == 0 || n > 8 || !r.bytes(n, b)) return corrupt("bit value");
      return done(Datum::from_int(static_cast<int64_t>(be(b))));
    }
    case kString: {
      uint8_t real = 0;
      uint32_t max_len = 0;
      string_meta(meta, real, max_len);
      if (real == kEnum || real == kSet) {
        uint64_t v = 0;
        size_t n = meta & 0xff;
        if (n == 0 || n > 8 || !r.le(n, v)) return corrupt("enum/set value");
        auto d = real == kEnum ? enum_value(v, c, arena) : set_value(v, c, arena);
        if (!d) return d;
        return done(*d);
      }
      uint64_t len = 0;
      std::string_view b;
      if (!r.le(max_len > 255 ? 2 : 1, len) || !r.bytes(len, b)) return corrupt("string value");
      auto d = string_value(b, c, arena);
      if (!d) return d;
      return done(*d);
    }
    case kEnum:
    case kSet: {
      uint64_t v = 0;
      size_t n = meta & 0xff;
      if (n == 0 || n > 8 || !r.le(n, v)) return corrupt("enum/set value");
      auto d = type == kEnum ? enum_value(v, c, arena) : set_value(v, c, arena);
      if (!d) return d;
      return done(*d);
    }
    case kVarchar:
    case kVarString: {
      uint64_t len = 0;
      std::string_view b;
      if (!r.le(meta > 255 ? 2 : 1, len) || !r.bytes(len, b)) return corrupt("varchar value");
      auto d = string_value(b, c, arena);
      if (!d) return d;
      return done(*d);
    }
    case kBlob:
    case kTinyBlob:
    case kMediumBlob:
    case kLongBlob:
    case kJson: {
      uint64_t len = 0;
      std::string_view b;
      if (meta < 1 || meta > 4 || !r.le(meta, len) || !r.bytes(len, b)) return corrupt("blob value");
      auto d = string_value(b, c, arena);
      if (!d) return d;
      return done(*d);
    }
    default:
      return Status::error("binlog: unsupported column type " + std::to_string(type) + " in column " + c.name);
  }
}

Status decode_rows(const RowsEvent& ev, const TableMapEvent& tm, std::span<const ColumnInfo> columns, Arena& arena,
                   std::vector<RowImage>& out) {
  if (ev.column_count != tm.types.size() || columns.size() != tm.types.size())
    return corrupt("rows event column count differs from its table map");
  Reader r(ev.rows);
  while (r.left() > 0) {
    RowImage img;
    Status s = Status::ok();
    switch (ev.kind) {
      case RowsEvent::Kind::kWrite:
        s = decode_image(r, ev.present, tm, columns, arena, img.after);
        break;
      case RowsEvent::Kind::kDelete:
        s = decode_image(r, ev.present, tm, columns, arena, img.before);
        break;
      case RowsEvent::Kind::kUpdate:
        s = decode_image(r, ev.present, tm, columns, arena, img.before);
        if (s) s = decode_image(r, ev.present_after, tm, columns, arena, img.after);
        break;
    }
    if (!s) return s;
    out.push_back(std::move(img));
  }
  return Status::ok();
}

}  // namespace freshet::capture::mysql
