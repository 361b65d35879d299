// Named time zones (timezone.hpp): TZif files (RFC 8536), POSIX TZ strings, and PostgreSQL 15's
// Default abbreviation set (share/timezonesets/Default).

#include "common/timezone.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/error.hpp"

namespace freshet {
namespace {

std::string lower(std::string_view s) {
  std::string r(s);
  for (char& c : r) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return r;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
int64_t year_of_days(int64_t days) {
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t m = mp + (mp < 10 ? 3 : -9);
  return yoe + era * 400 + (m <= 2);
}
bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// ---------------------------------------------------------------------------------------------
// POSIX TZ strings: std offset [dst [offset] [,start[/time],end[/time]]]

struct RuleDate {
  enum class Kind : uint8_t { kJulian1, kJulian0, kMonthWeekDay } kind = Kind::kMonthWeekDay;
  int day = 0, week = 0, month = 0;
  int64_t time_secs = 7200;  // local time of the transition
};

struct PosixRule {
  std::string std_name, dst_name;
  int32_t std_off = 0, dst_off = 0;  // east of UTC
  bool has_dst = false;
  RuleDate start, end;
};

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  bool name(std::string& out) {
    if (i_ < s_.size() && s_[i_] == '<') {
      size_t e = s_.find('>', i_);
      if (e == std::string_view::npos) return false;
      out = std::string(s_.substr(i_ + 1, e - i_ - 1));
      i_ = e + 1;
      return true;
    }
    size_t b = i_;
    while (i_ < s_.size() && std::isalpha(static_cast<unsigned char>(s_[i_]))) ++i_;
    out = std::string(s_.substr(b, i_ - b));
    return true;
  }
  // [+-]hh[:mm[:ss]] in seconds, sign as written.
  bool offset(int64_t& out, int max_hours) {
    int sign = 1;
    if (i_ < s_.size() && (s_[i_] == '+' || s_[i_] == '-')) sign = s_[i_++] == '-' ? -1 : 1;
    int64_t h = 0, m = 0, sec = 0;
    if (!number(h, 0, max_hours)) return false;
    if (i_ < s_.size() && s_[i_] == ':') {
      ++i_;
      if (!number(m, 0, 59)) return false;
      if (i_ < s_.size() && s_[i_] == ':') {
        ++i_;
        if (!number(sec, 0, 59)) return false;
      }
    }
    out = sign * (h * 3600 + m * 60 + sec);
    return true;
  }
  bool rule_date(RuleDate& d) {
    int64_t a = 0, b = 0, c = 0;
    if (i_ < s_.size() && s_[i_] == 'J') {
      ++i_;
      if (!number(a, 1, 365)) return false;
      d.kind = RuleDate::Kind::kJulian1;
      d.day = static_cast<int>(a);
    } else if (i_ < s_.size() && s_[i_] == 'M') {
      ++i_;
      if (!number(a, 1, 12) || !eat('.') || !number(b, 1, 5) || !eat('.') || !number(c, 0, 6)) return false;
      d.kind = RuleDate::Kind::kMonthWeekDay;
      d.month = static_cast<int>(a), d.week = static_cast<int>(b), d.day = static_cast<int>(c);
    } else {
      if (!number(a, 0, 365)) return false;
      d.kind = RuleDate::Kind::kJulian0;
      d.day = static_cast<int>(a);
    }
    if (i_ < s_.size() && s_[i_] == '/') {
      ++i_;
      if (!offset(d.time_secs, 167)) return false;
    }
    return true;
  }
  bool eat(char c) {
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }

 private:
  bool number(int64_t& out, int64_t lo, int64_t hi) {
    size_t b = i_;
    int64_t v = 0;
    while (i_ < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i_])) && i_ - b < 6) v = v * 10 + (s_[i_++] - '0');
    if (i_ == b || v < lo || v > hi) return false;
    out = v;
    return true;
  }
  std::string_view s_;
  size_t i_ = 0;
};

