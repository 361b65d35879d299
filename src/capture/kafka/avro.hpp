#pragma once
// Avro for the Kafka source: schemas (parsed from the registry's JSON), the binary decoder
// (the writer's schema), schema resolution into the reader's columns (Avro 1.11 spec,
// "Schema Resolution": fields matched by name or alias, reader defaults for fields the writer
// lacks, writer fields the reader lacks skipped, the int -> long -> float -> double and
// string <-> bytes promotions, unions resolved branch by branch), and the mapping of Avro
// types to Freshet column types (README.md, "Avro types").
//
// Everything here is pure and thread-compatible: a parsed AvroSchema is immutable and may be
// shared by threads. Decoding outside bytes never asserts: malformed data throws AvroError
// with a message for the source's status.

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet::capture::kafka {

// A malformed schema or message, or one that does not resolve against the reader's schema.
class AvroError : public std::runtime_error {
 public:
  explicit AvroError(const std::string& what) : std::runtime_error(what) {}
};

// Limits on what one message may make the decoder do (STYLE.md: a limit on everything).
inline constexpr int kAvroMaxDepth = 64;
inline constexpr uint64_t kAvroMaxItems = 1'000'000;  // array/map items in one message

enum class AvroType : uint8_t { kNull, kBoolean, kInt, kLong, kFloat, kDouble, kBytes, kString, kRecord, kEnum, kArray, kMap, kUnion, kFixed };

struct AvroNode;

struct AvroField {
  std::string name;
  std::vector<std::string> aliases;
  const AvroNode* type = nullptr;
  std::optional<std::string> default_json;  // the "default" as JSON text
};

struct AvroNode {
  AvroType type = AvroType::kNull;
  std::string full_name;                 // named types (record, enum, fixed)
  std::string logical_type;              // "decimal", "date", "timestamp-micros", ...
  std::string connect_name;              // "connect.name" (io.debezium.data.Json -> jsonb)
  int precision = 0;                     // decimal
  int scale = 0;
  size_t fixed_size = 0;
  std::vector<std::string> symbols;      // enum
  std::vector<AvroField> fields;         // record
  std::vector<const AvroNode*> branches; // union
  const AvroNode* items = nullptr;       // array items, map values
};

// A parsed schema: owns its nodes (recursive named types point into the same schema).
class AvroSchema {
 public:
  // Throws AvroError for a schema that is not valid Avro (or too deep).
  static std::shared_ptr<const AvroSchema> parse(std::string_view json);
  const AvroNode& root() const { return *root_; }
  const std::string& text() const { return text_; }

 private:
  friend class SchemaParser;
  std::vector<std::unique_ptr<AvroNode>> nodes_;
  const AvroNode* root_ = nullptr;
  std::string text_;
};

// A decoded value in the writer's schema. Strings and bytes point into the message.
struct AvroValue {
  const AvroNode* schema = nullptr;  // never a union: unions are resolved while reading
  int64_t i = 0;                     // boolean, int, long, enum symbol index
  double f = 0;                      // float, double
  std::string_view s;                // string, bytes, fixed
  std::vector<AvroValue> items;      // record fields (writer order), array items, map values
  std::vector<std::string_view> keys;  // map keys
  bool is_null() const { return schema->type == AvroType::kNull; }
  // A record's field by name (or nullptr).
  const AvroValue* field(std::string_view name) const;
};

// Reads one value of `writer` from all of data (trailing bytes are an error).
AvroValue avro_read(std::string_view data, const AvroNode& writer);

// A Freshet column derived from one field of a reader record.
struct AvroColumn {
  std::string name;
  Type type;
  bool nullable = false;
  const AvroNode* node = nullptr;              // the reader's type (the non-null branch)
  std::vector<std::string> aliases;
  std::optional<std::string> default_json;
};

// The column type of a reader type; nullable when it is a union with null (or null).
Type avro_column_type(const AvroNode& n, bool& nullable);
// One column per field of a record. Throws AvroError when `record` is not a record.
std::vector<AvroColumn> avro_columns(const AvroNode& record);

// Converts a writer value to the column's type with Avro's promotions (and the logical
// types: decimals, dates, times, timestamps). Throws AvroError when the writer's type does
// not resolve to the column's. String bytes go into arena.
Datum avro_to_datum(const AvroValue& v, const AvroColumn& col, Arena& arena);
// The reader record's columns from a writer record value: by field name (or the reader
// field's aliases); a field the writer lacks takes the reader's default, else NULL when the
// column is nullable, else it is an error. Appends one datum per column to out.
void avro_record_to_datums(const AvroValue& record, const std::vector<AvroColumn>& cols, std::vector<Datum>& out, Arena& arena);
// A value as JSON text (records and maps as objects, bytes as strings of their bytes).
void avro_to_json(const AvroValue& v, std::string& out);

}  // namespace freshet::capture::kafka
