// Date, time, timestamp and interval functions and operators, following PostgreSQL's
// timestamp.c/date.c. The session time zone is always UTC, so timestamptz arithmetic equals
// timestamp arithmetic.

#include <charconv>
#include <chrono>
#include <cmath>
#include <functional>
#include <string>

#include "common/sql_dialect.hpp"
#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/numeric.hpp"
#include "common/sql_dialect.hpp"

namespace freshet::fn {
namespace {

constexpr Type kDateT = TypeId::kDate;
constexpr Type kTimeT = TypeId::kTime;
constexpr Type kTsT = TypeId::kTimestamp;
constexpr Type kTsTzT = TypeId::kTimestampTz;
constexpr Type kIvT = TypeId::kInterval;
constexpr Type kInt4T = TypeId::kInt4;
constexpr Type kF8T = TypeId::kFloat8;
constexpr Type kTextT = TypeId::kText;
constexpr Type kNumT = TypeId::kNumeric;

[[noreturn]] void ts_out_of_range() { throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range"); }
[[noreturn]] void date_out_of_range() { throw SqlError(sqlstate::kDatetimeFieldOverflow, "date out of range"); }
[[noreturn]] void interval_out_of_range() { throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range"); }

// The detail of an interval overflow names the operation, the way Materialize words the error
// (`"10 years * 10000000000" interval out of range`): intervals in PostgreSQL's output with
// "month(s)" for "mon(s)", a float operand in plain shortest digits. PostgreSQL's message stays.
std::string detail_interval(const Interval& iv) {
  std::string s;
  format_interval(iv, s);
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    out += s[i];
    if (s.compare(i, 4, " mon") == 0 && (i + 4 == s.size() || s[i + 4] == ' ' || s[i + 4] == 's')) {
      out += "month";
      i += 3;
    }
  }
  return out;
}
std::string detail_float(double v) {
  char buf[512];
  auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return r.ec == std::errc() ? std::string(buf, r.ptr) : std::to_string(v);
}
template <typename F>
Datum with_interval_detail(F&& f, const std::function<std::string()>& expr) {
  try {
    return f();
  } catch (SqlError& e) {
    if (e.message() == "interval out of range" && e.detail().empty())
      e.with_detail("\"" + expr() + "\" interval out of range");
    throw;
  }
}

bool ts_finite(int64_t t) { return t != kTimestampPosInfinity && t != kTimestampNegInfinity; }
bool date_finite(int64_t d) { return d != kDatePosInfinity && d != kDateNegInfinity; }

bool is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

int64_t checked_ts(__int128 v) {
  // PostgreSQL's valid range: 4714-11-24 BC .. 294276 AD.
  constexpr int64_t kMin = -211813488000000000LL;  // 4714-11-24 00:00:00 BC
  constexpr int64_t kMax = 9223371331200000000LL;  // 294277-01-01 00:00:00
  // Materialize's (chrono's) last year is 262142 (timestamp.slt:161).
  constexpr int64_t kMzMax = 8209320192000000000LL;  // 262143-01-01 00:00:00
  if (v < kMin || v >= kMax || (v >= kMzMax && materialize_dialect())) ts_out_of_range();
  return static_cast<int64_t>(v);
}

// timestamp + interval (PostgreSQL's timestamp_pl_interval): months first, clamping the day to
// the end of the month, then days, then microseconds.
int64_t ts_plus_interval(int64_t t, const Interval& iv) {
  if (!ts_finite(t)) return t;
  if (iv.months != 0) {
    CivilTime c = timestamp_to_civil(t);
    int64_t m = static_cast<int64_t>(c.year) * 12 + (c.month - 1) + iv.months;
    int64_t y = m >= 0 ? m / 12 : -((-m + 11) / 12);
    c.year = static_cast<int>(y);
    c.month = static_cast<int>(m - y * 12) + 1;
    if (c.day > days_in_month(c.year, c.month)) c.day = days_in_month(c.year, c.month);
    t = civil_to_timestamp(c);
  }
  __int128 r = static_cast<__int128>(t) + static_cast<__int128>(iv.days) * kMicrosPerDay + iv.micros;
  return checked_ts(r);
}
// The interval subtracted from a timestamp or date: a field at its minimum has no negation,
// and the result would be out of range anyway (by 178 million years of months, 5.8 million of
// days, or 292,000 of microseconds), which is what PostgreSQL reports.
Interval iv_neg_for_ts(const Interval& iv) {
  if (iv.months == INT32_MIN || iv.days == INT32_MIN || iv.micros == INT64_MIN) ts_out_of_range();
  return Interval{-iv.months, -iv.days, -iv.micros};
}
Interval iv_neg(const Interval& iv) {
  if (iv.months == INT32_MIN || iv.days == INT32_MIN || iv.micros == INT64_MIN) interval_out_of_range();
  return Interval{-iv.months, -iv.days, -iv.micros};
}

Interval justify_hours(Interval iv) {
  int64_t d = iv.micros / kMicrosPerDay;
  iv.micros -= d * kMicrosPerDay;
  int64_t days = static_cast<int64_t>(iv.days) + d;
  if (days > 0 && iv.micros < 0) {
    iv.micros += kMicrosPerDay;
    --days;
  } else if (days < 0 && iv.micros > 0) {
    iv.micros -= kMicrosPerDay;
    ++days;
  }
  if (days > INT32_MAX || days < INT32_MIN) interval_out_of_range();
  iv.days = static_cast<int32_t>(days);
  return iv;
}
Interval justify_days(Interval iv) {
  int32_t m = iv.days / 30;
  iv.days -= m * 30;
  int64_t months = static_cast<int64_t>(iv.months) + m;
  if (months > 0 && iv.days < 0) {
    iv.days += 30;
    --months;
  } else if (months < 0 && iv.days > 0) {
    iv.days -= 30;
    ++months;
  }
  if (months > INT32_MAX || months < INT32_MIN) interval_out_of_range();
  iv.months = static_cast<int32_t>(months);
  return iv;
}

// --- operators -------------------------------------------------------------------------------

Datum d_date_pl_int(Args a, EvalContext&) {
  int64_t d = a[0].as_int();
  if (!date_finite(d)) return a[0];
  int64_t r = d + a[1].as_int();
  if (r <= INT32_MIN || r >= INT32_MAX) date_out_of_range();
  return Datum::from_date(static_cast<int32_t>(r));
}
Datum d_int_pl_date(Args a, EvalContext& ctx) {
  Datum sw[2] = {a[1], a[0]};
  return d_date_pl_int(sw, ctx);
}
Datum d_date_mi_int(Args a, EvalContext&) {
  int64_t d = a[0].as_int();
  if (!date_finite(d)) return a[0];
  int64_t r = d - a[1].as_int();
  if (r <= INT32_MIN || r >= INT32_MAX) date_out_of_range();
  return Datum::from_date(static_cast<int32_t>(r));
}
Datum d_date_mi_date(Args a, EvalContext&) {
  if (!date_finite(a[0].as_int()) || !date_finite(a[1].as_int()))
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "cannot subtract infinite dates");
  return Datum::from_int(check_int_range(static_cast<__int128>(a[0].as_int()) - a[1].as_int(), TypeId::kInt4));
}
Datum d_date_pl_iv(Args a, EvalContext&) {
  return Datum::from_timestamp(ts_plus_interval(date_to_timestamp(static_cast<int32_t>(a[0].as_int())), a[1].as_interval()));
}
Datum d_iv_pl_date(Args a, EvalContext&) {
  return Datum::from_timestamp(ts_plus_interval(date_to_timestamp(static_cast<int32_t>(a[1].as_int())), a[0].as_interval()));
}
Datum d_date_mi_iv(Args a, EvalContext&) {
  int64_t t = date_to_timestamp(static_cast<int32_t>(a[0].as_int()));
  if (!ts_finite(t)) return Datum::from_timestamp(t);
  return Datum::from_timestamp(ts_plus_interval(t, iv_neg_for_ts(a[1].as_interval())));
}
Datum d_date_pl_time(Args a, EvalContext&) {
  int64_t t = date_to_timestamp(static_cast<int32_t>(a[0].as_int()));
  if (!ts_finite(t)) return Datum::from_timestamp(t);
  return Datum::from_timestamp(checked_ts(static_cast<__int128>(t) + a[1].as_int()));
}
Datum d_time_pl_date(Args a, EvalContext& ctx) {
  Datum sw[2] = {a[1], a[0]};
  return d_date_pl_time(sw, ctx);
}
Datum d_ts_pl_iv(Args a, EvalContext&) { return Datum::from_timestamp(ts_plus_interval(a[0].as_int(), a[1].as_interval())); }
Datum d_iv_pl_ts(Args a, EvalContext&) { return Datum::from_timestamp(ts_plus_interval(a[1].as_int(), a[0].as_interval())); }
Datum d_ts_mi_iv(Args a, EvalContext&) {
  if (!ts_finite(a[0].as_int())) return a[0];
  return Datum::from_timestamp(ts_plus_interval(a[0].as_int(), iv_neg_for_ts(a[1].as_interval())));
}
Datum d_ts_mi_ts(Args a, EvalContext&) {
  int64_t x = a[0].as_int(), y = a[1].as_int();
  if (!ts_finite(x) || !ts_finite(y))
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "cannot subtract infinite timestamps");
  __int128 d = static_cast<__int128>(x) - y;
  if (d > INT64_MAX || d < INT64_MIN) interval_out_of_range();
  return Datum::from_interval(justify_hours(Interval{0, 0, static_cast<int64_t>(d)}));
}
Datum d_time_pl_iv(Args a, EvalContext&) {
  int64_t t = (a[0].as_int() + a[1].as_interval().micros % kMicrosPerDay) % kMicrosPerDay;
  if (t < 0) t += kMicrosPerDay;
  return Datum::from_time(t);
}
Datum d_iv_pl_time(Args a, EvalContext& ctx) {
  Datum sw[2] = {a[1], a[0]};
  return d_time_pl_iv(sw, ctx);
}
Datum d_time_mi_iv(Args a, EvalContext&) {
  int64_t t = (a[0].as_int() - a[1].as_interval().micros % kMicrosPerDay) % kMicrosPerDay;
  if (t < 0) t += kMicrosPerDay;
  return Datum::from_time(t);
}
Datum d_time_mi_time(Args a, EvalContext&) { return Datum::from_interval(Interval{0, 0, a[0].as_int() - a[1].as_int()}); }
Datum d_iv_pl_iv(Args a, EvalContext&) {
  Interval x = a[0].as_interval(), y = a[1].as_interval();
  int64_t m = static_cast<int64_t>(x.months) + y.months, d = static_cast<int64_t>(x.days) + y.days;
  int64_t us;
  if (m > INT32_MAX || m < INT32_MIN || d > INT32_MAX || d < INT32_MIN || __builtin_add_overflow(x.micros, y.micros, &us))
    interval_out_of_range();
  return Datum::from_interval(Interval{static_cast<int32_t>(m), static_cast<int32_t>(d), us});
}
// interval_mi: each field subtracted with its own overflow check (`-1 months - -2147483648
// months` is 2147483647 months).
Datum d_iv_mi_iv(Args a, EvalContext&) {
  Interval x = a[0].as_interval(), y = a[1].as_interval();
  // Materialize negates the right side first (a + -b), so a field at its minimum overflows.
  if (materialize_dialect() && (y.months == INT32_MIN || y.days == INT32_MIN || y.micros == INT64_MIN))
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range")
        .with_detail("\"" + detail_interval(x) + " - " + detail_interval(y) + "\" interval out of range");
  int64_t m = static_cast<int64_t>(x.months) - y.months, d = static_cast<int64_t>(x.days) - y.days;
  int64_t us;
  if (m > INT32_MAX || m < INT32_MIN || d > INT32_MAX || d < INT32_MIN || __builtin_sub_overflow(x.micros, y.micros, &us))
    interval_out_of_range();
  return Datum::from_interval(Interval{static_cast<int32_t>(m), static_cast<int32_t>(d), us});
}
Datum d_iv_neg(Args a, EvalContext&) { return Datum::from_interval(iv_neg(a[0].as_interval())); }

double ts_round(double j) { return std::nearbyint(j * 1e6) / 1e6; }

// PostgreSQL's interval_mul: fractional months cascade into days, fractional days into time.
Interval interval_mul(const Interval& span, double factor) {
  double m = span.months * factor;
  if (std::isnan(m) || m > INT32_MAX || m < INT32_MIN) interval_out_of_range();
  double dd = span.days * factor;
  if (std::isnan(dd) || dd > INT32_MAX || dd < INT32_MIN) interval_out_of_range();
  Interval r;
  r.months = static_cast<int32_t>(m);
  r.days = static_cast<int32_t>(dd);
  double month_remainder_days = ts_round((span.months * factor - r.months) * 30);
  double sec_remainder =
      ts_round((span.days * factor - r.days + month_remainder_days - static_cast<int>(month_remainder_days)) * 86400.0);
  if (std::fabs(sec_remainder) >= 86400.0) {
    r.days += static_cast<int>(sec_remainder / 86400.0);
    sec_remainder -= static_cast<int>(sec_remainder / 86400.0) * 86400.0;
  }
  r.days += static_cast<int32_t>(month_remainder_days);
  double t = std::nearbyint(static_cast<double>(span.micros) * factor + sec_remainder * 1e6);
  if (std::isnan(t) || t >= 9.2233720368547758e18 || t < -9.2233720368547758e18) interval_out_of_range();
  r.micros = static_cast<int64_t>(t);
  return r;
}
Interval interval_div(const Interval& span, double factor) {
  if (factor == 0.0) throw SqlError(sqlstate::kDivisionByZero, "division by zero");
  double m = span.months / factor;
  double dd = span.days / factor;
  if (std::isnan(m) || m > INT32_MAX || m < INT32_MIN || std::isnan(dd) || dd > INT32_MAX || dd < INT32_MIN)
    interval_out_of_range();
  Interval r;
  r.months = static_cast<int32_t>(m);
  r.days = static_cast<int32_t>(dd);
  double month_remainder_days = ts_round((span.months / factor - r.months) * 30);
  double sec_remainder =
      ts_round((span.days / factor - r.days + month_remainder_days - static_cast<int>(month_remainder_days)) * 86400.0);
  if (std::fabs(sec_remainder) >= 86400.0) {
    r.days += static_cast<int>(sec_remainder / 86400.0);
    sec_remainder -= static_cast<int>(sec_remainder / 86400.0) * 86400.0;
  }
  r.days += static_cast<int32_t>(month_remainder_days);
  double t = std::nearbyint(static_cast<double>(span.micros) / factor + sec_remainder * 1e6);
  if (std::isnan(t) || t >= 9.2233720368547758e18 || t < -9.2233720368547758e18) interval_out_of_range();
  r.micros = static_cast<int64_t>(t);
  return r;
}
Datum d_iv_mul(Args a, EvalContext&) { return Datum::from_interval(interval_mul(a[0].as_interval(), a[1].as_float())); }
Datum d_mul_iv(Args a, EvalContext&) { return Datum::from_interval(interval_mul(a[1].as_interval(), a[0].as_float())); }
Datum d_iv_div(Args a, EvalContext&) { return Datum::from_interval(interval_div(a[0].as_interval(), a[1].as_float())); }

// --- current time ----------------------------------------------------------------------------

Datum d_now(Args, EvalContext& ctx) { return Datum::from_timestamp(ctx.statement_time_us); }
Datum d_clock_timestamp(Args, EvalContext&) {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  return Datum::from_timestamp(std::chrono::duration_cast<std::chrono::microseconds>(now).count() - kUnixToPgEpochMicros);
}
Datum d_current_date(Args, EvalContext& ctx) { return Datum::from_date(timestamp_to_date(ctx.statement_time_us)); }
Datum d_current_time(Args, EvalContext& ctx) {
  return Datum::from_time(ctx.statement_time_us - static_cast<int64_t>(timestamp_to_date(ctx.statement_time_us)) * kMicrosPerDay);
}
Datum d_mz_now(Args, EvalContext& ctx) {
  return Datum::from_timestamp(static_cast<int64_t>(ctx.logical_time_ms) * 1000 - kUnixToPgEpochMicros);
}

// --- construction ----------------------------------------------------------------------------

Datum d_make_date(Args a, EvalContext&) {
  int64_t y = a[0].as_int(), m = a[1].as_int(), d = a[2].as_int();
  auto bad = [&]() {
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "date field value out of range: " + std::to_string(y) + "-" +
                                                         std::to_string(m) + "-" + std::to_string(d));
  };
  if (y == 0) bad();
  int yy = static_cast<int>(y < 0 ? y + 1 : y);
  if (m < 1 || m > 12 || d < 1 || d > days_in_month(yy, static_cast<int>(m))) bad();
  return Datum::from_date(date_from_ymd(yy, static_cast<int>(m), static_cast<int>(d)));
}
Datum d_make_timestamp(Args a, EvalContext&) {
  int64_t y = a[0].as_int(), mo = a[1].as_int(), d = a[2].as_int(), h = a[3].as_int(), mi = a[4].as_int();
  double s = a[5].as_float();
  if (y == 0 || mo < 1 || mo > 12 || d < 1) throw SqlError(sqlstate::kDatetimeFieldOverflow, "date field value out of range");
  int yy = static_cast<int>(y < 0 ? y + 1 : y);
  if (d > days_in_month(yy, static_cast<int>(mo)))
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "date field value out of range");
  if (h < 0 || h > 24 || mi < 0 || mi > 59 || s < 0 || s > 60 || std::isnan(s))
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "time field value out of range");
  CivilTime c;
  c.year = yy;
  c.month = static_cast<int>(mo);
  c.day = static_cast<int>(d);
  int64_t base = civil_to_timestamp(c);
  int64_t us = std::llround(s * 1e6);
  return Datum::from_timestamp(checked_ts(static_cast<__int128>(base) + (h * 3600 + mi * 60) * kMicrosPerSecond + us));
}
Datum d_to_timestamp(Args a, EvalContext&) {
  double v = a[0].as_float();
  if (std::isnan(v)) throw SqlError(sqlstate::kInvalidParameterValue, "timestamp cannot be NaN");
  // Materialize's timestamps are finite (dates-times.slt:1109).
  if (std::isinf(v) && materialize_dialect()) ts_out_of_range();
  if (std::isinf(v)) return Datum::from_timestamp(v > 0 ? kTimestampPosInfinity : kTimestampNegInfinity);
  double us = std::nearbyint(v * 1e6);
  if (us < -2.1e17 || us > 9.2e18) ts_out_of_range();
  return Datum::from_timestamp(checked_ts(static_cast<__int128>(static_cast<int64_t>(us)) - kUnixToPgEpochMicros));
}