// PostgreSQL's tzparse (as pg_tzset uses it): the standard name may be empty ("+05:30" is a
// zone 5:30 west of UTC, POSIX's sign); a DST name without a rule takes the US rules that
// PostgreSQL's "posixrules" default gives.
std::optional<PosixRule> parse_posix(std::string_view s) {
  Parser p(s);
  PosixRule r;
  int64_t off = 0;
  if (!p.name(r.std_name) || p.done() || !p.offset(off, 24)) return std::nullopt;
  r.std_off = static_cast<int32_t>(-off);
  if (p.done()) return r;
  if (!p.name(r.dst_name) || r.dst_name.empty()) return std::nullopt;
  r.has_dst = true;
  r.dst_off = r.std_off + 3600;
  bool comma = p.eat(',');
  if (!comma && !p.done()) {
    if (!p.offset(off, 24)) return std::nullopt;
    r.dst_off = static_cast<int32_t>(-off);
    comma = p.eat(',');
  }
  if (!comma) {
    if (!p.done()) return std::nullopt;
    r.start = RuleDate{RuleDate::Kind::kMonthWeekDay, 0, 2, 3, 7200};
    r.end = RuleDate{RuleDate::Kind::kMonthWeekDay, 0, 1, 11, 7200};
    return r;
  }
  if (!p.rule_date(r.start) || !p.eat(',') || !p.rule_date(r.end) || !p.done()) return std::nullopt;
  return r;
}

// Seconds since 1970 (local time as if UTC) of a rule's transition in a year.
int64_t rule_local_time(const RuleDate& d, int64_t year) {
  int64_t day;
  switch (d.kind) {
    case RuleDate::Kind::kJulian1:
      day = days_from_civil(year, 1, 1) + d.day - 1 + (is_leap(year) && d.day >= 60 ? 1 : 0);
      break;
    case RuleDate::Kind::kJulian0:
      day = days_from_civil(year, 1, 1) + d.day;
      break;
    case RuleDate::Kind::kMonthWeekDay:
    default: {
      int64_t first = days_from_civil(year, d.month, 1);
      int dow_first = static_cast<int>(((first + 4) % 7 + 7) % 7);  // 1970-01-01 was a Thursday
      int mday = 1 + (d.day - dow_first + 7) % 7 + (d.week - 1) * 7;
      while (mday > days_in_month(year, d.month)) mday -= 7;
      day = first + mday - 1;
      break;
    }
  }
  return day * 86400 + d.time_secs;
}

int32_t posix_offset_at(const PosixRule& r, int64_t t, std::string* abbrev) {
  bool dst = false;
  if (r.has_dst) {
    int64_t year = year_of_days(floor_div(t + r.std_off, 86400));
    int64_t start = rule_local_time(r.start, year) - r.std_off;
    int64_t end = rule_local_time(r.end, year) - r.dst_off;
    dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  }
  if (abbrev != nullptr) *abbrev = dst ? r.dst_name : r.std_name;
  return dst ? r.dst_off : r.std_off;
}

class PosixZone final : public TimeZone {
 public:
  PosixZone(std::string name, PosixRule rule) : TimeZone(std::move(name)), rule_(std::move(rule)) {}
  int32_t offset_at_utc(int64_t t, std::string* abbrev) const override { return posix_offset_at(rule_, t, abbrev); }
  bool always_utc() const override { return rule_.std_off == 0 && (!rule_.has_dst || rule_.dst_off == 0); }
  int32_t abbrev_offset_at(std::string_view abbrev, int64_t t) const override {
    if (rule_.has_dst && lower(abbrev) == lower(rule_.dst_name)) return rule_.dst_off;
    if (lower(abbrev) == lower(rule_.std_name)) return rule_.std_off;
    return offset_at_utc(t, nullptr);
  }

 private:
  PosixRule rule_;
};

// ---------------------------------------------------------------------------------------------
// TZif files

class TzifZone final : public TimeZone {
 public:
  struct Type {
    int32_t utoff;
    bool isdst;
    std::string abbrev;
  };
  TzifZone(std::string name, std::vector<int64_t> times, std::vector<uint8_t> idx, std::vector<Type> types,
           std::optional<PosixRule> footer)
      : TimeZone(std::move(name)), times_(std::move(times)), idx_(std::move(idx)), types_(std::move(types)),
        footer_(std::move(footer)) {}

  int32_t offset_at_utc(int64_t t, std::string* abbrev) const override {
    if (footer_ && (times_.empty() || t >= times_.back())) return posix_offset_at(*footer_, t, abbrev);
    const Type* ty = &types_[0];
    if (!times_.empty() && t >= times_.front()) {
      size_t k = static_cast<size_t>(std::upper_bound(times_.begin(), times_.end(), t) - times_.begin()) - 1;
      ty = &types_[idx_[k]];
    }
    if (abbrev != nullptr) *abbrev = ty->abbrev;
    return ty->utoff;
  }
  bool always_utc() const override {
    for (const Type& t : types_)
      if (t.utoff != 0) return false;
    return !footer_ || (footer_->std_off == 0 && (!footer_->has_dst || footer_->dst_off == 0));
  }
  int32_t abbrev_offset_at(std::string_view abbrev, int64_t t) const override {
    std::string want = lower(abbrev), now;
    int32_t off = offset_at_utc(t, &now);
    if (lower(now) == want) return off;
    size_t k = static_cast<size_t>(std::upper_bound(times_.begin(), times_.end(), t) - times_.begin());
    for (size_t j = k; j-- > 0;)
      if (lower(types_[idx_[j]].abbrev) == want) return types_[idx_[j]].utoff;
    for (size_t j = k; j < times_.size(); ++j)
      if (lower(types_[idx_[j]].abbrev) == want) return types_[idx_[j]].utoff;
    if (footer_) {
      if (footer_->has_dst && lower(footer_->dst_name) == want) return footer_->dst_off;
      if (lower(footer_->std_name) == want) return footer_->std_off;
    }
    return off;
  }

