// Materialize's interval input; see interval_materialize.hpp for what it is and where it comes from.
#include "common/interval_materialize.hpp"

#include <array>
#include <cctype>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/format.hpp"

namespace freshet {

namespace {

// Materialize's DateTimeField, least significant first (its derived order).
enum class F : uint8_t { kMicro, kMilli, kSecond, kMinute, kHour, kDay, kMonth, kYear, kDecade, kCentury, kMillennium };
constexpr int kFields = 11;

const char* field_name(F f) {  // Display
  static constexpr std::array<const char*, kFields> kNames = {"MICROSECONDS", "MILLISECONDS", "SECOND", "MINUTE",
                                                              "HOUR",         "DAY",          "MONTH",  "YEAR",
                                                              "DECADE",       "CENTURY",      "MILLENNIUM"};
  return kNames[static_cast<size_t>(f)];
}
const char* field_debug(F f) {  // Debug
  static constexpr std::array<const char*, kFields> kNames = {"Microseconds", "Milliseconds", "Second", "Minute",
                                                              "Hour",         "Day",          "Month",  "Year",
                                                              "Decade",       "Century",      "Millennium"};
  return kNames[static_cast<size_t>(f)];
}

// An error of the parse proper: becomes `invalid input syntax for type interval: <why>: "<text>"`.
struct ParseFail {
  std::string why;
};
[[noreturn]] void fail(std::string why) { throw ParseFail{std::move(why)}; }

F next_smallest(F f) {
  if (f == F::kMicro) fail("Cannot get smaller DateTimeField than MICROSECONDS");
  return static_cast<F>(static_cast<int>(f) - 1);
}

std::optional<F> parse_field(std::string_view s) {  // DateTimeField::from_str, s upper-cased
  static const std::pair<const char*, F> kNames[] = {
      {"MILLENNIUM", F::kMillennium}, {"MILLENNIUMS", F::kMillennium}, {"MILLENNIA", F::kMillennium},
      {"MIL", F::kMillennium},        {"MILS", F::kMillennium},        {"CENTURY", F::kCentury},
      {"CENTURIES", F::kCentury},     {"CENT", F::kCentury},           {"C", F::kCentury},
      {"DECADE", F::kDecade},         {"DECADES", F::kDecade},         {"DEC", F::kDecade},
      {"DECS", F::kDecade},           {"YEAR", F::kYear},              {"YEARS", F::kYear},
      {"YR", F::kYear},               {"YRS", F::kYear},               {"Y", F::kYear},
      {"MONTH", F::kMonth},           {"MONTHS", F::kMonth},           {"MON", F::kMonth},
      {"MONS", F::kMonth},            {"DAY", F::kDay},                {"DAYS", F::kDay},
      {"D", F::kDay},                 {"HOUR", F::kHour},              {"HOURS", F::kHour},
      {"HR", F::kHour},               {"HRS", F::kHour},               {"H", F::kHour},
      {"MINUTE", F::kMinute},         {"MINUTES", F::kMinute},         {"MIN", F::kMinute},
      {"MINS", F::kMinute},           {"M", F::kMinute},               {"SECOND", F::kSecond},
      {"SECONDS", F::kSecond},        {"SEC", F::kSecond},             {"SECS", F::kSecond},
      {"S", F::kSecond},              {"MILLISECOND", F::kMilli},      {"MILLISECONDS", F::kMilli},
      {"MILLISECON", F::kMilli},      {"MILLISECONS", F::kMilli},      {"MSECOND", F::kMilli},
      {"MSECONDS", F::kMilli},        {"MSEC", F::kMilli},             {"MSECS", F::kMilli},
      {"MS", F::kMilli},              {"MICROSECOND", F::kMicro},      {"MICROSECONDS", F::kMicro},
      {"MICROSECON", F::kMicro},      {"MICROSECONS", F::kMicro},      {"USECOND", F::kMicro},
      {"USECONDS", F::kMicro},        {"USEC", F::kMicro},             {"USECS", F::kMicro},
      {"US", F::kMicro},
  };
  for (const auto& [name, f] : kNames)
    if (s == name) return f;
  return std::nullopt;
}

// DateTimeUnits::from_str for the words that are not a DateTimeField (the others were taken
// as fields first): the unit's display name.
std::optional<std::string> parse_other_unit(std::string_view lower) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"epoch", "epoch"},   {"qtr", "quarter"},    {"quarter", "quarter"},      {"w", "week"},
      {"week", "week"},     {"weeks", "week"},     {"dow", "dow"},              {"doy", "doy"},
      {"isodow", "isodow"}, {"isodoy", "isodoy"},  {"timezone", "timezone"},    {"timezone_h", "timezone_hour"},
      {"timezone_hour", "timezone_hour"},          {"timezone_m", "timezone_minute"},
      {"timezone_minute", "timezone_minute"},
  };
  for (const auto& [name, display] : kNames)
    if (lower == name) return std::string(display);
  return std::nullopt;
}

