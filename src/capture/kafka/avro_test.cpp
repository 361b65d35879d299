// Avro decoding, schema resolution and the envelopes of the Kafka source, on bytes written by
// Freshet's own topic encoder (src/kafka/encoding.hpp) and on hand-built ones.

#include <gtest/gtest.h>

#include <map>

#include "capture/kafka/avro.hpp"
#include "capture/kafka/message_decoder.hpp"
#include "common/format.hpp"
#include "common/row.hpp"
#include "kafka/encoding.hpp"

namespace freshet::capture::kafka {
namespace {

// ---- hand encoding ----
void zz(std::string& out, int64_t v) {
  uint64_t u = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  while (u >= 0x80) {
    out.push_back(static_cast<char>((u & 0x7f) | 0x80));
    u >>= 7;
  }
  out.push_back(static_cast<char>(u));
}
void str(std::string& out, std::string_view s) {
  zz(out, static_cast<int64_t>(s.size()));
  out.append(s);
}
std::string frame(int32_t id, std::string_view body) {
  std::string out(1, '\0');
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<char>((static_cast<uint32_t>(id) >> (8 * i)) & 0xff));
  out.append(body);
  return out;
}

std::string text_of(const Row& r) {
  std::string out;
  auto ds = r.unpack();
  for (size_t i = 0; i < ds.size(); ++i) {
    if (i) out += "|";
    if (ds[i].is_null()) {
      out += "NULL";
      continue;
    }
    // Print by physical kind (enough to compare).
    switch (ds[i].kind()) {
      case PhysicalKind::kInt: out += std::to_string(ds[i].as_int()); break;
      case PhysicalKind::kBool: out += ds[i].as_bool() ? "t" : "f"; break;
      case PhysicalKind::kFloat: out += format_datum(ds[i], Type(TypeId::kFloat8)); break;
      case PhysicalKind::kNumeric: out += format_datum(ds[i], Type(TypeId::kNumeric)); break;
      case PhysicalKind::kString: out += std::string(ds[i].as_string()); break;
      case PhysicalKind::kDate: out += format_datum(ds[i], Type(TypeId::kDate)); break;
      case PhysicalKind::kTimestamp: out += format_datum(ds[i], Type(TypeId::kTimestamp)); break;
      case PhysicalKind::kTime: out += format_datum(ds[i], Type(TypeId::kTime)); break;
      default: out += "?";
    }
  }
  return out;
}

struct Registry {
  std::map<int32_t, std::string> schemas;
  SchemaLookup lookup() {
    return [this](int32_t id) -> Result<std::string> {
      auto it = schemas.find(id);
      if (it == schemas.end()) return Status::error("no schema " + std::to_string(id));
      return it->second;
    };
  }
};

// The sales table of the load generator, as Freshet's Kafka API publishes it.
std::vector<freshet::kafka::TopicColumn> sales_columns() {
  return {{"sale_id", Type(TypeId::kInt8), false},
          {"product_id", Type(TypeId::kInt4), false},
          {"customer_id", Type(TypeId::kInt4), false},
          {"sale_date", Type(TypeId::kTimestamp), false},
          {"quantity", Type(TypeId::kInt4), true},
          {"unit_price", Type(TypeId::kNumeric, (10 << 16) | 2), false},
          {"total_price", Type(TypeId::kNumeric, (10 << 16) | 2), false}};
}

TEST(KafkaAvro, FreshetTopicUpsertRoundTrip) {
  auto cols = sales_columns();
  std::vector<freshet::kafka::TopicColumn> key_cols = {cols[0]};
  Registry reg;
  reg.schemas[7] = freshet::kafka::avro_schema(cols, "freshet.public.sales", "value");
  reg.schemas[6] = freshet::kafka::avro_schema(key_cols, "freshet.public.sales", "key");
  DecoderConfig c;
  c.table_name = "sqlserver_sales";
  c.topic = "freshet.public.sales";
  c.envelope = KafkaEnvelope::kUpsert;
  MessageDecoder d(c, reg.schemas[6], reg.schemas[7], reg.lookup());
  const TableSchema& t = d.table();
  ASSERT_EQ(t.columns.size(), 7u);
  EXPECT_EQ(t.name, "sqlserver_sales");
  EXPECT_EQ(t.columns[3].type, Type(TypeId::kTimestamp));
  EXPECT_EQ(t.columns[5].type, Type(TypeId::kNumeric, (10 << 16) | 2));
  EXPECT_TRUE(t.columns[4].nullable);
  EXPECT_FALSE(t.columns[0].nullable);
  ASSERT_EQ(t.key, std::vector<uint32_t>{0});

  Arena arena;
  int64_t ts = 789'000'000'000'000LL;  // 2025-01-01-ish, micros since 2000
  Row row = Row::pack(std::vector<Datum>{Datum::from_int(42), Datum::from_int(7), Datum::from_int(3), Datum::from_timestamp(ts),
                                         Datum::null(), Datum::from_numeric(Numeric{6983, 2}), Datum::from_numeric(Numeric{-69830, 2})});
  Row key = Row::pack(std::vector<Datum>{Datum::from_int(42)});
  std::string v, k;
  freshet::kafka::avro_encode_row(row.ref(), cols, v);
  freshet::kafka::avro_encode_row(key.ref(), key_cols, k);
  std::string fv = frame(7, v), fk = frame(6, k);
  KafkaMessage m;
  m.key = fk;
  m.value = fv;
  auto ch = d.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->op, Change::Op::kUpsert);
  EXPECT_EQ(text_of(ch->value), text_of(row));
  EXPECT_EQ(ch->value, row);
  EXPECT_EQ(ch->key, key);
  // A tombstone deletes the key.
  m.value.reset();
  ch = d.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->op, Change::Op::kDelete);
  EXPECT_EQ(ch->key, key);
}

