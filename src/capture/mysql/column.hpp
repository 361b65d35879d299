#pragma once
// MySQL/MariaDB column types and their mapping to Freshet's (README.md, "Type mapping").
//
// A ColumnInfo is built once per upstream column from information_schema (map_column) and is
// then what both value decoders use: the snapshot's text values (parse_text_value) and the
// binlog's packed row images (binlog.hpp, decode_value). Pure functions; any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/error.hpp"
#include "common/types.hpp"

namespace freshet::capture::mysql {

// The upstream column's SQL type, as information_schema.COLUMNS.DATA_TYPE names it.
enum class MyKind : uint8_t {
  kTinyInt,
  kSmallInt,
  kMediumInt,
  kInt,
  kBigInt,
  kFloat,
  kDouble,
  kDecimal,
  kDate,
  kTime,
  kDateTime,
  kTimestamp,
  kYear,
  kBit,
  kChar,
  kVarchar,
  kText,      // tinytext .. longtext
  kBinary,
  kVarbinary,
  kBlob,      // tinyblob .. longblob
  kJson,      // MariaDB: longtext with CHECK (json_valid(col))
  kEnum,
  kSet,
};

// How text bytes are encoded upstream. Binlog row images carry the column's own charset
// (the snapshot connection asks the server for utf8mb4 instead).
enum class Charset : uint8_t { kUtf8, kLatin1, kBinary };

struct ColumnInfo {
  std::string name;
  MyKind kind = MyKind::kInt;
  bool is_unsigned = false;
  bool nullable = true;
  int precision = 0;               // decimal(p, s); bit(p)
  int scale = 0;                   // decimal(p, s); fractional seconds of time/datetime/timestamp
  uint64_t char_max_length = 0;    // char/varchar/binary/varbinary length in characters/bytes
  Charset charset = Charset::kUtf8;
  std::vector<std::string> labels; // enum/set values, in declaration order
  Type type;                       // the Freshet type
};

// One row of information_schema.COLUMNS (plus whether a json_valid CHECK names the column).
struct RawColumn {
  std::string name;
  std::string data_type;           // DATA_TYPE, lower case: "int", "varchar", ...
  std::string column_type;         // COLUMN_TYPE: "int(10) unsigned", "enum('a','b')"
  std::string charset;             // CHARACTER_SET_NAME, "" when none
  bool nullable = true;
  int64_t numeric_precision = 0;
  int64_t numeric_scale = 0;
  int64_t datetime_precision = 0;
  uint64_t char_max_length = 0;    // CHARACTER_MAXIMUM_LENGTH
  bool is_json = false;
};

// Maps an upstream column; an error names the column and says what is unsupported.
Result<ColumnInfo> map_column(const RawColumn& raw, std::string_view table);

// The SELECT expression that reads the column for the snapshot in a text form that
// parse_text_value turns into exactly the value the binlog decoder produces (FLOAT goes
// through DOUBLE: its own text form has only 6 digits). `col` is quoted with backticks.
std::string snapshot_select_expr(const ColumnInfo& c);

// Converts a snapshot value (text protocol, connection charset utf8mb4, time_zone +00:00).
// Zero or invalid dates and TIME values outside [00:00, 24:00) become NULL (README.md).
// String bytes live in arena.
Result<Datum> parse_text_value(std::string_view text, const ColumnInfo& c, Arena& arena);

// Shared by both decoders.
// A calendar date; nullopt when invalid (month 0, day 0, Feb 30, year 0).
std::optional<int32_t> make_date(int year, int month, int day);
// A timestamp in Freshet's representation; nullopt when invalid.
std::optional<int64_t> make_timestamp(int year, int month, int day, int hour, int minute, int second,
                                      int64_t micros);
// ISO-8859-1 / cp1252 (MySQL's "latin1") to UTF-8, in arena.
std::string_view latin1_to_utf8(std::string_view in, Arena& arena);
// A string of a text column in the given charset (converted to UTF-8; jsonb in its canonical
// form) as a Datum.
Result<Datum> text_datum(std::string_view bytes, const ColumnInfo& c, Charset charset, Arena& arena);

}  // namespace freshet::capture::mysql
