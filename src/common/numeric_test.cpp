#include "common/numeric.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "common/numeric_mz.hpp"
#include "common/sql_dialect.hpp"

namespace freshet {
namespace {

std::string S(const Numeric& n) { return numeric_to_string(n); }
Numeric N(std::string_view s) { return numeric_parse(s); }

std::string sqlstate_of(auto&& fn) {
  try {
    fn();
  } catch (const SqlError& e) {
    return e.sqlstate();
  }
  return "";
}

TEST(NumericTest, ParseAndPrintKeepScale) {
  EXPECT_EQ(S(N("12.50")), "12.50");
  EXPECT_EQ(S(N(" -1e3 ")), "-1000");
  EXPECT_EQ(S(N("1.50e1")), "15.0");
  EXPECT_EQ(S(N("1.5e-3")), "0.0015");
  EXPECT_EQ(S(N(".5")), "0.5");
  EXPECT_EQ(S(N("-0")), "0");
  EXPECT_EQ(S(N("-0.000")), "0.000");
  EXPECT_EQ(S(N("NaN")), "NaN");
  EXPECT_EQ(S(N("99999999999999999999999999999999999999")), "99999999999999999999999999999999999999");
  EXPECT_EQ(sqlstate_of([] { N("abc"); }), "22P02");
  EXPECT_EQ(sqlstate_of([] { N("1.2.3"); }), "22P02");
  EXPECT_EQ(sqlstate_of([] { N(""); }), "22P02");
  EXPECT_EQ(sqlstate_of([] { N("9999999999999999999999999999999999999999"); }), "22003");
}

TEST(NumericTest, ArithmeticMatchesPostgres) {
  // Expected values printed by PostgreSQL 15.
  EXPECT_EQ(S(numeric_div(N("1"), N("3"))), "0.33333333333333333333");
  EXPECT_EQ(S(numeric_div(N("10"), N("4"))), "2.5000000000000000");
  EXPECT_EQ(S(numeric_div(N("1000000"), N("7"))), "142857.142857142857");
  EXPECT_EQ(S(numeric_div(N("2.5"), N("0.1"))), "25.0000000000000000");
  EXPECT_EQ(S(numeric_div(N("1"), N("30000"))), "0.000033333333333333333333");
  EXPECT_EQ(S(numeric_div(N("123456789.123"), N("0.001"))), "123456789123.00000000");
  EXPECT_EQ(S(numeric_mul(N("1.5"), N("1.25"))), "1.875");
  EXPECT_EQ(S(numeric_add(N("1.5"), N("2.25"))), "3.75");
  EXPECT_EQ(S(numeric_sub(N("1.5"), N("2.25"))), "-0.75");
  EXPECT_EQ(S(numeric_mod(N("7.5"), N("2"))), "1.5");
  EXPECT_EQ(S(numeric_mod(N("-7"), N("3"))), "-1");
  EXPECT_EQ(sqlstate_of([] { numeric_div(N("1"), N("0")); }), "22012");
  EXPECT_EQ(sqlstate_of([] { numeric_mod(N("1"), N("0.0")); }), "22012");
  EXPECT_EQ(sqlstate_of([] { numeric_mul(N("1e30"), N("1e30")); }), "22003");
  // Results PostgreSQL gives exactly are exact or 22003, never rounded (issue 10): a product,
  // sum or input past 39 digits (or 39 digits at or above 2^127) fails.
  EXPECT_EQ(sqlstate_of([] { numeric_mul(N("0.12345678901234567890123"), N("0.12345678901234567890123")); }), "22003");
  EXPECT_EQ(sqlstate_of([] { numeric_add(N("999999999999999999999999999999999999.123"), N("1")); }), "22003");
  EXPECT_EQ(sqlstate_of([] { N("1e-40"); }), "22003");
  EXPECT_EQ(sqlstate_of([] { N("1e39"); }), "22003");
  EXPECT_EQ(sqlstate_of([] { N("1000000000000000000000000000000000000000"); }), "22003");
  EXPECT_EQ(sqlstate_of([] { numeric_add(N("1e38"), N("1e-39")); }), "22003");
  EXPECT_EQ(sqlstate_of([] { N("1e-2000"); }), "22003");
  // Materialize's 39 digits and scale 39, where the mantissa fits 127 bits.
  EXPECT_EQ(S(N("-0.000000000000000000000000000000000000001")), "-0.000000000000000000000000000000000000001");
  EXPECT_EQ(S(N("-123456789012345678.901234567890123456789")), "-123456789012345678.901234567890123456789");
  EXPECT_EQ(S(N("170141183460469231731687303715884105727")), "170141183460469231731687303715884105727");
  EXPECT_EQ(S(numeric_add(N("1e38"), N("-1e38"))), "0");
  EXPECT_EQ(S(numeric_add(N("1"), N("-1e38"))), "-99999999999999999999999999999999999999");
  EXPECT_EQ(S(numeric_mul(N("1e-39"), N("2"))), "0.000000000000000000000000000000000000002");
  EXPECT_LT(numeric_compare(N("1e-39"), N("1e-38")), 0);
  EXPECT_EQ(numeric_compare(N("1e-39"), N("0.0000000000000000000000000000000000000010")), 0);
  EXPECT_GT(numeric_compare(N("1e38"), N("0.000000000000000000000000000000000000001")), 0);
  // Never throws, whatever the scales (sorting and arrangements compare).
  EXPECT_GT(numeric_compare(N("170141183460469231731687303715884105727"), N("0.000000000000000000000000000000000000001")), 0);
  EXPECT_LT(numeric_compare(N("-170141183460469231731687303715884105727"), N("-0.000000000000000000000000000000000000001")), 0);
  EXPECT_LT(numeric_compare(N("0.170141183460469231731687303715884105727"), N("1")), 0);
  EXPECT_EQ(S(numeric_round(N("0.123456789012345678901234567890123456789"), 1)), "0.1");
  EXPECT_EQ(S(numeric_round(N("123456789012345.678901234567890123456789"), -7)), "123456790000000");
  EXPECT_EQ(S(N("0e-2000")), "0.000000000000000000000000000000000000000");
  // Trailing zeros past 39 digits are dropped: the value stays exact (its display scale shrinks).
  EXPECT_EQ(S(N("1.000000000000000000000000000000000000000000")), "1.00000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_mul(N("0.5"), N("0.20"))), "0.100");
}

// 39-digit values at and above 2^127 (Numeric::ext != 0): Materialize's numeric.slt.
// Products of 64-bit mantissas take a 128-bit path: the same values, scales and errors as
// the general one.
TEST(NumericTest, NarrowProductsMatchTheGeneralPath) {
  EXPECT_EQ(S(numeric_mul(N("7"), N("123.45"))), "864.15");
  EXPECT_EQ(S(numeric_mul(N("-7"), N("123.45"))), "-864.15");
  EXPECT_EQ(S(numeric_mul(N("0"), N("-1.50"))), "0.00");
  EXPECT_EQ(S(numeric_mul(N("-9223372036854775808"), N("-9223372036854775808"))), "85070591730234615865843651857942052864");
  EXPECT_EQ(S(numeric_mul(N("9223372036854775807"), N("-9223372036854775808"))), "-85070591730234615856620279821087277056");
  EXPECT_EQ(S(numeric_mul(N("0.0000000000000000001"), N("0.00000000000000000002"))), "0.000000000000000000000000000000000000002");
  EXPECT_EQ(sqlstate_of([] { numeric_mul(N("0.00000000000000000001"), N("0.00000000000000000001")); }), "22003");
  EXPECT_EQ(S(numeric_mul(N("NaN"), N("2"))), "NaN");
}

TEST(NumericTest, WideThirtyNineDigits) {
  const char* nines = "999999999999999999999999999999999999999";
  EXPECT_EQ(S(N(nines)), nines);
  EXPECT_EQ(S(N("-999999999999999999999999999999999999999")), "-999999999999999999999999999999999999999");
  EXPECT_EQ(S(N("170141183460469231731687303715884105728")), "170141183460469231731687303715884105728");
  EXPECT_EQ(S(N("-170141183460469231731687303715884105728")), "-170141183460469231731687303715884105728");
  EXPECT_EQ(S(N("9e38")), "900000000000000000000000000000000000000");
  EXPECT_EQ(S(N("9.876e38")), "987600000000000000000000000000000000000");
  EXPECT_EQ(S(N("-98765432109876543210987654321098765432.1")), "-98765432109876543210987654321098765432.1");
  // Arithmetic crossing 2^127 both ways, exact.
  EXPECT_EQ(S(numeric_add(N("1e38"), N("1e38"))), "200000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_sub(N("9e38"), N("8.99999999999999999999999999999999999999e38"))), "1");
  EXPECT_EQ(S(numeric_add(N("-9e38"), N("9e38"))), "0");
  EXPECT_EQ(S(numeric_mul(N("3e38"), N("-3"))), "-900000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_div(N("9e38"), N("3"))), "300000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_div(N("6e38"), N("2e38"))), "3.0000000000000000");
  EXPECT_EQ(S(numeric_mod(N("900000000000000000000000000000000000001"), N("10"))), "1");
  EXPECT_EQ(S(numeric_neg(N("9e38"))), "-900000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_abs(N("-9e38"))), "900000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_round(N("9.876e38"), -37)), "990000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_round(N("9e38"), -40)), "0");
  EXPECT_EQ(S(numeric_trunc(N("987654321098765432109876543210987654321"), -30)), "987654321000000000000000000000000000000");
  EXPECT_EQ(S(numeric_normalize(N("900000000000000000000000000000000000000"))), "900000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_sqrt(N("9e38"), 0)), "30000000000000000000");
  // Past 39 digits: 22003, never rounded.
  EXPECT_EQ(sqlstate_of([&] { numeric_add(N(nines), N("1")); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_sub(N("-9e38"), N("1e38")); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_mul(N(nines), N(nines)); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_add(N("9e38"), N("0.1")); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_round(N("9.876e38"), -38); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_round(N("9e38"), -39); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_to_int(N("9e38")); }), "22003");
  // Order, equality and hashing across the 2^127 boundary and across scales.
  EXPECT_LT(numeric_compare(N("170141183460469231731687303715884105727"), N("170141183460469231731687303715884105728")), 0);
  EXPECT_LT(numeric_compare(N("-9e38"), N("-8e38")), 0);
  EXPECT_LT(numeric_compare(N("-9e38"), N("1")), 0);
  EXPECT_GT(numeric_compare(N("NaN"), N("9e38")), 0);
  EXPECT_EQ(numeric_compare(N("9e38"), numeric_round(N("9e38"), 0)), 0);
  EXPECT_GT(numeric_compare(N("98765432109876543210987654321098765432.1"), N("98765432109876543210987654321098765431.9")), 0);
  EXPECT_EQ(numeric_hash(N("2e38")), numeric_hash(numeric_mul(N("2e37"), N("10.0"))));
  EXPECT_EQ(numeric_compare(N("2e38"), numeric_mul(N("2e37"), N("10.0"))), 0);
  // Datum round trip keeps ext.
  Numeric w = N("-987654321098765432109876543210987654321");
  EXPECT_EQ(S(Datum::from_numeric(w).as_numeric()), "-987654321098765432109876543210987654321");
  EXPECT_EQ(numeric_sign(w), -1);
  EXPECT_EQ(numeric_abs_digits(w), "987654321098765432109876543210987654321");
}

TEST(NumericTest, Rounding) {
  EXPECT_EQ(S(numeric_round(N("2.5"), 0)), "3");
  EXPECT_EQ(S(numeric_round(N("-2.5"), 0)), "-3");
  EXPECT_EQ(S(numeric_round(N("1234.5678"), -2)), "1200");
  EXPECT_EQ(S(numeric_round(N("1.5"), 3)), "1.500");
  EXPECT_EQ(S(numeric_round(N("9.99"), 1)), "10.0");
  EXPECT_EQ(S(numeric_trunc(N("-1.99"), 1)), "-1.9");
  EXPECT_EQ(numeric_to_int(N("2.5")), 3);
  EXPECT_EQ(numeric_to_int(N("-2.5")), -3);
  EXPECT_EQ(sqlstate_of([] { numeric_to_int(N("9223372036854775808")); }), "22003");
  EXPECT_EQ(numeric_to_int(N("-9223372036854775808")), INT64_MIN);
}

TEST(NumericTest, Typmod) {
  int32_t typmod = (5 << 16) | 2;
  EXPECT_EQ(S(numeric_apply_typmod(N("123.456"), typmod)), "123.46");
  EXPECT_EQ(S(numeric_apply_typmod(N("1"), typmod)), "1.00");
  EXPECT_EQ(sqlstate_of([&] { numeric_apply_typmod(N("1000"), typmod); }), "22003");
  EXPECT_EQ(sqlstate_of([&] { numeric_apply_typmod(N("999.999"), typmod); }), "22003");
}

TEST(NumericTest, CompareAndHashIgnoreScale) {
  EXPECT_EQ(numeric_compare(N("1.5"), N("1.50")), 0);
  EXPECT_EQ(numeric_hash(N("1.5")), numeric_hash(N("1.50")));
  EXPECT_EQ(numeric_hash(N("100")), numeric_hash(N("100.000")));
  EXPECT_EQ(numeric_hash(N("0")), numeric_hash(N("0.00")));
  EXPECT_LT(numeric_compare(N("1.49"), N("1.5")), 0);
  EXPECT_GT(numeric_compare(N("-1.49"), N("-1.5")), 0);
  EXPECT_GT(numeric_compare(N("NaN"), N("1e37")), 0);
  EXPECT_LT(numeric_compare(N("99999999999999999999"), N("100000000000000000000.0000001")), 0);
}

TEST(NumericTest, Doubles) {
  EXPECT_EQ(S(numeric_from_double(0.1)), "0.1");
  EXPECT_EQ(S(numeric_from_double(1e20)), "100000000000000000000");
  EXPECT_EQ(S(numeric_from_double(1.5e-10)), "0.00000000015");
  EXPECT_EQ(numeric_to_double(N("0.1")), 0.1);
  EXPECT_TRUE(numeric_from_double(std::nan("")).is_nan());
}

// The 128-bit fast paths of compare, trunc and the division's scale selection (numeric.cpp)
// must agree with the 256-bit paths they bypass: compare against the sign of the difference
// (numeric_add's own path), trunc against the printed digits, and divisions PostgreSQL 15
// answered (SELECT a / b).
TEST(NumericTest, NarrowFastPathsAgree) {
  const char* values[] = {"0", "1", "-1", "0.5", "-0.5", "1436918400.000000", "1436918400.000001", "-1436918400.999999",
                          "718459200", "99999999999999999999999999999999999999", "-99999999999999999999999999999999999999",
                          "0.000000000000000000000000000000000000001", "170141183460469231731687303715884105727",
                          "-170141183460469231731687303715884105727", "170141183460469231731687303715884105728",
                          "12345678901234567890.123456789012345678", "2.5", "-2.5", "1e38", "-1e-30", "100.10"};
  for (const char* x : values)
    for (const char* y : values) {
      Numeric a = N(x), b = N(y);
      EXPECT_EQ(numeric_compare(a, b), -numeric_compare(b, a)) << x << " vs " << y;
      int want;
      try {
        want = numeric_sign(numeric_sub(a, b));
      } catch (const SqlError&) {
        continue;  // the difference needs more than 39 digits (1e-39 against 1e38)
      }
      EXPECT_EQ(numeric_compare(a, b), want) << x << " vs " << y;
    }
  for (const char* x : values) {
    std::string s = S(N(x));
    auto dot = s.find('.');
    std::string want = dot == std::string::npos ? s : s.substr(0, dot);
    if (want == "-0") want = "0";
    EXPECT_EQ(S(numeric_trunc(N(x), 0)), want) << x;
  }
  EXPECT_EQ(S(numeric_trunc(N("-1436918400.999999"), 3)), "-1436918400.999");
  EXPECT_EQ(S(numeric_trunc(N("0.000000000000000000000000000000000000001"), 0)), "0");
  EXPECT_EQ(S(numeric_trunc(N("0.000000000000000000000000000000000000009"), 38)), "0.00000000000000000000000000000000000000");
  // SELECT 1436918400.123456 / 2, 1436918400.123456 / 10, -7 / 3.0, 1 / 3::numeric, 0.0001 / 7,
  //        123456789012345678901234567890 / 7 in PostgreSQL 15:
  EXPECT_EQ(S(numeric_div(N("1436918400.123456"), N("2"))), "718459200.06172800");
  EXPECT_EQ(S(numeric_div(N("1436918400.123456"), N("10"))), "143691840.01234560");
  EXPECT_EQ(S(numeric_div(N("-7"), N("3.0"))), "-2.3333333333333333");
  EXPECT_EQ(S(numeric_div(N("1"), N("3"))), "0.33333333333333333333");
  EXPECT_EQ(S(numeric_div(N("0.0001"), N("7"))), "0.000014285714285714285714");
  EXPECT_EQ(S(numeric_div(N("123456789012345678901234567890"), N("7"))), "17636684144620811271604938270");
}

// The materialize dialect (numeric_mz.cpp): 39 significant digits, rounded half up; the
// default dialect's answers for the same operations are unchanged. Expected digits are
// Materialize's (its test/sqllogictest/numeric.slt) or Python's decimal module at prec=39.
TEST(NumericTest, MaterializeDialect) {
  struct Reset {
    ~Reset() { set_sql_dialect(SqlDialect::kPostgres); }
  } reset;
  EXPECT_EQ(S(numeric_div(N("2.0"), N("1.1"))), "1.8181818181818182");
  EXPECT_EQ(sqlstate_of([] { numeric_add(N("1e38"), N("1e-39")); }), "22003");
  set_sql_dialect(SqlDialect::kMaterialize);
  EXPECT_EQ(S(numeric_div(N("2.0"), N("1.1"))), "1.81818181818181818181818181818181818182");
  EXPECT_EQ(S(numeric_div(N("1"), N("11"))), "0.090909090909090909090909090909090909091");
  EXPECT_EQ(S(numeric_div(N("-10"), N("6"))), "-1.66666666666666666666666666666666666667");
  EXPECT_EQ(S(numeric_div(N("1"), N("4"))), "0.25");
  EXPECT_EQ(sqlstate_of([] { numeric_div(N("1e-39"), N("10")); }), "22003");  // underflow
  EXPECT_EQ(S(numeric_add(N("1e38"), N("1e-39"))), "100000000000000000000000000000000000000");
  EXPECT_EQ(S(numeric_mul(N(".123456789012345678901234567890123456789"), N(".1"))),
            "0.012345678901234567890123456789012345679");
  EXPECT_EQ(sqlstate_of([] { numeric_add(N("999999999999999999999999999999999999999"), N("1")); }), "22003");
  EXPECT_EQ(S(N("-123456789012345678.901234567890123456789123")), "-123456789012345678.901234567890123456789");
  EXPECT_EQ(sqlstate_of([] { N("1e39"); }), "22003");
  EXPECT_EQ(S(mz_numeric_sqrt(N("2"))), "1.41421356237309504880168872420969807857");
  EXPECT_EQ(S(mz_numeric_sqrt(N("6.25"))), "2.5");
  EXPECT_EQ(S(mz_numeric_exp(N("1"))), "2.71828182845904523536028747135266249776");
  EXPECT_EQ(S(mz_numeric_exp(N("-1"))), "0.367879441171442321595523770161460867446");
  EXPECT_EQ(sqlstate_of([] { mz_numeric_exp(N("-50000")); }), "22003");
  EXPECT_EQ(S(mz_numeric_ln(N("2"))), "0.693147180559945309417232121458176568076");
  EXPECT_EQ(S(mz_numeric_log10(N("5000"))), "3.69897000433601880478626110527550697323");
  EXPECT_EQ(S(mz_numeric_log10(N("0.001"))), "-3");
  EXPECT_EQ(S(mz_numeric_log(N("128"), N("2"))), "0.142857142857142857142857142857142857143");
  EXPECT_EQ(S(mz_numeric_log(N("2"), N("8"))), "3");
  EXPECT_EQ(S(mz_numeric_pow(N("2.5"), N("-3.5"))), "0.040477154050155255449585837368738797232");
  EXPECT_EQ(S(mz_numeric_pow(N("-2"), N("3"))), "-8");
  EXPECT_EQ(S(mz_numeric_pow(N("2"), N("-2"))), "0.25");
  EXPECT_EQ(sqlstate_of([] { mz_numeric_pow(N("10"), N("39")); }), "22003");
  // A base within 1e-20 of 1 (log10 of it is 0 in a double) to a huge power: an error, not a
  // series squared 2^70 times.
  EXPECT_EQ(sqlstate_of([] { mz_numeric_pow(N("1.00000000000000000001"), N("1e38")); }), "22003");
  EXPECT_EQ(sqlstate_of([] { mz_numeric_pow(N("1.00000000000000000001"), N("1e37") ); }), "22003");
  EXPECT_EQ(sqlstate_of([] { mz_numeric_pow(N("0.99999999999999999999"), N("100000000000000000000000.5")); }), "22003");
  EXPECT_EQ(S(mz_numeric_pow(N("1.00000000000000000001"), N("1000000000000000000000"))),
            "22026.4657948067165158565773555439085405");
  // Accumulators stay exact in both dialects.
  EXPECT_EQ(sqlstate_of([] { numeric_add_exact(N("1e38"), N("1e-39")); }), "22003");
  // Output drops trailing zeros.
  EXPECT_EQ(S(numeric_for_output(N("1.500"))), "1.5");
}

}  // namespace
}  // namespace freshet