TEST(KafkaAvro, ResolutionPromotionsDefaultsAndReordering) {
  // Reader: a long, a double, a string with a default, a nullable int, a record field with an alias.
  std::string reader = R"({"type":"record","name":"r","fields":[
      {"name":"a","type":"long"},{"name":"b","type":"double"},{"name":"c","type":"string","default":"dflt"},
      {"name":"n","type":["null","int"],"default":null},{"name":"renamed","aliases":["old"],"type":"string"},
      {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y","Z"]}}]})";
  // Writer: other order, int for a, float for b, no c, no n, 'old' for renamed, an extra field.
  std::string writer = R"({"type":"record","name":"r","fields":[
      {"name":"extra","type":{"type":"array","items":"long"}},{"name":"b","type":"float"},{"name":"old","type":"bytes"},
      {"name":"a","type":"int"},{"name":"e","type":{"type":"enum","name":"E","symbols":["Y","Z"]}}]})";
  Registry reg;
  reg.schemas[1] = reader;
  reg.schemas[2] = writer;
  DecoderConfig c;
  c.table_name = "t";
  c.topic = "t";
  c.envelope = KafkaEnvelope::kNone;
  MessageDecoder d(c, std::nullopt, reader, reg.lookup());
  ASSERT_EQ(d.table().columns.size(), 8u);  // + partition, offset
  EXPECT_EQ(d.table().columns[6].name, "partition");
  EXPECT_EQ(d.table().key, (std::vector<uint32_t>{6, 7}));
  std::string body;
  zz(body, 2);  // array block of 2
  zz(body, 10);
  zz(body, 11);
  zz(body, 0);
  float f = 1.5f;
  body.append(reinterpret_cast<const char*>(&f), 4);
  str(body, "hello");
  zz(body, -5);
  zz(body, 1);  // Z
  std::string msg = frame(2, body);
  KafkaMessage m;
  m.value = msg;
  m.partition = 3;
  m.offset = 99;
  auto ch = d.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(text_of(ch->value), "-5|1.5|dflt|NULL|hello|Z|3|99");
  EXPECT_EQ(text_of(ch->key), "3|99");
  // A tombstone under ENVELOPE NONE changes nothing.
  m.value.reset();
  EXPECT_FALSE(d.decode(m));
}

