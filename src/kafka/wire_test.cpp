#include "kafka/wire.hpp"

#include <gtest/gtest.h>

namespace freshet::kafka {
namespace {

TEST(Wire, Crc32cKnownVectors) {
  // RFC 3720 B.4 and the classic check value.
  EXPECT_EQ(crc32c("123456789"), 0xE3069283u);
  EXPECT_EQ(crc32c(std::string(32, '\0')), 0x8A9136AAu);
  EXPECT_EQ(crc32c(std::string(32, '\xff')), 0x62A8AB43u);
}

TEST(Wire, VarintRoundTripAndKnownBytes) {
  std::string out;
  Writer w(out);
  w.varint(0);
  w.varint(-1);
  w.varint(1);
  w.varint(-64);
  w.varint(64);
  w.varint(INT32_MAX);
  w.varint(INT32_MIN);
  w.varlong(INT64_MIN);
  w.varlong(1234567890123LL);
  // Zigzag: 0 -> 00, -1 -> 01, 1 -> 02, -64 -> 7f, 64 -> 80 01.
  EXPECT_EQ(out.substr(0, 6), std::string("\x00\x01\x02\x7f\x80\x01", 6));
  Reader r(out);
  EXPECT_EQ(r.varint(), 0);
  EXPECT_EQ(r.varint(), -1);
  EXPECT_EQ(r.varint(), 1);
  EXPECT_EQ(r.varint(), -64);
  EXPECT_EQ(r.varint(), 64);
  EXPECT_EQ(r.varint(), INT32_MAX);
  EXPECT_EQ(r.varint(), INT32_MIN);
  EXPECT_EQ(r.varlong(), INT64_MIN);
  EXPECT_EQ(r.varlong(), 1234567890123LL);
  EXPECT_TRUE(r.done());
}

TEST(Wire, StringsAndCompactForms) {
  std::string out;
  Writer w(out);
  w.string("ab");
  w.nullable_string(std::nullopt);
  w.compact_string("xyz");
  w.compact_nullable_string(std::nullopt);
  w.bytes("q");
  w.compact_array_len(2);
  w.empty_tagged_fields();
  EXPECT_EQ(out, std::string("\x00\x02" "ab" "\xff\xff" "\x04xyz" "\x00" "\x00\x00\x00\x01q" "\x03" "\x00", 18));
  Reader r(out);
  EXPECT_EQ(r.string(), "ab");
  EXPECT_FALSE(r.nullable_string().has_value());
  EXPECT_EQ(r.compact_string(), "xyz");
  EXPECT_FALSE(r.compact_nullable_string().has_value());
  EXPECT_EQ(r.bytes(), "q");
  EXPECT_EQ(r.compact_array_len(0), 2);
  r.skip_tagged_fields();
  EXPECT_TRUE(r.done());
}

TEST(Wire, TruncationAndHostileLengthsThrow) {
  Reader r1(std::string_view("\x00\x05" "ab", 4));
  EXPECT_THROW(r1.string(), DecodeError);
  Reader r2(std::string_view("\x7f\xff\xff\xff", 4));
  EXPECT_THROW(r2.array_len(4), DecodeError);
  Reader r3(std::string_view("\xff\xff\xff\xff\xff\x01", 6));
  EXPECT_THROW(r3.uvarint(), DecodeError);
  Reader r4(std::string_view("\x01\x05\x09", 3));  // one tagged field, size 9, missing bytes
  EXPECT_THROW(r4.skip_tagged_fields(), DecodeError);
}

}  // namespace
}  // namespace freshet::kafka