// --- date_trunc ------------------------------------------------------------------------------

std::string lower_ascii(std::string_view s) {
  std::string r(s);
  for (char& c : r)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return r;
}

std::string lower_ascii(std::string_view s);
// PostgreSQL names the unit in lower case in both errors.
[[noreturn]] void unit_not_recognized(std::string_view unit, std::string_view type) {
  throw SqlError(sqlstate::kInvalidParameterValue,
                 "unit \"" + lower_ascii(unit) + "\" not recognized for type " + std::string(type));
}

// Canonical unit names (PostgreSQL's DecodeUnits aliases).
std::string canonical_unit(std::string_view raw) {
  std::string u = lower_ascii(raw);
  static const std::pair<std::string_view, std::string_view> kAliases[] = {
      {"microsecond", "microseconds"}, {"us", "microseconds"}, {"usec", "microseconds"}, {"usecs", "microseconds"},
      {"millisecond", "milliseconds"}, {"ms", "milliseconds"}, {"msec", "milliseconds"}, {"msecs", "milliseconds"},
      {"seconds", "second"}, {"s", "second"}, {"sec", "second"}, {"secs", "second"},
      {"minutes", "minute"}, {"m", "minute"}, {"min", "minute"}, {"mins", "minute"},
      {"hours", "hour"}, {"h", "hour"}, {"hr", "hour"}, {"hrs", "hour"},
      {"days", "day"}, {"d", "day"}, {"weeks", "week"}, {"w", "week"},
      {"months", "month"}, {"mon", "month"}, {"mons", "month"}, {"quarters", "quarter"}, {"qtr", "quarter"},
      {"years", "year"}, {"y", "year"}, {"yr", "year"}, {"yrs", "year"},
      {"decades", "decade"}, {"dec", "decade"}, {"centuries", "century"}, {"c", "century"}, {"cent", "century"},
      {"millennia", "millennium"}, {"millenniums", "millennium"}, {"mil", "millennium"}, {"mils", "millennium"},
  };
  for (auto [a, c] : kAliases)
    if (u == a) return std::string(c);
  return u;
}

