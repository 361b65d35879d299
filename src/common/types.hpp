#pragma once
// SQL types. A Type is the SQL-level type of a column or expression; the value itself is a
// Datum (datum.hpp), which carries only its physical representation. Types are small values,
// freely copied.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace freshet {

// The SQL types Freshet knows. The order is not significant; PostgreSQL OIDs are given by
// type_oid(). kUnknown is the type of an untyped string literal or NULL before resolution.
enum class TypeId : uint8_t {
  kUnknown,
  kBool,
  kInt2,
  kInt4,
  kInt8,
  kNumeric,
  kFloat4,
  kFloat8,
  kText,
  kVarchar,
  kBpchar,      // char(n): blank-padded
  kChar,        // "char": PostgreSQL's one-byte internal type (pg_class.relkind)
  kName,        // name: catalog identifiers
  kBytea,
  kDate,
  kTime,
  kTimestamp,
  kTimestampTz,
  kInterval,
  kUuid,
  kJsonb,
  kOid,
  kRegclass,
  kRegproc,
  kRegtype,
  kRegnamespace,
  kRegrole,
  // One-dimensional arrays, one TypeId per element type (array_element_type() maps back).
  // A value is the canonical PostgreSQL text form ("{1,2,NULL}", elements in their element
  // type's output form) in a string Datum; see src/common/README.md.
  kTextArray,   // text[] (also varchar[] and bpchar[])
  kInt2Array,   // int2[]
  kOidArray,    // oid[] / oidvector
  kInt4Array,
  kInt8Array,
  kNameArray,
  kBoolArray,
  kFloat8Array,
  kNumericArray,
  // PostgreSQL's int2vector and oidvector (pg_index.indkey, pg_proc.proargtypes): arrays of
  // int2 / oid stored like the arrays above, whose text form is the elements separated by
  // spaces ("1 2") and whose subscripts start at 0.
  kInt2Vector,
  kOidVector,
  kRecord,      // anonymous row (ROW(...)); not storable
  kTsRange,     // tsrange: canonical text form in a string Datum (common/range.hpp)
  // Materialize's `T list` (nested: `int4 list list`). typmod is not a modifier here but the
  // index of the list's element type in a process-wide table (list_type_of); a value is the
  // canonical text form ("{1,NULL,{2}}") in a string Datum, see src/common/README.md. The index
  // is valid only in this process: list types are not stored in the catalog (tables refuse list
  // columns; views keep their SQL and are bound again at start-up).
  kList,
  // Materialize's unsigned integers (its SQL reference, "Unsigned integer types"): uint2 and
  // uint4 are int64 Datums (PhysicalKind::kInt) in [0, 2^16) / [0, 2^32); uint8 reaches 2^64 - 1,
  // past int64, so a uint8 is a Numeric of scale 0 (PhysicalKind::kNumeric), which orders,
  // hashes and encodes by value with no new physical kind. Appended: TypeIds are stored in the
  // catalog by number.
  kUInt2,
  kUInt4,
  kUInt8,
  // Materialize's mz_timestamp (its SQL reference, "mz_timestamp type"): milliseconds since the
  // Unix epoch in [0, 2^64), the type of mz_now(). Stored as uint8 is (a scale-0 Numeric,
  // unsigned_int.hpp); its casts and comparisons are in functions_unsigned.cpp.
  kMzTimestamp,
  // Arrays of Materialize's unsigned integers and mz_timestamp (its OIDs 16461, 16463, 16465,
  // 16553), stored like the arrays above.
  kUInt2Array,
  kUInt4Array,
  kUInt8Array,
  kMzTimestampArray,
};

// How a Datum of a type is represented physically. Several SQL types share one.
enum class PhysicalKind : uint8_t {
  kNull,
  kBool,       // Datum::as_bool
  kInt,        // int2/int4/int8/oid/reg*: Datum::as_int (int64)
  kFloat,      // float4/float8: Datum::as_float (double; float4 values are rounded to float)
  kNumeric,    // Datum::as_numeric
  kString,     // text/varchar/bpchar/"char"/name/bytea/jsonb/arrays/tsrange (canonical text form): Datum::as_string
  kDate,       // days since 2000-01-01 (PostgreSQL's epoch): Datum::as_int
  kTime,       // microseconds since midnight: Datum::as_int
  kTimestamp,  // microseconds since 2000-01-01 00:00:00 (UTC for timestamptz): Datum::as_int
  kInterval,   // Datum::as_interval
  kUuid,       // Datum::as_uuid
};

struct Type {
  TypeId id = TypeId::kUnknown;
  // Type modifier as in PostgreSQL's atttypmod: -1 when none. varchar(n)/bpchar(n): n;
  // numeric(p, s): (p << 16) | s; timestamp(p): p.
  int32_t typmod = -1;

  constexpr Type() = default;
  constexpr Type(TypeId i, int32_t m = -1) : id(i), typmod(m) {}  // NOLINT: implicit on purpose
  friend constexpr bool operator==(const Type& a, const Type& b) = default;
};

PhysicalKind physical_kind(TypeId id);

// The PostgreSQL type OID (pg_type.oid) of a type, used on the wire and in pg_catalog.
uint32_t type_oid(TypeId id);
std::optional<TypeId> type_from_oid(uint32_t oid);
// pg_type.typlen: -1 for variable length.
int16_t type_len(TypeId id);