TEST(KafkaAvro, UnresolvableAndMalformedMessagesThrow) {
  std::string reader = R"({"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"s","type":"string"}]})";
  std::string writer_long = R"({"type":"record","name":"r","fields":[{"name":"a","type":"long"},{"name":"s","type":"string"}]})";
  std::string writer_missing = R"({"type":"record","name":"r","fields":[{"name":"a","type":"int"}]})";
  Registry reg;
  reg.schemas[1] = reader;
  reg.schemas[2] = writer_long;
  reg.schemas[3] = writer_missing;
  DecoderConfig c;
  c.table_name = "t";
  c.topic = "t";
  MessageDecoder d(c, std::nullopt, reader, reg.lookup());
  auto expect_error = [&](const std::string& bytes, const std::string& fragment) {
    KafkaMessage m;
    m.value = bytes;
    try {
      (void)d.decode(m);
      ADD_FAILURE() << "no error for " << fragment;
    } catch (const AvroError& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  std::string ok;
  zz(ok, 1);
  str(ok, "x");
  expect_error(frame(2, ok), "does not resolve");       // long does not narrow to int
  expect_error(frame(3, std::string(1, '\x02')), "lacks field s");
  expect_error(frame(9, ok), "cannot get the writer's schema 9");
  expect_error(std::string("\x01\0\0\0\x01", 5) + ok, "magic byte");
  expect_error(frame(1, ok.substr(0, 2)), "ends inside");
  expect_error(frame(1, ok + "zz"), "trailing bytes");
  std::string huge;
  zz(huge, 1);
  zz(huge, 1'000'000'000);
  expect_error(frame(1, huge), "ends inside");
  KafkaMessage m;
  m.value = frame(1, ok);
  auto ch = d.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(text_of(ch->value), "1|x|0|0");
}

TEST(KafkaAvro, SchemaErrors) {
  EXPECT_THROW(AvroSchema::parse("{"), AvroError);
  EXPECT_THROW(AvroSchema::parse(R"({"type":"record","name":"r","fields":[{"name":"a","type":"nope"}]})"), AvroError);
  EXPECT_THROW(AvroSchema::parse(R"([["int"]])"), AvroError);
  EXPECT_THROW(AvroSchema::parse(R"({"type":"bytes","logicalType":"decimal","precision":2,"scale":5})"), AvroError);
  // Recursive types parse (and decode with a depth limit).
  auto s = AvroSchema::parse(R"({"type":"record","name":"L","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","L"]}]})");
  std::string deep;
  for (int i = 0; i < 100; ++i) {
    zz(deep, i);
    zz(deep, 1);
  }
  EXPECT_THROW(avro_read(deep, s->root()), AvroError);
  std::string shallow;
  zz(shallow, 1);
  zz(shallow, 1);
  zz(shallow, 2);
  zz(shallow, 0);
  AvroValue v = avro_read(shallow, s->root());
  std::string json;
  avro_to_json(v, json);
  EXPECT_EQ(json, R"({"v":1,"next":{"v":2,"next":null}})");
  // UPSERT without a key schema is refused at creation.
  DecoderConfig c;
  c.table_name = "t";
  c.topic = "t";
  c.envelope = KafkaEnvelope::kUpsert;
  EXPECT_THROW(MessageDecoder(c, std::nullopt, R"({"type":"record","name":"r","fields":[{"name":"a","type":"int"}]})", nullptr), AvroError);
}

TEST(KafkaAvro, LogicalTypes) {
  std::string schema = R"({"type":"record","name":"r","fields":[
      {"name":"d","type":{"type":"int","logicalType":"date"}},
      {"name":"tm","type":{"type":"long","logicalType":"timestamp-millis"}},
      {"name":"t","type":{"type":"long","logicalType":"time-micros"}},
      {"name":"u","type":{"type":"string","logicalType":"uuid"}},
      {"name":"dec","type":{"type":"fixed","name":"F","size":3,"logicalType":"decimal","precision":6,"scale":3}},
      {"name":"big","type":{"type":"bytes","logicalType":"decimal","precision":60,"scale":0}},
      {"name":"j","type":{"type":"string","connect.name":"io.debezium.data.Json"}},
      {"name":"m","type":{"type":"map","values":"int"}}]})";
  auto s = AvroSchema::parse(schema);
  auto cols = avro_columns(s->root());
  EXPECT_EQ(cols[0].type, Type(TypeId::kDate));
  EXPECT_EQ(cols[1].type, Type(TypeId::kTimestamp));
  EXPECT_EQ(cols[2].type, Type(TypeId::kTime));
  EXPECT_EQ(cols[3].type, Type(TypeId::kUuid));
  EXPECT_EQ(cols[4].type, Type(TypeId::kNumeric, (6 << 16) | 3));
  EXPECT_EQ(cols[5].type, Type(TypeId::kNumeric));
  EXPECT_EQ(cols[6].type, Type(TypeId::kJsonb));
  EXPECT_EQ(cols[7].type, Type(TypeId::kJsonb));
  std::string b;
  zz(b, 19723);                     // 2024-01-01
  zz(b, 1704067200123);             // 2024-01-01 00:00:00.123 UTC
  zz(b, 3723000001);                // 01:02:03.000001
  str(b, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  b.append("\xff\xff\xfe", 3);      // -2 -> -0.002
  str(b, std::string("\x01\x00", 2));  // 256
  str(b, R"({"b": [1, 2], "a": null})");
  zz(b, 1);
  str(b, "k");
  zz(b, 5);
  zz(b, 0);
  AvroValue v = avro_read(b, s->root());
  Arena arena;
  std::vector<Datum> out;
  avro_record_to_datums(v, cols, out, arena);
  EXPECT_EQ(format_datum(out[0], cols[0].type), "2024-01-01");
  EXPECT_EQ(format_datum(out[1], cols[1].type), "2024-01-01 00:00:00.123");
  EXPECT_EQ(format_datum(out[2], cols[2].type), "01:02:03.000001");
  EXPECT_EQ(format_datum(out[3], cols[3].type), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  EXPECT_EQ(format_datum(out[4], cols[4].type), "-0.002");
  EXPECT_EQ(format_datum(out[5], cols[5].type), "256");
  EXPECT_EQ(format_datum(out[6], cols[6].type), R"({"a": null, "b": [1, 2]})");
  EXPECT_EQ(format_datum(out[7], cols[7].type), R"({"k": 5})");
}

TEST(KafkaAvro, JsonTextBytesFormats) {
  DecoderConfig c;
  c.table_name = "t";
  c.topic = "t";
  c.format = KafkaFormat::kJson;
  c.include_timestamp = true;
  MessageDecoder j(c, std::nullopt, std::nullopt, nullptr);
  ASSERT_EQ(j.table().columns.size(), 4u);
  EXPECT_EQ(j.table().columns[0].name, "data");
  EXPECT_EQ(j.table().columns[3].name, "timestamp");
  KafkaMessage m;
  std::string doc = R"({"x": 1, "y": "z"})";
  m.value = doc;
  m.partition = 0;
  m.offset = 4;
  m.timestamp_ms = 946684800000 + 1000;  // 2000-01-01 00:00:01
  auto ch = j.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(text_of(ch->value), R"({"x": 1, "y": "z"}|0|4|2000-01-01 00:00:01)");
  std::string bad = "{not json";
  m.value = bad;
  EXPECT_THROW((void)j.decode(m), AvroError);

  c.format = KafkaFormat::kText;
  c.include_timestamp = false;
  c.envelope = KafkaEnvelope::kUpsert;
  MessageDecoder t(c, std::nullopt, std::nullopt, nullptr);
  ASSERT_EQ(t.table().columns.size(), 2u);
  EXPECT_EQ(t.table().columns[0].name, "key");
  EXPECT_EQ(t.table().columns[1].name, "text");
  std::string k = "k1", v = "hello";
  m.key = k;
  m.value = v;
  ch = t.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(text_of(ch->value), "k1|hello");
  EXPECT_EQ(text_of(ch->key), "k1");
  m.key.reset();
  EXPECT_THROW((void)t.decode(m), AvroError);  // UPSERT needs a key

  c.format = KafkaFormat::kBytes;
  c.envelope = KafkaEnvelope::kNone;
  MessageDecoder by(c, std::nullopt, std::nullopt, nullptr);
  std::string raw("\x00\xff", 2);
  m.value = raw;
  ch = by.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->value.unpack()[0].as_string(), raw);
}

