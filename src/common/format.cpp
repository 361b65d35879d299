#include "common/format.hpp"
#include "common/interval_materialize.hpp"
#include "common/unsigned_int.hpp"
#include "common/timezone.hpp"
#include "common/datetime_fields.hpp"
#include "common/sql_dialect.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/error.hpp"
#include "common/numeric.hpp"
#include "common/range.hpp"
#include "common/sql_dialect.hpp"

// PostgreSQL's type input and output functions (src/backend/utils/adt/*.c), for the subset of
// syntax that clients and tests use. Where PostgreSQL accepts far more (every DateStyle, named
// time zones), we accept ISO forms and say so in the error.

namespace freshet {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

[[noreturn]] void bad_input(std::string_view type_name, std::string_view text,
                            const char* code = sqlstate::kInvalidTextRepresentation) {
  throw SqlError(code, "invalid input syntax for type " + std::string(type_name) + ": \"" + std::string(text) + "\"");
}

// ---------------------------------------------------------------------------------------------
// Integers, booleans, floats

int64_t parse_integer(std::string_view text, int64_t lo, int64_t hi, std::string_view type_name) {
  std::string_view s = trim(text);
  bool neg = false;
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    neg = s[i] == '-';
    ++i;
  }
  if (i >= s.size()) bad_input(type_name, text);
  unsigned __int128 v = 0;
  bool overflowed = false;
  for (; i < s.size(); ++i) {
    char c = s[i];
    if (c < '0' || c > '9') bad_input(type_name, text);
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > (static_cast<unsigned __int128>(1) << 64)) overflowed = true;
  }
  __int128 sv = neg ? -static_cast<__int128>(v) : static_cast<__int128>(v);
  if (overflowed || sv < lo || sv > hi)
    throw SqlError(sqlstate::kNumericValueOutOfRange,
                   "value \"" + std::string(text) + "\" is out of range for type " + std::string(type_name));
  return static_cast<int64_t>(sv);
}

bool parse_bool(std::string_view text) {
  std::string_view s = trim(text);
  std::string l = lower(s);
  auto prefix_of = [&](std::string_view word, size_t min_len) {
    return l.size() >= min_len && l.size() <= word.size() && word.substr(0, l.size()) == l;
  };
  if (!l.empty()) {
    switch (l[0]) {
      case 't':
        if (prefix_of("true", 1)) return true;
        break;
      case 'f':
        if (prefix_of("false", 1)) return false;
        break;
      case 'y':
        if (prefix_of("yes", 1)) return true;
        break;
      case 'n':
        if (prefix_of("no", 1)) return false;
        break;
      case 'o':
        if (prefix_of("on", 2)) return true;
        if (prefix_of("off", 2)) return false;
        break;
      case '1':
        if (l.size() == 1) return true;
        break;
      case '0':
        if (l.size() == 1) return false;
        break;
      default:
        break;
    }
  }
  bad_input("boolean", text);
}

double parse_float(std::string_view text, bool is_float4) {
  const char* type_name = is_float4 ? "real" : "double precision";
  std::string s(trim(text));
  std::string l = lower(s);
  if (l == "nan") return std::nan("");
  if (l == "infinity" || l == "+infinity" || l == "inf" || l == "+inf") return HUGE_VAL;
  if (l == "-infinity" || l == "-inf") return -HUGE_VAL;
  if (s.empty()) bad_input(type_name, text);
  char* end = nullptr;
  errno = 0;
  double v;
  if (is_float4) {
    float f = std::strtof(s.c_str(), &end);
    v = f;
  } else {
    v = std::strtod(s.c_str(), &end);
  }
  if (end == s.c_str() || *end != '\0') bad_input(type_name, text);
  if (std::isnan(v) || std::isinf(v)) {
    // strtod accepted some other spelling of nan/inf ("nan(123)", "infinit"): PostgreSQL
    // accepts these too only through the same strtod, so keep them.
    if (std::isinf(v) && errno == ERANGE)
      throw SqlError(sqlstate::kNumericValueOutOfRange,
                     "\"" + std::string(text) + "\" is out of range for type " + type_name);
    return v;
  }
  if (errno == ERANGE && (v == 0.0 || std::fabs(v) >= (is_float4 ? 3.4e38 : HUGE_VAL)))
    throw SqlError(sqlstate::kNumericValueOutOfRange,
                   "\"" + std::string(text) + "\" is out of range for type " + type_name);
  return v;
}

// Shortest round-trip digits in PostgreSQL's layout (Ryu's d2s/f2s as PostgreSQL adapted them):
// fixed notation when the decimal exponent is in [-4, max_fixed_exp), else "d.ddde+XX".
template <typename F>
void format_shortest(F v, int max_fixed_exp, std::string& out) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "Infinity" : "-Infinity";
    return;
  }
  if (v == 0) {
    out += std::signbit(v) ? "-0" : "0";
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string_view sci(buf, r.ptr - buf);
  bool neg = false;
  if (sci.front() == '-') {
    neg = true;
    sci.remove_prefix(1);
  }
  size_t epos = sci.find('e');
  std::string digits;
  for (char c : sci.substr(0, epos))
    if (c != '.') digits.push_back(c);
  int exp = std::atoi(std::string(sci.substr(epos + 1)).c_str());
  if (neg) out.push_back('-');
  if (exp >= -4 && exp < max_fixed_exp) {
    if (exp < 0) {
      out += "0.";
      out.append(static_cast<size_t>(-exp - 1), '0');
      out += digits;
    } else if (static_cast<int>(digits.size()) <= exp + 1) {
      out += digits;
      out.append(static_cast<size_t>(exp + 1 - static_cast<int>(digits.size())), '0');
    } else {
      out.append(digits, 0, static_cast<size_t>(exp + 1));
      out.push_back('.');
      out.append(digits, static_cast<size_t>(exp + 1), std::string::npos);
    }
    return;
  }
  out.push_back(digits[0]);
  if (digits.size() > 1) {
    out.push_back('.');
    out.append(digits, 1, std::string::npos);
  }
  char ebuf[16];
  std::snprintf(ebuf, sizeof ebuf, "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
  out += ebuf;
}

// ---------------------------------------------------------------------------------------------
// Dates and times

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;  // days since 1970-01-01
}

void civil_from_days(int64_t z, int& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t yy = yoe + era * 400;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

constexpr int64_t kUnixEpochDays = 10957;  // 1970-01-01 -> 2000-01-01

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// PostgreSQL's range: 4713 BC to 5874897 AD for dates, 294276 AD for timestamps.
constexpr int kMinYear = -4712;
constexpr int kMaxDateYear = 5874897;
constexpr int kMaxTimestampYear = 294276;

void append_year(int year, std::string& out) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d", year > 0 ? year : 1 - year);
  out += buf;
}

void append_fraction(int64_t us, std::string& out) {
  if (us == 0) return;
  char buf[24];  // room for any int64 (GCC's -Wformat-truncation cannot see us < 1e6)
  std::snprintf(buf, sizeof buf, ".%06lld", static_cast<long long>(us));
  std::string_view f(buf);
  while (f.back() == '0') f.remove_suffix(1);
  out += f;
}

void append_hms(int64_t micros_of_day, std::string& out) {
  int64_t secs = micros_of_day / kMicrosPerSecond;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  out += buf;
  append_fraction(micros_of_day % kMicrosPerSecond, out);
}

int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// A parsed date/time literal.
struct DateTimeParts {
  bool has_date = false, has_time = false, has_tz = false;
  int year = 2000, month = 1, day = 1;
  int hour = 0, minute = 0, second = 0;
  int64_t micros = 0;       // fraction of the second, rounded to microseconds
  int64_t micros_trunc = 0; // the same truncated (Materialize's time input)
  int64_t micros_trunc_ns = 0;  // the fraction in nanoseconds (7 digits read)
  int tz_offset_secs = 0;   // east of UTC
  std::string tz_name;      // a zone name or abbreviation whose offset depends on the date
  enum class Special { kNone, kInfinity, kNegInfinity, kEpoch, kNow, kToday, kTomorrow, kYesterday, kAllballs };
  Special special = Special::kNone;
};

int64_t now_pg_micros() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return std::chrono::duration_cast<std::chrono::microseconds>(now).count() - kUnixToPgEpochMicros;
}

