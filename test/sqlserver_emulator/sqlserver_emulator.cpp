// sqlserver_emulator: a small stand-in for SQL Server that Freshet's SQL Server source is
// tested against (README.md next to this file). It speaks enough TDS 7.4 for FreeTDS
// (pre-login without TLS, login7, SQL batches, attention; the token stream COLMETADATA, ROW,
// DONE, ERROR, LOGINACK, ENVCHANGE) and answers exactly the queries the connector sends
// (src/capture/sqlserver/README.md lists them) from an in-memory model with SQL Server's
// documented CDC semantics: LSNs as binary(10), __$seqval order, __$operation 1-4, the capture
// job (SQL Server Agent) moving committed changes into the change tables, min/max LSN,
// cleanup that moves an instance's low-water mark, error 313 for a range outside it, SNAPSHOT
// isolation. Tests drive it through a line-oriented control port (commands below), and its
// state survives a restart through a journal file (--state).
//
// Usage: sqlserver_emulator --port P --control-port C [--state FILE] [--database NAME]
//                           [--sa-password PW]
//
// Control commands (one per line; the reply ends with a line "OK" or "ERR <message>"):
//   CREATE TABLE dbo.t (c type [NOT NULL] [PRIMARY KEY], ... [, PRIMARY KEY (a, b)])
//   ALTER TABLE dbo.t ADD c type
//   EXEC sys.sp_cdc_enable_db | EXEC sys.sp_cdc_disable_db
//   EXEC sys.sp_cdc_enable_table dbo.t [instance [gating_role]] | EXEC sys.sp_cdc_disable_table instance
//   EXEC sys.sp_cdc_cleanup_change_table instance 0x<lsn>|MAX     CLEANUP ALL
//   AGENT START | AGENT STOP | AGENT LAG ms   (the capture job's latency; default 0)
//   ALTER DATABASE SET ALLOW_SNAPSHOT_ISOLATION ON | OFF
//   CREATE LOGIN name password [db_owner] [cdc] [select] [role ...]   (other words: database roles)
//   INSERT INTO dbo.t VALUES (...)[, (...)]; UPDATE dbo.t SET c = v, ... WHERE k = v [AND ...];
//   DELETE FROM dbo.t WHERE k = v [AND ...]   (statements on one line: one transaction)
//   LOAD START seed txns_per_second | LOAD STOP   (random DML on dbo.sales; one row per
//                                                  transaction into dbo.audit when it exists)
//   MAXLSN | DUMP dbo.t | STATS

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

// ---------------------------------------------------------------- small helpers

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && std::isspace(static_cast<unsigned char>(s[a]))) ++a;
  while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1]))) --b;
  return s.substr(a, b - a);
}

uint64_t wall_ms() {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

struct SqlError : std::runtime_error {
  int number;
  int state;
  int cls;
  SqlError(int n, std::string msg, int st = 1, int c = 16) : std::runtime_error(std::move(msg)), number(n), state(st), cls(c) {}
};

std::u16string utf16(const std::string& s) {
  std::u16string out;
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    uint32_t cp;
    int n;
    if (c < 0x80) { cp = c; n = 1; }
    else if ((c >> 5) == 6) { cp = c & 0x1F; n = 2; }
    else if ((c >> 4) == 14) { cp = c & 0x0F; n = 3; }
    else { cp = c & 0x07; n = 4; }
    if (i + static_cast<size_t>(n) > s.size()) break;
    for (int k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    i += static_cast<size_t>(n);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      out.push_back(static_cast<char16_t>(0xD800 + (cp >> 10)));
      out.push_back(static_cast<char16_t>(0xDC00 + (cp & 0x3FF)));
    } else {
      out.push_back(static_cast<char16_t>(cp));
    }
  }
  return out;
}

std::string utf8(const uint8_t* p, size_t nchars) {
  std::string out;
  for (size_t i = 0; i < nchars; ++i) {
    uint32_t cp = p[2 * i] | (p[2 * i + 1] << 8);
    if (cp >= 0xD800 && cp < 0xDC00 && i + 1 < nchars) {
      uint32_t lo = p[2 * i + 2] | (p[2 * i + 3] << 8);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      ++i;
    }
    if (cp < 0x80) out.push_back(static_cast<char>(cp));
    else if (cp < 0x800) { out.push_back(static_cast<char>(0xC0 | (cp >> 6))); out.push_back(static_cast<char>(0x80 | (cp & 0x3F))); }
    else if (cp < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }
  return out;
}

// ---------------------------------------------------------------- LSNs

using Lsn = std::array<uint8_t, 10>;

// Commit n of the database: VLF 0x2A, log block n, slot 1. Bytewise order = commit order.
Lsn make_lsn(uint64_t n, uint16_t slot = 1) {
  Lsn l{};
  l[3] = 0x2A;
  for (int i = 0; i < 4; ++i) l[4 + i] = static_cast<uint8_t>(n >> (24 - 8 * i));
  l[8] = static_cast<uint8_t>(slot >> 8);
  l[9] = static_cast<uint8_t>(slot);
  return l;
}

std::string lsn_hex(const Lsn& l) {
  static const char* d = "0123456789ABCDEF";
  std::string s;
  for (uint8_t b : l) {
    s.push_back(d[b >> 4]);
    s.push_back(d[b & 15]);
  }
  return s;
}

std::optional<Lsn> parse_lsn(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && (s[0] == '0') && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
  if (s.size() != 20) return std::nullopt;
  Lsn l{};
  for (size_t i = 0; i < 10; ++i) {
    auto h = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      return -1;
    };
    int a = h(s[2 * i]), b = h(s[2 * i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    l[i] = static_cast<uint8_t>(a * 16 + b);
  }
  return l;
}

Lsn increment(Lsn l) {
  for (size_t i = 10; i-- > 0;)
    if (++l[i] != 0) break;
  return l;
}

// ---------------------------------------------------------------- dates

int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {  // days since 1970-01-01
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yoe + era * 400 + (m <= 2));
}

// A parsed date/time literal: days since 1970-01-01, 100 ns units since midnight, offset min.
struct DateTime {
  int64_t days = 0;
  int64_t ticks = 0;
  int offset_min = 0;
  bool has_date = false, has_time = false;
};

DateTime parse_datetime(const std::string& s) {
  DateTime dt;
  size_t i = 0;
  auto num = [&](size_t n) {
    if (i + n > s.size()) throw SqlError(241, "Conversion failed when converting date and/or time from character string.");
    int64_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      char c = s[i + k];
      if (!std::isdigit(static_cast<unsigned char>(c)))
        throw SqlError(241, "Conversion failed when converting date and/or time from character string.");
      v = v * 10 + (c - '0');
    }
    i += n;
    return v;
  };
  if (s.size() >= 10 && s[4] == '-') {
    int64_t y = num(4);
    ++i;
    int64_t m = num(2);
    ++i;
    int64_t d = num(2);
    dt.days = days_from_civil(y, m, d);
    dt.has_date = true;
    if (i < s.size() && (s[i] == ' ' || s[i] == 'T')) ++i;
  }
  if (i + 8 <= s.size() && s[i + 2] == ':') {
    int64_t h = num(2);
    ++i;
    int64_t mi = num(2);
    ++i;
    int64_t se = num(2);
    int64_t frac = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      int digits = 0;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
        if (digits < 7) {
          frac = frac * 10 + (s[i] - '0');
          ++digits;
        }
        ++i;
      }
      while (digits++ < 7) frac *= 10;
    }
    dt.ticks = ((h * 60 + mi) * 60 + se) * 10000000 + frac;
    dt.has_time = true;
  }
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int64_t oh = num(2);
    if (i < s.size() && s[i] == ':') ++i;
    int64_t om = i + 2 <= s.size() ? num(2) : 0;
    dt.offset_min = static_cast<int>(sign * (oh * 60 + om));
  }
  return dt;
}

// ---------------------------------------------------------------- types and values

struct Column {
  std::string name;
  std::string type;  // sys.types name, lower case
  int max_length = 4;
  int precision = 0;
  int scale = 0;
  bool nullable = true;
};

using Value = std::optional<std::string>;  // canonical text; nullopt = NULL
using RowValues = std::vector<Value>;

void fill_type_info(Column& c, const std::vector<int>& args) {
  const std::string& t = c.type;
  int a0 = args.size() > 0 ? args[0] : -2;
  if (t == "int") { c.max_length = 4; c.precision = 10; }
  else if (t == "bigint") { c.max_length = 8; c.precision = 19; }
  else if (t == "smallint") { c.max_length = 2; c.precision = 5; }
  else if (t == "tinyint") { c.max_length = 1; c.precision = 3; }
  else if (t == "bit") { c.max_length = 1; c.precision = 1; }
  else if (t == "decimal" || t == "numeric") {
    c.precision = a0 > 0 ? a0 : 18;
    c.scale = args.size() > 1 ? args[1] : 0;
    c.max_length = c.precision <= 9 ? 5 : c.precision <= 19 ? 9 : c.precision <= 28 ? 13 : 17;
  } else if (t == "money") { c.max_length = 8; c.precision = 19; c.scale = 4; }
  else if (t == "smallmoney") { c.max_length = 4; c.precision = 10; c.scale = 4; }
  else if (t == "float") { c.precision = a0 > 0 && a0 <= 24 ? 24 : 53; c.max_length = c.precision == 24 ? 4 : 8; if (c.precision == 24) c.type = "real"; }
  else if (t == "real") { c.max_length = 4; c.precision = 24; }
  else if (t == "char" || t == "varchar" || t == "binary" || t == "varbinary") c.max_length = a0 == -1 ? -1 : a0 > 0 ? a0 : 1;
  else if (t == "nchar" || t == "nvarchar") c.max_length = a0 == -1 ? -1 : 2 * (a0 > 0 ? a0 : 1);
  else if (t == "date") { c.max_length = 3; c.precision = 10; }
  else if (t == "time") { c.scale = a0 >= 0 ? a0 : 7; c.max_length = 5; c.precision = 16; }
  else if (t == "datetime2") { c.scale = a0 >= 0 ? a0 : 7; c.max_length = 8; c.precision = 27; }
  else if (t == "datetimeoffset") { c.scale = a0 >= 0 ? a0 : 7; c.max_length = 10; c.precision = 34; }
  else if (t == "datetime") { c.max_length = 8; c.precision = 23; c.scale = 3; }
  else if (t == "smalldatetime") { c.max_length = 4; c.precision = 16; }
  else if (t == "uniqueidentifier") c.max_length = 16;
  else c.max_length = -1;  // xml, geography, sql_variant, ...: only described, never sent
}

bool is_int_type(const std::string& t) { return t == "int" || t == "bigint" || t == "smallint" || t == "tinyint"; }

