// to_char: PostgreSQL 15's formatting.c, output side only. Date/time templates (DCH: YYYY,
// MM, DD, HH24, MI, SS, MS, US, FF1-6, AM/PM, Mon/Month/Day/Dy, RM, TZ, IYYY/IW/ID, J, Q, CC,
// FM/TM prefixes, TH/th suffixes, "quoted text") for timestamp, timestamptz and interval;
// number templates (NUM: 9 0 . , D G S MI PL SG PR FM EEEE RN TH V B) for numeric,
// integers and floats. The output is what PostgreSQL prints in the C locale: English names,
// '.' and ',' for D and G, no currency symbol for L. A template is parsed on every call
// (PostgreSQL caches the last few); templates are short, so that is cheap.

#include <cmath>
#include <cstdio>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <type_traits>
#include <vector>
#include <string>
#include <string_view>

#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/numeric.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::fn {
namespace {

// ---------------------------------------------------------------------------------------------
// Date/time templates

// PostgreSQL's struct pg_tm as to_char sees it (year astronomical: 1 BC is 0).
struct Tm {
  int year = 0, mon = 0, mday = 0;
  int64_t hour = 0;
  int min = 0, sec = 0;
  int64_t fsec = 0;  // microseconds
  int wday = 0, yday = 0;
  int64_t gmtoff = 0;          // seconds east of UTC
  const char* tzn = nullptr;   // zone abbreviation; null for timestamp without time zone
};

enum class Key : uint8_t {
  kAD_dots, kAM_dots, kAD, kAM, kBC_dots, kBC, kCC, kDAY, kDDD, kDD, kDY, kDay, kDy, kD,
  kFF1, kFF2, kFF3, kFF4, kFF5, kFF6, kFX, kHH24, kHH12, kHH, kIDDD, kID, kIW, kIYYY, kIYY, kIY, kI,
  kJ, kMI, kMM, kMONTH, kMON, kMS, kMonth, kMon, kOF, kPM_dots, kPM, kQ, kRM, kSSSSS, kSSSS, kSS,
  kTZH, kTZM, kTZ, kUS, kWW, kW, kY_YYY, kYYYY, kYYY, kYY, kY,
  kad_dots, kam_dots, kad, kam, kbc_dots, kbc, kday, kdy, kmonth, kmon, kpm_dots, kpm, krm, ktz,
};

struct Keyword {
  const char* name;
  Key key;
};

// PostgreSQL's DCH_keywords, in its order: for a common prefix the longer name comes first.
constexpr Keyword kKeywords[] = {
    {"A.D.", Key::kAD_dots}, {"A.M.", Key::kAM_dots}, {"AD", Key::kAD}, {"AM", Key::kAM},
    {"B.C.", Key::kBC_dots}, {"BC", Key::kBC}, {"CC", Key::kCC}, {"DAY", Key::kDAY}, {"DDD", Key::kDDD},
    {"DD", Key::kDD}, {"DY", Key::kDY}, {"Day", Key::kDay}, {"Dy", Key::kDy}, {"D", Key::kD},
    {"FF1", Key::kFF1}, {"FF2", Key::kFF2}, {"FF3", Key::kFF3}, {"FF4", Key::kFF4}, {"FF5", Key::kFF5},
    {"FF6", Key::kFF6}, {"FX", Key::kFX}, {"HH24", Key::kHH24}, {"HH12", Key::kHH12}, {"HH", Key::kHH},
    {"IDDD", Key::kIDDD}, {"ID", Key::kID}, {"IW", Key::kIW}, {"IYYY", Key::kIYYY}, {"IYY", Key::kIYY},
    {"IY", Key::kIY}, {"I", Key::kI}, {"J", Key::kJ}, {"MI", Key::kMI}, {"MM", Key::kMM},
    {"MONTH", Key::kMONTH}, {"MON", Key::kMON}, {"MS", Key::kMS}, {"Month", Key::kMonth}, {"Mon", Key::kMon},
    {"OF", Key::kOF}, {"P.M.", Key::kPM_dots}, {"PM", Key::kPM}, {"Q", Key::kQ}, {"RM", Key::kRM},
    {"SSSSS", Key::kSSSSS}, {"SSSS", Key::kSSSS}, {"SS", Key::kSS}, {"TZH", Key::kTZH}, {"TZM", Key::kTZM},
    {"TZ", Key::kTZ}, {"US", Key::kUS}, {"WW", Key::kWW}, {"W", Key::kW}, {"Y,YYY", Key::kY_YYY},
    {"YYYY", Key::kYYYY}, {"YYY", Key::kYYY}, {"YY", Key::kYY}, {"Y", Key::kY},
    {"a.d.", Key::kad_dots}, {"a.m.", Key::kam_dots}, {"ad", Key::kad}, {"am", Key::kam},
    {"b.c.", Key::kbc_dots}, {"bc", Key::kbc}, {"cc", Key::kCC}, {"day", Key::kday}, {"ddd", Key::kDDD},
    {"dd", Key::kDD}, {"dy", Key::kdy}, {"d", Key::kD}, {"ff1", Key::kFF1}, {"ff2", Key::kFF2},
    {"ff3", Key::kFF3}, {"ff4", Key::kFF4}, {"ff5", Key::kFF5}, {"ff6", Key::kFF6}, {"fx", Key::kFX},
    {"hh24", Key::kHH24}, {"hh12", Key::kHH12}, {"hh", Key::kHH}, {"iddd", Key::kIDDD}, {"id", Key::kID},
    {"iw", Key::kIW}, {"iyyy", Key::kIYYY}, {"iyy", Key::kIYY}, {"iy", Key::kIY}, {"i", Key::kI},
    {"j", Key::kJ}, {"mi", Key::kMI}, {"mm", Key::kMM}, {"month", Key::kmonth}, {"mon", Key::kmon},
    {"ms", Key::kMS}, {"of", Key::kOF}, {"p.m.", Key::kpm_dots}, {"pm", Key::kpm}, {"q", Key::kQ},
    {"rm", Key::krm}, {"sssss", Key::kSSSSS}, {"ssss", Key::kSSSS}, {"ss", Key::kSS}, {"tzh", Key::kTZH},
    {"tzm", Key::kTZM}, {"tz", Key::ktz}, {"us", Key::kUS}, {"ww", Key::kWW}, {"w", Key::kW},
    {"y,yyy", Key::kY_YYY}, {"yyyy", Key::kYYYY}, {"yyy", Key::kYYY}, {"yy", Key::kYY}, {"y", Key::kY},
};

const Keyword* find_keyword(std::string_view s) {
  for (const Keyword& k : kKeywords) {
    std::string_view n(k.name);
    if (s.substr(0, n.size()) == n) return &k;
  }
  return nullptr;
}

constexpr const char* kMonths[] = {"January", "February", "March", "April", "May", "June", "July",
                                   "August", "September", "October", "November", "December"};
constexpr const char* kDays[] = {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"};
constexpr const char* kRomanUpper[] = {"XII", "XI", "X", "IX", "VIII", "VII", "VI", "V", "IV", "III", "II", "I"};
constexpr const char* kRomanLower[] = {"xii", "xi", "x", "ix", "viii", "vii", "vi", "v", "iv", "iii", "ii", "i"};

std::string upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// PostgreSQL's date2j / j2day (Julian day numbers), isoweek helpers.
int date2j(int year, int month, int day) {
  if (month > 2) {
    month += 1;
    year += 4800;
  } else {
    month += 13;
    year += 4799;
  }
  int century = year / 100;
  int julian = year * 365 - 32167;
  julian += year / 4 - century + century / 4;
  julian += 7834 * month / 256 + day;
  return julian;
}
int j2day(int date) {
  date += 1;
  date %= 7;
  if (date < 0) date += 7;
  return date;
}
int date2isoweek(int year, int mon, int mday) {
  int dayn = date2j(year, mon, mday);
  int day4 = date2j(year, 1, 4);
  int day0 = j2day(day4 - 1);
  if (dayn < day4 - day0) {
    day4 = date2j(year - 1, 1, 4);
    day0 = j2day(day4 - 1);
  }
  int result = (dayn - (day4 - day0)) / 7 + 1;
  if (result >= 52) {
    day4 = date2j(year + 1, 1, 4);
    day0 = j2day(day4 - 1);
    if (dayn >= day4 - day0) result = (dayn - (day4 - day0)) / 7 + 1;
  }
  return result;
}
int date2isoyear(int year, int mon, int mday) {
  int dayn = date2j(year, mon, mday);
  int day4 = date2j(year, 1, 4);
  int day0 = j2day(day4 - 1);
  if (dayn < day4 - day0) {
    day4 = date2j(year - 1, 1, 4);
    day0 = j2day(day4 - 1);
    year--;
  }
  int result = (dayn - (day4 - day0)) / 7 + 1;
  if (result >= 52) {
    day4 = date2j(year + 1, 1, 4);
    day0 = j2day(day4 - 1);
    if (dayn >= day4 - day0) year++;
  }
  return year;
}
int isoweek2j(int year, int week) {
  int day4 = date2j(year, 1, 4);
  int day0 = j2day(day4 - 1);
  return ((week - 1) * 7) + (day4 - day0);
}
int date2isoyearday(int year, int mon, int mday) {
  return date2j(year, mon, mday) - isoweek2j(date2isoyear(year, mon, mday), 1) + 1;
}

// get_th: the English ordinal suffix of the number ending s.
void append_th(std::string& s, size_t from, bool upper_case) {
  if (s.size() <= from) return;
  char last = s.back();
  if (!std::isdigit(static_cast<unsigned char>(last)))
    throw SqlError(sqlstate::kInvalidParameterValue, "\"" + s.substr(from) + "\" is not a number");
  size_t len = s.size() - from;
  if (len > 1 && s[s.size() - 2] == '1') last = '0';
  const char* th = last == '1' ? "st" : last == '2' ? "nd" : last == '3' ? "rd" : "th";
  s += upper_case ? upper(th) : std::string(th);
}

void appendf_num(std::string& out, int width, long long v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%0*lld", width, v);
  out += buf;
}
void append_padded(std::string& out, const std::string& s, int width) {
  out += s;
  for (int i = static_cast<int>(s.size()); i < width; ++i) out += ' ';
}

[[noreturn]] void invalid_for_interval() {
  throw SqlError(sqlstate::kInvalidDatetimeFormat, "invalid format specification for an interval value")
      .with_hint("Intervals are not tied to specific calendar dates.");
}

int adjust_year(int year, bool is_interval) { return is_interval ? year : (year <= 0 ? -(year - 1) : year); }

std::string dch_to_char(const Tm& tm, bool is_interval, std::string_view fmt) {
  std::string out;
  size_t i = 0;
  while (i < fmt.size()) {
    bool fm = false, tm_mode = false;
    // Prefix modifiers.
    std::string_view rest = fmt.substr(i);
    if (rest.substr(0, 2) == "FM" || rest.substr(0, 2) == "fm") {
      fm = true;
      i += 2;
    } else if (rest.substr(0, 2) == "TM" || rest.substr(0, 2) == "tm") {
      tm_mode = true;
      i += 2;
    }
    rest = fmt.substr(i);
    const Keyword* kw = rest.empty() ? nullptr : find_keyword(rest);
    // Materialize's to_char has no FF1..FF6 (expr/src/scalar/func/format.rs): text, as written.
    if (kw != nullptr && kw->key >= Key::kFF1 && kw->key <= Key::kFF6 && materialize_dialect()) kw = nullptr;
    if (kw == nullptr) {
      if (rest.empty()) break;
      if (rest[0] == '"') {
        ++i;
        while (i < fmt.size()) {
          if (fmt[i] == '"') {
            ++i;
            break;
          }
          if (fmt[i] == '\\' && i + 1 < fmt.size()) ++i;
          out += fmt[i++];
        }
      } else {
        if (rest[0] == '\\' && rest.size() > 1 && rest[1] == '"') ++i;
        out += fmt[i++];
      }
      continue;
    }
    i += std::string_view(kw->name).size();
    int th = 0;  // 1: TH, 2: th
    rest = fmt.substr(i);
    if (rest.substr(0, 2) == "TH") th = 1, i += 2;
    else if (rest.substr(0, 2) == "th") th = 2, i += 2;
    else if (rest.substr(0, 2) == "SP" || rest.substr(0, 2) == "sp") i += 2;

    size_t start = out.size();
    bool numeric = true;  // TH applies
    auto num = [&](int width, long long v) { appendf_num(out, fm ? 0 : width, v); };
    auto name = [&](const std::string& s, int width) {
      numeric = false;
      if (fm || tm_mode) out += s;
      else append_padded(out, s, width);
    };
    switch (kw->key) {
      case Key::kAM_dots: case Key::kPM_dots:
        numeric = false;
        out += tm.hour % 24 >= 12 ? "P.M." : "A.M.";
        break;
      case Key::kAM: case Key::kPM:
        numeric = false;
        out += tm.hour % 24 >= 12 ? "PM" : "AM";
        break;
      case Key::kam_dots: case Key::kpm_dots:
        numeric = false;
        out += tm.hour % 24 >= 12 ? "p.m." : "a.m.";
        break;
      case Key::kam: case Key::kpm:
        numeric = false;
        out += tm.hour % 24 >= 12 ? "pm" : "am";
        break;
      case Key::kHH: case Key::kHH12:
        num(tm.hour >= 0 ? 2 : 3, tm.hour % 12 == 0 ? 12 : tm.hour % 12);
        break;
      case Key::kHH24: num(tm.hour >= 0 ? 2 : 3, tm.hour); break;
      case Key::kMI: num(tm.min >= 0 ? 2 : 3, tm.min); break;
      case Key::kSS: num(tm.sec >= 0 ? 2 : 3, tm.sec); break;
      case Key::kFF1: appendf_num(out, 1, tm.fsec / 100000); break;
      case Key::kFF2: appendf_num(out, 2, tm.fsec / 10000); break;
      case Key::kFF3: case Key::kMS: appendf_num(out, 3, tm.fsec / 1000); break;
      case Key::kFF4: appendf_num(out, 4, tm.fsec / 100); break;
      case Key::kFF5: appendf_num(out, 5, tm.fsec / 10); break;
      case Key::kFF6: case Key::kUS: appendf_num(out, 6, tm.fsec); break;
      case Key::kSSSS: case Key::kSSSSS: appendf_num(out, 0, tm.hour * 3600 + tm.min * 60 + tm.sec); break;
      case Key::ktz: case Key::kTZ:
        if (is_interval) invalid_for_interval();
        numeric = false;
        if (tm.tzn != nullptr) out += kw->key == Key::ktz ? lower(tm.tzn) : std::string(tm.tzn);
        break;
      case Key::kTZH: {
        if (is_interval) invalid_for_interval();
        numeric = false;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%c%02d", tm.gmtoff >= 0 ? '+' : '-', static_cast<int>(std::llabs(tm.gmtoff) / 3600));
        out += buf;
        break;
      }
      case Key::kTZM: {
        if (is_interval) invalid_for_interval();
        numeric = false;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%02d", static_cast<int>(std::llabs(tm.gmtoff) % 3600 / 60));
        out += buf;
        break;
      }
      case Key::kOF: {
        if (is_interval) invalid_for_interval();
        numeric = false;
        char buf[32];
        std::snprintf(buf, sizeof buf, "%c%0*d", tm.gmtoff >= 0 ? '+' : '-', fm ? 0 : 2,
                      static_cast<int>(std::llabs(tm.gmtoff) / 3600));
        out += buf;
        if (std::llabs(tm.gmtoff) % 3600 != 0) {
          std::snprintf(buf, sizeof buf, ":%02d", static_cast<int>(std::llabs(tm.gmtoff) % 3600 / 60));
          out += buf;
        }
        break;
      }
      case Key::kAD_dots: case Key::kBC_dots:
        if (is_interval) invalid_for_interval();
        numeric = false;
        out += tm.year <= 0 ? "B.C." : "A.D.";
        break;
      case Key::kAD: case Key::kBC:
        if (is_interval) invalid_for_interval();
        numeric = false;
        out += tm.year <= 0 ? "BC" : "AD";
        break;
      case Key::kad_dots: case Key::kbc_dots:
        if (is_interval) invalid_for_interval();
        numeric = false;
        out += tm.year <= 0 ? "b.c." : "a.d.";
        break;
      case Key::kad: case Key::kbc:
        if (is_interval) invalid_for_interval();
        numeric = false;
        out += tm.year <= 0 ? "bc" : "ad";
        break;
      case Key::kMONTH: case Key::kMonth: case Key::kmonth: {
        if (is_interval) invalid_for_interval();
        numeric = false;
        if (tm.mon == 0) break;
        std::string s = kMonths[tm.mon - 1];
        name(kw->key == Key::kMONTH ? upper(s) : kw->key == Key::kmonth ? lower(s) : s, 9);
        break;
      }
      case Key::kMON: case Key::kMon: case Key::kmon: {
        if (is_interval) invalid_for_interval();
        numeric = false;
        if (tm.mon == 0) break;
        std::string s = std::string(kMonths[tm.mon - 1]).substr(0, 3);
        out += kw->key == Key::kMON ? upper(s) : kw->key == Key::kmon ? lower(s) : s;
        break;
      }
      case Key::kMM: num(tm.mon >= 0 ? 2 : 3, tm.mon); break;
      case Key::kDAY: case Key::kDay: case Key::kday: {
        if (is_interval) invalid_for_interval();
        std::string s = kDays[tm.wday];
        name(kw->key == Key::kDAY ? upper(s) : kw->key == Key::kday ? lower(s) : s, 9);
        break;
      }
      case Key::kDY: case Key::kDy: case Key::kdy: {
        if (is_interval) invalid_for_interval();
        numeric = false;
        std::string s = std::string(kDays[tm.wday]).substr(0, 3);
        out += kw->key == Key::kDY ? upper(s) : kw->key == Key::kdy ? lower(s) : s;
        break;
      }
      case Key::kDDD: num(tm.yday >= 0 ? 3 : 4, tm.yday); break;
      case Key::kIDDD: num(3, date2isoyearday(tm.year, tm.mon, tm.mday)); break;
      case Key::kDD: num(2, tm.mday); break;
      case Key::kD:
        if (is_interval) invalid_for_interval();
        appendf_num(out, 0, tm.wday + 1);
        break;
      case Key::kID:
        if (is_interval) invalid_for_interval();
        appendf_num(out, 0, tm.wday == 0 ? 7 : tm.wday);
        break;
      case Key::kWW: num(2, (tm.yday - 1) / 7 + 1); break;
      case Key::kIW: num(2, date2isoweek(tm.year, tm.mon, tm.mday)); break;
      case Key::kQ:
        if (tm.mon == 0) {
          numeric = false;
          break;
        }
        appendf_num(out, 0, (tm.mon - 1) / 3 + 1);
        break;
      case Key::kCC: {
        int c = is_interval ? tm.year / 100 : tm.year > 0 ? (tm.year - 1) / 100 + 1 : tm.year / 100 - 1;
        if (c <= 99 && c >= -99) num(c >= 0 ? 2 : 3, c);
        else appendf_num(out, 0, c);
        break;
      }
      case Key::kY_YYY: {
        int y = adjust_year(tm.year, is_interval);
        int k = y / 1000;
        char buf[48];
        std::snprintf(buf, sizeof buf, "%d,%03d", k, y - k * 1000);
        out += buf;
        break;
      }
      case Key::kYYYY: case Key::kIYYY: {
        int y = adjust_year(kw->key == Key::kYYYY ? tm.year : date2isoyear(tm.year, tm.mon, tm.mday), is_interval);
        num(y >= 0 ? 4 : 5, y);
        break;
      }
      case Key::kYYY: case Key::kIYY: {
        int y = adjust_year(kw->key == Key::kYYY ? tm.year : date2isoyear(tm.year, tm.mon, tm.mday), is_interval);
        num(y >= 0 ? 3 : 4, y % 1000);
        break;
      }
      case Key::kYY: case Key::kIY: {
        int y = adjust_year(kw->key == Key::kYY ? tm.year : date2isoyear(tm.year, tm.mon, tm.mday), is_interval);
        num(y >= 0 ? 2 : 3, y % 100);
        break;
      }
      case Key::kY: case Key::kI: {
        int y = adjust_year(kw->key == Key::kY ? tm.year : date2isoyear(tm.year, tm.mon, tm.mday), is_interval);
        num(y >= 0 ? 1 : 2, y % 10);
        break;
      }
      case Key::kRM: case Key::krm: {
        numeric = false;
        if (tm.mon == 0 && tm.year == 0) break;
        int m = tm.mon == 0 ? (tm.year >= 0 ? 0 : 11) : tm.mon < 0 ? -(tm.mon + 1) : 12 - tm.mon;
        std::string s = kw->key == Key::kRM ? kRomanUpper[m] : kRomanLower[m];
        if (fm) out += s;
        else append_padded(out, s, 4);
        break;
      }
      case Key::kW: appendf_num(out, 0, (tm.mday - 1) / 7 + 1); break;
      case Key::kJ: appendf_num(out, 0, date2j(tm.year, tm.mon, tm.mday)); break;
      case Key::kFX: numeric = false; break;
    }
    if (th != 0 && numeric) append_th(out, start, th == 1);
  }
  return out;
}

Tm tm_from_timestamp(int64_t micros) {
  CivilTime c = timestamp_to_civil(micros);
  Tm tm;
  tm.year = c.year;
  tm.mon = c.month;
  tm.mday = c.day;
  tm.hour = c.hour;
  tm.min = c.minute;
  tm.sec = c.second;
  tm.fsec = c.micros;
  int j = date2j(c.year, c.month, c.day);
  tm.wday = j2day(j);
  tm.yday = j - date2j(c.year, 1, 1) + 1;
  return tm;
}

Datum c_to_char_ts(Args a, EvalContext& ctx) {
  int64_t t = a[0].as_int();
  std::string_view fmt = a[1].as_string();
  if (t == kTimestampPosInfinity || t == kTimestampNegInfinity || fmt.empty()) return Datum::null();
  return text_result(ctx, dch_to_char(tm_from_timestamp(t), false, fmt));
}
Datum c_to_char_tstz(Args a, EvalContext& ctx) {
  int64_t t = a[0].as_int();
  std::string_view fmt = a[1].as_string();
  if (t == kTimestampPosInfinity || t == kTimestampNegInfinity || fmt.empty()) return Datum::null();
  // The session time zone is UTC (functions_datetime.cpp).
  Tm tm = tm_from_timestamp(t);
  tm.tzn = "UTC";
  tm.gmtoff = 0;
  return text_result(ctx, dch_to_char(tm, false, fmt));
}
Datum c_to_char_iv(Args a, EvalContext& ctx) {
  std::string_view fmt = a[1].as_string();
  if (fmt.empty()) return Datum::null();
  Interval iv = a[0].as_interval();
  Tm tm;
  tm.year = iv.months / 12;
  tm.mon = iv.months % 12;
  tm.mday = iv.days;
  int64_t t = iv.micros;
  tm.hour = t / (3600 * kMicrosPerSecond);
  t -= tm.hour * 3600 * kMicrosPerSecond;
  tm.min = static_cast<int>(t / (60 * kMicrosPerSecond));
  t -= static_cast<int64_t>(tm.min) * 60 * kMicrosPerSecond;
  tm.sec = static_cast<int>(t / kMicrosPerSecond);
  tm.fsec = t - static_cast<int64_t>(tm.sec) * kMicrosPerSecond;
  tm.yday = static_cast<int>((static_cast<int64_t>(tm.year) * 12 + tm.mon) * 30 + tm.mday);
  return text_result(ctx, dch_to_char(tm, true, fmt));
}

// ---------------------------------------------------------------------------------------------
// to_timestamp(text, template) / to_date(text, template): PostgreSQL 15's DCH_from_char and
// do_to_timestamp (the non-"standard" mode of to_timestamp/to_date).

enum class DateMode : uint8_t { kNone, kGregorian, kIsoWeek };

struct DchNode {
  enum class Type : uint8_t { kAction, kSeparator, kSpace, kChar } type = Type::kChar;
  const Keyword* kw = nullptr;
  bool fm = false;
  int th = 0;
  char ch = 0;
};

bool is_separator_char(char c) {
  return c > 0x20 && c < 0x7F && !(c >= 'A' && c <= 'Z') && !(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9');
}

std::vector<DchNode> parse_dch_format(std::string_view fmt) {
  std::vector<DchNode> nodes;
  size_t i = 0;
  while (i < fmt.size()) {
    DchNode n;
    std::string_view rest = fmt.substr(i);
    if (rest.substr(0, 2) == "FM" || rest.substr(0, 2) == "fm") {
      n.fm = true;
      i += 2;
    } else if (rest.substr(0, 2) == "TM" || rest.substr(0, 2) == "tm") {
      i += 2;
    }
    rest = fmt.substr(i);
    const Keyword* kw = rest.empty() ? nullptr : find_keyword(rest);
    if (kw != nullptr) {
      i += std::string_view(kw->name).size();
      n.type = DchNode::Type::kAction;
      n.kw = kw;
      rest = fmt.substr(i);
      if (rest.substr(0, 2) == "TH") n.th = 1, i += 2;
      else if (rest.substr(0, 2) == "th") n.th = 2, i += 2;
      else if (rest.substr(0, 2) == "SP" || rest.substr(0, 2) == "sp") i += 2;
      nodes.push_back(n);
      continue;
    }
    if (rest.empty()) break;
    if (rest[0] == '"') {
      ++i;
      while (i < fmt.size()) {
        if (fmt[i] == '"') {
          ++i;
          break;
        }
        if (fmt[i] == '\\' && i + 1 < fmt.size()) ++i;
        nodes.push_back(DchNode{DchNode::Type::kChar, nullptr, false, 0, fmt[i++]});
      }
      continue;
    }
    if (rest[0] == '\\' && rest.size() > 1 && rest[1] == '"') ++i;
    char c = fmt[i++];
    DchNode::Type t = is_separator_char(c) ? DchNode::Type::kSeparator
                      : std::isspace(static_cast<unsigned char>(c)) ? DchNode::Type::kSpace
                                                                    : DchNode::Type::kChar;
    nodes.push_back(DchNode{t, nullptr, false, 0, c});
  }
  return nodes;
}

bool key_is_digit(Key k) {
  switch (k) {
    case Key::kAD_dots: case Key::kAM_dots: case Key::kAD: case Key::kAM: case Key::kBC_dots: case Key::kBC:
    case Key::kDAY: case Key::kDY: case Key::kDay: case Key::kDy: case Key::kFX: case Key::kMONTH: case Key::kMON:
    case Key::kMonth: case Key::kMon: case Key::kOF: case Key::kPM_dots: case Key::kPM: case Key::kRM: case Key::kTZ:
    case Key::kad_dots: case Key::kam_dots: case Key::kad: case Key::kam: case Key::kbc_dots: case Key::kbc:
    case Key::kday: case Key::kdy: case Key::kmonth: case Key::kmon: case Key::kpm_dots: case Key::kpm: case Key::krm:
    case Key::ktz:
      return false;
    default: return true;
  }
}

DateMode key_mode(Key k) {
  switch (k) {
    case Key::kIDDD: case Key::kID: case Key::kIW: case Key::kIYYY: case Key::kIYY: case Key::kIY: case Key::kI:
      return DateMode::kIsoWeek;
    case Key::kD: case Key::kDDD: case Key::kDD: case Key::kMM: case Key::kMONTH: case Key::kMON: case Key::kMonth:
    case Key::kMon: case Key::kmonth: case Key::kmon: case Key::kRM: case Key::krm: case Key::kWW: case Key::kW:
    case Key::kY_YYY: case Key::kYYYY: case Key::kYYY: case Key::kYY: case Key::kY:
      return DateMode::kGregorian;
    default: return DateMode::kNone;
  }
}

struct TmFromChar {
  DateMode mode = DateMode::kNone;
  int hh = 0, pm = 0, mi = 0, ss = 0, ssss = 0, d = 0, dd = 0, ddd = 0, mm = 0, ms = 0, year = 0, bc = 0, ww = 0,
      w = 0, cc = 0, j = 0, us = 0, yysz = 0, clock12 = 0, tzsign = 0, tzh = 0, tzm = 0, ff = 0;
};

[[noreturn]] void from_char_error(const char* code, std::string msg, std::string detail = {}, std::string hint = {}) {
  SqlError e(code, std::move(msg));
  if (!detail.empty()) e.with_detail(std::move(detail));
  if (!hint.empty()) e.with_hint(std::move(hint));
  throw e;
}

void set_int(int& dest, int value, const DchNode& n) {
  if (dest != 0 && dest != value)
    from_char_error(sqlstate::kInvalidDatetimeFormat,
                    std::string("conflicting values for \"") + n.kw->name + "\" field in formatting string",
                    "This value contradicts a previous setting for the same field type.");
  dest = value;
}

bool is_next_separator(const std::vector<DchNode>& nodes, size_t k) {
  if (nodes[k].type == DchNode::Type::kAction && nodes[k].th != 0) return true;
  if (k + 1 >= nodes.size()) return true;
  const DchNode& n = nodes[k + 1];
  if (n.type == DchNode::Type::kAction) return !key_is_digit(n.kw->key);
  return !std::isdigit(static_cast<unsigned char>(n.ch));
}

// from_char_parse_int_len: returns the number of characters consumed.
int parse_int_len(int* dest, std::string_view in, size_t& pos, size_t len, const std::vector<DchNode>& nodes, size_t k) {
  const DchNode& n = nodes[k];
  size_t init = pos;
  while (pos < in.size() && std::isspace(static_cast<unsigned char>(in[pos]))) ++pos;
  std::string copy(in.substr(pos, len));
  long result = 0;
  errno = 0;
  if (n.fm || is_next_separator(nodes, k)) {
    // strtol from the field's start (it skips the blanks again); the copy is bounded so that a
    // long input costs linear time (no int has 256 significant characters).
    std::string tail(in.substr(pos, 256));
    char* end = nullptr;
    result = std::strtol(tail.c_str(), &end, 10);
    pos += static_cast<size_t>(end - tail.c_str());
  } else {
    if (copy.size() < len)
      from_char_error(sqlstate::kInvalidDatetimeFormat,
                      std::string("source string too short for \"") + n.kw->name + "\" formatting field",
                      "Field requires " + std::to_string(len) + " characters, but only " + std::to_string(copy.size()) +
                          " remain.",
                      "If your source string is not fixed-width, try using the \"FM\" modifier.");
    char* last = nullptr;
    result = std::strtol(copy.c_str(), &last, 10);
    size_t used = static_cast<size_t>(last - copy.c_str());
    if (used > 0 && used < len)
      from_char_error(sqlstate::kInvalidDatetimeFormat,
                      "invalid value \"" + copy + "\" for \"" + n.kw->name + "\"",
                      "Field requires " + std::to_string(len) + " characters, but only " + std::to_string(used) +
                          " could be parsed.",
                      "If your source string is not fixed-width, try using the \"FM\" modifier.");
    pos += used;
  }
  if (pos == init)
    from_char_error(sqlstate::kInvalidDatetimeFormat, "invalid value \"" + copy + "\" for \"" + n.kw->name + "\"",
                    "Value must be an integer.");
  if (errno == ERANGE || result < INT32_MIN || result > INT32_MAX)
    from_char_error(sqlstate::kDatetimeFieldOverflow,
                    std::string("value for \"") + n.kw->name + "\" in source string is out of range",
                    "Value must be in the range -2147483648 to 2147483647.");
  if (dest != nullptr) set_int(*dest, static_cast<int>(result), n);
  return static_cast<int>(pos - init);
}

// from_char_seq_search: the longest... PostgreSQL takes the first word of the list that the
// input starts with, ignoring case.
int seq_search(std::string_view in, size_t& pos, std::initializer_list<const char*> words, const DchNode& n) {
  int idx = 0;
  for (const char* w : words) {
    size_t len = std::strlen(w);
    if (in.size() - pos >= len) {
      bool eq = true;
      for (size_t c = 0; c < len && eq; ++c)
        eq = std::tolower(static_cast<unsigned char>(in[pos + c])) == std::tolower(static_cast<unsigned char>(w[c]));
      if (eq) {
        pos += len;
        return idx;
      }
    }
    ++idx;
  }
  // The error shows the input up to the next whitespace.
  std::string copy(in.substr(pos, 256));
  if (size_t sp = copy.find_first_of(" \t\n\r\f\v"); sp != std::string::npos) copy.resize(sp);
  from_char_error(sqlstate::kInvalidDatetimeFormat, "invalid value \"" + copy + "\" for \"" + n.kw->name + "\"",
                  "The given value did not match any of the allowed values for this field.");
}

void skip_th(std::string_view in, size_t& pos, int th) {
  if (th == 0) return;
  if (pos < in.size()) ++pos;
  if (pos < in.size()) ++pos;
}

TmFromChar dch_from_char(std::string_view in, std::string_view fmt) {
  std::vector<DchNode> nodes = parse_dch_format(fmt);
  TmFromChar out;
  size_t pos = 0;
  bool fx = false;
  int extra_skip = 0;
  for (size_t k = 0; k < nodes.size() && pos < in.size(); ++k) {
    const DchNode& n = nodes[k];
    if (!fx && !(n.type == DchNode::Type::kAction && n.kw->key == Key::kFX) &&
        (n.type == DchNode::Type::kAction || k == 0)) {
      while (pos < in.size() && std::isspace(static_cast<unsigned char>(in[pos]))) ++pos, ++extra_skip;
    }
    if (n.type == DchNode::Type::kSpace || n.type == DchNode::Type::kSeparator) {
      if (!fx) {
        --extra_skip;
        if (pos < in.size() && (std::isspace(static_cast<unsigned char>(in[pos])) || is_separator_char(in[pos]))) {
          ++pos;
          ++extra_skip;
        }
      } else {
        ++pos;
      }
      continue;
    }
    if (n.type != DchNode::Type::kAction) {
      if (!fx) {
        if (extra_skip > 0) --extra_skip;
        else ++pos;
      } else {
        ++pos;
      }
      continue;
    }
    DateMode mode = key_mode(n.kw->key);
    if (mode != DateMode::kNone) {
      if (out.mode == DateMode::kNone) out.mode = mode;
      else if (out.mode != mode)
        from_char_error(sqlstate::kInvalidDatetimeFormat, "invalid combination of date conventions", {},
                        "Do not mix Gregorian and ISO week date conventions in a formatting template.");
    }
    int value = 0, len = 0;
    switch (n.kw->key) {
      case Key::kFX: fx = true; break;
      case Key::kAM_dots: case Key::kPM_dots: case Key::kam_dots: case Key::kpm_dots:
        value = seq_search(in, pos, {"a.m.", "p.m.", "A.M.", "P.M."}, n);
        set_int(out.pm, value % 2, n);
        out.clock12 = 1;
        break;
      case Key::kAM: case Key::kPM: case Key::kam: case Key::kpm:
        value = seq_search(in, pos, {"am", "pm", "AM", "PM"}, n);
        set_int(out.pm, value % 2, n);
        out.clock12 = 1;
        break;
      case Key::kHH: case Key::kHH12:
        parse_int_len(&out.hh, in, pos, 2, nodes, k);
        out.clock12 = 1;
        skip_th(in, pos, n.th);
        break;
      case Key::kHH24: parse_int_len(&out.hh, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kMI: parse_int_len(&out.mi, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kSS: parse_int_len(&out.ss, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kMS:
        len = parse_int_len(&out.ms, in, pos, 3, nodes, k);
        out.ms *= len == 1 ? 100 : len == 2 ? 10 : 1;
        skip_th(in, pos, n.th);
        break;
      case Key::kFF1: case Key::kFF2: case Key::kFF3: case Key::kFF4: case Key::kFF5: case Key::kFF6:
      case Key::kUS: {
        size_t width = 6;
        if (n.kw->key != Key::kUS) {
          out.ff = static_cast<int>(n.kw->key) - static_cast<int>(Key::kFF1) + 1;
          width = static_cast<size_t>(out.ff);
        }
        len = parse_int_len(&out.us, in, pos, width, nodes, k);
        out.us *= len == 1 ? 100000 : len == 2 ? 10000 : len == 3 ? 1000 : len == 4 ? 100 : len == 5 ? 10 : 1;
        skip_th(in, pos, n.th);
        break;
      }
      case Key::kSSSS: case Key::kSSSSS:
        parse_int_len(&out.ssss, in, pos, std::string_view(n.kw->name).size(), nodes, k);
        skip_th(in, pos, n.th);
        break;
      case Key::ktz: case Key::kTZ: case Key::kOF:
        from_char_error(sqlstate::kFeatureNotSupported,
                        std::string("formatting field \"") + n.kw->name + "\" is only supported in to_char");
      case Key::kTZH:
        if (pos < in.size() && (in[pos] == '+' || in[pos] == '-' || in[pos] == ' ')) {
          out.tzsign = in[pos] == '-' ? -1 : 1;
          ++pos;
        } else {
          out.tzsign = extra_skip > 0 && pos > 0 && in[pos - 1] == '-' ? -1 : 1;
        }
        parse_int_len(&out.tzh, in, pos, 2, nodes, k);
        break;
      case Key::kTZM:
        if (out.tzsign == 0) out.tzsign = 1;
        parse_int_len(&out.tzm, in, pos, 2, nodes, k);
        break;
      case Key::kAD_dots: case Key::kBC_dots: case Key::kad_dots: case Key::kbc_dots:
        value = seq_search(in, pos, {"a.d.", "b.c.", "A.D.", "B.C."}, n);
        set_int(out.bc, value % 2, n);
        break;
      case Key::kAD: case Key::kBC: case Key::kad: case Key::kbc:
        value = seq_search(in, pos, {"ad", "bc", "AD", "BC"}, n);
        set_int(out.bc, value % 2, n);
        break;
      case Key::kMONTH: case Key::kMonth: case Key::kmonth:
        value = seq_search(in, pos, {"January", "February", "March", "April", "May", "June", "July", "August",
                                     "September", "October", "November", "December"}, n);
        set_int(out.mm, value + 1, n);
        break;
      case Key::kMON: case Key::kMon: case Key::kmon:
        value = seq_search(in, pos, {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}, n);
        set_int(out.mm, value + 1, n);
        break;
      case Key::kMM: parse_int_len(&out.mm, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kDAY: case Key::kDay: case Key::kday:
        value = seq_search(in, pos, {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}, n);
        set_int(out.d, value, n);
        out.d++;
        break;
      case Key::kDY: case Key::kDy: case Key::kdy:
        value = seq_search(in, pos, {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"}, n);
        set_int(out.d, value, n);
        out.d++;
        break;
      case Key::kDDD: parse_int_len(&out.ddd, in, pos, 3, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kIDDD: parse_int_len(&out.ddd, in, pos, 3, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kDD: parse_int_len(&out.dd, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kD: parse_int_len(&out.d, in, pos, 1, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kID:
        parse_int_len(&out.d, in, pos, 1, nodes, k);
        if (++out.d > 7) out.d = 1;
        skip_th(in, pos, n.th);
        break;
      case Key::kWW: case Key::kIW: parse_int_len(&out.ww, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kQ: parse_int_len(nullptr, in, pos, 1, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kCC: parse_int_len(&out.cc, in, pos, 2, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kY_YYY: {
        int millennia = 0, years = 0, nch = 0;
        std::string rest(in.substr(pos, 256));
        if (std::sscanf(rest.c_str(), "%d,%03d%n", &millennia, &years, &nch) < 2)
          from_char_error(sqlstate::kInvalidDatetimeFormat, "invalid input string for \"Y,YYY\"");
        years += millennia * 1000;
        set_int(out.year, years, n);
        out.yysz = 4;
        pos += static_cast<size_t>(nch);
        skip_th(in, pos, n.th);
        break;
      }
      case Key::kYYYY: case Key::kIYYY:
        parse_int_len(&out.year, in, pos, 4, nodes, k);
        out.yysz = 4;
        skip_th(in, pos, n.th);
        break;
      case Key::kYYY: case Key::kIYY: case Key::kYY: case Key::kIY: case Key::kY: case Key::kI: {
        size_t w = n.kw->key == Key::kYYY || n.kw->key == Key::kIYY ? 3 : n.kw->key == Key::kYY || n.kw->key == Key::kIY ? 2 : 1;
        len = parse_int_len(&out.year, in, pos, w, nodes, k);
        if (len < 4) {
          // adjust_partial_year_to_2020: '69' is 2069, '70' 1970, '519' 2519, '520' 1520.
          int y = out.year;
          out.year = y < 70 ? y + 2000 : y < 100 ? y + 1900 : y < 520 ? y + 2000 : y < 1000 ? y + 1000 : y;
        }
        out.yysz = static_cast<int>(w);
        skip_th(in, pos, n.th);
        break;
      }
      case Key::kRM: case Key::krm:
        value = seq_search(in, pos, {"XII", "XI", "X", "IX", "VIII", "VII", "VI", "V", "IV", "III", "II", "I"}, n);
        set_int(out.mm, 12 - value, n);
        break;
      case Key::kW: parse_int_len(&out.w, in, pos, 1, nodes, k); skip_th(in, pos, n.th); break;
      case Key::kJ: parse_int_len(&out.j, in, pos, 1, nodes, k); skip_th(in, pos, n.th); break;
    }
    if (!fx) {
      extra_skip = 0;
      while (pos < in.size() && std::isspace(static_cast<unsigned char>(in[pos]))) ++pos, ++extra_skip;
    }
  }
  return out;
}

void j2date(int jd, int& year, int& month, int& day) {
  unsigned int julian = static_cast<unsigned int>(jd);
  julian += 32044;
  unsigned int quad = julian / 146097;
  unsigned int extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + extra / 146097;
  quad = julian / 1461;
  julian -= quad * 1461;
  int y = static_cast<int>(julian * 4 / 1461);
  julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
  y += static_cast<int>(quad * 4);
  year = y - 4800;
  quad = julian * 2141 / 65536;
  day = static_cast<int>(julian - 7834 * quad / 256);
  month = static_cast<int>((quad + 10) % 12 + 1);
}

bool pg_isleap(int y) { return (y % 4) == 0 && ((y % 100) != 0 || (y % 400) == 0); }

// A parsed wall time (do_to_timestamp's result).
struct FromCharResult {
  int year = 0, mon = 1, mday = 1, hour = 0, min = 0, sec = 0;
  int64_t fsec = 0;
  bool has_tz = false;
  int tz_secs = 0;  // east of UTC
  int fprec = 0;
};

[[noreturn]] void field_out_of_range(std::string_view text) {
  from_char_error(sqlstate::kDatetimeFieldOverflow, "date/time field value out of range: \"" + std::string(text) + "\"");
}

FromCharResult do_to_timestamp(std::string_view text, std::string_view fmt) {
  TmFromChar f = dch_from_char(text, fmt);
  FromCharResult tm;
  constexpr unsigned kYear = 1, kMonth = 2, kDay = 4, kDate = 7;
  unsigned fmask = 0;
  if (f.ssss) {
    int x = f.ssss;
    tm.hour = x / 3600;
    x %= 3600;
    tm.min = x / 60;
    tm.sec = x % 60;
  }
  if (f.ss) tm.sec = f.ss;
  if (f.mi) tm.min = f.mi;
  if (f.hh) tm.hour = f.hh;
  if (f.clock12) {
    if (tm.hour < 1 || tm.hour > 12)
      from_char_error(sqlstate::kInvalidDatetimeFormat, "hour \"" + std::to_string(tm.hour) + "\" is invalid for the 12-hour clock",
                      {}, "Use the 24-hour clock, or give an hour between 1 and 12.");
    if (f.pm && tm.hour < 12) tm.hour += 12;
    else if (!f.pm && tm.hour == 12) tm.hour = 0;
  }
  if (f.year) {
    if (f.cc && f.yysz <= 2) {
      if (f.bc) f.cc = -f.cc;
      tm.year = f.year % 100;
      if (tm.year) {
        if (f.cc >= 0) tm.year += (f.cc - 1) * 100;
        else tm.year = (f.cc + 1) * 100 - tm.year + 1;
      } else {
        tm.year = f.cc * 100 + ((f.cc >= 0) ? 0 : 1);
      }
    } else {
      tm.year = f.year;
      if (f.bc) tm.year = -tm.year;
      if (tm.year < 0) tm.year++;
    }
    fmask |= kYear;
  } else if (f.cc) {
    if (f.bc) f.cc = -f.cc;
    tm.year = f.cc >= 0 ? (f.cc - 1) * 100 + 1 : f.cc * 100 + 1;
    fmask |= kYear;
  }
  if (f.j) {
    j2date(f.j, tm.year, tm.mon, tm.mday);
    fmask |= kDate;
  }
  if (f.ww) {
    if (f.mode == DateMode::kIsoWeek) {
      int jday = isoweek2j(tm.year, f.ww);
      if (f.d) jday += f.d > 1 ? f.d - 2 : 6;
      j2date(jday, tm.year, tm.mon, tm.mday);
      fmask |= kDate;
    } else {
      f.ddd = (f.ww - 1) * 7 + 1;
    }
  }
  if (f.w) f.dd = (f.w - 1) * 7 + 1;
  if (f.dd) {
    tm.mday = f.dd;
    fmask |= kDay;
  }
  if (f.mm) {
    tm.mon = f.mm;
    fmask |= kMonth;
  }
  if (f.ddd && (tm.mon <= 1 || tm.mday <= 1)) {
    if (!tm.year && !f.bc)
      from_char_error(sqlstate::kInvalidDatetimeFormat, "cannot calculate day of year without year information");
    if (f.mode == DateMode::kIsoWeek) {
      int j0 = isoweek2j(tm.year, 1) - 1;
      j2date(j0 + f.ddd, tm.year, tm.mon, tm.mday);
      fmask |= kDate;
    } else {
      static constexpr int kYsum[2][13] = {{0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365},
                                           {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335, 366}};
      const int* y = kYsum[pg_isleap(tm.year) ? 1 : 0];
      int i = 1;
      for (; i <= 12; i++)
        if (f.ddd <= y[i]) break;
      if (tm.mon <= 1) tm.mon = i;
      if (tm.mday <= 1) tm.mday = f.ddd - y[i - 1];
      fmask |= kMonth | kDay;
    }
  }
  if (f.ms) tm.fsec += static_cast<int64_t>(f.ms) * 1000;
  if (f.us) tm.fsec += f.us;
  tm.fprec = f.ff;
  if (fmask != 0) {
    if ((fmask & kMonth) && (tm.mon < 1 || tm.mon > 12)) field_out_of_range(text);
    if ((fmask & kDay) && (tm.mday < 1 || tm.mday > 31)) field_out_of_range(text);
    if ((fmask & kDate) == kDate) {
      static constexpr int kDayTab[2][12] = {{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31},
                                             {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}};
      if (tm.mon >= 1 && tm.mon <= 12 && tm.mday > kDayTab[pg_isleap(tm.year) ? 1 : 0][tm.mon - 1])
        field_out_of_range(text);
    }
  }
  if (tm.hour < 0 || tm.hour >= 24 || tm.min < 0 || tm.min >= 60 || tm.sec < 0 || tm.sec >= 60 || tm.fsec < 0 ||
      tm.fsec >= kMicrosPerSecond)
    field_out_of_range(text);
  if (f.tzsign) {
    if (f.tzh < 0 || f.tzh > 15 || f.tzm < 0 || f.tzm >= 60)
      from_char_error("22009",  // invalid_time_zone_displacement_value
                     
                      "time zone displacement out of range: \"" + std::string(text) + "\"");
    tm.has_tz = true;
    tm.tz_secs = f.tzsign * (f.tzh * 3600 + f.tzm * 60);
  }
  return tm;
}

bool valid_julian(int y, int m) { return (y > -4713 || (y == -4713 && m >= 11)) && (y < 5874898 || (y == 5874898 && m < 6)); }

Datum c_to_timestamp_text(Args a, EvalContext&) {
  std::string_view text = a[0].as_string();
  FromCharResult tm = do_to_timestamp(text, a[1].as_string());
  if (!valid_julian(tm.year, tm.mon)) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  __int128 days = static_cast<__int128>(date2j(tm.year, tm.mon, tm.mday)) - 2451545;
  __int128 t = days * kMicrosPerDay + ((static_cast<__int128>(tm.hour) * 60 + tm.min) * 60 + tm.sec) * kMicrosPerSecond +
               tm.fsec;
  // The session time zone is UTC; a TZH/TZM in the input says otherwise.
  if (tm.has_tz) t -= static_cast<__int128>(tm.tz_secs) * kMicrosPerSecond;
  constexpr int64_t kMinTs = -211813488000000000LL, kMaxTs = 9223371331200000000LL;
  if (t < kMinTs || t >= kMaxTs) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  auto us = static_cast<int64_t>(t);
  if (tm.fprec > 0 && tm.fprec < 6) {
    static constexpr int64_t kScale[] = {1'000'000, 100'000, 10'000, 1'000, 100, 10};
    int64_t unit = kScale[tm.fprec];
    us = us >= 0 ? (us + unit / 2) / unit * unit : -((-us + unit / 2) / unit * unit);
  }
  return Datum::from_timestamp(us);
}

Datum c_to_date_text(Args a, EvalContext&) {
  std::string_view text = a[0].as_string();
  FromCharResult tm = do_to_timestamp(text, a[1].as_string());
  if (!valid_julian(tm.year, tm.mon))
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "date out of range: \"" + std::string(text) + "\"");
  int64_t d = static_cast<int64_t>(date2j(tm.year, tm.mon, tm.mday)) - 2451545;
  if (d < -2451545 || d >= 2147483494LL - 2451545)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "date out of range: \"" + std::string(text) + "\"");
  return Datum::from_date(static_cast<int32_t>(d));
}

// ---------------------------------------------------------------------------------------------
// Number templates: PostgreSQL's NUMDesc_prepare + NUM_processor (to_char direction), C locale.

enum class NKey : uint8_t { kComma, kDec, k0, k9, kB, kC, kD, kE, kFM, kG, kL, kMI, kPL, kPR, kRN, krn, kSG, kSP, kS, kTH, kth, kV };
struct NumKeyword {
  const char* name;
  NKey key;
};
constexpr NumKeyword kNumKeywords[] = {
    {",", NKey::kComma}, {".", NKey::kDec}, {"0", NKey::k0}, {"9", NKey::k9}, {"B", NKey::kB}, {"C", NKey::kC},
    {"D", NKey::kD}, {"EEEE", NKey::kE}, {"FM", NKey::kFM}, {"G", NKey::kG}, {"L", NKey::kL}, {"MI", NKey::kMI},
    {"PL", NKey::kPL}, {"PR", NKey::kPR}, {"RN", NKey::kRN}, {"SG", NKey::kSG}, {"SP", NKey::kSP}, {"S", NKey::kS},
    {"TH", NKey::kTH}, {"V", NKey::kV}, {"b", NKey::kB}, {"c", NKey::kC}, {"d", NKey::kD}, {"eeee", NKey::kE},
    {"fm", NKey::kFM}, {"g", NKey::kG}, {"l", NKey::kL}, {"mi", NKey::kMI}, {"pl", NKey::kPL}, {"pr", NKey::kPR},
    {"rn", NKey::krn}, {"sg", NKey::kSG}, {"sp", NKey::kSP}, {"s", NKey::kS}, {"th", NKey::kth}, {"v", NKey::kV},
};

struct NumNode {
  bool is_key = false;
  NKey key = NKey::kComma;
  std::string text;  // a literal
};

struct NumDesc {
  int pre = 0, post = 0, multi = 0, zero_start = 0, zero_end = 0, pre_lsign_num = 0;
  enum class LSign : uint8_t { kNone, kPre, kPost } lsign = LSign::kNone;
  bool decimal = false, ldecimal = false, zero = false, blank = false, fillmode = false, lsign_flag = false,
       bracket = false, minus = false, plus = false, roman = false, multi_flag = false, eeee = false;
};

[[noreturn]] void num_syntax(const std::string& msg) { throw SqlError(sqlstate::kSyntaxError, msg); }

std::vector<NumNode> parse_num_format(std::string_view fmt, NumDesc& d) {
  std::vector<NumNode> nodes;
  size_t i = 0;
  while (i < fmt.size()) {
    const NumKeyword* kw = nullptr;
    for (const NumKeyword& k : kNumKeywords) {
      std::string_view n(k.name);
      if (fmt.substr(i, n.size()) == n) {
        kw = &k;
        break;
      }
    }
    if (kw == nullptr) {
      if (fmt[i] == '"') {
        ++i;
        while (i < fmt.size()) {
          if (fmt[i] == '"') {
            ++i;
            break;
          }
          if (fmt[i] == '\\' && i + 1 < fmt.size()) ++i;
          nodes.push_back(NumNode{false, NKey::kComma, std::string(1, fmt[i++])});
        }
      } else {
        if (fmt[i] == '\\' && i + 1 < fmt.size() && fmt[i + 1] == '"') ++i;
        nodes.push_back(NumNode{false, NKey::kComma, std::string(1, fmt[i++])});
      }
      continue;
    }
    i += std::string_view(kw->name).size();
    nodes.push_back(NumNode{true, kw->key, {}});
    // NUMDesc_prepare.
    if (d.eeee && kw->key != NKey::kE) num_syntax("\"EEEE\" must be the last pattern used");
    switch (kw->key) {
      case NKey::k9:
        if (d.bracket) num_syntax("\"9\" must be ahead of \"PR\"");
        if (d.multi_flag) {
          ++d.multi;
          break;
        }
        if (d.decimal) ++d.post;
        else ++d.pre;
        break;
      case NKey::k0:
        if (d.bracket) num_syntax("\"0\" must be ahead of \"PR\"");
        if (!d.zero && !d.decimal) {
          d.zero = true;
          d.zero_start = d.pre + 1;
        }
        if (!d.decimal) ++d.pre;
        else ++d.post;
        d.zero_end = d.pre + d.post;
        break;
      case NKey::kB:
        if (d.pre == 0 && d.post == 0 && !d.zero) d.blank = true;
        break;
      case NKey::kD:
        d.ldecimal = true;
        [[fallthrough]];
      case NKey::kDec:
        if (d.decimal) num_syntax("multiple decimal points");
        if (d.multi_flag) num_syntax("cannot use \"V\" and decimal point together");
        d.decimal = true;
        break;
      case NKey::kFM: d.fillmode = true; break;
      case NKey::kS:
        if (d.lsign_flag) num_syntax("cannot use \"S\" twice");
        if (d.plus || d.minus || d.bracket) num_syntax("cannot use \"S\" and \"PL\"/\"MI\"/\"SG\"/\"PR\" together");
        if (!d.decimal) {
          d.lsign = NumDesc::LSign::kPre;
          d.pre_lsign_num = d.pre;
          d.lsign_flag = true;
        } else if (d.lsign == NumDesc::LSign::kNone) {
          d.lsign = NumDesc::LSign::kPost;
          d.lsign_flag = true;
        }
        break;
      case NKey::kMI:
        if (d.lsign_flag) num_syntax("cannot use \"S\" and \"MI\" together");
        d.minus = true;
        break;
      case NKey::kPL:
        if (d.lsign_flag) num_syntax("cannot use \"S\" and \"PL\" together");
        d.plus = true;
        break;
      case NKey::kSG:
        if (d.lsign_flag) num_syntax("cannot use \"S\" and \"SG\" together");
        d.minus = d.plus = true;
        break;
      case NKey::kPR:
        if (d.lsign_flag || d.plus || d.minus) num_syntax("cannot use \"PR\" and \"S\"/\"PL\"/\"MI\"/\"SG\" together");
        d.bracket = true;
        break;
      case NKey::kRN: case NKey::krn: d.roman = true; break;
      case NKey::kV:
        if (d.decimal) num_syntax("cannot use \"V\" and decimal point together");
        d.multi_flag = true;
        break;
      case NKey::kE:
        if (d.eeee) num_syntax("cannot use \"EEEE\" twice");
        if (d.blank || d.fillmode || d.lsign_flag || d.bracket || d.minus || d.plus || d.roman || d.multi_flag)
          throw SqlError(sqlstate::kSyntaxError, "\"EEEE\" is incompatible with other formats")
              .with_detail("\"EEEE\" may only be used together with digit and decimal point patterns.");
        d.eeee = true;
        break;
      default: break;
    }
  }
  return nodes;
}

std::string int_to_roman(int64_t number) {
  if (number > 3999 || number < 1) return std::string(15, '#');
  static constexpr const char* kThousands[] = {"", "M", "MM", "MMM"};
  static constexpr const char* kHundreds[] = {"", "C", "CC", "CCC", "CD", "D", "DC", "DCC", "DCCC", "CM"};
  static constexpr const char* kTens[] = {"", "X", "XX", "XXX", "XL", "L", "LX", "LXX", "LXXX", "XC"};
  static constexpr const char* kOnes[] = {"", "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX"};
  return std::string(kThousands[number / 1000]) + kHundreds[number / 100 % 10] + kTens[number / 10 % 10] + kOnes[number % 10];
}

// NUM_processor for to_char: `number` is the digits (with '.') without sign, `sign` '+' or '-'.
std::string num_processor(const std::vector<NumNode>& nodes, NumDesc d, const std::string& number,
                          int out_pre_spaces, char sign) {
  std::string out;
  if (d.zero_start) --d.zero_start;
  if (d.eeee) return number;  // the template's other characters are not printed (PostgreSQL)
  if (d.roman) {
    d.lsign = NumDesc::LSign::kNone;
    d.pre_lsign_num = d.post = d.pre = 0;
    out_pre_spaces = 0;
    sign = 0;
  }
  bool sign_wrote = false;
  if (d.plus || d.minus) {
    sign_wrote = !(d.plus && !d.minus) ? true : false;
  } else {
    if (sign != '-' && d.fillmode) d.bracket = false;
    sign_wrote = sign == '+' && d.fillmode && !d.lsign_flag;
    if (d.lsign == NumDesc::LSign::kPre && d.pre == d.pre_lsign_num) d.lsign = NumDesc::LSign::kPost;
  }
  int num_count = d.post + d.pre - 1;
  const char* last_relevant = nullptr;
  const char* const num_begin = number.c_str();
  if (d.fillmode && d.decimal) {
    const char* p = std::strchr(num_begin, '.');
    if (p != nullptr) {
      last_relevant = p;
      while (*(++p))
        if (*p != '0') last_relevant = p;
    }
    if (last_relevant != nullptr && d.zero_end > out_pre_spaces) {
      int last_zero_pos = static_cast<int>(number.size()) - 1;
      last_zero_pos = std::min(last_zero_pos, d.zero_end - out_pre_spaces);
      const char* last_zero = num_begin + last_zero_pos;
      if (last_relevant < last_zero) last_relevant = last_zero;
    }
  }
  if (!sign_wrote && out_pre_spaces == 0) ++num_count;
  bool num_in = false;
  int num_curr = 0;
  const char* number_p = num_begin;
  const std::string decimal_str = ".";

  auto predec_space = [&]() { return !d.zero && number_p == num_begin && *num_begin == '0' && d.post != 0; };
  auto numpart = [&](NKey id) {
    if (d.roman) return;
    if (!sign_wrote && (num_curr >= out_pre_spaces || (d.zero && d.zero_start == num_curr)) &&
        (!predec_space() || (last_relevant != nullptr && *last_relevant == '.'))) {
      if (d.lsign_flag) {
        if (d.lsign == NumDesc::LSign::kPre) {
          out += sign == '-' ? '-' : '+';
          sign_wrote = true;
        }
      } else if (d.bracket) {
        out += sign == '+' ? ' ' : '<';
        sign_wrote = true;
      } else if (sign == '+') {
        if (!d.fillmode) out += ' ';
        sign_wrote = true;
      } else if (sign == '-') {
        out += '-';
        sign_wrote = true;
      }
    }
    if (id == NKey::k9 || id == NKey::k0 || id == NKey::kD || id == NKey::kDec) {
      if (num_curr < out_pre_spaces && (d.zero_start > num_curr || !d.zero)) {
        if (!d.fillmode) out += ' ';
      } else if (d.zero && num_curr < out_pre_spaces && d.zero_start <= num_curr) {
        out += '0';
        num_in = true;
      } else {
        if (*number_p == '.') {
          if (last_relevant == nullptr || *last_relevant != '.') out += decimal_str;
          else if (d.fillmode && last_relevant != nullptr && *last_relevant == '.') out += decimal_str;
        } else {
          if (last_relevant != nullptr && number_p > last_relevant && id != NKey::k0) {
          } else if (predec_space()) {
            if (!d.fillmode) out += ' ';
            else if (last_relevant != nullptr && *last_relevant == '.') out += '0';
          } else {
            out += *number_p;
            num_in = true;
          }
        }
        if (*number_p) ++number_p;
      }
      int end = num_count + (out_pre_spaces ? 1 : 0) + (d.decimal ? 1 : 0);
      if (last_relevant != nullptr && last_relevant == number_p) end = num_curr;
      if (num_curr + 1 == end) {
        if (sign_wrote && d.bracket) out += sign == '+' ? ' ' : '>';
        else if (d.lsign_flag && d.lsign == NumDesc::LSign::kPost) out += sign == '-' ? '-' : '+';
      }
    }
    ++num_curr;
  };

  for (const NumNode& n : nodes) {
    if (!n.is_key) {
      out += n.text;
      continue;
    }
    switch (n.key) {
      case NKey::k9: case NKey::k0: case NKey::kDec: case NKey::kD: numpart(n.key); break;
      case NKey::kComma:
        if (!num_in) {
          if (!d.fillmode) out += ' ';
        } else {
          out += ',';
        }
        break;
      case NKey::kG:
        if (!num_in) {
          if (!d.fillmode) out += ' ';
        } else {
          out += ',';
        }
        break;
      case NKey::kL: out += ' '; break;
      case NKey::kRN: case NKey::krn: {
        std::string r = number_p;
        if (n.key == NKey::krn) r = lower(r);
        if (d.fillmode) out += r;
        else out += std::string(r.size() < 15 ? 15 - r.size() : 0, ' ') + r;
        break;
      }
      case NKey::kth: case NKey::kTH: {
        if (d.roman || *num_begin == '#' || sign == '-' || d.decimal) break;
        std::string tmp = number;
        append_th(tmp, 0, n.key == NKey::kTH);
        out += tmp.substr(number.size());
        break;
      }
      case NKey::kMI:
        if (sign == '-') out += '-';
        else if (!d.fillmode) out += ' ';
        break;
      case NKey::kPL:
        if (sign == '+') out += '+';
        else if (!d.fillmode) out += ' ';
        break;
      case NKey::kSG: out += sign; break;
      default: break;
    }
  }
  // A template with more digit positions than the number has (a float cut to its precision)
  // writes the number's terminating NUL; PostgreSQL's result ends there (NUM_TOCHAR_finish).
  if (size_t nul = out.find('\0'); nul != std::string::npos) out.resize(nul);
  return out;
}

// The shared tail of numeric/int/float to_char: pad or overflow the digits to the template.
std::string num_finish(const std::vector<NumNode>& nodes, NumDesc& d, std::string numstr, char sign) {
  int out_pre_spaces = 0;
  if (!d.roman) {
    size_t dot = numstr.find('.');
    int pre_len = static_cast<int>(dot == std::string::npos ? numstr.size() : dot);
    if (pre_len < d.pre) {
      out_pre_spaces = d.pre - pre_len;
    } else if (pre_len > d.pre) {
      numstr = std::string(static_cast<size_t>(d.pre + d.post + 1), '#');
      numstr[static_cast<size_t>(d.pre)] = '.';
    }
  }
  return num_processor(nodes, d, numstr, out_pre_spaces, sign);
}

// EEEE's text for a value that has none (NaN, infinity): '#'s with the point after `pre`.
std::string eeee_hashes(const NumDesc& d) {
  std::string s(static_cast<size_t>(d.pre + d.post + 6), '#');
  s[0] = ' ';
  s[static_cast<size_t>(d.pre + 1)] = '.';
  return s;
}
// C's "%+.*e" with the leading '+' made a space (float and integer EEEE).
std::string sci_double(double v, int post) {
  char buf[512];
  std::snprintf(buf, sizeof buf, "%+.*e", post, v);
  if (buf[0] == '+') buf[0] = ' ';
  return buf;
}
// numeric_out_sci: one digit before the point (before rounding: 9.99 at one decimal is
// "10.0e+00", as in PostgreSQL), `post` after it, rounded half away from zero; a space for a
// positive sign.
std::string sci_numeric(const Numeric& v, int post) {
  bool neg = numeric_sign(v) < 0;
  std::string digits = numeric_sign(v) == 0 ? std::string() : numeric_abs_digits(v);
  int exponent = 0;
  std::string sig;  // post + 1 digits, or post + 2 after a carry
  if (digits.empty()) {
    sig.assign(static_cast<size_t>(post + 1), '0');
    neg = false;
  } else {
    exponent = static_cast<int>(digits.size()) - 1 - v.scale;
    size_t keep = static_cast<size_t>(post + 1);
    if (digits.size() > keep) {
      bool up = digits[keep] >= '5';
      sig = digits.substr(0, keep);
      if (up) {
        int k = static_cast<int>(sig.size()) - 1;
        while (k >= 0 && sig[static_cast<size_t>(k)] == '9') sig[static_cast<size_t>(k--)] = '0';
        if (k < 0) sig.insert(sig.begin(), '1');
        else ++sig[static_cast<size_t>(k)];
      }
    } else {
      sig = digits + std::string(keep - digits.size(), '0');
    }
  }
  size_t int_len = sig.size() - static_cast<size_t>(post);
  std::string out = neg ? "-" : " ";
  out += sig.substr(0, int_len);
  if (post > 0) out += "." + sig.substr(int_len);
  char buf[32];
  std::snprintf(buf, sizeof buf, "e%+03d", exponent);
  return out + buf;
}

Numeric pow10_numeric(int n) {
  Numeric r = numeric_from_int(1);
  Numeric ten = numeric_from_int(10);
  for (int k = 0; k < n; ++k) r = numeric_mul(r, ten);
  return r;
}

Datum c_to_char_numeric(Args a, EvalContext& ctx) {
  std::string_view fmt = a[1].as_string();
  if (fmt.empty()) return Datum::null();
  NumDesc d;
  std::vector<NumNode> nodes = parse_num_format(fmt, d);
  Numeric v = a[0].as_numeric();
  if (d.eeee) return text_result(ctx, v.is_nan() ? eeee_hashes(d) : sci_numeric(v, d.post));
  if (v.is_nan() && d.roman) throw SqlError(sqlstate::kNumericValueOutOfRange, "cannot convert NaN to integer");
  if (d.roman) {
    Numeric r = numeric_round(v, 0);
    int64_t iv = numeric_to_int(r);
    if (iv > INT32_MAX || iv < INT32_MIN) throw SqlError(sqlstate::kNumericValueOutOfRange, "integer out of range");
    return text_result(ctx, num_processor(nodes, d, int_to_roman(iv), 0, '+'));
  }
  if (d.multi_flag) {
    if (!v.is_nan()) v = numeric_mul(v, pow10_numeric(d.multi));
    d.pre += d.multi;
  }
  std::string s = v.is_nan() ? std::string("NaN") : numeric_to_string(numeric_round(v, d.post));
  char sign = '+';
  if (!s.empty() && s[0] == '-') {
    sign = '-';
    s.erase(0, 1);
  }
  return text_result(ctx, num_finish(nodes, d, s, sign));
}

template <typename Int>
Datum c_to_char_int(Args a, EvalContext& ctx) {
  std::string_view fmt = a[1].as_string();
  if (fmt.empty()) return Datum::null();
  NumDesc d;
  std::vector<NumNode> nodes = parse_num_format(fmt, d);
  __int128 v = a[0].as_int();
  if (d.eeee) return text_result(ctx, sci_double(static_cast<double>(v), d.post));
  if (d.roman) return text_result(ctx, num_processor(nodes, d, int_to_roman(static_cast<int64_t>(v)), 0, '+'));
  if (d.multi_flag) {
    // PostgreSQL multiplies in the argument's own type, wrapping around on overflow
    // (value * (int) pow(10, multi)); so does this.
    using U = std::make_unsigned_t<Int>;
    U m = static_cast<U>(static_cast<Int>(std::pow(10.0, d.multi)));
    v = static_cast<Int>(static_cast<U>(static_cast<Int>(v)) * m);
    d.pre += d.multi;
  }
  char sign = v < 0 ? '-' : '+';
  unsigned __int128 mag = v < 0 ? static_cast<unsigned __int128>(-v) : static_cast<unsigned __int128>(v);
  std::string s;
  do {
    s.insert(s.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  } while (mag != 0);
  if (d.post > 0) s += "." + std::string(static_cast<size_t>(d.post), '0');
  return text_result(ctx, num_finish(nodes, d, s, sign));
}

template <int kDigits>
Datum c_to_char_float(Args a, EvalContext& ctx) {
  std::string_view fmt = a[1].as_string();
  if (fmt.empty()) return Datum::null();
  NumDesc d;
  std::vector<NumNode> nodes = parse_num_format(fmt, d);
  double v = a[0].as_float();
  if (d.eeee) return text_result(ctx, std::isfinite(v) ? sci_double(v, d.post) : eeee_hashes(d));
  if (d.roman) {
    double r = std::rint(v);
    // Out of int range: PostgreSQL's (int) cast gives INT_MIN there, printed as '#'s.
    int64_t iv = r > INT32_MAX || r < INT32_MIN ? INT32_MIN : static_cast<int64_t>(r);
    return text_result(ctx, num_processor(nodes, d, int_to_roman(iv), 0, '+'));
  }
  if (d.multi_flag) {
    v *= std::pow(10.0, d.multi);
    d.pre += d.multi;
  }
  // PostgreSQL's own snprintf prints NaN and Infinity as words, which then do not fit the
  // template (or, for "NaN", are printed in its digit positions).
  auto print = [](double x, int prec) -> std::string {
    if (std::isnan(x)) return "NaN";
    if (std::isinf(x)) return x < 0 ? "-Infinity" : "Infinity";
    char buf[400];  // DBL_MAX has 309 integer digits
    std::snprintf(buf, sizeof buf, "%.*f", prec, x);
    return buf;
  };
  int pre_len = static_cast<int>(print(std::fabs(v), 0).size());
  if (pre_len >= kDigits) d.post = 0;
  else if (pre_len + d.post > kDigits) d.post = kDigits - pre_len;
  std::string s = print(v, d.post);
  char sign = '+';
  if (!s.empty() && s[0] == '-') {
    sign = '-';
    s.erase(0, 1);
  }
  return text_result(ctx, num_finish(nodes, d, s, sign));
}

}  // namespace

void register_to_char_functions(Registry& r) {
  r.add("to_char", {TypeId::kTimestamp, TypeId::kText}, TypeId::kText, &c_to_char_ts, 2049).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kTimestampTz, TypeId::kText}, TypeId::kText, &c_to_char_tstz, 1770).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kInterval, TypeId::kText}, TypeId::kText, &c_to_char_iv, 1768).volatility =
      Volatility::kStable;
  r.add("to_timestamp", {TypeId::kText, TypeId::kText}, TypeId::kTimestampTz, &c_to_timestamp_text, 1778).volatility =
      Volatility::kStable;
  r.add("to_date", {TypeId::kText, TypeId::kText}, TypeId::kDate, &c_to_date_text, 1780).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kNumeric, TypeId::kText}, TypeId::kText, &c_to_char_numeric, 1772).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kInt4, TypeId::kText}, TypeId::kText, &c_to_char_int<int32_t>, 1773).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kInt8, TypeId::kText}, TypeId::kText, &c_to_char_int<int64_t>, 1774).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kFloat4, TypeId::kText}, TypeId::kText, &c_to_char_float<6>, 1775).volatility =
      Volatility::kStable;
  r.add("to_char", {TypeId::kFloat8, TypeId::kText}, TypeId::kText, &c_to_char_float<15>, 1776).volatility =
      Volatility::kStable;
}

}  // namespace freshet::fn
