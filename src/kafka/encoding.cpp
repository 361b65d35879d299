#include "kafka/encoding.hpp"

#include <cmath>
#include <cstring>

#include "common/arena.hpp"
#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"
#include "kafka/wire.hpp"

namespace freshet::kafka {

namespace {

constexpr int64_t kUnixEpochOffsetMicros = 946684800LL * 1000000;  // 2000-01-01 - 1970-01-01
constexpr int32_t kUnixEpochOffsetDays = 10957;

enum class AvroKind { kBoolean, kInt, kLong, kFloat, kDouble, kDecimal, kString, kBytes, kDate, kTimestamp, kTime, kText };

// kText: any other type, carried as its PostgreSQL text form in an Avro string.
AvroKind avro_kind(TypeId id) {
  switch (id) {
    case TypeId::kBool: return AvroKind::kBoolean;
    case TypeId::kInt2:
    case TypeId::kInt4: return AvroKind::kInt;
    case TypeId::kInt8:
    case TypeId::kOid:
    case TypeId::kRegclass:
    case TypeId::kRegproc:
    case TypeId::kRegtype: return AvroKind::kLong;
    case TypeId::kFloat4: return AvroKind::kFloat;
    case TypeId::kFloat8: return AvroKind::kDouble;
    case TypeId::kNumeric: return AvroKind::kDecimal;
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kChar:
    case TypeId::kName:
    case TypeId::kJsonb: return AvroKind::kString;
    case TypeId::kBytea: return AvroKind::kBytes;
    case TypeId::kDate: return AvroKind::kDate;
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: return AvroKind::kTimestamp;
    case TypeId::kTime: return AvroKind::kTime;
    default: return AvroKind::kText;
  }
}

std::pair<int, int> numeric_precision_scale(Type t) {
  if (t.typmod < 0) return {kNumericMaxPrecision, kAvroDefaultNumericScale};
  return {(t.typmod >> 16) & 0xffff, t.typmod & 0xffff};
}

void append_quoted(std::string_view s, std::string& out) { json_quote(s, out); }

std::string avro_type_json(Type t) {
  switch (avro_kind(t.id)) {
    case AvroKind::kBoolean: return "\"boolean\"";
    case AvroKind::kInt: return "\"int\"";
    case AvroKind::kLong: return "\"long\"";
    case AvroKind::kFloat: return "\"float\"";
    case AvroKind::kDouble: return "\"double\"";
    case AvroKind::kDecimal: {
      auto [p, s] = numeric_precision_scale(t);
      return "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":" + std::to_string(p) +
             ",\"scale\":" + std::to_string(s) + "}";
    }
    case AvroKind::kString:
      if (t.id == TypeId::kJsonb) return "{\"type\":\"string\",\"connect.name\":\"io.debezium.data.Json\"}";
      return "\"string\"";
    case AvroKind::kBytes: return "\"bytes\"";
    case AvroKind::kDate: return "{\"type\":\"int\",\"logicalType\":\"date\"}";
    case AvroKind::kTimestamp: return "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}";
    case AvroKind::kTime: return "{\"type\":\"long\",\"logicalType\":\"time-micros\"}";
    case AvroKind::kText:
      if (t.id == TypeId::kUuid) return "{\"type\":\"string\",\"logicalType\":\"uuid\"}";
      return "\"string\"";
  }
  return "\"string\"";
}

__int128 pow10_128(int n) {
  __int128 v = 1;
  for (int i = 0; i < n; ++i) v *= 10;
  return v;
}

// The unscaled value of n at scale s, or nullopt on overflow (more than 38 digits).
std::optional<__int128> rescale(const Numeric& n, int s) {
  if (n.is_nan()) return __int128{0};
  Numeric r = n;
  if (r.scale > s) r = numeric_round(r, s);
  if (r.ext != 0) return std::nullopt;  // a 39-digit value past 2^127: more than 38 digits
  __int128 m = r.mantissa;
  const __int128 limit = pow10_128(38);
  for (int i = r.scale; i < s; ++i) {
    if (m > limit / 10 || m < -limit / 10) return std::nullopt;
    m *= 10;
  }
  return m;
}

void write_long(std::string& out, int64_t v) {
  Writer w(out);
  w.varlong(v);
}

void write_avro_bytes(std::string& out, std::string_view b) {
  write_long(out, static_cast<int64_t>(b.size()));
  out.append(b);
}

void encode_datum(const Datum& d, Type t, std::string& out) {
  switch (avro_kind(t.id)) {
    case AvroKind::kBoolean: out.push_back(d.as_bool() ? 1 : 0); break;
    case AvroKind::kInt:
    case AvroKind::kLong: write_long(out, d.as_int()); break;
    case AvroKind::kFloat: {
      float f = static_cast<float>(d.as_float());
      char b[4];
      std::memcpy(b, &f, 4);  // Avro floats are little-endian; so is every target we build for
      out.append(b, 4);
      break;
    }
    case AvroKind::kDouble: {
      double f = d.as_float();
      char b[8];
      std::memcpy(b, &f, 8);
      out.append(b, 8);
      break;
    }
    case AvroKind::kDecimal: {
      auto m = rescale(d.as_numeric(), numeric_precision_scale(t).second);
      __int128 v = m.value_or(0);
      // Minimal big-endian two's complement.
      unsigned char buf[16];
      for (int i = 0; i < 16; ++i) buf[15 - i] = static_cast<unsigned char>(static_cast<unsigned __int128>(v) >> (8 * i));
      int start = 0;
      while (start < 15 && ((buf[start] == 0x00 && (buf[start + 1] & 0x80) == 0) ||
                            (buf[start] == 0xff && (buf[start + 1] & 0x80) != 0))) {
        ++start;
      }
      write_avro_bytes(out, std::string_view(reinterpret_cast<const char*>(buf + start), static_cast<size_t>(16 - start)));
      break;
    }
    case AvroKind::kString:
    case AvroKind::kBytes: write_avro_bytes(out, d.as_string()); break;
    case AvroKind::kDate: write_long(out, d.as_int() + kUnixEpochOffsetDays); break;
    case AvroKind::kTimestamp: write_long(out, d.as_int() + kUnixEpochOffsetMicros); break;
    case AvroKind::kTime: write_long(out, d.as_int()); break;
    case AvroKind::kText: write_avro_bytes(out, format_datum(d, t)); break;
  }
}

Datum decode_datum(Reader& r, Type t, Arena& arena) {
  auto read_bytes = [&]() -> std::string_view {
    int64_t n = r.varlong();
    if (n < 0 || static_cast<uint64_t>(n) > r.remaining()) throw DecodeError("Avro length out of range");
    return r.raw(static_cast<size_t>(n));
  };
  switch (avro_kind(t.id)) {
    case AvroKind::kBoolean: {
      int8_t b = r.i8();
      if (b != 0 && b != 1) throw DecodeError("Avro boolean is neither 0 nor 1");
      return Datum::from_bool(b == 1);
    }
    case AvroKind::kInt: {
      int64_t v = r.varlong();
      int64_t lo = t.id == TypeId::kInt2 ? INT16_MIN : INT32_MIN, hi = t.id == TypeId::kInt2 ? INT16_MAX : INT32_MAX;
      if (v < lo || v > hi) throw DecodeError("Avro int out of range for the column");
      return Datum::from_int(v);
    }
    case AvroKind::kLong: return Datum::from_int(r.varlong());
    case AvroKind::kFloat: {
      float f;
      std::memcpy(&f, r.raw(4).data(), 4);
      return Datum::from_float(f);
    }
    case AvroKind::kDouble: {
      double f;
      std::memcpy(&f, r.raw(8).data(), 8);
      return Datum::from_float(f);
    }
    case AvroKind::kDecimal: {
      std::string_view b = read_bytes();
      if (b.size() > 16) throw DecodeError("Avro decimal longer than 16 bytes");
      if (b.empty()) return Datum::from_numeric(Numeric{0, static_cast<int16_t>(numeric_precision_scale(t).second)});
      unsigned __int128 u = (static_cast<unsigned char>(b[0]) & 0x80) ? ~static_cast<unsigned __int128>(0) : 0;
      for (char c : b) u = (u << 8) | static_cast<unsigned char>(c);
      Numeric n{static_cast<__int128>(u), static_cast<int16_t>(numeric_precision_scale(t).second)};
      const __int128 limit = pow10_128(38);
      if (n.mantissa >= limit || n.mantissa <= -limit) throw DecodeError("Avro decimal exceeds 38 digits");
      return Datum::from_numeric(n);
    }
    case AvroKind::kString:
    case AvroKind::kBytes:
      if (t.id == TypeId::kBytea || t.id == TypeId::kText) return Datum::from_string(arena.copy(read_bytes()));
      return parse_datum(read_bytes(), t, arena);
    case AvroKind::kDate: {
      int64_t v = r.varlong();
      if (v < INT32_MIN + kUnixEpochOffsetDays || v > INT32_MAX) throw DecodeError("Avro date out of range");
      return Datum::from_date(static_cast<int32_t>(v - kUnixEpochOffsetDays));
    }
    case AvroKind::kTimestamp: {
      int64_t v = r.varlong();
      if (v < INT64_MIN + kUnixEpochOffsetMicros) throw DecodeError("Avro timestamp out of range");
      return Datum::from_timestamp(v - kUnixEpochOffsetMicros);
    }
    case AvroKind::kTime: {
      int64_t v = r.varlong();
      if (v < 0 || v > 86400LL * 1000000) throw DecodeError("Avro time out of range");
      return Datum::from_time(v);
    }
    case AvroKind::kText: return parse_datum(read_bytes(), t, arena);
  }
  throw DecodeError("unreachable");
}

}  // namespace

std::string avro_name(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' ? c : '_');
  if (out.empty() || std::isdigit(static_cast<unsigned char>(out[0]))) out.insert(out.begin(), '_');
  return out;
}

std::string avro_schema(const std::vector<TopicColumn>& cols, std::string_view topic, std::string_view name) {
  std::string ns;
  size_t pos = 0;
  while (pos <= topic.size()) {
    size_t dot = topic.find('.', pos);
    if (dot == std::string_view::npos) dot = topic.size();
    if (!ns.empty()) ns.push_back('.');
    ns += avro_name(topic.substr(pos, dot - pos));
    pos = dot + 1;
  }
  std::string out = "{\"type\":\"record\",\"name\":";
  append_quoted(avro_name(name), out);
  out += ",\"namespace\":";
  append_quoted(ns, out);
  out += ",\"fields\":[";
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) out.push_back(',');
    out += "{\"name\":";
    append_quoted(avro_name(cols[i].name), out);
    out += ",\"type\":";
    if (cols[i].nullable) {
      out += "[\"null\"," + avro_type_json(cols[i].type) + "],\"default\":null";
    } else {
      out += avro_type_json(cols[i].type);
    }
    out.push_back('}');
  }
  out += "]}";
  return out;
}