// Decimal text → unscaled integer at `scale` (round half away from zero).
__int128 decimal_unscaled(const std::string& s, int scale) {
  std::string t = trim(s);
  bool neg = !t.empty() && t[0] == '-';
  if (!t.empty() && (t[0] == '-' || t[0] == '+')) t = t.substr(1);
  size_t dot = t.find('.');
  std::string ip = dot == std::string::npos ? t : t.substr(0, dot);
  std::string fp = dot == std::string::npos ? "" : t.substr(dot + 1);
  if (ip.empty() && fp.empty()) throw SqlError(8114, "Error converting data type varchar to numeric.");
  __int128 v = 0;
  for (char c : ip) {
    if (!std::isdigit(static_cast<unsigned char>(c))) throw SqlError(8114, "Error converting data type varchar to numeric.");
    v = v * 10 + (c - '0');
  }
  for (int k = 0; k < scale; ++k) {
    int digit = k < static_cast<int>(fp.size()) ? fp[static_cast<size_t>(k)] - '0' : 0;
    if (digit < 0 || digit > 9) throw SqlError(8114, "Error converting data type varchar to numeric.");
    v = v * 10 + digit;
  }
  if (static_cast<int>(fp.size()) > scale && fp[static_cast<size_t>(scale)] >= '5') v += 1;
  return neg ? -v : v;
}

std::string unscaled_text(__int128 v, int scale) {
  bool neg = v < 0;
  if (neg) v = -v;
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  while (static_cast<int>(digits.size()) <= scale) digits.insert(digits.begin(), '0');
  std::string out = neg ? "-" : "";
  out += digits.substr(0, digits.size() - static_cast<size_t>(scale));
  if (scale > 0) out += "." + digits.substr(digits.size() - static_cast<size_t>(scale));
  return out;
}

std::string fmt_datetime(const DateTime& dt, bool date, bool time, int scale, bool pg) {
  std::string out;
  char buf[64];
  if (date) {
    int y, m, d;
    civil_from_days(dt.days, y, m, d);
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
    out += buf;
  }
  if (time) {
    if (date) out += ' ';
    int64_t secs = dt.ticks / 10000000, frac = dt.ticks % 10000000;
    std::snprintf(buf, sizeof buf, "%02d:%02d:%02d", static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                  static_cast<int>(secs % 60));
    out += buf;
    std::snprintf(buf, sizeof buf, "%07lld", static_cast<long long>(frac));
    std::string f(buf);
    if (pg) {
      // PostgreSQL's output: microseconds at most, trailing zeros dropped.
      f = f.substr(0, 6);
      while (!f.empty() && f.back() == '0') f.pop_back();
      if (!f.empty()) out += "." + f;
    } else if (scale > 0) {
      out += "." + f.substr(0, static_cast<size_t>(scale));
    }
  }
  return out;
}

// Normalises a literal for a column (the stored, canonical text). Throws SqlError.
Value canonical(const Column& c, const Value& v) {
  if (!v) {
    if (!c.nullable) throw SqlError(515, "Cannot insert the value NULL into column '" + c.name + "'; column does not allow nulls.");
    return v;
  }
  const std::string& s = *v;
  const std::string& t = c.type;
  if (is_int_type(t)) {
    try {
      size_t used = 0;
      long long x = std::stoll(s, &used);
      if (used != trim(s).size()) throw std::invalid_argument("x");
      return std::to_string(x);
    } catch (...) {
      throw SqlError(245, "Conversion failed when converting the varchar value '" + s + "' to data type " + t + ".");
    }
  }
  if (t == "bit") return std::string(s == "1" || lower(s) == "true" ? "1" : "0");
  if (t == "decimal" || t == "numeric" || t == "money" || t == "smallmoney") return unscaled_text(decimal_unscaled(s, c.scale), c.scale);
  if (t == "datetime2" || t == "datetime" || t == "smalldatetime" || t == "date" || t == "time" || t == "datetimeoffset") {
    DateTime dt = parse_datetime(s);
    int scale = t == "datetime" ? 7 : t == "smalldatetime" ? 0 : c.scale;
    int64_t unit = 1;
    for (int k = scale; k < 7; ++k) unit *= 10;
    dt.ticks = (dt.ticks + unit / 2) / unit * unit;
    if (t == "smalldatetime") dt.ticks = (dt.ticks + 300000000) / 600000000 * 600000000;
    if (t == "datetime") dt.ticks = (dt.ticks * 3 + 50000) / 100000 * 100000 / 3;  // 1/300 s
    if (dt.ticks >= 864000000000LL) {
      dt.ticks -= 864000000000LL;
      dt.days += 1;
    }
    std::string out = fmt_datetime(dt, t != "time", t != "date", 7, false);
    if (t == "datetimeoffset") {
      char buf[16];
      std::snprintf(buf, sizeof buf, "%c%02d:%02d", dt.offset_min < 0 ? '-' : '+', std::abs(dt.offset_min) / 60, std::abs(dt.offset_min) % 60);
      out += buf;
    }
    return out;
  }
  if ((t == "char" || t == "varchar" || t == "nchar" || t == "nvarchar") && c.max_length > 0) {
    size_t limit = static_cast<size_t>(t[0] == 'n' ? c.max_length / 2 : c.max_length);
    if (utf16(s).size() > limit) throw SqlError(2628, "String or binary data would be truncated in table, column '" + c.name + "'.");
    if (t == "char" || t == "nchar") {
      std::string p = s;
      while (utf16(p).size() < limit) p.push_back(' ');
      return p;
    }
  }
  return s;
}

// PostgreSQL's text of a stored value, as Freshet shows the mapped column (DUMP).
std::string pg_text(const Column& c, const std::string& v) {
  const std::string& t = c.type;
  if (t == "bit") return v == "1" ? "t" : "f";
  if (t == "datetime2" || t == "datetime" || t == "smalldatetime" || t == "time" || t == "datetimeoffset") {
    DateTime dt = parse_datetime(v);
    // Freshet keeps microseconds at most, rounded to the mapped type's precision.
    int p = t == "datetime" ? 3 : t == "smalldatetime" ? 0 : std::min(c.scale, 6);
    int64_t unit = 1;
    for (int k = p; k < 7; ++k) unit *= 10;
    dt.ticks = (dt.ticks + unit / 2) / unit * unit;
    if (dt.ticks >= 864000000000LL && t != "time") {
      dt.ticks -= 864000000000LL;
      dt.days += 1;
    }
    if (t == "datetimeoffset") {
      int64_t total = dt.days * 864000000000LL + dt.ticks - static_cast<int64_t>(dt.offset_min) * 600000000LL;
      dt.days = total >= 0 ? total / 864000000000LL : -((-total + 864000000000LL - 1) / 864000000000LL);
      dt.ticks = total - dt.days * 864000000000LL;
      return fmt_datetime(dt, true, true, 7, true) + "+00";
    }
    return fmt_datetime(dt, t != "time", true, 7, true);
  }
  if (t == "binary" || t == "varbinary") {
    std::string h = v.rfind("0x", 0) == 0 ? v.substr(2) : v;
    return "\\x" + lower(h);
  }
  if (t == "uniqueidentifier") return lower(v);
  return v;
}

// ---------------------------------------------------------------- TDS token writer

struct Buf {
  std::string b;
  void u8(uint8_t v) { b.push_back(static_cast<char>(v)); }
  void u16(uint16_t v) { u8(static_cast<uint8_t>(v)); u8(static_cast<uint8_t>(v >> 8)); }
  void u32(uint32_t v) { u16(static_cast<uint16_t>(v)); u16(static_cast<uint16_t>(v >> 16)); }
  void u64(uint64_t v) { u32(static_cast<uint32_t>(v)); u32(static_cast<uint32_t>(v >> 32)); }
  void bytes(const std::string& s) { b += s; }
  void ucs2(const std::u16string& s) { for (char16_t c : s) u16(static_cast<uint16_t>(c)); }
  void b_varchar(const std::string& s) { auto u = utf16(s); u8(static_cast<uint8_t>(u.size())); ucs2(u); }
  void us_varchar(const std::string& s) { auto u = utf16(s); u16(static_cast<uint16_t>(u.size())); ucs2(u); }
};

const char kCollation[5] = {0x09, 0x04, static_cast<char>(0xD0), 0x00, 0x34};  // Latin1_General_CI_AS

// The wire type of a column, with its TYPE_INFO.
void type_info(Buf& o, const Column& c) {
  const std::string& t = c.type;
  if (is_int_type(t)) { o.u8(0x26); o.u8(static_cast<uint8_t>(c.max_length)); }
  else if (t == "bit") { o.u8(0x68); o.u8(1); }
  else if (t == "decimal" || t == "numeric") { o.u8(t == "decimal" ? 0x6A : 0x6C); o.u8(static_cast<uint8_t>(c.max_length)); o.u8(static_cast<uint8_t>(c.precision)); o.u8(static_cast<uint8_t>(c.scale)); }
  else if (t == "money" || t == "smallmoney") { o.u8(0x6E); o.u8(static_cast<uint8_t>(c.max_length)); }
  else if (t == "float" || t == "real") { o.u8(0x6D); o.u8(static_cast<uint8_t>(c.max_length)); }
  else if (t == "char" || t == "varchar" || t == "text") {
    o.u8(t == "char" ? 0xAF : 0xA7);
    o.u16(static_cast<uint16_t>(c.max_length > 0 ? c.max_length : 8000));
    o.bytes(std::string(kCollation, 5));
  } else if (t == "binary" || t == "varbinary" || t == "image") {
    o.u8(t == "binary" ? 0xAD : 0xA5);
    o.u16(static_cast<uint16_t>(c.max_length > 0 ? c.max_length : 8000));
  } else if (t == "date") o.u8(0x28);
  else if (t == "time") { o.u8(0x29); o.u8(static_cast<uint8_t>(c.scale)); }
  else if (t == "datetime2") { o.u8(0x2A); o.u8(static_cast<uint8_t>(c.scale)); }
  else if (t == "datetimeoffset") { o.u8(0x2B); o.u8(static_cast<uint8_t>(c.scale)); }
  else if (t == "datetime" || t == "smalldatetime") { o.u8(0x6F); o.u8(t == "datetime" ? 8 : 4); }
  else if (t == "uniqueidentifier") { o.u8(0x24); o.u8(16); }
  else {  // nchar, nvarchar, ntext and anything only described: nvarchar
    o.u8(t == "nchar" ? 0xEF : 0xE7);
    o.u16(static_cast<uint16_t>(c.max_length > 0 ? c.max_length : 8000));
    o.bytes(std::string(kCollation, 5));
  }
}

