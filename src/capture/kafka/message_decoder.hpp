#pragma once
// Turns Kafka messages into the changes of a Kafka source's single table, for one FORMAT and
// ENVELOPE (README.md has the table of columns):
//   * FORMAT AVRO: the Confluent frame (magic byte 0, big-endian int32 schema id, Avro binary);
//     the writer's schema is looked up by id (cached) and resolved against the reader's (the
//     registry's latest for <topic>-value / <topic>-key when the source was created).
//     FORMAT JSON: one jsonb column `data`; TEXT: one text column `text`; BYTES: one bytea
//     column `data`.
//   * ENVELOPE UPSERT: the key's columns are the table's key (a key column that the value
//     also has is that value column; others are prepended); a null value (tombstone) deletes.
//     ENVELOPE NONE: append-only; every message is a new row keyed by (partition, offset),
//     which are therefore always columns. ENVELOPE DEBEZIUM (Avro): rows from "after", deletes
//     from the key (or "before"); the key schema's fields must be columns of "after".
//   * INCLUDE PARTITION / OFFSET / TIMESTAMP append columns `partition` int4, `offset` int8,
//     `timestamp` timestamp; INCLUDE KEY prepends the key's columns (UPSERT does anyway).
//
// Pure (no I/O besides the schema lookup callback) and used by one thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "capture/kafka/avro.hpp"
#include "capture/source.hpp"
#include "common/error.hpp"

namespace freshet::capture::kafka {

enum class KafkaFormat : uint8_t { kAvro, kJson, kText, kBytes };
enum class KafkaEnvelope : uint8_t { kNone, kUpsert, kDebezium };

struct DecoderConfig {
  std::string table_name;  // the source's name
  std::string topic;
  KafkaFormat format = KafkaFormat::kAvro;
  KafkaEnvelope envelope = KafkaEnvelope::kNone;
  bool include_key = false;
  bool include_partition = false;
  bool include_offset = false;
  bool include_timestamp = false;
};

struct KafkaMessage {
  std::optional<std::string_view> key;    // nullopt: a null key
  std::optional<std::string_view> value;  // nullopt: a tombstone
  int32_t partition = 0;
  int64_t offset = 0;
  int64_t timestamp_ms = 0;
};

// The writer's schema (JSON) for a schema id; an error Status when it cannot be had.
using SchemaLookup = std::function<Result<std::string>(int32_t id)>;

class MessageDecoder {
 public:
  // key_schema / value_schema: the reader's Avro schemas (FORMAT AVRO; key_schema may be
  // absent unless the envelope needs a key). Throws AvroError for a configuration that
  // cannot work (no key schema for UPSERT, a value schema that is not a record, ...).
  MessageDecoder(DecoderConfig config, std::optional<std::string> key_schema, std::optional<std::string> value_schema,
                 SchemaLookup lookup);
  const TableSchema& table() const { return table_; }
  // The change a message makes; nullopt when it makes none (a tombstone under ENVELOPE NONE
  // or DEBEZIUM). Throws AvroError for a message that cannot be decoded.
  std::optional<Change> decode(const KafkaMessage& m);

 private:
  const AvroSchema& writer(int32_t id);
  // Decodes an Avro payload (framed) into a value of the writer's schema.
  AvroValue read_avro(std::string_view framed);
  // The datums of the value part of the row.
  void value_datums(std::string_view payload, std::vector<Datum>& out, Arena& arena);
  // The datums of key_cols_ from the message key.
  void key_datums(std::string_view key, std::vector<Datum>& out, Arena& arena);
  Datum raw_datum(std::string_view payload, const AvroColumn& col, Arena& arena);

  DecoderConfig c_;
  SchemaLookup lookup_;
  std::shared_ptr<const AvroSchema> key_reader_, value_reader_;
  std::map<int32_t, std::shared_ptr<const AvroSchema>> writers_;
  std::vector<AvroColumn> key_cols_;    // from the key (UPSERT, DEBEZIUM, INCLUDE KEY)
  std::vector<AvroColumn> value_cols_;  // from the value (DEBEZIUM: "after")
  bool key_is_record_ = false;
  bool value_is_record_ = false;
  std::vector<size_t> prepended_;       // indices into key_cols_ of the prepended key columns
  std::vector<int> key_in_value_;       // per key column: its index in value_cols_, or -1
  TableSchema table_;
};

// The source position: the next offset of each partition, "p:o,p:o" (ascending partitions).
std::string encode_position(const std::map<int32_t, int64_t>& next_offsets);
// Throws AvroError for a malformed position.
std::map<int32_t, int64_t> decode_position(std::string_view position);

}  // namespace freshet::capture::kafka
