#pragma once
// Named time zones: the IANA database as the system installs it (/usr/share/zoneinfo, TZif
// files, RFC 8536), POSIX TZ strings ("EST5EDT", "UTC+3", "<+0530>-5:30") and PostgreSQL's
// "Default" set of time zone abbreviations ("EST", "CEST", "MSK"), looked up the way
// PostgreSQL's timezone(zone, ts) / AT TIME ZONE and timestamptz input look them up.
//
// Why TZif files read by hand rather than C++20 <chrono>'s tzdb: the compiler here is GCC 12,
// whose libstdc++ has no std::chrono::tzdb (it came in GCC 14). The format is small (a table
// of transitions plus a POSIX rule for the years after it) and PostgreSQL reads the same files.
//
// Thread-safety: find_time_zone may be called from any thread; zones are loaded once, on first
// use, under a mutex, and are immutable and never freed afterwards (the returned pointer stays
// valid for the life of the process). The number of distinct zones is bounded by the files in
// the zone directory plus kMaxPosixZones POSIX strings.

#include <cstdint>
#include <string>
#include <string_view>

namespace freshet {

class TimeZone {
 public:
  virtual ~TimeZone() = default;
  // The offset (seconds east of UTC) in effect at a UTC instant (seconds since 1970), and
  // the zone's abbreviation then ("EDT", "+0530").
  virtual int32_t offset_at_utc(int64_t unix_seconds, std::string* abbrev = nullptr) const = 0;
  // The UTC offset for a local wall-clock time (seconds since 1970 as if it were UTC), as
  // PostgreSQL's DetermineTimeZoneOffset chooses it: in a spring-forward gap the offset before
  // the transition, in a fall-back overlap the offset after it.
  int32_t offset_for_local(int64_t local_seconds) const;
  // The offset a dynamic abbreviation ("MSK" of Europe/Moscow) means at a UTC instant, as
  // PostgreSQL's pg_interpret_timezone_abbrev finds it: the meaning in effect at that time if
  // the abbreviation is in use then, else its most recent earlier meaning, else its earliest
  // later one; the zone's offset then when the zone never uses it.
  virtual int32_t abbrev_offset_at(std::string_view abbrev, int64_t unix_seconds) const = 0;
  // Whether the zone is UTC at every instant (Etc/UTC, Zulu, GMT0, "UTC0").
  virtual bool always_utc() const = 0;
  const std::string& name() const { return name_; }

 protected:
  explicit TimeZone(std::string name) : name_(std::move(name)) {}

 private:
  std::string name_;
};

inline constexpr int kMaxPosixZones = 1024;

// A zone by name, as pg_tzset finds it: a file of the zone directory (case-insensitively:
// "america/new_york"), else a POSIX TZ string. nullptr when neither.
const TimeZone* find_time_zone(std::string_view name);

// PostgreSQL's Default timezone_abbreviations: a fixed offset (seconds east of UTC), or a
// zone whose offset at the time in question applies (MSK is Europe/Moscow). `name` is
// matched case-insensitively.
struct ZoneAbbrev {
  bool found = false;
  int32_t offset_secs = 0;
  bool is_dst = false;
  const TimeZone* zone = nullptr;  // a dynamic abbreviation
};
ZoneAbbrev find_zone_abbrev(std::string_view name);

// PostgreSQL's timestamptz_zone / timestamp_zone name resolution: an abbreviation first,
// then a zone name. Returns the offset east of UTC in effect at a UTC instant (is_local
// false) or for a local wall time (is_local true). Throws SqlError 22023 "time zone \"x\" not
// recognized" for an unknown name.
int32_t zone_offset(std::string_view zone, int64_t seconds, bool is_local);

// The directory the zone files are read from: $FRESHET_ZONEINFO, else /usr/share/zoneinfo.
std::string zoneinfo_dir();

}  // namespace freshet