// Parses ISO 8601-like date/time text: "2024-01-31", "2024-01-31 12:00:00.5+05:30",
// "2024-01-31T12:00:00Z", "12:00", "1/31/2024", "0044-03-15 BC", and PostgreSQL's special
// words. Throws 22007 for bad syntax, 22008 for out-of-range fields.
DateTimeParts parse_datetime_iso(std::string_view text, std::string_view type_name) {
  auto fail = [&]() { bad_input(type_name, text, sqlstate::kInvalidDatetimeFormat); };
  auto range = [&]() {
    throw SqlError(sqlstate::kDatetimeFieldOverflow,
                   "date/time field value out of range: \"" + std::string(text) + "\"");
  };
  DateTimeParts p;
  std::string s = lower(trim(text));
  using S = DateTimeParts::Special;
  if (s == "infinity" || s == "+infinity") p.special = S::kInfinity;
  else if (s == "-infinity") p.special = S::kNegInfinity;
  else if (s == "epoch") p.special = S::kEpoch;
  else if (s == "now") p.special = S::kNow;
  else if (s == "today") p.special = S::kToday;
  else if (s == "tomorrow") p.special = S::kTomorrow;
  else if (s == "yesterday") p.special = S::kYesterday;
  else if (s == "allballs") p.special = S::kAllballs;
  if (p.special != S::kNone) return p;

  bool bc = false;
  for (const char* era : {" bc ", " ad "}) {  // "0044-03-15 BC +00" (pgJDBC): the era before a zone
    size_t at = s.find(era);
    if (at != std::string::npos) {
      bc = bc || era[1] == 'b';
      s.erase(at, 3);
    }
  }
  if (s.size() > 3 && s.compare(s.size() - 3, 3, " bc") == 0) {
    bc = true;
    s.resize(s.size() - 3);
  } else if (s.size() > 3 && s.compare(s.size() - 3, 3, " ad") == 0) {
    s.resize(s.size() - 3);
  } else if (s.size() > 2 && std::isdigit(static_cast<unsigned char>(s[s.size() - 3])) &&
             (s.compare(s.size() - 2, 2, "bc") == 0 || s.compare(s.size() - 2, 2, "ad") == 0)) {
    // The era right after the digits: "19:03:58BC", "10:00:00+05bc" (PostgreSQL reads them).
    bc = s[s.size() - 2] == 'b';
    s.resize(s.size() - 2);
  }
  while (!s.empty() && is_space(s.back())) s.pop_back();

  size_t i = 0;
  auto digits = [&](int& out, int max_len) {
    size_t start = i;
    int64_t v = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && static_cast<int>(i - start) < max_len) {
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return false;
    out = static_cast<int>(v);
    return true;
  };
  // Date: digits followed by '-' or '/'.
  size_t j = 0;
  while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
  if (j > 0 && j < s.size() && (s[j] == '-' || s[j] == '/')) {
    int a, b, c;
    char sep = s[j];
    digits(a, 9);
    ++i;
    if (!digits(b, 2)) fail();
    if (i >= s.size() || s[i] != sep) fail();
    ++i;
    if (!digits(c, 9)) fail();
    if (sep == '-' && j >= 3) {
      p.year = a, p.month = b, p.day = c;  // ISO
    } else if (sep == '/') {
      p.month = a, p.day = b, p.year = c;  // DateStyle MDY
    } else {
      fail();
    }
    p.has_date = true;
    if (i < s.size() && (s[i] == 't' || is_space(s[i]))) {
      ++i;
      while (i < s.size() && is_space(s[i])) ++i;
    }
  } else if (j == 8 && (j == s.size() || s[j] == 't' || is_space(s[j]))) {
    // YYYYMMDD
    p.year = std::atoi(s.substr(0, 4).c_str());
    p.month = std::atoi(s.substr(4, 2).c_str());
    p.day = std::atoi(s.substr(6, 2).c_str());
    p.has_date = true;
    i = 8;
    if (i < s.size()) ++i;
    while (i < s.size() && is_space(s[i])) ++i;
  }
  // A time zone after the time, or after a date alone ("2024-02-29 +00", as pgJDBC's
  // setDate sends; PostgreSQL reads it and a date ignores it).
  auto parse_zone = [&]() {
    if (s[i] == 'z' && i + 1 == s.size()) {
      p.has_tz = true;
      ++i;
    } else if (s[i] == '+' || s[i] == '-') {
      int sign = s[i] == '-' ? -1 : 1;
      ++i;
      size_t start = i;
      int tzh = 0, tzm = 0, tzs = 0;
      while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      size_t len = i - start;
      if (len == 0) fail();
      if (len <= 2) {
        tzh = std::atoi(s.substr(start, len).c_str());
        if (i < s.size() && s[i] == ':') {
          ++i;
          if (!digits(tzm, 2)) fail();
          if (i < s.size() && s[i] == ':') {
            ++i;
            if (!digits(tzs, 2)) fail();
          }
        }
      } else if (len == 4) {
        tzh = std::atoi(s.substr(start, 2).c_str());
        tzm = std::atoi(s.substr(start + 2, 2).c_str());
      } else if (len == 6) {
        tzh = std::atoi(s.substr(start, 2).c_str());
        tzm = std::atoi(s.substr(start + 2, 2).c_str());
        tzs = std::atoi(s.substr(start + 4, 2).c_str());
      } else {
        fail();
      }
      if (tzh > 15 || tzm > 59 || tzs > 59) range();
      p.tz_offset_secs = sign * (tzh * 3600 + tzm * 60 + tzs);
      p.has_tz = true;
    } else {
      std::string_view zone = std::string_view(s).substr(i);
      if (zone == "utc" || zone == "gmt" || zone == "z" || zone == "etc/utc" || zone == "zulu" || zone == "ut") {
        p.has_tz = true;
        i = s.size();
      } else if (ZoneAbbrev a = find_zone_abbrev(zone); a.found && a.zone == nullptr) {
        p.has_tz = true;
        p.tz_offset_secs = a.offset_secs;
        i = s.size();
      } else if (a.found || find_time_zone(zone) != nullptr) {
        // "America/New_York", "MSK": the offset depends on the date and time (below).
        p.has_tz = true;
        p.tz_name = std::string(zone);
        i = s.size();
      } else if (zone.find('/') != std::string_view::npos) {
        throw SqlError(sqlstate::kInvalidParameterValue,
                       "time zone \"" + std::string(zone) + "\" not recognized");
      } else {
        fail();  // PostgreSQL: an unknown word is a syntax error, an unknown zone name is 22023
      }
    }
  };
  // Time: H:MM[:SS[.frac]].
  if (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
    int h, m = 0, sec = 0;
    if (!digits(h, 2)) fail();
    if (i >= s.size() || s[i] != ':') fail();
    ++i;
    // DecodeTime reads minutes and seconds with strtoint: no digits is 0 ('9::60' is 09:01:00).
    digits(m, 2);
    if (i < s.size() && s[i] == ':') {
      ++i;
      digits(sec, 2);
      if (i < s.size() && s[i] == '.') {
        ++i;
        size_t start = i;
        int64_t frac = 0;
        int n = 0;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
          if (n < 7) {
            frac = frac * 10 + (s[i] - '0');
            ++n;
          }
          ++i;
        }
        if (i == start) fail();
        while (n < 7) {
          frac *= 10;
          ++n;
        }
        p.micros = (frac + 5) / 10;  // round to microseconds
        p.micros_trunc = frac / 10;
        p.micros_trunc_ns = frac * 100;
      }
    }
    p.hour = h, p.minute = m, p.second = sec;
    p.has_time = true;
    if (h > 24 || m > 59 || sec > 60 || (h == 24 && (m != 0 || sec != 0 || p.micros != 0))) range();
    while (i < s.size() && is_space(s[i])) ++i;
    // Time zone.
    if (i < s.size()) parse_zone();
  } else if (p.has_date && i < s.size()) {
    parse_zone();
  }
  if (i != s.size()) fail();
  if (!p.has_date && !p.has_time) fail();
  if (p.has_date) {
    if (bc) {
      if (p.year <= 0) range();
      p.year = 1 - p.year;
    } else if (p.year == 0) {
      range();
    }
    if (p.month < 1 || p.month > 12 || p.day < 1 || p.day > days_in_month(p.year, p.month)) range();
  }
  return p;
}

// Materialize's dialect: what Materialize refuses and PostgreSQL reads. 'infinity' is no date
// (Materialize's dates are finite; dates-times.slt:1406), and a word run into a date before the
// time is a unit Materialize does not know ('2007-02-01X15:04:05', dates-times.slt:1237).
void mz_refuse_datetime(std::string_view text, std::string_view type_name) {
  std::string_view s = trim(text);
  if (type_name == "date" && (iequals(s, "infinity") || iequals(s, "+infinity") || iequals(s, "-infinity")))
    bad_input(type_name, text, sqlstate::kInvalidDatetimeFormat);
  size_t i = 0, parts = 0;
  while (parts < 3) {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    if (i == start) return;
    if (++parts < 3) {
      if (i >= s.size() || s[i] != '-') return;
      ++i;
    }
  }
  size_t word = i;
  while (i < s.size() && std::isalpha(static_cast<unsigned char>(s[i]))) ++i;
  if (i == word || i >= s.size() || !std::isdigit(static_cast<unsigned char>(s[i]))) return;
  std::string_view units = s.substr(word, i - word);
  if (iequals(units, "t")) return;
  throw SqlError(sqlstate::kInvalidDatetimeFormat, "invalid input syntax for type " + std::string(type_name) +
                                                       ": unknown units " + std::string(units) + ": \"" +
                                                       std::string(text) + "\"");
}

// The ISO parser first; what it refuses is read again the way PostgreSQL's ParseDateTime splits
// fields (datetime_fields.hpp: punctuation as delimiters, '2000 01-01', a lone 'T').
DateTimeParts parse_datetime(std::string_view text, std::string_view type_name) {
  if (materialize_dialect()) mz_refuse_datetime(text, type_name);
  try {
    return parse_datetime_iso(text, type_name);
  } catch (const SqlError& e) {
    if (e.sqlstate() != sqlstate::kInvalidDatetimeFormat) throw;
    std::optional<std::string> canonical = canonical_datetime_fields(text);
    if (!canonical || *canonical == text) throw;
    try {
      return parse_datetime_iso(*canonical, type_name);
    } catch (const SqlError& again) {
      if (again.sqlstate() == sqlstate::kInvalidDatetimeFormat) throw e;
      // Out of range: said of the text the user wrote.
      std::string msg = again.message();
      if (size_t at = msg.find(*canonical); at != std::string::npos) msg.replace(at, canonical->size(), text);
      throw SqlError(again.sqlstate(), std::move(msg));
    }
  }
}

int64_t parts_to_timestamp(const DateTimeParts& p, bool with_tz, std::string_view text, std::string_view type_name) {
  using S = DateTimeParts::Special;
  switch (p.special) {
    case S::kInfinity:
      return kTimestampPosInfinity;
    case S::kNegInfinity:
      return kTimestampNegInfinity;
    case S::kEpoch:
      return -kUnixToPgEpochMicros;
    case S::kNow:
      return now_pg_micros();
    case S::kToday:
    case S::kTomorrow:
    case S::kYesterday: {
      int64_t day = floor_div(now_pg_micros(), kMicrosPerDay);
      if (p.special == S::kTomorrow) ++day;
      if (p.special == S::kYesterday) --day;
      return day * kMicrosPerDay;
    }
    case S::kAllballs:
    case S::kNone:
      break;
  }
  if (!p.has_date) bad_input(type_name, text, sqlstate::kInvalidDatetimeFormat);
  if (p.year < kMinYear || p.year > kMaxTimestampYear)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range: \"" + std::string(text) + "\"");
  int64_t days = days_from_civil(p.year, p.month, p.day) - kUnixEpochDays;
  int64_t t = days * kMicrosPerDay +
              ((static_cast<int64_t>(p.hour) * 60 + p.minute) * 60 + p.second) * kMicrosPerSecond + p.micros;
  if (with_tz && p.has_tz && !p.tz_name.empty()) {
    int64_t local_secs = floor_div(t, kMicrosPerSecond) + kUnixToPgEpochMicros / kMicrosPerSecond;
    t -= static_cast<int64_t>(zone_offset(p.tz_name, local_secs, true)) * kMicrosPerSecond;
  } else if (with_tz && p.has_tz) {
    t -= static_cast<int64_t>(p.tz_offset_secs) * kMicrosPerSecond;
  }
  return t;
}

int32_t parts_to_date(const DateTimeParts& p, std::string_view text) {
  using S = DateTimeParts::Special;
  switch (p.special) {
    case S::kInfinity:
      return kDatePosInfinity;
    case S::kNegInfinity:
      return kDateNegInfinity;
    case S::kEpoch:
      return -static_cast<int32_t>(kUnixEpochDays);
    case S::kNow:
    case S::kToday:
    case S::kTomorrow:
    case S::kYesterday: {
      int64_t day = floor_div(now_pg_micros(), kMicrosPerDay);
      if (p.special == S::kTomorrow) ++day;
      if (p.special == S::kYesterday) --day;
      return static_cast<int32_t>(day);
    }
    case S::kAllballs:
    case S::kNone:
      break;
  }
  if (!p.has_date) bad_input("date", text, sqlstate::kInvalidDatetimeFormat);
  if (p.year < kMinYear || p.year > kMaxDateYear)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "date out of range: \"" + std::string(text) + "\"");
  return static_cast<int32_t>(days_from_civil(p.year, p.month, p.day) - kUnixEpochDays);
}

