// Fuzz target for the Kafka source's decoders. The first byte picks the case:
//   'S': the rest is "<schema JSON>\n\n<Avro binary>": the schema is parsed (AvroSchema), the
//        binary read with it (avro_read), converted to columns when it is a record
//        (avro_record_to_datums) and to JSON (avro_to_json);
//   'U', 'N', 'D': the rest is "<key>\n\n<value>", both Confluent-framed messages for a
//        MessageDecoder with ENVELOPE UPSERT / NONE / DEBEZIUM over fixed reader schemas, whose
//        writer schemas (ids 1 to 4) include promotions, defaults and unions;
//   'K': the rest is "<c><key>\n\n<value>": a Kafka sink's read-back decoder (SinkEncoder::
//        decode, what a sink reads from its topic after a crash) for the format and envelope
//        that byte c picks (AVRO/JSON x UPSERT/DEBEZIUM); an empty value is a tombstone.
// Any input must end in a value or an AvroError, never a crash, an assertion or a sanitizer
// report. The seeds in fuzz_corpus/ are well-formed inputs of each case.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "capture/kafka/avro.hpp"
#include "capture/kafka/message_decoder.hpp"
#include "capture/kafka/sink_encoder.hpp"
#include "kafka/wire.hpp"

namespace {

using namespace freshet;
using namespace freshet::capture::kafka;

const char* kValue =
    R"({"type":"record","name":"v","fields":[{"name":"id","type":"long"},{"name":"name","type":["null","string"],"default":null},)"
    R"({"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},)"
    R"({"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},{"name":"d","type":{"type":"int","logicalType":"date"}},)"
    R"({"name":"f","type":"double"},{"name":"tags","type":{"type":"array","items":"string"}},)"
    R"({"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},{"name":"extra","type":"int","default":7}]})";
const char* kKey = R"({"type":"record","name":"k","fields":[{"name":"id","type":"long"}]})";
// A writer with promotions (int -> long, float -> double), a missing defaulted field and an
// extra one.
const char* kWriter2 =
    R"({"type":"record","name":"v","fields":[{"name":"id","type":"int"},{"name":"name","type":["string","null"]},)"
    R"({"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},)"
    R"({"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}},{"name":"d","type":{"type":"int","logicalType":"date"}},)"
    R"({"name":"f","type":"float"},{"name":"tags","type":{"type":"array","items":"string"}},)"
    R"({"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},{"name":"more","type":{"type":"map","values":"long"}}]})";
const char* kDebezium =
    R"({"type":"record","name":"Envelope","fields":[{"name":"before","type":["null",{"type":"record","name":"Value","fields":[{"name":"id","type":"long"},{"name":"name","type":["null","string"]}]}]},)"
    R"({"name":"after","type":["null","Value"]},{"name":"op","type":"string"}]})";

Result<std::string> lookup(int32_t id) {
  switch (id) {
    case 1: return std::string(kValue);
    case 2: return std::string(kKey);
    case 3: return std::string(kWriter2);
    case 4: return std::string(kDebezium);
    default: return Status::error("unknown schema id");
  }
}

void run_decoder(char mode, std::string_view rest) {
  DecoderConfig c;
  c.table_name = "t";
  c.topic = "topic";
  c.format = KafkaFormat::kAvro;
  c.envelope = mode == 'U' ? KafkaEnvelope::kUpsert : mode == 'N' ? KafkaEnvelope::kNone : KafkaEnvelope::kDebezium;
  c.include_partition = true;
  c.include_timestamp = true;
  MessageDecoder d(c, std::string(kKey), std::string(mode == 'D' ? kDebezium : kValue), lookup);
  size_t sep = rest.find("\n\n");
  KafkaMessage m;
  if (sep != std::string_view::npos) {
    m.key = rest.substr(0, sep);
    m.value = rest.substr(sep + 2);
  } else {
    m.value = rest;
  }
  if (m.value->empty()) m.value.reset();
  m.offset = 5;
  m.timestamp_ms = 1700000000000;
  try {
    (void)d.decode(m);
  } catch (const AvroError&) {
  }
}

void run_sink_decoder(std::string_view rest) {
  if (rest.empty()) return;
  auto c = static_cast<uint8_t>(rest[0]);
  rest.remove_prefix(1);
  std::vector<freshet::kafka::TopicColumn> cols = {{"id", Type(TypeId::kInt8), false},
                                                  {"name", Type(TypeId::kText), true},
                                                  {"amount", Type(TypeId::kNumeric), true},
                                                  {"at", Type(TypeId::kTimestamp), true}};
  SinkEncoder enc("sink.topic", cols, {0}, (c & 1) ? SinkFormat::kJson : SinkFormat::kAvro,
                  (c & 2) ? SinkEnvelope::kDebezium : SinkEnvelope::kUpsert);
  enc.set_schema_ids(1, 2);
  size_t sep = rest.find("\n\n");
  std::optional<std::string_view> key, value;
  if (sep != std::string_view::npos) {
    key = rest.substr(0, sep);
    value = rest.substr(sep + 2);
  } else {
    value = rest;
  }
  if (value->empty()) value.reset();
  try {
    (void)enc.decode(key, value);
  } catch (const freshet::kafka::DecodeError&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  char mode = in[0];
  std::string_view rest = in.substr(1);
  if (mode == 'S') {
    size_t sep = rest.find("\n\n");
    if (sep == std::string_view::npos) return 0;
    try {
      auto schema = AvroSchema::parse(rest.substr(0, sep));
      AvroValue v = avro_read(rest.substr(sep + 2), schema->root());
      std::string json;
      avro_to_json(v, json);
      if (schema->root().type == AvroType::kRecord) {
        Arena arena;
        std::vector<Datum> out;
        avro_record_to_datums(v, avro_columns(schema->root()), out, arena);
      }
    } catch (const AvroError&) {
    }
    return 0;
  }
  if (mode == 'U' || mode == 'N' || mode == 'D') run_decoder(mode, rest);
  if (mode == 'K') run_sink_decoder(rest);
  return 0;
}
