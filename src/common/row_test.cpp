#include "common/row.hpp"
#include "common/row_prefix.hpp"

#include "common/numeric.hpp"

#include <gtest/gtest.h>

namespace freshet {
namespace {

TEST(RowTest, RoundTripsEveryKind) {
  Numeric n{-123456789012345678, 4};
  Interval iv{1, 2, 3'000'000};
  Uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(i * 7);
  std::string long_text(1000, 'x');
  std::vector<Datum> in = {Datum::null(),          Datum::from_bool(true),  Datum::from_bool(false),
                           Datum::from_int(5),     Datum::from_int(-300),   Datum::from_int(70000),
                           Datum::from_int(INT64_MIN), Datum::from_float(2.5), Datum::from_numeric(n),
                           Datum::from_string("abc"), Datum::from_string(long_text), Datum::from_string(""),
                           Datum::from_date(-10),  Datum::from_time(123),  Datum::from_timestamp(-5),
                           Datum::from_interval(iv), Datum::from_uuid(u)};
  Row r = Row::pack(in);
  std::vector<Datum> out = r.unpack();
  ASSERT_EQ(out.size(), in.size());
  EXPECT_EQ(r.arity(), in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(out[i].kind(), in[i].kind()) << i;
  }
  EXPECT_TRUE(out[0].is_null());
  EXPECT_TRUE(out[1].as_bool());
  EXPECT_EQ(out[4].as_int(), -300);
  EXPECT_EQ(out[6].as_int(), INT64_MIN);
  EXPECT_EQ(out[7].as_float(), 2.5);
  EXPECT_EQ(out[8].as_numeric().mantissa, n.mantissa);
  EXPECT_EQ(out[8].as_numeric().scale, 4);
  EXPECT_EQ(out[9].as_string(), "abc");
  EXPECT_EQ(out[10].as_string(), long_text);
  EXPECT_EQ(out[11].as_string(), "");
  EXPECT_EQ(out[12].as_int(), -10);
  EXPECT_EQ(out[15].as_interval(), iv);
  EXPECT_EQ(out[16].as_uuid(), u);
  EXPECT_EQ(r.get(9).as_string(), "abc");

  // column_offsets: each datum's slice is what packing that datum alone gives.
  std::vector<uint32_t> offsets(in.size() + 2);
  ASSERT_EQ(column_offsets(r, in.size() + 1, offsets.data()), in.size());
  EXPECT_EQ(offsets[0], 0u);
  EXPECT_EQ(offsets[in.size()], r.size_bytes());
  for (size_t i = 0; i < in.size(); ++i) {
    Row one = Row::pack(std::span<const Datum>(&in[i], 1));
    EXPECT_EQ(r.bytes().substr(offsets[i], offsets[i + 1] - offsets[i]), one.bytes()) << i;
  }
  ASSERT_EQ(column_offsets(r, 3, offsets.data()), 3u);
  EXPECT_EQ(offsets[3], prefix_bytes(r, 3));
}

TEST(RowTest, NumericMantissaSignExtension) {
  for (__int128 m : {(__int128)0, (__int128)1, (__int128)-1, (__int128)127, (__int128)128, (__int128)-128,
                     (__int128)-129, (__int128)1 << 100, -((__int128)1 << 100)}) {
    Row r = Row::pack(std::vector<Datum>{Datum::from_numeric(Numeric{m, 2})});
    EXPECT_TRUE(r.get(0).as_numeric().mantissa == m);
  }
}

// 39-digit values at and above 2^127 carry Numeric::ext in a 17th mantissa byte.
TEST(RowTest, WideNumericRoundTrip) {
  for (const char* text : {"999999999999999999999999999999999999999", "-999999999999999999999999999999999999999",
                           "170141183460469231731687303715884105728", "-170141183460469231731687303715884105728",
                           "340282366920938463463374607431768211456", "-340282366920938463463374607431768211457",
                           "900000000000000000000000000000000000000", "-98765432109876543210987654321098765432.1"}) {
    Numeric n = numeric_parse(text);
    Row r = Row::pack(std::vector<Datum>{Datum::from_numeric(n), Datum::from_int(7)});
    Numeric back = r.get(0).as_numeric();
    EXPECT_EQ(numeric_to_string(back), text);
    EXPECT_TRUE(back.mantissa == n.mantissa && back.ext == n.ext && back.scale == n.scale);
    EXPECT_EQ(r.get(1).as_int(), 7);
  }
}

TEST(RowTest, CompareOrdersNullsLast) {
  Row a = Row::pack(std::vector<Datum>{Datum::from_int(1), Datum::null()});
  Row b = Row::pack(std::vector<Datum>{Datum::from_int(1), Datum::from_int(100)});
  Row c = Row::pack(std::vector<Datum>{Datum::from_int(2), Datum::from_int(0)});
  EXPECT_GT(compare_rows(a.ref(), b.ref()), 0);
  EXPECT_LT(compare_rows(b.ref(), c.ref()), 0);
  EXPECT_EQ(compare_rows(a.ref(), a.ref()), 0);
  EXPECT_EQ(RowHash()(a), RowHash()(Row::pack(a.unpack())));
}

// A plan's large literal (SharedRow) is shared by the plan's copies: copying it copies no
// bytes, and each copy reads the same value.
TEST(RowTest, SharedRowCopiesShareTheBytes) {
  std::string big(1 << 20, 'x');
  Datum d = Datum::from_string(big);
  SharedRow a = Row::pack(std::span<const Datum>(&d, 1));
  SharedRow b = a;
  EXPECT_EQ(a.bytes().data(), b.bytes().data());
  EXPECT_EQ(b.get(0).as_string(), big);
  EXPECT_TRUE(a == b);
  SharedRow none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none == a);
  // A small literal stays inline; its copies read the same value.
  Datum s = Datum::from_string("small");
  SharedRow c = Row::pack(std::span<const Datum>(&s, 1));
  SharedRow e = c;
  EXPECT_EQ(e.get(0).as_string(), "small");
  EXPECT_TRUE(c == e);
  EXPECT_FALSE(c == a);
}

}  // namespace
}  // namespace freshet