int64_t trunc_timestamp(std::string_view unit_raw, int64_t t, std::string_view type) {
  if (!ts_finite(t)) return t;
  std::string unit = canonical_unit(unit_raw);
  CivilTime c = timestamp_to_civil(t);
  auto floor_div = [](int64_t x, int64_t y) { return x / y - ((x % y != 0 && (x < 0) != (y < 0)) ? 1 : 0); };
  if (unit == "microseconds") return t;
  if (unit == "milliseconds") return floor_div(t, 1000) * 1000;
  if (unit == "second") return floor_div(t, kMicrosPerSecond) * kMicrosPerSecond;
  if (unit == "minute") return floor_div(t, 60 * kMicrosPerSecond) * 60 * kMicrosPerSecond;
  if (unit == "hour") return floor_div(t, 3600 * kMicrosPerSecond) * 3600 * kMicrosPerSecond;
  if (unit == "day") return floor_div(t, kMicrosPerDay) * kMicrosPerDay;
  if (unit == "week") {
    int64_t day = floor_div(t, kMicrosPerDay);
    // 2000-01-01 was a Saturday; Monday-based weeks.
    int64_t dow_monday0 = ((day + 5) % 7 + 7) % 7;
    return (day - dow_monday0) * kMicrosPerDay;
  }
  CivilTime r;
  r.year = c.year;
  if (unit == "month") {
    r.month = c.month;
  } else if (unit == "quarter") {
    r.month = (c.month - 1) / 3 * 3 + 1;
  } else if (unit == "year") {
  } else if (unit == "decade") {
    r.year = c.year > 0 ? c.year / 10 * 10 : -((8 - (c.year - 1)) / 10) * 10;
  } else if (unit == "century") {
    r.year = c.year > 0 ? ((c.year + 99) / 100 - 1) * 100 + 1 : -((99 - (c.year - 1)) / 100 - 1) * 100 + 1;
    if (c.year <= 0) r.year = -((99 - (c.year - 1)) / 100) * 100 + 1;
  } else if (unit == "millennium") {
    r.year = c.year > 0 ? ((c.year + 999) / 1000 - 1) * 1000 + 1 : -((999 - (c.year - 1)) / 1000) * 1000 + 1;
  } else {
    unit_not_recognized(unit_raw, type);
  }
  return civil_to_timestamp(r);
}
Datum d_trunc_ts(Args a, EvalContext&) {
  return Datum::from_timestamp(trunc_timestamp(a[0].as_string(), a[1].as_int(), "timestamp without time zone"));
}
Datum d_trunc_tstz(Args a, EvalContext&) {
  return Datum::from_timestamp(trunc_timestamp(a[0].as_string(), a[1].as_int(), "timestamp with time zone"));
}
Datum d_trunc_iv(Args a, EvalContext&) {
  std::string unit = canonical_unit(a[0].as_string());
  Interval iv = a[1].as_interval();
  Interval r;
  int64_t us = iv.micros;
  if (unit == "microseconds") return a[1];
  if (unit == "milliseconds") return Datum::from_interval(Interval{iv.months, iv.days, us / 1000 * 1000});
  if (unit == "second") return Datum::from_interval(Interval{iv.months, iv.days, us / kMicrosPerSecond * kMicrosPerSecond});
  if (unit == "minute") return Datum::from_interval(Interval{iv.months, iv.days, us / (60 * kMicrosPerSecond) * 60 * kMicrosPerSecond});
  if (unit == "hour") return Datum::from_interval(Interval{iv.months, iv.days, us / (3600 * kMicrosPerSecond) * 3600 * kMicrosPerSecond});
  if (unit == "day") return Datum::from_interval(Interval{iv.months, iv.days, 0});
  if (unit == "month") return Datum::from_interval(Interval{iv.months, 0, 0});
  if (unit == "quarter") return Datum::from_interval(Interval{iv.months / 3 * 3, 0, 0});
  if (unit == "year") return Datum::from_interval(Interval{iv.months / 12 * 12, 0, 0});
  if (unit == "decade") return Datum::from_interval(Interval{iv.months / 120 * 120, 0, 0});
  if (unit == "century") return Datum::from_interval(Interval{iv.months / 1200 * 1200, 0, 0});
  if (unit == "millennium") return Datum::from_interval(Interval{iv.months / 12000 * 12000, 0, 0});
  if (unit == "week")
    throw SqlError(sqlstate::kFeatureNotSupported, "unit \"week\" not supported for type interval")
        .with_detail("Months usually have fractional weeks.");
  unit_not_recognized(a[0].as_string(), "interval");
}

