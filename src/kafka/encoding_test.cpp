#include "kafka/encoding.hpp"

#include <gtest/gtest.h>

#include "common/arena.hpp"
#include "common/format.hpp"
#include "kafka/wire.hpp"

namespace freshet::kafka {
namespace {

std::vector<TopicColumn> columns() {
  return {{"id", Type(TypeId::kInt8), false},
          {"small", Type(TypeId::kInt4), false},
          {"name", Type(TypeId::kText), true},
          {"price", Type(TypeId::kNumeric, (10 << 16) | 2), true},
          {"at", Type(TypeId::kTimestampTz), false},
          {"day", Type(TypeId::kDate), true},
          {"ok", Type(TypeId::kBool), false},
          {"ratio", Type(TypeId::kFloat8), false},
          {"blob", Type(TypeId::kBytea), true},
          {"u", Type(TypeId::kUuid), true},
          {"doc", Type(TypeId::kJsonb), true}};
}

Row sample(Arena& arena) {
  std::vector<Datum> v{Datum::from_int(-3),
                       Datum::from_int(7),
                       Datum::from_string("héllo"),
                       Datum::from_numeric(Numeric{-12345, 2}),
                       Datum::from_timestamp(0),  // 2000-01-01 00:00:00 UTC
                       Datum::from_date(1),
                       Datum::from_bool(true),
                       Datum::from_float(0.25),
                       Datum::null(),
                       parse_datum("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", Type(TypeId::kUuid), arena),
                       Datum::from_string("{\"a\": 1}")};
  return Row::pack(v);
}

TEST(Avro, SchemaFromColumnTypes) {
  std::vector<TopicColumn> cols = {{"id", Type(TypeId::kInt8), false},
                                   {"price", Type(TypeId::kNumeric, (10 << 16) | 2), true},
                                   {"at", Type(TypeId::kTimestamp), false},
                                   {"d", Type(TypeId::kDate), false},
                                   {"u", Type(TypeId::kUuid), false},
                                   {"bad name", Type(TypeId::kText), false}};
  EXPECT_EQ(avro_schema(cols, "shop.public.t", "value"),
            "{\"type\":\"record\",\"name\":\"value\",\"namespace\":\"shop.public.t\",\"fields\":["
            "{\"name\":\"id\",\"type\":\"long\"},"
            "{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}],\"default\":null},"
            "{\"name\":\"at\",\"type\":{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}},"
            "{\"name\":\"d\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
            "{\"name\":\"u\",\"type\":{\"type\":\"string\",\"logicalType\":\"uuid\"}},"
            "{\"name\":\"bad_name\",\"type\":\"string\"}]}");
}

TEST(Avro, KnownBytes) {
  std::vector<TopicColumn> cols = {{"id", Type(TypeId::kInt8), false},
                                   {"s", Type(TypeId::kText), true},
                                   {"n", Type(TypeId::kNumeric, (10 << 16) | 2), false},
                                   {"at", Type(TypeId::kTimestamp), false}};
  std::vector<Datum> v{Datum::from_int(-2), Datum::from_string("ab"), Datum::from_numeric(Numeric{-1, 1}),
                       Datum::from_timestamp(0)};
  std::string out;
  avro_encode_row(Row::pack(v).ref(), cols, out);
  // long -2 -> 03; union branch 1 -> 02, string len 2 -> 04 'a' 'b'; decimal -0.10 at scale 2
  // = unscaled -10 -> bytes len 1 (02) f6; timestamp 946684800000000 µs -> zigzag varint.
  std::string expect("\x03\x02\x04" "ab" "\x02\xf6", 7);
  EXPECT_EQ(out.substr(0, 7), expect);
  std::string ts;
  Writer(ts).varlong(946684800000000LL);
  EXPECT_EQ(out.substr(7), ts);
}

TEST(Avro, RoundTripAllTypes) {
  Arena arena;
  Row r = sample(arena);
  std::string out;
  avro_encode_row(r.ref(), columns(), out);
  Row back = avro_decode_row(out, columns());
  EXPECT_EQ(compare_rows(r.ref(), back.ref()), 0);
  EXPECT_THROW(avro_decode_row(out.substr(0, out.size() - 1), columns()), DecodeError);
  EXPECT_THROW(avro_decode_row(out + "x", columns()), DecodeError);
}

TEST(Json, EncodeAndDecode) {
  Arena arena;
  Row r = sample(arena);
  std::string out;
  json_encode_row(r.ref(), columns(), out);
  EXPECT_EQ(out,
            "{\"id\":-3,\"small\":7,\"name\":\"héllo\",\"price\":-123.45,\"at\":\"2000-01-01 00:00:00+00\","
            "\"day\":\"2000-01-02\",\"ok\":true,\"ratio\":0.25,\"blob\":null,"
            "\"u\":\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\",\"doc\":{\"a\": 1}}");
  Row back = json_decode_row(out, columns());
  EXPECT_EQ(compare_rows(r.ref(), back.ref()), 0);
  EXPECT_THROW(json_decode_row("{\"id\": \"x\"}", columns()), DecodeError);
  EXPECT_THROW(json_decode_row("[1", columns()), DecodeError);
  std::vector<TopicColumn> one = {{"k", Type(TypeId::kText), false}};
  EXPECT_EQ(json_decode_row("\"abc\"", one).get(0).as_string(), "abc");
}

TEST(TopicCodec, ConfluentFrame) {
  TopicInfo info{"t", 1, {{"id", Type(TypeId::kInt8), false}}, {{"id", Type(TypeId::kInt8), false}}, TopicFormat::kAvro};
  TopicCodec c(info, 5, 6);
  std::vector<Datum> k{Datum::from_int(1)};
  std::string key = c.encode_key(Row::pack(k).ref());
  EXPECT_EQ(key, std::string("\x00\x00\x00\x00\x05\x02", 6));
  EXPECT_EQ(c.decode_key(key).get(0).as_int(), 1);
  EXPECT_THROW(c.decode_value(key), DecodeError);  // schema 5 is not the value schema 6
  EXPECT_THROW(c.decode_key("\x01"), DecodeError);
}

}  // namespace
}  // namespace freshet::kafka