int64_t round_to_precision(int64_t micros, int32_t typmod) {
  if (typmod < 0 || typmod >= 6) return micros;
  static constexpr int64_t kScale[] = {1'000'000, 100'000, 10'000, 1'000, 100, 10};
  int64_t unit = kScale[typmod];
  if (micros >= 0) return (micros + unit / 2) / unit * unit;
  return -((-micros + unit / 2) / unit * unit);
}

// ---------------------------------------------------------------------------------------------
// Interval

[[noreturn]] void interval_syntax(std::string_view text) {
  bad_input("interval", text, sqlstate::kInvalidDatetimeFormat);
}
// The same error with a DETAIL saying what is wrong, in the words Materialize uses.
[[noreturn]] void interval_syntax(std::string_view text, std::string detail) {
  try {
    bad_input("interval", text, sqlstate::kInvalidDatetimeFormat);
  } catch (SqlError& e) {
    e.with_detail(std::move(detail));
    throw;
  }
}

struct IntervalAcc {
  long double months = 0, days = 0, micros = 0;

  void add(long double v, std::string_view unit, std::string_view text) {
    auto years = [&](long double y) {
      long double whole = std::trunc(y);
      months += whole * 12 + std::nearbyint((y - whole) * 12);
    };
    auto add_days = [&](long double d) {
      long double whole = std::trunc(d);
      days += whole;
      micros += (d - whole) * kMicrosPerDay;
    };
    if (unit == "microsecond" || unit == "microseconds" || unit == "us" || unit == "usec" || unit == "usecs" ||
        unit == "useconds" || unit == "usecond") {
      micros += v;
    } else if (unit == "millisecond" || unit == "milliseconds" || unit == "ms" || unit == "msec" ||
               unit == "msecs" || unit == "mseconds" || unit == "msecond") {
      micros += v * 1000;
    } else if (unit == "second" || unit == "seconds" || unit == "s" || unit == "sec" || unit == "secs") {
      micros += v * kMicrosPerSecond;
    } else if (unit == "minute" || unit == "minutes" || unit == "m" || unit == "min" || unit == "mins") {
      micros += v * 60 * kMicrosPerSecond;
    } else if (unit == "hour" || unit == "hours" || unit == "h" || unit == "hr" || unit == "hrs") {
      micros += v * 3600 * kMicrosPerSecond;
    } else if (unit == "day" || unit == "days" || unit == "d") {
      add_days(v);
    } else if (unit == "week" || unit == "weeks" || unit == "w") {
      add_days(v * 7);
    } else if (unit == "month" || unit == "months" || unit == "mon" || unit == "mons") {
      long double whole = std::trunc(v);
      months += whole;
      add_days((v - whole) * 30);
    } else if (unit == "year" || unit == "years" || unit == "y" || unit == "yr" || unit == "yrs") {
      years(v);
    } else if (unit == "decade" || unit == "decades") {
      years(v * 10);
    } else if (unit == "century" || unit == "centuries" || unit == "c") {
      years(v * 100);
    } else if (unit == "millennium" || unit == "millennia" || unit == "millenniums") {
      years(v * 1000);
    } else {
      interval_syntax(text);
    }
  }

  Interval finish(bool negate, std::string_view text) const {
    long double m = months, d = days, us = std::nearbyint(micros);
    if (negate) m = -m, d = -d, us = -us;
    if (std::fabs(m) > INT32_MAX || std::fabs(d) > INT32_MAX || std::fabs(us) > 9.2e18L)
      throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval field value out of range: \"" + std::string(text) + "\"");
    return Interval{static_cast<int32_t>(m), static_cast<int32_t>(d), static_cast<int64_t>(us)};
  }
};

bool parse_number(std::string_view s, size_t& i, long double& out) {
  size_t start = i;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  bool any = false;
  while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, any = true;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i, any = true;
  }
  if (!any) {
    i = start;
    return false;
  }
  out = std::strtold(std::string(s.substr(start, i - start)).c_str(), nullptr);
  return true;
}

Interval parse_iso_interval(std::string_view s, std::string_view text) {
  // P[nY][nM][nW][nD][T[nH][nM][nS]]
  IntervalAcc acc;
  size_t i = 1;
  bool in_time = false;
  bool any = false;
  while (i < s.size()) {
    if (s[i] == 't') {
      if (in_time) interval_syntax(text);
      in_time = true;
      ++i;
      continue;
    }
    long double v;
    if (!parse_number(s, i, v) || i >= s.size()) interval_syntax(text);
    char u = s[i++];
    any = true;
    switch (u) {
      case 'y':
        if (in_time) interval_syntax(text);
        acc.add(v, "year", text);
        break;
      case 'm':
        acc.add(v, in_time ? "minute" : "month", text);
        break;
      case 'w':
        if (in_time) interval_syntax(text);
        acc.add(v, "week", text);
        break;
      case 'd':
        if (in_time) interval_syntax(text);
        acc.add(v, "day", text);
        break;
      case 'h':
        if (!in_time) interval_syntax(text);
        acc.add(v, "hour", text);
        break;
      case 's':
        if (!in_time) interval_syntax(text);
        acc.add(v, "second", text);
        break;
      default:
        interval_syntax(text);
    }
  }
  if (!any) interval_syntax(text);
  return acc.finish(false, text);
}

// ---------------------------------------------------------------------------------------------
// bytea, uuid

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string parse_bytea(std::string_view text) {
  std::string out;
  if (text.size() >= 2 && text[0] == '\\' && (text[1] == 'x' || text[1] == 'X')) {
    size_t i = 2;
    while (i < text.size()) {
      if (is_space(text[i])) {
        ++i;
        continue;
      }
      int hi = hex_value(text[i]);
      if (hi < 0)
        throw SqlError(sqlstate::kInvalidTextRepresentation,
                       "invalid hexadecimal digit: \"" + std::string(1, text[i]) + "\"");
      if (i + 1 >= text.size())
        throw SqlError(sqlstate::kInvalidTextRepresentation, "invalid hexadecimal data: odd number of digits");
      int lo = hex_value(text[i + 1]);
      if (lo < 0)
        throw SqlError(sqlstate::kInvalidTextRepresentation,
                       "invalid hexadecimal digit: \"" + std::string(1, text[i + 1]) + "\"");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    }
    return out;
  }
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < text.size() && text[i + 1] == '\\') {
      out.push_back('\\');
      ++i;
    } else if (i + 3 < text.size() + 0 && text[i + 1] >= '0' && text[i + 1] <= '3' && text[i + 2] >= '0' &&
               text[i + 2] <= '7' && text[i + 3] >= '0' && text[i + 3] <= '7') {
      out.push_back(static_cast<char>((text[i + 1] - '0') * 64 + (text[i + 2] - '0') * 8 + (text[i + 3] - '0')));
      i += 3;
    } else {
      bad_input("bytea", text);
    }
  }
  return out;
}

Uuid parse_uuid(std::string_view text) {
  std::string_view s = text;
  if (!s.empty() && s.front() == '{') {
    if (s.back() != '}') bad_input("uuid", text);
    s = s.substr(1, s.size() - 2);
  }
  Uuid u;
  int n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '-' && n > 0 && n % 4 == 0 && i + 1 < s.size() && s[i - 1] != '-') continue;
    int v = hex_value(c);
    if (v < 0 || n >= 32) bad_input("uuid", text);
    if (n % 2 == 0) u.bytes[n / 2] = static_cast<uint8_t>(v << 4);
    else u.bytes[n / 2] |= static_cast<uint8_t>(v);
    ++n;
  }
  if (n != 32) bad_input("uuid", text);
  return u;
}

// ---------------------------------------------------------------------------------------------
// JSON

class JsonParser {
 public:
  explicit JsonParser(std::string_view text) : s_(text) {}

  JsonValue parse_document() {
    skip_ws();
    JsonValue v = parse_value(0);
    skip_ws();
    if (i_ != s_.size()) fail("Expected end of input, but found \"" + std::string(s_.substr(i_, 1)) + "\".");
    return v;
  }

 private:
  [[noreturn]] void fail(const std::string& detail) {
    throw SqlError(sqlstate::kInvalidTextRepresentation, "invalid input syntax for type json").with_detail(detail);
  }
  // The text ended inside `what` ("an object", "a list", "a string", "a value"). Materialize
  // reports serde_json's error with its position (jsonb.slt:514).
  [[noreturn]] void fail_eof(const char* what) {
    if (!materialize_dialect()) fail("The input string ended unexpectedly.");
    size_t nl = s_.rfind('\n');
    size_t line = 1 + static_cast<size_t>(std::count(s_.begin(), s_.end(), '\n'));
    size_t column = s_.size() - (nl == std::string_view::npos ? 0 : nl + 1);
    throw SqlError(sqlstate::kInvalidTextRepresentation, std::string("invalid input syntax for type jsonb: EOF while parsing ") +
                                                             what + " at line " + std::to_string(line) + " column " +
                                                             std::to_string(column));
  }
  void skip_ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) ++i_;
  }
  bool consume_word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    size_t after = i_ + w.size();
    if (after < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[after])) || s_[after] == '_')) return false;
    i_ = after;
    return true;
  }
  JsonValue parse_value(int depth) {
    if (depth > 1000) throw SqlError(sqlstate::kStatementTooComplex, "stack depth limit exceeded");
    if (i_ >= s_.size()) fail_eof("a value");
    JsonValue v;
    char c = s_[i_];
    if (c == '{') {
      ++i_;
      v.kind = JsonValue::Kind::kObject;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == '}') {
        ++i_;
        return v;
      }
      while (true) {
        skip_ws();
        if (i_ >= s_.size()) fail_eof("an object");
        if (s_[i_] != '"') fail("Expected string, but found \"" + std::string(s_.substr(i_, 1)) + "\".");
        std::string key = parse_string();
        skip_ws();
        if (i_ >= s_.size() || s_[i_] != ':') fail("Expected \":\", but found \"" + std::string(s_.substr(i_, 1)) + "\".");
        ++i_;
        skip_ws();
        JsonValue member = parse_value(depth + 1);
        v.object.emplace_back(std::move(key), std::move(member));
        skip_ws();
        if (i_ >= s_.size()) fail_eof("an object");
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == '}') {
          ++i_;
          break;
        }
        fail("Expected \",\" or \"}\", but found \"" + std::string(s_.substr(i_, 1)) + "\".");
      }
      canonicalize_object(v);
      return v;
    }
    if (c == '[') {
      ++i_;
      v.kind = JsonValue::Kind::kArray;
      skip_ws();
      if (i_ < s_.size() && s_[i_] == ']') {
        ++i_;
        return v;
      }
      while (true) {
        skip_ws();
        v.array.push_back(parse_value(depth + 1));
        skip_ws();
        if (i_ >= s_.size()) fail_eof("a list");
        if (s_[i_] == ',') {
          ++i_;
          continue;
        }
        if (s_[i_] == ']') {
          ++i_;
          break;
        }
        fail("Expected \",\" or \"]\", but found \"" + std::string(s_.substr(i_, 1)) + "\".");
      }
      return v;
    }
    if (c == '"') {
      v.kind = JsonValue::Kind::kString;
      v.str = parse_string();
      return v;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = JsonValue::Kind::kNumber;
      v.str = parse_number();
      return v;
    }
    if (consume_word("true")) {
      v.kind = JsonValue::Kind::kBool;
      v.b = true;
      return v;
    }
    if (consume_word("false")) {
      v.kind = JsonValue::Kind::kBool;
      return v;
    }
    if (consume_word("null")) return v;
    size_t e = i_;
    while (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '_')) ++e;
    fail("Token \"" + std::string(s_.substr(i_, std::max<size_t>(e - i_, 1))) + "\" is invalid.");
  }
  std::string parse_number() {
    size_t start = i_;
    if (s_[i_] == '-') ++i_;
    auto digits = [&]() {
      size_t b = i_;
      while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_]))) ++i_;
      return i_ > b;
    };
    auto bad = [&]() {
      size_t e = i_;
      while (e < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[e])) || s_[e] == '.')) ++e;
      fail("Token \"" + std::string(s_.substr(start, e - start)) + "\" is invalid.");
    };
    if (i_ < s_.size() && s_[i_] == '0') {
      ++i_;
    } else if (!digits()) {
      bad();
    }
    if (i_ < s_.size() && s_[i_] == '.') {
      ++i_;
      if (!digits()) bad();
    }
    if (i_ < s_.size() && (s_[i_] == 'e' || s_[i_] == 'E')) {
      ++i_;
      if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) ++i_;
      if (!digits()) bad();
    }
    if (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.')) bad();
    std::string_view raw = s_.substr(start, i_ - start);
    if (materialize_dialect()) {
      // Materialize keeps a jsonb number as a numeric datum, which its row encoding reduces
      // (repr/src/row.rs: `cx_datum().reduce`), printed in standard notation; a number that
      // is not a numeric of at most 39 digits is an input error (strconv::parse_numeric).
      try {
        return numeric_to_string(numeric_normalize(numeric_parse(raw)));
      } catch (const SqlError&) {
        // serde_json's position suffix: the line and column of the number's last character.
        size_t line_start = s_.rfind('\n', start);
        line_start = line_start == std::string_view::npos ? 0 : line_start + 1;
        size_t line = 1 + static_cast<size_t>(std::count(s_.begin(), s_.begin() + static_cast<std::ptrdiff_t>(start), '\n'));
        throw SqlError(sqlstate::kInvalidTextRepresentation,
                       "invalid input syntax for type jsonb: \"" + std::string(raw) +
                           "\" is out of range for type numeric: exceeds maximum precision 39 at line " +
                           std::to_string(line) + " column " + std::to_string(i_ - line_start));
      }
    }
    try {
      return numeric_to_string(numeric_parse(raw));
    } catch (const SqlError&) {
      return std::string(raw);  // beyond 38 digits: keep the text as written
    }
  }
  void append_utf8(uint32_t cp, std::string& out) {
    if (cp < 0x80) {
      out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
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
  uint32_t hex4() {
    if (i_ + 4 > s_.size()) fail("\"\\u\" must be followed by four hexadecimal digits.");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      int h = hex_value(s_[i_ + k]);
      if (h < 0) fail("\"\\u\" must be followed by four hexadecimal digits.");
      v = v * 16 + static_cast<uint32_t>(h);
    }
    i_ += 4;
    return v;
  }
  std::string parse_string() {
    ++i_;  // opening quote
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail_eof("a string");
      char c = s_[i_++];
      if (c == '"') break;
      if (static_cast<unsigned char>(c) < 0x20)
        fail("Character with value 0x" + fmt_hex(static_cast<unsigned char>(c)) + " must be escaped.");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (i_ >= s_.size()) fail_eof("a string");
      char e = s_[i_++];
      switch (e) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (i_ + 2 <= s_.size() && s_[i_] == '\\' && s_[i_ + 1] == 'u') {
              i_ += 2;
              uint32_t lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("Unicode low surrogate must follow a high surrogate.");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              fail("Unicode low surrogate must follow a high surrogate.");
            }
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail("Unicode low surrogate must follow a high surrogate.");
          }
          if (cp == 0)
            throw SqlError("22P05", "unsupported Unicode escape sequence")
                .with_detail("\\u0000 cannot be converted to text.");
          append_utf8(cp, out);
          break;
        }
        default:
          fail("Escape sequence \"\\" + std::string(1, e) + "\" is invalid.");
      }
    }
    return out;
  }
  static std::string fmt_hex(unsigned v) {
    char b[8];
    std::snprintf(b, sizeof b, "%02x", v);
    return b;
  }
  static void canonicalize_object(JsonValue& v) {
    auto& o = v.object;
    // Last duplicate wins: stable sort by key, then keep the last of each run.
    std::stable_sort(o.begin(), o.end(), [](const auto& a, const auto& b) { return json_key_less(a.first, b.first); });
    std::vector<std::pair<std::string, JsonValue>> out;
    out.reserve(o.size());
    for (size_t k = 0; k < o.size(); ++k) {
      if (k + 1 < o.size() && o[k + 1].first == o[k].first) continue;
      out.push_back(std::move(o[k]));
    }
    o = std::move(out);
  }

  std::string_view s_;
  size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------------