// --- datediff (Materialize's; not in PostgreSQL) ----------------------------------------------
// datediff(part, a, b): b - a in `part`s as Materialize computes it (CheckedTimestamp::diff_as):
// for millennium, century, decade, year, quarter and month the difference of the fields (the
// boundaries crossed: datediff('year', '2000-12-31', '2001-01-01') is 1); for week, day, hour,
// minute, second, millisecond and microsecond the elapsed time in whole units, truncated toward
// zero. Years are astronomical (1 BC is year 0), as chrono's. Dates count from midnight, times
// on one day.
int64_t datediff_micros(std::string_view part, int64_t a_us, int64_t b_us) {
  if (!ts_finite(a_us) || !ts_finite(b_us)) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  std::string unit = canonical_unit(part);
  CivilTime a = timestamp_to_civil(a_us), b = timestamp_to_civil(b_us);
  auto floor_div = [](int64_t x, int64_t d) { return x >= 0 ? x / d : -((-x + d - 1) / d); };
  auto millennium = [](int64_t y) { return (y + (y > 0 ? 999 : -1000)) / 1000; };
  auto century = [](int64_t y) { return (y + (y > 0 ? 99 : -100)) / 100; };
  int64_t ya = a.year, yb = b.year;
  if (unit == "millennium") return millennium(yb) - millennium(ya);
  if (unit == "century") return century(yb) - century(ya);
  if (unit == "decade") return floor_div(yb, 10) - floor_div(ya, 10);
  if (unit == "year") return yb - ya;
  if (unit == "quarter") return (yb - ya) * 4 + ((b.month - 1) / 3 - (a.month - 1) / 3);
  if (unit == "month") return (yb - ya) * 12 + (b.month - a.month);
  __int128 d = static_cast<__int128>(b_us) - a_us;  // the two finite timestamps' span fits
  auto per = [&](int64_t us) { return static_cast<int64_t>(d / us); };
  if (unit == "week") return per(7 * kMicrosPerDay);
  if (unit == "day") return per(kMicrosPerDay);
  if (unit == "hour") return per(3600 * kMicrosPerSecond);
  if (unit == "minute") return per(60 * kMicrosPerSecond);
  if (unit == "second") return per(kMicrosPerSecond);
  if (unit == "milliseconds") return per(1000);
  if (unit == "microseconds") return per(1);
  throw SqlError(sqlstate::kInvalidParameterValue, "invalid datepart \"" + std::string(part) + "\"");
}
Datum d_datediff_ts(Args a, EvalContext&) {
  return Datum::from_int(datediff_micros(a[0].as_string(), a[1].as_int(), a[2].as_int()));
}
Datum d_datediff_date(Args a, EvalContext&) {
  auto us = [](int64_t d) {
    if (!date_finite(d)) throw SqlError(sqlstate::kDatetimeFieldOverflow, "date out of range");
    return d * kMicrosPerDay;
  };
  return Datum::from_int(datediff_micros(a[0].as_string(), us(a[1].as_int()), us(a[2].as_int())));
}