enum class K : uint8_t { kDash, kColon, kDot, kPlus, kNum, kNanos, kTimeUnit, kDateTimeUnit, kDateTimeDelimiter, kDelim };
struct Tok {
  K k;
  uint64_t num = 0;     // kNum
  size_t digits = 0;    // kNum: digits in the text
  int64_t nanos = 0;    // kNanos
  F field = F::kYear;   // kTimeUnit
  std::string unit;     // kDateTimeUnit
};
using Toks = std::deque<Tok>;

std::string tok_display(const Tok& t) {
  switch (t.k) {
    case K::kDash: return "-";
    case K::kColon: return ":";
    case K::kDot: return ".";
    case K::kPlus: return "+";
    case K::kNum: {
      // Rust's `{:01$}` with width digits - 1.
      std::string s = std::to_string(t.num);
      size_t width = t.digits > 0 ? t.digits - 1 : 0;
      if (s.size() < width) s.insert(0, width - s.size(), '0');
      return s;
    }
    case K::kNanos: return std::to_string(t.nanos);
    case K::kTimeUnit: return field_debug(t.field);
    case K::kDateTimeUnit: return t.unit;
    case K::kDateTimeDelimiter: return "T";
    case K::kDelim: return " ";
  }
  return "";
}
std::string tok_debug(const Tok& t) {
  switch (t.k) {
    case K::kDash: return "Dash";
    case K::kColon: return "Colon";
    case K::kDot: return "Dot";
    case K::kPlus: return "Plus";
    case K::kNum: return "Num(" + std::to_string(t.num) + ", " + std::to_string(t.digits) + ")";
    case K::kNanos: return "Nanos(" + std::to_string(t.nanos) + ")";
    case K::kTimeUnit: return std::string("TimeUnit(") + field_debug(t.field) + ")";
    case K::kDateTimeUnit: return "DateTimeUnit(" + t.unit + ")";
    case K::kDateTimeDelimiter: return "DateTimeDelimiter";
    case K::kDelim: return "Delim";
  }
  return "";
}
std::string kind_debug(K k) {
  switch (k) {
    case K::kNum: return "Num(0, 1)";
    case K::kNanos: return "Nanos(0)";
    case K::kTimeUnit: return "TimeUnit(Year)";
    default: {
      Tok t{k};
      return tok_debug(t);
    }
  }
}

