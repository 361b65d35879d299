// Interval input, output and comparison under both dialects (common/sql_dialect.hpp): the
// Materialize dialect's answers are the records of Materialize's interval.slt, the default
// dialect's are PostgreSQL 15's for the same text.
#include <gtest/gtest.h>

#include "common/datum.hpp"
#include "common/error.hpp"
#include "common/format.hpp"
#include "common/interval_materialize.hpp"
#include "common/sql_dialect.hpp"

namespace freshet {
namespace {

// Sets the dialect for one test and restores the default.
class Dialect {
 public:
  explicit Dialect(SqlDialect d) { set_sql_dialect(d); }
  ~Dialect() { set_sql_dialect(SqlDialect::kPostgres); }
};

int32_t qualifier(std::initializer_list<int> bits, int32_t precision = kIntervalFullPrecision) {
  int32_t range = 0;
  for (int b : bits) range |= 1 << b;
  return (range << 16) | precision;
}

std::string text(std::string_view in, int32_t typmod = -1) {
  try {
    std::string out;
    format_interval(parse_interval(in, typmod), out);
    return out;
  } catch (const SqlError& e) {
    return e.sqlstate() + " " + e.message();
  }
}

TEST(IntervalMaterialize, InputAndOutput) {
  Dialect mz(SqlDialect::kMaterialize);
  EXPECT_EQ(text("1 year 2 month 3 day 4 hour 5 minute 6.7 second"), "1 year 2 months 3 days 04:05:06.7");
  EXPECT_EQ(text("-1-2 3 -4:5:6.7"), "-1 years -2 months +3 days -04:05:06.7");
  EXPECT_EQ(text("10.333 years"), "10 years 3 months");
  EXPECT_EQ(text("1.5 microseconds"), "00:00:00.000002");
  EXPECT_EQ(text("0.5 microseconds"), "00:00:00.000001");
  EXPECT_EQ(text("1.999999999999999999 days"), "1 day 23:59:59.999914");
  EXPECT_EQ(text("2562047788.01521550194 hours"), "2562047788:00:54.775804");
  EXPECT_EQ(text("-::1.27"), "-00:00:01.27");
  EXPECT_EQ(text(":::1- ::2 ::::3:"), "1 year 2 days 03:00:00");
  EXPECT_EQ(text("1h"), "01:00:00");
  EXPECT_EQ(text("1-2 3 year"), "22007 invalid input syntax for type interval: YEAR field set twice: \"1-2 3 year\"");
  EXPECT_EQ(text("100-13"), "22007 invalid input syntax for type interval: MONTH must be [-12, 12], got 13: \"100-13\"");
  EXPECT_EQ(text("1:2:3.4.5"),
            "22007 invalid input syntax for type interval: have unprocessed tokens .500000000: \"1:2:3.4.5\"");
  EXPECT_EQ(text("1 week"),
            "22007 invalid input syntax for type interval: Cannot determine format of all parts. Add explicit time "
            "components, e.g. INTERVAL '1 day' or INTERVAL '1' DAY: \"1 week\"");
  EXPECT_EQ(text("9223372036854775808 us"),
            "22007 invalid input syntax for type interval: Unable to parse value 9223372036854775808 as a number: "
            "number too large to fit in target type: \"9223372036854775808 us\"");
  EXPECT_EQ(text("1 é"), "22007 invalid input syntax for type interval: Invalid character at offset 2 in 1 é: 'é': \"1 é\"");
}

TEST(IntervalMaterialize, Qualifiers) {
  Dialect mz(SqlDialect::kMaterialize);
  EXPECT_EQ(text("1-2 3 4:5:6.7", qualifier({kIntervalDayBit, kIntervalHourBit})), "3 days 04:00:00");
  EXPECT_EQ(text("12:34:56", qualifier({kIntervalMinuteBit, kIntervalSecondBit})), "00:34:56");
  EXPECT_EQ(text("1:2:31.23456789", qualifier({kIntervalMinuteBit, kIntervalSecondBit}, 2)), "00:02:31.23");
  EXPECT_EQ(text("10.333", qualifier({kIntervalYearBit})), "10 years");
  EXPECT_EQ(text("1", qualifier({kIntervalMonthBit})), "1 month");
  EXPECT_EQ(text("1-2 3 4:5:6.7", qualifier({kIntervalMonthBit, kIntervalDayBit, kIntervalHourBit, kIntervalMinuteBit})),
            "2 months 3 days 04:05:00");
  EXPECT_EQ(text("2562047788:00:54.775807", qualifier({kIntervalSecondBit}, 2)),
            "22015 interval field value out of range: \"2562047788:00:54.77\"");
}

TEST(IntervalMaterialize, ComparisonIsFieldByField) {
  Datum month = Datum::from_interval(Interval{1, 0, 0}), days = Datum::from_interval(Interval{0, 9999999, 0});
  Datum day = Datum::from_interval(Interval{0, 1, 0}), hours = Datum::from_interval(Interval{0, 0, 86'400'000'000});
  EXPECT_LT(compare_datums(month, days), 0);
  EXPECT_EQ(compare_datums(day, hours), 0);
  Dialect mz(SqlDialect::kMaterialize);
  EXPECT_GT(compare_datums(month, days), 0);
  EXPECT_GT(compare_datums(day, hours), 0);
  EXPECT_EQ(compare_datums(day, Datum::from_interval(Interval{0, 1, 0})), 0);
}

TEST(IntervalMaterialize, DefaultDialectIsPostgres) {
  EXPECT_EQ(text("1 year 2 month"), "1 year 2 mons");
  EXPECT_EQ(text("10.333 years"), "10 years 4 mons");
  EXPECT_EQ(text("1.5 microseconds"), "00:00:00.000001");
  EXPECT_EQ(text("1-2 3 4:5:6.7", qualifier({kIntervalDayBit, kIntervalHourBit})), "1 year 2 mons 3 days 04:00:00");
  EXPECT_EQ(text("12:34:56", qualifier({kIntervalMinuteBit, kIntervalSecondBit})), "12:34:56");
}

}  // namespace
}  // namespace freshet
