// The Kafka sink's encodings (read back by the sink itself and by Freshet's Kafka source) and
// its state: the messages a timestamp's changes turn into, reconciliation with a snapshot, and
// what a crash leaves in the topic.

#include <gtest/gtest.h>

#include "capture/kafka/message_decoder.hpp"
#include "capture/kafka/sink_encoder.hpp"
#include "capture/kafka/sink_state.hpp"
#include "common/numeric.hpp"
#include "kafka/wire.hpp"

namespace freshet::capture::kafka {
namespace {

using freshet::kafka::TopicColumn;

std::vector<TopicColumn> columns() {
  return {{"id", Type(TypeId::kInt8), false}, {"name", Type(TypeId::kText), true}, {"amount", Type(TypeId::kNumeric), true}};
}

Row row(int64_t id, std::optional<std::string> name, std::string amount) {
  std::vector<Datum> ds = {Datum::from_int(id), name ? Datum::from_string(*name) : Datum::null(),
                           Datum::from_numeric(numeric_parse(amount))};
  return Row::pack(ds);
}

Row key(int64_t id) {
  std::vector<Datum> ds = {Datum::from_int(id)};
  return Row::pack(ds);
}

std::vector<Type> types() {
  std::vector<Type> t;
  for (const auto& c : columns()) t.push_back(c.type);
  return t;
}

TEST(KafkaSinkEncoder, RoundTripsEveryFormatAndEnvelope) {
  for (auto format : {SinkFormat::kAvro, SinkFormat::kJson}) {
    for (auto envelope : {SinkEnvelope::kUpsert, SinkEnvelope::kDebezium}) {
      SinkEncoder enc("freshet.sink.out", columns(), {0}, format, envelope);
      enc.set_schema_ids(7, 8);
      std::vector<SinkMessage> msgs = {{key(1), std::nullopt, row(1, "a", "1.50")},
                                       {key(1), row(1, "a", "1.50"), row(1, std::nullopt, "12345678901234567890.125")},
                                       {key(1), row(1, std::nullopt, "12345678901234567890.125"), std::nullopt}};
      for (const auto& m : msgs) {
        std::optional<std::string> k, v;
        enc.encode(m, k, v);
        ASSERT_TRUE(k.has_value());
        if (format == SinkFormat::kAvro) {
          EXPECT_EQ((*k)[0], '\0');
          EXPECT_EQ((*k)[4], '\7');
        }
        if (envelope == SinkEnvelope::kUpsert) {
          EXPECT_EQ(v.has_value(), m.after.has_value());  // deletes are tombstones
        }
        SinkMessage back = enc.decode(k, v);
        auto norm = [&](const std::optional<Row>& r) { return r ? std::optional<Row>(enc.normalize(*r)) : std::nullopt; };
        EXPECT_EQ(back.key, m.key);
        EXPECT_EQ(back.after, norm(m.after));
        if (envelope == SinkEnvelope::kDebezium) {
          EXPECT_EQ(back.before, norm(m.before));
        }
        if (back.after) {
          EXPECT_EQ(enc.normalize(*back.after), *back.after);  // normalizing is idempotent
        }
      }
    }
  }
}

TEST(KafkaSinkEncoder, RefusesForeignMessages) {
  SinkEncoder enc("t", columns(), {0}, SinkFormat::kAvro, SinkEnvelope::kUpsert);
  enc.set_schema_ids(1, 2);
  std::optional<std::string> k, v;
  enc.encode({key(1), std::nullopt, row(1, "x", "1")}, k, v);
  (*v)[4] = '\x09';  // another schema id
  EXPECT_THROW(enc.decode(k, v), freshet::kafka::DecodeError);
  EXPECT_THROW(enc.decode(k, std::string_view("\0\0\0", 3)), freshet::kafka::DecodeError);
  EXPECT_THROW(enc.decode(std::nullopt, v), freshet::kafka::DecodeError);
  SinkEncoder json("t", columns(), {0}, SinkFormat::kJson, SinkEnvelope::kDebezium);
  EXPECT_THROW(json.decode(std::string_view("{\"id\":1}"), std::string_view("{\"before\":null,\"after\":{\"id\":1")),
               freshet::kafka::DecodeError);
}

// The sink's DEBEZIUM and UPSERT Avro messages are what Freshet's Kafka source reads.
TEST(KafkaSinkEncoder, FreshetSourceReadsWhatTheSinkWrites) {
  for (auto envelope : {SinkEnvelope::kUpsert, SinkEnvelope::kDebezium}) {
    SinkEncoder enc("freshet.sink.out", columns(), {0}, SinkFormat::kAvro, envelope);
    enc.set_schema_ids(3, 4);
    DecoderConfig c;
    c.table_name = "back";
    c.topic = "freshet.sink.out";
    c.format = KafkaFormat::kAvro;
    c.envelope = envelope == SinkEnvelope::kUpsert ? KafkaEnvelope::kUpsert : KafkaEnvelope::kDebezium;
    MessageDecoder dec(c, enc.key_schema(), enc.value_schema(), [&](int32_t id) -> Result<std::string> {
      if (id == 3) return enc.key_schema();
      if (id == 4) return enc.value_schema();
      return Status::error("unknown id");
    });
    ASSERT_EQ(dec.table().columns.size(), 3u);
    EXPECT_EQ(dec.table().key, std::vector<uint32_t>{0});
    std::optional<std::string> k, v;
    enc.encode({key(5), std::nullopt, row(5, "e", "2.25")}, k, v);
    auto ch = dec.decode({k, v, 0, 0, 0});
    ASSERT_TRUE(ch.has_value());
    EXPECT_EQ(ch->op, Change::Op::kUpsert);
    EXPECT_EQ(ch->value.get(1).as_string(), "e");
    enc.encode({key(5), row(5, "e", "2.25"), std::nullopt}, k, v);
    ch = dec.decode({k, v, 0, 1, 0});
    ASSERT_TRUE(ch.has_value());
    EXPECT_EQ(ch->op, Change::Op::kDelete);
    EXPECT_EQ(ch->key, key(5));
  }
}

TEST(KafkaSinkState, KeyedChangesBecomeOneMessagePerKey) {
  SinkState s({0}, types());
  std::vector<SinkMessage> out;
  ASSERT_TRUE(s.apply({{row(1, "a", "1"), 1}, {row(2, "b", "2"), 1}}, out));
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  // An update is a retraction and an insertion of the same key: one message with before and after.
  ASSERT_TRUE(s.apply({{row(1, "a", "1"), -1}, {row(1, "a2", "1"), 1}, {row(2, "b", "2"), -1}}, out));
  ASSERT_EQ(out.size(), 2u);
  for (const auto& m : out) {
    if (*m.key == key(1)) {
      EXPECT_EQ(m.before, row(1, "a", "1"));
      EXPECT_EQ(m.after, row(1, "a2", "1"));
    } else {
      EXPECT_EQ(m.before, row(2, "b", "2"));
      EXPECT_FALSE(m.after.has_value());
    }
  }
  out.clear();
  // No net change, no message.
  ASSERT_TRUE(s.apply({{row(1, "a2", "1"), -1}, {row(1, "a2", "1"), 1}}, out));
  EXPECT_TRUE(out.empty());
  std::vector<std::pair<Row, std::optional<Row>>> dirty;
  s.take_dirty(dirty);
  EXPECT_EQ(dirty.size(), 2u);
  dirty.clear();
  s.take_dirty(dirty);
  EXPECT_TRUE(dirty.empty());
}

TEST(KafkaSinkState, KeyThatIsNotUniqueIsAnErrorAndChangesNothing) {
  SinkState s({0}, types());
  std::vector<SinkMessage> out;
  ASSERT_TRUE(s.apply({{row(1, "a", "1"), 1}}, out));
  out.clear();
  Status st = s.apply({{row(1, "b", "1"), 1}, {row(3, "c", "3"), 1}}, out);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("key (1)"), std::string::npos) << st.message();
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(s.size(), 1u);
  EXPECT_FALSE(s.apply({{row(9, "z", "1"), -1}}, out));
}

TEST(KafkaSinkState, KeylessRowsCarryMultiplicities) {
  SinkState s({}, types());
  std::vector<SinkMessage> out;
  ASSERT_TRUE(s.apply({{row(1, "a", "1"), 2}}, out));
  EXPECT_EQ(out.size(), 2u);
  out.clear();
  ASSERT_TRUE(s.apply({{row(1, "a", "1"), -1}}, out));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].before, row(1, "a", "1"));
  EXPECT_FALSE(out[0].after.has_value());
  EXPECT_FALSE(s.apply({{row(1, "a", "1"), -2}}, out));
}