int time_bytes(int scale) { return scale <= 2 ? 3 : scale <= 4 ? 4 : 5; }

void put_le(Buf& o, uint64_t v, int n) {
  for (int i = 0; i < n; ++i) o.u8(static_cast<uint8_t>(v >> (8 * i)));
}

void value_bytes(Buf& o, const Column& c, const Value& v) {
  const std::string& t = c.type;
  bool is_charlike = t == "char" || t == "varchar" || t == "text" || t == "binary" || t == "varbinary" || t == "image" ||
                     !(is_int_type(t) || t == "bit" || t == "decimal" || t == "numeric" || t == "money" || t == "smallmoney" ||
                       t == "float" || t == "real" || t == "date" || t == "time" || t == "datetime2" || t == "datetimeoffset" ||
                       t == "datetime" || t == "smalldatetime" || t == "uniqueidentifier");
  if (!v) {
    if (is_charlike) o.u16(0xFFFF);
    else o.u8(0);
    return;
  }
  const std::string& s = *v;
  if (is_int_type(t)) { o.u8(static_cast<uint8_t>(c.max_length)); put_le(o, static_cast<uint64_t>(std::stoll(s)), c.max_length); }
  else if (t == "bit") { o.u8(1); o.u8(s == "1" ? 1 : 0); }
  else if (t == "decimal" || t == "numeric") {
    __int128 u = decimal_unscaled(s, c.scale);
    o.u8(static_cast<uint8_t>(c.max_length));
    o.u8(u < 0 ? 0 : 1);
    if (u < 0) u = -u;
    for (int i = 0; i < c.max_length - 1; ++i) o.u8(static_cast<uint8_t>(static_cast<unsigned __int128>(u) >> (8 * i)));
  } else if (t == "money" || t == "smallmoney") {
    int64_t m = static_cast<int64_t>(decimal_unscaled(s, 4));
    if (t == "money") { o.u8(8); o.u32(static_cast<uint32_t>(static_cast<uint64_t>(m) >> 32)); o.u32(static_cast<uint32_t>(m)); }
    else { o.u8(4); o.u32(static_cast<uint32_t>(m)); }
  } else if (t == "float" || t == "real") {
    double d = std::stod(s);
    if (c.max_length == 4) { float f = static_cast<float>(d); uint32_t u; std::memcpy(&u, &f, 4); o.u8(4); o.u32(u); }
    else { uint64_t u; std::memcpy(&u, &d, 8); o.u8(8); o.u64(u); }
  } else if (t == "char" || t == "varchar" || t == "text") { o.u16(static_cast<uint16_t>(s.size())); o.bytes(s); }
  else if (t == "binary" || t == "varbinary" || t == "image") {
    std::string h = s.rfind("0x", 0) == 0 ? s.substr(2) : s;
    std::string raw;
    for (size_t i = 0; i + 1 < h.size(); i += 2) raw.push_back(static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16)));
    o.u16(static_cast<uint16_t>(raw.size()));
    o.bytes(raw);
  } else if (t == "date" || t == "time" || t == "datetime2" || t == "datetimeoffset") {
    DateTime dt = parse_datetime(s);
    if (t == "datetimeoffset") {  // the wire carries UTC plus the offset
      int64_t total = dt.days * 864000000000LL + dt.ticks - static_cast<int64_t>(dt.offset_min) * 600000000LL;
      dt.days = total >= 0 ? total / 864000000000LL : -((-total + 864000000000LL - 1) / 864000000000LL);
      dt.ticks = total - dt.days * 864000000000LL;
    }
    int tb = t == "date" ? 0 : time_bytes(c.scale);
    int len = tb + (t == "time" ? 0 : 3) + (t == "datetimeoffset" ? 2 : 0);
    o.u8(static_cast<uint8_t>(len));
    if (t != "date") {
      int64_t unit = 1;
      for (int k = c.scale; k < 7; ++k) unit *= 10;
      put_le(o, static_cast<uint64_t>(dt.ticks / unit), tb);
    }
    if (t != "time") put_le(o, static_cast<uint64_t>(dt.days + 719162), 3);
    if (t == "datetimeoffset") o.u16(static_cast<uint16_t>(static_cast<int16_t>(dt.offset_min)));
  } else if (t == "datetime") {
    DateTime dt = parse_datetime(s);
    o.u8(8);
    o.u32(static_cast<uint32_t>(static_cast<int32_t>(dt.days + 25567)));
    o.u32(static_cast<uint32_t>((dt.ticks * 3 + 50000) / 100000));
  } else if (t == "smalldatetime") {
    DateTime dt = parse_datetime(s);
    o.u8(4);
    o.u16(static_cast<uint16_t>(dt.days + 25567));
    o.u16(static_cast<uint16_t>(dt.ticks / 600000000));
  } else if (t == "uniqueidentifier") {
    std::string h;
    for (char ch : s)
      if (ch != '-') h.push_back(ch);
    if (h.size() != 32) throw SqlError(8169, "Conversion failed when converting from a character string to uniqueidentifier.");
    uint8_t b[16];
    for (int i = 0; i < 16; ++i) b[i] = static_cast<uint8_t>(std::stoi(h.substr(static_cast<size_t>(2 * i), 2), nullptr, 16));
    o.u8(16);
    // Data1, Data2, Data3 little-endian, then Data4 as is.
    const int order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
    for (int i = 0; i < 16; ++i) o.u8(b[order[i]]);
  } else {  // nvarchar and the like
    auto u = utf16(s);
    o.u16(static_cast<uint16_t>(u.size() * 2));
    o.ucs2(u);
  }
}

struct ResultSet {
  std::vector<Column> columns;
  std::vector<RowValues> rows;
};

Column col(const std::string& name, const std::string& type, int len = 0) {
  Column c;
  c.name = name;
  c.type = type;
  fill_type_info(c, {len});
  if (type == "binary") c.max_length = len;
  return c;
}

void write_result(Buf& o, const ResultSet& rs, bool more) {
  o.u8(0x81);
  o.u16(static_cast<uint16_t>(rs.columns.size()));
  for (const auto& c : rs.columns) {
    o.u32(0);       // UserType
    o.u16(0x0001);  // Flags: nullable
    type_info(o, c);
    o.b_varchar(c.name);
  }
  for (const auto& r : rs.rows) {
    o.u8(0xD1);
    for (size_t i = 0; i < rs.columns.size(); ++i) value_bytes(o, rs.columns[i], r[i]);
  }
  o.u8(0xFD);
  o.u16(static_cast<uint16_t>(0x0010 | (more ? 0x0001 : 0)));
  o.u16(0xC1);
  o.u64(rs.rows.size());
}

void write_done(Buf& o, bool more, uint16_t extra = 0) {
  o.u8(0xFD);
  o.u16(static_cast<uint16_t>((more ? 0x0001 : 0) | extra));
  o.u16(0);
  o.u64(0);
}

void write_error(Buf& o, const SqlError& e, const std::string& server) {
  Buf body;
  body.u32(static_cast<uint32_t>(e.number));
  body.u8(static_cast<uint8_t>(e.state));
  body.u8(static_cast<uint8_t>(e.cls));
  body.us_varchar(e.what());
  body.b_varchar(server);
  body.b_varchar("");
  body.u32(1);
  o.u8(0xAA);
  o.u16(static_cast<uint16_t>(body.b.size()));
  o.bytes(body.b);
}

// ---------------------------------------------------------------- the model

struct Table {
  std::string schema, name;
  int object_id = 0;
  std::vector<Column> columns;
  std::vector<size_t> pk;
  std::map<std::string, RowValues> rows;  // by key text

  std::string full() const { return schema + "." + name; }
  int index(const std::string& c) const {
    for (size_t i = 0; i < columns.size(); ++i)
      if (lower(columns[i].name) == lower(c)) return static_cast<int>(i);
    return -1;
  }
  // A key that sorts integer keys numerically.
  std::string key_of(const RowValues& r) const {
    std::string k;
    for (size_t i : pk) {
      const std::string v = r[i].value_or("");
      if (is_int_type(columns[i].type)) {
        char buf[32];
        long long x = std::stoll(v);
        std::snprintf(buf, sizeof buf, "%c%019lld", x < 0 ? '-' : '0', x < 0 ? 999999999999999999LL + x : x);
        k += buf;
      } else {
        k += v;
      }
      k += '\x01';
    }
    return k;
  }
};

struct ChangeRow {
  Lsn start_lsn;
  Lsn seqval;
  int op = 0;
  RowValues values;  // the instance's captured columns
};

struct Instance {
  std::string name;
  std::string table;                 // schema.name
  std::vector<std::string> columns;  // captured columns, at enable time
  Lsn start_lsn{};                   // the low-water mark (sys.fn_cdc_get_min_lsn)
  std::string role;                  // the gating role (@role_name); "" for none
  int order = 0;
  std::vector<ChangeRow> rows;
};

// One committed change of a table, before the capture job has moved it.
struct LoggedChange {
  std::string table;
  int op;  // 1 delete, 2 insert, 3/4 update before/after
  RowValues row;
  uint64_t seq;
};

struct Commit {
  uint64_t no = 0;
  Lsn lsn;
  uint64_t time_ms;
  std::vector<LoggedChange> changes;
};

struct Login {
  std::string password;
  bool db_owner = false, cdc = false, select = false;
  std::set<std::string> roles;  // database roles it is a member of
};

struct Model {
  std::string database = "shop";
  bool cdc_enabled = false;
  bool snapshot_allowed = true;
  bool agent_running = true;
  std::map<std::string, Table> tables;  // by lower(schema.name)
  std::vector<Instance> instances;
  uint64_t commit_no = 0;
  uint64_t seq_no = 0;
  int next_object_id = 1000;
  int instance_order = 0;
  std::optional<Lsn> captured_max;     // sys.fn_cdc_get_max_lsn()
  std::map<Lsn, uint64_t> lsn_time;    // cdc.lsn_time_mapping (captured commits)
  std::vector<Commit> pending;         // committed, not yet captured (agent stopped, or lag)
  uint64_t capture_lag_ms = 0;         // the capture job's latency (AGENT LAG)
  std::map<std::string, Login> logins;
  uint64_t commits_total = 0;
};

struct Snapshot {  // what a SNAPSHOT transaction sees
  std::map<std::string, Table> tables;
  std::optional<Lsn> captured_max;
};

std::mutex g_mu;  // guards g_model and the journal
Model g_model;
std::string g_journal_path;
std::FILE* g_journal = nullptr;
std::atomic<bool> g_replaying{false};

