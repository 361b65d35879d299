// Unit tests of the binlog decoders with hand-built event bytes and known values.

#include "capture/mysql/binlog.hpp"

#include <gtest/gtest.h>

#include <bit>

#include "capture/mysql/mysql_source.hpp"
#include "common/format.hpp"

namespace freshet::capture::mysql {
namespace {

using namespace std::string_literals;

ColumnInfo col(MyKind kind, Type type, bool is_unsigned = false) {
  ColumnInfo c;
  c.name = "c";
  c.kind = kind;
  c.type = type;
  c.is_unsigned = is_unsigned;
  return c;
}

// Decodes one value and formats it ("NULL" for NULL); checks that all bytes were consumed.
std::string value(uint8_t type, uint16_t meta, const ColumnInfo& c, std::string bytes) {
  Arena arena;
  std::string_view in(bytes);
  auto d = decode_value(type, meta, c, in, arena);
  if (!d) return "error: " + d.status().message();
  EXPECT_TRUE(in.empty()) << "left " << in.size();
  return d->is_null() ? "NULL" : format_datum(*d, c.type);
}

std::string le(uint64_t v, int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}
std::string be(uint64_t v, int n) {
  std::string s;
  for (int i = n - 1; i >= 0; --i) s.push_back(static_cast<char>(v >> (8 * i)));
  return s;
}

TEST(DecodeValue, Integers) {
  using namespace field_type;
  EXPECT_EQ(value(kTiny, 0, col(MyKind::kTinyInt, TypeId::kInt2), "\xff"), "-1");
  EXPECT_EQ(value(kTiny, 0, col(MyKind::kTinyInt, TypeId::kInt2, true), "\xff"), "255");
  EXPECT_EQ(value(kShort, 0, col(MyKind::kSmallInt, TypeId::kInt2), le(4660, 2)), "4660");
  EXPECT_EQ(value(kShort, 0, col(MyKind::kSmallInt, TypeId::kInt4, true), le(65535, 2)), "65535");
  EXPECT_EQ(value(kInt24, 0, col(MyKind::kMediumInt, TypeId::kInt4), le(0xffffff, 3)), "-1");
  EXPECT_EQ(value(kInt24, 0, col(MyKind::kMediumInt, TypeId::kInt4), le(0x800000, 3)), "-8388608");
  EXPECT_EQ(value(kLong, 0, col(MyKind::kInt, TypeId::kInt4), le(0x80000000u, 4)), "-2147483648");
  EXPECT_EQ(value(kLong, 0, col(MyKind::kInt, TypeId::kInt8, true), le(0xffffffffu, 4)), "4294967295");
  EXPECT_EQ(value(kLongLong, 0, col(MyKind::kBigInt, TypeId::kInt8), le(~0ULL, 8)), "-1");
  EXPECT_EQ(value(kLongLong, 0, col(MyKind::kBigInt, Type(TypeId::kNumeric, 20 << 16), true), le(~0ULL, 8)),
            "18446744073709551615");
  EXPECT_EQ(value(kYear, 0, col(MyKind::kYear, TypeId::kInt2), "\x7c"), "2024");
  EXPECT_EQ(value(kYear, 0, col(MyKind::kYear, TypeId::kInt2), std::string(1, '\0')), "0");
  // BIT(12): metadata bits % 8 = 4, bytes = 1; two big-endian bytes.
  EXPECT_EQ(value(kBit, 4 | (1 << 8), col(MyKind::kBit, TypeId::kInt8), be(0x0fff, 2)), "4095");
  EXPECT_TRUE(value(kLong, 0, col(MyKind::kInt, TypeId::kInt4), "\x01\x02").starts_with("error"));
}

TEST(DecodeValue, FloatsAndDecimal) {
  using namespace field_type;
  float f = 1.5f;
  double d = -2.25e300;
  EXPECT_EQ(value(kFloat, 4, col(MyKind::kFloat, TypeId::kFloat4), le(std::bit_cast<uint32_t>(f), 4)), "1.5");
  EXPECT_EQ(value(kDouble, 8, col(MyKind::kDouble, TypeId::kFloat8), le(std::bit_cast<uint64_t>(d), 8)), "-2.25e+300");
  ColumnInfo dec = col(MyKind::kDecimal, Type(TypeId::kNumeric, (10 << 16) | 4));
  // DECIMAL(10,4): 6 integer digits in 3 bytes, 4 fraction digits in 2; sign bit flipped.
  EXPECT_EQ(value(kNewDecimal, (10 << 8) | 4, dec, "\x80\x04\xd2\x16\x2e"), "1234.5678");
  EXPECT_EQ(value(kNewDecimal, (10 << 8) | 4, dec, "\x7f\xfb\x2d\xe9\xd1"), "-1234.5678");
  EXPECT_EQ(value(kNewDecimal, (10 << 8) | 4, dec, "\x80\x00\x00\x00\x00"s), "0.0000");
  // DECIMAL(30,10): 20 integer digits = 2 + 9 + 9 (1 + 4 + 4 bytes), 10 fraction = 9 + 1 (4 + 1).
  ColumnInfo wide = col(MyKind::kDecimal, Type(TypeId::kNumeric, (30 << 16) | 10));
  std::string w = be(12, 1) + be(345678901, 4) + be(234567890, 4) + be(123456789, 4) + be(1, 1);
  w[0] = static_cast<char>(w[0] ^ 0x80);
  EXPECT_EQ(value(kNewDecimal, (30 << 8) | 10, wide, w), "12345678901234567890.1234567891");
  EXPECT_TRUE(value(kNewDecimal, (10 << 8) | 4, dec, "\x80\xff\xff\xff\x00"s).starts_with("error"));
}

TEST(DecodeValue, Temporal) {
  using namespace field_type;
  EXPECT_EQ(value(kDate, 0, col(MyKind::kDate, TypeId::kDate), le((2024u << 9) | (2u << 5) | 29u, 3)), "2024-02-29");
  EXPECT_EQ(value(kDate, 0, col(MyKind::kDate, TypeId::kDate), le(0, 3)), "NULL");  // 0000-00-00
  uint64_t ymd = ((2024ull * 13 + 1) << 5) | 2, hms = (3u << 12) | (4u << 6) | 5u;
  uint64_t dt = ((ymd << 17) | hms) + 0x8000000000ull;
  ColumnInfo ts = col(MyKind::kDateTime, TypeId::kTimestamp);
  EXPECT_EQ(value(kDateTime2, 0, ts, be(dt, 5)), "2024-01-02 03:04:05");
  EXPECT_EQ(value(kDateTime2, 6, ts, be(dt, 5) + be(123456, 3)), "2024-01-02 03:04:05.123456");
  EXPECT_EQ(value(kDateTime2, 2, ts, be(dt, 5) + be(12, 1)), "2024-01-02 03:04:05.12");
  EXPECT_EQ(value(kDateTime2, 0, ts, be(0x8000000000ull, 5)), "NULL");
  EXPECT_EQ(value(kDateTime, 0, ts, le(20240102030405ull, 8)), "2024-01-02 03:04:05");
  ColumnInfo tm = col(MyKind::kTime, TypeId::kTime);
  uint64_t t = (12u << 12) | (34u << 6) | 56u;
  EXPECT_EQ(value(kTime2, 3, tm, be(t + 0x800000, 3) + be(7890, 2)), "12:34:56.789");
  EXPECT_EQ(value(kTime2, 6, tm, be((t << 24) + 5 + 0x800000000000ull, 6)), "12:34:56.000005");
  EXPECT_EQ(value(kTime2, 0, tm, be(0x800000 - t, 3)), "NULL");  // negative
  EXPECT_EQ(value(kTime2, 0, tm, be(0x800000 + (838u << 12), 3)), "NULL");  // 838:00:00
  EXPECT_EQ(value(kTime, 0, tm, le(123456, 3)), "12:34:56");
  ColumnInfo tz = col(MyKind::kTimestamp, TypeId::kTimestampTz);
  EXPECT_EQ(value(kTimestamp2, 6, tz, be(1700000000, 4) + be(123456, 3)), "2023-11-14 22:13:20.123456+00");
  EXPECT_EQ(value(kTimestamp2, 0, tz, be(0, 4)), "NULL");
  EXPECT_EQ(value(kTimestamp, 0, tz, le(86400, 4)), "1970-01-02 00:00:00+00");
}

TEST(DecodeValue, Strings) {
  using namespace field_type;
  ColumnInfo vc = col(MyKind::kVarchar, Type(TypeId::kVarchar, 20));
  EXPECT_EQ(value(kVarchar, 80, vc, "\x03" "abc"), "abc");
  EXPECT_EQ(value(kVarchar, 300, vc, le(3, 2) + "xyz"), "xyz");
  vc.charset = Charset::kLatin1;
  EXPECT_EQ(value(kVarchar, 20, vc, "\x04" "caf\xe9"), "caf\u00e9");
  EXPECT_EQ(value(kVarchar, 20, vc, "\x01\x80"), "\u20ac");  // cp1252 euro sign
  ColumnInfo ch = col(MyKind::kChar, TypeId::kText);
  EXPECT_EQ(value(kString, 0xfe10, ch, "\x02" "ab"), "ab");
  ColumnInfo bin = col(MyKind::kBinary, TypeId::kBytea);
  bin.charset = Charset::kBinary;
  bin.char_max_length = 3;
  EXPECT_EQ(value(kString, 0xfe03, bin, "\x01" "b"s), "\\x620000");
  ColumnInfo en = col(MyKind::kEnum, TypeId::kText);
  en.labels = {"a", "b", "c"};
  EXPECT_EQ(value(kString, 0xf701, en, "\x02"), "b");
  EXPECT_EQ(value(kString, 0xf701, en, std::string(1, '\0')), "");
  EXPECT_TRUE(value(kString, 0xf701, en, "\x04").starts_with("error"));
  ColumnInfo st = col(MyKind::kSet, TypeId::kText);
  st.labels = {"a", "b", "c"};
  EXPECT_EQ(value(kString, 0xf801, st, "\x05"), "a,c");
  ColumnInfo blob = col(MyKind::kBlob, TypeId::kBytea);
  blob.charset = Charset::kBinary;
  EXPECT_EQ(value(kBlob, 2, blob, le(2, 2) + "\x00\xff"s), "\\x00ff");
  ColumnInfo js = col(MyKind::kJson, TypeId::kJsonb);
  std::string doc = "{\"b\":1, \"a\":[true,null]}";
  EXPECT_EQ(value(kBlob, 4, js, le(doc.size(), 4) + doc), "{\"a\": [true, null], \"b\": 1}");
  EXPECT_TRUE(value(kBlob, 2, blob, le(9, 2) + "ab").starts_with("error"));
}

// A whole stream: FORMAT_DESCRIPTION (CRC32), GTID, TABLE_MAP, UPDATE_ROWS v1, XID.
std::string event(uint8_t type, std::string body, uint16_t flags = 0) {
  std::string e = le(1700000000, 4) + std::string(1, static_cast<char>(type)) + le(1, 4) +
                  le(19 + body.size() + 4, 4) + le(0, 4) + le(flags, 2) + body;
  return e + le(crc32(e), 4);
}

TEST(EventDecoder, StreamWithChecksums) {
  EventDecoder dec;
  std::string fde_body = le(4, 2) + std::string(50, '\0') + le(0, 4) + "\x13" + std::string(170, '\x08');
  fde_body[2] = '1';
  fde_body += "\x01";  // CRC32
  auto fde = dec.decode(event(event_type::kFormatDescription, fde_body));
  ASSERT_TRUE(fde.is_ok()) << fde.status().message();
  EXPECT_TRUE(dec.checksum());
  auto g = dec.decode(event(event_type::kGtid, le(42, 8) + le(3, 4) + "\x00"s));
  ASSERT_TRUE(g.is_ok());
  EXPECT_EQ(std::get<GtidEvent>(g->body).gtid.to_string(), "3-1-42");
  std::string tm_body = le(77, 6) + le(1, 2) + "\x04shop\x00"s + "\x05items\x00"s + "\x02" +
                        std::string(1, static_cast<char>(field_type::kLong)) +
                        std::string(1, static_cast<char>(field_type::kVarchar)) + "\x02" + le(40, 2) + "\x02";
  auto tm = dec.decode(event(event_type::kTableMap, tm_body));
  ASSERT_TRUE(tm.is_ok()) << tm.status().message();
  const auto& map = std::get<TableMapEvent>(tm->body);
  EXPECT_EQ(map.table, "items");
  EXPECT_EQ(map.meta[1], 40);
  ASSERT_EQ(map.types.size(), 2u);
  EXPECT_EQ(map.types[0], field_type::kLong);
  EXPECT_EQ(map.types[1], field_type::kVarchar);
  std::vector<ColumnInfo> cols = {col(MyKind::kInt, TypeId::kInt4), col(MyKind::kVarchar, Type(TypeId::kVarchar, 40))};
  EXPECT_TRUE(check_table_map(map, cols).is_ok());
  std::vector<ColumnInfo> wrong = {col(MyKind::kBigInt, TypeId::kInt8), cols[1]};
  EXPECT_FALSE(check_table_map(map, wrong).is_ok());
  // Row 1: (7, NULL) -> (8, "hi").
  std::string rows = le(77, 6) + le(1, 2) + "\x02\x03\x03" + "\x02" + le(7, 4) + "\x00"s + le(8, 4) + "\x02hi";
  std::string rows_event = event(event_type::kUpdateRowsV1, rows);  // the result borrows it
  auto re = dec.decode(rows_event);
  ASSERT_TRUE(re.is_ok()) << re.status().message();
  Arena arena;
  std::vector<RowImage> out;
  Status rs = decode_rows(std::get<RowsEvent>(re->body), map, cols, arena, out);
  ASSERT_TRUE(rs.is_ok()) << rs.message();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].before[0].as_int(), 7);
  EXPECT_TRUE(out[0].before[1].is_null());
  EXPECT_EQ(out[0].after[0].as_int(), 8);
  EXPECT_EQ(out[0].after[1].as_string(), "hi");
  // A partial row image is refused with the setting to fix.
  std::string partial = le(77, 6) + le(1, 2) + "\x02\x01" + "\x00"s + le(7, 4);
  std::string partial_event = event(event_type::kWriteRowsV1, partial);
  auto pe = dec.decode(partial_event);
  ASSERT_TRUE(pe.is_ok());
  out.clear();
  Status s = decode_rows(std::get<RowsEvent>(pe->body), map, cols, arena, out);
  EXPECT_NE(s.message().find("binlog_row_image=FULL"), std::string::npos) << s.message();
  // A corrupted event fails its checksum; a truncated one is malformed.
  std::string bad = event(event_type::kXid, le(5, 8));
  bad[20] ^= 1;
  EXPECT_FALSE(dec.decode(bad).is_ok());
  EXPECT_FALSE(dec.decode(event(event_type::kXid, le(5, 8)).substr(0, 10)).is_ok());
  auto x = dec.decode(event(event_type::kXid, le(5, 8)));
  ASSERT_TRUE(x.is_ok());
  EXPECT_EQ(std::get<XidEvent>(x->body).xid, 5u);
}