 private:
  std::vector<int64_t> times_;
  std::vector<uint8_t> idx_;
  std::vector<Type> types_;
  std::optional<PosixRule> footer_;
};

int64_t be(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int k = 0; k < n; ++k) v = (v << 8) | p[k];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// Parses a TZif file (version 1, 2, 3 or 4); nullptr when it is not one.
std::unique_ptr<TimeZone> load_tzif(const std::string& name, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr size_t kMaxFileBytes = 1 << 20;
  if (data.size() < 44 || data.size() > kMaxFileBytes || data.compare(0, 4, "TZif") != 0) return nullptr;
  const auto* b = reinterpret_cast<const unsigned char*>(data.data());
  size_t pos = 0;
  auto header = [&](int64_t c[6]) {
    if (pos + 44 > data.size()) return false;
    for (int k = 0; k < 6; ++k) c[k] = be(b + pos + 20 + 4 * k, 4);
    for (int k = 0; k < 6; ++k)
      if (c[k] < 0) return false;
    pos += 44;
    return true;
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  if (!header(c)) return nullptr;
  int time_size = 4;
  char version = data[4];
  if (version >= '2') {
    pos += static_cast<size_t>(c[3] * 4 + c[3] + c[4] * 6 + c[5] + c[2] * 8 + c[1] + c[0]);
    if (!header(c)) return nullptr;
    time_size = 8;
  }
  size_t need = static_cast<size_t>(c[3] * time_size + c[3] + c[4] * 6 + c[5] + c[2] * (time_size + 4) + c[1] + c[0]);
  if (c[4] == 0 || pos + need > data.size()) return nullptr;
  std::vector<int64_t> times(static_cast<size_t>(c[3]));
  for (auto& t : times) {
    t = be(b + pos, time_size);
    pos += static_cast<size_t>(time_size);
  }
  std::vector<uint8_t> idx(static_cast<size_t>(c[3]));
  for (auto& x : idx) {
    x = b[pos++];
    if (x >= c[4]) return nullptr;
  }
  std::vector<TzifZone::Type> types(static_cast<size_t>(c[4]));
  std::vector<uint8_t> desig(static_cast<size_t>(c[4]));
  for (size_t k = 0; k < types.size(); ++k) {
    types[k].utoff = static_cast<int32_t>(be(b + pos, 4));
    types[k].isdst = b[pos + 4] != 0;
    desig[k] = b[pos + 5];
    pos += 6;
  }
  std::string chars = data.substr(pos, static_cast<size_t>(c[5]));
  pos += static_cast<size_t>(c[5]);
  for (size_t k = 0; k < types.size(); ++k)
    if (desig[k] < chars.size()) types[k].abbrev = std::string(chars.c_str() + desig[k]);
  pos += static_cast<size_t>(c[2] * (time_size + 4) + c[1] + c[0]);
  std::optional<PosixRule> footer;
  if (version >= '2' && pos < data.size() && data[pos] == '\n') {
    size_t e = data.find('\n', pos + 1);
    if (e != std::string::npos && e > pos + 1) footer = parse_posix(std::string_view(data).substr(pos + 1, e - pos - 1));
  }
  if (!std::is_sorted(times.begin(), times.end())) return nullptr;
  return std::make_unique<TzifZone>(name, std::move(times), std::move(idx), std::move(types), std::move(footer));
}

// ---------------------------------------------------------------------------------------------
// The registry

struct Registry {
  std::mutex mu;
  bool indexed = false;
  std::unordered_map<std::string, std::string> files;  // lower-case relative path -> real one
  std::unordered_map<std::string, std::unique_ptr<TimeZone>> zones;  // by lower-case name
  std::unordered_map<std::string, bool> missing;
  int posix_zones = 0;
};

Registry& registry() {
  static Registry r;
  return r;
}

void build_index(Registry& r) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root(zoneinfo_dir());
  constexpr size_t kMaxFiles = 20000;
  for (fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec), end;
       !ec && it != end && r.files.size() < kMaxFiles; it.increment(ec)) {
    const fs::path& p = it->path();
    std::string rel = p.lexically_relative(root).string();
    if (it->is_directory(ec)) {
      // posix/ and right/ are copies (right/ with leap seconds, which PostgreSQL ignores).
      if (rel == "posix" || rel == "right") it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file(ec)) continue;
    r.files.emplace(lower(rel), rel);
  }
  r.indexed = true;
}

}  // namespace