void avro_encode_row(RowRef row, const std::vector<TopicColumn>& cols, std::string& out) {
  std::vector<Datum> ds = row.unpack();
  FRESHET_ASSERT(ds.size() == cols.size());
  for (size_t i = 0; i < cols.size(); ++i) {
    if (cols[i].nullable) {
      write_long(out, ds[i].is_null() ? 0 : 1);
      if (ds[i].is_null()) continue;
    }
    FRESHET_ASSERT(!ds[i].is_null());
    encode_datum(ds[i], cols[i].type, out);
  }
}

Row avro_decode_row(std::string_view data, const std::vector<TopicColumn>& cols) {
  size_t consumed = 0;
  Row row = avro_decode_row_prefix(data, cols, consumed);
  if (consumed != data.size()) throw DecodeError("trailing bytes after the Avro record");
  return row;
}

Row avro_decode_row_prefix(std::string_view data, const std::vector<TopicColumn>& cols, size_t& consumed) {
  Reader r(data);
  Arena arena;
  std::vector<Datum> ds;
  try {
    for (const TopicColumn& c : cols) {
      if (c.nullable) {
        int64_t branch = r.varlong();
        if (branch == 0) {
          ds.push_back(Datum::null());
          continue;
        }
        if (branch != 1) throw DecodeError("Avro union branch out of range for column " + c.name);
      }
      ds.push_back(decode_datum(r, c.type, arena));
    }
  } catch (const SqlError& e) {
    throw DecodeError(e.message());
  }
  consumed = data.size() - r.rest().size();
  return Row::pack(ds);
}