// A crash after the topic got a batch but before the state was stored: the state is restored
// from storage, the batch read back, and the reconciliation with the relation's contents
// writes only what the topic does not have yet.
TEST(KafkaSinkState, ReadBackThenReconcileWritesOnlyWhatIsMissing) {
  SinkState committed({0}, types());
  std::vector<SinkMessage> out;
  ASSERT_TRUE(committed.apply({{row(1, "a", "1"), 1}, {row(2, "b", "2"), 1}}, out));
  std::vector<std::pair<Row, std::optional<Row>>> stored;
  committed.take_dirty(stored);
  // The next batch reaches the topic, then the process dies.
  out.clear();
  ASSERT_TRUE(committed.apply({{row(1, "a", "1"), -1}, {row(1, "a9", "1"), 1}, {row(3, "c", "3"), 1}}, out));
  std::vector<SinkMessage> in_topic = out;

  SinkState restarted({0}, types());
  for (auto& [k, v] : stored) restarted.restore(k, *v);
  for (const auto& m : in_topic) restarted.apply_emitted(m);
  // Meanwhile key 2 was deleted and key 3 changed.
  std::vector<SinkMessage> fix;
  ASSERT_TRUE(restarted.reconcile({{row(1, "a9", "1"), 1}, {row(3, "c2", "3"), 1}}, fix));
  ASSERT_EQ(fix.size(), 2u);
  for (const auto& m : fix) {
    if (*m.key == key(2)) EXPECT_FALSE(m.after.has_value());
    else EXPECT_EQ(m.after, row(3, "c2", "3"));
  }
}

}  // namespace
}  // namespace freshet::capture::kafka