Table* find_table(Model& m, std::string name) {
  name = lower(name);
  for (char ch : std::string("[]")) name.erase(std::remove(name.begin(), name.end(), ch), name.end());
  if (name.find('.') == std::string::npos) name = "dbo." + name;
  auto it = m.tables.find(name);
  return it == m.tables.end() ? nullptr : &it->second;
}

// The capture job: moves committed changes into every capture instance of their table.
void capture(Model& m, const Commit& c) {
  for (const auto& ch : c.changes) {
    for (auto& inst : m.instances) {
      if (inst.table != ch.table) continue;
      const Table* t = find_table(m, ch.table);
      ChangeRow r;
      r.start_lsn = c.lsn;
      r.seqval = make_lsn(ch.seq, 7);
      r.op = ch.op;
      for (const auto& cn : inst.columns) {
        int i = t ? t->index(cn) : -1;
        r.values.push_back(i >= 0 && static_cast<size_t>(i) < ch.row.size() ? ch.row[static_cast<size_t>(i)] : std::nullopt);
      }
      inst.rows.push_back(std::move(r));
    }
  }
  m.captured_max = c.lsn;
  m.lsn_time[c.lsn] = c.time_ms;
}

void commit(Model& m, std::vector<LoggedChange> changes, uint64_t time_ms) {
  Commit c;
  c.no = ++m.commit_no;
  c.lsn = make_lsn(c.no);
  c.time_ms = time_ms;
  c.changes = std::move(changes);
  ++m.commits_total;
  if (m.agent_running && m.pending.empty() && m.capture_lag_ms == 0) capture(m, c);
  else m.pending.push_back(std::move(c));
}

void journal(const std::string& cmd, uint64_t time_ms);

// Captures the pending commits up to commit number `upto` (in commit order).
void capture_upto(Model& m, uint64_t upto) {
  size_t n = 0;
  while (n < m.pending.size() && m.pending[n].no <= upto) capture(m, m.pending[n++]);
  m.pending.erase(m.pending.begin(), m.pending.begin() + static_cast<std::ptrdiff_t>(n));
}

// The capture job with a latency: commits older than the lag are moved into the change
// tables. Journaled as "CAPTURED n", so a restart replays the same capture points.
void capture_due(Model& m, uint64_t now) {
  if (!m.agent_running || m.pending.empty()) return;
  uint64_t upto = 0;
  for (const Commit& c : m.pending) {
    if (c.time_ms + m.capture_lag_ms > now) break;
    upto = c.no;
  }
  if (upto == 0) return;
  capture_upto(m, upto);
  journal("CAPTURED " + std::to_string(upto), now);
}

// ---------------------------------------------------------------- a tiny tokenizer

struct Tok {
  enum Kind { kWord, kString, kNumber, kPunct, kBinary, kEnd } kind = kEnd;
  std::string text;
};

std::vector<Tok> tokenize(const std::string& s) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) { ++i; continue; }
    if (c == 'N' && i + 1 < s.size() && s[i + 1] == '\'') { ++i; continue; }
    if (c == '\'') {
      std::string v;
      ++i;
      while (i < s.size()) {
        if (s[i] == '\'' && i + 1 < s.size() && s[i + 1] == '\'') { v.push_back('\''); i += 2; }
        else if (s[i] == '\'') { ++i; break; }
        else v.push_back(s[i++]);
      }
      out.push_back({Tok::kString, v});
    } else if (c == '0' && i + 1 < s.size() && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
      size_t st = i;
      i += 2;
      while (i < s.size() && std::isxdigit(static_cast<unsigned char>(s[i]))) ++i;
      out.push_back({Tok::kBinary, s.substr(st, i - st)});
    } else if (std::isdigit(static_cast<unsigned char>(c)) || ((c == '-' || c == '+') && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])) &&
                                                              (out.empty() || out.back().kind == Tok::kPunct))) {
      size_t st = i++;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      out.push_back({Tok::kNumber, s.substr(st, i - st)});
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '[' || c == '@' || c == '$' || c == '#') {
      std::string w;
      while (i < s.size()) {
        if (s[i] == '[') {
          size_t e = s.find(']', i);
          if (e == std::string::npos) e = s.size();
          w += s.substr(i + 1, e - i - 1);
          i = e + 1;
        } else if (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '@' || s[i] == '$' || s[i] == '#' || s[i] == '.') {
          w.push_back(s[i++]);
        } else {
          break;
        }
      }
      out.push_back({Tok::kWord, w});
    } else {
      out.push_back({Tok::kPunct, std::string(1, c)});
      ++i;
    }
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

struct P {
  std::vector<Tok> t;
  size_t i = 0;
  const Tok& peek() const { return t[i]; }
  bool word(const char* w) {
    if (t[i].kind == Tok::kWord && lower(t[i].text) == w) { ++i; return true; }
    return false;
  }
  bool punct(char c) {
    if (t[i].kind == Tok::kPunct && t[i].text[0] == c) { ++i; return true; }
    return false;
  }
  void expect_word(const char* w) {
    if (!word(w)) throw SqlError(102, std::string("Incorrect syntax near '") + t[i].text + "' (expected " + w + ").", 1, 15);
  }
  void expect_punct(char c) {
    if (!punct(c)) throw SqlError(102, "Incorrect syntax near '" + t[i].text + "'.", 1, 15);
  }
  std::string name() {
    if (t[i].kind != Tok::kWord) throw SqlError(102, "Incorrect syntax near '" + t[i].text + "'.", 1, 15);
    return t[i++].text;
  }
  Value literal() {
    const Tok& k = t[i];
    if (k.kind == Tok::kWord && lower(k.text) == "null") { ++i; return std::nullopt; }
    if (k.kind == Tok::kString || k.kind == Tok::kNumber || k.kind == Tok::kBinary) { ++i; return k.text; }
    throw SqlError(102, "Incorrect syntax near '" + k.text + "' (expected a literal).", 1, 15);
  }
};

// ---------------------------------------------------------------- control commands

void journal(const std::string& cmd, uint64_t time_ms) {
  if (g_replaying || !g_journal) return;
  std::fprintf(g_journal, "%llu\t%s\n", static_cast<unsigned long long>(time_ms), cmd.c_str());
  std::fflush(g_journal);
}

