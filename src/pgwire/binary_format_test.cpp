#include "pgwire/binary_format.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "common/error.hpp"
#include "common/format.hpp"
#include "common/numeric.hpp"

namespace freshet::pgwire {
namespace {

std::string hex(std::string_view s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    out.push_back(d[(static_cast<uint8_t>(c) >> 4) & 15]);
    out.push_back(d[static_cast<uint8_t>(c) & 15]);
  }
  return out;
}

std::string enc(const Datum& d, Type t) {
  std::string out;
  encode_binary(d, t, out);
  return out;
}

// Encodes, decodes and encodes again: both encodings must match, and the decoded datum must
// equal the original.
void round_trip(const Datum& d, Type t) {
  Arena arena;
  std::string a = enc(d, t);
  Datum back = decode_binary(a, t, arena);
  EXPECT_EQ(compare_datums(d, back), 0) << type_internal_name(t.id) << " " << hex(a);
  EXPECT_EQ(enc(back, t), a) << type_internal_name(t.id);
}

TEST(BinaryFormat, FixedWidthEncodings) {
  EXPECT_EQ(hex(enc(Datum::from_bool(true), TypeId::kBool)), "01");
  EXPECT_EQ(hex(enc(Datum::from_int(-2), TypeId::kInt2)), "fffe");
  EXPECT_EQ(hex(enc(Datum::from_int(0x01020304), TypeId::kInt4)), "01020304");
  EXPECT_EQ(hex(enc(Datum::from_int(-1), TypeId::kInt8)), "ffffffffffffffff");
  EXPECT_EQ(hex(enc(Datum::from_int(4000000000LL), TypeId::kOid)), "ee6b2800");
  EXPECT_EQ(hex(enc(Datum::from_float(1.5), TypeId::kFloat4)), "3fc00000");
  EXPECT_EQ(hex(enc(Datum::from_float(1.5), TypeId::kFloat8)), "3ff8000000000000");
  EXPECT_EQ(hex(enc(Datum::from_date(-1), TypeId::kDate)), "ffffffff");  // 1999-12-31
  EXPECT_EQ(hex(enc(Datum::from_interval(Interval{14, 3, 4000000}), TypeId::kInterval)),
            "00000000003d0900" "00000003" "0000000e");
  EXPECT_EQ(hex(enc(Datum::from_string("{\"a\": 1}"), TypeId::kJsonb)), "01" + hex("{\"a\": 1}"));
}

TEST(BinaryFormat, NumericBase10000) {
  auto num = [](const char* s) { return Datum::from_numeric(numeric_parse(s)); };
  // -123456.78: ndigits 3, weight 1, NEG, dscale 2, digits 12 3456 7800.
  EXPECT_EQ(hex(enc(num("-123456.78"), TypeId::kNumeric)), "0003" "0001" "4000" "0002" "000c" "0d80" "1e78");
  // 0.0001: one digit at weight -1.
  EXPECT_EQ(hex(enc(num("0.0001"), TypeId::kNumeric)), "0001" "ffff" "0000" "0004" "0001");
  // 10000: trailing zero digits are dropped.
  EXPECT_EQ(hex(enc(num("10000"), TypeId::kNumeric)), "0001" "0001" "0000" "0000" "0001");
  // 0.00 keeps its display scale.
  EXPECT_EQ(hex(enc(num("0.00"), TypeId::kNumeric)), "0000" "0000" "0000" "0002");
  EXPECT_EQ(hex(enc(num("NaN"), TypeId::kNumeric)), "0000" "0000" "c000" "0000");
  // 9e38 (a 39-digit value past 2^127): one digit 9 at weight 9.
  EXPECT_EQ(hex(enc(num("9e38"), TypeId::kNumeric)), "0001" "0009" "0000" "0000" "0384");

  for (const char* s : {"0", "1", "-1", "0.5", "123456789012345678901234567890.12345678", "-0.00000001",
                        "99999999999999999999999999999999999999", "1.10", "NaN", "12345.6789", "1e20",
                        "999999999999999999999999999999999999999", "-170141183460469231731687303715884105728",
                        "-98765432109876543210987654321098765432.1", "0.500000000000000000000000000000000000000"}) {
    round_trip(num(s), TypeId::kNumeric);
  }
  // Decoding keeps the sent display scale and truncates digits beyond it, like numeric_recv.
  Arena arena;
  std::string b;
  for (uint16_t v : {uint16_t{2}, uint16_t{0}, uint16_t{0}, uint16_t{1}, uint16_t{3}, uint16_t{1400}}) {
    b.push_back(static_cast<char>(v >> 8));
    b.push_back(static_cast<char>(v));
  }
  Datum d = decode_binary(b, TypeId::kNumeric, arena);  // 3.14 sent with dscale 1
  EXPECT_EQ(numeric_to_string(d.as_numeric()), "3.1");
  // numeric(3,0) applies the modifier.
  Datum r = decode_binary(enc(num("12.5"), TypeId::kNumeric), Type(TypeId::kNumeric, (3 << 16) | 0), arena);
  EXPECT_EQ(numeric_to_string(r.as_numeric()), "13");
}

TEST(BinaryFormat, RoundTrips) {
  round_trip(Datum::from_bool(false), TypeId::kBool);
  round_trip(Datum::from_int(-32768), TypeId::kInt2);
  round_trip(Datum::from_int(INT32_MIN), TypeId::kInt4);
  round_trip(Datum::from_int(INT64_MAX), TypeId::kInt8);
  round_trip(Datum::from_int(4294967295LL), TypeId::kOid);
  round_trip(Datum::from_int(1259), TypeId::kRegclass);
  round_trip(Datum::from_float(0.1f), TypeId::kFloat4);
  round_trip(Datum::from_float(-1e300), TypeId::kFloat8);
  round_trip(Datum::from_float(INFINITY), TypeId::kFloat8);
  round_trip(Datum::from_date(8766), TypeId::kDate);
  round_trip(Datum::from_date(kDatePosInfinity), TypeId::kDate);
  round_trip(Datum::from_time(86399999999LL), TypeId::kTime);
  round_trip(Datum::from_timestamp(-1), TypeId::kTimestamp);
  round_trip(Datum::from_timestamp(757382400000000LL), TypeId::kTimestampTz);
  round_trip(Datum::from_interval(Interval{-1, 2, -3}), TypeId::kInterval);
  Uuid u;
  for (int i = 0; i < 16; ++i) u.bytes[i] = static_cast<uint8_t>(i * 17);
  round_trip(Datum::from_uuid(u), TypeId::kUuid);
  round_trip(Datum::from_string(std::string_view("\0\x01\xff", 3)), TypeId::kBytea);
  round_trip(Datum::from_string("héllo"), TypeId::kText);
  round_trip(Datum::from_string("abc"), TypeId::kVarchar);
  round_trip(Datum::from_string("pg_class"), TypeId::kName);
  round_trip(Datum::from_string("{\"a\": [1, true, null]}"), TypeId::kJsonb);
  round_trip(Datum::from_string("{a,NULL,\"b c\"}"), TypeId::kTextArray);
  round_trip(Datum::from_string("{1,-2,3}"), TypeId::kInt2Array);
  round_trip(Datum::from_string("{}"), TypeId::kOidArray);
  round_trip(Datum::from_string("{16384,4294967295}"), TypeId::kOidArray);
  round_trip(Datum::from_string("{1,2}"), TypeId::kInt2Vector);
  round_trip(Datum::from_string("{23,25}"), TypeId::kOidVector);
}

std::string sqlstate_of(std::string_view bytes, Type t) {
  Arena arena;
  try {
    decode_binary(bytes, t, arena);
  } catch (const SqlError& e) {
    return e.sqlstate();
  }
  return "none";
}

TEST(BinaryFormat, MalformedInput) {
  EXPECT_EQ(sqlstate_of("", TypeId::kBool), "22P03");
  EXPECT_EQ(sqlstate_of("abc", TypeId::kInt4), "22P03");
  EXPECT_EQ(sqlstate_of("abcde", TypeId::kInt4), "22P03");
  EXPECT_EQ(sqlstate_of(std::string(15, 'x'), TypeId::kUuid), "22P03");
  EXPECT_EQ(sqlstate_of(std::string("\x02{}", 3), TypeId::kJsonb), "22P03");
  EXPECT_EQ(sqlstate_of(std::string("\0\x01\0\0\x80\0\0\0", 8), TypeId::kNumeric), "22P03");   // bad sign
  EXPECT_EQ(sqlstate_of(std::string("\0\x01\0\0\0\0\0\0\x27\x10", 10), TypeId::kNumeric), "22P03");  // digit 10000
  EXPECT_EQ(sqlstate_of(std::string("\0\x01\0\x20\0\0\0\0\0\x01", 10), TypeId::kNumeric), "22003");  // 10^128
  EXPECT_EQ(sqlstate_of(std::string("\0\0\0\0\xd0\0\0\0", 8), TypeId::kNumeric), "0A000");  // +Infinity
  EXPECT_EQ(sqlstate_of(std::string("\0\0\0\0\0\0\0\0\0\0\0\x17", 12), TypeId::kTextArray), "42804");
  EXPECT_EQ(sqlstate_of(std::string("\x80\0\0\0\0\0\0\0", 8), TypeId::kTime), "22008");
  EXPECT_FALSE(has_binary_format(TypeId::kRecord));
}

}  // namespace
}  // namespace freshet::pgwire