std::string_view trim_blanks(std::string_view s) {
  auto blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

void ltrim_delim_or_colon(Toks& z) {
  while (!z.empty() && (z.front().k == K::kColon || z.front().k == K::kDelim)) z.pop_front();
}

// tokenize_time_str.
Toks tokenize(std::string_view value) {
  Toks toks;
  std::string num_buf, char_buf;
  bool next_num_is_frac = false;
  auto flush_num = [&](size_t i) {
    if (!num_buf.empty()) {
      if (next_num_is_frac) {
        if (num_buf.size() > 9) num_buf.resize(9);  // fractions keep 9 digits
        int64_t raw = std::stoll(num_buf);
        int64_t mult = 1;
        for (size_t k = num_buf.size(); k < 9; ++k) mult *= 10;
        toks.push_back(Tok{K::kNanos, 0, 0, raw * mult});
      } else {
        errno = 0;
        unsigned long long v = std::strtoull(num_buf.c_str(), nullptr, 10);
        if (errno == ERANGE)
          fail("Unable to parse value as a number at index " + std::to_string(i) +
               ": number too large to fit in target type");
        toks.push_back(Tok{K::kNum, v, num_buf.size()});
      }
      num_buf.clear();
    }
    next_num_is_frac = false;
  };
  auto flush_char = [&] {
    if (char_buf.empty()) return;
    if (char_buf == "T" || char_buf == "t") {
      toks.push_back(Tok{K::kDateTimeDelimiter});
    } else {
      std::string up = char_buf, low = char_buf;
      for (char& c : up) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      for (char& c : low) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto f = parse_field(up)) {
        Tok t{K::kTimeUnit};
        t.field = *f;
        toks.push_back(t);
      } else if (auto u = parse_other_unit(low)) {
        Tok t{K::kDateTimeUnit};
        t.unit = *u;
        toks.push_back(t);
      } else {
        fail("unknown units " + char_buf);
      }
    }
    char_buf.clear();
  };
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    auto uc = static_cast<unsigned char>(c);
    if (!num_buf.empty() && !char_buf.empty()) fail("Could not tokenize");
    if (c == '+' || c == '-' || c == ':' || c == '.') {
      flush_num(i);
      flush_char();
      toks.push_back(Tok{c == '+' ? K::kPlus : c == '-' ? K::kDash : c == ':' ? K::kColon : K::kDot});
      if (c == '.') next_num_is_frac = true;
    } else if (std::isdigit(uc)) {
      flush_char();
      num_buf.push_back(c);
    } else if (uc < 0x80 && std::isalpha(uc)) {
      flush_num(i);
      char_buf.push_back(c);
    } else if (uc < 0x80 && (std::isspace(uc) || std::ispunct(uc))) {
      flush_num(i);
      flush_char();
      toks.push_back(Tok{K::kDelim});
    } else {
      // The offset counts characters and the character is whole (UTF-8 lead byte and its
      // continuation bytes), as Rust's chars() gives them.
      size_t chars = 0;
      for (size_t k = 0; k < i; ++k) chars += (static_cast<unsigned char>(value[k]) & 0xC0) != 0x80;
      size_t end = i + 1;
      while (end < value.size() && (static_cast<unsigned char>(value[end]) & 0xC0) == 0x80) ++end;
      fail("Invalid character at offset " + std::to_string(chars) + " in " + std::string(value) + ": '" +
           std::string(value.substr(i, end - i)) + "'");
    }
  }
  flush_num(value.size());
  flush_char();
  ltrim_delim_or_colon(toks);
  return toks;
}

// A field's value: the whole part and 9 digits of fraction, both signed.
struct Fv {
  int64_t unit = 0, fraction = 0;
};
struct Pdt {
  std::array<std::optional<Fv>, kFields> f;
  std::optional<Fv>& at(F x) { return f[static_cast<size_t>(x)]; }
  bool seconds_has_fraction() { return at(F::kSecond).has_value() && at(F::kSecond)->fraction != 0; }

  void write_field_iff_none(F x, const std::optional<Fv>& u) {
    if (!u) return;
    if (at(x).has_value()) fail(std::string(field_name(x)) + " field set twice");
    const char* kFraction = "Cannot set MILLISECONDS or MICROSECONDS field if SECOND field has a fraction component";
    if (x == F::kSecond && u->fraction != 0 && (at(F::kMilli).has_value() || at(F::kMicro).has_value())) fail(kFraction);
    if ((x == F::kMilli || x == F::kMicro) && seconds_has_fraction()) fail(kFraction);
    at(x) = u;
  }