TEST(KafkaAvro, DebeziumEnvelope) {
  std::string env = R"({"type":"record","name":"Envelope","fields":[
      {"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"long"},{"name":"name","type":["null","string"]}]}]},
      {"name":"after","type":["null","Value"]},{"name":"op","type":"string"}]})";
  std::string key = R"({"type":"record","name":"Key","fields":[{"name":"id","type":"long"}]})";
  Registry reg;
  reg.schemas[1] = env;
  reg.schemas[2] = key;
  DecoderConfig c;
  c.table_name = "t";
  c.topic = "t";
  c.envelope = KafkaEnvelope::kDebezium;
  MessageDecoder d(c, key, env, reg.lookup());
  ASSERT_EQ(d.table().columns.size(), 2u);
  EXPECT_EQ(d.table().key, std::vector<uint32_t>{0});
  std::string kb;
  zz(kb, 5);
  std::string fk = frame(2, kb);
  std::string create;
  zz(create, 0);  // before: null
  zz(create, 1);  // after: Value
  zz(create, 5);
  zz(create, 1);
  str(create, "five");
  str(create, "c");
  std::string fv = frame(1, create);
  KafkaMessage m;
  m.key = fk;
  m.value = fv;
  auto ch = d.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->op, Change::Op::kUpsert);
  EXPECT_EQ(text_of(ch->value), "5|five");
  // A delete: after null, before set; without the key too.
  std::string del;
  zz(del, 1);
  zz(del, 5);
  zz(del, 0);
  zz(del, 0);
  str(del, "d");
  std::string fd = frame(1, del);
  m.value = fd;
  m.key.reset();
  ch = d.decode(m);
  ASSERT_TRUE(ch);
  EXPECT_EQ(ch->op, Change::Op::kDelete);
  EXPECT_EQ(text_of(ch->key), "5");
  // The tombstone that follows changes nothing.
  m.value.reset();
  EXPECT_FALSE(d.decode(m));
}

TEST(KafkaAvro, Positions) {
  std::map<int32_t, int64_t> p = {{0, 10}, {2, 7}};
  EXPECT_EQ(encode_position(p), "0:10,2:7");
  EXPECT_EQ(decode_position("0:10,2:7"), p);
  EXPECT_TRUE(decode_position("").empty());
  EXPECT_THROW(decode_position("x"), AvroError);
}

}  // namespace
}  // namespace freshet::capture::kafka