std::vector<std::string> split_statements(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  bool q = false;
  int depth = 0;
  for (char c : s) {
    if (c == '\'') q = !q;
    if (!q && c == '(') ++depth;
    if (!q && c == ')') --depth;
    if (!q && depth == 0 && c == ';') {
      if (!trim(cur).empty()) out.push_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

Column parse_column_def(P& p, bool& pk) {
  Column c;
  c.name = p.name();
  c.type = lower(p.name());
  std::vector<int> args;
  if (p.punct('(')) {
    while (true) {
      if (p.word("max")) args.push_back(-1);
      else args.push_back(std::stoi(p.literal().value_or("0")));
      if (p.punct(')')) break;
      p.expect_punct(',');
    }
  }
  fill_type_info(c, args);
  pk = false;
  while (true) {
    if (p.word("not")) { p.expect_word("null"); c.nullable = false; }
    else if (p.word("null")) c.nullable = true;
    else if (p.word("primary")) { p.expect_word("key"); pk = true; c.nullable = false; }
    else break;
  }
  return c;
}

RowValues where_key(P& p, const Table& t) {
  RowValues key(t.columns.size());
  p.expect_word("where");
  while (true) {
    std::string cn = p.name();
    int i = t.index(cn);
    if (i < 0) throw SqlError(207, "Invalid column name '" + cn + "'.");
    p.expect_punct('=');
    key[static_cast<size_t>(i)] = canonical(t.columns[static_cast<size_t>(i)], p.literal());
    if (!p.word("and")) break;
  }
  for (size_t k : t.pk)
    if (!key[k]) throw SqlError(50000, "the emulator's UPDATE/DELETE need the whole primary key in WHERE");
  return key;
}

// Applies one control command; returns the reply lines (without OK). Throws SqlError.
std::string apply_command(Model& m, const std::string& line, uint64_t time_ms) {
  std::string low = lower(trim(line));
  if (low.empty()) return "";
  P p{tokenize(line)};
  if (p.word("maxlsn")) return "LSN " + (m.captured_max ? lsn_hex(*m.captured_max) : std::string("NULL")) + "\n";
  if (p.word("stats")) {
    size_t rows = 0;
    for (auto& inst : m.instances) rows += inst.rows.size();
    return "COMMITS " + std::to_string(m.commits_total) + "\nCHANGE_ROWS " + std::to_string(rows) + "\nPENDING " +
           std::to_string(m.pending.size()) + "\n";
  }
  if (p.word("dump")) {
    Table* t = find_table(m, p.name());
    if (!t) throw SqlError(208, "Invalid object name.");
    std::string out = "LSN " + (m.captured_max ? lsn_hex(*m.captured_max) : std::string("NULL")) + "\n";
    for (const auto& [k, r] : t->rows) {
      for (size_t i = 0; i < r.size(); ++i) {
        if (i) out += '\t';
        out += r[i] ? pg_text(t->columns[i], *r[i]) : "\\N";
      }
      out += '\n';
    }
    return out;
  }
  if (p.word("agent")) {
    if (p.word("stop")) m.agent_running = false;
    else if (p.word("start")) {
      m.agent_running = true;
      if (m.capture_lag_ms == 0 && !m.pending.empty()) capture_upto(m, m.pending.back().no);
    } else if (p.word("lag")) {
      m.capture_lag_ms = std::stoull(p.literal().value_or("0"));
      if (m.capture_lag_ms == 0 && m.agent_running && !m.pending.empty()) capture_upto(m, m.pending.back().no);
    } else throw SqlError(102, "AGENT START, AGENT STOP or AGENT LAG ms");
    journal(line, time_ms);
    return "";
  }
  if (p.word("captured")) {  // the journal's record of the capture job (capture_due)
    capture_upto(m, std::stoull(p.literal().value_or("0")));
    journal(line, time_ms);
    return "";
  }
  if (p.word("cleanup")) {
    p.expect_word("all");
    if (!m.captured_max) return "";
    for (auto& inst : m.instances) {
      inst.start_lsn = std::max(inst.start_lsn, *m.captured_max);
      std::erase_if(inst.rows, [&](const ChangeRow& r) { return r.start_lsn < inst.start_lsn; });
    }
    journal(line, time_ms);
    return "";
  }
  if (p.word("alter")) {
    if (p.word("database")) {
      p.expect_word("set");
      p.expect_word("allow_snapshot_isolation");
      m.snapshot_allowed = p.word("on");
      journal(line, time_ms);
      return "";
    }
    p.expect_word("table");
    Table* t = find_table(m, p.name());
    if (!t) throw SqlError(4902, "Cannot find the object because it does not exist or you do not have permissions.");
    p.expect_word("add");
    bool pk = false;
    Column c = parse_column_def(p, pk);
    t->columns.push_back(c);
    for (auto& [k, r] : t->rows) r.push_back(std::nullopt);
    journal(line, time_ms);
    return "";
  }
  if (p.word("create")) {
    if (p.word("login")) {
      std::string name = p.name();
      Login l;
      l.password = p.peek().kind == Tok::kWord ? p.name() : p.literal().value_or("");
      while (p.peek().kind == Tok::kWord) {
        std::string f = lower(p.name());
        if (f == "db_owner") l.db_owner = true;
        else if (f == "cdc") l.cdc = true;
        else if (f == "select") l.select = true;
        else l.roles.insert(f);
      }
      m.logins[name] = l;
      journal(line, time_ms);
      return "";
    }
    p.expect_word("table");
    std::string full = p.name();
    if (full.find('.') == std::string::npos) full = "dbo." + full;
    Table t;
    t.schema = full.substr(0, full.find('.'));
    t.name = full.substr(full.find('.') + 1);
    t.object_id = ++m.next_object_id;
    p.expect_punct('(');
    while (true) {
      if (p.word("primary")) {
        p.expect_word("key");
        p.expect_punct('(');
        while (true) {
          int i = t.index(p.name());
          if (i < 0) throw SqlError(1911, "Column name does not exist in the target table.");
          t.pk.push_back(static_cast<size_t>(i));
          t.columns[static_cast<size_t>(i)].nullable = false;
          if (p.punct(')')) break;
          p.expect_punct(',');
        }
      } else {
        bool pk = false;
        t.columns.push_back(parse_column_def(p, pk));
        if (pk) t.pk.push_back(t.columns.size() - 1);
      }
      if (p.punct(')')) break;
      p.expect_punct(',');
    }
    if (find_table(m, full)) throw SqlError(2714, "There is already an object named '" + t.name + "' in the database.");
    m.tables[lower(full)] = std::move(t);
    journal(line, time_ms);
    return "";
  }
  if (p.word("exec")) {
    std::string proc = lower(p.name());
    if (proc == "sys.sp_cdc_enable_db") m.cdc_enabled = true;
    else if (proc == "sys.sp_cdc_disable_db") { m.cdc_enabled = false; m.instances.clear(); }
    else if (proc == "sys.sp_cdc_enable_table") {
      if (!m.cdc_enabled) throw SqlError(22901, "The database '" + m.database + "' is not enabled for Change Data Capture.");
      Table* t = find_table(m, p.name());
      if (!t) throw SqlError(22931, "Source table does not exist in the current database.");
      Instance inst;
      inst.name = p.peek().kind == Tok::kWord ? p.name() : t->schema + "_" + t->name;
      if (p.peek().kind == Tok::kWord) inst.role = lower(p.name());
      for (auto& other : m.instances)
        if (other.name == inst.name) throw SqlError(22926, "Could not create a capture instance because the capture instance name '" + inst.name + "' already exists.");
      inst.table = lower(t->full());
      for (const auto& c : t->columns) inst.columns.push_back(c.name);
      // Enabling is itself logged: the instance starts at a new LSN, which the capture job maps.
      inst.order = ++m.instance_order;
      commit(m, {}, time_ms);
      inst.start_lsn = make_lsn(m.commit_no);
      m.instances.push_back(std::move(inst));
    } else if (proc == "sys.sp_cdc_disable_table") {
      std::string name = p.name();
      std::erase_if(m.instances, [&](const Instance& i) { return i.name == name; });
    } else if (proc == "sys.sp_cdc_cleanup_change_table") {
      std::string name = p.name();
      Instance* inst = nullptr;
      for (auto& i : m.instances)
        if (i.name == name) inst = &i;
      if (!inst) throw SqlError(22958, "Could not find the capture instance '" + name + "'.");
      Lsn low = m.captured_max.value_or(Lsn{});
      if (!p.word("max")) {
        auto l = parse_lsn(p.literal().value_or(""));
        if (!l) throw SqlError(22964, "LSN is not valid.");
        low = *l;
      }
      if (m.captured_max && low > *m.captured_max)
        throw SqlError(22964, "LSN " + lsn_hex(low) + ", specified as the new low endpoint for the change table associated with capture instance '" +
                                  name + "', is not within the Change Data Capture timeline.");
      inst->start_lsn = std::max(inst->start_lsn, low);
      std::erase_if(inst->rows, [&](const ChangeRow& r) { return r.start_lsn < inst->start_lsn; });
    } else {
      throw SqlError(2812, "Could not find stored procedure '" + proc + "'.");
    }
    journal(line, time_ms);
    return "";
  }
  // DML: every statement of the line in one transaction; all or nothing.
  // Undo log: the first old state of every row touched, restored if a statement fails.
  std::vector<std::tuple<Table*, std::string, std::optional<RowValues>>> undo;
  auto remember = [&](Table* t, const std::string& k) {
    auto it = t->rows.find(k);
    undo.emplace_back(t, k, it == t->rows.end() ? std::nullopt : std::optional<RowValues>(it->second));
  };
  std::vector<LoggedChange> changes;
  try {
    for (const std::string& st : split_statements(line)) {
      P q{tokenize(st)};
      if (q.word("insert")) {
        q.word("into");
        Table* t = find_table(m, q.name());
        if (!t) throw SqlError(208, "Invalid object name.");
        q.expect_word("values");
        while (true) {
          q.expect_punct('(');
          RowValues r;
          while (true) {
            if (r.size() >= t->columns.size()) throw SqlError(110, "There are more columns in the INSERT statement than values specified in the VALUES clause.");
            r.push_back(canonical(t->columns[r.size()], q.literal()));
            if (q.punct(')')) break;
            q.expect_punct(',');
          }
          while (r.size() < t->columns.size()) r.push_back(canonical(t->columns[r.size()], std::nullopt));
          std::string k = t->key_of(r);
          if (t->pk.empty()) k += std::to_string(++m.seq_no);
          if (t->rows.count(k)) throw SqlError(2627, "Violation of PRIMARY KEY constraint. Cannot insert duplicate key in object '" + t->full() + "'.", 1, 14);
          remember(t, k);
          t->rows[k] = r;
          changes.push_back({lower(t->full()), 2, r, ++m.seq_no});
          if (!q.punct(',')) break;
        }
      } else if (q.word("update")) {
        Table* t = find_table(m, q.name());
        if (!t) throw SqlError(208, "Invalid object name.");
        q.expect_word("set");
        std::vector<std::pair<size_t, Value>> sets;
        while (true) {
          std::string cn = q.name();
          int i = t->index(cn);
          if (i < 0) throw SqlError(207, "Invalid column name '" + cn + "'.");
          q.expect_punct('=');
          sets.emplace_back(static_cast<size_t>(i), canonical(t->columns[static_cast<size_t>(i)], q.literal()));
          if (!q.punct(',')) break;
        }
        RowValues key = where_key(q, *t);
        auto it = t->rows.find(t->key_of(key));
        if (it == t->rows.end()) continue;  // 0 rows affected
        RowValues old = it->second, neu = old;
        for (auto& [i, v] : sets) neu[i] = v;
        std::string nk = t->key_of(neu);
        uint64_t seq = ++m.seq_no;
        if (nk != it->first) {
          if (t->rows.count(nk)) throw SqlError(2627, "Violation of PRIMARY KEY constraint. Cannot insert duplicate key in object '" + t->full() + "'.", 1, 14);
          // CDC records an update of a primary key column as a delete and an insert.
          remember(t, it->first);
          remember(t, nk);
          t->rows.erase(it);
          t->rows[nk] = neu;
          changes.push_back({lower(t->full()), 1, old, seq});
          changes.push_back({lower(t->full()), 2, neu, ++m.seq_no});
        } else {
          remember(t, it->first);
          it->second = neu;
          changes.push_back({lower(t->full()), 3, old, seq});
          changes.push_back({lower(t->full()), 4, neu, seq});
        }
      } else if (q.word("delete")) {
        q.word("from");
        Table* t = find_table(m, q.name());
        if (!t) throw SqlError(208, "Invalid object name.");
        RowValues key = where_key(q, *t);
        auto it = t->rows.find(t->key_of(key));
        if (it == t->rows.end()) continue;
        changes.push_back({lower(t->full()), 1, it->second, ++m.seq_no});
        remember(t, it->first);
        t->rows.erase(it);
      } else {
        throw SqlError(102, "Incorrect syntax near '" + st.substr(0, 20) + "'.", 1, 15);
      }
    }
  } catch (...) {
    for (auto it = undo.rbegin(); it != undo.rend(); ++it) {
      auto& [t, k, v] = *it;
      if (v) t->rows[k] = *v;
      else t->rows.erase(k);
    }
    throw;
  }
  if (!changes.empty()) commit(m, std::move(changes), time_ms);
  journal(line, time_ms);
  return "";
}

// ---------------------------------------------------------------- queries over TDS

struct Session {
  std::string user;
  bool snapshot_iso = false;
  bool in_txn = false;
  std::shared_ptr<Snapshot> snap;
  std::map<std::string, Lsn> vars;  // DECLAREd binary(10) variables
};

const Login& login_of(const Model& m, const Session& s) {
  static const Login none;
  auto it = m.logins.find(s.user);
  return it == m.logins.end() ? none : it->second;
}

std::string object_literal_name(const std::string& sql) {
  // OBJECT_ID(N'[dbo].[sales]') → dbo.sales
  size_t p = sql.find("OBJECT_ID(N'");
  if (p == std::string::npos) p = sql.find("HAS_PERMS_BY_NAME(N'");
  if (p == std::string::npos) return "";
  size_t s = sql.find('\'', p) + 1;
  std::string out;
  for (size_t i = s; i < sql.size(); ++i) {
    if (sql[i] == '\'') {
      if (i + 1 < sql.size() && sql[i + 1] == '\'') { out.push_back('\''); ++i; continue; }
      break;
    }
    out.push_back(sql[i]);
  }
  std::string name;
  for (char c : out)
    if (c != '[' && c != ']') name.push_back(c);
  return name;
}

std::shared_ptr<Snapshot> reading_view(Model& m, Session& s) {
  if (!(s.snapshot_iso && s.in_txn)) return nullptr;
  if (!m.snapshot_allowed)
    throw SqlError(3952, "Snapshot isolation transaction failed accessing database '" + m.database +
                             "' because snapshot isolation is not allowed in this database. Use ALTER DATABASE to allow snapshot isolation.", 1, 16);
  if (!s.snap) {  // the version is taken at the transaction's first read
    s.snap = std::make_shared<Snapshot>();
    s.snap->tables = m.tables;
    s.snap->captured_max = m.captured_max;
  }
  return s.snap;
}

Value lsn_value(const std::optional<Lsn>& l) {
  if (!l) return std::nullopt;
  return "0x" + lsn_hex(*l);
}

Lsn lsn_arg(Session& s, const std::string& text) {
  std::string t = trim(text);
  if (!t.empty() && t[0] == '@') {
    auto it = s.vars.find(lower(t));
    if (it == s.vars.end()) throw SqlError(137, "Must declare the scalar variable \"" + t + "\".", 2, 15);
    return it->second;
  }
  auto l = parse_lsn(t);
  if (!l) throw SqlError(8114, "Error converting data type to binary(10).");
  return *l;
}

const Instance* find_instance(const Model& m, const std::string& name) {
  for (const auto& i : m.instances)
    if (i.name == name) return &i;
  return nullptr;
}

// Evaluates a scalar item: sys.fn_cdc_get_max_lsn(), sys.fn_cdc_get_min_lsn(N'x'),
// sys.fn_cdc_increment_lsn(0x..), a binary literal.
Value scalar(Model& m, Session& s, const std::string& item) {
  std::string low = lower(trim(item));
  if (low == "sys.fn_cdc_get_max_lsn()") {
    auto v = reading_view(m, s);
    return lsn_value(v ? v->captured_max : m.captured_max);
  }
  if (low.rfind("sys.fn_cdc_get_min_lsn(", 0) == 0) {
    size_t a = item.find('\''), b = item.rfind('\'');
    std::string name = item.substr(a + 1, b - a - 1);
    const Instance* inst = find_instance(m, name);
    if (!inst) return "0x00000000000000000000";  // SQL Server returns 0x00... for an unknown instance
    return lsn_value(inst->start_lsn);
  }
  if (low.rfind("sys.fn_cdc_increment_lsn(", 0) == 0) {
    size_t a = item.find('('), b = item.rfind(')');
    return lsn_value(increment(lsn_arg(s, item.substr(a + 1, b - a - 1))));
  }
  if (low.rfind("0x", 0) == 0) return lsn_value(lsn_arg(s, item));
  throw SqlError(102, "emulator: unsupported expression '" + item + "'", 1, 15);
}

std::vector<std::string> split_items(const std::string& s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool q = false;
  for (char c : s) {
    if (c == '\'') q = !q;
    if (!q && c == '(') ++depth;
    if (!q && c == ')') --depth;
    if (!q && depth == 0 && c == ',') {
      out.push_back(trim(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!trim(cur).empty()) out.push_back(trim(cur));
  return out;
}

size_t find_ci(const std::string& hay, const std::string& needle, size_t from = 0) { return lower(hay).find(lower(needle), from); }

// One statement of a batch; returns a result set or nullopt (no rows).
std::optional<ResultSet> run_statement(Model& m, Session& s, const std::string& st) {
  std::string low = lower(st);
  const Login& who = login_of(m, s);
  if (low.rfind("set transaction isolation level snapshot", 0) == 0) { s.snapshot_iso = true; return std::nullopt; }
  if (low.rfind("set transaction isolation level", 0) == 0) { s.snapshot_iso = false; return std::nullopt; }
  if (low.rfind("set ", 0) == 0 || low.rfind("use ", 0) == 0) return std::nullopt;
  if (low == "begin transaction" || low == "begin tran") { s.in_txn = true; s.snap.reset(); return std::nullopt; }
  if (low == "commit transaction" || low == "commit" || low == "rollback transaction" || low == "rollback") {
    s.in_txn = false;
    s.snap.reset();
    return std::nullopt;
  }
  if (low.rfind("declare ", 0) == 0) {
    // DECLARE @a binary(10) = expr, @b binary(10) = expr
    for (const std::string& d : split_items(st.substr(8))) {
      size_t eq = d.find('=');
      std::string var = lower(trim(d.substr(0, d.find(' '))));
      if (eq == std::string::npos) throw SqlError(102, "emulator: DECLARE needs a value", 1, 15);
      Value v = scalar(m, s, d.substr(eq + 1));
      if (!v) throw SqlError(8114, "NULL LSN");
      s.vars[var] = *parse_lsn(*v);
    }
    return std::nullopt;
  }
  if (low.rfind("select", 0) != 0) throw SqlError(102, "emulator: unsupported statement '" + st.substr(0, 60) + "'", 1, 15);

  if (low.find("from sys.databases") != std::string::npos) {
    ResultSet r{{col("name", "nvarchar", 128), col("is_cdc_enabled", "int"), col("snapshot_isolation_state", "int")}, {}};
    r.rows.push_back({m.database, m.cdc_enabled ? "1" : "0", m.snapshot_allowed ? "1" : "0"});
    return r;
  }
  if (low.find("from cdc.change_tables") != std::string::npos) {
    if (!m.cdc_enabled) throw SqlError(208, "Invalid object name 'cdc.change_tables'.", 1, 16);
    if (!who.db_owner && !who.cdc)
      throw SqlError(229, "The SELECT permission was denied on the object 'change_tables', database '" + m.database + "', schema 'cdc'.", 5, 14);
    ResultSet r{{col("capture_instance", "nvarchar", 128), col("schema", "nvarchar", 128), col("table", "nvarchar", 128),
                 col("role_name", "nvarchar", 128)},
                {}};
    std::vector<const Instance*> order;
    for (const auto& i : m.instances) order.push_back(&i);
    std::sort(order.begin(), order.end(), [](const Instance* a, const Instance* b) { return a->order < b->order; });
    for (const Instance* i : order) {
      const Table* t = find_table(m, i->table);
      r.rows.push_back({i->name, t ? t->schema : "", t ? t->name : "", i->role.empty() ? std::optional<std::string>() : i->role});
    }
    return r;
  }
  if (low.find("from sys.columns") != std::string::npos && low.find("sys.indexes") == std::string::npos) {
    ResultSet r{{col("name", "nvarchar", 128), col("type", "nvarchar", 128), col("max_length", "smallint"), col("precision", "tinyint"),
                 col("scale", "tinyint"), col("is_nullable", "int")},
                {}};
    Table* t = find_table(m, object_literal_name(st));
    if (t && (who.db_owner || who.select || who.cdc))
      for (const auto& c : t->columns)
        r.rows.push_back({c.name, c.type, std::to_string(c.max_length), std::to_string(c.precision), std::to_string(c.scale), c.nullable ? "1" : "0"});
    return r;
  }
  if (low.find("is_primary_key = 1") != std::string::npos) {
    ResultSet r{{col("name", "nvarchar", 128)}, {}};
    if (Table* t = find_table(m, object_literal_name(st)))
      for (size_t i : t->pk) r.rows.push_back({t->columns[i].name});
    return r;
  }
  if (low.find("is_rolemember(") != std::string::npos) {
    ResultSet r;
    RowValues row;
    for (const std::string& it : split_items(st.substr(6))) {
      size_t a = it.find('\''), b = it.rfind('\'');
      std::string role = a == std::string::npos || b <= a ? "" : lower(it.substr(a + 1, b - a - 1));
      bool member = role == "db_owner" ? who.db_owner : who.roles.count(role) > 0;
      r.columns.push_back(col("", "int"));
      row.push_back(member ? "1" : "0");
    }
    r.rows.push_back(row);
    return r;
  }
  if (low.find("has_perms_by_name") != std::string::npos) {
    ResultSet r{{col("", "int")}, {}};
    Table* t = find_table(m, object_literal_name(st));
    r.rows.push_back({t ? ((who.db_owner || who.select) ? "1" : "0") : std::optional<std::string>()});
    return r;
  }
  if (low.find("sys.dm_server_services") != std::string::npos) {
    ResultSet r{{col("status_desc", "nvarchar", 60)}, {}};
    r.rows.push_back({m.agent_running ? "Running" : "Stopped"});
    return r;
  }
  if (low.find("count_big(*)") != std::string::npos) {
    size_t f = find_ci(st, " from ");
    std::string name = trim(st.substr(f + 6));
    auto view = reading_view(m, s);
    std::map<std::string, Table>& tables = view ? view->tables : m.tables;
    Table* t = nullptr;
    {
      std::string n = lower(name);
      n.erase(std::remove(n.begin(), n.end(), '['), n.end());
      n.erase(std::remove(n.begin(), n.end(), ']'), n.end());
      auto it = tables.find(n);
      if (it != tables.end()) t = &it->second;
    }
    if (!t) throw SqlError(208, "Invalid object name '" + name + "'.");
    if (!who.db_owner && !who.select) throw SqlError(229, "The SELECT permission was denied on the object '" + t->name + "'.", 5, 14);
    ResultSet r{{col("", "bigint")}, {{std::to_string(t->rows.size())}}};
    return r;
  }
  if (low.find("fn_cdc_get_all_changes_") != std::string::npos) {
    // SELECT __$start_lsn, __$seqval, __$operation, DATEDIFF_BIG(...), [c]... FROM
    // cdc.[fn_cdc_get_all_changes_<inst>](@from, @to, N'all update old') ORDER BY ...
    size_t f = find_ci(st, " from cdc.");
    std::string items = st.substr(6, f - 6);
    size_t fn = find_ci(st, "fn_cdc_get_all_changes_", f);
    size_t paren = st.find('(', fn);
    std::string inst_name = st.substr(fn + 23, paren - fn - 23);
    inst_name.erase(std::remove(inst_name.begin(), inst_name.end(), ']'), inst_name.end());
    size_t close = st.find(')', paren);
    std::vector<std::string> args = split_items(st.substr(paren + 1, close - paren - 1));
    const Instance* inst = find_instance(m, inst_name);
    if (!inst) throw SqlError(208, "Invalid object name 'cdc.fn_cdc_get_all_changes_" + inst_name + "'.", 1, 16);
    // Documented: without SELECT on the captured columns or, with a gating role, without
    // membership in it, the function returns error 229.
    if (!who.db_owner && (!who.select || (!inst->role.empty() && !who.roles.count(inst->role))))
      throw SqlError(229, "The SELECT permission was denied on the object 'fn_cdc_get_all_changes_" + inst_name + "', database '" +
                              m.database + "', schema 'cdc'.", 5, 14);
    if (args.size() != 3) throw SqlError(313, "An insufficient number of arguments were supplied for the procedure or function cdc.fn_cdc_get_all_changes_ ... .", 3, 16);
    Lsn from = lsn_arg(s, args[0]), to = lsn_arg(s, args[1]);
    std::string filter = lower(args[2]);
    filter.erase(std::remove(filter.begin(), filter.end(), '\''), filter.end());
    filter = trim(filter);
    if (!filter.empty() && filter[0] == 'n') filter = filter.substr(1);  // N'...'
    if (filter != "all" && filter != "all update old")
      throw SqlError(313, "An insufficient number of arguments were supplied for the procedure or function cdc.fn_cdc_get_all_changes_ ... .", 3, 16);
    // SQL Server's documented check: the range must lie within the instance's timeline.
    if (from < inst->start_lsn || !m.captured_max || to > *m.captured_max || from > to)
      throw SqlError(313, "An insufficient number of arguments were supplied for the procedure or function cdc.fn_cdc_get_all_changes_ ... .", 3, 16);
    const Table* t = find_table(m, inst->table);
    ResultSet r;
    std::vector<int> pick;  // -1.. -4 meta columns, else index into the captured columns
    for (const std::string& it : split_items(items)) {
      std::string li = lower(it);
      if (li == "__$start_lsn") { r.columns.push_back(col("__$start_lsn", "binary", 10)); pick.push_back(-1); }
      else if (li == "__$seqval") { r.columns.push_back(col("__$seqval", "binary", 10)); pick.push_back(-2); }
      else if (li == "__$operation") { r.columns.push_back(col("__$operation", "int")); pick.push_back(-3); }
      else if (li.find("sys.fn_cdc_map_lsn_to_time") != std::string::npos) { r.columns.push_back(col("", "bigint")); pick.push_back(-4); }
      else {
        std::string cn = it;
        cn.erase(std::remove(cn.begin(), cn.end(), '['), cn.end());
        cn.erase(std::remove(cn.begin(), cn.end(), ']'), cn.end());
        int found = -1;
        for (size_t k = 0; k < inst->columns.size(); ++k)
          if (lower(inst->columns[k]) == lower(cn)) found = static_cast<int>(k);
        if (found < 0) throw SqlError(207, "Invalid column name '" + cn + "'.", 1, 16);
        Column c = col(cn, "int");
        if (t) {
          int ti = t->index(cn);
          if (ti >= 0) c = t->columns[static_cast<size_t>(ti)];
        }
        c.nullable = true;
        r.columns.push_back(c);
        pick.push_back(found);
      }
    }
    for (const ChangeRow& cr : inst->rows) {
      if (cr.start_lsn < from || cr.start_lsn > to) continue;
      if (cr.op == 3 && filter == "all") continue;
      RowValues row;
      for (int pk : pick) {
        if (pk == -1) row.push_back(lsn_value(cr.start_lsn));
        else if (pk == -2) row.push_back(lsn_value(cr.seqval));
        else if (pk == -3) row.push_back(std::to_string(cr.op));
        else if (pk == -4) {
          auto it = m.lsn_time.find(cr.start_lsn);
          row.push_back(it == m.lsn_time.end() ? std::optional<std::string>() : std::to_string(it->second));
        } else row.push_back(cr.values[static_cast<size_t>(pk)]);
      }
      r.rows.push_back(std::move(row));
    }
    // Rows are kept in (__$start_lsn, __$seqval, __$operation) order already.
    return r;
  }
  // SELECT <scalar>, ... (fn_cdc_get_max_lsn / fn_cdc_get_min_lsn / fn_cdc_increment_lsn)
  if (low.find(" from ") == std::string::npos && low.find("fn_cdc_") != std::string::npos) {
    ResultSet r;
    RowValues row;
    for (const std::string& it : split_items(st.substr(6))) {
      r.columns.push_back(col("", "binary", 10));
      row.push_back(scalar(m, s, it));
    }
    r.rows.push_back(row);
    return r;
  }
  // SELECT [a], [b] FROM [dbo].[t]
  if (size_t f = find_ci(st, " from "); f != std::string::npos) {
    std::string name = trim(st.substr(f + 6));
    auto view = reading_view(m, s);
    std::map<std::string, Table>& tables = view ? view->tables : m.tables;
    std::string n = lower(name);
    n.erase(std::remove(n.begin(), n.end(), '['), n.end());
    n.erase(std::remove(n.begin(), n.end(), ']'), n.end());
    auto tit = tables.find(n);
    if (tit == tables.end()) throw SqlError(208, "Invalid object name '" + name + "'.", 1, 16);
    Table& t = tit->second;
    if (!who.db_owner && !who.select) throw SqlError(229, "The SELECT permission was denied on the object '" + t.name + "'.", 5, 14);
    ResultSet r;
    std::vector<size_t> idx;
    for (const std::string& it : split_items(st.substr(6, f - 6))) {
      std::string cn = it;
      cn.erase(std::remove(cn.begin(), cn.end(), '['), cn.end());
      cn.erase(std::remove(cn.begin(), cn.end(), ']'), cn.end());
      int i = t.index(cn);
      if (i < 0) throw SqlError(207, "Invalid column name '" + cn + "'.", 1, 16);
      idx.push_back(static_cast<size_t>(i));
      r.columns.push_back(t.columns[static_cast<size_t>(i)]);
    }
    for (const auto& [k, row] : t.rows) {
      RowValues out;
      for (size_t i : idx) out.push_back(row[i]);
      r.rows.push_back(std::move(out));
    }
    return r;
  }
  throw SqlError(102, "emulator: unsupported query '" + st.substr(0, 80) + "'", 1, 15);
}

// ---------------------------------------------------------------- TDS connections

bool read_full(int fd, void* buf, size_t n) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= static_cast<size_t>(r);
  }
  return true;
}

bool write_full(int fd, const void* buf, size_t n) {
  const auto* p = static_cast<const uint8_t*>(buf);
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Reads one message (all packets up to EOM). Returns the type, or -1 on EOF.
int read_message(int fd, std::string& payload) {
  payload.clear();
  int type = -1;
  while (true) {
    uint8_t h[8];
    if (!read_full(fd, h, 8)) return -1;
    size_t len = (static_cast<size_t>(h[2]) << 8) | h[3];
    if (len < 8 || len > 65535) return -1;
    std::string body(len - 8, '\0');
    if (!read_full(fd, body.data(), body.size())) return -1;
    type = h[0];
    payload += body;
    if (h[1] & 0x01) return type;
    if (payload.size() > (64u << 20)) return -1;
  }
}

bool send_message(int fd, uint8_t type, const std::string& payload, size_t packet_size) {
  size_t max_body = packet_size - 8;
  size_t off = 0;
  uint8_t id = 1;
  do {
    size_t n = std::min(max_body, payload.size() - off);
    bool last = off + n >= payload.size();
    uint8_t h[8] = {type, static_cast<uint8_t>(last ? 1 : 0), static_cast<uint8_t>((n + 8) >> 8), static_cast<uint8_t>(n + 8), 0, 0, id++, 0};
    if (!write_full(fd, h, 8) || !write_full(fd, payload.data() + off, n)) return false;
    off += n;
  } while (off < payload.size());
  return true;
}

std::string g_sa_password = "Secret_1";

void serve_tds(int fd) {
  std::string msg;
  size_t packet_size = 4096;
  Session session;
  bool logged_in = false;
  while (true) {
    int type = read_message(fd, msg);
    if (type < 0) break;
    if (type == 0x12) {  // PRELOGIN
      Buf o;
      const int n = 5;
      uint16_t off = n * 5 + 1;
      uint8_t ids[n] = {0, 1, 2, 3, 4};
      uint16_t lens[n] = {6, 1, 1, 4, 1};
      for (int i = 0; i < n; ++i) {
        o.u8(ids[i]);
        o.u8(static_cast<uint8_t>(off >> 8));
        o.u8(static_cast<uint8_t>(off));
        o.u8(static_cast<uint8_t>(lens[i] >> 8));
        o.u8(static_cast<uint8_t>(lens[i]));
        off = static_cast<uint16_t>(off + lens[i]);
      }
      o.u8(0xFF);
      o.u8(15); o.u8(0); o.u8(0x07); o.u8(0xD0); o.u8(0); o.u8(0);  // 15.0.2000
      o.u8(2);  // ENCRYPT_NOT_SUP: no TLS
      o.u8(0);
      o.u32(0);
      o.u8(0);
      if (!send_message(fd, 4, o.b, packet_size)) break;
    } else if (type == 0x10) {  // LOGIN7
      auto field = [&](size_t at) -> std::string {
        if (msg.size() < at + 4) return "";
        size_t o = static_cast<uint8_t>(msg[at]) | (static_cast<uint8_t>(msg[at + 1]) << 8);
        size_t n = static_cast<uint8_t>(msg[at + 2]) | (static_cast<uint8_t>(msg[at + 3]) << 8);
        if (o + 2 * n > msg.size()) return "";
        return std::string(msg.data() + o, 2 * n);
      };
      std::string user_raw = field(40), pw_raw = field(44), db_raw = field(68);
      std::string user = utf8(reinterpret_cast<const uint8_t*>(user_raw.data()), user_raw.size() / 2);
      for (char& c : pw_raw) {  // MS-TDS 2.2.6.4: XOR 0xA5, then swap the nibbles (undone here)
        uint8_t b = static_cast<uint8_t>(c) ^ 0xA5;
        c = static_cast<char>(((b & 0x0F) << 4) | (b >> 4));
      }
      std::string password = utf8(reinterpret_cast<const uint8_t*>(pw_raw.data()), pw_raw.size() / 2);
      std::string db = utf8(reinterpret_cast<const uint8_t*>(db_raw.data()), db_raw.size() / 2);
      Buf o;
      bool ok;
      {
        std::lock_guard<std::mutex> g(g_mu);
        auto it = g_model.logins.find(user);
        ok = (user == "sa" && password == g_sa_password) || (it != g_model.logins.end() && it->second.password == password);
        if (ok && !db.empty() && lower(db) != lower(g_model.database)) {
          write_error(o, SqlError(4060, "Cannot open database \"" + db + "\" requested by the login. The login failed.", 1, 11), "emulator");
          write_done(o, false, 0x0002);
          send_message(fd, 4, o.b, packet_size);
          break;
        }
      }
      if (!ok) {
        write_error(o, SqlError(18456, "Login failed for user '" + user + "'.", 1, 14), "emulator");
        write_done(o, false, 0x0002);
        send_message(fd, 4, o.b, packet_size);
        break;
      }
      session.user = user;
      logged_in = true;
      auto envchange = [&](uint8_t t, const std::string& nv, const std::string& ov) {
        Buf b;
        b.u8(t);
        b.b_varchar(nv);
        b.b_varchar(ov);
        o.u8(0xE3);
        o.u16(static_cast<uint16_t>(b.b.size()));
        o.bytes(b.b);
      };
      envchange(1, g_model.database, "master");
      {  // SQL collation
        Buf b;
        b.u8(7);
        b.u8(5);
        b.bytes(std::string(kCollation, 5));
        b.u8(0);
        o.u8(0xE3);
        o.u16(static_cast<uint16_t>(b.b.size()));
        o.bytes(b.b);
      }
      Buf ack;
      ack.u8(1);
      ack.u8(0x74); ack.u8(0x00); ack.u8(0x00); ack.u8(0x04);  // TDS 7.4
      ack.b_varchar("Microsoft SQL Server");
      ack.u8(15); ack.u8(0); ack.u8(0x07); ack.u8(0xD0);
      o.u8(0xAD);
      o.u16(static_cast<uint16_t>(ack.b.size()));
      o.bytes(ack.b);
      envchange(4, "4096", "4096");
      write_done(o, false);
      if (!send_message(fd, 4, o.b, packet_size)) break;
    } else if (type == 0x01 && logged_in) {  // SQL batch
      size_t skip = 0;
      if (msg.size() >= 4) skip = static_cast<uint8_t>(msg[0]) | (static_cast<uint8_t>(msg[1]) << 8) |
                                  (static_cast<uint8_t>(msg[2]) << 16) | (static_cast<uint32_t>(static_cast<uint8_t>(msg[3])) << 24);
      if (skip > msg.size()) skip = 0;
      std::string sql = utf8(reinterpret_cast<const uint8_t*>(msg.data() + skip), (msg.size() - skip) / 2);
      Buf o;
      std::vector<std::string> stmts = split_statements(sql);
      if (stmts.empty()) write_done(o, false);
      for (size_t i = 0; i < stmts.size(); ++i) {
        bool last = i + 1 == stmts.size();
        try {
          std::optional<ResultSet> rs;
          {
            std::lock_guard<std::mutex> g(g_mu);
            rs = run_statement(g_model, session, stmts[i]);
          }
          if (rs) write_result(o, *rs, !last);
          else write_done(o, !last);
        } catch (const SqlError& e) {
          if (std::getenv("EMULATOR_TRACE")) std::fprintf(stderr, "emulator: error %d: %s in: %s\n", e.number, e.what(), stmts[i].c_str());
          write_error(o, e, "emulator");
          write_done(o, false, 0x0002);
          break;
        }
      }
      if (std::getenv("EMULATOR_TRACE")) std::fprintf(stderr, "emulator: batch: %s\n", sql.c_str());
      if (!send_message(fd, 4, o.b, packet_size)) break;
    } else if (type == 0x06) {  // attention: acknowledge
      Buf o;
      write_done(o, false, 0x0020);
      if (!send_message(fd, 4, o.b, packet_size)) break;
    } else {
      Buf o;
      write_error(o, SqlError(50000, "emulator: unsupported TDS message type " + std::to_string(type), 1, 16), "emulator");
      write_done(o, false, 0x0002);
      if (!send_message(fd, 4, o.b, packet_size)) break;
    }
  }
  ::close(fd);
}

int listen_on(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 64) != 0) {
    std::perror("sqlserver_emulator: bind");
    std::exit(1);
  }
  return fd;
}

// ---------------------------------------------------------------- load generator

std::atomic<bool> g_load_running{false};
std::thread g_load_thread;

void load_loop(uint64_t seed, double rate) {
  std::mt19937_64 rng(seed);
  auto r = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % static_cast<uint64_t>(hi - lo + 1)); };
  auto next = std::chrono::steady_clock::now();
  while (g_load_running) {
    std::string line;
    {
      std::lock_guard<std::mutex> g(g_mu);
      Table* t = find_table(g_model, "dbo.sales");
      if (!t) break;
      int64_t max_id = 0;
      std::vector<std::string> ids;
      for (const auto& [k, row] : t->rows) {
        ids.push_back(*row[0]);
        max_id = std::max<int64_t>(max_id, std::stoll(*row[0]));
      }
      int n = static_cast<int>(r(1, 4));
      std::set<std::string> touched;
      for (int i = 0; i < n; ++i) {
        int64_t kind = r(0, 9);
        if (!line.empty()) line += "; ";
        if (kind < 5 || ids.size() < 5) {
          int64_t qty = r(1, 10);
          int64_t cents = r(100, 50000);
          char date[64];
          uint64_t ms = wall_ms() - static_cast<uint64_t>(r(0, 10LL * 86400 * 1000));
          time_t secs = static_cast<time_t>(ms / 1000);
          std::tm tm{};
          gmtime_r(&secs, &tm);
          std::snprintf(date, sizeof date, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                        tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
          int64_t id = max_id + 1 + i;
          line += "INSERT INTO dbo.sales VALUES (" + std::to_string(id) + ", " + std::to_string(r(1, 100)) + ", " + std::to_string(r(1, 50)) +
                  ", '" + date + "', " + std::to_string(qty) + ", " + unscaled_text(cents, 2) + ", " + unscaled_text(cents * qty, 2) + ")";
        } else {
          std::string id = ids[static_cast<size_t>(r(0, static_cast<int64_t>(ids.size()) - 1))];
          if (touched.count(id)) { line += "UPDATE dbo.sales SET quantity = quantity WHERE sale_id = -1"; }
          touched.insert(id);
          if (kind < 8) {
            int64_t qty = r(1, 10);
            int64_t cents = r(100, 50000);
            line += "UPDATE dbo.sales SET quantity = " + std::to_string(qty) + ", unit_price = " + unscaled_text(cents, 2) +
                    ", total_price = " + unscaled_text(cents * qty, 2) + " WHERE sale_id = " + id;
          } else if (kind == 8) {
            line += "DELETE FROM dbo.sales WHERE sale_id = " + id;
          } else {
            line += "UPDATE dbo.sales SET sale_id = " + std::to_string(max_id + 100 + i) + " WHERE sale_id = " + id;
          }
        }
      }
      // Statements that cannot apply (an id touched twice) are simply skipped below.
      std::string clean;
      for (const std::string& st : split_statements(line))
        if (st.find("quantity = quantity") == std::string::npos) clean += (clean.empty() ? "" : "; ") + st;
      // dbo.audit, when it exists, gets one row per transaction numbered 1, 2, 3, ...: an
      // insert-only table whose count must equal its max(id) downstream.
      if (Table* a = find_table(g_model, "dbo.audit")) {
        int64_t next_id = a->rows.empty() ? 1 : std::stoll(*a->rows.rbegin()->second[0]) + 1;
        clean += (clean.empty() ? "" : "; ") + std::string("INSERT INTO dbo.audit VALUES (") + std::to_string(next_id) + ", " +
                 std::to_string(n) + ")";
      }
      try {
        apply_command(g_model, clean, wall_ms());
      } catch (const SqlError& e) {
        std::fprintf(stderr, "sqlserver_emulator: load: %s (%s)\n", e.what(), clean.c_str());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sqlserver_emulator: load: %s (%s)\n", e.what(), clean.c_str());
      }
    }
    next += std::chrono::microseconds(static_cast<int64_t>(1e6 / rate));
    std::this_thread::sleep_until(next);
  }
}

// ---------------------------------------------------------------- control port

void serve_control(int fd) {
  std::string buf;
  char chunk[4096];
  while (true) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      ssize_t r = ::read(fd, chunk, sizeof chunk);
      if (r <= 0) {
        ::close(fd);
        return;
      }
      buf.append(chunk, static_cast<size_t>(r));
    }
    std::string line = trim(buf.substr(0, nl));
    buf.erase(0, nl + 1);
    std::string reply;
    try {
      std::string low = lower(line);
      if (low.rfind("load start", 0) == 0) {
        std::istringstream in(line.substr(10));
        uint64_t seed = 1;
        double rate = 100;
        in >> seed >> rate;
        if (!g_load_running) {
          if (g_load_thread.joinable()) g_load_thread.join();
          g_load_running = true;
          g_load_thread = std::thread(load_loop, seed, rate);
        }
        reply = "OK\n";
      } else if (low == "load stop") {
        g_load_running = false;
        if (g_load_thread.joinable()) g_load_thread.join();
        reply = "OK\n";
      } else {
        std::lock_guard<std::mutex> g(g_mu);
        reply = apply_command(g_model, line, wall_ms()) + "OK\n";
      }
    } catch (const SqlError& e) {
      reply = "ERR " + std::to_string(e.number) + " " + e.what() + "\n";
    } catch (const std::exception& e) {
      reply = std::string("ERR 0 ") + e.what() + "\n";
    }
    if (!write_full(fd, reply.data(), reply.size())) break;
  }
  ::close(fd);
}

}  // namespace