  void check_interval_bounds(F d) {
    switch (d) {
      case F::kMillennium: case F::kCentury: case F::kDecade: case F::kYear: case F::kMonth:
        if (auto m = at(F::kMonth); m && (m->unit < -12 || m->unit > 12))
          fail("MONTH must be [-12, 12], got " + std::to_string(m->unit));
        break;
      case F::kHour: case F::kMinute: case F::kSecond: case F::kMilli: case F::kMicro: {
        if (auto m = at(F::kMinute); m && (m->unit < -59 || m->unit > 59))
          fail("MINUTE must be [-59, 59], got " + std::to_string(m->unit));
        // Sums that wrap like Rust's release build rather than overflow (huge PostgreSQL-style
        // seconds next to a SQL-standard time).
        uint64_t sec = 0, ns = 0;
        auto add = [](uint64_t& acc, int64_t v) { acc += static_cast<uint64_t>(v); };
        if (auto s = at(F::kSecond)) add(sec, s->unit), add(ns, s->fraction);
        if (auto ms = at(F::kMilli)) {
          add(sec, ms->unit / 1000);
          add(ns, (ms->unit % 1000) * 1'000'000);
          add(ns, (ms->fraction / 1000) % 1'000'000'000);
        }
        if (auto us = at(F::kMicro)) {
          add(sec, us->unit / 1'000'000);
          add(ns, (us->unit % 1'000'000) * 1000);
          add(ns, (us->fraction / 1'000'000) % 1'000'000'000);
        }
        auto seconds = static_cast<int64_t>(sec), nanoseconds = static_cast<int64_t>(ns);
        if (seconds < -60 || seconds > 60) fail("SECOND must be [-60, 60], got " + std::to_string(seconds));
        if (nanoseconds < -1'000'000'000 || nanoseconds > 1'000'000'000)
          fail("NANOSECOND must be [-1_000_000_000, 1_000_000_000], got " + std::to_string(nanoseconds));
        break;
      }
      case F::kDay: break;
    }
  }
};

int64_t trim_and_return_sign(Toks& z) {
  if (!z.empty() && z.front().k == K::kDash) {
    z.pop_front();
    return -1;
  }
  if (!z.empty() && z.front().k == K::kPlus) z.pop_front();
  return 1;
}

// fill_pdt_from_tokens: matches `actual` against the `expected` shape, writing each field as
// it ends, starting at `leading` and descending.
void fill_from_tokens(Pdt& pdt, Toks& actual, const std::vector<K>& expected, F leading, int64_t sign) {
  F cur = leading;
  int i = 0;
  std::optional<Fv> buf;
  size_t e = 0;
  while (!actual.empty() && e < expected.size()) {
    const Tok& a = actual.front();
    K ek = expected[e];
    if ((a.k == K::kDash && ek == K::kDash) || (a.k == K::kColon && ek == K::kColon)) {
      pdt.write_field_iff_none(cur, buf);
      buf.reset();
      cur = next_smallest(cur);
    } else if (a.k == K::kDelim && ek == K::kDelim) {
      pdt.write_field_iff_none(cur, buf);
      buf.reset();
      cur = next_smallest(cur);
      actual.pop_front();
      ++e;
      ++i;
      while (!actual.empty() && actual.front().k == K::kDelim) actual.pop_front();
      continue;
    } else if (a.k == K::kTimeUnit && ek == K::kTimeUnit) {
      if (buf && a.field != cur)
        fail("Invalid syntax at offset " + std::to_string(i) + ": provided TimeUnit(" + field_name(a.field) +
             ") but expected TimeUnit(" + field_name(cur) + ")");
    } else if (a.k == K::kDateTimeUnit && ek == K::kTimeUnit) {
      // Only hour .. microseconds would be accepted, and those are always read as fields.
      fail("unsupported unit " + a.unit);
    } else if (a.k == K::kDot && ek == K::kDot) {
    } else if (a.k == K::kNum && ek == K::kNum) {
      if (buf) fail("Invalid syntax; parts must be separated by '-', ':', or ' '");
      __int128 v = static_cast<__int128>(a.num) * sign;
      if (v > INT64_MAX || v < INT64_MIN)
        fail("Unable to parse value " + std::to_string(a.num) + " as a number: number too large to fit in target type");
      buf = Fv{static_cast<int64_t>(v), 0};
    } else if (a.k == K::kNanos && ek == K::kNanos) {
      if (buf) buf->fraction = a.nanos * sign;
      else buf = Fv{0, a.nanos * sign};
    } else if (a.k == K::kNum && ek == K::kNanos) {
      // A number where the fraction goes: its 9 most significant digits as nanoseconds.
      uint64_t n = a.num, nc = n;
      int width = 0;
      while (nc != 0) nc /= 10, ++width;
      uint64_t p = 1;
      for (int k = 0; k < (width > 9 ? width - 9 : 9 - width); ++k) p *= 10;
      n = width > 9 ? n / p : n * p;
      int64_t sn = static_cast<int64_t>(n) * sign;
      if (buf) buf->fraction = sn;
      else buf = Fv{0, sn};
    } else if (ek == K::kNum || ek == K::kDot || ek == K::kNanos || ek == K::kDelim) {
      ++e;  // an expected token that may be absent
      continue;
    } else {
      fail("Invalid syntax at offset " + std::to_string(i) + ": provided " + tok_debug(a) + " but expected " +
           kind_debug(ek));
    }
    ++i;
    actual.pop_front();
    ++e;
  }
  ltrim_delim_or_colon(actual);
  pdt.write_field_iff_none(cur, buf);
}

std::vector<K> sql_standard_tokens(F from) {
  using enum K;
  switch (from) {
    case F::kYear: return {kNum, kDash, kNum, kDelim};
    case F::kMonth: case F::kDay: return {kNum, kDelim};
    case F::kHour: return {kNum, kColon, kNum, kColon, kNum, kDot, kNanos};
    case F::kMinute: return {kNum, kColon, kNum, kDot, kNanos};
    case F::kSecond: return {kNum, kDot, kNanos};
    default: fail(std::string("expected_dur_like_tokens can only be called with HOUR, MINUTE, SECOND; got ") + field_name(from));
  }
}

// fill_pdt_interval_sql: `1-2`, `3`, `4:5:6.7`; a group is written once, whole.
void fill_sql(Toks& actual, F leading, Pdt& pdt) {
  switch (leading) {
    case F::kYear: case F::kMonth:
      if (pdt.at(F::kYear) || pdt.at(F::kMonth)) fail("YEAR or MONTH field set twice");
      break;
    case F::kDay:
      if (pdt.at(F::kDay)) fail("DAY field set twice");
      break;
    case F::kHour: case F::kMinute: case F::kSecond:
      if (pdt.at(F::kHour) || pdt.at(F::kMinute) || pdt.at(F::kSecond)) fail("HOUR, MINUTE, SECOND field set twice");
      break;
    default:
      fail(std::string("Cannot specify ") + field_name(leading) + " field for SQL standard-style interval parts");
  }
  int64_t sign = trim_and_return_sign(actual);
  fill_from_tokens(pdt, actual, sql_standard_tokens(leading), leading, sign);
  auto def = [&](F x) {
    if (!pdt.at(x)) pdt.at(x) = Fv{};
  };
  if (leading == F::kYear || leading == F::kMonth) def(F::kYear), def(F::kMonth);
  else if (leading == F::kDay) def(F::kDay);
  else def(F::kHour), def(F::kMinute), def(F::kSecond);
}

// fill_pdt_interval_pg: `1.5` of a known unit.
void fill_pg(Toks& actual, F unit, Pdt& pdt) {
  int64_t sign = trim_and_return_sign(actual);
  fill_from_tokens(pdt, actual, {K::kNum, K::kDot, K::kNanos, K::kTimeUnit}, unit, sign);
}

struct Fmt {
  enum Kind : uint8_t { kNone, kSql, kPg } kind = kNone;
  F f = F::kSecond;
};

// determine_format_w_datetimefield.
Fmt determine_format(Toks toks, std::optional<F> leading_time_precision) {
  trim_and_return_sign(toks);
  if (!toks.empty() && toks.front().k == K::kNum) toks.pop_front();
  if (toks.empty()) return {};
  Tok t = toks.front();
  toks.pop_front();
  const char* kUndetermined = "Cannot determine format of all parts";
  switch (t.k) {
    case K::kDelim: return {};
    case K::kDot: {
      if (!toks.empty() && (toks.front().k == K::kNum || toks.front().k == K::kNanos)) toks.pop_front();
      if (!toks.empty() && toks.front().k == K::kTimeUnit) return {Fmt::kPg, toks.front().field};
      return {};
    }
    case K::kDash: return {Fmt::kSql, F::kYear};
    case K::kColon: {
      if (!toks.empty() && toks.front().k == K::kNum) toks.pop_front();
      if (toks.empty()) return {Fmt::kSql, leading_time_precision.value_or(F::kHour)};
      K k = toks.front().k;
      if (k == K::kColon || k == K::kDelim) return {Fmt::kSql, F::kHour};
      if (k == K::kDot) return {Fmt::kSql, F::kMinute};
      fail(kUndetermined);
    }
    case K::kTimeUnit: return {Fmt::kPg, t.field};
    case K::kDateTimeUnit: return {};
    default: fail(kUndetermined);
  }
}

// build_parsed_datetime_interval.
Pdt build(std::string_view value, std::optional<F> leading_time_precision, F ambiguous_resolver) {
  Pdt pdt;
  Toks tokens = tokenize(trim_blanks(value));
  std::deque<Toks> parts;
  Toks buf;
  for (Tok& t : tokens) {
    if (t.k == K::kDelim) {
      if (!buf.empty()) parts.push_back(std::move(buf)), buf.clear();
    } else if (t.k == K::kColon && buf.empty()) {
      // leading colons of a part are dropped
    } else {
      buf.push_back(std::move(t));
    }
  }
  if (!buf.empty()) parts.push_back(std::move(buf));

  struct Annotated {
    Fmt fmt;
    Toks toks;
  };
  std::vector<Annotated> annotated;
  while (!parts.empty()) {
    Toks part = std::move(parts.front());
    parts.pop_front();
    Fmt fmt = determine_format(part, leading_time_precision);
    if (fmt.kind == Fmt::kNone) {
      if (!parts.empty()) {
        Toks next = std::move(parts.front());
        parts.pop_front();
        Fmt nf = determine_format(next, std::nullopt);
        if (nf.kind == Fmt::kSql) {
          if (nf.f != F::kYear && nf.f != F::kMonth && nf.f != F::kDay) {
            // A number before a time is a count of days.
            annotated.push_back({nf, std::move(next)});
            fmt = {Fmt::kPg, F::kDay};
          }
        } else {
          fmt = nf;  // the next part is the unit of this one (`1 day`)
        }
      } else {
        fmt = {Fmt::kPg, ambiguous_resolver};
      }
    }
    if (fmt.kind == Fmt::kNone)
      fail("Cannot determine format of all parts. Add explicit time components, e.g. INTERVAL '1 day' or INTERVAL '1' DAY");
    annotated.push_back({fmt, std::move(part)});
  }

  for (Annotated& ap : annotated) {
    if (ap.fmt.kind == Fmt::kSql) {
      fill_sql(ap.toks, ap.fmt.f, pdt);
      pdt.check_interval_bounds(ap.fmt.f);
    } else {
      fill_pg(ap.toks, ap.fmt.f, pdt);
    }
    while (!ap.toks.empty() && ap.toks.front().k == K::kTimeUnit) ap.toks.pop_front();
    if (!ap.toks.empty()) {
      std::string rest;
      for (const Tok& t : ap.toks) rest += tok_display(t);
      while (!rest.empty() && std::isspace(static_cast<unsigned char>(rest.back()))) rest.pop_back();
      fail("have unprocessed tokens " + rest);
    }
  }
  return pdt;
}

constexpr int64_t kFrac = 1'000'000'000;  // DateTimeFieldValue::FRACTIONAL_DIGIT_PRECISION
const std::string kMonthsOverflow = "Overflows maximum months; cannot exceed 2147483647/-2147483648 months";
const std::string kDaysOverflow = "Overflows maximum days; cannot exceed 2147483647/-2147483648 days";
const std::string kMicrosOverflow =
    "Overflows maximum microseconds; cannot exceed 9223372036854775807/-9223372036854775808 microseconds";

// i / d rounded half away from zero, looking only at the first dropped digit (div_and_round).
std::optional<int64_t> div_and_round(__int128 i, int64_t d) {
  __int128 res = i / d;
  __int128 digit = (i / (d / 10)) % 10;
  if (digit > 4) ++res;
  else if (digit < -4) --res;
  if (res > INT64_MAX || res < INT64_MIN) return std::nullopt;
  return static_cast<int64_t>(res);
}

void add_i32(int32_t& acc, __int128 v, const std::string& err) {
  if (v > INT32_MAX || v < INT32_MIN || __builtin_add_overflow(acc, static_cast<int32_t>(v), &acc)) fail(err);
}
void add_i64(int64_t& acc, std::optional<int64_t> v) {
  if (!v || __builtin_add_overflow(acc, *v, &acc)) fail(kMicrosOverflow);
}
std::optional<int64_t> checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return std::nullopt;
  return r;
}

// ParsedDateTime::compute_interval.
Interval compute(Pdt& pdt) {
  int32_t months = 0, days = 0;
  int64_t micros = 0;
  for (int k = kFields - 1; k >= 0; --k) {
    auto d = static_cast<F>(k);
    auto v = pdt.at(d);
    if (!v) continue;
    switch (d) {
      case F::kMillennium: case F::kCentury: case F::kDecade: case F::kYear: {
        int64_t mult = d == F::kMillennium ? 12000 : d == F::kCentury ? 1200 : d == F::kDecade ? 120 : 12;
        auto m = checked_mul(v->unit, mult);
        if (!m) fail(kMonthsOverflow);
        add_i32(months, *m, kMonthsOverflow);
        auto mf = checked_mul(v->fraction, mult);
        if (!mf) fail(kMonthsOverflow);
        add_i32(months, *mf / kFrac, kMonthsOverflow);  // truncated: a fraction of a month is dropped
        break;
      }
      case F::kMonth: {
        add_i32(months, v->unit, kMonthsOverflow);
        auto fd = checked_mul(v->fraction, 30);
        if (!fd) fail("Intermediate overflow in MONTH fraction");
        add_i32(days, *fd / kFrac, "Overflows maximum seconds; cannot exceed 2147483647/-2147483648 days");
        add_i64(micros, div_and_round(static_cast<__int128>(*fd % kFrac) * kMicrosPerDay, kFrac));
        break;
      }
      case F::kDay:
        add_i32(days, v->unit, kDaysOverflow);
        add_i64(micros, div_and_round(static_cast<__int128>(v->fraction) * kMicrosPerDay, kFrac));
        break;
      case F::kHour: case F::kMinute: case F::kSecond: case F::kMilli: case F::kMicro: {
        int64_t mult = d == F::kHour ? 3'600'000'000 : d == F::kMinute ? 60'000'000 : d == F::kSecond ? 1'000'000
                       : d == F::kMilli ? 1000 : 1;
        add_i64(micros, checked_mul(v->unit, mult));
        auto f = checked_mul(v->fraction, mult);
        if (!f) fail(kMicrosOverflow);
        add_i64(micros, div_and_round(*f, kFrac));
        break;
      }
    }
  }
  return Interval{months, days, micros};
}

F field_of_bit(int bit) {
  switch (bit) {
    case kIntervalYearBit: return F::kYear;
    case kIntervalMonthBit: return F::kMonth;
    case kIntervalDayBit: return F::kDay;
    case kIntervalHourBit: return F::kHour;
    case kIntervalMinuteBit: return F::kMinute;
    default: return F::kSecond;
  }
}

int64_t micros_multiplier(F f) {
  switch (f) {
    case F::kDay: return kMicrosPerDay;
    case F::kHour: return 3'600'000'000;
    case F::kMinute: return 60'000'000;
    case F::kSecond: return 1'000'000;
    case F::kMilli: return 1000;
    default: return 1;
  }
}

}  // namespace

