#include "common/format.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "common/numeric.hpp"

namespace freshet {
namespace {

// Round trip through PostgreSQL's input and output functions. Expected strings are what
// PostgreSQL 15 prints.
std::string rt(std::string_view in, Type t) {
  Arena arena;
  return format_datum(parse_datum(in, t, arena), t);
}

std::string f8(double v) {
  std::string s;
  format_float8(v, s);
  return s;
}
std::string f4(float v) {
  std::string s;
  format_float4(v, s);
  return s;
}

std::string err(std::string_view in, Type t) {
  Arena arena;
  try {
    parse_datum(in, t, arena);
  } catch (const SqlError& e) {
    return e.sqlstate() + " " + e.message();
  }
  return "no error";
}

TEST(FormatTest, Booleans) {
  EXPECT_EQ(rt("true", TypeId::kBool), "t");
  EXPECT_EQ(rt(" F ", TypeId::kBool), "f");
  EXPECT_EQ(rt("yes", TypeId::kBool), "t");
  EXPECT_EQ(rt("of", TypeId::kBool), "f");
  EXPECT_EQ(rt("1", TypeId::kBool), "t");
  EXPECT_EQ(err("o", TypeId::kBool), "22P02 invalid input syntax for type boolean: \"o\"");
}

TEST(FormatTest, Integers) {
  EXPECT_EQ(rt(" -42 ", TypeId::kInt4), "-42");
  EXPECT_EQ(rt("+7", TypeId::kInt2), "7");
  EXPECT_EQ(rt("-9223372036854775808", TypeId::kInt8), "-9223372036854775808");
  EXPECT_EQ(err("2147483648", TypeId::kInt4), "22003 value \"2147483648\" is out of range for type integer");
  EXPECT_EQ(err("40000", TypeId::kInt2), "22003 value \"40000\" is out of range for type smallint");
  EXPECT_EQ(err("12a", TypeId::kInt8), "22P02 invalid input syntax for type bigint: \"12a\"");
  EXPECT_EQ(err("", TypeId::kInt4), "22P02 invalid input syntax for type integer: \"\"");
  EXPECT_EQ(rt("-1", TypeId::kOid), "4294967295");
}

TEST(FormatTest, Floats) {
  EXPECT_EQ(f8(1.5), "1.5");
  EXPECT_EQ(f8(1e16), "1e+16");
  EXPECT_EQ(f8(1e15), "1e+15");
  EXPECT_EQ(f8(123456789012345), "123456789012345");
  EXPECT_EQ(f8(1234567890123456), "1.234567890123456e+15");
  EXPECT_EQ(f8(0.0001), "0.0001");
  EXPECT_EQ(f8(0.00001), "1e-05");
  EXPECT_EQ(f8(0.1), "0.1");
  EXPECT_EQ(f8(static_cast<double>(0.1f)), "0.10000000149011612");
  EXPECT_EQ(f8(1e-320), "1e-320");
  EXPECT_EQ(f8(-0.0), "-0");
  EXPECT_EQ(f8(HUGE_VAL), "Infinity");
  EXPECT_EQ(f8(-HUGE_VAL), "-Infinity");
  EXPECT_EQ(f8(std::nan("")), "NaN");
  EXPECT_EQ(f4(100000), "100000");
  EXPECT_EQ(f4(123456), "123456");
  EXPECT_EQ(f4(1234567), "1.234567e+06");
  EXPECT_EQ(f4(1e6f), "1e+06");
  EXPECT_EQ(f4(1.23e-5f), "1.23e-05");
  EXPECT_EQ(rt("0.1", TypeId::kFloat4), "0.1");
  EXPECT_EQ(rt(" -Infinity", TypeId::kFloat8), "-Infinity");
  EXPECT_EQ(rt("nan", TypeId::kFloat8), "NaN");
  EXPECT_EQ(err("1e400", TypeId::kFloat8), "22003 \"1e400\" is out of range for type double precision");
  EXPECT_EQ(err("1e40", TypeId::kFloat4), "22003 \"1e40\" is out of range for type real");
  EXPECT_EQ(err("x", TypeId::kFloat8), "22P02 invalid input syntax for type double precision: \"x\"");
}

TEST(FormatTest, NumericWithTypmod) {
  EXPECT_EQ(rt("1.50", TypeId::kNumeric), "1.50");
  EXPECT_EQ(rt("1.555", Type(TypeId::kNumeric, (10 << 16) | 2)), "1.56");
  EXPECT_EQ(err("1000", Type(TypeId::kNumeric, (5 << 16) | 2)), "22003 numeric field overflow");
}

TEST(FormatTest, Strings) {
  EXPECT_EQ(rt("abc", TypeId::kText), "abc");
  EXPECT_EQ(rt("ab", Type(TypeId::kBpchar, 4)), "ab  ");
  EXPECT_EQ(rt("abcd   ", Type(TypeId::kBpchar, 4)), "abcd");
  EXPECT_EQ(rt("abc  ", Type(TypeId::kVarchar, 3)), "abc");
  EXPECT_EQ(rt("héllo", Type(TypeId::kVarchar, 5)), "héllo");
  EXPECT_EQ(err("abcd", Type(TypeId::kVarchar, 3)), "22001 value too long for type character varying(3)");
  EXPECT_EQ(err("abcd", Type(TypeId::kBpchar, 3)), "22001 value too long for type character(3)");
  EXPECT_EQ(rt("xyz", TypeId::kChar), "x");
}

TEST(FormatTest, Bytea) {
  EXPECT_EQ(rt("\\x0aFF", TypeId::kBytea), "\\x0aff");
  EXPECT_EQ(rt("abc", TypeId::kBytea), "\\x616263");
  EXPECT_EQ(rt("a\\\\b\\001", TypeId::kBytea), "\\x615c6201");
  EXPECT_EQ(err("\\x0", TypeId::kBytea), "22P02 invalid hexadecimal data: odd number of digits");
}

TEST(FormatTest, Dates) {
  EXPECT_EQ(rt("2024-01-31", TypeId::kDate), "2024-01-31");
  EXPECT_EQ(rt("0044-03-15 BC", TypeId::kDate), "0044-03-15 BC");
  EXPECT_EQ(rt("10000-01-01", TypeId::kDate), "10000-01-01");
  EXPECT_EQ(rt("2024-01-31 12:00", TypeId::kDate), "2024-01-31");
  EXPECT_EQ(rt("1/31/2024", TypeId::kDate), "2024-01-31");
  EXPECT_EQ(rt("-infinity", TypeId::kDate), "-infinity");
  EXPECT_EQ(rt("epoch", TypeId::kDate), "1970-01-01");
  // A zone after a date alone, as pgJDBC's setDate sends it.
  EXPECT_EQ(rt("2024-02-29 +00", TypeId::kDate), "2024-02-29");
  EXPECT_EQ(rt("0044-03-15 BC +00", TypeId::kDate), "0044-03-15 BC");
  EXPECT_EQ(rt("2024-02-29 +05", TypeId::kTimestampTz), "2024-02-28 19:00:00+00");
  EXPECT_EQ(rt("2024-02-29 UTC", TypeId::kDate), "2024-02-29");
  EXPECT_EQ(err("2024-02-29 +", TypeId::kDate), "22007 invalid input syntax for type date: \"2024-02-29 +\"");
  EXPECT_EQ(err("2024-02-30", TypeId::kDate), "22008 date/time field value out of range: \"2024-02-30\"");
  EXPECT_EQ(err("nope", TypeId::kDate), "22007 invalid input syntax for type date: \"nope\"");
  int y, m, d;
  date_to_ymd(0, y, m, d);
  EXPECT_EQ(y * 10000 + m * 100 + d, 20000101);
  EXPECT_EQ(date_from_ymd(2000, 3, 1), 60);
}

TEST(FormatTest, Timestamps) {
  EXPECT_EQ(rt("2024-01-31 12:00:00+05", TypeId::kTimestamp), "2024-01-31 12:00:00");
  EXPECT_EQ(rt("2024-01-31 12:00:00.500+05:30", TypeId::kTimestampTz), "2024-01-31 06:30:00.5+00");
  EXPECT_EQ(rt("2024-01-31T12:00:00Z", TypeId::kTimestampTz), "2024-01-31 12:00:00+00");
  EXPECT_EQ(rt("0044-03-15 10:00 BC", TypeId::kTimestampTz), "0044-03-15 10:00:00+00 BC");
  EXPECT_EQ(rt("2024-01-31", TypeId::kTimestamp), "2024-01-31 00:00:00");
  EXPECT_EQ(rt("1999-12-31 23:59:59.1234567", TypeId::kTimestamp), "1999-12-31 23:59:59.123457");
  EXPECT_EQ(rt("infinity", TypeId::kTimestamp), "infinity");
  EXPECT_EQ(rt("epoch", TypeId::kTimestampTz), "1970-01-01 00:00:00+00");
  EXPECT_EQ(rt("2024-01-31 12:00:00.56", Type(TypeId::kTimestamp, 1)), "2024-01-31 12:00:00.6");
  EXPECT_EQ(rt("24:00:00", TypeId::kTime), "24:00:00");
  EXPECT_EQ(rt("12:34:56.789", TypeId::kTime), "12:34:56.789");
  EXPECT_EQ(rt("1:02", TypeId::kTime), "01:02:00");
}

TEST(FormatTest, Intervals) {
  EXPECT_EQ(rt("-1 day 02:00:00", TypeId::kInterval), "-1 days +02:00:00");
  EXPECT_EQ(rt("1 year -2 mons 3 days", TypeId::kInterval), "10 mons 3 days");
  EXPECT_EQ(rt("-1 month", TypeId::kInterval), "-1 mons");
  EXPECT_EQ(rt("1.5 days", TypeId::kInterval), "1 day 12:00:00");
  EXPECT_EQ(rt("1.5 months", TypeId::kInterval), "1 mon 15 days");
  EXPECT_EQ(rt("-1:30", TypeId::kInterval), "-01:30:00");
  EXPECT_EQ(rt("10", TypeId::kInterval), "00:00:10");
  EXPECT_EQ(rt("1 day ago", TypeId::kInterval), "-1 days");
  EXPECT_EQ(rt("P1Y2M3DT4H5M6.5S", TypeId::kInterval), "1 year 2 mons 3 days 04:05:06.5");
  EXPECT_EQ(rt("1 hour 30 minutes", TypeId::kInterval), "01:30:00");
  EXPECT_EQ(rt("0", TypeId::kInterval), "00:00:00");
  EXPECT_EQ(rt("-00:00:01.5", TypeId::kInterval), "-00:00:01.5");
  EXPECT_EQ(rt("1 week", TypeId::kInterval), "7 days");
  EXPECT_EQ(rt("1.5 years", TypeId::kInterval), "1 year 6 mons");
  EXPECT_EQ(rt("100 hours", TypeId::kInterval), "100:00:00");
  EXPECT_EQ(rt("7 days", TypeId::kInterval), "7 days");
  EXPECT_EQ(rt("1 year 2 mons 3 days 04:05:06", TypeId::kInterval), "1 year 2 mons 3 days 04:05:06");
  EXPECT_EQ(err("7 dayz", TypeId::kInterval), "22007 invalid input syntax for type interval: \"7 dayz\"");
}

TEST(FormatTest, Uuid) {
  EXPECT_EQ(rt("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", TypeId::kUuid), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(rt("{a0eebc999c0b4ef8bb6d6bb9bd380a11}", TypeId::kUuid), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(err("a0ee", TypeId::kUuid), "22P02 invalid input syntax for type uuid: \"a0ee\"");
}

TEST(FormatTest, Jsonb) {
  EXPECT_EQ(rt(R"({"b":1, "aa":2, "a":[1,2.50,1e3,true,null], "b":"x\n"})", TypeId::kJsonb),
            R"({"a": [1, 2.50, 1000, true, null], "b": "x\n", "aa": 2})");
  EXPECT_EQ(rt("  [ ]", TypeId::kJsonb), "[]");
  EXPECT_EQ(rt("{}", TypeId::kJsonb), "{}");
  EXPECT_EQ(rt(R"("\u00e9\u0001")", TypeId::kJsonb), "\"\xc3\xa9\\u0001\"");
  EXPECT_EQ(err("{\"a\":}", TypeId::kJsonb), "22P02 invalid input syntax for type json");
  EXPECT_EQ(err("[1,]", TypeId::kJsonb), "22P02 invalid input syntax for type json");
}

TEST(FormatTest, TextArrays) {
  EXPECT_EQ(rt("{a, b ,\"c d\",NULL,\"NULL\",\"\"}", TypeId::kTextArray), "{a,b,\"c d\",NULL,\"NULL\",\"\"}");
  EXPECT_EQ(rt("{}", TypeId::kTextArray), "{}");
  EXPECT_EQ(rt("{\"a\\\"b\",c\\,d}", TypeId::kTextArray), "{\"a\\\"b\",\"c,d\"}");
  EXPECT_EQ(rt("{1, 2}", TypeId::kInt2Array), "{1,2}");
}

TEST(FormatTest, Vectors) {
  EXPECT_EQ(rt(" 1  2 3 ", TypeId::kInt2Vector), "1 2 3");
  EXPECT_EQ(rt("", TypeId::kInt2Vector), "");
  EXPECT_EQ(rt("23 4294967295", TypeId::kOidVector), "23 4294967295");
  EXPECT_EQ(err("1 x", TypeId::kInt2Vector), "22P02 invalid input syntax for type smallint: \"x\"");
}

}  // namespace
}  // namespace freshet

namespace freshet {
namespace {

// Materialize's lists (types.hpp kList): interned types, canonical text, element casts.
TEST(ListTest, TypesAreInternedAndNamed) {
  Type il = list_type_of(Type(TypeId::kInt4));
  EXPECT_EQ(il, list_type_of(Type(TypeId::kInt4)));
  EXPECT_NE(il, list_type_of(Type(TypeId::kText)));
  Type ill = list_type_of(il);
  EXPECT_EQ(list_element_type(ill), il);
  EXPECT_EQ(type_name(ill), "integer list list");
  EXPECT_EQ(type_name(list_type_of(Type(TypeId::kNumeric, (10 << 16) | 2))), "numeric(10,2) list");
  EXPECT_EQ(physical_kind(TypeId::kList), PhysicalKind::kString);
}

TEST(ListTest, TextFormIsCanonical) {
  Type il = list_type_of(Type(TypeId::kInt4));
  Type ill = list_type_of(il);
  Type tl = list_type_of(Type(TypeId::kText));
  EXPECT_EQ(rt(" { 1 , NULL,02 } ", il), "{1,NULL,2}");
  EXPECT_EQ(rt("{}", il), "{}");
  EXPECT_EQ(rt("{{1}, {}, NULL, { 2 ,3}}", ill), "{{1},{},NULL,{2,3}}");
  // Only NULL in capitals is NULL (Materialize): `null` is a string and is shown unquoted.
  EXPECT_EQ(rt(R"({a,"b c","NULL",null,NULL,"{1}","\"\\"})", tl), R"({a,"b c","NULL",null,NULL,"{1}","\"\\"})");
  EXPECT_EQ(rt("{\"{1}\"}", ill), "{{1}}");
  for (const char* bad : {"", "1", "{1", "{1,}", "{1}x", "{{1}", "{\"a}"}) {
    try {
      rt(bad, il);
      ADD_FAILURE() << bad;
    } catch (const SqlError& e) {
      EXPECT_EQ(e.sqlstate(), "22P02") << bad;
    }
  }
  EXPECT_THROW(rt("{x}", il), SqlError);
  EXPECT_THROW(rt("{1}", ill), SqlError);  // an element of an int4 list list must be a list
}

TEST(ListTest, ElementsAndLiterals) {
  Arena arena;
  Type ill = list_type_of(list_type_of(Type(TypeId::kInt4)));
  std::vector<Datum> elems = list_elements("{{1,2},NULL}", ill, arena);
  ASSERT_EQ(elems.size(), 2u);
  EXPECT_EQ(elems[0].as_string(), "{1,2}");
  EXPECT_TRUE(elems[1].is_null());
  EXPECT_EQ(list_literal(elems, ill), "{{1,2},NULL}");
}

}  // namespace
}  // namespace freshet