// --- extract / date_part ---------------------------------------------------------------------

Numeric num(int64_t v) { return numeric_from_int(v); }
Numeric num_scaled(__int128 mantissa, int scale) {
  Numeric n;
  n.mantissa = mantissa;
  n.scale = static_cast<int16_t>(scale);
  return n;
}

enum class Source { kTimestamp, kTimestampTz, kDate, kTime, kInterval };

const char* source_type_name(Source s) {
  switch (s) {
    case Source::kTimestamp: return "timestamp without time zone";
    case Source::kTimestampTz: return "timestamp with time zone";
    case Source::kDate: return "date";
    case Source::kTime: return "time without time zone";
    case Source::kInterval: return "interval";
  }
  return "";
}

std::string canonical_unit(std::string_view raw);
[[noreturn]] void unit_not_supported(std::string_view unit, Source s) {
  SqlError e(sqlstate::kFeatureNotSupported,
             "unit \"" + lower_ascii(unit) + "\" not supported for type " + source_type_name(s));
  // Materialize's wording as the DETAIL (its dates-times.slt looks for it): the unit by its
  // canonical name, the type by its short name.
  if (s == Source::kTime || s == Source::kDate) {
    std::string c = canonical_unit(unit);
    if (c == "second") c = "seconds";
    e.with_detail("unit '" + c + "' not supported for type " + (s == Source::kTime ? "time" : "date"));
  }
  throw e;
}

// A field name PostgreSQL's DecodeUnits knows (a UNITS token): extract of such a field from a
// type that lacks it is "not supported" (0A000), of any other word "not recognized" (22023).
bool is_known_unit(std::string_view canonical) {
  static constexpr std::string_view kUnits[] = {
      "microseconds", "milliseconds", "second", "minute", "hour", "day", "week", "month", "quarter", "year", "decade",
      "century", "millennium", "dow", "doy", "isodow", "isoyear", "julian", "j", "timezone", "timezone_h",
      "timezone_hour", "timezone_m", "timezone_minute"};
  for (std::string_view u : kUnits)
    if (canonical == u) return true;
  return false;
}

// The fields that PostgreSQL 15's extract() answers with +/-Infinity for an infinite date or
// timestamp (the others are NULL).
bool unbounded_field(const std::string& unit) {
  return unit == "epoch" || unit == "year" || unit == "decade" || unit == "century" || unit == "millennium" ||
         unit == "julian" || unit == "isoyear";
}

// extract() returns numeric, and Freshet's numeric has no infinity: refused rather than
// answered with NULL where PostgreSQL answers Infinity.
[[noreturn]] void infinite_field() {
  throw SqlError(sqlstate::kFeatureNotSupported, "numeric infinity is not supported");
}

