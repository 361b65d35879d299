#include "common/datetime_fields.hpp"

#include <gtest/gtest.h>

namespace freshet {
namespace {

std::string canon(std::string_view s) {
  auto c = canonical_datetime_fields(s);
  return c ? *c : "<none>";
}

// What PostgreSQL 15's ParseDateTime/DecodeDateTime read (checked with psql), in canonical form.
TEST(DatetimeFields, DatesSplitOverFields) {
  EXPECT_EQ(canon("2000 01-01"), "2000-01-01");
  EXPECT_EQ(canon("2000 01 01"), "2000-01-01");
  EXPECT_EQ(canon("03 17 2020"), "2020-03-17");
  EXPECT_EQ(canon("03 17 20"), "2020-03-17");
  EXPECT_EQ(canon("03 17 99"), "1999-03-17");
  EXPECT_EQ(canon("20070201"), "2007-02-01");
  EXPECT_EQ(canon("2000-01 01"), "<none>");  // a date field must complete the date
  EXPECT_EQ(canon("03-17 2020"), "<none>");
  EXPECT_EQ(canon("2020 001"), "<none>");    // day of year: not rewritten
}

TEST(DatetimeFields, PunctuationDelimits) {
  EXPECT_EQ(canon("\"2020!03-17 #?~T~02:36:56#+00\""), "2020-03-17 02:36:56 +00");
  EXPECT_EQ(canon("\"?!?2024-02-13 17:01:58.37848 ?+  00  : "), "2024-02-13 17:01:58.37848 +00");
  EXPECT_EQ(canon("\"?!?2024-02-13 17:01:58.37848 ?+  00  + "), "<none>");
  EXPECT_EQ(canon("\"2020-03-17 ~02:36:~56~\""), "<none>");  // a number after the time
}

TEST(DatetimeFields, IsoT) {
  EXPECT_EQ(canon("20070201 T 15:04:05+00"), "2007-02-01 15:04:05 +00");
  EXPECT_EQ(canon("2007-02-01  T  T  15:04:05"), "<none>");
  EXPECT_EQ(canon("2007-02-01  T "), "<none>");
}

TEST(DatetimeFields, WordsPassThrough) {
  EXPECT_EQ(canon("2020 03 17 12:00 utc"), "2020-03-17 12:00 utc");
  EXPECT_EQ(canon("2020 03 17 12:00 america/new_york"), "2020-03-17 12:00 america/new_york");
  EXPECT_EQ(canon(""), "<none>");
  EXPECT_EQ(canon("\xc3\xa9"), "<none>");  // not ASCII
}

}  // namespace
}  // namespace freshet
