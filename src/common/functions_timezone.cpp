// Time zone conversions: timezone(zone, ts) (what `ts AT TIME ZONE zone` becomes) and
// date_trunc(unit, timestamptz, zone), as PostgreSQL 15's timestamp.c does them; and
// Materialize's two-argument date_bin. Zones are
// looked up by common/timezone.hpp (abbreviations first, then zone names and POSIX strings).

#include <cctype>
#include <optional>
#include <string>

#include "common/format.hpp"
#include "common/functions_internal.hpp"
#include "common/timezone.hpp"

namespace freshet::fn {
namespace {

constexpr int64_t kMinTs = -211813488000000000LL;  // 4714-11-24 00:00:00 BC
constexpr int64_t kMaxTs = 9223371331200000000LL;  // 294277-01-01 00:00:00

bool finite(int64_t t) { return t != kTimestampPosInfinity && t != kTimestampNegInfinity; }
int64_t checked(__int128 t) {
  if (t < kMinTs || t >= kMaxTs) throw SqlError(sqlstate::kDatetimeFieldOverflow, "timestamp out of range");
  return static_cast<int64_t>(t);
}
int64_t unix_seconds(int64_t pg_micros) {
  int64_t us = pg_micros + kUnixToPgEpochMicros;
  return us / kMicrosPerSecond - (us % kMicrosPerSecond < 0 ? 1 : 0);
}

// timestamptz -> the wall-clock time in `zone` (timestamptz_zone).
Datum z_tstz_zone(Args a, EvalContext&) {
  int64_t t = a[1].as_int();
  if (!finite(t)) return Datum::from_timestamp(t);
  int32_t off = zone_offset(a[0].as_string(), unix_seconds(t), false);
  return Datum::from_timestamp(checked(static_cast<__int128>(t) + static_cast<__int128>(off) * kMicrosPerSecond));
}
// timestamp, read as a wall-clock time in `zone` -> timestamptz (timestamp_zone).
Datum z_ts_zone(Args a, EvalContext&) {
  int64_t t = a[1].as_int();
  if (!finite(t)) return Datum::from_timestamp(t);
  int32_t off = zone_offset(a[0].as_string(), unix_seconds(t), true);
  return Datum::from_timestamp(checked(static_cast<__int128>(t) - static_cast<__int128>(off) * kMicrosPerSecond));
}
// An interval as a zone: whole seconds east of UTC, no months or days.
int64_t interval_zone_secs(const Interval& iv) {
  if (iv.months != 0 || iv.days != 0) {
    std::string s;
    format_interval(iv, s);
    throw SqlError(sqlstate::kInvalidParameterValue, "interval time zone \"" + s + "\" must not include months or days");
  }
  return iv.micros / kMicrosPerSecond;
}
Datum z_tstz_izone(Args a, EvalContext&) {
  int64_t t = a[1].as_int();
  if (!finite(t)) return Datum::from_timestamp(t);
  int64_t off = interval_zone_secs(a[0].as_interval());
  return Datum::from_timestamp(checked(static_cast<__int128>(t) + static_cast<__int128>(off) * kMicrosPerSecond));
}
Datum z_ts_izone(Args a, EvalContext&) {
  int64_t t = a[1].as_int();
  if (!finite(t)) return Datum::from_timestamp(t);
  int64_t off = interval_zone_secs(a[0].as_interval());
  return Datum::from_timestamp(checked(static_cast<__int128>(t) - static_cast<__int128>(off) * kMicrosPerSecond));
}

// date_trunc(unit, timestamptz, zone) (timestamptz_trunc_zone): truncated in the zone's wall
// clock; for units of a day and more the offset is looked up again for the truncated time.
Datum z_trunc_zone(Args a, EvalContext& ctx) {
  int64_t t = a[1].as_int();
  if (!finite(t)) return Datum::from_timestamp(t);
  std::string_view zone = a[2].as_string();
  int32_t off = zone_offset(zone, unix_seconds(t), false);
  int64_t local = checked(static_cast<__int128>(t) + static_cast<__int128>(off) * kMicrosPerSecond);
  // The truncation itself is date_trunc(unit, timestamp).
  static const FunctionImpl* trunc_ts = [] {
    for (const FunctionImpl* f : lookup_functions("date_trunc"))
      if (f->arg_types.size() == 2 && f->arg_types[1].id == TypeId::kTimestamp) return f;
    return static_cast<const FunctionImpl*>(nullptr);
  }();
  FRESHET_ASSERT(trunc_ts != nullptr);
  Datum args[2] = {a[0], Datum::from_timestamp(local)};
  int64_t tl = trunc_ts->fn(std::span<const Datum>(args, 2), ctx).as_int();
  std::string unit;
  for (char c : a[0].as_string()) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool redo = !(unit.rfind("micro", 0) == 0 || unit.rfind("milli", 0) == 0 || unit.rfind("sec", 0) == 0 ||
                unit.rfind("min", 0) == 0 || unit.rfind("hour", 0) == 0 || unit == "us" || unit == "ms" ||
                unit == "s" || unit == "m" || unit == "h" || unit == "hr" || unit == "hrs" || unit == "usec" ||
                unit == "usecs" || unit == "msec" || unit == "msecs" || unit == "mins");
  if (unit.rfind("millen", 0) == 0 || unit == "mil" || unit == "mils") redo = true;
  int32_t off2 = redo ? zone_offset(zone, unix_seconds(tl), true) : off;
  return Datum::from_timestamp(checked(static_cast<__int128>(tl) - static_cast<__int128>(off2) * kMicrosPerSecond));
}

// DecodeTimezone: [+-]h[h][:mm[:ss]] or [+-]hhmm, east of UTC; nullopt when the text has
// another form (it is then looked up as a zone name); 22023 when a field is out of range.
std::optional<int64_t> iso_offset(std::string_view zone) {
  if (zone.size() < 2 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  size_t i = 1;
  auto num = [&](size_t max_len, int& out) {
    size_t b = i;
    while (i < zone.size() && i - b < max_len && std::isdigit(static_cast<unsigned char>(zone[i]))) ++i;
    if (i == b) return false;
    out = std::stoi(std::string(zone.substr(b, i - b)));
    return true;
  };
  int h = 0, m = 0, sec = 0;
  size_t nd = 0;
  while (1 + nd < zone.size() && std::isdigit(static_cast<unsigned char>(zone[1 + nd]))) ++nd;
  if (nd > 2 && 1 + nd == zone.size()) {
    // Run together: the last two digits are minutes ('+123' is +01:23).
    if (nd > 9) throw SqlError(sqlstate::kInvalidParameterValue, "numeric time zone \"" + std::string(zone) + "\" out of range");
    int v = std::stoi(std::string(zone.substr(1)));
    h = v / 100;
    m = v % 100;
  } else {
    if (!num(2, h)) return std::nullopt;
    if (i < zone.size() && zone[i] == ':') {
      ++i;
      if (!num(2, m)) return std::nullopt;
      if (i < zone.size() && zone[i] == ':') {
        ++i;
        if (!num(2, sec)) return std::nullopt;
      }
    }
    if (i != zone.size()) return std::nullopt;
  }
  if (h > 15 || m > 59 || sec > 59)
    throw SqlError(sqlstate::kInvalidParameterValue, "numeric time zone \"" + std::string(zone) + "\" out of range");
  return (zone[0] == '-' ? -1 : 1) * (h * 3600 + m * 60 + sec);
}

// make_timestamptz(y, m, d, h, mi, s, zone) (make_timestamptz_at_timezone): the wall time in
// `zone`. PostgreSQL's parse_sane_timezone reads a leading sign as an ISO offset ('+05:30' is
// east of UTC, unlike timezone('+05:30', ...)), refuses a leading digit, and otherwise looks
// the name up like timezone().
Datum z_make_timestamptz_zone(Args a, EvalContext& ctx) {
  static const FunctionImpl* make_ts = [] {
    for (const FunctionImpl* f : lookup_functions("make_timestamp"))
      if (f->arg_types.size() == 6) return f;
    return static_cast<const FunctionImpl*>(nullptr);
  }();
  FRESHET_ASSERT(make_ts != nullptr);
  int64_t local = make_ts->fn(a.subspan(0, 6), ctx).as_int();
  std::string_view zone = a[6].as_string();
  int64_t off = 0;
  if (!zone.empty() && std::isdigit(static_cast<unsigned char>(zone[0]))) {
    throw SqlError(sqlstate::kInvalidParameterValue,
                   "invalid input syntax for type numeric time zone: \"" + std::string(zone) + "\"")
        .with_hint("Numeric time zones must have \"-\" or \"+\" as first character.");
  } else if (auto iso = iso_offset(zone); iso) {
    off = *iso;
  } else {
    off = zone_offset(zone, unix_seconds(local), true);
  }
  return Datum::from_timestamp(checked(static_cast<__int128>(local) - static_cast<__int128>(off) * kMicrosPerSecond));
}

// Materialize's date_bin(stride, source): PostgreSQL's three-argument date_bin with the Unix
// epoch as origin (Materialize's docs and its timestamp.slt: `date_bin(i, ts) = date_bin(i, ts,
// '1970-01-01')`). PostgreSQL has no two-argument form.
template <TypeId kTs>
Datum z_date_bin_epoch(Args a, EvalContext& ctx) {
  static const FunctionImpl* bin3 = [] {
    for (const FunctionImpl* f : lookup_functions("date_bin"))
      if (f->arg_types.size() == 3 && f->arg_types[1].id == kTs) return f;
    return static_cast<const FunctionImpl*>(nullptr);
  }();
  FRESHET_ASSERT(bin3 != nullptr);
  Datum args[3] = {a[0], a[1], Datum::from_timestamp(-kUnixToPgEpochMicros)};
  return bin3->fn(std::span<const Datum>(args, 3), ctx);
}

}  // namespace

void register_timezone_functions(Registry& r) {
  r.add("timezone", {TypeId::kText, TypeId::kTimestampTz}, TypeId::kTimestamp, &z_tstz_zone, 1159);
  r.add("timezone", {TypeId::kInterval, TypeId::kTimestampTz}, TypeId::kTimestamp, &z_tstz_izone, 1026);
  r.add("timezone", {TypeId::kText, TypeId::kTimestamp}, TypeId::kTimestampTz, &z_ts_zone, 2069);
  r.add("timezone", {TypeId::kInterval, TypeId::kTimestamp}, TypeId::kTimestampTz, &z_ts_izone, 2070);
  r.add("date_trunc", {TypeId::kText, TypeId::kTimestampTz, TypeId::kText}, TypeId::kTimestampTz, &z_trunc_zone, 1284);
  r.add("make_timestamptz",
        {TypeId::kInt4, TypeId::kInt4, TypeId::kInt4, TypeId::kInt4, TypeId::kInt4, TypeId::kFloat8, TypeId::kText},
        TypeId::kTimestampTz, &z_make_timestamptz_zone, 3463);
  r.add("date_bin", {TypeId::kInterval, TypeId::kTimestamp}, TypeId::kTimestamp, &z_date_bin_epoch<TypeId::kTimestamp>);
  r.add("date_bin", {TypeId::kInterval, TypeId::kTimestampTz}, TypeId::kTimestampTz,
        &z_date_bin_epoch<TypeId::kTimestampTz>);
}

}  // namespace freshet::fn