// Returns nullopt for +/-infinity results of fields that have none (PostgreSQL returns NULL);
// raises 0A000 for the fields whose result would be a numeric infinity.
std::optional<Numeric> extract_field(std::string_view unit_raw, const Datum& v, Source src) {
  std::string unit = canonical_unit(unit_raw);
  if (src == Source::kInterval) {
    Interval iv = v.as_interval();
    int64_t us = iv.micros;
    if (unit == "microseconds") return num(us % (60 * kMicrosPerSecond));
    if (unit == "milliseconds") return num_scaled(us % (60 * kMicrosPerSecond), 3);
    if (unit == "second") return num_scaled(us % (60 * kMicrosPerSecond), 6);
    if (unit == "minute") return num(us / (60 * kMicrosPerSecond) % 60);
    if (unit == "hour") return num(us / (3600 * kMicrosPerSecond));
    if (unit == "day") return num(iv.days);
    if (unit == "month") return num(iv.months % 12);
    if (unit == "quarter") return num((iv.months % 12) / 3 + 1);
    if (unit == "year") return num(iv.months / 12);
    if (unit == "decade") return num(iv.months / 120);
    if (unit == "century") return num(iv.months / 1200);
    if (unit == "millennium") return num(iv.months / 12000);
    if (unit == "epoch") {
      // 365.25 days per year, 30 days per month.
      __int128 secs_x100 = static_cast<__int128>(iv.months / 12) * 3155760000LL +
                           static_cast<__int128>(iv.months % 12) * 30 * 8640000LL +
                           static_cast<__int128>(iv.days) * 8640000LL;
      __int128 m = secs_x100 * 10000 + us;  // scale 6
      return num_scaled(m, 6);
    }
    if (is_known_unit(unit)) unit_not_supported(unit_raw, src);
    unit_not_recognized(unit_raw, "interval");
  }
  if (src == Source::kTime) {
    int64_t us = v.as_int();
    if (unit == "microseconds") return num(us % (60 * kMicrosPerSecond));
    if (unit == "milliseconds") return num_scaled(us % (60 * kMicrosPerSecond), 3);
    if (unit == "second") return num_scaled(us % (60 * kMicrosPerSecond), 6);
    if (unit == "minute") return num(us / (60 * kMicrosPerSecond) % 60);
    if (unit == "hour") return num(us / (3600 * kMicrosPerSecond));
    if (unit == "epoch") return num_scaled(us, 6);
    if (is_known_unit(unit)) unit_not_supported(unit_raw, src);
    unit_not_recognized(unit_raw, "time without time zone");
  }
  int64_t t;
  if (src == Source::kDate) {
    int64_t d = v.as_int();
    if (!date_finite(d)) {
      if (unbounded_field(unit)) infinite_field();
      return std::nullopt;
    }
    t = d * kMicrosPerDay;
    if (unit == "microseconds" || unit == "milliseconds" || unit == "second" || unit == "minute" || unit == "hour" ||
        unit == "timezone" || unit == "timezone_hour" || unit == "timezone_minute")
      unit_not_supported(unit_raw, src);
  } else {
    t = v.as_int();
    if (!ts_finite(t)) {
      if (unbounded_field(unit)) infinite_field();
      return std::nullopt;
    }
  }
  CivilTime c = timestamp_to_civil(t);
  int64_t sec_us = static_cast<int64_t>(c.second) * kMicrosPerSecond + c.micros;
  bool is_date = src == Source::kDate;
  if (unit == "microseconds") return num(sec_us);
  if (unit == "milliseconds") return num_scaled(sec_us, 3);
  if (unit == "second") return num_scaled(sec_us, 6);
  if (unit == "minute") return num(c.minute);
  if (unit == "hour") return num(c.hour);
  if (unit == "day") return num(c.day);
  if (unit == "month") return num(c.month);
  if (unit == "quarter") return num((c.month - 1) / 3 + 1);
  if (unit == "year") return num(c.year > 0 ? c.year : c.year - 1);
  if (unit == "decade") return num(c.year >= 0 ? c.year / 10 : -((8 - (c.year - 1)) / 10));
  if (unit == "century") return num(c.year > 0 ? (c.year + 99) / 100 : -((99 - (c.year - 1)) / 100));
  if (unit == "millennium") return num(c.year > 0 ? (c.year + 999) / 1000 : -((999 - (c.year - 1)) / 1000));
  int64_t day = timestamp_to_date(t);
  if (unit == "dow") return num(((day + 6) % 7 + 7) % 7);  // Sunday = 0; 2000-01-01 was a Saturday
  if (unit == "isodow") {
    int64_t dow = ((day + 6) % 7 + 7) % 7;
    return num(dow == 0 ? 7 : dow);
  }
  if (unit == "doy") return num(day - date_from_ymd(c.year, 1, 1) + 1);
  if (unit == "week" || unit == "isoyear") {
    // ISO 8601 week: the week with the year's first Thursday is week 1.
    auto iso_week_start = [](int y) {
      int64_t jan4 = date_from_ymd(y, 1, 4);
      int64_t dow_monday0 = ((jan4 + 5) % 7 + 7) % 7;
      return jan4 - dow_monday0;
    };
    int y = c.year;
    int64_t start = iso_week_start(y);
    if (day < start) {
      --y;
      start = iso_week_start(y);
    } else if (day >= iso_week_start(y + 1)) {
      ++y;
      start = iso_week_start(y);
    }
    if (unit == "week") return num((day - start) / 7 + 1);
    return num(y > 0 ? y : y - 1);
  }
  if (unit == "epoch") {
    __int128 us = static_cast<__int128>(t) + kUnixToPgEpochMicros;
    if (is_date) return num(static_cast<int64_t>(us / kMicrosPerSecond));
    return num_scaled(us, 6);
  }
  if (unit == "julian") {
    int64_t jd = day + 2451545;
    if (is_date) return num(jd);
    // Fractional day as PostgreSQL prints it.
    __int128 frac_us = static_cast<__int128>(t) - static_cast<__int128>(day) * kMicrosPerDay;
    Numeric f = numeric_div(num_scaled(frac_us, 0), num(kMicrosPerDay));
    return numeric_add(num(jd), f);
  }
  if (unit == "timezone" || unit == "timezone_hour" || unit == "timezone_minute") {
    if (src != Source::kTimestampTz) unit_not_supported(unit_raw, src);
    return num(0);
  }
  unit_not_recognized(unit_raw, source_type_name(src));
}

template <Source S>
Datum d_extract(Args a, EvalContext&) {
  auto n = extract_field(a[0].as_string(), a[1], S);
  if (!n) {
    return Datum::null();
  }
  return Datum::from_numeric(*n);
}
template <Source S>
Datum d_date_part(Args a, EvalContext&) {
  Source src = S;
  std::string unit = canonical_unit(a[0].as_string());
  if (!(S == Source::kDate || S == Source::kInterval || S == Source::kTime) && !ts_finite(a[1].as_int())) {
    // date_part keeps infinities for the unbounded fields.
    if (unbounded_field(unit)) return Datum::from_float(a[1].as_int() > 0 ? HUGE_VAL : -HUGE_VAL);
    return Datum::null();
  }
  Datum v = a[1];
  if (S == Source::kDate) {
    // PostgreSQL's date_part(text, date) is date_part(text, timestamp).
    v = Datum::from_timestamp(date_to_timestamp(static_cast<int32_t>(a[1].as_int())));
    src = Source::kTimestamp;
    if (!ts_finite(v.as_int())) return Datum::from_float(v.as_int() > 0 ? HUGE_VAL : -HUGE_VAL);
  }
  auto n = extract_field(a[0].as_string(), v, src);
  if (!n) return Datum::null();
  return Datum::from_float(numeric_to_double(*n));
}

// --- age, justify, misc ------------------------------------------------------------------------

