// Fuzz target: a Kafka request frame (the bytes after the int32 size) through the request
// decoder and, when it decodes, through the server's handler over an in-memory backend;
// every record set inside Produce requests goes through the record batch decoder; the tail
// of the input also goes through the Avro and JSON row decoders. Nothing may crash, leak or
// assert. Build: README.md ("Fuzzing").

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kafka/encoding.hpp"
#include "kafka/kafka_server.hpp"
#include "kafka/memory_backend.hpp"
#include "kafka/record_batch.hpp"

namespace {
using namespace freshet;
using namespace freshet::kafka;

struct Env {
  MemoryBackend backend;
  SchemaCatalog catalog{backend};
  KafkaServerOptions options() {
    KafkaServerOptions o;
    o.port = 0;
    o.max_wait_ms_cap = 0;  // Fetch never waits
    o.groups.initial_rebalance_delay_ms = 0;
    return o;
  }
  KafkaServer server{backend, catalog, options()};
  std::vector<TopicColumn> cols{{"id", Type(TypeId::kInt8), false},
                                {"name", Type(TypeId::kText), true},
                                {"amount", Type(TypeId::kNumeric, (10 << 16) | 2), true},
                                {"at", Type(TypeId::kTimestampTz), true}};
  Env() {
    backend.add_topic(TopicInfo{"t", 2, {cols[0]}, cols, TopicFormat::kAvro});
    backend.add_topic(TopicInfo{"j", 1, {cols[0]}, cols, TopicFormat::kJson});
    backend.add_user("u", "p");
    std::vector<Datum> row{Datum::from_int(1), Datum::from_string("x"), Datum::from_numeric(Numeric{150, 2}),
                           Datum::from_timestamp(0)};
    backend.append("t", 0, Row::pack(std::span<const Datum>(row.data(), 1)), Row::pack(row), 1);
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Env* env = new Env();
  std::string_view in(reinterpret_cast<const char*>(data), size);
  try {
    Request req = decode_request(in);
    if (req.header.api_key == api::kJoinGroup || req.header.api_key == api::kSyncGroup) {
      // These block until the group settles; decoding them is what matters here.
      return 0;
    }
    KafkaServer::ConnState st;
    st.authenticated = (size % 2) == 0;
    (void)env->server.handle(req, st);
  } catch (const DecodeError&) {
  }
  std::vector<RecordBatch> batches;
  (void)decode_record_batches(in, batches);
  try {
    (void)avro_decode_row(in, env->cols);
  } catch (const DecodeError&) {
  }
  try {
    (void)json_decode_row(in, env->cols);
  } catch (const DecodeError&) {
  }
  return 0;
}