// Strings with type modifiers

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

// Byte offset of the first `chars` characters.
size_t utf8_prefix_bytes(std::string_view s, size_t chars) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
      if (n == chars) return i;
      ++n;
    }
  }
  return s.size();
}

std::string_view apply_char_typmod(std::string_view s, Type t, Arena& arena) {
  if (t.typmod < 0) return arena.copy(s);
  size_t max = static_cast<size_t>(t.typmod);
  size_t len = utf8_length(s);
  if (len > max) {
    size_t cut = utf8_prefix_bytes(s, max);
    for (size_t k = cut; k < s.size(); ++k) {
      if (s[k] != ' ') {
        throw SqlError(sqlstate::kStringDataRightTruncation,
                       std::string("value too long for type ") +
                           (t.id == TypeId::kVarchar ? "character varying(" : "character(") +
                           std::to_string(max) + ")");
      }
    }
    s = s.substr(0, cut);
    len = max;
  }
  if (t.id == TypeId::kBpchar && len < max) {
    size_t pad = max - len;
    char* p = arena.allocate(s.size() + pad);
    if (!s.empty()) std::memcpy(p, s.data(), s.size());  // an empty view may have no data
    std::memset(p + s.size(), ' ', pad);
    return std::string_view(p, s.size() + pad);
  }
  return arena.copy(s);
}

std::string canonical_array(std::string_view text, TypeId id) {
  auto elems = parse_array_literal(text);
  TypeId et = array_element_type(id).value_or(TypeId::kText);
  if (et != TypeId::kText) {
    Arena arena;
    for (auto& e : elems) {
      if (!e) continue;
      std::string out;
      format_datum(parse_datum(*e, Type(et), arena), Type(et), out);
      *e = std::move(out);
    }
  }
  std::string out;
  format_array_literal(elems, out);
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Public helpers

int32_t date_from_ymd(int year, int month, int day) {
  return static_cast<int32_t>(days_from_civil(year, month, day) - kUnixEpochDays);
}

void date_to_ymd(int32_t days, int& year, int& month, int& day) {
  civil_from_days(static_cast<int64_t>(days) + kUnixEpochDays, year, month, day);
}

CivilTime timestamp_to_civil(int64_t micros) {
  CivilTime c;
  int64_t day = floor_div(micros, kMicrosPerDay);
  int64_t tod = micros - day * kMicrosPerDay;
  civil_from_days(day + kUnixEpochDays, c.year, c.month, c.day);
  int64_t secs = tod / kMicrosPerSecond;
  c.hour = static_cast<int>(secs / 3600);
  c.minute = static_cast<int>(secs / 60 % 60);
  c.second = static_cast<int>(secs % 60);
  c.micros = static_cast<int>(tod % kMicrosPerSecond);
  return c;
}

int64_t civil_to_timestamp(const CivilTime& c) {
  if (c.year < kMinYear || c.year > kMaxTimestampYear)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  int64_t days = days_from_civil(c.year, c.month, c.day) - kUnixEpochDays;
  return days * kMicrosPerDay + ((static_cast<int64_t>(c.hour) * 60 + c.minute) * 60 + c.second) * kMicrosPerSecond +
         c.micros;
}

void format_float8(double v, std::string& out) { format_shortest(v, 15, out); }
void format_float4(float v, std::string& out) { format_shortest(v, 6, out); }

void format_date(int32_t days, std::string& out) {
  if (days == kDatePosInfinity) {
    out += "infinity";
    return;
  }
  if (days == kDateNegInfinity) {
    out += "-infinity";
    return;
  }
  int y, m, d;
  date_to_ymd(days, y, m, d);
  append_year(y, out);
  char buf[16];
  std::snprintf(buf, sizeof buf, "-%02d-%02d", m, d);
  out += buf;
  if (y <= 0) out += " BC";
}

void format_time(int64_t micros, std::string& out) { append_hms(micros, out); }

void format_timestamp(int64_t micros, bool with_tz, std::string& out) {
  if (micros == kTimestampPosInfinity) {
    out += "infinity";
    return;
  }
  if (micros == kTimestampNegInfinity) {
    out += "-infinity";
    return;
  }
  CivilTime c = timestamp_to_civil(micros);
  append_year(c.year, out);
  char buf[32];
  std::snprintf(buf, sizeof buf, "-%02d-%02d %02d:%02d:%02d", c.month, c.day, c.hour, c.minute, c.second);
  out += buf;
  append_fraction(c.micros, out);
  if (with_tz) out += "+00";
  if (c.year <= 0) out += " BC";
}

void format_interval(const Interval& iv, std::string& out) {
  // PostgreSQL's EncodeInterval, IntervalStyle postgres.
  int64_t year = iv.months / 12, mon = iv.months % 12, mday = iv.days;
  int64_t t = iv.micros;
  int64_t hour = t / (3600 * kMicrosPerSecond);
  t -= hour * 3600 * kMicrosPerSecond;
  int64_t min = t / (60 * kMicrosPerSecond);
  t -= min * 60 * kMicrosPerSecond;
  int64_t sec = t / kMicrosPerSecond;
  int64_t fsec = t - sec * kMicrosPerSecond;
  bool is_zero = true, is_before = false;
  auto part = [&](int64_t value, const char* units) {
    if (value == 0) return;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%s%s%lld %s%s", is_zero ? "" : " ", (is_before && value > 0) ? "+" : "",
                  static_cast<long long>(value), units, value != 1 ? "s" : "");
    out += buf;
    is_before = value < 0;
    is_zero = false;
  };
  part(year, "year");
  // Materialize spells the month out ("1 year 2 months"); the rest of its output is PostgreSQL's.
  part(mon, materialize_dialect() ? "month" : "mon");
  part(mday, "day");
  if (is_zero || hour != 0 || min != 0 || sec != 0 || fsec != 0) {
    bool minus = hour < 0 || min < 0 || sec < 0 || fsec < 0;
    char buf[96];
    std::snprintf(buf, sizeof buf, "%s%s%02lld:%02lld:%02lld", is_zero ? "" : " ", minus ? "-" : (is_before ? "+" : ""),
                  static_cast<long long>(hour < 0 ? -hour : hour), static_cast<long long>(min < 0 ? -min : min),
                  static_cast<long long>(sec < 0 ? -sec : sec));
    out += buf;
    append_fraction(fsec < 0 ? -fsec : fsec, out);
  }
}