Interval age(int64_t t1, int64_t t2) {
  if (!ts_finite(t1) || !ts_finite(t2)) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  CivilTime a = timestamp_to_civil(t1), b = timestamp_to_civil(t2);
  int64_t fsec = a.micros - b.micros, sec = a.second - b.second, min = a.minute - b.minute, hour = a.hour - b.hour,
          mday = a.day - b.day, mon = a.month - b.month, year = a.year - b.year;
  bool flip = t1 < t2;
  if (flip) fsec = -fsec, sec = -sec, min = -min, hour = -hour, mday = -mday, mon = -mon, year = -year;
  while (fsec < 0) fsec += kMicrosPerSecond, --sec;
  while (sec < 0) sec += 60, --min;
  while (min < 0) min += 60, --hour;
  while (hour < 0) hour += 24, --mday;
  while (mday < 0) {
    const CivilTime& ref = flip ? a : b;
    mday += days_in_month(ref.year, ref.month);
    --mon;
  }
  while (mon < 0) mon += 12, --year;
  if (flip) fsec = -fsec, sec = -sec, min = -min, hour = -hour, mday = -mday, mon = -mon, year = -year;
  Interval r;
  r.months = static_cast<int32_t>(year * 12 + mon);
  r.days = static_cast<int32_t>(mday);
  r.micros = ((hour * 60 + min) * 60 + sec) * kMicrosPerSecond + fsec;
  return r;
}
Datum d_age2(Args a, EvalContext&) { return Datum::from_interval(age(a[0].as_int(), a[1].as_int())); }
Datum d_age1(Args a, EvalContext& ctx) {
  int64_t midnight = static_cast<int64_t>(timestamp_to_date(ctx.statement_time_us)) * kMicrosPerDay;
  return Datum::from_interval(age(midnight, a[0].as_int()));
}
Datum d_justify_hours(Args a, EvalContext&) { return Datum::from_interval(justify_hours(a[0].as_interval())); }
Datum d_justify_days(Args a, EvalContext&) { return Datum::from_interval(justify_days(a[0].as_interval())); }
// PostgreSQL's interval_justify_interval: whole days out of the time, whole months out of the
// days, then every field given the sign of the months (and the time that of the days), so
// '1 month -1 hour' is '29 days 23:00:00' (not justify_days(justify_hours(...))).
Datum d_justify_interval(Args a, EvalContext&) {
  Interval in = a[0].as_interval();
  int64_t month = in.months, day = in.days, time = in.micros;
  constexpr int64_t kDaysPerMonth = 30;
  if ((day > 0 && time > 0) || (day < 0 && time < 0)) {
    int64_t whole = time / kMicrosPerDay;
    time -= whole * kMicrosPerDay;
    day += whole;
  }
  int64_t wholemonth = day / kDaysPerMonth;
  day -= wholemonth * kDaysPerMonth;
  month += wholemonth;
  int64_t wholeday = time / kMicrosPerDay;
  time -= wholeday * kMicrosPerDay;
  day += wholeday;
  wholemonth = day / kDaysPerMonth;
  day -= wholemonth * kDaysPerMonth;
  month += wholemonth;
  if (month > 0 && (day < 0 || (day == 0 && time < 0))) {
    day += kDaysPerMonth;
    --month;
  } else if (month < 0 && (day > 0 || (day == 0 && time > 0))) {
    day -= kDaysPerMonth;
    ++month;
  }
  if (day > 0 && time < 0) {
    time += kMicrosPerDay;
    --day;
  } else if (day < 0 && time > 0) {
    time -= kMicrosPerDay;
    ++day;
  }
  if (month > INT32_MAX || month < INT32_MIN || day > INT32_MAX || day < INT32_MIN)
    throw SqlError(sqlstate::kDatetimeFieldOverflow, "interval out of range");
  Interval r;
  r.months = static_cast<int32_t>(month);
  r.days = static_cast<int32_t>(day);
  r.micros = time;
  return Datum::from_interval(r);
}
Datum d_isfinite_ts(Args a, EvalContext&) { return Datum::from_bool(ts_finite(a[0].as_int())); }
Datum d_isfinite_date(Args a, EvalContext&) { return Datum::from_bool(date_finite(a[0].as_int())); }

// The interval operations whose overflow names the operation (with_interval_detail).
Datum d_iv_pl_iv_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_iv_pl_iv(a, c); },
                              [&] { return detail_interval(a[0].as_interval()) + " + " + detail_interval(a[1].as_interval()); });
}
Datum d_iv_mi_iv_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_iv_mi_iv(a, c); },
                              [&] { return detail_interval(a[0].as_interval()) + " - " + detail_interval(a[1].as_interval()); });
}
Datum d_iv_neg_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_iv_neg(a, c); }, [&] { return detail_interval(a[0].as_interval()); });
}
Datum d_iv_mul_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_iv_mul(a, c); },
                              [&] { return detail_interval(a[0].as_interval()) + " * " + detail_float(a[1].as_float()); });
}
Datum d_mul_iv_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_mul_iv(a, c); },
                              [&] { return detail_interval(a[1].as_interval()) + " * " + detail_float(a[0].as_float()); });
}
Datum d_iv_div_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_iv_div(a, c); },
                              [&] { return detail_interval(a[0].as_interval()) + " / " + detail_float(a[1].as_float()); });
}
Datum d_justify_hours_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_justify_hours(a, c); }, [&] { return detail_interval(a[0].as_interval()); });
}
Datum d_justify_days_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_justify_days(a, c); }, [&] { return detail_interval(a[0].as_interval()); });
}
Datum d_justify_interval_x(Args a, EvalContext& c) {
  return with_interval_detail([&] { return d_justify_interval(a, c); }, [&] { return detail_interval(a[0].as_interval()); });
}

}  // namespace