std::string zoneinfo_dir() {
  const char* d = std::getenv("FRESHET_ZONEINFO");
  return d != nullptr && *d != '\0' ? std::string(d) : std::string("/usr/share/zoneinfo");
}

int32_t TimeZone::offset_for_local(int64_t local) const {
  constexpr int64_t kDay = 86400;
  int32_t before = offset_at_utc(local - kDay);
  int32_t after = offset_at_utc(local + kDay);
  if (before == after) return before;
  // The transition between: the first UTC second at which the offset is no longer `before`.
  int64_t lo = local - kDay, hi = local + kDay;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    if (offset_at_utc(mid) == before) lo = mid;
    else hi = mid;
  }
  int64_t boundary = hi;
  after = offset_at_utc(boundary);
  int64_t before_time = local - before, after_time = local - after;
  if (before_time < boundary && after_time < boundary) return before;
  if (before_time >= boundary && after_time >= boundary) return after;
  // A gap prefers the offset before the transition, an overlap the one after (PostgreSQL).
  return before_time > after_time ? before : after;
}

const TimeZone* find_time_zone(std::string_view name) {
  if (name.empty() || name.size() > 255) return nullptr;
  Registry& r = registry();
  std::string key = lower(name);
  std::lock_guard lock(r.mu);
  if (auto it = r.zones.find(key); it != r.zones.end()) return it->second.get();
  if (r.missing.count(key)) return nullptr;
  if (!r.indexed) build_index(r);
  std::unique_ptr<TimeZone> z;
  if (auto f = r.files.find(key); f != r.files.end()) z = load_tzif(f->second, zoneinfo_dir() + "/" + f->second);
  if (!z) {
    if (auto rule = parse_posix(name)) {
      if (r.posix_zones >= kMaxPosixZones)
        throw SqlError(sqlstate::kProgramLimitExceeded, "too many distinct time zones")
            .with_detail("At most " + std::to_string(kMaxPosixZones) + " POSIX time zone strings are kept.");
      ++r.posix_zones;
      z = std::make_unique<PosixZone>(std::string(name), std::move(*rule));
    }
  }
  if (!z) {
    if (r.missing.size() < 4096) r.missing.emplace(key, true);
    return nullptr;
  }
  return r.zones.emplace(key, std::move(z)).first->second.get();
}

namespace {
struct AbbrevEntry {
  const char* name;
  int32_t offset;
  bool is_dst;
  const char* zone;
};
// PostgreSQL 15's share/timezonesets/Default, lower-cased and sorted.
constexpr AbbrevEntry kAbbrevs[] = {
#include "common/timezone_abbrevs.inc"
};
}  // namespace

ZoneAbbrev find_zone_abbrev(std::string_view name) {
  std::string key = lower(name);
  auto it = std::lower_bound(std::begin(kAbbrevs), std::end(kAbbrevs), key,
                             [](const AbbrevEntry& e, const std::string& k) { return std::string_view(e.name) < k; });
  ZoneAbbrev r;
  if (it == std::end(kAbbrevs) || key != it->name) return r;
  r.found = true;
  if (it->zone != nullptr) {
    r.zone = find_time_zone(it->zone);
    if (r.zone == nullptr) r.found = false;
  } else {
    r.offset_secs = it->offset;
    r.is_dst = it->is_dst;
  }
  return r;
}

int32_t zone_offset(std::string_view zone, int64_t seconds, bool is_local) {
  ZoneAbbrev a = find_zone_abbrev(zone);
  const TimeZone* tz = nullptr;
  if (a.found) {
    if (a.zone == nullptr) return a.offset_secs;
    // The abbreviation's meaning does not depend on whether `seconds` is local or UTC except
    // within a day of a change of that meaning; PostgreSQL resolves it at the UTC instant.
    return a.zone->abbrev_offset_at(zone, seconds);
  } else {
    tz = find_time_zone(zone);
  }
  if (tz == nullptr)
    throw SqlError(sqlstate::kInvalidParameterValue, "time zone \"" + std::string(zone) + "\" not recognized");
  return is_local ? tz->offset_for_local(seconds) : tz->offset_at_utc(seconds);
}

}  // namespace freshet
