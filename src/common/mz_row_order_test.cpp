#include "common/mz_row_order.hpp"

#include <gtest/gtest.h>

#include "common/numeric.hpp"

namespace freshet {
namespace {

std::string enc(const Datum& d, Type t) {
  std::string out;
  EXPECT_TRUE(mz_encode_datum(d, t, out));
  return out;
}
std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

// Expected bytes worked out from Materialize's push_datum (src/repr/src/row.rs).
TEST(MzRowOrder, Integers) {
  EXPECT_EQ(enc(Datum::from_int(0), TypeId::kInt4), bytes({44}));          // NonNegativeInt32_0
  EXPECT_EQ(enc(Datum::from_int(-1), TypeId::kInt4), bytes({61}));         // NegativeInt32_0
  EXPECT_EQ(enc(Datum::from_int(-40), TypeId::kInt4), bytes({62, 0xd8}));  // NegativeInt32_8
  EXPECT_EQ(enc(Datum::from_int(300), TypeId::kInt4), bytes({46, 0x2c, 0x01}));
  // The tag carries the sign: -129 (0x...ff7f) needs one byte, 0x7f.
  EXPECT_EQ(enc(Datum::from_int(-129), TypeId::kInt8), bytes({67, 0x7f}));
  EXPECT_EQ(enc(Datum::from_int(-257), TypeId::kInt8), bytes({68, 0xff, 0xfe}));
  EXPECT_EQ(enc(Datum::from_int(5), TypeId::kInt2), bytes({42, 5}));
  EXPECT_EQ(enc(Datum::null(), TypeId::kInt4), bytes({0}));
}

TEST(MzRowOrder, NumericStringArray) {
  // 1.50 reduced: coefficient 15, exponent -1; units of three digits, little-endian u16.
  EXPECT_EQ(enc(Datum::from_numeric(numeric_parse("1.50")), TypeId::kNumeric), bytes({32, 2, 0xff, 0, 15, 0}));
  EXPECT_EQ(enc(Datum::from_numeric(numeric_parse("-1234")), TypeId::kNumeric), bytes({32, 4, 0, 0x80, 234, 0, 1, 0}));
  EXPECT_EQ(enc(Datum::from_numeric(numeric_parse("0.00")), TypeId::kNumeric), bytes({32, 1, 0, 0, 0, 0}));
  EXPECT_EQ(enc(Datum::from_numeric(numeric_parse("1000")), TypeId::kNumeric), bytes({32, 1, 3, 0, 1, 0}));
  EXPECT_EQ(enc(Datum::from_string("ab"), TypeId::kText), bytes({19, 2, 'a', 'b'}));
  EXPECT_EQ(enc(Datum::from_string("{1,NULL}"), TypeId::kInt4Array),
            bytes({24, 1, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0, 45, 1, 0}));
  EXPECT_EQ(enc(Datum::from_string("{}"), TypeId::kInt4Array), bytes({24, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

// window_funcs.slt:6412: of two rows tied on ORDER BY x, the shorter encoding comes first.
TEST(MzRowOrder, LengthThenBytes) {
  std::vector<Type> types = {TypeId::kInt4, TypeId::kInt4, TypeId::kInt8, TypeId::kInt4, TypeId::kInt4, TypeId::kInt4Array};
  std::vector<Datum> a = {Datum::from_int(10), Datum::from_int(-40), Datum::from_int(8), Datum::from_int(18), Datum::from_int(-40),
                          Datum::from_string("{-40,14,16,18,NULL}")};
  std::vector<Datum> b = {Datum::from_int(10), Datum::from_int(-50), Datum::from_int(-42), Datum::from_int(18), Datum::from_int(-50),
                          Datum::from_string("{-50,-40,14,16,18,NULL}")};
  EXPECT_EQ(mz_compare_encoded_rows(a, b, types), -1);
  EXPECT_EQ(mz_compare_encoded_rows(b, a, types), 1);
  // Equal lengths: the bytes decide (-50 is 0xce, -40 is 0xd8).
  std::vector<Type> two = {TypeId::kInt4};
  std::vector<Datum> x = {Datum::from_int(-50)}, y = {Datum::from_int(-40)};
  EXPECT_EQ(mz_compare_encoded_rows(x, y, two), -1);
  // A type without an encoding here: no answer.
  std::vector<Type> js = {TypeId::kJsonb};
  std::vector<Datum> j = {Datum::from_string("{}")};
  EXPECT_EQ(mz_compare_encoded_rows(j, j, js), std::nullopt);
}

}  // namespace
}  // namespace freshet
