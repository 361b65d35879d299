#include "capture/mysql/column.hpp"

#include <charconv>
#include <cstring>

#include "common/format.hpp"
#include "common/numeric.hpp"

namespace freshet::capture::mysql {

namespace {

bool has_word(std::string_view s, std::string_view w) { return s.find(w) != std::string_view::npos; }

// enum('a','b''c') / set(...) -> {"a", "b'c"}.
std::vector<std::string> parse_labels(std::string_view column_type) {
  std::vector<std::string> out;
  size_t i = column_type.find('(');
  if (i == std::string_view::npos) return out;
  ++i;
  while (i < column_type.size()) {
    if (column_type[i] != '\'') break;
    ++i;
    std::string label;
    while (i < column_type.size()) {
      char ch = column_type[i];
      if (ch == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
        label.push_back('\'');
        i += 2;
      } else if (ch == '\\' && i + 1 < column_type.size()) {
        label.push_back(column_type[i + 1]);
        i += 2;
      } else if (ch == '\'') {
        ++i;
        break;
      } else {
        label.push_back(ch);
        ++i;
      }
    }
    out.push_back(std::move(label));
    if (i < column_type.size() && column_type[i] == ',') ++i;
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view s, T& out) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// "HH:MM:SS[.ffffff]" (hours may exceed 2 digits and be negative for TIME) -> micros.
bool parse_hms(std::string_view s, int64_t& micros) {
  bool neg = !s.empty() && s[0] == '-';
  if (neg) s.remove_prefix(1);
  size_t c1 = s.find(':');
  if (c1 == std::string_view::npos) return false;
  size_t c2 = s.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return false;
  int64_t h = 0, m = 0, sec = 0, frac = 0;
  std::string_view secs = s.substr(c2 + 1);
  std::string_view fracs;
  if (size_t dot = secs.find('.'); dot != std::string_view::npos) {
    fracs = secs.substr(dot + 1);
    secs = secs.substr(0, dot);
  }
  if (!parse_number(s.substr(0, c1), h) || !parse_number(s.substr(c1 + 1, c2 - c1 - 1), m) ||
      !parse_number(secs, sec))
    return false;
  if (fracs.size() > 6) return false;
  if (!fracs.empty()) {
    if (!parse_number(fracs, frac)) return false;
    for (size_t i = fracs.size(); i < 6; ++i) frac *= 10;
  }
  micros = ((h * 60 + m) * 60 + sec) * kMicrosPerSecond + frac;
  if (neg) micros = -micros;
  return true;
}

bool parse_ymd(std::string_view s, int& y, int& mo, int& d) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  return parse_number(s.substr(0, 4), y) && parse_number(s.substr(5, 2), mo) && parse_number(s.substr(8, 2), d);
}

Status bad_value(const ColumnInfo& c, std::string_view text) {
  return Status::error("column " + c.name + ": cannot decode value '" + std::string(text.substr(0, 64)) + "'");
}

// cp1252 code points for 0x80..0x9F (MySQL's latin1 is cp1252; undefined bytes map to C1).
constexpr uint16_t kCp1252High[32] = {0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
                                      0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
                                      0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
                                      0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

}  // namespace

std::optional<int32_t> make_date(int year, int month, int day) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return std::nullopt;
  int dim = kDays[month - 1] + (month == 2 && is_leap(year) ? 1 : 0);
  if (day > dim) return std::nullopt;
  return date_from_ymd(year, month, day);
}

std::optional<int64_t> make_timestamp(int year, int month, int day, int hour, int minute, int second,
                                      int64_t micros) {
  auto d = make_date(year, month, day);
  if (!d || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59 || micros < 0 ||
      micros >= kMicrosPerSecond)
    return std::nullopt;
  return static_cast<int64_t>(*d) * kMicrosPerDay + ((int64_t{hour} * 60 + minute) * 60 + second) * kMicrosPerSecond +
         micros;
}

std::string_view latin1_to_utf8(std::string_view in, Arena& arena) {
  size_t n = 0;
  for (unsigned char ch : in) n += ch < 0x80 ? 1 : (ch >= 0x80 && ch < 0xA0 && kCp1252High[ch - 0x80] >= 0x800) ? 3 : 2;
  if (n == in.size()) return arena.copy(in);
  char* out = arena.allocate(n);
  size_t o = 0;
  for (unsigned char ch : in) {
    uint32_t cp = ch < 0x80 || ch >= 0xA0 ? ch : kCp1252High[ch - 0x80];
    if (cp < 0x80) {
      out[o++] = static_cast<char>(cp);
    } else if (cp < 0x800) {
      out[o++] = static_cast<char>(0xC0 | (cp >> 6));
      out[o++] = static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out[o++] = static_cast<char>(0xE0 | (cp >> 12));
      out[o++] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out[o++] = static_cast<char>(0x80 | (cp & 0x3F));
    }
  }
  return std::string_view(out, o);
}

Result<Datum> text_datum(std::string_view bytes, const ColumnInfo& c, Charset charset, Arena& arena) {
  std::string_view s = charset == Charset::kLatin1 ? latin1_to_utf8(bytes, arena) : arena.copy(bytes);
  if (c.kind == MyKind::kJson) {
    try {
      return parse_datum(s, Type(TypeId::kJsonb), arena);
    } catch (const SqlError& e) {
      return Status::error("column " + c.name + ": invalid JSON upstream: " + e.message());
    }
  }
  return Datum::from_string(s);
}

Result<ColumnInfo> map_column(const RawColumn& raw, std::string_view table) {
  ColumnInfo c;
  c.name = raw.name;
  c.nullable = raw.nullable;
  c.is_unsigned = has_word(raw.column_type, "unsigned");
  c.char_max_length = raw.char_max_length;
  const std::string& t = raw.data_type;
  auto unsupported = [&](std::string why) -> Status {
    return Status::error("table " + std::string(table) + " column " + raw.name + ": " + why);
  };
  if (raw.charset.empty() || raw.charset == "binary") {
    c.charset = Charset::kBinary;
  } else if (raw.charset == "utf8mb4" || raw.charset == "utf8mb3" || raw.charset == "utf8" || raw.charset == "ascii") {
    c.charset = Charset::kUtf8;
  } else if (raw.charset == "latin1") {
    c.charset = Charset::kLatin1;
  } else {
    return unsupported("character set " + raw.charset +
                       " is not supported (use utf8mb4, utf8mb3, ascii, latin1 or binary)");
  }
  if (t == "tinyint") {
    c.kind = MyKind::kTinyInt;
    c.type = TypeId::kInt2;
  } else if (t == "smallint") {
    c.kind = MyKind::kSmallInt;
    c.type = c.is_unsigned ? TypeId::kInt4 : TypeId::kInt2;
  } else if (t == "mediumint") {
    c.kind = MyKind::kMediumInt;
    c.type = TypeId::kInt4;
  } else if (t == "int" || t == "integer") {
    c.kind = MyKind::kInt;
    c.type = c.is_unsigned ? TypeId::kInt8 : TypeId::kInt4;
  } else if (t == "bigint") {
    c.kind = MyKind::kBigInt;
    c.type = c.is_unsigned ? Type(TypeId::kNumeric, (20 << 16) | 0) : Type(TypeId::kInt8);
  } else if (t == "float") {
    c.kind = MyKind::kFloat;
    c.type = TypeId::kFloat4;
  } else if (t == "double" || t == "real") {
    c.kind = MyKind::kDouble;
    c.type = TypeId::kFloat8;
  } else if (t == "decimal" || t == "numeric") {
    c.kind = MyKind::kDecimal;
    c.precision = static_cast<int>(raw.numeric_precision);
    c.scale = static_cast<int>(raw.numeric_scale);
    if (c.precision < 1 || c.precision > 38 || c.scale < 0 || c.scale > c.precision)
      return unsupported("decimal(" + std::to_string(c.precision) + "," + std::to_string(c.scale) +
                         ") is not supported (Freshet's numeric holds up to 38 digits)");
    c.type = Type(TypeId::kNumeric, (c.precision << 16) | c.scale);
  } else if (t == "date") {
    c.kind = MyKind::kDate;
    c.type = TypeId::kDate;
  } else if (t == "time") {
    c.kind = MyKind::kTime;
    c.scale = static_cast<int>(raw.datetime_precision);
    c.type = TypeId::kTime;
  } else if (t == "datetime") {
    c.kind = MyKind::kDateTime;
    c.scale = static_cast<int>(raw.datetime_precision);
    c.type = TypeId::kTimestamp;
  } else if (t == "timestamp") {
    c.kind = MyKind::kTimestamp;
    c.scale = static_cast<int>(raw.datetime_precision);
    c.type = TypeId::kTimestampTz;
  } else if (t == "year") {
    c.kind = MyKind::kYear;
    c.type = TypeId::kInt2;
  } else if (t == "bit") {
    c.kind = MyKind::kBit;
    c.precision = static_cast<int>(raw.numeric_precision);
    c.type = TypeId::kInt8;
  } else if (t == "char") {
    c.kind = c.charset == Charset::kBinary ? MyKind::kBinary : MyKind::kChar;
    c.type = c.charset == Charset::kBinary ? TypeId::kBytea : TypeId::kText;
  } else if (t == "varchar") {
    c.kind = c.charset == Charset::kBinary ? MyKind::kVarbinary : MyKind::kVarchar;
    c.type = c.charset == Charset::kBinary ? Type(TypeId::kBytea)
                                           : Type(TypeId::kVarchar, static_cast<int32_t>(raw.char_max_length));
  } else if (t == "tinytext" || t == "text" || t == "mediumtext" || t == "longtext" || t == "json") {
    c.kind = raw.is_json || t == "json" ? MyKind::kJson : MyKind::kText;
    if (c.charset == Charset::kBinary) c.kind = MyKind::kBlob;
    c.type = c.kind == MyKind::kJson ? TypeId::kJsonb : c.kind == MyKind::kBlob ? TypeId::kBytea : TypeId::kText;
  } else if (t == "binary") {
    c.kind = MyKind::kBinary;
    c.charset = Charset::kBinary;
    c.type = TypeId::kBytea;
  } else if (t == "varbinary") {
    c.kind = MyKind::kVarbinary;
    c.charset = Charset::kBinary;
    c.type = TypeId::kBytea;
  } else if (t == "tinyblob" || t == "blob" || t == "mediumblob" || t == "longblob") {
    c.kind = MyKind::kBlob;
    c.charset = Charset::kBinary;
    c.type = TypeId::kBytea;
  } else if (t == "enum" || t == "set") {
    c.kind = t == "enum" ? MyKind::kEnum : MyKind::kSet;
    c.labels = parse_labels(raw.column_type);
    if (c.labels.empty()) return unsupported("cannot read the values of " + raw.column_type);
    if (c.kind == MyKind::kSet && c.labels.size() > 64) return unsupported("a SET has at most 64 members");
    c.type = TypeId::kText;
  } else {
    return unsupported("type " + raw.column_type + " is not supported");
  }
  return c;
}

std::string snapshot_select_expr(const ColumnInfo& c) {
  std::string q = "`";
  for (char ch : c.name) {
    if (ch == '`') q.push_back('`');
    q.push_back(ch);
  }
  q.push_back('`');
  switch (c.kind) {
    case MyKind::kFloat:
      return "CAST(" + q + " AS DOUBLE)";
    case MyKind::kBit:
    case MyKind::kYear:
      return q + "+0";
    default:
      return q;
  }
}

Result<Datum> parse_text_value(std::string_view text, const ColumnInfo& c, Arena& arena) {
  switch (c.kind) {
    case MyKind::kTinyInt:
    case MyKind::kSmallInt:
    case MyKind::kMediumInt:
    case MyKind::kInt:
    case MyKind::kYear: {
      int64_t v = 0;
      if (!parse_number(text, v)) return bad_value(c, text);
      return Datum::from_int(v);
    }
    case MyKind::kBigInt: {
      if (c.is_unsigned) {
        uint64_t v = 0;
        if (!parse_number(text, v)) return bad_value(c, text);
        Numeric n;
        n.mantissa = static_cast<__int128>(v);
        return Datum::from_numeric(n);
      }
      int64_t v = 0;
      if (!parse_number(text, v)) return bad_value(c, text);
      return Datum::from_int(v);
    }
    case MyKind::kBit: {
      uint64_t v = 0;
      if (!parse_number(text, v)) return bad_value(c, text);
      return Datum::from_int(static_cast<int64_t>(v));
    }
    case MyKind::kFloat:
    case MyKind::kDouble: {
      double v = 0;
      if (!parse_number(text, v)) return bad_value(c, text);
      if (c.kind == MyKind::kFloat) v = static_cast<float>(v);
      return Datum::from_float(v);
    }
    case MyKind::kDecimal:
      try {
        return Datum::from_numeric(numeric_parse(text));
      } catch (const SqlError&) {
        return bad_value(c, text);
      }
    case MyKind::kDate: {
      int y = 0, mo = 0, d = 0;
      if (!parse_ymd(text, y, mo, d)) return bad_value(c, text);
      auto v = make_date(y, mo, d);
      return v ? Datum::from_date(*v) : Datum::null();
    }
    case MyKind::kTime: {
      int64_t us = 0;
      if (!parse_hms(text, us)) return bad_value(c, text);
      return us >= 0 && us < kMicrosPerDay ? Datum::from_time(us) : Datum::null();
    }
    case MyKind::kDateTime:
    case MyKind::kTimestamp: {
      if (text.size() < 19 || text[10] != ' ') return bad_value(c, text);
      int y = 0, mo = 0, d = 0;
      int64_t us = 0;
      if (!parse_ymd(text.substr(0, 10), y, mo, d) || !parse_hms(text.substr(11), us) || us < 0 ||
          us >= kMicrosPerDay)
        return bad_value(c, text);
      auto day = make_date(y, mo, d);
      if (!day) return Datum::null();
      return Datum::from_timestamp(static_cast<int64_t>(*day) * kMicrosPerDay + us);
    }
    case MyKind::kBinary:
    case MyKind::kVarbinary:
    case MyKind::kBlob:
      return Datum::from_string(arena.copy(text));
    case MyKind::kChar:
    case MyKind::kVarchar:
    case MyKind::kText:
    case MyKind::kJson:
    case MyKind::kEnum:
    case MyKind::kSet:
      // The snapshot connection's charset is utf8mb4: no conversion here.
      return text_datum(text, c, Charset::kUtf8, arena);
  }
  return bad_value(c, text);
}

}  // namespace freshet::capture::mysql