Interval parse_interval_materialize(std::string_view text, int32_t typmod) {
  // The qualifier: `LOW` alone is YEAR TO LOW, as Materialize's parser reads it.
  F high = F::kYear, low = F::kSecond;
  std::optional<int32_t> precision;
  if (typmod >= 0) {
    int32_t range = (typmod >> 16) & 0x7FFF, p = typmod & 0xFFFF;
    if (p != kIntervalFullPrecision) precision = p;
    if (range != kIntervalFullRange) {
      std::optional<F> hi, lo;
      int bits = 0;
      for (int bit : {kIntervalYearBit, kIntervalMonthBit, kIntervalDayBit, kIntervalHourBit, kIntervalMinuteBit,
                      kIntervalSecondBit}) {
        if ((range & (1 << bit)) == 0) continue;
        ++bits;
        F f = field_of_bit(bit);
        if (!hi || f > *hi) hi = f;
        if (!lo || f < *lo) lo = f;
      }
      if (lo) low = *lo;
      if (hi && bits > 1) high = *hi;
    }
  }
  std::optional<F> leading;
  if (high == F::kHour || high == F::kMinute) leading = high;

  Interval iv;
  try {
    Pdt pdt = build(text, leading, low);
    iv = compute(pdt);
  } catch (const ParseFail& e) {
    throw SqlError(sqlstate::kInvalidDatetimeFormat,
                   "invalid input syntax for type interval: " + e.why + ": \"" + std::string(text) + "\"");
  }

  // Interval::truncate_high_fields.
  switch (high) {
    case F::kMonth: iv.months %= 12; break;
    case F::kDay: iv.months = 0; break;
    case F::kHour: case F::kMinute: case F::kSecond:
      iv.months = 0;
      iv.days = 0;
      iv.micros %= micros_multiplier(static_cast<F>(static_cast<int>(high) + 1));
      break;
    default: break;
  }
  // Interval::truncate_low_fields, rounding to the nearest.
  switch (low) {
    case F::kYear:
      iv.months -= iv.months % 12;
      iv.days = 0;
      iv.micros = 0;
      break;
    case F::kMonth:
      iv.days = 0;
      iv.micros = 0;
      break;
    case F::kDay: iv.micros = 0; break;
    case F::kHour: case F::kMinute: iv.micros -= iv.micros % micros_multiplier(low); break;
    case F::kSecond: {
      int32_t p = precision.value_or(6);
      if (p > 6 || p < 0)
        throw SqlError(sqlstate::kInvalidParameterValue,
                       "SECOND precision must be (0, 6), have SECOND(" + std::to_string(p) + ")");
      if (p == 6) break;
      int64_t unit = 1;
      for (int k = p; k < 6; ++k) unit *= 10;
      int64_t remainder = iv.micros % unit;
      iv.micros -= remainder;
      int64_t digit = remainder / (unit / 10);
      int64_t adj = digit > 4 ? unit : digit < -4 ? -unit : 0;
      int64_t rounded = 0;
      if (__builtin_add_overflow(iv.micros, adj, &rounded)) {
        std::string s;
        format_interval(iv, s);
        throw SqlError(sqlstate::kIntervalFieldOverflow, "interval field value out of range: \"" + s + "\"");
      }
      iv.micros = rounded;
      break;
    }
    default: break;
  }
  return iv;
}

}  // namespace freshet