TEST(GtidPosition, ParseFormatIncludes) {
  auto p = GtidPosition::parse("1-2-7,0-1-42");
  ASSERT_TRUE(p.is_ok());
  EXPECT_EQ(p->to_string(), "0-1-42,1-2-7");
  EXPECT_TRUE(p->includes({0, 5, 42}));
  EXPECT_TRUE(p->includes({1, 2, 3}));
  EXPECT_FALSE(p->includes({0, 1, 43}));
  EXPECT_FALSE(p->includes({2, 1, 1}));
  p->advance({2, 9, 1});
  EXPECT_EQ(p->to_string(), "0-1-42,1-2-7,2-9-1");
  EXPECT_TRUE(GtidPosition::parse("").is_ok());
  EXPECT_FALSE(GtidPosition::parse("0-1").is_ok());
  EXPECT_FALSE(GtidPosition::parse("0-1-x").is_ok());
  EXPECT_FALSE(GtidPosition::parse("0-1-2,0-1-3").is_ok());
}

TEST(DdlTouches, CapturedTablesOnly) {
  std::vector<std::string> t = {"items", "pairs"};
  EXPECT_TRUE(ddl_touches("ALTER TABLE items ADD COLUMN z INT", "shop", "shop", t));
  EXPECT_TRUE(ddl_touches("alter table `shop`.`pairs` drop column v", "other", "shop", t));
  EXPECT_TRUE(ddl_touches("TRUNCATE items", "shop", "shop", t));
  EXPECT_TRUE(ddl_touches("DROP TABLE IF EXISTS x, items /* generated by server */", "shop", "shop", t));
  EXPECT_TRUE(ddl_touches("RENAME TABLE items TO old_items", "shop", "shop", t));
  EXPECT_TRUE(ddl_touches("DROP DATABASE shop", "", "shop", t));
  EXPECT_FALSE(ddl_touches("ALTER TABLE other.items ADD COLUMN z INT", "shop", "shop", t));
  EXPECT_FALSE(ddl_touches("ALTER TABLE items ADD COLUMN z INT", "other", "shop", t));
  EXPECT_FALSE(ddl_touches("CREATE TABLE x (items INT)", "shop", "shop", t));
  EXPECT_FALSE(ddl_touches("ALTER TABLE other ADD COLUMN b INT", "shop", "shop", t));
}

}  // namespace
}  // namespace freshet::capture::mysql