// PostgreSQL's DecodeInterval (IntervalStyle postgres): the text is split into fields
// (ParseDateTime), which are read from right to left so that a unit is seen before its value;
// a number without a unit takes the unit the interval qualifier (typmod) implies, seconds
// without one. Each unit may appear once (`1 month 2 months` is 22007).
namespace interval_parse {

enum class Field : uint8_t { kNumber, kTime, kDate, kSigned, kString };
enum Unit : int { kNone = -1, kMicro, kMilli, kSecond, kMinute, kHour, kDay, kWeek, kMonth, kYear, kDecade, kCentury, kMillennium, kAgo, kUnsupported };

// PostgreSQL 15's pg_itm_in: microseconds in int64, days, months and years in int32, each
// checked on every step (AdjustMicroseconds, AdjustDays, ...), so the limits are exactly
// PostgreSQL's: `2147483647 days 2562047788:00:54.775807` and `-2147483648 months` are values.
// `overflowed` names the field that did not fit, for the error's detail.
enum class Over : uint8_t { kNone, kMicros, kDays, kMonths };
struct Acc {
  int64_t usec = 0;
  int32_t mday = 0, mon = 0, year = 0;
  Over overflowed = Over::kNone;
  bool fail(Over o) {
    overflowed = o;
    return false;
  }
};

// The detail says which field overflowed, in the words Materialize uses.
[[noreturn]] void overflow(std::string_view text, Over o = Over::kNone) {
  SqlError e(sqlstate::kIntervalFieldOverflow, "interval field value out of range: \"" + std::string(text) + "\"");
  switch (o) {
    case Over::kMicros:
      e.with_detail("Overflows maximum microseconds; cannot exceed 9223372036854775807/-9223372036854775808 microseconds");
      break;
    case Over::kDays: e.with_detail("Overflows maximum days; cannot exceed 2147483647/-2147483648 days"); break;
    case Over::kMonths: e.with_detail("Overflows maximum months; cannot exceed 2147483647/-2147483648 months"); break;
    case Over::kNone: break;
  }
  throw e;
}
[[noreturn]] void overflow(std::string_view text, const Acc& a) { overflow(text, a.overflowed); }

Unit decode_unit(std::string_view w) {
  // PostgreSQL compares the first 10 characters (TOKMAXLEN).
  std::string t(w.substr(0, 10));
  static const std::pair<const char*, Unit> kUnits[] = {
      {"ago", kAgo},         {"c", kCentury},         {"cent", kCentury},       {"centuries", kCentury},
      {"century", kCentury}, {"d", kDay},             {"day", kDay},            {"days", kDay},
      {"dec", kDecade},      {"decade", kDecade},     {"decades", kDecade},     {"decs", kDecade},
      {"h", kHour},          {"hour", kHour},         {"hours", kHour},         {"hr", kHour},
      {"hrs", kHour},        {"m", kMinute},          {"microsecon", kMicro},   {"mil", kMillennium},
      {"millennia", kMillennium}, {"millennium", kMillennium}, {"millisecon", kMilli}, {"mils", kMillennium},
      {"min", kMinute},      {"mins", kMinute},       {"minute", kMinute},      {"minutes", kMinute},
      {"mon", kMonth},       {"mons", kMonth},        {"month", kMonth},        {"months", kMonth},
      {"ms", kMilli},        {"msec", kMilli},        {"msecond", kMilli},      {"mseconds", kMilli},
      {"msecs", kMilli},     {"qtr", kUnsupported},   {"quarter", kUnsupported}, {"s", kSecond},
      {"sec", kSecond},      {"second", kSecond},     {"seconds", kSecond},     {"secs", kSecond},
      {"timezone", kUnsupported}, {"timezone_h", kUnsupported}, {"timezone_m", kUnsupported},
      {"us", kMicro},        {"usec", kMicro},        {"usecond", kMicro},      {"useconds", kMicro},
      {"usecs", kMicro},     {"w", kWeek},            {"week", kWeek},          {"weeks", kWeek},
      {"y", kYear},          {"year", kYear},         {"years", kYear},         {"yr", kYear},
      {"yrs", kYear},
  };
  for (const auto& [name, u] : kUnits)
    if (t == name) return u;
  return kNone;
}

// AdjustFractMicroseconds: the fraction times the scale, rounded to a microsecond.
bool fract_usec(Acc& a, double frac, int64_t scale) {
  if (frac == 0) return true;
  frac *= static_cast<double>(scale);
  auto usec = static_cast<int64_t>(frac);
  frac -= static_cast<double>(usec);
  if (frac > 0.5) ++usec;
  else if (frac < -0.5) --usec;
  if (__builtin_add_overflow(a.usec, usec, &a.usec)) return a.fail(Over::kMicros);
  return true;
}
// AdjustMicroseconds.
bool micros(Acc& a, int64_t val, double fval, int64_t scale) {
  if (__builtin_mul_overflow(val, scale, &val) || __builtin_add_overflow(a.usec, val, &a.usec))
    return a.fail(Over::kMicros);
  return fract_usec(a, fval, scale);
}
// AdjustDays.
bool days(Acc& a, int64_t val, int32_t scale) {
  int32_t d = 0;
  if (val < INT32_MIN || val > INT32_MAX || __builtin_mul_overflow(static_cast<int32_t>(val), scale, &d) ||
      __builtin_add_overflow(a.mday, d, &a.mday))
    return a.fail(Over::kDays);
  return true;
}
// AdjustFractDays.
bool fract_days(Acc& a, double frac, int scale) {
  if (frac == 0) return true;
  frac *= scale;
  auto extra = static_cast<int32_t>(frac);
  if (__builtin_add_overflow(a.mday, extra, &a.mday)) return a.fail(Over::kDays);
  frac -= static_cast<double>(extra);
  return fract_usec(a, frac, kMicrosPerDay);
}
// AdjustMonths.
bool months(Acc& a, int64_t val) {
  if (val < INT32_MIN || val > INT32_MAX || __builtin_add_overflow(a.mon, static_cast<int32_t>(val), &a.mon))
    return a.fail(Over::kMonths);
  return true;
}
// AdjustYears + AdjustFractYears.
bool years(Acc& a, int64_t val, double fval, int32_t scale) {
  int32_t y = 0;
  if (val < INT32_MIN || val > INT32_MAX || __builtin_mul_overflow(static_cast<int32_t>(val), scale, &y) ||
      __builtin_add_overflow(a.year, y, &a.year))
    return a.fail(Over::kMonths);
  auto extra = static_cast<int32_t>(std::rint(fval * scale * 12));
  if (__builtin_add_overflow(a.mon, extra, &a.mon)) return a.fail(Over::kMonths);
  return true;
}

// The time field h:m[:s[.f]] (or m:s with MINUTE TO SECOND or a fraction), as microseconds.
void decode_time(std::string_view f, int32_t range, std::string_view text, Acc& a) {
  size_t i = 0;
  // strtoi64 / strtoint as DecodeTimeCommon uses them: minutes and seconds may have no digits
  // at all and are then 0 ('1:' is one hour, '4::.5' four hours and half a second).
  auto num = [&](int64_t& out, bool allow_empty = false) {
    size_t b = i;
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i;
    if (i == b) {
      if (!allow_empty) interval_syntax(text);
      out = 0;
      return;
    }
    errno = 0;
    out = std::strtoll(std::string(f.substr(b, i - b)).c_str(), nullptr, 10);
    if (errno == ERANGE) overflow(text);
  };
  auto fraction = [&]() -> int64_t {
    // ParseFractionalSecond: ".ddd" to microseconds, rounded.
    size_t b = i;
    ++i;
    while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) ++i;
    double frac = std::strtod(std::string(f.substr(b, i - b)).c_str(), nullptr);
    return static_cast<int64_t>(std::rint(frac * 1e6));
  };
  int64_t hour = 0, min = 0, sec = 0, fsec = 0;
  num(hour);
  if (i >= f.size() || f[i] != ':') interval_syntax(text);
  ++i;
  num(min, true);
  if (i == f.size()) {
    if (range == ((1 << kIntervalMinuteBit) | (1 << kIntervalSecondBit))) sec = min, min = hour, hour = 0;
  } else if (f[i] == '.') {
    fsec = fraction();
    sec = min, min = hour, hour = 0;
  } else if (f[i] == ':') {
    ++i;
    num(sec, true);
    if (i < f.size() && f[i] == '.') fsec = fraction();
  } else {
    interval_syntax(text);
  }
  if (i != f.size()) interval_syntax(text);
  if (min > 59 || sec > 60 || fsec > kMicrosPerSecond) overflow(text);
  // DecodeTimeForInterval: hour, minute and second in int64 microseconds, checked. Like
  // PostgreSQL it replaces the microseconds gathered so far (`1:00 1.5 days` is 1 day 01:00).
  int64_t us = fsec;
  a.usec = 0;
  if (!micros(a, hour, 0, 3600 * kMicrosPerSecond) || !micros(a, min, 0, 60 * kMicrosPerSecond) ||
      !micros(a, sec, 0, kMicrosPerSecond) || __builtin_add_overflow(a.usec, us, &a.usec))
    overflow(text, Over::kMicros);
}

}  // namespace interval_parse