void json_encode_row(RowRef row, const std::vector<TopicColumn>& cols, std::string& out) {
  std::vector<Datum> ds = row.unpack();
  FRESHET_ASSERT(ds.size() == cols.size());
  out.push_back('{');
  std::string text;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i > 0) out.push_back(',');
    json_quote(cols[i].name, out);
    out.push_back(':');
    const Datum& d = ds[i];
    if (d.is_null()) {
      out += "null";
      continue;
    }
    TypeId id = cols[i].type.id;
    text.clear();
    switch (id) {
      case TypeId::kBool: out += d.as_bool() ? "true" : "false"; break;
      case TypeId::kInt2:
      case TypeId::kInt4:
      case TypeId::kInt8:
      case TypeId::kOid: out += std::to_string(d.as_int()); break;
      case TypeId::kFloat4:
      case TypeId::kFloat8:
      case TypeId::kNumeric:
        format_datum(d, cols[i].type, text);
        if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
          json_quote(text, out);
        } else {
          out += text;
        }
        break;
      case TypeId::kJsonb: out += d.as_string(); break;
      default:
        format_datum(d, cols[i].type, text);
        json_quote(text, out);
    }
  }
  out.push_back('}');
}

namespace {
Datum json_to_datum(const JsonValue& v, const TopicColumn& c, Arena& arena) {
  using K = JsonValue::Kind;
  if (v.kind == K::kNull) {
    if (!c.nullable) throw DecodeError("null for the non-nullable column " + c.name);
    return Datum::null();
  }
  if (c.type.id == TypeId::kJsonb) {
    std::string s;
    json_write(v, s);
    return Datum::from_string(arena.copy(s));
  }
  switch (v.kind) {
    case K::kBool:
      if (c.type.id != TypeId::kBool) throw DecodeError("boolean for the column " + c.name);
      return Datum::from_bool(v.b);
    case K::kNumber:
    case K::kString: return parse_datum(v.str, c.type, arena);
    default: throw DecodeError("an object or array for the column " + c.name);
  }
}
}  // namespace

