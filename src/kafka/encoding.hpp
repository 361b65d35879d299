#pragma once
// Key and value encodings of topics (README.md, "Encoding"):
//  * Avro: the Confluent wire frame (magic byte 0, int32 big-endian schema id) then the Avro
//    binary encoding of a record whose fields are the columns; schemas are derived from the
//    column types (avro_schema). A nullable column is the union ["null", T].
//  * JSON: one object per key/value, {"column": value, ...}.
// A delete is a tombstone: the key with a null value. A topic without key columns has null
// keys.
//
// Encoders work on our own rows and cannot fail. Decoders (Produce) parse the client's
// bytes and throw DecodeError with a message for the client.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/row.hpp"
#include "kafka/backend.hpp"

namespace freshet::kafka {

// Avro numeric(p, s): an unconstrained numeric gets precision 38 and this scale.
inline constexpr int kAvroDefaultNumericScale = 10;

// The Avro schema (compact JSON, deterministic: the same columns give the same text) of a
// record named `name` in `topic`'s namespace.
std::string avro_schema(const std::vector<TopicColumn>& cols, std::string_view topic, std::string_view name);
// Avro names: [A-Za-z_][A-Za-z0-9_]*; other characters become '_'.
std::string avro_name(std::string_view s);

// Avro binary of a row's datums in column order (no frame).
void avro_encode_row(RowRef row, const std::vector<TopicColumn>& cols, std::string& out);
// Throws DecodeError when data is not a well-formed encoding of the columns.
Row avro_decode_row(std::string_view data, const std::vector<TopicColumn>& cols);
// The same for a record followed by more data: consumed is set to the record's length.
Row avro_decode_row_prefix(std::string_view data, const std::vector<TopicColumn>& cols, size_t& consumed);

void json_encode_row(RowRef row, const std::vector<TopicColumn>& cols, std::string& out);
// Accepts an object (missing nullable columns are NULL) or, for one column, a bare JSON
// value or text that is not JSON (its text form: kcat's -K keys).
Row json_decode_row(std::string_view data, const std::vector<TopicColumn>& cols);

// Raw topics (TopicFormat::kRaw): the Row carrying produced bytes (nullopt: a NULL datum)
// and back. No decoding, no validation: the bytes pass through.
Row raw_row(const std::optional<std::string>& bytes);
std::optional<std::string> raw_bytes(RowRef row);

// The encoding of one topic, built when its schema ids are known. Immutable, shareable.
class TopicCodec {
 public:
  TopicCodec(TopicInfo info, int32_t key_schema_id, int32_t value_schema_id);
  const TopicInfo& info() const { return info_; }
  bool has_key() const { return !info_.key_columns.empty(); }
  std::string encode_key(RowRef key) const;
  std::string encode_value(RowRef value) const;
  // Throw DecodeError.
  Row decode_key(std::string_view bytes) const;
  Row decode_value(std::string_view bytes) const;

 private:
  std::string encode(RowRef row, const std::vector<TopicColumn>& cols, int32_t id) const;
  Row decode(std::string_view bytes, const std::vector<TopicColumn>& cols, int32_t id) const;
  TopicInfo info_;
  int32_t key_schema_id_;
  int32_t value_schema_id_;
};

}  // namespace freshet::kafka
