#include "common/timezone.hpp"

#include <gtest/gtest.h>

#include "common/error.hpp"

namespace freshet {
namespace {

// Seconds since 1970 of a UTC (or local) wall time.
int64_t secs(int y, int mo, int d, int h, int mi) {
  // 2020-01-01 00:00:00 UTC = 1577836800; only 2020 dates are used below.
  static constexpr int kCum[] = {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335};  // leap year
  EXPECT_EQ(y, 2020);
  return 1577836800LL + (kCum[mo - 1] + d - 1) * 86400LL + h * 3600LL + mi * 60LL;
}

TEST(TimeZone, PosixStringsUsePosixSign) {
  const TimeZone* z = find_time_zone("UTC+3");
  ASSERT_NE(z, nullptr);
  EXPECT_EQ(z->offset_at_utc(secs(2020, 1, 1, 12, 0)), -3 * 3600);
  const TimeZone* p = find_time_zone("+05:30");  // no name: PostgreSQL allows it
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->offset_at_utc(0), -(5 * 3600 + 1800));
  const TimeZone* q = find_time_zone("<+0330>-3:30");
  ASSERT_NE(q, nullptr);
  EXPECT_EQ(q->offset_at_utc(0), 3 * 3600 + 1800);
}

TEST(TimeZone, PosixRulesGapAndOverlap) {
  const TimeZone* z = find_time_zone("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_NE(z, nullptr);
  std::string abbrev;
  EXPECT_EQ(z->offset_at_utc(secs(2020, 7, 1, 12, 0), &abbrev), -4 * 3600);
  EXPECT_EQ(abbrev, "EDT");
  EXPECT_EQ(z->offset_at_utc(secs(2020, 1, 1, 12, 0), &abbrev), -5 * 3600);
  EXPECT_EQ(abbrev, "EST");
  // 2020-03-08 02:30 does not exist: the offset before the transition (EST).
  EXPECT_EQ(z->offset_for_local(secs(2020, 3, 8, 2, 30)), -5 * 3600);
  // 2020-11-01 01:30 happens twice: the offset after the transition (EST).
  EXPECT_EQ(z->offset_for_local(secs(2020, 11, 1, 1, 30)), -5 * 3600);
  EXPECT_EQ(z->offset_for_local(secs(2020, 11, 1, 0, 59)), -4 * 3600);
}

TEST(TimeZone, UnknownNamesAndBadStrings) {
  EXPECT_EQ(find_time_zone("No/Such_Zone"), nullptr);
  EXPECT_EQ(find_time_zone("../../etc/passwd"), nullptr);
  EXPECT_EQ(find_time_zone("EST5EDT,M13.1.0,M11.1.0"), nullptr);
  EXPECT_EQ(find_time_zone(""), nullptr);
  EXPECT_THROW(zone_offset("foo", 0, false), SqlError);
}

TEST(TimeZone, Abbreviations) {
  ZoneAbbrev est = find_zone_abbrev("est");
  ASSERT_TRUE(est.found);
  EXPECT_EQ(est.offset_secs, -5 * 3600);
  ZoneAbbrev cest = find_zone_abbrev("CEST");
  ASSERT_TRUE(cest.found);
  EXPECT_EQ(cest.offset_secs, 2 * 3600);
  EXPECT_TRUE(cest.is_dst);
  EXPECT_FALSE(find_zone_abbrev("xyz").found);
}

TEST(TimeZone, SystemZoneFiles) {
  // Needs the system's tzdata (Debian package tzdata).
  const TimeZone* ny = find_time_zone("america/new_york");
  if (ny == nullptr) GTEST_SKIP() << "no tzdata in " << zoneinfo_dir();
  EXPECT_EQ(ny->name(), "America/New_York");
  EXPECT_EQ(ny->offset_at_utc(secs(2020, 7, 1, 12, 0)), -4 * 3600);
  EXPECT_EQ(ny->offset_at_utc(4102444800LL + 182 * 86400LL), -4 * 3600);  // 2100-07-02, from the footer rule
  const TimeZone* kolkata = find_time_zone("Asia/Kolkata");
  ASSERT_NE(kolkata, nullptr);
  EXPECT_EQ(kolkata->offset_at_utc(secs(2020, 7, 1, 12, 0)), 5 * 3600 + 1800);
}

}  // namespace
}  // namespace freshet