// The PostgreSQL name of a type as format_type() prints it, with the modifier
// ("integer", "character varying(10)", "numeric(10,2)").
std::string type_name(Type t);
// The internal name (pg_type.typname): "int4", "varchar", ...
std::string_view type_internal_name(TypeId id);

// Resolves a type name as written in SQL (after libpg_query normalisation, e.g. "int4",
// "pg_catalog.int8", "varchar", "timestamptz", "double precision" is "float8").
// Returns nullopt for an unknown name.
std::optional<TypeId> type_from_name(std::string_view name);
// What a type name in SQL text may say: type_from_name plus Materialize's aliases (`string`,
// `double`, `bytes`). regtype input keeps PostgreSQL's names only.
std::optional<TypeId> sql_type_from_name(std::string_view name);

// PostgreSQL's type categories (pg_type.typcategory), used by overload resolution.
enum class TypeCategory : char {
  kBoolean = 'B',
  kNumeric = 'N',
  kString = 'S',
  kDateTime = 'D',
  kTimespan = 'T',
  kUserDefined = 'U',
  kArray = 'A',
  kUnknown = 'X',
  kBitString = 'V',
  kPseudo = 'P',
  kRange = 'R',
};
TypeCategory type_category(TypeId id);
// pg_type.typispreferred: the preferred type of its category (text, float8, timestamptz, ...).
bool type_is_preferred(TypeId id);

// Arrays: the element type of an array type (nullopt for a non-array), and the array type
// of an element type (nullopt when Freshet has no array of it).
std::optional<TypeId> array_element_type(TypeId id);
std::optional<TypeId> array_type_of(TypeId element);
inline bool is_array_type(TypeId id) { return array_element_type(id).has_value(); }
// oid and the reg* types (regclass, regproc, regtype, regnamespace, regrole): an oid whose
// text form is a name.
inline bool is_reg_type(TypeId id) {
  return id == TypeId::kRegclass || id == TypeId::kRegproc || id == TypeId::kRegtype || id == TypeId::kRegnamespace ||
         id == TypeId::kRegrole;
}

// Lists: the type `element list`, interned (the same element type gives the same Type).
// Throws SqlError 54000 past kMaxListTypes distinct list types. Thread-safe; after the first
// call for an element type, lookups take no lock.
inline constexpr int32_t kMaxListTypes = 4096;
Type list_type_of(Type element);
// The element type of a list type. REQUIRES: list.id == TypeId::kList with a typmod from
// list_type_of.
Type list_element_type(Type list);
// A named list type (Materialize's `CREATE TYPE name AS LIST (ELEMENT TYPE = element)`): a
// list type of its own, distinct from `element list` (pg_typeof prints `shown_name`), interned
// by (element, type_oid, shown_name) so that the catalog can intern it again after a restart.
// `shown_name` is the name as pg_typeof prints it ("int4_list", "other.t"). Same limit as above.
Type named_list_type_of(Type element, uint32_t type_oid, std::string_view shown_name);
// The catalog oid of a named list or composite type; 0 for anonymous ones and other types.
uint32_t named_type_oid(Type t);

// Records (TypeId::kRecord): a row type with named, typed fields, interned like lists (typmod:
// the index of its entry; at most kMaxRecordTypes). Anonymous ones come from ROW(...) (fields
// f1, f2, ...); named ones are PostgreSQL's composite types (CREATE TYPE name AS (a int, ...)),
// interned by (fields, type_oid, shown_name). Type(kRecord) with typmod -1 is PostgreSQL's
// pseudo-type `record` (not a value type); typmods >= 1 << 20 are the binder's own use.
struct RecordField {
  std::string name;
  Type type;
  friend bool operator==(const RecordField&, const RecordField&) = default;
};
inline constexpr int32_t kMaxRecordTypes = 4096;
Type record_type_of(const std::vector<RecordField>& fields, uint32_t type_oid = 0, std::string_view shown_name = {});
// Whether t is an interned record type (one record_fields may be called on).
bool is_record_value_type(Type t);
// REQUIRES: is_record_value_type(t). The reference stays valid for the life of the process.
const std::vector<RecordField>& record_fields(Type t);

// The type without its modifier (numeric(10,2) -> numeric), as PostgreSQL resolves a common
// type. A list keeps its typmod: it names the element type, so Type(kList) alone is no type
// (list_element_type would assert on it); so does a record value type.
inline Type without_typmod(Type t) {
  return t.id == TypeId::kList || (t.id == TypeId::kRecord && t.typmod >= 0 && t.typmod < kMaxRecordTypes) ? t : Type(t.id);
}

inline bool is_integer_type(TypeId id) {
  return id == TypeId::kInt2 || id == TypeId::kInt4 || id == TypeId::kInt8;
}
// Materialize's uint2, uint4, uint8.
inline bool is_unsigned_type(TypeId id) {
  return id == TypeId::kUInt2 || id == TypeId::kUInt4 || id == TypeId::kUInt8;
}
inline bool is_string_type(TypeId id) {
  return id == TypeId::kText || id == TypeId::kVarchar || id == TypeId::kBpchar ||
         id == TypeId::kName || id == TypeId::kChar;
}

}  // namespace freshet
