#pragma once
// Text input and output of values, exactly as PostgreSQL's type input/output functions do
// (the text format of the wire protocol and of casts to and from text): "t"/"f" for booleans,
// "2024-01-31 12:00:00+00" for timestamptz in UTC, "1 year 2 mons 3 days 04:05:06" for
// intervals (IntervalStyle postgres; "months" on a Materialize-dialect server), float8 with shortest round-trip digits
// (extra_float_digits = 1), bytea as "\x..." hex.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/arena.hpp"
#include "common/datum.hpp"
#include "common/types.hpp"

namespace freshet {

// Appends the text form of d (of type t) to out. d must not be NULL.
void format_datum(const Datum& d, Type t, std::string& out);
inline std::string format_datum(const Datum& d, Type t) {
  std::string s;
  format_datum(d, t, s);
  return s;
}

// Parses the text form of a value of type t (PostgreSQL's input function, with typmod
// applied: varchar(n) length check 22001, bpchar padding, numeric(p,s) rounding).
// String bytes of the result live in arena. Throws SqlError 22P02 / 22007 / 22008 / 22003.
Datum parse_datum(std::string_view text, Type t, Arena& arena);

// Date/time helpers shared with functions (PostgreSQL epoch 2000-01-01).
int32_t date_from_ymd(int year, int month, int day);
void date_to_ymd(int32_t days, int& year, int& month, int& day);
inline constexpr int64_t kMicrosPerDay = 86'400'000'000LL;
inline constexpr int64_t kMicrosPerSecond = 1'000'000LL;
// Microseconds between the Unix epoch and PostgreSQL's (2000-01-01).
inline constexpr int64_t kUnixToPgEpochMicros = 946'684'800'000'000LL;

// Infinite dates and timestamps, as PostgreSQL represents them.
inline constexpr int32_t kDateNegInfinity = INT32_MIN;
inline constexpr int32_t kDatePosInfinity = INT32_MAX;
inline constexpr int64_t kTimestampNegInfinity = INT64_MIN;
inline constexpr int64_t kTimestampPosInfinity = INT64_MAX;

// Individual formatters, also used by functions and casts.
void format_float8(double v, std::string& out);
void format_float4(float v, std::string& out);
void format_interval(const Interval& iv, std::string& out);
void format_timestamp(int64_t micros, bool with_tz, std::string& out);
void format_date(int32_t days, std::string& out);
void format_time(int64_t micros, std::string& out);
// Interval input (PostgreSQL's interval_in): `typmod` is the interval's qualifier and
// precision as PostgreSQL encodes them ((range << 16) | precision, -1 for none): a bare
// number takes the qualifier's last field (`INTERVAL '1' MONTH`), and the result is truncated
// to the qualifier's fields and rounded to its precision. Throws 22007 / 22015.
// On a Materialize-dialect server this is Materialize's parser (interval_materialize.hpp).
Interval parse_interval(std::string_view text, int32_t typmod = -1);
// AdjustIntervalForTypmod: truncation to the qualifier's fields, rounding to its precision.
Interval adjust_interval_for_typmod(Interval iv, int32_t typmod);
// Bits of an interval typmod's range (PostgreSQL's INTERVAL_MASK), full range and precision.
inline constexpr int kIntervalMonthBit = 1, kIntervalYearBit = 2, kIntervalDayBit = 3, kIntervalHourBit = 10,
                     kIntervalMinuteBit = 11, kIntervalSecondBit = 12;
inline constexpr int32_t kIntervalFullRange = 0x7FFF, kIntervalFullPrecision = 0xFFFF;

// Splits a timestamp into its civil parts (UTC for timestamptz). REQUIRES: finite.
struct CivilTime {
  int year = 2000, month = 1, day = 1, hour = 0, minute = 0, second = 0, micros = 0;
};
CivilTime timestamp_to_civil(int64_t micros);
// Throws 22008 when out of range.
int64_t civil_to_timestamp(const CivilTime& c);

// Text arrays ("{a,b,NULL,\"c d\"}"): the elements of an array literal (nullopt for NULL),
// and the canonical literal of a list of elements. Throws 22P02 on malformed input.
std::vector<std::optional<std::string>> parse_array_literal(std::string_view text);
void format_array_literal(const std::vector<std::optional<std::string>>& elems, std::string& out);
// The elements of a value of an array type (types.hpp) as Datums of its element type (NULL
// elements as NULL), string bytes in arena; and the canonical literal of element Datums.
std::vector<Datum> array_elements(std::string_view literal, TypeId array_type, Arena& arena);
std::string array_literal(std::span<const Datum> elems, TypeId element_type);

// Materialize's lists (types.hpp TypeId::kList): "{1,NULL,\"a b\"}", a nested list's elements
// written as lists without quotes ("{{1},{2,3}}"), lists of any length. The elements of a list
// literal (nullopt for NULL; a nested list as its own literal text); the canonical literal of
// element texts (nested: the element type is a list, its texts are written unquoted). Throws
// 22P02 on malformed input.
std::vector<std::optional<std::string>> parse_list_literal(std::string_view text);
void format_list_literal(const std::vector<std::optional<std::string>>& elems, bool nested, std::string& out);
// The elements of a list value as Datums of its element type; the canonical literal of element
// Datums of a list type.
std::vector<Datum> list_elements(std::string_view literal, Type list, Arena& arena);
std::string list_literal(std::span<const Datum> elems, Type list);

// Records (types.hpp record_type_of): PostgreSQL's record_in / record_out text, "(1,abc,)":
// a NULL field is empty, a field that is empty or holds a quote, backslash, comma, parenthesis
// or white space is double-quoted with quotes and backslashes doubled. Throws 22P02 on
// malformed input (no parentheses, too few or too many fields). The fields of a record value
// (REQUIRES: is_record_value_type(record)) and the canonical text of field Datums.
std::vector<std::optional<std::string>> parse_record_literal(std::string_view text);
std::vector<Datum> record_elements(std::string_view literal, Type record, Arena& arena);
std::string record_literal(std::span<const Datum> fields, Type record);

// jsonb: a parsed document. Objects keep PostgreSQL's jsonb key order (shorter keys first,
// then bytewise) with duplicate keys removed (last wins); numbers keep their numeric text.
struct JsonValue {
  enum class Kind : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool b = false;
  std::string str;  // kString: the value; kNumber: canonical numeric text
  std::vector<JsonValue> array;
  std::vector<std::pair<std::string, JsonValue>> object;
};
// Throws SqlError 22P02 "invalid input syntax for type json".
// Under the materialize SQL dialect (sql_dialect.hpp) numbers are Materialize's: reduced
// (1.0 and 1.00 are 1, 1e2 is 100, -0 is 0) and at most 39 significant digits (more is 22P02
// "... is out of range for type numeric"), and keys are in bytewise order.
JsonValue json_parse(std::string_view text);
// The order of an object's keys: PostgreSQL's jsonb order (shorter keys first, then bytewise),
// or bytewise under the materialize dialect (Materialize's maps).
bool json_key_less(std::string_view a, std::string_view b);
// jsonb text output: PostgreSQL's {"a": 1, "b": [1, 2]}, or under the materialize dialect
// Materialize's (serde_json's) compact {"a":1,"b":[1,2]}.
void json_write(const JsonValue& v, std::string& out);
// A string as a JSON string literal, escaped like PostgreSQL's escape_json.
void json_quote(std::string_view s, std::string& out);

}  // namespace freshet
