#pragma once
// How a Kafka sink writes its messages (README.md, "Sinks"): the key and value of one change,
// for FORMAT AVRO (the Confluent frame: magic byte 0, int32 big-endian schema id, Avro binary)
// or FORMAT JSON, and ENVELOPE UPSERT or DEBEZIUM.
//
//  * UPSERT: key = the KEY columns; value = the whole row, or null (a tombstone) for a delete.
//  * DEBEZIUM: key = the KEY columns (null without KEY); value = {"before": row|null,
//    "after": row|null}. Avro: a record "envelope" whose fields are unions of null and the
//    record "row".
//
// Avro schemas are derived from the columns as the Kafka API derives its topics' schemas
// (src/kafka/encoding.hpp), in the topic's namespace. The encoder also decodes what it wrote:
// after a crash the sink reads back the messages it produced but had not yet committed.
//
// Thread-safety: immutable after set_schema_ids; used by the sink's thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/row.hpp"
#include "kafka/backend.hpp"

namespace freshet::capture::kafka {

enum class SinkFormat : uint8_t { kAvro, kJson };
enum class SinkEnvelope : uint8_t { kUpsert, kDebezium };

// One change of one key (or, without a KEY, of one row).
struct SinkMessage {
  std::optional<Row> key;     // the KEY columns; nullopt without a KEY
  std::optional<Row> before;  // the previous row (DEBEZIUM's "before")
  std::optional<Row> after;   // the new row; nullopt: deleted
  friend bool operator==(const SinkMessage&, const SinkMessage&) = default;
};

// The datums of `columns` of a row, in that order.
Row project_row(RowRef row, const std::vector<uint32_t>& columns);

class SinkEncoder {
 public:
  // columns: the sinked relation's; key: positions of the KEY columns (empty: none).
  SinkEncoder(std::string topic, std::vector<freshet::kafka::TopicColumn> columns, std::vector<uint32_t> key, SinkFormat format,
              SinkEnvelope envelope);

  const std::string& topic() const { return topic_; }
  SinkFormat format() const { return format_; }
  bool has_key() const { return !key_.empty(); }
  // Avro schemas to register as <topic>-key (when there is a key) and <topic>-value.
  std::string key_schema() const;
  std::string value_schema() const;
  void set_schema_ids(int32_t key_id, int32_t value_id) {
    key_schema_id_ = key_id;
    value_schema_id_ = value_id;
  }

  // The row as a consumer decodes it: the wire encodings are not all exact (an unconstrained
  // numeric is an Avro decimal of scale 10), so the sink's state holds rows in this form.
  Row normalize(const Row& row) const;
  // The message's bytes. key: nullopt without a KEY; value: nullopt for a tombstone.
  void encode(const SinkMessage& m, std::optional<std::string>& key, std::optional<std::string>& value) const;
  // Decodes a message this encoder wrote. Throws freshet::kafka::DecodeError.
  SinkMessage decode(std::optional<std::string_view> key, std::optional<std::string_view> value) const;

 private:
  void frame(int32_t id, std::string& out) const;
  void encode_row(RowRef row, const std::vector<freshet::kafka::TopicColumn>& cols, std::string& out) const;
  std::string_view unframe(std::string_view bytes, int32_t id) const;

  std::string topic_;
  std::vector<freshet::kafka::TopicColumn> columns_;
  std::vector<freshet::kafka::TopicColumn> key_columns_;
  std::vector<uint32_t> key_;
  SinkFormat format_;
  SinkEnvelope envelope_;
  bool lossy_ = false;  // a column whose wire form may differ from its datum (numeric)
  int32_t key_schema_id_ = 0;
  int32_t value_schema_id_ = 0;
};

}  // namespace freshet::capture::kafka