Interval parse_interval(std::string_view text, int32_t typmod) {
  using namespace interval_parse;
  if (materialize_dialect()) return parse_interval_materialize(text, typmod);
  std::string s = lower(trim(text));
  if (s.empty()) interval_syntax(text);
  Interval result;
  if (s[0] == 'p') {
    result = parse_iso_interval(s, text);
    return adjust_interval_for_typmod(result, typmod);
  }
  int32_t range = typmod < 0 ? kIntervalFullRange : (typmod >> 16) & 0x7FFF;
  // ParseDateTime: split into typed fields.
  std::vector<std::pair<Field, std::string>> fields;
  size_t i = 0;
  auto digit = [&](size_t k) { return k < s.size() && std::isdigit(static_cast<unsigned char>(s[k])); };
  auto alpha = [&](size_t k) { return k < s.size() && std::isalpha(static_cast<unsigned char>(s[k])); };
  while (i < s.size()) {
    if (is_space(s[i])) {
      ++i;
      continue;
    }
    size_t b = i;
    Field ft;
    if (digit(i)) {
      while (digit(i)) ++i;
      if (i < s.size() && s[i] == ':') {
        ft = Field::kTime;
        while (i < s.size() && (digit(i) || s[i] == ':' || s[i] == '.')) ++i;
      } else if (i < s.size() && (s[i] == '-' || s[i] == '/' || s[i] == '.')) {
        char delim = s[i++];
        if (digit(i)) {
          ft = delim == '.' ? Field::kNumber : Field::kDate;
          while (digit(i)) ++i;
          if (i < s.size() && s[i] == delim) {
            ft = Field::kDate;
            while (digit(i) || (i < s.size() && s[i] == delim)) ++i;
          }
        } else {
          ft = Field::kDate;
          while (alpha(i) || digit(i) || (i < s.size() && s[i] == delim)) ++i;
        }
      } else {
        ft = Field::kNumber;
      }
    } else if (s[i] == '.') {
      ++i;
      while (digit(i)) ++i;
      ft = Field::kNumber;
    } else if (alpha(i)) {
      while (alpha(i)) ++i;
      ft = Field::kString;
      if (i < s.size() && (s[i] == '-' || s[i] == '/' || s[i] == '.' || s[i] == '+' || digit(i))) {
        if (decode_unit(s.substr(b, i - b)) == kNone) interval_syntax(text, "unknown units " + s.substr(b, i - b));
        interval_syntax(text);
      }
    } else if (s[i] == '+' || s[i] == '-') {
      std::string f(1, s[i++]);
      while (i < s.size() && is_space(s[i])) ++i;
      if (!digit(i)) interval_syntax(text);
      b = i;
      while (digit(i) || (i < s.size() && (s[i] == ':' || s[i] == '.' || s[i] == '-'))) ++i;
      fields.emplace_back(Field::kSigned, f + s.substr(b, i - b));
      continue;
    } else if (std::ispunct(static_cast<unsigned char>(s[i]))) {
      ++i;
      continue;
    } else {
      interval_syntax(text);
    }
    fields.emplace_back(ft, s.substr(b, i - b));
  }

  // DecodeInterval: right to left.
  Acc acc;
  int type = kNone;
  bool is_before = false;
  uint32_t fmask = 0;
  const int n = static_cast<int>(fields.size());
  for (int k = n - 1; k >= 0; --k) {
    const auto& [ft, f] = fields[static_cast<size_t>(k)];
    uint32_t tmask = 0;
    bool as_number = ft == Field::kNumber || ft == Field::kDate;
    if (ft == Field::kTime) {
      decode_time(f, range, text, acc);
      tmask = 0x1Fu;  // DTK_TIME_M: hour, minute, second, millisecond, microsecond
      type = kDay;
    } else if (ft == Field::kSigned) {
      if (f.find(':', 1) != std::string::npos) {
        // DecodeTimeForInterval failing here (an out-of-range field) makes PostgreSQL read the
        // field as a number instead, which then is a syntax error.
        Acc t;
        try {
          decode_time(std::string_view(f).substr(1), range, text, t);
        } catch (const SqlError&) {
          interval_syntax(text);
        }
        if (f[0] == '-' && t.usec == INT64_MIN) overflow(text, Over::kMicros);
        acc.usec = f[0] == '-' ? -t.usec : t.usec;
        tmask = 0x1Fu;
        type = kDay;
      } else {
        as_number = true;
      }
    } else if (ft == Field::kString) {
      Unit u = decode_unit(f);
      if (u == kNone) interval_syntax(text, "unknown units " + f);
      if (u == kUnsupported) interval_syntax(text);
      if (u == kAgo) {
        if (k != n - 1) interval_syntax(text);
        is_before = true;
        type = kUnsupported;  // "1 ago" has no unit for its number
      } else {
        type = u;
      }
    }
    if (as_number) {
      if (type == kNone) {
        // The qualifier decides what the rightmost bare number is.
        constexpr int32_t Y = 1 << kIntervalYearBit, M = 1 << kIntervalMonthBit, D = 1 << kIntervalDayBit,
                          H = 1 << kIntervalHourBit, MI = 1 << kIntervalMinuteBit;
        if (range == Y) type = kYear;
        else if (range == M || range == (Y | M)) type = kMonth;
        else if (range == D) type = kDay;
        else if (range == H || range == (D | H)) type = kHour;
        else if (range == MI || range == (H | MI) || range == (D | H | MI)) type = kMinute;
        else type = kSecond;
      }
      // strtoint: sign and digits.
      size_t p = 0;
      bool neg = false;
      if (p < f.size() && (f[p] == '+' || f[p] == '-')) neg = f[p++] == '-';
      size_t db = p;
      while (p < f.size() && std::isdigit(static_cast<unsigned char>(f[p]))) ++p;
      // strtoi64: a value outside int64 is a field overflow, what is left a syntax error.
      int64_t val = 0;
      if (p > db) {
        errno = 0;
        val = std::strtoll(f.substr(neg ? db - 1 : db, p - db + (neg ? 1 : 0)).c_str(), nullptr, 10);
        if (errno == ERANGE) {
          SqlError e(sqlstate::kIntervalFieldOverflow, "interval field value out of range: \"" + std::string(text) + "\"");
          throw e.with_detail("Unable to parse value " + f.substr(db, p - db) +
                              " as a number: number too large to fit in target type");
        }
      }
      double fval = 0;
      if (p < f.size() && f[p] == '-') {
        // SQL "years-months".
        size_t mb = ++p;
        while (p < f.size() && std::isdigit(static_cast<unsigned char>(f[p]))) ++p;
        if (p - mb > 10) overflow(text);
        int64_t val2 = p == mb ? 0 : std::stoll(f.substr(mb, p - mb));  // strtoint: '1-' is 1 year
        if (val2 >= 12) overflow(text);
        if (p != f.size()) interval_syntax(text);
        type = kMonth;
        if (neg) val2 = -val2;
        if (__builtin_mul_overflow(val, int64_t{12}, &val) || __builtin_add_overflow(val, val2, &val))
          overflow(text, Over::kMonths);
      } else if (p < f.size() && f[p] == '.') {
        size_t fb = p++;
        while (p < f.size() && std::isdigit(static_cast<unsigned char>(f[p]))) ++p;
        if (p != f.size()) interval_syntax(text);
        fval = std::strtod(f.substr(fb).c_str(), nullptr);
        if (neg) fval = -fval;
      } else if (p != f.size() || p == db) {
        interval_syntax(text);
      }
      bool ok = true;
      switch (type) {
        case kMicro: ok = micros(acc, val, fval, 1); tmask = 1u << 0; break;
        case kMilli: ok = micros(acc, val, fval, 1000); tmask = 1u << 1; break;
        case kSecond:
          ok = micros(acc, val, fval, kMicrosPerSecond);
          tmask = fval == 0 ? 1u << 2 : (1u << 0) | (1u << 1) | (1u << 2);
          break;
        case kMinute: ok = micros(acc, val, fval, 60 * kMicrosPerSecond); tmask = 1u << 3; break;
        case kHour:
          ok = micros(acc, val, fval, 3600 * kMicrosPerSecond);
          tmask = 1u << 4;
          type = kDay;
          break;
        case kDay: ok = days(acc, val, 1) && fract_usec(acc, fval, kMicrosPerDay); tmask = 1u << 5; break;
        case kWeek: ok = days(acc, val, 7) && fract_days(acc, fval, 7); tmask = 1u << 6; break;
        case kMonth: ok = months(acc, val) && fract_days(acc, fval, 30); tmask = 1u << 7; break;
        case kYear: ok = years(acc, val, fval, 1); tmask = 1u << 8; break;
        case kDecade: ok = years(acc, val, fval, 10); tmask = 1u << 9; break;
        case kCentury: ok = years(acc, val, fval, 100); tmask = 1u << 10; break;
        case kMillennium: ok = years(acc, val, fval, 1000); tmask = 1u << 11; break;
        default: interval_syntax(text);
      }
      if (!ok) overflow(text, acc);
    }
    if (tmask & fmask) {
      // Read right to left: seconds with a fraction after milliseconds or microseconds.
      if (type == kSecond && (tmask & 3u) != 0 && (fmask & 3u) != 0 && (fmask & (1u << 2)) == 0)
        interval_syntax(text, "Cannot set MILLISECONDS or MICROSECONDS field if SECOND field has a fraction component");
      interval_syntax(text);
    }
    fmask |= tmask;
  }
  // PostgreSQL 15 ignores a unit no number goes with ('1 day day', '01:02:03minute'); the
  // rejection of such units came in later versions.
  if (fmask == 0) interval_syntax(text);
  if (is_before) {
    // PostgreSQL negates each field, refusing the one minimum value that has no negation.
    if (acc.usec == INT64_MIN) overflow(text, Over::kMicros);
    if (acc.mday == INT32_MIN) overflow(text, Over::kDays);
    if (acc.mon == INT32_MIN || acc.year == INT32_MIN) overflow(text, Over::kMonths);
    acc.usec = -acc.usec, acc.mday = -acc.mday, acc.mon = -acc.mon, acc.year = -acc.year;
  }
  // itmin2interval: the months that do not fit are "interval out of range" (22008).
  int64_t total_months = int64_t{acc.year} * 12 + acc.mon;
  if (total_months > INT32_MAX || total_months < INT32_MIN)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range")
        .with_detail("Overflows maximum months; cannot exceed 2147483647/-2147483648 months");
  result = Interval{static_cast<int32_t>(total_months), acc.mday, acc.usec};
  return adjust_interval_for_typmod(result, typmod);
}

Interval adjust_interval_for_typmod(Interval iv, int32_t typmod) {
  // PostgreSQL's AdjustIntervalForTypmod.
  if (typmod < 0) return iv;
  int32_t range = (typmod >> 16) & 0x7FFF;
  int32_t precision = typmod & 0xFFFF;
  constexpr int32_t Y = 1 << kIntervalYearBit, M = 1 << kIntervalMonthBit, D = 1 << kIntervalDayBit,
                    H = 1 << kIntervalHourBit, MI = 1 << kIntervalMinuteBit, S = 1 << kIntervalSecondBit;
  constexpr int64_t kHour = 3600 * kMicrosPerSecond, kMinute = 60 * kMicrosPerSecond;
  if (range == kIntervalFullRange) {
  } else if (range == Y) {
    iv.months = iv.months / 12 * 12;
    iv.days = 0;
    iv.micros = 0;
  } else if (range == M || range == (Y | M)) {
    iv.days = 0;
    iv.micros = 0;
  } else if (range == D) {
    iv.micros = 0;
  } else if (range == H || range == (D | H)) {
    iv.micros = iv.micros / kHour * kHour;
  } else if (range == MI || range == (D | H | MI) || range == (H | MI)) {
    iv.micros = iv.micros / kMinute * kMinute;
  }
  (void)S;
  if (precision != kIntervalFullPrecision) iv.micros = round_to_precision(iv.micros, precision);
  return iv;
}

namespace {

// One element of a brace literal (`{a,"b c",d}`) at s[i]: a quoted one through its closing
// quote, or an unquoted one up to ',' or '}' (backslash escapes resolved, an unquoted element's
// trailing blanks dropped). Returns whether it was quoted or held an escape (then it is never
// NULL). Arrays and lists word their errors differently: `end` is the message for input that
// ends inside the element, `unexpected(c)` for a quote or brace inside an unquoted one.
template <class Fail, class Unexpected>
bool read_brace_element(std::string_view s, size_t& i, std::string& elem, const Fail& fail, const std::string& end,
                        const Unexpected& unexpected) {
  if (s[i] == '"') {
    ++i;
    while (true) {
      if (i >= s.size()) fail(end);
      char c = s[i++];
      if (c == '"') return true;
      if (c == '\\') {
        if (i >= s.size()) fail(end);
        c = s[i++];
      }
      elem.push_back(c);
    }
  }
  bool escaped = false;
  size_t trailing_ws = 0;
  while (i < s.size() && s[i] != ',' && s[i] != '}') {
    char c = s[i++];
    if (c == '"' || c == '{') fail(unexpected(c));
    if (c == '\\') {
      if (i >= s.size()) fail(end);
      elem.push_back(s[i++]);
      escaped = true;
      trailing_ws = 0;
      continue;
    }
    elem.push_back(c);
    trailing_ws = is_space(c) ? trailing_ws + 1 : 0;
  }
  elem.resize(elem.size() - trailing_ws);
  return escaped;
}

}  // namespace

std::vector<std::optional<std::string>> parse_array_literal(std::string_view text) {
  auto fail = [&](const std::string& detail) {
    throw SqlError(sqlstate::kInvalidTextRepresentation, "malformed array literal: \"" + std::string(text) + "\"")
        .with_detail(detail);
  };
  std::string_view s = trim(text);
  if (s.empty() || s.front() != '{') fail("Array value must start with \"{\" or dimension information.");
  std::vector<std::optional<std::string>> out;
  size_t i = 1;
  auto skip_ws = [&]() {
    while (i < s.size() && is_space(s[i])) ++i;
  };
  skip_ws();
  if (i < s.size() && s[i] == '}') {
    ++i;
    if (trim(s.substr(i)).size() != 0) fail("Junk after closing right brace.");
    return out;
  }
  while (true) {
    skip_ws();
    if (i >= s.size()) fail("Unexpected end of input.");
    if (s[i] == '{') fail("Multidimensional arrays are not supported.");
    std::string elem;
    const bool quoted = s[i] == '"';
    const bool literal = read_brace_element(s, i, elem, fail, "Unexpected end of input.",
                                            [](char c) { return "Unexpected \"" + std::string(1, c) + "\" character."; });
    if (quoted) {
      skip_ws();
    } else if (elem.empty()) {
      fail("Unexpected \"" + std::string(1, i < s.size() ? s[i] : ' ') + "\" character.");
    }
    if (!literal && iequals(elem, "null")) out.push_back(std::nullopt);
    else out.push_back(std::move(elem));
    if (i >= s.size()) fail("Unexpected end of input.");
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] == '}') {
      ++i;
      break;
    }
    fail("Unexpected array element.");
  }
  if (trim(s.substr(i)).size() != 0) fail("Junk after closing right brace.");
  return out;
}