void register_datetime_functions(Registry& r) {
  r.add("+", {kDateT, kInt4T}, kDateT, &d_date_pl_int, 1086);
  r.add("+", {kInt4T, kDateT}, kDateT, &d_int_pl_date, 2555);
  r.add("-", {kDateT, kInt4T}, kDateT, &d_date_mi_int, 1090);
  r.add("-", {kDateT, kDateT}, kInt4T, &d_date_mi_date, 1140);
  r.add("+", {kDateT, kIvT}, kTsT, &d_date_pl_iv, 2071);
  r.add("+", {kIvT, kDateT}, kTsT, &d_iv_pl_date, 2546);
  r.add("-", {kDateT, kIvT}, kTsT, &d_date_mi_iv, 2072);
  r.add("+", {kDateT, kTimeT}, kTsT, &d_date_pl_time, 2025);
  r.add("+", {kTimeT, kDateT}, kTsT, &d_time_pl_date, 2549);
  r.add("+", {kTsT, kIvT}, kTsT, &d_ts_pl_iv, 2032);
  r.add("+", {kIvT, kTsT}, kTsT, &d_iv_pl_ts, 2548);
  r.add("-", {kTsT, kIvT}, kTsT, &d_ts_mi_iv, 2033);
  r.add("-", {kTsT, kTsT}, kIvT, &d_ts_mi_ts, 2031);
  r.add("+", {kTsTzT, kIvT}, kTsTzT, &d_ts_pl_iv, 1189).volatility = Volatility::kStable;
  r.add("+", {kIvT, kTsTzT}, kTsTzT, &d_iv_pl_ts, 2066).volatility = Volatility::kStable;
  r.add("-", {kTsTzT, kIvT}, kTsTzT, &d_ts_mi_iv, 1190).volatility = Volatility::kStable;
  r.add("-", {kTsTzT, kTsTzT}, kIvT, &d_ts_mi_ts, 1188);
  r.add("+", {kTimeT, kIvT}, kTimeT, &d_time_pl_iv, 1747);
  r.add("+", {kIvT, kTimeT}, kTimeT, &d_iv_pl_time, 1849);
  r.add("-", {kTimeT, kIvT}, kTimeT, &d_time_mi_iv, 1748);
  r.add("-", {kTimeT, kTimeT}, kIvT, &d_time_mi_time, 1690);
  r.add("+", {kIvT, kIvT}, kIvT, &d_iv_pl_iv_x, 1169);
  r.add("-", {kIvT, kIvT}, kIvT, &d_iv_mi_iv_x, 1170);
  r.add("-", {kIvT}, kIvT, &d_iv_neg_x, 1168);
  r.add("*", {kIvT, kF8T}, kIvT, &d_iv_mul_x, 1618);
  r.add("*", {kF8T, kIvT}, kIvT, &d_mul_iv_x, 1624);
  r.add("/", {kIvT, kF8T}, kIvT, &d_iv_div_x, 1326);

  for (std::string_view name : {"now", "current_timestamp", "transaction_timestamp", "statement_timestamp"})
    r.add(name, {}, kTsTzT, &d_now, name == "now" ? 1299 : 0).volatility = Volatility::kStable;
  r.add("clock_timestamp", {}, kTsTzT, &d_clock_timestamp, 2649).volatility = Volatility::kVolatile;
  r.add("localtimestamp", {}, kTsT, &d_now).volatility = Volatility::kStable;
  r.add("current_date", {}, kDateT, &d_current_date).volatility = Volatility::kStable;
  r.add("current_time", {}, kTimeT, &d_current_time).volatility = Volatility::kStable;
  r.add("localtime", {}, kTimeT, &d_current_time).volatility = Volatility::kStable;
  r.add("mz_now", {}, kTsTzT, &d_mz_now).volatility = Volatility::kStable;

  r.add("make_date", {kInt4T, kInt4T, kInt4T}, kDateT, &d_make_date, 3846);
  r.add("make_timestamp", {kInt4T, kInt4T, kInt4T, kInt4T, kInt4T, kF8T}, kTsT, &d_make_timestamp, 3461);
  r.add("make_timestamptz", {kInt4T, kInt4T, kInt4T, kInt4T, kInt4T, kF8T}, kTsTzT, &d_make_timestamp, 3462)
      .volatility = Volatility::kStable;
  r.add("to_timestamp", {kF8T}, kTsTzT, &d_to_timestamp, 1158);

  r.add("date_trunc", {kTextT, kTsT}, kTsT, &d_trunc_ts, 2020);
  // Materialize's datediff (timestamp first: the preferred reading of unknown literals there).
  r.add("datediff", {kTextT, kTsT, kTsT}, TypeId::kInt8, &d_datediff_ts);
  r.add("datediff", {kTextT, kTsTzT, kTsTzT}, TypeId::kInt8, &d_datediff_ts);
  r.add("datediff", {kTextT, kDateT, kDateT}, TypeId::kInt8, &d_datediff_date);
  r.add("datediff", {kTextT, kTimeT, kTimeT}, TypeId::kInt8, &d_datediff_ts);
  r.add("date_trunc", {kTextT, kTsTzT}, kTsTzT, &d_trunc_tstz, 1217).volatility = Volatility::kStable;
  r.add("date_trunc", {kTextT, kIvT}, kIvT, &d_trunc_iv, 1218);

  r.add("extract", {kTextT, kTsT}, kNumT, &d_extract<Source::kTimestamp>, 6202);
  r.add("extract", {kTextT, kTsTzT}, kNumT, &d_extract<Source::kTimestampTz>, 6203).volatility = Volatility::kStable;
  r.add("extract", {kTextT, kDateT}, kNumT, &d_extract<Source::kDate>, 6199);
  r.add("extract", {kTextT, kTimeT}, kNumT, &d_extract<Source::kTime>, 6200);
  r.add("extract", {kTextT, kIvT}, kNumT, &d_extract<Source::kInterval>, 6204);
  r.add("date_part", {kTextT, kTsT}, kF8T, &d_date_part<Source::kTimestamp>, 2021);
  r.add("date_part", {kTextT, kTsTzT}, kF8T, &d_date_part<Source::kTimestampTz>, 1171).volatility = Volatility::kStable;
  r.add("date_part", {kTextT, kDateT}, kF8T, &d_date_part<Source::kDate>, 1384);
  r.add("date_part", {kTextT, kTimeT}, kF8T, &d_date_part<Source::kTime>, 1385);
  r.add("date_part", {kTextT, kIvT}, kF8T, &d_date_part<Source::kInterval>, 1172);

  r.add("age", {kTsT, kTsT}, kIvT, &d_age2, 2058);
  r.add("age", {kTsTzT, kTsTzT}, kIvT, &d_age2, 1199);
  r.add("age", {kTsT}, kIvT, &d_age1, 2059).volatility = Volatility::kStable;
  r.add("age", {kTsTzT}, kIvT, &d_age1, 1386).volatility = Volatility::kStable;
  r.add("justify_hours", {kIvT}, kIvT, &d_justify_hours_x, 1175);
  r.add("justify_days", {kIvT}, kIvT, &d_justify_days_x, 1295);
  r.add("justify_interval", {kIvT}, kIvT, &d_justify_interval_x, 2711);
  r.add("isfinite", {kTsT}, TypeId::kBool, &d_isfinite_ts, 2048);
  r.add("isfinite", {kTsTzT}, TypeId::kBool, &d_isfinite_ts, 1389);
  r.add("isfinite", {kDateT}, TypeId::kBool, &d_isfinite_date, 1373);
}

}  // namespace freshet::fn