Row json_decode_row(std::string_view data, const std::vector<TopicColumn>& cols) {
  try {
    Arena arena;
    JsonValue doc;
    try {
      doc = json_parse(data);
    } catch (const SqlError&) {
      // One column: plain text is its text form (kcat -K: keys), if the type accepts it.
      if (cols.size() != 1 || (data.size() > 0 && (data[0] == '{' || data[0] == '['))) throw;
      std::vector<Datum> one{parse_datum(data, cols[0].type, arena)};
      return Row::pack(one);
    }
    std::vector<Datum> ds;
    if (doc.kind != JsonValue::Kind::kObject) {
      if (cols.size() != 1) throw DecodeError("expected a JSON object");
      ds.push_back(json_to_datum(doc, cols[0], arena));
      return Row::pack(ds);
    }
    for (const TopicColumn& c : cols) {
      const JsonValue* found = nullptr;
      for (const auto& [k, val] : doc.object) {
        if (k == c.name) found = &val;
      }
      static const JsonValue kNull;
      ds.push_back(json_to_datum(found ? *found : kNull, c, arena));
    }
    return Row::pack(ds);
  } catch (const SqlError& e) {
    throw DecodeError(e.message());
  }
}

Row raw_row(const std::optional<std::string>& bytes) {
  Datum d = bytes ? Datum::from_string(*bytes) : Datum::null();
  return Row::pack(std::span<const Datum>(&d, 1));
}

std::optional<std::string> raw_bytes(RowRef row) {
  if (row.bytes().empty()) return std::nullopt;
  Datum d = row.get(0);
  if (d.is_null()) return std::nullopt;
  return std::string(d.as_string());
}

TopicCodec::TopicCodec(TopicInfo info, int32_t key_schema_id, int32_t value_schema_id)
    : info_(std::move(info)), key_schema_id_(key_schema_id), value_schema_id_(value_schema_id) {}

std::string TopicCodec::encode(RowRef row, const std::vector<TopicColumn>& cols, int32_t id) const {
  std::string out;
  if (info_.format == TopicFormat::kJson) {
    json_encode_row(row, cols, out);
    return out;
  }
  Writer w(out);
  w.i8(0);
  w.i32(id);
  avro_encode_row(row, cols, out);
  return out;
}

Row TopicCodec::decode(std::string_view bytes, const std::vector<TopicColumn>& cols, int32_t id) const {
  if (info_.format == TopicFormat::kJson) return json_decode_row(bytes, cols);
  Reader r(bytes);
  if (bytes.size() < 5 || r.i8() != 0) throw DecodeError("not an Avro message in the Confluent frame (magic byte 0)");
  int32_t got = r.i32();
  if (got != id) {
    throw DecodeError("schema id " + std::to_string(got) + " is not the topic's schema " + std::to_string(id));
  }
  return avro_decode_row(r.rest(), cols);
}

std::string TopicCodec::encode_key(RowRef key) const { return encode(key, info_.key_columns, key_schema_id_); }
std::string TopicCodec::encode_value(RowRef value) const { return encode(value, info_.value_columns, value_schema_id_); }
Row TopicCodec::decode_key(std::string_view b) const { return decode(b, info_.key_columns, key_schema_id_); }
Row TopicCodec::decode_value(std::string_view b) const { return decode(b, info_.value_columns, value_schema_id_); }

}  // namespace freshet::kafka