std::vector<Datum> array_elements(std::string_view literal, TypeId array_type, Arena& arena) {
  TypeId et = array_element_type(array_type).value_or(TypeId::kText);
  std::vector<Datum> out;
  for (auto& e : parse_array_literal(literal)) out.push_back(e ? parse_datum(*e, Type(et), arena) : Datum::null());
  return out;
}

std::string array_literal(std::span<const Datum> elems, TypeId element_type) {
  std::vector<std::optional<std::string>> texts;
  texts.reserve(elems.size());
  for (const Datum& d : elems) {
    if (d.is_null()) {
      texts.emplace_back(std::nullopt);
    } else {
      std::string s;
      format_datum(d, Type(element_type), s);
      texts.emplace_back(std::move(s));
    }
  }
  std::string out;
  format_array_literal(texts, out);
  return out;
}

void format_array_literal(const std::vector<std::optional<std::string>>& elems, std::string& out) {
  out.push_back('{');
  for (size_t k = 0; k < elems.size(); ++k) {
    if (k > 0) out.push_back(',');
    if (!elems[k]) {
      out += "NULL";
      continue;
    }
    const std::string& e = *elems[k];
    bool quote = e.empty() || iequals(e, "null");
    for (char c : e)
      if (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || is_space(c)) quote = true;
    if (!quote) {
      out += e;
      continue;
    }
    out.push_back('"');
    for (char c : e) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
}

std::vector<std::optional<std::string>> parse_list_literal(std::string_view text) {
  // Materialize's words (strconv.rs parse_list).
  auto fail = [&](const std::string& detail) {
    throw SqlError(sqlstate::kInvalidTextRepresentation,
                   "invalid input syntax for type list: " + detail + ": \"" + std::string(text) + "\"");
  };
  std::string_view s = trim(text);
  if (s.empty() || s.front() != '{') fail("expected '{', found " + (s.empty() ? std::string("empty string") : std::string(1, s.front())));
  std::vector<std::optional<std::string>> out;
  size_t i = 1;
  auto skip_ws = [&]() {
    while (i < s.size() && is_space(s[i])) ++i;
  };
  skip_ws();
  if (i < s.size() && s[i] == '}') {
    ++i;
    if (trim(s.substr(i)).size() != 0) fail("malformed literal; junk after closing right brace");
    return out;
  }
  while (true) {
    skip_ws();
    if (i >= s.size()) fail("unexpected end of input");
    std::string elem;
    bool verbatim = false;  // quoted, escaped or a nested list: never NULL
    if (s[i] == '{') {
      // A nested list: its text through the matching brace, quotes and escapes kept.
      size_t start = i;
      int depth = 0;
      bool in_quotes = false;
      for (; i < s.size(); ++i) {
        char c = s[i];
        if (c == '\\') {
          ++i;
          continue;
        }
        if (c == '"') in_quotes = !in_quotes;
        if (in_quotes) continue;
        if (c == '{') ++depth;
        if (c == '}' && --depth == 0) break;
      }
      if (i >= s.size()) fail("unexpected end of input");
      ++i;
      elem.assign(s.substr(start, i - start));
      verbatim = true;
      skip_ws();
    } else {
      const bool quoted = s[i] == '"';
      verbatim = read_brace_element(s, i, elem, fail, "unexpected end of input",
                                    [](char c) { return "unexpected \"" + std::string(1, c) + "\" character"; });
      if (quoted) {
        skip_ws();
      } else if (elem.empty()) {
        fail("malformed literal; missing element");
      }
    }
    if (!verbatim && elem == "NULL") out.push_back(std::nullopt);
    else out.push_back(std::move(elem));
    if (i >= s.size()) fail("unexpected end of input");
    if (s[i] == ',') {
      ++i;
      continue;
    }
    if (s[i] == '}') {
      ++i;
      break;
    }
    fail("malformed literal; expected ',' or '}'");
  }
  if (trim(s.substr(i)).size() != 0) fail("malformed literal; junk after closing right brace");
  return out;
}

// Materialize writes a list's list and array elements unquoted ({{1},{2,3}}; list_agg of an
// int[] is {{1}}), as their own braces delimit them (strconv.rs, Nestable::Yes).
static bool list_element_nests(Type et) { return et.id == TypeId::kList || is_array_type(et.id); }

void format_list_literal(const std::vector<std::optional<std::string>>& elems, bool nested, std::string& out) {
  out.push_back('{');
  for (size_t k = 0; k < elems.size(); ++k) {
    if (k > 0) out.push_back(',');
    if (!elems[k]) {
      out += "NULL";
      continue;
    }
    const std::string& e = *elems[k];
    // Quoted as array elements are, except that only NULL in capitals reads as NULL
    // (Materialize: `null` is a string).
    bool quote = !nested && (e.empty() || e == "NULL");
    for (char c : e)
      if (!nested && (c == '"' || c == '\\' || c == '{' || c == '}' || c == ',' || is_space(c))) quote = true;
    if (!quote) {
      out += e;
      continue;
    }
    out.push_back('"');
    for (char c : e) {
      if (c == '"' || c == '\\') out.push_back('\\');
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back('}');
}

std::vector<Datum> list_elements(std::string_view literal, Type list, Arena& arena) {
  Type et = list_element_type(list);
  std::vector<Datum> out;
  for (auto& e : parse_list_literal(literal)) out.push_back(e ? parse_datum(*e, et, arena) : Datum::null());
  return out;
}

std::string list_literal(std::span<const Datum> elems, Type list) {
  Type et = list_element_type(list);
  std::vector<std::optional<std::string>> texts;
  texts.reserve(elems.size());
  for (const Datum& d : elems) {
    if (d.is_null()) {
      texts.emplace_back(std::nullopt);
    } else {
      std::string s;
      format_datum(d, et, s);
      texts.emplace_back(std::move(s));
    }
  }
  std::string out;
  format_list_literal(texts, list_element_nests(et), out);
  return out;
}

std::vector<std::optional<std::string>> parse_record_literal(std::string_view text) {
  auto bad = [&](const char* detail) {
    return SqlError(sqlstate::kInvalidTextRepresentation, "malformed record literal: \"" + std::string(text) + "\"")
        .with_detail(detail);
  };
  size_t i = 0;
  while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i >= text.size() || text[i] != '(') throw bad("Missing left parenthesis.");
  ++i;
  std::vector<std::optional<std::string>> out;
  for (;;) {
    // One field: up to an unquoted comma or the closing parenthesis.
    std::string f;
    bool quoted_any = false;
    while (i < text.size() && text[i] != ',' && text[i] != ')') {
      char c = text[i++];
      if (c == '\\') {
        if (i >= text.size()) throw bad("Unexpected end of input.");
        f.push_back(text[i++]);
      } else if (c == '"') {
        quoted_any = true;
        for (;;) {
          if (i >= text.size()) throw bad("Unexpected end of input.");
          char q = text[i++];
          if (q == '\\') {
            if (i >= text.size()) throw bad("Unexpected end of input.");
            f.push_back(text[i++]);
          } else if (q == '"') {
            if (i < text.size() && text[i] == '"') {
              f.push_back('"');
              ++i;
            } else {
              break;
            }
          } else {
            f.push_back(q);
          }
        }
      } else {
        f.push_back(c);
      }
    }
    if (i >= text.size()) throw bad("Unexpected end of input.");
    if (f.empty() && !quoted_any) out.emplace_back(std::nullopt);
    else out.emplace_back(std::move(f));
    if (text[i++] == ')') break;
  }
  while (i < text.size() && isspace(static_cast<unsigned char>(text[i]))) ++i;
  if (i != text.size()) throw bad("Junk after right parenthesis.");
  return out;
}

std::vector<Datum> record_elements(std::string_view literal, Type record, Arena& arena) {
  const auto& fields = record_fields(record);
  auto texts = parse_record_literal(literal);
  if (texts.size() != fields.size())
    throw SqlError(sqlstate::kInvalidTextRepresentation, "malformed record literal: \"" + std::string(literal) + "\"")
        .with_detail(texts.size() < fields.size() ? "Too few columns." : "Too many columns.");
  std::vector<Datum> out;
  out.reserve(texts.size());
  for (size_t k = 0; k < texts.size(); ++k) out.push_back(texts[k] ? parse_datum(*texts[k], fields[k].type, arena) : Datum::null());
  return out;
}

std::string record_literal(std::span<const Datum> values, Type record) {
  const auto& fields = record_fields(record);
  std::string out = "(";
  for (size_t k = 0; k < values.size(); ++k) {
    if (k > 0) out.push_back(',');
    if (values[k].is_null()) continue;
    std::string s;
    format_datum(values[k], k < fields.size() ? fields[k].type : Type(TypeId::kText), s);
    bool quote = s.empty();
    for (char c : s)
      quote = quote || c == '"' || c == '\\' || c == '(' || c == ')' || c == ',' || isspace(static_cast<unsigned char>(c));
    if (!quote) {
      out += s;
      continue;
    }
    out.push_back('"');
    for (char c : s) {
      if (c == '"' || c == '\\') out.push_back(c);
      out.push_back(c);
    }
    out.push_back('"');
  }
  out.push_back(')');
  return out;
}

JsonValue json_parse(std::string_view text) { return JsonParser(text).parse_document(); }

bool json_key_less(std::string_view a, std::string_view b) {
  if (!materialize_dialect() && a.size() != b.size()) return a.size() < b.size();
  return a < b;
}

void json_quote(std::string_view s, std::string& out) {
  out.push_back('"');
  for (char c : s) {
    switch (c) {
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      default:
        if (static_cast<unsigned char>(c) < ' ') {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", static_cast<unsigned>(c));
          out += b;
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
}

namespace {
void json_write_impl(const JsonValue& v, std::string_view comma, std::string_view colon, std::string& out) {
  switch (v.kind) {
    case JsonValue::Kind::kNull:
      out += "null";
      break;
    case JsonValue::Kind::kBool:
      out += v.b ? "true" : "false";
      break;
    case JsonValue::Kind::kNumber:
      out += v.str;
      break;
    case JsonValue::Kind::kString:
      json_quote(v.str, out);
      break;
    case JsonValue::Kind::kArray:
      out.push_back('[');
      for (size_t k = 0; k < v.array.size(); ++k) {
        if (k > 0) out += comma;
        json_write_impl(v.array[k], comma, colon, out);
      }
      out.push_back(']');
      break;
    case JsonValue::Kind::kObject:
      out.push_back('{');
      for (size_t k = 0; k < v.object.size(); ++k) {
        if (k > 0) out += comma;
        json_quote(v.object[k].first, out);
        out += colon;
        json_write_impl(v.object[k].second, comma, colon, out);
      }
      out.push_back('}');
      break;
  }
}
}  // namespace

void json_write(const JsonValue& v, std::string& out) {
  if (materialize_dialect()) json_write_impl(v, ",", ":", out);
  else json_write_impl(v, ", ", ": ", out);
}

// ---------------------------------------------------------------------------------------------
// format_datum / parse_datum

void format_datum(const Datum& d, Type t, std::string& out) {
  FRESHET_ASSERT(!d.is_null());
  switch (t.id) {
    case TypeId::kBool:
      out.push_back(d.as_bool() ? 't' : 'f');
      return;
    case TypeId::kInt2:
    case TypeId::kInt4:
    case TypeId::kInt8:
    case TypeId::kOid:
    case TypeId::kRegclass:
    case TypeId::kRegproc:
    case TypeId::kRegtype:
    case TypeId::kRegnamespace:
    case TypeId::kRegrole: {
      // A reg* value resolved to its name for output (see sql::Binder::bind_query) is a
      // string; an unresolved one prints as the bare oid, as PostgreSQL does for unknown oids.
      if (is_reg_type(t.id) && d.kind() == PhysicalKind::kString) {
        out += d.as_string();
        return;
      }
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, d.as_int());
      out.append(buf, r.ptr);
      return;
    }
    case TypeId::kNumeric:
      out += numeric_to_string(numeric_for_output(d.as_numeric()));
      return;
    case TypeId::kUInt2:
    case TypeId::kUInt4:
    case TypeId::kUInt8:
    case TypeId::kMzTimestamp: {  // mz_timestamp: the number of milliseconds
      char buf[24];
      auto r = std::to_chars(buf, buf + sizeof buf, uint_value(d, t.id == TypeId::kMzTimestamp ? TypeId::kUInt8 : t.id));
      out.append(buf, r.ptr);
      return;
    }
    case TypeId::kFloat4:
      format_float4(static_cast<float>(d.as_float()), out);
      return;
    case TypeId::kFloat8:
      format_float8(d.as_float(), out);
      return;
    case TypeId::kBytea: {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      for (unsigned char c : d.as_string()) {
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
      }
      return;
    }
    case TypeId::kDate:
      format_date(static_cast<int32_t>(d.as_int()), out);
      return;
    case TypeId::kTime:
      format_time(d.as_int(), out);
      return;
    case TypeId::kTimestamp:
      format_timestamp(d.as_int(), false, out);
      return;
    case TypeId::kTimestampTz:
      format_timestamp(d.as_int(), true, out);
      return;
    case TypeId::kInterval:
      format_interval(d.as_interval(), out);
      return;
    case TypeId::kUuid: {
      static constexpr char kHex[] = "0123456789abcdef";
      Uuid u = d.as_uuid();
      for (int k = 0; k < 16; ++k) {
        if (k == 4 || k == 6 || k == 8 || k == 10) out.push_back('-');
        out.push_back(kHex[u.bytes[k] >> 4]);
        out.push_back(kHex[u.bytes[k] & 15]);
      }
      return;
    }
    case TypeId::kUnknown:
    case TypeId::kText:
    case TypeId::kVarchar:
    case TypeId::kBpchar:
    case TypeId::kChar:
    case TypeId::kName:
    case TypeId::kJsonb:
    case TypeId::kTextArray:
    case TypeId::kInt2Array:
    case TypeId::kOidArray:
    case TypeId::kInt4Array:
    case TypeId::kInt8Array:
    case TypeId::kNameArray:
    case TypeId::kBoolArray:
    case TypeId::kFloat8Array:
    case TypeId::kNumericArray:
    case TypeId::kUInt2Array:
    case TypeId::kUInt4Array:
    case TypeId::kUInt8Array:
    case TypeId::kMzTimestampArray:
    case TypeId::kRecord:
    case TypeId::kTsRange:
    case TypeId::kList:
      out += d.as_string();
      return;
    case TypeId::kInt2Vector:
    case TypeId::kOidVector: {
      // Stored as "{1,2}" (integers: no quotes, no NULLs); shown as "1 2".
      std::string_view v = d.as_string();
      if (v.size() >= 2 && v.front() == '{' && v.back() == '}') v = v.substr(1, v.size() - 2);
      for (char c : v) out.push_back(c == ',' ? ' ' : c);
      return;
    }
  }
}

namespace {
// int2vectorin / oidvectorin: integers separated by spaces.
std::string parse_vector(std::string_view text, TypeId id) {
  bool oid = id == TypeId::kOidVector;
  std::string out = "{";
  size_t i = 0;
  while (true) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n')) ++i;
    if (i >= text.size()) break;
    size_t j = i;
    while (j < text.size() && text[j] != ' ' && text[j] != '\t' && text[j] != '\n') ++j;
    std::string_view item = text.substr(i, j - i);
    int64_t v = oid ? parse_integer(item, INT32_MIN, UINT32_MAX, "oid") : parse_integer(item, INT16_MIN, INT16_MAX, "smallint");
    if (oid && v < 0) v += int64_t{1} << 32;
    if (out.size() > 1) out += ',';
    out += std::to_string(v);
    i = j;
  }
  return out + "}";
}
}  // namespace

Datum parse_datum(std::string_view text, Type t, Arena& arena) {
  switch (t.id) {
    case TypeId::kBool:
      return Datum::from_bool(parse_bool(text));
    case TypeId::kInt2:
      return Datum::from_int(parse_integer(text, INT16_MIN, INT16_MAX, "smallint"));
    case TypeId::kInt4:
      return Datum::from_int(parse_integer(text, INT32_MIN, INT32_MAX, "integer"));
    case TypeId::kInt8:
      return Datum::from_int(parse_integer(text, INT64_MIN, INT64_MAX, "bigint"));
    case TypeId::kOid:
    case TypeId::kRegclass:
    case TypeId::kRegproc:
    case TypeId::kRegtype:
    case TypeId::kRegnamespace:
    case TypeId::kRegrole: {
      // oidin accepts negative values and wraps them, as PostgreSQL does.
      int64_t v = parse_integer(text, INT32_MIN, UINT32_MAX, "oid");
      return Datum::from_int(v < 0 ? v + (int64_t{1} << 32) : v);
    }
    case TypeId::kNumeric:
      return Datum::from_numeric(numeric_apply_typmod(numeric_parse(text), t.typmod));
    case TypeId::kUInt2:
    case TypeId::kUInt4:
    case TypeId::kUInt8:
      return uint_datum(parse_unsigned(text, t.id), t.id);
    case TypeId::kMzTimestamp:
      return uint_datum(parse_mz_timestamp(text, arena), TypeId::kUInt8);
    case TypeId::kFloat4:
      return Datum::from_float(parse_float(text, true));
    case TypeId::kFloat8:
      return Datum::from_float(parse_float(text, false));
    case TypeId::kUnknown:
    case TypeId::kText:
      return Datum::from_string(arena.copy(text));
    case TypeId::kVarchar:
    case TypeId::kBpchar:
      return Datum::from_string(apply_char_typmod(text, t, arena));
    case TypeId::kChar:
      return Datum::from_string(arena.copy(text.substr(0, text.empty() ? 0 : 1)));
    case TypeId::kName:
      return Datum::from_string(arena.copy(text.substr(0, utf8_prefix_bytes(text.substr(0, 63), 63))));
    case TypeId::kBytea:
      return Datum::from_string(arena.copy(parse_bytea(text)));
    case TypeId::kDate:
      return Datum::from_date(parts_to_date(parse_datetime(text, "date"), text));
    case TypeId::kTime: {
      DateTimeParts p = parse_datetime(text, "time");
      if (p.special == DateTimeParts::Special::kAllballs) return Datum::from_time(0);
      if (p.special == DateTimeParts::Special::kNow) {
        int64_t n = now_pg_micros();
        return Datum::from_time(n - floor_div(n, kMicrosPerDay) * kMicrosPerDay);
      }
      if (!p.has_time) bad_input("time", text, sqlstate::kInvalidDatetimeFormat);
      // Materialize keeps a time's nanoseconds and prints microseconds, truncating
      // (repr/src/strconv.rs parse_time, format_time): '9::59.999999999' is 09:00:59.999999.
      int64_t frac = materialize_dialect() ? p.micros_trunc : p.micros;
      if (materialize_dialect()) {
        // Materialize's bounds (repr/src/adt/datetime.rs check_datelike_bounds): hours 0..23,
        // and a 60th second is second 59 plus a whole second of nanoseconds, so it may not
        // have a fraction ('9::60' is 09:01:00, '9::60.1' an error).
        auto bad = [&](const std::string& why) {
          throw SqlError(sqlstate::kInvalidDatetimeFormat,
                         "invalid input syntax for type time: " + why + ": \"" + std::string(text) + "\"");
        };
        if (p.hour > 23) bad("HOUR must be [0, 23], got " + std::to_string(p.hour));
        if (p.second == 60 && p.micros_trunc_ns > 0)
          bad("NANOSECOND must be [0, 1_000_000_000], got " + std::to_string(1000000000 + p.micros_trunc_ns));
      }
      int64_t us = ((static_cast<int64_t>(p.hour) * 60 + p.minute) * 60 + p.second) * kMicrosPerSecond + frac;
      // time_in: nothing after 24:00:00 ('23:59:60.5' is out of range, '23:59:60' is 24:00:00).
      if (us > kMicrosPerDay)
        throw SqlError(sqlstate::kDatetimeFieldOverflow,
                       "date/time field value out of range: \"" + std::string(text) + "\"");
      return Datum::from_time(round_to_precision(us, t.typmod));
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampTz: {
      bool tz = t.id == TypeId::kTimestampTz;
      const char* name = tz ? "timestamp with time zone" : "timestamp";  // as timestamp_in names it
      int64_t v = parts_to_timestamp(parse_datetime(text, name), tz, text, name);
      if (v != kTimestampPosInfinity && v != kTimestampNegInfinity) v = round_to_precision(v, t.typmod);
      return Datum::from_timestamp(v);
    }
    case TypeId::kInterval:
      return Datum::from_interval(parse_interval(text, t.typmod));
    case TypeId::kUuid:
      return Datum::from_uuid(parse_uuid(trim(text)));
    case TypeId::kJsonb: {
      std::string out;
      json_write(json_parse(text), out);
      return Datum::from_string(arena.copy(out));
    }
    case TypeId::kTextArray:
    case TypeId::kInt2Array:
    case TypeId::kOidArray:
    case TypeId::kInt4Array:
    case TypeId::kInt8Array:
    case TypeId::kNameArray:
    case TypeId::kBoolArray:
    case TypeId::kFloat8Array:
    case TypeId::kNumericArray:
    case TypeId::kUInt2Array:
    case TypeId::kUInt4Array:
    case TypeId::kUInt8Array:
    case TypeId::kMzTimestampArray:
      return Datum::from_string(arena.copy(canonical_array(text, t.id)));
    case TypeId::kInt2Vector:
    case TypeId::kOidVector:
      return Datum::from_string(arena.copy(parse_vector(text, t.id)));
    case TypeId::kRecord: {
      if (!is_record_value_type(t))
        throw SqlError(sqlstate::kFeatureNotSupported, "input of anonymous composite types is not implemented");
      // Each field through its type's input, then the canonical text.
      std::vector<Datum> fields = record_elements(text, t, arena);
      return Datum::from_string(arena.copy(record_literal(fields, t)));
    }
    case TypeId::kTsRange:
      return Datum::from_string(arena.copy(tsrange_format(tsrange_parse(text))));
    case TypeId::kList: {
      // Each element through its type's input, then the canonical literal.
      Type et = list_element_type(t);
      auto elems = parse_list_literal(text);
      for (auto& e : elems) {
        if (!e) continue;
        std::string canon;
        format_datum(parse_datum(*e, et, arena), et, canon);
        *e = std::move(canon);
      }
      std::string out;
      format_list_literal(elems, list_element_nests(et), out);
      return Datum::from_string(arena.copy(out));
    }
  }
  return Datum::null();
}

}  // namespace freshet