int main(int argc, char** argv) {
  int port = 0, control_port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--port") port = std::atoi(argv[i + 1]);
    else if (a == "--control-port") control_port = std::atoi(argv[i + 1]);
    else if (a == "--state") g_journal_path = argv[i + 1];
    else if (a == "--database") g_model.database = argv[i + 1];
    else if (a == "--sa-password") g_sa_password = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: sqlserver_emulator --port P --control-port C [--state FILE] [--database NAME] [--sa-password PW]\n");
      return 2;
    }
  }
  if (port == 0 || control_port == 0) {
    std::fprintf(stderr, "sqlserver_emulator: --port and --control-port are required\n");
    return 2;
  }
  if (!g_journal_path.empty()) {
    // Replay the journal: the database as it was when the emulator stopped (or was killed).
    std::ifstream in(g_journal_path);
    std::string line;
    g_replaying = true;
    size_t n = 0;
    while (std::getline(in, line)) {
      size_t tab = line.find('\t');
      if (tab == std::string::npos) continue;  // a torn last line
      try {
        apply_command(g_model, line.substr(tab + 1), std::stoull(line.substr(0, tab)));
        ++n;
      } catch (const std::exception& e) {
        std::fprintf(stderr, "sqlserver_emulator: journal line %zu: %s\n", n, e.what());
      }
    }
    g_replaying = false;
    g_journal = std::fopen(g_journal_path.c_str(), "a");
    if (!g_journal) {
      std::perror("sqlserver_emulator: journal");
      return 1;
    }
  }
  int tds = listen_on(port), ctl = listen_on(control_port);
  std::thread([] {  // the capture job's clock (AGENT LAG)
    while (true) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      std::lock_guard<std::mutex> g(g_mu);
      capture_due(g_model, wall_ms());
    }
  }).detach();
  std::thread([ctl] {
    while (true) {
      int c = ::accept(ctl, nullptr, nullptr);
      if (c >= 0) std::thread(serve_control, c).detach();
    }
  }).detach();
  std::fprintf(stderr, "sqlserver_emulator: TDS on 127.0.0.1:%d, control on 127.0.0.1:%d\n", port, control_port);
  while (true) {
    int c = ::accept(tds, nullptr, nullptr);
    if (c < 0) continue;
    int one = 1;
    ::setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread(serve_tds, c).detach();
  }
}
